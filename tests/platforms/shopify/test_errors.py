"""Error mapping for response shapes the sandbox does not produce on its own (canned responses)."""

import json

import httpx
import pytest

from ecbridge.platforms import http as platform_http
from ecbridge.platforms.errors import (
    AuthError,
    PlatformError,
    RateLimited,
    TokenExpired,
    TransientError,
)
from ecbridge.platforms.http import PlatformHttp
from ecbridge.platforms.shopify.client import ShopifyClient, throttle_retry_after
from tests.platforms.shopify.helpers import make_ctx

DOMAIN = "acme.myshopify.com"
INVALID_TOKEN = {"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"}
THROTTLED = {
    "errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}],
    "extensions": {
        "cost": {
            "requestedQueryCost": 752,
            "actualQueryCost": None,
            "throttleStatus": {"maximumAvailable": 1000.0, "currentlyAvailable": 242, "restoreRate": 50.0},
        }
    },
}


def canned(status=200, body=None, headers=None, text=None):
    """Route every platform call to one fixed answer; returns the list of requests seen."""
    seen = []

    def handler(request):
        seen.append(request)
        if text is not None:
            return httpx.Response(status, text=text, headers=headers)
        return httpx.Response(status, json=body, headers=headers)

    return seen, platform_http.use_transport(httpx.MockTransport(handler))


def client(tokens=None, **settings):
    ctx = make_ctx(DOMAIN, tokens=tokens if tokens is not None else {"access_token": "shpat_x"}, **settings)
    return ShopifyClient(ctx, http=PlatformHttp(ctx, recorder=lambda **kw: None))


@pytest.mark.parametrize(
    ("status", "body", "tokens", "error", "code"),
    [
        (401, INVALID_TOKEN, {"access_token": "shpat_x"}, AuthError, "invalid_token"),
        (
            401,
            INVALID_TOKEN,
            {"access_token": "shpat_x", "refresh_token": "r"},
            TokenExpired,
            "invalid_token",
        ),
        (402, {"errors": "Unavailable Shop"}, None, PlatformError, "shop_frozen"),
        (
            403,
            {"errors": "[API] This action requires merchant approval for read_orders scope."},
            None,
            AuthError,
            "access_denied",
        ),
        (404, {"errors": "Not Found"}, None, AuthError, "not_found"),
        (423, {"errors": "Locked"}, None, PlatformError, "shop_locked"),
        (
            400,
            {"errors": {"query": "Required parameter missing or invalid"}},
            None,
            PlatformError,
            "http_400",
        ),
    ],
)
def test_http_status_mapping_without_retry(status, body, tokens, error, code):
    seen, transport = canned(status, body)
    with transport, pytest.raises(error) as exc:
        client(tokens).test_connection()
    assert type(exc.value) is error
    assert exc.value.code == code and exc.value.status == status
    assert len(seen) == 1


def test_403_message_keeps_shopifys_words():
    _seen, transport = canned(
        403, {"errors": "[API] This action requires merchant approval for read_orders scope."}
    )
    with transport, pytest.raises(AuthError) as exc:
        client().test_connection()
    assert "merchant approval for read_orders" in exc.value.message


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_5xx_is_transient_and_retried(settings, status):
    seen, transport = canned(status, text="<html>oops</html>")
    with transport, pytest.raises(TransientError) as exc:
        client().test_connection()
    assert exc.value.code == f"http_{status}"
    assert len(seen) == settings.HTTP_MAX_ATTEMPTS


def test_429_honours_retry_after_header(_no_backoff_sleep):
    _seen, transport = canned(
        429, {"errors": "Exceeded 2 calls per second for api client."}, {"Retry-After": "2.0"}
    )
    with transport, pytest.raises(RateLimited) as exc:
        client().test_connection()
    assert exc.value.retry_after == 2.0
    assert set(_no_backoff_sleep) == {2.0}


def test_429_with_graphql_throttle_body_uses_the_bucket():
    _seen, transport = canned(429, THROTTLED)
    with transport, pytest.raises(RateLimited) as exc:
        client().test_connection()
    assert exc.value.retry_after == pytest.approx((752 - 242) / 50.0)


def test_200_throttled_uses_the_bucket(_no_backoff_sleep):
    seen, transport = canned(200, THROTTLED)
    with transport, pytest.raises(RateLimited) as exc:
        client().test_connection()
    assert exc.value.code == "THROTTLED"
    assert exc.value.retry_after == pytest.approx(10.2)
    assert _no_backoff_sleep == [pytest.approx(10.2)] * (len(seen) - 1)


def test_throttle_retry_after_edge_cases():
    assert throttle_retry_after({}) is None
    assert throttle_retry_after({"extensions": {"cost": {"requestedQueryCost": 1}}}) is None
    plenty = json.loads(json.dumps(THROTTLED))
    plenty["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] = 900
    assert throttle_retry_after(plenty) is None  # falls back to exponential backoff
    tiny = json.loads(json.dumps(THROTTLED))
    tiny["extensions"]["cost"]["requestedQueryCost"] = 242.1
    assert throttle_retry_after(tiny) == 0.05  # never a busy loop


@pytest.mark.parametrize(
    ("errors", "error", "code", "attempts"),
    [
        (
            [{"message": "Access denied for orders field.", "extensions": {"code": "ACCESS_DENIED"}}],
            AuthError,
            "ACCESS_DENIED",
            1,
        ),
        (
            [
                {
                    "message": "Internal error. Looks like something went wrong on our end.",
                    "extensions": {"code": "INTERNAL_SERVER_ERROR"},
                }
            ],
            TransientError,
            "INTERNAL_SERVER_ERROR",
            5,
        ),
        (
            [{"message": "Field 'x' doesn't exist on type 'Shop'", "extensions": {"code": "undefinedField"}}],
            PlatformError,
            "undefinedField",
            1,
        ),
        ([{"message": "Something else"}], PlatformError, "graphql_error", 1),
        ("Not a list", PlatformError, "graphql_error", 1),
    ],
)
def test_graphql_errors_on_200(settings, errors, error, code, attempts):
    settings.HTTP_MAX_ATTEMPTS = 5
    seen, transport = canned(200, {"errors": errors, "data": None})
    with transport, pytest.raises(error) as exc:
        client().test_connection()
    assert exc.value.code == code
    assert len(seen) == attempts


@pytest.mark.parametrize(
    "kwargs",
    [
        {"text": "not json"},
        {"body": {"data": None}},
        {"body": ["data"]},
        {"body": {"data": {"shop": None}}},
        {"body": {"data": {"shop": {"id": "gid://shopify/Shop/1"}}}},
    ],
)
def test_malformed_graphql_answers_are_transient(settings, kwargs):
    seen, transport = canned(200, **kwargs)
    with transport, pytest.raises(TransientError) as exc:
        client().test_connection()
    assert exc.value.code == "malformed"
    assert len(seen) == settings.HTTP_MAX_ATTEMPTS


def test_request_shape():
    seen, transport = canned(
        200, {"data": {"shop": {"id": "gid://shopify/Shop/1", "name": "A", "myshopifyDomain": DOMAIN}}}
    )
    with transport:
        info = client({"access_token": "shpat_abc"}, shop_url_template="https://{shop}").test_connection()
    assert info.shop_id == DOMAIN
    request = seen[0]
    assert request.method == "POST"
    assert str(request.url) == f"https://{DOMAIN}/admin/api/2026-07/graphql.json"
    assert request.headers["X-Shopify-Access-Token"] == "shpat_abc"
    assert request.headers["Content-Type"] == "application/json"
    assert "myshopifyDomain" in json.loads(request.content)["query"]


@pytest.mark.parametrize(
    ("status", "body", "error", "code"),
    [
        (
            400,
            {
                "error": "invalid_request",
                "error_description": "The authorization code was not found or was already used",
            },
            AuthError,
            "invalid_request",
        ),
        (401, {"error": "invalid_client"}, AuthError, "invalid_client"),
        (400, {"error": "invalid_grant"}, AuthError, "invalid_grant"),
        (403, "<html>forbidden</html>", AuthError, "invalid_request"),
    ],
)
def test_token_endpoint_refusals(status, body, error, code):
    kwargs = {"text": body} if isinstance(body, str) else {"body": body}
    seen, transport = canned(status, **kwargs)
    with transport, pytest.raises(error) as exc:
        client({"access_token": "a", "refresh_token": "r"}).refresh()
    assert type(exc.value) is error and exc.value.code == code
    assert len(seen) == 1
    sent = json.loads(seen[0].content)
    assert sent == {
        "client_id": "sandbox-shopify-client",
        "client_secret": "sandbox-shopify-secret",
        "grant_type": "refresh_token",
        "refresh_token": "r",
    }


def test_token_answer_without_access_token_is_malformed():
    _seen, transport = canned(200, {"scope": "read_orders"})
    with transport, pytest.raises(TransientError):
        client().exchange_code({"code": "c"}, redirect_uri="")


def test_refresh_keeps_shopifys_expiry_fields():
    _seen, transport = canned(
        200,
        {
            "access_token": "shpat_new",
            "scope": "read_orders",
            "expires_in": 60,
            "refresh_token": "shprt_new",
            "refresh_token_expires_in": 120,
        },
    )
    with transport:
        tokens = client({"access_token": "a", "refresh_token": "r"}).refresh()
    assert (tokens.access_token, tokens.refresh_token, tokens.scope) == (
        "shpat_new",
        "shprt_new",
        "read_orders",
    )
    assert (tokens.refresh_expires_at - tokens.expires_at).total_seconds() == pytest.approx(60, abs=1)


def test_revoke_user_errors_are_platform_errors():
    _seen, transport = canned(
        200,
        {
            "data": {
                "appUninstall": {
                    "app": None,
                    "userErrors": [
                        {
                            "field": None,
                            "message": "An error occurred while uninstalling the app.",
                            "code": "APP_UNINSTALL_ERROR",
                        }
                    ],
                }
            }
        },
    )
    with transport, pytest.raises(PlatformError) as exc:
        client().revoke()
    assert exc.value.code == "APP_UNINSTALL_ERROR"
    assert "uninstalling" in exc.value.message


def test_clear_webhooks_reports_other_user_errors_after_trying_all():
    seen, transport = canned(
        200,
        {
            "data": {
                "webhookSubscriptionDelete": {
                    "deletedWebhookSubscriptionId": None,
                    "userErrors": [{"field": ["id"], "message": "Something odd"}],
                }
            }
        },
    )
    with transport, pytest.raises(PlatformError) as exc:
        client().clear_webhooks(
            [
                {"remote_id": "gid://shopify/WebhookSubscription/1"},
                {"remote_id": "gid://shopify/WebhookSubscription/2"},
            ]
        )
    assert len(seen) == 2
    assert "Something odd" in exc.value.message


def test_clear_webhooks_with_an_expired_token_asks_for_a_refresh():
    _seen, transport = canned(401, INVALID_TOKEN)
    with transport, pytest.raises(TokenExpired):
        client({"access_token": "a", "refresh_token": "r"}).clear_webhooks([{"remote_id": "gid://x/1"}])
