"""Shipping routes (mark an order shipped, retry a report), included by orders/urls.py."""

from django.urls import path

from ecbridge.orders import shipping_views

urlpatterns: list = [
    path("orders/<int:pk>/ship/", shipping_views.ship, name="ship"),
    path(
        "orders/<int:pk>/shipment-reports/<int:report_id>/retry/",
        shipping_views.retry_report,
        name="shipment_retry",
    ),
]
