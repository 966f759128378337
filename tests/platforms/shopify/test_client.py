"""ShopifyClient against the in-process sandbox: the whole connection lifecycle, its failures, and
the API log it leaves."""

import time
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.conf import settings
from django.http import QueryDict

from ecbridge.apilog.models import ApiCall
from ecbridge.platforms.errors import (
    AuthError,
    PlatformError,
    RateLimited,
    TokenExpired,
    TransientError,
)
from ecbridge.platforms.registry import client_for
from ecbridge.platforms.shopify import signing
from ecbridge.platforms.shopify.client import WEBHOOK_TOPICS, ShopifyClient
from tests.platforms.shopify.helpers import (
    CONSOLE,
    REDIRECT_URI,
    SECRET,
    WEBHOOK_URL,
    authorize,
    consent,
    make_ctx,
    new_shop,
    read_form,
    set_faults,
    state,
    with_tokens,
)

pytestmark = pytest.mark.django_db

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


def rows(operation=None):
    qs = ApiCall.objects.order_by("id")
    return list(qs.filter(operation=operation) if operation else qs)


def signed_callback(domain, **extra):
    params = {
        "code": "abc123",
        "host": "aG9zdA",
        "shop": domain,
        "state": "s",
        "timestamp": str(int(time.time())),
    }
    params.update(extra)
    params["hmac"] = signing.oauth_hmac(SECRET, params)
    return params


# --- spec / registry -----------------------------------------------------------------------------------
def test_registry_builds_the_shopify_client(shop):
    client = client_for(make_ctx(shop["id"]))
    assert isinstance(client, ShopifyClient)
    assert client.graphql_url.endswith(f"/sandbox/shopify/{shop['id']}/admin/api/2026-07/graphql.json")


def test_sandbox_app_credentials_equal_the_development_defaults():
    assert settings.PLATFORMS["shopify"]["client_id"] == "sandbox-shopify-client"
    assert settings.PLATFORMS["shopify"]["client_secret"] == SECRET


def test_invalid_store_domain_is_an_auth_error_before_any_call():
    client = ShopifyClient(make_ctx("acme.example.com"))
    with pytest.raises(AuthError) as exc:
        client.authorize_url(state="s", redirect_uri=REDIRECT_URI)
    assert exc.value.code == "invalid_shop"
    assert not rows()


# --- OAuth -----------------------------------------------------------------------------------------------
def test_authorize_url_asks_for_an_offline_token(shop):
    url = ShopifyClient(make_ctx(shop["id"])).authorize_url(state="st8", redirect_uri=REDIRECT_URI)
    parts = urlsplit(url)
    assert parts.path == f"/sandbox/shopify/{shop['id']}/admin/oauth/authorize"
    query = dict(parse_qsl(parts.query))
    assert query == {
        "client_id": "sandbox-shopify-client",
        "scope": settings.PLATFORMS["shopify"]["scopes"],
        "redirect_uri": REDIRECT_URI,
        "state": "st8",
    }
    assert "grant_options" not in url


def test_production_shop_url_template():
    ctx = make_ctx("acme.myshopify.com", shop_url_template="https://{shop}", api_version="2026-10")
    client = ShopifyClient(ctx)
    assert client.authorize_url(state="s", redirect_uri=REDIRECT_URI).startswith(
        "https://acme.myshopify.com/admin/oauth/authorize?client_id="
    )
    assert client.graphql_url == "https://acme.myshopify.com/admin/api/2026-10/graphql.json"


def test_connect_flow_end_to_end(sandbox_client, shop):
    ctx = make_ctx(shop["id"])
    client = ShopifyClient(ctx)
    url = client.authorize_url(state="state-42", redirect_uri=REDIRECT_URI)

    page = sandbox_client.get(url)
    assert page.status_code == 200
    assert "Acme Foods" in page.text and shop["id"] in page.text
    assert "read_orders" in page.text and "Install app" in page.text
    assert read_form(page.text).fields["state"] == "state-42"

    params = consent(sandbox_client, url)
    assert set(params) == {"code", "hmac", "host", "shop", "state", "timestamp"}
    assert params["state"] == "state-42" and params["shop"] == shop["id"]
    client.verify_callback(params)

    tokens = client.exchange_code(params, redirect_uri=REDIRECT_URI)
    assert tokens.access_token.startswith("shpat_")
    assert tokens.refresh_token == "" and tokens.expires_at is None and tokens.refresh_expires_at is None
    assert tokens.shop_id == shop["id"]
    assert tokens.scope == settings.PLATFORMS["shopify"]["scopes"]

    info = ShopifyClient(with_tokens(ctx, tokens)).test_connection()
    assert info.shop_id == shop["id"] and info.shop_name == "Acme Foods"
    assert info.extra["gid"] == shop["gid"]

    seen = state(sandbox_client, shop["id"])
    assert seen["installed"] is True
    assert seen["tokens"]["active"] == 1
    assert [r.operation for r in rows()] == ["exchange_code", "test_connection"]


def test_callback_accepts_a_querydict_with_array_params(shop):
    params = signed_callback(shop["id"])
    query = QueryDict(mutable=True)
    for key, value in params.items():
        if key != "hmac":
            query[key] = value
    query.setlist("ids[]", ["2", "1"])
    query["hmac"] = signing.oauth_hmac(SECRET, query)
    ShopifyClient(make_ctx(shop["id"])).verify_callback(query)


@pytest.mark.parametrize(
    ("tamper", "code"),
    [
        (lambda p, d: {**p, "code": "other"}, "invalid_hmac"),
        (lambda p, d: {k: v for k, v in p.items() if k != "hmac"}, "invalid_hmac"),
        (lambda p, d: {**p, "hmac": signing.oauth_hmac("not-our-secret", p)}, "invalid_hmac"),
        (lambda p, d: signed_callback(d, timestamp=str(int(time.time()) - 24 * 3600 - 60)), "stale_callback"),
        (lambda p, d: signed_callback(d, timestamp="yesterday"), "invalid_timestamp"),
        (lambda p, d: signed_callback("other-shop.myshopify.com"), "shop_mismatch"),
        (lambda p, d: signed_callback("evil.example.com"), "invalid_shop"),
        (lambda p, d: signed_callback("-bad.myshopify.com"), "invalid_shop"),
    ],
)
def test_callback_rejections(shop, tamper, code):
    params = tamper(signed_callback(shop["id"]), shop["id"])
    with pytest.raises(AuthError) as exc:
        ShopifyClient(make_ctx(shop["id"])).verify_callback(params)
    assert exc.value.code == code


def test_callback_just_under_24_hours_is_accepted(shop):
    params = signed_callback(shop["id"], timestamp=str(int(time.time()) - 24 * 3600 + 60))
    ShopifyClient(make_ctx(shop["id"])).verify_callback(params)


def test_code_is_single_use(sandbox_client, shop):
    ctx = make_ctx(shop["id"])
    client = ShopifyClient(ctx)
    params = consent(sandbox_client, client.authorize_url(state="s", redirect_uri=REDIRECT_URI))
    client.exchange_code(params, redirect_uri=REDIRECT_URI)
    with pytest.raises(AuthError) as exc:
        client.exchange_code(params, redirect_uri=REDIRECT_URI)
    assert exc.value.code == "invalid_request"
    assert "not found or was already used" in exc.value.message
    assert state(sandbox_client, shop["id"])["tokens"]["active"] == 1


def test_forged_code_and_wrong_client_secret_are_auth_errors(sandbox_client, shop):
    with pytest.raises(AuthError):
        ShopifyClient(make_ctx(shop["id"])).exchange_code({"code": "f" * 32}, redirect_uri=REDIRECT_URI)
    params = consent(
        sandbox_client,
        ShopifyClient(make_ctx(shop["id"])).authorize_url(state="s", redirect_uri=REDIRECT_URI),
    )
    with pytest.raises(AuthError) as exc:
        ShopifyClient(make_ctx(shop["id"], client_secret="wrong")).exchange_code(
            params, redirect_uri=REDIRECT_URI
        )
    assert exc.value.code == "invalid_client"
    assert [r.attempt for r in rows("exchange_code")] == [1, 1]  # refusals are not retried


def test_missing_app_credentials_are_reported_clearly(shop):
    with pytest.raises(AuthError) as exc:
        ShopifyClient(make_ctx(shop["id"], client_secret="")).exchange_code({"code": "x"}, redirect_uri="")
    assert exc.value.code == "app_not_configured"


def test_callback_without_code(shop):
    with pytest.raises(AuthError) as exc:
        ShopifyClient(make_ctx(shop["id"])).exchange_code({"shop": shop["id"]}, redirect_uri=REDIRECT_URI)
    assert exc.value.code == "missing_code"


# --- tokens ----------------------------------------------------------------------------------------------
def test_non_expiring_token_rejected_is_auth_error_not_token_expired(sandbox_client, connected):
    bad = make_ctx(connected.shop_id, tokens={"access_token": "shpat_" + "0" * 32})
    with pytest.raises(AuthError) as exc:
        ShopifyClient(bad).test_connection()
    assert not isinstance(exc.value, TokenExpired)
    assert exc.value.status == 401
    assert "Invalid API key or access token" in exc.value.message
    # expiring tokens are expired on demand; a non-expiring offline token lives on, as on Shopify
    set_faults(sandbox_client, expire_tokens=True)
    assert ShopifyClient(connected).test_connection().shop_id == connected.shop_id


def test_no_token_is_an_auth_error_without_a_call(shop):
    with pytest.raises(AuthError) as exc:
        ShopifyClient(make_ctx(shop["id"])).test_connection()
    assert exc.value.code == "no_token"
    assert not rows()


def test_refresh_without_refresh_token_asks_to_reauthorize(connected):
    with pytest.raises(AuthError) as exc:
        ShopifyClient(connected).refresh()
    assert exc.value.code == "reauthorize"
    assert not rows("refresh_token")


def test_expiring_tokens_expire_refresh_and_rotate(sandbox_client, shop):
    ctx = make_ctx(shop["id"], expiring_tokens=True)
    before = datetime.now(UTC)
    first = authorize(sandbox_client, ctx)
    assert first.refresh_token and first.access_token.startswith("shpat_")
    assert first.expires_at.tzinfo is not None
    assert before + timedelta(seconds=3590) <= first.expires_at <= datetime.now(UTC) + timedelta(seconds=3600)
    assert first.refresh_expires_at - first.expires_at > timedelta(days=80)
    assert rows("exchange_code")[0].request_body.count('"expiring": "1"') == 1
    with_tokens(ctx, first)
    ShopifyClient(ctx).test_connection()

    set_faults(sandbox_client, expire_tokens=True)
    with pytest.raises(TokenExpired):
        ShopifyClient(ctx).test_connection()
    assert len(rows("test_connection")) == 2  # a 401 is not retried

    second = ShopifyClient(ctx).refresh()
    assert second.access_token != first.access_token and second.refresh_token != first.refresh_token
    assert second.shop_id == shop["id"] and second.expires_at > datetime.now(UTC)
    assert ShopifyClient(make_ctx(shop["id"], tokens=second.as_secret_dict())).test_connection()

    # rotation: once the new refresh token is used, the previous one is refused
    third = ShopifyClient(make_ctx(shop["id"], tokens=second.as_secret_dict())).refresh()
    with pytest.raises(AuthError) as exc:
        ShopifyClient(make_ctx(shop["id"], tokens=first.as_secret_dict())).refresh()
    assert not isinstance(exc.value, TokenExpired)
    assert exc.value.code == "invalid_grant"
    assert ShopifyClient(make_ctx(shop["id"], tokens=third.as_secret_dict())).test_connection()


def test_without_expiring_setting_no_expiring_param_is_sent(connected):
    assert '"expiring"' not in rows("exchange_code")[0].request_body


# --- revoke ----------------------------------------------------------------------------------------------
def test_revoke_uninstalls_the_app(sandbox_client, connected):
    client = ShopifyClient(connected)
    client.register_webhooks(WEBHOOK_URL)
    assert client.revoke_url(redirect_uri="https://wms.example/") is None
    client.revoke()
    seen = state(sandbox_client, connected.shop_id)
    assert seen["installed"] is False
    assert seen["webhooks"] == []
    assert seen["tokens"]["active"] == 0 and seen["tokens"]["revoked"] == 1
    with pytest.raises(AuthError):
        client.test_connection()
    with pytest.raises(AuthError):  # the caller treats this as "already revoked"
        client.revoke()


# --- webhooks --------------------------------------------------------------------------------------------
def test_register_webhooks_is_idempotent_and_clear_removes_them(sandbox_client, connected):
    client = ShopifyClient(connected)
    registrations = client.register_webhooks(WEBHOOK_URL)
    assert [r.topic for r in registrations] == list(WEBHOOK_TOPICS)
    assert set(WEBHOOK_TOPICS) >= {"ORDERS_CREATE", "ORDERS_UPDATED", "ORDERS_CANCELLED", "APP_UNINSTALLED"}
    assert all(r.remote_id.startswith("gid://shopify/WebhookSubscription/") for r in registrations)
    assert all(r.address == WEBHOOK_URL for r in registrations)
    remote = state(sandbox_client, connected.shop_id)["webhooks"]
    assert {(w["topic"], w["uri"], w["id"], w["format"]) for w in remote} == {
        (r.topic, WEBHOOK_URL, r.remote_id, "JSON") for r in registrations
    }

    again = client.register_webhooks(WEBHOOK_URL)
    assert [r.remote_id for r in again] == [r.remote_id for r in registrations]
    assert len(state(sandbox_client, connected.shop_id)["webhooks"]) == len(WEBHOOK_TOPICS)
    assert len(rows("register_webhook")) == len(WEBHOOK_TOPICS)  # nothing created the second time

    stored = [{"topic": r.topic, "remote_id": r.remote_id, "address": r.address} for r in registrations]
    client.clear_webhooks(stored)
    assert state(sandbox_client, connected.shop_id)["webhooks"] == []
    client.clear_webhooks(stored)  # already gone counts as cleared
    client.clear_webhooks([{"topic": "x"}, {}])  # nothing to clear


def test_clear_webhooks_after_uninstall_counts_as_cleared(sandbox_client, connected):
    client = ShopifyClient(connected)
    registrations = client.register_webhooks(WEBHOOK_URL)
    sandbox_client.post(f"{CONSOLE}/uninstall", json={"shop": connected.shop_id})
    client.clear_webhooks([{"remote_id": r.remote_id} for r in registrations])
    assert len(rows("delete_webhook")) == 1  # stopped at the first 401


def test_register_webhooks_without_order_scope_fails_and_rolls_back(sandbox_client, shop):
    ctx = make_ctx(shop["id"], scopes="read_products")
    with_tokens(ctx, authorize(sandbox_client, ctx))
    with pytest.raises(PlatformError) as exc:
        ShopifyClient(ctx).register_webhooks(WEBHOOK_URL)
    assert "ORDERS_CREATE" in exc.value.message
    assert "cannot create a webhook subscription" in exc.value.message
    assert state(sandbox_client, shop["id"])["webhooks"] == []  # APP_UNINSTALLED was deleted again
    assert len(rows("delete_webhook")) == 1


def test_lost_create_answer_reuses_the_subscription(sandbox_client, connected):
    """The first create goes through but its answer is broken; the retry is told the address is
    taken and the client picks up the subscription that exists."""
    set_faults(sandbox_client, malformed_next=1)
    remote_id = ShopifyClient(connected)._create_webhook("ORDERS_CREATE", WEBHOOK_URL)
    webhooks = state(sandbox_client, connected.shop_id)["webhooks"]
    assert [(w["topic"], w["id"]) for w in webhooks] == [("ORDERS_CREATE", remote_id)]
    assert [r.error.startswith("malformed") for r in rows("register_webhook")] == [True, False]


def test_verify_webhook(shop):
    body = b'{"id":820982911946154508,"email":"jon@example.com"}'
    client = ShopifyClient(make_ctx(shop["id"], client_secret="hush"))
    good = "D0UMXmhjwBRi4y66TmhJrDlhQABD7zI2fm3p6/QLMo8="
    assert client.verify_webhook({"X-Shopify-Hmac-Sha256": good, "X-Shopify-Topic": "orders/updated"}, body)
    assert client.verify_webhook({"x-shopify-hmac-sha256": good}, body)
    assert client.verify_webhook({"HTTP_X_SHOPIFY_HMAC_SHA256": good}, body)
    assert client.verify_webhook({"X-Shopify-Hmac-Sha256": good, "X-Shopify-Shop-Domain": shop["id"]}, body)
    assert not client.verify_webhook(
        {"X-Shopify-Hmac-Sha256": good, "X-Shopify-Shop-Domain": "other.myshopify.com"}, body
    )
    assert not client.verify_webhook({"X-Shopify-Hmac-Sha256": good}, body + b"\n")
    assert not client.verify_webhook({"X-Shopify-Hmac-Sha256": "AAAA" + good[4:]}, body)
    assert not client.verify_webhook({}, body)
    assert not ShopifyClient(make_ctx(shop["id"])).verify_webhook({"X-Shopify-Hmac-Sha256": good}, body)


# --- failures --------------------------------------------------------------------------------------------
def test_server_errors_are_retried_then_succeed(sandbox_client, connected, _no_backoff_sleep):
    set_faults(sandbox_client, fail_next=2)
    assert ShopifyClient(connected).test_connection().shop_name == "Acme Foods"
    calls = rows("test_connection")
    assert [(c.attempt, c.status_code, c.outcome) for c in calls] == [
        (1, 503, "failure"),
        (2, 503, "failure"),
        (3, 200, "success"),
    ]
    assert calls[0].error.startswith("http_503")
    assert len(_no_backoff_sleep) == 2


def test_graphql_throttle_is_retried_after_the_bucket_refills(sandbox_client, _no_backoff_sleep):
    shop = new_shop(sandbox_client, name="Slow Shop", restore_rate=0.5)
    ctx = make_ctx(shop["id"])
    with_tokens(ctx, authorize(sandbox_client, ctx))
    set_faults(sandbox_client, throttle_next=1)
    ShopifyClient(ctx).test_connection()
    # the query costs 1 point, the bucket was empty and refills 0.5 point/s: 2 s
    assert _no_backoff_sleep == [2.0]
    calls = rows("test_connection")
    assert [(c.status_code, c.outcome) for c in calls] == [(200, "failure"), (200, "success")]
    assert "THROTTLED" in calls[0].error


def test_rest_throttle_honours_retry_after(sandbox_client, shop, _no_backoff_sleep):
    ctx = make_ctx(shop["id"])
    client = ShopifyClient(ctx)
    params = consent(sandbox_client, client.authorize_url(state="s", redirect_uri=REDIRECT_URI))
    set_faults(sandbox_client, throttle_next=1)
    assert client.exchange_code(params, redirect_uri=REDIRECT_URI).access_token
    assert _no_backoff_sleep == [2.0]
    assert [c.status_code for c in rows("exchange_code")] == [429, 200]


def test_throttling_longer_than_any_backoff_is_not_retried(sandbox_client, _no_backoff_sleep):
    shop = new_shop(sandbox_client, name="Tiny Bucket", bucket_size=25, restore_rate=0.001)
    ctx = make_ctx(shop["id"])
    with_tokens(ctx, authorize(sandbox_client, ctx))
    client = ShopifyClient(ctx)
    client._create_webhook("ORDERS_CREATE", WEBHOOK_URL)  # 10 points
    client._create_webhook("ORDERS_UPDATED", WEBHOOK_URL)  # 10 points, 5 left
    with pytest.raises(RateLimited) as exc:
        client._create_webhook("ORDERS_CANCELLED", WEBHOOK_URL)
    assert exc.value.code == "THROTTLED"
    assert exc.value.retry_after > 1000  # 5 missing points at 0.001/s
    assert exc.value.retry_after > settings.HTTP_MAX_BACKOFF_SECONDS
    assert _no_backoff_sleep == []  # given up at once: the job runs again later
    assert len(state(sandbox_client, shop["id"])["webhooks"]) == 2


def test_query_over_the_max_cost_is_a_platform_error(sandbox_client):
    shop = new_shop(sandbox_client, name="Small", bucket_size=50)
    ctx = make_ctx(shop["id"])
    with_tokens(ctx, authorize(sandbox_client, ctx))
    with pytest.raises(PlatformError) as exc:
        ShopifyClient(ctx).register_webhooks(WEBHOOK_URL)  # listing 100 subscriptions costs 102
    assert exc.value.code == "MAX_COST_EXCEEDED"
    assert len(rows("list_webhooks")) == 1


def test_timeouts_become_transient_after_all_attempts(sandbox_client, connected):
    set_faults(sandbox_client, timeout_next=10)
    with pytest.raises(TransientError) as exc:
        ShopifyClient(connected).test_connection()
    assert exc.value.code == "timeout"
    calls = rows("test_connection")
    assert len(calls) == settings.HTTP_MAX_ATTEMPTS
    assert all(c.status_code is None and c.outcome == "failure" for c in calls)


def test_interactive_calls_retry_less(sandbox_client, connected):
    set_faults(sandbox_client, timeout_next=10)
    with pytest.raises(TransientError):
        ShopifyClient(connected, interactive=True).test_connection()
    assert len(rows("test_connection")) == settings.HTTP_INTERACTIVE_MAX_ATTEMPTS


def test_malformed_body_is_retried_then_reported(sandbox_client, connected):
    set_faults(sandbox_client, malformed_next=1)
    assert ShopifyClient(connected).test_connection().shop_id == connected.shop_id
    set_faults(sandbox_client, malformed_rate=1)
    with pytest.raises(TransientError) as exc:
        ShopifyClient(connected).test_connection()
    assert exc.value.code == "malformed"
    assert "Malformed response" in exc.value.message


@pytest.mark.parametrize(("status", "code"), [("frozen", "shop_frozen"), ("locked", "shop_locked")])
def test_frozen_or_locked_shop_is_a_clear_platform_error(sandbox_client, connected, status, code):
    sandbox_client.post(f"{CONSOLE}/shop_status", json={"shop": connected.shop_id, "status": status})
    with pytest.raises(PlatformError) as exc:
        ShopifyClient(connected).test_connection()
    assert exc.value.code == code
    assert len(rows("test_connection")) == 1  # not retried
    sandbox_client.post(f"{CONSOLE}/shop_status", json={"shop": connected.shop_id, "status": "active"})
    assert ShopifyClient(connected).test_connection()


def test_unknown_shop_is_an_auth_error(connected):
    ctx = make_ctx("gone-shop.myshopify.com", tokens=connected.tokens)
    with pytest.raises(AuthError) as exc:
        ShopifyClient(ctx).test_connection()
    assert exc.value.code == "not_found"


def test_unsupported_field_is_a_platform_error_with_shopifys_message(connected):
    with pytest.raises(PlatformError) as exc:
        ShopifyClient(connected)._graphql(
            "{ shop { id } files(first: 1) { nodes { id } } }", operation="probe", pick=dict
        )
    assert exc.value.code == "undefinedField"
    assert exc.value.message == "Field 'files' doesn't exist on type 'QueryRoot'"
    assert len(rows("probe")) == 1


# --- API log ---------------------------------------------------------------------------------------------
def test_api_log_never_holds_a_secret(sandbox_client, shop):
    ctx = make_ctx(shop["id"], expiring_tokens=True)
    client = ShopifyClient(ctx)
    params = consent(sandbox_client, client.authorize_url(state="s", redirect_uri=REDIRECT_URI))
    set_faults(sandbox_client, fail_next=1)
    first = client.exchange_code(params, redirect_uri=REDIRECT_URI)
    with_tokens(ctx, first)
    registrations = ShopifyClient(ctx).register_webhooks(WEBHOOK_URL)
    set_faults(sandbox_client, expire_tokens=True)
    with pytest.raises(TokenExpired):
        ShopifyClient(ctx).test_connection()
    second = ShopifyClient(ctx).refresh()
    ctx2 = make_ctx(shop["id"], tokens=second.as_secret_dict(), expiring_tokens=True)
    ShopifyClient(ctx2).test_connection()
    ShopifyClient(ctx2).clear_webhooks([{"remote_id": r.remote_id} for r in registrations])
    ShopifyClient(ctx2).revoke()

    secrets = [
        SECRET,
        params["code"],
        params["hmac"],
        first.access_token,
        first.refresh_token,
        second.access_token,
        second.refresh_token,
    ]
    logged = rows()
    assert len(logged) >= 12
    assert {r.attempt for r in rows("exchange_code")} == {1, 2}
    for row in logged:
        for column in TEXT_COLUMNS:
            text = getattr(row, column)
            for secret in secrets:
                assert secret not in text, (row.operation, column)
    assert any(
        "X-Shopify-Access-Token" in r.request_headers or "x-shopify-access-token" in r.request_headers
        for r in logged
    )
