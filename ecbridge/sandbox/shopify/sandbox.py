"""Fake Shopify (reference/platforms-global.md §2): stores under /sandbox/shopify/<shop>/...,
OAuth install with a real callback hmac, offline tokens (optionally expiring with rotating refresh
tokens), the Admin GraphQL endpoint with cost-based throttling, and app uninstall.

Decisions (the brief leaves them open):
- ``expire_tokens`` expires every issued *expiring* access token; non-expiring offline tokens
  stay valid, as on Shopify (they only die on uninstall: console ``/_console/uninstall``).
- Expired, revoked and unknown tokens all get the same 401 body, as on Shopify.
- Refresh tokens rotate; the previous one stays usable until the new one is first used (the
  2026-08 "resilient refresh" rule), after which it is rejected.
- Query cost: object 1, scalar 0, connection 2 + first x per-node cost, mutation 10; the actual
  cost is reported equal to the requested cost."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import secrets
import time
from datetime import UTC, datetime
from urllib.parse import urlencode, urlsplit

from flask import Blueprint, Response, g, jsonify, redirect, render_template_string, request
from graphql import GraphQLError, execute_sync, get_operation_ast, parse

from ecbridge.sandbox.base import ConsoleError, PlatformSandbox
from ecbridge.sandbox.shopify import admin_graphql, pages
from ecbridge.sandbox.shopify.inventory import InventoryMixin
from ecbridge.sandbox.shopify.orders import OrdersMixin
from ecbridge.sandbox.shopify.signing import query_hmac

# The app's credentials: equal to ecbridge/settings.py's development defaults (same env names).
CLIENT_ID = "sandbox-shopify-client"
CLIENT_SECRET = "sandbox-shopify-secret"
APP_TITLE = "ecbridge WMS"
APP_HANDLE = "ecbridge-wms"

CODE_TTL = 10 * 60
ACCESS_TOKEN_TTL = 3600
REFRESH_TOKEN_TTL = 90 * 24 * 3600  # UNCONFIRMED (third-party code)
BUCKET_SIZE = 2000.0  # UNCONFIRMED current maximumAvailable
RESTORE_RATE = 100.0  # Standard plan, points per second
MAX_QUERY_COST = 1000

SHOP_DOMAIN_RE = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9-]*\.myshopify\.com")
SCOPE_RE = re.compile(r"(unauthenticated_)?(read|write)_[a-z_]+")
VERSION_RE = re.compile(r"\d{4}-(01|04|07|10)|unstable")
SHOP_STATUSES = ("active", "frozen", "locked")

INVALID_TOKEN = {"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"}
REST_THROTTLED = {
    "errors": "Exceeded 2 calls per second for api client. "
    "Reduce request rates to resume uninterrupted service."
}
CODE_INVALID = {
    "error": "invalid_request",
    "error_description": "The authorization code was not found or was already used",
}
CLIENT_INVALID = {
    "error": "invalid_client",
    "error_description": "Client credentials are invalid",
}  # UNCONFIRMED text
REFRESH_INVALID = {
    "error": "invalid_grant",
    "error_description": "The refresh token is invalid or has expired",
}  # idem
RATE_LIMITS_DOC = "https://shopify.dev/api/usage/rate-limits"


def _now() -> float:
    return time.time()


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _json(body, status: int = 200, headers: dict | None = None) -> Response:
    response = Response(json.dumps(body), status=status, mimetype="application/json")
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def _scope_label(handle: str) -> str:
    verb, _, resource = handle.removeprefix("unauthenticated_").partition("_")
    return f"{'View' if verb == 'read' else 'View and edit'} {resource.replace('_', ' ')}"


class ShopifySandbox(InventoryMixin, OrdersMixin, PlatformSandbox):
    code = "shopify"
    name = "Shopify"
    fault_exempt_endpoints = frozenset({"authorize"})

    def __init__(self, store, *, standalone: bool = False):
        self.client_id = os.environ.get("SHOPIFY_CLIENT_ID") or CLIENT_ID
        self.client_secret = os.environ.get("SHOPIFY_CLIENT_SECRET") or CLIENT_SECRET
        super().__init__(store, standalone=standalone)

    # --- routes --------------------------------------------------------------------------------------
    def register_routes(self, bp: Blueprint) -> None:
        @bp.url_value_preprocessor
        def remember_shop(_endpoint, values):
            if values and values.get("shop"):
                g.sandbox_shop = str(values["shop"]).lower()

        bp.add_url_rule("/<shop>/admin/oauth/authorize", "authorize", self.authorize, methods=["GET", "POST"])
        bp.add_url_rule(
            "/<shop>/admin/oauth/access_token", "access_token", self.access_token, methods=["POST"]
        )
        bp.add_url_rule("/<shop>/admin/oauth/access_scopes.json", "access_scopes", self.access_scopes)
        bp.add_url_rule("/<shop>/admin/api/<version>/graphql.json", "graphql", self.graphql, methods=["POST"])
        bp.add_url_rule(
            "/<shop>/admin/api_permissions/current.json",
            "api_permissions",
            self.api_permissions,
            methods=["DELETE"],
        )
        bp.add_url_rule(
            "/_console/uninstall",
            "console_uninstall",
            self._console(self.console_uninstall),
            methods=["POST"],
        )
        bp.add_url_rule(
            "/_console/shop_status",
            "console_shop_status",
            self._console(self.console_shop_status),
            methods=["POST"],
        )

    @staticmethod
    def _console(fn):
        def view():
            try:
                return jsonify(fn(request.get_json(silent=True) or request.form.to_dict() or {}))
            except ConsoleError as exc:
                return jsonify({"error": str(exc)}), exc.status

        return view

    # --- storage helpers -----------------------------------------------------------------------------
    def _shop(self, domain: str | None) -> dict | None:
        return self.store.get(self.code, "shop", str(domain or "").lower()) if domain else None

    def _save_shop(self, doc: dict) -> None:
        self.store.put(self.code, "shop", doc["domain"], doc, shop=doc["domain"], sort=doc["number"])

    def _tokens(self, domain: str) -> list[dict]:
        return self.store.find(self.code, "token", shop=domain)

    def _put_token(self, doc: dict) -> None:
        self.store.put(self.code, "token", doc["digest"], doc, shop=doc["shop"], sort=doc["created_at"])

    def webhooks(self, domain: str) -> list[dict]:
        return self.store.find(self.code, "webhook", shop=domain)

    # --- GraphQL objects (used by admin_graphql.Root) ------------------------------------------------
    def app_object(self) -> dict:
        return {
            "id": "gid://shopify/App/5810917377",
            "title": APP_TITLE,
            "handle": APP_HANDLE,
            "apiKey": self.client_id,
        }

    def shop_object(self, doc: dict) -> dict:
        return {
            "id": doc["gid"],
            "name": doc["name"],
            "myshopifyDomain": doc["domain"],
            "email": doc["email"],
            "contactEmail": doc["email"],
            "currencyCode": doc["currency"],
            "ianaTimezone": doc["timezone"],
            "url": f"https://{doc['domain']}",
            "createdAt": _iso(doc["created_at"]),
        }

    def app_installation(self, shop: dict, token: dict) -> dict:
        scopes = [s for s in token["scope"].split(",") if s]
        return {
            "id": f"gid://shopify/AppInstallation/{shop['number']}",
            "app": self.app_object(),
            "accessScopes": [{"handle": s, "description": _scope_label(s)} for s in scopes],
            "launchUrl": f"https://admin.shopify.com/store/{shop['domain'].split('.')[0]}/apps/{APP_HANDLE}",
        }

    def webhook_object(self, doc: dict | None) -> dict | None:
        if doc is None:
            return None
        return {
            "id": doc["gid"],
            "legacyResourceId": str(doc["number"]),
            "topic": doc["topic"],
            "uri": doc["uri"],
            "callbackUrl": doc["uri"],
            "format": doc["format"],
            "includeFields": doc["includeFields"],
            "metafieldNamespaces": doc["metafieldNamespaces"],
            "filter": doc["filter"],
            "apiVersion": {"handle": doc["apiVersion"], "displayName": doc["apiVersion"], "supported": True},
            "createdAt": _iso(doc["created_at"]),
            "updatedAt": _iso(doc["updated_at"]),
        }

    @staticmethod
    def _webhook_number(gid: str) -> int:
        match = re.fullmatch(r"gid://shopify/WebhookSubscription/(\d+)", str(gid))
        if not match:
            raise GraphQLError(
                f"Invalid global id '{gid}'", extensions={"code": "argumentLiteralsIncompatible"}
            )
        return int(match.group(1))

    def find_webhook(self, domain: str, gid: str) -> dict | None:
        doc = self.store.get(self.code, "webhook", self._webhook_number(gid))
        return doc if doc and doc["shop"] == domain else None

    def create_webhook(self, shop: dict, token: dict, topic: str, data: dict, api_version: str) -> dict:
        uri = str(data.get("uri") or data.get("callbackUrl") or "")
        errors = []
        parts = urlsplit(uri)
        if not uri:
            errors.append(
                {"field": ["webhookSubscription", "callbackUrl"], "message": "Address can't be blank"}
            )
        elif parts.scheme not in ("http", "https") or not parts.netloc:
            errors.append({"field": ["webhookSubscription", "callbackUrl"], "message": "Address is invalid"})
        needed = admin_graphql.WEBHOOK_TOPICS[topic]
        scopes = set(token["scope"].split(","))
        if needed and not scopes & {f"read_{needed}", f"write_{needed}"}:
            errors.append(
                {
                    "field": ["topic"],
                    "message": "You cannot create a webhook subscription with the specified topic",
                }
            )
        if any(w["topic"] == topic and w["uri"] == uri for w in self.webhooks(shop["domain"])):
            errors.append(
                {
                    "field": ["webhookSubscription", "callbackUrl"],
                    "message": "Address for this topic has already been taken",
                }
            )
        if errors:
            return {"webhookSubscription": None, "userErrors": errors}
        number = self.store.next_id(f"{self.code}:webhook", start=1_047_000_001)
        now = _now()
        doc = {
            "number": number,
            "gid": f"gid://shopify/WebhookSubscription/{number}",
            "shop": shop["domain"],
            "topic": topic,
            "uri": uri,
            "format": data.get("format") or "JSON",
            "includeFields": list(data.get("includeFields") or []),
            "metafieldNamespaces": list(data.get("metafieldNamespaces") or []),
            "filter": data.get("filter"),
            "apiVersion": api_version,
            "created_at": now,
            "updated_at": now,
        }
        self.store.put(self.code, "webhook", number, doc, shop=shop["domain"], sort=number)
        return {"webhookSubscription": self.webhook_object(doc), "userErrors": []}

    def delete_webhook(self, domain: str, gid: str) -> dict:
        doc = self.find_webhook(domain, gid)
        if doc is None:
            return {
                "deletedWebhookSubscriptionId": None,
                "userErrors": [{"field": ["id"], "message": "Webhook subscription does not exist"}],
            }
        self.store.delete(self.code, "webhook", doc["number"])
        return {"deletedWebhookSubscriptionId": doc["gid"], "userErrors": []}

    def uninstall(self, domain: str) -> None:
        """What Shopify does when the app goes: every token revoked, every subscription deleted."""
        shop = self._shop(domain)
        if shop is None:
            return
        if shop["installed"]:  # app/uninstalled goes to the subscriptions that are about to go
            self._deliver_topic(
                shop,
                "APP_UNINSTALLED",
                {
                    "id": shop["number"],
                    "name": shop["name"],
                    "email": shop["email"],
                    "domain": shop["domain"],
                    "myshopify_domain": shop["domain"],
                    "currency": shop["currency"],
                    "iana_timezone": shop["timezone"],
                },
            )
        with self.store.tx():
            shop = self._shop(domain)
            shop.update(installed=False, scope="", uninstalled_at=_now())
            self._save_shop(shop)
            for token in self._tokens(domain):
                if not token["revoked"]:
                    token["revoked"] = True
                    self._put_token(token)
            for webhook in self.webhooks(domain):
                self.store.delete(self.code, "webhook", webhook["number"])

    # --- OAuth ---------------------------------------------------------------------------------------
    def _error_page(self, title: str, message: str, status: int) -> Response:
        return Response(
            render_template_string(pages.ERROR, title=title, message=message),
            status=status,
            mimetype="text/html",
        )

    def authorize(self, shop: str):
        g.sandbox_operation = "oauth/authorize"
        doc = self._shop(shop)
        if doc is None:
            return self._error_page("Store unavailable", "Sorry, this store is currently unavailable.", 404)
        values = request.values
        client_id = values.get("client_id", "")
        if client_id != self.client_id:
            return self._error_page(
                "Oauth error invalid_request",
                "Oauth error invalid_request: Could not find Shopify API application with api_key "
                f"{client_id}",
                400,
            )
        redirect_uri = values.get("redirect_uri", "")
        target = urlsplit(redirect_uri)
        if target.scheme not in ("http", "https") or not target.netloc:
            return self._error_page(
                "Oauth error invalid_request",
                "Oauth error invalid_request: The redirect_uri is missing or is not a valid URL",
                400,
            )
        scopes = [s.strip() for s in values.get("scope", "").split(",") if s.strip()]
        invalid = [s for s in scopes if not SCOPE_RE.fullmatch(s)]
        if invalid:
            return self._error_page(
                "Oauth error invalid_scope",
                f"Oauth error invalid_scope: The access scope is invalid: {', '.join(invalid)}",
                400,
            )
        if values.getlist("grant_options[]"):
            return self._error_page(
                "Not simulated",
                "This sandbox issues offline access tokens only; omit grant_options[] (per-user access).",
                400,
            )
        state = values.get("state", "")
        if request.method == "GET":
            fields = [
                ("client_id", client_id),
                ("scope", ",".join(scopes)),
                ("redirect_uri", redirect_uri),
                ("state", state),
            ]
            return render_template_string(
                pages.CONSENT,
                app_title=APP_TITLE,
                shop=doc,
                fields=fields,
                scopes=[(s, _scope_label(s)) for s in scopes],
            )
        code = secrets.token_hex(16)
        self.store.put(
            self.code,
            "code",
            code,
            {
                "shop": doc["domain"],
                "client_id": client_id,
                "scope": ",".join(scopes),
                "redirect_uri": redirect_uri,
                "expires_at": _now() + CODE_TTL,
                "used": False,
            },
            shop=doc["domain"],
        )
        handle = doc["domain"].split(".")[0]
        params = {
            "code": code,
            "host": base64.urlsafe_b64encode(f"admin.shopify.com/store/{handle}".encode())
            .decode()
            .rstrip("="),
            "shop": doc["domain"],
            "state": state,
            "timestamp": str(int(_now())),
        }
        params["hmac"] = query_hmac(self.client_secret, params)
        separator = "&" if target.query else "?"
        return redirect(f"{redirect_uri}{separator}{urlencode(params)}", code=302)

    def _issue(self, domain: str, client_id: str, scope: str, expiring: bool, predecessor: str = "") -> dict:
        now = _now()
        access = "shpat_" + secrets.token_hex(16)
        body: dict = {"access_token": access, "scope": scope}
        access_doc = {
            "digest": _digest(access),
            "kind": "access",
            "shop": domain,
            "client_id": client_id,
            "scope": scope,
            "created_at": now,
            "revoked": False,
            "expires_at": now + ACCESS_TOKEN_TTL if expiring else None,
        }
        self._put_token(access_doc)
        if expiring:
            refresh = "shprt_" + secrets.token_hex(16)  # prefix UNCONFIRMED
            self._put_token(
                {
                    "digest": _digest(refresh),
                    "kind": "refresh",
                    "shop": domain,
                    "client_id": client_id,
                    "scope": scope,
                    "created_at": now,
                    "revoked": False,
                    "used": False,
                    "expires_at": now + REFRESH_TOKEN_TTL,
                    "predecessor": predecessor,
                    "successor": "",
                }
            )
            body.update(
                expires_in=ACCESS_TOKEN_TTL, refresh_token=refresh, refresh_token_expires_in=REFRESH_TOKEN_TTL
            )
        return body

    def access_token(self, shop: str):
        g.sandbox_operation = "oauth/access_token"
        doc = self._shop(shop)
        if doc is None:
            return _json({"errors": "Not Found"}, 404)
        data = request.get_json(silent=True) if request.is_json else None
        if not isinstance(data, dict):
            data = {**request.args.to_dict(), **request.form.to_dict()}
        data = {k: str(v) for k, v in data.items() if v is not None}
        if data.get("client_id") != self.client_id or data.get("client_secret") != self.client_secret:
            return _json(CLIENT_INVALID, 400)
        grant = data.get("grant_type", "")
        if grant == "refresh_token":
            g.sandbox_operation = "oauth/refresh_token"
            return self._refresh(doc, data.get("refresh_token", ""))
        if grant not in ("", "authorization_code"):
            return _json(
                {
                    "error": "unsupported_grant_type",
                    "error_description": f"The grant type {grant} is not supported",
                },
                400,
            )
        code = data.get("code", "")
        with self.store.tx():
            grant_doc = self.store.get(self.code, "code", code) if code else None
            if (
                grant_doc is None
                or grant_doc["used"]
                or grant_doc["expires_at"] < _now()
                or grant_doc["shop"] != doc["domain"]
                or grant_doc["client_id"] != self.client_id
            ):
                return _json(CODE_INVALID, 400)
            grant_doc["used"] = True
            self.store.put(self.code, "code", code, grant_doc, shop=doc["domain"])
            doc.update(installed=True, scope=grant_doc["scope"], installed_at=_now())
            self._save_shop(doc)
            expiring = data.get("expiring", "").lower() in ("1", "true")
            body = self._issue(doc["domain"], self.client_id, grant_doc["scope"], expiring)
        return _json(body)

    def _refresh(self, shop: dict, refresh_token: str) -> Response:
        with self.store.tx():
            token = self.store.get(self.code, "token", _digest(refresh_token)) if refresh_token else None
            if (
                token is None
                or token["kind"] != "refresh"
                or token["shop"] != shop["domain"]
                or token["revoked"]
                or token["expires_at"] < _now()
            ):
                return _json(REFRESH_INVALID, 400)
            if token["predecessor"]:  # the new token is in use: the one before it retires
                previous = self.store.get(self.code, "token", token["predecessor"])
                if previous and not previous["revoked"]:
                    previous["revoked"] = True
                    self._put_token(previous)
            if token["successor"]:  # an earlier rotation whose answer was lost: it never got used
                lost = self.store.get(self.code, "token", token["successor"])
                if lost and not lost["revoked"]:
                    lost["revoked"] = True
                    self._put_token(lost)
            body = self._issue(
                shop["domain"], self.client_id, token["scope"], True, predecessor=token["digest"]
            )
            token.update(used=True, successor=_digest(body["refresh_token"]))
            self._put_token(token)
        return _json(body)

    # --- authenticated API ---------------------------------------------------------------------------
    def _authenticate(self, shop: str) -> tuple[dict | None, dict | None, Response | None]:
        """(shop, token, None) or (.., .., the error response Shopify would give)."""
        doc = self._shop(shop)
        if doc is None:
            return None, None, _json({"errors": "Not Found"}, 404)
        if doc["status"] == "frozen":
            return doc, None, _json({"errors": "Unavailable Shop"}, 402)
        if doc["status"] == "locked":
            return (
                doc,
                None,
                _json({"errors": "This shop is locked. Access to the Admin API is unavailable."}, 423),
            )
        header = request.headers.get("X-Shopify-Access-Token", "")
        token = self.store.get(self.code, "token", _digest(header)) if header else None
        if (
            token is None
            or token["kind"] != "access"
            or token["shop"] != doc["domain"]
            or token["revoked"]
            or (token["expires_at"] is not None and token["expires_at"] <= _now())
        ):
            return doc, None, _json(INVALID_TOKEN, 401)
        return doc, token, None

    def access_scopes(self, shop: str):
        g.sandbox_operation = "access_scopes"
        _doc, token, error = self._authenticate(shop)
        if error:
            return error
        return _json({"access_scopes": [{"handle": s} for s in token["scope"].split(",") if s]})

    def api_permissions(self, shop: str):
        g.sandbox_operation = "api_permissions/uninstall"
        doc, _token, error = self._authenticate(shop)
        if error:
            return error
        self.uninstall(doc["domain"])
        return _json({})

    def _bucket(self, shop: dict, cost: int) -> tuple[bool, float]:
        """Leaky bucket per shop (one app): take ``cost`` points if they are there."""
        with self.store.tx():
            now = _now()
            bucket = self.store.get(self.code, "bucket", shop["domain"]) or {
                "available": shop["bucket_size"],
                "at": now,
            }
            available = min(
                shop["bucket_size"], bucket["available"] + (now - bucket["at"]) * shop["restore_rate"]
            )
            allowed = cost <= available
            if allowed:
                available -= cost
            self.store.put(
                self.code, "bucket", shop["domain"], {"available": available, "at": now}, shop=shop["domain"]
            )
        return allowed, available

    @staticmethod
    def _cost(shop: dict, requested, actual, available: float) -> dict:
        return {
            "cost": {
                "requestedQueryCost": requested,
                "actualQueryCost": actual,
                "throttleStatus": {
                    "maximumAvailable": float(shop["bucket_size"]),
                    "currentlyAvailable": round(available, 1),
                    "restoreRate": float(shop["restore_rate"]),
                },
            }
        }

    def _throttled(self, shop: dict, requested: int, available: float) -> Response:
        return _json(
            {
                "errors": [
                    {
                        "message": "Throttled",
                        "extensions": {"code": "THROTTLED", "documentation": RATE_LIMITS_DOC},
                    }
                ],
                "extensions": self._cost(shop, requested, None, available),
            }
        )

    @staticmethod
    def _read_graphql_request() -> tuple[str, dict, str | None] | None:
        if request.mimetype == "application/graphql":
            return request.get_data(as_text=True), {}, None
        payload = request.get_json(silent=True)
        if (
            not isinstance(payload, dict)
            or not isinstance(payload.get("query"), str)
            or not payload["query"].strip()
        ):
            return None
        variables = payload.get("variables") or {}
        if isinstance(variables, str):
            try:
                variables = json.loads(variables)
            except ValueError:
                return None
        if not isinstance(variables, dict):
            return None
        operation = payload.get("operationName")
        return payload["query"], variables, operation if isinstance(operation, str) and operation else None

    def graphql(self, shop: str, version: str):
        g.sandbox_operation = "graphql"
        if not VERSION_RE.fullmatch(version):
            return _json({"errors": "Not Found"}, 404)
        doc, token, error = self._authenticate(shop)
        if error:
            return error
        headers = {"X-Shopify-API-Version": version, "X-Request-Id": secrets.token_hex(16)}
        parsed = self._read_graphql_request()
        if parsed is None:
            return _json({"errors": {"query": "Required parameter missing or invalid"}}, 400, headers)
        query, variables, operation_name = parsed
        try:
            document, errors = admin_graphql.parse_and_validate(query)
        except GraphQLError as exc:
            return _json({"errors": [exc.formatted]}, 200, headers)
        if errors:
            return _json({"errors": [e.formatted for e in errors]}, 200, headers)
        operation = get_operation_ast(document, operation_name)
        if operation is not None:
            g.sandbox_operation = "graphql:" + ",".join(
                f.name.value for f in admin_graphql._fields(operation.selection_set, {}) if f.name
            )
        cost = admin_graphql.requested_cost(document, operation_name, variables)
        max_cost = int(min(MAX_QUERY_COST, doc["bucket_size"]))  # a query must fit in the bucket
        if cost > max_cost:
            return _json(
                {
                    "errors": [
                        {
                            "message": f"Query cost is {cost}, which exceeds the single query max cost "
                            f"limit ({max_cost}).",
                            "extensions": {
                                "code": "MAX_COST_EXCEEDED",
                                "cost": cost,
                                "maxCost": max_cost,
                                "documentation": RATE_LIMITS_DOC,
                            },
                        }
                    ]
                },
                200,
                headers,
            )
        allowed, available = self._bucket(doc, cost)
        if not allowed:
            response = self._throttled(doc, cost, available)
            response.headers.update(headers)
            return response
        with self.store.tx():
            result = execute_sync(
                admin_graphql.SCHEMA,
                document,
                root_value=admin_graphql.Root(self, doc, token, version),
                variable_values=variables,
                operation_name=operation_name,
            )
            actual = admin_graphql.actual_cost(document, operation_name, result.data, cost)
            if actual < cost:  # Shopify refunds what the answer did not use
                available = self._refund(doc, cost - actual)
        self.flush_order_events()  # webhooks leave after the change is committed
        body = result.formatted
        body["extensions"] = self._cost(doc, cost, actual, available)
        return _json(body, 200, headers)

    def _refund(self, shop: dict, points: float) -> float:
        with self.store.tx():
            bucket = self.store.get(self.code, "bucket", shop["domain"])
            bucket["available"] = min(shop["bucket_size"], bucket["available"] + points)
            self.store.put(self.code, "bucket", shop["domain"], bucket, shop=shop["domain"])
        return bucket["available"]

    # --- faults --------------------------------------------------------------------------------------
    def fault_response(self, kind: str) -> Response:
        endpoint = (request.endpoint or "").split(".")[-1]
        if kind == "throttle":
            if endpoint == "graphql":
                return self._graphql_throttle_fault()
            return _json(REST_THROTTLED, 429, {"Retry-After": "2.0"})
        if kind == "malformed":
            return Response(
                '{"data":{"shop":{"id":"gid://shopify/Shop/', status=200, mimetype="application/json"
            )
        return Response(pages.SERVER_ERROR, status=503, mimetype="text/html")

    def _graphql_throttle_fault(self) -> Response:
        """As if another client of the app had just drained the bucket."""
        shop = self._shop((request.view_args or {}).get("shop")) or {
            "bucket_size": BUCKET_SIZE,
            "restore_rate": RESTORE_RATE,
        }
        cost = 1
        parsed = self._read_graphql_request()
        if parsed:
            try:
                cost = max(1, admin_graphql.requested_cost(parse(parsed[0]), parsed[2], parsed[1]))
            except (GraphQLError, TypeError, ValueError):
                cost = 1
        return self._throttled(shop, cost, 0.0)

    # --- console -------------------------------------------------------------------------------------
    def create_shop(self, body: dict) -> dict:
        name = str(body.get("name") or "").strip()
        if not name:
            raise ConsoleError("name is required")
        number = None
        domain = str(body.get("domain") or "").strip().lower()
        if not domain:
            number = self.store.next_id(f"{self.code}:shop", start=548_380_001)
            slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:40].strip("-") or f"shop-{number}"
            domain = slug
        if "." not in domain:
            domain += ".myshopify.com"
        if not SHOP_DOMAIN_RE.fullmatch(domain):
            raise ConsoleError("domain must look like name.myshopify.com")
        try:
            bucket_size = float(body.get("bucket_size") or BUCKET_SIZE)
            restore_rate = float(body.get("restore_rate") or RESTORE_RATE)
        except (TypeError, ValueError):
            raise ConsoleError("bucket_size and restore_rate must be numbers") from None
        if bucket_size <= 0 or restore_rate <= 0:
            raise ConsoleError("bucket_size and restore_rate must be positive")
        with self.store.tx():
            if self._shop(domain):
                raise ConsoleError(f"Shop {domain} already exists", 409)
            number = number or self.store.next_id(f"{self.code}:shop", start=548_380_001)
            doc = {
                "id": domain,
                "number": number,
                "gid": f"gid://shopify/Shop/{number}",
                "domain": domain,
                "name": name,
                "email": str(body.get("email") or f"owner@{domain}"),
                "currency": str(body.get("currency") or "TWD"),
                "timezone": str(body.get("timezone") or "Asia/Taipei"),
                "status": "active",
                "installed": False,
                "scope": "",
                "bucket_size": bucket_size,
                "restore_rate": restore_rate,
                "created_at": _now(),
            }
            if doc["currency"] not in admin_graphql.SCHEMA.get_type("CurrencyCode").values:
                raise ConsoleError("unsupported currency")
            self._save_shop(doc)
        return {"id": domain, "name": name, "domain": domain, "gid": doc["gid"]}

    def _shop_state(self, doc: dict) -> dict:
        now = _now()
        tokens = self._tokens(doc["domain"])

        def live(t):
            return not t["revoked"] and (t["expires_at"] is None or t["expires_at"] > now)

        access = [t for t in tokens if t["kind"] == "access"]
        return {
            "shop": {k: doc[k] for k in ("domain", "name", "gid", "email", "currency", "timezone", "status")},
            "installed": doc["installed"],
            "scope": doc["scope"],
            "webhooks": [
                {
                    "id": w["gid"],
                    "topic": w["topic"],
                    "uri": w["uri"],
                    "format": w["format"],
                    "created_at": _iso(w["created_at"]),
                }
                for w in self.webhooks(doc["domain"])
            ],
            "tokens": {
                "active": sum(1 for t in access if live(t)),
                "active_expiring": sum(1 for t in access if live(t) and t["expires_at"] is not None),
                "expired": sum(1 for t in access if not t["revoked"] and not live(t)),
                "revoked": sum(1 for t in access if t["revoked"]),
                "refresh_active": sum(1 for t in tokens if t["kind"] == "refresh" and live(t)),
            },
        }

    def state(self, shop: str | None) -> dict:
        if shop is None:
            return {"shops": [self._shop_state(doc) for doc in self.shops()]}
        doc = self._shop(shop)
        if doc is None:
            raise ConsoleError(f"Unknown shop {shop}", 404)
        return {**self._shop_state(doc), **self.orders_state(doc["domain"])}

    def expire_tokens(self) -> None:
        with self.store.tx():
            past = _now() - 1
            for token in self.store.find(self.code, "token"):
                if token["kind"] == "access" and token["expires_at"] is not None and not token["revoked"]:
                    token["expires_at"] = min(token["expires_at"], past)
                    self._put_token(token)

    def console_uninstall(self, body: dict) -> dict:
        doc = self._shop(body.get("shop"))
        if doc is None:
            raise ConsoleError("Unknown shop", 404)
        self.uninstall(doc["domain"])
        return {"uninstalled": doc["domain"]}

    def console_shop_status(self, body: dict) -> dict:
        doc = self._shop(body.get("shop"))
        if doc is None:
            raise ConsoleError("Unknown shop", 404)
        status = str(body.get("status") or "")
        if status not in SHOP_STATUSES:
            raise ConsoleError(f"status must be one of {', '.join(SHOP_STATUSES)}")
        doc["status"] = status
        self._save_shop(doc)
        return {"shop": doc["domain"], "status": status}
