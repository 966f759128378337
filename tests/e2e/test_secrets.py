"""No page ever shows a secret: every page of the product is visited with accounts connected on all
three platforms (and the API-log rows their calls left), in English and in Traditional Chinese, and
every body our server sent to the browser is searched for the momo password and OTP back number,
the stored access/refresh tokens and the platforms' app keys."""

import pytest
from playwright.sync_api import expect

from ecbridge.apilog.models import ApiCall

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def walk(site, accounts, merchant) -> int:
    """Visit every page; returns how many were visited."""
    page = site.page
    paths = [
        "/ec-accounts/",
        "/ec-accounts/?q=acme",
        "/ec-accounts/?status=connected&status=disconnected",
        "/ec-accounts/guide/",
        f"/ec-accounts/new/?merchant={merchant.pk}",
        *(f"/ec-accounts/new/?merchant={merchant.pk}&platform={p}" for p in ("momo", "shopee", "shopify")),
        "/sales-channels/",
        "/api-logs/",
        "/notifications/",
    ]
    for account in accounts.all():
        paths += [
            f"/ec-accounts/{account.pk}/",
            f"/ec-accounts/{account.pk}/edit/",
            f"/sales-channels/{account.sales_channel_id}/",
            f"/api-logs/?ec_account={account.pk}",
        ]
    paths += [f"/api-logs/{pk}/" for pk in ApiCall.objects.values_list("pk", flat=True)]
    for path in paths:
        response = site.goto(path)
        assert response.status == 200, (path, response.status)
    page.click("#notification-bell")  # the htmx dropdown
    expect(page.locator("#notification-menu")).not_to_contain_text("Loading")
    return len(paths)


@pytest.mark.e2e
def test_no_page_shows_a_secret(site, connected_accounts, platforms_on_sandbox, merchant):
    page = site.page
    momo = connected_accounts.momo
    typed_wrong = "Wrong-pass-99"
    site.login("operator")

    # Calls that put secrets on the wire (and in the API log): a test of the stored credentials,
    # a test of a typed wrong password, and a test after the password changed on momo, which
    # disconnects the account and raises a notification.
    site.goto(f"/ec-accounts/{momo.pk}/edit/")
    with page.expect_navigation():
        page.click("#test-button")
    expect(page.locator("#test-result")).to_contain_text("Connection Successful")
    page.fill("#id_cred_entp_pwd", typed_wrong)
    with page.expect_navigation():
        page.click("#test-button")
    expect(page.locator("#test-result")).to_contain_text("Connection failed")
    site.shot("01-wrong-password-tested")
    changed = platforms_on_sandbox.console("momo", f"shops/{connected_accounts.momo_shop['id']}/password", {})
    site.goto(f"/ec-accounts/{momo.pk}/edit/")
    with page.expect_navigation():
        page.click("#test-button")
    expect(page.locator("#status-tag")).to_have_text("Disconnected")
    assert ApiCall.objects.filter(ec_account=momo).count() >= 2

    visited = walk(site, connected_accounts, merchant)
    expect(page.locator("#notification-menu")).to_contain_text("Acme momo Store")
    site.shot("02-notifications")
    with page.expect_navigation():
        page.select_option("#language-switcher select", value="zh-hant")
    visited += walk(site, connected_accounts, merchant)

    long_secrets, short_secrets = connected_accounts.secrets()
    checked = site.log.assert_no_secrets([*long_secrets, typed_wrong, changed["entp_pwd"]], short_secrets)
    assert checked >= visited, (checked, visited)
