"""Factories for orders tests: products, orders, lines, holds, unknown products (no importer)."""

from datetime import timedelta

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from ecbridge.inventory.models import Product
from ecbridge.orders.models import Hold, Order, OrderLine, UnknownProduct
from ecbridge.orders.services import holds
from tests.factories import ECAccountFactory


class ProductFactory(DjangoModelFactory):
    class Meta:
        model = Product

    merchant = factory.SubFactory("tests.factories.MerchantFactory")
    sku = factory.Sequence(lambda n: f"WMS-{n:04d}")
    barcode = factory.Sequence(lambda n: f"471000{n:06d}")
    name = factory.Sequence(lambda n: f"Product {n}")


class OrderFactory(DjangoModelFactory):
    class Meta:
        model = Order

    ec_account = factory.SubFactory(ECAccountFactory)
    merchant = factory.LazyAttribute(lambda o: o.ec_account.merchant)
    sales_channel = factory.LazyAttribute(lambda o: o.ec_account.sales_channel)
    platform = factory.LazyAttribute(lambda o: o.ec_account.platform)
    platform_order_id = factory.Sequence(lambda n: f"PO{n:06d}")
    order_number = factory.LazyAttribute(lambda o: o.platform_order_id)
    platform_state = Order.PlatformState.TO_SHIP
    platform_status = "READY_TO_SHIP"
    platform_created_at = factory.Sequence(lambda n: timezone.now() - timedelta(hours=100 - n))
    platform_updated_at = factory.LazyAttribute(lambda o: o.platform_created_at)
    recipient_name = "王小明"
    recipient_phone = "0912345678"
    recipient_address = "台北市信義區市府路1號"


class OrderLineFactory(DjangoModelFactory):
    class Meta:
        model = OrderLine

    order = factory.SubFactory(OrderFactory)
    line_id = factory.Sequence(lambda n: f"L{n}")
    sku = factory.Sequence(lambda n: f"SKU-{n}")
    name = factory.Sequence(lambda n: f"Platform item {n}")
    quantity = 1


class UnknownProductFactory(DjangoModelFactory):
    class Meta:
        model = UnknownProduct

    ec_account = factory.SubFactory(ECAccountFactory)
    merchant = factory.LazyAttribute(lambda o: o.ec_account.merchant)
    platform = factory.LazyAttribute(lambda o: o.ec_account.platform)
    platform_sku = factory.Sequence(lambda n: f"PSKU-{n}")
    name = factory.Sequence(lambda n: f"Mystery item {n}")
    platform_item_id = factory.Sequence(lambda n: f"{1000 + n}")
    platform_variant_id = ""
    key = factory.LazyAttribute(lambda o: f"{o.platform_item_id}|{o.platform_sku}")
    identifier = factory.LazyAttribute(lambda o: f"[{o.platform_sku}] {o.name}")


def unknown_line(order: Order, unknown: UnknownProduct, quantity: int = 1) -> OrderLine:
    """A line of ``order`` that matched nothing, and the order held for it (as the importer does)."""
    line = OrderLineFactory(
        order=order,
        sku=unknown.platform_sku,
        name=unknown.name,
        quantity=quantity,
        platform_item_id=unknown.platform_item_id,
        platform_variant_id=unknown.platform_variant_id,
        unknown_product=unknown,
    )
    holds.place_hold(order, Hold.Reason.UNKNOWN_PRODUCT)
    return line


def hold(order: Order, reason: str = Hold.Reason.ADDRESS, *, note: str = "", user=None) -> Hold:
    return holds.place_hold(order, reason, note=note, user=user)
