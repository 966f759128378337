"""momo 購物網 SCM API (reference/platforms-taiwan.md §2A). Field spellings come from a
third-party conversion of the vendor PDF and are UNCONFIRMED; the base URL is a setting."""

from django.utils.translation import gettext_lazy as _

from ecbridge.platforms.base import AuthKind, CredentialField, PlatformSpec, ShippingCode
from ecbridge.platforms.base import Capability as C

# The shipping codes momo orders arrive with (mapping.py: "home" for vendor home delivery, the
# CVS delivery types of unsendStoresQuery, the third_delyGb carriers of unsendThirdQuery), plus the
# carrier names momo accepts on home-delivery confirmation (delyGbStr), kept for existing mappings.
FIXED_SHIPPING_CODES = (
    ShippingCode("home", _("Vendor home delivery (廠商宅配)")),
    ShippingCode("宅配通", _("Pelican (宅配通)")),
    ShippingCode("新竹貨運", _("HCT (新竹貨運)")),
    ShippingCode("統一速達", _("T-Cat (統一速達)")),
    ShippingCode("大榮貨運", _("Kerry TJ (大榮貨運)")),
    ShippingCode("郵局", _("Chunghwa Post (郵局)")),
    ShippingCode("21", _("7-ELEVEN (大智通)")),
    ShippingCode("23", _("便利達康 CVS")),
    ShippingCode("27", _("FamilyMart")),
    ShippingCode("28", _("7-ELEVEN store-to-store")),
    ShippingCode("29", _("FamilyMart store-to-store")),
    ShippingCode("2A", _("OK Mart")),
    ShippingCode("2B", _("Hi-Life")),
    ShippingCode("61", _("Third-party logistics: Pelican (宅配通)")),
    ShippingCode("62", _("Third-party logistics: HCT (新竹)")),
    ShippingCode("63", _("Third-party logistics: T-Cat (宅急便)")),
    ShippingCode("65", _("Third-party logistics: Kerry TJ (大榮)")),
)

SPEC = PlatformSpec(
    code="momo",
    name="momo",
    auth=AuthKind.CREDENTIALS,
    credential_fields=(
        CredentialField(
            "entp_id",
            _("Entp ID (統一編號)"),
            pattern=r"\d{8}",
            pattern_message=_("The Entp ID is the 8-digit company number."),
        ),
        CredentialField(
            "entp_code",
            _("Entp Code (廠商編號)"),
            pattern=r"\d{6}",
            pattern_message=_("The Entp Code is the 6-digit vendor code."),
        ),
        CredentialField(
            "entp_pwd",
            _("Entp Pwd (商店密碼)"),
            secret=True,
            pattern=r".{8,14}",
            pattern_message=_("The SCM password has 8 to 14 characters."),
        ),
        CredentialField(
            "otp_back_no",
            _("OTP Back No"),
            secret=True,
            pattern=r"\d{3}",
            pattern_message=_("The last 3 digits of the OTP token serial number."),
        ),
    ),
    capabilities=frozenset(
        {
            C.FETCH_ORDERS,
            C.REPORT_SHIPMENT,
            C.SYNC_PRODUCTS,
            C.PUSH_STOCK,
            C.STOCK_DELTA,
            C.MANUAL_STOCK_SYNC,
            C.FIXED_SHIPPING_CODES,
            C.IP_ALLOWLIST,
        }
    ),
    color="#d0006f",
    fixed_shipping_codes=FIXED_SHIPPING_CODES,
    local_names=("momo購物網", "富邦momo", "摩天"),
    store_identity=_("momo vendor code (Entp Code)"),
    store_identity_field="entp_code",
    client_class="ecbridge.platforms.momo.client.MomoClient",
)
