"""EC account pages: list, detail, edit, delete; scoping; masking; status rules; warnings."""

import re

import pytest
from django.urls import reverse

from ecbridge.integrations.models import ECAccount, ShippingCodeMapping
from tests.factories import ECAccountFactory, SalesChannelFactory, shipping_type

MOMO_SECRET = "S3cret-pass!"


@pytest.fixture
def momo_account(merchant, channel):
    return ECAccountFactory(
        merchant=merchant, sales_channel=channel, platform="momo", display_name="Acme momo"
    )


@pytest.fixture
def foreign_account(other_merchant, other_channel):
    return ECAccountFactory(merchant=other_merchant, sales_channel=other_channel, display_name="Beta momo")


def test_list_shows_columns_and_status_lights(operator_client, momo_account, foreign_account):
    ECAccountFactory(
        merchant=momo_account.merchant,
        sales_channel=momo_account.sales_channel,
        status="disconnected",
        display_name="Broken",
        inbound_push_enabled=True,
        push_percentage=60,
    )
    html = operator_client.get("/ec-accounts/").content.decode()
    assert "Acme momo" in html and "Beta momo" in html and "Broken" in html
    assert 'class="status-light connected"' in html and 'class="status-light disconnected"' in html
    assert "60%" in html and "Inactive" in html
    assert "Merchant" in html  # multi-merchant mode: merchant column
    assert 'id="guide-button"' in html and 'id="new-account"' in html


def test_single_merchant_mode_hides_merchant_column(merchant_client, momo_account, foreign_account):
    html = merchant_client.get("/ec-accounts/").content.decode()
    assert "Acme momo" in html and "Beta momo" not in html
    assert 'id="f-merchant"' not in html and '<th><a href="?sort=merchant' not in html


def test_list_search_filters_and_sort(operator_client, merchant, channel):
    a = ECAccountFactory(merchant=merchant, sales_channel=channel, display_name="Alpha", status="connected")
    b = ECAccountFactory(
        merchant=merchant, sales_channel=channel, display_name="Bravo", status="not_verified"
    )
    ECAccountFactory(
        merchant=merchant,
        sales_channel=channel,
        display_name="Charlie",
        platform="shopify",
        status="disconnected",
    )

    def names(query):
        html = operator_client.get("/ec-accounts/" + query).content.decode()
        return re.findall(r'data-account-name="([^"]+)"', html)

    assert names("?q=brav") == ["Bravo"]
    assert names("?q=shopify") == ["Charlie"]  # search matches the platform name too
    assert sorted(names("?status=connected&status=not_verified")) == ["Alpha", "Bravo"]
    assert names("?status=connected&platform=momo") == ["Alpha"]
    assert names("?sort=display_name") == ["Alpha", "Bravo", "Charlie"]
    assert names("?sort=-display_name") == ["Charlie", "Bravo", "Alpha"]
    assert names("?display_name=Alpha&display_name=Charlie&sort=display_name") == ["Alpha", "Charlie"]
    assert names("?sort=bogus")  # unknown sort falls back to the default, never a 500
    assert a.pk and b.pk


def test_detail_masks_secrets_and_shows_sections(operator_client, momo_account):
    html = operator_client.get(f"/ec-accounts/{momo_account.pk}/").content.decode()
    assert MOMO_SECRET not in html
    assert "********" in html and "12345678" in html  # entp id is not secret
    assert "No product mappings" in html
    assert 'id="shipping-mappings"' not in html  # table only when there are mappings
    ShippingCodeMapping.objects.create(
        ec_account=momo_account, platform_code="宅配通", shipping_type=shipping_type()
    )
    html = operator_client.get(f"/ec-accounts/{momo_account.pk}/").content.decode()
    assert 'id="shipping-mappings"' in html


def test_detail_disconnected_alert_edit_for_key_platform(operator_client, momo_account):
    ECAccount.objects.filter(pk=momo_account.pk).update(status="disconnected", status_reason="bad password")
    html = operator_client.get(f"/ec-accounts/{momo_account.pk}/").content.decode()
    assert 'id="disconnected-alert"' in html and 'id="alert-edit-button"' in html
    assert 'id="reauthorize-button"' not in html


def test_detail_disconnected_alert_reauthorize_for_oauth(operator_client, merchant, channel):
    account = ECAccountFactory(
        merchant=merchant, sales_channel=channel, platform="shopee", status="disconnected"
    )
    html = operator_client.get(f"/ec-accounts/{account.pk}/").content.decode()
    assert 'id="reauthorize-button"' in html and 'id="alert-edit-button"' not in html


@pytest.mark.parametrize("path", ["/ec-accounts/{pk}/", "/ec-accounts/{pk}/edit/"])
def test_foreign_account_pages_are_404(merchant_client, foreign_account, path):
    assert merchant_client.get(path.format(pk=foreign_account.pk)).status_code == 404


@pytest.mark.parametrize("path", ["delete", "test-connection", "revoke"])
def test_foreign_account_actions_are_404_and_change_nothing(merchant_client, foreign_account, path):
    response = merchant_client.post(f"/ec-accounts/{foreign_account.pk}/{path}/")
    assert response.status_code == 404
    foreign_account.refresh_from_db()
    assert foreign_account.status == "connected"


def test_edit_untouched_secret_keeps_value_and_status(operator_client, momo_account):
    response = operator_client.post(
        f"/ec-accounts/{momo_account.pk}/edit/",
        {
            "action": "save",
            "display_name": "Renamed",
            "sales_channel": momo_account.sales_channel_id,
            "cred_entp_id": "12345678",
            "cred_entp_code": "123456",
            "cred_entp_pwd": "",
            "cred_otp_back_no": "",
            "fetch_orders_enabled": "on",
            "fetch_time_1": "09:00",
            "fetch_time_2": "15:30",
            "inbound_push_enabled": "on",
            "push_percentage": "60",
            "mappings-TOTAL_FORMS": "0",
            "mappings-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    momo_account.refresh_from_db()
    assert momo_account.display_name == "Renamed"
    assert momo_account.status == "connected"
    assert momo_account.credentials["entp_pwd"] == MOMO_SECRET
    assert momo_account.fetch_times == ["09:00", "15:30"] and momo_account.next_fetch_at is not None
    assert momo_account.push_percentage == 60


def test_edit_new_secret_resets_to_not_verified(operator_client, momo_account):
    response = operator_client.post(
        f"/ec-accounts/{momo_account.pk}/edit/",
        {
            "action": "save",
            "display_name": momo_account.display_name,
            "sales_channel": momo_account.sales_channel_id,
            "cred_entp_id": "12345678",
            "cred_entp_code": "123456",
            "cred_entp_pwd": "NewPass-123",
            "cred_otp_back_no": "",
            "mappings-TOTAL_FORMS": "0",
            "mappings-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302
    momo_account.refresh_from_db()
    assert momo_account.status == "not_verified"
    assert momo_account.credentials["entp_pwd"] == "NewPass-123"


def test_edit_page_never_renders_secret(operator_client, momo_account):
    html = operator_client.get(f"/ec-accounts/{momo_account.pk}/edit/").content.decode()
    assert MOMO_SECRET not in html and 'placeholder="********"' in html
    assert "203.0.113.10" in html  # momo: egress IPs to allowlist


def test_settings_ignored_while_not_connected(operator_client, momo_account):
    ECAccount.objects.filter(pk=momo_account.pk).update(status="not_verified")
    operator_client.post(
        f"/ec-accounts/{momo_account.pk}/edit/",
        {
            "action": "save",
            "display_name": "X",
            "sales_channel": momo_account.sales_channel_id,
            "cred_entp_id": "12345678",
            "cred_entp_code": "123456",
            "inbound_push_enabled": "on",
            "push_percentage": "80",
            "mappings-TOTAL_FORMS": "0",
            "mappings-INITIAL_FORMS": "0",
        },
    )
    momo_account.refresh_from_db()
    assert momo_account.inbound_push_enabled is False and momo_account.push_percentage == 0
    html = operator_client.get(f"/ec-accounts/{momo_account.pk}/edit/").content.decode()
    assert 'id="settings-lock"' in html and re.search(
        r'<fieldset[^>]*disabled[^>]*id="settings-fieldset"', html
    )


def _settings_post(account, pct):
    return {
        "action": "save",
        "display_name": account.display_name,
        "sales_channel": account.sales_channel_id,
        "cred_entp_id": "12345678",
        "cred_entp_code": "123456",
        "inbound_push_enabled": "on",
        "push_percentage": str(pct),
        "mappings-TOTAL_FORMS": "0",
        "mappings-INITIAL_FORMS": "0",
    }


def test_push_percentage_over_100_warns_and_exactly_100_notices(
    operator_client, merchant, channel, momo_account
):
    ECAccountFactory(merchant=merchant, sales_channel=channel, inbound_push_enabled=True, push_percentage=60)
    response = operator_client.post(
        f"/ec-accounts/{momo_account.pk}/edit/", _settings_post(momo_account, 50), follow=True
    )
    html = response.content.decode()
    assert "110%" in html and "overselling" in html
    response = operator_client.post(
        f"/ec-accounts/{momo_account.pk}/edit/", _settings_post(momo_account, 40), follow=True
    )
    assert "exactly 100%" in response.content.decode()


def test_invalid_percentage_rejected_nothing_written(operator_client, momo_account):
    response = operator_client.post(
        f"/ec-accounts/{momo_account.pk}/edit/", _settings_post(momo_account, 101)
    )
    assert response.status_code == 400
    momo_account.refresh_from_db()
    assert momo_account.push_percentage == 0


def test_shipping_mappings_fixed_codes_saved(operator_client, momo_account):
    data = _settings_post(momo_account, 10)
    data.update(
        {
            "mappings-TOTAL_FORMS": "2",
            "mappings-INITIAL_FORMS": "0",
            "mappings-0-platform_code": "宅配通",
            "mappings-0-shipping_type": shipping_type("pelican_home").pk,
            "mappings-1-platform_code": "NOT-A-CODE",
            "mappings-1-shipping_type": shipping_type().pk,
        }
    )
    response = operator_client.post(f"/ec-accounts/{momo_account.pk}/edit/", data)
    assert response.status_code == 400  # momo's codes are fixed: an unknown one is refused
    assert not ShippingCodeMapping.objects.exists()
    data["mappings-TOTAL_FORMS"] = "1"
    assert operator_client.post(f"/ec-accounts/{momo_account.pk}/edit/", data).status_code == 302
    assert list(ShippingCodeMapping.objects.values_list("platform_code", flat=True)) == ["宅配通"]


def test_channel_of_another_merchant_is_refused(operator_client, momo_account, other_channel):
    data = _settings_post(momo_account, 10)
    data["sales_channel"] = other_channel.pk
    assert operator_client.post(f"/ec-accounts/{momo_account.pk}/edit/", data).status_code == 400
    momo_account.refresh_from_db()
    assert momo_account.sales_channel_id != other_channel.pk


def test_delete_keeps_nothing_and_confirms(operator_client, momo_account):
    html = operator_client.get(f"/ec-accounts/{momo_account.pk}/").content.decode()
    assert 'id="delete-modal"' in html and "cannot be undone" in html
    response = operator_client.post(f"/ec-accounts/{momo_account.pk}/delete/")
    assert response.status_code == 302
    assert not ECAccount.objects.filter(pk=momo_account.pk).exists()


def test_create_picks_merchant_first_for_multi_merchant_operator(operator_client, merchant):
    html = operator_client.get("/ec-accounts/new/").content.decode()
    assert 'id="pick-merchant"' in html
    html = operator_client.get(f"/ec-accounts/new/?merchant={merchant.pk}").content.decode()
    assert 'id="account-form"' in html and "Acme Foods" in html


def test_create_foreign_merchant_is_404(merchant_client, other_merchant):
    assert merchant_client.get(f"/ec-accounts/new/?merchant={other_merchant.pk}").status_code == 404


def test_create_without_channels_offers_link(merchant_client):
    html = merchant_client.get("/ec-accounts/new/?platform=momo").content.decode()
    assert "No sales channels created" in html and 'id="create-channel-link"' in html


def test_create_offers_only_implemented_platforms(merchant_client, channel):
    html = merchant_client.get("/ec-accounts/new/").content.decode()
    options = re.findall(
        r'<option value="([a-z0-9_]+)"', html.split('id="id_platform"')[1].split("</select>")[0]
    )
    assert set(options) == {"shopee", "shopify", "momo"}
    assert merchant_client.get("/ec-accounts/new/?platform=coupang").status_code == 404


def test_create_saves_not_verified(merchant_client, merchant, channel):
    response = merchant_client.post(
        "/ec-accounts/new/",
        {
            "action": "save",
            "platform": "momo",
            "display_name": "Acme momo",
            "sales_channel": channel.pk,
            "cred_entp_id": "12345678",
            "cred_entp_code": "123456",
            "cred_entp_pwd": "Password-1",
            "cred_otp_back_no": "123",
            "inbound_push_enabled": "on",
            "push_percentage": "50",
            "mappings-TOTAL_FORMS": "0",
            "mappings-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302
    account = ECAccount.objects.get()
    assert account.status == "not_verified" and account.merchant == merchant
    assert account.inbound_push_enabled is False  # settings stay locked until connected
    assert "Password-1" not in account.credentials_encrypted


def test_create_invalid_credentials_format_writes_nothing(merchant_client, channel):
    response = merchant_client.post(
        "/ec-accounts/new/",
        {
            "action": "save",
            "platform": "momo",
            "display_name": "Acme momo",
            "sales_channel": channel.pk,
            "cred_entp_id": "12",
            "cred_entp_code": "123456",
            "cred_entp_pwd": "short",
            "cred_otp_back_no": "1234",
            "mappings-TOTAL_FORMS": "0",
            "mappings-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "8-digit" in html and "8 to 14" in html
    assert not ECAccount.objects.exists()


def test_concept_guide(operator_client):
    html = operator_client.get(reverse("integrations:guide")).content.decode()
    assert "push percentage" in html.lower() and "<svg" in html and "sales channel" in html.lower()


def test_second_channel_for_same_merchant(operator_client, merchant):
    SalesChannelFactory(merchant=merchant, name="Second")
    html = operator_client.get(f"/ec-accounts/new/?merchant={merchant.pk}&platform=momo").content.decode()
    assert "Second" in html


def test_not_found_page_is_ours_and_translated(merchant_client, foreign_account, settings):
    settings.DEBUG = False
    response = merchant_client.get(f"/ec-accounts/{foreign_account.pk}/")
    assert response.status_code == 404 and 'id="not-found"' in response.content.decode()
    response = merchant_client.get(f"/ec-accounts/{foreign_account.pk}/", HTTP_ACCEPT_LANGUAGE="zh-hant")
    assert "找不到頁面" in response.content.decode() and "Beta momo" not in response.content.decode()


def test_revoke_forgets_authorization_expiry(operator_client, merchant, channel, monkeypatch):
    from django.utils import timezone

    from ecbridge.integrations.services import lifecycle

    account = ECAccountFactory(
        merchant=merchant,
        sales_channel=channel,
        platform="shopee",
        tokens={"access_token": "a" * 32, "refresh_token": "r" * 32},
        external_shop_id="777",
    )
    ECAccount.objects.filter(pk=account.pk).update(authorization_expires_at=timezone.now())
    monkeypatch.setattr(
        lifecycle,
        "client_for",
        lambda ctx, **kw: type(
            "C", (), {"revoke_url": lambda self, redirect_uri: "https://shopee.test/cancel_auth"}
        )(),
    )
    response = operator_client.post(f"/ec-accounts/{account.pk}/revoke/")
    assert response.status_code == 302 and response["Location"] == "https://shopee.test/cancel_auth"
    account.refresh_from_db()
    assert account.status == "disconnected" and account.authorization_expires_at is None
    assert "Authorization expires" not in operator_client.get(f"/ec-accounts/{account.pk}/").content.decode()


def test_rejected_save_after_successful_test_keeps_settings_open(merchant_client, merchant, channel):
    from django.core import signing

    from ecbridge.integrations.services import connection

    creds = {"entp_id": "12345678", "entp_code": "123456", "entp_pwd": "Password-1", "otp_back_no": "123"}
    proof = signing.dumps(
        {
            "p": "momo",
            "m": merchant.pk,
            "f": connection.credentials_fingerprint("momo", creds),
            "s": "",
            "n": "",
        },
        salt=connection.PROOF_SALT,
    )
    response = merchant_client.post(
        "/ec-accounts/new/",
        {
            "action": "save",
            "platform": "momo",
            "display_name": "",
            "sales_channel": channel.pk,
            "proof": proof,
            **{f"cred_{k}": v for k, v in creds.items()},
            "inbound_push_enabled": "on",
            "push_percentage": "40",
            "mappings-TOTAL_FORMS": "0",
            "mappings-INITIAL_FORMS": "0",
        },
    )
    html = response.content.decode()
    assert response.status_code == 400 and not ECAccount.objects.exists()
    assert not re.search(r'<fieldset[^>]*disabled[^>]*id="settings-fieldset"', html)
    assert 'value="40"' in html
