"""Pages: orders, unknown products, holds (mounted at the site root)."""

from django.urls import path

from ecbridge.orders import shipping_urls, views

app_name = "orders"

urlpatterns: list = [
    path("orders/", views.order_list, name="list"),
    path("orders/<int:pk>/", views.order_detail, name="detail"),
    path("unknown-products/", views.unknown_list, name="unknown_list"),
    path("unknown-products/<int:pk>/", views.unknown_detail, name="unknown_detail"),
    path("unknown-products/<int:pk>/map/", views.unknown_map, name="unknown_map"),
    path("holds/", views.hold_list, name="hold_list"),
    path("holds/release/", views.holds_release, name="holds_release"),
] + shipping_urls.urlpatterns
