"""Sales-channel pages. Every lookup goes through the user's merchant scope: a foreign channel is a 404."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ecbridge.channels.forms import MerchantPickForm, SalesChannelForm
from ecbridge.channels.models import SalesChannel, ShippingType
from ecbridge.channels.services import merchant_for_create, save_form, visible_channels
from ecbridge.core.ids import parse_ids
from ecbridge.core.listing import SortableColumn, multi, paginate, search, sort, without

SORT_COLUMNS = [
    SortableColumn("merchant", "merchant__name"),
    SortableColumn("name", "name"),
    SortableColumn("internal_name", "internal_name"),
    SortableColumn("enabled", "enabled"),
    SortableColumn("match_rule", "match_rule"),
    SortableColumn("primary_inventory_type", "primary_inventory_type__name"),
    SortableColumn("default_shipping_type", "default_shipping_type__name"),
    SortableColumn("updated_at", "updated_at"),
]
DEFAULT_SORT = "-updated_at"
ENABLED_CHOICES = [("yes", gettext_lazy("Enabled")), ("no", gettext_lazy("Disabled"))]


def _safe_next(request) -> str:
    """The ``next`` target when it is a URL of this site (never an open redirect), else ''."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return ""


@login_required
def channel_list(request):
    user = request.user
    multi_merchant = user.is_multi_merchant
    base = visible_channels(user, request.current_merchant)
    qs = search(base, request.GET.get("q", ""), ["name", "internal_name"])

    selected = {
        "merchant": multi(request, "merchant") if multi_merchant else [],
        "name": multi(request, "name"),
        "internal_name": multi(request, "internal_name"),
        "enabled": [v for v in multi(request, "enabled") if v in ("yes", "no")],
    }
    if selected["merchant"]:
        qs = qs.filter(merchant_id__in=parse_ids(selected["merchant"]))
    if selected["name"]:
        qs = qs.filter(name__in=selected["name"])
    if selected["internal_name"]:
        qs = qs.filter(internal_name__in=selected["internal_name"])
    if len(selected["enabled"]) == 1:
        qs = qs.filter(enabled=selected["enabled"][0] == "yes")

    columns = SORT_COLUMNS if multi_merchant else [c for c in SORT_COLUMNS if c.key != "merchant"]
    qs, active_sort = sort(qs, request, columns, DEFAULT_SORT)
    page = paginate(qs, request)

    def distinct(field):
        return list(base.exclude(**{field: ""}).order_by(field).values_list(field, flat=True).distinct())

    merchant_choices = [(str(m.pk), m.name) for m in user.merchants()] if multi_merchant else []
    filters = [
        ("merchant", _("Merchant"), merchant_choices),
        ("name", _("Channel Name"), [(n, n) for n in distinct("name")]),
        ("internal_name", _("Internal Name"), [(n, n) for n in distinct("internal_name")]),
        ("enabled", _("Enabled"), [(k, str(v)) for k, v in ENABLED_CHOICES]),
    ]
    filters = [
        {"param": param, "label": label, "choices": choices, "selected": selected[param]}
        for param, label, choices in filters
        if param != "merchant" or multi_merchant
    ]
    active_filters = []
    for f in filters:
        labels = dict(f["choices"])
        for value in f["selected"]:
            active_filters.append(
                {
                    "label": f["label"],
                    "value": labels.get(value, value),
                    "remove_url": without(request, f["param"], value),
                }
            )

    return render(
        request,
        "channels/list.html",
        {
            "page": page,
            "sort": active_sort,
            "q": request.GET.get("q", ""),
            "filters": filters,
            "active_filters": active_filters,
            "show_merchant": multi_merchant,
        },
    )


@login_required
def channel_create(request):
    next_url = _safe_next(request)
    merchant = merchant_for_create(request.user, request.GET.get("merchant") or request.POST.get("merchant"))
    if merchant is None:
        # Step 0: an operator or admin with several merchants picks the merchant first.
        initial = {"merchant": request.current_merchant} if request.current_merchant else {}
        pick_form = MerchantPickForm(user=request.user, initial=initial)
        return render(
            request,
            "channels/pick_merchant.html",
            {
                "pick_form": pick_form,
                "next_url": next_url,
                "has_merchants": request.user.merchants().exists(),
            },
        )

    form = SalesChannelForm(request.POST or None, merchant=merchant)
    if request.method == "POST" and form.is_valid():
        channel = save_form(form)
        if channel is not None:
            messages.success(request, _("Sales channel “%(name)s” created.") % {"name": channel.name})
            return redirect(next_url or reverse("channels:detail", args=[channel.pk]))
    return render(
        request,
        "channels/form.html",
        {
            "form": form,
            "merchant": merchant,
            "creating": True,
            "can_change_merchant": request.user.is_multi_merchant,
            "next_url": next_url,
            "cancel_url": next_url or reverse("channels:list"),
        },
    )


@login_required
def channel_edit(request, pk):
    channel = get_object_or_404(visible_channels(request.user), pk=pk)
    form = SalesChannelForm(request.POST or None, instance=channel)
    if request.method == "POST" and form.is_valid():
        saved = save_form(form)
        if saved is not None:
            messages.success(request, _("Sales channel “%(name)s” saved.") % {"name": saved.name})
            return redirect("channels:detail", pk=saved.pk)
    # An invalid form has written its input onto the instance; show the stored name in the title.
    stored = SalesChannel.objects.only("name").get(pk=channel.pk)
    return render(
        request,
        "channels/form.html",
        {
            "form": form,
            "channel": stored,
            "merchant": channel.merchant,
            "creating": False,
            "cancel_url": reverse("channels:detail", args=[channel.pk]),
        },
    )


def _account_url(pk) -> str:
    try:
        return reverse("integrations:detail", args=[pk])
    except NoReverseMatch:
        return f"/ec-accounts/{pk}/"


@login_required
def channel_detail(request, pk):
    channel = get_object_or_404(visible_channels(request.user), pk=pk)
    accounts = []
    for account in channel.ec_accounts.order_by("display_name", "pk"):
        try:
            platform_name, color = str(account.spec.name), account.spec.color
        except LookupError:
            platform_name, color = account.platform, "#6c757d"
        accounts.append(
            {
                "account": account,
                "platform_name": platform_name,
                "color": color,
                "url": _account_url(account.pk),
            }
        )
    return render(
        request,
        "channels/detail.html",
        {"channel": channel, "accounts": accounts, "show_merchant": request.user.is_multi_merchant},
    )


@login_required
def shipping_types(request):
    """Read-only: the warehouse admin manages shipping types in the Django admin."""
    types = ShippingType.objects.all()
    admin_url = ""
    if request.user.is_staff and request.user.has_perm("channels.change_shippingtype"):
        admin_url = reverse("admin:channels_shippingtype_changelist")
    return render(request, "channels/shipping_types.html", {"types": types, "admin_url": admin_url})
