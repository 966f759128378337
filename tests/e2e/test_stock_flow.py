"""Scenario 2 of spec/01 in a real browser, as an operator would: one merchant sells on Shopee
(connected through the sandbox's consent page, Inbound Push 60 %) and on momo (credentials, 40 %).
The operator creates a product, syncs the product mappings of both accounts, receives 100 + 7 units
and completes the put-away: the sandbox ledgers show +60/+4 on Shopee and +40/+3 on momo (7 units
never become 8). Then a Manual Stock Sync overwrites Shopee with the WMS sellable quantity, first
after the red dialog, and, once most WMS stock is gone, after the second mass-zero confirmation.

Background jobs run inline (Huey immediate mode), as in test_orders_flow: a queued job runs on
commit inside the request that queued it, exactly as the worker would run it after the commit."""

import os
import re
from pathlib import Path

import pytest
from huey.contrib.djhuey import HUEY
from playwright.sync_api import expect

from ecbridge.integrations.models import ECAccount, ProductMapping, ProductSyncRun, StockPush, StockRun
from ecbridge.inventory.models import InboundReceipt, Product
from ecbridge.inventory.services import stock
from tests.e2e.conftest import SCREENSHOTS, app_keys
from tests.factories import SalesChannelFactory, inventory_type

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

OOLONG = "ACME-OOLONG-150G"
MATCHA = "ACME-MATCHA-BOX"
CUP = "ACME-CUP-01"  # created through /products/new
SHOPEE_OPENING = {OOLONG: 5, MATCHA: 3, CUP: 10}  # what the shops hold before the put-away
MOMO_OPENING = {OOLONG: 2, MATCHA: 1, CUP: 4}
RECEIPT = "PO-2025-0042"
VIEWPORTS = {"1440": (1440, 900), "390": (390, 844)}


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


def review_shots(site, name: str) -> list[Path]:
    """Full-page screenshots of the current page at desktop and phone width, for a visual review
    (under $E2E_SHOTS_DIR, else var/screenshots/). The viewport is restored afterwards."""
    folder = Path(os.environ.get("E2E_SHOTS_DIR") or SCREENSHOTS)
    folder.mkdir(parents=True, exist_ok=True)
    before = site.page.viewport_size
    paths = []
    for label, (width, height) in VIEWPORTS.items():
        site.page.set_viewport_size({"width": width, "height": height})
        path = folder / f"stock--{name}-{label}.png"
        site.page.screenshot(path=str(path), full_page=True)
        paths.append(path)
    site.page.set_viewport_size(before)
    return paths


def save_push_settings(site, account: ECAccount, *, enabled: bool, percentage: str = "") -> None:
    """The edit page's right half: Inbound Push on/off and the percentage; back on the detail."""
    page = site.page
    site.goto(f"/ec-accounts/{account.pk}/edit/")
    if enabled:
        page.check("#id_inbound_push_enabled")
        page.fill("#id_push_percentage", percentage)
    else:
        page.uncheck("#id_inbound_push_enabled")
    submit(site, "#save-button")
    assert site.path() == f"/ec-accounts/{account.pk}/"


def connect_shopee(site, sandbox, merchant, shop) -> ECAccount:
    """Create EC Account → Authorize & Connect → the sandbox's consent page → back on the edit page."""
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
    account = ECAccount.objects.get(platform="shopee")
    assert site.path() == f"/ec-accounts/{account.pk}/edit/"
    expect(page.locator("#status-tag")).to_have_text("Connected")
    return account


def connect_momo(site, merchant, credentials: dict) -> ECAccount:
    """Create EC Account with the vendor's SCM credentials (from the sandbox console), test, save."""
    page = site.page
    site.goto("/ec-accounts/")
    page.click("#new-account")
    page.select_option("#pick-merchant #id_merchant", label=merchant.name)
    submit(site, "#pick-merchant button[type=submit]")
    with page.expect_navigation():
        page.select_option("#id_platform", value="momo")
    page.fill("#id_display_name", "Acme momo Store")
    page.select_option("#id_sales_channel", label="Acme momo")
    for key in ("entp_id", "entp_code", "entp_pwd", "otp_back_no"):
        page.fill(f"#id_cred_{key}", credentials[key])
    submit(site, "#test-button")
    expect(page.locator("#test-result")).to_contain_text("Connection Successful")
    submit(site, "#save-button")
    account = ECAccount.objects.get(platform="momo")
    assert site.path() == f"/ec-accounts/{account.pk}/"
    expect(page.locator("#status-tag")).to_have_text("Connected")
    return account


def sync_mappings_in_browser(site, account: ECAccount, expected: int) -> None:
    """Detail page → Sync Product Mappings → (the job ran) → reload: count, last synced, notification."""
    page = site.page
    site.goto(f"/ec-accounts/{account.pk}/")
    expect(page.locator("#mapped-products")).to_have_text("No product mappings")
    expect(page.locator("#sync-mappings-button")).to_be_visible()
    submit(site, "#sync-mappings-button")
    assert site.path() == f"/ec-accounts/{account.pk}/"
    expect(page.locator("#messages")).to_contain_text("Product mapping sync queued")
    page.reload()
    run = ProductSyncRun.objects.get(ec_account=account)
    assert run.status == "succeeded", run.message
    assert (run.mapped, run.unmatched, run.ambiguous) == (expected, 0, 0)
    mapped = page.locator("#mapped-products")
    expect(mapped.locator("a")).to_have_text(str(expected))
    expect(mapped).to_contain_text(re.compile(r"Last Synced \d{4}-\d\d-\d\d \d\d:\d\d"))
    expect(page.locator("#last-mapping-sync")).to_contain_text(f"{expected} mapped ({expected} new)")
    # The notification at the top right.
    expect(page.locator("#notification-count")).to_be_visible()
    page.click("#notification-bell")
    items = page.locator("#notification-items")
    expect(items).to_contain_text(f"Product mappings synced for {account.display_name}")
    page.keyboard.press("Escape")
    assert ProductMapping.objects.filter(ec_account=account).count() == expected


def shopee_stock(sandbox, shop) -> dict[str, int]:
    return {row["sku"]: row["stock"] for row in sandbox.state("shopee", shop["id"])["stock"]}


def momo_stock(sandbox, shop) -> dict[str, int]:
    return dict(sandbox.state("momo", shop["id"])["stock"])


def ledger(sandbox, platform: str, shop, source: str) -> list[tuple[str, int]]:
    rows = sandbox.state(platform, shop["id"])["stock_ledger"]
    return sorted((row["sku"], row["delta"]) for row in rows if row["source"] == source)


def english_leftovers(page, checks: dict[str, list[str]]) -> list[str]:
    """The English phrases still present in the given parts of a zh-Hant page (hidden dialogs
    included: their text is read from the DOM)."""
    found = []
    for selector, phrases in checks.items():
        text = page.locator(selector).first.text_content() or ""
        found += [f"{selector}: {phrase}" for phrase in phrases if phrase in text]
    return found


def open_stock_sync_dialog(site):
    page = site.page
    page.click("#stock-sync-button")
    modal = page.locator("#stock-sync-modal")
    expect(modal).to_be_visible()
    expect(modal.locator(".modal-title")).to_have_text("Confirm manual stock sync")
    expect(modal.locator(".modal-header")).to_have_class(re.compile(r"\bbg-danger\b"))
    expect(modal).to_contain_text("cannot be reverted automatically")
    return modal


@pytest.mark.e2e
def test_inbound_push_by_percentage_and_manual_stock_sync(
    site, platforms_on_sandbox, jobs_inline, operator, merchant, other_merchant
):
    page = site.page
    sandbox = platforms_on_sandbox
    SalesChannelFactory(merchant=merchant, name="Acme Shopee")
    SalesChannelFactory(merchant=merchant, name="Acme momo")
    oolong = Product.objects.create(merchant=merchant, sku=OOLONG, name="Oolong tea 150 g")
    matcha = Product.objects.create(merchant=merchant, sku=MATCHA, name="Matcha gift box")
    # Another merchant's product with the very same SKU: never mapped, never pushed.
    Product.objects.create(merchant=other_merchant, sku=OOLONG, name="Beta oolong")
    shopee_shop = sandbox.console("shopee", "shops", {"name": "Acme Shopee 旗艦店"})
    momo_shop = sandbox.console("momo", "shops", {"name": "Acme momo 旗艦店"})
    names = {OOLONG: "Oolong tea 150 g", MATCHA: "Matcha gift box", CUP: "Tea cup"}
    for sku, name in names.items():
        sandbox.console(
            "shopee",
            "products",
            {"shop": shopee_shop["id"], "sku": sku, "name": name, "stock": SHOPEE_OPENING[sku]},
        )
        sandbox.console(
            "momo",
            "products",
            {"shop": momo_shop["id"], "sku": sku, "name": name, "stock": MOMO_OPENING[sku]},
        )
    assert shopee_stock(sandbox, shopee_shop) == SHOPEE_OPENING
    assert momo_stock(sandbox, momo_shop) == MOMO_OPENING

    site.login("operator")

    # 1a. The third product through /products/new (the operator picks the merchant).
    site.goto("/products/")
    site.goto("/products/new/")
    page.select_option("#id_merchant", label=merchant.name)
    page.fill("#id_sku", CUP)
    page.fill("#id_barcode", "4710000000017")
    page.fill("#id_name", "Tea cup")
    submit(site, "#save-product")
    cup = Product.objects.get(merchant=merchant, sku=CUP)
    assert site.path() == f"/products/{cup.pk}/"
    expect(page.locator("#messages")).to_contain_text("created")
    expect(page.locator("h1")).to_contain_text(CUP)

    # 1b. Shopee through the consent page, saved with Inbound Push off: no stock buttons.
    shopee = connect_shopee(site, sandbox, merchant, shopee_shop)
    save_push_settings(site, shopee, enabled=False)
    expect(page.locator("#push-settings")).to_contain_text("Off")
    expect(page.locator("#sync-mappings-button")).to_have_count(0)
    expect(page.locator("#stock-sync-button")).to_have_count(0)
    # Then 60 % on the edit page: both buttons appear.
    save_push_settings(site, shopee, enabled=True, percentage="60")
    expect(page.locator("#push-settings")).to_contain_text("60%")
    expect(page.locator("#sync-mappings-button")).to_be_visible()
    expect(page.locator("#stock-sync-button")).to_be_visible()

    # 1c. momo with the console's credentials, then 40 % on the edit page.
    momo = connect_momo(site, merchant, momo_shop["credentials"])
    expect(page.locator("#sync-mappings-button")).to_have_count(0)
    save_push_settings(site, momo, enabled=True, percentage="40")
    expect(page.locator("#messages .alert-info")).to_contain_text("exactly 100%")
    expect(page.locator("#push-settings")).to_contain_text("40%")
    shopee.refresh_from_db()
    momo.refresh_from_db()
    assert (shopee.inbound_push_enabled, shopee.push_percentage) == (True, 60)
    assert (momo.inbound_push_enabled, momo.push_percentage) == (True, 40)

    # 2. Sync Product Mappings on both accounts: 3 mapped each, the notification at the top right.
    sync_mappings_in_browser(site, shopee, 3)
    sync_mappings_in_browser(site, momo, 3)
    for account in (shopee, momo):
        mapped = set(ProductMapping.objects.filter(ec_account=account).values_list("product_id", flat=True))
        assert mapped == {oolong.pk, matcha.pk, cup.pk}  # never the other merchant's oolong
    site.goto(f"/ec-accounts/{shopee.pk}/")
    review_shots(site, "account-detail-push-section")

    # 3. A receipt through /inbound/new: 100 oolong and 7 matcha.
    site.goto("/inbound/new/")
    review_shots(site, "inbound-new")
    page.select_option("#id_merchant", label=merchant.name)
    page.fill("#id_reference", RECEIPT)
    page.fill("#id_lines", f"{OOLONG}, 100\n{MATCHA}\t7")
    submit(site, "#save-receipt")
    receipt = InboundReceipt.objects.get(reference=RECEIPT)
    assert site.path() == f"/inbound/{receipt.pk}/"
    expect(page.locator("#receipt-lines tbody tr")).to_have_count(2)
    assert not StockRun.objects.exists()  # nothing is pushed before the put-away

    # Complete put-away: the dialog names both accounts with their percentages.
    page.click("#complete-putaway-button")
    expect(page.locator("#putaway-modal")).to_be_visible()
    accounts_list = page.locator("#putaway-accounts")
    expect(accounts_list).to_contain_text("Acme Shopee Flagship — 60%")
    expect(accounts_list).to_contain_text("Acme momo Store — 40%")
    submit(site, "#putaway-confirm")
    assert site.path() == f"/inbound/{receipt.pk}/"
    expect(page.locator("#messages")).to_contain_text("Put-away of “PO-2025-0042” completed")
    page.reload()  # the push jobs ran in that request
    expect(page.locator("#complete-putaway-button")).to_have_count(0)
    receipt.refresh_from_db()
    assert receipt.status == "completed"

    runs = {run.ec_account_id: run for run in StockRun.objects.filter(receipt=receipt)}
    assert set(runs) == {shopee.pk, momo.pk}
    expected = {shopee.pk: {OOLONG: 60, MATCHA: 4}, momo.pk: {OOLONG: 40, MATCHA: 3}}
    for account in (shopee, momo):
        run = runs[account.pk]
        assert (run.status, run.push_percentage) == ("succeeded", account.push_percentage), run.message
        box = page.locator(f'#inbound-push [data-run="{run.pk}"]')
        expect(box).to_contain_text(account.display_name)
        expect(box.locator(".run-status-badge")).to_have_text("Succeeded")
        expect(box).to_contain_text(f"{account.push_percentage}% of the received quantity")
        expect(box.locator("tr[data-push]")).to_have_count(2)
        for sku, quantity in expected[account.pk].items():
            push = StockPush.objects.get(run=run, product__sku=sku)
            assert (push.quantity, push.status) == (quantity, "succeeded")
            row = box.locator(f'tr[data-push="{push.pk}"]')
            expect(row).to_contain_text(sku)
            expect(row.locator("td").nth(2)).to_have_text(re.compile(rf"^\+?{quantity}$"))
            expect(row).to_contain_text("Succeeded")
    review_shots(site, "inbound-detail-after-putaway")

    # The sandboxes: +60/+4 on Shopee, +40/+3 on momo, on top of what they held; 7 → 4 + 3.
    assert shopee_stock(sandbox, shopee_shop) == {OOLONG: 65, MATCHA: 7, CUP: 10}
    assert momo_stock(sandbox, momo_shop) == {OOLONG: 42, MATCHA: 4, CUP: 4}
    assert ledger(sandbox, "shopee", shopee_shop, "update_stock") == sorted([(OOLONG, 60), (MATCHA, 4)])
    assert ledger(sandbox, "momo", momo_shop, "changeGoodsQty") == sorted([(OOLONG, 40), (MATCHA, 3)])

    # 3b. A second delivery while Shopee refuses the matcha (a listing under review): 1 cup goes
    # to one account only (total 1), 5 matcha split 3/2; the refused SKU fails alone, with the
    # platform's reason, and is never retried into an overpush.
    sandbox.console(
        "shopee", "stock_lock", {"shop": shopee_shop["id"], "sku": MATCHA, "reason": "Item is under review"}
    )
    site.goto("/inbound/new/")
    page.select_option("#id_merchant", label=merchant.name)
    page.fill("#id_reference", "PO-2025-0043")
    page.fill("#id_lines", f"{CUP}, 1\n{MATCHA}, 5\nNO-SUCH-SKU, 2")
    submit(site, "#save-receipt")  # bad input: the unknown SKU is named, nothing is saved
    expect(page.locator("#line-errors")).to_contain_text("NO-SUCH-SKU")
    assert not InboundReceipt.objects.filter(reference="PO-2025-0043").exists()
    page.fill("#id_lines", f"{CUP}, 1\n{MATCHA}, 5")
    submit(site, "#save-receipt")
    second_receipt = InboundReceipt.objects.get(reference="PO-2025-0043")
    page.click("#complete-putaway-button")
    submit(site, "#putaway-confirm")
    page.reload()
    runs = {run.ec_account_id: run for run in StockRun.objects.filter(receipt=second_receipt)}
    shopee_run, momo_run = runs[shopee.pk], runs[momo.pk]
    assert (shopee_run.status, shopee_run.succeeded, shopee_run.failed) == ("partial", 1, 1)
    assert momo_run.status == "succeeded"
    assert sorted(momo_run.pushes.values_list("platform_sku", "quantity")) == [(MATCHA, 2)]
    refused = StockPush.objects.get(run=shopee_run, product=matcha)
    assert (refused.status, refused.quantity) == ("failed", 3) and "Item is under review" in refused.error
    box = page.locator(f'#inbound-push [data-run="{shopee_run.pk}"]')
    expect(box.locator(".run-status-badge")).to_have_text("Partial success")
    expect(box.locator(f'tr[data-push="{refused.pk}"]')).to_contain_text("Item is under review")
    expect(box.locator(f'tr[data-push="{refused.pk}"]')).to_contain_text("Failed")
    review_shots(site, "inbound-detail-partial")
    assert shopee_stock(sandbox, shopee_shop) == {OOLONG: 65, MATCHA: 7, CUP: 11}
    assert momo_stock(sandbox, momo_shop) == {OOLONG: 42, MATCHA: 6, CUP: 4}
    sandbox.console("shopee", "stock_lock", {"shop": shopee_shop["id"], "sku": MATCHA, "reason": ""})

    # The products: on hand, and the detail's per-account mappings.
    site.goto(f"/products/?q={OOLONG}")
    expect(page.locator("main")).to_contain_text(OOLONG)
    site.goto("/products/")
    review_shots(site, "products-list")
    site.goto(f"/products/{oolong.pk}/")
    expect(page.locator("main")).to_contain_text("Acme Shopee Flagship")
    expect(page.locator("main")).to_contain_text("Acme momo Store")
    review_shots(site, "product-detail")

    # 4. Manual Stock Sync on Shopee: Cancel queues nothing.
    site.goto(f"/ec-accounts/{shopee.pk}/")
    modal = open_stock_sync_dialog(site)
    expect(modal).to_contain_text("(3 products)")
    review_shots(site, "stock-sync-dialog")
    modal.get_by_role("button", name="Cancel").click()
    expect(modal).to_be_hidden()
    assert site.path() == f"/ec-accounts/{shopee.pk}/"
    assert not StockRun.objects.filter(kind=StockRun.Kind.MANUAL_SYNC).exists()

    # Confirm: the run page; Shopee now shows the WMS sellable quantity of every mapped SKU.
    open_stock_sync_dialog(site)
    submit(site, "#stock-sync-confirm")
    run = StockRun.objects.get(kind=StockRun.Kind.MANUAL_SYNC)
    assert site.path() == f"/ec-accounts/{shopee.pk}/stock-runs/{run.pk}/"
    expect(page.locator("#messages")).to_contain_text("Manual stock sync queued for 3 listings")
    page.reload()
    expect(page.locator("#run-status .badge")).to_have_text("Succeeded")
    expect(page.locator("#push-table tbody tr")).to_have_count(3)
    review_shots(site, "stock-run")
    sellable = stock.sellable_by_product([oolong, matcha, cup], shopee.sales_channel)
    assert sellable == {oolong.pk: 100, matcha.pk: 12, cup.pk: 1}
    assert shopee_stock(sandbox, shopee_shop) == {OOLONG: 100, MATCHA: 12, CUP: 1}
    assert momo_stock(sandbox, momo_shop) == {OOLONG: 42, MATCHA: 6, CUP: 4}  # only Shopee

    # Most WMS stock goes (an adjustment): 2 of 3 SKUs would become 0 → the second confirmation.
    stock.add_stock(oolong, inventory_type(), -100, reason="adjustment", reference="stock count")
    stock.add_stock(cup, inventory_type(), -1, reason="adjustment", reference="stock count")
    site.goto(f"/ec-accounts/{shopee.pk}/")
    open_stock_sync_dialog(site)
    submit(site, "#stock-sync-confirm")
    assert site.path() == f"/ec-accounts/{shopee.pk}/stock-sync/"
    card = page.locator("#mass-zero-confirmation")
    expect(card.locator(".card-header")).to_have_class(re.compile(r"\bbg-danger\b"))
    expect(card.locator("#zero-count-message")).to_have_text(
        "This sync would set 2 of 3 mapped products to zero on the platform."
    )
    expect(page.locator("#confirm-zero-button")).to_have_text("Yes, set 2 products to zero")
    review_shots(site, "mass-zero-confirmation")
    assert StockRun.objects.filter(kind=StockRun.Kind.MANUAL_SYNC).count() == 1  # nothing yet
    assert shopee_stock(sandbox, shopee_shop)[OOLONG] == 100
    submit(site, "#confirm-zero-button")
    second = StockRun.objects.filter(kind=StockRun.Kind.MANUAL_SYNC).latest("pk")
    assert second.pk != run.pk and second.zero_count == 2
    assert site.path() == f"/ec-accounts/{shopee.pk}/stock-runs/{second.pk}/"
    page.reload()
    expect(page.locator("#run-status .badge")).to_have_text("Succeeded")
    assert shopee_stock(sandbox, shopee_shop) == {OOLONG: 0, MATCHA: 12, CUP: 0}

    # 5. zh-Hant: the receipt page and the account detail. Every English leftover is listed at once.
    site.goto(f"/inbound/{receipt.pk}/")
    switch_language(site, "zh-hant")
    assert site.path() == f"/inbound/{receipt.pk}/"
    expect(page.locator("html")).to_have_attribute("lang", "zh-hant")
    site.shot("zh-01-receipt")
    leftovers = english_leftovers(
        page,
        {
            "#inbound-push .card-header": ["Inbound push"],
            "#inbound-push": ["of the received quantity", "Succeeded", "Platform SKU", "Error"],
            "#receipt-facts": ["Reference", "Status", "Put Away At", "Completed"],
            "#receipt-lines": ["Quantity", "Product Name", "Inventory type", "Total"],
        },
    )
    site.goto(f"/ec-accounts/{shopee.pk}/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hant")
    site.shot("zh-02-account-detail")
    leftovers += english_leftovers(
        page,
        {
            "#push-settings": ["Mapped products", "Last Synced", "Push Percentage", "Last stock push"],
            "#sync-mappings-button": ["Sync Product Mappings"],
            "#stock-sync-button": ["Manual Stock Sync"],
            "#stock-sync-modal": ["Confirm manual stock sync", "Overwrite platform stock", "Cancel"],
        },
    )
    assert not leftovers, f"English on zh-Hant pages: {leftovers}"

    # No secret on any page: tokens, the momo password and OTP back number, the app keys.
    shopee.refresh_from_db()
    tokens = [v for v in shopee.tokens.values() if v]
    assert tokens
    creds = momo_shop["credentials"]
    site.log.assert_no_secrets([*tokens, creds["entp_pwd"], *app_keys()], [creds["otp_back_no"]])
