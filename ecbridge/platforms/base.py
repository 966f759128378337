"""The platform contract: a spec (what the UI and services may offer) and a client (the wire)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from ecbridge.platforms.http import PlatformHttp


class AuthKind(StrEnum):
    OAUTH = "oauth"
    API_KEY = "api_key"
    CREDENTIALS = "credentials"


class Capability(StrEnum):
    FETCH_ORDERS = "fetch_orders"
    REALTIME_PUSH = "realtime_push"
    REPORT_SHIPMENT = "report_shipment"
    SYNC_PRODUCTS = "sync_products"
    PUSH_STOCK = "push_stock"
    STOCK_DELTA = "stock_delta"
    MANUAL_STOCK_SYNC = "manual_stock_sync"
    FIXED_SHIPPING_CODES = "fixed_shipping_codes"
    IP_ALLOWLIST = "ip_allowlist"
    REVOKE = "revoke"
    # The platform issues the tracking number itself (Shopee's logistics channels): a number typed
    # when shipping is replaced by the platform's once the report completes.
    ISSUES_TRACKING = "issues_tracking"


@dataclass(frozen=True)
class CredentialField:
    """One field the user types for a key/credential platform (or a non-secret OAuth identity)."""

    name: str
    label: str | Promise
    secret: bool = False
    required: bool = True
    pattern: str = ""  # full-match regular expression, when the platform fixes the format
    pattern_message: str | Promise = ""
    max_length: int = 255
    help_text: str | Promise = ""

    def validate(self, value: str) -> str | Promise | None:
        """Return an error message, or None when ``value`` is acceptable."""
        if not value:
            return _("This field is required.") if self.required else None
        if len(value) > self.max_length:
            return _("Too long.")
        if self.pattern and not re.fullmatch(self.pattern, value):
            return self.pattern_message or _("Invalid format.")
        return None


@dataclass(frozen=True)
class ShippingCode:
    code: str
    label: str | Promise


@dataclass(frozen=True)
class PlatformSpec:
    code: str
    name: str | Promise
    auth: AuthKind
    credential_fields: tuple[CredentialField, ...] = ()
    capabilities: frozenset[Capability] = frozenset()
    color: str = "#6c757d"  # the colour of the platform tag
    fixed_shipping_codes: tuple[ShippingCode, ...] = ()
    suggested_shipping_codes: tuple[ShippingCode, ...] = ()
    client_class: str = ""  # dotted path; empty = not implemented (listed, not offered)
    notes: str | Promise = ""
    # What identifies one store on the platform (Shopee shop id, Shopify shop domain, momo vendor
    # code, a site URL). It is unique among EC accounts: a store belongs to one account.
    store_identity: str | Promise = _("store ID")
    # The credential field that names the store, when the user types it (changing it unbinds).
    store_identity_field: str = ""
    # What people in Taiwan call the platform (蝦皮, 酷澎…): the EC account search finds these too.
    local_names: tuple[str, ...] = ()

    @property
    def implemented(self) -> bool:
        return bool(self.client_class)

    @property
    def is_oauth(self) -> bool:
        return self.auth == AuthKind.OAUTH

    def has(self, capability: Capability) -> bool:
        return capability in self.capabilities

    @property
    def capability_codes(self) -> frozenset[str]:
        """Plain strings, for templates: {% if 'push_stock' in spec.capability_codes %}."""
        return frozenset(c.value for c in self.capabilities)

    @property
    def secret_field_names(self) -> set[str]:
        return {f.name for f in self.credential_fields if f.secret}

    def matches(self, term: str) -> bool:
        """Whether a search term names this platform, in any language or by a local name."""
        term = term.strip().casefold()
        names = [str(self.name), self.code, *self.local_names]
        return bool(term) and any(term in name.casefold() for name in names)

    def store_key(self, raw: object) -> str:
        """The canonical form of a store identity, as stored and compared (case and surrounding
        white space never make two stores of one)."""
        return str(raw or "").strip().lower()


# --- DTOs (platform-neutral) ---------------------------------------------------------------------
@dataclass
class ConnectionInfo:
    """What a successful connection test learned about the store."""

    shop_id: str = ""
    shop_name: str = ""
    authorization_expires_at: datetime | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class TokenSet:
    access_token: str
    refresh_token: str = ""
    expires_at: datetime | None = None
    refresh_expires_at: datetime | None = None
    shop_id: str = ""  # the identity the grant was for (Shopee shop_id, Shopify shop domain)
    scope: str = ""

    def as_secret_dict(self) -> dict[str, str]:
        return {"access_token": self.access_token, "refresh_token": self.refresh_token}


@dataclass
class WebhookRegistration:
    topic: str
    remote_id: str
    address: str = ""


@dataclass
class AccountContext:
    """Everything a client needs about one account, decrypted, with no Django model attached.

    ``on_tokens`` is called by a client that rotated tokens itself, so the caller can persist them."""

    account_id: int | None
    merchant_id: int | None
    platform: str
    credentials: dict[str, str] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    shop_id: str = ""
    settings: dict[str, Any] = field(default_factory=dict)

    def secret_values(self) -> list[str]:
        """Every value that must never appear in a log: secret fields, tokens and app keys."""
        from ecbridge.platforms.registry import get_spec

        spec = get_spec(self.platform)
        values = [v for k, v in self.credentials.items() if k in spec.secret_field_names and v]
        values += [v for v in self.tokens.values() if isinstance(v, str) and v]
        values += [
            v
            for k, v in self.settings.items()
            if isinstance(v, str) and v and any(w in k for w in ("key", "secret", "token"))
        ]
        return values


# --- orders, shipments, webhooks (issue 3) ----------------------------------------------------------
class PlatformOrderState(StrEnum):
    """The platform's order status, reduced to what the warehouse acts on. Each client maps its
    own status strings here and keeps the original in ``OrderData.platform_status``."""

    UNPAID = "unpaid"  # not payable/confirmed yet: imported, not to be shipped
    TO_SHIP = "to_ship"  # ready for the warehouse to ship
    SHIPPED = "shipped"  # handed to the carrier (by us or anyone)
    COMPLETED = "completed"  # delivered / closed
    CANCELLED = "cancelled"  # cancelled (or cancellation requested) on the platform
    RETURNED = "returned"  # returned / refunded after shipping


@dataclass(frozen=True)
class OrderWindow:
    """A half-open time range [start, end) in UTC, on the platform's *update* time where it has one."""

    start: datetime
    end: datetime


@dataclass
class OrderLineData:
    line_id: str  # the platform's own line id (order_item_id, lineItem gid, completeOrderNo)
    sku: str  # the seller's SKU on the platform (model_sku or item_sku, variant sku, entpGoodsNo)
    name: str
    quantity: int
    item_id: str = ""  # platform product id
    variant_id: str = ""  # platform variant/model id ("" or "0" when the product has none)
    barcode: str = ""


@dataclass
class OrderData:
    platform_order_id: str  # stable id used for uniqueness (order_sn, Order gid, momo order no.)
    order_number: str  # what people see (often the same)
    state: PlatformOrderState
    platform_status: str  # the platform's own status string(s), for display
    created_at: datetime  # aware
    updated_at: datetime  # aware
    lines: list[OrderLineData] = field(default_factory=list)
    shipping_code: str = ""  # the platform's shipping/logistics code (mapped to a shipping type)
    shipping_name: str = ""
    recipient_name: str = ""
    recipient_phone: str = ""
    recipient_address: str = ""
    buyer_note: str = ""
    tracking_number: str = ""  # when the platform already knows one
    carrier: str = ""
    # Whatever the client needs later to report the shipment (Shopee package numbers, Shopify
    # fulfillment order ids, momo completeOrderNo list). Stored as JSON on the order.
    shipment_refs: dict[str, Any] = field(default_factory=dict)


@dataclass
class ShipmentRequest:
    platform_order_id: str
    order_number: str
    package_key: str  # one report per package: "" = the whole order
    carrier: str  # the warehouse's carrier name
    tracking_number: str  # may be empty where the platform issues it (Shopee logistics)
    shipping_code: str = ""
    shipment_refs: dict[str, Any] = field(default_factory=dict)
    lines: list[OrderLineData] = field(default_factory=list)
    shipped_at: datetime | None = None


class ShipmentOutcome(StrEnum):
    DONE = "done"  # the platform accepted it (or it was already shipped there)
    AWAITING_TRACKING = "awaiting_tracking"  # accepted; the platform issues the tracking number later


@dataclass
class ShipmentResult:
    outcome: ShipmentOutcome
    tracking_number: str = ""  # the platform-issued number, when it gives one
    carrier: str = ""
    already_shipped: bool = False
    message: str = ""


class WebhookKind(StrEnum):
    ORDER = "order"  # something about these orders changed: fetch them
    DEAUTHORIZED = "deauthorized"  # the shop revoked us / uninstalled the app
    IGNORED = "ignored"  # verified but nothing for us (test pings, other topics)


@dataclass
class WebhookEvent:
    """One verified platform notification, parsed. ``shop_id`` finds the account(s)."""

    delivery_id: str  # the platform's delivery id, or a hash of the body where it has none
    topic: str
    kind: WebhookKind
    shop_id: str = ""
    order_ids: list[str] = field(default_factory=list)


class Client:
    """One client per account. It speaks the platform's real wire protocol and returns DTOs.

    Methods not supported by a platform raise NotImplementedError (the spec's capabilities
    say what the UI may offer, so they are never reached from the UI)."""

    spec: PlatformSpec

    def __init__(self, ctx: AccountContext, http: PlatformHttp | None = None, *, interactive: bool = False):
        from ecbridge.platforms.http import PlatformHttp

        self.ctx = ctx
        self.http = http or PlatformHttp(ctx, interactive=interactive)

    @property
    def settings(self) -> dict[str, Any]:
        return self.ctx.settings

    # connection ---------------------------------------------------------------------------------
    def test_connection(self) -> ConnectionInfo:
        raise NotImplementedError

    # OAuth --------------------------------------------------------------------------------------
    def authorize_url(self, *, state: str, redirect_uri: str) -> str:
        raise NotImplementedError

    def verify_callback(self, params: dict[str, str]) -> None:
        """Raise AuthError if the callback's parameters are not genuine (e.g. Shopify's hmac)."""

    def exchange_code(self, params: dict[str, str], *, redirect_uri: str) -> TokenSet:
        raise NotImplementedError

    def refresh(self) -> TokenSet:
        raise NotImplementedError

    def revoke_url(self, *, redirect_uri: str) -> str | None:
        """Where to send the user to revoke on the platform's own page, or None."""
        return None

    def revoke(self) -> None:
        """Revoke through the API where the platform offers it (Shopify app uninstall)."""
        raise NotImplementedError

    # webhooks -----------------------------------------------------------------------------------
    def register_webhooks(self, callback_url: str) -> list[WebhookRegistration]:
        return []

    def clear_webhooks(self, registrations: list[dict[str, str]]) -> None:
        """Remove the subscriptions we registered. Default: nothing was registered."""

    def verify_webhook(self, headers: dict[str, str], body: bytes, url: str = "") -> bool:
        raise NotImplementedError

    @classmethod
    def verify_webhook_request(cls, headers: dict[str, str], body: bytes, url: str = "") -> bool:
        """Verify a delivery before any account is known (the signature uses the app's secret
        from platform settings). Platforms without push return False."""
        return False

    @classmethod
    def parse_webhook(cls, headers: dict[str, str], body: bytes) -> list[WebhookEvent]:
        """Parse a verified delivery. Raises ValueError on a body we cannot read."""
        raise NotImplementedError

    # orders and shipments -------------------------------------------------------------------------
    # The largest window one listing call may cover (Shopee: 15 days); the importer splits larger.
    max_order_window: timedelta = timedelta(days=15)
    # How far back the first fetch of a new account looks.
    initial_lookback: timedelta = timedelta(days=7)

    def iter_orders(self, window: OrderWindow) -> Iterator[list[OrderData]]:
        """Every order of every status updated in ``window`` (never larger than
        ``max_order_window``), in pages of fully detailed orders, in the platform's minimum number
        of calls. A failed page raises; it never ends the iteration early."""
        raise NotImplementedError

    def get_orders(self, ids: list[str]) -> list[OrderData]:
        """Detailed orders by platform order id (webhooks); ids the platform does not know are left out."""
        raise NotImplementedError

    def report_shipment(self, shipment: ShipmentRequest) -> ShipmentResult:
        """Tell the platform the order (package) shipped. An "already shipped" answer is DONE with
        ``already_shipped``; other refusals raise PlatformError."""
        raise NotImplementedError

    def fetch_tracking(self, shipment: ShipmentRequest) -> ShipmentResult:
        """Poll for a platform-issued tracking number after AWAITING_TRACKING."""
        raise NotImplementedError

    # products and stock (issue 4) -------------------------------------------------------------------
    # How the platform takes stock, so services pick the right flow (docs/stock.md):
    # - stock_absolute_native: it can set a quantity outright (Shopee update_stock, Shopify
    #   inventorySetQuantities). Otherwise an absolute overwrite is read → difference → adjust.
    # - stock_delta_native: it can add/remove n (Shopify inventoryAdjustQuantities, momo
    #   addReduceQty). Otherwise a delta is read → set current + n.
    # - adjust_idempotent: a repeated adjust with the same StockTarget.idempotency_key is applied
    #   once (Shopify @idempotent). Otherwise services read before and after to never apply twice.
    # - adjust_needs_current: the adjust call carries the quantity as read (momo orderCounselQty).
    stock_absolute_native: bool = False
    stock_delta_native: bool = False
    adjust_idempotent: bool = False
    adjust_needs_current: bool = False

    def iter_products(self) -> Iterator[list[PlatformProduct]]:
        """Every item and variant of the shop (full pagination), one PlatformProduct per
        sellable variant (G8), in pages. A failed page raises; it never ends the iteration early."""
        raise NotImplementedError

    def stock_batches(self, targets: list[StockTarget], *, absolute: bool) -> list[list[StockTarget]]:
        """Split targets into the groups one write call can carry (Shopee: one item, ≤ 50 models;
        Shopify: ≤ 250 changes; momo: its batch size). Order of targets is kept inside a group."""
        raise NotImplementedError

    def read_stock(self, targets: list[StockTarget]) -> dict[str, int]:
        """The platform's current quantity per ``StockTarget.key``, in the fewest calls its batch
        reads allow. Targets the platform does not know are left out of the result."""
        raise NotImplementedError

    def set_stock(self, targets: list[StockTarget]) -> list[StockOutcome]:
        """Absolute: set each target's quantity to ``quantity``. One platform call (one batch from
        ``stock_batches(absolute=True)``); one outcome per target (G6: partial success is normal)."""
        raise NotImplementedError

    def adjust_stock(self, targets: list[StockTarget]) -> list[StockOutcome]:
        """Delta: add ``quantity`` (may be negative) to each target. One platform call (one batch
        from ``stock_batches(absolute=False)``); one outcome per target. Uses
        ``idempotency_key`` where the platform has one and ``current`` where it wants the quantity
        as read."""
        raise NotImplementedError


# --- products and stock (issue 4) ------------------------------------------------------------------
@dataclass
class PlatformProduct:
    """One sellable unit on the platform: a variant (Shopify variant, Shopee model, momo goodsdt),
    or the item itself when it has no variants (``variant_id`` "")."""

    item_id: str
    variant_id: str
    sku: str
    name: str = ""
    barcode: str = ""
    stock: int | None = None  # the platform's quantity, when the listing carries it
    # Whatever the client needs later to read or write this unit's stock (Shopify inventory item
    # and location ids, momo goodsCode/goodsdtCode/names). Stored on the mapping as JSON.
    stock_ref: dict[str, Any] = field(default_factory=dict)


@dataclass
class StockTarget:
    """One unit of stock to read or change. ``key`` is ours (the push row id) and comes back on
    every outcome, so callers never correlate by SKU."""

    key: str
    item_id: str
    variant_id: str
    sku: str
    quantity: int = 0  # absolute target (set_stock) or signed delta (adjust_stock)
    stock_ref: dict[str, Any] = field(default_factory=dict)
    idempotency_key: str = ""
    current: int | None = None  # the quantity as read, for platforms whose adjust wants it


@dataclass
class StockOutcome:
    key: str
    ok: bool
    quantity: int | None = None  # the platform's quantity afterwards, when it says
    error: str = ""  # the platform's own reason, for a refused target
    retryable: bool = False  # a refusal that may succeed later (busy, throttled per item)
