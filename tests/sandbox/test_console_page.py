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
