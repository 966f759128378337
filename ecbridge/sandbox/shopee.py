"""Fake Shopee Open Platform v2 (platforms-global.md §1): authorization pages (new and legacy
links), token exchange with rotating single-use refresh tokens, get_shop_info and
get_shops_by_partner, with Shopee's own gateway checks, error codes and envelopes.

It signs with its own HMAC code (never the client's). HTTP statuses that accompany Shopee's errors
are UNCONFIRMED: we answer 400 for parameter errors, 403 for sign/auth errors, 429 for throttling,
500 for server errors and 200 for endpoint-level (business) errors; clients must key on ``error``."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import secrets
import time
from datetime import UTC, datetime, timedelta, timezone
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


# --- orders, logistics and push (issue 3) ---------------------------------------------------------
ORDER_LIST = "/api/v2/order/get_order_list"
ORDER_DETAIL = "/api/v2/order/get_order_detail"
SHIPPING_PARAMETER = "/api/v2/logistics/get_shipping_parameter"
SHIP_ORDER = "/api/v2/logistics/ship_order"
TRACKING_NUMBER = "/api/v2/logistics/get_tracking_number"
SET_PUSH_CONFIG = "/api/v2/push/set_app_push_config"
GET_PUSH_CONFIG = "/api/v2/push/get_app_push_config"

MAX_ORDER_WINDOW = 15 * 86400
MAX_PAGE_SIZE = 100
MAX_DETAIL_BATCH = 50
TW = timezone(timedelta(hours=8))
ORDER_STATUSES = (
    "UNPAID",
    "PENDING",
    "READY_TO_SHIP",
    "PROCESSED",
    "RETRY_SHIP",
    "SHIPPED",
    "TO_CONFIRM_RECEIVE",
    "IN_CANCEL",
    "CANCELLED",
    "TO_RETURN",
    "COMPLETED",
    "INVOICE_PENDING",
)
# get_order_list's order_status filter accepts these (PENDING only with request_order_status_pending).
LIST_STATUS_FILTERS = (
    "UNPAID",
    "READY_TO_SHIP",
    "PROCESSED",
    "SHIPPED",
    "COMPLETED",
    "IN_CANCEL",
    "CANCELLED",
    "INVOICE_PENDING",
    "PENDING",
)
SHIPPABLE_STATUSES = {"READY_TO_SHIP", "RETRY_SHIP"}
ARRANGED_STATUSES = {"PROCESSED", "SHIPPED", "TO_CONFIRM_RECEIVE", "COMPLETED", "TO_RETURN"}
DEFAULT_DETAIL_FIELDS = (
    "order_sn",
    "region",
    "currency",
    "cod",
    "order_status",
    "message_to_seller",
    "create_time",
    "update_time",
    "days_to_ship",
    "ship_by_date",
    "booking_sn",
)
OPTIONAL_DETAIL_FIELDS = frozenset(
    {
        "buyer_user_id",
        "buyer_username",
        "estimated_shipping_fee",
        "recipient_address",
        "actual_shipping_fee",
        "note",
        "note_update_time",
        "item_list",
        "pay_time",
        "dropshipper",
        "dropshipper_phone",
        "split_up",
        "buyer_cancel_reason",
        "cancel_by",
        "cancel_reason",
        "fulfillment_flag",
        "pickup_done_time",
        "package_list",
        "shipping_carrier",
        "checkout_shipping_carrier",
        "payment_method",
        "total_amount",
    }
)
# Taiwan logistics channels (platforms-taiwan.md §8): integrated ones, where Shopee issues the
# tracking number, and how each is handed over. Any other channel id is non-integrated (the seller's
# own carrier and tracking number). The pickup/dropoff split per channel is a sandbox choice.
INTEGRATED_CHANNELS = {
    30001: ("黑貓宅急便", "pickup"),
    30005: ("7-ELEVEN", "dropoff"),
    30006: ("全家", "dropoff"),
    30007: ("萊爾富", "dropoff"),
    30011: ("全家冷凍超取", "dropoff"),
    30014: ("OK Mart", "dropoff"),
}
DEFAULT_CHANNEL = 30005
NON_INTEGRATED_NAME = "賣家宅配 (seller delivery)"
PUSH_CODES = tuple(range(1, 14)) + (15,)
# UNCONFIRMED: the error Shopee answers when an order's shipment is already arranged; the client
# keeps the code in a setting.
ALREADY_SHIPPED_ERROR = "logistics.order_already_shipped"
MSG_ALREADY_SHIPPED = "The order has been arranged shipment already."
MSG_INVALID_TIME = "Start time must be earlier than end time and diff in 15days."
SANDBOX_SLUG = "TW_SANDBOX_3PL"


def to_epoch(value: Any, default: int) -> int:
    """Console times: epoch seconds (number or digits) or ISO 8601 (naive = UTC)."""
    if value in (None, ""):
        return default
    if isinstance(value, bool):
        raise ConsoleError("times must be epoch seconds or ISO 8601")
    if isinstance(value, int | float):
        return int(value)
    text = str(value).strip()
    if text.lstrip("-").isdigit():
        return int(text)
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ConsoleError(f"not a time: {text!r} (epoch seconds or ISO 8601)") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return int(parsed.timestamp())


def base36(number: int) -> str:
    digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    out = ""
    while True:
        number, rest = divmod(number, 36)
        out = digits[rest] + out
        if not number:
            return out


def encode_cursor(at: int, order_sn: str) -> str:
    return base64.urlsafe_b64encode(json.dumps([at, order_sn]).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[int, str]:
    try:
        at, order_sn = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(at, int) or not isinstance(order_sn, str):
            raise ValueError
    except (ValueError, TypeError, binascii.Error):
        raise param_error("Wrong parameters, detail: cursor is invalid.") from None
    return at, order_sn


class ShopeeOrdersMixin:
    """Orders, logistics and push for the Shopee sandbox.

    - get_order_list: ``time_range_field`` create_time|update_time, window ≤ 15 days (else
      ``order.order_list_invalid_time``), page_size 1-100, an opaque keyset cursor (time + order_sn,
      so an order updated mid-listing is seen again rather than another one skipped); ``more`` is
      exact (the sandbox reads one row ahead). Both ends of the window are inclusive (UNCONFIRMED).
    - ``request_order_status_pending``: without it a PENDING order reads READY_TO_SHIP (list and
      detail; the compatibility behaviour is UNCONFIRMED).
    - get_order_detail: 1-50 order_sn; optional fields only when asked for; unknown order_sn are left
      out with a ``warning`` (UNCONFIRMED). ``order_item_id`` equals ``item_id`` as seen for normal
      items (UNCONFIRMED), so two models of one item share it.
    - Logistics: get_shipping_parameter names exactly one method per channel (30001 pickup, the TW
      convenience-store channels dropoff with a ``slug`` to echo back, others non_integrated with
      ``tracking_no``); ship_order checks the body carries exactly that object; integrated channels
      get a tracking number after ``tracking_polls`` get_tracking_number polls (console setting,
      0 = the first poll) and then the order goes SHIPPED. Arranging an arranged order answers
      ``logistics.order_already_shipped`` (code UNCONFIRMED).
    - Push: one app-level callback URL (set_app_push_config, the console, or the default passed in
      by wsgi.py); codes 2 (deauthorization), 3 (order status, field ``ordersn``) and 4 (tracking
      number), signed ``hex(HMAC-SHA256(partner_key, url + "|" + body))``. Pushes go only to shops
      that authorized the partner (code 2 is sent as the authorization ends). Shopee's test POST on
      saving a callback URL is not simulated."""

    default_push_url: str = ""

    def set_default_push_url(self, url: str) -> None:
        """The callback URL used until one is saved through the API or the console (make run)."""
        self.default_push_url = url or ""

    def _register_order_routes(self, bp: Blueprint) -> None:
        bp.add_url_rule(ORDER_LIST, "get_order_list", self.get_order_list, methods=["GET"])
        bp.add_url_rule(ORDER_DETAIL, "get_order_detail", self.get_order_detail, methods=["GET"])
        bp.add_url_rule(
            SHIPPING_PARAMETER, "get_shipping_parameter", self.get_shipping_parameter, methods=["GET"]
        )
        bp.add_url_rule(SHIP_ORDER, "ship_order", self.ship_order, methods=["POST"])
        bp.add_url_rule(TRACKING_NUMBER, "get_tracking_number", self.get_tracking_number, methods=["GET"])
        bp.add_url_rule(SET_PUSH_CONFIG, "set_app_push_config", self.set_app_push_config, methods=["POST"])
        bp.add_url_rule(GET_PUSH_CONFIG, "get_app_push_config", self.get_app_push_config, methods=["GET"])
        for rule, name, fn in (
            ("/_console/push-config", "console_shopee_push_config", self.console_push_config),
            ("/_console/settings", "console_shopee_settings", self.console_settings),
        ):
            bp.add_url_rule(rule, name, self._console_body(fn), methods=["POST"])

    def _console_body(self, fn):
        def view():
            try:
                return jsonify(fn(request.get_json(silent=True) or request.form.to_dict() or {}))
            except ConsoleError as exc:
                return jsonify({"error": str(exc)}), exc.status

        view.__name__ = f"console_{fn.__name__}"
        return view

    def ok_response(self, response: dict, warning: str = ""):
        """Order and logistics APIs wrap their fields in ``response``."""
        body = {"request_id": self.request_id(), "error": "", "message": "", "response": response}
        if warning:
            body["warning"] = warning
        return jsonify(body)

    # --- settings and push configuration ------------------------------------------------------------
    def sandbox_settings(self) -> dict:
        return self.store.get(self.code, "settings", "current") or {"tracking_polls": 0}

    def console_settings(self, body: dict) -> dict:
        current = self.sandbox_settings()
        if "tracking_polls" in body:
            raw = str(body["tracking_polls"])
            if not raw.isdigit() or int(raw) > 1000:
                raise ConsoleError("tracking_polls must be an integer between 0 and 1000")
            current["tracking_polls"] = int(raw)
        self.store.put(self.code, "settings", "current", current)
        return current

    def push_config(self) -> dict:
        stored = self.store.get(self.code, "push_config", "app")
        if stored is not None:
            return stored
        return {"callback_url": self.default_push_url, "push_config_on_list": list(PUSH_CODES), "blocked": []}

    @staticmethod
    def _codes(values: Any, name: str, error) -> list[int]:
        if values in (None, ""):
            return []
        if not isinstance(values, list) or any(json_int(v) not in PUSH_CODES for v in values):
            raise error(f"{name} must be a list of push codes ({', '.join(map(str, PUSH_CODES))}).")
        return list(values)

    def _apply_push_config(self, body: dict, error) -> dict:
        config = self.push_config()
        if "callback_url" in body:
            url = body["callback_url"]
            if not isinstance(url, str) or (url and urlsplit(url).scheme not in ("http", "https")):
                raise error("callback_url must be an http(s) URL.")
            config["callback_url"] = url
        on = set(config["push_config_on_list"]) | set(
            self._codes(body.get("set_push_config_on"), "on", error)
        )
        on -= set(self._codes(body.get("set_push_config_off"), "off", error))
        config["push_config_on_list"] = sorted(on)
        if "blocked_shop_id_list" in body:
            blocked = body["blocked_shop_id_list"]
            if (
                not isinstance(blocked, list)
                or len(blocked) > 500
                or any(json_int(s) is None for s in blocked)
            ):
                raise error("blocked_shop_id_list must be a list of at most 500 shop ids.")
            config["blocked"] = blocked
        self.store.put(self.code, "push_config", "app", config)
        return config

    def console_push_config(self, body: dict) -> dict:
        return self._apply_push_config(body, ConsoleError)

    def set_app_push_config(self):
        g.sandbox_operation = "push.set_app_push_config"
        self._gateway(SET_PUSH_CONFIG)
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            raise param_error("Wrong parameters, detail: the request body must be a JSON object.")
        self._apply_push_config(body, lambda message: param_error(f"Wrong parameters, detail: {message}"))
        return self.ok_response({"result": "success"})

    def get_app_push_config(self):
        g.sandbox_operation = "push.get_app_push_config"
        self._gateway(GET_PUSH_CONFIG)
        config = self.push_config()
        on = config["push_config_on_list"]
        return self.ok_response(
            {
                "callback_url": config["callback_url"],
                "live_push_status": "Normal",
                "suspended_time": 0,
                "push_config_on_list": on,
                "push_config_off_list": [c for c in PUSH_CODES if c not in on],
                "blocked_shop_id": config["blocked"],
            }
        )

    def push(self, shop_id: int, code: int, data: dict, *, authorized_only: bool = True) -> dict | None:
        """Deliver one push with Shopee's signature, if configured for this code and shop."""
        config = self.push_config()
        url = config["callback_url"]
        if not url or code not in config["push_config_on_list"] or shop_id in config["blocked"]:
            return None
        if authorized_only and not self._is_live(self._authorization(shop_id)):
            return None
        payload: dict[str, Any] = {"data": data, "shop_id": shop_id, "code": code}
        if code in (1, 2):
            payload["partner_id"] = self.partner_id
        payload["timestamp"] = int(self.clock())
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        signature = hmac.new(
            self.partner_key.encode(), url.encode() + b"|" + body, hashlib.sha256
        ).hexdigest()
        headers = {"Content-Type": "application/json", "Authorization": signature}
        return self.send_webhook(url, headers, body, shop=str(shop_id), topic=str(code))

    def _push_status(self, order: dict) -> None:
        self.push(
            order["shop_id"],
            3,
            {
                "items": [],
                "ordersn": order["order_sn"],
                "status": order["order_status"],
                "completed_scenario": "",
                "update_time": order["update_time"],
            },
        )

    # --- storage -------------------------------------------------------------------------------------
    def _save_order(self, order: dict) -> dict:
        return self.store.put(
            self.code, "order", order["order_sn"], order, shop=order["shop_id"], sort=order["update_time"]
        )

    def _order(self, order_sn: str, shop_id: int | None = None) -> dict | None:
        order = self.store.get(self.code, "order", order_sn) if order_sn else None
        if order is None or (shop_id is not None and order["shop_id"] != shop_id):
            return None
        return order

    def _touch(self, order: dict, at: int | None = None) -> None:
        order["update_time"] = max(order["update_time"], int(self.clock()) if at is None else at)

    def _query_orders(
        self,
        shop_id: int,
        field: str,
        time_from: int,
        time_to: int,
        after: tuple[int, str] | None,
        limit: int,
        statuses: tuple[str, ...],
    ) -> list[dict]:
        """Keyset page over (time, order_sn). The shared store has no keyset query, so this reads
        its SQLite table directly (sandbox-only code)."""
        column = "sort" if field == "update_time" else "CAST(json_extract(body, '$.create_time') AS INTEGER)"
        sql = (
            f"SELECT body FROM docs WHERE platform=? AND kind='order' AND shop=? AND {column} BETWEEN ? AND ?"  # noqa: S608 (fixed column names)
        )
        args: list[Any] = [self.code, str(shop_id), time_from, time_to]
        if after is not None:
            sql += f" AND ({column} > ? OR ({column} = ? AND key > ?))"
            args += [after[0], after[0], after[1]]
        if statuses:
            sql += f" AND json_extract(body, '$.order_status') IN ({','.join('?' * len(statuses))})"
            args += list(statuses)
        sql += f" ORDER BY {column}, key LIMIT ?"
        args.append(limit)
        store = self.store
        with store._lock:
            rows = store._db.execute(sql, args).fetchall()
        return [json.loads(r["body"]) for r in rows]

    # --- order API -----------------------------------------------------------------------------------
    @staticmethod
    def _flag(name: str) -> bool:
        raw = (request.args.get(name) or "").lower()
        if raw not in ("", "true", "false", "1", "0"):
            raise param_error(f"Wrong parameters, detail: {name} should be a boolean.")
        return raw in ("true", "1")

    @staticmethod
    def _shown_status(order: dict, pending: bool) -> str:
        status = order["order_status"]
        return "READY_TO_SHIP" if status == "PENDING" and not pending else status

    def get_order_list(self):
        g.sandbox_operation = "order.get_order_list"
        token = self._gateway(ORDER_LIST, shop_api=True)
        args = request.args
        field = args.get("time_range_field") or ""
        if field not in ("create_time", "update_time"):
            raise param_error(
                "Wrong parameters, detail: time_range_field should be create_time or update_time."
            )
        raw_from, raw_to = args.get("time_from") or "", args.get("time_to") or ""
        if not is_uint32(raw_from) or not is_uint32(raw_to):
            raise param_error("Wrong parameters, detail: time_from and time_to are required integers.")
        time_from, time_to = int(raw_from), int(raw_to)
        if time_from > time_to or time_to - time_from > MAX_ORDER_WINDOW:
            raise ShopeeError("order.order_list_invalid_time", MSG_INVALID_TIME)
        raw_size = args.get("page_size") or ""
        if not raw_size.isdigit() or not 1 <= int(raw_size) <= MAX_PAGE_SIZE:
            raise param_error("Wrong parameters, detail: page_size should be between 1 and 100.")
        size = int(raw_size)
        pending = self._flag("request_order_status_pending")
        status = args.get("order_status") or ""
        if status and (status not in LIST_STATUS_FILTERS or (status == "PENDING" and not pending)):
            raise param_error("Wrong parameters, detail: order_status is invalid.")
        statuses: tuple[str, ...] = ()
        if status == "READY_TO_SHIP":
            statuses = ("READY_TO_SHIP", "PENDING")
        elif status:
            statuses = (status,)
        cursor = args.get("cursor") or ""
        after = decode_cursor(cursor) if cursor else None
        optional = {f.strip() for f in (args.get("response_optional_fields") or "").split(",") if f.strip()}
        rows = self._query_orders(token["shop_id"], field, time_from, time_to, after, size + 1, statuses)
        more = len(rows) > size
        rows = rows[:size]
        order_list = []
        for order in rows:
            entry = {"order_sn": order["order_sn"]}
            if "order_status" in optional:
                entry["order_status"] = self._shown_status(order, pending)
            if order.get("booking_sn"):
                entry["booking_sn"] = order["booking_sn"]
            order_list.append(entry)
        next_cursor = encode_cursor(rows[-1][field], rows[-1]["order_sn"]) if more else ""
        return self.ok_response({"more": more, "next_cursor": next_cursor, "order_list": order_list})

    def get_order_detail(self):
        g.sandbox_operation = "order.get_order_detail"
        token = self._gateway(ORDER_DETAIL, shop_api=True)
        raw = request.args.get("order_sn_list") or ""
        order_sns = [sn.strip() for sn in raw.split(",") if sn.strip()]
        if not 1 <= len(order_sns) <= MAX_DETAIL_BATCH:
            raise param_error("Wrong parameters, detail: order_sn_list should contain 1 to 50 order_sn.")
        pending = self._flag("request_order_status_pending")
        optional = {
            f.strip() for f in (request.args.get("response_optional_fields") or "").split(",") if f.strip()
        }
        optional &= OPTIONAL_DETAIL_FIELDS
        found, missing = [], []
        for order_sn in dict.fromkeys(order_sns):
            order = self._order(order_sn, token["shop_id"])
            if order is None:
                missing.append(order_sn)
                continue
            view = {k: order.get(k) for k in DEFAULT_DETAIL_FIELDS}
            view["order_status"] = self._shown_status(order, pending)
            view.update({k: order.get(k) for k in sorted(optional)})
            found.append(view)
        warning = f"order_sn not found: {','.join(missing)}" if missing else ""
        return self.ok_response({"order_list": found}, warning)

    # --- logistics API -------------------------------------------------------------------------------
    def _shippable_order(self, shop_id: int, order_sn: Any, package_number: Any) -> dict:
        if not isinstance(order_sn, str) or not order_sn:
            raise ShopeeError("logistics.error_param", "Wrong parameters, detail: order_sn is required.", 400)
        order = self._order(order_sn, shop_id)
        if order is None:
            raise ShopeeError("logistics.order_not_found", f"Order {order_sn} is not found.")
        packages = [p["package_number"] for p in order["package_list"]]
        if package_number not in (None, ""):
            if package_number not in packages:
                raise ShopeeError("logistics.package_not_exist", "Package number is not exist.")
        elif len(packages) > 1:
            raise ShopeeError("logistics.error_param", "package_number is required for a split order.", 400)
        return order

    @staticmethod
    def _channel(order: dict) -> int:
        return int(order["package_list"][0]["logistics_channel_id"])

    def _check_can_ship(self, order: dict) -> None:
        if order["order_status"] in ARRANGED_STATUSES:
            raise ShopeeError(ALREADY_SHIPPED_ERROR, MSG_ALREADY_SHIPPED)
        if order["order_status"] not in SHIPPABLE_STATUSES:
            raise ShopeeError(
                "logistics.order_status_error",
                f"The order status {order['order_status']} does not allow arranging shipment.",
            )

    def _shipping_parameter(self, order: dict) -> dict:
        channel = self._channel(order)
        method = INTEGRATED_CHANNELS.get(channel, ("", "non_integrated"))[1]
        if method == "pickup":
            day = datetime.fromtimestamp(self.clock(), tz=TW).replace(
                hour=0, minute=0, second=0, microsecond=0
            )
            slots = [
                {
                    "date": int((day + timedelta(days=n)).timestamp()),
                    "time_text": "09:00-18:00",
                    "pickup_time_id": str(int((day + timedelta(days=n)).timestamp())),
                    "flags": [],
                }
                for n in (1, 2)
            ]
            return {
                "info_needed": {"pickup": ["address_id", "pickup_time_id"]},
                "pickup": {
                    "address_list": [
                        {
                            "address_id": 126194,
                            "region": "TW",
                            "state": "",
                            "city": "桃園市",
                            "district": "蘆竹區",
                            "town": "",
                            "address": "南崁路一段 1 號 (Sandbox 3PL warehouse)",
                            "zipcode": "338",
                            "address_flag": ["default_address", "pickup_address"],
                            "time_slot_list": slots,
                        }
                    ]
                },
            }
        if method == "dropoff":
            return {
                "info_needed": {"dropoff": ["slug"]},
                "dropoff": {
                    "branch_list": [],
                    "slug_list": [{"slug": SANDBOX_SLUG, "slug_name": "Sandbox 3PL"}],
                },
            }
        return {"info_needed": {"non_integrated": ["tracking_no"]}}

    def get_shipping_parameter(self):
        g.sandbox_operation = "logistics.get_shipping_parameter"
        token = self._gateway(SHIPPING_PARAMETER, shop_api=True)
        order = self._shippable_order(
            token["shop_id"], request.args.get("order_sn"), request.args.get("package_number")
        )
        self._check_can_ship(order)
        return self.ok_response(self._shipping_parameter(order))

    def ship_order(self):
        g.sandbox_operation = "logistics.ship_order"
        token = self._gateway(SHIP_ORDER, shop_api=True)
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            raise param_error("Wrong parameters, detail: the request body must be a JSON object.")
        with self.store.tx():
            order = self._shippable_order(token["shop_id"], body.get("order_sn"), body.get("package_number"))
            self._check_can_ship(order)
            parameter = self._shipping_parameter(order)
            method = next(iter(parameter["info_needed"]))
            given = [m for m in ("pickup", "dropoff", "non_integrated") if m in body]
            if given != [method]:
                raise ShopeeError(
                    "logistics.error_param",
                    f"Wrong parameters, detail: this order needs exactly the {method} object.",
                    400,
                )
            details = body[method]
            if not isinstance(details, dict):
                raise ShopeeError(
                    "logistics.error_param", f"Wrong parameters, detail: {method} must be an object.", 400
                )
            tracking = ""
            if method == "pickup":
                address = parameter["pickup"]["address_list"][0]
                slot_ids = {s["pickup_time_id"] for s in address["time_slot_list"]}
                if details.get("address_id") != address["address_id"]:
                    raise ShopeeError(
                        "logistics.error_param", "Wrong parameters, detail: address_id is invalid.", 400
                    )
                if details.get("pickup_time_id") not in slot_ids:
                    raise ShopeeError(
                        "logistics.error_param", "Wrong parameters, detail: pickup_time_id is invalid.", 400
                    )
            elif method == "dropoff":
                if details.get("slug") != SANDBOX_SLUG:
                    raise ShopeeError(
                        "logistics.error_param", "Wrong parameters, detail: slug is required for TW.", 400
                    )
            else:
                tracking = details.get("tracking_number")
                if not isinstance(tracking, str) or not tracking.strip():
                    raise ShopeeError(
                        "logistics.error_param", "Wrong parameters, detail: tracking_number is required.", 400
                    )
                tracking = tracking.strip()
            package = order["package_list"][0]
            shipment = {
                "id": self.store.next_id(f"{self.code}:shipment"),
                "order_sn": order["order_sn"],
                "package_number": package["package_number"],
                "method": method,
                "details": details,
                "tracking_number": tracking,
                "at": int(self.clock()),
            }
            self.store.put(
                self.code, "shipment", shipment["id"], shipment, shop=order["shop_id"], sort=shipment["id"]
            )
            order["_shipment_id"] = shipment["id"]
            package["logistics_status"] = "LOGISTICS_REQUEST_CREATED"
            if tracking:  # non-integrated: the seller's own carrier has it already
                order["_tracking_number"] = tracking
                order["order_status"] = "SHIPPED"
                package["logistics_status"] = "LOGISTICS_PICKUP_DONE"
                order["pickup_done_time"] = int(self.clock())
            else:
                order["order_status"] = "PROCESSED"
                order["_tracking_polls_left"] = int(self.sandbox_settings().get("tracking_polls", 0))
            self._touch(order)
            self._save_order(order)
        self._push_status(order)
        return self.ok_response({})

    def get_tracking_number(self):
        g.sandbox_operation = "logistics.get_tracking_number"
        token = self._gateway(TRACKING_NUMBER, shop_api=True)
        issued = False
        with self.store.tx():
            order = self._shippable_order(
                token["shop_id"], request.args.get("order_sn"), request.args.get("package_number")
            )
            number = order.get("_tracking_number") or ""
            if not number and order.get("_shipment_id") and order["order_status"] == "PROCESSED":
                if order.get("_tracking_polls_left", 0) > 0:
                    order["_tracking_polls_left"] -= 1
                else:
                    number = f"TW{self.store.next_id(f'{self.code}:tracking', start=2600000001):010d}"
                    order["_tracking_number"] = number
                    order["order_status"] = "SHIPPED"
                    order["package_list"][0]["logistics_status"] = "LOGISTICS_PICKUP_DONE"
                    order["pickup_done_time"] = int(self.clock())
                    self._touch(order)
                    issued = True
                self._save_order(order)
        if issued:
            self.push(
                order["shop_id"],
                4,
                {
                    "ordersn": order["order_sn"],
                    "package_number": order["package_list"][0]["package_number"],
                    "tracking_no": number,
                },
            )
            self._push_status(order)
        optional = {f.strip() for f in (request.args.get("response_optional_fields") or "").split(",")}
        response = {"tracking_number": number}
        for name in ("plp_number", "first_mile_tracking_number", "last_mile_tracking_number"):
            if name in optional:
                response[name] = ""
        return self.ok_response(response)

    # --- console: products and orders -------------------------------------------------------------------
    def _console_shop_id(self, body: dict) -> int:
        raw = str(body.get("shop") or body.get("shop_id") or "")
        return self._console_shop(raw)["shop_id"]

    def _item_lines(self, shop_id: int, lines: Any, cache: dict) -> list[dict]:
        if not isinstance(lines, list) or not lines:
            raise ConsoleError("lines must be a non-empty list of {sku, quantity}")
        items = []
        for line in lines:
            if not isinstance(line, dict) or not str(line.get("sku") or "").strip():
                raise ConsoleError("each line needs a sku")
            sku = str(line["sku"]).strip()
            try:
                quantity = int(line.get("quantity", 1))
            except (TypeError, ValueError):
                raise ConsoleError("quantity must be an integer") from None
            if quantity < 1:
                raise ConsoleError("quantity must be at least 1")
            if sku not in cache:
                ref = self.store.get(self.code, "sku", f"{shop_id}:{sku}")
                if ref is None:  # an unknown SKU still reaches the seller's order: synthesize ids
                    ref = {
                        "item_id": self.store.next_id(f"{self.code}:item", start=1000000001),
                        "model_id": 0,
                    }
                    self.store.put(self.code, "sku", f"{shop_id}:{sku}", ref, shop=shop_id)
                item = self.store.get(self.code, "item", ref["item_id"]) or {}
                model = next((m for m in item.get("models", []) if m["model_id"] == ref["model_id"]), None)
                cache[sku] = (ref, item, model)
            ref, item, model = cache[sku]
            price = float(line.get("price") or 100)
            items.append(
                {
                    "item_id": ref["item_id"],
                    "item_name": str(line.get("name") or item.get("item_name") or f"Item {sku}"),
                    "item_sku": (item.get("item_sku") if model else sku) or "",
                    "model_id": ref["model_id"],
                    "model_name": model["model_name"] if model else "",
                    "model_sku": model["model_sku"] if model else "",
                    "model_quantity_purchased": quantity,
                    "model_original_price": price,
                    "model_discounted_price": price,
                    "wholesale": False,
                    "weight": 0.5,
                    "add_on_deal": False,
                    "main_item": False,
                    "add_on_deal_id": 0,
                    "promotion_type": "",
                    "promotion_id": 0,
                    "order_item_id": ref["item_id"],
                    "promotion_group_id": 0,
                    "image_info": {"image_url": ""},
                    "product_location_id": ["TWZ"],
                }
            )
        return items

    @staticmethod
    def _packages(
        order_sn_number: int, channel: int, items: list[dict], existing: dict | None = None
    ) -> list:
        name = INTEGRATED_CHANNELS.get(channel, (NON_INTEGRATED_NAME, ""))[0]
        package = {
            "package_number": f"OFG{order_sn_number:09d}",
            "logistics_status": "LOGISTICS_READY",
            "logistics_channel_id": channel,
            "shipping_carrier": name,
            "allow_self_design_awb": False,
            "item_list": [
                {
                    "item_id": i["item_id"],
                    "model_id": i["model_id"],
                    "model_quantity": i["model_quantity_purchased"],
                    "order_item_id": i["order_item_id"],
                    "promotion_group_id": 0,
                    "product_location_id": "TWZ",
                }
                for i in items
            ],
            "parcel_chargeable_weight_gram": 500,
        }
        if existing:
            package["package_number"] = existing["package_number"]
            package["logistics_status"] = existing["logistics_status"]
        return [package]

    @staticmethod
    def _channel_of(value: Any) -> int:
        raw = str(value if value not in (None, "") else DEFAULT_CHANNEL)
        if not raw.isdigit():
            raise ConsoleError("shipping_code must be a logistics channel id (digits)")
        return int(raw)

    @staticmethod
    def _address(buyer: Any, fallback: dict | None = None) -> dict:
        if buyer is not None and not isinstance(buyer, dict):
            raise ConsoleError("buyer must be an object")
        buyer = buyer or {}
        base = fallback or {
            "name": "王小明",
            "phone": "886912345678",
            "town": "",
            "district": "信義區",
            "city": "台北市",
            "state": "",
            "region": "TW",
            "zipcode": "110",
            "full_address": "110台北市信義區市府路1號",
        }
        out = dict(base)
        for key, source in (
            ("name", "name"),
            ("phone", "phone"),
            ("full_address", "address"),
            ("zipcode", "zipcode"),
        ):
            if buyer.get(source):
                out[key] = str(buyer[source])
        return out

    def create_order(self, body: dict) -> dict:
        shop_id = self._console_shop_id(body)
        try:
            count = int(body.get("count", 1))
            interval = int(body.get("interval_seconds") or 0)
        except (TypeError, ValueError):
            raise ConsoleError("count and interval_seconds must be integers") from None
        if not 1 <= count <= 200000:
            raise ConsoleError("count must be between 1 and 200000")
        status = str(body.get("status") or "READY_TO_SHIP").upper()
        if status not in ORDER_STATUSES:
            raise ConsoleError(f"status must be one of {', '.join(ORDER_STATUSES)}")
        channel = self._channel_of(body.get("shipping_code"))
        now = int(self.clock())
        # created defaults to now (or to updated_at when that is earlier); updated to created_at when
        # only that is given, else now
        created = to_epoch(body.get("created_at"), min(now, to_epoch(body.get("updated_at"), now)))
        updated = to_epoch(
            body.get("updated_at"), created if body.get("created_at") not in (None, "") else now
        )
        if updated < created:
            raise ConsoleError("updated_at must not be before created_at")
        address = self._address(body.get("buyer"))
        buyer = body.get("buyer") or {}
        notify = body.get("notify", "count" not in body)  # bulk creation pushes only when asked
        cache: dict = {}
        stock_cache: dict = {}
        orders = []
        with self.store.tx():
            for n in range(count):
                items = self._item_lines(shop_id, body.get("lines"), cache)
                number = self.store.next_id(f"{self.code}:order")
                create_time, update_time = created + n * interval, updated + n * interval
                order_sn = datetime.fromtimestamp(create_time, tz=TW).strftime("%y%m%d") + base36(
                    number
                ).rjust(8, "0")
                total = sum(i["model_discounted_price"] * i["model_quantity_purchased"] for i in items)
                order = {
                    "order_sn": order_sn,
                    "shop_id": shop_id,
                    "region": "TW",
                    "currency": "TWD",
                    "cod": False,
                    "order_status": status,
                    "message_to_seller": str(body.get("buyer_note") or ""),
                    "create_time": create_time,
                    "update_time": update_time,
                    "days_to_ship": 2,
                    "ship_by_date": create_time + 2 * 86400,
                    "booking_sn": "",
                    "buyer_user_id": 300000000 + number,
                    "buyer_username": str(buyer.get("username") or f"buyer{number}"),
                    "recipient_address": address,
                    "note": str(body.get("note") or ""),
                    "note_update_time": 0,
                    "item_list": items,
                    "pay_time": None if status == "UNPAID" else create_time,
                    "dropshipper": "",
                    "dropshipper_phone": "",
                    "split_up": False,
                    "buyer_cancel_reason": "",
                    "cancel_by": "",
                    "cancel_reason": "",
                    "fulfillment_flag": "fulfilled_by_local_seller",
                    "pickup_done_time": 0,
                    "package_list": self._packages(number, channel, items),
                    "shipping_carrier": INTEGRATED_CHANNELS.get(channel, (NON_INTEGRATED_NAME, ""))[0],
                    "checkout_shipping_carrier": INTEGRATED_CHANNELS.get(channel, (NON_INTEGRATED_NAME, ""))[
                        0
                    ],
                    "payment_method": "Credit Card",
                    "total_amount": total,
                    "estimated_shipping_fee": 60.0,
                    "actual_shipping_fee": 60.0,
                    "_number": number,
                }
                self._save_order(order)
                self._take_order_stock(shop_id, items, order_sn, stock_cache)
                orders.append(order if count <= 100 else {"order_sn": order_sn})
            self._save_order_stock(stock_cache)
        if notify:
            for order in orders:
                if "order_status" in order:
                    self._push_status(order)
        if "count" not in body:
            return self._public(orders[0])
        return {"count": count, "order_sns": [o["order_sn"] for o in orders] if count <= 1000 else []}

    @staticmethod
    def _public(order: dict) -> dict:
        out = {k: v for k, v in order.items() if not k.startswith("_")}
        out["tracking_number"] = order.get("_tracking_number", "")
        return out

    def _console_order(self, order_id: str) -> dict:
        order = self._order(order_id)
        if order is None:
            raise ConsoleError("Unknown order", 404)
        return order

    def cancel_order(self, order_id: str, body: dict) -> dict:
        with self.store.tx():
            order = self._console_order(order_id)
            if order["order_status"] in ("CANCELLED", "COMPLETED"):
                raise ConsoleError(f"An order in {order['order_status']} cannot be cancelled", 409)
            by = str(body.get("by") or "buyer").lower()
            if by not in ("buyer", "seller", "system"):
                raise ConsoleError("by must be buyer, seller or system")
            order["order_status"] = "IN_CANCEL" if body.get("request") else "CANCELLED"
            order["cancel_by"] = by
            order["cancel_reason"] = str(body.get("reason") or "Change of mind")
            if by == "buyer":
                order["buyer_cancel_reason"] = order["cancel_reason"]
            self._touch(order, to_epoch(body.get("updated_at"), int(self.clock())))
            self._save_order(order)
        self._push_status(order)
        return self._public(order)

    def edit_order(self, order_id: str, body: dict) -> dict:
        with self.store.tx():
            order = self._console_order(order_id)
            if "status" in body:
                status = str(body["status"]).upper()
                if status not in ORDER_STATUSES:
                    raise ConsoleError(f"status must be one of {', '.join(ORDER_STATUSES)}")
                order["order_status"] = status
                if status != "UNPAID" and not order.get("pay_time"):
                    order["pay_time"] = int(self.clock())
            channel = self._channel(order)
            if body.get("shipping_code") not in (None, ""):
                channel = self._channel_of(body["shipping_code"])
                name = INTEGRATED_CHANNELS.get(channel, (NON_INTEGRATED_NAME, ""))[0]
                order["shipping_carrier"] = order["checkout_shipping_carrier"] = name
            if "lines" in body:
                order["item_list"] = self._item_lines(order["shop_id"], body["lines"], {})
                order["total_amount"] = sum(
                    i["model_discounted_price"] * i["model_quantity_purchased"] for i in order["item_list"]
                )
            order["package_list"] = self._packages(
                order["_number"], channel, order["item_list"], order["package_list"][0]
            )
            if "buyer" in body:
                order["recipient_address"] = self._address(body["buyer"], order["recipient_address"])
            for key, field in (("buyer_note", "message_to_seller"), ("note", "note")):
                if key in body:
                    order[field] = str(body[key] or "")
            self._touch(order, to_epoch(body.get("updated_at"), int(self.clock())))
            self._save_order(order)
        self._push_status(order)
        return self._public(order)

    def orders_state(self, shop: str | None) -> dict:
        orders = self.store.find(self.code, "order", shop=shop, limit=1000)
        return {
            "orders": [self._public(o) for o in orders],
            "products": self.store.find(self.code, "item", shop=shop),
            "shipments": self.store.find(self.code, "shipment", shop=shop),
            "push_config": self.push_config(),
            "settings": self.sandbox_settings(),
        }


# --- products and stock (issue 4) -------------------------------------------------------------------
ITEM_LIST = "/api/v2/product/get_item_list"
ITEM_BASE_INFO = "/api/v2/product/get_item_base_info"
MODEL_LIST = "/api/v2/product/get_model_list"
UPDATE_STOCK = "/api/v2/product/update_stock"

ITEM_STATUSES = ("NORMAL", "BANNED", "UNLIST", "REVIEWING", "SELLER_DELETE", "SHOPEE_DELETE")
DELETED_STATUSES = {"SELLER_DELETE", "SHOPEE_DELETE"}
MAX_ITEM_PAGE = 100  # get_item_list page_size
MAX_BASE_INFO_BATCH = 50  # get_item_base_info item_id_list
MAX_STOCK_MODELS = 50  # update_stock stock_list
MAX_STOCK = 999_999  # UNCONFIRMED: the largest seller_stock the sandbox accepts
LOCATION_ID = "TWZ"  # the one seller warehouse of a sandbox shop (as in orders' product_location_id)
ITEM_ID_START = 1000000001
MODEL_ID_START = 2000000001
MSG_ITEM_NOT_FOUND = "Item not found."  # UNCONFIRMED wording
MSG_MODEL_NOT_FOUND = "Model not found."  # UNCONFIRMED wording
MSG_LOCATION = "Invalid location_id."  # UNCONFIRMED wording


class ShopeeProductsMixin:
    """Products, models and stock for the Shopee sandbox (platforms-global.md §1.8-1.9).

    - get_item_list: ``offset`` ≥ 0, ``page_size`` 1-100 and at least one ``item_status``
      (repeated parameter) are required; optional ``update_time_from``/``update_time_to``. Items
      come in item_id order (Shopee's order is UNCONFIRMED; a stable order keeps offsets sound).
      ``response.item`` is left out of an empty page (UNCONFIRMED; the client accepts both).
    - get_item_base_info: ``item_id_list`` comma-joined, 1-50 ids, else ``error_param``. Unknown
      or deleted ids are left out with a ``warning`` (UNCONFIRMED). ``price_info`` and
      ``stock_info_v2`` are given only for items without models (with models, stock is per model).
    - get_model_list: ``item_id``; ``tier_variation`` (one tier, "Variation") and ``model`` with
      ``tier_index``, ``model_sku``, ``model_status`` and ``stock_info_v2``; no ``model_name``
      (UNCONFIRMED). An item without models answers empty lists; an unknown item
      ``error_item_not_found``.
    - update_stock: one ``item_id``, ``stock_list`` of 1-50 ``{model_id, seller_stock:[{location_id?,
      stock}]}``, absolute. ``model_id`` 0 is the item itself (items without models only). Per-model
      refusals go to ``failure_list[{model_id, failed_reason}]`` (unknown model, a bad location,
      stock out of 0..999999, a console stock lock with its reason); an unknown or deleted item is
      the whole-call ``error_item_not_found``. Every applied write is a ledger row (source
      ``update_stock``), even one that leaves the quantity as it was.
    - Barcodes: Shopee's item and model payloads carry no barcode we know of (a ``gtin_code`` exists
      on some markets' item APIs: UNCONFIRMED for these endpoints in Taiwan). The sandbox keeps the
      console's barcode in its state only and never returns it from the API.
    - One seller warehouse per shop (``location_id`` "TWZ"); no reserved stock (summary
      ``total_reserved_stock`` 0). A console order takes its quantity off the SKU's seller stock
      (never below 0, never refused; ledger source ``order``); a cancellation gives nothing back."""

    def _register_product_routes(self, bp: Blueprint) -> None:
        bp.add_url_rule(ITEM_LIST, "get_item_list", self.get_item_list, methods=["GET"])
        bp.add_url_rule(ITEM_BASE_INFO, "get_item_base_info", self.get_item_base_info, methods=["GET"])
        bp.add_url_rule(MODEL_LIST, "get_model_list", self.get_model_list, methods=["GET"])
        bp.add_url_rule(UPDATE_STOCK, "update_stock", self.update_stock, methods=["POST"])

    # --- storage ---------------------------------------------------------------------------------
    def _item(self, item_id: Any, shop_id: int | None = None) -> dict | None:
        item = self.store.get(self.code, "item", item_id) if str(item_id).isdigit() else None
        if item is None or (shop_id is not None and item["shop_id"] != shop_id):
            return None
        return item

    def _save_item(self, item: dict) -> dict:
        return self.store.put(
            self.code, "item", item["item_id"], item, shop=item["shop_id"], sort=item["item_id"]
        )

    def _sku_ref(self, shop_id: int, sku: str) -> dict | None:
        return self.store.get(self.code, "sku", f"{shop_id}:{sku}")

    def _lock_reason(self, shop_id: int, sku: str) -> str:
        lock = self.store.get(self.code, "stock_lock", f"{shop_id}:{sku}") if sku else None
        return lock["reason"] if lock else ""

    @staticmethod
    def _unit(item: dict, model_id: int) -> dict | None:
        """The stock-holding unit: the item itself (model 0, items without models) or one model."""
        if not item["models"]:
            return item if model_id == 0 else None
        return next((m for m in item["models"] if m["model_id"] == model_id), None)

    @staticmethod
    def _unit_sku(item: dict, unit: dict) -> str:
        return unit["model_sku"] if unit is not item else item["item_sku"]

    def _change_stock(self, item: dict, unit: dict, stock: int, *, source: str, detail: str = "") -> dict:
        """Set one unit's stock in ``item`` (the caller saves it) and write the ledger row."""
        before = int(unit["stock"])
        unit["stock"] = int(stock)
        item["update_time"] = max(int(item.get("update_time") or 0), int(self.clock()))
        return self.record_stock_change(
            shop=item["shop_id"],
            sku=self._unit_sku(item, unit),
            item_id=item["item_id"],
            variant_id=unit["model_id"] if unit is not item else "",
            before=before,
            after=int(stock),
            source=source,
            detail=detail,
        )

    @staticmethod
    def _stock_info(stock: int) -> dict:
        return {
            "summary_info": {"total_reserved_stock": 0, "total_available_stock": int(stock)},
            "seller_stock": [{"location_id": LOCATION_ID, "stock": int(stock), "if_saleable": True}],
            "shopee_stock": [],
        }

    # --- API -------------------------------------------------------------------------------------
    @staticmethod
    def _int_arg(name: str, *, default: str | None = None, required: bool = True) -> int | None:
        raw = request.args.get(name)
        if raw in (None, ""):
            raw = default
        if raw in (None, ""):
            if required:
                raise param_error(f"Wrong parameters, detail: {name} is required.")
            return None
        if not raw.isdigit():
            raise param_error(f"Wrong parameters, detail: {name} should be a non-negative integer.")
        return int(raw)

    def get_item_list(self):
        g.sandbox_operation = "product.get_item_list"
        token = self._gateway(ITEM_LIST, shop_api=True)
        offset = self._int_arg("offset", default="0")
        size = self._int_arg("page_size")
        if not 1 <= size <= MAX_ITEM_PAGE:
            raise param_error("Wrong parameters, detail: page_size should be between 1 and 100.")
        statuses = [s for raw in request.args.getlist("item_status") for s in raw.split(",") if s]
        if not statuses:
            raise param_error("Wrong parameters, detail: item_status is required.")
        if any(s not in ITEM_STATUSES for s in statuses):
            raise param_error(
                f"Wrong parameters, detail: item_status should be in {', '.join(ITEM_STATUSES)}."
            )
        updated_from = self._int_arg("update_time_from", required=False)
        updated_to = self._int_arg("update_time_to", required=False)
        items = [
            i
            for i in self.store.find(self.code, "item", shop=token["shop_id"])
            if i.get("item_status", "NORMAL") in statuses
            and (updated_from is None or i.get("update_time", 0) >= updated_from)
            and (updated_to is None or i.get("update_time", 0) <= updated_to)
        ]
        page = items[offset : offset + size]
        has_next = offset + size < len(items)
        response: dict[str, Any] = {
            "total_count": len(items),
            "has_next_page": has_next,
            "next_offset": offset + size if has_next else 0,
        }
        if page:
            response["item"] = [
                {
                    "item_id": i["item_id"],
                    "item_status": i.get("item_status", "NORMAL"),
                    "update_time": i.get("update_time", 0),
                }
                for i in page
            ]
        return self.ok_response(response)

    def get_item_base_info(self):
        g.sandbox_operation = "product.get_item_base_info"
        token = self._gateway(ITEM_BASE_INFO, shop_api=True)
        raw = ",".join(request.args.getlist("item_id_list"))
        ids = [s.strip() for s in raw.split(",") if s.strip()]
        if not 1 <= len(ids) <= MAX_BASE_INFO_BATCH:
            raise param_error("Wrong parameters, detail: item_id_list should contain 1 to 50 item_id.")
        if any(not s.isdigit() for s in ids):
            raise param_error("Wrong parameters, detail: item_id_list should be integers.")
        found, missing = [], []
        for item_id in dict.fromkeys(ids):
            item = self._item(item_id, token["shop_id"])
            if item is None or item.get("item_status") in DELETED_STATUSES:
                missing.append(item_id)
                continue
            view = {
                "item_id": item["item_id"],
                "category_id": 100001,
                "item_name": item["item_name"],
                "item_sku": item["item_sku"],
                "create_time": item.get("create_time", 0),
                "update_time": item.get("update_time", 0),
                "item_status": item.get("item_status", "NORMAL"),
                "has_model": bool(item["models"]),
                "condition": "NEW",
                "item_dangerous": 0,
            }
            if not item["models"]:
                view["price_info"] = [{"currency": "TWD", "original_price": 100.0, "current_price": 100.0}]
                view["stock_info_v2"] = self._stock_info(item["stock"])
            found.append(view)
        warning = f"item_id not found: {','.join(missing)}" if missing else ""
        return self.ok_response({"item_list": found}, warning)

    def get_model_list(self):
        g.sandbox_operation = "product.get_model_list"
        token = self._gateway(MODEL_LIST, shop_api=True)
        raw = request.args.get("item_id") or ""
        if not raw.isdigit():
            raise param_error("Wrong parameters, detail: item_id is required.")
        item = self._item(raw, token["shop_id"])
        if item is None or item.get("item_status") in DELETED_STATUSES:
            raise ShopeeError("error_item_not_found", MSG_ITEM_NOT_FOUND)
        models = item["models"]
        tiers = (
            [{"name": "Variation", "option_list": [{"option": m["model_name"]} for m in models]}]
            if models
            else []
        )
        return self.ok_response(
            {
                "tier_variation": tiers,
                "model": [
                    {
                        "model_id": m["model_id"],
                        "model_sku": m["model_sku"],
                        "model_status": m.get("model_status", "MODEL_NORMAL"),
                        "tier_index": [n],
                        "price_info": [{"currency": "TWD", "original_price": 100.0, "current_price": 100.0}],
                        "stock_info_v2": self._stock_info(m["stock"]),
                    }
                    for n, m in enumerate(models)
                ],
            }
        )

    def update_stock(self):
        g.sandbox_operation = "product.update_stock"
        token = self._gateway(UPDATE_STOCK, shop_api=True)
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            raise param_error("Wrong parameters, detail: the request body must be a JSON object.")
        item_id = json_int(body.get("item_id"))
        if item_id is None:
            raise param_error("Wrong parameters, detail: item_id is required.")
        stock_list = body.get("stock_list")
        if not isinstance(stock_list, list) or not 1 <= len(stock_list) <= MAX_STOCK_MODELS:
            raise param_error("Wrong parameters, detail: stock_list should contain 1 to 50 models.")
        for entry in stock_list:
            seller = entry.get("seller_stock") if isinstance(entry, dict) else None
            if (
                json_int(entry.get("model_id") if isinstance(entry, dict) else None) is None
                or not isinstance(seller, list)
                or not seller
                or any(not isinstance(s, dict) or json_int(s.get("stock")) is None for s in seller)
            ):
                raise param_error(
                    "Wrong parameters, detail: stock_list entries need model_id and seller_stock[{stock}]."
                )
        success, failure = [], []
        with self.store.tx():
            item = self._item(item_id, token["shop_id"])
            if item is None or item.get("item_status") in DELETED_STATUSES:
                raise ShopeeError("error_item_not_found", MSG_ITEM_NOT_FOUND)
            for entry in stock_list:
                model_id = entry["model_id"]
                unit = self._unit(item, model_id)
                if unit is None:
                    failure.append({"model_id": model_id, "failed_reason": MSG_MODEL_NOT_FOUND})
                    continue
                seller = entry["seller_stock"]
                if len(seller) != 1 or seller[0].get("location_id") not in (None, "", LOCATION_ID):
                    failure.append({"model_id": model_id, "failed_reason": MSG_LOCATION})
                    continue
                stock = seller[0]["stock"]
                if not 0 <= stock <= MAX_STOCK:
                    failure.append(
                        {"model_id": model_id, "failed_reason": f"Stock should be between 0 and {MAX_STOCK}."}
                    )
                    continue
                reason = self._lock_reason(item["shop_id"], self._unit_sku(item, unit))
                if reason:
                    failure.append({"model_id": model_id, "failed_reason": reason})
                    continue
                self._change_stock(item, unit, stock, source="update_stock")
                success.append({"model_id": model_id, "location_id": LOCATION_ID, "stock": stock})
            if success:
                self._save_item(item)
        return self.ok_response({"success_list": success, "failure_list": failure})

    # --- console ---------------------------------------------------------------------------------
    @staticmethod
    def _console_stock(value: Any, name: str = "stock") -> int:
        try:
            stock = int(value or 0)
        except (TypeError, ValueError):
            raise ConsoleError(f"{name} must be an integer") from None
        if not 0 <= stock <= MAX_STOCK:
            raise ConsoleError(f"{name} must be between 0 and {MAX_STOCK}")
        return stock

    def create_product(self, body: dict) -> dict:
        """{shop, sku, name, barcode?, stock?, status?, variants?:[{sku, name?, barcode?, stock?}]}"""
        shop_id = self._console_shop_id(body)
        sku = str(body.get("sku") or "").strip()
        name = str(body.get("name") or "").strip()
        if not sku or not name:
            raise ConsoleError("sku and name are required")
        status = str(body.get("status") or "NORMAL").upper()
        if status not in ITEM_STATUSES:
            raise ConsoleError(f"status must be one of {', '.join(ITEM_STATUSES)}")
        variants = body.get("variants") or []
        if not isinstance(variants, list) or any(
            not isinstance(v, dict) or not str(v.get("sku") or "").strip() for v in variants
        ):
            raise ConsoleError("variants must be a list of objects with a sku")
        if len(variants) > 50:
            raise ConsoleError("an item has at most 50 variants in the sandbox")
        now = int(self.clock())
        with self.store.tx():
            item_id = self.store.next_id(f"{self.code}:item", start=ITEM_ID_START)
            models = [
                {
                    "model_id": self.store.next_id(f"{self.code}:model", start=MODEL_ID_START),
                    "model_sku": str(v["sku"]).strip(),
                    "model_name": str(v.get("name") or v["sku"]),
                    "model_status": "MODEL_NORMAL",
                    "barcode": str(v.get("barcode") or ""),
                    "stock": 0,
                }
                for v in variants
            ]
            item = {
                "item_id": item_id,
                "shop_id": shop_id,
                "item_sku": sku,
                "item_name": name,
                "item_status": status,
                "barcode": str(body.get("barcode") or ""),
                "stock": 0,
                "create_time": now,
                "update_time": now,
                "models": models,
            }
            initial = [
                (m, self._console_stock(v.get("stock"))) for m, v in zip(models, variants, strict=True)
            ]
            if not models:
                initial = [(item, self._console_stock(body.get("stock")))]
            for unit, stock in initial:
                if stock:
                    self._change_stock(item, unit, stock, source="console", detail="initial stock")
            self._save_item(item)
            index = {sku: {"item_id": item_id, "model_id": 0}} if not models else {}
            index.update({m["model_sku"]: {"item_id": item_id, "model_id": m["model_id"]} for m in models})
            for key, value in index.items():
                self.store.put(self.code, "sku", f"{shop_id}:{key}", value, shop=shop_id)
        return item

    def _console_unit(self, body: dict) -> tuple[dict, dict]:
        shop_id = self._console_shop_id(body)
        sku = str(body.get("sku") or "").strip()
        if not sku:
            raise ConsoleError("sku is required")
        ref = self._sku_ref(shop_id, sku)
        item = self._item(ref["item_id"], shop_id) if ref else None
        unit = self._unit(item, ref["model_id"]) if item else None
        if unit is None:
            raise ConsoleError(f"Unknown SKU {sku}", 404)
        return item, unit

    def set_stock_console(self, body: dict) -> dict:
        stock = self._console_stock(body.get("stock"))
        with self.store.tx():
            item, unit = self._console_unit(body)
            entry = self._change_stock(item, unit, stock, source="console")
            self._save_item(item)
        return {
            "sku": entry["sku"],
            "item_id": item["item_id"],
            "model_id": unit["model_id"] if unit is not item else 0,
            "before": entry["before"],
            "stock": stock,
        }

    def lock_stock_console(self, body: dict) -> dict:
        item, unit = self._console_unit(body)
        sku = self._unit_sku(item, unit)
        reason = str(body.get("reason") or "").strip()
        key = f"{item['shop_id']}:{sku}"
        if reason:
            self.store.put(self.code, "stock_lock", key, {"sku": sku, "reason": reason}, shop=item["shop_id"])
        else:
            self.store.delete(self.code, "stock_lock", key)
        return {"sku": sku, "locked": bool(reason), "reason": reason}

    def _take_order_stock(self, shop_id: int, lines: list[dict], order_sn: str, cache: dict) -> None:
        """A buyer's order takes its quantities off the ordered units (never below 0). ``cache``
        holds the items touched by one console call; ``_save_order_stock`` writes them back."""
        for line in lines:
            item_id = line["item_id"]
            if item_id not in cache:
                cache[item_id] = self._item(item_id, shop_id)
            item = cache[item_id]
            unit = self._unit(item, line["model_id"]) if item else None
            if unit is None:
                continue
            after = max(0, int(unit["stock"]) - int(line["model_quantity_purchased"]))
            if after != unit["stock"]:
                self._change_stock(item, unit, after, source="order", detail=order_sn)
                item["_dirty"] = True

    def _save_order_stock(self, cache: dict) -> None:
        for item in cache.values():
            if item and item.pop("_dirty", False):
                self._save_item(item)

    def products_state(self, shop: str | None) -> dict:
        items = self.store.find(self.code, "item", shop=shop)
        stock = []
        for item in items:
            for unit in item["models"] or [item]:
                sku = self._unit_sku(item, unit)
                stock.append(
                    {
                        "sku": sku,
                        "item_id": item["item_id"],
                        "model_id": unit["model_id"] if unit is not item else 0,
                        "barcode": unit.get("barcode", ""),
                        "stock": unit["stock"],
                        "locked": self._lock_reason(item["shop_id"], sku),
                    }
                )
        return {"products": items, "stock": stock}


class ShopeeSandbox(ShopeeProductsMixin, ShopeeOrdersMixin, PlatformSandbox):
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
        self._register_order_routes(bp)
        self._register_product_routes(bp)
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
        self.push(
            shop["shop_id"],
            2,
            {"shop_id": shop["shop_id"], "success": 1, "extra": "Cancel authorization success"},
            authorized_only=False,
        )
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
            **self.orders_state(shop),
            **self.products_state(shop),
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
