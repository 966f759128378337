"""Pages: orders, unknown products, holds (mounted at the site root)."""

from ecbridge.orders import shipping_urls

app_name = "orders"

urlpatterns: list = [] + shipping_urls.urlpatterns
