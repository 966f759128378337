"""Shopee order payloads → platform-neutral DTOs (pure functions, no I/O).

Status table (Shopee ``order_status`` → ``PlatformOrderState``):

- UNPAID → unpaid (not paid yet: imported, never shipped).
- READY_TO_SHIP, RETRY_SHIP, PENDING, INVOICE_PENDING → to_ship (the warehouse must (re)ship it).
- PROCESSED → to_ship: the shipment is arranged (Shopee may already have issued the tracking
  number) but the parcel has not been handed to the carrier, so it still has to leave the warehouse.
- SHIPPED, TO_CONFIRM_RECEIVE → shipped (with the carrier / delivered but not confirmed).
- COMPLETED → completed.
- IN_CANCEL, CANCELLED → cancelled (a buyer's cancellation request already stops picking).
- TO_RETURN → returned.
- Any other status (one Shopee adds later) → unpaid: never ship on a status we do not know; the
  original stays in ``platform_status``.

Lines: ``line_id`` is ``order_item_id`` (``item_id:model_id`` when absent). Shopee repeats
``order_item_id`` (it equals ``item_id`` for normal items) when one order has two models of one
item, and the same model can appear twice (add-on deals), so a repeated id gets ``:model_id``
and then ``:n`` appended, in payload order, to stay unique within the order. ``sku`` is
``model_sku`` or ``item_sku``; ``variant_id`` is ``model_id`` ("" for 0).

``buyer_note`` is the buyer's ``message_to_seller``; the seller's own ``note`` follows on a new line
when there is one."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

from ecbridge.platforms.base import OrderData, OrderLineData, PlatformOrderState

S = PlatformOrderState
STATUS_MAP: dict[str, PlatformOrderState] = {
    "UNPAID": S.UNPAID,
    "READY_TO_SHIP": S.TO_SHIP,
    "RETRY_SHIP": S.TO_SHIP,
    "PENDING": S.TO_SHIP,
    "INVOICE_PENDING": S.TO_SHIP,
    "PROCESSED": S.TO_SHIP,
    "SHIPPED": S.SHIPPED,
    "TO_CONFIRM_RECEIVE": S.SHIPPED,
    "COMPLETED": S.COMPLETED,
    "IN_CANCEL": S.CANCELLED,
    "CANCELLED": S.CANCELLED,
    "TO_RETURN": S.RETURNED,
}
UNKNOWN_STATUS_STATE = S.UNPAID

# The optional detail fields the mapping reads (get_order_detail's response_optional_fields).
DETAIL_FIELDS = (
    "buyer_user_id",
    "buyer_username",
    "recipient_address",
    "note",
    "item_list",
    "pay_time",
    "package_list",
    "shipping_carrier",
    "checkout_shipping_carrier",
    "cancel_by",
    "cancel_reason",
    "buyer_cancel_reason",
)


def map_status(status: str) -> PlatformOrderState:
    return STATUS_MAP.get(str(status or "").upper(), UNKNOWN_STATUS_STATE)


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _epoch(value: Any) -> datetime:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ValueError(f"not an epoch time: {value!r}")
    return datetime.fromtimestamp(int(value), tz=UTC)


def _id(value: Any) -> str:
    """Shopee ids are integers; 0 means none."""
    text = _text(value)
    return "" if text in ("", "0") else text


def map_lines(items: list[dict]) -> list[OrderLineData]:
    if not isinstance(items, list):
        raise ValueError("item_list is not a list")
    bases = []
    for item in items:
        base = (
            _id(item.get("order_item_id")) or f"{_text(item['item_id'])}:{_text(item.get('model_id') or 0)}"
        )
        bases.append(base)
    repeated = {b for b, n in Counter(bases).items() if n > 1}
    seen: Counter = Counter()
    lines = []
    for item, base in zip(items, bases, strict=True):
        line_id = base
        if base in repeated:
            line_id = f"{base}:{_text(item.get('model_id') or 0)}"
            seen[line_id] += 1
            if seen[line_id] > 1:
                line_id = f"{line_id}:{seen[line_id]}"
        quantity = item["model_quantity_purchased"]
        if isinstance(quantity, bool) or not isinstance(quantity, int):
            raise ValueError("model_quantity_purchased is not an integer")
        name = _text(item.get("item_name"))
        model_name = _text(item.get("model_name"))
        lines.append(
            OrderLineData(
                line_id=line_id,
                sku=_text(item.get("model_sku")) or _text(item.get("item_sku")),
                name=f"{name} ({model_name})" if model_name else name,
                quantity=quantity,
                item_id=_id(item.get("item_id")),
                variant_id=_id(item.get("model_id")),
            )
        )
    return lines


def map_order(raw: dict) -> OrderData:
    """One ``get_order_detail`` order (with DETAIL_FIELDS) → OrderData. A payload missing what we
    need raises KeyError/ValueError (the caller treats it as a malformed response)."""
    order_sn = _text(raw["order_sn"])
    if not order_sn:
        raise ValueError("order_sn is empty")
    status = _text(raw["order_status"])
    packages = raw.get("package_list") or []
    if not isinstance(packages, list):
        raise ValueError("package_list is not a list")
    channel = next(
        (_id(p.get("logistics_channel_id")) for p in packages if _id(p.get("logistics_channel_id"))), ""
    )
    carrier = _text(raw.get("shipping_carrier")) or _text(raw.get("checkout_shipping_carrier"))
    address = raw.get("recipient_address") or {}
    notes = [n for n in (_text(raw.get("message_to_seller")), _text(raw.get("note"))) if n]
    return OrderData(
        platform_order_id=order_sn,
        order_number=order_sn,
        state=map_status(status),
        platform_status=status,
        created_at=_epoch(raw["create_time"]),
        updated_at=_epoch(raw["update_time"]),
        lines=map_lines(raw["item_list"]),
        shipping_code=channel,
        shipping_name=carrier,
        recipient_name=_text(address.get("name")),
        recipient_phone=_text(address.get("phone")),
        recipient_address=_text(address.get("full_address")),
        buyer_note="\n".join(notes),
        carrier=carrier,
        shipment_refs={
            "package_numbers": [
                _text(p.get("package_number")) for p in packages if _text(p.get("package_number"))
            ],
            "logistics_channel_id": channel,
            "shipping_carrier": carrier,
        },
    )
