"""GET /api/v1/api-logs: the Platform API Logs, read-only, scoped like the page."""

from datetime import date, datetime
from typing import Literal

from django.db.models import F
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate
from pydantic import model_validator

from ecbridge.api.types import Id, Pages
from ecbridge.apilog.services import filter_calls, visible_calls

router = Router(tags=["API logs"])

Outcome = Literal["success", "failure"]
Direction = Literal["outbound", "inbound"]
SORTS = {
    "time": "created_at",
    "-time": "-created_at",
    "duration": "duration_ms",
    "-duration": "-duration_ms",
}


class ApiCallOut(Schema):
    id: int
    created_at: datetime
    merchant_id: int | None
    merchant: str | None = Field(None, description="The merchant's name.")
    ec_account_id: int | None = Field(None, description="Null once the EC account has been deleted.")
    ec_account: str = Field("", description="The EC account's name (kept after the account is deleted).")
    platform: str
    direction: Direction
    operation: str
    method: str
    endpoint: str = Field(description="The URL called, secrets masked.")
    status_code: int | None = Field(
        None, description="Null when no response arrived (timeout, connection error)."
    )
    duration_ms: int
    outcome: Outcome
    error: str = Field(description="The failure reason; empty on success.")
    attempt: int

    @staticmethod
    def resolve_merchant(obj) -> str | None:
        return getattr(obj, "merchant_name", None)

    @staticmethod
    def resolve_ec_account(obj) -> str:
        return getattr(obj, "current_account_name", None) or obj.account_label


class ApiCallDetailOut(ApiCallOut):
    request_headers: str = Field(description="One `Name: value` per line, secrets masked.")
    request_body: str = Field(description="Secrets masked; size-capped.")
    response_body: str = Field(description="Secrets masked; size-capped.")


class ApiCallFilters(Schema):
    ec_account: list[Id] = Field(default_factory=list, description="EC account ids (repeatable).")
    outcome: list[Outcome] = Field(default_factory=list)
    direction: list[Direction] = Field(default_factory=list)
    platform: list[str] = Field(default_factory=list, description="Platform codes (repeatable).")
    merchant: list[Id] = Field(default_factory=list, description="Merchant ids (repeatable).")
    date_from: date | None = Field(None, description="First day, inclusive, in the warehouse time zone.")
    date_to: date | None = Field(None, description="Last day, inclusive, in the warehouse time zone.")
    q: str = Field(
        "", max_length=200, description="Search operation, endpoint, EC account and failure reason."
    )
    sort: Literal["time", "-time", "duration", "-duration"] = "-time"

    @model_validator(mode="after")
    def _dates_in_order(self):
        if self.date_from and self.date_to and self.date_to < self.date_from:
            raise ValueError("date_to must be on or after date_from")
        return self


def _annotated(qs):
    return qs.annotate(current_account_name=F("ec_account__display_name"), merchant_name=F("merchant__name"))


@router.get("", response=list[ApiCallOut], summary="List platform API calls")
@paginate(Pages, page_size=50, max_page_size=200)
def list_calls(request, filters: Query[ApiCallFilters]):
    """Newest first by default. Narrowed to the merchant picked in the header switcher (browser
    session) and always to the merchants the caller may see."""
    qs = visible_calls(request.user, getattr(request, "current_merchant", None))
    qs = filter_calls(
        qs,
        date_from=filters.date_from,
        date_to=filters.date_to,
        ec_accounts=filters.ec_account,
        outcomes=filters.outcome,
        directions=filters.direction,
        platforms=filters.platform,
        merchants=filters.merchant,
        search=filters.q,
    )
    order = SORTS[filters.sort]
    qs = _annotated(qs).defer("request_headers", "request_body", "response_body")
    return qs.order_by(order, "-pk" if order.startswith("-") else "pk")


@router.get("/{int:call_id}", response=ApiCallDetailOut, summary="One platform API call with its bodies")
def get_call(request, call_id: int):
    """Another merchant's call answers 404, exactly like a call that does not exist."""
    return get_object_or_404(_annotated(visible_calls(request.user)), pk=call_id)
