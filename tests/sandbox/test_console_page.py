"""The sandbox console page a person uses to place buyer orders and inject faults."""

import pytest

from ecbridge.sandbox.app import create_app, parse_lines
from ecbridge.sandbox.store import SandboxStore


@pytest.fixture
def console():
    app = create_app(SandboxStore(":memory:"))
    return app.test_client()


def test_parse_lines_reads_sku_and_quantity():
    assert parse_lines("A-1 x 2\n\nB-2\nC-3 × 10\nD-4*3") == [
        {"sku": "A-1", "quantity": 2},
        {"sku": "B-2", "quantity": 1},
        {"sku": "C-3", "quantity": 10},
        {"sku": "D-4", "quantity": 3},
    ]


@pytest.mark.parametrize("text", ["", "   \n", "A-1 x two", "A 1 2"])
def test_parse_lines_rejects_unreadable_input(text):
    with pytest.raises(ValueError):
        parse_lines(text)


def test_console_page_lists_every_platform_with_forms(console):
    console.post("/sandbox/momo/_console/shops", json={"name": "Console momo"})
    page = console.get("/sandbox/").get_data(as_text=True)
    for name in ("Shopee", "Shopify", "momo"):
        assert name in page
    assert "Console momo" in page
    assert 'action="/sandbox/_ui/momo/order"' in page  # a shop exists: the order form shows
    assert 'action="/sandbox/_ui/shopee/order"' not in page  # no Shopee shop yet


def test_faults_form_sets_and_clears_faults(console):
    response = console.post("/sandbox/_ui/shopee/faults", data={"error_rate": "0.2", "latency_ms": "5"})
    assert response.status_code == 302
    state = console.get("/sandbox/shopee/_console/state").get_json()
    assert state["faults"] == {"error_rate": 0.2, "latency_ms": 5}
    console.post("/sandbox/_ui/shopee/reset_faults")
    assert console.get("/sandbox/shopee/_console/state").get_json()["faults"] == {}


def test_bad_form_input_is_reported_not_crashing(console):
    response = console.post("/sandbox/_ui/shopee/faults", data={"error_rate": "lots"}, follow_redirects=True)
    assert response.status_code == 200
    assert "faults failed" in response.get_data(as_text=True)
    assert console.get("/sandbox/shopee/_console/state").get_json()["faults"] == {}


def test_unknown_platform_or_action_is_404(console):
    assert console.post("/sandbox/_ui/nowhere/order").status_code == 404
    assert console.post("/sandbox/_ui/shopee/explode").status_code == 404


@pytest.mark.parametrize("code", ["shopee", "shopify", "momo"])
def test_stock_forms_change_stock_and_the_ledger_shows_it(console, code):
    shop = console.post(f"/sandbox/{code}/_console/shops", json={"name": "Ledger shop"}).get_json()
    shop_id = str(shop.get("id") or shop.get("credentials", {}).get("entp_code"))
    assert (
        console.post(
            f"/sandbox/{code}/_console/products",
            json={"shop": shop_id, "sku": "TEA-1", "name": "Tea", "stock": 3},
        ).status_code
        == 200
    )
    page = console.get("/sandbox/").get_data(as_text=True)
    assert (
        f'action="/sandbox/_ui/{code}/stock"' in page and f'action="/sandbox/_ui/{code}/stock_lock"' in page
    )
    response = console.post(
        f"/sandbox/_ui/{code}/stock", data={"shop": shop_id, "sku": "TEA-1", "stock": "8"}
    )
    assert response.status_code == 302
    ledger = console.get(f"/sandbox/{code}/_console/state").get_json()["stock_ledger"]
    assert [(row["before"], row["after"], row["source"]) for row in ledger][-1] == (3, 8, "console")
    page = console.get("/sandbox/").get_data(as_text=True)
    assert f'id="{code}-ledger"' in page and "+5" in page
    response = console.post(
        f"/sandbox/_ui/{code}/stock",
        data={"shop": shop_id, "sku": "NOPE", "stock": "1"},
        follow_redirects=True,
    )
    assert "stock failed" in response.get_data(as_text=True)


@pytest.mark.parametrize("code", ["shopee", "shopify", "momo"])
def test_a_person_can_add_a_shop_on_every_platform(console, code):
    page = console.get("/sandbox/").get_data(as_text=True)
    assert f'action="/sandbox/_ui/{code}/shop"' in page  # offered even before any shop exists
    response = console.post(
        f"/sandbox/_ui/{code}/shop", data={"name": "Brand New Store"}, follow_redirects=True
    )
    page = response.get_data(as_text=True)
    assert "shop done" in page and "Brand New Store" in page
    assert console.get(f"/sandbox/{code}/_console/state").get_json()  # and the platform knows it


def test_a_shop_the_platform_would_refuse_is_refused_on_the_page(console):
    response = console.post("/sandbox/_ui/shopify/shop", data={"name": "Store", "domain": "not a domain"})
    page = console.get("/sandbox/").get_data(as_text=True)
    assert response.status_code == 302 and "shop failed" in page and "myshopify.com" in page
