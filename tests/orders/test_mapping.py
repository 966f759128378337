"""Confirm Mapping (services.mapping): exactly the right orders are released, in one transaction."""

import pytest

from ecbridge.integrations.models import ProductMapping
from ecbridge.orders.models import Hold, Order, OrderLine, UnknownProduct
from ecbridge.orders.services import mapping
from tests.factories import ECAccountFactory
from tests.orders.factories import OrderFactory, ProductFactory, UnknownProductFactory, hold, unknown_line


@pytest.fixture
def account(merchant, channel):
    return ECAccountFactory(
        merchant=merchant, sales_channel=channel, platform="shopee", display_name="Acme SP"
    )


@pytest.fixture
def product(merchant):
    return ProductFactory(merchant=merchant, sku="TEA-01", name="Oolong tea")


def _held(order):
    order.refresh_from_db()
    return order.on_hold


def test_confirm_releases_exactly_the_right_orders(account, product, admin_user):
    unknown = UnknownProductFactory(ec_account=account, platform_sku="SP-TEA", platform_item_id="9001")
    other_unknown = UnknownProductFactory(ec_account=account, platform_sku="SP-CUP", platform_item_id="9002")
    only_this = OrderFactory(ec_account=account)
    unknown_line(only_this, unknown, quantity=2)
    two_unknowns = OrderFactory(ec_account=account)
    unknown_line(two_unknowns, unknown)
    unknown_line(two_unknowns, other_unknown)
    also_cancelled = OrderFactory(ec_account=account)
    unknown_line(also_cancelled, unknown)
    hold(also_cancelled, Hold.Reason.PLATFORM_CANCELLED)
    unrelated = OrderFactory(ec_account=account)
    unknown_line(unrelated, other_unknown)

    preview = mapping.preview(unknown)
    assert (preview.affected_orders, preview.orders_to_release, preview.orders_still_held) == (3, 1, 2)

    result = mapping.confirm_mapping(unknown, product, admin_user)

    assert result.lines_updated == 3 and result.holds_released == 2
    assert result.orders_released == 1 and result.orders_still_held == 2
    assert not _held(only_this)
    assert _held(two_unknowns) and _held(also_cancelled) and _held(unrelated)
    # the unknown-product hold of the cancelled order is released; the cancellation hold stays
    assert list(also_cancelled.holds.active().values_list("reason", flat=True)) == ["platform_cancelled"]
    # two_unknowns still waits for the other unknown product
    assert two_unknowns.holds.active().get().reason == Hold.Reason.UNKNOWN_PRODUCT
    released = only_this.holds.get()
    assert released.released_by == admin_user and "TEA-01" in released.resolution_note
    assert not UnknownProduct.objects.filter(pk=unknown.pk).exists()
    assert OrderLine.objects.filter(product=product).count() == 3
    assert OrderLine.objects.filter(unknown_product=other_unknown).count() == 2
    m = ProductMapping.objects.get(pk=result.mapping_id)
    assert (m.ec_account, m.platform_item_id, m.platform_variant_id, m.platform_sku) == (
        account,
        "9001",
        "",
        "SP-TEA",
    )
    assert m.product == product and m.source == ProductMapping.Source.MANUAL and result.mapping_created

    # mapping the second unknown product frees the order with two unknown lines
    cup = ProductFactory(merchant=account.merchant, sku="CUP-01")
    second = mapping.confirm_mapping(other_unknown, cup, admin_user)
    assert second.orders_released == 2 and not _held(two_unknowns) and not _held(unrelated)
    assert _held(also_cancelled)


def test_existing_mapping_is_updated_not_duplicated(account, product):
    old = ProductFactory(merchant=account.merchant, sku="OLD")
    ProductMapping.objects.create(
        ec_account=account, product=old, platform_item_id="77", platform_variant_id="5", platform_sku="X"
    )
    unknown = UnknownProductFactory(ec_account=account, platform_item_id="77", platform_variant_id="5")
    result = mapping.confirm_mapping(unknown, product)
    assert not result.mapping_created
    m = ProductMapping.objects.get(ec_account=account)
    assert m.product == product and m.source == "manual"


def test_variant_zero_means_no_variant_and_sku_only_products_stay_apart(account, product):
    u0 = UnknownProductFactory(ec_account=account, platform_item_id="55", platform_variant_id="0")
    assert mapping.mapping_ids(u0) == ("55", "")
    a = UnknownProductFactory(ec_account=account, platform_item_id="", platform_sku="A-1")
    b = UnknownProductFactory(ec_account=account, platform_item_id="", platform_sku="B-1")
    mapping.confirm_mapping(a, product)
    mapping.confirm_mapping(b, ProductFactory(merchant=account.merchant))
    rows = ProductMapping.objects.filter(ec_account=account, platform_item_id="")
    assert sorted(rows.values_list("platform_sku", flat=True)) == ["A-1", "B-1"]


def test_product_of_another_merchant_is_rejected_and_nothing_changes(account, other_merchant):
    unknown = UnknownProductFactory(ec_account=account)
    order = OrderFactory(ec_account=account)
    unknown_line(order, unknown)
    foreign = ProductFactory(merchant=other_merchant)
    with pytest.raises(mapping.MappingError, match="another merchant"):
        mapping.confirm_mapping(unknown, foreign)
    assert UnknownProduct.objects.filter(pk=unknown.pk).exists()
    assert not ProductMapping.objects.exists()
    assert _held(order) and order.lines.get().unknown_product_id == unknown.pk


def test_failure_inside_the_transaction_rolls_everything_back(account, product, monkeypatch):
    unknown = UnknownProductFactory(ec_account=account)
    order = OrderFactory(ec_account=account)
    unknown_line(order, unknown)

    def boom(*args, **kwargs):
        raise RuntimeError("db went away")

    monkeypatch.setattr(mapping.holds, "release_holds", boom)
    with pytest.raises(RuntimeError):
        mapping.confirm_mapping(unknown, product)
    assert UnknownProduct.objects.filter(pk=unknown.pk).exists()
    assert not ProductMapping.objects.exists()
    assert order.lines.get().product_id is None and _held(order)


def test_already_mapped_record_is_an_error(account, product):
    unknown = UnknownProductFactory(ec_account=account)
    stale = UnknownProduct.objects.get(pk=unknown.pk)
    mapping.confirm_mapping(unknown, product)
    with pytest.raises(mapping.MappingError):
        mapping.confirm_mapping(stale, product)
    assert Order.objects.count() == 0
