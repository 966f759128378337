"""REST: products with their stock, inbound receipts and put-away. The same rules as the pages
(inventory.forms, inventory.services) and the same scoping: another merchant's product or receipt
is a 404, never a 403. Validation problems answer 422 with one readable ``detail``."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db.models import Count, Prefetch
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.errors import HttpError

from ecbridge.api.schemas import Detail, InvalidOut, Ref, invalid
from ecbridge.api.types import Id
from ecbridge.core import listing
from ecbridge.core.ids import MAX_ID
from ecbridge.integrations.models import StockPush, StockRun
from ecbridge.inventory.forms import ProductForm
from ecbridge.inventory.models import InboundReceipt, InboundReceiptLine, Product, StockLevel
from ecbridge.inventory.services import receipts as receipt_service
from ecbridge.inventory.services import stock
from ecbridge.inventory.services.receipts import LineInput
from ecbridge.tenancy.models import Merchant

products_router = Router(tags=["products"])
receipts_router = Router(tags=["inbound receipts"])

PRODUCT_SORT = [
    listing.SortableColumn("sku", "sku"),
    listing.SortableColumn("name", "name"),
    listing.SortableColumn("created_at", "created_at"),
    listing.SortableColumn("on_hand", "on_hand_total"),
    listing.SortableColumn("reserved", "reserved_total"),
    listing.SortableColumn("sellable", "sellable_total"),
]
RECEIPT_SORT = [
    listing.SortableColumn("reference", "reference"),
    listing.SortableColumn("status", "status"),
    listing.SortableColumn("created_at", "created_at"),
    listing.SortableColumn("completed_at", "completed_at"),
]


class LevelOut(Schema):
    inventory_type: str = Field(..., description="Inventory type code")
    inventory_type_name: str
    sellable_type: bool = Field(..., description="Whether this inventory type may be sold")
    on_hand: int
    reserved: int
    sellable: int = Field(..., description="max(0, on hand − reserved)")


class ProductOut(Schema):
    id: int
    merchant: Ref
    sku: str
    barcode: str
    name: str
    on_hand: int = Field(..., description="Over every inventory type")
    reserved: int = Field(..., description="Units of open orders")
    sellable: int = Field(..., description="On hand − reserved over the sellable inventory types, ≥ 0")
    levels: list[LevelOut]
    created_at: datetime
    updated_at: datetime


class ProductList(Schema):
    count: int
    items: list[ProductOut]


class ProductFilters(Schema):
    q: str | None = Field(None, max_length=200, description="SKU, name or barcode")
    merchant: list[Id] = Field(default_factory=list, description="Merchant ids (repeatable)")
    sort: str = "sku"
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0, le=MAX_ID)


class ProductIn(Schema):
    merchant: Id | None = Field(None, description="Merchant id. Required when you manage several merchants.")
    sku: str = Field(..., max_length=100, description="Unique within the merchant")
    barcode: str = Field("", max_length=100)
    name: str = Field(..., max_length=255)


class ReceiptLineIn(Schema):
    sku: str = Field(..., max_length=100, description="The merchant's product SKU")
    quantity: int = Field(..., description="≥ 1")
    inventory_type: str = Field(
        "good", description="Inventory type code (see /sales-channels/inventory-types)"
    )


class ReceiptIn(Schema):
    merchant: Id | None = Field(None, description="Merchant id. Required when you manage several merchants.")
    reference: str = Field(..., max_length=120, description="Unique within the merchant")
    note: str = ""
    lines: list[ReceiptLineIn]


class ReceiptLineOut(Schema):
    id: int
    product_id: int
    sku: str
    name: str
    inventory_type: str
    quantity: int


class ReceiptPushOut(Schema):
    id: int
    product_id: int
    platform_sku: str
    mode: str
    quantity: int
    status: str
    error: str
    attempts: int
    done_at: datetime | None


class ReceiptStockRunOut(Schema):
    id: int
    ec_account: Ref
    status: str
    push_percentage: int | None
    succeeded: int
    failed: int
    message: str
    created_at: datetime
    finished_at: datetime | None
    pushes: list[ReceiptPushOut]


class ReceiptOut(Schema):
    id: int
    merchant: Ref
    reference: str
    note: str
    status: str = Field(..., description="receiving | completed")
    lines_count: int
    created_at: datetime
    created_by: str | None
    completed_at: datetime | None
    completed_by: str | None


class ReceiptDetail(ReceiptOut):
    lines: list[ReceiptLineOut]
    stock_runs: list[ReceiptStockRunOut] = Field(
        ..., description="The inbound push per EC account (after put-away)"
    )


class ReceiptList(Schema):
    count: int
    items: list[ReceiptOut]


class ReceiptFilters(Schema):
    q: str | None = Field(None, max_length=200, description="Reference or note")
    merchant: list[Id] = Field(default_factory=list)
    status: list[str] = Field(default_factory=list, description="receiving | completed")
    sort: str = "-created_at"
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0, le=MAX_ID)


# --- helpers --------------------------------------------------------------------------------------
def _ordered(qs, sort: str, columns):
    key = sort.lstrip("-")
    column = next((c for c in columns if c.key == key), None)
    if column is None:
        raise HttpError(400, f"sort: one of {', '.join(c.key for c in columns)} (prefix - for descending).")
    return listing.ordered(qs, column.field, descending=sort.startswith("-"))


def _invalid(errors: dict[str, list[str]]) -> tuple[int, dict]:
    return invalid((field, message, "invalid") for field, messages in errors.items() for message in messages)


def _merchant(user, merchant_id) -> Merchant | tuple:
    """The merchant to create for: the requested one (a foreign id is a 404), else the user's only one."""
    merchants = user.merchants()
    if merchant_id is not None:
        return get_object_or_404(merchants, pk=merchant_id)
    if merchants.count() == 1:
        return merchants.get()
    return None


def _user(u) -> str | None:
    return u.get_username() if u is not None else None


def _levels(product) -> list[dict]:
    return [
        {
            "inventory_type": level.inventory_type.code,
            "inventory_type_name": level.inventory_type.name,
            "sellable_type": level.inventory_type.sellable,
            "on_hand": level.on_hand,
            "reserved": level.reserved,
            "sellable": level.sellable,
        }
        for level in product.stock_levels.all()
    ]


def _product_out(p: Product) -> dict:
    return {
        "id": p.pk,
        "merchant": {"id": p.merchant_id, "name": p.merchant.name},
        "sku": p.sku,
        "barcode": p.barcode,
        "name": p.name,
        "on_hand": p.on_hand_total,
        "reserved": p.reserved_total,
        "sellable": p.sellable_total,
        "levels": _levels(p),
        "created_at": p.created_at,
        "updated_at": p.updated_at,
    }


def _products(user):
    levels = StockLevel.objects.select_related("inventory_type").order_by("inventory_type__sort_order", "pk")
    return stock.with_stock_totals(
        Product.objects.for_user(user)
        .select_related("merchant")
        .prefetch_related(Prefetch("stock_levels", levels))
    )


# --- products -------------------------------------------------------------------------------------
@products_router.get("", response=ProductList, summary="Products with their stock")
def list_products(request, filters: Query[ProductFilters]):
    qs = listing.search(_products(request.user), filters.q or "", ["sku", "name", "barcode"])
    if filters.merchant:
        qs = qs.filter(merchant_id__in=filters.merchant)
    qs = _ordered(qs, filters.sort, PRODUCT_SORT)
    total = qs.count()
    return {
        "count": total,
        "items": [_product_out(p) for p in qs[filters.offset : filters.offset + filters.limit]],
    }


@products_router.get("/{int:product_id}", response={200: ProductOut, 404: Detail}, summary="One product")
def get_product(request, product_id: int):
    return _product_out(get_object_or_404(_products(request.user), pk=product_id))


@products_router.post(
    "",
    response={201: ProductOut, 404: Detail, 422: InvalidOut},
    summary="Create a product (SKU unique per merchant)",
)
def create_product(request, payload: ProductIn):
    merchant = _merchant(request.user, payload.merchant)
    if merchant is None:
        return _invalid({"merchant": [_("Choose the merchant: you manage several merchants.")]})
    form = ProductForm(
        {"merchant": merchant.pk, "sku": payload.sku, "barcode": payload.barcode, "name": payload.name},
        user=request.user,
    )
    if not form.is_valid():
        return _invalid({field: list(messages) for field, messages in form.errors.items()})
    product = form.save()
    if product is None:
        return _invalid({field: list(messages) for field, messages in form.errors.items()})
    return 201, _product_out(get_object_or_404(_products(request.user), pk=product.pk))


# --- inbound receipts -----------------------------------------------------------------------------
def _receipt_out(r: InboundReceipt) -> dict:
    return {
        "id": r.pk,
        "merchant": {"id": r.merchant_id, "name": r.merchant.name},
        "reference": r.reference,
        "note": r.note,
        "status": r.status,
        "lines_count": r.lines_count if hasattr(r, "lines_count") else r.lines.count(),
        "created_at": r.created_at,
        "created_by": _user(r.created_by),
        "completed_at": r.completed_at,
        "completed_by": _user(r.completed_by),
    }


def _receipts(user):
    return InboundReceipt.objects.for_user(user).select_related("merchant", "created_by", "completed_by")


def _receipt_detail(request, receipt_id: int) -> dict:
    receipt = get_object_or_404(
        _receipts(request.user).prefetch_related(
            Prefetch(
                "lines",
                InboundReceiptLine.objects.select_related("product", "inventory_type").order_by("pk"),
            )
        ),
        pk=receipt_id,
    )
    runs = (
        StockRun.objects.filter(receipt=receipt)
        .select_related("ec_account")
        .prefetch_related(Prefetch("pushes", StockPush.objects.order_by("pk")))
        .order_by("pk")
    )
    lines = list(receipt.lines.all())
    return {
        **_receipt_out(receipt),
        "lines_count": len(lines),
        "lines": [
            {
                "id": line.pk,
                "product_id": line.product_id,
                "sku": line.product.sku,
                "name": line.product.name,
                "inventory_type": line.inventory_type.code,
                "quantity": line.quantity,
            }
            for line in lines
        ],
        "stock_runs": [
            {
                "id": run.pk,
                "ec_account": {"id": run.ec_account_id, "name": run.ec_account.display_name},
                "status": run.status,
                "push_percentage": run.push_percentage,
                "succeeded": run.succeeded,
                "failed": run.failed,
                "message": run.message,
                "created_at": run.created_at,
                "finished_at": run.finished_at,
                "pushes": [
                    {
                        "id": p.pk,
                        "product_id": p.product_id,
                        "platform_sku": p.platform_sku,
                        "mode": p.mode,
                        "quantity": p.quantity,
                        "status": p.status,
                        "error": p.error,
                        "attempts": p.attempts,
                        "done_at": p.done_at,
                    }
                    for p in run.pushes.all()
                ],
            }
            for run in runs
        ],
    }


@receipts_router.get("", response=ReceiptList, summary="Inbound receipts, newest first")
def list_receipts(request, filters: Query[ReceiptFilters]):
    bad = sorted(set(filters.status) - set(InboundReceipt.Status.values))
    if bad:
        raise HttpError(
            400, f"status: one of {', '.join(InboundReceipt.Status.values)} (got {', '.join(bad)})."
        )
    qs = listing.search(_receipts(request.user), filters.q or "", ["reference", "note"])
    if filters.merchant:
        qs = qs.filter(merchant_id__in=filters.merchant)
    if filters.status:
        qs = qs.filter(status__in=filters.status)
    qs = _ordered(qs.annotate(lines_count=Count("lines")), filters.sort, RECEIPT_SORT)
    total = qs.count()
    return {
        "count": total,
        "items": [_receipt_out(r) for r in qs[filters.offset : filters.offset + filters.limit]],
    }


@receipts_router.get(
    "/{int:receipt_id}", response={200: ReceiptDetail, 404: Detail}, summary="One receipt: lines and push"
)
def get_receipt(request, receipt_id: int):
    return _receipt_detail(request, receipt_id)


@receipts_router.post(
    "",
    response={201: ReceiptDetail, 404: Detail, 422: InvalidOut},
    summary="Create an inbound receipt (status receiving); nothing is saved when a line is wrong",
)
def create_receipt(request, payload: ReceiptIn):
    merchant = _merchant(request.user, payload.merchant)
    if merchant is None:
        return _invalid({"merchant": [_("Choose the merchant: you manage several merchants.")]})
    rows = [
        LineInput(
            sku=line.sku, quantity=line.quantity, inventory_type=line.inventory_type, label=f"lines[{i}]"
        )
        for i, line in enumerate(payload.lines)
    ]
    try:
        lines = receipt_service.resolve_lines(merchant, rows) if rows else []
        receipt = receipt_service.create_receipt(
            merchant, payload.reference, lines, note=payload.note, user=request.user
        )
    except ValidationError as exc:
        return _invalid(exc.message_dict)
    return 201, _receipt_detail(request, receipt.pk)


@receipts_router.post(
    "/{int:receipt_id}/complete-putaway",
    response={200: ReceiptDetail, 404: Detail, 409: Detail},
    summary="Complete put-away: add the lines to stock and queue the inbound push (once)",
)
def complete_putaway(request, receipt_id: int):
    receipt = get_object_or_404(_receipts(request.user), pk=receipt_id)
    try:
        receipt_service.complete_putaway(receipt, request.user)
    except receipt_service.AlreadyCompleted as exc:
        return 409, {"detail": str(exc)}
    return 200, _receipt_detail(request, receipt.pk)
