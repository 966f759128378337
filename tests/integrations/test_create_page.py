"""The create page as a person uses it: choosing a platform shows no errors yet, and the secrets
typed for a Test Connection survive the test whether it passed or failed (kept encrypted in the
session, never rendered back), so a failed try is fixed by changing one field."""

import re

import pytest

from ecbridge.integrations.models import ECAccount
from tests.factories import SalesChannelFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def momo_shop(sandbox_client):
    return sandbox_client.post("/sandbox/momo/_console/shops", json={"name": "Acme momo"}).json()


def _post(client, merchant, **fields):
    data = {"merchant": merchant.pk, "platform": "momo", **fields}
    return client.post("/ec-accounts/new/", data)


def _hidden(page: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', page)
    return match.group(1) if match else ""


def test_choosing_a_platform_shows_no_errors_and_keeps_what_was_typed(merchant_client, merchant):
    channel = SalesChannelFactory(merchant=merchant)
    response = _post(
        merchant_client,
        merchant,
        action="choose_platform",
        display_name="Acme momo",
        sales_channel=channel.pk,
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert (
        "is-invalid" not in page and "invalid-feedback" not in page and "This field is required" not in page
    )
    assert 'value="Acme momo"' in page and f'value="{channel.pk}" selected' in page
    assert 'name="cred_entp_pwd"' in page  # the platform's fields are there, still empty


def test_a_failed_test_keeps_the_typed_secrets_for_the_next_try(merchant_client, merchant, momo_shop):
    creds = momo_shop["credentials"]
    channel = SalesChannelFactory(merchant=merchant)
    typed = {f"cred_{k}": v for k, v in creds.items()}
    wrong = {**typed, "cred_entp_code": "999999"}  # a typo in a non-secret field: the test fails
    first = _post(
        merchant_client, merchant, action="test", display_name="m", sales_channel=channel.pk, **wrong
    )
    page = first.content.decode()
    assert 'id="test-result"' in page and "alert-danger" in page
    assert (
        creds["entp_pwd"] not in page
        and creds["otp_back_no"] not in page.split('name="cred_otp_back_no"')[1][:200]
    )
    key = _hidden(page, "kept_secrets")
    assert key and "Kept from your last Test Connection" in page
    # fix the typo only; the secret inputs are left blank
    retry = {**typed, "cred_entp_code": creds["entp_code"], "cred_entp_pwd": "", "cred_otp_back_no": ""}
    second = _post(
        merchant_client,
        merchant,
        action="test",
        display_name="m",
        sales_channel=channel.pk,
        kept_secrets=key,
        **retry,
    )
    page = second.content.decode()
    assert "alert-success" in page, page[page.find('id="test-result"') : page.find('id="test-result"') + 400]
    proof = _hidden(page, "proof")
    saved = _post(
        merchant_client,
        merchant,
        action="save",
        display_name="m",
        sales_channel=channel.pk,
        proof=proof,
        kept_secrets=_hidden(page, "kept_secrets"),
        **{
            "mappings-TOTAL_FORMS": "0",
            "mappings-INITIAL_FORMS": "0",
            "fetch_orders_enabled": "on",
            "fetch_time_1": "14:00",
        },
        **retry,
    )
    body = saved.content.decode()
    assert saved.status_code == 302, [
        body[m.start() - 300 : m.start() + 200]
        for m in re.finditer("is-invalid|errorlist|alert-danger", body)
    ][:3]
    account = ECAccount.objects.get(display_name="m")
    assert account.status == "connected" and account.credentials["entp_pwd"] == creds["entp_pwd"]
    assert "ecbridge.kept_secrets" not in merchant_client.session  # Save forgets them


def test_kept_secrets_are_only_this_sessions(merchant_client, merchant_user, merchant, momo_shop):
    """The key alone is worth nothing: the values live in the session that typed them."""
    creds = momo_shop["credentials"]
    channel = SalesChannelFactory(merchant=merchant)
    typed = {f"cred_{k}": v for k, v in creds.items()}
    page = _post(
        merchant_client, merchant, action="test", display_name="m", sales_channel=channel.pk, **typed
    ).content.decode()
    key = _hidden(page, "kept_secrets")
    assert key
    blank = {**typed, "cred_entp_pwd": "", "cred_otp_back_no": ""}
    merchant_client.cookies.clear()
    merchant_client.force_login(merchant_user)  # a new session of the same person
    again = _post(
        merchant_client,
        merchant,
        action="test",
        display_name="m",
        sales_channel=channel.pk,
        kept_secrets=key,
        **blank,
    )
    assert again.status_code == 400 and "is-invalid" in again.content.decode()
