"""Minimal WMS inventory. For now only inventory types (reference data used by sales channels)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


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
