"""Holds page: state/reason filters, search, batch release with a note, scoping."""

import re

import pytest

from ecbridge.orders.models import Hold
from tests.factories import ECAccountFactory
from tests.orders.factories import OrderFactory, hold


@pytest.fixture
def account(merchant, channel):
    return ECAccountFactory(merchant=merchant, sales_channel=channel, display_name="Acme momo")


@pytest.fixture
def foreign_account(other_merchant, other_channel):
    return ECAccountFactory(merchant=other_merchant, sales_channel=other_channel, display_name="Beta momo")


def rows(client, query=""):
    html = client.get("/holds/" + query).content.decode()
    return re.findall(r'<tr data-hold="\d+">.*?<td><a href="/orders/\d+/">([^<]+)</a>', html, re.S)


@pytest.mark.parametrize("who", ["admin_user", "operator", "single_operator", "merchant_user"])
def test_holds_page_renders_for_every_role(client, request, who, account, foreign_account):
    hold(OrderFactory(ec_account=account, order_number="ACME-1"))
    hold(OrderFactory(ec_account=foreign_account, order_number="BETA-1"))
    client.force_login(request.getfixturevalue(who))
    response = client.get("/holds/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "ACME-1" in html
    assert ("BETA-1" in html) is (who in ("admin_user", "operator"))
    assert 'id="release-holds-button"' in html and 'id="release-modal"' in html


def test_columns_state_reason_filters_and_search(merchant_client, merchant_user, account):
    a = OrderFactory(ec_account=account, order_number="A-1")
    b = OrderFactory(ec_account=account, order_number="B-2")
    c = OrderFactory(ec_account=account, order_number="C-3")
    hold(a, Hold.Reason.ADDRESS, note="Missing floor", user=merchant_user)
    hold(b, Hold.Reason.UNKNOWN_PRODUCT)
    done = hold(c, Hold.Reason.PLATFORM_CANCELLED)
    Hold.objects.filter(pk=done.pk).update(released_at=done.created_at, resolution_note="Refunded")

    html = merchant_client.get("/holds/").content.decode()
    row = re.search(r'<tr data-hold="\d+">((?:(?!</tr>).)*A-1.*?)</tr>', html, re.S).group(1)
    assert "Incomplete address" in row and "Missing floor" in row and "acme" in row
    assert 'name="hold"' in row
    assert "System" in html  # system-placed holds show "System" as holder
    assert sorted(rows(merchant_client)) == ["A-1", "B-2"]  # active by default
    assert rows(merchant_client, "?state=released") == ["C-3"]
    assert "Refunded" in merchant_client.get("/holds/?state=released").content.decode()
    assert sorted(rows(merchant_client, "?state=all")) == ["A-1", "B-2", "C-3"]
    assert rows(merchant_client, "?state=bogus&reason=unknown_product") == ["B-2"]
    assert sorted(rows(merchant_client, "?state=all&reason=unknown_product&reason=platform_cancelled")) == [
        "B-2",
        "C-3",
    ]
    assert rows(merchant_client, "?q=a-1") == ["A-1"]
    assert rows(merchant_client, "?sort=order") == ["A-1", "B-2"]
    assert rows(merchant_client, "?sort=-order") == ["B-2", "A-1"]


def test_batch_release_with_note(merchant_client, merchant_user, account):
    a = OrderFactory(ec_account=account, order_number="A-1")
    b = OrderFactory(ec_account=account, order_number="B-2")
    keep = OrderFactory(ec_account=account, order_number="K-9")
    h1 = hold(a, Hold.Reason.ADDRESS)
    h2 = hold(b, Hold.Reason.MERCHANT_REQUEST)
    h3 = hold(b, Hold.Reason.OTHER)  # b keeps this one
    hold(keep)
    response = merchant_client.post(
        "/holds/release/",
        {"hold": [h1.pk, h2.pk], "note": "Checked with the merchant", "next": "/holds/?reason=address"},
    )
    assert response.status_code == 302 and response["Location"] == "/holds/?reason=address"
    for h in (h1, h2):
        h.refresh_from_db()
        assert h.released_at and h.released_by == merchant_user
        assert h.resolution_note == "Checked with the merchant"
    for o in (a, b, keep):
        o.refresh_from_db()
    assert not a.on_hold and b.on_hold and keep.on_hold
    h3.refresh_from_db()
    assert h3.released_at is None
    assert "2 holds released." in merchant_client.get("/holds/").content.decode()

    # releasing again is harmless
    merchant_client.post("/holds/release/", {"hold": [h1.pk]})
    assert "already released" in merchant_client.get("/holds/").content.decode()


def test_release_from_order_detail_returns_to_the_order(merchant_client, account):
    order = OrderFactory(ec_account=account)
    h = hold(order)
    response = merchant_client.post(
        "/holds/release/", {"hold": h.pk, "note": "", "next": f"/orders/{order.pk}/"}
    )
    assert response["Location"] == f"/orders/{order.pk}/"
    order.refresh_from_db()
    assert not order.on_hold
    html = merchant_client.get(f"/orders/{order.pk}/").content.decode()
    assert 'id="no-active-holds"' in html and 'id="released-holds"' in html


def test_release_is_scoped_and_validated(merchant_client, account, foreign_account):
    mine = hold(OrderFactory(ec_account=account))
    theirs = hold(OrderFactory(ec_account=foreign_account))
    # any foreign id in the batch: 404 and nothing released
    assert merchant_client.post("/holds/release/", {"hold": [mine.pk, theirs.pk]}).status_code == 404
    assert merchant_client.post("/holds/release/", {"hold": [99999]}).status_code == 404
    for h in (mine, theirs):
        h.refresh_from_db()
        assert h.released_at is None
    # nothing selected / garbage / an external next: an error message, back to the list
    response = merchant_client.post("/holds/release/", {"note": "x", "next": "https://evil.example/"})
    assert response.status_code == 302 and response["Location"] == "/holds/"
    assert "Select at least one hold" in merchant_client.get("/holds/").content.decode()
    merchant_client.post("/holds/release/", {"hold": "abc"})
    assert "Invalid selection" in merchant_client.get("/holds/").content.decode()
    assert merchant_client.post("/holds/release/", {"hold": mine.pk, "note": "x" * 2001}).status_code == 302
    mine.refresh_from_db()
    assert mine.released_at is None  # too long a note is rejected, not truncated
    assert merchant_client.get("/holds/release/").status_code == 405


def test_admin_lists_orders_holds_unknown_products_read_only(client, admin_user, account):
    from tests.orders.factories import UnknownProductFactory

    order = OrderFactory(ec_account=account, order_number="ADM-1")
    hold(order)
    UnknownProductFactory(ec_account=account)
    client.force_login(admin_user)
    for path in ("/admin/orders/order/", "/admin/orders/hold/", "/admin/orders/unknownproduct/"):
        assert client.get(path).status_code == 200
    assert client.get(f"/admin/orders/order/{order.pk}/change/").status_code == 200
    assert client.get("/admin/orders/order/add/").status_code == 403
    assert client.post(f"/admin/orders/order/{order.pk}/delete/", {"post": "yes"}).status_code == 403
