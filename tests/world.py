"""One merchant with one of everything a page or an API path can name (account, mapping, runs,
order, shipment report, unknown product, receipt, API call, notification, token), so sweeps
over every URL can use real ids."""

from __future__ import annotations

from dataclasses import dataclass

from ecbridge.apilog.models import ApiCall
from ecbridge.integrations.models import (
    FetchRun,
    ProductMapping,
    ProductSyncRun,
    ShipmentReport,
    StockPush,
    StockRun,
)
from ecbridge.inventory.services import receipts
from ecbridge.notifications.models import Notification
from ecbridge.tenancy.models import ApiToken
from tests import factories
from tests.orders.factories import OrderFactory, OrderLineFactory, ProductFactory, UnknownProductFactory, hold


@dataclass
class World:
    merchant: object
    channel: object
    account: object
    product: object
    mapping: object
    fetch_run: object
    sync_run: object
    stock_run: object
    order: object
    report: object
    unknown: object
    receipt: object
    call: object
    notification: object
    token: object

    def ids(self) -> dict[str, object]:
        """URL keyword → value, by the names the URL patterns use."""
        return {
            "channel_id": self.channel.pk,
            "account_id": self.account.pk,
            "fetch_id": self.fetch_run.pk,
            "sync_id": self.sync_run.pk,
            "mapping_id": self.mapping.pk,
            "run_id": self.stock_run.pk,
            "call_id": self.call.pk,
            "order_id": self.order.pk,
            "report_id": self.report.pk,
            "unknown_id": self.unknown.pk,
            "product_id": self.product.pk,
            "receipt_id": self.receipt.pk,
            "platform": self.account.platform,
            "kind": "stock_run",
        }


def build_world(merchant, user) -> World:
    channel = factories.SalesChannelFactory(merchant=merchant, name=f"{merchant.name} channel")
    account = factories.ECAccountFactory(
        merchant=merchant, sales_channel=channel, platform="momo", inbound_push_enabled=True
    )
    product = ProductFactory(merchant=merchant)
    mapping = ProductMapping.objects.create(
        ec_account=account, product=product, platform_item_id="I-1", platform_sku=product.sku
    )
    fetch_run = FetchRun.objects.create(ec_account=account, trigger=FetchRun.Trigger.MANUAL)
    sync_run = ProductSyncRun.objects.create(ec_account=account)
    stock_run = StockRun.objects.create(ec_account=account, kind=StockRun.Kind.MANUAL_SYNC)
    StockPush.objects.create(
        run=stock_run,
        ec_account=account,
        product=product,
        mapping=mapping,
        platform_sku=product.sku,
        mode=StockPush.Mode.ABSOLUTE,
        quantity=3,
    )
    order = OrderFactory(merchant=merchant, ec_account=account, sales_channel=channel, platform="momo")
    OrderLineFactory(order=order, product=product)
    hold(order)
    report = ShipmentReport.objects.create(
        order=order, ec_account=account, tracking_number="T1", status=ShipmentReport.Status.FAILED
    )
    unknown = UnknownProductFactory(ec_account=account)
    receipt = receipts.create_receipt(
        merchant, f"IN-{merchant.code}", [(product, factories.inventory_type(), 2)]
    )
    call = ApiCall.objects.create(
        merchant=merchant,
        ec_account=account,
        platform="momo",
        direction=ApiCall.Direction.OUTBOUND,
        operation="orders",
        method="POST",
        endpoint="https://example.test/orders",
        outcome=ApiCall.Outcome.SUCCESS,
    )
    notification = Notification.objects.create(merchant=merchant, ec_account=account, kind="test", title="Hi")
    token, _raw = ApiToken.issue(user, "script")
    return World(
        merchant,
        channel,
        account,
        product,
        mapping,
        fetch_run,
        sync_run,
        stock_run,
        order,
        report,
        unknown,
        receipt,
        call,
        notification,
        token,
    )
