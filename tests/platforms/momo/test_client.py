"""MomoClient against the in-process sandbox (connection lifecycle) and against canned responses
(error mapping of shapes the sandbox does not produce)."""

import json
from datetime import datetime
from zoneinfo import ZoneInfo

import httpx
import pytest

from ecbridge.apilog.models import ApiCall
from ecbridge.platforms import http as platform_http
from ecbridge.platforms.base import AccountContext, ConnectionInfo
from ecbridge.platforms.errors import AuthError, PlatformError, RateLimited, TransientError
from ecbridge.platforms.momo import SPEC
from ecbridge.platforms.momo import client as momo_client
from ecbridge.platforms.momo.client import MomoClient
from ecbridge.platforms.momo.crypto import encrypt_text
from ecbridge.platforms.registry import client_for
from ecbridge.platforms.settings import platform_settings

pytestmark = pytest.mark.django_db

CONSOLE = "/sandbox/momo/_console"
TEXT_COLUMNS = (
    "operation",
    "method",
    "endpoint",
    "error",
    "request_headers",
    "request_body",
    "response_body",
    "account_label",
)


def make_ctx(credentials, **settings):
    return AccountContext(
        account_id=None,
        merchant_id=None,
        platform="momo",
        credentials=dict(credentials),
        shop_id=credentials.get("entp_code", ""),
        settings={**platform_settings("momo"), "min_interval_seconds": 0, **settings},
    )


@pytest.fixture(autouse=True)
def _fresh_pacing(monkeypatch):
    monkeypatch.setattr(momo_client, "_last_call", {})


@pytest.fixture
def vendor(sandbox_client):
    response = sandbox_client.post(f"{CONSOLE}/shops", json={"name": "Acme 供應商"})
    assert response.status_code == 200
    return response.json()


@pytest.fixture
def creds(vendor):
    return vendor["credentials"]


def connect(credentials, *, interactive=False, **settings):
    return MomoClient(make_ctx(credentials, **settings), interactive=interactive).test_connection()


def logged_request(row: ApiCall) -> dict:
    return json.loads(row.request_body)


# --- the spec -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("field", "value", "ok"),
    [
        ("entp_pwd", "a" * 7, False),
        ("entp_pwd", "a" * 8, True),
        ("entp_pwd", "a" * 14, True),
        ("entp_pwd", "a" * 15, False),
        ("entp_id", "1234567", False),
        ("entp_id", "12345678", True),
        ("entp_code", "12345", False),
        ("entp_code", "123456", True),
        ("otp_back_no", "12", False),
        ("otp_back_no", "012", True),
        ("otp_back_no", "01a", False),
    ],
)
def test_credential_fields_validate_momo_formats(field, value, ok):
    spec_field = next(f for f in SPEC.credential_fields if f.name == field)
    assert (spec_field.validate(value) is None) is ok


def test_registry_builds_a_momo_client(creds):
    assert isinstance(client_for(make_ctx(creds)), MomoClient)


def test_password_and_otp_are_secret_fields():
    assert SPEC.secret_field_names == {"entp_pwd", "otp_back_no"}


# --- connect ------------------------------------------------------------------------------------
def test_test_connection_logs_in_and_returns_the_vendor_code(sandbox, creds):
    info = connect(creds, interactive=True)

    assert isinstance(info, ConnectionInfo)
    assert info.shop_id == creds["entp_code"]
    assert info.shop_name == ""  # momo's responses carry no vendor name
    calls = sandbox.store.calls("momo")
    assert [(c["path"], c["operation"], c["shop"], c["status"]) for c in calls] == [
        ("/sandbox/momo/GoodsServlet.do", "queryGoodsList", creds["entp_code"], 200)
    ]
    (row,) = ApiCall.objects.all()
    assert row.outcome == ApiCall.Outcome.SUCCESS
    assert row.platform == "momo" and row.operation == "queryGoodsList" and row.method == "POST"
    assert row.endpoint.endswith("/sandbox/momo/GoodsServlet.do")
    body = logged_request(row)
    today = datetime.now(ZoneInfo("Asia/Taipei")).strftime("%Y/%m/%d")
    assert body["doAction"] == "queryGoodsList"
    assert body["sendInfo"]["frDate"] == body["sendInfo"]["toDate"] == today
    # identity stays readable for diagnosis; the password and OTP number never reach the log
    assert body["loginInfo"]["entpID"] == creds["entp_id"]
    assert body["loginInfo"]["entpCode"] == creds["entp_code"]
    assert body["loginInfo"]["entpPwd"] == "********"
    assert body["loginInfo"]["otpBackNo"] == "********"


def assert_no_secrets_logged(creds):
    rows = list(ApiCall.objects.all())
    assert rows
    for row in rows:
        for column in TEXT_COLUMNS:
            text = getattr(row, column) or ""
            assert creds["entp_pwd"] not in text, (column, text)
            # a 3-digit number can occur anywhere (dates, ids); as a JSON string value it must not
            assert f'"{creds["otp_back_no"]}"' not in text, (column, text)


def test_secrets_never_reach_the_api_log_on_success_and_failure(sandbox, sandbox_client, creds):
    connect(creds)
    sandbox_client.post(f"{CONSOLE}/faults", json={"fail_next": 1, "malformed_next": 1})
    connect(creds)  # a 500 then a malformed body then a success: three more rows
    with pytest.raises(AuthError):
        connect({**creds, "otp_back_no": "999" if creds["otp_back_no"] != "999" else "998"})
    assert ApiCall.objects.count() == 5
    assert_no_secrets_logged(creds)


def test_changed_scm_password_disconnects_until_the_new_one_is_entered(sandbox_client, creds):
    connect(creds)
    new = sandbox_client.post(f"{CONSOLE}/shops/{creds['entp_code']}/password", json={}).json()["entp_pwd"]
    assert new != creds["entp_pwd"]

    with pytest.raises(AuthError) as info:
        connect(creds)
    assert info.value.code == "login_failed"
    message = str(info.value)
    assert "Entp Pwd" in message and "password" in message and "登入失敗" in message
    assert ApiCall.objects.filter(outcome=ApiCall.Outcome.FAILURE).count() == 1  # auth errors are not retried

    # the product flow: edit Entp Pwd, Test Connection, Save
    assert connect({**creds, "entp_pwd": new}).shop_id == creds["entp_code"]


@pytest.mark.parametrize("field", ["entp_code", "entp_id"])
def test_unknown_vendor_is_an_auth_error_naming_the_ids(creds, field):
    wrong = "000000" if field == "entp_code" else "00000000"
    with pytest.raises(AuthError) as info:
        connect({**creds, field: wrong})
    assert info.value.code == "vendor_not_found"
    assert "查無此供應商" in str(info.value) and "Entp Code" in str(info.value)


def test_wrong_otp_back_no_is_an_auth_error(creds):
    other = "999" if creds["otp_back_no"] != "999" else "998"
    with pytest.raises(AuthError) as info:
        connect({**creds, "otp_back_no": other})
    assert info.value.code == "login_failed"


def test_ip_not_on_the_allowlist_tells_the_user_what_to_do(sandbox_client, creds, settings):
    settings.EGRESS_IPS = ["198.51.100.7"]
    sandbox_client.post(
        f"{CONSOLE}/shops/{creds['entp_code']}/allowlist", json={"allowed_ips": ["203.0.113.5"]}
    )

    with pytest.raises(AuthError) as info:
        connect(creds)
    assert info.value.code == "ip_not_allowed"
    assert info.value.status == 403
    message = str(info.value)
    assert "settings page" in message and "198.51.100.7" in message and "127.0.0.1" in message
    assert ApiCall.objects.count() == 1  # not retried

    sandbox_client.post(
        f"{CONSOLE}/shops/{creds['entp_code']}/allowlist", json={"allowed_ips": ["127.0.0.0/8"]}
    )
    assert connect(creds).shop_id == creds["entp_code"]


def test_incomplete_credentials_fail_before_any_call(sandbox, creds):
    with pytest.raises(AuthError) as info:
        connect({**creds, "entp_pwd": ""})
    assert info.value.code == "credentials_missing" and "entp_pwd" in str(info.value)
    assert sandbox.store.calls("momo") == []
    assert ApiCall.objects.count() == 0


# --- platform failures --------------------------------------------------------------------------
def test_server_errors_are_retried_then_succeed(sandbox_client, creds, _no_backoff_sleep):
    sandbox_client.post(f"{CONSOLE}/faults", json={"fail_next": 2})
    assert connect(creds).shop_id == creds["entp_code"]

    rows = list(ApiCall.objects.order_by("id"))
    assert [(r.attempt, r.status_code, r.outcome) for r in rows] == [
        (1, 500, "failure"),
        (2, 500, "failure"),
        (3, 200, "success"),
    ]
    assert "HTTP 500" in rows[0].error and "Apache Tomcat" in rows[0].response_body
    assert len(_no_backoff_sleep) == 2


def test_interactive_calls_give_up_sooner(sandbox_client, creds):
    sandbox_client.post(f"{CONSOLE}/faults", json={"fail_next": 5})
    with pytest.raises(TransientError) as info:
        connect(creds, interactive=True)
    assert info.value.code == "http_500"
    assert ApiCall.objects.count() == 2


def test_throttling_is_retried_honouring_retry_after(sandbox_client, creds, _no_backoff_sleep):
    sandbox_client.post(f"{CONSOLE}/faults", json={"throttle_next": 1})
    assert connect(creds).shop_id == creds["entp_code"]
    assert _no_backoff_sleep == [3.0]
    first = ApiCall.objects.order_by("id").first()
    assert first.status_code == 429 and "429" in first.error


def test_timeouts_become_transient_after_every_attempt(sandbox_client, creds, settings):
    sandbox_client.post(f"{CONSOLE}/faults", json={"timeout_next": 10})
    with pytest.raises(TransientError) as info:
        connect(creds)
    assert info.value.code == "timeout"
    assert ApiCall.objects.count() == settings.HTTP_MAX_ATTEMPTS
    assert all(r.status_code is None and r.outcome == "failure" for r in ApiCall.objects.all())


def test_malformed_body_is_transient(sandbox_client, creds):
    sandbox_client.post(f"{CONSOLE}/faults", json={"malformed_next": 2})
    with pytest.raises(TransientError) as info:
        connect(creds, interactive=True)
    assert info.value.code == "malformed"
    assert ApiCall.objects.count() == 2


# --- error mapping for shapes the sandbox does not produce ----------------------------------------
CREDS = {"entp_id": "12345678", "entp_code": "123456", "entp_pwd": "Secret12345", "otp_back_no": "042"}


def canned(status, body, headers=None):
    """Every platform call gets this response (and the requests are kept)."""
    seen = []

    def handler(request):
        seen.append(request)
        content = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
        return httpx.Response(status, content=content, headers=headers or {})

    return httpx.MockTransport(handler), seen


@pytest.mark.parametrize(
    ("status", "body", "error", "code"),
    [
        (200, {"basicCheckMsgList": ["frDate 日期格式錯誤"]}, PlatformError, "basicCheckMsgList"),
        (200, {"ERROR": "商品編號錯誤"}, PlatformError, "ERROR"),
        (200, {"ERROR": "查無此供應商"}, AuthError, "vendor_not_found"),
        (200, {"basicCheckMsgList": ["登入失敗"]}, AuthError, "login_failed"),
        (400, {"ERROR": "entpPwd 錯誤"}, AuthError, "login_failed"),
        (200, {"ERROR": "IP位址不在白名單"}, AuthError, "ip_not_allowed"),
        (403, b"<html><body>403 Forbidden</body></html>", AuthError, "ip_not_allowed"),
        (401, b"Unauthorized", AuthError, "login_failed"),
        (404, b"<html>Not Found</html>", PlatformError, "http_404"),
        (302, b"", PlatformError, "http_302"),
        (502, b"<html>Bad Gateway</html>", TransientError, "http_502"),
        (503, b"", TransientError, "http_503"),
        (200, b"<html>maintenance</html>", TransientError, "malformed"),
        (200, [], TransientError, "malformed"),
        (200, {"ERROR": ""}, TransientError, "malformed"),  # no dataList, no refusal: unparsable
    ],
)
def test_error_mapping(status, body, error, code):
    transport, _ = canned(status, body)
    with platform_http.use_transport(transport), pytest.raises(error) as info:
        connect(CREDS, interactive=True)
    assert type(info.value) is error
    assert info.value.code == code


def test_busy_message_is_rate_limited_and_retried(_no_backoff_sleep):
    transport, seen = canned(200, {"ERROR": "系統忙碌中，請稍後再試"})
    with platform_http.use_transport(transport), pytest.raises(RateLimited):
        connect(CREDS, interactive=True)
    assert len(seen) == 2 and len(_no_backoff_sleep) == 1


def test_429_without_retry_after_still_backs_off(_no_backoff_sleep):
    transport, seen = canned(429, b"Too Many Requests")
    with platform_http.use_transport(transport), pytest.raises(RateLimited) as info:
        connect(CREDS, interactive=True)
    assert info.value.retry_after is None
    assert len(seen) == 2 and len(_no_backoff_sleep) == 1


def test_an_encrypted_data_list_is_decrypted_with_the_scm_password():
    rows = [{"goodsCode": "2024010100001", "entpGoodsNo": "SKU-1"}]
    transport, seen = canned(
        200, {"ERROR": "", "dataList": encrypt_text(json.dumps(rows), CREDS["entp_pwd"])}
    )
    with platform_http.use_transport(transport):
        info = connect(CREDS)
    assert info.extra == {"products_listed_today": 1}
    (request,) = seen
    assert request.method == "POST" and request.url.path == "/sandbox/momo/GoodsServlet.do"
    assert request.headers["content-type"].startswith("application/json")
    sent = json.loads(request.content)
    assert sent["loginInfo"] == {
        "entpID": "12345678",
        "entpCode": "123456",
        "entpPwd": "Secret12345",
        "otpBackNo": "042",
    }


def test_the_api_base_setting_is_honoured():
    transport, seen = canned(200, {"ERROR": "", "dataList": []})
    with platform_http.use_transport(transport):
        connect(CREDS, api_base="https://scmuat.momoshop.com.tw/")
    assert str(seen[0].url) == "https://scmuat.momoshop.com.tw/GoodsServlet.do"


# --- pacing ---------------------------------------------------------------------------------------
def test_calls_for_one_vendor_are_paced(monkeypatch):
    now = [100.0]
    waits = []
    monkeypatch.setattr(momo_client, "clock", lambda: now[0])
    monkeypatch.setattr(momo_client, "sleep", waits.append)
    transport, seen = canned(200, {"ERROR": "", "dataList": []})
    with platform_http.use_transport(transport):
        connect(CREDS, min_interval_seconds=1.0)
        connect(CREDS, min_interval_seconds=1.0)  # same instant: waits a full interval
        connect(CREDS, min_interval_seconds=1.0)  # the slot after that one
        connect({**CREDS, "entp_code": "654321"}, min_interval_seconds=1.0)  # another vendor: no wait
        now[0] += 5
        connect(CREDS, min_interval_seconds=1.0)  # long after: no wait
    assert waits == [1.0, 2.0]
    assert len(seen) == 5


def test_pacing_is_off_when_the_interval_is_zero(monkeypatch):
    waits = []
    monkeypatch.setattr(momo_client, "sleep", waits.append)
    transport, _ = canned(200, {"ERROR": "", "dataList": []})
    with platform_http.use_transport(transport):
        connect(CREDS)
        connect(CREDS)
    assert waits == []


def test_pacing_defaults():
    assert platform_settings("momo")["min_interval_seconds"] == 0.0  # development and tests
    assert momo_client.DEFAULT_MIN_INTERVAL_SECONDS == 1.0  # when the setting is absent
