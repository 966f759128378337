"""Retention: successes 30 days, failures 90 days, deleted in batches by a daily task and a command."""

from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from ecbridge.apilog import tasks
from ecbridge.apilog.models import ApiCall
from ecbridge.apilog.services import prune

pytestmark = pytest.mark.django_db


@pytest.fixture
def aged(account, make_call):
    now = timezone.now()
    rows = {}
    for label, days, outcome in [
        ("ok_29", 29, "success"),
        ("ok_31", 31, "success"),
        ("fail_29", 29, "failure"),
        ("fail_31", 31, "failure"),
        ("fail_89", 89, "failure"),
        ("fail_91", 91, "failure"),
        ("ok_new", 0, "success"),
    ]:
        rows[label] = make_call(account, at=now - timedelta(days=days), outcome=outcome)
    return now, rows


def remaining(rows):
    present = set(ApiCall.objects.values_list("pk", flat=True))
    return {label for label, call in rows.items() if call.pk in present}


def test_boundaries(aged):
    now, rows = aged
    assert prune(now=now) == 2
    assert remaining(rows) == {"ok_29", "fail_29", "fail_31", "fail_89", "ok_new"}


def test_exactly_at_the_cutoff_is_kept(account, make_call):
    now = timezone.now()
    edge = make_call(account, at=now - timedelta(days=30))
    older = make_call(account, at=now - timedelta(days=30, seconds=1))
    prune(now=now)
    assert list(ApiCall.objects.values_list("pk", flat=True)) == [edge.pk]
    assert not ApiCall.objects.filter(pk=older.pk).exists()


@override_settings(APILOG_SUCCESS_RETENTION_DAYS=7, APILOG_FAILURE_RETENTION_DAYS=14)
def test_retention_follows_settings(aged):
    now, rows = aged
    prune(now=now)
    assert remaining(rows) == {"ok_new"}


def test_prunes_in_batches(account, make_call):
    old = timezone.now() - timedelta(days=120)
    for i in range(7):
        make_call(account, at=old, outcome="failure" if i % 2 else "success")
    keep = make_call(account)
    with CaptureQueriesContext(connection) as ctx:
        assert prune(batch_size=2) == 7
    deletes = [q["sql"] for q in ctx.captured_queries if q["sql"].upper().startswith("DELETE")]
    # 4 successes -> 2 full batches; 3 failures -> a full batch and a short one
    assert len(deletes) == 4
    assert list(ApiCall.objects.values_list("pk", flat=True)) == [keep.pk]


def test_prune_rejects_a_zero_batch(db):
    with pytest.raises(ValueError):
        prune(batch_size=0)


def test_prune_with_nothing_to_do(db):
    assert prune() == 0


def test_command_deletes_and_dry_run_only_counts(aged):
    _now, rows = aged
    out = StringIO()
    call_command("prune_api_logs", "--dry-run", stdout=out)
    assert "2 expired rows would be deleted (1 successes" in out.getvalue()
    assert len(remaining(rows)) == 7
    out = StringIO()
    call_command("prune_api_logs", "--batch-size", "1", stdout=out)
    assert "2 expired API-log rows deleted." in out.getvalue()
    assert remaining(rows) == {"ok_29", "fail_29", "fail_31", "fail_89", "ok_new"}


def test_command_rejects_a_bad_batch_size(db):
    with pytest.raises(CommandError):
        call_command("prune_api_logs", "--batch-size", "0")


def test_periodic_task_prunes(aged):
    _now, rows = aged
    assert tasks.prune_api_logs.call_local() == 2
    assert "ok_31" not in remaining(rows)


def _due(timestamp):
    """What the Huey scheduler would enqueue at ``timestamp`` (naive UTC, as Huey passes it)."""
    from huey.contrib.djhuey import HUEY

    return "apilog.prune_api_logs" in {task.name for task in HUEY.read_periodic(timestamp)}


@override_settings(TIME_ZONE="Asia/Taipei")
def test_task_runs_daily_at_0330_taipei():
    """Huey checks periodic tasks with a naive UTC timestamp; 03:30 in Taipei is 19:30 UTC."""
    from huey.contrib.djhuey import HUEY

    assert HUEY.utc is True
    start = datetime(2025, 3, 9, 12, 0)
    minutes = (start + timedelta(minutes=m) for m in range(3 * 24 * 60))
    fires = [ts for ts in minutes if _due(ts)]
    assert fires == [
        datetime(2025, 3, 9, 19, 30),
        datetime(2025, 3, 10, 19, 30),
        datetime(2025, 3, 11, 19, 30),
    ]
    assert not _due(datetime(2025, 3, 10, 3, 30))  # 03:30 UTC is 11:30 in Taipei


@override_settings(TIME_ZONE="UTC")
def test_schedule_follows_the_warehouse_time_zone():
    assert _due(datetime(2025, 3, 10, 3, 30))
    assert not _due(datetime(2025, 3, 10, 19, 30))


def test_aware_timestamps_are_understood():
    assert tasks.PRUNE_SCHEDULE(datetime(2025, 3, 10, 19, 30, tzinfo=UTC))
