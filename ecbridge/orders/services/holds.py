"""Placing and releasing holds. ``Order.on_hold`` is kept equal to "has an active hold" here and
only here, so every caller goes through these functions."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import IntegrityError, transaction
from django.utils import timezone

from ecbridge.orders.models import Hold, Order


def refresh_on_hold(order_ids: Iterable[int]) -> None:
    ids = list(order_ids)
    held = set(Hold.objects.active().filter(order_id__in=ids).values_list("order_id", flat=True))
    Order.objects.filter(pk__in=held, on_hold=False).update(on_hold=True)
    Order.objects.filter(pk__in=set(ids) - held, on_hold=True).update(on_hold=False)


def place_hold(order: Order, reason: str, *, note: str = "", user=None) -> Hold:
    """Idempotent: an order has at most one active hold per reason (a DB constraint)."""
    existing = Hold.objects.active().filter(order=order, reason=reason).first()
    if existing:
        return existing
    try:
        with transaction.atomic():
            hold = Hold.objects.create(order=order, reason=reason, note=note, created_by=user)
    except IntegrityError:  # a concurrent writer placed it first
        hold = Hold.objects.active().get(order=order, reason=reason)
    if not order.on_hold:
        Order.objects.filter(pk=order.pk).update(on_hold=True)
        order.on_hold = True
    return hold


def release_holds(holds: Iterable[Hold], *, user=None, note: str = "") -> int:
    """Release the given active holds; returns how many were released."""
    ids = [h.pk for h in holds]
    now = timezone.now()
    with transaction.atomic():
        active = Hold.objects.active().select_for_update().filter(pk__in=ids)
        order_ids = set(active.values_list("order_id", flat=True))
        count = active.update(released_at=now, released_by=user, resolution_note=note)
        refresh_on_hold(order_ids)
    return count


def release_reason(order: Order, reason: str, *, user=None, note: str = "") -> int:
    return release_holds(Hold.objects.active().filter(order=order, reason=reason), user=user, note=note)
