"""Deleting an EC account keeps the orders it imported: they are the warehouse's records."""

from ecbridge.integrations.services import lifecycle
from ecbridge.orders.models import Order
from tests.orders.factories import OrderFactory, OrderLineFactory


def test_deleting_an_account_keeps_its_orders_and_their_pages(admin_user, admin_client):
    order = OrderFactory()
    OrderLineFactory(order=order)
    account = order.ec_account

    lifecycle.delete_account(account)

    order.refresh_from_db()
    assert order.ec_account_id is None
    assert Order.objects.filter(pk=order.pk, order_number=order.order_number).exists()
    assert admin_client.get("/orders/").status_code == 200
    assert admin_client.get(f"/orders/{order.pk}/").status_code == 200
    data = admin_client.get(f"/api/v1/orders/{order.pk}").json()
    assert data["ec_account"] is None and data["order_number"] == order.order_number
