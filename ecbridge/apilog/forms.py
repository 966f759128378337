"""The filter bar of the Platform API Logs page (GET parameters, validated like any form)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from ecbridge.apilog.models import ApiCall
from ecbridge.core.forms import IdModelMultipleChoiceField
from ecbridge.platforms.registry import platform_choices

DATE = forms.DateInput(attrs={"type": "date", "class": "form-control form-control-sm"}, format="%Y-%m-%d")
CHECKBOXES = forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"})


class AccountChoiceField(IdModelMultipleChoiceField):
    def __init__(self, *args, show_merchant=False, **kwargs):
        self.show_merchant = show_merchant
        super().__init__(*args, **kwargs)

    def label_from_instance(self, obj):
        try:
            platform = obj.platform_name
        except LookupError:
            platform = obj.platform
        label = f"{obj.display_name} ({platform})"
        return f"{obj.merchant.name} · {label}" if self.show_merchant else label


class ApiLogFilterForm(forms.Form):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=200,
        widget=forms.TextInput(
            attrs={
                "placeholder": _("Operation, endpoint, EC account or failure reason"),
                "class": "form-control form-control-sm",
            }
        ),
    )
    date_from = forms.DateField(label=_("From"), required=False, widget=DATE)
    date_to = forms.DateField(label=_("To"), required=False, widget=DATE)
    ec_account = AccountChoiceField(label=_("EC account"), queryset=None, required=False, widget=CHECKBOXES)
    outcome = forms.MultipleChoiceField(
        label=_("Outcome"), choices=ApiCall.Outcome.choices, required=False, widget=CHECKBOXES
    )
    direction = forms.MultipleChoiceField(
        label=_("Direction"), choices=ApiCall.Direction.choices, required=False, widget=CHECKBOXES
    )
    platform = forms.MultipleChoiceField(label=_("Platform"), choices=(), required=False, widget=CHECKBOXES)
    merchant = IdModelMultipleChoiceField(
        label=_("Merchant"), queryset=None, required=False, widget=CHECKBOXES
    )

    def __init__(self, data, *, user, merchant=None):
        """``merchant`` is the header switcher's pick: the account and merchant choices follow it."""
        super().__init__(data)
        from ecbridge.integrations.models import ECAccount

        multi = user.is_multi_merchant and merchant is None
        accounts = ECAccount.objects.for_user(user, merchant).select_related("merchant")
        self.fields["ec_account"].queryset = accounts.order_by("merchant__name", "display_name", "pk")
        self.fields["ec_account"].show_merchant = multi
        self.fields["platform"].choices = platform_choices(implemented_only=False)
        if multi:
            self.fields["merchant"].queryset = user.merchants()
        else:
            del self.fields["merchant"]

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", _("The end date must be on or after the start date."))
        return data

    def filters(self) -> dict:
        """Keyword arguments for services.filter_calls."""
        data = self.cleaned_data
        return {
            "date_from": data.get("date_from"),
            "date_to": data.get("date_to"),
            "ec_accounts": data.get("ec_account") or (),
            "outcomes": data.get("outcome") or (),
            "directions": data.get("direction") or (),
            "platforms": data.get("platform") or (),
            "merchants": data.get("merchant") or (),
            "search": data.get("q") or "",
        }

    @property
    def active_count(self) -> int:
        """How many filters are set (shown on the reset button)."""
        if not self.is_bound or not hasattr(self, "cleaned_data"):
            return 0
        return sum(1 for name in self.fields if self.cleaned_data.get(name))
