"""Shared by the shipping tests: orders to ship and a scripted fake platform client."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from ecbridge.orders.models import Order, OrderLine
from ecbridge.platforms.base import ShipmentOutcome, ShipmentResult
from tests import factories

_counter = iter(range(1, 10**6))


def make_account(merchant, *, platform="momo", status="connected", **kw):
    return factories.ECAccountFactory(merchant=merchant, platform=platform, status=status, **kw)


def make_order(account, *, status=Order.Status.PENDING, **kw) -> Order:
    n = next(_counter)
    now = timezone.now() - timedelta(hours=1)
    fields = {
        "merchant": account.merchant,
        "ec_account": account,
        "sales_channel": account.sales_channel,
        "platform": account.platform,
        "platform_order_id": f"PO{n}",
        "order_number": f"ORD-{n}",
        "status": status,
        "platform_state": Order.PlatformState.TO_SHIP,
        "platform_status": "READY_TO_SHIP",
        "platform_created_at": now,
        "platform_updated_at": now,
        "shipping_code": "30001",
        "shipment_refs": {"package_number": f"PKG{n}"},
    }
    fields.update(kw)
    order = Order.objects.create(**fields)
    OrderLine.objects.create(order=order, line_id=f"L{n}", sku="SKU-1", name="Tea", quantity=2)
    return order


class FakeClient:
    """Stands in for a platform client: ``script`` is a list of results or exceptions, one per call
    (report_shipment and fetch_tracking alike); every call is recorded in ``calls``."""

    script: list = []
    calls: list = []
    on_call = None  # hook(run before answering), e.g. to start a concurrent job

    def __init__(self, ctx, http=None, *, interactive=False):
        self.ctx = ctx

    def _answer(self, method, request):
        FakeClient.calls.append((method, request))
        if FakeClient.on_call is not None:
            FakeClient.on_call(method, request)
        item = FakeClient.script.pop(0) if FakeClient.script else done()
        if isinstance(item, BaseException):
            raise item
        return item

    def report_shipment(self, request):
        return self._answer("report_shipment", request)

    def fetch_tracking(self, request):
        return self._answer("fetch_tracking", request)


def done(number="", carrier="", already=False):
    return ShipmentResult(
        ShipmentOutcome.DONE, tracking_number=number, carrier=carrier, already_shipped=already
    )


def awaiting():
    return ShipmentResult(ShipmentOutcome.AWAITING_TRACKING)


def install_fake(monkeypatch, script=()):
    from ecbridge.integrations.services import connection

    FakeClient.script = list(script)
    FakeClient.calls = []
    FakeClient.on_call = None
    monkeypatch.setattr(connection, "client_for", lambda ctx, interactive=False, http=None: FakeClient(ctx))
    return FakeClient


def import_from_platform(account, platform_order_id: str) -> Order:
    """The order as the importer would store it, read through the real client (get_orders), so
    ``shipment_refs`` are whatever that client needs to report the shipment later."""
    from ecbridge.integrations.services import connection

    [data] = connection.call(account, lambda client: client.get_orders([platform_order_id]))
    order = Order.objects.create(
        merchant=account.merchant,
        ec_account=account,
        sales_channel=account.sales_channel,
        platform=account.platform,
        platform_order_id=data.platform_order_id,
        order_number=data.order_number,
        platform_state=data.state.value,
        platform_status=data.platform_status,
        platform_created_at=data.created_at,
        platform_updated_at=data.updated_at,
        shipping_code=data.shipping_code,
        shipping_name=data.shipping_name,
        shipment_refs=data.shipment_refs,
    )
    for line in data.lines:
        OrderLine.objects.create(
            order=order,
            line_id=line.line_id,
            sku=line.sku,
            name=line.name,
            quantity=line.quantity,
            platform_item_id=line.item_id,
            platform_variant_id=line.variant_id,
        )
    return order
