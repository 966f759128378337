"""Shopify Admin API client (reference/platforms-global.md §2): OAuth authorization-code grant with
offline tokens (optionally expiring, with rotating refresh tokens), GraphQL calls mapped to typed
errors, and webhook subscriptions.

Decision (401): Shopify answers an expired, revoked or unknown token alike (401, "[API] Invalid API
key or access token"). A 401 becomes ``TokenExpired`` when the account holds a refresh token (only
expiring tokens come with one, so a refresh may recover; if the refresh is refused too, that is an
``AuthError``), and ``AuthError`` otherwise (a non-expiring offline token only dies on uninstall)."""

from __future__ import annotations

import hashlib
import json
import math
import re
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar
from urllib.parse import urlencode

import httpx
from django.utils.translation import gettext as _

from ecbridge.platforms.base import (
    Client,
    ConnectionInfo,
    OrderData,
    OrderWindow,
    PlatformProduct,
    ShipmentOutcome,
    ShipmentRequest,
    ShipmentResult,
    StockOutcome,
    StockTarget,
    TokenSet,
    WebhookEvent,
    WebhookKind,
    WebhookRegistration,
)
from ecbridge.platforms.errors import (
    AuthError,
    PlatformCallError,
    PlatformError,
    RateLimited,
    TokenExpired,
    TransientError,
)
from ecbridge.platforms.http import parse_retry_after
from ecbridge.platforms.settings import platform_settings
from ecbridge.platforms.shopify import SHOP_DOMAIN_PATTERN, SPEC, mapping, queries, signing

T = TypeVar("T")
SHOP_DOMAIN_RE = re.compile(SHOP_DOMAIN_PATTERN)
DEFAULT_API_VERSION = "2026-07"
CALLBACK_MAX_AGE_SECONDS = 24 * 60 * 60  # what Shopify's SDKs accept
# APP_UNINSTALLED first: if an order topic is refused, what was created in this call is removed again.
WEBHOOK_TOPICS = ("APP_UNINSTALLED", "ORDERS_CREATE", "ORDERS_UPDATED", "ORDERS_CANCELLED")
MAX_WEBHOOK_PAGES = 20
MESSAGE_MAX_CHARS = 500
# Orders: Shopify rejects a query whose *requested* cost exceeds the single-query maximum (1000,
# UNCONFIRMED; a setting). Requested cost = 2 + first x per-order cost, and nested connections
# multiply, so ``orders(first:100){lineItems(first:100)}`` would ask ~100,000 points. The nested
# page sizes are settings; the order page size is derived from them (12 orders at the defaults).
MAX_QUERY_COST = 1000
ORDER_LINES_PAGE = 10
FULFILLMENT_ORDERS_PAGE = 2
FULFILLMENT_ORDER_LINES_PAGE = 10
MAX_NODES_PER_CALL = 250  # Shopify's input array limit
MAX_LINE_PAGES = 40  # 10,000 lines per order is beyond any real order; a loop guard
ORDER_GID_RE = re.compile(r"gid://shopify/Order/\d+")
# Stock (reference §2.7): input arrays hold at most 250 items. Requested query cost per listed
# variant (queries.PRODUCT_VARIANTS), per variant looked up by id and per inventory level read.
MAX_STOCK_BATCH = 250
PRODUCT_VARIANT_COST = 8
VARIANT_REF_COST = 6
LEVEL_READ_COST = 3
# userError codes worth the same call again later (the others need a change first)
RETRYABLE_STOCK_CODES = frozenset({"IDEMPOTENCY_CONCURRENT_REQUEST"})


def _platform_message(response: httpx.Response) -> str:
    """Shopify's own words from an error body, whatever its shape; never raises."""
    try:
        body = response.json()
    except ValueError:
        text = response.text.strip()
        return "" if text.startswith("<") else text[:MESSAGE_MAX_CHARS]
    if isinstance(body, dict):
        if body.get("error_description") or body.get("error"):
            return str(body.get("error_description") or body.get("error"))[:MESSAGE_MAX_CHARS]
        errors = body.get("errors")
        if isinstance(errors, str):
            return errors[:MESSAGE_MAX_CHARS]
        if isinstance(errors, dict):
            return "; ".join(f"{k}: {v}" for k, v in errors.items())[:MESSAGE_MAX_CHARS]
        if isinstance(errors, list):
            return "; ".join(str(e.get("message", e)) if isinstance(e, dict) else str(e) for e in errors)[
                :MESSAGE_MAX_CHARS
            ]
    return ""


def throttle_retry_after(body: Any) -> float | None:
    """Seconds until the cost bucket holds what the query asked for, from ``extensions.cost``."""
    try:
        cost = body["extensions"]["cost"]
        status = cost["throttleStatus"]
        requested = float(cost["requestedQueryCost"])
        available = float(status["currentlyAvailable"])
        rate = float(status["restoreRate"])
    except (KeyError, TypeError, ValueError):
        return None
    if rate <= 0 or requested <= available:
        return None
    return round(max((requested - available) / rate, 0.05), 3)


def _header(headers, name: str) -> str | None:
    """Case-insensitive header lookup that also understands WSGI ``HTTP_X_...`` keys."""
    wanted = name.lower()
    for key, value in dict(headers or {}).items():
        key = str(key).lower().replace("_", "-")
        if key.startswith("http-"):
            key = key[5:]
        if key == wanted:
            return value
    return None


class ShopifyClient(Client):
    spec = SPEC
    # Shopify's search has no window limit; 30 days keeps one listing's cursor walk well under the
    # 25,000-object pagination depth for ordinary stores and lets a long outage catch up in a few
    # windows. A setting would not help: the importer reads it from the class.
    max_order_window = timedelta(days=30)

    # --- addresses and app credentials ------------------------------------------------------------
    @property
    def shop_domain(self) -> str:
        domain = str(self.ctx.credentials.get("shop_domain") or self.ctx.shop_id or "").strip().lower()
        if not SHOP_DOMAIN_RE.fullmatch(domain):
            raise AuthError(
                _("%(domain)s is not a store domain of the form name.myshopify.com.")
                % {"domain": domain or "—"},
                code="invalid_shop",
            )
        return domain

    @property
    def base_url(self) -> str:
        template = self.settings.get("shop_url_template") or "https://{shop}"
        return template.format(shop=self.shop_domain).rstrip("/")

    @property
    def graphql_url(self) -> str:
        version = self.settings.get("api_version") or DEFAULT_API_VERSION
        return f"{self.base_url}/admin/api/{version}/graphql.json"

    def _app_credentials(self) -> tuple[str, str]:
        client_id = str(self.settings.get("client_id") or "")
        secret = str(self.settings.get("client_secret") or "")
        if not client_id or not secret:
            raise AuthError(
                _("The Shopify app's client ID and secret are not configured."), code="app_not_configured"
            )
        return client_id, secret

    def _scopes(self) -> str:
        return ",".join(s.strip() for s in str(self.settings.get("scopes") or "").split(",") if s.strip())

    # --- OAuth -------------------------------------------------------------------------------------
    def authorize_url(self, *, state: str, redirect_uri: str) -> str:
        """Offline access (no ``grant_options[]``): the token outlives the user's session."""
        client_id, _secret = self._app_credentials()
        params = {"client_id": client_id}
        if scopes := self._scopes():
            params["scope"] = scopes
        params.update(redirect_uri=redirect_uri, state=state)
        return f"{self.base_url}/admin/oauth/authorize?{urlencode(params)}"

    def verify_callback(self, params) -> None:
        """HMAC first (nothing else is trusted before it), then age and shop. ``state`` is the
        caller's to check. ``params`` may be a dict or a QueryDict (``ids[]`` arrays kept)."""
        _client_id, secret = self._app_credentials()
        values = signing.normalize_params(params)
        if not signing.verify_oauth_hmac(secret, values):
            raise AuthError(
                _("The authorization callback's signature (hmac) is invalid."), code="invalid_hmac"
            )
        try:
            timestamp = int(str(values.get("timestamp", "")))
        except ValueError:
            raise AuthError(_("The authorization callback has no valid timestamp."), code="invalid_timestamp")
        if time.time() - timestamp > CALLBACK_MAX_AGE_SECONDS:
            raise AuthError(
                _("The authorization callback is more than 24 hours old; authorize again."),
                code="stale_callback",
            )
        shop = str(values.get("shop") or "").lower()
        if not SHOP_DOMAIN_RE.fullmatch(shop):
            raise AuthError(
                _("The authorization callback names an invalid store domain."), code="invalid_shop"
            )
        if shop != self.shop_domain:
            raise AuthError(
                _("The authorization came from store %(shop)s, but this account is for %(expected)s.")
                % {"shop": shop, "expected": self.shop_domain},
                code="shop_mismatch",
            )

    def exchange_code(self, params, *, redirect_uri: str) -> TokenSet:
        code = signing.normalize_params(params).get("code")
        if not isinstance(code, str) or not code:
            raise AuthError(_("The authorization callback carries no code."), code="missing_code")
        client_id, secret = self._app_credentials()
        body = {"client_id": client_id, "client_secret": secret, "code": code}
        # UNCONFIRMED: ``expiring=1`` is documented for token exchange/migration, assumed for the code grant.
        if self.settings.get("expiring_tokens", False):
            body["expiring"] = "1"
        return self.http.send(
            "POST",
            f"{self.base_url}/admin/oauth/access_token",
            operation="exchange_code",
            parse=self._parse_token,
            json=body,
            headers={"Accept": "application/json"},
        )

    def refresh(self) -> TokenSet:
        """Expiring offline tokens only; the refresh token rotates (the new one is returned)."""
        refresh_token = self.ctx.tokens.get("refresh_token")
        if not refresh_token:
            raise AuthError(
                _("This Shopify authorization has no refresh token; authorize again (re-authorize)."),
                code="reauthorize",
            )
        client_id, secret = self._app_credentials()
        return self.http.send(
            "POST",
            f"{self.base_url}/admin/oauth/access_token",
            operation="refresh_token",
            parse=self._parse_token,
            json={
                "client_id": client_id,
                "client_secret": secret,
                "grant_type": "refresh_token",
                "refresh_token": refresh_token,
            },
            headers={"Accept": "application/json"},
        )

    def _parse_token(self, response: httpx.Response) -> TokenSet:
        self._check_http(response, oauth=True)
        data = response.json()
        if not isinstance(data, dict):
            raise TypeError("the token response is not a JSON object")
        access = data["access_token"]
        if not isinstance(access, str) or not access:
            raise ValueError("the token response has an empty access_token")
        now = datetime.now(UTC)
        expires_in = data.get("expires_in")
        refresh_in = data.get("refresh_token_expires_in")
        return TokenSet(
            access_token=access,
            refresh_token=str(data.get("refresh_token") or ""),
            expires_at=now + timedelta(seconds=int(expires_in)) if expires_in not in (None, "") else None,
            refresh_expires_at=now + timedelta(seconds=int(refresh_in))
            if refresh_in not in (None, "")
            else None,
            shop_id=self.shop_domain,
            scope=str(data.get("scope") or ""),
        )

    # --- errors ------------------------------------------------------------------------------------
    def _check_http(self, response: httpx.Response, *, oauth: bool = False) -> None:
        status = response.status_code
        if 200 <= status < 300:
            return
        message = _platform_message(response)
        if status == 429:
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            if retry_after is None:
                try:
                    retry_after = throttle_retry_after(response.json())
                except ValueError:
                    retry_after = None
            raise RateLimited(
                message or _("Shopify throttled the request."),
                code="throttled",
                status=status,
                retry_after=retry_after,
            )
        if status >= 500:
            raise TransientError(
                message or _("Shopify is unavailable (HTTP %(status)s).") % {"status": status},
                code=f"http_{status}",
                status=status,
            )
        if oauth and status in (400, 401, 403):
            code = "invalid_request"
            try:
                body = response.json()
                code = str(body.get("error") or code) if isinstance(body, dict) else code
            except ValueError:
                pass
            raise AuthError(message or _("Shopify refused the authorization."), code=code, status=status)
        if status == 401:
            if self.ctx.tokens.get("refresh_token"):
                raise TokenExpired(
                    message or _("The access token expired."), code="invalid_token", status=status
                )
            raise AuthError(
                message or _("Shopify rejected the access token."), code="invalid_token", status=status
            )
        if status == 402:
            raise PlatformError(
                _(
                    "The Shopify store is frozen (unpaid bill); calls resume once the merchant pays. "
                    "%(detail)s"
                )
                % {"detail": message},
                code="shop_frozen",
                status=status,
            )
        if status == 423:
            raise PlatformError(
                _("The Shopify store is locked by Shopify; calls resume once it is unlocked. %(detail)s")
                % {"detail": message},
                code="shop_locked",
                status=status,
            )
        if status == 403:
            raise AuthError(
                _(
                    "Shopify refused access: a required permission (access scope) is missing; "
                    "authorize again. %(detail)s"
                )
                % {"detail": message},
                code="access_denied",
                status=status,
            )
        if status == 404:
            raise AuthError(
                _("The Shopify store was not found, or the app is no longer installed. %(detail)s")
                % {"detail": message},
                code="not_found",
                status=status,
            )
        raise PlatformError(
            message or _("Shopify answered HTTP %(status)s.") % {"status": status},
            code=f"http_{status}",
            status=status,
        )

    @staticmethod
    def _graphql_error(errors: Any, body: dict) -> PlatformCallError:
        if not isinstance(errors, list):  # a REST-style {"errors": "..."} on a 200
            return PlatformError(str(errors)[:MESSAGE_MAX_CHARS], code="graphql_error")
        items = [e for e in errors if isinstance(e, dict)]
        codes = [str((e.get("extensions") or {}).get("code") or "") for e in items]
        message = "; ".join(str(e.get("message") or "") for e in items if e.get("message"))[
            :MESSAGE_MAX_CHARS
        ]
        if "THROTTLED" in codes:
            return RateLimited(
                message or "Throttled", code="THROTTLED", retry_after=throttle_retry_after(body)
            )
        if "ACCESS_DENIED" in codes:  # a missing access scope: the authorization is not enough
            return AuthError(message, code="ACCESS_DENIED")
        if "INTERNAL_SERVER_ERROR" in codes:
            return TransientError(message, code="INTERNAL_SERVER_ERROR")
        code = next((c for c in codes if c), "graphql_error")
        return PlatformError(message or _("Shopify returned a GraphQL error."), code=code)

    def _parse_graphql(self, response: httpx.Response) -> dict:
        self._check_http(response)
        body = response.json()
        if not isinstance(body, dict):
            raise TypeError("the GraphQL response is not a JSON object")
        if body.get("errors"):
            raise self._graphql_error(body["errors"], body)
        data = body["data"]
        if not isinstance(data, dict):
            raise TypeError("the GraphQL response has no data object")
        return data

    def _graphql(
        self, query: str, variables: dict | None = None, *, operation: str, pick: Callable[[dict], T]
    ) -> T:
        """POST a document; ``pick`` reads the ``data`` object inside ``parse``, so a missing or
        mistyped field is a malformed answer (retried) rather than a crash."""
        token = self.ctx.tokens.get("access_token")
        if not token:
            raise AuthError(_("Not authorized yet: authorize the Shopify store first."), code="no_token")
        payload: dict[str, Any] = {"query": query}
        if variables:
            payload["variables"] = variables
        return self.http.send(
            "POST",
            self.graphql_url,
            operation=operation,
            parse=lambda response: pick(self._parse_graphql(response)),
            json=payload,
            headers={"X-Shopify-Access-Token": token, "Accept": "application/json"},
        )

    @staticmethod
    def _user_errors(payload: dict) -> list[dict]:
        errors = payload["userErrors"]
        if not isinstance(errors, list) or not all(isinstance(e, dict) for e in errors):
            raise TypeError("userErrors is not a list of objects")
        return errors

    @staticmethod
    def _object(data: dict, name: str) -> dict:
        value = data[name]
        if not isinstance(value, dict):
            raise TypeError(f"{name} is not an object")
        return value

    # --- connection --------------------------------------------------------------------------------
    def test_connection(self) -> ConnectionInfo:
        def pick(data: dict) -> ConnectionInfo:
            shop = self._object(data, "shop")
            domain, name = shop["myshopifyDomain"], shop["name"]
            if not isinstance(domain, str) or not domain or not isinstance(name, str):
                raise ValueError("shop has no myshopifyDomain/name")
            return ConnectionInfo(shop_id=domain, shop_name=name, extra={"gid": shop.get("id")})

        return self._graphql(queries.SHOP, operation="test_connection", pick=pick)

    def revoke(self) -> None:
        """The app uninstalls itself; Shopify then revokes the tokens and deletes its webhooks."""

        def pick(data: dict) -> None:
            errors = self._user_errors(self._object(data, "appUninstall"))
            if errors:
                raise PlatformError(
                    "; ".join(str(e.get("message")) for e in errors)[:MESSAGE_MAX_CHARS],
                    code=str(errors[0].get("code") or "user_error"),
                )

        self._graphql(queries.APP_UNINSTALL, operation="revoke", pick=pick)

    def revoke_url(self, *, redirect_uri: str) -> str | None:
        return None

    # --- webhooks ----------------------------------------------------------------------------------
    def _list_webhooks(self, topics) -> list[dict]:
        def pick(data: dict) -> tuple[list[dict], str | None]:
            connection = self._object(data, "webhookSubscriptions")
            nodes = [
                {"id": str(n["id"]), "topic": str(n["topic"]), "uri": str(n["uri"])}
                for n in connection["nodes"]
            ]
            page = connection["pageInfo"]
            return nodes, (str(page["endCursor"]) if page["hasNextPage"] and page["endCursor"] else None)

        found: list[dict] = []
        after = None
        for _page in range(MAX_WEBHOOK_PAGES):
            variables: dict[str, Any] = {"topics": list(topics)}
            if after:
                variables["after"] = after
            nodes, after = self._graphql(
                queries.WEBHOOK_SUBSCRIPTIONS, variables, operation="list_webhooks", pick=pick
            )
            found += nodes
            if not after:
                break
        return found

    def _create_webhook(self, topic: str, callback_url: str) -> str:
        def pick(data: dict) -> tuple[str, list[dict]]:
            payload = self._object(data, "webhookSubscriptionCreate")
            errors = self._user_errors(payload)
            if errors:
                return "", errors
            remote_id = self._object(payload, "webhookSubscription")["id"]
            if not isinstance(remote_id, str) or not remote_id:
                raise ValueError("the created subscription has no id")
            return remote_id, []

        remote_id, errors = self._graphql(
            queries.WEBHOOK_SUBSCRIPTION_CREATE,
            {"topic": topic, "webhookSubscription": {"uri": callback_url, "format": "JSON"}},
            operation="register_webhook",
            pick=pick,
        )
        if not errors:
            return remote_id
        if any("already been taken" in str(e.get("message")) for e in errors):
            # An earlier attempt got through but its answer was lost: use that subscription.
            for node in self._list_webhooks([topic]):
                if node["topic"] == topic and node["uri"] == callback_url:
                    return node["id"]
        raise PlatformError(
            _("Shopify refused the %(topic)s subscription: %(errors)s")
            % {"topic": topic, "errors": "; ".join(str(e.get("message")) for e in errors)},
            code="user_error",
        )

    def register_webhooks(self, callback_url: str) -> list[WebhookRegistration]:
        """Idempotent: subscriptions that already point at ``callback_url`` are reused. If one
        topic is refused, the subscriptions created by this call are deleted again."""
        existing = {(n["topic"], n["uri"]): n["id"] for n in self._list_webhooks(WEBHOOK_TOPICS)}
        created: list[str] = []
        registrations = []
        try:
            for topic in WEBHOOK_TOPICS:
                remote_id = existing.get((topic, callback_url))
                if remote_id is None:
                    remote_id = self._create_webhook(topic, callback_url)
                    created.append(remote_id)
                registrations.append(
                    WebhookRegistration(topic=topic, remote_id=remote_id, address=callback_url)
                )
        except PlatformCallError:
            for remote_id in created:
                try:
                    self._delete_webhook(remote_id)
                except PlatformCallError:
                    pass  # best effort; the original error is what the caller needs
            raise
        return registrations

    def _delete_webhook(self, remote_id: str) -> list[dict]:
        """Delete one subscription; returns the user errors other than "does not exist"."""

        def pick(data: dict) -> list[dict]:
            errors = self._user_errors(self._object(data, "webhookSubscriptionDelete"))
            return [e for e in errors if "does not exist" not in str(e.get("message")).lower()]

        return self._graphql(
            queries.WEBHOOK_SUBSCRIPTION_DELETE, {"id": remote_id}, operation="delete_webhook", pick=pick
        )

    def clear_webhooks(self, registrations: list[dict[str, str]]) -> None:
        """A subscription already gone counts as cleared. So does a revoked token or a vanished
        shop: uninstalling deletes every subscription of the app."""
        failures = []
        for registration in registrations:
            remote_id = (registration or {}).get("remote_id")
            if not remote_id:
                continue
            try:
                errors = self._delete_webhook(remote_id)
            except TokenExpired:
                raise
            except AuthError as exc:
                if exc.code in ("invalid_token", "not_found"):
                    return
                raise
            failures += [f"{remote_id}: {e.get('message')}" for e in errors]
        if failures:
            raise PlatformError("; ".join(failures)[:MESSAGE_MAX_CHARS], code="user_error")

    def verify_webhook(self, headers, body: bytes, url: str = "") -> bool:
        """HMAC of the raw body with the app secret; when the delivery names a shop, it must be
        this account's (every shop shares the app secret)."""
        secret = str(self.settings.get("client_secret") or "")
        if not signing.verify_webhook_hmac(secret, body, _header(headers, "X-Shopify-Hmac-Sha256")):
            return False
        shop = _header(headers, "X-Shopify-Shop-Domain")
        expected = str(self.ctx.credentials.get("shop_domain") or self.ctx.shop_id or "").strip().lower()
        return not (shop and expected and shop.strip().lower() != expected)

    # --- webhook deliveries (before any account is known) --------------------------------------------
    @classmethod
    def verify_webhook_request(cls, headers, body: bytes, url: str = "") -> bool:
        """Base64 HMAC-SHA256 of the raw body with the app's client secret, constant-time."""
        secret = str(platform_settings("shopify").get("client_secret") or "")
        return signing.verify_webhook_hmac(secret, body, _header(headers, "X-Shopify-Hmac-Sha256"))

    @classmethod
    def parse_webhook(cls, headers, body: bytes) -> list[WebhookEvent]:
        """orders/* → ORDER (the order's gid), app/uninstalled → DEAUTHORIZED, other → IGNORED.
        The delivery id is ``X-Shopify-Webhook-Id`` (the same on every retry of one delivery)."""
        try:
            payload = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            raise ValueError("the webhook body is not JSON") from None
        if not isinstance(payload, dict):
            raise ValueError("the webhook body is not a JSON object")
        topic = str(_header(headers, "X-Shopify-Topic") or "").strip().lower()
        shop = str(_header(headers, "X-Shopify-Shop-Domain") or "").strip().lower()
        delivery_id = str(_header(headers, "X-Shopify-Webhook-Id") or "").strip()
        delivery_id = delivery_id or "sha256:" + hashlib.sha256(body).hexdigest()
        event = WebhookEvent(delivery_id=delivery_id, topic=topic, kind=WebhookKind.IGNORED, shop_id=shop)
        if topic.startswith("orders/"):
            gid = payload.get("admin_graphql_api_id")
            if not (isinstance(gid, str) and ORDER_GID_RE.fullmatch(gid)):
                number = payload.get("id")
                if isinstance(number, bool) or not isinstance(number, int | str) or not str(number).isdigit():
                    raise ValueError("the order webhook carries no order id")
                gid = f"gid://shopify/Order/{int(number)}"
            event.kind = WebhookKind.ORDER
            event.order_ids = [gid]
        elif topic == "app/uninstalled":
            event.kind = WebhookKind.DEAUTHORIZED
        return [event]

    # --- orders --------------------------------------------------------------------------------------
    def _page_sizes(self) -> dict[str, int]:
        def size(name: str, default: int) -> int:
            try:
                return max(1, min(250, int(self.settings.get(name) or default)))
            except (TypeError, ValueError):
                return default

        lines = size("order_lines_page_size", ORDER_LINES_PAGE)
        fos = size("fulfillment_orders_page_size", FULFILLMENT_ORDERS_PAGE)
        fo_lines = size("fulfillment_order_lines_page_size", FULFILLMENT_ORDER_LINES_PAGE)
        return {"lines": lines, "fulfillmentOrders": fos, "fulfillmentOrderLines": fo_lines}

    def _orders_per_call(self, sizes: dict[str, int]) -> int:
        """The most orders one call may ask for without exceeding the max query cost: per order
        1 (order) + 2 (address, shipping line) + lineItems 2 + 3·L + fulfillmentOrders 2 + F·(3 + 2·M)."""
        max_cost = int(self.settings.get("max_query_cost") or MAX_QUERY_COST)
        per_order = (
            7 + 3 * sizes["lines"] + sizes["fulfillmentOrders"] * (3 + 2 * sizes["fulfillmentOrderLines"])
        )
        return max(1, min(250, (max_cost - 2) // per_order))

    def _state_options(self) -> dict:
        options = {}
        if self.settings.get("unpaid_financial_statuses"):
            options["unpaid_statuses"] = tuple(self.settings["unpaid_financial_statuses"])
        if self.settings.get("cod_gateways"):
            options["cod_gateways"] = tuple(self.settings["cod_gateways"])
        return options

    @staticmethod
    def _search_time(value: datetime, *, up: bool) -> str:
        """Second precision, rounded outwards so [start, end) is never narrowed."""
        if value.tzinfo is None:
            raise ValueError("order windows must be timezone-aware")
        seconds = value.timestamp()
        seconds = math.ceil(seconds) if up else math.floor(seconds)
        return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    @staticmethod
    def _order_nodes(items: Any) -> list[dict]:
        if not isinstance(items, list):
            raise TypeError("order nodes are not a list")
        for node in items:
            if node is not None and not isinstance(node, dict):
                raise TypeError("an order node is not an object")
        return [n for n in items if n is not None and str(n.get("id", "")).startswith("gid://shopify/Order/")]

    def _complete(self, nodes: list[dict]) -> list[OrderData]:
        """Map, fetching the rest of any order's line items that did not fit the nested page."""
        orders = []
        for node in nodes:
            connection = node["lineItems"]
            line_nodes = list(connection["nodes"])
            page = connection["pageInfo"]
            after = page["endCursor"] if page["hasNextPage"] else None
            for _page in range(MAX_LINE_PAGES):
                if not after:
                    break
                more, after = self._more_lines(node["id"], after)
                line_nodes += more
            else:
                raise PlatformError(
                    _("Order %(order)s has more line items than this client reads.") % {"order": node["id"]},
                    code="too_many_lines",
                )
            orders.append(mapping.order(node, line_nodes, **self._state_options()))
        return orders

    def _more_lines(self, order_id: str, after: str) -> tuple[list[dict], str | None]:
        def pick(data: dict) -> tuple[list[dict], str | None]:
            order = self._object(data, "order")
            connection = self._object(order, "lineItems")
            page = connection["pageInfo"]
            nodes = connection["nodes"]
            if not isinstance(nodes, list):
                raise TypeError("lineItems.nodes is not a list")
            if page["hasNextPage"] and not page["endCursor"]:
                raise ValueError("hasNextPage without an endCursor")
            return nodes, (page["endCursor"] if page["hasNextPage"] else None)

        return self._graphql(
            queries.ORDER_LINE_ITEMS, {"id": order_id, "after": after}, operation="get_order_lines", pick=pick
        )

    def iter_orders(self, window: OrderWindow) -> Iterator[list[OrderData]]:
        """Every order (all statuses: the GraphQL ``orders`` query has no default filter) whose
        ``updated_at`` is in the window, oldest update first, one page per call."""
        sizes = self._page_sizes()
        query = (
            f"updated_at:>='{self._search_time(window.start, up=False)}' "
            f"AND updated_at:<'{self._search_time(window.end, up=True)}'"
        )

        def pick(data: dict) -> tuple[list[dict], str | None]:
            connection = self._object(data, "orders")
            page = connection["pageInfo"]
            nodes = self._order_nodes(connection["nodes"])
            if len(nodes) != len(connection["nodes"]):
                raise ValueError("the orders connection holds a non-order node")
            if page["hasNextPage"] and not (isinstance(page["endCursor"], str) and page["endCursor"]):
                raise ValueError("hasNextPage without an endCursor")
            return nodes, (page["endCursor"] if page["hasNextPage"] else None)

        after = None
        while True:
            variables = {"query": query, "after": after, "first": self._orders_per_call(sizes), **sizes}
            nodes, after = self._graphql(queries.ORDERS, variables, operation="list_orders", pick=pick)
            page = self._complete(nodes)
            if page:
                yield page
            if not after:
                return

    @staticmethod
    def _order_gid(value: str) -> str | None:
        text = str(value or "").strip()
        if ORDER_GID_RE.fullmatch(text):
            return text
        return f"gid://shopify/Order/{text}" if text.isdigit() else None

    def get_orders(self, ids: list[str]) -> list[OrderData]:
        """By gid (or numeric legacy id) through ``nodes(ids:)``, as many per call as the cost
        allows (≤250); unknown ids are left out."""
        gids = list(dict.fromkeys(g for g in (self._order_gid(i) for i in ids) if g))
        sizes = self._page_sizes()
        chunk = min(MAX_NODES_PER_CALL, self._orders_per_call(sizes))
        orders: list[OrderData] = []
        for start in range(0, len(gids), chunk):
            variables = {"ids": gids[start : start + chunk], **sizes}
            nodes = self._graphql(
                queries.ORDER_NODES,
                variables,
                operation="get_orders",
                pick=lambda data: self._order_nodes(data["nodes"]),
            )
            orders += self._complete(nodes)
        return orders

    # --- shipments -----------------------------------------------------------------------------------
    def _fulfillment_state(self, order_id: str) -> dict:
        def pick(data: dict) -> dict:
            order = data["order"]
            if order is None:
                raise PlatformError(
                    _("Shopify has no order %(order)s.") % {"order": order_id}, code="order_not_found"
                )
            if not isinstance(order, dict):
                raise TypeError("order is not an object")
            fos = self._object(order, "fulfillmentOrders")
            if not isinstance(fos["nodes"], list) or not isinstance(order["fulfillments"], list):
                raise TypeError("fulfillment orders/fulfillments are not lists")
            return order

        return self._graphql(
            queries.ORDER_FULFILLMENT, {"id": order_id}, operation="get_fulfillment_orders", pick=pick
        )

    @staticmethod
    def _already_shipped(order: dict) -> ShipmentResult | None:
        """DONE when nothing is left to fulfil and the order was fulfilled (by anyone)."""
        open_items = [
            item
            for fo in order["fulfillmentOrders"]["nodes"]
            if fo["status"] in mapping.OPEN_FULFILLMENT_ORDER
            for item in fo["lineItems"]["nodes"]
            if int(item["remainingQuantity"]) > 0
        ]
        if open_items or order["fulfillmentOrders"]["pageInfo"]["hasNextPage"]:
            return None
        if order["displayFulfillmentStatus"] not in ("FULFILLED", "PARTIALLY_FULFILLED"):
            return None
        tracking = {}
        for fulfillment in reversed(order["fulfillments"]):
            infos = fulfillment.get("trackingInfo") or []
            if infos:
                tracking = infos[0]
                break
        return ShipmentResult(
            outcome=ShipmentOutcome.DONE,
            tracking_number=str(tracking.get("number") or ""),
            carrier=str(tracking.get("company") or ""),
            already_shipped=True,
            message=_("Already fulfilled on Shopify."),
        )

    def _fulfillment_input(self, order: dict, shipment: ShipmentRequest) -> list[dict]:
        """Every open fulfillment order (whole order), or only the request's lines (a package)."""
        wanted = {line.line_id: line.quantity for line in shipment.lines} if shipment.package_key else {}
        groups = []
        for fo in order["fulfillmentOrders"]["nodes"]:
            if fo["status"] not in mapping.OPEN_FULFILLMENT_ORDER:
                continue
            items = [i for i in fo["lineItems"]["nodes"] if int(i["remainingQuantity"]) > 0]
            if not items:
                continue
            if not wanted:
                groups.append({"fulfillmentOrderId": fo["id"]})  # the whole fulfillment order
                continue
            picks = []
            for item in items:
                line_id = (item.get("lineItem") or {}).get("id")
                quantity = min(wanted.get(line_id, 0), int(item["remainingQuantity"]))
                if quantity > 0:
                    picks.append({"id": item["id"], "quantity": quantity})
                    wanted[line_id] -= quantity
            if picks:
                groups.append({"fulfillmentOrderId": fo["id"], "fulfillmentOrderLineItems": picks})
        return groups

    def report_shipment(self, shipment: ShipmentRequest) -> ShipmentResult:
        """``fulfillmentCreate`` with the tracking info for the order's open fulfillment orders
        (read fresh: the import's snapshot may be stale). Nothing left to fulfil, before or
        after a refusal (e.g. a retry after a lost answer), is DONE with ``already_shipped``."""
        order_id = self._order_gid(shipment.platform_order_id)
        if order_id is None:
            raise PlatformError(
                _("%(order)s is not a Shopify order id.") % {"order": shipment.platform_order_id},
                code="invalid_order_id",
            )
        order = self._fulfillment_state(order_id)
        done = self._already_shipped(order)
        if done:
            return done
        if order.get("cancelledAt"):
            raise PlatformError(_("The order was cancelled on Shopify."), code="order_cancelled")
        groups = self._fulfillment_input(order, shipment)
        if not groups:
            statuses = ", ".join(fo["status"] for fo in order["fulfillmentOrders"]["nodes"]) or "—"
            raise PlatformError(
                _("Shopify has nothing to fulfil for this order (fulfillment orders: %(statuses)s).")
                % {"statuses": statuses},
                code="nothing_to_fulfil",
            )
        tracking: dict[str, Any] = {"company": shipment.carrier, "number": shipment.tracking_number}
        if url := self._tracking_url(shipment):
            tracking["url"] = url
        fulfillment_input = {
            "lineItemsByFulfillmentOrder": groups,
            "trackingInfo": {k: v for k, v in tracking.items() if v},
            "notifyCustomer": bool(self.settings.get("notify_customer", True)),
        }

        def pick(data: dict) -> tuple[dict | None, list[dict]]:
            payload = self._object(data, "fulfillmentCreate")
            errors = self._user_errors(payload)
            if errors:
                return None, errors
            return self._object(payload, "fulfillment"), []

        fulfillment, errors = self._graphql(
            queries.FULFILLMENT_CREATE,
            {"fulfillment": fulfillment_input},
            operation="report_shipment",
            pick=pick,
        )
        if errors:
            # Typically "unfulfillable status= closed": someone (or our lost earlier attempt) got
            # there first. The order itself says whether that is so, not the English text.
            done = self._already_shipped(self._fulfillment_state(order_id))
            if done:
                return done
            raise PlatformError(
                "; ".join(str(e.get("message")) for e in errors)[:MESSAGE_MAX_CHARS], code="user_error"
            )
        infos = fulfillment.get("trackingInfo") or [{}]
        return ShipmentResult(
            outcome=ShipmentOutcome.DONE,
            tracking_number=str(infos[0].get("number") or shipment.tracking_number),
            carrier=str(infos[0].get("company") or shipment.carrier),
        )

    def _tracking_url(self, shipment: ShipmentRequest) -> str:
        """Optional per-carrier tracking URL templates (setting ``tracking_url_templates``:
        {carrier: "https://…{number}"}); Shopify fills URLs itself for carriers it knows."""
        templates = self.settings.get("tracking_url_templates") or {}
        template = templates.get(shipment.carrier) if isinstance(templates, dict) else None
        return (
            template.format(number=shipment.tracking_number) if template and shipment.tracking_number else ""
        )

    def fetch_tracking(self, shipment: ShipmentRequest) -> ShipmentResult:
        """Never needed: the warehouse always sends its own tracking number."""
        raise NotImplementedError

    # --- products and stock (issue 4; reference §2.6, §2.7; docs/stock-shopify.md) ---------------------
    # Both native: inventorySetQuantities (absolute, changeFromQuantity null = overwrite) and
    # inventoryAdjustQuantities (delta), each with a mandatory @idempotent key (API ≥ 2026-04).
    stock_absolute_native = True
    stock_delta_native = True
    adjust_idempotent = True
    adjust_needs_current = False

    def _max_cost(self) -> int:
        try:
            return max(10, int(self.settings.get("max_query_cost") or MAX_QUERY_COST))
        except (TypeError, ValueError):
            return MAX_QUERY_COST

    def _products_per_call(self) -> int:
        """Variants per listing call: as many as the query cost allows (≤ 250), or fewer when the
        ``products_page_size`` setting says so."""
        most = max(1, min(MAX_NODES_PER_CALL, (self._max_cost() - 2) // PRODUCT_VARIANT_COST))
        try:
            wanted = int(self.settings.get("products_page_size") or most)
        except (TypeError, ValueError):
            wanted = most
        return max(1, min(most, wanted))

    def _ids_per_call(self, cost_per_id: int) -> int:
        return max(1, min(MAX_NODES_PER_CALL, self._max_cost() // cost_per_id))

    def _default_location(self) -> str:
        """The shop's first active location (cached for this client)."""
        if self._location_cache is None:

            def pick(data: dict) -> str:
                nodes = self._object(data, "locations")["nodes"]
                if not isinstance(nodes, list):
                    raise TypeError("locations.nodes is not a list")
                for node in nodes:
                    if isinstance(node, dict) and node.get("isActive", True) and node.get("id"):
                        return str(node["id"])
                return ""

            self._location_cache = self._graphql(queries.LOCATIONS, operation="list_locations", pick=pick)
        return self._location_cache

    _location_cache: str | None = None

    @staticmethod
    def _page(connection: dict) -> tuple[list, str | None]:
        nodes = connection["nodes"]
        if not isinstance(nodes, list) or not all(isinstance(n, dict) for n in nodes):
            raise TypeError("nodes is not a list of objects")
        page = connection["pageInfo"]
        if page["hasNextPage"] and not (isinstance(page["endCursor"], str) and page["endCursor"]):
            raise ValueError("hasNextPage without an endCursor")
        return nodes, (page["endCursor"] if page["hasNextPage"] else None)

    def iter_products(self) -> Iterator[list[PlatformProduct]]:
        """Every variant of the shop (all product statuses), one call per page, oldest id first.
        ``stock_ref`` is the variant's first inventory level; a variant stocked nowhere gets the
        shop's first active location (one extra ``locations`` call, once)."""
        first = self._products_per_call()

        def pick(data: dict) -> tuple[list[PlatformProduct], str | None]:
            nodes, after = self._page(self._object(data, "productVariants"))
            return [mapping.platform_product(node) for node in nodes], after

        after = None
        seen: set[str] = set()
        while True:
            page, after = self._graphql(
                queries.PRODUCT_VARIANTS,
                {"first": first, "after": after},
                operation="list_products",
                pick=pick,
            )
            for product in page:
                if "location_id" not in product.stock_ref and (location := self._default_location()):
                    product.stock_ref["location_id"] = location
            if page:
                yield page
            if not after:
                return
            if after in seen:
                raise PlatformError(_("Shopify returned the same page twice."), code="pagination_loop")
            seen.add(after)

    @staticmethod
    def _identity(target: StockTarget) -> tuple[str, str]:
        ref = target.stock_ref or {}
        if ref.get("inventory_item_id"):
            return str(ref["inventory_item_id"]), str(ref.get("location_id") or "")
        return (f"variant:{target.variant_id}", "") if target.variant_id else (f"sku:{target.sku}", "")

    def stock_batches(self, targets: list[StockTarget], *, absolute: bool) -> list[list[StockTarget]]:
        """Chunks of ≤ 250 in order; an item/location already in the chunk starts a new one (Shopify
        refuses duplicate pairs in a set, and one change per pair keeps outcomes exact)."""
        batches: list[list[StockTarget]] = []
        current: list[StockTarget] = []
        seen: set[tuple[str, str]] = set()
        for target in targets:
            identity = self._identity(target)
            if len(current) >= MAX_STOCK_BATCH or identity in seen:
                batches.append(current)
                current, seen = [], set()
            current.append(target)
            seen.add(identity)
        if current:
            batches.append(current)
        return batches

    @staticmethod
    def _variant_gid(value: str) -> str | None:
        text = str(value or "").strip()
        if text.startswith("gid://shopify/ProductVariant/") and text.rsplit("/", 1)[-1].isdigit():
            return text
        return f"gid://shopify/ProductVariant/{text}" if text.isdigit() else None

    def _refs_by_variant(self, gids: list[str]) -> dict[str, dict]:
        def pick(data: dict) -> dict[str, dict]:
            nodes = data["nodes"]
            if not isinstance(nodes, list):
                raise TypeError("nodes is not a list")
            return {
                str(n["id"]): mapping.stock_ref(n.get("inventoryItem"))
                for n in nodes
                if isinstance(n, dict) and n.get("id")
            }

        found: dict[str, dict] = {}
        chunk = self._ids_per_call(VARIANT_REF_COST)
        for start in range(0, len(gids), chunk):
            found.update(
                self._graphql(
                    queries.VARIANT_INVENTORY_NODES,
                    {"ids": gids[start : start + chunk]},
                    operation="get_variant_inventory",
                    pick=pick,
                )
            )
        return found

    def _refs_by_sku(self, sku: str) -> list[dict]:
        quote = "'" if "'" not in sku else '"'

        def pick(data: dict) -> list[dict]:
            nodes, _after = self._page(self._object(data, "productVariants"))
            return [
                mapping.stock_ref(n.get("inventoryItem"))
                for n in nodes
                if str(n.get("sku") or "").strip().lower() == sku.lower()
            ]

        return self._graphql(
            queries.PRODUCT_VARIANTS,
            {"first": 2, "query": f"sku:{quote}{sku}{quote}"},
            operation="find_variant_by_sku",
            pick=pick,
        )

    def _resolve(self, targets: list[StockTarget]) -> tuple[dict[str, tuple[str, str]], dict[str, str]]:
        """(key → (inventory item id, location id), key → why it cannot be found). Mappings made
        by mapping sync carry both ids; others are looked up by variant id, then by SKU."""
        refs: dict[str, tuple[str, str]] = {}
        missing: dict[str, str] = {}
        by_variant: list[tuple[StockTarget, str]] = []
        by_sku: list[StockTarget] = []
        for target in targets:
            ref = target.stock_ref or {}
            if ref.get("inventory_item_id"):
                refs[target.key] = (str(ref["inventory_item_id"]), str(ref.get("location_id") or ""))
            elif gid := self._variant_gid(target.variant_id):
                by_variant.append((target, gid))
            elif target.sku:
                by_sku.append(target)
            else:
                missing[target.key] = _("The mapping names no Shopify variant or SKU.")
        if by_variant:
            found = self._refs_by_variant(list(dict.fromkeys(gid for _t, gid in by_variant)))
            for target, gid in by_variant:
                ref = found.get(gid)
                if ref and ref.get("inventory_item_id"):
                    refs[target.key] = (ref["inventory_item_id"], ref.get("location_id", ""))
                elif target.sku:
                    by_sku.append(target)
                else:
                    missing[target.key] = _("Shopify has no variant %(variant)s.") % {"variant": gid}
        for target in by_sku:
            matches = [r for r in self._refs_by_sku(target.sku) if r.get("inventory_item_id")]
            if len(matches) == 1:
                refs[target.key] = (matches[0]["inventory_item_id"], matches[0].get("location_id", ""))
            elif not matches:
                missing[target.key] = _("Shopify has no variant with SKU %(sku)s.") % {"sku": target.sku}
            else:
                missing[target.key] = _(
                    "Several Shopify variants have SKU %(sku)s; sync the product mappings to pick one."
                ) % {"sku": target.sku}
        if any(not location for _item, location in refs.values()):
            default = self._default_location()
            for key, (item, location) in list(refs.items()):
                if location:
                    continue
                if default:
                    refs[key] = (item, default)
                else:
                    del refs[key]
                    missing[key] = _("The Shopify store has no active location to hold stock.")
        return refs, missing

    def read_stock(self, targets: list[StockTarget]) -> dict[str, int]:
        """Available quantity per target at its location: ``nodes(ids:)`` of inventory items, as
        many per call as the query cost allows (≤ 250), one location per call."""
        refs, _missing = self._resolve(targets)
        by_location: dict[str, list[str]] = {}
        for item, location in refs.values():
            items = by_location.setdefault(location, [])
            if item not in items:
                items.append(item)

        def pick(data: dict) -> dict[str, int]:
            nodes = data["nodes"]
            if not isinstance(nodes, list):
                raise TypeError("nodes is not a list")
            found = {}
            for node in nodes:
                if not isinstance(node, dict) or not node.get("id"):
                    continue
                quantity = mapping.available(node.get("inventoryLevel"))
                if quantity is not None:
                    found[str(node["id"])] = quantity
            return found

        quantities: dict[tuple[str, str], int] = {}
        chunk = self._ids_per_call(LEVEL_READ_COST)
        for location, items in by_location.items():
            for start in range(0, len(items), chunk):
                found = self._graphql(
                    queries.INVENTORY_LEVELS,
                    {"ids": items[start : start + chunk], "locationId": location},
                    operation="read_stock",
                    pick=pick,
                )
                quantities.update({(item, location): q for item, q in found.items()})
        return {key: quantities[ref] for key, ref in refs.items() if ref in quantities}

    def set_stock(self, targets: list[StockTarget]) -> list[StockOutcome]:
        """``inventorySetQuantities`` of ``available`` with ``changeFromQuantity: null`` (overwrite)."""
        return self._write_stock(targets, absolute=True)

    def adjust_stock(self, targets: list[StockTarget]) -> list[StockOutcome]:
        """``inventoryAdjustQuantities`` of ``available`` by each target's delta."""
        return self._write_stock(targets, absolute=False)

    @staticmethod
    def _mutation_key(mutation: str, rows: list[tuple[StockTarget, str, str]]) -> str:
        """The same batch (same rows, quantities and places, in order) always gets the same key, so
        a batch resent after a lost answer or a dead worker is applied once by Shopify."""
        parts = [mutation]
        for target, item, location in rows:
            parts.append(f"{target.idempotency_key or target.key}|{target.quantity}|{item}|{location}")
        digest = hashlib.sha256("\n".join(parts).encode()).digest()
        return str(uuid.UUID(bytes=digest[:16]))

    def _write_stock(self, targets: list[StockTarget], *, absolute: bool) -> list[StockOutcome]:
        outcomes: dict[str, StockOutcome] = {}
        refs, missing = self._resolve(targets)
        for key, message in missing.items():
            outcomes[key] = StockOutcome(key=key, ok=False, error=message)
        rows: list[tuple[StockTarget, str, str]] = []
        for target in targets:
            if target.key in outcomes:
                continue
            if absolute and target.quantity < 0:
                outcomes[target.key] = StockOutcome(
                    key=target.key,
                    ok=False,
                    error=_("Stock cannot be set to a negative quantity (%(quantity)s).")
                    % {"quantity": target.quantity},
                )
            elif not absolute and target.quantity == 0:
                outcomes[target.key] = StockOutcome(key=target.key, ok=True)  # nothing to add
            else:
                rows.append((target, *refs[target.key]))
        if rows:
            outcomes.update(self._send_stock(rows, absolute=absolute))
        return [outcomes[t.key] for t in targets]

    def _send_stock(
        self, rows: list[tuple[StockTarget, str, str]], *, absolute: bool
    ) -> dict[str, StockOutcome]:
        if len(rows) > MAX_STOCK_BATCH:
            raise ValueError(f"a stock batch holds at most {MAX_STOCK_BATCH} targets; use stock_batches()")
        if absolute:
            mutation, list_name, document = "inventorySetQuantities", "quantities", queries.INVENTORY_SET
            data = {
                "name": "available",
                "reason": str(self.settings.get("stock_set_reason") or "correction"),
                "quantities": [
                    {
                        "inventoryItemId": item,
                        "locationId": location,
                        "quantity": target.quantity,
                        "changeFromQuantity": None,  # an overwrite: no compare-and-set
                    }
                    for target, item, location in rows
                ],
            }
        else:
            mutation, list_name, document = "inventoryAdjustQuantities", "changes", queries.INVENTORY_ADJUST
            data = {
                "name": "available",
                "reason": str(self.settings.get("stock_adjust_reason") or "received"),
                "changes": [
                    {"delta": target.quantity, "inventoryItemId": item, "locationId": location}
                    for target, item, location in rows
                ],
            }

        def pick(payload: dict) -> tuple[dict | None, list[dict]]:
            result = self._object(payload, mutation)
            errors = self._user_errors(result)
            group = result.get("inventoryAdjustmentGroup")
            if group is not None and not isinstance(group, dict):
                raise TypeError("inventoryAdjustmentGroup is not an object")
            return group, errors

        group, errors = self._graphql(
            document,
            {"input": data, "key": self._mutation_key(mutation, rows)},
            operation="set_stock" if absolute else "adjust_stock",
            pick=pick,
        )
        if errors:
            return self._refused(rows, errors, list_name)
        after = mapping.quantities_after(group)
        return {
            target.key: StockOutcome(
                key=target.key,
                ok=True,
                quantity=after.get((item, location), target.quantity if absolute else None),
            )
            for target, item, location in rows
        }

    @staticmethod
    def _refused(rows: list[tuple[StockTarget, str, str]], errors: list[dict], list_name: str) -> dict:
        """A mutation with userErrors applied nothing (all-or-nothing, UNCONFIRMED for Shopify):
        every target failed. The ones Shopify named get its message; the others are retryable,
        since only their neighbours stood in the way."""
        named: dict[int, list[str]] = {}
        general: list[str] = []
        codes: set[str] = set()
        for error in errors:
            message = str(error.get("message") or error.get("code") or "")
            index = mapping.user_error_index(error, list_name)
            if index is not None and 0 <= index < len(rows):
                named.setdefault(index, []).append(message)
            else:
                general.append(message)
                codes.add(str(error.get("code") or ""))
        summary = "; ".join(dict.fromkeys(m for ms in named.values() for m in ms))[:MESSAGE_MAX_CHARS]
        outcomes = {}
        for index, (target, _item, _location) in enumerate(rows):
            if index in named:
                error, retryable = "; ".join(named[index])[:MESSAGE_MAX_CHARS], False
            elif general:
                error = "; ".join(general)[:MESSAGE_MAX_CHARS]
                retryable = codes <= RETRYABLE_STOCK_CODES
            else:
                error = _(
                    "Not applied: Shopify refused the whole call because of other items (%(errors)s); "
                    "it is sent again in a later call."
                ) % {"errors": summary}
                retryable = True
            outcomes[target.key] = StockOutcome(key=target.key, ok=False, error=error, retryable=retryable)
        return outcomes
