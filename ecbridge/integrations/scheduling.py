"""Fetch slots: 1-5 daily local times (warehouse time zone). The next fetch time is derived."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone


def normalise_slots(values) -> list[str]:
    """Sorted, de-duplicated "HH:MM" strings."""
    slots = set()
    for value in values:
        if isinstance(value, time):
            slots.add(value.strftime("%H:%M"))
        elif value:
            slots.add(datetime.strptime(str(value).strip()[:5], "%H:%M").strftime("%H:%M"))
    return sorted(slots)


def next_fetch_time(slots: list[str], now: datetime | None = None) -> datetime | None:
    """The first slot strictly after ``now`` (aware UTC result), or None without slots."""
    if not slots:
        return None
    tz = ZoneInfo(settings.TIME_ZONE)
    now = (now or timezone.now()).astimezone(tz)
    candidates = []
    for day in (0, 1):
        date = (now + timedelta(days=day)).date()
        for slot in slots:
            hour, minute = (int(p) for p in slot.split(":"))
            at = datetime(date.year, date.month, date.day, hour, minute, tzinfo=tz)
            if at > now:
                candidates.append(at)
    return min(candidates).astimezone(ZoneInfo("UTC"))
