"""Pages of an account's stock side: Sync Product Mappings, Manual Stock Sync (with its red
confirmation and the mass-zero second confirmation), the mapping list and a push run's results.
Rules live in services (mapping_sync, stock_sync, pushing); these views only translate them."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from ecbridge.core import listing
from ecbridge.integrations.services import listings, mapping_sync, stock_sync
from ecbridge.integrations.views import account_or_404


@login_required
@require_POST
def sync_mappings(request, pk):
    account = account_or_404(request, pk)
    try:
        _run, created = mapping_sync.request_sync(account, request.user)
    except mapping_sync.SyncNotAvailable as exc:
        messages.error(request, str(exc))
    else:
        if created:
            messages.success(
                request,
                _("Product mapping sync queued. The result appears in the notifications at the top right."),
            )
        else:
            messages.info(request, _("A product mapping sync of this account is already queued or running."))
    return redirect("integrations:detail", pk=account.pk)


def _confirm_zero_count(request) -> int | None:
    try:
        return int(request.POST.get("confirm_zero_count", ""))
    except ValueError:
        return None


@login_required
def manual_stock_sync(request, pk):
    """GET: the second confirmation (mass zero) page. POST: queue the sync if confirmed."""
    account = account_or_404(request, pk)
    if request.method == "POST":
        try:
            run = stock_sync.request_stock_sync(
                account,
                request.user,
                confirm=request.POST.get("confirm") == "1",
                confirm_zero_count=_confirm_zero_count(request),
            )
        except stock_sync.MassZeroNeedsConfirmation as exc:
            return render(
                request,
                "integrations/stock_sync_zero.html",
                {
                    "account": account,
                    "zero_count": exc.zero_count,
                    "total": exc.total,
                    "extra_listings": exc.extra_listings,
                },
                status=409,
            )
        except stock_sync.StockSyncError as exc:
            messages.error(request, str(exc))
            return redirect("integrations:detail", pk=account.pk)
        messages.success(
            request,
            _("Manual stock sync queued for %(count)d listings. The result appears in the notifications.")
            % {"count": run.pushes.count()},
        )
        return redirect("integrations:stock_run", pk=account.pk, run_id=run.pk)
    return redirect("integrations:detail", pk=account.pk)


@login_required
def stock_run(request, pk, run_id):
    account = account_or_404(request, pk)
    run = get_object_or_404(account.stock_runs.select_related("receipt"), pk=run_id)
    pushes = listing.paginate(
        run.pushes.select_related("product").order_by("status", "platform_sku", "pk"), request, 100
    )
    return render(request, "integrations/stock_run.html", {"account": account, "run": run, "page": pushes})


@login_required
@require_POST
def retry_stock_run(request, pk, run_id):
    account = account_or_404(request, pk)
    run = get_object_or_404(account.stock_runs, pk=run_id)
    try:
        count = stock_sync.retry_failed(run, request.user)
    except stock_sync.StockSyncError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            ngettext("%(count)d failed SKU is sent again.", "%(count)d failed SKUs are sent again.", count)
            % {"count": count},
        )
    return redirect("integrations:stock_run", pk=account.pk, run_id=run.pk)


@login_required
def product_mappings(request, pk):
    account = account_or_404(request, pk)
    qs = account.product_mappings.select_related("product")
    term = (request.GET.get("q") or "").strip()
    if term:
        qs = listing.search(qs, term, ["platform_sku", "platform_name", "product__sku", "product__name"])
    listed_twice = listings.listing_counts(account)
    only_twice = request.GET.get("listed") == "several"
    if only_twice:  # grouped by product, so the listings of one product sit together
        qs = qs.filter(product_id__in=listed_twice).order_by("product__sku", "-is_stock_primary", "pk")
    else:
        qs = qs.order_by("platform_sku", "pk")
    page = listing.paginate(qs, request, 50)
    on_page = {m.product_id for m in page if m.product_id in listed_twice}
    chosen = listings.stock_listings([account.pk], on_page) if on_page else {}
    for m in page:
        m.listings_of_product = listed_twice.get(m.product_id, 1)
        m.carries_stock = m.listings_of_product == 1 or chosen.get((account.pk, m.product_id)) == m
    return render(
        request,
        "integrations/product_mappings.html",
        {
            "account": account,
            "page": page,
            "q": term,
            "only_twice": only_twice,
            "products_listed_twice": len(listed_twice),
            "last_sync": account.product_sync_runs.first(),
        },
    )


@login_required
@require_POST
def make_stock_listing(request, pk, mapping_id):
    account = account_or_404(request, pk)
    mapping = get_object_or_404(account.product_mappings.select_related("product"), pk=mapping_id)
    try:
        listings.make_stock_listing(mapping)
    except listings.NotAStockTarget as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            _(
                "%(listing)s now carries the stock of %(product)s on this account; its other listings are "
                "set to 0 at the next Manual Stock Sync."
            )
            % {"listing": mapping.platform_sku or mapping.platform_item_id, "product": mapping.product},
        )
    return redirect(f"{reverse('integrations:product_mappings', args=[account.pk])}?listed=several")
