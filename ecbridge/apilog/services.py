"""Writing and pruning API-log rows. Writes are autocommit: platform calls never run inside a
transaction, so a log row survives whatever the caller does next."""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from ecbridge.apilog.models import ApiCall
from ecbridge.apilog.redaction import redact_body, redact_headers, redact_url


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
    """Record one call. ``ctx`` is a platforms.base.AccountContext (or None for app-level calls)."""
    secrets = list(secrets) + (ctx.secret_values() if ctx is not None else [])
    limit = settings.APILOG_BODY_MAX_CHARS
    account_id = getattr(ctx, "account_id", None)
    label = ""
    if account_id:
        from ecbridge.integrations.models import ECAccount

        label = ECAccount.objects.filter(pk=account_id).values_list("display_name", flat=True).first() or ""
    return ApiCall.objects.create(
        merchant_id=getattr(ctx, "merchant_id", None),
        ec_account_id=account_id if label else None,
        account_label=label,
        platform=getattr(ctx, "platform", ""),
        direction=direction,
        operation=operation,
        method=method.upper(),
        endpoint=redact_url(url, secrets),
        status_code=status_code,
        duration_ms=max(0, int(duration_ms)),
        outcome=ApiCall.Outcome.FAILURE if error else ApiCall.Outcome.SUCCESS,
        error=redact_body(error, secrets, limit),
        attempt=attempt,
        request_headers=redact_headers(request_headers or {}, secrets),
        request_body=redact_body(request_body, secrets, limit),
        response_body=redact_body(response_body, secrets, limit),
    )


def prune(now=None, batch_size: int = 5000) -> int:
    """Delete successes older than the success retention and failures older than the failure
    retention, in batches so a large table never locks for long. Returns the number deleted."""
    now = now or timezone.now()
    deleted = 0
    rules = [
        (ApiCall.Outcome.SUCCESS, now - timedelta(days=settings.APILOG_SUCCESS_RETENTION_DAYS)),
        (ApiCall.Outcome.FAILURE, now - timedelta(days=settings.APILOG_FAILURE_RETENTION_DAYS)),
    ]
    for outcome, cutoff in rules:
        while True:
            ids = list(
                ApiCall.objects.filter(outcome=outcome, created_at__lt=cutoff).values_list("id", flat=True)[
                    :batch_size
                ]
            )
            if not ids:
                break
            deleted += ApiCall.objects.filter(id__in=ids).delete()[0]
    return deleted
