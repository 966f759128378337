"""Read-only admin views of orders, holds and unknown products, for support. Changes go through
the pages and services (holds.py keeps Order.on_hold in step; mapping.py releases holds), so the
admin never edits these rows directly."""

from django.contrib import admin

from ecbridge.orders.models import Hold, Order, OrderLine, UnknownProduct


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    extra = 0
    fields = ("line_id", "sku", "name", "quantity", "product", "unknown_product")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class HoldInline(admin.TabularInline):
    model = Hold
    extra = 0
    fields = ("reason", "note", "created_by", "created_at", "released_at", "released_by", "resolution_note")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Order)
class OrderAdmin(ReadOnlyAdmin):
    list_display = (
        "order_number",
        "merchant",
        "ec_account",
        "platform",
        "status",
        "on_hold",
        "platform_created_at",
    )
    list_filter = ("platform", "status", "on_hold", "needs_attention", "merchant")
    search_fields = ("order_number", "platform_order_id", "tracking_number")
    date_hierarchy = "platform_created_at"
    list_select_related = ("merchant", "ec_account")
    inlines = [OrderLineInline, HoldInline]


@admin.register(Hold)
class HoldAdmin(ReadOnlyAdmin):
    list_display = ("order", "reason", "created_by", "created_at", "released_at")
    list_filter = ("reason", ("released_at", admin.EmptyFieldListFilter))
    search_fields = ("order__order_number", "note", "resolution_note")
    list_select_related = ("order", "created_by")


@admin.register(UnknownProduct)
class UnknownProductAdmin(ReadOnlyAdmin):
    list_display = ("identifier", "platform_sku", "merchant", "platform", "ec_account", "created_at")
    list_filter = ("platform", "merchant")
    search_fields = ("identifier", "platform_sku", "name", "barcode")
    list_select_related = ("merchant", "ec_account")
