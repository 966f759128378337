from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from ecbridge.core import listing
from ecbridge.core.ids import parse_ids
from ecbridge.integrations.models import ECAccount
from ecbridge.notifications.kinds import KIND_LABELS, label
from ecbridge.notifications.models import Notification


@login_required
def notification_list(request):
    """Newest first, filterable by kind and by EC account (stackable, like every list)."""
    base = Notification.objects.for_user(request.user, request.current_merchant)
    accounts = (
        ECAccount.objects.for_user(request.user, request.current_merchant)
        .select_related("merchant")
        .order_by("merchant__name", "display_name")
    )
    multi = request.user.is_multi_merchant
    definitions = [
        ("kind", _("Kind"), [(k, label(k)) for k in KIND_LABELS]),
        (
            "ec_account",
            _("EC Account"),
            [(a.pk, f"{a.merchant.name} · {a.display_name}" if multi else a.display_name) for a in accounts],
        ),
    ]
    filters, chips, selected = listing.filter_bar(request, definitions)
    qs = base
    if selected["kind"]:
        qs = qs.filter(kind__in=selected["kind"])
    if selected["ec_account"]:
        qs = qs.filter(ec_account_id__in=parse_ids(selected["ec_account"]))
    page = Paginator(qs, 25).get_page(request.GET.get("page"))
    unread_ids = set(
        Notification.objects.unread_for(request.user)
        .filter(pk__in=[n.pk for n in page])
        .values_list("pk", flat=True)
    )
    return render(
        request,
        "notifications/list.html",
        {"page": page, "unread_ids": unread_ids, "filters": filters, "active_filters": chips},
    )


@login_required
def dropdown(request):
    items = list(Notification.objects.for_user(request.user)[:8])
    unread_ids = set(Notification.objects.unread_for(request.user).values_list("pk", flat=True)[:100])
    return render(request, "notifications/_dropdown.html", {"items": items, "unread_ids": unread_ids})


@login_required
@require_POST
def mark_all_read(request):
    for notification in Notification.objects.unread_for(request.user):
        notification.read_by.add(request.user)
    target = request.POST.get("next") or ""
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = "notifications:list"
    return redirect(target)
