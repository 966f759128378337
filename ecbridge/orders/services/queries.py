"""Order and unknown-product queries shared by the pages and the REST API: search, stackable
filters, sortable columns, and the unknown-product counts (pending orders, total quantity)."""

from __future__ import annotations

from django.db.models import Count, IntegerField, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce

from ecbridge.core import listing
from ecbridge.orders.models import Hold, OrderLine

ORDER_SORT = [
    listing.SortableColumn("ordered_at", "platform_created_at"),
    listing.SortableColumn("order_number", "order_number"),
    listing.SortableColumn("status", "status"),
    listing.SortableColumn("merchant", "merchant__name"),
    listing.SortableColumn("ec_account", "ec_account__display_name"),
]
UNKNOWN_SORT = [
    listing.SortableColumn("identifier", "identifier"),
    listing.SortableColumn("sku", "platform_sku"),
    listing.SortableColumn("merchant", "merchant__name"),
    listing.SortableColumn("platform", "platform"),
    listing.SortableColumn("ec_account", "ec_account__display_name"),
    listing.SortableColumn("pending_orders", "pending_orders"),
    listing.SortableColumn("total_quantity", "total_quantity"),
    listing.SortableColumn("created_at", "created_at"),
]


def filter_orders(
    qs,
    *,
    q: str = "",
    merchants=(),
    platforms=(),
    accounts=(),
    statuses=(),
    on_hold: bool | None = None,
    needs_attention: bool | None = None,
):
    """Search (order number, platform order id, tracking number) and stackable filters."""
    term = (q or "").strip()
    if term:
        qs = qs.filter(
            Q(order_number__icontains=term)
            | Q(platform_order_id__icontains=term)
            | Q(tracking_number__icontains=term)
        )
    if merchants:
        qs = qs.filter(merchant_id__in=list(merchants))
    if platforms:
        qs = qs.filter(platform__in=list(platforms))
    if accounts:
        qs = qs.filter(ec_account_id__in=list(accounts))
    if statuses:
        qs = qs.filter(status__in=list(statuses))
    if on_hold is not None:
        qs = qs.filter(on_hold=on_hold)
    if needs_attention is not None:
        qs = qs.filter(needs_attention=needs_attention)
    return qs


def with_unknown_counts(qs):
    """Annotate ``pending_orders`` (distinct orders held for an unknown product with a line of this
    one) and ``total_quantity`` (units on its lines). Subqueries, so the two never multiply."""
    pending = (
        OrderLine.objects.filter(
            unknown_product=OuterRef("pk"),
            order__holds__reason=Hold.Reason.UNKNOWN_PRODUCT,
            order__holds__released_at__isnull=True,
        )
        .order_by()
        .values("unknown_product")
        .annotate(c=Count("order", distinct=True))
        .values("c")
    )
    quantity = (
        OrderLine.objects.filter(unknown_product=OuterRef("pk"))
        .order_by()
        .values("unknown_product")
        .annotate(s=Sum("quantity"))
        .values("s")
    )
    return qs.annotate(
        pending_orders=Coalesce(Subquery(pending, output_field=IntegerField()), 0),
        total_quantity=Coalesce(Subquery(quantity, output_field=IntegerField()), 0),
    )


def filter_unknown_products(qs, *, q: str = "", skus=(), merchants=(), platforms=(), accounts=()):
    term = (q or "").strip()
    if term:
        qs = listing.search(qs, term, ["identifier", "platform_sku", "name", "barcode"])
    if skus:
        match = Q()
        for sku in skus:
            match |= Q(platform_sku__iexact=sku)
        qs = qs.filter(match)
    if merchants:
        qs = qs.filter(merchant_id__in=list(merchants))
    if platforms:
        qs = qs.filter(platform__in=list(platforms))
    if accounts:
        qs = qs.filter(ec_account_id__in=list(accounts))
    return qs
