"""Shared list-page mechanics: search, stackable multi-select filters, sortable columns, paging."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import FieldDoesNotExist
from django.core.paginator import Page, Paginator
from django.db import models
from django.db.models import F, Q, QuerySet
from django.db.models.functions import Lower


@dataclass
class SortableColumn:
    key: str  # the ?sort= value
    field: str  # the ORM field it orders by


def multi(request, name: str) -> list[str]:
    """All values of a repeated query parameter (?status=a&status=b), blanks dropped."""
    return [v for v in request.GET.getlist(name) if v.strip()]


def search(qs: QuerySet, term: str, fields: list[str]) -> QuerySet:
    term = (term or "").strip()
    if not term:
        return qs
    query = Q()
    for field in fields:
        query |= Q(**{f"{field}__icontains": term})
    return qs.filter(query)


def sort(qs: QuerySet, request, columns: list[SortableColumn], default: str) -> tuple[QuerySet, str]:
    """Order by ?sort=key or ?sort=-key when key is a known column; returns (qs, active sort)."""
    requested = request.GET.get("sort") or default
    key = requested.lstrip("-")
    column = next((c for c in columns if c.key == key), None)
    if column is None:
        requested, key = default, default.lstrip("-")
        column = next(c for c in columns if c.key == key)
    return ordered(qs, column.field, descending=requested.startswith("-")), requested


def _is_text(model, path: str) -> bool:
    field = None
    for part in path.split("__"):
        try:
            field = model._meta.get_field(part)
        except FieldDoesNotExist:
            return False
        model = field.related_model or model
    return isinstance(field, models.CharField | models.TextField)


def ordered(qs: QuerySet, field: str, *, descending: bool) -> QuerySet:
    """Order by one column, then pk. Text sorts without regard to case ("acme" next to "Acme")."""
    key = Lower(field) if _is_text(qs.model, field) else F(field)
    key = key.desc() if descending else key.asc()
    return qs.order_by(key, "-pk" if descending else "pk")


def paginate(qs, request, per_page: int = 25) -> Page:
    return Paginator(qs, per_page).get_page(request.GET.get("page"))


def without(request, param: str, value: str) -> str:
    """The current query string with one value of a repeated filter parameter removed (a chip's ×)."""
    params = request.GET.copy()
    params.setlist(param, [v for v in params.getlist(param) if v != value])
    params.pop("page", None)
    encoded = params.urlencode()
    return f"?{encoded}" if encoded else "?"


def filter_bar(request, definitions) -> tuple[list[dict], list[dict], dict[str, list[str]]]:
    """Dropdown checkbox filters and their removable chips, from ``(param, label, choices)``.
    Only known choice values are shown as selected. Returns (filters, chips, selected values by param)."""
    filters, chips, selected = [], [], {}
    for param, label, choices in definitions:
        choices = [(str(v), str(lbl)) for v, lbl in choices]
        labels = dict(choices)
        asked = multi(request, param)
        chosen = [v for v in asked if v in labels]
        # Asked only for values that are no choice (a stale link, a foreign or impossible id): the
        # filter still applies, so the list is empty rather than silently unfiltered.
        selected[param] = chosen or asked
        filters.append({"param": param, "label": label, "choices": choices, "selected": chosen})
        chips += [
            {"label": label, "value": labels[value], "remove_url": without(request, param, value)}
            for value in chosen
        ]
    return filters, chips, selected
