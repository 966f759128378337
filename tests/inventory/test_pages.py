"""Products and Inbound pages: lists (search, filter, sort, scoping), product form, receipt form
(unknown SKU named, nothing saved), put-away with its confirmation, push rows, 404 for foreign ids."""

import re

import pytest

from ecbridge.integrations.models import ProductMapping, StockPush, StockRun
from ecbridge.inventory.models import InboundReceipt, Product, StockLevel, StockMovement
from ecbridge.inventory.services import receipts, stock
from tests.factories import ECAccountFactory, inventory_type
from tests.orders.factories import OrderFactory, OrderLineFactory, ProductFactory


@pytest.fixture
def good(db):
    return inventory_type("good")


@pytest.fixture
def tea(merchant, good):
    product = ProductFactory(merchant=merchant, sku="TEA-01", name="Oolong tea", barcode="4710001")
    stock.add_stock(product, good, 10, reason=StockMovement.Reason.ADJUSTMENT, reference="count")
    return product


@pytest.fixture
def cup(merchant):
    return ProductFactory(merchant=merchant, sku="CUP-01", name="Tea cup", barcode="4710002")


@pytest.fixture
def beta(other_merchant):
    return ProductFactory(merchant=other_merchant, sku="BETA-01", name="Beta thing")


@pytest.fixture
def receipt(merchant, tea, cup, good):
    return receipts.create_receipt(merchant, "IN-ACME-1", [(tea, good, 5), (cup, good, 2)], note="dock 3")


@pytest.fixture
def foreign_receipt(other_merchant, beta, good):
    return receipts.create_receipt(other_merchant, "IN-BETA-1", [(beta, good, 1)])


def skus(client, query=""):
    response = client.get("/products/" + query)
    assert response.status_code == 200
    return re.findall(r'<a href="/products/\d+/" class="fw-semibold">([^<]+)</a>', response.content.decode())


# --- products list --------------------------------------------------------------------------------
@pytest.mark.parametrize("who", ["admin_user", "operator", "single_operator", "merchant_user"])
def test_products_list_scoping_per_role(client, request, who, tea, beta):
    client.force_login(request.getfixturevalue(who))
    html = client.get("/products/").content.decode()
    sees_beta = who in ("admin_user", "operator")
    assert "TEA-01" in html and ("BETA-01" in html) is sees_beta
    assert ("?sort=merchant" in html) is sees_beta  # merchant column only in multi-merchant mode
    assert ('data-filter="merchant"' in html) is sees_beta
    assert 'id="nav-products"' in html and 'id="nav-inbound"' in html


def test_products_list_search_sort_and_stock_columns(merchant_client, merchant, tea, cup, good, channel):
    account = ECAccountFactory(merchant=merchant, sales_channel=channel)
    order = OrderFactory(ec_account=account)
    OrderLineFactory(order=order, product=tea, quantity=3)
    stock.recompute_reserved([tea])
    html = merchant_client.get("/products/").content.decode()
    row = re.search(rf'<tr data-product="{tea.pk}">(.*?)</tr>', html, re.S).group(1)
    assert re.search(r"data-on-hand>10<", row) and re.search(r"data-reserved>3<", row)
    assert re.search(r"data-sellable>7<", row)
    assert skus(merchant_client) == ["CUP-01", "TEA-01"]
    assert skus(merchant_client, "?sort=-sellable") == ["TEA-01", "CUP-01"]
    assert skus(merchant_client, "?sort=on_hand") == ["CUP-01", "TEA-01"]
    assert skus(merchant_client, "?q=oolong") == ["TEA-01"]
    assert skus(merchant_client, "?q=4710002") == ["CUP-01"]  # barcode
    assert skus(merchant_client, "?sort=bogus") == ["CUP-01", "TEA-01"]  # unknown sort falls back


def test_products_list_merchant_filter_and_pagination(operator_client, merchant, other_merchant, tea, beta):
    assert skus(operator_client, f"?merchant={other_merchant.pk}") == ["BETA-01"]
    for i in range(30):
        ProductFactory(merchant=merchant, sku=f"Z-{i:02d}")
    page2 = operator_client.get("/products/?page=2").content.decode()
    assert "2 / 2" in page2


def test_merchant_switcher_narrows_the_list(operator_client, other_merchant, tea, beta):
    operator_client.post("/account/switch-merchant/", {"merchant": other_merchant.pk})
    assert skus(operator_client) == ["BETA-01"]


# --- product create -------------------------------------------------------------------------------
def test_merchant_user_creates_a_product_for_their_merchant(merchant_client, merchant):
    page = merchant_client.get("/products/new/").content.decode()
    assert 'name="merchant"' not in page
    response = merchant_client.post("/products/new/", {"sku": " NEW-1 ", "name": "New", "barcode": ""})
    product = Product.objects.get(sku="NEW-1")
    assert response.status_code == 302 and response["Location"] == f"/products/{product.pk}/"
    assert product.merchant == merchant


def test_duplicate_sku_is_a_form_error(merchant_client, tea):
    response = merchant_client.post("/products/new/", {"sku": "TEA-01", "name": "Again"})
    assert response.status_code == 400
    assert "already has a product with the SKU “TEA-01”" in response.content.decode()
    assert Product.objects.filter(sku="TEA-01").count() == 1


def test_operator_picks_the_merchant_and_cannot_pick_a_foreign_one(
    client, operator, single_operator, other_merchant, beta
):
    client.force_login(operator)
    page = client.get("/products/new/").content.decode()
    assert 'name="merchant"' in page
    assert client.post("/products/new/", {"sku": "X-1", "name": "X"}).status_code == 400  # merchant required
    # the same SKU is fine for another merchant
    response = client.post("/products/new/", {"merchant": other_merchant.pk, "sku": "TEA-01", "name": "Tea"})
    assert response.status_code == 302
    client.force_login(single_operator)  # sees one merchant: no picker, a foreign id is not a choice
    assert 'name="merchant"' not in client.get("/products/new/").content.decode()
    client.post("/products/new/", {"merchant": other_merchant.pk, "sku": "Y-1", "name": "Y"})
    assert Product.objects.get(sku="Y-1").merchant_id != other_merchant.pk


# --- product detail -------------------------------------------------------------------------------
def test_product_detail_shows_stock_mappings_and_movements(merchant_client, merchant, channel, tea):
    pushed = ECAccountFactory(
        merchant=merchant, sales_channel=channel, platform="shopee", display_name="Acme SP"
    )
    ECAccountFactory(merchant=merchant, sales_channel=channel, platform="momo", display_name="Acme momo")
    ProductMapping.objects.create(
        ec_account=pushed,
        product=tea,
        platform_item_id="9001",
        platform_sku="SP-TEA",
        last_pushed_qty=6,
        last_platform_qty=16,
        last_push_error="error_stock: locked by promotion",
    )
    html = merchant_client.get(f"/products/{tea.pk}/").content.decode()
    levels = re.search(r'id="stock-levels"(.*?)</table>', html, re.S).group(1)
    assert re.search(r'data-type="good">.*?>10<.*?>0<.*?>10<', levels, re.S)
    mappings = re.search(r'id="mappings"(.*?)</table>', html, re.S).group(1)
    assert "SP-TEA" in mappings and ">6<" in mappings and ">16<" in mappings
    assert "locked by promotion" in mappings
    assert "Acme momo" in mappings and "Not mapped" in mappings
    assert "count" in re.search(r'id="movements"(.*?)</table>', html, re.S).group(1)


def test_foreign_product_is_404(merchant_client, single_operator, client, beta):
    assert merchant_client.get(f"/products/{beta.pk}/").status_code == 404
    client.force_login(single_operator)
    assert client.get(f"/products/{beta.pk}/").status_code == 404


# --- inbound list and create ----------------------------------------------------------------------
def test_receipt_list_scoping_and_filters(client, request, merchant_user, operator, receipt, foreign_receipt):
    client.force_login(merchant_user)
    html = client.get("/inbound/").content.decode()
    assert "IN-ACME-1" in html and "IN-BETA-1" not in html
    client.force_login(operator)
    html = client.get("/inbound/").content.decode()
    assert "IN-ACME-1" in html and "IN-BETA-1" in html
    receipts.complete_putaway(receipt)
    html = client.get("/inbound/?status=completed").content.decode()
    assert "IN-ACME-1" in html and "IN-BETA-1" not in html
    html = client.get(f"/inbound/?merchant={foreign_receipt.merchant_id}").content.decode()
    assert "IN-ACME-1" not in html and "IN-BETA-1" in html


def test_create_receipt_from_lines(merchant_client, tea, cup):
    response = merchant_client.post(
        "/inbound/new/",
        {
            "reference": "IN-9",
            "inventory_type": inventory_type("good").pk,
            "lines": "TEA-01, 100\n\n# comment\nCUP-01\t24\tnear_expiry\ntea-01 3",
            "note": "",
        },
    )
    created = InboundReceipt.objects.get(reference="IN-9")
    assert response.status_code == 302 and response["Location"] == f"/inbound/{created.pk}/"
    assert [(li.product.sku, li.inventory_type.code, li.quantity) for li in created.lines.all()] == [
        ("TEA-01", "good", 100),
        ("CUP-01", "near_expiry", 24),
        ("TEA-01", "good", 3),
    ]


def test_create_receipt_unknown_sku_is_named_and_nothing_is_saved(merchant_client, tea, beta, receipt):
    response = merchant_client.post(
        "/inbound/new/",
        {
            "reference": "IN-10",
            "inventory_type": inventory_type("good").pk,
            "lines": "TEA-01, 5\nNOPE-1, 2\nBETA-01, 1\nTEA-01, zero\nTEA-01",
        },
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "Nothing was saved" in html
    assert "Line 2: unknown SKU “NOPE-1”" in html
    assert "Line 3: unknown SKU “BETA-01”" in html  # another merchant's SKU
    assert "Line 4" in html and "Line 5: enter the quantity" in html
    assert "NOPE-1, 2" in html  # the input is kept for correction
    assert not InboundReceipt.objects.filter(reference="IN-10").exists()
    # duplicate reference
    response = merchant_client.post(
        "/inbound/new/",
        {"reference": "IN-ACME-1", "inventory_type": inventory_type("good").pk, "lines": "TEA-01, 1"},
    )
    assert response.status_code == 400 and "already has a receipt" in response.content.decode()
    assert InboundReceipt.objects.count() == 1


# --- inbound detail and put-away ------------------------------------------------------------------
def test_receipt_detail_complete_putaway_with_confirmation(
    merchant_client, merchant, channel, receipt, tea, good
):
    ECAccountFactory(
        merchant=merchant,
        sales_channel=channel,
        display_name="Acme momo",
        inbound_push_enabled=True,
        push_percentage=40,
    )
    html = merchant_client.get(f"/inbound/{receipt.pk}/").content.decode()
    assert 'id="complete-putaway-button"' in html and 'data-bs-target="#putaway-modal"' in html
    modal = re.search(r'id="putaway-modal"(.*?)</form>', html, re.S).group(1)
    assert "7 units are added to stock" in modal and "Inbound Push on" in modal
    assert "Acme momo — 40%" in modal and f'action="/inbound/{receipt.pk}/complete-putaway/"' in modal

    assert merchant_client.get(f"/inbound/{receipt.pk}/complete-putaway/").status_code == 405
    response = merchant_client.post(f"/inbound/{receipt.pk}/complete-putaway/")
    assert response.status_code == 302
    receipt.refresh_from_db()
    assert receipt.status == InboundReceipt.Status.COMPLETED
    assert StockLevel.objects.get(product=tea, inventory_type=good).on_hand == 15
    html = merchant_client.get(f"/inbound/{receipt.pk}/").content.decode()
    assert 'id="complete-putaway-button"' not in html and 'id="no-push-runs"' in html

    # a second POST (a stale page, a double click): refused, nothing changes
    response = merchant_client.post(f"/inbound/{receipt.pk}/complete-putaway/", follow=True)
    assert "already put away" in response.content.decode()
    assert StockLevel.objects.get(product=tea, inventory_type=good).on_hand == 15


def test_receipt_detail_shows_stock_runs_and_pushes(merchant_client, merchant, channel, receipt, tea):
    receipts.complete_putaway(receipt)
    account = ECAccountFactory(
        merchant=merchant, sales_channel=channel, display_name="Acme SP", platform="shopee"
    )
    run = StockRun.objects.create(
        ec_account=account,
        kind=StockRun.Kind.INBOUND,
        receipt=receipt,
        status=StockRun.Status.PARTIAL,
        push_percentage=60,
    )
    line = receipt.lines.get(product=tea)
    StockPush.objects.create(
        run=run,
        ec_account=account,
        product=tea,
        receipt_line=line,
        platform_sku="SP-TEA",
        mode=StockPush.Mode.DELTA,
        quantity=3,
        status=StockPush.Status.FAILED,
        error="item_not_found",
    )
    html = merchant_client.get(f"/inbound/{receipt.pk}/").content.decode()
    block = re.search(r'id="inbound-push"(.*)', html, re.S).group(1)
    assert "Acme SP" in block and 'data-status="partial"' in block and "60% of the received quantity" in block
    assert "SP-TEA" in block and "+3" in block and "item_not_found" in block


def test_foreign_receipt_is_404_and_cannot_be_put_away(
    merchant_client, foreign_receipt, client, single_operator
):
    assert merchant_client.get(f"/inbound/{foreign_receipt.pk}/").status_code == 404
    assert merchant_client.post(f"/inbound/{foreign_receipt.pk}/complete-putaway/").status_code == 404
    client.force_login(single_operator)
    assert client.post(f"/inbound/{foreign_receipt.pk}/complete-putaway/").status_code == 404
    foreign_receipt.refresh_from_db()
    assert foreign_receipt.status == InboundReceipt.Status.RECEIVING


def test_pages_require_login(client):
    for path in ("/products/", "/products/new/", "/inbound/", "/inbound/new/"):
        response = client.get(path)
        assert response.status_code == 302 and "/login/" in response["Location"]


def test_lists_do_not_query_per_row(operator_client, merchant, tea, good, django_assert_max_num_queries):
    for i in range(20):
        product = ProductFactory(merchant=merchant, sku=f"P-{i:02d}")
        stock.add_stock(product, good, i, reason=StockMovement.Reason.ADJUSTMENT)
        receipts.create_receipt(merchant, f"IN-{i}", [(product, good, 1)])
    for path in ("/products/", "/inbound/"):
        with django_assert_max_num_queries(15):
            assert operator_client.get(path).status_code == 200
