"""The webhook inbox (G3): verify, store, acknowledge; a job processes each stored event.

Receiving never calls a platform and never imports: it verifies the signature with the platform
client's ``verify_webhook_request``, parses, stores one WebhookEvent per event (unique per
platform + delivery id, so a redelivery is acknowledged and not processed twice), records an
inbound API-log row, and queues processing after commit.

Processing: ORDER → ``get_orders(ids)`` through ``connection.call`` → ``import_page`` (the same
idempotent upsert as fetches; it does not take the fetch lease, because the database's unique
order key already makes a concurrent fetch and webhook safe, and a webhook should not wait hours
behind a long fetch). DEAUTHORIZED → the account is Disconnected with a notification. Events for
shops we do not know, or accounts that may not fetch, are IGNORED with the reason. Failures are
kept FAILED with the error and retried with exponential backoff up to WEBHOOK_MAX_ATTEMPTS; a
periodic sweep re-queues events a dead worker left behind. A webhook only shortens latency: the
scheduled fetch still reconciles everything (G1)."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from ecbridge.apilog.services import record_call
from ecbridge.integrations.models import ECAccount, WebhookEvent
from ecbridge.integrations.services import connection, status
from ecbridge.integrations.services.fetching import blocked_reason
from ecbridge.orders.services.importing import ImportCounts, channel_block_reason, import_page
from ecbridge.platforms.base import AccountContext, Capability, WebhookKind
from ecbridge.platforms.errors import PlatformCallError
from ecbridge.platforms.registry import get_spec
from ecbridge.platforms.settings import platform_settings

log = logging.getLogger(__name__)


@dataclass
class Receipt:
    status_code: int
    stored: int = 0
    duplicates: int = 0


def accounts_for(platform: str, shop_id: str):
    if not shop_id:
        return ECAccount.objects.none()
    return ECAccount.objects.filter(platform=platform, external_shop_id__iexact=str(shop_id).strip())


def _log(
    platform: str,
    account: ECAccount | None,
    *,
    operation: str,
    path: str,
    headers,
    body: bytes,
    status_code: int,
    started: float,
    error: str = "",
) -> None:
    ctx = (
        account.context()
        if account is not None
        else AccountContext(None, None, platform, settings=platform_settings(platform))
    )
    try:
        record_call(
            ctx=ctx,
            direction="inbound",
            operation=operation,
            method="POST",
            url=path,
            status_code=status_code,
            duration_ms=int((time.monotonic() - started) * 1000),
            error=error,
            request_headers=headers,
            request_body=body.decode("utf-8", errors="replace"),
            response_body="",
        )
    except Exception:  # the log must never turn an acknowledged delivery into an error
        log.exception("could not record the inbound %s notification", platform)


def receive(platform: str, headers: dict[str, str], body: bytes, *, path: str, url: str) -> Receipt:
    """Handle one delivery; returns the HTTP status to answer (the body is always empty)."""
    started = time.monotonic()
    try:
        spec = get_spec(platform)
    except LookupError:
        return Receipt(404)
    if not spec.implemented or not spec.has(Capability.REALTIME_PUSH):
        return Receipt(404)
    client_cls = import_string(spec.client_class)
    # Shopee signs the push URL configured in its console, which may differ from what reached us
    # behind a proxy; platforms without a configured URL are given the request's own URL.
    verify_url = str(platform_settings(platform).get("push_url") or url)
    try:
        genuine = client_cls.verify_webhook_request(headers, body, verify_url)
    except Exception:
        log.exception("webhook verification of %s raised", platform)
        genuine = False
    if not genuine:
        _log(
            platform,
            None,
            operation="webhook",
            path=path,
            headers=headers,
            body=body,
            status_code=401,
            started=started,
            error=_("Signature verification failed: the notification was rejected."),
        )
        return Receipt(401)
    try:
        events = client_cls.parse_webhook(headers, body)
    except (ValueError, KeyError, TypeError) as exc:
        _log(
            platform,
            None,
            operation="webhook",
            path=path,
            headers=headers,
            body=body,
            status_code=400,
            started=started,
            error=_("Unreadable notification: %(error)s") % {"error": exc},
        )
        return Receipt(400)

    receipt = Receipt(200)
    first_account = None
    with transaction.atomic():
        for event in events:
            account = accounts_for(platform, event.shop_id).order_by("pk").first()
            first_account = first_account or account
            try:
                with transaction.atomic():
                    row = WebhookEvent.objects.create(
                        platform=platform,
                        delivery_id=str(event.delivery_id)[:200],
                        topic=str(event.topic)[:100],
                        kind=str(event.kind),
                        shop_id=str(event.shop_id)[:120],
                        ec_account=account,
                        order_ids=[str(i) for i in event.order_ids],
                    )
            except IntegrityError:  # the platform delivered it again: acknowledged, not reprocessed
                receipt.duplicates += 1
                continue
            receipt.stored += 1
            enqueue(row.pk)
    topics = ", ".join(sorted({e.topic for e in events})) or "-"
    note = _("duplicate delivery, already received") if receipt.duplicates and not receipt.stored else ""
    _log(
        platform,
        first_account,
        operation=f"webhook {topics}"[:100],
        path=path,
        headers=headers,
        body=body,
        status_code=200,
        started=started,
    )
    if note:
        log.info("%s webhook %s: %s", platform, topics, note)
    return receipt


def enqueue(event_id: int, delay: float | None = None) -> None:
    from ecbridge.integrations.tasks import process_webhook_event

    if delay:
        transaction.on_commit(lambda: process_webhook_event.schedule((event_id,), delay=delay))
    else:
        transaction.on_commit(lambda: process_webhook_event(event_id))


def backoff_seconds(attempts: int) -> float:
    return min(3600.0, settings.WEBHOOK_RETRY_BASE_SECONDS * 2 ** max(0, attempts - 1))


def _close(event: WebhookEvent, status_value: str, error: str = "") -> WebhookEvent:
    event.status = status_value
    event.error = error[:4000]
    event.processed_at = timezone.now()
    event.save(update_fields=["status", "error", "processed_at", "attempts", "ec_account"])
    return event


def process_event(event_id: int) -> WebhookEvent | None:
    """Process one stored event (the job). Safe to run twice: imports are idempotent."""
    event = WebhookEvent.objects.filter(pk=event_id).first()
    if event is None or event.status in (WebhookEvent.Status.PROCESSED, WebhookEvent.Status.IGNORED):
        return event
    event.attempts += 1
    accounts = list(accounts_for(event.platform, event.shop_id).select_related("sales_channel"))
    if not accounts:
        return _close(
            event,
            WebhookEvent.Status.IGNORED,
            _("No EC account is connected to shop “%(shop)s” on this platform.")
            % {"shop": event.shop_id or "-"},
        )
    event.ec_account = event.ec_account or accounts[0]
    if event.kind == WebhookKind.IGNORED:
        return _close(
            event,
            WebhookEvent.Status.IGNORED,
            _("Nothing to do for topic “%(topic)s”.") % {"topic": event.topic},
        )
    try:
        if event.kind == WebhookKind.DEAUTHORIZED:
            for account in accounts:
                status.mark_disconnected(
                    account,
                    _("The shop revoked the authorization on the platform (%(topic)s).")
                    % {"topic": event.topic},
                )
            return _close(event, WebhookEvent.Status.PROCESSED)
        if event.kind == WebhookKind.ORDER:
            return _process_orders(event, accounts)
        return _close(
            event, WebhookEvent.Status.IGNORED, _("Unknown event kind “%(kind)s”.") % {"kind": event.kind}
        )
    except Exception as exc:
        if not isinstance(exc, PlatformCallError):
            log.exception("webhook event %s failed", event.pk)
        _close(event, WebhookEvent.Status.FAILED, f"{exc.__class__.__name__}: {exc}")
        if event.attempts < settings.WEBHOOK_MAX_ATTEMPTS:
            enqueue(event.pk, delay=backoff_seconds(event.attempts))
        return event


def _process_orders(event: WebhookEvent, accounts: list[ECAccount]) -> WebhookEvent:
    if not event.order_ids:
        return _close(event, WebhookEvent.Status.IGNORED, _("The notification names no order."))
    skipped, counts = [], ImportCounts()
    for account in accounts:
        reason = blocked_reason(account) or channel_block_reason(account.sales_channel)
        if reason:
            skipped.append(f"{account.display_name}: {reason}")
            continue
        orders = connection.call(account, lambda client: client.get_orders(list(event.order_ids)))
        result = import_page(account, orders)
        counts.add(result)
        if result.skipped_reason:
            skipped.append(f"{account.display_name}: {result.skipped_reason}")
    if len(skipped) == len(accounts):
        return _close(event, WebhookEvent.Status.IGNORED, "\n".join(skipped))
    return _close(event, WebhookEvent.Status.PROCESSED, "\n".join(skipped))


def requeue_stale(now: datetime | None = None) -> int:
    """Re-queue events a dead worker left PENDING, and FAILED ones whose retry is overdue."""
    now = now or timezone.now()
    stale_pending = Q(
        status=WebhookEvent.Status.PENDING,
        received_at__lt=now - timedelta(minutes=settings.WEBHOOK_STALE_MINUTES),
    )
    count = 0
    for event in WebhookEvent.objects.filter(
        stale_pending | Q(status=WebhookEvent.Status.FAILED, attempts__lt=settings.WEBHOOK_MAX_ATTEMPTS)
    ).order_by("received_at")[:500]:
        if event.status == WebhookEvent.Status.FAILED:
            due = (event.processed_at or event.received_at) + timedelta(
                seconds=backoff_seconds(event.attempts) + settings.WEBHOOK_STALE_MINUTES * 60
            )
            if due > now:
                continue
        enqueue(event.pk)
        count += 1
    return count
