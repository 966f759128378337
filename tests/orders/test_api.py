"""Orders and unknown products through the REST API: shapes, filters, mapping, errors, scoping."""

import json

import pytest

from ecbridge.integrations.models import ProductMapping, ShipmentReport, ShipmentReportAttempt
from ecbridge.orders.models import Hold, UnknownProduct
from ecbridge.tenancy.models import ApiToken
from tests.factories import ECAccountFactory, shipping_type
from tests.orders.factories import (
    OrderFactory,
    OrderLineFactory,
    ProductFactory,
    UnknownProductFactory,
    hold,
    unknown_line,
)

SECRET = "S3cret-pass!"  # the momo account's password (tests.factories)


def bearer(user):
    _token, raw = ApiToken.issue(user, "test")
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


@pytest.fixture
def account(merchant, channel):
    return ECAccountFactory(merchant=merchant, sales_channel=channel, display_name="Acme momo")


@pytest.fixture
def foreign_account(other_merchant, other_channel):
    return ECAccountFactory(merchant=other_merchant, sales_channel=other_channel, display_name="Beta momo")


@pytest.fixture
def h(merchant_user):
    return bearer(merchant_user)


def test_requires_authentication(client, account):
    for path in ("/api/v1/orders", "/api/v1/unknown-products"):
        assert client.get(path).status_code == 401
        assert client.get(path, HTTP_AUTHORIZATION="Bearer nope").status_code == 401


def test_list_orders_filters_and_pagination(client, h, account, foreign_account, merchant, channel):
    shopee = ECAccountFactory(merchant=merchant, sales_channel=channel, platform="shopee")
    a = OrderFactory(ec_account=account, order_number="A-1")
    b = OrderFactory(ec_account=account, order_number="B-2", status="shipped", tracking_number="T-9")
    c = OrderFactory(ec_account=shopee, order_number="C-3", needs_attention=True)
    hold(c)
    OrderFactory(ec_account=foreign_account, order_number="BETA-1")

    def numbers(query=""):
        response = client.get("/api/v1/orders" + query, **h)
        assert response.status_code == 200, response.content
        return [item["order_number"] for item in response.json()["items"]]

    assert numbers() == ["C-3", "B-2", "A-1"]  # newest first, only the merchant's own
    assert numbers(f"?ec_account={account.pk}&sort=order_number") == ["A-1", "B-2"]
    assert numbers(f"?ec_account={foreign_account.pk}") == []
    assert numbers("?status=shipped") == ["B-2"]
    assert numbers("?on_hold=true") == ["C-3"]
    assert numbers("?on_hold=false&sort=order_number") == ["A-1", "B-2"]
    assert numbers("?needs_attention=true") == ["C-3"]
    assert numbers("?platform=shopee") == ["C-3"]
    assert numbers("?q=T-9") == ["B-2"]
    data = client.get("/api/v1/orders?limit=2&offset=1&sort=order_number", **h).json()
    assert data["count"] == 3 and [i["order_number"] for i in data["items"]] == ["B-2", "C-3"]
    assert client.get("/api/v1/orders?sort=nope", **h).status_code == 400
    assert client.get("/api/v1/orders?status=lost", **h).status_code == 400
    assert client.get("/api/v1/orders?limit=0", **h).status_code == 422
    assert client.get("/api/v1/orders?on_hold=maybe", **h).status_code == 422
    assert client.get("/api/v1/orders?ec_account=abc", **h).status_code == 422
    assert a.pk and b.pk


def test_order_item_shape(client, h, account):
    order = OrderFactory(ec_account=account, order_number="A-1", shipping_type=shipping_type())
    OrderLineFactory(order=order)
    item = client.get("/api/v1/orders", **h).json()["items"][0]
    assert item["merchant"]["name"] == "Acme Foods" and item["ec_account"] == {
        "id": account.pk,
        "name": "Acme momo",
    }
    assert item["lines_count"] == 1 and item["status"] == "pending" and item["platform_state"] == "to_ship"
    assert item["shipping_type"]["name"] == shipping_type().name and item["on_hold"] is False


def test_order_detail_shape(client, h, account, merchant_user):
    product = ProductFactory(merchant=account.merchant, sku="TEA-01", name="Oolong")
    unknown = UnknownProductFactory(ec_account=account, identifier="[CUP] Cup")
    order = OrderFactory(
        ec_account=account,
        order_number="A-1",
        shipping_code="HOME",
        shipping_note="defaulted",
        tracking_number="T-1",
        carrier="T-Cat",
    )
    OrderLineFactory(order=order, sku="TEA-01", product=product, quantity=2)
    unknown_line(order, unknown)
    hold(order, Hold.Reason.ADDRESS, note="floor?", user=merchant_user)
    report = ShipmentReport.objects.create(
        order=order, ec_account=account, tracking_number="T-1", status="failed", attempts=2, last_error="500"
    )
    ShipmentReportAttempt.objects.create(report=report, outcome="retry", message="HTTP 503")

    data = client.get(f"/api/v1/orders/{order.pk}", **h).json()
    assert data["order_number"] == "A-1" and data["lines_count"] == 2
    matched, unmatched = data["lines"]
    assert matched["matched"] and matched["product"] == {"id": product.pk, "sku": "TEA-01", "name": "Oolong"}
    assert not unmatched["matched"] and unmatched["unknown_product"] == {
        "id": unknown.pk,
        "identifier": "[CUP] Cup",
    }
    by_reason = {x["reason"]: x for x in data["holds"]}
    assert by_reason["address"]["held_by"] == "acme" and by_reason["address"]["active"] is True
    assert by_reason["unknown_product"]["held_by"] is None
    assert data["shipping_code"] == "HOME"
    # the stored note is a flag; the API explains it in the reader's language
    assert data["shipping_note"].startswith("Platform shipping code “HOME” is not mapped")
    assert data["receiver"]["name"] == order.recipient_name and data["tracking_number"] == "T-1"
    (r,) = data["shipment_reports"]
    assert r["status"] == "failed" and r["attempts"] == 2 and r["last_error"] == "500"
    assert r["attempt_log"][0]["outcome"] == "retry" and r["attempt_log"][0]["message"] == "HTTP 503"
    assert SECRET not in json.dumps(data)


def test_unknown_products_list_and_detail(client, h, account, foreign_account):
    u = UnknownProductFactory(ec_account=account, platform_sku="AA-1", identifier="[AA-1] Apple")
    UnknownProductFactory(ec_account=account, platform_sku="BB-2", identifier="[BB-2] Banana")
    UnknownProductFactory(ec_account=foreign_account, platform_sku="AA-1")
    order = OrderFactory(ec_account=account, order_number="A-1", recipient_name="林小姐")
    unknown_line(order, u, quantity=4)

    data = client.get("/api/v1/unknown-products?sort=identifier", **h).json()
    assert data["count"] == 2
    apple = data["items"][0]
    assert apple["identifier"] == "[AA-1] Apple" and apple["sku"] == "AA-1"
    assert apple["pending_orders"] == 1 and apple["total_quantity"] == 4
    assert apple["ec_account"]["name"] == "Acme momo" and apple["platform"] == "momo"
    assert client.get("/api/v1/unknown-products?sku=aa-1", **h).json()["count"] == 1
    assert client.get("/api/v1/unknown-products?sku=aa-1&sku=BB-2", **h).json()["count"] == 2
    assert client.get("/api/v1/unknown-products?q=banana", **h).json()["count"] == 1
    assert client.get(f"/api/v1/unknown-products?ec_account={foreign_account.pk}", **h).json()["count"] == 0
    assert client.get("/api/v1/unknown-products?sort=zzz", **h).status_code == 400

    detail = client.get(f"/api/v1/unknown-products/{u.pk}", **h).json()
    assert detail["orders"] == [
        {
            "id": order.pk,
            "order_number": "A-1",
            "status": "pending",
            "on_hold": True,
            "receiver": "林小姐",
            "quantity": 4,
            "ordered_at": detail["orders"][0]["ordered_at"],
        }
    ]
    assert detail["preview"] == {"affected_orders": 1, "orders_to_release": 1, "orders_still_held": 0}


def test_map_unknown_product(client, h, account):
    product = ProductFactory(merchant=account.merchant)
    u = UnknownProductFactory(ec_account=account)
    other = UnknownProductFactory(ec_account=account)
    free = OrderFactory(ec_account=account)
    unknown_line(free, u)
    stuck = OrderFactory(ec_account=account)
    unknown_line(stuck, u)
    unknown_line(stuck, other)
    response = client.post(
        f"/api/v1/unknown-products/{u.pk}/map",
        data={"product_id": product.pk},
        content_type="application/json",
        **h,
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["lines_updated"] == 2 and body["holds_released"] == 1
    assert body["orders_released"] == 1 and body["orders_still_held"] == 1 and body["mapping_created"]
    assert ProductMapping.objects.get(pk=body["mapping_id"]).product == product
    assert not UnknownProduct.objects.filter(pk=u.pk).exists()
    again = client.post(
        f"/api/v1/unknown-products/{u.pk}/map",
        data={"product_id": product.pk},
        content_type="application/json",
        **h,
    )
    assert again.status_code == 404


def test_map_errors(client, operator, h, account, foreign_account):
    u = UnknownProductFactory(ec_account=account)
    order = OrderFactory(ec_account=account)
    unknown_line(order, u)
    foreign_product = ProductFactory(merchant=foreign_account.merchant)
    url = f"/api/v1/unknown-products/{u.pk}/map"

    def post(payload, headers=h, target=url):
        return client.post(target, data=payload, content_type="application/json", **headers)

    assert post({}).status_code == 422
    assert post({"product_id": "abc"}).status_code == 422
    assert post({"product_id": 0}).status_code == 422
    assert client.post(url, data="{not json", content_type="application/json", **h).status_code in (400, 422)
    assert post({"product_id": 999999}).status_code == 400
    # a product the merchant user cannot see: just "no such product" (does not leak)
    assert post({"product_id": foreign_product.pk}).json()["detail"] == "product_id: no such product."
    # an operator who sees both merchants gets the clear cross-merchant message
    response = post({"product_id": foreign_product.pk}, headers=bearer(operator))
    assert response.status_code == 400 and "another merchant" in response.json()["detail"]
    assert UnknownProduct.objects.filter(pk=u.pk).exists() and not ProductMapping.objects.exists()
    order.refresh_from_db()
    assert order.on_hold


@pytest.mark.parametrize(
    "method,path",
    [
        ("get", "/api/v1/orders/{order}"),
        ("get", "/api/v1/unknown-products/{unknown}"),
        ("post", "/api/v1/unknown-products/{unknown}/map"),
    ],
)
def test_foreign_ids_are_404(client, h, account, foreign_account, method, path):
    order = OrderFactory(ec_account=foreign_account)
    unknown = UnknownProductFactory(ec_account=foreign_account)
    product = ProductFactory(merchant=account.merchant)
    kwargs = (
        {"data": {"product_id": product.pk}, "content_type": "application/json"} if method == "post" else {}
    )
    response = getattr(client, method)(path.format(order=order.pk, unknown=unknown.pk), **kwargs, **h)
    assert response.status_code == 404
    assert UnknownProduct.objects.filter(pk=unknown.pk).exists()
