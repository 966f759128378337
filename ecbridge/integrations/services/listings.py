"""Several platform listings mapped to one WMS product on one account (docs/stock.md, "One
product, several listings"): exactly one of them, the stock listing, carries the product's
stock; the others are kept at 0, so the platform never offers the same units twice.

Push (increments) goes to the stock listing only; Manual Stock Sync sets the stock listing to the
sellable quantity and every other listing of the product to 0; the mass-zero breaker counts
products, not listings."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Count
from django.utils.translation import gettext as _

from ecbridge.integrations.models import ProductMapping


class NotAStockTarget(Exception):
    """The listing cannot carry stock; ``str()`` is for the person."""


def stock_listings(account_ids, product_ids=None) -> dict[tuple[int, int], ProductMapping]:
    """The stock listing of each (account, product) among the accounts' pushable mappings."""
    rows = ProductMapping.objects.filter(ec_account_id__in=account_ids)
    if product_ids is not None:
        rows = rows.filter(product_id__in=product_ids)
    chosen: dict[tuple[int, int], ProductMapping] = {}
    for mapping in rows.pushable().in_stock_order().select_related("product"):
        chosen.setdefault((mapping.ec_account_id, mapping.product_id), mapping)
    return chosen


def mapped_counts(account) -> tuple[int, int]:
    """(listings, products) that can take stock on the account: the one count the detail page,
    the mapping sync's summary and the stock sync dialog all show."""
    rows = account.product_mappings.pushable()
    return rows.count(), rows.values("product_id").distinct().count()


def listing_counts(account) -> dict[int, int]:
    """product id → how many pushable listings of it the account has (only products listed twice or
    more are returned: those are the ones a person may need to look at)."""
    rows = (
        account.product_mappings.pushable()
        .values("product_id")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .order_by()
    )
    return {row["product_id"]: row["n"] for row in rows}


@transaction.atomic
def make_stock_listing(mapping: ProductMapping) -> ProductMapping:
    """Mark ``mapping`` as the listing that carries its product's stock on its account. The
    platform quantities change at the next push or Manual Stock Sync, not now."""
    if not mapping.platform_item_id:
        raise NotAStockTarget(
            _("This listing is known from orders only: run Sync Product Mappings before it can carry stock.")
        )
    siblings = ProductMapping.objects.select_for_update().filter(
        ec_account_id=mapping.ec_account_id, product_id=mapping.product_id
    )
    list(siblings)  # lock every listing of the product on this account
    siblings.exclude(pk=mapping.pk).filter(is_stock_primary=True).update(is_stock_primary=False)
    ProductMapping.objects.filter(pk=mapping.pk).update(is_stock_primary=True)
    mapping.is_stock_primary = True
    return mapping
