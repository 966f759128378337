"""Platform webhook/push receivers: /webhooks/<platform>/ (no login, no CSRF; signatures instead).

The trailing slash is optional: Shopee's push URL is configured without one."""

from django.urls import re_path

from ecbridge.integrations import webhook_views

urlpatterns: list = [
    re_path(r"^(?P<platform>[a-z0-9_-]+)/?$", webhook_views.receive, name="webhook"),
]
