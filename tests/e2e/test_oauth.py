"""OAuth platforms in a real browser: the sandbox's consent pages are opened and approved by the
browser, the callback comes back to the live server, and revoking or deleting reaches the platform."""

import re

import pytest
from playwright.sync_api import expect

from ecbridge.integrations.models import ECAccount
from tests.e2e.conftest import app_keys
from tests.factories import SalesChannelFactory

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def submit(site, selector: str) -> None:
    with site.page.expect_navigation():
        site.page.click(selector)


def token_values(account: ECAccount) -> list[str]:
    tokens = {k: v for k, v in account.tokens.items() if v}
    assert tokens.get("access_token"), "the account holds no access token"
    return list(tokens.values())


def start_create(site, merchant, platform: str, display_name: str, channel_name: str) -> None:
    site.goto(f"/ec-accounts/new/?merchant={merchant.pk}")
    with site.page.expect_navigation():
        site.page.select_option("#id_platform", value=platform)
    site.page.fill("#id_display_name", display_name)
    site.page.select_option("#id_sales_channel", label=channel_name)


@pytest.mark.e2e
def test_shopee_authorize_then_revoke(site, platforms_on_sandbox, operator, merchant):
    page = site.page
    sandbox = platforms_on_sandbox
    SalesChannelFactory(merchant=merchant, name="Acme Shopee")
    sandbox.console("shopee", "shops", {"name": "Some other shop"})
    shop = sandbox.console("shopee", "shops", {"name": "Acme Shopee 旗艦店"})

    site.login("operator")
    start_create(site, merchant, "shopee", "Acme Shopee Flagship", "Acme Shopee")
    expect(page.locator("#test-button")).to_have_count(0)  # OAuth: nothing to type, nothing to test
    expect(page.locator("#authorize-button")).to_have_text(re.compile("Authorize & Connect"))
    site.shot("01-create")
    submit(site, "#authorize-button")

    # The sandbox's consent page, in the browser.
    assert page.url.startswith(f"{sandbox.url}/sandbox/shopee/auth?")
    expect(page.locator("h1")).to_have_text("Authorize partner")
    page.get_by_label(re.compile("Acme Shopee 旗艦店")).check()
    site.shot("02-shopee-consent")
    submit(site, "button[type=submit]")

    account = ECAccount.objects.get()
    assert site.path() == f"/ec-accounts/{account.pk}/edit/"
    expect(page.locator("#messages")).to_contain_text("Authorized Successfully")
    expect(page.locator("#status-tag")).to_have_text("Connected")
    expect(page.locator("#settings-fieldset")).not_to_have_attribute("disabled", re.compile(".*"))
    expect(page.locator("#authorize-button")).to_have_text(re.compile("Re-authorize"))
    site.shot("03-authorized")
    account.refresh_from_db()
    assert account.status == "connected"
    assert account.external_shop_id == str(shop["shop_id"])  # the shop chosen on the consent page
    secrets = token_values(account)
    authorization = sandbox.state("shopee", shop["id"])["authorizations"][0]
    assert authorization["status"] == "active"

    # Revoke: red confirmation dialog, then the platform's own cancel page.
    page.click("#revoke-button")
    modal = page.locator("#revoke-modal")
    expect(modal).to_be_visible()
    expect(modal.locator(".modal-header")).to_have_class(re.compile(r"bg-danger"))
    site.shot("04-revoke-dialog")
    submit(site, "#revoke-confirm")
    assert page.url.startswith(f"{sandbox.url}/sandbox/shopee/cancel_auth?")
    expect(page.locator("h1")).to_have_text("Cancel authorization")
    site.shot("05-shopee-cancel-page")
    submit(site, "button[type=submit]")

    assert site.path() == f"/ec-accounts/{account.pk}/"
    expect(page.locator("#status-tag")).to_have_text("Disconnected")
    alert = page.locator("#disconnected-alert")
    expect(alert).to_be_visible()
    expect(alert.locator("#reauthorize-button")).to_be_visible()
    expect(page.locator("#alert-edit-button")).to_have_count(0)
    site.shot("06-revoked-detail")
    account.refresh_from_db()
    assert account.status == "disconnected" and account.tokens == {}
    assert sandbox.state("shopee", shop["id"])["authorizations"][0]["status"] == "cancelled"

    site.log.assert_no_secrets(secrets + app_keys())


@pytest.mark.e2e
def test_shopify_authorize_registers_webhooks_and_delete_removes_them(
    site, platforms_on_sandbox, live_server, operator, merchant
):
    page = site.page
    sandbox = platforms_on_sandbox
    SalesChannelFactory(merchant=merchant, name="Acme Shopify")
    shop = sandbox.console("shopify", "shops", {"name": "Acme Shopify"})
    domain = shop["domain"]

    site.login("operator")
    start_create(site, merchant, "shopify", "Acme Shopify Store", "Acme Shopify")
    page.fill("#id_cred_shop_domain", domain)
    site.shot("01-create")
    submit(site, "#authorize-button")

    assert page.url.startswith(f"{sandbox.url}/sandbox/shopify/{domain}/admin/oauth/authorize?")
    expect(page.locator("h1")).to_contain_text("Install")
    site.shot("02-shopify-consent")
    submit(site, "#install")

    account = ECAccount.objects.get()
    assert site.path() == f"/ec-accounts/{account.pk}/edit/"
    expect(page.locator("#messages")).to_contain_text("Authorized Successfully")
    expect(page.locator("#status-tag")).to_have_text("Connected")
    site.shot("03-authorized")
    account.refresh_from_db()
    secrets = token_values(account)

    # Real-time notifications were subscribed on the shop, pointing at our webhook endpoint.
    webhooks = sandbox.state("shopify", domain)["webhooks"]
    assert webhooks, "no webhook subscription was registered"
    assert {w["uri"] for w in webhooks} == {f"{live_server.url}/webhooks/shopify/"}
    assert {w["id"] for w in webhooks} == {w["remote_id"] for w in account.webhooks}

    # Delete from the detail page, through the confirmation dialog.
    site.goto(f"/ec-accounts/{account.pk}/")
    expect(page.locator("#status-tag")).to_have_text("Connected")
    credentials = page.locator("#credentials")
    expect(credentials).to_contain_text(domain)  # the store domain is not a secret; the token is masked
    expect(credentials).to_contain_text("********")
    page.click("#delete-button")
    modal = page.locator("#delete-modal")
    expect(modal).to_be_visible()
    expect(modal).to_contain_text("cannot be undone")
    site.shot("04-delete-dialog")
    submit(site, "#delete-confirm")

    assert site.path() == "/ec-accounts/"
    expect(page.locator("#messages")).to_contain_text("deleted")
    expect(page.locator("#messages")).to_contain_text("Platform notifications were removed.")
    expect(page.locator("#account-table")).to_contain_text("No EC accounts found.")
    site.shot("05-deleted")
    assert not ECAccount.objects.exists()
    assert sandbox.state("shopify", domain)["webhooks"] == []

    site.log.assert_no_secrets(secrets + app_keys())
