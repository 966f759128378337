# ruff: noqa: F811 - fixtures imported from tests.fakes are test parameters by design
"""Fetch Orders Manually: the button's visibility, the cooldown (one winner), the schedule left
alone, the page messages, and the API's 202/429 + Retry-After/409/404."""

from datetime import timedelta

import pytest
from django.utils import timezone
from huey.contrib.djhuey import HUEY

from ecbridge.integrations import tasks
from ecbridge.integrations.models import ECAccount, FetchRun
from ecbridge.integrations.services import fetching
from ecbridge.orders.models import Order
from ecbridge.tenancy.models import ApiToken
from tests.factories import ECAccountFactory
from tests.fakes import fake_platform, order  # noqa: F401

pytestmark = pytest.mark.django_db
COOLDOWN_TEXT = "Operation too frequent, please try again in"


@pytest.fixture
def queued(monkeypatch):
    calls = []
    monkeypatch.setattr(tasks, "fetch_orders", lambda *args: calls.append(args))
    return calls


@pytest.fixture
def account(fake_platform, merchant, channel):
    return ECAccountFactory(
        merchant=merchant,
        sales_channel=channel,
        platform="fake",
        display_name="Acme fake",
        fetch_orders_enabled=True,
        fetch_times=["09:00"],
        next_fetch_at=timezone.now() + timedelta(hours=3),
    )


@pytest.fixture
def foreign(fake_platform, other_merchant, other_channel):
    return ECAccountFactory(
        merchant=other_merchant, sales_channel=other_channel, platform="fake", fetch_orders_enabled=True
    )


def bearer(user):
    _token, raw = ApiToken.issue(user, "test")
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def test_cooldown_one_click_wins_and_the_schedule_stays(account, queued, django_capture_on_commit_callbacks):
    next_fetch = account.next_fetch_at
    with django_capture_on_commit_callbacks(execute=True):
        run = fetching.request_manual_fetch(account)
    with pytest.raises(fetching.Cooldown) as raised:
        fetching.request_manual_fetch(ECAccount.objects.get(pk=account.pk))
    assert queued == [(account.pk, "manual", run.pk)]
    assert FetchRun.objects.count() == 1
    assert str(raised.value) == "Operation too frequent, please try again in 10 minutes"
    assert 590 <= raised.value.seconds <= 600
    account.refresh_from_db()
    assert account.next_fetch_at == next_fetch and account.last_manual_fetch_at


@pytest.mark.parametrize("ago,minutes", [(9 * 60 + 1, "1 minute"), (61, "9 minutes"), (599, "1 minute")])
def test_minutes_are_rounded_up(account, queued, ago, minutes):
    ECAccount.objects.filter(pk=account.pk).update(
        last_manual_fetch_at=timezone.now() - timedelta(seconds=ago)
    )
    with pytest.raises(fetching.Cooldown) as raised:
        fetching.request_manual_fetch(account)
    assert str(raised.value) == f"{COOLDOWN_TEXT} {minutes}"


def test_after_the_cooldown_it_is_allowed_again(account, queued, settings):
    ECAccount.objects.filter(pk=account.pk).update(
        last_manual_fetch_at=timezone.now() - timedelta(seconds=601)
    )
    assert fetching.request_manual_fetch(account).trigger == "manual"


def test_a_losing_concurrent_click_gets_the_cooldown(account, queued, monkeypatch):
    """The other click's UPDATE landed between our read and ours: we must not queue."""
    real_now = timezone.now

    calls = {"n": 0}

    def now():
        calls["n"] += 1
        if calls["n"] == 1:
            ECAccount.objects.filter(pk=account.pk).update(last_manual_fetch_at=real_now())
        return real_now()

    monkeypatch.setattr(fetching.timezone, "now", now)
    with pytest.raises(fetching.Cooldown):
        fetching.request_manual_fetch(account)
    assert not FetchRun.objects.exists()


@pytest.mark.parametrize("change", [{"status": "disconnected"}, {"fetch_orders_enabled": False}])
def test_not_allowed_when_not_connected_or_fetch_off(account, queued, change):
    ECAccount.objects.filter(pk=account.pk).update(**change)
    with pytest.raises(fetching.FetchNotAllowed):
        fetching.request_manual_fetch(account)
    assert queued == [] and ECAccount.objects.get(pk=account.pk).last_manual_fetch_at is None


# --- page -------------------------------------------------------------------------------------------
def test_button_shows_only_when_connected_and_fetch_on(merchant_client, account):
    url = f"/ec-accounts/{account.pk}/"
    assert 'id="fetch-button"' in merchant_client.get(url).content.decode()
    ECAccount.objects.filter(pk=account.pk).update(fetch_orders_enabled=False)
    assert 'id="fetch-button"' not in merchant_client.get(url).content.decode()
    ECAccount.objects.filter(pk=account.pk).update(fetch_orders_enabled=True, status="disconnected")
    assert 'id="fetch-button"' not in merchant_client.get(url).content.decode()


def test_page_click_queues_then_cooldown_message(merchant_client, account, queued):
    url = f"/ec-accounts/{account.pk}/fetch-orders/"
    first = merchant_client.post(url, follow=True)
    assert "Order fetch queued" in first.content.decode()
    second = merchant_client.post(url, follow=True)
    assert f"{COOLDOWN_TEXT} 10 minutes" in second.content.decode()
    assert FetchRun.objects.filter(trigger="manual").count() == 1
    assert merchant_client.get(url).status_code == 405


def test_page_shows_the_last_fetch_result(merchant_client, account):
    FetchRun.objects.create(
        ec_account=account, trigger="manual", status="failed", message="Fetch failed: boom"
    )
    html = merchant_client.get(f"/ec-accounts/{account.pk}/").content.decode()
    assert 'id="last-fetch"' in html and "Fetch failed: boom" in html


def test_page_foreign_account_is_404(merchant_client, foreign, queued):
    assert merchant_client.post(f"/ec-accounts/{foreign.pk}/fetch-orders/").status_code == 404
    assert queued == []


def test_page_click_runs_the_fetch_end_to_end(
    merchant_client,
    account,
    fake_platform,
    django_capture_on_commit_callbacks,
):
    fake_platform.add(order("E1"))
    HUEY.immediate = True
    try:
        with django_capture_on_commit_callbacks(execute=True):
            merchant_client.post(f"/ec-accounts/{account.pk}/fetch-orders/")
    finally:
        HUEY.immediate = False
    run = FetchRun.objects.get()
    assert run.status == "succeeded" and run.orders_new == 1
    assert Order.objects.filter(platform_order_id="E1").exists()


# --- API --------------------------------------------------------------------------------------------
def test_api_202_then_429_with_retry_after(client, merchant_user, account, queued):
    h = bearer(merchant_user)
    url = f"/api/v1/ec-accounts/{account.pk}/fetch-orders"
    first = client.post(url, **h)
    assert first.status_code == 202
    fetch_id = first.json()["fetch_id"]
    assert FetchRun.objects.get(pk=fetch_id).trigger == "manual"
    second = client.post(url, **h)
    assert second.status_code == 429
    assert second.json() == {"detail": "Operation too frequent, please try again in 10 minutes"}
    assert 590 <= int(second["Retry-After"]) <= 600
    got = client.get(f"{url}/{fetch_id}", **h)
    assert got.status_code == 200 and got.json()["status"] == "queued"


def test_api_409_when_not_connected(client, merchant_user, account, queued):
    ECAccount.objects.filter(pk=account.pk).update(status="not_verified")
    response = client.post(f"/api/v1/ec-accounts/{account.pk}/fetch-orders", **bearer(merchant_user))
    assert response.status_code == 409 and "not connected" in response.json()["detail"]


def test_api_foreign_account_is_404(client, merchant_user, foreign, queued):
    h = bearer(merchant_user)
    assert client.post(f"/api/v1/ec-accounts/{foreign.pk}/fetch-orders", **h).status_code == 404
    run = FetchRun.objects.create(ec_account=foreign, trigger="manual")
    assert client.get(f"/api/v1/ec-accounts/{foreign.pk}/fetch-orders/{run.pk}", **h).status_code == 404
    assert queued == []


def test_api_requires_authentication(client, account):
    assert client.post(f"/api/v1/ec-accounts/{account.pk}/fetch-orders").status_code == 401
