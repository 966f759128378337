"""What each notification kind means, for the filter on the notifications page."""

from django.utils.translation import gettext_lazy as _

KIND_LABELS = {
    "disconnected": _("Account disconnected"),
    "reconnected": _("Account connected again"),
    "fetch_failed": _("Order fetch failed"),
    "fetch_result": _("Manual order fetch"),
    "unknown_product": _("Unknown product"),
    "product_mapping_sync": _("Product mapping sync"),
    "stock_inbound": _("Inbound push"),
    "stock_manual_sync": _("Manual stock sync"),
    "shipment_report_failed": _("Shipment report failed"),
}


def label(kind: str) -> str:
    return str(KIND_LABELS.get(kind, kind))
