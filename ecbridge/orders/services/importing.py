"""Importing one page of platform orders (platform-neutral). Fetches and webhook jobs both call
``import_page``; see docs/orders.md for the rules.

- One transaction per page. Orders are upserted by (EC account, platform order id), which is
  unique in the database: new orders are bulk-inserted; if a concurrent writer (another fetch, a
  webhook) inserted one of them first, the insert fails inside a savepoint and those orders are
  updated instead, so nothing is ever duplicated.
- A fixed number of queries per page for the common cases (all new, all unchanged); a
  re-fetched unchanged order costs no write at all.
- Lines are matched (services.matching); a line that matches nothing creates (or reuses) an
  UnknownProduct and holds its order. Holds go through services.holds only."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any

from django.db import IntegrityError, transaction
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from ecbridge.channels.models import SalesChannel
from ecbridge.core.messages import Msg
from ecbridge.integrations.models import ECAccount, ShippingCodeMapping
from ecbridge.inventory.services import stock
from ecbridge.notifications.services import notify
from ecbridge.orders.models import Hold, Order, OrderLine, UnknownProduct
from ecbridge.orders.services import holds
from ecbridge.orders.services.matching import MatchRule, line_key, match_lines, norm_variant
from ecbridge.platforms.base import OrderData, OrderLineData, PlatformOrderState

log = logging.getLogger(__name__)

ADDRESS_FIELDS = ("recipient_name", "recipient_phone", "recipient_address")
SHIPPED_ON_PLATFORM = {PlatformOrderState.SHIPPED, PlatformOrderState.COMPLETED, PlatformOrderState.RETURNED}


@dataclass
class ImportCounts:
    received: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    held: int = 0  # orders that went on hold in this import
    unknown_products: int = 0  # new unknown-product records
    attention: int = 0  # orders flagged for a person
    skipped: int = 0  # not imported (disabled sales channel)
    skipped_reason: str = ""

    def add(self, other: ImportCounts) -> ImportCounts:
        for f in fields(self):
            if f.name == "skipped_reason":
                self.skipped_reason = self.skipped_reason or other.skipped_reason
            else:
                setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))
        return self


def _clip(value: Any, length: int) -> str:
    return str(value or "")[:length]


def order_fields(data: OrderData) -> dict[str, Any]:
    """The Order columns that mirror the platform (clipped: PostgreSQL enforces lengths)."""
    return {
        "order_number": _clip(data.order_number or data.platform_order_id, 120),
        "platform_state": str(data.state),
        "platform_status": _clip(data.platform_status, 120),
        "platform_created_at": data.created_at,
        "platform_updated_at": data.updated_at,
        "shipping_code": _clip(data.shipping_code, 80),
        "shipping_name": _clip(data.shipping_name, 200),
        "recipient_name": _clip(data.recipient_name, 200),
        "recipient_phone": _clip(data.recipient_phone, 60),
        "recipient_address": str(data.recipient_address or ""),
        "buyer_note": str(data.buyer_note or ""),
        "shipment_refs": data.shipment_refs or {},
    }


def line_signature(line: OrderLineData) -> tuple:
    return (
        _clip(line.line_id, 120),
        _clip(line.sku, 120),
        _clip(line.barcode, 120),
        _clip(line.name, 255),
        int(line.quantity),
        _clip(line.item_id, 120),
        _clip(norm_variant(line.variant_id), 120),
    )


LINE_COLUMNS = ("line_id", "sku", "barcode", "name", "quantity", "platform_item_id", "platform_variant_id")


def _stored_signature(row: dict) -> tuple:
    return tuple(row[c] for c in LINE_COLUMNS)


def _as_line_data(row: dict) -> OrderLineData:
    return OrderLineData(
        line_id=row["line_id"],
        sku=row["sku"],
        name=row["name"],
        quantity=row["quantity"],
        item_id=row["platform_item_id"],
        variant_id=row["platform_variant_id"],
        barcode=row["barcode"],
    )


def _link(name: str, pk: int, fallback: str) -> str:
    try:
        return reverse(name, args=[pk])
    except NoReverseMatch:
        return fallback


def _append_reason(current: str, reason: str) -> str:
    return reason if not current else (current if reason in current else f"{current}\n{reason}")


class _Page:
    """What one page's import reads once: the channel's rules and the account's shipping codes."""

    def __init__(self, account: ECAccount, channel: SalesChannel):
        self.account = account
        self.channel = channel
        self.match = MatchRule.for_account(account, channel)
        self.shipping = dict(
            ShippingCodeMapping.objects.filter(ec_account=account).values_list(
                "platform_code", "shipping_type_id"
            )
        )
        self.unknown_ids: dict[str, int] = {}
        self.counts = ImportCounts()
        self.touched_products: set[int | None] = set()  # reservations to recompute

    def shipping_type(self, code: str) -> tuple[int | None, str]:
        """(shipping type id, note) for a platform shipping code."""
        if code and code in self.shipping:
            return self.shipping[code], ""
        default = self.channel.default_shipping_type_id
        if not code:
            note = _("The platform gave no shipping code; the sales channel's default shipping type is used.")
        else:
            note = _(
                "Platform shipping code “%(code)s” is not mapped; the sales channel's default shipping "
                "type is used. Add it to the EC account's shipping type mappings."
            ) % {"code": code}
        if default is None:
            note = _(
                "Platform shipping code “%(code)s” is not mapped and the sales channel has no default "
                "shipping type: choose one before shipping."
            ) % {"code": code or "-"}
        return default, note

    def resolve_unknown(self, lines: Sequence[OrderLineData]) -> None:
        """Get or create the UnknownProduct of every unmatched line (one query when they all exist).
        A new record raises one notification."""
        wanted = {line_key(line): line for line in lines}
        missing = [k for k in wanted if k not in self.unknown_ids]
        if not missing:
            return
        self.unknown_ids.update(
            UnknownProduct.objects.filter(ec_account=self.account, key__in=missing).values_list("key", "pk")
        )
        for key in missing:
            if key in self.unknown_ids:
                continue
            line = wanted[key]
            sku = _clip(line.sku, 120)
            record = UnknownProduct(
                merchant_id=self.account.merchant_id,
                ec_account=self.account,
                platform=self.account.platform,
                key=key,
                identifier=_clip(f"[{sku or '-'}] {line.name or ''}".strip(), 400),
                platform_sku=sku,
                barcode=_clip(line.barcode, 120),
                name=_clip(line.name, 255),
                platform_item_id=_clip(line.item_id, 120),
                platform_variant_id=_clip(norm_variant(line.variant_id), 120),
            )
            try:
                with transaction.atomic():
                    record.save()
            except IntegrityError:  # a concurrent import created it first
                self.unknown_ids[key] = UnknownProduct.objects.get(ec_account=self.account, key=key).pk
                continue
            self.unknown_ids[key] = record.pk
            self.counts.unknown_products += 1
            notify(
                merchant_id=self.account.merchant_id,
                ec_account=self.account,
                kind="unknown_product",
                level="warning",
                title=Msg(gettext_noop("New unknown product: %(identifier)s"), identifier=record.identifier),
                body=Msg(
                    gettext_noop(
                        "An order from %(account)s has a product that matches no warehouse product. Its "
                        "orders are on hold until the product is mapped."
                    ),
                    account=self.account.display_name,
                ),
                link=_link("orders:unknown_detail", record.pk, f"/unknown-products/{record.pk}/"),
            )

    def build_lines(self, order_id: int, lines: Sequence[OrderLineData], products: Sequence[int | None]):
        """OrderLine rows for one order, and whether any is unknown."""
        rows, unknown = [], False
        for line, product_id in zip(lines, products, strict=True):
            sig = line_signature(line)
            unknown_id = None if product_id else self.unknown_ids[line_key(line)]
            unknown = unknown or product_id is None
            rows.append(
                OrderLine(
                    order_id=order_id,
                    **dict(zip(LINE_COLUMNS, sig, strict=True)),
                    product_id=product_id,
                    unknown_product_id=unknown_id,
                )
            )
        return rows, unknown


def _dedupe(orders: Sequence[OrderData]) -> dict[str, OrderData]:
    """One entry per platform order id (the latest update wins); lines deduplicated by line id."""
    latest: dict[str, OrderData] = {}
    for data in orders:
        key = _clip(data.platform_order_id, 120)
        if not key:
            raise ValueError("An order without a platform order id cannot be imported.")
        seen = latest.get(key)
        if seen is None or data.updated_at >= seen.updated_at:
            latest[key] = data
    for data in latest.values():
        by_id: dict[str, OrderLineData] = {}
        for line in data.lines:
            by_id[_clip(line.line_id, 120)] = line
        if len(by_id) != len(data.lines):
            data.lines = list(by_id.values())
    return latest


def channel_block_reason(channel: SalesChannel) -> str:
    if channel.enabled:
        return ""
    return _("Sales channel “%(name)s” is disabled: no orders are imported.") % {"name": channel.name}


def import_page(account: ECAccount, orders: Sequence[OrderData], run=None) -> ImportCounts:
    """Upsert one page of detailed orders in one transaction; returns what happened."""
    received = len(orders)
    if not orders:
        return ImportCounts()
    channel = SalesChannel.objects.get(pk=account.sales_channel_id)
    if reason := channel_block_reason(channel):
        return ImportCounts(received=received, skipped=received, skipped_reason=reason)
    latest = _dedupe(orders)
    page = _Page(account, channel)
    with transaction.atomic():
        existing = {
            o.platform_order_id: o
            for o in Order.objects.select_for_update().filter(
                ec_account=account, platform_order_id__in=list(latest)
            )
        }
        fresh = [d for key, d in latest.items() if key not in existing]
        collided = _create(page, fresh)
        if collided:
            existing.update(
                {
                    o.platform_order_id: o
                    for o in Order.objects.select_for_update().filter(
                        ec_account=account,
                        platform_order_id__in=[_clip(d.platform_order_id, 120) for d in collided],
                    )
                }
            )
        pairs = [(existing[key], d) for key, d in latest.items() if key in existing]
        _update(page, pairs)
        stock.recompute_reserved(page.touched_products)
    page.counts.received = received
    return page.counts


# --- new orders -----------------------------------------------------------------------------------
def _new_order(page: _Page, data: OrderData) -> Order:
    shipping_type_id, note = page.shipping_type(_clip(data.shipping_code, 80))
    order = Order(
        merchant_id=page.account.merchant_id,
        ec_account_id=page.account.pk,
        sales_channel_id=page.channel.pk,
        platform=page.account.platform,
        platform_order_id=_clip(data.platform_order_id, 120),
        shipping_type_id=shipping_type_id,
        shipping_note=note,
        tracking_number=_clip(data.tracking_number, 120),
        carrier=_clip(data.carrier, 120),
        **order_fields(data),
    )
    if data.state == PlatformOrderState.CANCELLED:
        # Never seen before and already cancelled: nothing to stop, nothing to ship.
        order.status = Order.Status.CANCELLED
    elif data.state in SHIPPED_ON_PLATFORM:
        order.needs_attention = True
        order.attention_reason = _(
            "The platform already shows this order as shipped; the warehouse did not ship it."
        )
    return order


def _create(page: _Page, datas: list[OrderData]) -> list[OrderData]:
    """Insert new orders with their lines; returns the ones a concurrent writer inserted first."""
    if not datas:
        return []
    all_lines = [line for d in datas for line in d.lines]
    products = match_lines(page.match, all_lines)
    page.touched_products.update(products)
    page.resolve_unknown([line for line, p in zip(all_lines, products, strict=True) if p is None])
    per_order, start = [], 0
    for d in datas:
        per_order.append(products[start : start + len(d.lines)])
        start += len(d.lines)

    orders = [_new_order(page, d) for d in datas]
    try:
        with transaction.atomic():
            Order.objects.bulk_create(orders)
            lines, held = _lines_for(page, orders, datas, per_order)
            OrderLine.objects.bulk_create(lines)
    except IntegrityError:
        return _create_one_by_one(page, orders, datas, per_order)
    _after_create(page, orders, held)
    return []


def _lines_for(page, orders, datas, per_order):
    rows, held = [], []
    for order, data, products in zip(orders, datas, per_order, strict=True):
        lines, unknown = page.build_lines(order.pk, data.lines, products)
        rows.extend(lines)
        if unknown:
            held.append(order)
    return rows, held


def _create_one_by_one(page, orders, datas, per_order) -> list[OrderData]:
    """Slow path after a lost race: each order in its own savepoint; losers become updates."""
    collided, created, held = [], [], []
    for order, data, products in zip(orders, datas, per_order, strict=True):
        order.pk = None
        order._state.adding = True
        try:
            with transaction.atomic():
                order.save(force_insert=True)
                lines, unknown = page.build_lines(order.pk, data.lines, products)
                OrderLine.objects.bulk_create(lines)
        except IntegrityError:
            collided.append(data)
            continue
        created.append(order)
        if unknown:
            held.append(order)
    _after_create(page, created, held)
    return collided


def _after_create(page: _Page, created: list[Order], held: list[Order]) -> None:
    page.counts.new += len(created)
    page.counts.attention += sum(1 for o in created if o.needs_attention)
    for order in held:
        holds.place_hold(order, Hold.Reason.UNKNOWN_PRODUCT)
        page.counts.held += 1


# --- known orders ---------------------------------------------------------------------------------
def _update(page: _Page, pairs: list[tuple[Order, OrderData]]) -> None:
    if not pairs:
        return
    stored: dict[int, list[dict]] = defaultdict(list)
    for row in (
        OrderLine.objects.filter(order_id__in=[o.pk for o, _d in pairs])
        .order_by("pk")
        .values("pk", "order_id", "product_id", *LINE_COLUMNS)
    ):
        stored[row["order_id"]].append(row)

    plans = [_plan(page, order, data, stored.get(order.pk, [])) for order, data in pairs]
    # one matching pass for every line that needs one
    to_match = [line for plan in plans for line in plan.match_lines]
    products = match_lines(page.match, to_match)
    page.resolve_unknown([line for line, p in zip(to_match, products, strict=True) if p is None])
    start = 0
    for plan in plans:
        plan.products = products[start : start + len(plan.match_lines)]
        start += len(plan.match_lines)
        _apply(page, plan)


@dataclass
class _Plan:
    order: Order
    data: OrderData
    stored_lines: list[dict]
    changes: dict[str, Any]
    replace_lines: bool = False  # lines changed on the platform and may be applied
    rematch_ids: list[int] | None = None  # stored unknown lines to try again
    match_lines: list[OrderLineData] | None = None
    products: list[int | None] | None = None
    attention: list[str] | None = None
    cancelled_now: bool = False
    uncancelled_now: bool = False


def _plan(page: _Page, order: Order, data: OrderData, stored_lines: list[dict]) -> _Plan:
    wanted = order_fields(data)
    shipped_by_us = order.status == Order.Status.SHIPPED
    attention: list[str] = []
    lines_changed = sorted(line_signature(line) for line in data.lines) != sorted(
        _stored_signature(row) for row in stored_lines
    )
    edit_fields = set(ADDRESS_FIELDS) | {"shipping_code", "shipping_name"}
    edited = [f for f in edit_fields if getattr(order, f) != wanted[f]]
    if shipped_by_us and (lines_changed or edited):
        attention.append(
            _("Changed on the platform after the warehouse shipped it (products, quantities or address).")
        )
        for f in edit_fields:
            wanted.pop(f)
        lines_changed = False
    changes = {f: v for f, v in wanted.items() if getattr(order, f) != v}
    # Re-map when the code changed, or while the order still uses the fallback (a mapping added
    # since then applies at the next fetch); a shipping type chosen otherwise is left alone.
    if "shipping_code" in changes or (order.shipping_note and order.status == Order.Status.PENDING):
        type_id, note = page.shipping_type(wanted.get("shipping_code", order.shipping_code))
        if type_id != order.shipping_type_id:
            changes["shipping_type_id"] = type_id
        if note != order.shipping_note:
            changes["shipping_note"] = note
    if data.tracking_number and not order.tracking_number:
        changes["tracking_number"] = _clip(data.tracking_number, 120)
        if data.carrier and not order.carrier:
            changes["carrier"] = _clip(data.carrier, 120)

    was, now = order.platform_state, str(data.state)
    cancelled_now = now == PlatformOrderState.CANCELLED and was != PlatformOrderState.CANCELLED
    uncancelled_now = was == PlatformOrderState.CANCELLED and now != PlatformOrderState.CANCELLED
    if cancelled_now and shipped_by_us:
        attention.append(_("Cancelled on the platform after the warehouse shipped it."))
    if now in SHIPPED_ON_PLATFORM and was not in SHIPPED_ON_PLATFORM and order.status == Order.Status.PENDING:
        attention.append(_("The platform shows this order as shipped; the warehouse did not ship it."))

    plan = _Plan(order, data, stored_lines, changes, attention=attention)
    plan.cancelled_now = cancelled_now and order.status == Order.Status.PENDING
    plan.uncancelled_now = uncancelled_now and order.status == Order.Status.PENDING
    if lines_changed:
        plan.replace_lines = True
        plan.match_lines = list(data.lines)
    else:
        unknown_rows = [row for row in stored_lines if row["product_id"] is None]
        plan.rematch_ids = [row["pk"] for row in unknown_rows]
        plan.match_lines = [_as_line_data(row) for row in unknown_rows]
    return plan


def _apply(page: _Page, plan: _Plan) -> None:
    order = plan.order
    wrote = False
    had_unknown = any(row["product_id"] is None for row in plan.stored_lines)
    still_unknown = had_unknown
    if plan.replace_lines:
        page.touched_products.update(row["product_id"] for row in plan.stored_lines)
        page.touched_products.update(plan.products)
        OrderLine.objects.filter(order=order).delete()
        rows, still_unknown = page.build_lines(order.pk, plan.match_lines, plan.products)
        OrderLine.objects.bulk_create(rows)
        wrote = True
    elif plan.rematch_ids:
        resolved = 0
        for pk, line, product_id in zip(plan.rematch_ids, plan.match_lines, plan.products, strict=True):
            if product_id:
                OrderLine.objects.filter(pk=pk).update(product_id=product_id, unknown_product_id=None)
                page.touched_products.add(product_id)
                resolved += 1
            else:  # keep the line's unknown product in step with its key
                OrderLine.objects.filter(pk=pk, unknown_product_id__isnull=True).update(
                    unknown_product_id=page.unknown_ids[line_key(line)]
                )
        still_unknown = resolved < len(plan.rematch_ids)
        wrote = wrote or bool(resolved)

    if plan.attention:
        reason = order.attention_reason
        for text in plan.attention:
            reason = _append_reason(reason, text)
        if not order.needs_attention or reason != order.attention_reason:
            plan.changes["needs_attention"] = True
            plan.changes["attention_reason"] = reason
            page.counts.attention += 1
    if plan.changes:
        for name, value in plan.changes.items():
            setattr(order, name, value)
        order.save(update_fields=[*plan.changes, "updated_at"])
        wrote = True

    was_on_hold = order.on_hold
    if still_unknown and (plan.replace_lines or not had_unknown or not was_on_hold):
        holds.place_hold(order, Hold.Reason.UNKNOWN_PRODUCT)
    elif had_unknown and not still_unknown:
        holds.release_reason(order, Hold.Reason.UNKNOWN_PRODUCT, note=_("The products now match."))
        order.refresh_from_db(fields=["on_hold"])
        wrote = True
    if plan.cancelled_now:
        holds.place_hold(order, Hold.Reason.PLATFORM_CANCELLED)
        wrote = True
    elif plan.uncancelled_now:
        holds.release_reason(
            order, Hold.Reason.PLATFORM_CANCELLED, note=_("The platform withdrew the cancellation.")
        )
        order.refresh_from_db(fields=["on_hold"])
        wrote = True
    if order.on_hold and not was_on_hold:
        page.counts.held += 1
    if wrote:
        page.counts.updated += 1
    else:
        page.counts.unchanged += 1
