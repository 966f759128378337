"""Inbound stock push (the outbox of stock changes): queued with the put-away, drained by jobs."""

from __future__ import annotations


def queue_inbound_pushes(receipt, *, user=None) -> list:
    """Queue the inbound push of a just-completed receipt: call INSIDE the put-away transaction.
    Returns the StockRun rows created (one per account that gets anything)."""
    return []
