"""REST: orders and unknown products. Same rules (services.mapping, services.holds) and the same
scoping as the pages: another merchant's order, unknown product or product is a 404 / invalid
choice, never a 403. Nothing secret lives on these objects; nothing secret is returned."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Count, Prefetch
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema
from ninja.errors import HttpError

from ecbridge.api.schemas import Ref
from ecbridge.api.types import Id
from ecbridge.core import listing
from ecbridge.core.ids import MAX_ID
from ecbridge.integrations.models import ShipmentReport
from ecbridge.inventory.models import Product
from ecbridge.orders.models import Hold, Order, OrderLine, UnknownProduct
from ecbridge.orders.services import mapping as mapping_service
from ecbridge.orders.services import queries

router = Router(tags=["orders"])
unknown_products_router = Router(tags=["unknown products"])


class ProductRef(Schema):
    id: int
    sku: str
    name: str


class UnknownRef(Schema):
    id: int
    identifier: str


class OrderOut(Schema):
    id: int
    merchant: Ref
    ec_account: Ref | None
    platform: str
    order_number: str
    platform_order_id: str
    status: str = Field(..., description="pending | shipped | cancelled (the warehouse's side)")
    platform_state: str = Field(
        ..., description="unpaid | to_ship | shipped | completed | cancelled | returned"
    )
    platform_status: str = Field(..., description="The platform's own status string")
    on_hold: bool
    needs_attention: bool
    shipping_type: Ref | None
    carrier: str
    tracking_number: str
    lines_count: int
    ordered_at: datetime
    imported_at: datetime


class OrderList(Schema):
    count: int
    items: list[OrderOut]


class LineOut(Schema):
    id: int
    line_id: str
    sku: str
    barcode: str
    name: str
    quantity: int
    platform_item_id: str
    platform_variant_id: str
    matched: bool
    product: ProductRef | None
    unknown_product: UnknownRef | None


class HoldOut(Schema):
    id: int
    reason: str
    reason_label: str
    note: str
    held_by: str | None = Field(..., description="Username; null when the system placed the hold")
    created_at: datetime
    active: bool
    released_at: datetime | None
    released_by: str | None
    resolution_note: str


class AttemptOut(Schema):
    at: datetime
    outcome: str
    message: str


class ShipmentReportOut(Schema):
    id: int
    package_key: str
    carrier: str
    tracking_number: str
    platform_tracking_number: str
    status: str
    status_label: str
    attempts: int
    last_error: str
    next_attempt_at: datetime | None
    created_at: datetime
    done_at: datetime | None
    attempt_log: list[AttemptOut]


class ReceiverOut(Schema):
    name: str
    phone: str
    address: str


class OrderDetail(OrderOut):
    sales_channel: Ref
    platform_state_label: str
    attention_reason: str
    shipping_code: str
    shipping_name: str
    shipping_note: str
    receiver: ReceiverOut
    buyer_note: str
    shipped_at: datetime | None
    platform_updated_at: datetime
    lines: list[LineOut]
    holds: list[HoldOut]
    shipment_reports: list[ShipmentReportOut]


class OrderFilters(Schema):
    q: str | None = Field(None, max_length=200, description="Order number, platform order id or tracking")
    merchant: list[Id] = []
    platform: list[str] = []
    ec_account: list[Id] = Field(default_factory=list, description="EC account ids (repeatable)")
    status: list[str] = Field(default_factory=list, description="pending | shipped | cancelled")
    on_hold: bool | None = None
    needs_attention: bool | None = None
    sort: str = "-ordered_at"
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0, le=MAX_ID)


class UnknownProductOut(Schema):
    id: int
    identifier: str
    sku: str
    barcode: str
    name: str
    merchant: Ref
    platform: str
    ec_account: Ref
    platform_item_id: str
    platform_variant_id: str
    pending_orders: int = Field(..., description="Orders on hold because of this product")
    total_quantity: int
    created_at: datetime


class UnknownProductList(Schema):
    count: int
    items: list[UnknownProductOut]


class AffectedOrderOut(Schema):
    id: int
    order_number: str
    status: str
    on_hold: bool
    receiver: str
    quantity: int
    ordered_at: datetime


class MappingPreviewOut(Schema):
    affected_orders: int
    orders_to_release: int
    orders_still_held: int


class UnknownProductDetail(UnknownProductOut):
    orders: list[AffectedOrderOut]
    preview: MappingPreviewOut = Field(..., description="What mapping it now would release")


class UnknownFilters(Schema):
    q: str | None = Field(None, max_length=200)
    sku: list[str] = Field(default_factory=list, description="Exact platform SKUs (repeatable)")
    merchant: list[Id] = []
    platform: list[str] = []
    ec_account: list[Id] = []
    sort: str = "-created_at"
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0, le=MAX_ID)


class MapIn(Schema):
    product_id: int = Field(..., ge=1, le=MAX_ID, description="The WMS product (of the same merchant)")


class MapOut(Schema):
    mapping_id: int
    mapping_created: bool
    lines_updated: int
    holds_released: int
    orders_released: int
    orders_still_held: int
    stock_listing_id: int | None = Field(
        None, description="The listing that carries this product's stock on the account (None: none can yet)."
    )
    is_stock_listing: bool = Field(
        True,
        description="False when another listing of the product carries its stock: this one is kept at 0.",
    )


def _ordered(qs, sort: str, columns):
    key = sort.lstrip("-")
    column = next((c for c in columns if c.key == key), None)
    if column is None:
        raise HttpError(400, f"sort: one of {', '.join(c.key for c in columns)} (prefix - for descending).")
    return listing.ordered(qs, column.field, descending=sort.startswith("-"))


def _user(h) -> str | None:
    return h.get_username() if h is not None else None


def order_out(o: Order) -> dict:
    return {
        "id": o.pk,
        "merchant": {"id": o.merchant_id, "name": o.merchant.name},
        "ec_account": {"id": o.ec_account_id, "name": o.ec_account.display_name} if o.ec_account_id else None,
        "platform": o.platform,
        "order_number": o.order_number,
        "platform_order_id": o.platform_order_id,
        "status": o.status,
        "platform_state": o.platform_state,
        "platform_status": o.platform_status,
        "on_hold": o.on_hold,
        "needs_attention": o.needs_attention,
        "shipping_type": {"id": o.shipping_type_id, "name": o.shipping_type.name}
        if o.shipping_type
        else None,
        "carrier": o.carrier,
        "tracking_number": o.tracking_number,
        "lines_count": o.lines_count if hasattr(o, "lines_count") else o.lines.count(),
        "ordered_at": o.platform_created_at,
        "imported_at": o.imported_at,
    }


def _line_out(line: OrderLine) -> dict:
    return {
        "id": line.pk,
        "line_id": line.line_id,
        "sku": line.sku,
        "barcode": line.barcode,
        "name": line.name,
        "quantity": line.quantity,
        "platform_item_id": line.platform_item_id,
        "platform_variant_id": line.platform_variant_id,
        "matched": line.product_id is not None,
        "product": (
            {"id": line.product_id, "sku": line.product.sku, "name": line.product.name}
            if line.product
            else None
        ),
        "unknown_product": (
            {"id": line.unknown_product_id, "identifier": line.unknown_product.identifier}
            if line.unknown_product
            else None
        ),
    }


def _hold_out(h: Hold) -> dict:
    return {
        "id": h.pk,
        "reason": h.reason,
        "reason_label": str(h.get_reason_display()),
        "note": h.note,
        "held_by": _user(h.created_by),
        "created_at": h.created_at,
        "active": h.released_at is None,
        "released_at": h.released_at,
        "released_by": _user(h.released_by),
        "resolution_note": h.resolution_note,
    }


def _report_out(r: ShipmentReport) -> dict:
    return {
        "id": r.pk,
        "package_key": r.package_key,
        "carrier": r.carrier,
        "tracking_number": r.tracking_number,
        "platform_tracking_number": r.platform_tracking_number,
        "status": r.status,
        "status_label": str(r.get_status_display()),
        "attempts": r.attempts,
        "last_error": r.last_error,
        "next_attempt_at": r.next_attempt_at,
        "created_at": r.created_at,
        "done_at": r.done_at,
        "attempt_log": [
            {"at": a.at, "outcome": a.outcome, "message": a.message} for a in r.attempt_log.all()
        ],
    }


@router.get("", response=OrderList, summary="Orders, newest first")
def list_orders(request, filters: Query[OrderFilters]):
    bad = sorted(set(filters.status) - set(Order.Status.values))
    if bad:
        raise HttpError(400, f"status: one of {', '.join(Order.Status.values)} (got {', '.join(bad)}).")
    qs = queries.filter_orders(
        Order.objects.for_user(request.user),
        q=filters.q or "",
        merchants=filters.merchant,
        platforms=filters.platform,
        accounts=filters.ec_account,
        statuses=filters.status,
        on_hold=filters.on_hold,
        needs_attention=filters.needs_attention,
    )
    qs = _ordered(qs, filters.sort, queries.ORDER_SORT)
    total = qs.count()
    page = qs.select_related("merchant", "ec_account", "shipping_type").annotate(lines_count=Count("lines"))
    page = page[filters.offset : filters.offset + filters.limit]
    return {"count": total, "items": [order_out(o) for o in page]}


@router.get("/{int:order_id}", response=OrderDetail, summary="One order: lines, holds, shipment reports")
def get_order(request, order_id: int):
    order = get_object_or_404(
        Order.objects.for_user(request.user)
        .select_related("merchant", "ec_account", "sales_channel", "shipping_type")
        .annotate(lines_count=Count("lines"))
        .prefetch_related(
            Prefetch("lines", queryset=OrderLine.objects.select_related("product", "unknown_product")),
            Prefetch("holds", queryset=Hold.objects.select_related("created_by", "released_by")),
            Prefetch("shipment_reports", queryset=ShipmentReport.objects.prefetch_related("attempt_log")),
        ),
        pk=order_id,
    )
    return {
        **order_out(order),
        "sales_channel": {"id": order.sales_channel_id, "name": order.sales_channel.name},
        "platform_state_label": str(order.get_platform_state_display()),
        "attention_reason": order.attention_reason,
        "shipping_code": order.shipping_code,
        "shipping_name": order.shipping_name,
        "shipping_note": order.shipping_note_text,
        "receiver": {
            "name": order.recipient_name,
            "phone": order.recipient_phone,
            "address": order.recipient_address,
        },
        "buyer_note": order.buyer_note,
        "shipped_at": order.shipped_at,
        "platform_updated_at": order.platform_updated_at,
        "lines": [_line_out(line) for line in order.lines.all()],
        "holds": [_hold_out(h) for h in order.holds.all()],
        "shipment_reports": [_report_out(r) for r in order.shipment_reports.all()],
    }


def unknown_out(u: UnknownProduct) -> dict:
    return {
        "id": u.pk,
        "identifier": u.identifier,
        "sku": u.platform_sku,
        "barcode": u.barcode,
        "name": u.name,
        "merchant": {"id": u.merchant_id, "name": u.merchant.name},
        "platform": u.platform,
        "ec_account": {"id": u.ec_account_id, "name": u.ec_account.display_name},
        "platform_item_id": u.platform_item_id,
        "platform_variant_id": u.platform_variant_id,
        "pending_orders": u.pending_orders,
        "total_quantity": u.total_quantity,
        "created_at": u.created_at,
    }


def _unknown(request, pk) -> UnknownProduct:
    return get_object_or_404(
        queries.with_unknown_counts(
            UnknownProduct.objects.for_user(request.user).select_related("merchant", "ec_account")
        ),
        pk=pk,
    )


@unknown_products_router.get("", response=UnknownProductList, summary="Unknown products")
def list_unknown_products(request, filters: Query[UnknownFilters]):
    qs = queries.filter_unknown_products(
        UnknownProduct.objects.for_user(request.user),
        q=filters.q or "",
        skus=[s.strip() for s in filters.sku if s.strip()],
        merchants=filters.merchant,
        platforms=filters.platform,
        accounts=filters.ec_account,
    )
    qs = queries.with_unknown_counts(qs.select_related("merchant", "ec_account"))
    qs = _ordered(qs, filters.sort, queries.UNKNOWN_SORT)
    total = qs.count()
    return {
        "count": total,
        "items": [unknown_out(u) for u in qs[filters.offset : filters.offset + filters.limit]],
    }


@unknown_products_router.get("/{int:unknown_id}", response=UnknownProductDetail)
def get_unknown_product(request, unknown_id: int):
    unknown = _unknown(request, unknown_id)
    lines = (
        OrderLine.objects.filter(unknown_product=unknown)
        .select_related("order")
        .order_by("-order__platform_created_at", "id")
    )
    preview = mapping_service.preview(unknown)
    return {
        **unknown_out(unknown),
        "orders": [
            {
                "id": line.order_id,
                "order_number": line.order.order_number,
                "status": line.order.status,
                "on_hold": line.order.on_hold,
                "receiver": line.order.recipient_name,
                "quantity": line.quantity,
                "ordered_at": line.order.platform_created_at,
            }
            for line in lines
        ],
        "preview": {
            "affected_orders": preview.affected_orders,
            "orders_to_release": preview.orders_to_release,
            "orders_still_held": preview.orders_still_held,
        },
    }


@unknown_products_router.post(
    "/{int:unknown_id}/map",
    response=MapOut,
    summary="Confirm Mapping: save the mapping, release the held orders, remove the record",
)
def map_unknown_product(request, unknown_id: int, payload: MapIn):
    unknown = _unknown(request, unknown_id)
    product = Product.objects.for_user(request.user).filter(pk=payload.product_id).first()
    if product is None:
        raise HttpError(400, "product_id: no such product.")
    try:
        result = mapping_service.confirm_mapping(unknown, product, request.user)
    except mapping_service.MappingError as exc:
        raise HttpError(400, f"product_id: {exc}") from None
    return {
        "mapping_id": result.mapping_id,
        "mapping_created": result.mapping_created,
        "lines_updated": result.lines_updated,
        "holds_released": result.holds_released,
        "orders_released": result.orders_released,
        "orders_still_held": result.orders_still_held,
        "stock_listing_id": result.stock_listing_id,
        "is_stock_listing": result.is_stock_listing,
    }
