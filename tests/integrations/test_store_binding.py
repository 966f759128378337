# ruff: noqa: F811 - the shopee_shop fixture imported from test_connection_flows is a test parameter
"""One platform store, one EC account: every binding path refuses a store another account holds
(without naming the other merchant), leaves the holder untouched, and OAuth states work once."""

import pytest
from django.db import IntegrityError, transaction

from ecbridge.core.demo_consent import approve
from ecbridge.integrations.models import ECAccount
from ecbridge.integrations.services import connection, lifecycle, stores
from tests.factories import ECAccountFactory, SalesChannelFactory
from tests.integrations.test_connection_flows import connect_oauth, new_account, shopee_shop  # noqa: F401


@pytest.fixture
def acme_shopee(merchant, operator, sandbox_client, shopee_shop):
    account = new_account(merchant, "shopee")
    ok, message = connect_oauth(account, operator, sandbox_client, {"shop_id": str(shopee_shop["id"])})
    assert ok, message
    account.refresh_from_db()
    return account


def test_shopee_store_of_another_merchant_is_refused_and_holder_untouched(
    acme_shopee, other_merchant, operator, sandbox_client, shopee_shop
):
    before = (acme_shopee.status, acme_shopee.tokens_encrypted, acme_shopee.external_shop_id)
    beta = new_account(other_merchant, "shopee")
    ok, message = connect_oauth(beta, operator, sandbox_client, {"shop_id": str(shopee_shop["id"])})
    assert not ok
    assert "another EC account" in message
    assert acme_shopee.merchant.name not in message and acme_shopee.display_name not in message
    beta.refresh_from_db()
    assert beta.status != "connected" and not beta.tokens_encrypted and beta.external_shop_id == ""
    acme_shopee.refresh_from_db()
    assert (acme_shopee.status, acme_shopee.tokens_encrypted, acme_shopee.external_shop_id) == before
    # Revoking the account that never got the store does not send anyone to the platform, so
    # the holder's authorization survives.
    assert lifecycle.revoke(beta) is None
    acme_shopee.refresh_from_db()
    assert acme_shopee.status == "connected"
    assert connection.test_account(acme_shopee).ok


def test_same_merchant_second_account_for_one_store_names_the_first(
    acme_shopee, merchant, operator, sandbox_client, shopee_shop
):
    second = new_account(merchant, "shopee", name="Shopee again")
    ok, message = connect_oauth(second, operator, sandbox_client, {"shop_id": str(shopee_shop["id"])})
    assert not ok and acme_shopee.display_name in message


def test_reauthorizing_another_shop_is_refused(acme_shopee, operator, sandbox_client):
    other_shop = sandbox_client.post("/sandbox/shopee/_console/shops", json={"name": "Other"}).json()
    ok, message = connect_oauth(acme_shopee, operator, sandbox_client, {"shop_id": str(other_shop["id"])})
    assert not ok and str(other_shop["id"]) in message
    acme_shopee.refresh_from_db()
    assert acme_shopee.status == "connected"


def test_shopify_domain_is_bound_case_insensitively(merchant, other_merchant, operator, sandbox_client):
    shop = sandbox_client.post("/sandbox/shopify/_console/shops", json={"name": "Acme Store"}).json()
    acme = new_account(merchant, "shopify", shop_domain=shop["id"])
    assert connect_oauth(acme, operator, sandbox_client)[0]
    same_store_other_case = shop["id"].split(".")[0].upper() + ".myshopify.com"
    beta = new_account(other_merchant, "shopify", shop_domain=same_store_other_case)
    ok, message = connect_oauth(beta, operator, sandbox_client)
    assert not ok and "another EC account" in message
    acme.refresh_from_db()
    assert acme.status == "connected" and len(acme.webhooks) == 4


def test_momo_test_and_save_refuse_a_held_vendor_code(merchant, other_merchant, sandbox_client):
    shop = sandbox_client.post("/sandbox/momo/_console/shops", json={"name": "Acme momo"}).json()
    creds = shop["credentials"]
    acme = new_account(merchant, "momo", **creds)
    assert connection.test_account(acme).ok
    # Typed test on the create page of another merchant
    typed = connection.test_credentials("momo", other_merchant.pk, creds)
    assert not typed.ok and not typed.proof and "another EC account" in typed.message
    # Saved without a proof, then tested (the API path)
    beta = new_account(other_merchant, "momo", **creds)
    result = connection.test_account(beta)
    assert not result.ok and "another EC account" in result.message
    beta.refresh_from_db()
    acme.refresh_from_db()
    assert beta.status == "disconnected" and beta.external_shop_id == ""
    assert acme.status == "connected" and acme.external_shop_id == creds["entp_code"]
    # The holder itself may test again (its own store is not "another account's")
    assert connection.test_account(acme).ok


def test_a_proof_for_a_store_bound_since_is_refused_at_save(merchant, other_merchant, sandbox_client):
    shop = sandbox_client.post("/sandbox/momo/_console/shops", json={"name": "Acme momo"}).json()
    creds = shop["credentials"]
    proof = connection.test_credentials("momo", other_merchant.pk, creds).proof
    assert proof
    acme = new_account(merchant, "momo", **creds)
    assert connection.test_account(acme).ok  # Acme binds the store after Beta's test
    beta = ECAccount(
        merchant=other_merchant,
        platform="momo",
        display_name="beta momo",
        sales_channel=SalesChannelFactory(merchant=other_merchant),
    )
    with pytest.raises(lifecycle.LifecycleError, match="another EC account"):
        lifecycle.save_account(beta, credentials=creds, proof=proof)
    assert not ECAccount.objects.filter(display_name="beta momo").exists()


def test_database_refuses_two_accounts_for_one_store(merchant, other_merchant, channel, other_channel):
    ECAccountFactory(merchant=merchant, sales_channel=channel, platform="shopee", external_shop_id="123")
    with pytest.raises(IntegrityError), transaction.atomic():
        ECAccountFactory(
            merchant=other_merchant, sales_channel=other_channel, platform="shopee", external_shop_id="123"
        )
    # The same id on another platform is another store.
    ECAccountFactory(
        merchant=other_merchant, sales_channel=other_channel, platform="momo", external_shop_id="123"
    )


def test_racing_binders_lose_to_the_database(merchant, other_merchant, channel, other_channel, monkeypatch):
    ECAccountFactory(merchant=merchant, sales_channel=channel, platform="shopee", external_shop_id="55")
    late = ECAccountFactory(
        merchant=other_merchant, sales_channel=other_channel, platform="shopee", status="not_verified"
    )
    monkeypatch.setattr(stores, "check_free", lambda platform, merchant_id, raw, account_pk=None: "55")
    with pytest.raises(stores.StoreAlreadyBound, match="another EC account"):
        stores.bind(late, "55", status="connected")
    late.refresh_from_db()
    assert late.status != "connected" and late.external_shop_id == ""


def test_oauth_callback_reload_keeps_the_account_connected(
    operator_client, merchant, operator, sandbox_client, shopee_shop
):
    account = new_account(merchant, "shopee")
    params = approve(
        sandbox_client, lifecycle.authorize_url(account, operator), choose={"shop_id": str(shopee_shop["id"])}
    )
    url = "/ec-accounts/oauth/shopee/callback/?" + "&".join(f"{k}={v}" for k, v in params.items())
    first = operator_client.get(url)
    assert first.status_code == 302
    account.refresh_from_db()
    assert account.status == "connected"
    tokens = account.tokens_encrypted
    again = operator_client.get(url)
    assert again.status_code == 200
    assert "already connected" in again.content.decode()
    account.refresh_from_db()
    assert account.status == "connected" and account.tokens_encrypted == tokens


def test_an_older_state_is_refused_after_a_newer_authorize(
    operator_client, merchant, operator, sandbox_client
):
    shop = sandbox_client.post("/sandbox/shopify/_console/shops", json={"name": "Two tabs"}).json()
    account = new_account(merchant, "shopify", shop_domain=shop["id"])
    old_params = approve(sandbox_client, lifecycle.authorize_url(account, operator))
    lifecycle.authorize_url(account, operator)  # a second tab: the first link is now stale
    url = "/ec-accounts/oauth/shopify/callback/?" + "&".join(f"{k}={v}" for k, v in old_params.items())
    response = operator_client.get(url)
    assert response.status_code == 200 and "already used" in response.content.decode()
    account.refresh_from_db()
    assert account.status == "not_verified" and not account.tokens_encrypted


def test_abandoned_consent_is_continued_not_duplicated(merchant, channel):
    def create():
        account = ECAccount(
            merchant=merchant, platform="shopee", display_name="Main shop", sales_channel=channel
        )
        return lifecycle.save_account(account, credentials={})

    first = create()
    second = create()
    assert second.account.pk == first.account.pk
    assert second.notices and ECAccount.objects.filter(merchant=merchant, platform="shopee").count() == 1


def test_same_display_name_is_warned_about(merchant, channel):
    ECAccountFactory(
        merchant=merchant, sales_channel=channel, platform="momo", display_name="Main", status="connected"
    )
    account = ECAccount(merchant=merchant, platform="momo", display_name="main", sales_channel=channel)
    result = lifecycle.save_account(
        account,
        credentials={
            "entp_id": "12345678",
            "entp_code": "123456",
            "entp_pwd": "password1",
            "otp_back_no": "123",
        },
    )
    assert any("also called" in w for w in result.warnings)
