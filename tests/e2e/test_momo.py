"""momo (credentials platform) in a real browser: an operator signs in, creates a sales channel and
a momo account against the sandbox, tests the connection, sets the right half and saves; then the
merchant changes the SCM password on momo and the account goes red until the new one is entered."""

import re

import pytest
from django.contrib.sessions.models import Session
from playwright.sync_api import expect

from ecbridge.integrations.models import ECAccount
from ecbridge.integrations.services import connection, lifecycle
from tests.factories import SalesChannelFactory

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def submit(site, selector: str) -> None:
    """Click a button that submits a form and wait for the page it leads to."""
    with site.page.expect_navigation():
        site.page.click(selector)


def account_row(site, account_id: int):
    return site.page.locator(f'#account-table tr[data-account="{account_id}"]')


@pytest.mark.e2e
def test_operator_creates_channel_and_momo_account(site, platforms_on_sandbox, operator, merchant):
    page = site.page
    shop = platforms_on_sandbox.console("momo", "shops", {"name": "Acme momo 旗艦店"})
    creds = shop["credentials"]

    site.login("operator")
    expect(page.locator("h1")).to_have_text("EC Integrations")
    site.shot("01-list-empty")

    # A sales channel first (the spec's order): the operator has two merchants, so merchant first.
    page.click("nav >> text=Sales Channels")
    page.click("#new-channel")
    expect(page.locator("#merchant-step")).to_be_visible()
    page.select_option("#id_merchant", label="Acme Foods")
    submit(site, "#merchant-step button[type=submit]")
    expect(page.locator("#channel-merchant")).to_contain_text("Acme Foods")
    page.fill("#id_name", "Acme momo")
    page.select_option("#id_primary_inventory_type", value="good")
    site.shot("02-channel-form")
    submit(site, "#channel-form button[type=submit]")
    expect(page.locator("h1")).to_contain_text("Acme momo")

    # Create the EC account: merchant, platform, then the left half.
    page.click("nav >> text=EC Integrations")
    page.click("#new-account")
    page.select_option("#pick-merchant #id_merchant", label="Acme Foods")
    submit(site, "#pick-merchant button[type=submit]")
    expect(page.locator("#form-merchant")).to_have_text("Acme Foods")
    with page.expect_navigation():
        page.select_option("#id_platform", value="momo")  # onchange re-renders with momo's fields
    expect(page.locator("#egress-ips")).to_be_visible()  # momo only accepts registered IPs
    expect(page.locator("#settings-fieldset")).to_have_attribute("disabled", "")
    expect(page.locator("#id_fetch_orders_enabled")).to_be_disabled()
    page.fill("#id_display_name", "Acme momo Store")
    page.select_option("#id_sales_channel", label="Acme momo")
    page.fill("#id_cred_entp_id", creds["entp_id"])
    page.fill("#id_cred_entp_code", creds["entp_code"])
    page.fill("#id_cred_entp_pwd", creds["entp_pwd"])
    page.fill("#id_cred_otp_back_no", creds["otp_back_no"])
    site.shot("03-create-filled")
    submit(site, "#test-button")

    expect(page.locator("#test-result")).to_contain_text("Connection Successful")
    expect(page.locator("#test-result")).to_have_class(re.compile(r"alert-success"))
    expect(page.locator("#settings-fieldset")).not_to_have_attribute("disabled", re.compile(".*"))
    expect(page.locator("#id_fetch_orders_enabled")).to_be_enabled()
    site.shot("04-test-successful")
    assert not ECAccount.objects.exists()  # a test alone saves nothing
    # Save will store what was tested without retyping; meanwhile nothing holds it in plain text.
    sessions = [str(session.get_decoded()) for session in Session.objects.all()]
    assert sessions and not any(creds["entp_pwd"] in text for text in sessions)

    page.check("#id_fetch_orders_enabled")
    page.fill("#id_fetch_time_1", "09:00")
    page.fill("#id_fetch_time_2", "18:30")
    page.check("#id_inbound_push_enabled")
    page.fill("#id_push_percentage", "40")
    submit(site, "#save-button")

    # Detail: green Connected tag, masked secrets, the right half as saved.
    account = ECAccount.objects.get()
    assert site.path() == f"/ec-accounts/{account.pk}/"
    assert not any("tested_secrets" in str(s.get_decoded()) for s in Session.objects.all())
    expect(page.locator("#status-tag")).to_have_text("Connected")
    expect(page.locator("#status-tag")).to_have_class(re.compile(r"text-bg-success"))
    credentials = page.locator("#credentials")
    expect(credentials).to_contain_text(creds["entp_id"])  # not a secret
    expect(credentials.locator("td.credential-secret")).to_have_count(2)
    expect(credentials.locator("td.credential-secret").first).to_have_text("********")
    expect(page.locator("#fetch-settings")).to_contain_text("09:00, 18:30")
    expect(page.locator("#push-settings")).to_contain_text("40%")
    expect(page.locator("#disconnected-alert")).to_have_count(0)
    site.shot("05-detail-connected")

    assert account.status == "connected" and account.merchant == merchant
    assert account.credentials == creds
    assert account.fetch_orders_enabled and account.fetch_times == ["09:00", "18:30"]
    assert account.next_fetch_at is not None
    assert account.inbound_push_enabled and account.push_percentage == 40

    # List: green light and the percentage in the Inbound Push column.
    page.click("nav >> text=EC Integrations")
    row = account_row(site, account.pk)
    expect(row.locator(".status-light.connected")).to_have_count(1)
    expect(row).to_contain_text("Connected")
    expect(row).to_contain_text("40%")
    expect(row).to_contain_text("Acme Foods")  # multi-merchant operator: merchant column
    expect(row).to_contain_text("Acme momo")  # channel name
    site.shot("06-list-connected")

    site.log.assert_no_secrets([creds["entp_pwd"]], short_secrets=[creds["otp_back_no"]])


@pytest.fixture
def connected_momo(platforms_on_sandbox, merchant, operator):
    """A momo account connected to a sandbox vendor through the real services (no browser)."""
    shop = platforms_on_sandbox.console("momo", "shops", {"name": "Acme momo"})
    channel = SalesChannelFactory(merchant=merchant, name="Acme momo")
    account = ECAccount(
        merchant=merchant, platform="momo", display_name="Acme momo Store", sales_channel=channel
    )
    lifecycle.save_account(account, credentials=shop["credentials"])
    assert connection.test_account(account).ok
    return account, shop


@pytest.mark.e2e
def test_momo_password_changed_goes_red_until_fixed(site, platforms_on_sandbox, connected_momo):
    page = site.page
    account, shop = connected_momo
    old_password, otp = shop["credentials"]["entp_pwd"], shop["credentials"]["otp_back_no"]
    site.login("operator")

    # The merchant changes the SCM password on momo: ours stops working.
    new_password = platforms_on_sandbox.console("momo", f"shops/{shop['id']}/password", {})["entp_pwd"]
    assert new_password != old_password

    site.goto(f"/ec-accounts/{account.pk}/edit/")
    expect(page.locator("#status-tag")).to_have_text("Connected")
    submit(site, "#test-button")
    expect(page.locator("#test-result")).to_have_class(re.compile(r"alert-danger"))
    expect(page.locator("#test-result")).to_contain_text("Connection failed")
    expect(page.locator("#status-tag")).to_have_text("Disconnected")
    site.shot("01-edit-test-failed")

    # Detail: red alert with the Edit path (a credentials platform has nothing to re-authorize).
    site.goto(f"/ec-accounts/{account.pk}/")
    alert = page.locator("#disconnected-alert")
    expect(alert).to_be_visible()
    expect(alert).to_have_class(re.compile(r"alert-danger"))
    expect(alert.locator("#alert-edit-button")).to_be_visible()
    expect(page.locator("#reauthorize-button")).to_have_count(0)
    expect(page.locator("#status-tag")).to_have_text("Disconnected")
    site.shot("02-detail-disconnected")

    site.goto("/ec-accounts/")
    row = account_row(site, account.pk)
    expect(row.locator(".status-light.disconnected")).to_have_count(1)
    expect(row).to_contain_text("Disconnected")
    site.shot("03-list-red")

    # Follow the alert's Edit button, enter the new password, test, save: green again.
    site.goto(f"/ec-accounts/{account.pk}/")
    page.click("#alert-edit-button")
    assert site.path() == f"/ec-accounts/{account.pk}/edit/"
    expect(page.locator("#id_cred_entp_pwd")).to_have_value("")  # the stored secret is never rendered
    page.fill("#id_cred_entp_pwd", new_password)
    submit(site, "#test-button")
    expect(page.locator("#test-result")).to_contain_text("Connection Successful")
    site.shot("04-edit-new-password-ok")
    submit(site, "#save-button")

    assert site.path() == f"/ec-accounts/{account.pk}/"
    expect(page.locator("#status-tag")).to_have_text("Connected")
    expect(page.locator("#disconnected-alert")).to_have_count(0)
    site.shot("05-detail-green-again")
    account.refresh_from_db()
    assert account.status == "connected"
    assert account.credentials["entp_pwd"] == new_password
    assert account.credentials["otp_back_no"] == otp  # untouched secret kept

    site.goto("/ec-accounts/")
    expect(account_row(site, account.pk).locator(".status-light.connected")).to_have_count(1)

    site.log.assert_no_secrets([old_password, new_password], short_secrets=[otp])
