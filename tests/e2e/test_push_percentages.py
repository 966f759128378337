"""Push percentages across one merchant's accounts: the page warns before overselling is possible."""

import re

import pytest
from playwright.sync_api import expect

from ecbridge.integrations.services import lifecycle

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

SETTINGS = {"fetch_orders_enabled": True, "fetch_times": ["09:00"], "inbound_push_enabled": True}


def save_edit(site, account, percentage: str) -> None:
    site.goto(f"/ec-accounts/{account.pk}/edit/")
    site.page.check("#id_inbound_push_enabled")
    site.page.fill("#id_push_percentage", percentage)
    with site.page.expect_navigation():
        site.page.click("#save-button")
    assert site.path() == f"/ec-accounts/{account.pk}/"


@pytest.mark.e2e
def test_push_percentages_over_100_warn_of_overselling(site, connected_accounts):
    page = site.page
    shopee, momo = connected_accounts.shopee, connected_accounts.momo
    lifecycle.save_account(shopee, settings_data={**SETTINGS, "push_percentage": 60})
    site.login("operator")

    # Shopee pushes 60%; momo at 50% makes 110%: saved, with the overselling warning.
    save_edit(site, momo, "50")
    warning = page.locator("#messages .alert-warning")
    expect(warning).to_have_count(1)
    expect(warning).to_contain_text("110%")
    expect(warning).to_contain_text("overselling")
    expect(page.locator("#push-settings")).to_contain_text("50%")
    site.shot("01-overselling-warning")
    momo.refresh_from_db()
    assert momo.inbound_push_enabled and momo.push_percentage == 50

    site.goto("/ec-accounts/")
    expect(page.locator(f'tr[data-account="{shopee.pk}"]')).to_contain_text("60%")
    expect(page.locator(f'tr[data-account="{momo.pk}"]')).to_contain_text("50%")
    expect(page.locator(f'tr[data-account="{connected_accounts.shopify.pk}"]')).to_contain_text("Inactive")
    site.shot("02-list-percentages")

    # Exactly 100%: no warning, but a notice that no buffer is left.
    save_edit(site, momo, "40")
    expect(page.locator("#messages .alert-warning")).to_have_count(0)
    expect(page.locator("#messages .alert-info")).to_contain_text(re.compile("exactly 100%"))
    site.shot("03-exactly-100")

    # Below 100%: neither.
    save_edit(site, momo, "30")
    expect(page.locator("#messages")).not_to_contain_text("100%")
    expect(page.locator("#messages")).to_contain_text("EC account saved.")

    site.log.assert_no_secrets(*connected_accounts.secrets())
