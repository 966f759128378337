"""Platform API Logs: a read-only audit list of every platform call and notification."""

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db.models import F
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from ecbridge.apilog.forms import ApiLogFilterForm
from ecbridge.apilog.services import filter_calls, pretty_body, visible_calls
from ecbridge.core.listing import SortableColumn, paginate, sort
from ecbridge.platforms.registry import platform_choices

PER_PAGE = 50
SORT_COLUMNS = [SortableColumn("time", "created_at"), SortableColumn("duration", "duration_ms")]
DEFAULT_SORT = "-time"


def _platform_names() -> dict[str, str]:
    return dict(platform_choices(implemented_only=False))


def _list_queryset(user, merchant):
    """Rows for the table: bodies stay in the database until a row is expanded."""
    return (
        visible_calls(user, merchant)
        .annotate(current_account_name=F("ec_account__display_name"), merchant_name=F("merchant__name"))
        .defer("request_headers", "request_body", "response_body")
    )


@login_required
@require_GET
def index(request):
    merchant = request.current_merchant
    form = ApiLogFilterForm(request.GET, user=request.user, merchant=merchant)
    qs = _list_queryset(request.user, merchant)
    qs = filter_calls(qs, **form.filters()) if form.is_valid() else qs.none()
    qs, active_sort = sort(qs, request, SORT_COLUMNS, DEFAULT_SORT)
    page = paginate(qs, request, per_page=PER_PAGE)
    names = _platform_names()
    for call in page.object_list:
        call.platform_name = names.get(call.platform, call.platform)
        # the table shows the path; the host and query are in the title and the expanded row
        call.endpoint_path = urlsplit(call.endpoint).path or call.endpoint
    return render(
        request,
        "apilog/list.html",
        {
            "form": form,
            "page": page,
            "calls": page.object_list,
            "sort": active_sort,
            "show_merchant": request.user.is_multi_merchant,
            "time_zone": settings.TIME_ZONE,
        },
    )


@login_required
@require_GET
def detail(request, pk):
    """One row's request and response. An htmx request gets the fragment the list expands into;
    a plain request (a shared link) gets a page. Rows of merchants the user may not see are 404."""
    call = get_object_or_404(
        visible_calls(request.user).annotate(
            current_account_name=F("ec_account__display_name"), merchant_name=F("merchant__name")
        ),
        pk=pk,
    )
    call.platform_name = _platform_names().get(call.platform, call.platform)
    context = {
        "call": call,
        "request_headers": call.request_headers,
        "request_body": pretty_body(call.request_body),
        "response_body": pretty_body(call.response_body),
        "show_merchant": request.user.is_multi_merchant,
        "time_zone": settings.TIME_ZONE,
    }
    template = "apilog/_detail.html" if request.htmx else "apilog/detail.html"
    return render(request, template, context)
