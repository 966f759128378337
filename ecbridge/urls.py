from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path
from django.views.generic import RedirectView

from ecbridge.api.api import api, api_index, api_not_found

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="integrations:list", permanent=False)),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/v1/", api_index, name="api_index"),
    path("api/v1/", api.urls),
    re_path(r"^api/", api_not_found),  # an unknown API path is JSON too, never the HTML 404 page
    path("account/", include("ecbridge.tenancy.urls")),
    path("sales-channels/", include("ecbridge.channels.urls")),
    path("ec-accounts/", include("ecbridge.integrations.urls")),
    path("api-logs/", include("ecbridge.apilog.urls")),
    path("notifications/", include("ecbridge.notifications.urls")),
    path("webhooks/", include("ecbridge.integrations.webhook_urls")),
    path("", include("ecbridge.orders.urls")),
    path("", include("ecbridge.inventory.urls")),
]
