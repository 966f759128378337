"""The Platform API Logs page: scoping per role, filters, sorting, paging and the expand fragment."""

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.urls import reverse

from ecbridge.apilog.models import ApiCall
from ecbridge.apilog.services import record_call
from ecbridge.tenancy.middleware import SESSION_KEY

pytestmark = pytest.mark.django_db

URL = "/api-logs/"
TAIPEI = ZoneInfo("Asia/Taipei")


def shown(response) -> list[int]:
    assert response.status_code == 200
    return [int(pk) for pk in re.findall(r'<tr id="call-(\d+)" data-call=', response.content.decode())]


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def calls(account, other_account, make_call):
    """One success and one failure per merchant, plus an app-level row with no merchant."""
    return {
        "mine_ok": make_call(account),
        "mine_fail": make_call(
            account,
            outcome="failure",
            status_code=403,
            error="error_auth: Invalid access_token",
            duration_ms=900,
        ),
        "theirs": make_call(
            other_account, operation="products.list", endpoint="https://beta.myshopify.com/x"
        ),
        "app": make_call(None, platform="shopee", operation="app.ping"),
    }


# --- scoping ---------------------------------------------------------------------------------------
def test_login_required(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_merchant_user_sees_only_own_rows_without_merchant_column(merchant_client, calls):
    response = merchant_client.get(URL)
    assert sorted(shown(response)) == sorted([calls["mine_ok"].pk, calls["mine_fail"].pk])
    html = response.content.decode()
    assert "Beta Shopify" not in html
    assert ">Merchant</th>" not in html


def test_other_merchant_user_sees_only_theirs(other_merchant_client, calls):
    assert shown(other_merchant_client.get(URL)) == [calls["theirs"].pk]


def test_operator_of_both_merchants_sees_both_with_merchant_column(operator_client, calls):
    response = operator_client.get(URL)
    assert sorted(shown(response)) == sorted([calls["mine_ok"].pk, calls["mine_fail"].pk, calls["theirs"].pk])
    html = response.content.decode()
    assert ">Merchant</th>" in html
    assert "Acme Foods" in html and "Beta Goods" in html


def test_operator_assigned_one_merchant(single_operator, calls):
    ids = shown(login(single_operator).get(URL))
    assert calls["theirs"].pk not in ids
    assert calls["mine_ok"].pk in ids


def test_warehouse_admin_also_sees_app_level_rows(admin_user, calls):
    ids = shown(login(admin_user).get(URL))
    assert set(ids) == {c.pk for c in calls.values()}


def test_header_switcher_narrows_the_list(operator, operator_client, merchant, calls):
    response = operator_client.post(
        reverse("tenancy:switch_merchant"), {"merchant": merchant.pk, "next": URL}
    )
    assert response.status_code == 302
    ids = shown(operator_client.get(URL))
    assert sorted(ids) == sorted([calls["mine_ok"].pk, calls["mine_fail"].pk])


def test_admin_narrowed_to_a_merchant_loses_app_level_rows(admin_user, merchant, calls):
    client = login(admin_user)
    session = client.session
    session[SESSION_KEY] = merchant.pk
    session.save()
    assert sorted(shown(client.get(URL))) == sorted([calls["mine_ok"].pk, calls["mine_fail"].pk])


# --- columns ----------------------------------------------------------------------------------------
def test_row_shows_every_column(merchant_client, calls):
    html = merchant_client.get(URL).content.decode()
    row = re.search(rf'<tr id="call-{calls["mine_fail"].pk}".*?</tr>', html, re.S).group(0)
    for expected in (
        "Acme Shopee TW",
        "Shopee",
        "orders.list",
        "Outbound call",
        "GET",
        "get_order_list",
        "403",
        "900 ms",
        "Failure",
        "error_auth: Invalid access_token",
    ):
        assert expected in row, expected
    local = calls["mine_fail"].created_at.astimezone(TAIPEI).strftime("%Y-%m-%d %H:%M:%S")
    assert local in row


def test_timeout_row_shows_no_status(merchant_client, account, make_call):
    call = make_call(account, outcome="failure", status_code=None, error="timeout: Timed out after 20s")
    html = merchant_client.get(URL).content.decode()
    row = re.search(rf'<tr id="call-{call.pk}".*?</tr>', html, re.S).group(0)
    assert "No response was received." in row


def test_deleted_account_keeps_its_label(merchant_client, account, make_call):
    call = make_call(account)
    account.delete()
    html = merchant_client.get(URL).content.decode()
    row = re.search(rf'<tr id="call-{call.pk}".*?</tr>', html, re.S).group(0)
    assert "Acme Shopee TW" in row and "deleted" in row


def test_renamed_account_shows_current_name(merchant_client, account, make_call):
    call = make_call(account)
    account.display_name = "Acme Shopee (renamed)"
    account.save()
    html = merchant_client.get(URL).content.decode()
    row = re.search(rf'<tr id="call-{call.pk}".*?</tr>', html, re.S).group(0)
    assert "Acme Shopee (renamed)" in row


# --- filters ---------------------------------------------------------------------------------------
def test_filter_outcome_direction_platform(operator_client, account, other_account, make_call):
    ok = make_call(account)
    fail = make_call(account, outcome="failure", error="boom")
    inbound = make_call(other_account, direction="inbound", method="POST", operation="webhook.orders_create")
    assert shown(operator_client.get(URL, {"outcome": "failure"})) == [fail.pk]
    assert shown(operator_client.get(URL, {"direction": "inbound"})) == [inbound.pk]
    assert sorted(shown(operator_client.get(URL, {"platform": "shopee"}))) == sorted([ok.pk, fail.pk])
    assert shown(operator_client.get(URL, {"platform": "shopee", "outcome": "success"})) == [ok.pk]
    both = shown(operator_client.get(URL + "?outcome=success&outcome=failure&platform=shopee"))
    assert sorted(both) == sorted([ok.pk, fail.pk])


def test_ec_account_link_from_account_page(operator_client, account, momo_account, make_call):
    mine = make_call(account)
    make_call(momo_account)
    response = operator_client.get(f"{URL}?ec_account={account.pk}")
    assert shown(response) == [mine.pk]
    checkbox = re.search(
        rf'<input[^>]*name="ec_account"[^>]*value="{account.pk}"[^>]*>', response.content.decode()
    )
    assert checkbox and "checked" in checkbox.group(0)


def test_ec_account_choices_are_the_visible_accounts(merchant_client, account, other_account):
    html = merchant_client.get(URL).content.decode()
    assert re.search(rf'name="ec_account" value="{account.pk}"', html)
    assert not re.search(rf'name="ec_account" value="{other_account.pk}"', html)
    assert "Beta Shopify" not in html


def test_foreign_ec_account_in_the_link_is_an_error_not_a_leak(
    merchant_client, account, other_account, make_call
):
    make_call(account)
    make_call(other_account)
    response = merchant_client.get(URL, {"ec_account": other_account.pk})
    assert shown(response) == []
    html = response.content.decode()
    assert 'id="filter-errors"' in html
    assert "Beta Shopify" not in html


def test_date_range_uses_taipei_days(merchant_client, account, make_call):
    at = lambda *a: datetime(*a, tzinfo=TAIPEI)  # noqa: E731
    before = make_call(account, at=at(2025, 3, 9, 23, 59, 59))
    first = make_call(account, at=at(2025, 3, 10, 0, 0, 0))
    last = make_call(account, at=at(2025, 3, 11, 23, 59, 59, 999999))
    after = make_call(account, at=at(2025, 3, 12, 0, 0, 0))
    # 2025-03-10 00:00 Taipei is still 2025-03-09 in UTC: a UTC day filter would get this wrong.
    assert first.created_at.astimezone(UTC).day == 9
    ids = shown(merchant_client.get(URL, {"date_from": "2025-03-10", "date_to": "2025-03-11"}))
    assert sorted(ids) == sorted([first.pk, last.pk])
    assert shown(merchant_client.get(URL, {"date_from": "2025-03-12"})) == [after.pk]
    assert shown(merchant_client.get(URL, {"date_to": "2025-03-09"})) == [before.pk]
    assert shown(merchant_client.get(URL, {"date_from": "2025-03-10", "date_to": "2025-03-10"})) == [first.pk]


def test_reversed_or_bad_dates_are_a_clear_error(merchant_client, account, make_call):
    make_call(account)
    response = merchant_client.get(URL, {"date_from": "2025-03-11", "date_to": "2025-03-10"})
    assert shown(response) == []
    assert "The end date must be on or after the start date." in response.content.decode()
    response = merchant_client.get(URL, {"date_from": "not-a-date"})
    assert shown(response) == []
    assert 'id="filter-errors"' in response.content.decode()


def test_search(merchant_client, account, make_call):
    hit = make_call(account, error="PlatformError: item 998877 is locked", outcome="failure")
    make_call(account)
    assert shown(merchant_client.get(URL, {"q": "998877"})) == [hit.pk]


def test_operator_merchant_filter(operator_client, merchant, account, other_account, make_call):
    mine = make_call(account)
    make_call(other_account)
    assert shown(operator_client.get(URL, {"merchant": merchant.pk})) == [mine.pk]


# --- sorting and paging ----------------------------------------------------------------------------
def test_sort_by_time_and_duration(merchant_client, account, make_call):
    now = datetime.now(UTC)
    slow_old = make_call(account, duration_ms=5000, at=now - timedelta(hours=2))
    fast_new = make_call(account, duration_ms=10, at=now - timedelta(hours=1))
    mid = make_call(account, duration_ms=300, at=now - timedelta(hours=3))
    assert shown(merchant_client.get(URL)) == [fast_new.pk, slow_old.pk, mid.pk]  # newest first
    assert shown(merchant_client.get(URL, {"sort": "time"})) == [mid.pk, slow_old.pk, fast_new.pk]
    assert shown(merchant_client.get(URL, {"sort": "duration"})) == [fast_new.pk, mid.pk, slow_old.pk]
    assert shown(merchant_client.get(URL, {"sort": "-duration"})) == [slow_old.pk, mid.pk, fast_new.pk]
    assert shown(merchant_client.get(URL, {"sort": "bogus"})) == [fast_new.pk, slow_old.pk, mid.pk]


def test_pagination_keeps_filters(merchant_client, account, make_call):
    for _ in range(55):
        make_call(account, outcome="failure", error="x")
    make_call(account)
    first = merchant_client.get(URL, {"outcome": "failure"})
    assert len(shown(first)) == 50
    html = first.content.decode()
    assert "55 calls" in html
    assert "page=2" in html and "outcome=failure" in html
    second = merchant_client.get(URL, {"outcome": "failure", "page": 2})
    assert len(shown(second)) == 5
    assert not set(shown(first)) & set(shown(second))


# --- expand fragment -------------------------------------------------------------------------------
def test_expand_fragment_shows_escaped_pretty_bodies(merchant_client, account):
    call = record_call(
        ctx=account.context(),
        direction="outbound",
        operation="orders.detail",
        method="GET",
        url="https://partner.shopeemobile.com/api/v2/order/get_order_detail?access_token=shopee-access-TOKEN-0001",
        status_code=500,
        duration_ms=42,
        error="HTTP 500",
        request_headers={"Authorization": "Bearer shopee-access-TOKEN-0001", "Accept": "application/json"},
        request_body=b'{"order_sn_list": ["240501ABC"], "partner_key": "sandbox-shopee-key"}',
        response_body=b'{"error": "<script>alert(1)</script>", "message": "down"}',
    )
    detail_url = reverse("apilog:detail", args=[call.pk])
    html = merchant_client.get(URL).content.decode()
    assert f'hx-get="{detail_url}"' in html
    assert "shopee-access-TOKEN-0001" not in html

    response = merchant_client.get(detail_url, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    fragment = response.content.decode()
    assert "<html" not in fragment
    assert 'data-part="request-headers"' in fragment and "Accept: application/json" in fragment
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in fragment
    assert "<script>alert(1)</script>" not in fragment
    assert "{\n  &quot;order_sn_list&quot;: [\n    &quot;240501ABC&quot;\n  ]" in fragment  # indented JSON
    for secret in ("shopee-access-TOKEN-0001", "sandbox-shopee-key"):
        assert secret not in fragment
    assert "HTTP 500" in fragment


def test_detail_without_htmx_is_a_full_page(merchant_client, account, make_call):
    call = make_call(account, request_body="plain text body")
    response = merchant_client.get(reverse("apilog:detail", args=[call.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" in html and "plain text body" in html and "Platform API Logs" in html


@pytest.mark.parametrize("who", ["other_merchant_user", "single_operator"])
def test_expand_another_merchants_row_is_404(request, who, other_account, account, make_call):
    user = request.getfixturevalue(who)
    theirs = make_call(other_account if who == "single_operator" else account)
    client = login(user)
    assert client.get(reverse("apilog:detail", args=[theirs.pk]), HTTP_HX_REQUEST="true").status_code == 404
    assert client.get(reverse("apilog:detail", args=[theirs.pk])).status_code == 404


def test_expand_missing_row_and_app_level_row_are_404_for_non_admins(operator_client, calls):
    assert operator_client.get(reverse("apilog:detail", args=[99999])).status_code == 404
    assert operator_client.get(reverse("apilog:detail", args=[calls["app"].pk])).status_code == 404


def test_operator_can_expand_rows_of_an_assigned_merchant(operator_client, calls):
    response = operator_client.get(
        reverse("apilog:detail", args=[calls["theirs"].pk]), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert "Beta Goods" in response.content.decode()


def test_list_is_read_only(merchant_client, calls):
    assert merchant_client.post(URL).status_code == 405
    assert ApiCall.objects.count() == 4
