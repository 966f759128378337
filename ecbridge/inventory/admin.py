from django.contrib import admin

from ecbridge.inventory.models import (
    InboundReceipt,
    InboundReceiptLine,
    InventoryType,
    Product,
    StockLevel,
    StockMovement,
)


@admin.register(InventoryType)
class InventoryTypeAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "sellable", "sort_order")


class StockLevelInline(admin.TabularInline):
    """Read-only: on hand changes only through the ledger (services.stock), reserved is derived."""

    model = StockLevel
    extra = 0
    can_delete = False
    readonly_fields = ("inventory_type", "on_hand", "reserved", "updated_at")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ("sku", "name", "barcode", "merchant")
    list_filter = ("merchant",)
    search_fields = ("sku", "name", "barcode")
    inlines = [StockLevelInline]


@admin.register(StockMovement)
class StockMovementAdmin(admin.ModelAdmin):
    """The ledger is append-only."""

    list_display = (
        "created_at",
        "product",
        "inventory_type",
        "delta",
        "on_hand_after",
        "reason",
        "reference",
    )
    list_filter = ("reason", "inventory_type")
    search_fields = ("product__sku", "reference")
    list_select_related = ("product", "inventory_type")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class InboundReceiptLineInline(admin.TabularInline):
    model = InboundReceiptLine
    extra = 0
    readonly_fields = ("product", "inventory_type", "quantity")
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(InboundReceipt)
class InboundReceiptAdmin(admin.ModelAdmin):
    """Read-only: receipts are created and put away through the pages/API (once, locked)."""

    list_display = ("reference", "merchant", "status", "created_at", "completed_at")
    list_filter = ("status", "merchant")
    search_fields = ("reference",)
    inlines = [InboundReceiptLineInline]
    readonly_fields = ("merchant", "reference", "status", "created_by", "completed_at", "completed_by")

    def has_add_permission(self, request):
        return False
