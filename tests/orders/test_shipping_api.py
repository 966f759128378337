"""POST /api/v1/orders/{id}/ship, shipment reports and retry: rules, scoping, errors."""

import json

import pytest

from ecbridge.integrations.models import ShipmentReport
from ecbridge.integrations.services import shipment_report
from ecbridge.orders.models import Hold, Order
from ecbridge.orders.services.holds import place_hold
from ecbridge.tenancy.models import ApiToken
from tests.orders.shipping_helpers import make_account, make_order

pytestmark = pytest.mark.django_db


def bearer(user):
    _token, raw = ApiToken.issue(user, "test")
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


@pytest.fixture
def enqueued(monkeypatch):
    ids = []
    monkeypatch.setattr(shipment_report, "enqueue", ids.append)
    return ids


@pytest.fixture
def order(merchant):
    return make_order(make_account(merchant, platform="momo"))


def ship(client, user, order_id, body):
    return client.post(
        f"/api/v1/orders/{order_id}/ship",
        data=json.dumps(body) if not isinstance(body, str) else body,
        content_type="application/json",
        **bearer(user),
    )


def test_ship_answers_202_with_the_report(
    client, merchant_user, order, enqueued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = ship(client, merchant_user, order.pk, {"carrier": "T-Cat", "tracking_number": "900100"})
    assert response.status_code == 202, response.content
    data = response.json()
    report = ShipmentReport.objects.get(order=order)
    assert data["order_status"] == "shipped" and data["tracking_number"] == "900100"
    assert data["report"]["id"] == report.pk and data["report"]["status"] == "pending"
    assert enqueued == [report.pk]
    order.refresh_from_db()
    assert order.status == Order.Status.SHIPPED and order.carrier == "T-Cat"


@pytest.mark.parametrize(
    ("setup", "body", "detail"),
    [
        ("hold", {"carrier": "T-Cat", "tracking_number": "1"}, "on hold"),
        ("cancelled", {"carrier": "T-Cat", "tracking_number": "1"}, "cancelled"),
        ("shipped", {"carrier": "T-Cat", "tracking_number": "2"}, "already shipped"),
        (None, {"carrier": "T-Cat", "tracking_number": ""}, "tracking number"),
        (None, {"carrier": "T-Cat"}, "tracking number"),
        (None, {"carrier": "", "tracking_number": "1"}, "carrier"),
        (None, {"carrier": "T-Cat", "tracking_number": "9" * 200}, "at most"),
    ],
)
def test_refusals_are_400_with_a_clear_detail_and_write_nothing(
    client, merchant_user, order, enqueued, setup, body, detail
):
    if setup == "hold":
        place_hold(order, Hold.Reason.UNKNOWN_PRODUCT)
    elif setup == "cancelled":
        Order.objects.filter(pk=order.pk).update(status=Order.Status.CANCELLED)
    elif setup == "shipped":
        assert (
            ship(client, merchant_user, order.pk, {"carrier": "T-Cat", "tracking_number": "1"}).status_code
            == 202
        )
    before = Order.objects.values().get(pk=order.pk)
    reports = ShipmentReport.objects.count()
    response = ship(client, merchant_user, order.pk, body)
    assert response.status_code == 400, response.content
    assert detail in response.json()["detail"]
    assert Order.objects.values().get(pk=order.pk) == before
    assert ShipmentReport.objects.count() == reports


def test_malformed_body_is_rejected(client, merchant_user, order, enqueued):
    response = ship(client, merchant_user, order.pk, "{not json")
    assert response.status_code in (400, 422)
    response = ship(client, merchant_user, order.pk, {"carrier": ["T"], "tracking_number": {"x": 1}})
    assert response.status_code in (400, 422)
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING
    assert not ShipmentReport.objects.exists()


def test_foreign_order_is_404_and_untouched(client, other_merchant_user, order, enqueued):
    response = ship(client, other_merchant_user, order.pk, {"carrier": "T-Cat", "tracking_number": "1"})
    assert response.status_code == 404
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING
    assert (
        client.get(f"/api/v1/orders/{order.pk}/shipment-reports", **bearer(other_merchant_user)).status_code
        == 404
    )


def test_unknown_order_is_404(client, merchant_user, enqueued):
    assert ship(client, merchant_user, 424242, {"carrier": "T", "tracking_number": "1"}).status_code == 404


def test_requires_authentication(client, order):
    response = client.post(
        f"/api/v1/orders/{order.pk}/ship",
        data=json.dumps({"carrier": "T", "tracking_number": "1"}),
        content_type="application/json",
    )
    assert response.status_code == 401
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING


def test_operator_of_both_merchants_may_ship(client, operator, order, enqueued):
    assert ship(client, operator, order.pk, {"carrier": "T-Cat", "tracking_number": "1"}).status_code == 202


def test_list_and_retry_reports(client, merchant_user, order, enqueued, django_capture_on_commit_callbacks):
    ship(client, merchant_user, order.pk, {"carrier": "T-Cat", "tracking_number": "1"})
    report = ShipmentReport.objects.get(order=order)
    listed = client.get(f"/api/v1/orders/{order.pk}/shipment-reports", **bearer(merchant_user)).json()
    assert [r["id"] for r in listed] == [report.pk]

    url = f"/api/v1/orders/{order.pk}/shipment-reports/{report.pk}/retry"
    assert client.post(url, **bearer(merchant_user)).status_code == 400  # not failed
    ShipmentReport.objects.filter(pk=report.pk).update(status=ShipmentReport.Status.FAILED)
    enqueued.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, **bearer(merchant_user))
    assert response.status_code == 202
    assert response.json()["status"] == "pending"
    assert enqueued == [report.pk]


def test_retry_foreign_report_is_404(
    client, merchant_user, other_merchant_user, order, other_merchant, enqueued
):
    report = ShipmentReport.objects.create(
        order=order, ec_account=order.ec_account, status=ShipmentReport.Status.FAILED
    )
    url = f"/api/v1/orders/{order.pk}/shipment-reports/{report.pk}/retry"
    assert client.post(url, **bearer(other_merchant_user)).status_code == 404
    foreign_order = make_order(make_account(other_merchant))
    url = f"/api/v1/orders/{foreign_order.pk}/shipment-reports/{report.pk}/retry"
    assert client.post(url, **bearer(other_merchant_user)).status_code == 404
    report.refresh_from_db()
    assert report.status == ShipmentReport.Status.FAILED
    assert enqueued == []
