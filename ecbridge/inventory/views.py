"""Pages: products with their stock, inbound receipts and put-away. Thin: the rules live in
inventory.services and inventory.forms. Every lookup is scoped with ``for_user``; a foreign id is
a 404."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Prefetch
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from ecbridge.core import listing
from ecbridge.core.ids import parse_ids
from ecbridge.integrations.models import ConnectionStatus, ECAccount, ProductMapping, StockPush, StockRun
from ecbridge.inventory.forms import ProductForm, ReceiptForm
from ecbridge.inventory.models import InboundReceipt, InventoryType, Product, StockMovement
from ecbridge.inventory.services import receipts as receipt_service
from ecbridge.inventory.services import stock

PRODUCT_SORT = [
    listing.SortableColumn("sku", "sku"),
    listing.SortableColumn("name", "name"),
    listing.SortableColumn("merchant", "merchant__name"),
    listing.SortableColumn("on_hand", "on_hand_total"),
    listing.SortableColumn("reserved", "reserved_total"),
    listing.SortableColumn("sellable", "sellable_total"),
]
RECEIPT_SORT = [
    listing.SortableColumn("reference", "reference"),
    listing.SortableColumn("merchant", "merchant__name"),
    listing.SortableColumn("status", "status"),
    listing.SortableColumn("created_at", "created_at"),
    listing.SortableColumn("completed_at", "completed_at"),
]
MOVEMENTS_SHOWN = 50


def _columns(columns, multi_merchant):
    return columns if multi_merchant else [c for c in columns if c.key != "merchant"]


def _merchant_filter(user, multi_merchant):
    return ("merchant", _("Merchant"), [(m.pk, m.name) for m in user.merchants()] if multi_merchant else None)


def filter_products(qs, *, q: str = "", merchants=()):
    qs = listing.search(qs, q, ["sku", "name", "barcode"])
    if merchants:
        qs = qs.filter(merchant_id__in=list(merchants))
    return qs


# --- products -------------------------------------------------------------------------------------


@login_required
def product_list(request):
    user = request.user
    multi_merchant = user.is_multi_merchant
    definitions = [_merchant_filter(user, multi_merchant)]
    filters, chips, selected = listing.filter_bar(request, [d for d in definitions if d[2] is not None])
    q = request.GET.get("q", "")
    qs = filter_products(
        Product.objects.for_user(user, request.current_merchant),
        q=q,
        merchants=parse_ids(selected.get("merchant", [])),
    )
    qs = stock.with_stock_totals(qs.select_related("merchant"))
    qs, active_sort = listing.sort(qs, request, _columns(PRODUCT_SORT, multi_merchant), "sku")
    return render(
        request,
        "inventory/product_list.html",
        {
            "page": listing.paginate(qs, request),
            "sort": active_sort,
            "q": q,
            "filters": filters,
            "active_filters": chips,
            "show_merchant": multi_merchant,
        },
    )


@login_required
def product_create(request):
    form = ProductForm(request.POST or None, user=request.user, merchant=request.current_merchant)
    if request.method == "POST" and form.is_valid():
        product = form.save()
        if product is not None:
            messages.success(request, _("Product %(product)s created.") % {"product": product})
            return redirect("inventory:product_detail", pk=product.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "inventory/product_form.html", {"form": form}, status=status)


def product_or_404(request, pk) -> Product:
    return get_object_or_404(Product.objects.for_user(request.user).select_related("merchant"), pk=pk)


@login_required
def product_detail(request, pk):
    product = product_or_404(request, pk)
    by_type = {level.inventory_type_id: level for level in product.stock_levels.all()}
    levels = [
        {
            "type": itype,
            "on_hand": by_type[itype.pk].on_hand if itype.pk in by_type else 0,
            "reserved": by_type[itype.pk].reserved if itype.pk in by_type else 0,
            "sellable": by_type[itype.pk].sellable if itype.pk in by_type else 0,
            "exists": itype.pk in by_type,
        }
        for itype in InventoryType.objects.all()
    ]
    mappings: dict[int, list[ProductMapping]] = {}
    for mapping in ProductMapping.objects.filter(product=product).order_by("platform_sku", "pk"):
        mappings.setdefault(mapping.ec_account_id, []).append(mapping)
    accounts = [
        {"account": account, "mappings": mappings.get(account.pk, [])}
        for account in ECAccount.objects.filter(merchant_id=product.merchant_id).order_by(
            "display_name", "pk"
        )
    ]
    movements = (
        StockMovement.objects.filter(product=product)
        .select_related("inventory_type", "created_by")
        .order_by("-created_at", "-id")[:MOVEMENTS_SHOWN]
    )
    return render(
        request,
        "inventory/product_detail.html",
        {
            "product": product,
            "levels": levels,
            "totals": stock.stock_summary([product])[product.pk],
            "accounts": accounts,
            "movements": movements,
            "movements_shown": MOVEMENTS_SHOWN,
            "show_merchant": request.user.is_multi_merchant,
        },
    )


# --- inbound receipts -----------------------------------------------------------------------------


@login_required
def receipt_list(request):
    user = request.user
    multi_merchant = user.is_multi_merchant
    definitions = [
        _merchant_filter(user, multi_merchant),
        ("status", _("Status"), InboundReceipt.Status.choices),
    ]
    filters, chips, selected = listing.filter_bar(request, [d for d in definitions if d[2] is not None])
    q = request.GET.get("q", "")
    qs = listing.search(
        InboundReceipt.objects.for_user(user, request.current_merchant), q, ["reference", "note"]
    )
    if selected.get("merchant"):
        qs = qs.filter(merchant_id__in=parse_ids(selected["merchant"]))
    if selected["status"]:
        qs = qs.filter(status__in=selected["status"])
    qs = qs.select_related("merchant").annotate(lines_count=Count("lines"))
    qs, active_sort = listing.sort(qs, request, _columns(RECEIPT_SORT, multi_merchant), "-created_at")
    return render(
        request,
        "inventory/receipt_list.html",
        {
            "page": listing.paginate(qs, request),
            "sort": active_sort,
            "q": q,
            "filters": filters,
            "active_filters": chips,
            "show_merchant": multi_merchant,
        },
    )


@login_required
def receipt_create(request):
    form = ReceiptForm(request.POST or None, user=request.user, merchant=request.current_merchant)
    if request.method == "POST" and form.is_valid():
        receipt = form.save()
        if receipt is not None:
            messages.success(
                request,
                _(
                    "Inbound receipt “%(reference)s” created. "
                    "Complete the put-away once the goods are shelved."
                )
                % {"reference": receipt.reference},
            )
            return redirect("inventory:receipt_detail", pk=receipt.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "inventory/receipt_form.html", {"form": form}, status=status)


def receipt_or_404(request, pk) -> InboundReceipt:
    return get_object_or_404(
        InboundReceipt.objects.for_user(request.user).select_related(
            "merchant", "created_by", "completed_by"
        ),
        pk=pk,
    )


def push_accounts(receipt):
    """The merchant's accounts an inbound push goes to (Connected, Inbound Push on)."""
    return (
        ECAccount.objects.filter(merchant_id=receipt.merchant_id, status=ConnectionStatus.CONNECTED)
        .push_enabled()
        .order_by("display_name", "pk")
    )


@login_required
def receipt_detail(request, pk):
    receipt = receipt_or_404(request, pk)
    lines = receipt.lines.select_related("product", "inventory_type")
    runs = (
        StockRun.objects.filter(receipt=receipt)
        .select_related("ec_account")
        .prefetch_related(
            Prefetch("pushes", queryset=StockPush.objects.select_related("product").order_by("pk"))
        )
        .order_by("ec_account__display_name", "pk")
    )
    return render(
        request,
        "inventory/receipt_detail.html",
        {
            "receipt": receipt,
            "lines": lines,
            "total_units": sum(line.quantity for line in lines),
            "runs": runs,
            "push_accounts": push_accounts(receipt)
            if receipt.status == InboundReceipt.Status.RECEIVING
            else [],
            "show_merchant": request.user.is_multi_merchant,
        },
    )


@login_required
@require_POST
def receipt_complete(request, pk):
    receipt = receipt_or_404(request, pk)
    try:
        receipt_service.complete_putaway(receipt, request.user)
    except receipt_service.AlreadyCompleted as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            _("Put-away of “%(reference)s” completed: the stock was added and the inbound push was queued.")
            % {"reference": receipt.reference},
        )
    return redirect("inventory:receipt_detail", pk=receipt.pk)
