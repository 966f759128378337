from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from ecbridge.tenancy.models import ApiToken, Merchant, User


@admin.register(Merchant)
class MerchantAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "created_at")
    search_fields = ("name", "code")


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ("username", "email", "role", "merchant", "is_active")
    list_filter = ("role", "is_active")
    fieldsets = BaseUserAdmin.fieldsets + (
        (_("Role and merchants"), {"fields": ("role", "merchant", "assigned_merchants")}),
    )
    add_fieldsets = BaseUserAdmin.add_fieldsets + (
        (_("Role and merchants"), {"fields": ("role", "merchant", "assigned_merchants")}),
    )
    filter_horizontal = ("groups", "user_permissions", "assigned_merchants")


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("name", "user", "hint", "created_at", "last_used_at")
    readonly_fields = ("key_hash", "hint", "created_at", "last_used_at")
