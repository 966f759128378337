# ruff: noqa: F811 - fixtures imported from tests.stock_fakes are test parameters by design
"""One WMS product listed several times on one account: only its stock listing carries stock
(push and Manual Stock Sync), the others are kept at 0, the breaker counts products, a person can
move the stock to another listing (page and API), and no sequence of put-aways, syncs and choices
ever offers one account more units of a product than its share."""

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ecbridge.integrations.models import ProductMapping, StockPush, StockRun
from ecbridge.integrations.services import listings, mapping_sync, pushing, stock_sync
from ecbridge.inventory.services.stock import sellable_by_product
from ecbridge.orders.services import mapping as unknown_mapping
from tests.integrations.test_stock_push import make_account, map_product, put_away, stock_in_wms
from tests.orders.factories import ProductFactory, UnknownProductFactory
from tests.stock_fakes import install_stock_platform, stock_platform  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_queue(monkeypatch):
    monkeypatch.setattr(pushing, "enqueue", lambda run_id: None)


@pytest.fixture
def cake_twice(stock_platform, merchant, channel):
    """ACME-CAKE-01 listed as itself (sync-made) and, after a person mapped the unknown
    ACME-GIFT-BOX to it, as the gift box too; plus one product listed once."""
    account = make_account(merchant, channel)
    cake = ProductFactory(merchant=merchant, sku="ACME-CAKE-01")
    tea = ProductFactory(merchant=merchant, sku="ACME-TEA-01")
    map_product(account, cake, stock_platform.add("ACME-CAKE-01", 7))
    map_product(account, tea, stock_platform.add("ACME-TEA-01", 1))
    gift = stock_platform.add("ACME-GIFT-BOX", 9)
    unknown = UnknownProductFactory(
        ec_account=account,
        platform_sku="ACME-GIFT-BOX",
        platform_item_id=gift.item_id,
        platform_variant_id="",
    )
    result = unknown_mapping.confirm_mapping(unknown, cake)
    assert not result.is_stock_listing  # the cake's own listing keeps the stock
    return account, cake, tea, stock_platform


def test_manual_sync_gives_the_stock_once_and_zero_to_the_extra_listing(cake_twice):
    account, cake, tea, platform = cake_twice
    stock_in_wms(cake, 53)
    stock_in_wms(tea, 4)
    run = stock_sync.request_stock_sync(account, confirm=True)
    pushing.drain_run(run.pk)
    assert (platform.qty("ACME-CAKE-01"), platform.qty("ACME-GIFT-BOX"), platform.qty("ACME-TEA-01")) == (
        53,
        0,
        4,
    )
    run.refresh_from_db()
    assert run.status == StockRun.Status.SUCCEEDED and run.zero_count == 0


def test_inbound_push_goes_to_the_stock_listing_only(cake_twice):
    account, cake, tea, platform = cake_twice
    put_away(account.merchant, (cake, 10))
    assert list(StockPush.objects.values_list("platform_sku", "quantity")) == [("ACME-CAKE-01", 10)]


def test_a_person_moves_the_stock_to_the_other_listing(cake_twice):
    account, cake, tea, platform = cake_twice
    gift = ProductMapping.objects.get(platform_sku="ACME-GIFT-BOX")
    listings.make_stock_listing(gift)
    stock_in_wms(cake, 20)
    stock_in_wms(tea, 1)
    pushing.drain_run(stock_sync.request_stock_sync(account, confirm=True).pk)
    assert (platform.qty("ACME-CAKE-01"), platform.qty("ACME-GIFT-BOX")) == (0, 20)
    # choosing again moves the mark; the database allows one per product and account
    listings.make_stock_listing(ProductMapping.objects.get(platform_sku="ACME-CAKE-01"))
    assert list(
        ProductMapping.objects.filter(is_stock_primary=True).values_list("platform_sku", flat=True)
    ) == ["ACME-CAKE-01"]


def test_breaker_counts_products_not_the_extra_listings(cake_twice):
    """Two products, the tea at 0: 1 of 2 products is not "more than half", even though 2 of the 3
    listings (tea and the gift box) are set to 0."""
    account, cake, tea, platform = cake_twice
    with pytest.raises(stock_sync.MassZeroNeedsConfirmation) as caught:  # nothing sellable at all
        stock_sync.request_stock_sync(account, confirm=True)
    assert (caught.value.zero_count, caught.value.total, caught.value.extra_listings) == (2, 2, 1)
    stock_in_wms(cake, 5)
    run = stock_sync.request_stock_sync(account, confirm=True)
    assert run.zero_count == 1 and run.pushes.count() == 3


def test_a_listing_known_only_from_orders_cannot_carry_stock(cake_twice):
    account, cake, _tea, _platform = cake_twice
    orphan = ProductMapping.objects.create(
        ec_account=account, product=cake, platform_item_id="", platform_variant_id="sku:X", platform_sku="X"
    )
    with pytest.raises(listings.NotAStockTarget):
        listings.make_stock_listing(orphan)
    assert not ProductMapping.objects.filter(is_stock_primary=True).exists()


def test_mapping_sync_moving_a_listing_to_another_product_drops_the_choice(cake_twice, stock_platform):
    """A sync that finds the gift box now carries another product's SKU must not keep a choice a
    person made for the cake."""
    account, cake, tea, platform = cake_twice
    other = ProductFactory(merchant=account.merchant, sku="ACME-GIFT-BOX")
    gift = ProductMapping.objects.get(platform_sku="ACME-GIFT-BOX")
    ProductMapping.objects.filter(pk=gift.pk).update(source=ProductMapping.Source.SYNC, is_stock_primary=True)
    run, _created = mapping_sync.request_sync(account)
    mapping_sync.run_sync(run.pk)
    gift.refresh_from_db()
    assert gift.product_id == other.pk and not gift.is_stock_primary


def test_detail_count_and_sync_summary_agree(cake_twice, operator_client):
    account, cake, tea, platform = cake_twice
    run, _created = mapping_sync.request_sync(account)
    mapping_sync.run_sync(run.pk)
    run.refresh_from_db()
    page = operator_client.get(f"/ec-accounts/{account.pk}/").content.decode()
    assert run.mapped == 3
    assert f">{run.mapped}</a>" in page and "2 WMS products" in page


def test_pages_and_api_show_and_move_the_stock_listing(cake_twice, operator_client, other_merchant_client):
    account, cake, tea, platform = cake_twice
    gift = ProductMapping.objects.get(platform_sku="ACME-GIFT-BOX")
    page = operator_client.get(f"/ec-accounts/{account.pk}/product-mappings/?listed=several").content.decode()
    assert "Kept at 0" in page and "Stock listing" in page and "ACME-TEA-01" not in page
    api = operator_client.get(f"/api/v1/ec-accounts/{account.pk}/product-mappings").json()
    assert {m["platform_sku"]: m["carries_stock"] for m in api} == {
        "ACME-CAKE-01": True,
        "ACME-GIFT-BOX": False,
        "ACME-TEA-01": True,
    }
    url = f"/ec-accounts/{account.pk}/product-mappings/{gift.pk}/stock-listing/"
    assert other_merchant_client.post(url).status_code == 404
    api_url = f"/api/v1/ec-accounts/{account.pk}/product-mappings/{gift.pk}/stock-listing"
    assert other_merchant_client.post(api_url).status_code == 404
    assert not ProductMapping.objects.filter(is_stock_primary=True).exists()
    response = operator_client.post(url)
    assert response.status_code == 302
    gift.refresh_from_db()
    assert gift.is_stock_primary
    answer = operator_client.post(
        f"/api/v1/ec-accounts/{account.pk}/product-mappings/"
        f"{ProductMapping.objects.get(platform_sku='ACME-CAKE-01').pk}/stock-listing"
    )
    assert answer.status_code == 200 and answer.json()["carries_stock"] is True
    gift.refresh_from_db()
    assert not gift.is_stock_primary


# --- property: never more than the share ------------------------------------------------------------
steps = st.lists(
    st.one_of(
        st.tuples(st.just("putaway"), st.integers(0, 3), st.integers(1, 40)),
        st.tuples(st.just("choose"), st.integers(0, 3), st.integers(0, 3)),
        st.tuples(st.just("sync"), st.just(0), st.just(0)),
        st.tuples(st.just("list"), st.integers(0, 3), st.just(0)),
    ),
    min_size=1,
    max_size=8,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=steps, percentage=st.integers(1, 100))
def test_no_account_ever_shows_more_of_a_product_than_its_share(
    steps, percentage, install_stock_platform, merchant, channel
):
    """Whatever the order of put-aways, new listings, choices and manual syncs, the units one
    account's listings of a product show never exceed what that account was given: the sum of its
    inbound shares on top of the platform stock it started with, and right after a manual sync the
    WMS sellable quantity."""
    with transaction.atomic():  # each example starts from the same empty shop
        _replay(steps, percentage, install_stock_platform, merchant, channel)
        transaction.set_rollback(True)


def _replay(steps, percentage, install_stock_platform, merchant, channel):
    platform = install_stock_platform("shopee")
    account = make_account(merchant, channel, pct=percentage)
    products = [ProductFactory(merchant=merchant) for _ in range(4)]
    given_to_account = {p.pk: 0 for p in products}
    for p in products:
        map_product(account, p, platform.add(f"L-{p.pk}-0", 0))
    for n, (op, a, b) in enumerate(steps):
        product = products[a]
        if op == "putaway":
            put_away(merchant, (product, b), reference=f"IN-{n}")
            for run in StockRun.objects.filter(ec_account=account, status=StockRun.Status.QUEUED):
                given_to_account[product.pk] += sum(run.pushes.values_list("quantity", flat=True))
                pushing.drain_run(run.pk)
        elif op == "list":
            map_product(account, product, platform.add(f"L-{product.pk}-{n + 1}", 0))
        elif op == "choose":
            candidates = list(
                ProductMapping.objects.filter(ec_account=account, product=product).order_by("pk")
            )
            listings.make_stock_listing(candidates[b % len(candidates)])
        else:
            try:
                run = stock_sync.request_stock_sync(account, confirm=True, confirm_zero_count=None)
            except stock_sync.MassZeroNeedsConfirmation as exc:
                run = stock_sync.request_stock_sync(account, confirm=True, confirm_zero_count=exc.zero_count)
            pushing.drain_run(run.pk)
            sellable = sellable_by_product(products, account.sales_channel)
            given_to_account = {p.pk: sellable.get(p.pk, 0) for p in products}
        for p in products:
            shown = sum(platform.qty(m.platform_sku) for m in ProductMapping.objects.filter(product=p))
            assert shown <= given_to_account[p.pk], (op, p.sku)
