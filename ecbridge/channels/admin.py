"""Warehouse admin: shipping types are managed here; channels are editable here too for support."""

from django.contrib import admin

from ecbridge.channels.models import SalesChannel, ShippingType


@admin.register(ShippingType)
class ShippingTypeAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "kind", "carrier", "enabled", "sort_order")
    list_editable = ("enabled", "sort_order")
    list_filter = ("kind", "enabled", "carrier")
    search_fields = ("name", "code", "carrier")
    ordering = ("sort_order", "name")


@admin.register(SalesChannel)
class SalesChannelAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "merchant",
        "internal_name",
        "enabled",
        "match_rule",
        "primary_inventory_type",
        "default_shipping_type",
        "updated_at",
    )
    list_filter = ("enabled", "match_rule", "expiry_control", "merchant")
    search_fields = ("name", "internal_name", "merchant__name")
    list_select_related = ("merchant", "primary_inventory_type", "default_shipping_type")
    readonly_fields = ("created_at", "updated_at")
    ordering = ("merchant__name", "name")

    def get_readonly_fields(self, request, obj=None):
        # A channel never moves between merchants: its EC accounts and orders belong to the first one.
        fields = super().get_readonly_fields(request, obj)
        return (*fields, "merchant") if obj is not None else fields
