"""Orders and Unknown Products pages: roles, search/filters/sort, Confirm Mapping, scoping (404)."""

import re

import pytest

from ecbridge.integrations.models import ProductMapping
from ecbridge.orders.models import Hold, UnknownProduct
from tests.factories import ECAccountFactory, shipping_type
from tests.orders.factories import (
    OrderFactory,
    OrderLineFactory,
    ProductFactory,
    UnknownProductFactory,
    hold,
    unknown_line,
)


@pytest.fixture
def shopee(merchant, channel):
    return ECAccountFactory(
        merchant=merchant, sales_channel=channel, platform="shopee", display_name="Acme SP"
    )


@pytest.fixture
def momo(merchant, channel):
    return ECAccountFactory(
        merchant=merchant, sales_channel=channel, platform="momo", display_name="Acme momo"
    )


@pytest.fixture
def foreign_account(other_merchant, other_channel):
    return ECAccountFactory(merchant=other_merchant, sales_channel=other_channel, display_name="Beta momo")


@pytest.fixture
def foreign_order(foreign_account):
    return OrderFactory(ec_account=foreign_account, order_number="BETA-1")


def order_numbers(client, query=""):
    html = client.get("/orders/" + query).content.decode()
    return re.findall(
        r'<tr data-order="\d+">\s*<td><a href="/orders/\d+/" class="fw-semibold">([^<]+)</a>', html
    )


# --- orders list ------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["admin_user", "operator", "single_operator", "merchant_user"])
def test_orders_list_renders_for_every_role(client, request, who, shopee, foreign_order):
    OrderFactory(ec_account=shopee, order_number="ACME-1")
    client.force_login(request.getfixturevalue(who))
    response = client.get("/orders/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "ACME-1" in html
    sees_beta = who in ("admin_user", "operator")
    assert ("BETA-1" in html) is sees_beta
    assert ("?sort=merchant" in html) is sees_beta  # merchant column only in multi-merchant mode
    assert 'id="nav-orders"' in html and 'id="nav-unknown-products"' in html and 'id="nav-holds"' in html


def test_orders_list_columns(merchant_client, shopee):
    order = OrderFactory(
        ec_account=shopee,
        order_number="ACME-9",
        shipping_type=shipping_type(),
        platform_status="READY_TO_SHIP",
    )
    OrderLineFactory(order=order)
    OrderLineFactory(order=order)
    hold(order)
    html = merchant_client.get("/orders/").content.decode()
    row = re.search(rf'<tr data-order="{order.pk}">(.*?)</tr>', html, re.S).group(1)
    assert "data-on-hold" in row and "Acme SP" in row and "Shopee" in row
    assert "READY_TO_SHIP" in row and "To ship" in row and "Awaiting shipment" in row
    assert shipping_type().name in row
    assert re.search(r'<td class="text-end">2</td>', row)


def test_orders_search_filters_and_sort(merchant_client, shopee, momo):
    a = OrderFactory(ec_account=shopee, order_number="A-100", tracking_number="TRK-777")
    b = OrderFactory(ec_account=momo, order_number="B-200", status="shipped")
    c = OrderFactory(ec_account=momo, order_number="C-300", needs_attention=True)
    hold(c)
    assert order_numbers(merchant_client, "?q=b-2") == ["B-200"]
    assert order_numbers(merchant_client, "?q=TRK-777") == ["A-100"]
    assert order_numbers(merchant_client, "?platform=momo&sort=order_number") == ["B-200", "C-300"]
    assert order_numbers(merchant_client, f"?ec_account={shopee.pk}") == ["A-100"]
    assert order_numbers(merchant_client, "?status=shipped") == ["B-200"]
    assert order_numbers(merchant_client, "?on_hold=yes") == ["C-300"]
    assert order_numbers(merchant_client, "?on_hold=no&sort=order_number") == ["A-100", "B-200"]
    assert order_numbers(merchant_client, "?needs_attention=yes") == ["C-300"]
    assert order_numbers(merchant_client, "?platform=momo&status=pending") == ["C-300"]  # filters stack
    assert order_numbers(merchant_client, "?sort=-order_number") == ["C-300", "B-200", "A-100"]
    assert order_numbers(merchant_client, "?sort=ordered_at") == ["A-100", "B-200", "C-300"]
    assert order_numbers(merchant_client, "?sort=status&q=-")[0] == "A-100"  # pending < shipped
    assert len(order_numbers(merchant_client, "?sort=bogus")) == 3  # an unknown sort is the default
    assert order_numbers(merchant_client, "?status=nope&ec_account=x") == []  # never a 500, never all
    assert a.pk and b.pk


def test_orders_filter_by_foreign_account_shows_nothing(merchant_client, shopee, foreign_order):
    OrderFactory(ec_account=shopee, order_number="ACME-1")
    # a foreign account id is no choice of this user: the filter matches nothing (it is neither
    # dropped, which would list everything, nor obeyed, which would show the foreign orders)
    assert order_numbers(merchant_client) == ["ACME-1"]
    assert order_numbers(merchant_client, f"?ec_account={foreign_order.ec_account_id}") == []


def test_merchant_filter_narrows_the_list(operator_client, shopee, foreign_order):
    OrderFactory(ec_account=shopee, order_number="ACME-1")
    assert sorted(order_numbers(operator_client)) == ["ACME-1", "BETA-1"]
    assert order_numbers(operator_client, f"?merchant={shopee.merchant_id}") == ["ACME-1"]


# --- order detail -----------------------------------------------------------------------------


def test_order_detail_shows_lines_holds_shipping_and_attention(merchant_client, merchant_user, shopee):
    product = ProductFactory(merchant=shopee.merchant, sku="TEA-01", name="Oolong")
    unknown = UnknownProductFactory(ec_account=shopee, platform_sku="SP-CUP", name="Cup")
    order = OrderFactory(
        ec_account=shopee,
        order_number="ACME-5",
        shipping_code="30029",
        shipping_name="黑貓宅急便",
        shipping_type=shipping_type(),
        shipping_note="Shipping code 30029 is not mapped: the channel's default shipping type was used.",
        needs_attention=True,
        attention_reason="Cancelled on the platform after shipping.",
        recipient_name="林小姐",
    )
    OrderLineFactory(order=order, sku="TEA-01", product=product)
    unknown_line(order, unknown, quantity=3)
    hold(order, Hold.Reason.ADDRESS, note="No floor number", user=merchant_user)
    released = hold(order, Hold.Reason.MERCHANT_REQUEST)
    released.released_at = released.created_at
    released.resolution_note = "Merchant approved"
    released.save()

    response = merchant_client.get(f"/orders/{order.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="attention-alert"' in html and "Cancelled on the platform after shipping." in html
    assert "[TEA-01] Oolong" in html
    assert f'href="/unknown-products/{unknown.pk}/" data-unknown' in html
    active = re.search(r'id="active-holds">(.*?)</table>', html, re.S).group(1)
    assert "Unknown product" in active and "Incomplete address" in active
    assert "No floor number" in active and "acme" in active and "System" in active
    assert active.count('data-bs-target="#release-modal-') == 2
    assert "Merchant approved" in re.search(r'id="released-holds">(.*?)</table>', html, re.S).group(1)
    assert "30029" in html and shipping_type().name in html and 'id="shipping-note"' in html
    assert "林小姐" in html
    assert 'id="shipping"' in html  # the shipping block is included


@pytest.mark.parametrize("path", ["/orders/{}/", "/unknown-products/{}/"])
def test_foreign_ids_are_404(merchant_client, foreign_account, path):
    order = OrderFactory(ec_account=foreign_account)
    unknown = UnknownProductFactory(ec_account=foreign_account)
    target = order.pk if path.startswith("/orders") else unknown.pk
    assert merchant_client.get(path.format(target)).status_code == 404
    assert merchant_client.get(path.format(999999)).status_code == 404


def test_pages_require_login(client):
    for path in ("/orders/", "/unknown-products/", "/holds/"):
        response = client.get(path)
        assert response.status_code == 302 and "/login/" in response["Location"]


# --- unknown products -------------------------------------------------------------------------


def unknown_rows(client, query=""):
    html = client.get("/unknown-products/" + query).content.decode()
    return re.findall(r'<tr data-unknown="\d+">\s*<td><a href="[^"]+">([^<]+)</a>', html)


def test_unknown_list_columns_and_pending_highlight(operator_client, shopee, foreign_account):
    pending = UnknownProductFactory(ec_account=shopee, platform_sku="SP-1", name="Green tea")
    for qty in (2, 5):
        unknown_line(OrderFactory(ec_account=shopee), pending, quantity=qty)
    idle = UnknownProductFactory(ec_account=shopee, platform_sku="", name="No sku thing", identifier="No sku")
    UnknownProductFactory(ec_account=foreign_account, identifier="[B-1] Beta thing")
    html = operator_client.get("/unknown-products/").content.decode()
    row = re.search(rf'<tr data-unknown="{pending.pk}">(.*?)</tr>', html, re.S).group(1)
    assert "[SP-1] Green tea" in row and "Acme Foods" in row and "Acme SP" in row and "Shopee" in row
    assert 'text-danger fw-bold" data-pending="2">2<' in row
    assert '<td class="text-end">7</td>' in row
    idle_row = re.search(rf'<tr data-unknown="{idle.pk}">(.*?)</tr>', html, re.S).group(1)
    assert "<code>-</code>" in idle_row and 'class="text-end" data-pending="0"' in idle_row
    assert "Beta thing" in html  # operator sees both merchants


def test_unknown_pending_counts_only_orders_still_held_for_it(merchant_client, shopee):
    unknown = UnknownProductFactory(ec_account=shopee)
    held = OrderFactory(ec_account=shopee)
    unknown_line(held, unknown)
    released_manually = OrderFactory(ec_account=shopee)
    unknown_line(released_manually, unknown)
    released_manually.holds.update(released_at=released_manually.platform_created_at)
    html = merchant_client.get("/unknown-products/").content.decode()
    assert 'data-pending="1"' in html


def test_unknown_search_multi_sku_filters_and_sort(merchant_client, shopee, momo, foreign_account):
    UnknownProductFactory(ec_account=shopee, platform_sku="AA-1", identifier="[AA-1] Apple")
    UnknownProductFactory(ec_account=shopee, platform_sku="BB-2", identifier="[BB-2] Banana")
    UnknownProductFactory(ec_account=momo, platform_sku="CC-3", identifier="[CC-3] Cherry")
    UnknownProductFactory(ec_account=foreign_account, platform_sku="AA-1", identifier="[AA-1] Foreign")
    assert unknown_rows(merchant_client, "?q=banana") == ["[BB-2] Banana"]
    assert unknown_rows(merchant_client, "?skus=aa-1%0D%0Acc-3%0D%0A%0D%0A&sort=identifier") == [
        "[AA-1] Apple",
        "[CC-3] Cherry",
    ]
    assert unknown_rows(merchant_client, "?platform=momo") == ["[CC-3] Cherry"]
    assert unknown_rows(merchant_client, f"?ec_account={shopee.pk}&sort=-identifier") == [
        "[BB-2] Banana",
        "[AA-1] Apple",
    ]
    assert len(unknown_rows(merchant_client, "?sort=pending_orders")) == 3


def test_confirm_mapping_flow(merchant_client, merchant_user, shopee):
    product = ProductFactory(merchant=shopee.merchant, sku="SP-TEA", name="Oolong", barcode="4710001")
    ProductFactory(merchant=shopee.merchant, sku="OTHER", name="Other")
    unknown = UnknownProductFactory(ec_account=shopee, platform_sku="SP-TEA", name="Tea")
    other_unknown = UnknownProductFactory(ec_account=shopee)
    free = OrderFactory(ec_account=shopee, order_number="FREE-1", recipient_name="陳先生")
    unknown_line(free, unknown)
    stuck = OrderFactory(ec_account=shopee, order_number="STUCK-1")
    unknown_line(stuck, unknown)
    unknown_line(stuck, other_unknown)
    url = f"/unknown-products/{unknown.pk}/"

    html = merchant_client.get(url).content.decode()
    assert "FREE-1" in html and "STUCK-1" in html and "陳先生" in html
    # suggestion by the same SKU, then a search by name/barcode
    assert f'data-product="{product.pk}"' in html and "Suggested" in html
    assert f'data-product="{product.pk}"' in merchant_client.get(url + "?product_q=4710001").content.decode()
    assert 'data-product="' not in merchant_client.get(url + "?product_q=zzz").content.decode()

    html = merchant_client.get(f"{url}?product={product.pk}").content.decode()
    assert 'id="mapping-confirmation"' in html
    assert "1 order will be released." in html and "1 order stays on hold" in html

    response = merchant_client.post(f"{url}map/", {"product": product.pk})
    assert response.status_code == 302 and response["Location"] == "/unknown-products/"
    follow = merchant_client.get("/unknown-products/").content.decode()
    assert "Mapping confirmed" in follow and "1 order released, 1 still on hold." in follow
    assert not UnknownProduct.objects.filter(pk=unknown.pk).exists()
    free.refresh_from_db()
    stuck.refresh_from_db()
    assert not free.on_hold and stuck.on_hold
    assert free.holds.get().released_by == merchant_user
    assert ProductMapping.objects.get(ec_account=shopee).product == product
    assert merchant_client.get(url).status_code == 404


def test_confirm_mapping_rejects_another_merchants_product(operator_client, shopee, foreign_account):
    unknown = UnknownProductFactory(ec_account=shopee)
    order = OrderFactory(ec_account=shopee)
    unknown_line(order, unknown)
    foreign_product = ProductFactory(merchant=foreign_account.merchant, sku="BETA")
    url = f"/unknown-products/{unknown.pk}/"
    # the operator may see the other merchant's product, but it cannot be mapped here
    html = operator_client.get(f"{url}?product={foreign_product.pk}").content.decode()
    assert "another merchant" in html and 'id="mapping-confirmation"' not in html
    response = operator_client.post(f"{url}map/", {"product": foreign_product.pk})
    assert response.status_code == 400 and "another merchant" in response.content.decode()
    assert UnknownProduct.objects.filter(pk=unknown.pk).exists() and not ProductMapping.objects.exists()
    order.refresh_from_db()
    assert order.on_hold


def test_confirm_mapping_bad_input(merchant_client, shopee, foreign_account):
    unknown = UnknownProductFactory(ec_account=shopee)
    invisible = ProductFactory(merchant=foreign_account.merchant)
    url = f"/unknown-products/{unknown.pk}/map/"
    for data in ({}, {"product": "abc"}, {"product": invisible.pk}, {"product": 999999}):
        response = merchant_client.post(url, data)
        assert response.status_code == 400
        assert (
            "Select a valid product" in response.content.decode() or "required" in response.content.decode()
        )
    assert merchant_client.get(url).status_code == 405
    assert UnknownProduct.objects.filter(pk=unknown.pk).exists()
    foreign_unknown = UnknownProductFactory(ec_account=foreign_account)
    product = ProductFactory(merchant=shopee.merchant)
    response = merchant_client.post(f"/unknown-products/{foreign_unknown.pk}/map/", {"product": product.pk})
    assert response.status_code == 404
    assert UnknownProduct.objects.filter(pk=foreign_unknown.pk).exists()


def test_lists_do_not_query_per_row(operator_client, shopee, foreign_account, django_assert_max_num_queries):
    for account in (shopee, foreign_account):
        for _ in range(8):
            order = OrderFactory(ec_account=account)
            unknown_line(order, UnknownProductFactory(ec_account=account), quantity=2)
            hold(order)
    for path in ("/orders/", "/unknown-products/", "/holds/?state=all"):
        with django_assert_max_num_queries(15):
            assert operator_client.get(path).status_code == 200
