"""Shopify Admin GraphQL payloads → platform-neutral DTOs: orders, and (at the end) product
variants and inventory. Pure functions, no I/O.

State table (first match wins; the original is kept in ``platform_status`` as
``<displayFinancialStatus>/<displayFulfillmentStatus>`` plus ``/CANCELLED``):

| Shopify                                                                   | PlatformOrderState |
|---------------------------------------------------------------------------|--------------------|
| ``cancelledAt`` set                                                        | cancelled          |
| financial REFUNDED and fulfillment FULFILLED / PARTIALLY_FULFILLED         | returned           |
| fulfillment FULFILLED (or FULFILLMENT_NOT_REQUIRED) and the order closed   | completed          |
| fulfillment FULFILLED (or FULFILLMENT_NOT_REQUIRED)                        | shipped            |
| financial in ``unpaid_statuses`` (default PENDING, EXPIRED, VOIDED) and    | unpaid             |
| nothing fulfilled, unless PENDING with a cash-on-delivery gateway          |                    |
| anything else (UNFULFILLED, PARTIALLY_FULFILLED, ON_HOLD, IN_PROGRESS, …) | to_ship            |

Decisions: AUTHORIZED and PARTIALLY_PAID are shippable (the merchant captures on fulfilment /
accepted a deposit). PENDING is "not paid yet" (bank transfer, manual payment) except for a
cash-on-delivery gateway, where payment is collected at delivery, so the order must ship; the
COD gateway names are a setting (``cod_gateways``; Shopify's manual-payment name is the
merchant's own text, UNCONFIRMED beyond "Cash on Delivery (COD)"). A PARTIALLY_FULFILLED order
stays to_ship: something is left for the warehouse. Lines whose ``currentQuantity`` is 0 were
removed by an order edit and are left out."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ecbridge.platforms.base import OrderData, OrderLineData, PlatformOrderState, PlatformProduct

DEFAULT_UNPAID_STATUSES = ("PENDING", "EXPIRED", "VOIDED")
DEFAULT_COD_GATEWAYS = ("cash on delivery (cod)", "cash on delivery", "cod", "貨到付款")
FULFILLED = ("FULFILLED", "FULFILLMENT_NOT_REQUIRED")
OPEN_FULFILLMENT_ORDER = ("OPEN", "IN_PROGRESS")


def parse_time(value: Any) -> datetime:
    if not isinstance(value, str) or not value:
        raise ValueError(f"not a Shopify DateTime: {value!r}")
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError(f"DateTime without a time zone: {value!r}")
    return parsed


def order_state(
    node: dict,
    *,
    unpaid_statuses=DEFAULT_UNPAID_STATUSES,
    cod_gateways=DEFAULT_COD_GATEWAYS,
) -> PlatformOrderState:
    financial = str(node.get("displayFinancialStatus") or "")
    fulfillment = str(node.get("displayFulfillmentStatus") or "")
    if node.get("cancelledAt"):
        return PlatformOrderState.CANCELLED
    if financial == "REFUNDED" and fulfillment in ("FULFILLED", "PARTIALLY_FULFILLED"):
        return PlatformOrderState.RETURNED
    if fulfillment in FULFILLED:
        return PlatformOrderState.COMPLETED if node.get("closed") else PlatformOrderState.SHIPPED
    if financial in unpaid_statuses and fulfillment != "PARTIALLY_FULFILLED":
        gateways = {str(g).strip().lower() for g in node.get("paymentGatewayNames") or ()}
        if not (financial == "PENDING" and gateways & {g.lower() for g in cod_gateways}):
            return PlatformOrderState.UNPAID
    return PlatformOrderState.TO_SHIP


def platform_status(node: dict) -> str:
    parts = [str(node.get("displayFinancialStatus") or "-"), str(node.get("displayFulfillmentStatus") or "-")]
    if node.get("cancelledAt"):
        parts.append("CANCELLED")
    return "/".join(parts)


def line(node: dict) -> OrderLineData:
    variant = node.get("variant") or {}
    product = node.get("product") or {}
    line_id = node["id"]
    if not isinstance(line_id, str) or not line_id:
        raise ValueError("a line item has no id")
    return OrderLineData(
        line_id=line_id,
        sku=str(variant.get("sku") or node.get("sku") or ""),
        name=str(node.get("name") or ""),
        quantity=int(node["currentQuantity"]),
        item_id=str(product.get("id") or ""),
        variant_id=str(variant.get("id") or ""),
        barcode=str(variant.get("barcode") or ""),
    )


def shipment_refs(node: dict) -> dict:
    """Fulfillment orders with their line items and remaining quantities (a snapshot: the
    shipment report re-reads them). ``complete`` is False when a nested page was cut off."""
    connection = node.get("fulfillmentOrders") or {}
    complete = not (connection.get("pageInfo") or {}).get("hasNextPage")
    fulfillment_orders = []
    for fo in connection.get("nodes") or ():
        items = fo.get("lineItems") or {}
        complete = complete and not (items.get("pageInfo") or {}).get("hasNextPage")
        fulfillment_orders.append(
            {
                "id": str(fo["id"]),
                "status": str(fo.get("status") or ""),
                "line_items": [
                    {
                        "id": str(item["id"]),
                        "line_item_id": str((item.get("lineItem") or {}).get("id") or ""),
                        "remaining": int(item.get("remainingQuantity") or 0),
                    }
                    for item in items.get("nodes") or ()
                ],
            }
        )
    return {"fulfillment_orders": fulfillment_orders, "complete": complete}


def _address(address: dict) -> str:
    parts = [address.get(k) for k in ("address1", "address2", "city", "province", "zip", "country")]
    return ", ".join(str(p).strip() for p in parts if p and str(p).strip())


def order(node: dict, line_nodes: list[dict], **state_options) -> OrderData:
    """``line_nodes``: every line item of the order (the caller completes cut-off pages)."""
    order_id = node["id"]
    if not isinstance(order_id, str) or not order_id.startswith("gid://shopify/Order/"):
        raise ValueError(f"not an order id: {order_id!r}")
    address = node.get("shippingAddress") or {}
    shipping = node.get("shippingLine") or {}
    return OrderData(
        platform_order_id=order_id,
        order_number=str(node.get("name") or order_id.rsplit("/", 1)[-1]),
        state=order_state(node, **state_options),
        platform_status=platform_status(node),
        created_at=parse_time(node["createdAt"]),
        updated_at=parse_time(node["updatedAt"]),
        lines=[line(n) for n in line_nodes if int(n["currentQuantity"]) > 0],
        shipping_code=str(shipping.get("code") or ""),
        shipping_name=str(shipping.get("title") or ""),
        recipient_name=str(address.get("name") or ""),
        recipient_phone=str(address.get("phone") or node.get("phone") or ""),
        recipient_address=_address(address),
        buyer_note=str(node.get("note") or ""),
        shipment_refs=shipment_refs(node),
    )


# --- products and stock (issue 4) ---------------------------------------------------------------------
def available(level: dict | None) -> int | None:
    """The ``available`` quantity of an inventory level's ``quantities``, if it is there."""
    for quantity in (level or {}).get("quantities") or ():
        if quantity.get("name") == "available":
            return int(quantity["quantity"])
    return None


def first_level(inventory_item: dict | None) -> dict | None:
    nodes = (((inventory_item or {}).get("inventoryLevels") or {}).get("nodes")) or []
    return nodes[0] if nodes else None


def stock_ref(inventory_item: dict | None, fallback_location: str = "") -> dict:
    """What stock calls need: the inventory item and the location of its first level (else the
    shop's first active location)."""
    item_id = str((inventory_item or {}).get("id") or "")
    level = first_level(inventory_item)
    location = str(((level or {}).get("location") or {}).get("id") or "") or fallback_location
    ref = {}
    if item_id:
        ref["inventory_item_id"] = item_id
    if location:
        ref["location_id"] = location
    return ref


def variant_name(product_title: str, variant_title: str) -> str:
    if not variant_title or variant_title == "Default Title":
        return product_title
    return f"{product_title} - {variant_title}" if product_title else variant_title


def platform_product(node: dict, fallback_location: str = "") -> PlatformProduct:
    """One ``productVariants`` node → a PlatformProduct (variant level, G8). ``stock`` is the
    available quantity at the referenced level (the variant's total when it has no level)."""
    variant_id = node["id"]
    if not isinstance(variant_id, str) or not variant_id.startswith("gid://shopify/ProductVariant/"):
        raise ValueError(f"not a variant id: {variant_id!r}")
    product = node.get("product") or {}
    item = node.get("inventoryItem") or {}
    level = first_level(item)
    stock = available(level)
    if stock is None and node.get("inventoryQuantity") is not None and level is None:
        stock = int(node["inventoryQuantity"])
    return PlatformProduct(
        item_id=str(product.get("id") or ""),
        variant_id=variant_id,
        sku=str(node.get("sku") or "").strip(),
        name=variant_name(str(product.get("title") or ""), str(node.get("title") or "")),
        barcode=str(node.get("barcode") or "").strip(),
        stock=stock,
        stock_ref=stock_ref(item, fallback_location),
    )


def user_error_index(error: dict, list_name: str) -> int | None:
    """The input position a userError points at: ``field`` ["input", "changes", "3", ...]."""
    field = error.get("field") or []
    if not isinstance(field, list):
        return None
    for position, part in enumerate(field[:-1]):
        if part == list_name and str(field[position + 1]).isdigit():
            return int(field[position + 1])
    return None


def quantities_after(group: dict | None) -> dict[tuple[str, str], int]:
    """(inventory item id, location id) → available quantity after an adjustment group."""
    after: dict[tuple[str, str], int] = {}
    for change in (group or {}).get("changes") or ():
        if change.get("name") != "available" or change.get("quantityAfterChange") is None:
            continue
        key = (
            str((change.get("item") or {}).get("id") or ""),
            str((change.get("location") or {}).get("id") or ""),
        )
        after[key] = int(change["quantityAfterChange"])
    return after
