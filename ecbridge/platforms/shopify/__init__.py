"""Shopify Admin GraphQL API (reference/platforms-global.md §2)."""

from django.utils.translation import gettext_lazy as _

from ecbridge.platforms.base import AuthKind, CredentialField, PlatformSpec
from ecbridge.platforms.base import Capability as C

SHOP_DOMAIN_PATTERN = r"[a-zA-Z0-9][a-zA-Z0-9-]*\.myshopify\.com"

SPEC = PlatformSpec(
    code="shopify",
    name="Shopify",
    auth=AuthKind.OAUTH,
    credential_fields=(
        CredentialField(
            "shop_domain",
            _("Store domain"),
            secret=False,
            pattern=SHOP_DOMAIN_PATTERN,
            pattern_message=_("Enter the store's myshopify domain, e.g. acme.myshopify.com."),
            help_text=_("The store's myshopify.com domain."),
        ),
    ),
    capabilities=frozenset(
        {
            C.FETCH_ORDERS,
            C.REALTIME_PUSH,
            C.REPORT_SHIPMENT,
            C.SYNC_PRODUCTS,
            C.PUSH_STOCK,
            C.STOCK_DELTA,
            C.MANUAL_STOCK_SYNC,
            C.REVOKE,
        }
    ),
    color="#5e8e3e",
    local_names=("Shopify 商店",),
    store_identity=_("Shopify store domain"),
    store_identity_field="shop_domain",
    client_class="ecbridge.platforms.shopify.client.ShopifyClient",
)
