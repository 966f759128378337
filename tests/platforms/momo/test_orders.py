"""MomoClient orders and shipments against the in-process momo sandbox."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from ecbridge.apilog.models import ApiCall
from ecbridge.platforms.base import OrderWindow, PlatformOrderState, ShipmentOutcome, ShipmentRequest
from ecbridge.platforms.errors import AuthError, PlatformError, TransientError
from ecbridge.platforms.momo import SPEC
from ecbridge.platforms.momo import client as momo_client
from ecbridge.platforms.momo.client import MomoClient
from ecbridge.platforms.momo.mapping import CANCELLED_QUERY, ORDER_QUERIES, momo_carrier
from tests.platforms.momo.test_client import assert_no_secrets_logged, make_ctx

pytestmark = pytest.mark.django_db

CONSOLE = "/sandbox/momo/_console"
TAIPEI = ZoneInfo("Asia/Taipei")
QUERY_ACTIONS = [q.action for q in ORDER_QUERIES]


@pytest.fixture(autouse=True)
def _fresh_pacing(monkeypatch):
    monkeypatch.setattr(momo_client, "_last_call", {})


@pytest.fixture
def vendor(sandbox_client):
    return sandbox_client.post(f"{CONSOLE}/shops", json={"name": "Acme 供應商"}).json()


@pytest.fixture
def creds(vendor):
    return vendor["credentials"]


@pytest.fixture
def console(sandbox_client, vendor):
    class Console:
        def product(self, **body):
            response = sandbox_client.post(f"{CONSOLE}/products", json={"shop": vendor["id"], **body})
            assert response.status_code == 200, response.text
            return response.json()

        def order(self, lines=(("TEA-1", 1),), **body):
            payload = {"shop": vendor["id"], "lines": [{"sku": s, "quantity": q} for s, q in lines], **body}
            response = sandbox_client.post(f"{CONSOLE}/orders", json=payload)
            assert response.status_code == 200, response.text
            return response.json()

        def cancel(self, order_no, **body):
            response = sandbox_client.post(f"{CONSOLE}/orders/{order_no}/cancel", json=body)
            assert response.status_code == 200, response.text
            return response.json()

        def edit(self, order_no, **body):
            response = sandbox_client.post(f"{CONSOLE}/orders/{order_no}/edit", json=body)
            assert response.status_code == 200, response.text
            return response.json()

        def faults(self, **body):
            sandbox_client.post(f"{CONSOLE}/faults", json=body)

        def state(self):
            return sandbox_client.get(f"{CONSOLE}/state", params={"shop": vendor["id"]}).json()

    return Console()


def client_for(creds, **settings):
    return MomoClient(make_ctx(creds, **settings))


def recent(minutes_before=60, minutes_after=1):
    now = datetime.now(UTC)
    return OrderWindow(now - timedelta(minutes=minutes_before), now + timedelta(minutes=minutes_after))


def fetch(creds, window=None, **settings):
    pages = list(client_for(creds, **settings).iter_orders(window or recent()))
    return pages, {o.platform_order_id: o for page in pages for o in page}


def order_calls(sandbox):
    return [c["operation"] for c in sandbox.store.calls("momo") if c["path"].endswith("/OrderServlet.do")]


def shipment(order, **kw):
    return ShipmentRequest(
        platform_order_id=order.platform_order_id,
        order_number=order.order_number,
        package_key="",
        carrier=kw.pop("carrier", "T-Cat"),
        tracking_number=kw.pop("tracking_number", "900123456789"),
        shipping_code=order.shipping_code,
        shipment_refs=order.shipment_refs,
        lines=order.lines,
        **kw,
    )


# --- import ----------------------------------------------------------------------------------------
def test_every_status_and_flavour_arrives_in_seven_calls(sandbox, console, creds):
    console.product(sku="TEA-1", name="烏龍茶", variants=[{"sku": "TEA-1-S", "name": "小包"}])
    home = console.order(lines=[("TEA-1-S", 2), ("GHOST-9", 1)], buyer={"name": "陳大文", "note": "請下午送"})
    cvs = console.order(shipping_code="28", status="shipped")
    third = console.order(shipping_code="62", status="cancelled")

    pages, orders = fetch(creds)

    assert order_calls(sandbox) == QUERY_ACTIONS  # one call per query, no more
    assert len(pages) == 1 and set(orders) == {home["id"], cvs["id"], third["id"]}

    o = orders[home["id"]]
    assert o.state == PlatformOrderState.TO_SHIP and o.order_number == home["id"]
    assert o.shipping_code == "home" and o.recipient_name == "陳大文" and o.buyer_note == "請下午送"
    assert [(ln.line_id, ln.sku, ln.quantity) for ln in o.lines] == [
        (home["complete_order_nos"][0], "TEA-1-S", 2),
        (home["complete_order_nos"][1], "GHOST-9", 1),  # an unknown SKU still arrives
    ]
    tea = o.lines[0]
    assert tea.name == "烏龍茶 小包" and tea.variant_id == "001" and tea.item_id.isdigit()
    assert o.shipment_refs == {
        "delivery": "company",
        "dely_gb": "",
        "complete_order_nos": home["complete_order_nos"],
    }
    assert o.created_at.tzinfo is not None and o.updated_at >= o.created_at

    s = orders[cvs["id"]]
    assert (
        s.state == PlatformOrderState.SHIPPED and s.shipping_code == "28" and s.shipping_name == "7-11 店到店"
    )
    assert s.tracking_number and s.shipment_refs["delivery"] == "stores"

    c = orders[third["id"]]
    assert c.state == PlatformOrderState.CANCELLED and c.shipping_code == "62"
    assert [ln.line_id for ln in c.lines] == third["complete_order_nos"]
    assert "攔貨" in c.platform_status
    # every shipping code we hand the importer can be mapped by the user
    fixed = {code.code for code in SPEC.fixed_shipping_codes}
    assert {o.shipping_code, s.shipping_code, c.shipping_code} <= fixed


def test_orders_come_in_pages_of_the_configured_size(sandbox, console, creds):
    console.order(count=5)
    pages, orders = fetch(creds, orders_page_size=2)
    assert [len(p) for p in pages] == [2, 2, 1] and len(orders) == 5
    assert len(order_calls(sandbox)) == 7


def test_window_is_limited_to_sixty_days_and_checked_before_calling(sandbox, creds):
    client = client_for(creds)
    assert client.max_order_window == timedelta(days=60)
    now = datetime.now(UTC)
    with pytest.raises(ValueError):
        list(client.iter_orders(OrderWindow(now - timedelta(days=61), now)))
    assert order_calls(sandbox) == []
    pages = list(client.iter_orders(OrderWindow(now - timedelta(days=60), now)))
    assert pages == [] and len(order_calls(sandbox)) == 7


def test_a_too_large_window_is_refused_by_momo_with_its_message(creds):
    client = client_for(creds)
    now = datetime.now(UTC)
    with pytest.raises(PlatformError) as info:
        client._rows(ORDER_QUERIES[0], OrderWindow(now - timedelta(days=75), now))
    assert info.value.code == "basicCheckMsgList" and "2個月" in str(info.value)


def test_the_window_is_on_transfer_time_in_taipei_minutes(console, creds):
    at = datetime(2026, 3, 1, 10, 0, 30, tzinfo=TAIPEI)
    placed = console.order(created_at=at.isoformat())
    before = OrderWindow(at - timedelta(hours=1), at.replace(second=0))
    after = OrderWindow(at + timedelta(minutes=1), at + timedelta(hours=1))
    around = OrderWindow(at.replace(second=0), at + timedelta(seconds=1))
    assert fetch(creds, before)[1] == {}
    assert fetch(creds, after)[1] == {}
    (order,) = fetch(creds, around)[1].values()
    assert order.platform_order_id == placed["id"]
    assert order.created_at == at.astimezone(UTC)


def test_cancellation_is_seen_by_the_next_window(console, creds):
    placed = console.order()
    assert fetch(creds)[1][placed["id"]].state == PlatformOrderState.TO_SHIP
    console.cancel(placed["id"])
    window = recent(minutes_before=1)
    order = fetch(creds, window)[1][placed["id"]]
    assert order.state == PlatformOrderState.CANCELLED
    assert order.updated_at >= window.start - timedelta(minutes=1)


def test_old_order_cancelled_now_is_seen_in_a_recent_window(console, creds):
    placed = console.order(created_at=(datetime.now(UTC) - timedelta(days=20)).timestamp())
    assert fetch(creds)[1] == {}  # transferred long ago: not in the last hour
    console.cancel(placed["id"])
    assert fetch(creds)[1][placed["id"]].state == PlatformOrderState.CANCELLED


def test_partly_cancelled_order_keeps_only_the_lines_to_ship(console, creds):
    placed = console.order(lines=[("A", 1), ("B", 2)])
    console.cancel(placed["id"], items=[placed["complete_order_nos"][0]])
    order = fetch(creds)[1][placed["id"]]
    assert order.state == PlatformOrderState.TO_SHIP
    assert [ln.sku for ln in order.lines] == ["B"]
    assert order.shipment_refs["complete_order_nos"] == [placed["complete_order_nos"][1]]


def test_shipped_order_cancelled_later_is_cancelled(console, creds):
    placed = console.order(status="shipped")
    console.cancel(placed["id"])
    assert fetch(creds)[1][placed["id"]].state == PlatformOrderState.CANCELLED


def test_edit_is_seen_by_the_next_window(console, creds):
    placed = console.order(created_at=(datetime.now(UTC) - timedelta(days=3)).timestamp(), lines=[("A", 1)])
    console.edit(
        placed["id"],
        lines=[{"sku": "A", "quantity": 3}, {"sku": "C", "quantity": 1}],
        buyer={"name": "林小華", "address": "台中市西區"},
    )
    order = fetch(creds)[1][placed["id"]]
    assert [(ln.sku, ln.quantity) for ln in order.lines] == [("A", 3), ("C", 1)]
    assert placed["complete_order_nos"][0] not in {ln.line_id for ln in order.lines}
    assert order.recipient_name == "林小華" and "台中市西區" in order.recipient_address


def test_get_orders_by_number_leaves_unknown_numbers_out(sandbox, console, creds):
    first, second = console.order(), console.order(shipping_code="2B")
    orders = client_for(creds).get_orders([second["id"], "20990101999999", first["id"]])
    assert [o.platform_order_id for o in orders] == [second["id"], first["id"]]
    assert orders[0].shipping_code == "2B"


def test_order_rows_are_encrypted_on_the_wire_and_no_secret_is_logged(console, creds):
    console.order(buyer={"name": "祕密收件人"})
    fetch(creds)
    rows = ApiCall.objects.filter(operation="unsendCompanyQuery")
    assert rows.count() == 1 and "祕密收件人" not in rows[0].response_body
    assert_no_secrets_logged(creds)


# --- failures -----------------------------------------------------------------------------------------
def test_server_errors_are_retried_and_the_window_completes(console, creds, _no_backoff_sleep):
    placed = console.order()
    console.faults(fail_next=2)
    assert placed["id"] in fetch(creds)[1]
    assert len(_no_backoff_sleep) == 2


def test_throttling_honours_retry_after(console, creds, _no_backoff_sleep):
    placed = console.order()
    console.faults(throttle_next=1)
    assert placed["id"] in fetch(creds)[1]
    assert _no_backoff_sleep == [3.0]


@pytest.mark.parametrize(("fault", "code"), [("timeout_next", "timeout"), ("malformed_next", "malformed")])
def test_a_failing_call_raises_and_yields_nothing(console, creds, settings, fault, code):
    console.order()
    client = client_for(creds)
    pages = client.iter_orders(recent())
    console.faults(**{fault: settings.HTTP_MAX_ATTEMPTS})
    with pytest.raises(TransientError) as info:
        next(pages)
    assert info.value.code == code


def test_a_failure_in_a_later_query_never_ends_the_window_early(
    sandbox, console, creds, settings, monkeypatch
):
    console.order()
    calls = []
    real = MomoClient._rows

    def flaky(self, query, window, **kw):
        calls.append(query.action)
        if query.action == CANCELLED_QUERY:
            raise TransientError("boom", code="http_500")
        return real(self, query, window, **kw)

    monkeypatch.setattr(MomoClient, "_rows", flaky)
    with pytest.raises(TransientError):
        fetch(creds)
    assert calls[-1] == CANCELLED_QUERY


def test_changed_password_is_an_auth_error(sandbox_client, console, creds):
    sandbox_client.post(f"{CONSOLE}/shops/{creds['entp_code']}/password", json={})
    with pytest.raises(AuthError) as info:
        fetch(creds)
    assert info.value.code == "login_failed"


def test_ip_refusal_is_an_auth_error_on_order_calls(sandbox_client, creds):
    sandbox_client.post(
        f"{CONSOLE}/shops/{creds['entp_code']}/allowlist", json={"allowed_ips": ["203.0.113.5"]}
    )
    with pytest.raises(AuthError) as info:
        fetch(creds)
    assert info.value.code == "ip_not_allowed"


def test_order_calls_are_paced(monkeypatch, console, creds):
    now = [500.0]
    waits = []
    monkeypatch.setattr(momo_client, "clock", lambda: now[0])
    monkeypatch.setattr(momo_client, "sleep", waits.append)
    fetch(creds, min_interval_seconds=1.0)
    assert waits == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]  # seven calls, one per second


# --- shipping -------------------------------------------------------------------------------------
def test_home_delivery_confirmation_reaches_momo(sandbox, console, creds):
    placed = console.order(lines=[("A", 1), ("B", 1)])
    order = fetch(creds)[1][placed["id"]]

    result = client_for(creds).report_shipment(shipment(order, carrier="T-Cat", tracking_number="TC-1"))

    assert result.outcome == ShipmentOutcome.DONE and not result.already_shipped
    assert result.tracking_number == "TC-1" and result.carrier == "統一速達"
    (record,) = console.state()["shipments"]
    assert record["complete_order_nos"] == placed["complete_order_nos"]
    assert (record["do_action"], record["dely_gb_str"], record["slip_no"]) == (
        "unsendCompanyConfirm",
        "統一速達",
        "TC-1",
    )
    assert record["scm_dely_date"] == datetime.now(TAIPEI).strftime("%Y/%m/%d")
    after = fetch(creds)[1][placed["id"]]
    assert after.state == PlatformOrderState.SHIPPED and after.tracking_number == "TC-1"


def test_already_confirmed_counts_as_done(console, creds):
    placed = console.order()
    order = fetch(creds)[1][placed["id"]]
    client = client_for(creds)
    client.report_shipment(shipment(order))
    again = client.report_shipment(shipment(order))
    assert again.outcome == ShipmentOutcome.DONE and again.already_shipped
    assert len(console.state()["shipments"]) == 1


def test_refusals_raise_with_momos_reasons_per_item(console, creds):
    placed = console.order(lines=[("A", 1), ("B", 1)])
    order = fetch(creds)[1][placed["id"]]
    console.cancel(placed["id"], items=[placed["complete_order_nos"][1]])
    with pytest.raises(PlatformError) as info:
        client_for(creds).report_shipment(shipment(order))
    message = str(info.value)
    assert (
        info.value.code == "confirm_failed"
        and placed["complete_order_nos"][1] in message
        and "取消" in message
    )
    # the item that could ship did: a retry after a fresh fetch only sends what is left
    shipped = console.state()["shipments"]
    assert shipped[0]["complete_order_nos"] == [placed["complete_order_nos"][0]]


def test_home_delivery_without_tracking_number_is_refused_before_calling(sandbox, console, creds):
    placed = console.order()
    order = fetch(creds)[1][placed["id"]]
    before = len(order_calls(sandbox))
    with pytest.raises(PlatformError) as info:
        client_for(creds).report_shipment(shipment(order, tracking_number=" "))
    assert info.value.code == "tracking_required" and len(order_calls(sandbox)) == before


@pytest.mark.parametrize(
    ("ours", "momo"),
    [
        ("T-Cat", "統一速達"),
        ("HCT", "新竹貨運"),
        ("Pelican", "宅配通"),
        ("Kerry TJ", "大榮貨運"),
        ("Chunghwa Post", "郵局"),
        ("郵局", "郵局"),
        ("DHL", "其他"),
        ("", "其他"),
    ],
)
def test_carrier_names_map_to_momos(ours, momo):
    assert momo_carrier(ours) == momo


@pytest.mark.parametrize("code", ["28", "62"])
def test_cvs_and_third_party_get_the_platforms_shipment_number(console, creds, code):
    placed = console.order(shipping_code=code)
    order = fetch(creds)[1][placed["id"]]
    client = client_for(creds)

    result = client.report_shipment(shipment(order, carrier="", tracking_number=""))

    assert result.outcome == ShipmentOutcome.DONE and result.tracking_number
    (record,) = console.state()["shipments"]
    assert record["slip_no"] == result.tracking_number
    assert record["do_action"] == ("unsendStoresFinish" if code == "28" else "unsendThirdFinish")
    tracked = client.fetch_tracking(shipment(order, carrier="", tracking_number=""))
    assert tracked.outcome == ShipmentOutcome.DONE and tracked.tracking_number == result.tracking_number
    again = client.report_shipment(shipment(order, carrier="", tracking_number=""))
    assert again.already_shipped and again.tracking_number == result.tracking_number


def test_fetch_tracking_waits_while_not_shipped(console, creds):
    placed = console.order(shipping_code="29")
    order = fetch(creds)[1][placed["id"]]
    assert client_for(creds).fetch_tracking(shipment(order)).outcome == ShipmentOutcome.AWAITING_TRACKING


def test_shipment_server_error_is_retried(console, creds, _no_backoff_sleep):
    placed = console.order()
    order = fetch(creds)[1][placed["id"]]
    console.faults(fail_next=1)
    assert client_for(creds).report_shipment(shipment(order)).outcome == ShipmentOutcome.DONE
    assert len(console.state()["shipments"]) == 1


# --- push -------------------------------------------------------------------------------------------
def test_momo_has_no_push():
    assert MomoClient.verify_webhook_request({}, b"{}", "") is False
    with pytest.raises(ValueError):
        MomoClient.parse_webhook({}, b"{}")
