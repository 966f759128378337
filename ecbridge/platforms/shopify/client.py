"""Shopify Admin API client (reference/platforms-global.md §2): OAuth authorization-code grant with
offline tokens (optionally expiring, with rotating refresh tokens), GraphQL calls mapped to typed
errors, and webhook subscriptions.

Decision (401): Shopify answers an expired, revoked or unknown token alike (401, "[API] Invalid API
key or access token"). A 401 becomes ``TokenExpired`` when the account holds a refresh token (only
expiring tokens come with one, so a refresh may recover; if the refresh is refused too, that is an
``AuthError``), and ``AuthError`` otherwise (a non-expiring offline token only dies on uninstall)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar
from urllib.parse import urlencode

import httpx
from django.utils.translation import gettext as _

from ecbridge.platforms.base import Client, ConnectionInfo, TokenSet, WebhookRegistration
from ecbridge.platforms.errors import (
    AuthError,
    PlatformCallError,
    PlatformError,
    RateLimited,
    TokenExpired,
    TransientError,
)
from ecbridge.platforms.http import parse_retry_after
from ecbridge.platforms.shopify import SHOP_DOMAIN_PATTERN, SPEC, queries, signing

T = TypeVar("T")
SHOP_DOMAIN_RE = re.compile(SHOP_DOMAIN_PATTERN)
DEFAULT_API_VERSION = "2026-07"
CALLBACK_MAX_AGE_SECONDS = 24 * 60 * 60  # what Shopify's SDKs accept
# APP_UNINSTALLED first: if an order topic is refused, what was created in this call is removed again.
WEBHOOK_TOPICS = ("APP_UNINSTALLED", "ORDERS_CREATE", "ORDERS_UPDATED", "ORDERS_CANCELLED")
MAX_WEBHOOK_PAGES = 20
MESSAGE_MAX_CHARS = 500


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
