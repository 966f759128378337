"""EC accounts through the REST API: the same rules and scoping as the pages."""

import json

import pytest

from ecbridge.integrations.models import ECAccount
from ecbridge.tenancy.models import ApiToken
from tests.factories import ECAccountFactory, shipping_type

SECRET = "S3cret-pass!"


def bearer(user):
    _token, raw = ApiToken.issue(user, "test")
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


@pytest.fixture
def acct(merchant, channel):
    return ECAccountFactory(merchant=merchant, sales_channel=channel, display_name="Acme momo")


@pytest.fixture
def foreign(other_merchant, other_channel):
    return ECAccountFactory(merchant=other_merchant, sales_channel=other_channel, display_name="Beta momo")


def test_requires_authentication(client, acct):
    assert client.get("/api/v1/ec-accounts").status_code == 401
    assert client.get("/api/v1/ec-accounts", HTTP_AUTHORIZATION="Bearer nope").status_code == 401


def test_list_is_scoped_and_masked(client, merchant_user, acct, foreign):
    data = client.get("/api/v1/ec-accounts", **bearer(merchant_user)).json()
    assert data["count"] == 1 and data["items"][0]["display_name"] == "Acme momo"
    item = data["items"][0]
    assert item["credentials"]["entp_pwd"] == "********" and item["credentials"]["entp_id"] == "12345678"
    body = json.dumps(data)
    assert SECRET not in body and "789" not in body


def test_list_filters_and_bad_sort(client, operator, acct, foreign):
    h = bearer(operator)
    assert client.get("/api/v1/ec-accounts?status=connected", **h).json()["count"] == 2
    assert client.get(f"/api/v1/ec-accounts?merchant={acct.merchant_id}", **h).json()["count"] == 1
    assert client.get("/api/v1/ec-accounts?q=beta", **h).json()["items"][0]["display_name"] == "Beta momo"
    assert client.get("/api/v1/ec-accounts?sort=nope", **h).status_code == 400


@pytest.mark.parametrize(
    "method,suffix",
    [("get", ""), ("patch", ""), ("delete", ""), ("post", "/test-connection"), ("get", "/authorize-url")],
)
def test_foreign_account_is_404(client, merchant_user, foreign, method, suffix):
    kwargs = {"data": "{}", "content_type": "application/json"} if method in ("patch", "post") else {}
    response = getattr(client, method)(
        f"/api/v1/ec-accounts/{foreign.pk}{suffix}", **kwargs, **bearer(merchant_user)
    )
    assert response.status_code == 404
    assert ECAccount.objects.filter(pk=foreign.pk, display_name="Beta momo").exists()


def test_create_validates_and_writes_nothing_on_error(client, merchant_user, channel, other_channel):
    h = bearer(merchant_user)
    base = {
        "platform": "momo",
        "display_name": "New",
        "sales_channel": channel.pk,
        "credentials": {
            "entp_id": "12345678",
            "entp_code": "123456",
            "entp_pwd": "Password-1",
            "otp_back_no": "123",
        },
    }
    for bad in (
        {"platform": "coupang"},
        {"sales_channel": other_channel.pk},
        {"credentials": {**base["credentials"], "entp_id": "x"}},
        {"credentials": {**base["credentials"], "surprise": "1"}},
    ):
        response = client.post(
            "/api/v1/ec-accounts", data={**base, **bad}, content_type="application/json", **h
        )
        assert response.status_code == 400, bad
        assert "detail" in response.json()
    assert not ECAccount.objects.exists()
    response = client.post("/api/v1/ec-accounts", data=base, content_type="application/json", **h)
    assert response.status_code == 201
    data = response.json()
    assert data["status"] == "not_verified" and data["credentials"]["entp_pwd"] == "********"
    assert "Password-1" not in response.content.decode()


def test_operator_must_name_merchant(client, operator, channel):
    response = client.post(
        "/api/v1/ec-accounts",
        content_type="application/json",
        **bearer(operator),
        data={"platform": "momo", "display_name": "X", "sales_channel": channel.pk},
    )
    assert response.status_code == 400 and "merchant" in response.json()["detail"]


def test_patch_settings_only_when_connected(client, merchant_user, acct):
    h = bearer(merchant_user)
    patch = {
        "settings": {
            "fetch_orders_enabled": True,
            "fetch_times": ["09:00", "18:00"],
            "inbound_push_enabled": True,
            "push_percentage": 100,
        },
        "shipping_mappings": [{"platform_code": "宅配通", "shipping_type": shipping_type("pelican_home").pk}],
    }
    response = client.patch(
        f"/api/v1/ec-accounts/{acct.pk}", data=patch, content_type="application/json", **h
    )
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["fetch_times"] == ["09:00", "18:00"] and data["next_fetch_at"]
    assert data["notices"] and "100%" in data["notices"][0]
    assert data["shipping_mappings"][0]["platform_code"] == "宅配通"

    ECAccount.objects.filter(pk=acct.pk).update(status="disconnected")
    response = client.patch(
        f"/api/v1/ec-accounts/{acct.pk}",
        data={"settings": {"push_percentage": 5}},
        content_type="application/json",
        **h,
    )
    assert response.status_code == 409
    acct.refresh_from_db()
    assert acct.push_percentage == 100


def test_patch_bad_values(client, merchant_user, acct):
    h = bearer(merchant_user)
    for bad in (
        {"settings": {"push_percentage": 101}},
        {"settings": {"fetch_times": ["25:99"]}},
        {"settings": {"fetch_times": ["01:00", "02:00", "03:00", "04:00", "05:00", "06:00"]}},
        {"shipping_mappings": [{"platform_code": "nope", "shipping_type": shipping_type().pk}]},
    ):
        response = client.patch(
            f"/api/v1/ec-accounts/{acct.pk}", data=bad, content_type="application/json", **h
        )
        assert response.status_code in (400, 422), (bad, response.content)
    acct.refresh_from_db()
    assert acct.push_percentage == 0 and acct.fetch_times == []


def test_patch_new_credential_resets_status(client, merchant_user, acct):
    response = client.patch(
        f"/api/v1/ec-accounts/{acct.pk}",
        data={"credentials": {"entp_pwd": "Another-1"}},
        content_type="application/json",
        **bearer(merchant_user),
    )
    assert response.json()["status"] == "not_verified"
    acct.refresh_from_db()
    assert acct.credentials["entp_pwd"] == "Another-1" and acct.credentials["otp_back_no"] == "789"
    response = client.patch(
        f"/api/v1/ec-accounts/{acct.pk}",
        data={"credentials": {"entp_pwd": "********"}},
        content_type="application/json",
        **bearer(merchant_user),
    )
    acct.refresh_from_db()
    assert acct.credentials["entp_pwd"] == "Another-1"


def test_delete(client, merchant_user, acct):
    assert client.delete(f"/api/v1/ec-accounts/{acct.pk}", **bearer(merchant_user)).status_code == 204
    assert not ECAccount.objects.exists()


def test_platforms_endpoint(client, merchant_user):
    data = client.get("/api/v1/platforms", **bearer(merchant_user)).json()
    codes = {p["code"]: p for p in data}
    assert len(codes) == 18
    assert codes["momo"]["implemented"] and codes["momo"]["auth"] == "credentials"
    assert "ip_allowlist" in codes["momo"]["capabilities"]
    assert [f["name"] for f in codes["momo"]["credential_fields"] if f["secret"]] == [
        "entp_pwd",
        "otp_back_no",
    ]
    assert codes["shopee"]["auth"] == "oauth" and not codes["coupang"]["implemented"]


def test_openapi_document(client):
    data = client.get("/api/v1/openapi.json").json()
    assert "/api/v1/ec-accounts/{account_id}/test-connection" in data["paths"]
