"""REST API of an account's stock side: Sync Product Mappings (202), Manual Stock Sync (explicit
confirmation, mass-zero breaker), push runs with per-SKU results, and the mappings."""

from datetime import datetime

from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema

from ecbridge.api.schemas import Detail
from ecbridge.integrations.api import _account
from ecbridge.integrations.models import ProductSyncRun, StockRun
from ecbridge.integrations.services import listings, mapping_sync, stock_sync

router = Router(tags=["EC accounts: stock"])


class SyncQueued(Schema):
    sync_id: int
    status: str
    already_running: bool


class UnmatchedOut(Schema):
    sku: str = ""
    barcode: str = ""
    name: str = ""
    item_id: str = ""
    variant_id: str = ""
    reason: str = ""


class ProductSyncOut(Schema):
    id: int
    status: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    variants_seen: int
    mapped: int
    new_mappings: int
    unmatched: int
    ambiguous: int
    unmatched_items: list[UnmatchedOut]
    message: str


class StockSyncIn(Schema):
    confirm: bool = False
    confirm_zero_count: int | None = Field(
        None, description="Required when more than half of the mapped products would be set to 0: that count."
    )


class MassZero(Schema):
    detail: str
    zero_count: int = Field(..., description="Products whose stock listing would be set to 0.")
    total: int = Field(..., description="Mapped products (each counted once, however often it is listed).")
    extra_listings: int = Field(
        0, description="Further listings of products listed more than once: always set to 0."
    )


class RunQueued(Schema):
    run_id: int
    pushes: int
    zero_count: int


class PushOut(Schema):
    id: int
    product_id: int
    platform_sku: str
    mode: str
    quantity: int
    status: str
    attempts: int
    observed_before: int | None
    platform_after: int | None
    error: str


class StockRunOut(Schema):
    id: int
    kind: str
    status: str
    receipt_id: int | None
    push_percentage: int | None
    zero_count: int
    succeeded: int
    failed: int
    created_at: datetime
    finished_at: datetime | None
    pushes: list[PushOut]

    @staticmethod
    def resolve_pushes(obj):
        return list(obj.pushes.order_by("pk"))


class MappingOut(Schema):
    id: int
    product_id: int
    product_sku: str = Field(..., alias="product.sku")
    platform_item_id: str
    platform_variant_id: str
    platform_sku: str
    platform_barcode: str
    platform_name: str
    source: str
    is_stock_primary: bool = Field(..., description="A person chose this listing to carry the stock.")
    carries_stock: bool = Field(
        ...,
        description=(
            "This listing receives the product's stock. False when another listing of the same product "
            "on this account does (it is kept at 0) or when it has no platform item id yet."
        ),
    )
    last_pushed_qty: int | None
    last_platform_qty: int | None
    last_pushed_at: datetime | None
    last_push_error: str


@router.post(
    "/{int:account_id}/sync-product-mappings",
    response={202: SyncQueued, 409: Detail},
    summary="Sync product mappings (queued; the result arrives as a notification)",
)
def sync_product_mappings(request, account_id: int):
    account = _account(request, account_id)
    try:
        run, created = mapping_sync.request_sync(account, request.user)
    except mapping_sync.SyncNotAvailable as exc:
        return 409, {"detail": str(exc)}
    return 202, {"sync_id": run.pk, "status": run.status, "already_running": not created}


@router.get(
    "/{int:account_id}/sync-product-mappings/{int:sync_id}",
    response=ProductSyncOut,
    summary="One mapping sync",
)
def get_product_sync(request, account_id: int, sync_id: int):
    account = _account(request, account_id)
    return get_object_or_404(ProductSyncRun, pk=sync_id, ec_account=account)


@router.get(
    "/{int:account_id}/product-mappings", response=list[MappingOut], summary="The account's product mappings"
)
def list_product_mappings(request, account_id: int):
    account = _account(request, account_id)
    carrying = {m.pk for m in listings.stock_listings([account.pk]).values()}
    rows = list(account.product_mappings.select_related("product").order_by("platform_sku", "pk"))
    for mapping in rows:
        mapping.carries_stock = mapping.pk in carrying
    return rows


@router.post(
    "/{int:account_id}/product-mappings/{int:mapping_id}/stock-listing",
    response={200: MappingOut, 409: Detail},
    summary="Make this listing the one that carries its product's stock on the account",
    description=(
        "When one WMS product is listed several times on an account, only its stock listing receives "
        "stock; the others are set to 0 by Manual Stock Sync. Nothing is pushed now."
    ),
)
def make_stock_listing(request, account_id: int, mapping_id: int):
    account = _account(request, account_id)
    mapping = get_object_or_404(account.product_mappings.select_related("product"), pk=mapping_id)
    try:
        listings.make_stock_listing(mapping)
    except listings.NotAStockTarget as exc:
        return 409, {"detail": str(exc)}
    mapping.carries_stock = True
    return 200, mapping


@router.post(
    "/{int:account_id}/stock-sync",
    response={202: RunQueued, 400: Detail, 409: MassZero | Detail},
    summary="Manual stock sync: overwrite the platform's stock with the WMS sellable quantity",
    description=(
        'Overwrites live platform stock and cannot be reverted automatically: requires {"confirm": true} '
        "(400 and nothing runs without it). When more than half of the mapped products would be set to 0 "
        "the answer is 409 with zero_count; send it back as confirm_zero_count to go on. A product "
        "listed several times is set on its stock listing only; its other listings are set to 0."
    ),
)
def manual_stock_sync(request, account_id: int, payload: StockSyncIn | None = None):
    account = _account(request, account_id)
    payload = payload or StockSyncIn()
    try:
        run = stock_sync.request_stock_sync(
            account, request.user, confirm=payload.confirm, confirm_zero_count=payload.confirm_zero_count
        )
    except stock_sync.NotConfirmed as exc:
        return 400, {"detail": str(exc)}
    except stock_sync.MassZeroNeedsConfirmation as exc:
        return 409, {
            "detail": str(exc),
            "zero_count": exc.zero_count,
            "total": exc.total,
            "extra_listings": exc.extra_listings,
        }
    except stock_sync.StockSyncError as exc:
        return 409, {"detail": str(exc)}
    return 202, {"run_id": run.pk, "pushes": run.pushes.count(), "zero_count": run.zero_count}


class RetryQueued(Schema):
    run_id: int
    retried: int = Field(..., description="Failed SKUs sent again (only those).")


@router.post(
    "/{int:account_id}/stock-runs/{int:run_id}/retry-failed",
    response={202: RetryQueued, 409: Detail},
    summary="Send the failed SKUs of a finished run again, and only those",
    description=(
        "A put-away's additions are re-sent as they were; a manual sync's overwrites use the "
        "sellable quantity of now. 409 while the run is still running, or when nothing failed."
    ),
)
def retry_failed_skus(request, account_id: int, run_id: int):
    account = _account(request, account_id)
    run = get_object_or_404(StockRun, pk=run_id, ec_account=account)
    try:
        retried = stock_sync.retry_failed(run, request.user)
    except stock_sync.StockSyncError as exc:
        return 409, {"detail": str(exc)}
    return 202, {"run_id": run.pk, "retried": retried}


@router.get("/{int:account_id}/stock-runs", response=list[StockRunOut], summary="Recent stock push runs")
def list_stock_runs(request, account_id: int):
    account = _account(request, account_id)
    return list(account.stock_runs.all()[:20])


@router.get("/{int:account_id}/stock-runs/{int:run_id}", response=StockRunOut, summary="One stock push run")
def get_stock_run(request, account_id: int, run_id: int):
    account = _account(request, account_id)
    return get_object_or_404(StockRun, pk=run_id, ec_account=account)
