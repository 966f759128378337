# ruff: noqa: F811 - fixtures imported from tests.fakes are test parameters by design
"""import_page: idempotent upsert, matching, unknown products and holds, shipping codes,
cancellation and edit rules, disabled channels, and the lost-insert race."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ecbridge.integrations.models import ShippingCodeMapping
from ecbridge.notifications.models import Notification
from ecbridge.orders.models import Hold, Order, OrderLine, UnknownProduct
from ecbridge.orders.services import importing
from ecbridge.orders.services.importing import import_page
from ecbridge.orders.services.mapping import confirm_mapping
from ecbridge.platforms.base import PlatformOrderState as S
from tests.factories import ECAccountFactory, shipping_type
from tests.fakes import NOW, fake_platform, order  # noqa: F401
from tests.orders.factories import ProductFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def account(fake_platform, merchant, channel):
    acct = ECAccountFactory(
        merchant=merchant,
        sales_channel=channel,
        platform="fake",
        external_shop_id="shop-1",
        fetch_orders_enabled=True,
    )
    ShippingCodeMapping.objects.create(
        ec_account=acct, platform_code="CVS7", shipping_type=shipping_type("seven_pickup")
    )
    return acct


@pytest.fixture
def products(merchant):
    return {sku: ProductFactory(merchant=merchant, sku=sku) for sku in ("SKU-1", "SKU-2", "SKU-3")}


def active_reasons(o):
    return set(Hold.objects.active().filter(order=o).values_list("reason", flat=True))


def writes(ctx):
    return [q["sql"] for q in ctx.captured_queries if q["sql"].split()[0] in ("INSERT", "UPDATE", "DELETE")]


def test_new_orders_are_imported_with_matched_lines_and_shipping_types(account, products):
    counts = import_page(account, [order("1", ("SKU-1", 2), ("SKU-2", 1)), order("2", shipping_code="CVS7")])
    assert (counts.new, counts.updated, counts.held) == (2, 0, 0)
    first = Order.objects.get(platform_order_id="1")
    assert first.merchant_id == account.merchant_id and first.sales_channel_id == account.sales_channel_id
    assert [(li.sku, li.quantity, li.product_id) for li in first.lines.all()] == [
        ("SKU-1", 2, products["SKU-1"].pk),
        ("SKU-2", 1, products["SKU-2"].pk),
    ]
    # HOME is unmapped: the channel's default type, and the order says so
    assert first.shipping_type_id == account.sales_channel.default_shipping_type_id
    assert "HOME" in first.shipping_note and "not mapped" in first.shipping_note
    second = Order.objects.get(platform_order_id="2")
    assert second.shipping_type.code == "seven_pickup" and second.shipping_note == ""
    assert not first.on_hold and not second.on_hold


def test_refetching_an_unchanged_page_writes_nothing(account, products):
    page = [order(str(i), ("SKU-1", 1)) for i in range(20)]
    import_page(account, page)
    with CaptureQueriesContext(connection) as ctx:
        counts = import_page(account, [order(str(i), ("SKU-1", 1)) for i in range(20)])
    assert (counts.new, counts.updated, counts.unchanged) == (0, 0, 20)
    assert writes(ctx) == []
    assert len(ctx.captured_queries) <= 8
    assert Order.objects.count() == 20 and OrderLine.objects.count() == 20


def test_a_new_page_costs_a_fixed_number_of_queries(account, products):
    with CaptureQueriesContext(connection) as ctx:
        counts = import_page(account, [order(str(i), ("SKU-1", 1), ("SKU-2", 3)) for i in range(50)])
    assert counts.new == 50
    assert len(ctx.captured_queries) <= 16  # batched: not one per order


def test_duplicates_inside_a_page_keep_the_latest(account, products):
    old = order("1", ("SKU-1", 1), updated=NOW - timedelta(hours=2))
    new = order("1", ("SKU-1", 5), updated=NOW - timedelta(hours=1))
    assert import_page(account, [new, old]).new == 1
    assert Order.objects.get().lines.get().quantity == 5


def test_unknown_product_holds_the_order_and_is_created_once(account, products):
    counts = import_page(
        account, [order("1", ("SKU-1", 1), ("NEW-9", 2, "77", "0")), order("2", ("NEW-9", 1, "77"))]
    )
    assert counts.unknown_products == 1 and counts.held == 2
    unknown = UnknownProduct.objects.get()
    assert (unknown.key, unknown.identifier, unknown.platform_sku) == (
        "77|NEW-9",
        "[NEW-9] Product NEW-9",
        "NEW-9",
    )
    assert unknown.merchant_id == account.merchant_id and unknown.platform == "fake"
    assert Notification.objects.filter(kind="unknown_product").count() == 1
    for oid in ("1", "2"):
        o = Order.objects.get(platform_order_id=oid)
        assert o.on_hold and active_reasons(o) == {Hold.Reason.UNKNOWN_PRODUCT}
    assert OrderLine.objects.filter(unknown_product=unknown).count() == 2
    # the next fetch neither duplicates the record nor notifies again
    again = import_page(account, [order("3", ("NEW-9", 4, "77"))])
    assert again.unknown_products == 0 and UnknownProduct.objects.count() == 1
    assert Notification.objects.filter(kind="unknown_product").count() == 1


def test_mapping_then_refetch_keeps_the_order_released(account, products):
    import_page(account, [order("1", ("NEW-9", 1, "77"))])
    unknown = UnknownProduct.objects.get()
    confirm_mapping(unknown, products["SKU-3"])
    o = Order.objects.get()
    assert not o.on_hold
    counts = import_page(account, [order("1", ("NEW-9", 1, "77"))])
    o.refresh_from_db()
    assert counts.unchanged == 1 and not o.on_hold and o.lines.get().product_id == products["SKU-3"].pk
    assert not UnknownProduct.objects.exists()


def test_a_product_created_later_matches_on_refetch_and_releases(account, merchant):
    import_page(account, [order("1", ("LATER", 1))])
    assert Order.objects.get().on_hold
    product = ProductFactory(merchant=merchant, sku="LATER")
    counts = import_page(account, [order("1", ("LATER", 1))])
    o = Order.objects.get()
    assert counts.updated == 1 and not o.on_hold and o.lines.get().product_id == product.pk


def test_cancellation_before_shipping_holds(account, products):
    import_page(account, [order("1")])
    counts = import_page(account, [order("1", state=S.CANCELLED, updated=NOW)])
    o = Order.objects.get()
    assert counts.updated == 1 and counts.held == 1
    assert o.on_hold and active_reasons(o) == {Hold.Reason.PLATFORM_CANCELLED}
    assert o.platform_state == "cancelled" and o.status == Order.Status.PENDING
    # a person released it: the same cancelled order re-fetched does not hold it again
    Hold.objects.filter(order=o).update(released_at=NOW)
    Order.objects.filter(pk=o.pk).update(on_hold=False)
    import_page(account, [order("1", state=S.CANCELLED, updated=NOW)])
    assert not Order.objects.get().on_hold


def test_withdrawn_cancellation_releases_its_hold(account, products):
    import_page(account, [order("1")])
    import_page(account, [order("1", state=S.CANCELLED, updated=NOW)])
    import_page(account, [order("1", state=S.TO_SHIP, updated=NOW + timedelta(minutes=1))])
    o = Order.objects.get()
    assert not o.on_hold and active_reasons(o) == set()


def test_cancellation_after_we_shipped_flags_for_a_person(account, products):
    import_page(account, [order("1")])
    Order.objects.update(status=Order.Status.SHIPPED)
    counts = import_page(account, [order("1", state=S.CANCELLED, updated=NOW)])
    o = Order.objects.get()
    assert counts.attention == 1 and o.needs_attention and "after the warehouse shipped" in o.attention_reason
    assert not o.on_hold


def test_new_order_already_cancelled_is_recorded_cancelled_without_hold(account, products):
    import_page(account, [order("1", state=S.CANCELLED)])
    o = Order.objects.get()
    assert o.status == Order.Status.CANCELLED and not o.on_hold


def test_new_order_already_shipped_elsewhere_is_flagged(account, products):
    import_page(account, [order("1", state=S.SHIPPED)])
    assert Order.objects.get().needs_attention


def test_edit_before_shipping_is_applied_and_rematched(account, products):
    import_page(account, [order("1", ("SKU-1", 1), ("NEW-9", 1))])
    assert Order.objects.get().on_hold
    edited = order("1", ("SKU-1", 3), ("SKU-2", 1), updated=NOW, address="新北市板橋區", shipping_code="CVS7")
    counts = import_page(account, [edited])
    o = Order.objects.get()
    assert counts.updated == 1
    assert [(li.sku, li.quantity, li.product_id is not None) for li in o.lines.order_by("sku")] == [
        ("SKU-1", 3, True),
        ("SKU-2", 1, True),
    ]
    assert (
        o.recipient_address == "新北市板橋區"
        and o.shipping_type.code == "seven_pickup"
        and o.shipping_note == ""
    )
    assert not o.on_hold  # the unknown line is gone: its hold is released


def test_edit_adding_an_unknown_line_holds(account, products):
    import_page(account, [order("1", ("SKU-1", 1))])
    import_page(account, [order("1", ("SKU-1", 1), ("NEW-1", 1), updated=NOW)])
    assert active_reasons(Order.objects.get()) == {Hold.Reason.UNKNOWN_PRODUCT}


def test_edit_after_shipping_is_not_applied_but_flagged(account, products):
    import_page(account, [order("1", ("SKU-1", 1))])
    Order.objects.update(status=Order.Status.SHIPPED)
    import_page(account, [order("1", ("SKU-1", 9), updated=NOW, address="elsewhere")])
    o = Order.objects.get()
    assert o.lines.get().quantity == 1 and o.recipient_address != "elsewhere"
    assert o.needs_attention and "after the warehouse shipped" in o.attention_reason
    assert o.platform_updated_at == NOW


def test_shipping_mapping_added_later_applies_to_waiting_orders(account, products):
    import_page(account, [order("1", shipping_code="FROZEN")])
    assert Order.objects.get().shipping_note
    ShippingCodeMapping.objects.create(
        ec_account=account, platform_code="FROZEN", shipping_type=shipping_type("tcat_frozen")
    )
    import_page(account, [order("1", shipping_code="FROZEN")])
    o = Order.objects.get()
    assert o.shipping_type.code == "tcat_frozen" and o.shipping_note == ""


def test_disabled_channel_imports_nothing(account, channel, products):
    channel.enabled = False
    channel.save()
    counts = import_page(account, [order("1"), order("2")])
    assert counts.skipped == 2 and "disabled" in counts.skipped_reason and counts.new == 0
    assert not Order.objects.exists()


def test_lost_insert_race_updates_instead_of_duplicating(account, products, monkeypatch):
    """Another writer inserts order "2" between our read and our bulk insert: the bulk insert
    fails on the unique key, and the page falls back to per-order inserts + an update."""
    real = importing._new_order
    raced = []

    def racing(page, data):
        built = real(page, data)
        if data.platform_order_id == "2" and not raced:
            raced.append(True)
            rival = real(page, data)
            rival.recipient_address = "stale"
            rival.save()
        return built

    monkeypatch.setattr(importing, "_new_order", racing)
    counts = import_page(account, [order("1", ("SKU-1", 1)), order("2", ("SKU-2", 1)), order("3")])
    assert raced
    assert Order.objects.count() == 3
    assert sorted(Order.objects.values_list("platform_order_id", flat=True)) == ["1", "2", "3"]
    two = Order.objects.get(platform_order_id="2")
    assert two.recipient_address != "stale" and two.lines.get().product_id == products["SKU-2"].pk
    assert counts.new == 2 and counts.updated == 1


def test_orders_of_other_accounts_are_separate(account, products, merchant, channel):
    other = ECAccountFactory(
        merchant=merchant, sales_channel=channel, platform="fake", external_shop_id="shop-2"
    )
    import_page(account, [order("1")])
    import_page(other, [order("1")])
    assert Order.objects.filter(platform_order_id="1").count() == 2
