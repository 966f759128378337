"""Connecting accounts through the services against the in-process sandbox: OAuth, token
refresh, disconnection, revocation, webhook cleanup on delete, and what reaches the API log."""

import pytest

from ecbridge.apilog.models import ApiCall
from ecbridge.core.demo_consent import approve
from ecbridge.integrations.models import ECAccount
from ecbridge.integrations.services import connection, lifecycle
from ecbridge.notifications.models import Notification
from tests.factories import SalesChannelFactory


def api_log_text() -> str:
    return "\n".join(
        " ".join([c.endpoint, c.request_headers, c.request_body, c.response_body, c.error])
        for c in ApiCall.objects.all()
    )


def new_account(merchant, platform, name=None, **creds):
    account = ECAccount(
        merchant=merchant,
        platform=platform,
        display_name=name or f"{merchant.code} {platform}",
        sales_channel=SalesChannelFactory(merchant=merchant),
    )
    return lifecycle.save_account(account, credentials=creds).account


def connect_oauth(account, user, sandbox_client, choose=None):
    params = approve(sandbox_client, lifecycle.authorize_url(account, user), choose=choose)
    return lifecycle.complete_authorization(account, params)


@pytest.fixture
def shopee_shop(sandbox_client):
    return sandbox_client.post("/sandbox/shopee/_console/shops", json={"name": "Acme Shopee"}).json()


@pytest.fixture
def shopee_account(merchant, operator, sandbox_client, shopee_shop):
    account = new_account(merchant, "shopee")
    ok, message = connect_oauth(account, operator, sandbox_client, {"shop_id": str(shopee_shop["id"])})
    assert ok, message
    account.refresh_from_db()
    return account


def test_shopee_authorization_connects_and_keeps_tokens_secret(shopee_account, shopee_shop):
    assert shopee_account.status == "connected"
    assert shopee_account.external_shop_id == str(shopee_shop["id"])
    assert shopee_account.external_shop_name
    tokens = shopee_account.tokens
    assert tokens["access_token"] and tokens["refresh_token"]
    assert tokens["access_token"] not in shopee_account.tokens_encrypted
    log = api_log_text()
    assert ApiCall.objects.filter(operation__icontains="token").exists()
    for secret in (tokens["access_token"], tokens["refresh_token"], "sandbox-shopee-key"):
        assert secret not in log


def test_expired_access_token_is_refreshed_once_and_rotated(shopee_account, sandbox_client):
    before = shopee_account.tokens
    sandbox_client.post("/sandbox/shopee/_console/faults", json={"expire_tokens": True})
    result = connection.test_account(shopee_account)
    assert result.ok, result.message
    shopee_account.refresh_from_db()
    after = shopee_account.tokens
    assert after["access_token"] != before["access_token"]
    assert after["refresh_token"] != before["refresh_token"]  # single-use refresh tokens rotate


def test_revoked_on_platform_disconnects_and_notifies(shopee_account, operator, sandbox_client):
    url = lifecycle.revoke(shopee_account)
    assert url and "cancel_auth" in url
    shopee_account.refresh_from_db()
    assert shopee_account.status == "disconnected" and not shopee_account.tokens_encrypted
    approve(sandbox_client, url)  # the seller confirms on Shopee's page
    result = connection.test_account(shopee_account)
    assert not result.ok and "Authorize" in result.message
    # Re-authorize brings it back.
    ok, message = connect_oauth(shopee_account, operator, sandbox_client)
    assert ok, message


def test_refresh_rejected_disconnects_with_notification(shopee_account, sandbox_client):
    cancel = lifecycle.client_for(shopee_account.context()).revoke_url(redirect_uri="http://x.test/")
    approve(sandbox_client, cancel)  # authorization cancelled on the platform behind our back
    result = connection.test_account(shopee_account)
    assert not result.ok
    shopee_account.refresh_from_db()
    assert shopee_account.status == "disconnected"
    assert Notification.objects.filter(ec_account=shopee_account, kind="disconnected").count() == 1


def test_momo_proof_then_save_connects(merchant, sandbox_client):
    shop = sandbox_client.post("/sandbox/momo/_console/shops", json={"name": "Acme momo"}).json()
    creds = shop["credentials"]
    result = connection.test_credentials("momo", merchant.pk, creds)
    assert result.ok and result.proof
    account = ECAccount(
        merchant=merchant,
        platform="momo",
        display_name="m",
        sales_channel=SalesChannelFactory(merchant=merchant),
    )
    saved = lifecycle.save_account(
        account,
        credentials=creds,
        proof=result.proof,
        settings_data={"inbound_push_enabled": True, "push_percentage": 40},
    )
    assert saved.account.status == "connected" and saved.account.push_percentage == 40
    # A proof for other values (or another merchant) vouches for nothing.
    other = ECAccount(
        merchant=merchant, platform="momo", display_name="n", sales_channel=account.sales_channel
    )
    changed = {**creds, "otp_back_no": "000" if creds["otp_back_no"] != "000" else "111"}
    assert (
        lifecycle.save_account(other, credentials=changed, proof=result.proof).account.status
        == "not_verified"
    )
    assert ApiCall.objects.exists() and creds["entp_pwd"] not in api_log_text()


def test_momo_password_changed_on_platform_disconnects(merchant, sandbox_client):
    shop = sandbox_client.post("/sandbox/momo/_console/shops", json={"name": "Acme momo"}).json()
    account = new_account(merchant, "momo", **shop["credentials"])
    assert connection.test_account(account).ok
    new_pwd = sandbox_client.post(f"/sandbox/momo/_console/shops/{shop['id']}/password", json={}).json()
    result = connection.test_account(account)
    assert not result.ok
    account.refresh_from_db()
    assert account.status == "disconnected" and account.status_reason
    assert Notification.objects.filter(ec_account=account, kind="disconnected").exists()
    # Typing the new password resets to Not Verified; testing it connects again.
    password = new_pwd.get("entp_pwd") or new_pwd.get("credentials", {}).get("entp_pwd")
    saved = lifecycle.save_account(account, credentials={"entp_pwd": password})
    assert saved.account.status == "not_verified"
    assert connection.test_account(account).ok


def test_shopify_webhooks_registered_on_connect_and_cleared_on_delete(merchant, operator, sandbox_client):
    shop = sandbox_client.post("/sandbox/shopify/_console/shops", json={"name": "Beta Store"}).json()
    account = new_account(merchant, "shopify", shop_domain=shop["id"])
    ok, message = connect_oauth(account, operator, sandbox_client)
    assert ok, message
    account.refresh_from_db()
    assert len(account.webhooks) == 4
    state = sandbox_client.get("/sandbox/shopify/_console/state", params={"shop": shop["id"]}).json()
    assert len(state["webhooks"]) == 4
    lifecycle.delete_account(account)
    state = sandbox_client.get("/sandbox/shopify/_console/state", params={"shop": shop["id"]}).json()
    assert state["webhooks"] == []
    assert not ECAccount.objects.filter(pk=account.pk).exists()
    assert ApiCall.objects.filter(operation__icontains="webhook", outcome="success").count() >= 8


def test_shopify_revoke_uninstalls_through_the_api(merchant, operator, sandbox_client):
    shop = sandbox_client.post("/sandbox/shopify/_console/shops", json={"name": "Gamma Store"}).json()
    account = new_account(merchant, "shopify", shop_domain=shop["id"])
    assert connect_oauth(account, operator, sandbox_client)[0]
    assert lifecycle.revoke(account) is None
    account.refresh_from_db()
    assert account.status == "disconnected" and not account.tokens_encrypted
    state = sandbox_client.get("/sandbox/shopify/_console/state", params={"shop": shop["id"]}).json()
    assert state["webhooks"] == []


def test_oauth_callback_rejects_forged_or_foreign_state(operator_client, merchant_client, merchant, operator):
    account = new_account(merchant, "shopee")
    assert (
        operator_client.get("/ec-accounts/oauth/shopee/callback/?code=x&shop_id=1&state=forged").status_code
        == 400
    )
    from django.core import signing

    state = signing.dumps({"a": account.pk, "u": operator.pk}, salt=lifecycle.STATE_SALT)
    response = merchant_client.get(f"/ec-accounts/oauth/shopee/callback/?code=x&shop_id=1&state={state}")
    assert response.status_code == 400  # started by another user
    account.refresh_from_db()
    assert account.status == "not_verified"
