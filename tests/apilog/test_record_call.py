"""record_call through the real HTTP layer: PlatformHttp.send against an httpx.MockTransport."""

import json

import httpx
import pytest
from django.test import override_settings

from ecbridge.apilog.models import ApiCall
from ecbridge.apilog.services import record_call
from ecbridge.platforms import http as platform_http
from ecbridge.platforms.base import AccountContext
from ecbridge.platforms.errors import AuthError, PlatformError, RateLimited, TransientError
from ecbridge.platforms.http import PlatformHttp

pytestmark = pytest.mark.django_db

ACCESS_TOKEN = "shopee-access-TOKEN-0001"
PARTNER_KEY = "sandbox-shopee-key"  # settings.PLATFORMS["shopee"]["partner_key"]


def parse_json(response: httpx.Response):
    if response.status_code == 429:
        raise RateLimited("throttled", retry_after=1, status=429)
    if response.status_code >= 500:
        raise TransientError(f"HTTP {response.status_code}", status=response.status_code)
    data = response.json()
    if data.get("error") == "error_auth":
        raise AuthError(data.get("message", ""), code="error_auth", status=response.status_code)
    if data.get("error"):
        raise PlatformError(data.get("message", ""), code=data["error"], status=response.status_code)
    return data


@pytest.fixture
def transport():
    """A tiny platform: the handler is swapped per test."""
    state = {"handler": None, "seen": []}

    def dispatch(request: httpx.Request):
        state["seen"].append(request)
        return state["handler"](request)

    with platform_http.use_transport(httpx.MockTransport(dispatch)):
        yield state


def shopee_url(path="/api/v2/order/get_order_list"):
    return (
        f"https://partner.shopeemobile.com{path}?partner_id=2001887&timestamp=1700000000"
        f"&access_token={ACCESS_TOKEN}&shop_id=77001&sign=c0ffee00deadbeef1234567890abcdef"
    )


def send(account, **kw):
    http = PlatformHttp(account.context())
    return http.send("POST", shopee_url(), operation="orders.list", parse=parse_json, **kw)


def rows():
    return list(ApiCall.objects.order_by("pk"))


def assert_clean(call: ApiCall):
    text = " ".join([call.endpoint, call.request_headers, call.request_body, call.response_body, call.error])
    for secret in (
        ACCESS_TOKEN,
        PARTNER_KEY,
        "shopee-refresh-TOKEN-0002",
        "c0ffee00deadbeef1234567890abcdef",
    ):
        assert secret not in text


def test_success_writes_one_redacted_row(account, transport):
    transport["handler"] = lambda r: httpx.Response(
        200,
        json={
            "error": "",
            "request_id": "r-1",
            "response": {"order_list": [{"order_sn": "240501ABCDEF"}]},
            "echo_token": ACCESS_TOKEN,
        },
    )
    result = send(
        account, json={"partner_key": PARTNER_KEY, "page_size": 50, "order_status": "READY_TO_SHIP"}
    )
    assert result["response"]["order_list"][0]["order_sn"] == "240501ABCDEF"
    [call] = rows()
    assert call.outcome == ApiCall.Outcome.SUCCESS
    assert call.status_code == 200
    assert call.error == ""
    assert call.attempt == 1
    assert call.method == "POST"
    assert call.direction == ApiCall.Direction.OUTBOUND
    assert call.operation == "orders.list"
    assert (call.ec_account_id, call.merchant_id, call.account_label, call.platform) == (
        account.pk,
        account.merchant_id,
        "Acme Shopee TW",
        "shopee",
    )
    assert_clean(call)
    assert "shop_id=77001" in call.endpoint
    assert json.loads(call.request_body)["page_size"] == 50
    assert json.loads(call.request_body)["order_status"] == "READY_TO_SHIP"
    assert "240501ABCDEF" in call.response_body
    assert "content-type: application/json" in call.request_headers.lower()


def test_timeout_is_a_failure_row_with_no_status(account, transport):
    def timeout(request):
        raise httpx.ReadTimeout("read timed out", request=request)

    transport["handler"] = timeout
    with pytest.raises(TransientError):
        send(account, retry=False, json={"page_size": 50})
    [call] = rows()
    assert call.outcome == ApiCall.Outcome.FAILURE
    assert call.status_code is None
    assert "Timed out" in call.error and "ReadTimeout" in call.error
    assert call.response_body == ""
    assert call.request_body  # what we tried to send is still there
    assert_clean(call)


@override_settings(HTTP_MAX_ATTEMPTS=3)
def test_every_retry_attempt_is_its_own_row(account, transport, _no_backoff_sleep):
    replies = iter(
        [
            httpx.Response(503, text="<html>upstream down</html>"),
            httpx.Response(429, headers={"Retry-After": "1"}, json={"error": "too_many"}),
            httpx.Response(200, json={"error": "", "response": {}}),
        ]
    )
    transport["handler"] = lambda r: next(replies)
    send(account)
    calls = rows()
    assert [c.attempt for c in calls] == [1, 2, 3]
    assert [c.status_code for c in calls] == [503, 429, 200]
    assert [c.outcome for c in calls] == ["failure", "failure", "success"]
    assert calls[0].error == "HTTP 503"
    assert "<html>upstream down</html>" == calls[0].response_body
    for call in calls:
        assert_clean(call)


@override_settings(HTTP_MAX_ATTEMPTS=2)
def test_timeouts_on_every_attempt_leave_one_row_each(account, transport):
    def timeout(request):
        raise httpx.ReadTimeout("read timed out", request=request)

    transport["handler"] = timeout
    with pytest.raises(TransientError):
        send(account)
    assert [(c.attempt, c.status_code, c.outcome) for c in rows()] == [
        (1, None, "failure"),
        (2, None, "failure"),
    ]


def test_platform_error_keeps_the_platforms_reason(account, transport):
    transport["handler"] = lambda r: httpx.Response(
        403,
        json={"error": "error_auth", "message": f"Invalid access_token {ACCESS_TOKEN}", "request_id": "r-2"},
    )
    with pytest.raises(AuthError):
        send(account)
    [call] = rows()  # AuthError is not retried
    assert call.outcome == ApiCall.Outcome.FAILURE
    assert call.status_code == 403
    assert call.error.startswith("error_auth: Invalid access_token")
    assert_clean(call)
    assert "r-2" in call.response_body


def test_malformed_body_is_a_failure(account, transport):
    transport["handler"] = lambda r: httpx.Response(200, text="not json at all")
    with pytest.raises(TransientError):
        send(account, retry=False)
    [call] = rows()
    assert call.outcome == ApiCall.Outcome.FAILURE
    assert call.status_code == 200
    assert "Malformed response: JSONDecodeError" in call.error
    assert call.response_body == "not json at all"


def test_momo_credentials_in_body_are_masked(momo_account, transport):
    transport["handler"] = lambda r: httpx.Response(200, json={"error": "", "dataList": []})
    body = {
        "doAction": "unsendCompanyQuery",
        "loginInfo": {
            "entpID": "12345678",
            "entpCode": "654321",
            "entpPwd": "Momo-Pwd-9876",
            "otpBackNo": "042",
        },
    }
    PlatformHttp(momo_account.context()).send(
        "POST",
        "https://scmapi.momoshop.com.tw/OrderServlet.do",
        operation="orders.list",
        parse=parse_json,
        json=body,
    )
    [call] = rows()
    assert "Momo-Pwd-9876" not in call.request_body
    login = json.loads(call.request_body)["loginInfo"]
    assert login == {
        "entpID": "12345678",
        "entpCode": "654321",
        "entpPwd": "********",
        "otpBackNo": "********",
    }


def test_shopify_header_token_masked(other_account, transport):
    other_account.set_tokens({"access_token": "shpat_abcdef0123456789abcdef0123456789"})
    other_account.save()
    transport["handler"] = lambda r: httpx.Response(200, json={"data": {"shop": {"name": "Beta"}}})
    PlatformHttp(other_account.context()).send(
        "POST",
        "https://beta.myshopify.com/admin/api/2026-07/graphql.json",
        operation="shop.get",
        parse=lambda r: r.json(),
        headers={"X-Shopify-Access-Token": "shpat_abcdef0123456789abcdef0123456789"},
        json={"query": "{ shop { name } }"},
    )
    [call] = rows()
    assert "shpat_abcdef0123456789abcdef0123456789" not in call.request_headers
    assert "X-Shopify-Access-Token: ********" in call.request_headers
    assert transport["seen"][0].headers["X-Shopify-Access-Token"].startswith("shpat_")  # the platform got it


def test_label_survives_account_deletion(account, transport):
    transport["handler"] = lambda r: httpx.Response(200, json={"error": ""})
    send(account)
    account.delete()
    [call] = rows()
    assert call.ec_account_id is None
    assert call.account_label == "Acme Shopee TW"
    assert call.merchant_id is not None


def test_record_call_without_account_and_with_long_fields(db):
    call = record_call(
        ctx=None,
        direction="inbound",
        operation="x" * 500,
        method="post",
        url="https://ecbridge.example/webhooks/shopify?hmac=abcdef123456",
        status_code=200,
        duration_ms=-5,
        request_headers={"X-Shopify-Hmac-Sha256": "c2lnbmF0dXJlLXZhbHVl"},
        request_body=b'{"id": 1}',
    )
    call.refresh_from_db()
    assert len(call.operation) == 80
    assert call.method == "POST"
    assert call.duration_ms == 0
    assert call.merchant_id is None and call.ec_account_id is None and call.account_label == ""
    assert "abcdef123456" not in call.endpoint
    assert "c2lnbmF0dXJlLXZhbHVl" not in call.request_headers


def test_record_call_for_a_deleted_account_id(account):
    ctx = account.context()
    account.delete()
    call = record_call(
        ctx=ctx,
        direction="outbound",
        operation="orders.list",
        method="GET",
        url="https://x/",
        status_code=200,
        duration_ms=5,
    )
    assert call.ec_account_id is None
    assert call.merchant_id == ctx.merchant_id


def test_extra_secrets_argument(db):
    ctx = AccountContext(account_id=None, merchant_id=None, platform="shopee")
    call = record_call(
        ctx=ctx,
        direction="outbound",
        operation="auth.token",
        method="POST",
        url="https://x/",
        status_code=200,
        duration_ms=1,
        response_body="the code was one-time-CODE-123",
        secrets=["one-time-CODE-123"],
    )
    assert "one-time-CODE-123" not in call.response_body
