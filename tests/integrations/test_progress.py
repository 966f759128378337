# ruff: noqa: F811 - fixtures imported from tests.fakes / tests.stock_fakes are test parameters by design
"""Background work shows its progress: the counts grow while it runs (fetches page by page,
mapping syncs page by page, stock runs SKU by SKU), the badge polls while the work runs and not
after, the page reloads once when it ends, and a run's failed SKUs can be sent again (only those)."""

import pytest

from ecbridge.integrations.models import FetchRun, ProductSyncRun, StockPush, StockRun
from ecbridge.integrations.services import fetching, mapping_sync, progress, pushing, stock_sync
from tests.factories import ECAccountFactory
from tests.fakes import fake_platform  # noqa: F401
from tests.integrations.test_fetching import add_orders
from tests.integrations.test_stock_push import make_account, map_product, put_away, stock_in_wms
from tests.orders.factories import ProductFactory
from tests.stock_fakes import install_stock_platform, stock_platform  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_queue(monkeypatch):
    monkeypatch.setattr(pushing, "enqueue", lambda run_id: None)


@pytest.fixture
def shop(stock_platform, merchant, channel):
    account = make_account(merchant, channel)
    products = [ProductFactory(merchant=merchant, sku=f"SKU-{i}") for i in range(3)]
    for product in products:
        map_product(account, product, stock_platform.add(product.sku, 5))
    return account, products, stock_platform


def test_fetch_counts_grow_page_by_page(fake_platform, merchant, channel, monkeypatch):
    account = ECAccountFactory(
        merchant=merchant,
        sales_channel=channel,
        platform="fake",
        external_shop_id="s",
        fetch_orders_enabled=True,
    )
    add_orders(fake_platform, 5)  # three pages of two
    seen = []
    real_import = fetching.import_page

    def watching(acc, page, run):
        seen.append(FetchRun.objects.get(pk=run.pk).orders_new)  # what a poll sees before this page
        return real_import(acc, page, run)

    monkeypatch.setattr(fetching, "import_page", watching)
    run = fetching.run_fetch(account.pk, FetchRun.Trigger.MANUAL)
    assert seen == [0, 2, 4] and run.orders_new == 5


def test_mapping_sync_counts_platform_products_as_they_arrive(shop, monkeypatch):
    account, products, platform = shop
    platform.page_size = 1
    seen = []
    real = mapping_sync.ProductSyncRun.objects.filter

    run, _created = mapping_sync.request_sync(account)

    def spy(*args, **kwargs):
        qs = real(*args, **kwargs)
        if kwargs.get("pk") == run.pk:
            seen.append(ProductSyncRun.objects.get(pk=run.pk).variants_seen)
        return qs

    monkeypatch.setattr(mapping_sync.ProductSyncRun.objects, "filter", spy)
    mapping_sync.run_sync(run.pk)
    run.refresh_from_db()
    assert run.variants_seen == 3 and seen[1:4] == [0, 1, 2]  # after "running", one per page


def test_stock_run_badge_counts_skus_and_polls_until_done(shop, operator_client):
    account, products, platform = shop
    put_away(account.merchant, *[(p, 1) for p in products])
    run = StockRun.objects.get()
    StockPush.objects.filter(pk=run.pushes.order_by("pk").first().pk).update(
        status=StockPush.Status.SUCCEEDED
    )
    state = progress.of(run)
    assert (state.finished, state.counts) == (False, "1 / 3 SKUs")
    url = f"/ec-accounts/progress/stock_run/{run.pk}/"
    page = operator_client.get(f"/ec-accounts/{account.pk}/stock-runs/{run.pk}/").content.decode()
    assert f'hx-get="{url}?id=run-status' in page and 'hx-trigger="every 2s"' in page and "1 / 3 SKUs" in page
    pushing.drain_run(run.pk)
    fragment = operator_client.get(url, headers={"HX-Request": "true"})
    body = fragment.content.decode()
    assert fragment["HX-Refresh"] == "true" and "hx-trigger" not in body and "3 / 3 SKUs" in body
    page = operator_client.get(f"/ec-accounts/{account.pk}/stock-runs/{run.pk}/").content.decode()
    assert "hx-trigger" not in page.split('id="run-status"')[1][:300]


def test_a_retry_wait_is_shown_as_waiting(shop):
    account, products, platform = shop
    platform.busy["SKU-0"] = 5
    platform.busy["SKU-1"] = 5
    platform.busy["SKU-2"] = 5
    put_away(account.merchant, *[(p, 1) for p in products])
    run = StockRun.objects.get()
    pushing.drain_run(run.pk)
    assert progress.of(StockRun.objects.get()).label == "Waiting to retry"


def test_progress_of_another_merchants_work_is_not_found(shop, other_merchant_client):
    account, products, platform = shop
    put_away(account.merchant, (products[0], 1))
    run = StockRun.objects.get()
    assert other_merchant_client.get(f"/ec-accounts/progress/stock_run/{run.pk}/").status_code == 404
    assert other_merchant_client.get(f"/ec-accounts/progress/nonsense/{run.pk}/").status_code == 404


def test_retry_sends_only_the_failed_skus_again(shop, operator_client):
    account, products, platform = shop
    platform.locked["SKU-1"] = "item under promotion"
    put_away(account.merchant, *[(p, 2) for p in products])
    run = StockRun.objects.get()
    pushing.drain_run(run.pk)
    run.refresh_from_db()
    assert run.status == StockRun.Status.PARTIAL
    page = operator_client.get(f"/ec-accounts/{account.pk}/stock-runs/{run.pk}/").content.decode()
    assert "Retry the 1 failed SKU" in page
    del platform.locked["SKU-1"]
    calls = len(platform.calls)
    response = operator_client.post(f"/ec-accounts/{account.pk}/stock-runs/{run.pk}/retry-failed/")
    assert response.status_code == 302
    pushing.drain_run(run.pk)
    run.refresh_from_db()
    assert run.status == StockRun.Status.SUCCEEDED and (run.succeeded, run.failed) == (3, 0)
    assert (platform.qty("SKU-0"), platform.qty("SKU-1"), platform.qty("SKU-2")) == (7, 7, 7)
    writes = [n for op, n in platform.calls[calls:] if op != "read"]
    assert writes == [1]  # one SKU, once


def test_retry_of_a_manual_sync_uses_the_sellable_of_now(shop, operator_client):
    account, products, platform = shop
    for product, qty in zip(products, (4, 5, 6), strict=True):
        stock_in_wms(product, qty)
    platform.locked["SKU-2"] = "locked"
    run = stock_sync.request_stock_sync(account, confirm=True)
    pushing.drain_run(run.pk)
    stock_in_wms(products[2], 10)  # sold, restocked, counted: the sellable is now 16
    del platform.locked["SKU-2"]
    api = f"/api/v1/ec-accounts/{account.pk}/stock-runs/{run.pk}/retry-failed"
    answer = operator_client.post(api)
    assert answer.status_code == 202 and answer.json()["retried"] == 1
    assert operator_client.post(api).status_code == 409  # queued again: not while it runs
    pushing.drain_run(run.pk)
    assert platform.qty("SKU-2") == 16 and platform.qty("SKU-0") == 4
    assert operator_client.post(api).json()["detail"].startswith("No SKU of this run can be retried")
