"""REST: mark an order shipped (the shipment report to the platform follows as a job), and retry
a failed report. Same rules and scoping as the pages: another merchant's order is a 404."""

from datetime import datetime

from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema
from ninja.errors import HttpError

from ecbridge.integrations.models import ShipmentReport
from ecbridge.integrations.services import shipment_report
from ecbridge.orders.api import AttemptOut
from ecbridge.orders.models import Order
from ecbridge.orders.services import shipping

router = Router(tags=["orders"])


class ShipIn(Schema):
    carrier: str = Field("", description="The carrier's name; optional where the platform issues it")
    tracking_number: str = Field(
        "", description="Required except where the platform issues it (Shopee logistics channels)"
    )
    package_key: str = Field("", description='One report per package; "" = the whole order')


class ReportOut(Schema):
    id: int
    order_id: int
    status: str
    package_key: str
    carrier: str
    tracking_number: str
    platform_tracking_number: str
    attempts: int
    next_attempt_at: datetime | None
    last_error: str
    done_at: datetime | None
    attempt_log: list[AttemptOut]


class ShipOut(Schema):
    order_id: int
    order_status: str
    carrier: str
    tracking_number: str
    shipped_at: datetime | None
    report: ReportOut | None = Field(..., description="null for a platform that takes no shipment reports")


def _report(report: ShipmentReport) -> dict:
    return {
        "id": report.pk,
        "order_id": report.order_id,
        "status": report.status,
        "package_key": report.package_key,
        "carrier": report.carrier,
        "tracking_number": report.tracking_number,
        "platform_tracking_number": report.platform_tracking_number,
        "attempts": report.attempts,
        "next_attempt_at": report.next_attempt_at,
        "last_error": report.last_error,
        "done_at": report.done_at,
        "attempt_log": [
            {"at": a.at, "outcome": a.outcome, "message": a.message} for a in report.attempt_log.all()
        ],
    }


def _order(request, order_id: int) -> Order:
    return get_object_or_404(Order.objects.for_user(request.user).select_related("ec_account"), pk=order_id)


@router.post("/{int:order_id}/ship", response={202: ShipOut}, summary="Mark an order shipped")
def ship_order(request, order_id: int, payload: ShipIn):
    """Marks the order shipped and queues the report to the platform (202: the report runs as a
    job; follow it with GET /orders/{id}/shipment-reports). 400 when the order is on hold,
    cancelled or already shipped, or the input is bad; nothing is written then."""
    order = _order(request, order_id)
    try:
        report = shipping.mark_shipped(
            order,
            carrier=payload.carrier,
            tracking_number=payload.tracking_number,
            package_key=payload.package_key,
            user=request.user,
        )
    except shipping.ShippingError as exc:
        raise HttpError(400, str(exc)) from None
    order.refresh_from_db()
    if report is not None:
        report.refresh_from_db()
    return 202, {
        "order_id": order.pk,
        "order_status": order.status,
        "carrier": order.carrier,
        "tracking_number": order.tracking_number,
        "shipped_at": order.shipped_at,
        "report": _report(report) if report is not None else None,
    }


@router.get("/{int:order_id}/shipment-reports", response=list[ReportOut], summary="Shipment reports")
def list_reports(request, order_id: int):
    order = _order(request, order_id)
    return [_report(r) for r in order.shipment_reports.prefetch_related("attempt_log")]


@router.post(
    "/{int:order_id}/shipment-reports/{int:report_id}/retry",
    response={202: ReportOut},
    summary="Send a failed shipment report again",
)
def retry_report(request, order_id: int, report_id: int):
    order = _order(request, order_id)
    report = get_object_or_404(ShipmentReport.objects.filter(order=order), pk=report_id)
    if not shipment_report.retry(report, user=request.user):
        raise HttpError(400, "Only a failed shipment report can be retried.")
    return 202, _report(report)
