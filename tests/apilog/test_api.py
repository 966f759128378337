"""GET /api/v1/api-logs and /api/v1/api-logs/{id}: the same scoping and filters as the page."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.test import Client

from ecbridge.apilog.services import record_call
from ecbridge.tenancy.models import ApiToken

pytestmark = pytest.mark.django_db

URL = "/api/v1/api-logs"
TAIPEI = ZoneInfo("Asia/Taipei")


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["items"]]


@pytest.fixture
def calls(account, other_account, make_call):
    return {
        "mine_ok": make_call(account, duration_ms=50),
        "mine_fail": make_call(
            account, outcome="failure", status_code=None, error="timeout", duration_ms=20000
        ),
        "theirs": make_call(
            other_account, direction="inbound", method="POST", operation="webhook.orders_create"
        ),
        "app": make_call(None, platform="shopee", operation="app.ping"),
    }


def test_anonymous_is_401(client, calls):
    assert client.get(URL).status_code == 401
    assert client.get(f"{URL}/{calls['mine_ok'].pk}").status_code == 401


def test_merchant_user_scope(merchant_client, calls):
    response = merchant_client.get(URL)
    assert sorted(ids(response)) == sorted([calls["mine_ok"].pk, calls["mine_fail"].pk])
    assert response.json()["count"] == 2
    item = next(i for i in response.json()["items"] if i["id"] == calls["mine_fail"].pk)
    assert item["status_code"] is None
    assert item["outcome"] == "failure"
    assert item["ec_account"] == "Acme Shopee TW"
    assert item["merchant"] == "Acme Foods"
    assert "request_body" not in item  # bodies only on the detail


def test_other_merchant_user_scope(other_merchant_client, calls):
    assert ids(other_merchant_client.get(URL)) == [calls["theirs"].pk]


def test_operator_and_admin_scope(operator_client, admin_user, calls):
    assert sorted(ids(operator_client.get(URL))) == sorted(
        [calls["mine_ok"].pk, calls["mine_fail"].pk, calls["theirs"].pk]
    )
    admin = Client()
    admin.force_login(admin_user)
    assert len(ids(admin.get(URL))) == 4


def test_token_auth_is_scoped(merchant_user, calls):
    _token, raw = ApiToken.issue(merchant_user, "ci")
    response = Client().get(URL, HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert sorted(ids(response)) == sorted([calls["mine_ok"].pk, calls["mine_fail"].pk])
    other = Client().get(f"{URL}/{calls['theirs'].pk}", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert other.status_code == 404


def test_filters(operator_client, account, other_account, calls):
    assert ids(operator_client.get(URL, {"outcome": "failure"})) == [calls["mine_fail"].pk]
    assert ids(operator_client.get(URL, {"direction": "inbound"})) == [calls["theirs"].pk]
    assert ids(operator_client.get(URL, {"platform": "shopify"})) == [calls["theirs"].pk]
    assert ids(operator_client.get(URL, {"ec_account": other_account.pk})) == [calls["theirs"].pk]
    both = ids(operator_client.get(f"{URL}?ec_account={account.pk}&ec_account={other_account.pk}"))
    assert len(both) == 3
    assert ids(operator_client.get(URL, {"merchant": other_account.merchant_id})) == [calls["theirs"].pk]


def test_foreign_ec_account_filter_returns_nothing(merchant_client, other_account, calls):
    response = merchant_client.get(URL, {"ec_account": other_account.pk})
    assert ids(response) == []


def test_date_filters_in_taipei(merchant_client, account, make_call):
    before = make_call(account, at=datetime(2025, 3, 9, 23, 59, 59, tzinfo=TAIPEI))
    inside = make_call(account, at=datetime(2025, 3, 10, 0, 0, tzinfo=TAIPEI))
    after = make_call(account, at=datetime(2025, 3, 11, 0, 0, tzinfo=TAIPEI))
    assert ids(merchant_client.get(URL, {"date_from": "2025-03-10", "date_to": "2025-03-10"})) == [inside.pk]
    assert ids(merchant_client.get(URL, {"date_to": "2025-03-09"})) == [before.pk]
    assert ids(merchant_client.get(URL, {"date_from": "2025-03-11"})) == [after.pk]


@pytest.mark.parametrize(
    "params",
    [
        {"date_from": "2025-03-11", "date_to": "2025-03-10"},
        {"date_from": "yesterday"},
        {"outcome": "maybe"},
        {"direction": "sideways"},
        {"ec_account": "abc"},
        {"sort": "endpoint"},
        {"page": 0},
    ],
)
def test_bad_input_is_422(merchant_client, calls, params):
    response = merchant_client.get(URL, params)
    assert response.status_code == 422
    assert response.json()["detail"] == "Invalid input."


def test_sort_and_paging(merchant_client, account, make_call):
    made = [make_call(account, duration_ms=d) for d in (300, 100, 200)]
    assert ids(merchant_client.get(URL, {"sort": "duration"})) == [made[1].pk, made[2].pk, made[0].pk]
    assert ids(merchant_client.get(URL, {"sort": "-duration"})) == [made[0].pk, made[2].pk, made[1].pk]
    page1 = merchant_client.get(URL, {"page_size": 2, "sort": "time"}).json()
    page2 = merchant_client.get(URL, {"page_size": 2, "page": 2, "sort": "time"}).json()
    assert page1["count"] == page2["count"] == 3
    assert [i["id"] for i in page1["items"] + page2["items"]] == [c.pk for c in made]


def test_detail_with_bodies(merchant_client, account):
    call = record_call(
        ctx=account.context(),
        direction="outbound",
        operation="orders.detail",
        method="POST",
        url="https://partner.shopeemobile.com/api/v2/x?access_token=shopee-access-TOKEN-0001&shop_id=77001",
        status_code=200,
        duration_ms=12,
        request_headers={"Authorization": "Bearer shopee-access-TOKEN-0001"},
        request_body=b'{"order_sn_list": ["240501ABC"]}',
        response_body=b'{"response": {"order_list": []}, "refresh_token": "shopee-refresh-TOKEN-0002"}',
    )
    response = merchant_client.get(f"{URL}/{call.pk}")
    assert response.status_code == 200
    data = response.json()
    assert data["request_body"] == '{"order_sn_list": ["240501ABC"]}'
    assert '"order_list": []' in data["response_body"]
    assert data["request_headers"] == "Authorization: ********"
    assert "shop_id=77001" in data["endpoint"]
    text = response.content.decode()
    for secret in ("shopee-access-TOKEN-0001", "shopee-refresh-TOKEN-0002"):
        assert secret not in text


def test_detail_foreign_or_missing_is_404(merchant_client, operator_client, calls):
    assert merchant_client.get(f"{URL}/{calls['theirs'].pk}").status_code == 404
    assert merchant_client.get(f"{URL}/{calls['app'].pk}").status_code == 404
    assert operator_client.get(f"{URL}/{calls['app'].pk}").status_code == 404
    assert merchant_client.get(f"{URL}/999999").status_code == 404
    assert operator_client.get(f"{URL}/{calls['theirs'].pk}").status_code == 200


def test_deleted_account_label_in_api(merchant_client, account, make_call):
    call = make_call(account)
    account.delete()
    item = merchant_client.get(f"{URL}/{call.pk}").json()
    assert item["ec_account_id"] is None
    assert item["ec_account"] == "Acme Shopee TW"


def test_openapi_documents_the_routes(admin_user):
    client = Client()
    client.force_login(admin_user)
    schema = client.get("/api/v1/openapi.json").json()
    assert "/api/v1/api-logs" in schema["paths"]
    assert "/api/v1/api-logs/{call_id}" in schema["paths"]
