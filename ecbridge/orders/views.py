"""Pages: orders, unknown products (Confirm Mapping) and holds (batch release). Thin: the rules live
in orders.services (holds, mapping). Every lookup is scoped with ``for_user``; a foreign id is a 404."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from ecbridge.core import listing
from ecbridge.core.ids import parse_ids
from ecbridge.integrations.models import ECAccount, ShipmentReport
from ecbridge.inventory.models import Product
from ecbridge.orders.forms import ConfirmMappingForm, ReleaseHoldsForm, UnknownProductSearchForm, split_skus
from ecbridge.orders.models import Hold, Order, OrderLine, UnknownProduct
from ecbridge.orders.services import holds as hold_service
from ecbridge.orders.services import mapping as mapping_service
from ecbridge.orders.services.queries import (
    ORDER_SORT,
    UNKNOWN_SORT,
    filter_orders,
    filter_unknown_products,
    with_unknown_counts,
)
from ecbridge.platforms.registry import platform_choices

YES_NO = [("yes", gettext_lazy("Yes")), ("no", gettext_lazy("No"))]

HOLD_SORT = [
    listing.SortableColumn("created_at", "created_at"),
    listing.SortableColumn("reason", "reason"),
    listing.SortableColumn("order", "order__order_number"),
    listing.SortableColumn("merchant", "order__merchant__name"),
    listing.SortableColumn("released_at", "released_at"),
]
HOLD_STATES = [
    ("active", gettext_lazy("Active")),
    ("released", gettext_lazy("Released")),
    ("all", gettext_lazy("All")),
]


# --- request parsing (also used by orders.api) ---------------------------------------------------


def _flag(values) -> bool | None:
    """yes/no filter: one value narrows, none or both do not."""
    chosen = {v for v in values if v in ("yes", "no")}
    return (chosen == {"yes"}) if len(chosen) == 1 else None


def _columns(columns, multi_merchant):
    return columns if multi_merchant else [c for c in columns if c.key != "merchant"]


def _safe_next(request, fallback: str) -> str:
    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


def _account_choices(accounts, multi_merchant):
    return [
        (a.pk, f"{a.merchant.name} · {a.display_name}" if multi_merchant else a.display_name)
        for a in accounts
    ]


# --- orders -------------------------------------------------------------------------------------


@login_required
def order_list(request):
    user = request.user
    multi_merchant = user.is_multi_merchant
    accounts = list(
        ECAccount.objects.for_user(user, request.current_merchant)
        .select_related("merchant")
        .order_by("merchant__name", "display_name")
    )
    platform_codes = sorted({a.platform for a in accounts})
    names = dict(platform_choices(implemented_only=False))
    definitions = [
        ("merchant", _("Merchant"), [(m.pk, m.name) for m in user.merchants()] if multi_merchant else None),
        ("platform", _("E-commerce Platform"), [(c, names.get(c, c)) for c in platform_codes]),
        ("ec_account", _("EC Account"), _account_choices(accounts, multi_merchant)),
        ("status", _("Status"), Order.Status.choices),
        ("on_hold", _("On Hold"), YES_NO),
        ("needs_attention", _("Needs Attention"), YES_NO),
    ]
    filters, chips, selected = listing.filter_bar(request, [d for d in definitions if d[2] is not None])
    q = request.GET.get("q", "")
    qs = filter_orders(
        Order.objects.for_user(user, request.current_merchant),
        q=q,
        merchants=parse_ids(selected.get("merchant", [])),
        platforms=selected["platform"],
        accounts=parse_ids(selected["ec_account"]),
        statuses=selected["status"],
        on_hold=_flag(selected["on_hold"]),
        needs_attention=_flag(selected["needs_attention"]),
    )
    qs = qs.select_related("merchant", "ec_account", "shipping_type").annotate(lines_count=Count("lines"))
    qs, active_sort = listing.sort(qs, request, _columns(ORDER_SORT, multi_merchant), "-ordered_at")
    return render(
        request,
        "orders/order_list.html",
        {
            "page": listing.paginate(qs, request),
            "sort": active_sort,
            "q": q,
            "filters": filters,
            "active_filters": chips,
            "show_merchant": multi_merchant,
        },
    )


def order_or_404(request, pk) -> Order:
    return get_object_or_404(
        Order.objects.for_user(request.user).select_related(
            "merchant", "ec_account", "sales_channel", "shipping_type"
        ),
        pk=pk,
    )


@login_required
def order_detail(request, pk):
    order = order_or_404(request, pk)
    lines = order.lines.select_related("product", "unknown_product")
    order_holds = order.holds.select_related("created_by", "released_by")
    active = [h for h in order_holds if h.released_at is None]
    released = [h for h in order_holds if h.released_at is not None]
    reports = ShipmentReport.objects.filter(order=order).prefetch_related("attempt_log")
    return render(
        request,
        "orders/order_detail.html",
        {
            "order": order,
            "lines": lines,
            "active_holds": active,
            "released_holds": released,
            "shipment_reports": reports,
            "release_form": ReleaseHoldsForm(),
        },
    )


# --- unknown products ---------------------------------------------------------------------------


@login_required
def unknown_list(request):
    user = request.user
    multi_merchant = user.is_multi_merchant
    accounts = list(
        ECAccount.objects.for_user(user, request.current_merchant)
        .select_related("merchant")
        .order_by("merchant__name", "display_name")
    )
    names = dict(platform_choices(implemented_only=False))
    definitions = [
        ("merchant", _("Merchant"), [(m.pk, m.name) for m in user.merchants()] if multi_merchant else None),
        (
            "platform",
            _("E-commerce Platform"),
            [(c, names.get(c, c)) for c in sorted({a.platform for a in accounts})],
        ),
        ("ec_account", _("EC Account"), _account_choices(accounts, multi_merchant)),
    ]
    filters, chips, selected = listing.filter_bar(request, [d for d in definitions if d[2] is not None])
    search_form = UnknownProductSearchForm(request.GET or None)
    q = request.GET.get("q", "")
    skus = split_skus(request.GET.get("skus", ""))
    qs = filter_unknown_products(
        UnknownProduct.objects.for_user(user, request.current_merchant),
        q=q,
        skus=skus,
        merchants=parse_ids(selected.get("merchant", [])),
        platforms=selected["platform"],
        accounts=parse_ids(selected["ec_account"]),
    )
    qs = with_unknown_counts(qs.select_related("merchant", "ec_account"))
    qs, active_sort = listing.sort(qs, request, _columns(UNKNOWN_SORT, multi_merchant), "-created_at")
    return render(
        request,
        "orders/unknown_list.html",
        {
            "page": listing.paginate(qs, request),
            "sort": active_sort,
            "q": q,
            "skus": request.GET.get("skus", ""),
            "sku_count": len(skus),
            "search_form": search_form,
            "filters": filters,
            "active_filters": chips,
            "show_merchant": multi_merchant,
        },
    )


def unknown_or_404(request, pk) -> UnknownProduct:
    return get_object_or_404(
        with_unknown_counts(
            UnknownProduct.objects.for_user(request.user).select_related("merchant", "ec_account")
        ),
        pk=pk,
    )


def _product_search(unknown, term: str):
    """Products of the unknown product's merchant matching SKU, name or barcode."""
    qs = Product.objects.filter(merchant_id=unknown.merchant_id)
    term = (term or "").strip()
    if term:
        return listing.search(qs, term, ["sku", "name", "barcode"])[:25]
    match = Q(pk__in=[])
    if unknown.platform_sku:
        match |= Q(sku__iexact=unknown.platform_sku)
    if unknown.barcode:
        match |= Q(barcode__iexact=unknown.barcode)
    return qs.filter(match)[:25]


@login_required
def unknown_detail(request, pk):
    unknown = unknown_or_404(request, pk)
    product_q = request.GET.get("product_q", "")
    chosen = None
    form = ConfirmMappingForm(user=request.user)
    if request.GET.get("product"):
        form = ConfirmMappingForm({"product": request.GET["product"]}, user=request.user)
        if form.is_valid():
            chosen = form.cleaned_data["product"]
            if chosen.merchant_id != unknown.merchant_id:
                form.add_error(
                    "product",
                    _("The product belongs to another merchant: pick a product of this merchant."),
                )
                chosen = None
    return _render_unknown(request, unknown, form=form, chosen=chosen, product_q=product_q)


def _render_unknown(request, unknown, *, form, chosen, product_q, status=200):
    lines = (
        OrderLine.objects.filter(unknown_product=unknown)
        .select_related("order")
        .order_by("-order__platform_created_at", "id")
    )
    return render(
        request,
        "orders/unknown_detail.html",
        {
            "unknown": unknown,
            "lines": lines,
            "product_q": product_q,
            "products": _product_search(unknown, product_q),
            "form": form,
            "chosen": chosen,
            "preview": mapping_service.preview(unknown) if chosen else None,
        },
        status=status,
    )


@login_required
@require_POST
def unknown_map(request, pk):
    unknown = unknown_or_404(request, pk)
    form = ConfirmMappingForm(request.POST, user=request.user)
    if not form.is_valid():
        return _render_unknown(request, unknown, form=form, chosen=None, product_q="", status=400)
    product = form.cleaned_data["product"]
    try:
        result = mapping_service.confirm_mapping(unknown, product, request.user)
    except mapping_service.MappingError as exc:
        form.add_error("product", str(exc))
        return _render_unknown(request, unknown, form=form, chosen=None, product_q="", status=400)
    released = ngettext("%(count)d order released", "%(count)d orders released", result.orders_released) % {
        "count": result.orders_released
    }
    held = ngettext("%(count)d still on hold", "%(count)d still on hold", result.orders_still_held) % {
        "count": result.orders_still_held
    }
    messages.success(
        request,
        _("Mapping confirmed: %(identifier)s → %(product)s. %(released)s, %(held)s.")
        % {"identifier": unknown.identifier, "product": product, "released": released, "held": held},
    )
    if not result.is_stock_listing:
        messages.info(
            request,
            _(
                "%(product)s is already listed on this account as %(listing)s, which carries its stock: "
                "this listing is kept at 0 so the same units are not offered twice. To move the stock "
                "here, make it the stock listing on the account's product mappings page."
            )
            % {"product": product, "listing": result.stock_listing_sku or "—"},
        )
    return redirect("orders:unknown_list")


# --- holds --------------------------------------------------------------------------------------


@login_required
def hold_list(request):
    user = request.user
    multi_merchant = user.is_multi_merchant
    state = request.GET.get("state", "active")
    if state not in dict(HOLD_STATES):
        state = "active"
    definitions = [
        ("merchant", _("Merchant"), [(m.pk, m.name) for m in user.merchants()] if multi_merchant else None),
        ("reason", _("Reason"), Hold.Reason.choices),
    ]
    filters, chips, selected = listing.filter_bar(request, [d for d in definitions if d[2] is not None])
    qs = Hold.objects.for_user(user, request.current_merchant)
    if state == "active":
        qs = qs.filter(released_at__isnull=True)
    elif state == "released":
        qs = qs.filter(released_at__isnull=False)
    q = request.GET.get("q", "")
    qs = listing.search(qs, q, ["order__order_number"])
    if selected.get("merchant"):
        qs = qs.filter(order__merchant_id__in=parse_ids(selected["merchant"]))
    if selected["reason"]:
        qs = qs.filter(reason__in=selected["reason"])
    qs = qs.select_related("order", "order__merchant", "created_by", "released_by")
    qs, active_sort = listing.sort(qs, request, _columns(HOLD_SORT, multi_merchant), "-created_at")
    return render(
        request,
        "orders/hold_list.html",
        {
            "page": listing.paginate(qs, request),
            "sort": active_sort,
            "q": q,
            "state": state,
            "states": HOLD_STATES,
            "filters": filters,
            "active_filters": chips,
            "show_merchant": multi_merchant,
            "release_form": ReleaseHoldsForm(),
        },
    )


@login_required
@require_POST
def holds_release(request):
    """Release the selected holds. Every id must be a hold the user may see (else 404); holds
    already released are skipped."""
    fallback = reverse("orders:hold_list")
    form = ReleaseHoldsForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect(_safe_next(request, fallback))
    ids = form.cleaned_data["hold"]
    visible = Hold.objects.for_user(request.user).filter(pk__in=ids)
    if visible.count() != len(ids):
        raise Http404
    count = hold_service.release_holds(visible.active(), user=request.user, note=form.cleaned_data["note"])
    if count:
        messages.success(
            request,
            ngettext("%(count)d hold released.", "%(count)d holds released.", count) % {"count": count},
        )
    else:
        messages.info(request, _("The selected holds were already released."))
    return redirect(_safe_next(request, fallback))
