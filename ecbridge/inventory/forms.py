"""Forms for products and inbound receipts, shared by the pages and the REST API (one set of rules).

The merchant is a field only for users who see several merchants; everyone else creates for their
one merchant. A merchant the user may not see is never a choice."""

from __future__ import annotations

import re

from django import forms
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ecbridge.core.forms import IdModelChoiceField
from ecbridge.inventory.models import InventoryType, Product
from ecbridge.inventory.services import receipts
from ecbridge.inventory.services.receipts import LineInput


def duplicate_sku_message(sku: str, merchant) -> str:
    return _("%(merchant)s already has a product with the SKU “%(sku)s”.") % {
        "merchant": merchant.name,
        "sku": sku,
    }


class _MerchantMixin:
    """Adds a required merchant choice when the user sees more than one merchant."""

    def _setup_merchant(self, user, merchant):
        self.user = user
        self.fixed_merchant = None
        merchants = user.merchants()
        if merchants.count() > 1:
            self.fields["merchant"] = IdModelChoiceField(
                label=gettext_lazy("Merchant"),
                queryset=merchants,
                empty_label=gettext_lazy("Select a merchant…"),
                initial=merchant,
            )
            self.fields["merchant"].widget.attrs["class"] = "form-select"
            self.order_fields(["merchant"])
        else:
            self.fixed_merchant = merchants.first()

    @property
    def merchant(self):
        if self.fixed_merchant is not None:
            return self.fixed_merchant
        return getattr(self, "cleaned_data", {}).get("merchant")

    def _merchant_or_error(self):
        if "merchant" not in self.fields and self.fixed_merchant is None:
            raise ValidationError(_("You do not manage any merchant, so you cannot create this."))
        return self.merchant


class ProductForm(_MerchantMixin, forms.ModelForm):
    class Meta:
        model = Product
        fields = ["sku", "barcode", "name"]

    def __init__(self, *args, user, merchant=None, **kwargs):
        super().__init__(*args, **kwargs)
        self._setup_merchant(user, merchant)
        for name in ("sku", "barcode", "name"):
            self.fields[name].widget.attrs["class"] = "form-control"
        self.fields["sku"].help_text = _("Unique within the merchant. Order lines are matched to it.")

    def clean_sku(self):
        sku = (self.cleaned_data.get("sku") or "").strip()
        if not sku:
            raise ValidationError(_("Enter the SKU."))
        return sku

    def clean_barcode(self):
        return (self.cleaned_data.get("barcode") or "").strip()

    def clean_name(self):
        return (self.cleaned_data.get("name") or "").strip()

    def clean(self):
        cleaned = super().clean()
        merchant = self._merchant_or_error()
        sku = cleaned.get("sku")
        if merchant is not None and sku and Product.objects.filter(merchant=merchant, sku=sku).exists():
            self.add_error("sku", duplicate_sku_message(sku, merchant))
        return cleaned

    def validate_unique(self):
        """Uniqueness per merchant is checked in clean() (the merchant is not a model field here)."""

    def save(self, commit=True):
        """Save; a concurrent duplicate SKU becomes a form error and None is returned."""
        product = super().save(commit=False)
        product.merchant = self.merchant
        try:
            with transaction.atomic():
                product.save()
        except IntegrityError:
            if not Product.objects.filter(merchant=self.merchant, sku=product.sku).exists():
                raise
            self.add_error("sku", duplicate_sku_message(product.sku, self.merchant))
            return None
        return product


_COLUMNS = re.compile(r"\s*[,;\t]\s*")


def parse_lines(text: str) -> list[LineInput]:
    """``SKU, quantity[, inventory type code]`` per line. Columns are separated by commas, tabs
    (pasted spreadsheet cells) or semicolons, or else by spaces. Blank lines and lines starting
    with # are skipped; each row's label keeps its real line number for messages."""
    rows = []
    for number, raw in enumerate((text or "").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = _COLUMNS.split(line) if _COLUMNS.search(line) else line.split()
        parts = [p.strip() for p in parts]
        label = _("Line %(n)d") % {"n": number}
        error = ""
        if len(parts) > 3:
            error = _(
                "%(where)s: expected “SKU, quantity” or “SKU, quantity, inventory type”, got %(n)d columns."
            ) % {
                "where": label,
                "n": len(parts),
            }
        elif len(parts) < 2 or not parts[1]:
            error = _("%(where)s: enter the quantity after the SKU (“SKU, quantity”).") % {"where": label}
        rows.append(
            LineInput(
                sku=parts[0],
                quantity=parts[1] if len(parts) > 1 else "",
                inventory_type=parts[2] if len(parts) > 2 else "",
                label=label,
                error=error,
            )
        )
    return rows


class ReceiptForm(_MerchantMixin, forms.Form):
    reference = forms.CharField(
        label=gettext_lazy("Reference"),
        max_length=120,
        help_text=gettext_lazy("The delivery note or purchase order number; unique per merchant."),
    )
    inventory_type = IdModelChoiceField(
        label=gettext_lazy("Inventory type"),
        queryset=InventoryType.objects.all(),
        empty_label=None,
        help_text=gettext_lazy("For every line that does not name its own inventory type."),
    )
    lines = forms.CharField(
        label=gettext_lazy("Lines"),
        widget=forms.Textarea(attrs={"rows": 10, "spellcheck": "false"}),
        help_text=gettext_lazy(
            "One line per product: SKU, quantity — optionally a third column with the inventory type "
            "code (good, near_expiry, damaged, returned). Columns pasted from a spreadsheet work too."
        ),
    )
    note = forms.CharField(
        label=gettext_lazy("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, user, merchant=None, **kwargs):
        super().__init__(*args, **kwargs)
        self._setup_merchant(user, merchant)
        self.fields["inventory_type"].initial = receipts.default_inventory_type()
        self.fields["inventory_type"].widget.attrs["class"] = "form-select"
        for name in ("reference", "lines", "note"):
            self.fields[name].widget.attrs["class"] = "form-control" + (
                " font-monospace" if name == "lines" else ""
            )
        self.resolved: list[tuple] = []

    def clean(self):
        cleaned = super().clean()
        merchant = self._merchant_or_error()
        if merchant is None or "lines" not in cleaned:
            return cleaned
        rows = parse_lines(cleaned["lines"])
        if not rows:
            self.add_error("lines", _("Add at least one line."))
            return cleaned
        try:
            self.resolved = receipts.resolve_lines(merchant, rows, default_type=cleaned.get("inventory_type"))
        except ValidationError as exc:
            for message in exc.message_dict.get("lines", []):
                self.add_error("lines", message)
        return cleaned

    def save(self):
        """Create the receipt; a rule broken meanwhile becomes a form error and None is returned."""
        try:
            return receipts.create_receipt(
                self.merchant,
                self.cleaned_data["reference"],
                self.resolved,
                note=self.cleaned_data.get("note", ""),
                user=self.user,
            )
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                for message in messages:
                    self.add_error(field if field in self.fields else None, message)
            return None
