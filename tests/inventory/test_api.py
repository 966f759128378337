"""Products and inbound receipts through the REST API: shapes, stock totals, validation (422),
put-away once (409 the second time), and scoping (a foreign id is a 404)."""

import json

import pytest

from ecbridge.inventory.models import InboundReceipt, InboundReceiptLine, Product, StockLevel, StockMovement
from ecbridge.inventory.services import receipts, stock
from ecbridge.tenancy.models import ApiToken
from tests.factories import ECAccountFactory, inventory_type
from tests.orders.factories import OrderFactory, OrderLineFactory, ProductFactory


def bearer(user):
    _token, raw = ApiToken.issue(user, "test")
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


@pytest.fixture
def good(db):
    return inventory_type("good")


@pytest.fixture
def h(merchant_user):
    return bearer(merchant_user)


@pytest.fixture
def tea(merchant, good):
    product = ProductFactory(merchant=merchant, sku="TEA-01", name="Oolong tea", barcode="4710001")
    stock.add_stock(product, good, 10, reason=StockMovement.Reason.ADJUSTMENT)
    stock.add_stock(product, inventory_type("damaged"), 4, reason=StockMovement.Reason.ADJUSTMENT)
    return product


@pytest.fixture
def beta(other_merchant):
    return ProductFactory(merchant=other_merchant, sku="BETA-01")


def post(client, path, body, h):
    return client.post(path, data=json.dumps(body), content_type="application/json", **h)


def test_requires_authentication(client, db):
    for path in ("/api/v1/products", "/api/v1/inbound-receipts"):
        assert client.get(path).status_code == 401
        assert client.get(path, HTTP_AUTHORIZATION="Bearer nope").status_code == 401


def test_list_products_with_stock_and_scoping(client, h, merchant, channel, tea, beta):
    ProductFactory(merchant=merchant, sku="CUP-01", name="Cup")
    order = OrderFactory(ec_account=ECAccountFactory(merchant=merchant, sales_channel=channel))
    OrderLineFactory(order=order, product=tea, quantity=3)
    stock.recompute_reserved([tea])
    response = client.get("/api/v1/products", **h)
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2 and [p["sku"] for p in body["items"]] == ["CUP-01", "TEA-01"]
    item = body["items"][1]
    assert (item["on_hand"], item["reserved"], item["sellable"]) == (14, 3, 7)  # damaged is not sellable
    levels = {lv["inventory_type"]: lv for lv in item["levels"]}
    assert levels["good"] == {
        "inventory_type": "good",
        "inventory_type_name": "Good stock",
        "sellable_type": True,
        "on_hand": 10,
        "reserved": 3,
        "sellable": 7,
    }
    assert levels["damaged"]["sellable_type"] is False
    assert item["merchant"] == {"id": merchant.pk, "name": "Acme Foods"}

    def skus(query):
        return [p["sku"] for p in client.get("/api/v1/products" + query, **h).json()["items"]]

    assert skus("?q=oolong") == ["TEA-01"] and skus("?q=4710001") == ["TEA-01"]
    assert skus("?sort=-sellable") == ["TEA-01", "CUP-01"]
    assert skus("?limit=1&offset=1") == ["TEA-01"]
    assert client.get("/api/v1/products?sort=nope", **h).status_code == 400
    assert client.get("/api/v1/products?limit=0", **h).status_code == 422


def test_get_product_and_foreign_is_404(client, h, tea, beta):
    response = client.get(f"/api/v1/products/{tea.pk}", **h)
    assert response.status_code == 200 and response.json()["sku"] == "TEA-01"
    response = client.get(f"/api/v1/products/{beta.pk}", **h)
    assert response.status_code == 404 and response.json() == {"detail": "Not found."}


def test_create_product(client, h, merchant, tea, other_merchant):
    response = post(client, "/api/v1/products", {"sku": "NEW-1", "name": "New", "barcode": "47"}, h)
    assert response.status_code == 201, response.content
    assert response.json()["sku"] == "NEW-1" and response.json()["on_hand"] == 0
    assert Product.objects.get(sku="NEW-1").merchant == merchant
    response = post(client, "/api/v1/products", {"sku": "TEA-01", "name": "Dup"}, h)
    assert response.status_code == 422
    assert "already has a product with the SKU “TEA-01”" in response.json()["detail"]
    assert response.json()["errors"][0]["loc"] == ["body", "payload", "sku"]
    # another merchant's id is a 404, never a way in
    response = post(client, "/api/v1/products", {"merchant": other_merchant.pk, "sku": "X", "name": "X"}, h)
    assert response.status_code == 404 and not Product.objects.filter(sku="X").exists()
    assert post(client, "/api/v1/products", {"sku": "", "name": "X"}, h).status_code == 422


def test_operator_must_choose_the_merchant(client, operator, other_merchant):
    hh = bearer(operator)
    response = post(client, "/api/v1/products", {"sku": "X", "name": "X"}, hh)
    assert response.status_code == 422 and "Choose the merchant" in response.json()["detail"]
    response = post(client, "/api/v1/products", {"merchant": other_merchant.pk, "sku": "X", "name": "X"}, hh)
    assert response.status_code == 201 and response.json()["merchant"]["id"] == other_merchant.pk


# --- inbound receipts -----------------------------------------------------------------------------
def test_create_receipt_and_complete_putaway_once(client, h, merchant_user, tea, good):
    body = {
        "reference": "IN-API-1",
        "note": "truck 2",
        "lines": [
            {"sku": "TEA-01", "quantity": 6},
            {"sku": "TEA-01", "quantity": 2, "inventory_type": "near_expiry"},
        ],
    }
    response = post(client, "/api/v1/inbound-receipts", body, h)
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["status"] == "receiving" and created["lines_count"] == 2
    assert [(li["sku"], li["inventory_type"], li["quantity"]) for li in created["lines"]] == [
        ("TEA-01", "good", 6),
        ("TEA-01", "near_expiry", 2),
    ]
    assert created["created_by"] == merchant_user.username and created["stock_runs"] == []

    path = f"/api/v1/inbound-receipts/{created['id']}/complete-putaway"
    response = client.post(path, **h)
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "completed" and response.json()["completed_at"]
    assert StockLevel.objects.get(product=tea, inventory_type=good).on_hand == 16

    response = client.post(path, **h)
    assert response.status_code == 409
    assert (
        "already put away" in response.json()["detail"] and "nothing was changed" in response.json()["detail"]
    )
    assert StockLevel.objects.get(product=tea, inventory_type=good).on_hand == 16
    assert StockMovement.objects.filter(reason=StockMovement.Reason.PUTAWAY).count() == 2


@pytest.mark.parametrize(
    "body, text",
    [
        ({"reference": "R", "lines": []}, "at least one line"),
        ({"reference": "R", "lines": [{"sku": "NOPE-1", "quantity": 1}]}, "unknown SKU “NOPE-1”"),
        ({"reference": "R", "lines": [{"sku": "BETA-01", "quantity": 1}]}, "unknown SKU “BETA-01”"),
        ({"reference": "R", "lines": [{"sku": "TEA-01", "quantity": 0}]}, "lines[0]: the quantity"),
        (
            {"reference": "R", "lines": [{"sku": "TEA-01", "quantity": 1, "inventory_type": "frozen"}]},
            "frozen",
        ),
        ({"reference": "", "lines": [{"sku": "TEA-01", "quantity": 1}]}, "Enter the receipt reference"),
        ({"reference": "IN-DUP", "lines": [{"sku": "TEA-01", "quantity": 1}]}, "already has a receipt"),
    ],
)
def test_create_receipt_validation_is_422_and_writes_nothing(
    client, h, merchant, tea, beta, good, body, text
):
    receipts.create_receipt(merchant, "IN-DUP", [(tea, good, 1)])
    response = post(client, "/api/v1/inbound-receipts", body, h)
    assert response.status_code == 422, response.content
    assert text in response.json()["detail"]
    assert InboundReceipt.objects.count() == 1 and InboundReceiptLine.objects.count() == 1


def test_receipts_list_get_and_scoping(client, h, merchant, other_merchant, tea, beta, good):
    mine = receipts.create_receipt(merchant, "IN-1", [(tea, good, 1)])
    receipts.create_receipt(merchant, "IN-2", [(tea, good, 1)])
    foreign = receipts.create_receipt(other_merchant, "IN-B", [(beta, good, 1)])
    receipts.complete_putaway(mine)
    body = client.get("/api/v1/inbound-receipts", **h).json()
    assert body["count"] == 2 and {r["reference"] for r in body["items"]} == {"IN-1", "IN-2"}
    body = client.get("/api/v1/inbound-receipts?status=completed", **h).json()
    assert [r["reference"] for r in body["items"]] == ["IN-1"]
    assert client.get("/api/v1/inbound-receipts?status=bogus", **h).status_code == 400
    assert client.get(f"/api/v1/inbound-receipts/{mine.pk}", **h).json()["reference"] == "IN-1"
    assert client.get(f"/api/v1/inbound-receipts/{foreign.pk}", **h).status_code == 404
    response = client.post(f"/api/v1/inbound-receipts/{foreign.pk}/complete-putaway", **h)
    assert response.status_code == 404
    foreign.refresh_from_db()
    assert foreign.status == InboundReceipt.Status.RECEIVING


def test_single_operator_sees_only_their_merchant(
    client, single_operator, merchant, other_merchant, tea, beta, good
):
    hh = bearer(single_operator)
    foreign = receipts.create_receipt(other_merchant, "IN-B", [(beta, good, 1)])
    assert [p["sku"] for p in client.get("/api/v1/products", **hh).json()["items"]] == ["TEA-01"]
    assert client.get(f"/api/v1/products/{beta.pk}", **hh).status_code == 404
    assert client.get(f"/api/v1/inbound-receipts/{foreign.pk}", **hh).status_code == 404
    body = {"merchant": other_merchant.pk, "reference": "X", "lines": [{"sku": "BETA-01", "quantity": 1}]}
    assert post(client, "/api/v1/inbound-receipts", body, hh).status_code == 404
