"""Database ids from user input. Primary keys are 64-bit signed integers: a larger number can
name no row, and handing it to the database fails (SQLite raises OverflowError), so every id
read from a query string, a form or an API body is checked against this range first."""

from __future__ import annotations

from collections.abc import Iterable

MAX_ID = 2**63 - 1


def is_id(value) -> bool:
    text = str(value).strip()
    return text.isascii() and text.isdigit() and 1 <= int(text) <= MAX_ID


NO_ROW = 0  # no row has it: a filter on [NO_ROW] matches nothing


def parse_ids(values: Iterable) -> list[int]:
    """The values that can be ids. When values were given but none can be one, ``[NO_ROW]``: the
    filter still applies and matches nothing (dropping it would list every row instead)."""
    values = [v for v in values if str(v).strip()]
    ids = [int(str(v).strip()) for v in values if is_id(v)]
    return ids or ([NO_ROW] if values else [])
