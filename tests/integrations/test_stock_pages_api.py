# ruff: noqa: F811 - fixtures imported from tests.stock_fakes are test parameters by design
"""Detail-page buttons and dialogs of the stock side, the mass-zero confirmation page, the API
(202/400/409, Retry of the breaker), and scoping (another merchant's account is a 404)."""

import pytest

from ecbridge.integrations.models import ProductMapping, ProductSyncRun, StockPush, StockRun
from ecbridge.integrations.services import mapping_sync, pushing
from ecbridge.inventory.services.stock import add_stock
from tests.factories import ECAccountFactory, inventory_type
from tests.orders.factories import ProductFactory
from tests.stock_fakes import install_stock_platform  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_queue(monkeypatch):
    monkeypatch.setattr(pushing, "enqueue", lambda run_id: None)
    monkeypatch.setattr(mapping_sync, "_enqueue", lambda run_id: None)


@pytest.fixture
def account(install_stock_platform, merchant, channel):
    platform = install_stock_platform("shopee")
    account = ECAccountFactory(
        merchant=merchant,
        sales_channel=channel,
        platform="fakestock",
        inbound_push_enabled=True,
        push_percentage=60,
    )
    for i in range(4):
        product = ProductFactory(merchant=merchant, sku=f"S-{i}")
        listing = platform.add(f"S-{i}", 1)
        ProductMapping.objects.create(
            ec_account=account,
            product=product,
            platform_item_id=listing.item_id,
            platform_sku=listing.sku,
        )
        add_stock(product, inventory_type(), 5 if i else 0, reason="adjustment")
    return account


def detail(client, account):
    return client.get(f"/ec-accounts/{account.pk}/").content.decode()


def test_buttons_only_when_connected_push_on_and_supported(operator_client, account):
    page = detail(operator_client, account)
    assert 'id="sync-mappings-button"' in page and 'id="stock-sync-button"' in page
    assert "Confirm manual stock sync" in page and "cannot be reverted automatically" in page
    assert "bg-danger" in page.split('id="stock-sync-modal"')[1][:400]
    assert 'id="mapped-products"' in page and ">4</a>" in page
    account.inbound_push_enabled = False
    account.save()
    page = detail(operator_client, account)
    assert 'id="sync-mappings-button"' not in page and 'id="stock-sync-button"' not in page
    account.inbound_push_enabled = True
    account.status = "disconnected"
    account.save()
    page = detail(operator_client, account)
    assert 'id="sync-mappings-button"' not in page and 'id="stock-sync-button"' not in page


def test_unsupported_platform_shows_no_buttons(operator_client, merchant, channel):
    momo_like = ECAccountFactory(
        merchant=merchant, sales_channel=channel, platform="1shop", inbound_push_enabled=True
    )
    page = detail(operator_client, momo_like)
    assert 'id="sync-mappings-button"' not in page and 'id="stock-sync-button"' not in page


def test_no_mappings_text_before_any_sync(operator_client, merchant, channel, install_stock_platform):
    install_stock_platform("shopee")
    fresh = ECAccountFactory(
        merchant=merchant, sales_channel=channel, platform="fakestock", inbound_push_enabled=True
    )
    assert "No product mappings" in detail(operator_client, fresh)


def test_page_sync_mappings_queues_one(operator_client, account):
    response = operator_client.post(f"/ec-accounts/{account.pk}/sync-product-mappings/", follow=True)
    assert "Product mapping sync queued" in response.content.decode()
    assert ProductSyncRun.objects.filter(ec_account=account).count() == 1


def test_page_stock_sync_without_confirmation_runs_nothing(operator_client, account):
    response = operator_client.post(f"/ec-accounts/{account.pk}/stock-sync/", follow=True)
    assert "confirm it to run" in response.content.decode()
    assert not StockRun.objects.exists()


def test_page_stock_sync_confirmed_queues_and_shows_the_run(operator_client, account):
    response = operator_client.post(f"/ec-accounts/{account.pk}/stock-sync/", {"confirm": "1"}, follow=True)
    page = response.content.decode()
    run = StockRun.objects.get()
    assert response.redirect_chain[-1][0] == f"/ec-accounts/{account.pk}/stock-runs/{run.pk}/"
    assert 'id="push-table"' in page and "S-1" in page and run.pushes.count() == 4


def test_page_mass_zero_asks_again_naming_the_count(operator_client, account):
    add_stock(
        account.product_mappings.get(platform_sku="S-1").product, inventory_type(), -5, reason="adjustment"
    )
    add_stock(
        account.product_mappings.get(platform_sku="S-2").product, inventory_type(), -5, reason="adjustment"
    )
    response = operator_client.post(f"/ec-accounts/{account.pk}/stock-sync/", {"confirm": "1"})
    assert response.status_code == 409
    page = response.content.decode()
    assert (
        "would set 3 of 4 mapped products to zero" in page and 'name="confirm_zero_count" value="3"' in page
    )
    assert not StockRun.objects.exists()
    operator_client.post(
        f"/ec-accounts/{account.pk}/stock-sync/", {"confirm": "1", "confirm_zero_count": "3"}
    )
    assert StockRun.objects.get().zero_count == 3


def test_api_sync_and_stock_sync(operator_client, account):
    url = f"/api/v1/ec-accounts/{account.pk}"
    response = operator_client.post(f"{url}/sync-product-mappings")
    assert response.status_code == 202 and response.json()["already_running"] is False
    assert operator_client.post(f"{url}/sync-product-mappings").json()["already_running"] is True

    response = operator_client.post(f"{url}/stock-sync", {}, content_type="application/json")
    assert response.status_code == 400 and not StockRun.objects.exists()
    response = operator_client.post(f"{url}/stock-sync", {"confirm": False}, content_type="application/json")
    assert response.status_code == 400 and not StockRun.objects.exists()
    response = operator_client.post(f"{url}/stock-sync", {"confirm": True}, content_type="application/json")
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["pushes"] == 4 and body["zero_count"] == 1
    # One manual sync at a time.
    again = operator_client.post(f"{url}/stock-sync", {"confirm": True}, content_type="application/json")
    assert again.status_code == 409
    run = operator_client.get(f"{url}/stock-runs/{body['run_id']}").json()
    assert run["kind"] == "manual_sync" and len(run["pushes"]) == 4
    assert {p["quantity"] for p in run["pushes"]} == {0, 5}
    mappings = operator_client.get(f"{url}/product-mappings").json()
    assert len(mappings) == 4 and "stock_ref" not in mappings[0]


def test_api_mass_zero_breaker(operator_client, account):
    for sku in ("S-1", "S-2"):  # S-0 has none already: 3 of 4 would drop to 0
        add_stock(
            account.product_mappings.get(platform_sku=sku).product, inventory_type(), -5, reason="adjustment"
        )
    url = f"/api/v1/ec-accounts/{account.pk}/stock-sync"
    response = operator_client.post(url, {"confirm": True}, content_type="application/json")
    body = response.json()
    assert response.status_code == 409 and (body["zero_count"], body["total"]) == (3, 4)
    assert not StockRun.objects.exists()
    wrong = operator_client.post(
        url, {"confirm": True, "confirm_zero_count": 2}, content_type="application/json"
    )
    assert wrong.status_code == 409 and not StockRun.objects.exists()
    response = operator_client.post(
        url, {"confirm": True, "confirm_zero_count": body["zero_count"]}, content_type="application/json"
    )
    assert response.status_code == 202


def test_other_merchant_cannot_see_or_trigger(other_merchant_client, account):
    url = f"/api/v1/ec-accounts/{account.pk}"
    assert other_merchant_client.post(f"{url}/sync-product-mappings").status_code == 404
    response = other_merchant_client.post(
        f"{url}/stock-sync", {"confirm": True}, content_type="application/json"
    )
    assert response.status_code == 404
    assert other_merchant_client.get(f"{url}/product-mappings").status_code == 404
    assert (
        other_merchant_client.post(f"/ec-accounts/{account.pk}/stock-sync/", {"confirm": "1"}).status_code
        == 404
    )
    assert other_merchant_client.get(f"/ec-accounts/{account.pk}/product-mappings/").status_code == 404
    assert not StockRun.objects.exists() and not StockPush.objects.exists()


def test_mapping_page_shows_push_state(operator_client, account):
    ProductMapping.objects.filter(platform_sku="S-1").update(last_push_error="item under promotion")
    page = operator_client.get(f"/ec-accounts/{account.pk}/product-mappings/").content.decode()
    assert "item under promotion" in page and "Stock flows one way" in page
