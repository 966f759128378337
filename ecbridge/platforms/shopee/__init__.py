"""Shopee Open Platform v2 (reference/platforms-global.md §1, platforms-taiwan.md §8)."""

from django.utils.translation import gettext_lazy as _

from ecbridge.platforms.base import AuthKind, PlatformSpec, ShippingCode
from ecbridge.platforms.base import Capability as C

# Taiwan logistics channel ids (platforms-taiwan.md §8). Fixed: the platform decides them.
FIXED_SHIPPING_CODES = (
    ShippingCode("30001", _("黑貓宅急便 (T-Cat home delivery)")),
    ShippingCode("30005", _("7-ELEVEN")),
    ShippingCode("30006", _("FamilyMart (全家)")),
    ShippingCode("30007", _("Hi-Life (萊爾富)")),
    ShippingCode("30011", _("FamilyMart frozen pickup (全家冷凍超取)")),
    ShippingCode("30014", _("OK Mart")),
)

SPEC = PlatformSpec(
    code="shopee",
    name="Shopee",
    auth=AuthKind.OAUTH,
    credential_fields=(),
    capabilities=frozenset(
        {
            C.FETCH_ORDERS,
            C.REALTIME_PUSH,
            C.REPORT_SHIPMENT,
            C.SYNC_PRODUCTS,
            C.PUSH_STOCK,
            C.MANUAL_STOCK_SYNC,
            C.FIXED_SHIPPING_CODES,
            C.REVOKE,
            C.ISSUES_TRACKING,
        }
    ),
    color="#ee4d2d",
    fixed_shipping_codes=FIXED_SHIPPING_CODES,
    local_names=("蝦皮", "蝦皮購物"),
    store_identity=_("Shopee shop ID"),
    client_class="ecbridge.platforms.shopee.client.ShopeeClient",
)
