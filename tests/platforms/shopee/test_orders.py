"""ShopeeClient orders, shipping and push against the in-process sandbox."""

import hashlib
import json
import time
from datetime import UTC, datetime, timedelta

import pytest
from flask import g

from ecbridge.platforms.base import (
    OrderWindow,
    PlatformOrderState,
    ShipmentOutcome,
    ShipmentRequest,
    WebhookKind,
)
from ecbridge.platforms.errors import PlatformError, TokenExpired, TransientError
from ecbridge.platforms.shopee import signing
from ecbridge.platforms.shopee.client import ShopeeClient
from tests.platforms.shopee.helpers import API, PARTNER_ID, REDIRECT_URI, connect, path_and_query, read_form

pytestmark = pytest.mark.django_db

PUSH_URL = "https://wms.example.com/shopee/push"
BRIEF_KEY = "test_partner_key"
BRIEF_BODY = (
    b'{"data":{"items":[],"ordersn":"220810QSK8S7BX","status":"PROCESSED","completed_scenario":"",'
    b'"update_time":1660123127},"shop_id":727720655,"code":3,"timestamp":1660123127}'
)
BRIEF_SIGNATURE = "0ab08ec854a3eab14a1b38eb55a6840825b36330a473f4e74ef2bfc9430f2251"


@pytest.fixture
def shopee(sandbox):
    return sandbox.sandbox("shopee")


@pytest.fixture
def shop(sandbox_client):
    client, created = connect(sandbox_client)
    return client, created


def create_order(sandbox_client, shop_id, **body):
    body.setdefault("lines", [{"sku": "SKU-1", "quantity": 1}])
    response = sandbox_client.post(f"{API}/_console/orders", json={"shop": shop_id, **body})
    assert response.status_code == 200, response.text
    return response.json()


def console(sandbox_client, path, **body):
    response = sandbox_client.post(f"{API}/_console/{path}", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def state(sandbox_client, shop_id):
    return sandbox_client.get(f"{API}/_console/state", params={"shop": shop_id}).json()


def recent(hours=1):
    now = datetime.now(tz=UTC)
    return OrderWindow(now - timedelta(hours=hours), now + timedelta(seconds=5))


def calls(shopee, operation):
    return shopee.store.count_calls("shopee", operation)


def all_orders(client, window):
    return [o for page in client.iter_orders(window) for o in page]


# --- listing ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("count", "pages", "detail_calls"),
    [(0, [], 0), (1, [1], 1), (50, [50], 1), (100, [100], 2), (101, [100, 1], 3), (250, [100, 100, 50], 5)],
)
def test_pages_use_the_minimum_number_of_calls(sandbox_client, shopee, shop, count, pages, detail_calls):
    client, created = shop
    if count:
        result = create_order(sandbox_client, created["id"], count=count)
        assert result["count"] == count
    got = [len(page) for page in client.iter_orders(recent())]
    assert got == pages
    assert calls(shopee, "order.get_order_list") == max(1, -(-count // 100))
    assert calls(shopee, "order.get_order_detail") == detail_calls


def test_every_order_exactly_once_with_details(sandbox_client, shop):
    client, created = shop
    made = create_order(sandbox_client, created["id"], count=230)
    orders = all_orders(client, recent())
    assert sorted(o.platform_order_id for o in orders) == sorted(made["order_sns"])
    order = orders[0]
    assert order.state == PlatformOrderState.TO_SHIP
    assert order.platform_status == "READY_TO_SHIP"
    assert order.shipping_code == "30005" and order.shipping_name == "7-ELEVEN"
    assert order.recipient_name and order.recipient_phone and order.recipient_address
    assert order.lines[0].sku == "SKU-1" and order.lines[0].quantity == 1
    assert order.shipment_refs["package_numbers"] and order.shipment_refs["logistics_channel_id"] == "30005"
    assert order.created_at.tzinfo is not None


STATUS_STATES = {
    "UNPAID": PlatformOrderState.UNPAID,
    "PENDING": PlatformOrderState.TO_SHIP,
    "READY_TO_SHIP": PlatformOrderState.TO_SHIP,
    "PROCESSED": PlatformOrderState.TO_SHIP,
    "RETRY_SHIP": PlatformOrderState.TO_SHIP,
    "INVOICE_PENDING": PlatformOrderState.TO_SHIP,
    "SHIPPED": PlatformOrderState.SHIPPED,
    "TO_CONFIRM_RECEIVE": PlatformOrderState.SHIPPED,
    "COMPLETED": PlatformOrderState.COMPLETED,
    "IN_CANCEL": PlatformOrderState.CANCELLED,
    "CANCELLED": PlatformOrderState.CANCELLED,
    "TO_RETURN": PlatformOrderState.RETURNED,
}


def test_every_status_reaches_us(sandbox_client, shop):
    client, created = shop
    made = {
        status: create_order(sandbox_client, created["id"], status=status)["order_sn"]
        for status in STATUS_STATES
    }
    orders = {o.platform_order_id: o for o in all_orders(client, recent())}
    for status, order_sn in made.items():
        assert orders[order_sn].platform_status == status  # PENDING too: we ask for it
        assert orders[order_sn].state == STATUS_STATES[status]


def test_window_is_half_open_on_update_time(sandbox_client, shop):
    client, created = shop
    start = int(time.time()) - 3600
    inside = create_order(sandbox_client, created["id"], created_at=start - 86400, updated_at=start)[
        "order_sn"
    ]
    at_end = create_order(sandbox_client, created["id"], updated_at=start + 600)["order_sn"]
    before = create_order(sandbox_client, created["id"], updated_at=start - 1)["order_sn"]
    window = OrderWindow(datetime.fromtimestamp(start, UTC), datetime.fromtimestamp(start + 600, UTC))
    got = {o.platform_order_id for o in all_orders(client, window)}
    assert inside in got and at_end not in got and before not in got
    # created long before, updated inside: it is the update time that counts
    empty = OrderWindow(datetime.fromtimestamp(start + 0.2, UTC), datetime.fromtimestamp(start + 0.7, UTC))
    assert all_orders(client, empty) == []


def test_a_window_longer_than_15_days_is_sliced(sandbox_client, shopee, shop):
    client, created = shop
    now = int(time.time())
    old = create_order(sandbox_client, created["id"], created_at=now - 19 * 86400)["order_sn"]
    new = create_order(sandbox_client, created["id"], created_at=now - 2 * 86400)["order_sn"]
    window = OrderWindow(datetime.fromtimestamp(now - 20 * 86400, UTC), datetime.fromtimestamp(now, UTC))
    assert {o.platform_order_id for o in all_orders(client, window)} == {old, new}
    assert calls(shopee, "order.get_order_list") == 2
    assert ShopeeClient.max_order_window == timedelta(days=15)


def test_cancellation_and_edit_are_visible(sandbox_client, shop):
    client, created = shop
    a = create_order(sandbox_client, created["id"], lines=[{"sku": "A", "quantity": 1}])
    b = create_order(sandbox_client, created["id"], lines=[{"sku": "A", "quantity": 1}])
    console(sandbox_client, f"orders/{a['order_sn']}/cancel", reason="Out of stock", by="seller")
    console(
        sandbox_client,
        f"orders/{b['order_sn']}/edit",
        lines=[{"sku": "A", "quantity": 3}, {"sku": "B", "quantity": 1}],
        buyer={"name": "李大華", "address": "台中市西屯區1號"},
        buyer_note="please hurry",
    )
    orders = {o.platform_order_id: o for o in client.get_orders([a["order_sn"], b["order_sn"]])}
    assert orders[a["order_sn"]].state == PlatformOrderState.CANCELLED
    edited = orders[b["order_sn"]]
    assert [(line.sku, line.quantity) for line in edited.lines] == [("A", 3), ("B", 1)]
    assert edited.recipient_name == "李大華" and edited.recipient_address == "台中市西屯區1號"
    assert edited.buyer_note == "please hurry"
    assert edited.updated_at.timestamp() >= b["update_time"]


def test_lines_products_variants_and_unknown_skus(sandbox_client, shop):
    client, created = shop
    console(
        sandbox_client,
        "products",
        shop=created["id"],
        sku="TEE",
        name="T-shirt",
        variants=[
            {"sku": "TEE-S", "name": "S"},
            {"sku": "TEE-M", "name": "M"},
        ],
    )
    plain = console(sandbox_client, "products", shop=created["id"], sku="MUG", name="Mug")
    order = create_order(
        sandbox_client,
        created["id"],
        lines=[
            {"sku": "TEE-S", "quantity": 1},
            {"sku": "TEE-M", "quantity": 2},
            {"sku": "MUG", "quantity": 1},
            {"sku": "NOPE-404", "quantity": 5},
        ],
    )
    [got] = client.get_orders([order["order_sn"]])
    lines = {line.sku: line for line in got.lines}
    assert set(lines) == {"TEE-S", "TEE-M", "MUG", "NOPE-404"}
    assert len({line.line_id for line in got.lines}) == 4  # two models of one item share order_item_id
    assert lines["TEE-S"].variant_id and lines["TEE-S"].item_id == lines["TEE-M"].item_id
    assert lines["TEE-S"].name == "T-shirt (S)"
    assert lines["MUG"].variant_id == "" and lines["MUG"].item_id == str(plain["item_id"])
    assert lines["NOPE-404"].quantity == 5 and lines["NOPE-404"].item_id


def test_get_orders_batches_by_50_and_leaves_out_unknown(sandbox_client, shopee, shop):
    client, created = shop
    made = create_order(sandbox_client, created["id"], count=60)["order_sns"]
    got = client.get_orders(made + ["NOSUCHORDER1", made[0]])
    assert sorted(o.platform_order_id for o in got) == sorted(made)
    assert calls(shopee, "order.get_order_detail") == 2
    assert client.get_orders([]) == []


# --- faults -----------------------------------------------------------------------------------------
def test_5xx_timeouts_and_malformed_bodies_are_retried(sandbox_client, shop):
    client, created = shop
    made = create_order(sandbox_client, created["id"], count=120)["order_sns"]
    console(sandbox_client, "faults", fail_next=1, timeout_next=1, malformed_next=1)
    assert sorted(o.platform_order_id for o in all_orders(client, recent())) == sorted(made)


def test_throttling_is_honoured(sandbox_client, shop, _no_backoff_sleep):
    client, created = shop
    create_order(sandbox_client, created["id"])
    console(sandbox_client, "faults", throttle_next=2)
    assert len(all_orders(client, recent())) == 1
    assert _no_backoff_sleep == [1.0, 1.0]  # error_rate_limit has no Retry-After: the setting


def test_a_failed_page_raises_and_never_ends_early(sandbox_client, shop):
    client, created = shop
    create_order(sandbox_client, created["id"], count=150)
    pages = client.iter_orders(recent())
    assert len(next(pages)) == 100
    console(sandbox_client, "faults", error_rate=1)
    with pytest.raises(TransientError):
        next(pages)


def test_expired_token_raises_token_expired(sandbox_client, shop):
    client, created = shop
    create_order(sandbox_client, created["id"])
    console(sandbox_client, "faults", expire_tokens=True)
    with pytest.raises(TokenExpired):
        all_orders(client, recent())
    client.refresh()
    assert len(all_orders(client, recent())) == 1


# --- shipping ---------------------------------------------------------------------------------------
def request_for(order_data, *, tracking="", package_key=""):
    return ShipmentRequest(
        platform_order_id=order_data.platform_order_id,
        order_number=order_data.order_number,
        package_key=package_key,
        carrier="",
        tracking_number=tracking,
        shipping_code=order_data.shipping_code,
        shipment_refs=order_data.shipment_refs,
        lines=order_data.lines,
    )


def test_dropoff_channel_ships_and_reads_the_issued_tracking_number(sandbox_client, shopee, shop):
    client, created = shop
    order = create_order(sandbox_client, created["id"], shipping_code="30005")
    [data] = client.get_orders([order["order_sn"]])
    result = client.report_shipment(request_for(data))
    assert result.outcome == ShipmentOutcome.DONE and result.tracking_number.startswith("TW")
    assert result.carrier == "7-ELEVEN" and not result.already_shipped
    seen = state(sandbox_client, created["id"])
    [shipment] = seen["shipments"]
    assert shipment["method"] == "dropoff" and shipment["details"] == {"slug": "TW_SANDBOX_3PL"}
    [after] = [o for o in seen["orders"] if o["order_sn"] == order["order_sn"]]
    assert after["order_status"] == "SHIPPED" and after["tracking_number"] == result.tracking_number
    [again] = client.get_orders([order["order_sn"]])
    assert again.state == PlatformOrderState.SHIPPED


def test_pickup_channel_awaits_tracking_then_polls_it(sandbox_client, shop):
    client, created = shop
    console(sandbox_client, "settings", tracking_polls=2)
    order = create_order(sandbox_client, created["id"], shipping_code="30001")
    [data] = client.get_orders([order["order_sn"]])
    first = client.report_shipment(request_for(data))
    assert first.outcome == ShipmentOutcome.AWAITING_TRACKING and first.tracking_number == ""
    seen = state(sandbox_client, created["id"])
    assert seen["shipments"][0]["method"] == "pickup"
    assert set(seen["shipments"][0]["details"]) == {"address_id", "pickup_time_id"}
    [processed] = client.get_orders([order["order_sn"]])
    assert processed.platform_status == "PROCESSED" and processed.state == PlatformOrderState.TO_SHIP
    assert client.fetch_tracking(request_for(data)).outcome == ShipmentOutcome.AWAITING_TRACKING
    done = client.fetch_tracking(request_for(data))
    assert done.outcome == ShipmentOutcome.DONE and done.tracking_number
    # a report retried now (say the first answer was lost) is "already shipped", with the number
    retried = client.report_shipment(request_for(data))
    assert retried.outcome == ShipmentOutcome.DONE and retried.already_shipped
    assert retried.tracking_number == done.tracking_number


def test_already_arranged_without_a_number_yet_keeps_polling(sandbox_client, shop):
    client, created = shop
    console(sandbox_client, "settings", tracking_polls=5)
    order = create_order(sandbox_client, created["id"], shipping_code="30006")
    [data] = client.get_orders([order["order_sn"]])
    assert client.report_shipment(request_for(data)).outcome == ShipmentOutcome.AWAITING_TRACKING
    again = client.report_shipment(request_for(data))
    assert again.already_shipped and again.outcome == ShipmentOutcome.AWAITING_TRACKING
    assert len(state(sandbox_client, created["id"])["shipments"]) == 1


def test_non_integrated_channel_sends_our_tracking_number(sandbox_client, shop):
    client, created = shop
    order = create_order(sandbox_client, created["id"], shipping_code="39303")
    [data] = client.get_orders([order["order_sn"]])
    with pytest.raises(PlatformError) as missing:
        client.report_shipment(request_for(data))
    assert missing.value.code == "tracking_required"
    result = client.report_shipment(request_for(data, tracking="HCT123456"))
    assert result.outcome == ShipmentOutcome.DONE and result.tracking_number == "HCT123456"
    [shipment] = state(sandbox_client, created["id"])["shipments"]
    assert shipment["method"] == "non_integrated" and shipment["details"] == {"tracking_number": "HCT123456"}
    again = client.report_shipment(request_for(data, tracking="HCT123456"))
    assert again.outcome == ShipmentOutcome.DONE and again.already_shipped


def test_shipping_a_cancelled_order_is_refused(sandbox_client, shop):
    client, created = shop
    order = create_order(sandbox_client, created["id"])
    console(sandbox_client, f"orders/{order['order_sn']}/cancel")
    [data] = client.get_orders([order["order_sn"]])
    with pytest.raises(PlatformError) as refused:
        client.report_shipment(request_for(data))
    assert refused.value.code == "logistics.order_status_error"
    assert state(sandbox_client, created["id"])["shipments"] == []


def test_ship_order_lost_answer_is_retried_into_already_shipped(sandbox, sandbox_client, shopee, shop):
    """ship_order succeeds but its answer is broken: the retry finds it arranged, never ships twice."""
    client, created = shop
    order = create_order(sandbox_client, created["id"], shipping_code="30007")
    [data] = client.get_orders([order["order_sn"]])
    real_ship = shopee.ship_order

    def ship_then_break():
        response = real_ship()
        g.sandbox_fault = "malformed"  # the sandbox's after-request hook breaks this successful body
        return response

    sandbox.flask_app.view_functions["shopee.ship_order"] = ship_then_break
    result = client.report_shipment(request_for(data))
    assert result.outcome == ShipmentOutcome.DONE and result.already_shipped and result.tracking_number
    assert len(state(sandbox_client, created["id"])["shipments"]) == 1


# --- push -------------------------------------------------------------------------------------------
@pytest.fixture
def push_settings(settings):
    settings.PLATFORMS = {
        **settings.PLATFORMS,
        "shopee": {**settings.PLATFORMS["shopee"], "push_url": PUSH_URL},
    }
    return settings


def test_verify_webhook_request_with_the_brief_vector(settings):
    settings.PLATFORMS = {
        **settings.PLATFORMS,
        "shopee": {**settings.PLATFORMS["shopee"], "partner_key": BRIEF_KEY, "push_url": PUSH_URL},
    }
    headers = {"Authorization": BRIEF_SIGNATURE}
    assert ShopeeClient.verify_webhook_request(headers, BRIEF_BODY)
    assert ShopeeClient.verify_webhook_request({"authorization": BRIEF_SIGNATURE}, BRIEF_BODY, PUSH_URL)
    assert not ShopeeClient.verify_webhook_request(headers, BRIEF_BODY.replace(b"PROCESSED", b"SHIPPED"))
    assert not ShopeeClient.verify_webhook_request({"Authorization": "0" * 64}, BRIEF_BODY)
    assert not ShopeeClient.verify_webhook_request({}, BRIEF_BODY)
    settings.PLATFORMS["shopee"]["partner_key"] = "another-key"
    assert not ShopeeClient.verify_webhook_request(headers, BRIEF_BODY)
    settings.PLATFORMS["shopee"]["partner_key"] = ""
    assert not ShopeeClient.verify_webhook_request(headers, BRIEF_BODY)


def test_parse_order_status_push():
    [event] = ShopeeClient.parse_webhook({}, BRIEF_BODY)
    assert event.kind == WebhookKind.ORDER and event.order_ids == ["220810QSK8S7BX"]
    assert event.shop_id == "727720655" and event.topic == "order_status"
    assert event.delivery_id == hashlib.sha256(BRIEF_BODY).hexdigest()


def push_body(code, data, **top):
    return json.dumps({"data": data, "code": code, "timestamp": 1700000000, **top}).encode()


def test_parse_tracking_deauthorization_and_other_codes():
    [tracking] = ShopeeClient.parse_webhook(
        {}, push_body(4, {"ordersn": "X1", "package_number": "OFG1", "tracking_no": "TW1"}, shop_id=5)
    )
    assert (tracking.kind, tracking.order_ids, tracking.shop_id) == (WebhookKind.ORDER, ["X1"], "5")
    [revoked] = ShopeeClient.parse_webhook(
        {}, push_body(2, {"shop_id": 7, "success": 1}, partner_id=PARTNER_ID)
    )
    assert (revoked.kind, revoked.shop_id, revoked.topic) == (
        WebhookKind.DEAUTHORIZED,
        "7",
        "shop_deauthorization",
    )
    several = ShopeeClient.parse_webhook({}, push_body(2, {"shop_id_list": [7, 8]}))
    assert [e.shop_id for e in several] == ["7", "8"] and len({e.delivery_id for e in several}) == 2
    [expiry] = ShopeeClient.parse_webhook({}, push_body(12, {"shop_expire_soon": [7]}))
    assert expiry.kind == WebhookKind.IGNORED and expiry.topic == "authorization_expiry"
    [other] = ShopeeClient.parse_webhook({}, push_body(8, {"item_id": 1}, shop_id=7))
    assert other.kind == WebhookKind.IGNORED and other.topic == "code_8"


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"{not json",
        b"[]",
        b'"x"',
        b"\xff\xfe",
        push_body("3", {}),
        push_body(3, {"status": "X"}, shop_id=1),
        push_body(3, {"ordersn": "A"}),
        push_body(2, {}),
        push_body(3, [1], shop_id=1),
    ],
)
def test_unreadable_pushes_raise_value_error(body):
    with pytest.raises(ValueError):
        ShopeeClient.parse_webhook({}, body)


def test_sandbox_pushes_are_signed_and_parse(sandbox_client, shop, push_settings):
    client, created = shop
    console(sandbox_client, "push-config", callback_url=PUSH_URL)
    order = create_order(sandbox_client, created["id"], shipping_code="30005")
    [data] = client.get_orders([order["order_sn"]])
    client.report_shipment(request_for(data))
    deliveries = state(sandbox_client, created["id"])["deliveries"]
    assert [d["topic"] for d in deliveries] == ["3", "3", "4", "3"]  # created, PROCESSED, tracking, SHIPPED
    statuses = []
    for delivery in deliveries:
        body = delivery["body"].encode()
        assert delivery["url"] == PUSH_URL
        assert ShopeeClient.verify_webhook_request(delivery["headers"], body)
        assert not ShopeeClient.verify_webhook_request(delivery["headers"], body + b" ")
        [event] = ShopeeClient.parse_webhook(delivery["headers"], body)
        assert event.kind == WebhookKind.ORDER and event.order_ids == [order["order_sn"]]
        assert event.shop_id == created["id"]
        statuses.append(json.loads(body)["data"].get("status"))
    assert statuses == ["READY_TO_SHIP", "PROCESSED", None, "SHIPPED"]


def test_revoking_on_the_cancel_page_pushes_code_2(sandbox_client, shop, push_settings):
    client, created = shop
    console(sandbox_client, "push-config", callback_url=PUSH_URL)
    page = sandbox_client.get(path_and_query(client.revoke_url(redirect_uri=REDIRECT_URI)))
    form = read_form(page.text)
    assert sandbox_client.post(form.action, data=form.fields).status_code == 302
    [delivery] = state(sandbox_client, created["id"])["deliveries"]
    body = delivery["body"].encode()
    assert ShopeeClient.verify_webhook_request(delivery["headers"], body)
    [event] = ShopeeClient.parse_webhook(delivery["headers"], body)
    assert event.kind == WebhookKind.DEAUTHORIZED and event.shop_id == created["id"]
    # after revocation the shop gets no more order pushes
    create_order(sandbox_client, created["id"])
    assert len(state(sandbox_client, created["id"])["deliveries"]) == 1


def test_no_push_without_a_callback_url(sandbox_client, shop):
    _client, created = shop
    create_order(sandbox_client, created["id"])
    assert state(sandbox_client, created["id"])["deliveries"] == []


def test_push_signature_matches_the_signing_module(sandbox_client, shop):
    _client, created = shop
    console(sandbox_client, "push-config", callback_url=PUSH_URL)
    create_order(sandbox_client, created["id"])
    [delivery] = state(sandbox_client, created["id"])["deliveries"]
    expected = signing.push_signature("sandbox-shopee-key", PUSH_URL, delivery["body"].encode())
    assert delivery["headers"]["Authorization"] == expected


def test_pushes_are_accepted_by_our_endpoint(sandbox, sandbox_client, shop, webhooks_to_django, settings):
    """The sandbox's default callback is our configured push URL (as wsgi.py sets it for make run)."""
    from ecbridge.integrations.models import WebhookEvent as StoredEvent

    _client, created = shop
    push_url = settings.PLATFORMS["shopee"]["push_url"]
    sandbox.sandbox("shopee").set_default_push_url(push_url)
    order = create_order(sandbox_client, created["id"])
    assert webhooks_to_django == [(push_url, 200)]
    stored = StoredEvent.objects.get(platform="shopee")
    assert stored.order_ids == [order["order_sn"]] and stored.shop_id == created["id"]
    # a forged delivery is refused
    sandbox.sandbox("shopee").partner_key = "not-our-key"
    create_order(sandbox_client, created["id"])
    assert webhooks_to_django[-1] == (push_url, 401)
