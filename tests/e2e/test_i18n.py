"""Traditional Chinese: the header's language selector switches every page to zh-Hant (the
glossary terms below are the product's names for them) and back."""

import re

import pytest
from playwright.sync_api import expect

from ecbridge.integrations.models import ECAccount
from tests.factories import ECAccountFactory

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def switch_language(site, code: str) -> None:
    with site.page.expect_navigation():
        site.page.select_option("#language-switcher select", value=code)


@pytest.mark.e2e
def test_pages_render_in_traditional_chinese(site, connected_accounts, merchant):
    page = site.page
    momo, shopee = connected_accounts.momo, connected_accounts.shopee
    ECAccount.objects.filter(pk=shopee.pk).update(status="disconnected", status_reason="")
    fresh = ECAccountFactory(
        merchant=merchant,
        sales_channel=connected_accounts.shopify.sales_channel,
        platform="shopify",
        display_name="Acme Shopify (new)",
        status="not_verified",
    )
    site.login("operator")
    expect(page.locator("h1")).to_have_text("EC Integrations")

    switch_language(site, "zh-hant")
    assert site.path() == "/ec-accounts/"  # the selector brings you back to the same page
    expect(page.locator("html")).to_have_attribute("lang", "zh-hant")
    expect(page.locator("h1")).to_have_text("電商串接")
    expect(page.locator(f'tr[data-account="{momo.pk}"]')).to_contain_text("已連線")
    expect(page.locator(f'tr[data-account="{shopee.pk}"]')).to_contain_text("已斷線")
    expect(page.locator(f'tr[data-account="{fresh.pk}"]')).to_contain_text("未驗證")
    site.shot("01-list-zh-hant")

    site.goto(f"/ec-accounts/{momo.pk}/")
    expect(page.locator("#status-tag")).to_have_text("已連線")
    expect(page.locator(".card-header").first).to_contain_text("連線資訊")
    expect(page.locator(".card-header").nth(1)).to_contain_text("功能設定")
    site.shot("02-detail-zh-hant")

    site.goto(f"/ec-accounts/{shopee.pk}/")
    expect(page.locator("#status-tag")).to_have_text("已斷線")
    expect(page.locator("#disconnected-alert")).to_be_visible()
    site.shot("03-detail-disconnected-zh-hant")

    site.goto(f"/ec-accounts/{momo.pk}/edit/")
    expect(page.locator("#test-button")).to_have_text(re.compile("測試連線"))
    expect(page.locator("#account-form")).to_contain_text("連線資訊")
    expect(page.locator("#settings-card")).to_contain_text("功能設定")
    site.shot("04-edit-zh-hant")

    site.goto(f"/ec-accounts/{fresh.pk}/edit/")
    expect(page.locator("#status-tag")).to_have_text("未驗證")
    expect(page.locator("#authorize-button")).to_have_text(re.compile("授權並連線"))
    site.shot("05-edit-oauth-zh-hant")

    # The choice sticks across pages, and switching back restores English.
    site.goto("/ec-accounts/")
    expect(page.locator("h1")).to_have_text("電商串接")
    switch_language(site, "en")
    expect(page.locator("h1")).to_have_text("EC Integrations")
    expect(page.locator(f'tr[data-account="{momo.pk}"]')).to_contain_text("Connected")

    site.log.assert_no_secrets(*connected_accounts.secrets())
