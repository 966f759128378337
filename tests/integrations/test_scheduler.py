# ruff: noqa: F811 - fixtures imported from tests.fakes are test parameters by design
"""The scheduler tick: due, Connected, fetch-on accounts are queued exactly once per due time."""

from datetime import UTC, datetime, timedelta

import pytest
from huey.contrib.djhuey import HUEY

from ecbridge.integrations import tasks
from ecbridge.integrations.models import ECAccount, FetchRun
from ecbridge.integrations.services import fetching
from tests.factories import ECAccountFactory
from tests.fakes import fake_platform  # noqa: F401

pytestmark = pytest.mark.django_db

# 2026-03-02 10:00 in Taipei
NOW = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


@pytest.fixture
def queued(monkeypatch):
    calls = []
    monkeypatch.setattr(tasks, "fetch_orders", lambda *args: calls.append(args))
    return calls


def make(merchant, channel, **kw):
    values = {
        "platform": "fake",
        "fetch_orders_enabled": True,
        "fetch_times": ["09:30", "18:00"],
        "next_fetch_at": NOW - timedelta(minutes=30),
        **kw,
    }
    return ECAccountFactory(merchant=merchant, sales_channel=channel, **values)


def tick(django_capture_on_commit_callbacks, now=NOW):
    with django_capture_on_commit_callbacks(execute=True):
        return fetching.schedule_due(now)


def test_due_account_is_queued_once_and_rescheduled(
    fake_platform,
    merchant,
    channel,
    queued,
    django_capture_on_commit_callbacks,
):
    account = make(merchant, channel)
    assert tick(django_capture_on_commit_callbacks) == [account.pk]
    assert tick(django_capture_on_commit_callbacks) == []  # a doubled tick
    assert tick(django_capture_on_commit_callbacks, NOW + timedelta(minutes=1)) == []
    run = FetchRun.objects.get()
    assert queued == [(account.pk, "schedule", run.pk)] and run.trigger == "schedule"
    account.refresh_from_db()
    assert account.next_fetch_at == datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # 18:00 Taipei


def test_a_late_tick_queues_once_and_skips_to_the_next_slot_after_now(
    fake_platform,
    merchant,
    channel,
    queued,
    django_capture_on_commit_callbacks,
):
    account = make(merchant, channel, next_fetch_at=NOW - timedelta(days=3))
    assert tick(django_capture_on_commit_callbacks) == [account.pk]
    account.refresh_from_db()
    assert account.next_fetch_at > NOW and len(queued) == 1


@pytest.mark.parametrize(
    "kw",
    [{"status": "disconnected"}, {"status": "not_verified"}, {"fetch_orders_enabled": False}],
)
def test_accounts_that_may_not_fetch_are_never_queued(
    fake_platform,
    merchant,
    channel,
    queued,
    django_capture_on_commit_callbacks,
    kw,
):
    make(merchant, channel, **kw)
    assert tick(django_capture_on_commit_callbacks) == [] and queued == []
    assert not FetchRun.objects.exists()


def test_not_yet_due_is_not_queued(
    fake_platform, merchant, channel, queued, django_capture_on_commit_callbacks
):
    make(merchant, channel, next_fetch_at=NOW + timedelta(minutes=1))
    assert tick(django_capture_on_commit_callbacks) == [] and queued == []


def test_a_concurrent_tick_that_won_first_means_we_queue_nothing(
    fake_platform,
    merchant,
    channel,
    queued,
    django_capture_on_commit_callbacks,
    monkeypatch,
):
    account = make(merchant, channel)
    real = fetching.next_fetch_time

    def rival_first(slots, now=None):
        # the other tick read the same due time and moved it on before our UPDATE
        ECAccount.objects.filter(pk=account.pk).update(next_fetch_at=NOW + timedelta(hours=8))
        return real(slots, now)

    monkeypatch.setattr(fetching, "next_fetch_time", rival_first)
    assert tick(django_capture_on_commit_callbacks) == [] and queued == []


def test_missing_next_fetch_time_is_scheduled_not_fetched(
    fake_platform,
    merchant,
    channel,
    queued,
    django_capture_on_commit_callbacks,
):
    account = make(merchant, channel, next_fetch_at=None)
    assert tick(django_capture_on_commit_callbacks) == [] and queued == []
    account.refresh_from_db()
    assert account.next_fetch_at == datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def test_tick_runs_every_minute():
    for minute in (0, 1, 37):
        stamp = datetime(2026, 3, 2, 2, minute)
        assert "order_fetch_tick" in " ".join(t.name for t in HUEY.read_periodic(stamp))


def test_queued_scheduled_fetch_runs_through_the_task(fake_platform, merchant, channel):
    account = make(merchant, channel)
    run = FetchRun.objects.create(ec_account=account, trigger="schedule")
    assert tasks.fetch_orders.call_local(account.pk, "schedule", run.pk) == "succeeded"
    run.refresh_from_db()
    assert run.status == "succeeded" and run.finished_at
