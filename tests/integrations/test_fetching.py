# ruff: noqa: F811 - fixtures imported from tests.fakes are test parameters by design
"""run_fetch against the fake platform: windows, overlap, splitting, the cursor only after a whole
window, failures, auth, the lease, and the accounts that must never fetch."""

from datetime import timedelta

import pytest
from django.utils import timezone

from ecbridge.core import leases
from ecbridge.integrations.models import ECAccount, FetchRun
from ecbridge.integrations.services import fetching
from ecbridge.notifications.models import Notification
from ecbridge.orders.models import Order
from ecbridge.platforms.errors import AuthError, RateLimited, TransientError
from tests.factories import ECAccountFactory
from tests.fakes import NOW, fake_platform, order  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def account(fake_platform, merchant, channel):
    return ECAccountFactory(
        merchant=merchant,
        sales_channel=channel,
        platform="fake",
        external_shop_id="shop-1",
        fetch_orders_enabled=True,
    )


def add_orders(state, n, start=0, when=None):
    for i in range(start, start + n):
        state.add(order(f"O{i}", updated=(when or NOW) - timedelta(minutes=i)))


def cursor(account):
    return ECAccount.objects.get(pk=account.pk).orders_cursor_at


def test_first_run_looks_back_and_splits_windows(account, fake_platform):
    add_orders(fake_platform, 5)
    fake_platform.add(order("OLD", updated=timezone.now() - timedelta(days=2, hours=12)))
    before = timezone.now()
    run = fetching.run_fetch(account.pk, FetchRun.Trigger.SCHEDULE)
    assert run.status == FetchRun.Status.SUCCEEDED, run.message
    assert (run.orders_new, run.orders_updated) == (6, 0)
    windows = fake_platform.windows
    assert len(windows) == 2  # 3-day lookback, 2-day maximum window
    assert abs(windows[0].start - (before - timedelta(days=3))) < timedelta(minutes=1)
    assert windows[0].end == windows[1].start
    assert all(w.end - w.start <= timedelta(days=2) for w in windows)
    assert cursor(account) == windows[-1].end
    assert Order.objects.count() == 6


def test_next_run_starts_at_cursor_minus_overlap_and_is_idempotent(account, fake_platform, settings):
    settings.ORDER_FETCH_OVERLAP_MINUTES = 10
    add_orders(fake_platform, 3)
    fetching.run_fetch(account.pk)
    first_end = cursor(account)
    fake_platform.windows.clear()
    run = fetching.run_fetch(account.pk)
    assert fake_platform.windows[0].start == first_end - timedelta(minutes=10)
    assert run.status == FetchRun.Status.SUCCEEDED and run.orders_new == 0
    assert Order.objects.count() == 3


def test_failure_mid_window_keeps_the_cursor_and_the_rerun_imports_everything_once(account, fake_platform):
    account.orders_cursor_at = timezone.now() - timedelta(hours=5)
    account.save()
    start_cursor = cursor(account)
    add_orders(fake_platform, 7)
    fake_platform.fail_at_page = 2
    fake_platform.error = TransientError("503 Service Unavailable")
    run = fetching.run_fetch(account.pk)
    assert run.status == FetchRun.Status.FAILED and "503" in run.message
    assert cursor(account) == start_cursor  # the window did not complete
    assert Order.objects.count() == 4  # the committed pages stay
    note = Notification.objects.get(kind="fetch_failed")
    assert account.display_name in note.title
    rerun = fetching.run_fetch(account.pk)
    assert rerun.status == FetchRun.Status.SUCCEEDED and rerun.orders_new == 3
    assert Order.objects.count() == 7 and cursor(account) > start_cursor


def test_failure_in_a_later_window_keeps_the_earlier_windows_progress(account, fake_platform):
    fake_platform.add(order("OLD", updated=timezone.now() - timedelta(days=2, hours=12)))
    add_orders(fake_platform, 4)
    fake_platform.fail_at_page = 1  # page 0 is the first window's only page
    fake_platform.error = RateLimited("daily quota", retry_after=86400)
    run = fetching.run_fetch(account.pk)
    assert run.status == FetchRun.Status.FAILED
    assert cursor(account) == fake_platform.windows[0].end
    assert Order.objects.filter(platform_order_id="OLD").exists()


def test_auth_error_disconnects_and_stops(account, fake_platform):
    ECAccount.objects.filter(pk=account.pk).update(orders_cursor_at=timezone.now() - timedelta(hours=5))
    start = cursor(account)
    add_orders(fake_platform, 3)
    fake_platform.fail_at_page = 0
    fake_platform.error = AuthError("invalid credentials")
    run = fetching.run_fetch(account.pk)
    account.refresh_from_db()
    assert run.status == FetchRun.Status.FAILED and account.status == "disconnected"
    assert Notification.objects.filter(kind="disconnected").count() == 1
    assert cursor(account) == start
    again = fetching.run_fetch(account.pk)
    assert again.status == FetchRun.Status.SKIPPED and "not connected" in again.message


def test_a_held_lease_skips_without_calling_the_platform(account, fake_platform):
    add_orders(fake_platform, 2)
    assert leases.acquire(fetching.lease_key(account.pk), 600, "someone-else")
    run = fetching.run_fetch(account.pk, FetchRun.Trigger.MANUAL)
    assert run.status == FetchRun.Status.SKIPPED and "running" in run.message
    assert fake_platform.windows == [] and not Order.objects.exists()
    # the manual requester learns it was skipped
    assert Notification.objects.filter(kind="fetch_result", level="warning").exists()


def test_an_expired_lease_is_taken_over(account, fake_platform):
    leases.acquire(fetching.lease_key(account.pk), -1, "dead-worker")
    assert fetching.run_fetch(account.pk).status == FetchRun.Status.SUCCEEDED


@pytest.mark.parametrize(
    "change,expected",
    [
        ({"status": "disconnected"}, "not connected"),
        ({"status": "not_verified"}, "not connected"),
        ({"fetch_orders_enabled": False}, "turned off"),
    ],
)
def test_accounts_that_may_not_fetch_never_call_the_platform(account, fake_platform, change, expected):
    ECAccount.objects.filter(pk=account.pk).update(**change)
    run = fetching.run_fetch(account.pk)
    assert run.status == FetchRun.Status.SKIPPED and expected in run.message
    assert fake_platform.windows == []


def test_disabled_channel_fetches_nothing_and_says_why(account, channel, fake_platform):
    add_orders(fake_platform, 2)
    channel.enabled = False
    channel.save()
    run = fetching.run_fetch(account.pk)
    assert run.status == FetchRun.Status.SKIPPED and "disabled" in run.message
    assert not Order.objects.exists() and fake_platform.windows == []


def test_manual_success_notifies_with_counts(account, fake_platform):
    add_orders(fake_platform, 2)
    run = FetchRun.objects.create(ec_account=account, trigger=FetchRun.Trigger.MANUAL)
    done = fetching.run_fetch(account.pk, FetchRun.Trigger.MANUAL, run.pk)
    assert done.pk == run.pk and done.status == FetchRun.Status.SUCCEEDED
    note = Notification.objects.get(kind="fetch_result")
    assert "2 new" in note.body and note.merchant_id == account.merchant_id


def test_a_lease_lost_mid_run_stops_before_moving_the_cursor(account, fake_platform, monkeypatch):
    ECAccount.objects.filter(pk=account.pk).update(orders_cursor_at=timezone.now() - timedelta(hours=5))
    start = cursor(account)
    add_orders(fake_platform, 4)
    real = leases.acquire

    def steal(key, ttl, owner):
        if fake_platform.pages_served >= 1:
            return False
        return real(key, ttl, owner)

    monkeypatch.setattr(leases, "acquire", steal)
    run = fetching.run_fetch(account.pk)
    assert run.status == FetchRun.Status.FAILED and cursor(account) == start
    assert "taken over" in run.message


def test_stale_running_runs_are_closed(account, settings):
    settings.ORDER_FETCH_LEASE_SECONDS = 60
    run = FetchRun.objects.create(
        ec_account=account,
        trigger="schedule",
        status="running",
        started_at=timezone.now() - timedelta(minutes=5),
    )
    fresh = FetchRun.objects.create(
        ec_account=account, trigger="schedule", status="running", started_at=timezone.now()
    )
    assert fetching.expire_stale_runs() == 1
    run.refresh_from_db()
    fresh.refresh_from_db()
    assert run.status == "failed" and fresh.status == "running"


def test_plan_windows_edges():
    now = timezone.now()
    w = fetching.plan_windows(
        now - timedelta(days=5),
        now,
        overlap=timedelta(minutes=10),
        max_window=timedelta(days=2),
        lookback=timedelta(days=7),
    )
    assert [x.end - x.start for x in w][:2] == [timedelta(days=2)] * 2
    assert w[0].start == now - timedelta(days=5, minutes=10) and w[-1].end == now
    assert (
        fetching.plan_windows(
            now + timedelta(hours=1),
            now,
            overlap=timedelta(0),
            max_window=timedelta(days=1),
            lookback=timedelta(days=1),
        )
        == []
    )


def test_a_late_job_never_reopens_a_closed_run(account, fake_platform):
    """The tick closed a run queued too long; its job arriving later keeps that verdict and does
    its work under a run of its own, so the failure stays in the history."""
    add_orders(fake_platform, 2)
    closed = FetchRun.objects.create(ec_account=account, trigger=FetchRun.Trigger.MANUAL)
    FetchRun.objects.filter(pk=closed.pk).update(status=FetchRun.Status.FAILED, message="expired")
    done = fetching.run_fetch(account.pk, FetchRun.Trigger.MANUAL, closed.pk)
    closed.refresh_from_db()
    assert closed.status == FetchRun.Status.FAILED and closed.message == "expired"
    assert done.pk != closed.pk and done.status == FetchRun.Status.SUCCEEDED and done.orders_new == 2


def test_a_run_expired_while_its_job_ran_keeps_the_expiry(account, fake_platform, monkeypatch):
    add_orders(fake_platform, 2)
    real = fetching.import_page

    def expired_meanwhile(acc, page, run):  # the tick closes the run while its job still works
        FetchRun.objects.filter(pk=run.pk).update(status=FetchRun.Status.FAILED, message="expired")
        return real(acc, page, run)

    monkeypatch.setattr(fetching, "import_page", expired_meanwhile)
    run = fetching.run_fetch(account.pk, FetchRun.Trigger.SCHEDULE)
    assert run.status == FetchRun.Status.FAILED and FetchRun.objects.get(pk=run.pk).message == "expired"
