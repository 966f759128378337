"""How far a piece of background work has come, for the pages that watch it: stock runs (put-away
pushes and manual syncs), order fetches, product mapping syncs and shipment reports. One shape
for all of them, so every page shows the same badge, the same counts and polls the same way."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Q
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from ecbridge.integrations.models import FetchRun, ProductSyncRun, ShipmentReport, StockPush, StockRun

BADGES = {
    "succeeded": "success",
    "done": "success",
    "failed": "danger",
    "partial": "warning",
    "skipped": "warning",
}


@dataclass
class Progress:
    kind: str  # the URL's kind: stock_run, fetch_run, mapping_sync, shipment_report
    pk: int
    status: str
    label: str  # what the badge says
    counts: str  # "412 / 1,000 SKUs", "120 orders so far", "" when there is nothing to count
    finished: bool

    @property
    def badge(self) -> str:
        return BADGES.get(self.status, "info" if not self.finished else "secondary")


def _n(value: int) -> str:
    return formats.number_format(value, force_grouping=True)


def stock_run(run: StockRun) -> Progress:
    counts = run.pushes.aggregate(
        total=Count("pk"),
        done=Count("pk", filter=Q(status__in=[StockPush.Status.SUCCEEDED, StockPush.Status.FAILED])),
        failed=Count("pk", filter=Q(status=StockPush.Status.FAILED)),
        sending=Count("pk", filter=Q(status=StockPush.Status.SENDING)),
        due_later=Count("pk", filter=Q(status=StockPush.Status.PENDING, next_attempt_at__gt=timezone.now())),
    )
    finished = run.status not in (StockRun.Status.QUEUED, StockRun.Status.RUNNING)
    label = run.get_status_display()
    open_rows = counts["total"] - counts["done"]
    if not finished and open_rows and counts["due_later"] == open_rows and not counts["sending"]:
        label = _("Waiting to retry")
    text = ngettext("%(done)s / %(total)s SKU", "%(done)s / %(total)s SKUs", counts["total"]) % {
        "done": _n(counts["done"]),
        "total": _n(counts["total"]),
    }
    if counts["failed"]:
        text += " · " + ngettext("%(n)s failed", "%(n)s failed", counts["failed"]) % {
            "n": _n(counts["failed"])
        }
    return Progress("stock_run", run.pk, run.status, label, text, finished)


def fetch_run(run: FetchRun) -> Progress:
    finished = run.status not in (FetchRun.Status.QUEUED, FetchRun.Status.RUNNING)
    text = ""
    if run.status == FetchRun.Status.RUNNING or (finished and run.orders_new + run.orders_updated):
        text = _("%(new)s new, %(updated)s updated orders") % {
            "new": _n(run.orders_new),
            "updated": _n(run.orders_updated),
        }
        if run.status == FetchRun.Status.RUNNING:
            text = _("%(counts)s so far") % {"counts": text}
    return Progress("fetch_run", run.pk, run.status, run.get_status_display(), text, finished)


def mapping_sync(run: ProductSyncRun) -> Progress:
    finished = run.status not in (ProductSyncRun.Status.QUEUED, ProductSyncRun.Status.RUNNING)
    text = ""
    if run.status == ProductSyncRun.Status.RUNNING:
        text = ngettext(
            "%(n)s platform product read so far", "%(n)s platform products read so far", run.variants_seen
        ) % {"n": _n(run.variants_seen)}
    return Progress("mapping_sync", run.pk, run.status, run.get_status_display(), text, finished)


def shipment_report(report: ShipmentReport) -> Progress:
    finished = report.status in (ShipmentReport.Status.DONE, ShipmentReport.Status.FAILED)
    text = ""
    if not finished and report.attempts:
        text = ngettext("%(n)s attempt so far", "%(n)s attempts so far", report.attempts) % {
            "n": report.attempts
        }
    return Progress("shipment_report", report.pk, report.status, report.get_status_display(), text, finished)


KINDS = {
    "stock_run": (StockRun, stock_run),
    "fetch_run": (FetchRun, fetch_run),
    "mapping_sync": (ProductSyncRun, mapping_sync),
    "shipment_report": (ShipmentReport, shipment_report),
}


def of(obj) -> Progress:
    for model, measure in KINDS.values():
        if isinstance(obj, model):
            return measure(obj)
    raise TypeError(f"no progress for {type(obj).__name__}")
