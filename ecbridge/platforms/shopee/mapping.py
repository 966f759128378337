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

from ecbridge.platforms.base import OrderData, OrderLineData, PlatformOrderState, PlatformProduct

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


# --- products and stock (issue 4) --------------------------------------------------------------------
# get_item_list → get_item_base_info → get_model_list payloads → PlatformProduct. One product per
# model (``variant_id`` = model_id), or per item without models (``variant_id`` "", model_id 0 on
# the wire). ``stock`` is the seller stock (the sum of ``stock_info_v2.seller_stock``: what
# update_stock sets), not the available stock. ``stock_ref`` keeps the seller_stock location_id so
# writes go to the same warehouse. Barcode: Shopee's payloads carry none we know of; a
# ``gtin_code`` (seen on some markets' item APIs, UNCONFIRMED here) is read when present.


def _int_field(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} is not an integer")
    return value


def item_list_page(data: dict) -> tuple[list[str], bool, int]:
    """get_item_list → (item ids, has_next_page, next_offset). An empty page may omit ``item``."""
    response = data["response"]
    items = response.get("item") or []
    if not isinstance(items, list):
        raise ValueError("item is not a list")
    has_next = response["has_next_page"]
    if not isinstance(has_next, bool):
        raise ValueError("has_next_page is not a boolean")
    next_offset = _int_field(response.get("next_offset") or 0, "next_offset")
    return [str(_int_field(i["item_id"], "item_id")) for i in items], has_next, next_offset


def base_info_items(data: dict) -> list[dict]:
    """get_item_base_info → its items, each checked for what we read (unknown ids are left out)."""
    items = data["response"].get("item_list") or []
    if not isinstance(items, list):
        raise ValueError("item_list is not a list")
    for item in items:
        _int_field(item["item_id"], "item_id")
        if not isinstance(item.get("has_model", False), bool):
            raise ValueError("has_model is not a boolean")
    return items


def seller_stock(info: Any) -> tuple[int | None, str]:
    """``stock_info_v2`` → (total seller stock, first location_id); (None, "") without one."""
    if not isinstance(info, dict) or not isinstance(info.get("seller_stock"), list):
        return None, ""
    total, location = 0, ""
    for entry in info["seller_stock"]:
        total += _int_field(entry["stock"], "stock")
        location = location or _text(entry.get("location_id"))
    return total, location


def _barcode(raw: dict) -> str:
    code = _text(raw.get("gtin_code"))
    return "" if not code.strip("0") else code


def _stock_ref(location: str) -> dict[str, Any]:
    return {"location_id": location} if location else {}


def item_product(base: dict) -> PlatformProduct:
    """An item without models (``has_model`` false)."""
    stock, location = seller_stock(base.get("stock_info_v2"))
    return PlatformProduct(
        item_id=_id(base["item_id"]),
        variant_id="",
        sku=_text(base.get("item_sku")),
        name=_text(base.get("item_name")),
        barcode=_barcode(base),
        stock=stock,
        stock_ref=_stock_ref(location),
    )


def model_list(data: dict) -> dict:
    """get_model_list's ``response``, checked for what we read."""
    response = data["response"]
    models = response.get("model") or []
    tiers = response.get("tier_variation") or []
    if not isinstance(models, list) or not isinstance(tiers, list):
        raise ValueError("model/tier_variation is not a list")
    for model in models:
        if _int_field(model["model_id"], "model_id") <= 0:
            raise ValueError("model_id is not positive")
    return {"model": models, "tier_variation": tiers}


def _model_name(model: dict, tiers: list) -> str:
    name = _text(model.get("model_name"))
    if name:
        return name
    options = []
    for tier, index in enumerate(model.get("tier_index") or []):
        try:
            options.append(_text(tiers[tier]["option_list"][index]["option"]))
        except (IndexError, KeyError, TypeError):
            continue
    return ", ".join(o for o in options if o)


def model_products(base: dict, models: dict) -> list[PlatformProduct]:
    """One product per model of an item with models (``models`` from ``model_list``)."""
    item_name = _text(base.get("item_name"))
    products = []
    for model in models["model"]:
        stock, location = seller_stock(model.get("stock_info_v2"))
        variant = _model_name(model, models["tier_variation"])
        products.append(
            PlatformProduct(
                item_id=_id(base["item_id"]),
                variant_id=_id(model["model_id"]),
                sku=_text(model.get("model_sku")),
                name=f"{item_name} ({variant})" if variant else item_name,
                barcode=_barcode(model),
                stock=stock,
                stock_ref=_stock_ref(location),
            )
        )
    return products


def model_stocks(models: dict) -> dict[str, int]:
    """model_id → seller stock, for the models whose stock the payload carries."""
    stocks = {}
    for model in models["model"]:
        stock, _location = seller_stock(model.get("stock_info_v2"))
        if stock is not None:
            stocks[_id(model["model_id"])] = stock
    return stocks


def stock_result(data: dict) -> tuple[dict[int, int | None], dict[int, str]]:
    """update_stock → ({model_id: stock after}, {model_id: failed_reason})."""
    response = data["response"]
    success_list = response.get("success_list") or []
    failure_list = response.get("failure_list") or []
    if not isinstance(success_list, list) or not isinstance(failure_list, list):
        raise ValueError("success_list/failure_list is not a list")
    success: dict[int, int | None] = {}
    for entry in success_list:
        model_id = _int_field(entry["model_id"], "model_id")
        stock = entry.get("stock")
        success[model_id] = (success.get(model_id) or 0) + stock if isinstance(stock, int) else None
    failure = {
        _int_field(entry["model_id"], "model_id"): _text(entry.get("failed_reason")) for entry in failure_list
    }
    return success, failure
