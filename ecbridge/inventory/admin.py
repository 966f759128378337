from django.contrib import admin

from ecbridge.inventory.models import InventoryType


@admin.register(InventoryType)
class InventoryTypeAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "sellable", "sort_order")
