"""Sales channels (per-merchant order rules) and the warehouse's shipping types."""

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from ecbridge.core.reference import BilingualName
from ecbridge.inventory.models import InventoryType
from ecbridge.tenancy.models import Merchant, MerchantScopedQuerySet


class ShippingType(BilingualName):
    """A way the warehouse ships (a carrier's home delivery, a convenience-store pickup, cold chain).

    Warehouse-wide reference data, managed by the warehouse admin."""

    class Kind(models.TextChoices):
        HOME_DELIVERY = "home_delivery", _("Home delivery")
        CVS_PICKUP = "cvs_pickup", _("Convenience-store pickup")
        COLD_CHAIN = "cold_chain", _("Cold chain")
        OTHER = "other", _("Other")

    code = models.SlugField(_("code"), max_length=40, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.HOME_DELIVERY)
    carrier = models.CharField(_("carrier"), max_length=80, blank=True)
    enabled = models.BooleanField(_("enabled"), default=True)
    sort_order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["sort_order", "name"]
        verbose_name = _("shipping type")
        verbose_name_plural = _("shipping types")


class SalesChannelQuerySet(MerchantScopedQuerySet):
    pass


class SalesChannel(models.Model):
    """A merchant's sales pipeline; every order from it follows these rules."""

    class MatchRule(models.TextChoices):
        SKU = "sku", _("By SKU")
        BARCODE = "barcode", _("By barcode")

    class ExpiryControl(models.TextChoices):
        NONE = "none", _("No expiration control")
        DAYS = "days", _("By days")
        RATIO = "ratio", _("By ratio")

    merchant = models.ForeignKey(
        Merchant, verbose_name=_("merchant"), on_delete=models.PROTECT, related_name="sales_channels"
    )
    name = models.CharField(_("channel name"), max_length=120)
    internal_name = models.CharField(
        _("internal name"), max_length=120, blank=True, help_text=_("Not printed on shipping documents.")
    )
    enabled = models.BooleanField(
        _("enabled"), default=True, help_text=_("A disabled channel receives no new or imported orders.")
    )
    match_rule = models.CharField(
        _("product matching rule"), max_length=10, choices=MatchRule.choices, default=MatchRule.SKU
    )
    primary_inventory_type = models.ForeignKey(
        InventoryType,
        verbose_name=_("primary inventory type"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    secondary_inventory_type = models.ForeignKey(
        InventoryType,
        verbose_name=_("secondary inventory type"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        help_text=_("Used when the primary type has too little stock; blank means out of stock."),
    )
    same_expiry = models.BooleanField(
        _("same expiration date"),
        default=False,
        help_text=_("The same product in one order must come from one expiry batch."),
    )
    expiry_control = models.CharField(
        _("expiration control"), max_length=10, choices=ExpiryControl.choices, default=ExpiryControl.NONE
    )
    expiry_days = models.PositiveIntegerField(_("days before expiration"), null=True, blank=True)
    expiry_days_overseas = models.PositiveIntegerField(
        _("overseas days before expiration"), null=True, blank=True
    )
    expiry_ratio = models.DecimalField(
        _("expiration ratio (%)"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    expiry_ratio_overseas = models.DecimalField(
        _("overseas expiration ratio (%)"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    default_shipping_type = models.ForeignKey(
        ShippingType,
        verbose_name=_("default shipping type"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = SalesChannelQuerySet.as_manager()

    class Meta:
        ordering = ["merchant__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["merchant", "name"], name="uniq_channel_name_per_merchant"),
        ]
        verbose_name = _("sales channel")
        verbose_name_plural = _("sales channels")

    def __str__(self):
        return self.name

    def clean(self):
        errors = {}
        if self.expiry_control == self.ExpiryControl.DAYS and self.expiry_days is None:
            errors["expiry_days"] = _("Enter the minimum remaining shelf life in days.")
        if self.expiry_control == self.ExpiryControl.RATIO:
            if self.expiry_ratio is None:
                errors["expiry_ratio"] = _("Enter the minimum remaining shelf-life ratio.")
            for field in ("expiry_ratio", "expiry_ratio_overseas"):
                value = getattr(self, field)
                if value is not None and not (0 < value <= 100):
                    errors[field] = _("A ratio is a percentage between 0 and 100.")
        if (
            self.secondary_inventory_type_id
            and self.secondary_inventory_type_id == self.primary_inventory_type_id
        ):
            errors["secondary_inventory_type"] = _("The secondary type must differ from the primary type.")
        if errors:
            raise ValidationError(errors)
