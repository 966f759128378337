"""Minimal WMS inventory: inventory types (reference data used by sales channels) and products."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from ecbridge.tenancy.models import Merchant, MerchantScopedQuerySet


class InventoryType(models.Model):
    """A kind of stock the warehouse keeps apart (good stock, near expiry, damaged, ...)."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=80)
    sellable = models.BooleanField(_("sellable"), default=True)
    sort_order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["sort_order", "name"]
        verbose_name = _("inventory type")
        verbose_name_plural = _("inventory types")

    def __str__(self):
        return self.name


class ProductQuerySet(MerchantScopedQuerySet):
    pass


class Product(models.Model):
    """A merchant's warehouse (WMS) product. Imported order lines are matched to these."""

    merchant = models.ForeignKey(
        Merchant, verbose_name=_("merchant"), on_delete=models.PROTECT, related_name="products"
    )
    sku = models.CharField(_("SKU"), max_length=100)
    barcode = models.CharField(_("barcode"), max_length=100, blank=True, db_index=True)
    name = models.CharField(_("product name"), max_length=255)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = ProductQuerySet.as_manager()

    class Meta:
        ordering = ["sku"]
        constraints = [
            models.UniqueConstraint(fields=["merchant", "sku"], name="product_sku_unique_per_merchant")
        ]
        indexes = [models.Index(fields=["merchant", "barcode"], name="product_barcode_idx")]
        verbose_name = _("product")
        verbose_name_plural = _("products")

    def __str__(self):
        return f"[{self.sku}] {self.name}"
