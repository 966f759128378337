"""Huey periodic task: prune expired API-log rows daily at 03:30 warehouse time."""

import logging
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from huey import crontab
from huey.contrib.djhuey import HUEY, db_periodic_task

from ecbridge.apilog.services import prune

logger = logging.getLogger(__name__)


def in_warehouse_time(schedule):
    """Evaluate a crontab in the warehouse time zone. Huey hands periodic checks a naive UTC
    timestamp (``utc=True``, its default), so a bare ``crontab(hour=3)`` would fire at 03:00 UTC,
    11:00 in Taipei, in the middle of the working day."""

    def validate(timestamp: datetime) -> bool:
        if timestamp.tzinfo is None:
            timestamp = timestamp.replace(tzinfo=UTC) if HUEY.utc else timestamp.astimezone()
        return schedule(timestamp.astimezone(ZoneInfo(settings.TIME_ZONE)))

    return validate


PRUNE_SCHEDULE = in_warehouse_time(crontab(minute="30", hour="3"))


@db_periodic_task(PRUNE_SCHEDULE, name="apilog.prune_api_logs")
def prune_api_logs():
    """Successes older than APILOG_SUCCESS_RETENTION_DAYS and failures older than
    APILOG_FAILURE_RETENTION_DAYS are deleted, in batches."""
    deleted = prune()
    logger.info("API-log retention: %d rows deleted", deleted)
    return deleted
