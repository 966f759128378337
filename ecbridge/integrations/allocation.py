"""Splitting a received quantity between EC accounts by push percentage (the inbound push rule).

The rule (docs/stock.md, proved by tests/integrations/test_allocation.py):

1. Every account's exact share is ``received × percentage / 100``. When the percentages add up
   to more than 100, they are scaled down: the exact share is ``received × percentage / total``.
2. The pool that may be pushed is ``floor(received × total / 100)`` when the total is at most
   100, otherwise ``received``. The shares always add up to exactly the pool, so the total
   pushed never exceeds what was received (nor the percentages' share of it).
3. Every account first gets the whole part of its exact share. The units left over go one each
   to the accounts with the largest fractional remainders (largest-remainder / Hamilton method);
   ties go to the larger percentage, then to the smaller key (oldest account): deterministic.

Consequences: an account never gets less than the floor nor more than the ceiling of its exact
share; 0 % gets nothing; the same inputs always give the same split.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping


def split_quantity(received: int, percentages: Mapping[Hashable, int]) -> dict[Hashable, int]:
    """``{key: units}`` for every key of ``percentages`` (0–100 each)."""
    if received < 0:
        raise ValueError("received quantity must not be negative")
    for key, pct in percentages.items():
        if not 0 <= pct <= 100:
            raise ValueError(f"percentage of {key!r} must be between 0 and 100")
    total = sum(percentages.values())
    if received == 0 or total == 0:
        return {key: 0 for key in percentages}
    denominator = 100 if total <= 100 else total
    pool = received * total // 100 if total <= 100 else received

    shares: dict[Hashable, int] = {}
    remainders: list[tuple[int, int, Hashable]] = []
    for key, pct in percentages.items():
        whole, remainder = divmod(received * pct, denominator)
        shares[key] = whole
        remainders.append((remainder, pct, key))

    leftover = pool - sum(shares.values())
    # Largest remainder first; ties: larger percentage, then smaller key.
    remainders.sort(key=lambda item: (-item[0], -item[1], _sortable(item[2])))
    for remainder, _pct, key in remainders[:leftover]:
        if remainder:  # only a real fraction earns a unit (leftover never exceeds those)
            shares[key] += 1
    return shares


def _sortable(key: Hashable):
    return (0, key) if isinstance(key, int) else (1, str(key))
