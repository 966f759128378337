"""Background jobs of orders (Huey): reporting shipments to the platforms."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from ecbridge.integrations.services import shipment_report


@db_task()
def report_shipment_task(report_id: int) -> str:
    """One step of one shipment report (lease inside: concurrent runs make one platform call)."""
    return shipment_report.report(report_id)


@db_periodic_task(crontab(minute="*"))
def sweep_shipment_reports() -> int:
    """Every minute: re-enqueue due retries and polls, and rows whose enqueue was lost."""
    return len(shipment_report.sweep())
