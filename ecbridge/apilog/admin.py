"""Read-only admin for API-log rows: an audit log is never edited by hand."""

from django.contrib import admin

from ecbridge.apilog.models import ApiCall


@admin.register(ApiCall)
class ApiCallAdmin(admin.ModelAdmin):
    list_display = (
        "created_at",
        "account_label",
        "merchant",
        "platform",
        "direction",
        "operation",
        "method",
        "status_code",
        "duration_ms",
        "outcome",
        "attempt",
    )
    list_filter = ("outcome", "direction", "platform", "created_at")
    search_fields = ("operation", "endpoint", "error", "account_label")
    date_hierarchy = "created_at"
    list_select_related = ("merchant",)
    show_full_result_count = False

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
