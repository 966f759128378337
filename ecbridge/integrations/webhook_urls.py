"""Platform webhook/push receivers: /webhooks/<platform>/ (no login, no CSRF; signatures instead)."""

urlpatterns: list = []
