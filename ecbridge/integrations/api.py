"""REST API for EC accounts and platforms. Same rules as the pages (integrations.services),
same scoping (another merchant's account is a 404), secrets never returned."""

from datetime import datetime

from django.http import JsonResponse, QueryDict
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema
from ninja.errors import HttpError

from ecbridge.api.schemas import Detail, Ref
from ecbridge.api.types import Id
from ecbridge.channels.models import SalesChannel, ShippingType
from ecbridge.core import listing
from ecbridge.core.ids import MAX_ID
from ecbridge.integrations.models import MASK, ECAccount, FetchRun
from ecbridge.integrations.services import connection, fetching, lifecycle
from ecbridge.integrations.views import SORT_COLUMNS, filter_accounts
from ecbridge.platforms.registry import all_specs

router = Router(tags=["EC accounts"])
platforms_router = Router(tags=["platforms"])


class CredentialFieldOut(Schema):
    name: str
    label: str
    secret: bool
    required: bool
    pattern: str


class ShippingCodeOut(Schema):
    code: str
    label: str


class PlatformOut(Schema):
    code: str
    name: str
    auth: str
    implemented: bool
    credential_fields: list[CredentialFieldOut]
    capabilities: list[str]
    fixed_shipping_codes: list[ShippingCodeOut]


class MappingIO(Schema):
    platform_code: str
    shipping_type: Id = Field(..., description="ShippingType id")


class AccountOut(Schema):
    id: int
    merchant: Ref
    platform: str
    platform_name: str
    display_name: str
    sales_channel: Ref
    status: str
    status_reason: str
    credentials: dict[str, str] = Field(..., description="Secret fields are always ********")
    authorized: bool
    external_shop_id: str
    external_shop_name: str
    authorization_expires_at: datetime | None
    fetch_orders_enabled: bool
    fetch_times: list[str]
    next_fetch_at: datetime | None
    inbound_push_enabled: bool
    push_percentage: int
    shipping_mappings: list[MappingIO]
    last_tested_at: datetime | None
    created_at: datetime
    updated_at: datetime


class AccountSaved(AccountOut):
    warnings: list[str] = []
    notices: list[str] = []


class AccountList(Schema):
    count: int
    items: list[AccountOut]


class SettingsIn(Schema):
    fetch_orders_enabled: bool | None = None
    fetch_times: list[str] | None = Field(None, description='1 to 5 "HH:MM" local times')
    inbound_push_enabled: bool | None = None
    push_percentage: int | None = Field(None, ge=0, le=100)


class AccountCreate(Schema):
    merchant: Id | None = Field(None, description="Required when you manage several merchants")
    platform: str
    display_name: str = Field(..., min_length=1, max_length=120)
    sales_channel: Id
    credentials: dict[str, str] = {}


class AccountPatch(Schema):
    display_name: str | None = Field(None, min_length=1, max_length=120)
    sales_channel: Id | None = None
    credentials: dict[str, str] | None = Field(
        None, description="Only the fields to change; ******** keeps a value"
    )
    settings: SettingsIn | None = None
    shipping_mappings: list[MappingIO] | None = None


class TestOut(Schema):
    connected: bool
    status: str
    message: str
    shop_name: str = ""


class AuthorizeOut(Schema):
    url: str


class Filters(Schema):
    q: str | None = None
    display_name: list[str] = []
    merchant: list[Id] = []
    platform: list[str] = []
    status: list[str] = []
    sort: str = "-updated_at"
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0, le=MAX_ID)


def serialize(account: ECAccount) -> dict:
    spec = account.spec
    stored = account.credentials
    return {
        "id": account.pk,
        "merchant": {"id": account.merchant_id, "name": account.merchant.name},
        "platform": account.platform,
        "platform_name": account.platform_name,
        "display_name": account.display_name,
        "sales_channel": {"id": account.sales_channel_id, "name": account.sales_channel.name},
        "status": account.status,
        "status_reason": account.status_reason,
        "credentials": {
            f.name: (MASK if f.secret and stored.get(f.name) else stored.get(f.name, ""))
            for f in spec.credential_fields
        },
        "authorized": bool(account.tokens_encrypted),
        "external_shop_id": account.external_shop_id,
        "external_shop_name": account.external_shop_name,
        "authorization_expires_at": account.authorization_expires_at,
        "fetch_orders_enabled": account.fetch_orders_enabled,
        "fetch_times": account.fetch_times,
        "next_fetch_at": account.next_fetch_at,
        "inbound_push_enabled": account.inbound_push_enabled,
        "push_percentage": account.push_percentage,
        "shipping_mappings": [
            {"platform_code": m.platform_code, "shipping_type": m.shipping_type_id}
            for m in account.shipping_mappings.all()
        ],
        "last_tested_at": account.last_tested_at,
        "created_at": account.created_at,
        "updated_at": account.updated_at,
    }


def _account(request, pk) -> ECAccount:
    return get_object_or_404(
        ECAccount.objects.for_user(request.user).select_related("merchant", "sales_channel"), pk=pk
    )


def _channel(request, merchant_id, channel_id) -> SalesChannel:
    channel = SalesChannel.objects.for_user(request.user).filter(pk=channel_id).first()
    if channel is None or channel.merchant_id != merchant_id:
        raise HttpError(400, "sales_channel: no such sales channel for this merchant.")
    return channel


def _mappings(data: list[MappingIO]) -> list[dict]:
    types = {
        t.pk: t for t in ShippingType.objects.filter(enabled=True, pk__in=[m.shipping_type for m in data])
    }
    out = []
    for m in data:
        if m.shipping_type not in types:
            raise HttpError(400, f"shipping_mappings: unknown shipping type {m.shipping_type}.")
        out.append({"platform_code": m.platform_code, "shipping_type": types[m.shipping_type]})
    return out


@platforms_router.get("", response=list[PlatformOut], summary="Every platform's spec")
def list_platforms(request):
    return [
        {
            "code": s.code,
            "name": str(s.name),
            "auth": s.auth.value,
            "implemented": s.implemented,
            "credential_fields": [
                {
                    "name": f.name,
                    "label": str(f.label),
                    "secret": f.secret,
                    "required": f.required,
                    "pattern": f.pattern,
                }
                for f in s.credential_fields
            ],
            "capabilities": sorted(c.value for c in s.capabilities),
            "fixed_shipping_codes": [{"code": c.code, "label": str(c.label)} for c in s.fixed_shipping_codes],
        }
        for s in all_specs().values()
    ]


@router.get("", response=AccountList)
def list_accounts(request, filters: Query[Filters]):
    params = QueryDict(mutable=True)
    if filters.q:
        params["q"] = filters.q
    for key in ("display_name", "merchant", "platform", "status"):
        params.setlist(key, [str(v) for v in getattr(filters, key)])
    qs = filter_accounts(
        ECAccount.objects.for_user(request.user).select_related("merchant", "sales_channel"),
        params,
    )
    key = filters.sort.lstrip("-")
    column = next((c for c in SORT_COLUMNS if c.key == key), None)
    if column is None:
        raise HttpError(
            400, f"sort: one of {', '.join(c.key for c in SORT_COLUMNS)} (prefix - for descending)."
        )
    qs = listing.ordered(qs, column.field, descending=filters.sort.startswith("-")).prefetch_related(
        "shipping_mappings"
    )
    total = qs.count()
    return {
        "count": total,
        "items": [serialize(a) for a in qs[filters.offset : filters.offset + filters.limit]],
    }


@router.post("", response={201: AccountSaved})
def create_account(request, payload: AccountCreate):
    merchants = request.user.merchants()
    if payload.merchant is None:
        if merchants.count() != 1:
            raise HttpError(400, "merchant: required when you manage several merchants.")
        merchant = merchants.first()
    else:
        merchant = merchants.filter(pk=payload.merchant).first()
        if merchant is None:
            raise HttpError(404, "Not found.")
    try:
        spec = connection.spec_or_404(payload.platform)
    except Exception:
        raise HttpError(400, "platform: unknown or not implemented (see GET /api/v1/platforms).") from None
    unknown = set(payload.credentials) - {f.name for f in spec.credential_fields}
    if unknown:
        raise HttpError(400, f"credentials: unknown fields {', '.join(sorted(unknown))}.")
    account = ECAccount(
        merchant=merchant,
        platform=spec.code,
        display_name=payload.display_name,
        sales_channel=_channel(request, merchant.pk, payload.sales_channel),
        created_by=request.user,
    )
    try:
        result = lifecycle.save_account(account, credentials=payload.credentials)
    except lifecycle.LifecycleError as exc:
        raise HttpError(400, str(exc)) from None
    return 201, {**serialize(result.account), "warnings": result.warnings, "notices": result.notices}


@router.get("/{int:account_id}", response=AccountOut)
def get_account(request, account_id: int):
    return serialize(_account(request, account_id))


@router.patch("/{int:account_id}", response=AccountSaved)
def update_account(request, account_id: int, payload: AccountPatch):
    account = _account(request, account_id)
    if payload.display_name is not None:
        account.display_name = payload.display_name
    if payload.sales_channel is not None:
        account.sales_channel = _channel(request, account.merchant_id, payload.sales_channel)
    if payload.credentials:
        unknown = set(payload.credentials) - {f.name for f in account.spec.credential_fields}
        if unknown:
            raise HttpError(400, f"credentials: unknown fields {', '.join(sorted(unknown))}.")
    wants_settings = payload.settings is not None or payload.shipping_mappings is not None
    _, creds_change = lifecycle.merge_credentials(account, payload.credentials or {})
    if wants_settings and (not account.is_connected or creds_change):
        raise HttpError(
            409, "Settings can be changed only while the account is connected (test the connection first)."
        )
    settings_data = payload.settings.dict(exclude_none=True) if payload.settings else None
    try:
        result = lifecycle.save_account(
            account,
            credentials=payload.credentials or {},
            settings_data=settings_data,
            mappings=_mappings(payload.shipping_mappings) if payload.shipping_mappings is not None else None,
        )
    except lifecycle.LifecycleError as exc:
        raise HttpError(400, str(exc)) from None
    return {**serialize(result.account), "warnings": result.warnings, "notices": result.notices}


@router.delete("/{int:account_id}", response={204: None})
def delete_account(request, account_id: int):
    lifecycle.delete_account(_account(request, account_id))
    return 204, None


@router.post("/{int:account_id}/test-connection", response=TestOut)
def test_connection(request, account_id: int):
    account = _account(request, account_id)
    result = connection.test_account(account)
    return {
        "connected": result.ok,
        "status": account.status,
        "message": str(result.message),
        "shop_name": result.info.shop_name if result.info else "",
    }


@router.get("/{int:account_id}/authorize-url", response=AuthorizeOut)
def authorize_url(request, account_id: int):
    account = _account(request, account_id)
    try:
        return {"url": lifecycle.authorize_url(account, request.user)}
    except lifecycle.LifecycleError as exc:
        raise HttpError(400, str(exc)) from None


class FetchQueued(Schema):
    fetch_id: int


class FetchRunOut(Schema):
    id: int
    trigger: str
    status: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    window_start: datetime | None
    window_end: datetime | None
    orders_new: int
    orders_updated: int
    orders_held: int
    message: str


@router.post(
    "/{int:account_id}/fetch-orders",
    response={202: FetchQueued, 409: Detail, 429: Detail},
    summary="Fetch orders manually (queued; 10-minute cooldown per account)",
)
def fetch_orders(request, account_id: int):
    account = _account(request, account_id)
    try:
        run = fetching.request_manual_fetch(account, request.user)
    except fetching.Cooldown as exc:
        response = JsonResponse({"detail": str(exc)}, status=429)
        response["Retry-After"] = str(exc.seconds)
        return response
    except fetching.FetchNotAllowed as exc:
        return 409, {"detail": str(exc)}
    return 202, {"fetch_id": run.pk}


@router.get("/{int:account_id}/fetch-orders/{int:fetch_id}", response=FetchRunOut, summary="One order fetch")
def get_fetch(request, account_id: int, fetch_id: int):
    account = _account(request, account_id)
    return get_object_or_404(FetchRun, pk=fetch_id, ec_account=account)
