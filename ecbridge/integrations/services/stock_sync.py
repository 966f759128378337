"""Manual Stock Sync (spec/02 §1.3 and FAQ, G17): overwrite the platform stock of every mapped
product of one account with the current WMS sellable quantity (absolute; the push percentage
does not apply: the spec says the platform's numbers become the WMS numbers).

Guardrails:
- nothing runs without an explicit confirmation (the red dialog; ``confirm`` in the API);
- mass-zero breaker: when the run would set more than half of the mapped products to zero, a
  second confirmation naming that count is required (``confirm_zero_count`` must equal it),
  because a wrong or incomplete WMS count would otherwise wipe the shop;
- a product listed several times on the account is set on its stock listing only; its other
  listings are set to 0 (services/listings.py) and do not count towards the breaker;
- the quantities are taken when the run is requested, and written in the same transaction as
  the run's rows (outbox); the drain is pushing.drain_run."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from ecbridge.integrations.models import ECAccount, ProductMapping, StockPush, StockRun
from ecbridge.integrations.services import listings, pushing
from ecbridge.inventory.services.stock import sellable_by_product
from ecbridge.platforms.base import Capability


class StockSyncError(Exception):
    """Refused before anything was queued; ``str()`` is for the person."""


class NotConfirmed(StockSyncError):
    pass


class NotAvailable(StockSyncError):
    pass


class MassZeroNeedsConfirmation(StockSyncError):
    def __init__(self, zero_count: int, total: int, extra_listings: int = 0):
        self.zero_count = zero_count
        self.total = total
        self.extra_listings = extra_listings
        super().__init__(
            ngettext(
                "This sync would set %(zero)d of %(total)d mapped products to zero. "
                "Confirm that count to go on.",
                "This sync would set %(zero)d of %(total)d mapped products to zero. "
                "Confirm that count to go on.",
                zero_count,
            )
            % {"zero": zero_count, "total": total}
        )


@dataclass
class Plan:
    rows: list[tuple[ProductMapping, int]]  # (mapping, quantity to set): stock listings first
    total: int  # products (each one's stock listing)
    zero_count: int  # products whose stock listing would be set to 0

    @property
    def extra_listings(self) -> int:
        """Further listings of products already listed once: always set to 0."""
        return len(self.rows) - self.total

    @property
    def needs_zero_confirmation(self) -> bool:
        return self.total > 0 and self.zero_count * 2 > self.total


def blocked_reason(account: ECAccount) -> str | None:
    spec = account.spec
    if not (spec.implemented and spec.has(Capability.MANUAL_STOCK_SYNC)):
        return _("%(platform)s does not support manual stock sync.") % {"platform": account.platform_name}
    if not account.is_connected:
        return _("The account is not connected.")
    if not account.inbound_push_enabled:
        return _("Inbound Push is off for this account.")
    return None


def plan(account: ECAccount) -> Plan:
    chosen = listings.stock_listings([account.pk])
    sellable = sellable_by_product([m.product for m in chosen.values()], account.sales_channel)
    primary = sorted(chosen.values(), key=lambda m: (m.platform_sku, m.pk))
    rows = [(m, max(0, sellable.get(m.product_id, 0))) for m in primary]
    chosen_pks = {m.pk for m in primary}
    extras = account.product_mappings.pushable().exclude(pk__in=chosen_pks).order_by("platform_sku", "pk")
    rows += [(m, 0) for m in extras]
    return Plan(rows, total=len(primary), zero_count=sum(1 for _m, qty in rows[: len(primary)] if qty == 0))


def request_stock_sync(
    account: ECAccount, user=None, *, confirm: bool, confirm_zero_count: int | None = None
) -> StockRun:
    """Queue one manual stock sync, or raise why not (nothing is written then)."""
    reason = blocked_reason(account)
    if reason:
        raise NotAvailable(reason)
    if not confirm:
        raise NotConfirmed(_("Manual stock sync overwrites the platform's live stock: confirm it to run."))
    with transaction.atomic():
        ECAccount.objects.select_for_update().filter(pk=account.pk).first()  # one request at a time
        if account.stock_runs.filter(
            kind=StockRun.Kind.MANUAL_SYNC, status__in=[StockRun.Status.QUEUED, StockRun.Status.RUNNING]
        ).exists():
            raise NotAvailable(_("A manual stock sync of this account is already running."))
        the_plan = plan(account)
        if not the_plan.rows:
            raise NotAvailable(_("No mapped products: sync product mappings first."))
        if the_plan.needs_zero_confirmation and confirm_zero_count != the_plan.zero_count:
            raise MassZeroNeedsConfirmation(the_plan.zero_count, the_plan.total, the_plan.extra_listings)
        run = StockRun.objects.create(
            ec_account=account,
            kind=StockRun.Kind.MANUAL_SYNC,
            requested_by=user if getattr(user, "is_authenticated", False) else None,
            zero_count=the_plan.zero_count,
        )
        StockPush.objects.bulk_create(
            [
                StockPush(
                    run=run,
                    ec_account=account,
                    product_id=mapping.product_id,
                    mapping=mapping,
                    platform_sku=mapping.platform_sku,
                    mode=StockPush.Mode.ABSOLUTE,
                    quantity=quantity,
                )
                for mapping, quantity in the_plan.rows
            ],
            batch_size=500,
        )
        run_id = run.pk
        transaction.on_commit(lambda: pushing.enqueue(run_id))
    return run


def retry_failed(run: StockRun, user=None) -> int:
    """Send the failed SKUs of a finished run again, and only those; returns how many.

    A put-away's additions are re-sent as they were (those units never reached the platform). A
    manual sync's overwrites take the sellable quantity of now, not of when it was requested:
    re-sending an old absolute number would undo what was sold since."""
    reason = blocked_reason(run.ec_account) if run.kind == StockRun.Kind.MANUAL_SYNC else None
    if reason is None and not run.ec_account.is_connected:
        reason = _("The account is not connected.")
    if reason:
        raise NotAvailable(reason)
    with transaction.atomic():
        locked = StockRun.objects.select_for_update().get(pk=run.pk)
        if locked.status in (StockRun.Status.QUEUED, StockRun.Status.RUNNING):
            raise NotAvailable(_("This run is still running: wait for it to finish."))
        failed = list(
            locked.pushes.filter(status=StockPush.Status.FAILED, mapping__isnull=False).select_related(
                "mapping"
            )
        )
        if not failed:
            raise NotAvailable(
                _("No SKU of this run can be retried: none failed, or their mappings were removed.")
            )
        quantities = {}
        if locked.kind == StockRun.Kind.MANUAL_SYNC:
            quantities = {m.pk: qty for m, qty in plan(locked.ec_account).rows}
        for push in failed:
            if push.mode == StockPush.Mode.ABSOLUTE:
                push.quantity = quantities.get(push.mapping_id, 0)
            push.status = StockPush.Status.PENDING
            push.attempts = 0
            push.next_attempt_at = None
            push.key_generation += 1  # a new request: never deduplicated against the failed one
            push.observed_before = push.expected_after = push.platform_after = None
            push.error = ""
            push.done_at = None
        StockPush.objects.bulk_update(
            failed,
            [
                "quantity",
                "status",
                "attempts",
                "next_attempt_at",
                "key_generation",
                "observed_before",
                "expected_after",
                "platform_after",
                "error",
                "done_at",
            ],
        )
        StockRun.objects.filter(pk=run.pk).update(status=StockRun.Status.QUEUED, finished_at=None)
        transaction.on_commit(lambda: pushing.enqueue(run.pk))
    return len(failed)
