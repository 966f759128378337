"""The platform contract: a spec (what the UI and services may offer) and a client (the wire)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
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

    # orders, shipments, products, stock (later issues) -------------------------------------------
    def iter_orders(self, window):
        raise NotImplementedError

    def get_orders(self, ids):
        raise NotImplementedError

    def report_shipment(self, shipment):
        raise NotImplementedError

    def iter_products(self):
        raise NotImplementedError

    def set_stock(self, items):
        raise NotImplementedError

    def adjust_stock(self, items):
        raise NotImplementedError
