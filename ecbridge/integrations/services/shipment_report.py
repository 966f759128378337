"""Draining the shipment-report outbox (G15): tell the platform an order (package) shipped,
at most once per package, with retries, and read back the tracking number the platform issues.

State machine of a ShipmentReport::

    PENDING ──report_shipment──▶ DONE                      (accepted, or "already shipped")
       │  └──────────────────▶ AWAITING_TRACKING ──fetch_tracking (polled)──▶ DONE
       ├─ throttled / transient: stays, next_attempt_at = backoff (Retry-After honoured);
       │  after SHIPMENT_REPORT_MAX_ATTEMPTS consecutive failures ──▶ FAILED + notification
       ├─ business refusal (PlatformError) ──▶ FAILED + notification
       └─ authorization rejected: the account is Disconnected (connection.call); the row stays
          and resumes after reconnect (the sweep only takes Connected accounts)
    FAILED ──"Retry now"──▶ PENDING

One job per report at a time (a TTL lease); a DONE or FAILED row is never sent again."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from ecbridge.core.leases import lease
from ecbridge.core.messages import Msg
from ecbridge.integrations.models import ConnectionStatus, ShipmentReport, ShipmentReportAttempt
from ecbridge.integrations.services import connection
from ecbridge.notifications.services import notify
from ecbridge.orders.models import Order
from ecbridge.platforms.base import OrderLineData, ShipmentOutcome, ShipmentRequest, ShipmentResult
from ecbridge.platforms.errors import AuthError, PlatformCallError, PlatformError, RateLimited

log = logging.getLogger(__name__)


class Outcome:
    """``ShipmentReportAttempt.outcome`` values (shown on the order's attempt log)."""

    DONE = "done"
    ALREADY_SHIPPED = "already_shipped"
    AWAITING_TRACKING = "awaiting_tracking"
    TRACKING_PENDING = "tracking_pending"  # polled; the platform has no number yet
    THROTTLED = "throttled"
    RETRY = "retry"  # transient failure (5xx, timeout, malformed answer)
    REFUSED = "refused"  # the platform refused it for a business reason
    AUTH = "auth_error"
    GAVE_UP = "gave_up"
    MANUAL_RETRY = "manual_retry"


RETRYABLE_OUTCOMES = {Outcome.THROTTLED, Outcome.RETRY}


# --- settings (read at call time so tests and deployments can change them) ----------------------
def _setting(name: str, default):
    return getattr(settings, name, default)


def max_attempts() -> int:
    """Consecutive throttled/transient failures before a report is FAILED."""
    return int(_setting("SHIPMENT_REPORT_MAX_ATTEMPTS", 8))


def backoff_seconds(failures: int) -> float:
    """Exponential: base × 2^(failures-1), capped."""
    base = float(_setting("SHIPMENT_REPORT_BACKOFF_SECONDS", 60))
    cap = float(_setting("SHIPMENT_REPORT_MAX_BACKOFF_SECONDS", 3600))
    return min(base * 2 ** max(failures - 1, 0), cap)


def poll_seconds(polls: int) -> float:
    """Tracking-number polls: every 5 minutes at first (Shopee asks for ≥ 5 min), then slower."""
    base = float(_setting("SHIPMENT_TRACKING_POLL_SECONDS", 300))
    cap = float(_setting("SHIPMENT_TRACKING_POLL_MAX_SECONDS", 3600))
    return min(base * 2 ** max(polls - 1, 0), cap)


def _lease_ttl() -> float:
    # Longer than one report can take with PlatformHttp's own retries (timeouts × attempts + backoff).
    return float(_setting("SHIPMENT_REPORT_LEASE_SECONDS", 600))


# --- enqueueing -------------------------------------------------------------------------------------
def enqueue(report_id: int) -> None:
    """Queue the report job. A failure to enqueue is logged, not raised: the sweep finds the row."""
    try:
        from ecbridge.orders.tasks import report_shipment_task

        report_shipment_task(report_id)
    except Exception:  # noqa: BLE001 - the queue being down must not undo a committed shipment
        log.exception("could not enqueue shipment report %s; the sweep will retry", report_id)


def sweep(now=None) -> list[int]:
    """Re-enqueue every open report that is due, for Connected accounts: rows whose backoff has
    passed, and rows never picked up (no ``next_attempt_at`` and older than the stale delay). Each
    enqueued row is pushed forward by the lease TTL so a slow queue does not get it twice a minute;
    if that job dies, the row comes due again."""
    now = now or timezone.now()
    stale = now - timedelta(seconds=float(_setting("SHIPMENT_SWEEP_STALE_SECONDS", 60)))
    due = ShipmentReport.objects.filter(
        status__in=[ShipmentReport.Status.PENDING, ShipmentReport.Status.AWAITING_TRACKING],
        ec_account__status=ConnectionStatus.CONNECTED,
    ).filter(Q(next_attempt_at__lte=now) | Q(next_attempt_at__isnull=True, created_at__lte=stale))
    enqueued = []
    for report_id, next_at in due.values_list("pk", "next_attempt_at")[:1000]:
        claimed = ShipmentReport.objects.filter(pk=report_id, next_attempt_at=next_at).update(
            next_attempt_at=now + timedelta(seconds=_lease_ttl())
        )
        if claimed:
            enqueue(report_id)
            enqueued.append(report_id)
    return enqueued


def retry(report: ShipmentReport, *, user=None) -> bool:
    """ "Retry now" on a FAILED report: back to PENDING (the failure count starts over) and queued."""
    with transaction.atomic():
        changed = ShipmentReport.objects.filter(pk=report.pk, status=ShipmentReport.Status.FAILED).update(
            status=ShipmentReport.Status.PENDING, next_attempt_at=None, updated_at=timezone.now()
        )
        if not changed:
            return False
        who = getattr(user, "username", "") or _("the system")
        message = _("Retry requested by %(who)s") % {"who": who}
        ShipmentReportAttempt.objects.create(report=report, outcome=Outcome.MANUAL_RETRY, message=message)
        report_id = report.pk
        transaction.on_commit(lambda: enqueue(report_id))
    report.refresh_from_db()
    return True


# --- the job ------------------------------------------------------------------------------------------
def build_request(report: ShipmentReport) -> ShipmentRequest:
    order = report.order
    return ShipmentRequest(
        platform_order_id=order.platform_order_id,
        order_number=order.order_number,
        package_key=report.package_key,
        carrier=report.carrier,
        tracking_number=report.tracking_number,
        shipping_code=order.shipping_code,
        shipment_refs=dict(order.shipment_refs or {}),
        lines=[
            OrderLineData(
                line_id=line.line_id,
                sku=line.sku,
                name=line.name,
                quantity=line.quantity,
                item_id=line.platform_item_id,
                variant_id=line.platform_variant_id,
                barcode=line.barcode,
            )
            for line in order.lines.all()
        ],
        shipped_at=order.shipped_at,
    )


def report(report_id: int) -> str:
    """Run one step of the report's state machine. Returns what happened (for logs and tests)."""
    with lease(f"shipment-report:{report_id}", ttl=_lease_ttl()) as held:
        if not held:
            return "busy"  # another job is on it; it will record the outcome
        rep = (
            ShipmentReport.objects.select_related("order", "ec_account", "order__ec_account")
            .filter(pk=report_id)
            .first()
        )
        if rep is None:
            return "missing"
        if rep.status in (ShipmentReport.Status.DONE, ShipmentReport.Status.FAILED):
            return rep.status
        account = rep.ec_account
        if account.status != ConnectionStatus.CONNECTED:
            return "skipped"  # resumes after reconnect
        request = build_request(rep)
        polling = rep.status == ShipmentReport.Status.AWAITING_TRACKING
        try:
            if polling:
                result = connection.call(account, lambda client: client.fetch_tracking(request))
            else:
                result = connection.call(account, lambda client: client.report_shipment(request))
        except AuthError as exc:  # connection.call has marked the account Disconnected
            _record(rep, Outcome.AUTH, str(exc), last_error=str(exc), next_attempt_at=timezone.now())
            return Outcome.AUTH
        except RateLimited as exc:
            return _retry_later(rep, Outcome.THROTTLED, exc, retry_after=exc.retry_after)
        except PlatformError as exc:
            _fail(rep, Outcome.REFUSED, str(exc) or _("The platform refused the shipment."))
            return Outcome.REFUSED
        except PlatformCallError as exc:  # TransientError and anything else retryable
            return _retry_later(rep, Outcome.RETRY, exc)
        except NotImplementedError:
            _fail(rep, Outcome.REFUSED, _("This platform does not accept shipment reports."))
            return Outcome.REFUSED
        except Exception as exc:  # a bug or an unexpected answer: keep the row, log, retry later
            log.exception("shipment report %s crashed", report_id)
            return _retry_later(rep, Outcome.RETRY, exc)
        return _apply(rep, result, polling=polling)


def _apply(rep: ShipmentReport, result: ShipmentResult, *, polling: bool) -> str:
    number = (result.tracking_number or "").strip()
    if result.outcome == ShipmentOutcome.DONE and (number or not polling):
        outcome = Outcome.ALREADY_SHIPPED if result.already_shipped else Outcome.DONE
        message = result.message or (
            _("The platform had already recorded this shipment.")
            if result.already_shipped
            else _("The platform accepted the shipment.")
        )
        if number:
            message = f"{message} " + _("Tracking number: %(number)s") % {"number": number}
        _done(rep, outcome, message, number=number, carrier=(result.carrier or "").strip())
        return outcome
    # Accepted, but the platform issues the tracking number later (or has not yet).
    now = timezone.now()
    if polling and _waited_too_long(rep, now):
        _fail(rep, Outcome.GAVE_UP, _("The platform issued no tracking number in time."))
        return Outcome.GAVE_UP
    # The n-th wait: 1 after the shipment is arranged, then one more per empty poll (this one included).
    waits = rep.attempt_log.filter(outcome=Outcome.TRACKING_PENDING).count() + 2 if polling else 1
    outcome = Outcome.TRACKING_PENDING if polling else Outcome.AWAITING_TRACKING
    message = result.message or (
        _("No tracking number from the platform yet.")
        if polling
        else _("Shipment arranged; waiting for the platform's tracking number.")
    )
    _record(
        rep,
        outcome,
        message,
        status=ShipmentReport.Status.AWAITING_TRACKING,
        next_attempt_at=now + timedelta(seconds=poll_seconds(waits)),
        last_error="",
    )
    return outcome


def _waited_too_long(rep: ShipmentReport, now) -> bool:
    first = (
        rep.attempt_log.filter(outcome=Outcome.AWAITING_TRACKING).order_by("-at").values_list("at", flat=True)
    ).first()
    limit = timedelta(hours=float(_setting("SHIPMENT_TRACKING_MAX_WAIT_HOURS", 72)))
    return bool(first and now - first > limit)


def _consecutive_failures(rep: ShipmentReport) -> int:
    """Throttled/transient tries since the last success, refusal or manual retry (auth rejections
    are neutral: they are the account's problem, fixed by reconnecting)."""
    count = 0
    for outcome in rep.attempt_log.order_by("-at", "-id").values_list("outcome", flat=True)[:200]:
        if outcome == Outcome.AUTH:
            continue
        if outcome not in RETRYABLE_OUTCOMES:
            break
        count += 1
    return count


def _retry_later(rep: ShipmentReport, outcome: str, exc: Exception, *, retry_after=None) -> str:
    message = str(exc) or exc.__class__.__name__
    failures = _consecutive_failures(rep) + 1
    if failures >= max_attempts():
        _fail(
            rep,
            Outcome.GAVE_UP,
            _("Gave up after %(n)d attempts: %(error)s") % {"n": failures, "error": message},
        )
        return Outcome.GAVE_UP
    delay = backoff_seconds(failures)
    if retry_after:
        delay = max(delay, float(retry_after))
    _record(
        rep,
        outcome,
        message,
        last_error=message,
        next_attempt_at=timezone.now() + timedelta(seconds=delay),
    )
    return outcome


def _record(rep: ShipmentReport, outcome: str, message: str, *, count: bool = True, **fields) -> None:
    """One attempt row and the report's new state, together."""
    now = timezone.now()
    if count and outcome != Outcome.AUTH:
        fields["attempts"] = rep.attempts + 1
    fields["updated_at"] = now
    with transaction.atomic():
        ShipmentReportAttempt.objects.create(report=rep, outcome=outcome, message=message[:4000])
        ShipmentReport.objects.filter(pk=rep.pk).update(**fields)
    for key, value in fields.items():
        setattr(rep, key, value)


def _done(rep: ShipmentReport, outcome: str, message: str, *, number: str, carrier: str) -> None:
    now = timezone.now()
    if number and rep.tracking_number and number != rep.tracking_number:  # said, never a silent swap
        message = " ".join(
            part
            for part in (
                message,
                _("The platform's tracking number %(number)s replaced the typed %(typed)s.")
                % {"number": number, "typed": rep.tracking_number},
            )
            if part
        )
    with transaction.atomic():
        _record(
            rep,
            outcome,
            message,
            status=ShipmentReport.Status.DONE,
            done_at=now,
            next_attempt_at=None,
            last_error="",
            platform_tracking_number=number,
        )
        order_fields = {}
        if number:  # the platform issued (or confirmed) the number: the order shows it
            order_fields["tracking_number"] = number[:120]
        if carrier:
            order_fields["carrier"] = carrier[:120]
        if order_fields:
            Order.objects.filter(pk=rep.order_id).update(updated_at=now, **order_fields)


def _fail(rep: ShipmentReport, outcome: str, message: str) -> None:
    _record(
        rep, outcome, message, status=ShipmentReport.Status.FAILED, next_attempt_at=None, last_error=message
    )
    order = rep.order
    notify(
        merchant_id=order.merchant_id,
        ec_account=rep.ec_account,
        kind="shipment_report_failed",
        level="error",
        title=Msg(
            gettext_noop("Shipment of order %(number)s could not be reported to %(account)s"),
            number=order.order_number,
            account=rep.ec_account.display_name,
        ),
        body=message,
        link=order_url(order.pk),
    )


def order_url(order_id: int) -> str:
    try:
        return reverse("orders:detail", args=[order_id])
    except NoReverseMatch:  # the order pages are not mounted
        return ""
