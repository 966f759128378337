"""Scenario 1 of spec/01 in a real browser, as a new user would: a warehouse admin connects the
merchant's new Shopee shop (the sandbox's consent page), turns order fetching on, fetches the
orders placed on Shopee manually (then a second click hits the cooldown), maps the unknown SKU that
held an order, ships that order and sees the tracking number reported back to Shopee.

Background jobs run inline (Huey immediate mode): the manual fetch and the shipment report run
inside the request that queued them, exactly as the worker would run them after the commit."""

import re

import pytest
from huey.contrib.djhuey import HUEY
from playwright.sync_api import expect

from ecbridge.integrations.models import ECAccount, FetchRun, ProductMapping, ShipmentReport
from ecbridge.integrations.services import fetching
from ecbridge.inventory.models import Product
from ecbridge.orders.models import Hold, Order, UnknownProduct
from tests.e2e.conftest import app_keys
from tests.factories import SalesChannelFactory

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

KNOWN_SKU = "ACME-OOLONG-150G"
UNKNOWN_SKU = "SHP-MATCHA-GIFT"  # the platform's SKU; in the WMS this product is ACME-MATCHA-BOX
WMS_MATCHA = "ACME-MATCHA-BOX"
SELLER_CHANNEL = "90001"  # a non-integrated Shopee logistics channel: our carrier's tracking number
TRACKING = "TCAT-6612345678"
COOLDOWN = "Operation too frequent, please try again in 10 minutes"


@pytest.fixture
def jobs_inline(monkeypatch):
    """Queued jobs run at once (on commit, in the process that queued them)."""
    monkeypatch.setattr(HUEY, "immediate", True)


def submit(site, selector: str) -> None:
    """Click a button that submits a form and wait for the page it leads to."""
    with site.page.expect_navigation():
        site.page.click(selector)


def switch_language(site, code: str) -> None:
    with site.page.expect_navigation():
        site.page.select_option("#language-switcher select", value=code)


def token_values(account: ECAccount) -> list[str]:
    account.refresh_from_db()
    tokens = [v for v in account.tokens.values() if v]
    assert tokens, "the account holds no token"
    return tokens


def order_row(site, order: Order):
    return site.page.locator(f'#order-table tr[data-order="{order.pk}"]')


def connect_shopee_in_browser(site, sandbox, merchant, shop) -> ECAccount:
    """Create EC Account → Authorize & Connect → the sandbox's consent page → back, green."""
    page = site.page
    site.goto("/ec-accounts/")
    page.click("#new-account")
    page.select_option("#pick-merchant #id_merchant", label=merchant.name)
    submit(site, "#pick-merchant button[type=submit]")
    with page.expect_navigation():
        page.select_option("#id_platform", value="shopee")
    page.fill("#id_display_name", "Acme Shopee Flagship")
    page.select_option("#id_sales_channel", label="Acme Shopee")
    submit(site, "#authorize-button")

    assert page.url.startswith(f"{sandbox.url}/sandbox/shopee/auth?")
    page.get_by_label(re.compile("Acme Shopee 旗艦店")).check()
    submit(site, "button[type=submit]")

    account = ECAccount.objects.get()
    assert site.path() == f"/ec-accounts/{account.pk}/edit/"
    expect(page.locator("#messages")).to_contain_text("Authorized Successfully")
    expect(page.locator("#status-tag")).to_have_text("Connected")
    account.refresh_from_db()
    assert account.external_shop_id == str(shop["shop_id"])
    return account


@pytest.mark.e2e
def test_shopee_order_fetched_mapped_shipped_and_reported(
    site, platforms_on_sandbox, jobs_inline, admin_user, merchant, other_merchant
):
    page = site.page
    sandbox = platforms_on_sandbox
    SalesChannelFactory(merchant=merchant, name="Acme Shopee")  # created through the pages elsewhere
    oolong = Product.objects.create(merchant=merchant, sku=KNOWN_SKU, name="Oolong tea 150 g")
    matcha = Product.objects.create(merchant=merchant, sku=WMS_MATCHA, name="Matcha gift box")
    # Another merchant's product with the very same SKU: never offered, never matched.
    Product.objects.create(merchant=other_merchant, sku=WMS_MATCHA, name="Beta matcha")
    shop = sandbox.console("shopee", "shops", {"name": "Acme Shopee 旗艦店"})

    # 1. Connect the shop, then turn Fetch Orders on with a fetch time.
    site.login("admin")
    account = connect_shopee_in_browser(site, sandbox, merchant, shop)
    secrets = token_values(account)
    expect(page.locator("#id_fetch_orders_enabled")).to_be_enabled()
    page.check("#id_fetch_orders_enabled")
    page.fill("#id_fetch_time_1", "09:00")
    submit(site, "#save-button")
    assert site.path() == f"/ec-accounts/{account.pk}/"
    expect(page.locator("#status-tag")).to_have_text("Connected")
    expect(page.locator("#fetch-settings")).to_contain_text("09:00")
    next_fetch = page.locator("#next-fetch").inner_text()
    assert re.fullmatch(r"\d{4}-\d\d-\d\d 09:00", next_fetch), next_fetch
    account.refresh_from_db()
    assert account.fetch_orders_enabled and account.fetch_times == ["09:00"]
    site.goto("/ec-accounts/")
    expect(page.locator(f'tr[data-account="{account.pk}"] .status-light.connected')).to_have_count(1)

    # 2. Buyers order on Shopee: one with a known SKU, one with a known and an unknown SKU.
    plain = sandbox.console(
        "shopee", "orders", {"shop": shop["id"], "lines": [{"sku": KNOWN_SKU, "quantity": 2}]}
    )
    mixed = sandbox.console(
        "shopee",
        "orders",
        {
            "shop": shop["id"],
            "shipping_code": SELLER_CHANNEL,
            "lines": [{"sku": KNOWN_SKU, "quantity": 1}, {"sku": UNKNOWN_SKU, "quantity": 3}],
        },
    )
    assert not Order.objects.exists()

    # 3. Fetch Orders Manually: queued (and run); a second click within 10 minutes is refused.
    site.goto(f"/ec-accounts/{account.pk}/")
    submit(site, "#fetch-button")
    assert site.path() == f"/ec-accounts/{account.pk}/"
    expect(page.locator("#messages")).to_contain_text("Order fetch queued")
    page.reload()  # the fetch ran in that request; the page shows its outcome
    expect(page.locator("#last-fetch")).to_contain_text("Manual")
    expect(page.locator("#last-fetch")).to_contain_text("Succeeded")
    expect(page.locator("#next-fetch")).to_have_text(next_fetch)  # the schedule is unchanged
    run = FetchRun.objects.get(ec_account=account)
    assert (run.trigger, run.status, run.orders_new, run.orders_held) == ("manual", "succeeded", 2, 1)
    submit(site, "#fetch-button")
    expect(page.locator("#messages")).to_contain_text(
        "Operation too frequent, please try again in 10 minutes"
    )
    assert FetchRun.objects.filter(ec_account=account).count() == 1  # nothing queued
    site.shot("01-fetch-cooldown")

    plain_order = Order.objects.get(platform_order_id=plain["order_sn"])
    mixed_order = Order.objects.get(platform_order_id=mixed["order_sn"])
    assert Order.objects.count() == 2
    assert not plain_order.on_hold and mixed_order.on_hold
    assert [line.product_id for line in plain_order.lines.all()] == [oolong.pk]

    # 4. Orders: both listed; the one with the unknown SKU is on hold.
    page.click("#nav-orders")
    expect(page.locator("h1")).to_have_text("Orders")
    expect(page.locator("#order-table tbody tr")).to_have_count(2)
    expect(order_row(site, plain_order)).to_contain_text(plain["order_sn"])
    expect(order_row(site, plain_order).locator("[data-on-hold]")).to_have_count(0)
    expect(order_row(site, mixed_order)).to_contain_text(mixed["order_sn"])
    expect(order_row(site, mixed_order).locator("[data-on-hold]")).to_have_text(re.compile("On Hold"))
    expect(order_row(site, mixed_order)).to_contain_text("Acme Shopee Flagship")
    site.shot("02-orders-list")
    page.fill("#order-filters input[name=q]", mixed["order_sn"])
    submit(site, "#order-filters button[type=submit]")
    expect(page.locator("#order-table tbody tr")).to_have_count(1)
    expect(order_row(site, mixed_order)).to_be_visible()

    # The held order: the known line matched, the unknown one links to its Unknown Product.
    page.click(f'#order-table a[href="/orders/{mixed_order.pk}/"]')
    expect(page.locator("#order-lines [data-matched]")).to_contain_text(KNOWN_SKU)
    expect(page.locator("#order-lines [data-unknown]")).to_have_count(1)
    expect(page.locator("#active-holds")).to_contain_text("Unknown product")
    expect(page.locator("#ship-blocked")).to_be_visible()  # cannot ship while held
    expect(page.locator("#ship-form")).to_have_count(0)

    # Unknown Products: the SKU with Pending Orders 1, highlighted.
    page.click("#nav-unknown-products")
    unknown = UnknownProduct.objects.get()
    assert unknown.platform_sku == UNKNOWN_SKU and unknown.ec_account_id == account.pk
    row = page.locator(f'#unknown-table tr[data-unknown="{unknown.pk}"]')
    expect(row).to_contain_text(UNKNOWN_SKU)
    pending = row.locator("td[data-pending]")
    expect(pending).to_have_text("1")
    expect(pending).to_have_class(re.compile(r"\btext-danger\b"))
    expect(row).to_contain_text("Acme Shopee Flagship")
    site.shot("03-unknown-products")

    # Open it, search the WMS product, pick it: the confirmation says 1 order will be released.
    row.locator("a", has_text="Map").click()
    expect(page.locator("h1")).to_contain_text(unknown.identifier)
    expect(page.locator("#pending-orders")).to_have_text("1")
    expect(page.locator(f'#affected-orders tr[data-order="{mixed_order.pk}"]')).to_be_visible()
    page.fill("#product-search input[name=product_q]", "matcha")
    submit(site, "#product-search button[type=submit]")
    results = page.locator("#product-results tr[data-product]")
    expect(results).to_have_count(1)  # the other merchant's matcha is never offered
    expect(results).to_contain_text(WMS_MATCHA)
    submit(site, f'#product-results tr[data-product="{matcha.pk}"] a')
    expect(page.locator("#release-count")).to_contain_text("1 order will be released.")
    expect(page.locator("#mapping-confirmation")).to_contain_text(WMS_MATCHA)
    site.shot("04-confirm-mapping")
    submit(site, "#confirm-button")

    assert site.path() == "/unknown-products/"
    expect(page.locator("#messages")).to_contain_text("1 order released")
    expect(page.locator("#unknown-table")).to_contain_text("No unknown products")
    assert not UnknownProduct.objects.exists()
    assert ProductMapping.objects.filter(ec_account=account, product=matcha).exists()
    mixed_order.refresh_from_db()
    assert not mixed_order.on_hold
    assert not Hold.objects.filter(order=mixed_order, released_at__isnull=True).exists()
    page.click("#nav-orders")
    expect(order_row(site, mixed_order).locator("[data-on-hold]")).to_have_count(0)

    # 5. Ship the released order with carrier and tracking number: reported back to Shopee.
    page.click(f'#order-table a[href="/orders/{mixed_order.pk}/"]')
    expect(page.locator("#order-lines [data-unknown]")).to_have_count(0)
    expect(page.locator("#order-lines [data-matched]")).to_have_count(2)
    expect(page.locator("#order-lines")).to_contain_text(WMS_MATCHA)
    page.fill("#ship-carrier", "T-CAT")
    page.fill("#ship-tracking", TRACKING)
    submit(site, "#ship-button")
    assert site.path() == f"/orders/{mixed_order.pk}/"
    expect(page.locator("#messages")).to_contain_text("marked as shipped")
    page.reload()  # the report job ran in that request
    expect(page.locator("#shipping-status")).to_have_text("Shipped")
    expect(page.locator("#shipping-tracking")).to_have_text(TRACKING)
    report_box = page.locator(".shipment-report")
    expect(report_box).to_have_count(1)
    expect(report_box.locator(".report-status")).to_have_text("Reported")
    expect(report_box.locator(".report-status")).to_have_class(re.compile(r"text-bg-success"))
    site.shot("05-shipped-reported")
    report = ShipmentReport.objects.get(order=mixed_order)
    assert report.status == ShipmentReport.Status.DONE

    state = sandbox.state("shopee", shop["id"])
    shipments = [s for s in state["shipments"] if s["order_sn"] == mixed["order_sn"]]
    assert len(shipments) == 1, state["shipments"]
    assert shipments[0]["tracking_number"] == TRACKING
    assert shipments[0]["method"] == "non_integrated"
    assert {s["order_sn"] for s in state["shipments"]} == {mixed["order_sn"]}  # the other stays
    shopee_order = next(o for o in state["orders"] if o["order_sn"] == mixed["order_sn"])
    assert shopee_order["order_status"] == "SHIPPED" and shopee_order["tracking_number"] == TRACKING

    # The next scheduled fetch brings a new order and re-reads the shipped one in place.
    later = sandbox.console("shopee", "orders", {"shop": shop["id"], "lines": [{"sku": UNKNOWN_SKU}]})
    account.refresh_from_db()
    assert fetching.schedule_due(now=account.next_fetch_at) == [account.pk]  # runs inline on commit
    assert FetchRun.objects.filter(ec_account=account, trigger="schedule", status="succeeded").count() == 1
    site.goto("/orders/")
    expect(page.locator("#order-table tbody tr")).to_have_count(3)
    newest = Order.objects.get(platform_order_id=later["order_sn"])
    expect(order_row(site, newest)).to_be_visible()
    expect(order_row(site, newest).locator("[data-on-hold]")).to_have_count(0)  # the mapping applies
    assert Order.objects.filter(platform_order_id=mixed["order_sn"]).count() == 1
    assert not UnknownProduct.objects.exists()

    # 7. No secret on any page.
    site.log.assert_no_secrets([*secrets, *token_values(account), *app_keys()])


@pytest.mark.e2e
def test_order_pages_in_traditional_chinese(site, connected_accounts, platforms_on_sandbox, merchant):
    """The order pages after a fetch, switched to zh-Hant through the header's selector."""
    page = site.page
    sandbox = platforms_on_sandbox
    shopee, shop = connected_accounts.shopee, connected_accounts.shopee_shop
    ECAccount.objects.filter(pk=shopee.pk).update(fetch_orders_enabled=True, fetch_times=["09:00"])
    Product.objects.create(merchant=merchant, sku=KNOWN_SKU, name="Oolong tea 150 g")
    sandbox.console(
        "shopee",
        "orders",
        {"shop": shop["id"], "lines": [{"sku": KNOWN_SKU}, {"sku": UNKNOWN_SKU, "quantity": 2}]},
    )
    run = fetching.run_fetch(shopee.pk, FetchRun.Trigger.MANUAL)
    assert run.status == "succeeded", run.message
    order = Order.objects.get()
    unknown = UnknownProduct.objects.get()
    assert order.on_hold

    site.login("operator")
    site.goto("/orders/")
    switch_language(site, "zh-hant")
    assert site.path() == "/orders/"
    expect(page.locator("html")).to_have_attribute("lang", "zh-hant")
    expect(page.locator("#nav-orders")).to_have_text("訂單")
    expect(page.locator("#nav-unknown-products")).to_have_text("未知商品")
    expect(page.locator("h1")).to_have_text("訂單")
    expect(order_row(site, order).locator("[data-on-hold]")).not_to_contain_text("On Hold")
    site.shot("zh-01-orders")

    site.goto("/unknown-products/")
    expect(page.locator("h1")).to_have_text("未知商品")
    expect(page.locator("#unknown-table thead")).not_to_contain_text("Pending Orders")
    site.shot("zh-02-unknown-products")

    site.goto(f"/unknown-products/{unknown.pk}/?product_q=oolong")
    expect(page.locator("#confirm-mapping .card-header")).not_to_have_text("Confirm Mapping")
    site.goto(f"/orders/{order.pk}/")
    expect(page.locator("#holds .card-header")).not_to_have_text("Holds")
    expect(page.locator("#shipping .card-header")).not_to_contain_text("Shipping")
    site.shot("zh-03-order-detail")

    site.goto(f"/ec-accounts/{shopee.pk}/")
    expect(page.locator("#fetch-button")).not_to_contain_text("Fetch Orders Manually")
    expect(page.locator("#fetch-button")).not_to_have_text("抓取訂單")  # not the setting's own name
    site.shot("zh-04-account-detail")

    long_secrets, short_secrets = connected_accounts.secrets()
    site.log.assert_no_secrets(long_secrets, short_secrets)
