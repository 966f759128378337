"""ShopeeClient against the in-process sandbox (and a few scripted transports for answers the
sandbox does not produce)."""

import json
import time
from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from ecbridge.apilog.models import ApiCall
from ecbridge.platforms import http as platform_http
from ecbridge.platforms.errors import AuthError, PlatformError, RateLimited, TokenExpired, TransientError
from ecbridge.platforms.shopee import signing
from tests.platforms.shopee.helpers import (
    API,
    PARTNER_ID,
    PARTNER_KEY,
    REDIRECT_URI,
    authorize_in_browser,
    connect,
    create_shop,
    make_client,
    path_and_query,
    read_form,
    sign,
)

pytestmark = pytest.mark.django_db

TEXT_COLUMNS = [
    f.name for f in ApiCall._meta.get_fields() if f.get_internal_type() in ("CharField", "TextField")
]


@pytest.fixture
def shopee(sandbox):
    return sandbox.sandbox("shopee")


def shift_clocks(shopee, *clients, seconds):
    """Move the sandbox's and the clients' clocks together (so timestamps stay valid)."""
    start = time.time()
    shopee.clock = lambda: time.time() - start + start + seconds
    for client in clients:
        client.clock = lambda: time.time() + seconds


def scripted(handler):
    """Route platform calls to ``handler(request) -> httpx.Response`` instead of the sandbox."""
    return platform_http.use_transport(httpx.MockTransport(handler))


def answer(status=200, body=None, *, headers=None, text=None):
    def handler(request):
        if text is not None:
            return httpx.Response(status, text=text, headers=headers)
        return httpx.Response(status, json=body, headers=headers)

    return handler


# --- authorization links ---------------------------------------------------------------------------
def test_authorize_url_is_the_new_unsigned_format():
    client = make_client(auth_base="https://open.shopee.com")
    url = client.authorize_url(state="csrf-1", redirect_uri="https://wms.example.com/cb?x=1")
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "https://open.shopee.com/auth"
    assert parse_qs(parts.query) == {
        "partner_id": [str(PARTNER_ID)],
        "auth_type": ["seller"],
        "redirect_uri": ["https://wms.example.com/cb?x=1"],
        "response_type": ["code"],
        "state": ["csrf-1"],
    }
    assert "sign" not in url and "timestamp" not in url


def test_revoke_url_is_the_cancel_page():
    client = make_client(auth_base="https://open.shopee.com/")
    parts = urlsplit(client.revoke_url(redirect_uri="https://wms.example.com/done"))
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "https://open.shopee.com/cancel_auth"
    assert parse_qs(parts.query) == {
        "partner_id": [str(PARTNER_ID)],
        "auth_type": ["seller"],
        "redirect_uri": ["https://wms.example.com/done"],
        "response_type": ["code"],
    }


# --- the whole connect flow ------------------------------------------------------------------------
def test_connect_flow_end_to_end(sandbox_client):
    shop = create_shop(sandbox_client, name="Acme 蝦皮店")
    other = create_shop(sandbox_client, name="Other shop")
    client = make_client()
    url = client.authorize_url(state="s-123", redirect_uri=REDIRECT_URI) + f"&shop_id={shop['id']}"
    page = sandbox_client.get(path_and_query(url))
    form = read_form(page.text)
    assert set(form.radios) == {shop["id"], other["id"]}
    assert form.fields["shop_id"] == shop["id"]  # pre-selected
    assert form.buttons == ["Authorize"]
    form.fields["duration_days"] = "30"
    callback = sandbox_client.post(form.action, data=form.fields)
    query = parse_qs(urlsplit(callback.headers["location"]).query)
    params = {k: v[0] for k, v in query.items()}
    assert params["state"] == "s-123" and params["shop_id"] == shop["id"]

    before = datetime.now(UTC)
    tokens = client.exchange_code(params, redirect_uri=REDIRECT_URI)
    assert tokens.shop_id == shop["id"]
    assert tokens.access_token and tokens.refresh_token and tokens.access_token != tokens.refresh_token
    assert (
        timedelta(hours=4) - timedelta(seconds=5)
        <= tokens.expires_at - before
        <= timedelta(hours=4, seconds=5)
    )
    assert abs(tokens.refresh_expires_at - (before + timedelta(days=30))) < timedelta(seconds=5)

    connected = make_client(tokens=tokens.as_secret_dict(), shop_id=tokens.shop_id)
    info = connected.test_connection()
    assert info.shop_id == shop["id"]
    assert info.shop_name == "Acme 蝦皮店"
    assert info.extra["region"] == "TW" and info.extra["status"] == "NORMAL"
    assert abs(info.authorization_expires_at - (before + timedelta(days=30))) < timedelta(seconds=5)

    operations = list(ApiCall.objects.order_by("id").values_list("operation", "outcome", "status_code"))
    assert operations == [("auth.token.get", "success", 200), ("shop.get_shop_info", "success", 200)]


def test_requests_follow_shopee_wire_format():
    """partner_id in query AND body, ints in the body, the sign over the documented base string."""
    seen = []

    def handler(request):
        seen.append(request)
        if request.url.path.endswith("/shop/get_shop_info"):
            return httpx.Response(
                200,
                json={
                    "error": "",
                    "message": "",
                    "shop_name": "S",
                    "status": "NORMAL",
                    "expire_time": 1900000000,
                },
            )
        return httpx.Response(
            200,
            json={
                "error": "",
                "message": "",
                "access_token": "a" * 32,
                "refresh_token": "r" * 32,
                "expire_in": 14400,
            },
        )

    client = make_client(
        tokens={"access_token": "tok", "refresh_token": "ref"},
        shop_id="14701711",
        api_base="https://partner.shopeemobile.com",
    )
    client.clock = lambda: 1655714431
    with scripted(handler):
        client.exchange_code({"code": "c0de", "shop_id": "14701711"}, redirect_uri=REDIRECT_URI)
        client.refresh()
        client.test_connection()
    token_get, refresh, shop_info = seen
    for request, path in ((token_get, "/api/v2/auth/token/get"), (refresh, "/api/v2/auth/access_token/get")):
        assert request.method == "POST"
        assert str(request.url).split("?")[0] == f"https://partner.shopeemobile.com{path}"
        query = dict(request.url.params)
        assert query == {
            "partner_id": str(PARTNER_ID),
            "timestamp": "1655714431",
            "sign": sign(f"{PARTNER_ID}{path}1655714431"),
        }
        assert request.headers["content-type"] == "application/json"
    assert json.loads(token_get.content) == {"code": "c0de", "partner_id": PARTNER_ID, "shop_id": 14701711}
    assert json.loads(refresh.content) == {
        "refresh_token": "ref",
        "partner_id": PARTNER_ID,
        "shop_id": 14701711,
    }
    assert shop_info.method == "GET"
    new_token = "a" * 32  # refresh() rotated the client's tokens
    assert dict(shop_info.url.params) == {
        "partner_id": str(PARTNER_ID),
        "timestamp": "1655714431",
        "access_token": new_token,
        "shop_id": "14701711",
        "sign": sign(f"{PARTNER_ID}/api/v2/shop/get_shop_info1655714431{new_token}14701711"),
    }


def test_each_attempt_is_signed_with_its_own_timestamp(sandbox_client, shopee):
    client, _shop = connect(sandbox_client)
    ticks = iter(range(0, 1000, 7))
    base = time.time()
    client.clock = lambda: base + next(ticks)
    sandbox_client.post(f"{API}/_console/faults", json={"fail_next": 2})
    client.test_connection()
    rows = ApiCall.objects.filter(operation="shop.get_shop_info").order_by("id")
    assert [r.attempt for r in rows] == [1, 2, 3]
    assert [r.status_code for r in rows] == [500, 500, 200]
    stamps = [parse_qs(urlsplit(r.endpoint).query)["timestamp"][0] for r in rows]
    assert len(set(stamps)) == 3


# --- exchange_code -----------------------------------------------------------------------------------
def test_code_is_single_use(sandbox_client):
    create_shop(sandbox_client)
    client = make_client()
    params = authorize_in_browser(sandbox_client, client)
    client.exchange_code(params, redirect_uri=REDIRECT_URI)
    with pytest.raises(AuthError) as exc:
        client.exchange_code(params, redirect_uri=REDIRECT_URI)
    assert type(exc.value) is AuthError and exc.value.code == "invalid_code"


def test_code_expires_after_ten_minutes(sandbox_client, shopee):
    create_shop(sandbox_client)
    client = make_client()
    params = authorize_in_browser(sandbox_client, client)
    shift_clocks(shopee, client, seconds=601)
    with pytest.raises(AuthError) as exc:
        client.exchange_code(params, redirect_uri=REDIRECT_URI)
    assert exc.value.code == "invalid_code"


def test_code_for_another_shop_is_refused(sandbox_client):
    create_shop(sandbox_client)
    other = create_shop(sandbox_client)
    client = make_client()
    params = authorize_in_browser(sandbox_client, client)
    with pytest.raises(AuthError) as exc:
        client.exchange_code({**params, "shop_id": other["id"]}, redirect_uri=REDIRECT_URI)
    assert exc.value.code == "invalid_shop_id"
    # The refused attempt did not spend the code.
    assert client.exchange_code(params, redirect_uri=REDIRECT_URI).shop_id == params["shop_id"]


@pytest.mark.parametrize(
    ("params", "error", "code"),
    [
        ({"shop_id": "1"}, AuthError, "missing_code"),
        ({"code": "abc"}, AuthError, "missing_shop_id"),
        ({"code": "abc", "shop_id": "12x"}, AuthError, "invalid_shop_id"),
        ({"code": "abc", "shop_id": "-5"}, AuthError, "invalid_shop_id"),
        ({"code": "abc", "main_account_id": "99"}, PlatformError, "main_account_unsupported"),
    ],
)
def test_bad_callbacks_fail_before_any_call(sandbox, params, error, code):
    with pytest.raises(error) as exc:
        make_client().exchange_code(params, redirect_uri=REDIRECT_URI)
    assert exc.value.code == code
    assert ApiCall.objects.count() == 0


def test_expire_in_as_absolute_epoch_is_understood():
    body = {
        "error": "",
        "message": "",
        "access_token": "a" * 32,
        "refresh_token": "r" * 32,
        "expire_in": 1900000000,
    }
    client = make_client()
    client.clock = lambda: 1800000000
    with scripted(answer(200, body)):
        tokens = client.exchange_code({"code": "c", "shop_id": "5"}, redirect_uri=REDIRECT_URI)
    assert tokens.expires_at == datetime.fromtimestamp(1900000000, tz=UTC)
    assert tokens.refresh_expires_at == datetime.fromtimestamp(1800000000, tz=UTC) + timedelta(days=30)


def test_refresh_token_lifetime_is_a_setting():
    body = {
        "error": "",
        "message": "",
        "access_token": "a" * 32,
        "refresh_token": "r" * 32,
        "expire_in": 14312,
    }
    client = make_client(refresh_token_days=15)
    client.clock = lambda: 1800000000
    with scripted(answer(200, body)):
        tokens = client.exchange_code({"code": "c", "shop_id": "5"}, redirect_uri=REDIRECT_URI)
    now = datetime.fromtimestamp(1800000000, tz=UTC)
    assert tokens.expires_at == now + timedelta(seconds=14312)
    assert tokens.refresh_expires_at == now + timedelta(days=15)


def test_token_answer_without_tokens_is_malformed_not_empty(settings):
    settings.HTTP_MAX_ATTEMPTS = 2
    with scripted(answer(200, {"error": "", "message": "", "access_token": "", "refresh_token": "x"})):
        with pytest.raises(TransientError) as exc:
            make_client().exchange_code({"code": "c", "shop_id": "5"}, redirect_uri=REDIRECT_URI)
    assert exc.value.code == "malformed"
    assert ApiCall.objects.count() == 2


# --- refresh -----------------------------------------------------------------------------------------
def test_refresh_rotates_and_the_old_refresh_token_is_spent(sandbox_client):
    client, shop = connect(sandbox_client)
    old = dict(client.ctx.tokens)
    new = client.refresh()
    assert new.refresh_token != old["refresh_token"] and new.access_token != old["access_token"]
    assert new.shop_id == shop["id"]
    assert client.ctx.tokens == {"access_token": new.access_token, "refresh_token": new.refresh_token}
    assert client.test_connection().shop_name == shop["name"]

    stale = make_client(tokens=old, shop_id=shop["id"])
    with pytest.raises(AuthError) as exc:
        stale.refresh()
    assert type(exc.value) is AuthError and exc.value.code == "error_shop_refresh_token"
    # The new refresh token still works (and rotates again).
    assert client.refresh().refresh_token != new.refresh_token


def test_old_access_token_lives_five_more_minutes_after_refresh(sandbox_client, shopee):
    client, shop = connect(sandbox_client)
    old = make_client(tokens=dict(client.ctx.tokens), shop_id=shop["id"])
    client.refresh()
    assert old.test_connection().shop_id == shop["id"]
    shift_clocks(shopee, old, seconds=301)
    with pytest.raises(TokenExpired) as exc:
        old.test_connection()
    assert exc.value.code == "invalid_acceess_token"


def test_expired_access_token_then_refresh_recovers(sandbox_client):
    client, _shop = connect(sandbox_client)
    sandbox_client.post(f"{API}/_console/faults", json={"expire_tokens": True})
    with pytest.raises(TokenExpired) as exc:
        client.test_connection()
    assert exc.value.code == "invalid_acceess_token"
    assert (
        ApiCall.objects.filter(operation="shop.get_shop_info", outcome="failure").count() == 1
    )  # not retried
    client.refresh()
    assert client.test_connection().shop_name


def test_expired_refresh_token_is_an_auth_error(sandbox_client, shopee):
    client, _shop = connect(sandbox_client)
    shift_clocks(shopee, client, seconds=31 * 86400)
    with pytest.raises(AuthError) as exc:
        client.refresh()
    assert type(exc.value) is AuthError and exc.value.code == "refresh_token_expired"


def test_refresh_without_a_refresh_token_fails_before_any_call(sandbox):
    with pytest.raises(AuthError) as exc:
        make_client(tokens={"access_token": "x"}, shop_id="70000001").refresh()
    assert exc.value.code == "no_refresh_token"
    assert ApiCall.objects.count() == 0


def test_unknown_access_token_asks_for_a_refresh_only_when_one_is_possible(sandbox_client):
    shop = create_shop(sandbox_client)
    with_refresh = make_client(
        tokens={"access_token": "f" * 32, "refresh_token": "e" * 32}, shop_id=shop["id"]
    )
    with pytest.raises(TokenExpired) as exc:
        with_refresh.test_connection()
    assert exc.value.code == "error_auth"
    without = make_client(tokens={"access_token": "f" * 32}, shop_id=shop["id"])
    with pytest.raises(AuthError) as exc:
        without.test_connection()
    assert type(exc.value) is AuthError
    # and the refresh that follows says the truth: that refresh token is not valid
    with pytest.raises(AuthError) as exc:
        with_refresh.refresh()
    assert type(exc.value) is AuthError and exc.value.code == "error_shop_refresh_token"


def test_test_connection_without_tokens_fails_before_any_call(sandbox):
    with pytest.raises(AuthError):
        make_client(shop_id="70000001").test_connection()
    with pytest.raises(AuthError):
        make_client(tokens={"access_token": "x"}).test_connection()
    assert ApiCall.objects.count() == 0


# --- revocation, banned and frozen shops ---------------------------------------------------------------
def test_cancelled_authorization_disconnects(sandbox_client):
    client, shop = connect(sandbox_client)
    page = sandbox_client.get(path_and_query(client.revoke_url(redirect_uri=REDIRECT_URI)))
    form = read_form(page.text)
    assert form.fields["shop_id"] == shop["id"] and form.buttons == ["Cancel authorization"]
    done = sandbox_client.post(form.action, data=form.fields)
    assert done.status_code == 302 and done.headers["location"] == REDIRECT_URI

    with pytest.raises(AuthError) as exc:
        client.test_connection()
    assert type(exc.value) is AuthError and exc.value.code == "error_auth"
    with pytest.raises(AuthError) as exc:
        client.refresh()
    assert type(exc.value) is AuthError and exc.value.code == "shop_no_linked"


@pytest.mark.parametrize(
    ("status", "code", "word"), [("BANNED", "shop_banned", "banned"), ("FROZEN", "shop_frozen", "frozen")]
)
def test_banned_or_frozen_shop_is_an_auth_error(sandbox_client, status, code, word):
    client, shop = connect(sandbox_client, name="Night Market")
    sandbox_client.post(f"{API}/_console/shops/{shop['id']}/status", json={"status": status})
    with pytest.raises(AuthError) as exc:
        client.test_connection()
    assert type(exc.value) is AuthError and exc.value.code == code
    assert word in str(exc.value) and "Night Market" in str(exc.value)
    row = ApiCall.objects.get(operation="shop.get_shop_info")
    assert row.outcome == "failure" and word in row.error


def test_banned_shop_cannot_refresh(sandbox_client):
    client, shop = connect(sandbox_client)
    sandbox_client.post(f"{API}/_console/shops/{shop['id']}/status", json={"status": "BANNED"})
    with pytest.raises(AuthError) as exc:
        client.refresh()
    assert exc.value.code == "shop_banned"


# --- our own faults: configuration, signing, clock ------------------------------------------------------
def test_wrong_partner_key_is_our_bug_not_the_merchants(sandbox_client):
    client, shop = connect(sandbox_client)
    wrong = make_client(tokens=client.ctx.tokens, shop_id=shop["id"], partner_key="not-the-key")
    with pytest.raises(PlatformError) as exc:
        wrong.test_connection()
    assert exc.value.code == "error_sign" and exc.value.message == "Wrong sign."
    assert ApiCall.objects.filter(operation="shop.get_shop_info", outcome="failure").count() == 1


def test_unknown_partner_id_is_a_platform_error(sandbox_client):
    with pytest.raises(PlatformError) as exc:
        make_client(partner_id=1234).exchange_code({"code": "c", "shop_id": "1"}, redirect_uri=REDIRECT_URI)
    assert not isinstance(exc.value, AuthError)
    assert exc.value.code == "error_param" and exc.value.message == "Invalid partner_id."


def test_stale_timestamp_is_not_an_auth_problem(sandbox_client):
    client, _shop = connect(sandbox_client)
    client.clock = lambda: time.time() - 600
    with pytest.raises(PlatformError) as exc:
        client.test_connection()
    assert not isinstance(exc.value, AuthError)
    assert exc.value.code == "error_param" and exc.value.message == "Timestamp is expired."


def test_missing_partner_configuration_fails_before_any_call(sandbox):
    with pytest.raises(PlatformError) as exc:
        make_client(partner_key="").exchange_code({"code": "c", "shop_id": "1"}, redirect_uri=REDIRECT_URI)
    assert exc.value.code == "not_configured"
    with pytest.raises(PlatformError):
        make_client(partner_id="").authorize_url(state="s", redirect_uri=REDIRECT_URI)
    assert ApiCall.objects.count() == 0


# --- platform failures --------------------------------------------------------------------------------
def test_server_errors_are_retried_then_succeed(sandbox_client):
    client, _shop = connect(sandbox_client)
    sandbox_client.post(f"{API}/_console/faults", json={"fail_next": 2})
    assert client.test_connection().shop_name
    rows = list(ApiCall.objects.filter(operation="shop.get_shop_info").order_by("id"))
    assert [(r.attempt, r.status_code, r.outcome) for r in rows] == [
        (1, 500, "failure"),
        (2, 500, "failure"),
        (3, 200, "success"),
    ]
    assert "error_server" in rows[0].error


def test_persistent_server_errors_end_as_transient_error(sandbox_client, settings):
    settings.HTTP_MAX_ATTEMPTS = 3
    client, _shop = connect(sandbox_client)
    sandbox_client.post(f"{API}/_console/faults", json={"fail_next": 5})
    with pytest.raises(TransientError) as exc:
        client.test_connection()
    assert exc.value.code == "error_server" and exc.value.status == 500
    assert ApiCall.objects.filter(operation="shop.get_shop_info").count() == 3


def test_throttling_is_retried_after_the_default_pause(sandbox_client, _no_backoff_sleep):
    client, _shop = connect(sandbox_client)
    sandbox_client.post(f"{API}/_console/faults", json={"throttle_next": 1})
    assert client.test_connection().shop_name
    assert _no_backoff_sleep == [1.0]
    first = ApiCall.objects.filter(operation="shop.get_shop_info").order_by("id").first()
    assert first.status_code == 429 and "error_rate_limit" in first.error


def test_throttling_honours_retry_after(_no_backoff_sleep):
    calls = []

    def handler(request):
        calls.append(request)
        if len(calls) == 1:
            return httpx.Response(
                429,
                json={"error": "error_rate_limit", "message": "Too many requests."},
                headers={"Retry-After": "7"},
            )
        return httpx.Response(200, json={"error": "", "message": "", "shop_name": "S", "status": "NORMAL"})

    client = make_client(tokens={"access_token": "t", "refresh_token": "r"}, shop_id="5")
    with scripted(handler):
        assert client.test_connection().shop_name == "S"
    assert _no_backoff_sleep == [7.0]


def test_daily_quota_waits_until_midnight_taipei(settings):
    settings.HTTP_MAX_ATTEMPTS = 1
    client = make_client(tokens={"access_token": "t"}, shop_id="5")
    client.clock = lambda: datetime(2026, 3, 1, 22, 30, tzinfo=timezone(timedelta(hours=8))).timestamp()
    body = {
        "error": "error_limit",
        "message": "The total API call number made by your APP has reached the daily "
        "API call limit, please try again after 00: 00 (UTC+08:00)",
    }
    with scripted(answer(200, body)):
        with pytest.raises(RateLimited) as exc:
            client.test_connection()
    assert exc.value.retry_after == 5400
    assert exc.value.code == "error_limit"


def test_timeouts_end_as_transient_error_after_the_attempts(sandbox_client, settings):
    settings.HTTP_MAX_ATTEMPTS = 3
    client, _shop = connect(sandbox_client)
    sandbox_client.post(f"{API}/_console/faults", json={"timeout_next": 3})
    with pytest.raises(TransientError) as exc:
        client.test_connection()
    assert exc.value.code == "timeout"
    rows = ApiCall.objects.filter(operation="shop.get_shop_info")
    assert rows.count() == 3 and all(r.status_code is None for r in rows)


def test_malformed_body_is_transient_and_retried(sandbox_client, settings):
    settings.HTTP_MAX_ATTEMPTS = 2
    client, _shop = connect(sandbox_client)
    sandbox_client.post(f"{API}/_console/faults", json={"malformed_next": 1})
    assert client.test_connection().shop_name
    sandbox_client.post(f"{API}/_console/faults", json={"malformed_next": 2})
    with pytest.raises(TransientError) as exc:
        client.test_connection()
    assert exc.value.code == "malformed"


@pytest.mark.parametrize(
    ("status", "body", "error", "code"),
    [
        (200, {"error": "error_param", "message": "Timestamp is expired."}, PlatformError, "error_param"),
        (403, {"error": "error_sign", "message": "Wrong sign."}, PlatformError, "error_sign"),
        (
            403,
            {"error": "invalid_acceess_token", "message": "Invalid access_token."},
            TokenExpired,
            "invalid_acceess_token",
        ),
        (403, {"error": "error_auth", "message": "Invalid access_token."}, TokenExpired, "error_auth"),
        (403, {"error": "error_auth", "message": "Invalid partner_id or shopid."}, AuthError, "error_auth"),
        (
            403,
            {"error": "common.error_auth", "message": "No permission to current api."},
            AuthError,
            "common.error_auth",
        ),
        (200, {"error": "partner_shop_no_link", "message": ""}, AuthError, "partner_shop_no_link"),
        (
            200,
            {"error": "shop_no_linked", "message": "Partner and shop has no linked."},
            AuthError,
            "shop_no_linked",
        ),
        (
            200,
            {"error": "error_partner_key_expired", "message": "Your API partner key has expired"},
            AuthError,
            "error_partner_key_expired",
        ),
        (
            200,
            {"error": "error_api_permission", "message": "This app type has no permission to this API."},
            PlatformError,
            "error_api_permission",
        ),
        (
            200,
            {"error": "error_rate_limit", "message": "Too many requests."},
            RateLimited,
            "error_rate_limit",
        ),
        (429, None, RateLimited, "error_rate_limit"),
        (
            200,
            {"error": "error_server", "message": "Something wrong. Please try later."},
            TransientError,
            "error_server",
        ),
        (502, None, TransientError, "http_502"),
        (503, {"error": "error_server", "message": "busy"}, TransientError, "error_server"),
        (404, None, PlatformError, "http_404"),
        (200, None, TransientError, "malformed"),
        (200, [], TransientError, "malformed"),
        (200, {"shop_name": "no envelope"}, TransientError, "malformed"),
        (200, {"error": "", "message": ""}, TransientError, "malformed"),  # success without shop_name
    ],
)
def test_error_mapping(settings, status, body, error, code):
    settings.HTTP_MAX_ATTEMPTS = 1
    client = make_client(tokens={"access_token": "t", "refresh_token": "r"}, shop_id="5")
    handler = answer(status, text="<html>gateway</html>") if body is None else answer(status, body)
    with scripted(handler):
        with pytest.raises(error) as exc:
            client.test_connection()
    assert type(exc.value) is error
    assert exc.value.code == code


def test_token_errors_during_exchange_or_refresh_are_final(settings):
    settings.HTTP_MAX_ATTEMPTS = 1
    body = {"error": "invalid_acceess_token", "message": "Invalid access_token."}
    with scripted(answer(403, body)):
        with pytest.raises(AuthError) as exc:
            make_client().exchange_code({"code": "c", "shop_id": "5"}, redirect_uri=REDIRECT_URI)
        assert type(exc.value) is AuthError
        with pytest.raises(AuthError) as exc:
            make_client(tokens={"refresh_token": "r"}, shop_id="5").refresh()
        assert type(exc.value) is AuthError


# --- secrets never reach the API log -----------------------------------------------------------------
def test_api_log_rows_hold_no_secret(sandbox_client, settings):
    settings.HTTP_MAX_ATTEMPTS = 2
    shop = create_shop(sandbox_client)
    client = make_client()
    params = authorize_in_browser(sandbox_client, client)
    first = client.exchange_code(params, redirect_uri=REDIRECT_URI)
    connected = make_client(tokens=first.as_secret_dict(), shop_id=shop["id"])
    connected.test_connection()
    second = connected.refresh()
    connected.test_connection()
    sandbox_client.post(f"{API}/_console/faults", json={"fail_next": 1, "expire_tokens": True})
    with pytest.raises(TokenExpired):
        connected.test_connection()
    with pytest.raises(AuthError):
        make_client(tokens=first.as_secret_dict(), shop_id=shop["id"]).refresh()

    secrets = [
        PARTNER_KEY,
        params["code"],
        first.access_token,
        first.refresh_token,
        second.access_token,
        second.refresh_token,
    ]
    rows = list(ApiCall.objects.all())
    assert len(rows) >= 7
    for row in rows:
        for column in TEXT_COLUMNS:
            text = getattr(row, column)
            for secret in secrets:
                assert secret not in text, f"{secret[:4]}… leaked in {column} of {row.operation}"
        # a signature is as good as a credential for five minutes: masked too
        assert "sign=********" in row.endpoint


# --- push verification -------------------------------------------------------------------------------
PUSH_URL = "https://wms.example.com/shopee/push"
PUSH_BODY = (
    b'{"data":{"items":[],"ordersn":"220810QSK8S7BX","status":"PROCESSED","completed_scenario":"",'
    b'"update_time":1660123127},"shop_id":727720655,"code":3,"timestamp":1660123127}'
)
PUSH_SIGNATURE = "0ab08ec854a3eab14a1b38eb55a6840825b36330a473f4e74ef2bfc9430f2251"


def test_verify_webhook_with_the_brief_vector():
    client = make_client(partner_key="test_partner_key")
    assert client.verify_webhook({"Authorization": PUSH_SIGNATURE}, PUSH_BODY, PUSH_URL)
    assert client.verify_webhook({"authorization": PUSH_SIGNATURE}, PUSH_BODY, PUSH_URL)
    assert not client.verify_webhook({"Authorization": PUSH_SIGNATURE}, PUSH_BODY + b"\n", PUSH_URL)
    assert not client.verify_webhook({"Authorization": PUSH_SIGNATURE}, PUSH_BODY, PUSH_URL + "?x=1")
    assert not client.verify_webhook({}, PUSH_BODY, PUSH_URL)
    assert not make_client(partner_key="other").verify_webhook(
        {"Authorization": PUSH_SIGNATURE}, PUSH_BODY, PUSH_URL
    )


def test_verify_webhook_defaults_to_the_configured_push_url():
    client = make_client(partner_key="test_partner_key", push_url=PUSH_URL)
    assert client.verify_webhook({"Authorization": PUSH_SIGNATURE}, PUSH_BODY)
    assert signing.push_signature("test_partner_key", PUSH_URL, PUSH_BODY) == PUSH_SIGNATURE
