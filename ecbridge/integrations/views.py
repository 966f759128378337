"""EC account pages: list, create, edit, detail, delete, OAuth, concept guide. Thin: the rules
live in integrations.services."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from ecbridge.channels.models import ShippingType
from ecbridge.core import listing
from ecbridge.core.ids import is_id, parse_ids
from ecbridge.integrations import kept_secrets
from ecbridge.integrations.forms import ConnectionForm, MerchantPickForm, SettingsForm, ShippingMappingFormSet
from ecbridge.integrations.models import ConnectionStatus, ECAccount
from ecbridge.integrations.services import (
    connection,
    fetching,
    lifecycle,
    listings,
    mapping_sync,
    stock_sync,
)
from ecbridge.platforms.registry import all_specs, get_spec, implemented_specs

SORT_COLUMNS = [
    listing.SortableColumn("merchant", "merchant__name"),
    listing.SortableColumn("platform", "platform"),
    listing.SortableColumn("display_name", "display_name"),
    listing.SortableColumn("status", "status"),
    listing.SortableColumn("fetch_orders", "fetch_orders_enabled"),
    listing.SortableColumn("inbound_push", "push_percentage"),
    listing.SortableColumn("channel", "sales_channel__name"),
    listing.SortableColumn("updated_at", "updated_at"),
]


def visible_accounts(request):
    return ECAccount.objects.for_user(request.user, request.current_merchant).select_related(
        "merchant", "sales_channel"
    )


def account_or_404(request, pk) -> ECAccount:
    """Another merchant's account is a 404, never a 403: its existence does not leak."""
    return get_object_or_404(
        ECAccount.objects.for_user(request.user).select_related("merchant", "sales_channel"), pk=pk
    )


def filter_accounts(qs, params):
    """Search and stackable filters shared by the page and the API. The search finds a display
    name, or a platform by any of its names (蝦皮, momo購物網, 酷澎…)."""
    term = (params.get("q") or "").strip()
    if term:
        matching_platforms = [code for code, spec in all_specs().items() if spec.matches(term)]
        qs = listing.search(qs, term, ["display_name"]) | qs.filter(platform__in=matching_platforms)
    for param, field in (
        ("display_name", "display_name"),
        ("merchant", "merchant_id"),
        ("platform", "platform"),
        ("status", "status"),
    ):
        values = [v for v in params.getlist(param) if v.strip()]
        if values:
            qs = qs.filter(**{f"{field}__in": parse_ids(values) if field.endswith("_id") else values})
    return qs


@login_required
def account_list(request):
    base = visible_accounts(request)
    qs = filter_accounts(base, request.GET)
    qs, active_sort = listing.sort(qs, request, SORT_COLUMNS, "-updated_at")
    page = listing.paginate(qs, request)
    context = {
        "page": page,
        "sort": active_sort,
        "q": request.GET.get("q", ""),
        "filters": {
            "display_name": listing.multi(request, "display_name"),
            "merchant": listing.multi(request, "merchant"),
            "platform": listing.multi(request, "platform"),
            "status": listing.multi(request, "status"),
        },
        "display_names": sorted(set(base.values_list("display_name", flat=True))),
        "platforms": list(all_specs().values()),
        "statuses": ConnectionStatus.choices,
    }
    return render(request, "integrations/list.html", context)


@login_required
def concept_guide(request):
    return render(request, "integrations/guide.html")


def _pick_merchant(request):
    """Step 0 of create: the merchant. Returns (merchant, response-to-render-instead)."""
    merchants = request.user.merchants()
    merchant_id = request.GET.get("merchant") or request.POST.get("merchant")
    if merchant_id:
        merchant = merchants.filter(pk=merchant_id).first() if is_id(merchant_id) else None
        if merchant is None:
            raise Http404
        return merchant, None
    if merchants.count() == 1:
        return merchants.first(), None
    if request.current_merchant is not None and not request.GET.get("choose"):
        return request.current_merchant, None
    form = MerchantPickForm(user=request.user)
    return None, render(request, "integrations/pick_merchant.html", {"form": form})


def _spec_from_request(request, account=None):
    if account is not None:
        return account.spec
    code = request.POST.get("platform") or request.GET.get("platform")
    if not code:
        return None
    return connection.spec_or_404(code)


def _mapping_formset(data, spec, account):
    initial = (
        [
            {"platform_code": m.platform_code, "shipping_type": m.shipping_type_id}
            for m in account.shipping_mappings.all()
        ]
        if account is not None and account.pk
        else []
    )
    return ShippingMappingFormSet(data, initial=initial, prefix="mappings", form_kwargs={"spec": spec})


def _render_form(
    request,
    *,
    merchant,
    spec,
    account,
    form,
    settings_form=None,
    formset=None,
    test_result=None,
    proof_valid=False,
    status_code=200,
):
    """Render the create/edit page. Without bound settings/mapping forms, the stored values show."""
    settings_form = settings_form or SettingsForm(
        initial=SettingsForm.initial_for(account) if account else {}
    )
    formset = formset or _mapping_formset(None, spec, account)
    unlocked = proof_valid or (account is not None and account.pk and account.settings_unlocked)
    kept_key = form.data.get(kept_secrets.FIELD, "") if form.is_bound else ""
    if kept_key:
        kept_secrets.mark_kept(form, request, spec, form.data)
    context = {
        "merchant": merchant,
        "spec": spec,
        "account": account,
        "form": form,
        "settings_form": settings_form,
        "formset": formset,
        "settings_unlocked": unlocked,
        "test_result": test_result,
        "kept_secrets_field": kept_secrets.FIELD,
        "kept_secrets_key": kept_key,
        "egress_ips": settings.EGRESS_IPS,
        "shipping_types": ShippingType.objects.filter(enabled=True),
        "implemented": implemented_specs(),
        "no_channels": not form.fields["sales_channel"].queryset.exists(),
        "multi_merchant_create": request.user.merchants().count() > 1,
    }
    return render(request, "integrations/form.html", context, status=status_code)


@login_required
def account_create(request):
    merchant, step0 = _pick_merchant(request)
    if step0 is not None:
        return step0
    spec = _spec_from_request(request)
    return _form_view(request, merchant=merchant, spec=spec, account=None)


@login_required
def account_edit(request, pk):
    account = account_or_404(request, pk)
    return _form_view(request, merchant=account.merchant, spec=account.spec, account=account)


def _form_view(request, *, merchant, spec, account):
    data = kept_secrets.fill(request, spec, request.POST) if request.method == "POST" else None
    initial = {}
    if account is not None:
        initial = {
            "platform": account.platform,
            "display_name": account.display_name,
            "sales_channel": account.sales_channel_id,
        }
    elif spec is not None:
        initial = {"platform": spec.code}
    form = ConnectionForm(data, merchant=merchant, spec=spec, account=account, initial=initial)
    settings_form = SettingsForm(data, initial=SettingsForm.initial_for(account) if account else {})
    formset = _mapping_formset(data, spec, account)
    action = request.POST.get("action", "save")

    if request.method != "POST" or action == "choose_platform" or spec is None:
        if form.is_bound:  # a platform was just chosen: nothing was submitted, so no errors yet
            initial.update({k: request.POST.get(k, "") for k in ("display_name", "sales_channel")})
            form = ConnectionForm(merchant=merchant, spec=spec, account=account, initial=initial)
        return _render_form(
            request,
            merchant=merchant,
            spec=spec,
            account=account,
            form=form,
        )

    if not form.is_valid():
        return _render_form(
            request,
            merchant=merchant,
            spec=spec,
            account=account,
            form=form,
            settings_form=settings_form,
            formset=formset,
            # keep the Settings half open after a successful test, or its values are lost
            proof_valid=connection.proof_is_fresh(form.data.get("proof", ""), spec.code, merchant.pk),
            status_code=400,
        )

    typed = form.credentials()
    if action == "test" and not spec.is_oauth:
        return _test_typed_credentials(request, merchant, spec, account, form, typed)

    target = account or ECAccount(merchant=merchant, platform=spec.code, created_by=request.user)
    target.display_name = form.cleaned_data["display_name"]
    target.sales_channel = form.cleaned_data["sales_channel"]
    proof_valid = bool(
        connection.check_proof(
            form.cleaned_data.get("proof", ""),
            spec.code,
            merchant.pk,
            lifecycle.merge_credentials(account, typed)[0],
        )
    )
    will_be_connected = proof_valid or (account is not None and account.is_connected)

    def invalid():
        return _render_form(
            request,
            merchant=merchant,
            spec=spec,
            account=account,
            form=form,
            settings_form=settings_form,
            formset=formset,
            proof_valid=proof_valid,
            status_code=400,
        )

    settings_ok = settings_form.is_valid() if will_be_connected else True
    mappings_ok = formset.is_valid() if will_be_connected else True
    if not (settings_ok and mappings_ok):
        return invalid()
    mappings = (
        [f.cleaned_data for f in formset.forms if f.cleaned_data and not f.cleaned_data.get("DELETE")]
        if will_be_connected
        else None
    )
    try:
        result = lifecycle.save_account(
            target,
            credentials=typed,
            proof=form.cleaned_data.get("proof", ""),
            settings_data=settings_form.settings_data() if will_be_connected else None,
            mappings=mappings,
        )
    except lifecycle.LifecycleError as exc:
        form.add_error(None, str(exc))
        return invalid()
    saved = result.account
    kept_secrets.forget(request)
    for warning in result.warnings:
        messages.warning(request, warning)
    for notice in result.notices:
        messages.info(request, notice)
    if action in ("authorize", "test") and spec.is_oauth:
        return _redirect_to_authorization(request, saved)
    if account is None:
        messages.success(request, _("EC account created."))
    else:
        messages.success(request, _("EC account saved."))
    if saved.status == ConnectionStatus.NOT_VERIFIED:
        messages.info(request, _("The connection is not verified yet: test the connection."))
    return redirect("integrations:detail", pk=saved.pk)


def _test_typed_credentials(request, merchant, spec, account, form, typed):
    merged, changed = lifecycle.merge_credentials(account, typed)
    if account is not None and not changed:
        # Nothing new typed: test what is stored, which updates the account's status now.
        account.display_name = form.cleaned_data["display_name"]
        result = connection.test_account(account)
        proof_valid = result.ok
    else:
        result = connection.test_credentials(
            spec.code, merchant.pk, merged, account_pk=account.pk if account else None
        )
        proof_valid = result.ok
        form.data = form.data.copy()
        if result.ok:
            form.data["proof"] = result.proof
        # kept whether the test passed or not, so the next try needs no retyping
        form.data[kept_secrets.FIELD] = kept_secrets.keep(request, spec, merged) or ""
    return _render_form(
        request,
        merchant=merchant,
        spec=spec,
        account=account,
        form=form,
        test_result=result,
        proof_valid=proof_valid,
    )


@login_required
def account_detail(request, pk):
    account = account_or_404(request, pk)
    spec = account.spec
    mapped_listings, mapped_products = listings.mapped_counts(account)
    return render(
        request,
        "integrations/detail.html",
        {
            "account": account,
            "spec": spec,
            "credentials": account.masked_credentials(),
            "mappings": account.shipping_mappings.select_related("shipping_type"),
            "product_mapping_count": mapped_listings,
            "mapped_product_count": mapped_products,
            "product_mappings_synced_at": account.product_mappings_synced_at,
            "last_fetch": fetching.last_run(account),
            "can_fetch_manually": not fetching.blocked_reason(account),
            "last_mapping_sync": account.product_sync_runs.first(),
            "last_stock_run": account.stock_runs.first(),
            "can_sync_mappings": not mapping_sync.blocked_reason(account),
            "can_sync_stock": not stock_sync.blocked_reason(account),
        },
    )


@login_required
@require_POST
def account_fetch(request, pk):
    """Fetch Orders Manually: queue one fetch now (the schedule is unchanged)."""
    account = account_or_404(request, pk)
    try:
        fetching.request_manual_fetch(account, request.user)
    except (fetching.Cooldown, fetching.FetchNotAllowed) as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Order fetch queued"))
    return redirect("integrations:detail", pk=account.pk)


@login_required
@require_POST
def account_delete(request, pk):
    account = account_or_404(request, pk)
    name = account.display_name
    note = lifecycle.delete_account(account)
    messages.success(request, _("EC account “%(name)s” deleted.") % {"name": name})
    if note:
        messages.info(request, note)
    return redirect("integrations:list")


@login_required
@require_POST
def account_test(request, pk):
    account = account_or_404(request, pk)
    result = connection.test_account(account)
    (messages.success if result.ok else messages.error)(request, result.message)
    return redirect(_next_or(request, "integrations:detail", pk=account.pk))


@login_required
def account_authorize(request, pk):
    """Re-authorize: send the user to the platform's consent page."""
    account = account_or_404(request, pk)
    if not account.spec.is_oauth:
        messages.error(
            request,
            _(
                "%(platform)s connects with the credentials on the edit page, not an authorization: "
                "use Test Connection."
            )
            % {"platform": account.platform_name},
        )
        return redirect("integrations:detail", pk=account.pk)
    return _redirect_to_authorization(request, account)


def _redirect_to_authorization(request, account):
    try:
        return redirect(lifecycle.authorize_url(account, request.user))
    except lifecycle.LifecycleError as exc:
        messages.error(request, str(exc))
        return redirect("integrations:detail", pk=account.pk)


@login_required
@require_POST
def account_revoke(request, pk):
    account = account_or_404(request, pk)
    try:
        url = lifecycle.revoke(account)
    except lifecycle.LifecycleError as exc:
        messages.error(request, str(exc))
        return redirect("integrations:edit", pk=account.pk)
    messages.warning(request, _("Authorization revoked: the account is disconnected and stops fetching."))
    return redirect(url) if url else redirect("integrations:detail", pk=account.pk)


@login_required
def oauth_callback(request, platform):
    try:
        get_spec(platform)
    except LookupError:
        raise Http404 from None
    params = request.GET.dict()
    try:
        state = lifecycle.read_state(params.get("state", ""), request.user)
    except lifecycle.LifecycleError as exc:
        return HttpResponseBadRequest(str(exc))
    account = account_or_404(request, state.account_id)
    if account.platform != platform:
        return HttpResponseBadRequest(_("Invalid authorization state."))
    if not lifecycle.consume_state(account, state):
        # A reloaded callback or an older link: the code was used (or replaced); never exchange
        # it again, which would fail and disconnect a healthy account.
        return render(request, "integrations/oauth_used.html", {"account": account})
    if params.get("error"):
        messages.error(request, _("The platform did not authorize: %(error)s") % {"error": params["error"]})
        return redirect("integrations:edit", pk=account.pk)
    ok, message = lifecycle.complete_authorization(account, params)
    (messages.success if ok else messages.error)(request, message)
    return redirect("integrations:edit" if ok else "integrations:detail", pk=account.pk)


def _next_or(request, name, **kwargs):
    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return reverse(name, kwargs=kwargs)
