"""Stock pushes (G4-G6, G10, G17): the outbox of stock changes toward the platforms.

Queueing: completing a put-away calls ``queue_inbound_pushes`` inside its transaction. Every
account of the merchant with Inbound Push on takes part in the split of each line (allocation.py);
rows are written only for accounts that are Connected, support stock push and have the product
mapped, so a line is never pushed twice to one account (DB-unique per line and account). A manual
stock sync (stock_sync.py) writes the same rows in ABSOLUTE mode.

Draining (``drain_run``, one job per StockRun under a lease) follows each platform's semantics:

    DELTA, platform adds natively (Shopify, momo)     adjust_stock(+n)   [momo: read first, passes it]
    DELTA, platform only sets (Shopee)                read_stock → set_stock(current + n)
    ABSOLUTE, platform sets natively (Shopee, Shopify) set_stock(n)
    ABSOLUTE, platform only adds (momo)               read_stock → adjust_stock(n − current)

A row is marked SENDING with what was read and what the platform should show afterwards just
before its write call. If the worker dies (or the call times out) the row stays SENDING; the
next attempt resends it only when that is safe: the platform deduplicates (Shopify's idempotency
key, same batch) or an absolute set, otherwise it reads the stock back first: expected → done;
unchanged → send again; anything else → FAILED for review, never added twice.

Per-SKU outcomes (G6): a refused SKU fails alone; retryable refusals and throttling wait with
backoff (Retry-After honoured, throttling does not consume attempts); when no row is open the
run is SUCCEEDED, PARTIAL or FAILED and a notification says so."""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from ecbridge.core.leases import is_held, lease
from ecbridge.core.messages import Msg
from ecbridge.integrations.allocation import split_quantity
from ecbridge.integrations.models import (
    ConnectionStatus,
    ECAccount,
    ProductMapping,
    StockPush,
    StockRun,
)
from ecbridge.integrations.services import connection, listings
from ecbridge.notifications.services import notify
from ecbridge.platforms.base import Capability, Client, StockOutcome, StockTarget
from ecbridge.platforms.errors import AuthError, PlatformCallError, PlatformError, RateLimited

log = logging.getLogger(__name__)

OPEN = (StockPush.Status.PENDING, StockPush.Status.SENDING)


def _setting(name: str, default):
    return getattr(settings, name, default)


def max_attempts() -> int:
    return int(_setting("STOCK_PUSH_MAX_ATTEMPTS", 8))


def backoff_seconds(attempts: int) -> float:
    base = float(_setting("STOCK_PUSH_BACKOFF_SECONDS", 30))
    cap = float(_setting("STOCK_PUSH_MAX_BACKOFF_SECONDS", 1800))
    return min(base * 2 ** max(attempts - 1, 0), cap)


def _lease_ttl() -> float:
    return float(_setting("STOCK_PUSH_LEASE_SECONDS", 900))


# --- who takes part -----------------------------------------------------------------------------------
def can_push(account: ECAccount) -> bool:
    spec = account.spec
    return spec.implemented and spec.has(Capability.PUSH_STOCK)


def _sells(account: ECAccount, inventory_type) -> bool:
    """Stock received into a type the account's channel does not sell from is not pushed there."""
    channel = account.sales_channel
    return inventory_type.sellable and inventory_type.pk in (
        channel.primary_inventory_type_id,
        channel.secondary_inventory_type_id,
    )


# --- queueing -----------------------------------------------------------------------------------------
def queue_inbound_pushes(receipt, *, user=None) -> list[StockRun]:
    """Queue the inbound push of a just-completed receipt: call INSIDE the put-away transaction.
    Returns the StockRun rows created (one per account that gets anything)."""
    accounts = list(
        ECAccount.objects.filter(merchant_id=receipt.merchant_id, inbound_push_enabled=True)
        .select_related("sales_channel")
        .order_by("pk")
    )
    if not accounts:
        return []
    lines = list(receipt.lines.select_related("product", "inventory_type").order_by("pk"))
    pushable = [a for a in accounts if a.status == ConnectionStatus.CONNECTED and can_push(a)]
    mappings = listings.stock_listings([a.pk for a in pushable], {line.product_id for line in lines})

    pushes_by_account: dict[int, list[StockPush]] = defaultdict(list)
    for line in lines:
        # Every push-enabled account selling this type takes part in the split, connected or not,
        # so a disconnected account never inflates the others' shares.
        sharing = {a.pk: a.push_percentage for a in accounts if _sells(a, line.inventory_type)}
        shares = split_quantity(line.quantity, sharing)
        for account in pushable:
            mapping = mappings.get((account.pk, line.product_id))
            share = shares.get(account.pk, 0)
            if mapping is None or share <= 0:
                continue
            pushes_by_account[account.pk].append(
                StockPush(
                    ec_account=account,
                    product_id=line.product_id,
                    mapping=mapping,
                    receipt_line=line,
                    platform_sku=mapping.platform_sku,
                    mode=StockPush.Mode.DELTA,
                    quantity=share,
                )
            )
    runs = []
    for account in pushable:
        rows = pushes_by_account.get(account.pk)
        if not rows:
            continue
        run = StockRun.objects.create(
            ec_account=account,
            kind=StockRun.Kind.INBOUND,
            receipt=receipt,
            requested_by=user if getattr(user, "is_authenticated", False) else None,
            push_percentage=account.push_percentage,
        )
        for row in rows:
            row.run = run
        StockPush.objects.bulk_create(rows)
        runs.append(run)
    run_ids = [run.pk for run in runs]
    transaction.on_commit(lambda: [enqueue(run_id) for run_id in run_ids])
    return runs


def enqueue(run_id: int) -> None:
    """Queue the drain job. A failure to enqueue is logged: the sweep finds the run."""
    try:
        from ecbridge.integrations.tasks import push_stock_run

        push_stock_run(run_id)
    except Exception:  # noqa: BLE001 - the queue being down must not undo a committed put-away
        log.exception("could not enqueue stock run %s; the sweep will retry", run_id)


def sweep(now=None) -> list[int]:
    """Re-enqueue runs with due open rows on Connected accounts (backoff passed, or never picked
    up after the stale delay), unless a job holds the run."""
    now = now or timezone.now()
    stale = now - timedelta(seconds=float(_setting("STOCK_PUSH_SWEEP_STALE_SECONDS", 60)))
    due = (
        StockPush.objects.filter(status__in=OPEN, ec_account__status=ConnectionStatus.CONNECTED)
        .filter(Q(next_attempt_at__lte=now) | Q(next_attempt_at__isnull=True, updated_at__lte=stale))
        .values_list("run_id", flat=True)
        .distinct()
    )
    enqueued = []
    for run_id in list(due[:500]):
        if not is_held(_lease_key(run_id)):
            enqueue(run_id)
            enqueued.append(run_id)
    return enqueued


# --- draining -----------------------------------------------------------------------------------------
def _lease_key(run_id: int) -> str:
    return f"stock-run:{run_id}"


def drain_run(run_id: int) -> str:
    """Push every due row of one run; returns what happened (for logs and tests)."""
    with lease(_lease_key(run_id), ttl=_lease_ttl()) as held:
        if not held:
            return "busy"
        run = StockRun.objects.select_related("ec_account").filter(pk=run_id).first()
        if run is None:
            return "missing"
        account = run.ec_account
        if account.status != ConnectionStatus.CONNECTED:
            return "skipped"  # resumes after reconnect (the sweep takes Connected accounts only)
        if run.status == StockRun.Status.QUEUED:
            StockRun.objects.filter(pk=run.pk).update(status=StockRun.Status.RUNNING)
        now = timezone.now()
        due = list(
            run.pushes.filter(status__in=OPEN)
            .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
            .select_related("mapping")
            .order_by("pk")
        )
        outcome = "done"
        if due:
            try:
                connection.call(account, lambda client: _push(client, due))
            except AuthError:
                outcome = "auth_error"  # the account is Disconnected; rows wait for reconnection
            except _Stop as stop:
                outcome = stop.reason
                _resume_soon(run)
        return _finish_if_done(run) or outcome


def _resume_soon(run: StockRun) -> None:
    """After throttling or a transient failure, queue the next round for when the first row is
    due, if that is soon; otherwise the sweep picks the run up."""
    first = (
        run.pushes.filter(status__in=OPEN)
        .order_by("next_attempt_at")
        .values_list("next_attempt_at", flat=True)
        .first()
    )
    if first is None:
        return
    delay = max((first - timezone.now()).total_seconds(), 0) + 0.5
    if delay <= 120:
        try:
            from ecbridge.integrations.tasks import push_stock_run

            push_stock_run.schedule(args=(run.pk,), delay=delay)
        except Exception:  # noqa: BLE001 - the sweep is the safety net
            log.exception("could not schedule stock run %s", run.pk)


class _Stop(Exception):
    """Ends this round early (throttled or a transient failure); the rows carry their next try."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass
class _Write:
    push: StockPush
    target: StockTarget
    absolute: bool  # set_stock (True) or adjust_stock (False)


def _target(push: StockPush, quantity: int = 0, current: int | None = None) -> StockTarget:
    mapping = push.mapping
    return StockTarget(
        key=str(push.pk),
        item_id=mapping.platform_item_id,
        variant_id=mapping.platform_variant_id,
        sku=mapping.platform_sku,
        quantity=quantity,
        stock_ref=dict(mapping.stock_ref or {}),
        idempotency_key=push.idempotency_key,
        current=current,
    )


def _needs_read(client: Client, push: StockPush) -> bool:
    if push.mode == StockPush.Mode.DELTA:
        return not client.stock_delta_native or client.adjust_needs_current
    return not client.stock_absolute_native


def _safe_to_resend(client: Client, push: StockPush) -> bool:
    """A row left SENDING may be sent again as it is: an absolute set on a platform that sets,
    or an adjust the platform deduplicates by key."""
    if push.mode == StockPush.Mode.ABSOLUTE and client.stock_absolute_native:
        return True
    return push.mode == StockPush.Mode.DELTA and client.stock_delta_native and client.adjust_idempotent


def _push(client: Client, due: list[StockPush]) -> None:
    pushes = []
    for push in due:
        if push.mapping is None:
            _fail(push, _("The product mapping was removed before the push."))
        else:
            pushes.append(push)
    interrupted = [
        p for p in pushes if p.status == StockPush.Status.SENDING and not _safe_to_resend(client, p)
    ]
    fresh = [p for p in pushes if p not in interrupted]

    to_read = interrupted + [p for p in fresh if _needs_read(client, p)]
    current: dict[str, int] = {}
    if to_read:
        try:
            current = client.read_stock([_target(p) for p in to_read])
        except AuthError:
            raise  # connection.call refreshes an expired token (and runs this again) or disconnects
        except RateLimited as exc:
            _wait(_unique(to_read + fresh), exc.retry_after, count=False)
            raise _Stop("throttled") from exc
        except PlatformError as exc:
            for push in to_read:
                _fail(push, str(exc) or _("The platform refused to read the stock."))
            to_read_ids = {p.pk for p in to_read}
            fresh = [p for p in fresh if p.pk not in to_read_ids]
            interrupted = []
        except PlatformCallError as exc:
            _wait(_unique(to_read + fresh), None, error=str(exc), add_attempt=True)
            raise _Stop("retry") from exc

    for push in interrupted:
        now_qty = current.get(str(push.pk))
        if now_qty is not None and now_qty == push.expected_after:
            _succeed(push, now_qty, note=_("Confirmed by reading the stock back after an interrupted push."))
        elif now_qty is not None and now_qty == push.observed_before:
            fresh.append(push)  # the interrupted call never arrived: send it again
        else:
            _fail(
                push,
                _(
                    "The push was interrupted and the platform's stock changed since (%(before)s → "
                    "%(now)s, expected %(expected)s). Not sent again, so nothing is added twice: "
                    "check the platform's stock or run a manual stock sync."
                )
                % {"before": push.observed_before, "now": now_qty, "expected": push.expected_after},
            )

    # Rows resent as they were (idempotent replays) go first and on their own, so their batch has
    # the same rows in the same order as the interrupted call: the platform's key matches it.
    # One batch at most is ever in flight: a round stops at the first call whose answer is lost.
    resend = [p for p in fresh if p.status == StockPush.Status.SENDING]
    new = [p for p in fresh if p.status != StockPush.Status.SENDING]
    for rows in (resend, new):
        writes = []
        for push in sorted(rows, key=lambda p: p.pk):
            write = _plan_write(client, push, current)
            if write is not None:
                writes.append(write)
        for absolute in (False, True):
            group = [w for w in writes if w.absolute is absolute]
            if group:
                _send(client, group, absolute=absolute)


def _unique(rows: list[StockPush]) -> list[StockPush]:
    return list({p.pk: p for p in rows}.values())


def _plan_write(client: Client, push: StockPush, current: dict[str, int]) -> _Write | None:
    """Decide the call for one row (recording what was read and what the platform should show
    afterwards), or settle it at once: unknown on the platform, or nothing to change."""
    before = current.get(str(push.pk))
    if _needs_read(client, push) and before is None:
        _fail(
            push,
            _("The platform does not know this product any more (SKU %(sku)s).") % {"sku": push.platform_sku},
        )
        return None
    push.observed_before = before
    if push.mode == StockPush.Mode.DELTA:
        push.expected_after = before + push.quantity if before is not None else None
        if client.stock_delta_native:
            return _Write(push, _target(push, push.quantity, before), absolute=False)
        return _Write(push, _target(push, push.expected_after, before), absolute=True)
    push.expected_after = push.quantity
    if client.stock_absolute_native:
        return _Write(push, _target(push, push.quantity, before), absolute=True)
    if push.quantity == before:
        _succeed(push, before, before=before, note=_("Already at %(qty)d on the platform.") % {"qty": before})
        return None
    return _Write(push, _target(push, push.quantity - before, before), absolute=False)


def _send(client: Client, writes: list[_Write], *, absolute: bool) -> None:
    """One write call per batch the platform allows, outcomes recorded after each call."""
    by_key = {w.target.key: w.push for w in writes}
    batches = client.stock_batches([w.target for w in writes], absolute=absolute)
    for index, batch in enumerate(batches):
        rows = [by_key[t.key] for t in batch]
        _mark_sending(rows)
        try:
            outcomes = client.set_stock(batch) if absolute else client.adjust_stock(batch)
        except AuthError:
            raise  # rows stay SENDING: the retry after a refresh/reconnect reads back or resends safely
        except RateLimited as exc:
            # Refused before anything was applied: back to waiting, without using up attempts.
            later = [by_key[t.key] for rest in batches[index + 1 :] for t in rest]
            _wait(rows, exc.retry_after, count=False, status=StockPush.Status.PENDING)
            _wait(later, exc.retry_after, count=False)
            raise _Stop("throttled") from exc
        except PlatformError as exc:
            for push in rows:
                _fail(push, str(exc) or _("The platform refused the stock update."))
            continue
        except PlatformCallError as exc:
            # Unknown whether it arrived: rows stay SENDING; the next try reads back or resends safely.
            _wait(rows, None, error=str(exc), status=StockPush.Status.SENDING)
            raise _Stop("retry") from exc
        _apply_outcomes(rows, outcomes)


def _apply_outcomes(rows: list[StockPush], outcomes: list[StockOutcome]) -> None:
    by_key = {o.key: o for o in outcomes}
    for push in rows:
        outcome = by_key.get(str(push.pk))
        if outcome is None:
            _wait(
                [push],
                None,
                error=_("The platform's answer did not mention this SKU."),
                status=StockPush.Status.SENDING,
            )
        elif outcome.ok:
            after = outcome.quantity if outcome.quantity is not None else push.expected_after
            _succeed(push, after)
        elif outcome.retryable:
            _wait([push], None, error=outcome.error, status=StockPush.Status.PENDING)
        else:
            _fail(push, outcome.error or _("The platform refused the stock update."))


# --- row state ----------------------------------------------------------------------------------------
def _mark_sending(rows: list[StockPush]) -> None:
    now = timezone.now()
    for push in rows:
        push.status = StockPush.Status.SENDING
        push.attempts += 1
        push.updated_at = now
        push.next_attempt_at = now + timedelta(seconds=_lease_ttl())  # if we die, the sweep retries
    StockPush.objects.bulk_update(
        rows, ["status", "attempts", "updated_at", "next_attempt_at", "observed_before", "expected_after"]
    )


def _wait(rows, retry_after, *, count=True, error="", status=None, add_attempt=False) -> None:
    """Try these rows again later (backoff, or the platform's Retry-After, whichever is longer).
    ``count=False`` (throttling) does not use up an attempt; after too many counted attempts a
    row FAILS. ``add_attempt`` counts a try that failed before the write (a failed read)."""
    now = timezone.now()
    for push in rows:
        attempts = push.attempts + (1 if add_attempt else 0)
        if not count and push.status == StockPush.Status.SENDING and status == StockPush.Status.PENDING:
            attempts = max(attempts - 1, 0)  # marked as a try just before the throttled call
        if count and attempts >= max_attempts():
            _fail(push, _("Gave up after %(n)d attempts: %(error)s") % {"n": attempts, "error": error})
            continue
        delay = backoff_seconds(max(attempts, 1)) if count or not retry_after else 0
        if retry_after:
            delay = max(delay, float(retry_after))
        fields = {"next_attempt_at": now + timedelta(seconds=delay), "updated_at": now, "attempts": attempts}
        if status:
            fields["status"] = status
        if status == StockPush.Status.PENDING and push.status == StockPush.Status.SENDING:
            fields["key_generation"] = push.key_generation + 1  # answered "not applied": a new request
        if error:
            fields["error"] = error[:4000]
        StockPush.objects.filter(pk=push.pk).update(**fields)
        for key, value in fields.items():
            setattr(push, key, value)


def _succeed(push: StockPush, after, *, before=None, note: str = "") -> None:
    now = timezone.now()
    fields = {
        "status": StockPush.Status.SUCCEEDED,
        "platform_after": after,
        "done_at": now,
        "updated_at": now,
        "next_attempt_at": None,
        "error": note,
    }
    if before is not None:
        fields["observed_before"] = before
    StockPush.objects.filter(pk=push.pk).update(**fields)
    if push.mapping_id:
        ProductMapping.objects.filter(pk=push.mapping_id).update(
            last_pushed_qty=push.quantity,  # what we sent: +n for an inbound push, n for an overwrite
            last_platform_qty=after,
            last_pushed_at=now,
            last_push_error="",
        )


def _fail(push: StockPush, message: str) -> None:
    now = timezone.now()
    StockPush.objects.filter(pk=push.pk).update(
        status=StockPush.Status.FAILED,
        error=message[:4000],
        done_at=now,
        updated_at=now,
        next_attempt_at=None,
    )
    push.status = StockPush.Status.FAILED
    if push.mapping_id:
        ProductMapping.objects.filter(pk=push.mapping_id).update(last_push_error=message[:4000])


# --- the run's summary --------------------------------------------------------------------------------
def _finish_if_done(run: StockRun) -> str | None:
    counts = run.pushes.aggregate(
        open=Count("pk", filter=Q(status__in=OPEN)),
        ok=Count("pk", filter=Q(status=StockPush.Status.SUCCEEDED)),
        failed=Count("pk", filter=Q(status=StockPush.Status.FAILED)),
    )
    if counts["open"]:
        return None
    if counts["failed"] == 0:
        status = StockRun.Status.SUCCEEDED
    elif counts["ok"] == 0:
        status = StockRun.Status.FAILED
    else:
        status = StockRun.Status.PARTIAL
    finished = StockRun.objects.filter(pk=run.pk, finished_at__isnull=True).update(
        status=status, succeeded=counts["ok"], failed=counts["failed"], finished_at=timezone.now()
    )
    if finished:  # the notification once, even if two jobs get here
        run.refresh_from_db()
        _notify(run)
    return status


TITLES = {  # (kind, status) → the notification's title
    (StockRun.Kind.MANUAL_SYNC, StockRun.Status.SUCCEEDED): gettext_noop(
        "Manual stock sync to %(account)s succeeded"
    ),
    (StockRun.Kind.MANUAL_SYNC, StockRun.Status.PARTIAL): gettext_noop(
        "Manual stock sync to %(account)s partly succeeded"
    ),
    (StockRun.Kind.MANUAL_SYNC, StockRun.Status.FAILED): gettext_noop(
        "Manual stock sync to %(account)s failed"
    ),
    (StockRun.Kind.INBOUND, StockRun.Status.SUCCEEDED): gettext_noop("Inbound push to %(account)s succeeded"),
    (StockRun.Kind.INBOUND, StockRun.Status.PARTIAL): gettext_noop(
        "Inbound push to %(account)s partly succeeded"
    ),
    (StockRun.Kind.INBOUND, StockRun.Status.FAILED): gettext_noop("Inbound push to %(account)s failed"),
}
LEVELS = {StockRun.Status.SUCCEEDED: "success", StockRun.Status.PARTIAL: "warning"}


def _notify(run: StockRun) -> None:
    account = run.ec_account
    notify(
        merchant_id=account.merchant_id,
        ec_account=account,
        kind=f"stock_{run.kind}",
        level=LEVELS.get(run.status, "error"),
        title=Msg(TITLES[(run.kind, run.status)], account=account.display_name),
        body=Msg(
            gettext_noop("%(ok)d SKUs updated, %(failed)d failed."), ok=run.succeeded, failed=run.failed
        ),
        link=run_url(run),
    )


def run_url(run: StockRun) -> str:
    from django.urls import NoReverseMatch, reverse

    try:
        if run.receipt_id:
            return reverse("inventory:receipt_detail", args=[run.receipt_id])
        return reverse("integrations:stock_run", args=[run.ec_account_id, run.pk])
    except NoReverseMatch:
        return ""
