"""Forms of the orders pages: releasing holds, confirming a product mapping, searching unknown SKUs."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from ecbridge.core.forms import IdModelChoiceField
from ecbridge.inventory.models import Product
from ecbridge.orders.services import shipping


class IdListField(forms.Field):
    """A repeated parameter of positive integer ids (?hold=1&hold=2); bad values are an error."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value):
        if not value:
            return []
        values = value if isinstance(value, (list, tuple)) else [value]
        ids = []
        for raw in values:
            raw = str(raw).strip()
            if not raw.isdigit():
                raise ValidationError(_("Invalid selection."), code="invalid")
            ids.append(int(raw))
        return sorted(set(ids))


class ReleaseHoldsForm(forms.Form):
    hold = IdListField(required=True, error_messages={"required": _("Select at least one hold to release.")})
    note = forms.CharField(
        label=_("Resolution note"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Optional: why the hold is released, kept with the hold."),
    )


class ConfirmMappingForm(forms.Form):
    """The product to map an unknown product to. Only products the user may see are valid
    choices; a visible product of another merchant is rejected by services.mapping with a clear
    message (an invisible one is just "not a valid choice", so it does not leak)."""

    product = IdModelChoiceField(
        label=_("WMS product"),
        queryset=Product.objects.none(),
        error_messages={"invalid_choice": _("Select a valid product.")},
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["product"].queryset = Product.objects.for_user(user)


class UnknownProductSearchForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=200)
    skus = forms.CharField(
        label=_("SKUs"),
        required=False,
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("One SKU per line."),
    )

    def sku_list(self) -> list[str]:
        if not self.is_valid():
            return []
        return split_skus(self.cleaned_data["skus"])


def split_skus(text: str) -> list[str]:
    """One SKU per line (commas and tabs also separate, as pasted from a spreadsheet)."""
    seen: dict[str, None] = {}
    for line in (text or "").replace(",", "\n").replace("\t", "\n").splitlines():
        sku = line.strip()
        if sku:
            seen.setdefault(sku, None)
    return list(seen)[:500]


class ShipForm(forms.Form):
    carrier = forms.CharField(label=_("Carrier"), max_length=shipping.MAX_LENGTH, required=False)
    tracking_number = forms.CharField(
        label=_("Tracking number"), max_length=shipping.MAX_LENGTH, required=False
    )
