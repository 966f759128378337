"""Shopee Open Platform v2 client: shop authorization, rotating tokens, the connection test and
push verification (platforms-global.md §1, platforms-taiwan.md §8).

Error mapping, decided where the brief leaves room:
- ``invalid_acceess_token`` (sic; also the correct spelling) is Shopee's expired-token answer:
  ``TokenExpired``.
- ``error_auth`` "Invalid access_token." is ambiguous (expired, rotated away or revoked). It becomes
  ``TokenExpired`` when we hold a refresh token, so the caller refreshes once; a revoked or lapsed
  authorization then fails the refresh with an ``AuthError``. Without a refresh token it is an
  ``AuthError``. Any other ``error_auth`` message ("Invalid partner_id or shopid.", ...) is an
  ``AuthError``.
- ``error_param`` (including "Timestamp is expired.") and ``error_sign`` are our own faults:
  ``PlatformError``, never a reason to disconnect the merchant.

Orders (issue 3): ``get_order_list`` on ``update_time`` with every status (no ``order_status``
filter, ``request_order_status_pending=true``), 100 per page, then ``get_order_detail`` in batches
of 50: a full page of 100 is exactly one list call and two detail calls. The window [start, end) is
sent as whole seconds ``time_from=ceil(start)``, ``time_to=ceil(end)-1`` (Shopee's bounds are
inclusive), in slices of at most 15 days. Status mapping and line ids: see ``mapping.py``.

Shipping: ``get_shipping_parameter`` → ``ship_order`` with exactly the object ``info_needed``
names (our tracking number → ``non_integrated`` when offered; else pickup with the first address
and time slot, else dropoff with the first branch/slug) → ``get_tracking_number``; an empty number
is AWAITING_TRACKING and ``fetch_tracking`` polls it. "Already arranged" (error code UNCONFIRMED,
setting ``already_shipped_errors``) is done with ``already_shipped``: its tracking number is read
back, and an integrated channel without one yet is AWAITING_TRACKING (still ``already_shipped``), so
a report retried after a lost answer still learns the platform-issued number.

Products and stock (issue 4; docs/stock-shopee.md): ``get_item_list`` (NORMAL and UNLIST, 100 a
page) → ``get_item_base_info`` (50 items a call) → ``get_model_list`` for items with models; one
PlatformProduct per model, or per item without models (``variant_id`` ""). Stock is absolute only
(``update_stock``: one item, ≤ 50 models a call, model_id 0 for an item without models); a delta
is read → set by the services. ``read_stock`` reads items without models 50 a call and items with
models once per item. Per-model refusals (``failure_list``) and item-level refusals
(``error_item_not_found`` and the like) are failed outcomes; anything else raises as usual.

Push: ``verify_webhook_request`` checks ``Authorization`` against the partner key and the configured
push URL; ``parse_webhook``: code 3 (order status) and 4 (tracking number) → ORDER, code 2
(deauthorization) → DEAUTHORIZED, everything else (1 authorization, 12 authorization expiry, which
is only a warning seven days ahead) → IGNORED. Shopee sends no delivery id: the sha256 of the raw
body stands in for it (a redelivery is byte-identical).
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime, timedelta, timezone
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
)
from ecbridge.platforms.errors import (
    AuthError,
    PlatformError,
    RateLimited,
    TokenExpired,
    TransientError,
)
from ecbridge.platforms.http import parse_retry_after
from ecbridge.platforms.settings import platform_settings
from ecbridge.platforms.shopee import FIXED_SHIPPING_CODES, SPEC, mapping, signing

TOKEN_GET = "/api/v2/auth/token/get"
TOKEN_REFRESH = "/api/v2/auth/access_token/get"
SHOP_INFO = "/api/v2/shop/get_shop_info"
ORDER_LIST = "/api/v2/order/get_order_list"
ORDER_DETAIL = "/api/v2/order/get_order_detail"
SHIPPING_PARAMETER = "/api/v2/logistics/get_shipping_parameter"
SHIP_ORDER = "/api/v2/logistics/ship_order"
TRACKING_NUMBER = "/api/v2/logistics/get_tracking_number"
ITEM_LIST = "/api/v2/product/get_item_list"
ITEM_BASE_INFO = "/api/v2/product/get_item_base_info"
MODEL_LIST = "/api/v2/product/get_model_list"
UPDATE_STOCK = "/api/v2/product/update_stock"

LIST_PAGE_SIZE = 100  # get_order_list's maximum
DETAIL_BATCH = 50  # get_order_detail's maximum order_sn per call
MAX_WINDOW = timedelta(days=15)  # get_order_list: "diff in 15days"
# UNCONFIRMED: the error code of arranging an already arranged order; setting "already_shipped_errors".
DEFAULT_ALREADY_SHIPPED_ERRORS = ("logistics.order_already_shipped",)
SHIP_METHODS = ("pickup", "dropoff", "non_integrated")
ITEM_PAGE_SIZE = 100  # get_item_list's maximum page_size
BASE_INFO_BATCH = 50  # get_item_base_info's maximum item_id_list
STOCK_BATCH = 50  # update_stock: one item, at most 50 models per call
LISTED_ITEM_STATUSES = ("NORMAL", "UNLIST")  # what a mapping sync pulls (not banned/deleted/reviewing)
ITEM_NOT_FOUND_ERRORS = {"error_item_not_found"}
# update_stock refusals that concern the one item of the call, not the account: every target of
# the call gets a failed outcome with Shopee's text. The busy/failed one may pass later (UNCONFIRMED).
ITEM_STOCK_ERRORS = ITEM_NOT_FOUND_ERRORS | {
    "error_busi_update_stock_failed",
    "error_wms_shop_block_upate_stock",  # (sic)
    "error_wms_shop_block_update_stock",
}
RETRYABLE_ITEM_STOCK_ERRORS = {"error_busi_update_stock_failed"}
INTEGRATED_CHANNELS = frozenset(code.code for code in FIXED_SHIPPING_CODES)
PUSH_TOPICS = {
    1: "shop_authorization",
    2: "shop_deauthorization",
    3: "order_status",
    4: "tracking_number",
    12: "authorization_expiry",
}

DEFAULT_ACCESS_TOKEN_SECONDS = 4 * 3600
# UNCONFIRMED: Shopee documents refresh tokens as "valid for 30 days"; setting "refresh_token_days".
DEFAULT_REFRESH_TOKEN_DAYS = 30
# UNCONFIRMED: Shopee sends no documented Retry-After with error_rate_limit (a per-second limit);
# setting "rate_limit_retry_after" (seconds).
DEFAULT_RATE_LIMIT_RETRY_AFTER = 1.0
# The daily call quota (error_limit) resets at 00:00 UTC+8.
QUOTA_TIMEZONE = timezone(timedelta(hours=8))
EPOCH_THRESHOLD = 10**9  # an expire_in above this is an absolute epoch, not a duration

T = TypeVar("T")

RATE_LIMIT_ERRORS = {"error_rate_limit"}
DAILY_QUOTA_ERRORS = {"error_limit"}
TRANSIENT_ERRORS = {"error_server", "error_network", "error_inner", "error_busy"}
EXPIRED_TOKEN_ERRORS = {"invalid_acceess_token", "invalid_access_token"}
AUTH_ERRORS = {
    "error_auth",
    "partner_shop_no_link",
    "shop_no_linked",
    "shop_banned",
    "shop_access_expired",
    "error_partner_key_expired",
    "error_shop_refresh_token",
    "refresh_token_expired",
    "invalid_code",
    "invalid_shop_id",
    "invalid_main_acount_id",  # (sic)
}


class _SignedParams(Mapping):
    """Query parameters signed at the moment httpx reads them.

    http.py builds the request again for every attempt, so each attempt carries its own
    timestamp and sign (Shopee rejects a timestamp older than 5 minutes)."""

    def __init__(self, client: ShopeeClient, path: str, *, shop: bool, extra: dict[str, Any] | None = None):
        self._client = client
        self._path = path
        self._shop = shop
        self._extra = dict(extra or {})
        self._keys = ["partner_id", "timestamp", "sign"] + (["access_token", "shop_id"] if shop else [])
        self._keys += [k for k in self._extra if k not in self._keys]

    def snapshot(self) -> dict[str, Any]:
        return self._client._common_params(self._path, shop=self._shop) | self._extra

    def items(self):
        return self.snapshot().items()

    def __getitem__(self, key: str) -> Any:
        return self.snapshot()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)


def _epoch_to_datetime(value: Any) -> datetime | None:
    if value in (None, "", 0):
        return None
    return datetime.fromtimestamp(int(value), tz=UTC)


class ShopeeClient(Client):
    spec = SPEC
    clock = staticmethod(time.time)  # tests move it; every sign uses it
    max_order_window = MAX_WINDOW
    initial_lookback = timedelta(days=7)

    # --- configuration ---------------------------------------------------------------------------
    @property
    def partner_id(self) -> int:
        value = self.settings.get("partner_id")
        try:
            partner_id = int(value)
        except (TypeError, ValueError):
            partner_id = 0
        if partner_id <= 0:
            raise PlatformError(_("Shopee partner_id is not configured."), code="not_configured")
        return partner_id

    @property
    def partner_key(self) -> str:
        key = self.settings.get("partner_key") or ""
        if not key:
            raise PlatformError(_("Shopee partner_key is not configured."), code="not_configured")
        return key

    def _api_url(self, path: str) -> str:
        return str(self.settings.get("api_base", "https://partner.shopeemobile.com")).rstrip("/") + path

    def _auth_url(self, page: str) -> str:
        return str(self.settings.get("auth_base", "https://open.shopee.com")).rstrip("/") + page

    def _shop_id(self) -> int:
        try:
            shop_id = int(str(self.ctx.shop_id).strip())
        except ValueError:
            shop_id = 0
        if shop_id <= 0:
            raise AuthError(
                _("This account is not linked to a Shopee shop yet; connect it first."), code="not_authorized"
            )
        return shop_id

    def _access_token(self) -> str:
        token = self.ctx.tokens.get("access_token") or ""
        if not token:
            raise AuthError(
                _("No Shopee access token is stored; connect the shop again."), code="not_authorized"
            )
        return token

    # --- signing and sending ---------------------------------------------------------------------
    def _common_params(self, path: str, *, shop: bool) -> dict[str, Any]:
        """partner_id, timestamp (now) and sign, plus access_token and shop_id for Shop APIs."""
        timestamp = int(self.clock())
        if not shop:
            sign = signing.sign_public(self.partner_key, self.partner_id, path, timestamp)
            return {"partner_id": self.partner_id, "timestamp": timestamp, "sign": sign}
        token, shop_id = self._access_token(), self._shop_id()
        sign = signing.sign_shop(self.partner_key, self.partner_id, path, timestamp, token, shop_id)
        return {
            "partner_id": self.partner_id,
            "timestamp": timestamp,
            "sign": sign,
            "access_token": token,
            "shop_id": shop_id,
        }

    def _send(
        self,
        method: str,
        path: str,
        *,
        operation: str,
        shop: bool,
        build: Callable[[dict], T],
        params: dict[str, Any] | None = None,
        json: dict[str, Any] | None = None,
    ) -> T:
        """Send a signed call; ``build`` turns the success body into the result inside ``parse``, so
        a body missing what we need is a (logged, retried) malformed response, not a crash."""
        self._common_params(path, shop=shop)  # fail on missing configuration before any call
        kwargs: dict[str, Any] = {"params": _SignedParams(self, path, shop=shop, extra=params)}
        if json is not None:
            kwargs["json"] = json
        return self.http.send(
            method,
            self._api_url(path),
            operation=operation,
            parse=lambda response: build(self._parse(response)),
            **kwargs,
        )

    # --- response parsing ------------------------------------------------------------------------
    def _parse(self, response: httpx.Response) -> dict[str, Any]:
        """Key on the envelope's ``error`` (HTTP statuses of Shopee's errors are UNCONFIRMED)."""
        status = response.status_code
        try:
            body = response.json()
        except ValueError:
            body = None
        error = message = ""
        if isinstance(body, dict):
            error = str(body.get("error") or "")
            message = str(body.get("message") or body.get("msg") or "")
        if status >= 500:
            raise TransientError(
                message or _("Shopee answered HTTP %(status)d.") % {"status": status},
                code=error or f"http_{status}",
                status=status,
            )
        if error or status == 429:
            raise self._error(error or "error_rate_limit", message, response)
        if status >= 400:
            raise PlatformError(
                _("Shopee answered HTTP %(status)d.") % {"status": status},
                code=f"http_{status}",
                status=status,
            )
        if not isinstance(body, dict):
            raise ValueError("the response body is not a JSON object")
        if "error" not in body:
            raise KeyError("error")  # not a Shopee envelope (a proxy's page, say)
        return body

    def _error(self, error: str, message: str, response: httpx.Response) -> Exception:
        status = response.status_code
        name = error.rsplit(".", 1)[-1]  # codes are sometimes module-prefixed: common.error_auth
        if name in RATE_LIMIT_ERRORS:
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            if retry_after is None:
                retry_after = float(
                    self.settings.get("rate_limit_retry_after", DEFAULT_RATE_LIMIT_RETRY_AFTER)
                )
            return RateLimited(message, code=error, status=status, retry_after=retry_after)
        if name in DAILY_QUOTA_ERRORS:
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            if retry_after is None:
                retry_after = self.seconds_until_quota_reset()
            return RateLimited(message, code=error, status=status, retry_after=retry_after)
        if name in TRANSIENT_ERRORS:
            return TransientError(message, code=error, status=status)
        if name in EXPIRED_TOKEN_ERRORS:
            return TokenExpired(message, code=error, status=status)
        if (
            name == "error_auth"
            and "access_token" in message.lower()
            and self.ctx.tokens.get("refresh_token")
        ):
            return TokenExpired(message, code=error, status=status)
        if name in AUTH_ERRORS:
            return AuthError(message, code=error, status=status)
        return PlatformError(message, code=error, status=status)

    def seconds_until_quota_reset(self) -> float:
        """Seconds until the next 00:00 UTC+8, when Shopee's daily call quota resets."""
        now = datetime.fromtimestamp(self.clock(), tz=QUOTA_TIMEZONE)
        midnight = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
        return max(1.0, (midnight - now).total_seconds())

    # --- OAuth-like authorization ----------------------------------------------------------------
    def authorize_url(self, *, state: str, redirect_uri: str) -> str:
        query = {
            "partner_id": self.partner_id,
            "auth_type": "seller",
            "redirect_uri": redirect_uri,
            "response_type": "code",
        }
        if state:
            query["state"] = state
        return f"{self._auth_url('/auth')}?{urlencode(query)}"

    def revoke_url(self, *, redirect_uri: str) -> str | None:
        query = {
            "partner_id": self.partner_id,
            "auth_type": "seller",
            "redirect_uri": redirect_uri,
            "response_type": "code",
        }
        return f"{self._auth_url('/cancel_auth')}?{urlencode(query)}"

    def exchange_code(self, params: dict[str, str], *, redirect_uri: str) -> TokenSet:
        """Trade the callback's ``code`` + ``shop_id`` for tokens (``redirect_uri`` is not part of
        Shopee's exchange)."""
        code = str(params.get("code") or "").strip()
        if not code:
            raise AuthError(_("Shopee did not return an authorization code."), code="missing_code")
        raw_shop = str(params.get("shop_id") or "").strip()
        if not raw_shop:
            if params.get("main_account_id"):
                raise PlatformError(
                    _(
                        "Shopee authorized a main account. Log in with the shop's own account on "
                        "Shopee's authorization page so that one shop is connected."
                    ),
                    code="main_account_unsupported",
                )
            raise AuthError(_("Shopee did not say which shop was authorized."), code="missing_shop_id")
        if not raw_shop.isdigit() or int(raw_shop) <= 0:
            raise AuthError(_("The shop ID in Shopee's callback is not valid."), code="invalid_shop_id")
        shop_id = int(raw_shop)
        body = {"code": code, "partner_id": self.partner_id, "shop_id": shop_id}
        try:
            return self._send(
                "POST",
                TOKEN_GET,
                operation="auth.token.get",
                shop=False,
                json=body,
                build=lambda data: self._token_set(data, shop_id=str(shop_id)),
            )
        except TokenExpired as exc:  # never ask the caller to refresh a grant it does not have
            raise AuthError(exc.message, code=exc.code, status=exc.status) from exc

    def refresh(self) -> TokenSet:
        """Rotate: Shopee returns a new access token AND a new refresh token (the old one is spent).
        The new tokens also replace ``ctx.tokens`` so this client can go on; the caller persists them."""
        refresh_token = self.ctx.tokens.get("refresh_token") or ""
        if not refresh_token:
            raise AuthError(
                _("No Shopee refresh token is stored; connect the shop again."), code="no_refresh_token"
            )
        shop_id = self._shop_id()
        body = {"refresh_token": refresh_token, "partner_id": self.partner_id, "shop_id": shop_id}
        try:
            tokens = self._send(
                "POST",
                TOKEN_REFRESH,
                operation="auth.access_token.get",
                shop=False,
                json=body,
                build=lambda data: self._token_set(data, shop_id=str(shop_id)),
            )
        except TokenExpired as exc:  # a refresh that fails is final
            raise AuthError(exc.message, code=exc.code, status=exc.status) from exc
        self.ctx.tokens = {**self.ctx.tokens, **tokens.as_secret_dict()}
        return tokens

    def _token_set(self, data: dict[str, Any], *, shop_id: str) -> TokenSet:
        access_token, refresh_token = data["access_token"], data["refresh_token"]
        if not (
            isinstance(access_token, str)
            and access_token
            and isinstance(refresh_token, str)
            and refresh_token
        ):
            raise ValueError("the token response has no access_token/refresh_token")
        now = datetime.fromtimestamp(self.clock(), tz=UTC)
        expire_in = int(data.get("expire_in") or DEFAULT_ACCESS_TOKEN_SECONDS)
        if expire_in > EPOCH_THRESHOLD:  # one doc sample shows an absolute epoch
            expires_at = datetime.fromtimestamp(expire_in, tz=UTC)
        else:
            expires_at = now + timedelta(seconds=expire_in)
        refresh_days = float(self.settings.get("refresh_token_days", DEFAULT_REFRESH_TOKEN_DAYS))
        return TokenSet(
            access_token=access_token,
            refresh_token=refresh_token,
            expires_at=expires_at,
            refresh_expires_at=now + timedelta(days=refresh_days),
            shop_id=shop_id,
        )

    # --- connection test -------------------------------------------------------------------------
    def test_connection(self) -> ConnectionInfo:
        return self._send(
            "GET", SHOP_INFO, operation="shop.get_shop_info", shop=True, build=self._connection_info
        )

    def _connection_info(self, data: dict[str, Any]) -> ConnectionInfo:
        status = str(data.get("status") or "").upper()
        shop_name = str(data["shop_name"] or "")
        if status == "BANNED":
            raise AuthError(
                _(
                    "Shopee has banned the shop %(name)s; API access is suspended until Shopee restores "
                    "the shop."
                )
                % {"name": shop_name},
                code="shop_banned",
            )
        if status == "FROZEN":
            raise AuthError(
                _("Shopee has frozen the shop %(name)s; API access is suspended until Shopee unfreezes it.")
                % {"name": shop_name},
                code="shop_frozen",
            )
        return ConnectionInfo(
            shop_id=str(self._shop_id()),
            shop_name=shop_name,
            authorization_expires_at=_epoch_to_datetime(data.get("expire_time")),
            extra={
                "region": data.get("region") or "",
                "status": status,
                "auth_time": data.get("auth_time"),
                "is_cb": bool(data.get("is_cb")),
            },
        )

    # --- orders --------------------------------------------------------------------------------------
    def iter_orders(self, window: OrderWindow) -> Iterator[list[OrderData]]:
        """One page per listing page: 1 list call + ceil(n/50) detail calls for its n orders."""
        time_from = math.ceil(window.start.timestamp())
        last = math.ceil(window.end.timestamp()) - 1  # [start, end) in whole, inclusive seconds
        step = int(self.max_order_window.total_seconds())
        while time_from <= last:
            time_to = min(last, time_from + step)
            yield from self._iter_slice(time_from, time_to)
            time_from = time_to + 1

    def _iter_slice(self, time_from: int, time_to: int) -> Iterator[list[OrderData]]:
        cursor = ""
        while True:
            params = {
                "time_range_field": "update_time",
                "time_from": time_from,
                "time_to": time_to,
                "page_size": LIST_PAGE_SIZE,
                "cursor": cursor,
                "request_order_status_pending": "true",
            }
            order_sns, more, next_cursor = self._send(
                "GET",
                ORDER_LIST,
                operation="order.get_order_list",
                shop=True,
                params=params,
                build=_list_page,
            )
            if order_sns:
                yield self._details(order_sns)
            if not more:
                return
            if next_cursor == cursor:
                raise PlatformError(
                    _("Shopee returned the same order list cursor twice."), code="cursor_loop"
                )
            cursor = next_cursor

    def _details(self, order_sns: list[str]) -> list[OrderData]:
        orders: list[OrderData] = []
        for start in range(0, len(order_sns), DETAIL_BATCH):
            params = {
                "order_sn_list": ",".join(order_sns[start : start + DETAIL_BATCH]),
                "response_optional_fields": ",".join(mapping.DETAIL_FIELDS),
                "request_order_status_pending": "true",
            }
            orders += self._send(
                "GET",
                ORDER_DETAIL,
                operation="order.get_order_detail",
                shop=True,
                params=params,
                build=_details,
            )
        return orders

    def get_orders(self, ids: list[str]) -> list[OrderData]:
        wanted = list(dict.fromkeys(str(i).strip() for i in ids if str(i).strip()))
        return self._details(wanted) if wanted else []

    # --- shipping --------------------------------------------------------------------------------------
    def _already_shipped(self, exc: PlatformError) -> bool:
        codes = self.settings.get("already_shipped_errors") or DEFAULT_ALREADY_SHIPPED_ERRORS
        names = {str(c) for c in codes} | {str(c).rsplit(".", 1)[-1] for c in codes}
        return exc.code in names

    @staticmethod
    def _target(shipment: ShipmentRequest) -> dict[str, str]:
        target = {"order_sn": shipment.platform_order_id}
        if shipment.package_key:
            target["package_number"] = shipment.package_key
        return target

    def report_shipment(self, shipment: ShipmentRequest) -> ShipmentResult:
        target = self._target(shipment)
        try:
            parameter = self._send(
                "GET",
                SHIPPING_PARAMETER,
                operation="logistics.get_shipping_parameter",
                shop=True,
                params=target,
                build=lambda data: data["response"],
            )
            method, details = self._ship_object(parameter, shipment)
            self._send(
                "POST",
                SHIP_ORDER,
                operation="logistics.ship_order",
                shop=True,
                json={**target, method: details},
                build=lambda data: data,
            )
        except PlatformError as exc:
            if not self._already_shipped(exc):
                raise
            return self._already_shipped_result(shipment, exc)
        if method == "non_integrated":
            return ShipmentResult(
                ShipmentOutcome.DONE, tracking_number=shipment.tracking_number, carrier=shipment.carrier
            )
        return self.fetch_tracking(shipment)

    def _already_shipped_result(self, shipment: ShipmentRequest, exc: PlatformError) -> ShipmentResult:
        result = self.fetch_tracking(shipment)
        result.already_shipped = True
        result.message = exc.message
        if result.outcome == ShipmentOutcome.DONE:
            return result
        channel = str(shipment.shipment_refs.get("logistics_channel_id") or shipment.shipping_code or "")
        if channel in INTEGRATED_CHANNELS and not shipment.tracking_number:
            return result  # Shopee issues the number; keep polling for it
        result.outcome = ShipmentOutcome.DONE
        result.tracking_number = shipment.tracking_number
        result.carrier = shipment.carrier
        return result

    def _ship_object(self, parameter: dict[str, Any], shipment: ShipmentRequest) -> tuple[str, dict]:
        """Exactly the object ``info_needed`` names, filled from the first address/slot/branch."""
        info = parameter["info_needed"]
        offered = [m for m in SHIP_METHODS if isinstance(info, dict) and m in info]
        if not offered:
            raise PlatformError(
                _("Shopee offers no way to arrange this shipment (no pickup, dropoff or non-integrated)."),
                code="no_ship_method",
            )
        if shipment.tracking_number and "non_integrated" in offered:
            method = "non_integrated"
        else:
            method = offered[0]
        fields = info[method] or []
        details: dict[str, Any] = {}
        if method == "pickup" and ("address_id" in fields or "pickup_time_id" in fields):
            addresses = (parameter.get("pickup") or {}).get("address_list") or []
            address = next((a for a in addresses if a.get("time_slot_list")), None)
            if address is None:
                raise PlatformError(
                    _("Shopee offers no pickup address with a pickup time for this order."),
                    code="no_pickup_slot",
                )
            details = {
                "address_id": address["address_id"],
                "pickup_time_id": address["time_slot_list"][0]["pickup_time_id"],
            }
        if method == "dropoff":
            dropoff = parameter.get("dropoff") or {}
            if "branch_id" in fields:
                branches = dropoff.get("branch_list") or []
                if not branches:
                    raise PlatformError(
                        _("Shopee offers no drop-off branch for this order."), code="no_branch"
                    )
                details["branch_id"] = branches[0]["branch_id"]
            if "slug" in fields:
                slugs = dropoff.get("slug_list") or []
                if not slugs:
                    raise PlatformError(
                        _("Shopee offers no drop-off partner for this order."), code="no_slug"
                    )
                details["slug"] = slugs[0]["slug"]
            if "sender_real_name" in fields:
                name = str(self.settings.get("sender_real_name") or "")
                if not name:
                    raise PlatformError(
                        _("Shopee needs the sender's real name for this drop-off; set sender_real_name."),
                        code="sender_name_required",
                    )
                details["sender_real_name"] = name
        if {"tracking_no", "tracking_number"} & set(fields):
            if not shipment.tracking_number:
                raise PlatformError(
                    _("Shopee needs our tracking number for this shipping channel."), code="tracking_required"
                )
            details["tracking_number"] = shipment.tracking_number
        return method, details

    def fetch_tracking(self, shipment: ShipmentRequest) -> ShipmentResult:
        number = self._send(
            "GET",
            TRACKING_NUMBER,
            operation="logistics.get_tracking_number",
            shop=True,
            params=self._target(shipment),
            build=lambda data: str(data["response"]["tracking_number"] or "").strip(),
        )
        carrier = str(shipment.shipment_refs.get("shipping_carrier") or shipment.carrier or "")
        if not number:
            return ShipmentResult(ShipmentOutcome.AWAITING_TRACKING, carrier=carrier)
        return ShipmentResult(ShipmentOutcome.DONE, tracking_number=number, carrier=carrier)

    # --- products and stock ------------------------------------------------------------------------
    # Shopee sets stock outright (update_stock) and has no delta API: services read, then set.
    stock_absolute_native = True
    stock_delta_native = False

    def iter_products(self) -> Iterator[list[PlatformProduct]]:
        """One page per get_item_list page (100 items, NORMAL and UNLIST): its items' base info in
        calls of 50, then get_model_list once per item with models."""
        offset = 0
        while True:
            params = {
                "offset": offset,
                "page_size": ITEM_PAGE_SIZE,
                "item_status": list(LISTED_ITEM_STATUSES),
            }
            item_ids, has_next, next_offset = self._send(
                "GET",
                ITEM_LIST,
                operation="product.get_item_list",
                shop=True,
                params=params,
                build=mapping.item_list_page,
            )
            page = self._products(item_ids) if item_ids else []
            if page:
                yield page
            if not has_next:
                return
            if next_offset <= offset:
                raise PlatformError(_("Shopee returned the same item list offset twice."), code="offset_loop")
            offset = next_offset

    def _products(self, item_ids: list[str]) -> list[PlatformProduct]:
        products: list[PlatformProduct] = []
        for base in self._base_info(item_ids):
            if not base.get("has_model"):
                products.append(mapping.item_product(base))
                continue
            models = self._model_list(str(base["item_id"]))
            if models is not None:  # None: deleted between the two calls
                products += mapping.model_products(base, models)
        return products

    def _base_info(self, item_ids: list[str]) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        for chunk in _chunks(list(dict.fromkeys(item_ids)), BASE_INFO_BATCH):
            items += self._send(
                "GET",
                ITEM_BASE_INFO,
                operation="product.get_item_base_info",
                shop=True,
                params={"item_id_list": ",".join(chunk)},
                build=mapping.base_info_items,
            )
        return items

    def _model_list(self, item_id: str) -> dict[str, Any] | None:
        """get_model_list of one item; None when Shopee does not know the item."""
        try:
            return self._send(
                "GET",
                MODEL_LIST,
                operation="product.get_model_list",
                shop=True,
                params={"item_id": item_id},
                build=mapping.model_list,
            )
        except PlatformError as exc:
            if exc.code.rsplit(".", 1)[-1] in ITEM_NOT_FOUND_ERRORS:
                return None
            raise

    def stock_batches(self, targets: list[StockTarget], *, absolute: bool) -> list[list[StockTarget]]:
        """update_stock carries one item and at most 50 models, each once: group by item, in the
        order items first appear; a model seen twice goes to a later batch of its item."""
        groups: dict[str, list[list[StockTarget]]] = {}
        for target in targets:
            unit = _StockUnit(target)
            batches = groups.setdefault(str(target.item_id), [])
            for batch in batches:
                if len(batch) < STOCK_BATCH and all(
                    _StockUnit(other).model_id != unit.model_id for other in batch
                ):
                    batch.append(target)
                    break
            else:
                batches.append([target])
        return [batch for batches in groups.values() for batch in batches]

    def read_stock(self, targets: list[StockTarget]) -> dict[str, int]:
        """Items without models: get_item_base_info, 50 items a call. Items with models:
        get_model_list once per item. Unknown items/models (and invalid ids) are left out."""
        plain: list[tuple[StockTarget, _StockUnit]] = []
        modelled: dict[int, list[tuple[StockTarget, _StockUnit]]] = {}
        for target in targets:
            unit = _StockUnit(target)
            if not unit.valid:
                continue
            if unit.model_id == 0:
                plain.append((target, unit))
            else:
                modelled.setdefault(unit.item_id, []).append((target, unit))
        result: dict[str, int] = {}
        if plain:
            bases = {
                int(base["item_id"]): base
                for base in self._base_info([str(unit.item_id) for _target, unit in plain])
            }
            for target, unit in plain:
                base = bases.get(unit.item_id)
                if base is None or base.get("has_model"):
                    continue  # gone, or it has models now: model 0 is no longer a stock unit
                stock, _location = mapping.seller_stock(base.get("stock_info_v2"))
                if stock is not None:
                    result[target.key] = stock
        for item_id, pairs in modelled.items():
            models = self._model_list(str(item_id))
            if models is None:
                continue
            stocks = mapping.model_stocks(models)
            for target, unit in pairs:
                if str(unit.model_id) in stocks:
                    result[target.key] = stocks[str(unit.model_id)]
        return result

    def set_stock(self, targets: list[StockTarget]) -> list[StockOutcome]:
        """One update_stock call for one batch from ``stock_batches``; one outcome per target."""
        if not targets:
            return []
        if len({str(t.item_id) for t in targets}) != 1 or len(targets) > STOCK_BATCH:
            raise ValueError("set_stock takes one batch from stock_batches (one item, at most 50 models)")
        outcomes: dict[int, StockOutcome] = {}
        stock_list: list[dict[str, Any]] = []
        sending: list[tuple[int, StockTarget, int]] = []
        for index, target in enumerate(targets):
            unit = _StockUnit(target)
            if not unit.valid:
                outcomes[index] = StockOutcome(
                    target.key, False, error=_("This is not a Shopee item/model ID.")
                )
            elif target.quantity < 0:
                outcomes[index] = StockOutcome(target.key, False, error=_("Stock cannot be negative."))
            else:
                seller_stock: dict[str, Any] = {"stock": int(target.quantity)}
                location = str(target.stock_ref.get("location_id") or "")
                if location:
                    seller_stock = {"location_id": location, **seller_stock}
                stock_list.append({"model_id": unit.model_id, "seller_stock": [seller_stock]})
                sending.append((index, target, unit.model_id))
        if sending:
            body = {"item_id": _StockUnit(sending[0][1]).item_id, "stock_list": stock_list}
            try:
                success, failure = self._send(
                    "POST",
                    UPDATE_STOCK,
                    operation="product.update_stock",
                    shop=True,
                    json=body,
                    build=mapping.stock_result,
                )
            except PlatformError as exc:
                name = exc.code.rsplit(".", 1)[-1]
                if name not in ITEM_STOCK_ERRORS:
                    raise
                for index, target, _model in sending:
                    outcomes[index] = StockOutcome(
                        target.key, False, error=str(exc), retryable=name in RETRYABLE_ITEM_STOCK_ERRORS
                    )
            else:
                for index, target, model_id in sending:
                    if model_id in failure:
                        outcomes[index] = StockOutcome(
                            target.key, False, error=failure[model_id] or _("Shopee refused this model.")
                        )
                    elif model_id in success:
                        after = success[model_id]
                        outcomes[index] = StockOutcome(
                            target.key, True, quantity=after if after is not None else target.quantity
                        )
                    else:  # absolute, so sending it again is safe
                        outcomes[index] = StockOutcome(
                            target.key,
                            False,
                            error=_("Shopee did not report this model's stock update."),
                            retryable=True,
                        )
        return [outcomes[index] for index in range(len(targets))]

    def adjust_stock(self, targets: list[StockTarget]) -> list[StockOutcome]:
        raise NotImplementedError("Shopee has no stock delta API: read_stock, then set_stock(current + n).")

    # --- push ------------------------------------------------------------------------------------
    @staticmethod
    def _verify_push(settings: dict, headers: dict[str, str], body: bytes, url: str) -> bool:
        """``Authorization`` must equal hex HMAC(partner_key, callback URL + "|" + raw body). Shopee
        signs the URL configured for the app (``push_url``); a ``url`` the caller passes is accepted
        too (both need the partner key)."""
        authorization = next((v for k, v in headers.items() if k.lower() == "authorization"), None)
        key = str(settings.get("partner_key") or "")
        urls = [u for u in dict.fromkeys((url, str(settings.get("push_url") or ""))) if u]
        return any(signing.verify_push(key, u, body, authorization) for u in urls)

    def verify_webhook(self, headers: dict[str, str], body: bytes, url: str = "") -> bool:
        return self._verify_push(self.settings, headers, body, url)

    @classmethod
    def verify_webhook_request(cls, headers: dict[str, str], body: bytes, url: str = "") -> bool:
        return cls._verify_push(platform_settings("shopee"), headers, body, url)

    @classmethod
    def parse_webhook(cls, headers: dict[str, str], body: bytes) -> list[WebhookEvent]:
        try:
            payload = json.loads(body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ValueError(f"the push body is not JSON: {exc}") from None
        if not isinstance(payload, dict):
            raise ValueError("the push body is not a JSON object")
        code = payload.get("code")
        if isinstance(code, bool) or not isinstance(code, int):
            raise ValueError("the push has no integer code")
        data = payload.get("data") or {}
        if isinstance(data, str):  # lost-push messages carry data as a JSON string
            data = json.loads(data)
        if not isinstance(data, dict):
            raise ValueError("the push data is not an object")
        delivery_id = hashlib.sha256(body).hexdigest()
        topic = PUSH_TOPICS.get(code, f"code_{code}")
        shop_id = _shop_text(payload.get("shop_id")) or _shop_text(data.get("shop_id"))
        if code in (3, 4):
            order_sn = str(data.get("ordersn") or data.get("order_sn") or "").strip()
            if not order_sn or not shop_id:
                raise ValueError("an order push without ordersn or shop_id")
            return [
                WebhookEvent(delivery_id, topic, WebhookKind.ORDER, shop_id=shop_id, order_ids=[order_sn])
            ]
        if code == 2:
            listed = data.get("shop_id_list") or []
            shops = list(dict.fromkeys([s for s in [shop_id, *map(_shop_text, listed)] if s]))
            if not shops:
                raise ValueError("a deauthorization push without a shop_id")
            return [
                WebhookEvent(
                    delivery_id if len(shops) == 1 else f"{delivery_id}:{shop}",
                    topic,
                    WebhookKind.DEAUTHORIZED,
                    shop_id=shop,
                )
                for shop in shops
            ]
        return [WebhookEvent(delivery_id, topic, WebhookKind.IGNORED, shop_id=shop_id)]


def _shop_text(value: Any) -> str:
    if isinstance(value, bool) or value in (None, "", 0):
        return ""
    return str(value).strip()


def _list_page(data: dict[str, Any]) -> tuple[list[str], bool, str]:
    response = data["response"]
    order_list, more = response["order_list"], response["more"]
    if not isinstance(order_list, list) or not isinstance(more, bool):
        raise ValueError("order_list/more have the wrong type")
    next_cursor = str(response.get("next_cursor") or "")
    if more and not next_cursor:
        raise ValueError("more is true but next_cursor is empty")
    return [str(o["order_sn"]) for o in order_list], more, next_cursor


def _details(data: dict[str, Any]) -> list[OrderData]:
    order_list = data["response"]["order_list"]
    if not isinstance(order_list, list):
        raise ValueError("order_list is not a list")
    return [mapping.map_order(raw) for raw in order_list]


# --- products and stock (issue 4) --------------------------------------------------------------------
class _StockUnit:
    """Where a StockTarget lives on Shopee: item_id and model_id (0 = an item without models)."""

    __slots__ = ("item_id", "model_id")

    def __init__(self, target: StockTarget):
        item, variant = str(target.item_id).strip(), str(target.variant_id or "").strip()
        self.item_id = int(item) if item.isdigit() and int(item) > 0 else None
        self.model_id = 0 if variant in ("", "0") else (int(variant) if variant.isdigit() else None)

    @property
    def valid(self) -> bool:
        return self.item_id is not None and self.model_id is not None


def _chunks(values: list[T], size: int) -> Iterator[list[T]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]
