"""Writing, reading and pruning API-log rows.

Writes are autocommit: platform calls never run inside a transaction, so a log row survives
whatever the caller does next. Every value is redacted before it is written (see redaction)."""

import json
import logging
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from ecbridge.apilog.models import ApiCall
from ecbridge.apilog.redaction import redact_body, redact_headers, redact_url

logger = logging.getLogger(__name__)


def _field_max(name: str) -> int:
    return ApiCall._meta.get_field(name).max_length


def _clip(value, field: str) -> str:
    """Short columns are clipped rather than failing the insert (PostgreSQL enforces max_length)."""
    return str(value or "")[: _field_max(field)]


def _context_secrets(ctx) -> list[str]:
    if ctx is None:
        return []
    try:
        return list(ctx.secret_values())
    except LookupError:  # unknown platform code: still mask whatever the context carries
        values = list(getattr(ctx, "credentials", {}).values()) + list(getattr(ctx, "tokens", {}).values())
        return [v for v in values if isinstance(v, str) and v]


def record_call(
    *,
    ctx,
    direction: str,
    operation: str,
    method: str,
    url: str,
    status_code: int | None,
    duration_ms: int,
    error: str = "",
    attempt: int = 1,
    request_headers=None,
    request_body=None,
    response_body=None,
    secrets=(),
) -> ApiCall:
    """Record one call attempt (outbound) or one notification (inbound).

    ``ctx`` is a platforms.base.AccountContext (or None for app-level calls). A non-empty
    ``error`` makes the row a failure; the EC account's name is copied so the row stays readable
    after the account is deleted."""
    secrets = list(secrets) + _context_secrets(ctx)
    limit = settings.APILOG_BODY_MAX_CHARS
    account_id = getattr(ctx, "account_id", None)
    label = ""
    if account_id:
        from ecbridge.integrations.models import ECAccount

        label = ECAccount.objects.filter(pk=account_id).values_list("display_name", flat=True).first() or ""
    return ApiCall.objects.create(
        merchant_id=getattr(ctx, "merchant_id", None),
        ec_account_id=account_id if label else None,
        account_label=_clip(label, "account_label"),
        platform=_clip(getattr(ctx, "platform", ""), "platform"),
        direction=direction,
        operation=_clip(operation, "operation"),
        method=_clip((method or "").upper(), "method"),
        endpoint=redact_url(url or "", secrets),
        status_code=status_code,
        duration_ms=max(0, int(duration_ms or 0)),
        outcome=ApiCall.Outcome.FAILURE if error else ApiCall.Outcome.SUCCESS,
        error=redact_body(error, secrets, limit),
        attempt=max(1, int(attempt or 1)),
        request_headers=redact_headers(request_headers or {}, secrets)[:limit],
        request_body=redact_body(request_body, secrets, limit),
        response_body=redact_body(response_body, secrets, limit),
    )


# --- reading ---------------------------------------------------------------------------------------
def visible_calls(user, merchant=None) -> QuerySet:
    """The rows ``user`` may read, narrowed to ``merchant`` (the header switcher) when set.

    Warehouse admins also see app-level rows that belong to no merchant (e.g. a call made before
    any account existed); nobody else ever does."""
    qs = ApiCall.objects.for_user(user, merchant)
    if (
        merchant is None
        and getattr(user, "is_authenticated", False)
        and user.is_active
        and user.sees_all_merchants
    ):
        qs = ApiCall.objects.all()
    return qs


def day_start(day: date) -> datetime:
    """Midnight of ``day`` in the warehouse time zone: date filters mean warehouse calendar days."""
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(settings.TIME_ZONE))


def filter_calls(
    qs: QuerySet,
    *,
    date_from: date | None = None,
    date_to: date | None = None,
    ec_accounts: Iterable = (),
    outcomes: Iterable[str] = (),
    directions: Iterable[str] = (),
    platforms: Iterable[str] = (),
    merchants: Iterable = (),
    search: str = "",
) -> QuerySet:
    """The filters shared by the page and the API. Both dates are inclusive warehouse days."""
    if date_from:
        qs = qs.filter(created_at__gte=day_start(date_from))
    if date_to:
        qs = qs.filter(created_at__lt=day_start(date_to + timedelta(days=1)))
    if ec_accounts := list(ec_accounts):
        qs = qs.filter(ec_account__in=ec_accounts)
    if outcomes := list(outcomes):
        qs = qs.filter(outcome__in=outcomes)
    if directions := list(directions):
        qs = qs.filter(direction__in=directions)
    if platforms := list(platforms):
        qs = qs.filter(platform__in=platforms)
    if merchants := list(merchants):
        qs = qs.filter(merchant__in=merchants)
    if term := (search or "").strip():
        qs = qs.filter(
            Q(operation__icontains=term)
            | Q(endpoint__icontains=term)
            | Q(error__icontains=term)
            | Q(account_label__icontains=term)
        )
    return qs


def pretty_body(text: str) -> str:
    """JSON bodies indented for reading; anything else as stored."""
    if not text:
        return ""
    stripped = text.strip()
    if stripped[:1] in ("{", "["):
        try:
            return json.dumps(json.loads(stripped), indent=2, ensure_ascii=False)
        except ValueError:
            pass
    return text


# --- retention -------------------------------------------------------------------------------------
def retention_cutoffs(now=None) -> dict[str, datetime]:
    """Rows of each outcome created before its cutoff are expired."""
    now = now or timezone.now()
    return {
        ApiCall.Outcome.SUCCESS: now - timedelta(days=settings.APILOG_SUCCESS_RETENTION_DAYS),
        ApiCall.Outcome.FAILURE: now - timedelta(days=settings.APILOG_FAILURE_RETENTION_DAYS),
    }


def expired_calls(now=None) -> QuerySet:
    query = Q()
    for outcome, cutoff in retention_cutoffs(now).items():
        query |= Q(outcome=outcome, created_at__lt=cutoff)
    return ApiCall.objects.filter(query)


def prune(now=None, batch_size: int = 2000) -> int:
    """Delete successes older than the success retention and failures older than the failure
    retention, in batches so a large table is never locked for long (each batch is its own
    autocommit statement). Returns the number deleted."""
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    deleted = 0
    for outcome, cutoff in retention_cutoffs(now).items():
        expired = ApiCall.objects.filter(outcome=outcome, created_at__lt=cutoff).order_by()
        while True:
            batch = list(expired.values_list("pk", flat=True)[:batch_size])
            if not batch:
                break
            deleted += ApiCall.objects.filter(pk__in=batch).delete()[0]
            if len(batch) < batch_size:
                break
    if deleted:
        logger.info("Pruned %d expired API-log rows", deleted)
    return deleted
