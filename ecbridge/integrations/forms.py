"""Forms of the create/edit page: left "Connection", right "Settings", shipping code mappings."""

from django import forms
from django.conf import settings
from django.forms import formset_factory
from django.utils.translation import gettext_lazy as _

from ecbridge.channels.models import SalesChannel, ShippingType
from ecbridge.core.forms import IdModelChoiceField
from ecbridge.integrations.models import MASK
from ecbridge.platforms.base import PlatformSpec
from ecbridge.platforms.registry import platform_choices


class MerchantPickForm(forms.Form):
    merchant = IdModelChoiceField(queryset=None, label=_("Merchant"), empty_label=_("Select a merchant"))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["merchant"].queryset = user.merchants()


class ConnectionForm(forms.Form):
    """Left half. Credential fields are built from the platform spec."""

    platform = forms.ChoiceField(label=_("E-commerce Platform"), choices=())
    display_name = forms.CharField(
        label=_("Display Name"),
        max_length=120,
        help_text=_('Tells several accounts apart, e.g. "Acme Shopee Flagship".'),
    )
    sales_channel = IdModelChoiceField(
        label=_("Channel Name"), queryset=SalesChannel.objects.none(), empty_label=_("Select a sales channel")
    )
    proof = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, merchant, spec: PlatformSpec | None, account=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.spec = spec
        self.account = account
        self.fields["platform"].choices = [("", _("Select a platform"))] + platform_choices()
        if account is not None:
            self.fields["platform"].disabled = True
            self.fields["platform"].help_text = _("The platform cannot be changed after creation.")
        self.fields["sales_channel"].queryset = SalesChannel.objects.filter(merchant=merchant).order_by(
            "name"
        )
        if spec is None:
            return
        stored = account.credentials if account else {}
        for field in spec.credential_fields:
            name = f"cred_{field.name}"
            if field.secret:
                has_value = bool(stored.get(field.name))
                self.fields[name] = forms.CharField(
                    label=field.label,
                    required=field.required and not has_value,
                    max_length=field.max_length,
                    help_text=field.help_text
                    or (_("Leave as is to keep the stored value.") if has_value else ""),
                    widget=forms.PasswordInput(
                        render_value=False,
                        attrs={"placeholder": MASK if has_value else "", "autocomplete": "new-password"},
                    ),
                )
            else:
                self.fields[name] = forms.CharField(
                    label=field.label,
                    required=field.required,
                    max_length=field.max_length,
                    help_text=field.help_text,
                    initial=stored.get(field.name, ""),
                )

    def credential_bound_fields(self):
        return [self[f"cred_{f.name}"] for f in (self.spec.credential_fields if self.spec else ())]

    def clean(self):
        cleaned = super().clean()
        if self.spec is None:
            return cleaned
        for field in self.spec.credential_fields:
            value = (cleaned.get(f"cred_{field.name}") or "").strip()
            if value and value != MASK and (error := field.validate(value)):
                self.add_error(f"cred_{field.name}", error)
        return cleaned

    def credentials(self) -> dict[str, str]:
        if self.spec is None:
            return {}
        return {
            f.name: (self.cleaned_data.get(f"cred_{f.name}") or "").strip()
            for f in self.spec.credential_fields
        }


class SettingsForm(forms.Form):
    """Right half: order fetching, inbound push."""

    fetch_orders_enabled = forms.BooleanField(label=_("Fetch Orders"), required=False)
    inbound_push_enabled = forms.BooleanField(label=_("Inbound Push"), required=False)
    push_percentage = forms.IntegerField(
        label=_("Push Percentage"),
        min_value=0,
        max_value=100,
        required=False,
        help_text=_("Share of each put-away pushed to this platform (whole number, 0-100)."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for i in range(1, settings.FETCH_SLOTS_MAX + 1):
            self.fields[f"fetch_time_{i}"] = forms.TimeField(
                label=_("Fetch time %(n)s") % {"n": i},
                required=False,
                widget=forms.TimeInput(format="%H:%M"),  # 24-hour text, whatever the browser locale
            )

    def fetch_time_fields(self):
        return [self[f"fetch_time_{i}"] for i in range(1, settings.FETCH_SLOTS_MAX + 1)]

    def clean(self):
        cleaned = super().clean()
        times = [cleaned.get(f"fetch_time_{i}") for i in range(1, settings.FETCH_SLOTS_MAX + 1)]
        cleaned["fetch_times"] = [t for t in times if t]
        if cleaned.get("fetch_orders_enabled") and not cleaned["fetch_times"]:
            self.add_error("fetch_time_1", _("Add at least one fetch time when Fetch Orders is on."))
        if cleaned.get("inbound_push_enabled") and cleaned.get("push_percentage") is None:
            self.add_error("push_percentage", _("Enter the push percentage."))
        return cleaned

    def settings_data(self) -> dict:
        return {
            "fetch_orders_enabled": self.cleaned_data["fetch_orders_enabled"],
            "fetch_times": self.cleaned_data["fetch_times"],
            "inbound_push_enabled": self.cleaned_data["inbound_push_enabled"],
            "push_percentage": self.cleaned_data.get("push_percentage") or 0,
        }

    @classmethod
    def initial_for(cls, account) -> dict:
        initial = {
            "fetch_orders_enabled": account.fetch_orders_enabled,
            "inbound_push_enabled": account.inbound_push_enabled,
            "push_percentage": account.push_percentage,
        }
        for i, slot in enumerate(account.fetch_times, start=1):
            initial[f"fetch_time_{i}"] = slot
        return initial


class ShippingMappingForm(forms.Form):
    platform_code = forms.CharField(label=_("Platform shipping code"), max_length=80)
    shipping_type = IdModelChoiceField(
        label=_("Warehouse shipping type"), queryset=ShippingType.objects.filter(enabled=True)
    )

    def __init__(self, *args, spec: PlatformSpec | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if spec is not None and spec.fixed_shipping_codes:
            self.fields["platform_code"] = forms.ChoiceField(
                label=_("Platform shipping code"),
                choices=[("", "—")] + [(c.code, f"{c.code} · {c.label}") for c in spec.fixed_shipping_codes],
            )


ShippingMappingFormSet = formset_factory(ShippingMappingForm, extra=0, can_delete=True, max_num=100)
