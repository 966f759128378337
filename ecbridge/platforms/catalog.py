"""Platforms we list but have not implemented yet (product-notes §2). They appear in
docs/platforms.md and GET /api/v1/platforms with implemented=false, and are never offered
on the create page. Credential fields marked [UNCONFIRMED] in the reference are guesses."""

from dataclasses import replace

from django.utils.translation import gettext_lazy as _

from ecbridge.platforms.base import AuthKind, CredentialField, PlatformSpec
from ecbridge.platforms.base import Capability as C

_STD = frozenset({C.FETCH_ORDERS, C.REPORT_SHIPMENT, C.PUSH_STOCK, C.SYNC_PRODUCTS, C.MANUAL_STOCK_SYNC})


def _key(label=None):
    return (CredentialField("api_key", label or _("API key"), secret=True),)


_LISTED = (
    PlatformSpec(
        "shopline", "Shopline", AuthKind.API_KEY, _key(_("Merchant key (貨主金鑰)")), _STD, "#2f9e44"
    ),
    PlatformSpec(
        "liteshop",
        "Liteshop",
        AuthKind.OAUTH,
        (),
        frozenset(
            {C.FETCH_ORDERS, C.REALTIME_PUSH, C.REPORT_SHIPMENT, C.PUSH_STOCK, C.MANUAL_STOCK_SYNC, C.REVOKE}
        ),
        "#7048e8",
    ),
    PlatformSpec(
        "91app",
        "91APP",
        AuthKind.API_KEY,
        _key(),
        frozenset({C.FETCH_ORDERS, C.REPORT_SHIPMENT, C.PUSH_STOCK, C.MANUAL_STOCK_SYNC}),
        "#e8590c",
    ),
    PlatformSpec(
        "woocommerce",
        "WooCommerce",
        AuthKind.API_KEY,
        (
            CredentialField("site_url", _("Store URL")),
            CredentialField("consumer_key", _("Consumer key"), secret=True),
            CredentialField("consumer_secret", _("Consumer secret"), secret=True),
        ),
        _STD | {C.REALTIME_PUSH},
        "#7f54b3",
    ),
    PlatformSpec("cyberbiz", "Cyberbiz", AuthKind.API_KEY, _key(_("Access token")), _STD, "#1971c2"),
    PlatformSpec(
        "yahoo",
        "Yahoo SCM",
        AuthKind.CREDENTIALS,
        (
            CredentialField("supplier_id", _("Supplier ID")),
            CredentialField("token", _("Token"), secret=True),
            CredentialField("key", _("Key"), secret=True),
            CredentialField("iv", _("IV"), secret=True),
            CredentialField("salt", _("Salt"), secret=True),
        ),
        _STD | {C.STOCK_DELTA},
        "#5f3dc4",
    ),
    PlatformSpec(
        "pchome", "PChome", AuthKind.API_KEY, _key(_("Vendor key")), _STD | {C.IP_ALLOWLIST}, "#c92a2a"
    ),
    PlatformSpec(
        "moplus",
        "Mo+ (MO店+)",
        AuthKind.API_KEY,
        (
            CredentialField("token", _("MO店+ Token"), secret=True),
            CredentialField("pdf_password", _("PDF password (PDF 密碼)"), secret=True),
        ),
        _STD | {C.IP_ALLOWLIST, C.FIXED_SHIPPING_CODES},
        "#d6336c",
    ),
    PlatformSpec("easystore", "EasyStore", AuthKind.API_KEY, _key(_("Access token")), _STD, "#0ca678"),
    PlatformSpec("bvshop", "BvShop", AuthKind.API_KEY, _key(), _STD, "#f08c00"),
    PlatformSpec(
        "coupang",
        "Coupang",
        AuthKind.API_KEY,
        (
            CredentialField("vendor_id", _("Vendor ID")),
            CredentialField("access_key", _("Access key"), secret=True),
            CredentialField("secret_key", _("Secret key"), secret=True),
        ),
        _STD | {C.IP_ALLOWLIST, C.FIXED_SHIPPING_CODES},
        "#e03131",
    ),
    PlatformSpec(
        "ruten",
        "Ruten",
        AuthKind.API_KEY,
        (
            CredentialField("api_key", _("API key"), secret=True),
            CredentialField("secret_key", _("Secret key"), secret=True),
            CredentialField("salt_key", _("Salt key"), secret=True),
        ),
        _STD,
        "#fab005",
    ),
    PlatformSpec(
        "1shop",
        "1shop",
        AuthKind.API_KEY,
        (CredentialField("app_id", _("App ID")), CredentialField("secret", _("Secret"), secret=True)),
        frozenset({C.FETCH_ORDERS, C.REPORT_SHIPMENT}),
        "#495057",
    ),
    PlatformSpec(
        "etmall",
        "EtMall",
        AuthKind.CREDENTIALS,
        (
            CredentialField("account", _("Supplier account")),
            CredentialField("password", _("Password"), secret=True),
        ),
        _STD | {C.FIXED_SHIPPING_CODES},
        "#862e9c",
    ),
    PlatformSpec(
        "own_website",
        _("Own website"),
        AuthKind.API_KEY,
        (),
        frozenset(
            {
                C.FETCH_ORDERS,
                C.REALTIME_PUSH,
                C.REPORT_SHIPMENT,
                C.PUSH_STOCK,
                C.SYNC_PRODUCTS,
                C.MANUAL_STOCK_SYNC,
            }
        ),
        "#343a40",
    ),
)

# What people in Taiwan call them, for the EC account search (UNCONFIRMED where a platform has no
# official Chinese name; these are the names its sellers use).
LOCAL_NAMES = {
    "shopline": ("商店網店",),
    "liteshop": ("LiteShop 輕店",),
    "woocommerce": ("WordPress",),
    "yahoo": ("Yahoo奇摩購物中心", "雅虎", "奇摩"),
    "pchome": ("PChome 24h購物", "網家"),
    "moplus": ("MO店+", "momo摩天商城", "摩天商城"),
    "coupang": ("酷澎",),
    "ruten": ("露天拍賣", "露天"),
    "etmall": ("東森購物", "東森"),
    "own_website": ("官網", "自有官網"),
}

UNIMPLEMENTED = tuple(replace(spec, local_names=LOCAL_NAMES.get(spec.code, ())) for spec in _LISTED)
