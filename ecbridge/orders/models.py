"""Imported platform orders, their lines, holds and unknown products.

An order is unique per (EC account, platform order id): every fetch, retry and webhook upserts it
in place (G2). ``on_hold`` mirrors "has an active hold" so lists can filter on it cheaply."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from ecbridge.tenancy.models import Merchant, MerchantScopedQuerySet


class OrderQuerySet(MerchantScopedQuerySet):
    pass


class Order(models.Model):
    class Status(models.TextChoices):
        """The warehouse's side of the order."""

        PENDING = "pending", _("Awaiting shipment")
        SHIPPED = "shipped", _("Shipped")
        CANCELLED = "cancelled", _("Cancelled")

    class PlatformState(models.TextChoices):
        """platforms.base.PlatformOrderState, translated for pages."""

        UNPAID = "unpaid", _("Unpaid")
        TO_SHIP = "to_ship", _("To ship")
        SHIPPED = "shipped", _("Shipped")
        COMPLETED = "completed", _("Completed")
        CANCELLED = "cancelled", _("Cancelled")
        RETURNED = "returned", _("Returned")

    merchant = models.ForeignKey(
        Merchant, verbose_name=_("merchant"), on_delete=models.PROTECT, related_name="orders"
    )
    # Kept when the EC account is deleted: the order is the warehouse's record (SET_NULL).
    ec_account = models.ForeignKey(
        "integrations.ECAccount",
        verbose_name=_("EC account"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="orders",
    )
    sales_channel = models.ForeignKey(
        "channels.SalesChannel",
        verbose_name=_("sales channel"),
        on_delete=models.PROTECT,
        related_name="orders",
    )
    platform = models.CharField(_("platform"), max_length=30, db_index=True)
    platform_order_id = models.CharField(_("platform order ID"), max_length=120)
    order_number = models.CharField(_("order number"), max_length=120, db_index=True)

    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    platform_state = models.CharField(_("platform status"), max_length=20, choices=PlatformState.choices)
    platform_status = models.CharField(_("platform status (original)"), max_length=120, blank=True)
    on_hold = models.BooleanField(_("on hold"), default=False, db_index=True)
    needs_attention = models.BooleanField(_("needs attention"), default=False, db_index=True)
    attention_reason = models.TextField(_("attention reason"), blank=True)

    platform_created_at = models.DateTimeField(_("ordered at"), db_index=True)
    platform_updated_at = models.DateTimeField(_("updated on platform at"))

    shipping_code = models.CharField(_("platform shipping code"), max_length=80, blank=True)
    shipping_name = models.CharField(_("platform shipping method"), max_length=200, blank=True)
    shipping_type = models.ForeignKey(
        "channels.ShippingType",
        verbose_name=_("shipping type"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    shipping_note = models.TextField(_("shipping note"), blank=True)

    recipient_name = models.CharField(_("receiver"), max_length=200, blank=True)
    recipient_phone = models.CharField(_("receiver phone"), max_length=60, blank=True)
    recipient_address = models.TextField(_("receiver address"), blank=True)
    buyer_note = models.TextField(_("buyer note"), blank=True)
    shipment_refs = models.JSONField(default=dict, blank=True, editable=False)

    carrier = models.CharField(_("carrier"), max_length=120, blank=True)
    tracking_number = models.CharField(_("tracking number"), max_length=120, blank=True, db_index=True)
    shipped_at = models.DateTimeField(_("shipped at"), null=True, blank=True)

    imported_at = models.DateTimeField(_("imported at"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = OrderQuerySet.as_manager()

    class Meta:
        ordering = ["-platform_created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["ec_account", "platform_order_id"], name="order_unique_per_account"
            )
        ]
        verbose_name = _("order")
        verbose_name_plural = _("orders")

    def __str__(self):
        return self.order_number

    @property
    def shipping_note_text(self) -> str:
        """The note about a defaulted shipping type, in the reader's language (the stored
        ``shipping_note`` is only the flag and the importer's wording at the time)."""
        if not self.shipping_note:
            return ""
        if self.shipping_type_id is None:
            return _(
                "Platform shipping code “%(code)s” is not mapped and the sales channel has no default "
                "shipping type: choose one before shipping."
            ) % {"code": self.shipping_code or "-"}
        if not self.shipping_code:
            return _("The platform gave no shipping code; the sales channel's default shipping type is used.")
        return _(
            "Platform shipping code “%(code)s” is not mapped; the sales channel's default shipping "
            "type is used. Add it to the EC account's shipping type mappings."
        ) % {"code": self.shipping_code}


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    line_id = models.CharField(_("platform line ID"), max_length=120)
    sku = models.CharField(_("platform SKU"), max_length=120, blank=True)
    barcode = models.CharField(_("barcode"), max_length=120, blank=True)
    name = models.CharField(_("product name"), max_length=255, blank=True)
    quantity = models.PositiveIntegerField(_("quantity"))
    platform_item_id = models.CharField(_("platform item ID"), max_length=120, blank=True)
    platform_variant_id = models.CharField(_("platform variant ID"), max_length=120, blank=True)
    product = models.ForeignKey(
        "inventory.Product",
        verbose_name=_("product"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="order_lines",
    )
    unknown_product = models.ForeignKey(
        "orders.UnknownProduct",
        verbose_name=_("unknown product"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="lines",
    )

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["order", "line_id"], name="order_line_unique")]
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")

    def __str__(self):
        return f"{self.sku} × {self.quantity}"


class HoldQuerySet(MerchantScopedQuerySet):
    merchant_field = "order__merchant"

    def active(self):
        return self.filter(released_at__isnull=True)


class Hold(models.Model):
    """A pause flag on an order: contents and reservations stay; it cannot be picked or shipped."""

    class Reason(models.TextChoices):
        UNKNOWN_PRODUCT = "unknown_product", _("Unknown product")
        PLATFORM_CANCELLED = "platform_cancelled", _("Cancelled on platform")
        ADDRESS = "address", _("Incomplete address")
        MERCHANT_REQUEST = "merchant_request", _("Merchant request")
        OTHER = "other", _("Other")

    order = models.ForeignKey(Order, verbose_name=_("order"), on_delete=models.CASCADE, related_name="holds")
    reason = models.CharField(_("reason"), max_length=30, choices=Reason.choices)
    note = models.TextField(_("note"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("held by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )  # empty = the system
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    released_at = models.DateTimeField(_("released at"), null=True, blank=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("released by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    resolution_note = models.TextField(_("resolution note"), blank=True)

    objects = HoldQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["order", "reason"],
                condition=Q(released_at__isnull=True),
                name="one_active_hold_per_reason",
            )
        ]
        verbose_name = _("hold")
        verbose_name_plural = _("holds")

    def __str__(self):
        return f"{self.order} – {self.get_reason_display()}"


class UnknownProductQuerySet(MerchantScopedQuerySet):
    pass


class UnknownProduct(models.Model):
    """A platform product that matched no WMS product; its orders wait on hold until mapped.

    ``key`` identifies it within the account: the platform variant id when there is one (the
    platform item id otherwise), then the SKU, e.g. "1001:2002|SKU-1" (see services.matching)."""

    merchant = models.ForeignKey(
        Merchant, verbose_name=_("merchant"), on_delete=models.CASCADE, related_name="+"
    )
    ec_account = models.ForeignKey(
        "integrations.ECAccount",
        verbose_name=_("EC account"),
        on_delete=models.CASCADE,
        related_name="unknown_products",
    )
    platform = models.CharField(_("platform"), max_length=30, db_index=True)
    key = models.CharField(max_length=300)
    identifier = models.CharField(_("identifier"), max_length=400)  # "[SKU] Name"
    platform_sku = models.CharField(_("SKU"), max_length=120, blank=True)
    barcode = models.CharField(_("barcode"), max_length=120, blank=True)
    name = models.CharField(_("product name"), max_length=255, blank=True)
    platform_item_id = models.CharField(_("platform item ID"), max_length=120, blank=True)
    platform_variant_id = models.CharField(_("platform variant ID"), max_length=120, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)

    objects = UnknownProductQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["ec_account", "key"], name="unknown_product_unique_key")
        ]
        verbose_name = _("unknown product")
        verbose_name_plural = _("unknown products")

    def __str__(self):
        return self.identifier
