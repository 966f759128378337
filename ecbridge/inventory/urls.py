"""Pages: products and inbound receipts (mounted at the site root)."""

from django.urls import path

from ecbridge.inventory import views

app_name = "inventory"

urlpatterns = [
    path("products/", views.product_list, name="product_list"),
    path("products/new/", views.product_create, name="product_create"),
    path("products/<int:pk>/", views.product_detail, name="product_detail"),
    path("inbound/", views.receipt_list, name="receipt_list"),
    path("inbound/new/", views.receipt_create, name="receipt_create"),
    path("inbound/<int:pk>/", views.receipt_detail, name="receipt_detail"),
    path("inbound/<int:pk>/complete-putaway/", views.receipt_complete, name="receipt_complete"),
]
