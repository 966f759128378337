"""Fake Shopee Open Platform v2 (platforms-global.md §1): authorization pages (new and legacy
links), token exchange with rotating single-use refresh tokens, get_shop_info and
get_shops_by_partner, with Shopee's own gateway checks, error codes and envelopes.

It signs with its own HMAC code (never the client's). HTTP statuses that accompany Shopee's errors
are UNCONFIRMED: we answer 400 for parameter errors, 403 for sign/auth errors, 429 for throttling,
500 for server errors and 200 for endpoint-level (business) errors; clients must key on ``error``."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import time
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from flask import Blueprint, Response, g, jsonify, redirect, render_template_string, request

from ecbridge.sandbox.base import ConsoleError, PlatformSandbox

# The demo app's credentials: equal to settings.PLATFORMS["shopee"]'s development defaults.
PARTNER_ID = int(os.environ.get("SHOPEE_PARTNER_ID") or 2001887)
PARTNER_KEY = os.environ.get("SHOPEE_PARTNER_KEY") or "sandbox-shopee-key"
# The "Redirect URL Domain" declared in Shopee's console; empty = any domain is accepted.
REDIRECT_DOMAIN = os.environ.get("SHOPEE_SANDBOX_REDIRECT_DOMAIN", "")

TOKEN_GET = "/api/v2/auth/token/get"
TOKEN_REFRESH = "/api/v2/auth/access_token/get"
SHOP_INFO = "/api/v2/shop/get_shop_info"
SHOPS_BY_PARTNER = "/api/v2/public/get_shops_by_partner"
LEGACY_AUTH = "/api/v2/shop/auth_partner"
LEGACY_CANCEL = "/api/v2/shop/cancel_auth_partner"

TIMESTAMP_WINDOW = 300  # a request's timestamp is valid 5 minutes
CODE_TTL = 600  # an authorization code: single use, 10 minutes
ACCESS_TTL = 4 * 3600
REFRESH_TTL = 30 * 86400
REFRESH_GRACE = 300  # the old access token stays valid 5 more minutes after a refresh
KEEP_SPENT_SECONDS = 86400  # spent tokens are pruned a day later
AUTH_DURATIONS = (7, 30, 90, 180, 365)  # days the seller may pick on the consent page
REGIONS = ("TW", "SG", "MY", "TH", "VN", "PH", "ID", "BR", "MX", "CO", "CL")
SHOP_STATUSES = ("NORMAL", "BANNED", "FROZEN")
SHOP_ID_START = 70000001
UINT32_MAX = 4294967295

MSG_REDIRECT_DOMAIN = (
    "The domain of redirect_uri is not consistent with the Redirect URL Domain declared in console"
)
MSG_SERVER = "Something wrong. Please try later."
MSG_RATE_LIMIT = "Too many requests. You have reached the rate limit. Please try again later."
MSG_BANNED = (
    "The shop account has been banned. Permissions for shop authorization and API calls have "
    "been suspended until the shop account is restored."
)


class ShopeeError(Exception):
    """An answer in Shopee's API envelope: ``{"request_id", "error", "message"}``."""

    def __init__(self, error: str, message: str, status: int = 200):
        super().__init__(message)
        self.error, self.message, self.status = error, message, status


class AuthPageError(Exception):
    """An answer of the authorization pages: ``{"code": 1, "error", "msg"}``."""

    def __init__(self, msg: str, error: str = "error_param", status: int = 400):
        super().__init__(msg)
        self.error, self.msg, self.status = error, msg, status


def param_error(message: str) -> ShopeeError:
    return ShopeeError("error_param", message, 400)


def hmac_sha256_hex(key: str, message: str) -> str:
    return hmac.new(key.encode("utf-8"), message.encode("utf-8"), hashlib.sha256).hexdigest()


def is_uint32(value: str | None) -> bool:
    return bool(value) and value.isdigit() and int(value) <= UINT32_MAX


def json_int(value: Any) -> int | None:
    """A JSON integer (not a bool, not a numeric string), as Shopee's typed bodies expect."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def with_query(url: str, params: dict[str, Any]) -> str:
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True) + [(k, str(v)) for k, v in params.items()]
    return urlunsplit(parts._replace(query=urlencode(query)))


CONSENT_PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>{{ title }} · Shopee Open Platform (sandbox)</title>
  <style>
    body { font-family: system-ui, sans-serif; margin: 0; background: #f5f5f5; color: #222; }
    header { background: #ee4d2d; color: #fff; padding: 1rem 2rem; font-weight: 600; }
    main { max-width: 40rem; margin: 2rem auto; background: #fff; padding: 1.5rem 2rem; border-radius: 4px; }
    label.shop { display: block; padding: .5rem; border: 1px solid #ddd; margin: .25rem 0;
                 border-radius: 4px; }
    button { background: #ee4d2d; color: #fff; border: 0; padding: .6rem 1.4rem; font-size: 1rem;
             border-radius: 4px; cursor: pointer; }
    .muted { color: #777; font-size: .9rem; } code { background: #f4f4f4; padding: 0 .25rem; }
  </style>
</head>
<body>
  <header>Shopee Open Platform · sandbox</header>
  <main>
    <h1>{{ title }}</h1>
    <p>{{ intro }}</p>
    <p class="muted">Partner ID <code>{{ partner_id }}</code> ·
      you will return to <code>{{ redirect_uri }}</code></p>
    {% if shops %}
    <form method="post" action="{{ action }}">
      <input type="hidden" name="partner_id" value="{{ partner_id }}">
      <input type="hidden" name="redirect_uri" value="{{ redirect_uri }}">
      <input type="hidden" name="state" value="{{ state }}">
      <input type="hidden" name="auth_type" value="seller">
      <input type="hidden" name="response_type" value="code">
      <fieldset>
        <legend>Shop</legend>
        {% for shop in shops %}
        <label class="shop">
          <input type="radio" name="shop_id" value="{{ shop.shop_id }}"
                 {% if shop.id == selected %}checked{% endif %}>
          {{ shop.name }} <span class="muted">(shop ID {{ shop.shop_id }}, {{ shop.region }},
          {{ shop.status }})</span>
        </label>
        {% endfor %}
      </fieldset>
      {% if durations %}
      <p><label>Authorization period
        <select name="duration_days">
          {% for days in durations %}
          <option value="{{ days }}" {% if days == 365 %}selected{% endif %}>{{ days }} days</option>
          {% endfor %}
        </select></label></p>
      {% endif %}
      <p><button type="submit">{{ button }}</button></p>
    </form>
    {% else %}
    <p><strong>{{ empty }}</strong></p>
    {% endif %}
  </main>
</body>
</html>"""


class ShopeeSandbox(PlatformSandbox):
    code = "shopee"
    name = "Shopee"
    fault_exempt_endpoints = frozenset(
        {"auth_page", "auth_submit", "cancel_page", "cancel_submit", "legacy_auth_page", "legacy_cancel_page"}
    )

    def __init__(self, store, *, standalone: bool = False):
        self.partner_id = PARTNER_ID
        self.partner_key = PARTNER_KEY
        self.clock = time.time  # tests move it
        super().__init__(store, standalone=standalone)

    # --- routes ----------------------------------------------------------------------------------
    def register_routes(self, bp: Blueprint) -> None:
        bp.register_error_handler(ShopeeError, self._shopee_error)
        bp.register_error_handler(AuthPageError, self._auth_page_error)

        bp.add_url_rule("/auth", "auth_page", self.auth_page, methods=["GET"])
        bp.add_url_rule("/auth", "auth_submit", self.auth_submit, methods=["POST"])
        bp.add_url_rule("/cancel_auth", "cancel_page", self.cancel_page, methods=["GET"])
        bp.add_url_rule("/cancel_auth", "cancel_submit", self.cancel_submit, methods=["POST"])
        bp.add_url_rule(LEGACY_AUTH, "legacy_auth_page", self.legacy_auth_page, methods=["GET"])
        bp.add_url_rule(LEGACY_CANCEL, "legacy_cancel_page", self.legacy_cancel_page, methods=["GET"])

        bp.add_url_rule(TOKEN_GET, "token_get", self.token_get, methods=["POST"])
        bp.add_url_rule(TOKEN_REFRESH, "token_refresh", self.token_refresh, methods=["POST"])
        bp.add_url_rule(SHOP_INFO, "get_shop_info", self.get_shop_info, methods=["GET"])
        bp.add_url_rule(SHOPS_BY_PARTNER, "get_shops_by_partner", self.get_shops_by_partner, methods=["GET"])
        bp.add_url_rule("/api/v2/<path:rest>", "unknown_api", self.unknown_api, methods=["GET", "POST"])

        bp.add_url_rule(
            "/_console/shops/<shop_id>/authorize-code",
            "console_shopee_authorize_code",
            self._console(self.console_authorize_code),
            methods=["POST"],
        )
        bp.add_url_rule(
            "/_console/shops/<shop_id>/status",
            "console_shopee_shop_status",
            self._console(self.console_shop_status),
            methods=["POST"],
        )

    def _console(self, fn):
        def view(shop_id):
            try:
                return jsonify(fn(shop_id, request.get_json(silent=True) or request.form.to_dict() or {}))
            except ConsoleError as exc:
                return jsonify({"error": str(exc)}), exc.status

        return view

    # --- envelopes -------------------------------------------------------------------------------
    @staticmethod
    def request_id() -> str:
        return secrets.token_hex(16)

    def _shopee_error(self, exc: ShopeeError):
        return jsonify(
            {"request_id": self.request_id(), "error": exc.error, "message": exc.message}
        ), exc.status

    @staticmethod
    def _auth_page_error(exc: AuthPageError):
        return jsonify({"code": 1, "error": exc.error, "msg": exc.msg}), exc.status

    def ok(self, fields: dict[str, Any]):
        """Auth, shop_info and get_shops_by_partner put their fields top-level."""
        return jsonify({"request_id": self.request_id(), "error": "", "message": "", **fields})

    def unknown_api(self, rest: str):
        g.sandbox_operation = "unknown"
        raise ShopeeError(
            "error_param",
            "Permission denied. This API is currently offline or the request path is incorrect.",
            404,
        )

    # --- gateway checks --------------------------------------------------------------------------
    def _gateway(self, path: str, *, shop_api: bool = False, args=None) -> dict | None:
        """partner_id, timestamp (±5 min), sign; and for Shop APIs access_token + shop_id. Returns
        the access-token document for Shop APIs."""
        args = request.args if args is None else args
        if shop_api and is_uint32(args.get("shop_id")):
            g.sandbox_shop = args["shop_id"]
        raw_partner = args.get("partner_id")
        if not raw_partner:
            raise param_error("There is no partner_id in query.")
        if not is_uint32(raw_partner):
            raise param_error("Partner_id is invalid, should be an integer between 0 and 4294967295.")
        if int(raw_partner) != self.partner_id:
            raise param_error("Invalid partner_id.")
        raw_ts = args.get("timestamp")
        if not raw_ts:
            raise param_error("no timestamp")
        if not is_uint32(raw_ts):
            raise param_error("Timestamp is invalid, should be an integer between 0 and 4294967295.")
        now = self.clock()
        if int(raw_ts) < now - TIMESTAMP_WINDOW:
            raise param_error("Timestamp is expired.")
        if int(raw_ts) > now + TIMESTAMP_WINDOW:
            raise param_error("Invalid timestamp")
        sign = args.get("sign")
        if not sign:
            raise param_error("There is no sign in query.")
        base = f"{raw_partner}{path}{raw_ts}"
        token = raw_shop = ""
        if shop_api:
            token = args.get("access_token") or ""
            if not token:
                raise param_error("There is no access_token in query.")
            raw_shop = args.get("shop_id") or ""
            if not raw_shop:
                raise param_error("There is no shop_id in query.")
            if not is_uint32(raw_shop):
                raise param_error("Wrong parameters, detail: shop_id is invalid.")
            base += f"{token}{raw_shop}"
        if not hmac.compare_digest(hmac_sha256_hex(self.partner_key, base), sign):
            raise ShopeeError("error_sign", "Wrong sign.", 403)
        return self._check_access_token(token, int(raw_shop)) if shop_api else None

    def _check_access_token(self, token: str, shop_id: int) -> dict:
        doc = self.store.get(self.code, "access_token", token)
        if doc is None:
            raise ShopeeError("error_auth", "Invalid access_token.", 403)
        auth = self._authorization(shop_id)
        if doc["shop_id"] != shop_id or not self._is_live(auth, doc["auth_id"]):
            raise ShopeeError("error_auth", "Invalid partner_id or shopid.", 403)
        if doc["expires_at"] <= self.clock():
            raise ShopeeError(
                "invalid_acceess_token", "Invalid access_token.", 403
            )  # (sic), as Shopee spells it
        return doc

    def _json_body(self) -> dict:
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            raise param_error("Wrong parameters, detail: the request body must be a JSON object.")
        if "partner_id" not in body:
            raise param_error("Wrong parameters, detail: partner_id is required.")
        if json_int(body["partner_id"]) != self.partner_id:
            raise param_error("Wrong parameters, detail: partner_id in the body does not match the query.")
        return body

    # --- storage helpers -------------------------------------------------------------------------
    def _shop(self, shop_id) -> dict | None:
        return self.store.get(self.code, "shop", str(shop_id))

    def _auth_key(self, shop_id) -> str:
        return f"{self.partner_id}:{shop_id}"

    def _authorization(self, shop_id) -> dict | None:
        return self.store.get(self.code, "authorization", self._auth_key(shop_id))

    def _save_authorization(self, shop: dict, auth: dict) -> dict:
        return self.store.put(
            self.code,
            "authorization",
            self._auth_key(shop["shop_id"]),
            auth,
            shop=shop["id"],
            sort=shop["shop_id"],
        )

    def _is_live(self, auth: dict | None, auth_id: str | None = None) -> bool:
        return bool(
            auth
            and auth["status"] == "active"
            and auth["expire_time"] > self.clock()
            and (auth_id is None or auth["id"] == auth_id)
        )

    def _authorize(self, shop: dict, duration_days: int) -> dict:
        """The seller confirmed: create the partner-shop authorization, or extend a live one."""
        now = int(self.clock())
        auth = self._authorization(shop["shop_id"])
        if not self._is_live(auth):
            auth = {
                "id": secrets.token_hex(8),
                "partner_id": self.partner_id,
                "shop_id": shop["shop_id"],
                "status": "active",
                "cancelled_at": None,
            }
        auth.update(auth_time=now, expire_time=now + duration_days * 86400)
        return self._save_authorization(shop, auth)

    def _issue_code(self, shop: dict, auth: dict) -> str:
        code = secrets.token_hex(16)
        self.store.put(
            self.code,
            "auth_code",
            code,
            {
                "key": code,
                "shop_id": shop["shop_id"],
                "partner_id": self.partner_id,
                "auth_id": auth["id"],
                "expires_at": self.clock() + CODE_TTL,
                "used": False,
                "used_at": None,
            },
            shop=shop["id"],
            sort=self.clock(),
        )
        return code

    def _issue_tokens(self, auth: dict) -> dict:
        now = self.clock()
        shop = str(auth["shop_id"])
        self._prune(shop, now)
        access, refresh = secrets.token_hex(16), secrets.token_hex(16)
        common = {
            "shop_id": auth["shop_id"],
            "partner_id": self.partner_id,
            "auth_id": auth["id"],
            "issued_at": now,
        }
        self.store.put(
            self.code,
            "access_token",
            access,
            {**common, "key": access, "expires_at": now + ACCESS_TTL},
            shop=shop,
            sort=now,
        )
        self.store.put(
            self.code,
            "refresh_token",
            refresh,
            {**common, "key": refresh, "expires_at": now + REFRESH_TTL, "used": False, "used_at": None},
            shop=shop,
            sort=now,
        )
        return {"access_token": access, "refresh_token": refresh, "expire_in": ACCESS_TTL}

    def _prune(self, shop: str, now: float) -> None:
        """Keep storage bounded: forget tokens and codes that have been dead for a day."""
        for kind in ("access_token", "refresh_token", "auth_code"):
            for key, doc in self._docs_with_keys(kind, shop):
                dead_since = doc.get("used_at") if doc.get("used") else doc["expires_at"]
                if dead_since is not None and dead_since < now - KEEP_SPENT_SECONDS:
                    self.store.delete(self.code, kind, key)

    def _docs_with_keys(self, kind: str, shop: str | None = None) -> list[tuple[str, dict]]:
        # SandboxStore.find returns bodies only, so token and code documents carry their key.
        return [(d["key"], d) for d in self.store.find(self.code, kind, shop=shop)]

    # --- authorization pages ---------------------------------------------------------------------
    def _page_partner(self, values) -> int:
        raw = values.get("partner_id") or ""
        if not raw:
            raise AuthPageError("partner_id is required.")
        if not is_uint32(raw) or int(raw) != self.partner_id:
            raise AuthPageError("Invalid partner_id.")
        return int(raw)

    def _page_redirect(self, value: str | None, *, legacy: bool = False) -> str:
        name = "redirect" if legacy else "redirect_uri"
        if not value:
            raise AuthPageError(f"{name} is required.")
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise AuthPageError(f"{name} is invalid.")
        domain = REDIRECT_DOMAIN.lower()
        host = parts.hostname.lower()
        if domain and host != domain and not host.endswith("." + domain):
            raise AuthPageError(MSG_REDIRECT_DOMAIN)
        return value

    def _page_new_format(self, values) -> tuple[str, str]:
        self._page_partner(values)
        if values.get("auth_type", "seller") != "seller":
            raise AuthPageError("The sandbox supports auth_type=seller only.")
        if values.get("response_type", "code") != "code":
            raise AuthPageError("response_type must be code.")
        return self._page_redirect(values.get("redirect_uri")), values.get("state", "")

    def _render_consent(self, *, redirect_uri: str, state: str):
        g.sandbox_operation = "auth_page"
        selected = request.args.get("shop_id", "")
        shops = self.shops()
        if shops and selected not in {s["id"] for s in shops}:
            selected = shops[0]["id"]
        return render_template_string(
            CONSENT_PAGE,
            title="Authorize partner",
            action=f"/sandbox/{self.code}/auth",
            intro=f"Partner {self.partner_id} asks to access your shop's orders, products and stock. "
            "Pick the shop and the authorization period.",
            empty="There are no shops in the sandbox yet. Create one with the console API first.",
            button="Authorize",
            partner_id=self.partner_id,
            redirect_uri=redirect_uri,
            state=state,
            shops=shops,
            selected=selected,
            durations=AUTH_DURATIONS,
        )

    def _render_cancel(self, *, redirect_uri: str):
        g.sandbox_operation = "cancel_auth_page"
        selected = request.args.get("shop_id", "")
        shops = [s for s in self.shops() if self._is_live(self._authorization(s["shop_id"]))]
        if shops and selected not in {s["id"] for s in shops}:
            selected = shops[0]["id"]
        return render_template_string(
            CONSENT_PAGE,
            title="Cancel authorization",
            action=f"/sandbox/{self.code}/cancel_auth",
            intro=f"Stop partner {self.partner_id} from accessing the shop you pick.",
            empty="No shop has authorized this partner.",
            button="Cancel authorization",
            partner_id=self.partner_id,
            redirect_uri=redirect_uri,
            state="",
            shops=shops,
            selected=selected,
            durations=(),
        )

    def auth_page(self):
        redirect_uri, state = self._page_new_format(request.args)
        return self._render_consent(redirect_uri=redirect_uri, state=state)

    def legacy_auth_page(self):
        """The legacy signed link: a Public-API sign over /api/v2/shop/auth_partner."""
        g.sandbox_operation = "auth_partner"
        self._gateway(LEGACY_AUTH)
        return self._render_consent(
            redirect_uri=self._page_redirect(request.args.get("redirect"), legacy=True), state=""
        )

    def _form_shop(self) -> dict:
        raw = request.form.get("shop_id", "")
        shop = self._shop(raw) if raw.isdigit() else None
        if shop is None:
            raise AuthPageError("shop_id is invalid.")
        g.sandbox_shop = shop["id"]
        return shop

    def auth_submit(self):
        g.sandbox_operation = "auth_submit"
        redirect_uri, state = self._page_new_format(request.form)
        shop = self._form_shop()
        if shop["status"] == "BANNED":
            raise AuthPageError(MSG_BANNED, error="shop_banned", status=403)
        raw_days = request.form.get("duration_days") or "365"
        if not raw_days.isdigit() or not 1 <= int(raw_days) <= 365:
            raise AuthPageError("duration_days must be between 1 and 365.")
        with self.store.tx():
            code = self._issue_code(shop, self._authorize(shop, int(raw_days)))
        params = {"code": code, "shop_id": shop["shop_id"]}
        if state:
            params["state"] = state
        return redirect(with_query(redirect_uri, params), code=302)

    def cancel_page(self):
        redirect_uri, _state = self._page_new_format(request.args)
        return self._render_cancel(redirect_uri=redirect_uri)

    def legacy_cancel_page(self):
        g.sandbox_operation = "cancel_auth_partner"
        self._gateway(LEGACY_CANCEL)
        return self._render_cancel(
            redirect_uri=self._page_redirect(request.args.get("redirect"), legacy=True)
        )

    def cancel_submit(self):
        g.sandbox_operation = "cancel_auth_submit"
        redirect_uri, _state = self._page_new_format(request.form)
        shop = self._form_shop()
        with self.store.tx():
            auth = self._authorization(shop["shop_id"])
            if not self._is_live(auth):
                raise AuthPageError("The shop has not authorized this partner.")
            auth.update(status="cancelled", cancelled_at=int(self.clock()))
            self._save_authorization(shop, auth)
        return redirect(redirect_uri, code=302)

    # --- API -------------------------------------------------------------------------------------
    def token_get(self):
        g.sandbox_operation = "auth.token.get"
        self._gateway(TOKEN_GET)
        body = self._json_body()
        code = body.get("code")
        if not isinstance(code, str) or not code:
            raise param_error("Wrong parameters, detail: code is required.")
        if "shop_id" not in body and "main_account_id" in body:
            raise ShopeeError(
                "invalid_main_acount_id",  # (sic); the sandbox has no main accounts
                "The code or main_accoount_id is wrong, please check the code or the main_account_id.",
            )
        shop_id = json_int(body.get("shop_id"))
        if shop_id is None:
            raise param_error("Wrong parameters, detail: shop_id must be an integer.")
        g.sandbox_shop = str(shop_id)
        with self.store.tx():
            doc = self.store.get(self.code, "auth_code", code)
            if (
                doc is None
                or doc["used"]
                or doc["expires_at"] <= self.clock()
                or doc["partner_id"] != self.partner_id
            ):
                raise ShopeeError(
                    "invalid_code", "The code is expired or used or invalid, please check the code."
                )
            if doc["shop_id"] != shop_id:
                raise ShopeeError(
                    "invalid_shop_id", "The code or shop_id is wrong, please check the code or the shop_id."
                )
            auth = self._authorization(shop_id)
            if not self._is_live(auth, doc["auth_id"]):
                raise ShopeeError(
                    "invalid_code", "The code is expired or used or invalid, please check the code."
                )
            doc.update(used=True, used_at=self.clock())
            self.store.put(
                self.code, "auth_code", code, doc, shop=str(shop_id), sort=doc["expires_at"] - CODE_TTL
            )
            tokens = self._issue_tokens(auth)
        return self.ok(tokens)

    def token_refresh(self):
        g.sandbox_operation = "auth.access_token.get"
        self._gateway(TOKEN_REFRESH)
        body = self._json_body()
        refresh_token = body.get("refresh_token")
        if not isinstance(refresh_token, str) or not refresh_token:
            raise param_error("Wrong parameters, detail: refresh_token is required.")
        subjects = [k for k in ("shop_id", "merchant_id", "supplier_id", "user_id") if k in body]
        if len(subjects) != 1:
            raise param_error(
                "Wrong parameters, detail: give exactly one of shop_id, merchant_id, supplier_id, user_id."
            )
        if subjects != ["shop_id"]:  # the sandbox has shops only
            raise ShopeeError(
                "error_merchant_refresh_token",
                "Your refresh token is error,please check refresh token or merchant_id.",
            )
        shop_id = json_int(body["shop_id"])
        if shop_id is None:
            raise param_error("Wrong parameters, detail: shop_id must be an integer.")
        g.sandbox_shop = str(shop_id)
        now = self.clock()
        with self.store.tx():
            doc = self.store.get(self.code, "refresh_token", refresh_token)
            if (
                doc is None
                or doc["used"]
                or doc["shop_id"] != shop_id
                or doc["partner_id"] != self.partner_id
            ):
                raise ShopeeError(
                    "error_shop_refresh_token",
                    "Your refresh token is error ,please check refresh token or shopid.",
                )
            shop = self._shop(shop_id)
            if shop is not None and shop["status"] == "BANNED":
                raise ShopeeError("shop_banned", MSG_BANNED)
            auth = self._authorization(shop_id)
            if not auth or auth["id"] != doc["auth_id"] or auth["status"] != "active":
                raise ShopeeError("shop_no_linked", "Partner and shop has no linked.")
            if auth["expire_time"] <= now:
                raise ShopeeError("shop_access_expired", "Your access to shop has expired.")
            if doc["expires_at"] <= now:
                raise ShopeeError("refresh_token_expired", "Your refresh_token expired.")
            doc.update(used=True, used_at=now)
            self.store.put(
                self.code, "refresh_token", refresh_token, doc, shop=str(shop_id), sort=doc["issued_at"]
            )
            for key, old in self._docs_with_keys("access_token", str(shop_id)):
                if old["auth_id"] == auth["id"] and old["expires_at"] > now + REFRESH_GRACE:
                    old["expires_at"] = now + REFRESH_GRACE
                    self.store.put(
                        self.code, "access_token", key, old, shop=str(shop_id), sort=old["issued_at"]
                    )
            tokens = self._issue_tokens(auth)
        return self.ok({"partner_id": self.partner_id, "shop_id": shop_id, **tokens})

    def get_shop_info(self):
        g.sandbox_operation = "shop.get_shop_info"
        token = self._gateway(SHOP_INFO, shop_api=True)
        shop = self._shop(token["shop_id"])
        auth = self._authorization(token["shop_id"])
        return self.ok(
            {
                "shop_name": shop["name"],
                "region": shop["region"],
                "status": shop["status"],
                "auth_time": auth["auth_time"],
                "expire_time": auth["expire_time"],
                "shop_fulfillment_flag": "Others",
                "is_cb": False,
                "is_sip": False,
                "is_upgraded_cbsc": False,
                "merchant_id": None,
                "sip_affi_shops": [],
                "is_main_shop": False,
                "is_direct_shop": False,
                "linked_main_shop_id": 0,
                "linked_direct_shop_list": [],
                "is_one_awb": False,
                "is_mart_shop": False,
                "is_outlet_shop": False,
            }
        )

    def get_shops_by_partner(self):
        g.sandbox_operation = "public.get_shops_by_partner"
        self._gateway(SHOPS_BY_PARTNER)
        raw_size, raw_page = request.args.get("page_size") or "100", request.args.get("page_no") or "1"
        if not raw_size.isdigit() or not 1 <= int(raw_size) <= 100:
            raise param_error("Wrong parameters, detail: page_size should be between 1 and 100.")
        if not raw_page.isdigit() or int(raw_page) < 1:
            raise param_error("Wrong parameters, detail: page_no should be at least 1.")
        size, page = int(raw_size), int(raw_page)
        live = [a for a in self.store.find(self.code, "authorization") if self._is_live(a)]
        chunk = live[(page - 1) * size : page * size]
        shops = {a["shop_id"]: self._shop(a["shop_id"]) or {} for a in chunk}
        return self.ok(
            {
                "authed_shop_list": [
                    {
                        "shop_id": a["shop_id"],
                        "region": shops[a["shop_id"]].get("region", ""),
                        "auth_time": a["auth_time"],
                        "expire_time": a["expire_time"],
                        "sip_affi_shops": [],
                    }
                    for a in chunk
                ],
                "more": len(live) > page * size,
            }
        )

    # --- console ---------------------------------------------------------------------------------
    def create_shop(self, body: dict) -> dict:
        region = str(body.get("region") or "TW").upper()
        if region not in REGIONS:
            raise ConsoleError(f"region must be one of {', '.join(REGIONS)}")
        status = str(body.get("status") or "NORMAL").upper()
        if status not in SHOP_STATUSES:
            raise ConsoleError(f"status must be one of {', '.join(SHOP_STATUSES)}")
        name = str(body.get("name") or "").strip()
        if len(name) > 100:
            raise ConsoleError("name must be at most 100 characters")
        with self.store.tx():
            shop_id = self.store.next_id(f"{self.code}:shop", start=SHOP_ID_START)
            shop = {
                "id": str(shop_id),
                "shop_id": shop_id,
                "name": name or f"Sandbox Shop {shop_id}",
                "region": region,
                "status": status,
                "created_at": int(self.clock()),
            }
            self.store.put(self.code, "shop", shop_id, shop, shop=shop_id, sort=shop_id)
        return shop

    def _console_shop(self, shop_id: str) -> dict:
        shop = self._shop(shop_id) if str(shop_id).isdigit() else None
        if shop is None:
            raise ConsoleError("Unknown shop", 404)
        return shop

    def console_authorize_code(self, shop_id: str, body: dict) -> dict:
        """What the consent form does, for scripts and demo seeding: authorize and issue a code."""
        shop = self._console_shop(shop_id)
        if shop["status"] == "BANNED":
            raise ConsoleError("A banned shop cannot authorize a partner")
        days = str(body.get("duration_days", 365))
        if not days.isdigit() or not 1 <= int(days) <= 365:
            raise ConsoleError("duration_days must be between 1 and 365")
        redirect_uri = str(body.get("redirect_uri") or "")
        if redirect_uri and urlsplit(redirect_uri).scheme not in ("http", "https"):
            raise ConsoleError("redirect_uri must be an http(s) URL")
        with self.store.tx():
            code = self._issue_code(shop, self._authorize(shop, int(days)))
        result = {"code": code, "shop_id": shop["shop_id"]}
        if redirect_uri:
            result["callback_url"] = with_query(redirect_uri, result)
        return result

    def console_shop_status(self, shop_id: str, body: dict) -> dict:
        shop = self._console_shop(shop_id)
        status = str(body.get("status") or "").upper()
        if status not in SHOP_STATUSES:
            raise ConsoleError(f"status must be one of {', '.join(SHOP_STATUSES)}")
        shop["status"] = status
        self.store.put(self.code, "shop", shop["shop_id"], shop, shop=shop["id"], sort=shop["shop_id"])
        return shop

    def state(self, shop: str | None) -> dict:
        """Shops and authorizations with token counts and expiry: never a raw token or code."""
        now = self.clock()
        shops = self.shops() if shop is None else [s for s in self.shops() if s["id"] == str(shop)]
        authorizations = []
        for auth in self.store.find(self.code, "authorization", shop=shop):
            sid = str(auth["shop_id"])
            access = [
                d for d in self.store.find(self.code, "access_token", shop=sid) if d["auth_id"] == auth["id"]
            ]
            refresh = [
                d for d in self.store.find(self.code, "refresh_token", shop=sid) if d["auth_id"] == auth["id"]
            ]
            status = auth["status"] if auth["status"] != "active" or auth["expire_time"] > now else "expired"
            authorizations.append(
                {
                    "shop_id": auth["shop_id"],
                    "partner_id": auth["partner_id"],
                    "status": status,
                    "auth_time": auth["auth_time"],
                    "expire_time": auth["expire_time"],
                    "cancelled_at": auth["cancelled_at"],
                    "access_tokens": {
                        "valid": sum(1 for d in access if d["expires_at"] > now),
                        "expired": sum(1 for d in access if d["expires_at"] <= now),
                        "latest_expires_at": max((d["expires_at"] for d in access), default=None),
                    },
                    "refresh_tokens": {
                        "unused": sum(1 for d in refresh if not d["used"] and d["expires_at"] > now),
                        "used": sum(1 for d in refresh if d["used"]),
                    },
                }
            )
        codes = self.store.find(self.code, "auth_code", shop=shop)
        return {
            "partner_id": self.partner_id,
            "shops": shops,
            "authorizations": authorizations,
            "pending_codes": sum(1 for c in codes if not c["used"] and c["expires_at"] > now),
        }

    def expire_tokens(self) -> None:
        now = self.clock()
        with self.store.tx():
            for key, doc in self._docs_with_keys("access_token"):
                if doc["expires_at"] > now - 1:
                    doc["expires_at"] = now - 1
                    self.store.put(
                        self.code, "access_token", key, doc, shop=str(doc["shop_id"]), sort=doc["issued_at"]
                    )

    def fault_response(self, kind: str) -> Response:
        if kind == "throttle":
            # HTTP 429 is UNCONFIRMED (Shopee documents only the error code); no Retry-After is documented.
            resp = jsonify(
                {"request_id": self.request_id(), "error": "error_rate_limit", "message": MSG_RATE_LIMIT}
            )
            resp.status_code = 429
            return resp
        if kind == "malformed":
            return Response(
                '{"request_id": "' + self.request_id() + '", "error": "", "resp',
                status=200,
                mimetype="application/json",
            )
        resp = jsonify({"request_id": self.request_id(), "error": "error_server", "message": MSG_SERVER})
        resp.status_code = 500
        return resp


__all__ = ["PARTNER_ID", "PARTNER_KEY", "ShopeeSandbox"]
