"""Minimal WMS inventory: inventory types (reference data used by sales channels) and products."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from ecbridge.core.reference import BilingualName
from ecbridge.tenancy.models import Merchant, MerchantScopedQuerySet


class InventoryType(BilingualName):
    """A kind of stock the warehouse keeps apart (good stock, near expiry, damaged, ...)."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    sellable = models.BooleanField(_("sellable"), default=True)
    sort_order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["sort_order", "name"]
        verbose_name = _("inventory type")
        verbose_name_plural = _("inventory types")


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


class StockLevelQuerySet(MerchantScopedQuerySet):
    merchant_field = "product__merchant"


class StockLevel(models.Model):
    """Stock of one product in one inventory type. ``reserved`` is what open orders hold
    (recomputed from the orders, never incremented blindly); sellable = on hand − reserved."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="stock_levels")
    inventory_type = models.ForeignKey(
        InventoryType, verbose_name=_("inventory type"), on_delete=models.PROTECT, related_name="+"
    )
    on_hand = models.IntegerField(_("on hand"), default=0)
    reserved = models.IntegerField(_("reserved"), default=0)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = StockLevelQuerySet.as_manager()

    class Meta:
        ordering = ["product_id", "inventory_type__sort_order"]
        constraints = [
            models.UniqueConstraint(fields=["product", "inventory_type"], name="stock_level_unique"),
        ]
        verbose_name = _("stock level")
        verbose_name_plural = _("stock levels")

    def __str__(self):
        return f"{self.product_id}/{self.inventory_type_id}: {self.on_hand}-{self.reserved}"

    @property
    def sellable(self) -> int:
        return max(0, self.on_hand - self.reserved)


class StockMovement(models.Model):
    """The warehouse's stock ledger: every change of on-hand quantity, with its cause."""

    class Reason(models.TextChoices):
        PUTAWAY = "putaway", _("Inbound put-away")
        SHIPMENT = "shipment", _("Order shipped")
        ADJUSTMENT = "adjustment", _("Adjustment")

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="stock_movements")
    inventory_type = models.ForeignKey(InventoryType, on_delete=models.PROTECT, related_name="+")
    delta = models.IntegerField(_("change"))
    on_hand_after = models.IntegerField(_("on hand after"))
    reason = models.CharField(_("reason"), max_length=20, choices=Reason.choices)
    reference = models.CharField(_("reference"), max_length=120, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("stock movement")
        verbose_name_plural = _("stock movements")

    def __str__(self):
        return f"{self.product_id}/{self.inventory_type_id} {self.delta:+d} ({self.reason})"


class InboundReceiptQuerySet(MerchantScopedQuerySet):
    pass


class InboundReceipt(models.Model):
    """Goods arriving for a merchant. Completing put-away adds the lines to stock (once) and
    queues the inbound stock push in the same transaction."""

    class Status(models.TextChoices):
        RECEIVING = "receiving", _("Receiving")
        COMPLETED = "completed", _("Put away")

    merchant = models.ForeignKey(
        Merchant, verbose_name=_("merchant"), on_delete=models.PROTECT, related_name="inbound_receipts"
    )
    reference = models.CharField(_("reference"), max_length=120)
    note = models.TextField(_("note"), blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.RECEIVING, db_index=True
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    completed_at = models.DateTimeField(_("put away at"), null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = InboundReceiptQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["merchant", "reference"], name="inbound_reference_unique")
        ]
        verbose_name = _("inbound receipt")
        verbose_name_plural = _("inbound receipts")

    def __str__(self):
        return self.reference


class InboundReceiptLine(models.Model):
    receipt = models.ForeignKey(InboundReceipt, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(
        Product, verbose_name=_("product"), on_delete=models.PROTECT, related_name="receipt_lines"
    )
    inventory_type = models.ForeignKey(
        InventoryType, verbose_name=_("inventory type"), on_delete=models.PROTECT, related_name="+"
    )
    quantity = models.PositiveIntegerField(_("quantity"))

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(quantity__gt=0), name="receipt_line_quantity_positive")
        ]
        verbose_name = _("receipt line")
        verbose_name_plural = _("receipt lines")

    def __str__(self):
        return f"{self.receipt_id}: {self.product_id} × {self.quantity}"
