"""Shipping routes (mark an order shipped), included by orders/urls.py."""

urlpatterns: list = []
