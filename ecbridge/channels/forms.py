"""The sales-channel form: the one place where create/update rules live (pages and API both use it)."""

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from ecbridge.channels.models import SalesChannel, ShippingType
from ecbridge.core.forms import IdModelChoiceField
from ecbridge.inventory.models import InventoryType

#: Which inputs belong to which expiration mechanism (the rest are cleared on save).
EXPIRY_FIELDS = {
    SalesChannel.ExpiryControl.NONE: (),
    SalesChannel.ExpiryControl.DAYS: ("expiry_days", "expiry_days_overseas"),
    SalesChannel.ExpiryControl.RATIO: ("expiry_ratio", "expiry_ratio_overseas"),
}
ALL_EXPIRY_FIELDS = ("expiry_days", "expiry_days_overseas", "expiry_ratio", "expiry_ratio_overseas")


def duplicate_name_message(name: str) -> str:
    return _("A sales channel named “%(name)s” already exists for this merchant. Choose another name.") % {
        "name": name
    }


class MerchantPickForm(forms.Form):
    """Step 0 of creating a channel for a user who manages several merchants."""

    merchant = IdModelChoiceField(
        label=_("Merchant"),
        queryset=None,
        empty_label=_("Select a merchant…"),
        help_text=_("The merchant this sales channel belongs to. It cannot be changed later."),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["merchant"].queryset = user.merchants()
        self.fields["merchant"].widget.attrs["class"] = "form-select"


class SalesChannelForm(forms.ModelForm):
    """Create or edit one merchant's sales channel.

    The merchant is never a form field: it comes from the picker (create) or the instance (edit), so a
    posted value can never move a channel to another merchant. Reference data is addressed by code so
    the API can use the same form with readable values."""

    SECTIONS = (
        (_("Basic Info"), ("name", "internal_name", "enabled", "match_rule")),
        (_("Acceptance / Inventory"), ("primary_inventory_type", "secondary_inventory_type", "same_expiry")),
        (_("Expiration"), ("expiry_control", *ALL_EXPIRY_FIELDS)),
        (_("Shipping rule"), ("default_shipping_type",)),
    )

    class Meta:
        model = SalesChannel
        fields = (
            "name",
            "internal_name",
            "enabled",
            "match_rule",
            "primary_inventory_type",
            "secondary_inventory_type",
            "same_expiry",
            "expiry_control",
            "expiry_days",
            "expiry_days_overseas",
            "expiry_ratio",
            "expiry_ratio_overseas",
            "default_shipping_type",
        )
        widgets = {
            "match_rule": forms.RadioSelect,
            "expiry_control": forms.RadioSelect,
        }
        help_texts = {
            "name": _(
                "Unique within the merchant; shown on orders and reports. Suggested: platform + store name."
            ),
            "match_rule": _(
                "How order lines are matched to products. A wrong choice turns lines into unknown products."
            ),
            "primary_inventory_type": _("Orders are shipped from this inventory type first."),
            "expiry_days": _("Minimum remaining shelf life, in days, for domestic orders."),
            "expiry_days_overseas": _("Minimum remaining shelf life, in days, for overseas orders."),
            "expiry_ratio": _("Minimum remaining share of the total shelf life, in percent (0–100]."),
            "expiry_ratio_overseas": _("The same for overseas orders, in percent (0–100]."),
            "default_shipping_type": _("Used when an order does not map to another shipping type."),
        }

    def __init__(self, *args, merchant=None, **kwargs):
        super().__init__(*args, **kwargs)
        if merchant is not None and self.instance.merchant_id is None:
            self.instance.merchant = merchant
        if self.instance.merchant_id is None:
            raise ValueError("SalesChannelForm needs a merchant or an instance with one.")
        self.merchant = self.instance.merchant

        for name in ("primary_inventory_type", "secondary_inventory_type"):
            field = self.fields[name]
            field.queryset = InventoryType.objects.all()
            field.to_field_name = "code"
        self.fields["primary_inventory_type"].empty_label = _("Select an inventory type…")
        self.fields["secondary_inventory_type"].empty_label = _("None (out of stock when primary is short)")

        shipping = self.fields["default_shipping_type"]
        # Only enabled types are offered; a channel keeps its current type even if it was disabled since.
        current = (
            Q(pk=self.instance.default_shipping_type_id) if self.instance.default_shipping_type_id else Q()
        )
        shipping.queryset = ShippingType.objects.filter(Q(enabled=True) | current)
        shipping.to_field_name = "code"
        shipping.empty_label = _("None")

        for name in ("expiry_days", "expiry_days_overseas"):
            self.fields[name].widget.attrs.update(min=0, step=1)
        for name in ("expiry_ratio", "expiry_ratio_overseas"):
            self.fields[name].widget.attrs.update(min=0, max=100, step="0.01")

        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.RadioSelect | forms.CheckboxInput):
                widget.attrs.setdefault("class", "form-check-input")
            elif isinstance(widget, forms.Select):
                widget.attrs.setdefault("class", "form-select")
            else:
                widget.attrs.setdefault("class", "form-control")

        if self.instance.pk:
            self.fields["name"].help_text = _(
                "Unique within the merchant. Renaming may require updating order-import settings."
            )

    def clean_name(self):
        name = self.cleaned_data["name"]
        clash = SalesChannel.objects.filter(merchant=self.merchant, name__iexact=name)
        if self.instance.pk:
            clash = clash.exclude(pk=self.instance.pk)
        if clash.exists():
            raise forms.ValidationError(duplicate_name_message(name), code="duplicate_name")
        return name

    def clean(self):
        cleaned = super().clean()
        # Inputs of another mechanism are hidden in the page; never store stale values from them.
        control = cleaned.get("expiry_control")
        if control in EXPIRY_FIELDS:
            for name in ALL_EXPIRY_FIELDS:
                if name not in EXPIRY_FIELDS[control]:
                    cleaned[name] = None
                    self.errors.pop(name, None)
        return cleaned

    def sections(self):
        """(title, [(bound field, expiry mechanism it belongs to)]) in page order.

        Inputs with errors get Bootstrap's ``is-invalid`` class."""
        if self.is_bound:
            for name in self.errors:
                if name in self.fields:
                    widget = self.fields[name].widget
                    if "is-invalid" not in widget.attrs.get("class", ""):
                        widget.attrs["class"] = f"{widget.attrs.get('class', '')} is-invalid".strip()
        expiry_kind = {name: str(kind) for kind, names in EXPIRY_FIELDS.items() for name in names}
        return [
            (title, [(self[name], expiry_kind.get(name, "")) for name in names])
            for title, names in self.SECTIONS
        ]
