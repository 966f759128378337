"""Order fetching: one fetch run of one account, the scheduler tick, and the manual fetch.

- One fetch per account at a time: a TTL lease ``fetch:<account id>``; a run that finds it held
  is recorded as SKIPPED (it never queues behind the running one).
- Windows start at ``orders_cursor_at - ORDER_FETCH_OVERLAP_MINUTES`` (first run: now minus the
  client's ``initial_lookback``), end now, and are split by the client's ``max_order_window``.
  The cursor advances to a window's end only after every page of that window committed.
- Platform calls go through ``connection.call`` (fresh tokens, one refresh on expiry, AuthError →
  Disconnected). Throttling and 5xx are retried inside PlatformHttp; whatever still fails leaves
  the cursor where it was, so the next run resumes there."""

from __future__ import annotations

import logging
import math
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext

from ecbridge.core import leases
from ecbridge.core.messages import Msg
from ecbridge.integrations.models import ConnectionStatus, ECAccount, FetchRun
from ecbridge.integrations.scheduling import next_fetch_time
from ecbridge.integrations.services import connection
from ecbridge.notifications.services import notify
from ecbridge.orders.services.importing import ImportCounts, channel_block_reason, import_page
from ecbridge.platforms.base import Capability, Client, OrderWindow
from ecbridge.platforms.errors import AuthError, PlatformCallError

log = logging.getLogger(__name__)


class FetchNotAllowed(Exception):
    """The account may not fetch now (not connected, fetch off, platform cannot)."""


class LeaseLost(Exception):
    """Our fetch lease expired and another run took it: stop before touching the cursor."""


class Cooldown(Exception):
    """A manual fetch inside the cooldown. ``seconds`` until the next one is allowed."""

    def __init__(self, seconds: int):
        self.seconds = max(1, int(math.ceil(seconds)))
        minutes = max(1, math.ceil(self.seconds / 60))
        super().__init__(
            ngettext(
                "Operation too frequent, please try again in %(n)d minute",
                "Operation too frequent, please try again in %(n)d minutes",
                minutes,
            )
            % {"n": minutes}
        )


def lease_key(account_id: int) -> str:
    return f"fetch:{account_id}"


def client_class(account: ECAccount) -> type[Client]:
    return import_string(account.spec.client_class)


def blocked_reason(account: ECAccount) -> str:
    """Why this account may not fetch now ("" = it may)."""
    spec = account.spec
    if not spec.implemented or not spec.has(Capability.FETCH_ORDERS):
        return _("%(platform)s orders cannot be fetched.") % {"platform": spec.name}
    if account.status != ConnectionStatus.CONNECTED:
        return _("The account is not connected: test the connection or re-authorize first.")
    if not account.fetch_orders_enabled:
        return _("Fetch Orders is turned off for this account.")
    return ""


def plan_windows(
    cursor: datetime | None, now: datetime, *, overlap: timedelta, max_window: timedelta, lookback: timedelta
) -> list[OrderWindow]:
    """The windows of one run: from the cursor minus the overlap (or now minus the lookback) to
    now, none larger than ``max_window``."""
    start = (cursor - overlap) if cursor else (now - lookback)
    windows = []
    while start < now:
        end = min(start + max_window, now)
        windows.append(OrderWindow(start, end))
        start = end
    return windows


@dataclass
class _Lease:
    key: str
    ttl: float
    owner: str

    def extend(self) -> None:
        if not leases.acquire(self.key, self.ttl, self.owner):
            raise LeaseLost(_("The fetch lease was taken over by another run; stopping."))


def _finish(
    run: FetchRun, status: str, message: Msg | str = "", counts: ImportCounts | None = None
) -> FetchRun:
    values = {"status": status, "message": str(message)[:4000], "finished_at": timezone.now()}
    if counts is not None:
        values.update(orders_new=counts.new, orders_updated=counts.updated, orders_held=counts.held)
    open_states = (FetchRun.Status.QUEUED, FetchRun.Status.RUNNING)
    if not FetchRun.objects.filter(pk=run.pk, status__in=open_states).update(**values):
        run.refresh_from_db()  # closed meanwhile (the tick expired it): that verdict stands
        return run
    for name, value in values.items():
        setattr(run, name, value)
    run.message_for_notice = message  # the message itself, for a notification in each reader's language
    return run


def _summary(counts: ImportCounts) -> Msg:
    return Msg(
        gettext_noop(
            "%(new)d new, %(updated)d updated, %(unchanged)d unchanged, %(held)d put on hold, "
            "%(unknown)d new unknown products."
        ),
        new=counts.new,
        updated=counts.updated,
        unchanged=counts.unchanged,
        held=counts.held,
        unknown=counts.unknown_products,
    )


def run_fetch(
    account_id: int, trigger: str = FetchRun.Trigger.SCHEDULE, run_id: int | None = None
) -> FetchRun:
    """One fetch run of one account (the job). Never raises for platform trouble: the FetchRun
    records the outcome (and a notification tells people about failures)."""
    account = ECAccount.objects.select_related("sales_channel").filter(pk=account_id).first()
    run = FetchRun.objects.filter(pk=run_id).first() if run_id else None
    if account is None:
        if run is not None:
            _finish(run, FetchRun.Status.SKIPPED, _("The EC account no longer exists."))
        return run
    if run is not None and run.status != FetchRun.Status.QUEUED:
        # A late or repeated job: the run was closed (e.g. expired by the tick) or taken by another
        # job. Closed runs stay closed; the work, if still wanted, gets a run of its own.
        run = None
    if run is None or run.ec_account_id != account.pk:
        run = FetchRun.objects.create(ec_account=account, trigger=trigger)
    if reason := blocked_reason(account) or channel_block_reason(account.sales_channel):
        return _done(account, _finish(run, FetchRun.Status.SKIPPED, reason))

    ttl = settings.ORDER_FETCH_LEASE_SECONDS
    held = _Lease(lease_key(account.pk), ttl, uuid.uuid4().hex)
    if not leases.acquire(held.key, ttl, held.owner):
        return _done(
            account, _finish(run, FetchRun.Status.SKIPPED, _("Another fetch of this account is running."))
        )
    try:
        return _done(account, _run(account, run, held))
    finally:
        leases.release(held.key, held.owner)


def _run(account: ECAccount, run: FetchRun, held: _Lease) -> FetchRun:
    cls = client_class(account)
    now = timezone.now()
    windows = plan_windows(
        account.orders_cursor_at,
        now,
        overlap=timedelta(minutes=settings.ORDER_FETCH_OVERLAP_MINUTES),
        max_window=cls.max_order_window,
        lookback=cls.initial_lookback,
    )
    run.status = FetchRun.Status.RUNNING
    run.started_at = now
    run.window_start = windows[0].start if windows else now
    run.window_end = now
    run.save(update_fields=["status", "started_at", "window_start", "window_end"])

    counts = ImportCounts()
    try:
        for window in windows:
            counts.add(_fetch_window(account, window, run, held, done_before=counts))
            # Every page of the window is committed: only now may the cursor move past it.
            ECAccount.objects.filter(pk=account.pk).filter(
                Q(orders_cursor_at__isnull=True) | Q(orders_cursor_at__lt=window.end)
            ).update(orders_cursor_at=window.end)
            account.orders_cursor_at = window.end
            held.extend()
    except AuthError as exc:
        # connection.call marked the account Disconnected and notified; fetching stops.
        return _finish(run, FetchRun.Status.FAILED, _fail_text(exc, counts), counts)
    except (PlatformCallError, LeaseLost) as exc:
        _finish(run, FetchRun.Status.FAILED, _fail_text(exc, counts), counts)
        _notify_failure(account, run)
        return run
    except Exception as exc:  # a bug or the database: still recorded, never a silent stop
        log.exception("order fetch %s of account %s failed", run.pk, account.pk)
        _finish(run, FetchRun.Status.FAILED, _fail_text(exc, counts), counts)
        _notify_failure(account, run)
        return run
    message = _summary(counts)
    if counts.skipped:
        message = Msg.join(counts.skipped_reason, message)
    return _finish(run, FetchRun.Status.SUCCEEDED, message, counts)


def _fetch_window(
    account: ECAccount, window: OrderWindow, run: FetchRun, held: _Lease, *, done_before: ImportCounts
) -> ImportCounts:
    def operation(client: Client) -> ImportCounts:
        # Restarted from the window's first page after a token refresh: re-imports are no-ops.
        counts = ImportCounts()
        for page in client.iter_orders(window):
            counts.add(import_page(account, page, run))
            held.extend()
            _show_progress(run, ImportCounts().add(done_before).add(counts))
        return counts

    return connection.call(account, operation)


def _show_progress(run: FetchRun, so_far: ImportCounts) -> None:
    """The counts so far, for the page that polls the run (the final ones are written by _finish)."""
    FetchRun.objects.filter(pk=run.pk).update(
        orders_new=so_far.new, orders_updated=so_far.updated, orders_held=so_far.held
    )


def _fail_text(exc: BaseException, counts: ImportCounts) -> Msg:
    parts = [Msg(gettext_noop("Fetch failed: %(error)s"), error=str(exc) or exc.__class__.__name__)]
    if counts.new or counts.updated:
        parts.append(Msg(gettext_noop("Imported before the failure: %(summary)s"), summary=_summary(counts)))
    parts.append(Msg(gettext_noop("The next fetch resumes from the last complete window.")))
    return Msg.join(*parts)


def _notify_failure(account: ECAccount, run: FetchRun) -> None:
    notify(
        merchant_id=account.merchant_id,
        ec_account=account,
        kind="fetch_failed",
        level="error",
        title=Msg(gettext_noop("Order fetch failed for %(name)s"), name=account.display_name),
        body=getattr(run, "message_for_notice", run.message),
        link=f"/ec-accounts/{account.pk}/",
    )


def _done(account: ECAccount, run: FetchRun) -> FetchRun:
    """A manual fetch always tells the person who asked how it went."""
    if run.trigger != FetchRun.Trigger.MANUAL or run.status == FetchRun.Status.FAILED:
        return run  # failures were notified already
    if run.status == FetchRun.Status.SUCCEEDED:
        title = Msg(gettext_noop("Manual order fetch finished for %(name)s"), name=account.display_name)
        level = "success"
    else:
        title = Msg(gettext_noop("Manual order fetch skipped for %(name)s"), name=account.display_name)
        level = "warning"
    notify(
        merchant_id=account.merchant_id,
        ec_account=account,
        kind="fetch_result",
        level=level,
        title=title,
        body=getattr(run, "message_for_notice", run.message),
        link=f"/ec-accounts/{account.pk}/",
    )
    return run


# --- queueing ------------------------------------------------------------------------------------
def enqueue_fetch(account_id: int, run_id: int, trigger: str) -> None:
    """Queue the job once the caller's transaction commits (so the worker sees the run)."""
    from ecbridge.integrations.tasks import fetch_orders

    transaction.on_commit(lambda: fetch_orders(account_id, trigger, run_id))


def schedule_due(now: datetime | None = None) -> list[int]:
    """The scheduler tick: claim every due, Connected, fetch-on account by moving its next fetch
    time forward with a conditional UPDATE, and queue a fetch only when that UPDATE won (a late or
    doubled tick queues each due fetch once). Returns the queued account ids."""
    now = now or timezone.now()
    queued = []
    candidates = ECAccount.objects.filter(
        status=ConnectionStatus.CONNECTED, fetch_orders_enabled=True
    ).filter(Q(next_fetch_at__lte=now) | Q(next_fetch_at__isnull=True))
    for pk, platform, due_at, slots in candidates.values_list(
        "pk", "platform", "next_fetch_at", "fetch_times"
    ):
        try:
            spec = ECAccount(pk=pk, platform=platform).spec
        except LookupError:  # a platform removed from the registry: never let it stop the tick
            continue
        if not spec.implemented or not spec.has(Capability.FETCH_ORDERS):
            continue
        following = next_fetch_time(slots or [], now)
        if due_at is None:  # never scheduled (slots saved elsewhere): schedule, do not fetch now
            if following is not None:
                ECAccount.objects.filter(pk=pk, next_fetch_at__isnull=True).update(next_fetch_at=following)
            continue
        with transaction.atomic():
            won = ECAccount.objects.filter(pk=pk, next_fetch_at=due_at).update(next_fetch_at=following)
            if not won:
                continue
            run = FetchRun.objects.create(ec_account_id=pk, trigger=FetchRun.Trigger.SCHEDULE)
            enqueue_fetch(pk, run.pk, FetchRun.Trigger.SCHEDULE)
        queued.append(pk)
    return queued


def expire_stale_runs(now: datetime | None = None) -> int:
    """Runs left RUNNING/QUEUED by a worker that died are closed as FAILED after the lease TTL
    (their cursor never moved, so nothing is lost)."""
    now = now or timezone.now()
    ttl = timedelta(seconds=settings.ORDER_FETCH_LEASE_SECONDS)
    stale = FetchRun.objects.filter(
        Q(status=FetchRun.Status.RUNNING, started_at__lt=now - ttl)
        | Q(status=FetchRun.Status.QUEUED, created_at__lt=now - ttl * 6)
    )
    return stale.update(
        status=FetchRun.Status.FAILED,
        finished_at=now,
        message=_("The worker stopped before the fetch finished; the next fetch resumes from the cursor."),
    )


def request_manual_fetch(account: ECAccount, user=None) -> FetchRun:
    """Queue one fetch now. Never changes the schedule. Raises FetchNotAllowed, or Cooldown when
    the account's previous manual fetch is less than MANUAL_FETCH_COOLDOWN_SECONDS ago (claimed
    with a conditional UPDATE, so of two simultaneous clicks exactly one wins)."""
    account.refresh_from_db(fields=["status", "fetch_orders_enabled", "last_manual_fetch_at"])
    if reason := blocked_reason(account):
        raise FetchNotAllowed(reason)
    cooldown = timedelta(seconds=settings.MANUAL_FETCH_COOLDOWN_SECONDS)
    now = timezone.now()
    with transaction.atomic():
        won = (
            ECAccount.objects.filter(pk=account.pk)
            .filter(Q(last_manual_fetch_at__isnull=True) | Q(last_manual_fetch_at__lte=now - cooldown))
            .update(last_manual_fetch_at=now)
        )
        if not won:
            last = ECAccount.objects.values_list("last_manual_fetch_at", flat=True).get(pk=account.pk)
            raise Cooldown(((last or now) + cooldown - now).total_seconds())
        account.last_manual_fetch_at = now
        run = FetchRun.objects.create(ec_account=account, trigger=FetchRun.Trigger.MANUAL, requested_by=user)
        enqueue_fetch(account.pk, run.pk, FetchRun.Trigger.MANUAL)
    return run


def last_run(account: ECAccount) -> FetchRun | None:
    return FetchRun.objects.filter(ec_account=account).order_by("-created_at", "-id").first()
