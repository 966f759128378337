"""Marking an order shipped. The order change and its shipment report (the outbox row, G15) are
written in one transaction; the report job is enqueued only after that transaction commits, and the
periodic sweep re-enqueues a row whose enqueue was lost (worker died between commit and enqueue)."""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ecbridge.integrations.models import ShipmentReport
from ecbridge.inventory.services import stock
from ecbridge.orders.models import Order
from ecbridge.platforms.base import Capability

log = logging.getLogger(__name__)

MAX_LENGTH = 120  # Order.carrier / Order.tracking_number / ShipmentReport.package_key


class ShippingError(Exception):
    """The order cannot be shipped as asked; the message is for the user (already translated)."""


def tracking_optional(order: Order) -> bool:
    """Whether a shipment may be reported without our tracking number because the platform issues
    it. Shopee's integrated logistics channels generate the number themselves and only
    ``non_integrated`` channels accept one from the seller (platforms-taiwan.md §8); which channel
    is integrated is only known from ``get_shipping_parameter`` at report time, so the whole
    platform is listed in setting ``SHIPMENT_TRACKING_OPTIONAL_PLATFORMS`` (default: shopee;
    UNCONFIRMED per channel, hence configurable). momo's convenience-store and third-party
    logistics orders (``shipment_refs["delivery"]`` "stores"/"third") get their shipment number
    from momo; its home delivery needs ours."""
    if order.platform in getattr(settings, "SHIPMENT_TRACKING_OPTIONAL_PLATFORMS", ("shopee",)):
        return True
    refs = order.shipment_refs if isinstance(order.shipment_refs, dict) else {}
    return order.platform == "momo" and refs.get("delivery") in ("stores", "third")


def _check(order: Order, carrier: str, tracking_number: str, package_key: str) -> None:
    if order.status == Order.Status.CANCELLED or order.platform_state == Order.PlatformState.CANCELLED:
        raise ShippingError(_("This order is cancelled and cannot be shipped."))
    if order.status == Order.Status.SHIPPED:
        raise ShippingError(_("This order is already shipped."))
    if order.status != Order.Status.PENDING:
        raise ShippingError(_("Only an order awaiting shipment can be shipped."))
    if order.on_hold:
        raise ShippingError(_("This order is on hold: release its holds before shipping it."))
    if len(carrier) > MAX_LENGTH or len(tracking_number) > MAX_LENGTH or len(package_key) > MAX_LENGTH:
        raise ShippingError(
            _("Carrier, tracking number and package may have at most %(n)d characters.") % {"n": MAX_LENGTH}
        )
    optional = tracking_optional(order)
    if not tracking_number and not optional:
        raise ShippingError(_("Enter the tracking number."))
    if not carrier and not optional:
        raise ShippingError(_("Enter the carrier."))


def _reportable(order: Order) -> bool:
    if order.ec_account_id is None:  # the EC account was deleted: nothing to report to
        return False
    try:
        return order.ec_account.spec.has(Capability.REPORT_SHIPMENT)
    except LookupError:
        return False


def mark_shipped(
    order: Order, *, carrier: str, tracking_number: str, user=None, package_key: str = ""
) -> ShipmentReport | None:
    """Ship ``order`` and queue its report to the platform. Raises ShippingError (nothing written)
    when the order is on hold, cancelled, already shipped or the input is bad. Returns the report,
    or None for a platform that takes no shipment reports."""
    carrier = (carrier or "").strip()
    tracking_number = (tracking_number or "").strip()
    package_key = (package_key or "").strip()
    with transaction.atomic():
        # Lock and re-read: the screen the user clicked on may be stale (a hold placed meanwhile).
        locked = Order.objects.select_for_update(of=("self",)).select_related("ec_account").get(pk=order.pk)
        _check(locked, carrier, tracking_number, package_key)
        now = timezone.now()
        Order.objects.filter(pk=locked.pk).update(
            status=Order.Status.SHIPPED,
            carrier=carrier,
            tracking_number=tracking_number,
            shipped_at=now,
            updated_at=now,
        )
        stock.ship_order(locked, user=user)  # on hand leaves the primary type; reservations recomputed
        report = None
        if _reportable(locked):
            try:
                with transaction.atomic():
                    report = ShipmentReport.objects.create(
                        order=locked,
                        ec_account_id=locked.ec_account_id,
                        package_key=package_key,
                        carrier=carrier,
                        tracking_number=tracking_number,
                    )
            except IntegrityError:  # the unique (order, package) key: never a second report
                raise ShippingError(_("This package is already shipped.")) from None
            report_id = report.pk
            transaction.on_commit(lambda: _enqueue(report_id))
    order.status = Order.Status.SHIPPED
    order.carrier, order.tracking_number, order.shipped_at = carrier, tracking_number, now
    log.info("order %s shipped by %s (report %s)", order.pk, getattr(user, "pk", None), report and report.pk)
    return report


def _enqueue(report_id: int) -> None:
    from ecbridge.integrations.services import shipment_report

    shipment_report.enqueue(report_id)
