"""TTL leases: ``with lease("fetch:12", ttl=600) as held: ...``. A run that finds the lease
taken is skipped (held is False), not queued behind it; a stale lease is taken over after its TTL."""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from ecbridge.core.models import Lease


def acquire(key: str, ttl: float, owner: str) -> bool:
    now = timezone.now()
    expires = now + timedelta(seconds=ttl)
    # Take over an expired lease, or extend our own.
    taken = Lease.objects.filter(key=key, expires_at__lte=now).update(owner=owner, expires_at=expires)
    if taken:
        return True
    if Lease.objects.filter(key=key, owner=owner).update(expires_at=expires):
        return True
    try:
        with transaction.atomic():
            Lease.objects.create(key=key, owner=owner, expires_at=expires)
        return True
    except IntegrityError:
        return False


def release(key: str, owner: str) -> None:
    Lease.objects.filter(key=key, owner=owner).delete()


def is_held(key: str) -> bool:
    return Lease.objects.filter(key=key, expires_at__gt=timezone.now()).exists()


@contextlib.contextmanager
def lease(key: str, ttl: float, *, wait: float = 0, poll: float = 0.2) -> Iterator[bool]:
    """Hold ``key`` for the block. With ``wait`` > 0, keep trying that many seconds first."""
    owner = uuid.uuid4().hex
    deadline = time.monotonic() + wait
    held = acquire(key, ttl, owner)
    while not held and time.monotonic() < deadline:
        time.sleep(poll)
        held = acquire(key, ttl, owner)
    try:
        yield held
    finally:
        if held:
            release(key, owner)
