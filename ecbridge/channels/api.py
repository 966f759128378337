"""REST API for sales channels (mounted at /api/v1/sales-channels).

Create and update go through :mod:`ecbridge.channels.services`, i.e. the same form as the pages, so the
API accepts exactly what the pages accept. Reference data is addressed by code (``good``,
``tcat_home``); the codes are listed by ``/inventory-types`` and ``/shipping-types``."""

from datetime import datetime
from decimal import Decimal

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate

from ecbridge.api.schemas import Detail, InvalidOut, invalid
from ecbridge.api.types import Id, Pages
from ecbridge.channels.models import SalesChannel, ShippingType
from ecbridge.channels.services import (
    ChannelInvalid,
    create_channel,
    merchant_for_create,
    update_channel,
    visible_channels,
)
from ecbridge.core.listing import search
from ecbridge.inventory.models import InventoryType

router = Router(tags=["sales channels"])

MatchRule = SalesChannel.MatchRule
ExpiryControl = SalesChannel.ExpiryControl


class ReferenceOut(Schema):
    code: str
    name: str
    name_zh_hant: str = Field("", description="The Traditional Chinese name, when the warehouse gave one.")


class ShippingTypeOut(Schema):
    code: str
    name: str
    name_zh_hant: str = Field("", description="The Traditional Chinese name, when the warehouse gave one.")
    kind: str
    carrier: str
    enabled: bool


class ChannelOut(Schema):
    id: int
    merchant: int
    merchant_name: str
    name: str
    internal_name: str
    enabled: bool
    match_rule: MatchRule
    primary_inventory_type: str
    primary_inventory_type_name: str
    secondary_inventory_type: str | None
    secondary_inventory_type_name: str | None
    same_expiry: bool
    expiry_control: ExpiryControl
    expiry_days: int | None
    expiry_days_overseas: int | None
    expiry_ratio: float | None = Field(..., description="Percent, 0–100.")
    expiry_ratio_overseas: float | None = Field(..., description="Percent, 0–100.")
    default_shipping_type: str | None
    default_shipping_type_name: str | None
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_merchant(obj):
        return obj.merchant_id

    @staticmethod
    def resolve_merchant_name(obj):
        return obj.merchant.name

    @staticmethod
    def resolve_primary_inventory_type(obj):
        return obj.primary_inventory_type.code

    @staticmethod
    def resolve_primary_inventory_type_name(obj):
        return obj.primary_inventory_type.name

    @staticmethod
    def resolve_secondary_inventory_type(obj):
        return obj.secondary_inventory_type.code if obj.secondary_inventory_type_id else None

    @staticmethod
    def resolve_secondary_inventory_type_name(obj):
        return obj.secondary_inventory_type.name if obj.secondary_inventory_type_id else None

    @staticmethod
    def resolve_default_shipping_type(obj):
        return obj.default_shipping_type.code if obj.default_shipping_type_id else None

    @staticmethod
    def resolve_default_shipping_type_name(obj):
        return obj.default_shipping_type.name if obj.default_shipping_type_id else None

    @staticmethod
    def resolve_expiry_ratio(obj):
        return None if obj.expiry_ratio is None else float(obj.expiry_ratio)

    @staticmethod
    def resolve_expiry_ratio_overseas(obj):
        return None if obj.expiry_ratio_overseas is None else float(obj.expiry_ratio_overseas)


class ChannelCreateIn(Schema):
    merchant: Id | None = Field(
        None, description="Merchant id. Required when you manage several merchants; else implied."
    )
    name: str = Field(..., description="Unique within the merchant.")
    internal_name: str = ""
    enabled: bool = True
    match_rule: MatchRule = MatchRule.SKU
    primary_inventory_type: str = Field(..., description="Inventory type code, e.g. `good`.")
    secondary_inventory_type: str | None = Field(None, description="Inventory type code, or null.")
    same_expiry: bool = False
    expiry_control: ExpiryControl = ExpiryControl.NONE
    expiry_days: int | None = None
    expiry_days_overseas: int | None = None
    expiry_ratio: Decimal | None = Field(None, description="Percent, 0–100.")
    expiry_ratio_overseas: Decimal | None = Field(None, description="Percent, 0–100.")
    default_shipping_type: str | None = Field(None, description="Shipping type code, or null.")


class ChannelPatchIn(Schema):
    """Only the fields sent are changed. Fields that cannot be empty reject null."""

    merchant: Id | None = Field(None, description="Cannot change; accepted only if equal to the current one.")
    name: str = None
    internal_name: str = None
    enabled: bool = None
    match_rule: MatchRule = None
    primary_inventory_type: str = None
    secondary_inventory_type: str | None = None
    same_expiry: bool = None
    expiry_control: ExpiryControl = None
    expiry_days: int | None = None
    expiry_days_overseas: int | None = None
    expiry_ratio: Decimal | None = None
    expiry_ratio_overseas: Decimal | None = None
    default_shipping_type: str | None = None


class ChannelFilters(Schema):
    merchant: list[Id] = Field(default_factory=list, description="Merchant ids (repeatable).")
    enabled: bool | None = None
    q: str | None = Field(None, description="Search in channel name and internal name.")


def _invalid(exc: ChannelInvalid) -> tuple[int, dict]:
    problems = [
        (field, item["message"], item.get("code")) for field, items in exc.errors.items() for item in items
    ]
    return invalid(problems, exc.summary())


@router.get("", response=list[ChannelOut], summary="List sales channels")
@paginate(Pages, page_size=25, max_page_size=100)
def list_channels(request, filters: Query[ChannelFilters]):
    qs = visible_channels(request.auth)
    if filters.merchant:
        qs = qs.filter(merchant_id__in=filters.merchant)
    if filters.enabled is not None:
        qs = qs.filter(enabled=filters.enabled)
    if filters.q and filters.q.strip():
        qs = search(qs, filters.q, ["name", "internal_name"])
    return qs.order_by("-updated_at", "-pk")


@router.get("/inventory-types", response=list[ReferenceOut], summary="Inventory types (codes for channels)")
def inventory_types(request):
    return InventoryType.objects.all()


@router.get("/shipping-types", response=list[ShippingTypeOut], summary="Warehouse shipping types")
def shipping_types(request, enabled: bool | None = None):
    qs = ShippingType.objects.all()
    if enabled is not None:
        qs = qs.filter(enabled=enabled)
    return qs


@router.post(
    "",
    response={201: ChannelOut, 404: Detail, 422: InvalidOut},
    summary="Create a sales channel",
)
def create(request, payload: ChannelCreateIn):
    values = payload.dict(exclude_unset=True)
    merchant = merchant_for_create(request.auth, values.pop("merchant", None))
    if merchant is None:
        message = _("Choose the merchant: you manage several merchants.")
        return 422, {
            "detail": message,
            "errors": [{"loc": ["body", "payload", "merchant"], "msg": message, "type": "required"}],
        }
    try:
        channel = create_channel(merchant, values)
    except ChannelInvalid as exc:
        return _invalid(exc)
    return 201, visible_channels(request.auth).get(pk=channel.pk)


@router.get("/{channel_id}", response={200: ChannelOut, 404: Detail}, summary="One sales channel")
def detail(request, channel_id: int):
    return get_object_or_404(visible_channels(request.auth), pk=channel_id)


@router.patch(
    "/{channel_id}",
    response={200: ChannelOut, 404: Detail, 422: InvalidOut},
    summary="Change a sales channel (partial)",
)
def update(request, channel_id: int, payload: ChannelPatchIn):
    channel = get_object_or_404(visible_channels(request.auth), pk=channel_id)
    try:
        update_channel(channel, payload.dict(exclude_unset=True))
    except ChannelInvalid as exc:
        return _invalid(exc)
    return visible_channels(request.auth).get(pk=channel.pk)
