"""Creating and changing sales channels. Pages and the API both come through here, and both validate
with :class:`SalesChannelForm`, so the rules cannot drift apart."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.forms.utils import ErrorDict
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from ecbridge.channels.forms import SalesChannelForm, duplicate_name_message
from ecbridge.channels.models import SalesChannel
from ecbridge.core.ids import is_id
from ecbridge.tenancy.models import Merchant


class ChannelInvalid(Exception):
    """The input breaks a channel rule.

    ``errors`` maps a field name (or ``__all__``) to ``[{"message": ..., "code": ...}]``, the shape of
    Django's ``ErrorDict.get_json_data()``."""

    def __init__(self, errors: dict[str, list[dict]]):
        self.errors = errors
        super().__init__(self.summary())

    def summary(self) -> str:
        return " ".join(str(e["message"]) for messages in self.errors.values() for e in messages)


def visible_channels(user, merchant=None):
    """The channels ``user`` may see (a foreign channel simply is not there: 404 for callers)."""
    return SalesChannel.objects.for_user(user, merchant).select_related(
        "merchant", "primary_inventory_type", "secondary_inventory_type", "default_shipping_type"
    )


def merchant_for_create(user, merchant_id) -> Merchant | None:
    """The merchant a new channel will belong to.

    A requested merchant must be one the user manages (else 404, the same answer as for a foreign
    object). Without a request, a user with exactly one merchant gets it implicitly; a user with
    several gets ``None`` and must pick first."""
    merchants = user.merchants()
    if merchant_id not in (None, ""):
        merchant = merchants.filter(pk=int(merchant_id)).first() if is_id(merchant_id) else None
        if merchant is None:
            raise Http404("No such merchant.")
        return merchant
    if merchants.count() == 1:
        return merchants.get()
    return None


def save_form(form: SalesChannelForm) -> SalesChannel | None:
    """Save a valid form; a concurrent duplicate name becomes a form error instead of a 500."""
    try:
        with transaction.atomic():
            return form.save()
    except IntegrityError:
        name = form.cleaned_data.get("name", "")
        others = SalesChannel.objects.filter(merchant=form.merchant, name=name)
        if form.instance.pk:
            others = others.exclude(pk=form.instance.pk)
        if not others.exists():
            raise
        form.add_error("name", duplicate_name_message(name))
        return None


def form_data(channel: SalesChannel) -> dict:
    """A channel's current values in the shape the form accepts (reference data by code)."""
    return {
        "name": channel.name,
        "internal_name": channel.internal_name,
        "enabled": channel.enabled,
        "match_rule": channel.match_rule,
        "primary_inventory_type": channel.primary_inventory_type.code
        if channel.primary_inventory_type_id
        else "",
        "secondary_inventory_type": channel.secondary_inventory_type.code
        if channel.secondary_inventory_type_id
        else "",
        "same_expiry": channel.same_expiry,
        "expiry_control": channel.expiry_control,
        "expiry_days": channel.expiry_days,
        "expiry_days_overseas": channel.expiry_days_overseas,
        "expiry_ratio": channel.expiry_ratio,
        "expiry_ratio_overseas": channel.expiry_ratio_overseas,
        "default_shipping_type": channel.default_shipping_type.code
        if channel.default_shipping_type_id
        else "",
    }


def _clean_changes(changes: dict) -> dict:
    """API values → form values: ``None`` clears a field, booleans stay booleans."""
    return {key: ("" if value is None else value) for key, value in changes.items()}


def _errors(form: SalesChannelForm) -> dict[str, list[dict]]:
    errors: ErrorDict = form.errors
    return errors.get_json_data()


def create_channel(merchant: Merchant, values: dict) -> SalesChannel:
    """Create a channel for ``merchant`` from API values; unset fields take the model defaults."""
    data = form_data(SalesChannel(merchant=merchant)) | _clean_changes(values)
    form = SalesChannelForm(data=data, merchant=merchant)
    if not form.is_valid():
        raise ChannelInvalid(_errors(form))
    channel = save_form(form)
    if channel is None:
        raise ChannelInvalid(_errors(form))
    return channel


def update_channel(channel: SalesChannel, changes: dict) -> SalesChannel:
    """Apply a partial change; fields not given keep their values. The merchant never changes."""
    if "merchant" in changes:
        requested = changes.pop("merchant")
        if requested is not None and requested != channel.merchant_id:
            message = str(_("The merchant of a sales channel cannot be changed."))
            raise ChannelInvalid({"merchant": [{"message": message, "code": "merchant_locked"}]})
    data = form_data(channel) | _clean_changes(changes)
    form = SalesChannelForm(data=data, instance=channel)
    if not form.is_valid():
        raise ChannelInvalid(_errors(form))
    saved = save_form(form)
    if saved is None:
        raise ChannelInvalid(_errors(form))
    return saved
