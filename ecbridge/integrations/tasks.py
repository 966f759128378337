"""Background jobs of EC accounts (Huey)."""

import logging
from datetime import timedelta

from django.utils import timezone
from django.utils.translation import gettext as _
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from ecbridge.integrations.models import ConnectionStatus, ECAccount
from ecbridge.integrations.services import connection, fetching, status, webhooks
from ecbridge.platforms.errors import AuthError, PlatformCallError

log = logging.getLogger(__name__)
REFRESH_AHEAD = timedelta(minutes=30)


@db_task()
def refresh_account_tokens(account_id: int) -> str:
    """Refresh one account's tokens (single-flight inside). A rejected refresh disconnects it."""
    account = ECAccount.objects.filter(pk=account_id, status=ConnectionStatus.CONNECTED).first()
    if account is None:
        return "skipped"
    try:
        connection.refresh_tokens(account)
    except AuthError as exc:
        status.mark_disconnected(account, _("Token refresh was rejected: %(error)s") % {"error": exc})
        return "disconnected"
    except PlatformCallError as exc:  # transient: the next run tries again before expiry
        log.warning("token refresh for account %s failed: %s", account_id, exc)
        return "failed"
    return "refreshed"


@db_periodic_task(crontab(minute="*/10"))
def refresh_expiring_tokens() -> int:
    """Proactive refresh (G11): every connected OAuth account whose access token expires soon."""
    due = ECAccount.objects.filter(
        status=ConnectionStatus.CONNECTED,
        token_expires_at__isnull=False,
        token_expires_at__lt=timezone.now() + REFRESH_AHEAD,
    ).values_list("pk", flat=True)
    count = 0
    for account_id in due:
        refresh_account_tokens(account_id)
        count += 1
    return count


# --- orders (issue 3) ------------------------------------------------------------------------------
@db_task()
def fetch_orders(account_id: int, trigger: str = "schedule", run_id: int | None = None) -> str:
    """One order fetch of one account (lease inside: a second concurrent run is SKIPPED)."""
    run = fetching.run_fetch(account_id, trigger, run_id)
    return run.status if run is not None else "skipped"


@db_periodic_task(crontab())
def order_fetch_tick() -> int:
    """Every minute: queue the due fetches (each once, however late or doubled the tick) and
    close runs a dead worker left open."""
    fetching.expire_stale_runs()
    return len(fetching.schedule_due())


@db_task()
def process_webhook_event(event_id: int) -> str:
    """Process one stored webhook event; retries are scheduled by the service with backoff."""
    event = webhooks.process_event(event_id)
    return event.status if event is not None else "missing"


@db_periodic_task(crontab(minute="*/5"))
def sweep_webhook_inbox() -> int:
    """Re-queue events a dead worker left pending and failed ones whose retry is overdue."""
    return webhooks.requeue_stale()


# --- stock (issue 4) ---------------------------------------------------------------------------------
@db_task()
def push_stock_run(run_id: int) -> str:
    """Drain one stock run (inbound push or manual stock sync); a lease inside keeps it single."""
    from ecbridge.integrations.services import pushing

    return pushing.drain_run(run_id)


@db_periodic_task(crontab())
def sweep_stock_pushes() -> int:
    """Every minute: re-queue runs whose rows are due again or were never picked up."""
    from ecbridge.integrations.services import pushing

    return len(pushing.sweep())


@db_task()
def sync_product_mappings(run_id: int) -> str:
    """One "Sync Product Mappings" job."""
    from ecbridge.integrations.services import mapping_sync

    run = mapping_sync.run_sync(run_id)
    return run.status if run is not None else "missing"
