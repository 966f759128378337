"""Shopify orders in, tracking out, and webhook deliveries: the client against the sandbox."""

import json
import time
from datetime import UTC, datetime, timedelta

import pytest

from ecbridge.platforms.base import (
    OrderLineData,
    OrderWindow,
    PlatformOrderState,
    ShipmentOutcome,
    ShipmentRequest,
    WebhookKind,
)
from ecbridge.platforms.errors import AuthError, PlatformError, RateLimited, TokenExpired, TransientError
from ecbridge.platforms.shopify import client as client_module
from ecbridge.platforms.shopify.client import ShopifyClient
from tests.platforms.shopify.helpers import CONSOLE, WEBHOOK_URL, set_faults, state

S = PlatformOrderState
pytestmark = pytest.mark.django_db


def window(hours_back: float = 1, hours_ahead: float = 1) -> OrderWindow:
    now = datetime.now(UTC)
    return OrderWindow(now - timedelta(hours=hours_back), now + timedelta(hours=hours_ahead))


def order(sandbox_client, domain: str, **body) -> dict:
    body.setdefault("lines", [{"sku": "SKU-1", "quantity": 2}])
    response = sandbox_client.post(f"{CONSOLE}/orders", json={"shop": domain, **body})
    assert response.status_code == 200, response.text
    return response.json()


def product(sandbox_client, domain: str, sku: str, barcode: str = "", name: str = "Tea") -> dict:
    response = sandbox_client.post(
        f"{CONSOLE}/products", json={"shop": domain, "sku": sku, "barcode": barcode, "name": name}
    )
    assert response.status_code == 200, response.text
    return response.json()


def calls(sandbox, operation: str) -> int:
    return sandbox.store.count_calls("shopify", operation)


def fetch_all(client, win=None) -> list[list]:
    return list(client.iter_orders(win or window()))


def ship(order_doc: dict, **kw) -> ShipmentRequest:
    return ShipmentRequest(
        platform_order_id=order_doc["id"],
        order_number=order_doc["name"],
        package_key=kw.pop("package_key", ""),
        carrier=kw.pop("carrier", "Black Cat"),
        tracking_number=kw.pop("tracking_number", "TW123456789"),
        **kw,
    )


# --- listing -------------------------------------------------------------------------------------
def test_pages_are_cost_sized_and_end_without_an_extra_call(sandbox, sandbox_client, connected):
    client = ShopifyClient(connected)
    per_call = client._orders_per_call(client._page_sizes())
    assert per_call == 12  # 2 + 12 x 83 points <= 1000
    order(sandbox_client, connected.shop_id, count=2 * per_call)
    pages = fetch_all(client)
    assert [len(p) for p in pages] == [per_call, per_call]
    assert calls(sandbox, "graphql:orders") == 2  # hasNextPage was exact: no empty third call
    ids = [o.platform_order_id for p in pages for o in p]
    assert len(set(ids)) == 2 * per_call


def test_a_partial_last_page_and_no_orders(sandbox, sandbox_client, connected):
    client = ShopifyClient(connected)
    assert fetch_all(client) == []
    assert calls(sandbox, "graphql:orders") == 1
    order(sandbox_client, connected.shop_id, count=15)
    assert [len(p) for p in fetch_all(client)] == [12, 3]


def test_window_is_half_open_on_update_time(sandbox_client, connected):
    base = datetime(2026, 3, 1, tzinfo=UTC)
    for minutes in (-1, 0, 30, 60):
        at = (base + timedelta(minutes=minutes)).isoformat()
        order(sandbox_client, connected.shop_id, created_at=at, note=str(minutes))
    pages = fetch_all(ShopifyClient(connected), OrderWindow(base, base + timedelta(hours=1)))
    assert sorted(o.buyer_note for p in pages for o in p) == ["0", "30"]


def test_window_bounds_round_outwards_to_the_second(sandbox_client, connected):
    base = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
    order(sandbox_client, connected.shop_id, created_at=base.timestamp() + 0.4)
    win = OrderWindow(base + timedelta(milliseconds=700), base + timedelta(milliseconds=900))
    assert len([o for p in fetch_all(ShopifyClient(connected), win) for o in p]) == 1


def test_every_status_reaches_us_mapped(sandbox_client, connected):
    cases = {
        "to_ship": ({"status": "to_ship"}, S.TO_SHIP),
        "unpaid": ({"status": "unpaid"}, S.UNPAID),
        "cod": ({"status": "unpaid", "payment_gateway": "Cash on Delivery (COD)"}, S.TO_SHIP),
        "authorized": ({"financial_status": "AUTHORIZED"}, S.TO_SHIP),
        "expired": ({"financial_status": "EXPIRED"}, S.UNPAID),
        "shipped": ({"status": "shipped"}, S.SHIPPED),
        "cancelled": ({"status": "cancelled"}, S.CANCELLED),
        "returned": ({"status": "returned"}, S.RETURNED),
    }
    for note, (body, _state) in cases.items():
        order(sandbox_client, connected.shop_id, note=note, **body)
    found = {o.buyer_note: o for p in fetch_all(ShopifyClient(connected)) for o in p}
    assert {note: o.state for note, o in found.items()} == {n: s for n, (_b, s) in cases.items()}
    assert found["cancelled"].platform_status == "VOIDED/UNFULFILLED/CANCELLED"
    assert found["shipped"].platform_status == "PAID/FULFILLED"


def test_order_fields_and_lines(sandbox_client, connected):
    known = product(sandbox_client, connected.shop_id, "TEA-1", barcode="4712345678901")
    created = order(
        sandbox_client,
        connected.shop_id,
        lines=[{"sku": "TEA-1", "quantity": 3}, {"sku": "NOT-IN-SHOP", "quantity": 1, "name": "Mystery"}],
        shipping_code="711_pickup",
        shipping_title="7-11 Pickup",
        buyer={"name": "Lin", "phone": "0912000111"},
        note="leave at door",
    )
    [[got]] = fetch_all(ShopifyClient(connected))
    assert got.platform_order_id == created["id"] and got.order_number == created["name"]
    assert got.state == S.TO_SHIP and got.platform_status == "PAID/UNFULFILLED"
    assert (got.shipping_code, got.shipping_name) == ("711_pickup", "7-11 Pickup")
    assert got.recipient_name == "Lin" and got.recipient_phone == "0912000111"
    assert "Taipei City" in got.recipient_address and got.buyer_note == "leave at door"
    assert got.created_at.tzinfo is not None and got.updated_at >= got.created_at
    tea, mystery = got.lines
    assert tea.line_id == created["lines"][0]["id"] and tea.line_id.startswith("gid://shopify/LineItem/")
    assert (tea.sku, tea.quantity, tea.barcode) == ("TEA-1", 3, "4712345678901")
    assert tea.item_id == known["id"] and tea.variant_id == known["variants"][0]["id"]
    # an unknown SKU still reaches us: a custom line without variant or product
    assert (mystery.sku, mystery.name, mystery.item_id, mystery.variant_id) == (
        "NOT-IN-SHOP",
        "Mystery",
        "",
        "",
    )
    [fo] = got.shipment_refs["fulfillment_orders"]
    assert got.shipment_refs["complete"] is True
    assert fo["status"] == "OPEN" and fo["id"].startswith("gid://shopify/FulfillmentOrder/")
    assert [(i["line_item_id"], i["remaining"]) for i in fo["line_items"]] == [
        (tea.line_id, 3),
        (mystery.line_id, 1),
    ]


def test_line_items_beyond_the_nested_page_are_fetched(sandbox, sandbox_client, connected):
    lines = [{"sku": f"L-{i:02d}", "quantity": 1} for i in range(23)]
    order(sandbox_client, connected.shop_id, lines=lines)
    [[got]] = fetch_all(ShopifyClient(connected))
    assert [line.sku for line in got.lines] == [f"L-{i:02d}" for i in range(23)]
    assert calls(sandbox, "graphql:order") == 1  # one follow-up of up to 250 lines
    assert got.shipment_refs["complete"] is False  # the fulfillment order's lines were cut off


def test_edit_and_cancel_are_visible(sandbox_client, connected):
    created = order(
        sandbox_client, connected.shop_id, lines=[{"sku": "A", "quantity": 2}, {"sku": "B", "quantity": 1}]
    )
    client = ShopifyClient(connected)
    [[before]] = fetch_all(client)
    time.sleep(0.01)
    response = sandbox_client.post(
        f"{CONSOLE}/orders/{created['legacy_id']}/edit",
        json={
            "lines": [{"sku": "A", "quantity": 5}, {"sku": "C", "quantity": 1}],
            "address": {"city": "Tainan"},
        },
    )
    assert response.status_code == 200, response.text
    [[edited]] = fetch_all(client)
    assert {line.sku: line.quantity for line in edited.lines} == {"A": 5, "C": 1}  # B removed
    assert "Tainan" in edited.recipient_address
    assert edited.updated_at >= before.updated_at
    assert sandbox_client.post(f"{CONSOLE}/orders/{created['legacy_id']}/cancel", json={}).status_code == 200
    [[cancelled]] = fetch_all(client)
    assert cancelled.state == S.CANCELLED


def test_get_orders_by_gid_or_number_skips_unknown_and_foreign(sandbox, sandbox_client, connected):
    mine = [order(sandbox_client, connected.shop_id) for _ in range(2)]
    other_shop = sandbox_client.post(f"{CONSOLE}/shops", json={"name": "Other"}).json()["id"]
    foreign = order(sandbox_client, other_shop)
    client = ShopifyClient(connected)
    ids = [mine[0]["id"], str(mine[1]["legacy_id"]), "gid://shopify/Order/1", foreign["id"], "garbage"]
    got = client.get_orders(ids)
    assert [o.platform_order_id for o in got] == [mine[0]["id"], mine[1]["id"]]
    assert client.get_orders([]) == []


def test_get_orders_chunks_by_cost(sandbox, sandbox_client, connected):
    created = order(sandbox_client, connected.shop_id, count=30)
    got = ShopifyClient(connected).get_orders([o["id"] for o in created["orders"]])
    assert len(got) == 30
    assert calls(sandbox, "graphql:nodes") == 3  # 12 per call fits the 1000-point maximum


def test_the_briefs_page_sizes_would_exceed_the_max_query_cost(sandbox_client, connected):
    client = ShopifyClient(connected)
    client.ctx.settings = {
        **client.settings,
        "order_lines_page_size": 250,
        "fulfillment_order_lines_page_size": 250,
    }
    order(sandbox_client, connected.shop_id)
    with pytest.raises(PlatformError) as caught:
        fetch_all(client)
    assert caught.value.code == "MAX_COST_EXCEEDED"


# --- faults --------------------------------------------------------------------------------------
def test_server_errors_and_throttling_are_retried(sandbox_client, connected, _no_backoff_sleep):
    order(sandbox_client, connected.shop_id, count=3)
    set_faults(sandbox_client, fail_next=2, throttle_next=1)
    assert len(fetch_all(ShopifyClient(connected))[0]) == 3
    assert len(_no_backoff_sleep) == 3
    assert _no_backoff_sleep[-1] > 0  # the throttle's retry after (from the cost bucket)


def test_a_failing_second_page_raises_instead_of_ending(sandbox_client, connected):
    order(sandbox_client, connected.shop_id, count=13)
    pages = ShopifyClient(connected).iter_orders(window())
    assert len(next(pages)) == 12
    set_faults(sandbox_client, error_rate=1.0)
    with pytest.raises(TransientError):
        next(pages)


def test_bucket_drained_throttling_is_rate_limited(sandbox_client, connected):
    set_faults(sandbox_client, throttle_rate=1.0)
    with pytest.raises(RateLimited) as caught:
        fetch_all(ShopifyClient(connected))
    assert caught.value.code == "THROTTLED" and caught.value.retry_after


def test_timeouts_and_malformed_bodies(sandbox_client, connected):
    order(sandbox_client, connected.shop_id)
    set_faults(sandbox_client, timeout_next=1, malformed_next=1)
    assert len(fetch_all(ShopifyClient(connected))[0]) == 1
    set_faults(sandbox_client, timeout_rate=1.0)
    with pytest.raises(TransientError) as caught:
        fetch_all(ShopifyClient(connected))
    assert caught.value.code == "timeout"
    set_faults(sandbox_client, malformed_rate=1.0)
    with pytest.raises(TransientError) as caught:
        ShopifyClient(connected).get_orders(["gid://shopify/Order/5000000000001"])
    assert caught.value.code == "malformed"


def test_expired_token_is_token_expired_and_uninstalled_is_auth_error(
    sandbox_client, connected, connected_expiring
):
    set_faults(sandbox_client, expire_tokens=True)
    with pytest.raises(TokenExpired):
        fetch_all(ShopifyClient(connected_expiring))
    sandbox_client.post(f"{CONSOLE}/uninstall", json={"shop": connected.shop_id})
    with pytest.raises(AuthError) as caught:
        ShopifyClient(connected).get_orders(["gid://shopify/Order/5000000000001"])
    assert not isinstance(caught.value, TokenExpired)


def test_missing_orders_scope_is_an_auth_error(sandbox_client, shop):
    from tests.platforms.shopify.helpers import authorize, make_ctx, with_tokens

    ctx = make_ctx(shop["id"], scopes="read_products")
    ctx = with_tokens(ctx, authorize(sandbox_client, ctx))
    with pytest.raises(AuthError) as caught:
        fetch_all(ShopifyClient(ctx))
    assert caught.value.code == "ACCESS_DENIED"


# --- shipments -----------------------------------------------------------------------------------
def test_report_shipment_fulfils_and_the_sandbox_records_it(sandbox_client, connected):
    created = order(
        sandbox_client, connected.shop_id, lines=[{"sku": "A", "quantity": 2}, {"sku": "B", "quantity": 1}]
    )
    client = ShopifyClient(connected)
    result = client.report_shipment(ship(created))
    assert result.outcome == ShipmentOutcome.DONE and not result.already_shipped
    assert (result.tracking_number, result.carrier) == ("TW123456789", "Black Cat")
    [shipment] = state(sandbox_client, connected.shop_id)["shipments"]
    assert shipment["order_id"] == created["id"]
    assert (shipment["tracking_company"], shipment["tracking_number"]) == ("Black Cat", "TW123456789")
    assert sorted(line["quantity"] for line in shipment["lines"]) == [1, 2]
    [after] = client.get_orders([created["id"]])
    assert after.state == S.SHIPPED and after.shipment_refs["fulfillment_orders"][0]["status"] == "CLOSED"


def test_reporting_twice_is_already_shipped(sandbox_client, connected):
    created = order(sandbox_client, connected.shop_id)
    client = ShopifyClient(connected)
    client.report_shipment(ship(created))
    again = client.report_shipment(ship(created, tracking_number="OTHER"))
    assert again.outcome == ShipmentOutcome.DONE and again.already_shipped
    assert again.tracking_number == "TW123456789"  # what Shopify already has
    assert len(state(sandbox_client, connected.shop_id)["shipments"]) == 1


def test_order_fulfilled_elsewhere_is_already_shipped(sandbox_client, connected):
    created = order(sandbox_client, connected.shop_id, status="shipped")
    result = ShopifyClient(connected).report_shipment(ship(created))
    assert result.already_shipped and result.outcome == ShipmentOutcome.DONE


def test_lost_answer_then_retry_is_done(sandbox_client, connected, monkeypatch):
    """The fulfillment went through but its answer was broken; the retry is refused (closed) and
    the re-read order shows it fulfilled."""
    created = order(sandbox_client, connected.shop_id)
    client = ShopifyClient(connected)
    original = client._fulfillment_state
    seen = []

    def read_then_break_next(order_id):
        value = original(order_id)
        if not seen:
            set_faults(sandbox_client, malformed_next=1)
        seen.append(order_id)
        return value

    monkeypatch.setattr(client, "_fulfillment_state", read_then_break_next)
    result = client.report_shipment(ship(created))
    assert result.outcome == ShipmentOutcome.DONE and result.already_shipped
    assert len(seen) == 2
    assert len(state(sandbox_client, connected.shop_id)["shipments"]) == 1


def test_packages_ship_their_own_lines(sandbox_client, connected):
    created = order(
        sandbox_client, connected.shop_id, lines=[{"sku": "A", "quantity": 2}, {"sku": "B", "quantity": 1}]
    )
    client = ShopifyClient(connected)
    a, b = created["lines"]
    first = ship(
        created, package_key="1", tracking_number="PKG-1", lines=[OrderLineData(a["id"], "A", "A", 2)]
    )
    assert not client.report_shipment(first).already_shipped
    [partial] = client.get_orders([created["id"]])
    assert partial.state == S.TO_SHIP and partial.platform_status == "PAID/PARTIALLY_FULFILLED"
    second = ship(
        created, package_key="2", tracking_number="PKG-2", lines=[OrderLineData(b["id"], "B", "B", 1)]
    )
    assert not client.report_shipment(second).already_shipped
    [done] = client.get_orders([created["id"]])
    assert done.state == S.SHIPPED
    numbers = [s["tracking_number"] for s in state(sandbox_client, connected.shop_id)["shipments"]]
    assert numbers == ["PKG-1", "PKG-2"]


def test_cancelled_or_unknown_orders_are_refused(sandbox_client, connected):
    created = order(sandbox_client, connected.shop_id, status="cancelled")
    client = ShopifyClient(connected)
    with pytest.raises(PlatformError) as caught:
        client.report_shipment(ship(created))
    assert caught.value.code == "order_cancelled"
    with pytest.raises(PlatformError) as caught:
        client.report_shipment(ship({"id": "gid://shopify/Order/5999999999999", "name": "#9"}))
    assert caught.value.code == "order_not_found"
    with pytest.raises(PlatformError):
        client.report_shipment(ship({"id": "not-an-id", "name": "#9"}))
    assert state(sandbox_client, connected.shop_id)["shipments"] == []


def test_fetch_tracking_is_not_needed(connected):
    with pytest.raises(NotImplementedError):
        ShopifyClient(connected).fetch_tracking(ship({"id": "gid://shopify/Order/1", "name": "#1"}))


# --- webhooks ------------------------------------------------------------------------------------
BRIEF_BODY = b'{"id":820982911946154508,"email":"jon@example.com"}'
BRIEF_HMAC = "D0UMXmhjwBRi4y66TmhJrDlhQABD7zI2fm3p6/QLMo8="


def test_verify_webhook_request_with_the_briefs_vector(settings):
    settings.PLATFORMS = {
        **settings.PLATFORMS,
        "shopify": {**settings.PLATFORMS["shopify"], "client_secret": "hush"},
    }
    good = {"X-Shopify-Hmac-Sha256": BRIEF_HMAC}
    assert ShopifyClient.verify_webhook_request(good, BRIEF_BODY)
    assert ShopifyClient.verify_webhook_request({"HTTP_X_SHOPIFY_HMAC_SHA256": BRIEF_HMAC}, BRIEF_BODY)
    assert not ShopifyClient.verify_webhook_request(good, BRIEF_BODY.replace(b"jon", b"j0n"))  # tampered
    assert not ShopifyClient.verify_webhook_request(
        {"X-Shopify-Hmac-Sha256": "AAAA" + BRIEF_HMAC[4:]}, BRIEF_BODY
    )
    assert not ShopifyClient.verify_webhook_request({}, BRIEF_BODY)
    settings.PLATFORMS = {
        **settings.PLATFORMS,
        "shopify": {**settings.PLATFORMS["shopify"], "client_secret": ""},
    }
    assert not ShopifyClient.verify_webhook_request(good, BRIEF_BODY)  # no secret: nothing verifies


def headers(topic: str, **extra) -> dict:
    return {
        "X-Shopify-Topic": topic,
        "X-Shopify-Shop-Domain": "Acme.myshopify.com",
        "X-Shopify-Webhook-Id": "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
        **extra,
    }


@pytest.mark.parametrize(
    "topic,body,kind,order_ids",
    [
        (
            "orders/create",
            {"id": 5, "admin_graphql_api_id": "gid://shopify/Order/5"},
            WebhookKind.ORDER,
            ["gid://shopify/Order/5"],
        ),
        ("orders/updated", {"id": 6}, WebhookKind.ORDER, ["gid://shopify/Order/6"]),
        (
            "orders/cancelled",
            {"id": "7", "admin_graphql_api_id": None},
            WebhookKind.ORDER,
            ["gid://shopify/Order/7"],
        ),
        (
            "orders/fulfilled",
            {"id": 8, "admin_graphql_api_id": "gid://shopify/Order/8"},
            WebhookKind.ORDER,
            ["gid://shopify/Order/8"],
        ),
        ("app/uninstalled", {"id": 548380001, "domain": "acme.myshopify.com"}, WebhookKind.DEAUTHORIZED, []),
        ("products/update", {"id": 9}, WebhookKind.IGNORED, []),
    ],
)
def test_parse_webhook_topics(topic, body, kind, order_ids):
    [event] = ShopifyClient.parse_webhook(headers(topic), json.dumps(body).encode())
    assert (event.kind, event.order_ids, event.topic) == (kind, order_ids, topic)
    assert event.shop_id == "acme.myshopify.com"
    assert event.delivery_id == "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043"


@pytest.mark.parametrize(
    "body", [b"{not json", b"[1, 2]", b'"x"', b'{"email": "no id"}', b'{"id": true}', b"\xff"]
)
def test_parse_webhook_rejects_bodies_it_cannot_read(body):
    with pytest.raises(ValueError):
        ShopifyClient.parse_webhook(headers("orders/updated"), body)


def test_parse_webhook_without_delivery_id_hashes_the_body():
    body = b'{"id": 1}'
    [a] = ShopifyClient.parse_webhook({"X-Shopify-Topic": "orders/updated"}, body)
    [b] = ShopifyClient.parse_webhook({"X-Shopify-Topic": "orders/updated"}, body)
    assert a.delivery_id == b.delivery_id and a.delivery_id.startswith("sha256:")


def deliveries(sandbox_client, domain: str) -> list[dict]:
    return state(sandbox_client, domain)["deliveries"]


def test_sandbox_deliveries_verify_and_parse(sandbox_client, connected):
    client = ShopifyClient(connected)
    client.register_webhooks(WEBHOOK_URL)
    created = order(sandbox_client, connected.shop_id)
    sandbox_client.post(f"{CONSOLE}/orders/{created['legacy_id']}/cancel", json={})
    client.report_shipment(ship(order(sandbox_client, connected.shop_id)))
    sent = deliveries(sandbox_client, connected.shop_id)
    assert [d["topic"] for d in sent] == [
        "orders/create",
        "orders/updated",
        "orders/cancelled",
        "orders/create",
        "orders/updated",
    ]
    for delivery in sent:
        body = delivery["body"].encode()
        assert ShopifyClient.verify_webhook_request(delivery["headers"], body)
        assert client.verify_webhook(delivery["headers"], body)
        [event] = ShopifyClient.parse_webhook(delivery["headers"], body)
        assert event.kind == WebhookKind.ORDER and event.shop_id == connected.shop_id
        assert event.order_ids[0].startswith("gid://shopify/Order/")
    assert len({d["headers"]["X-Shopify-Webhook-Id"] for d in sent}) == len(sent)
    assert sent[0]["url"] == WEBHOOK_URL
    # the webhooks' orders are the ones the API returns
    assert ShopifyClient.parse_webhook(sent[0]["headers"], sent[0]["body"].encode())[0].order_ids == [
        created["id"]
    ]


def test_uninstall_delivers_app_uninstalled(sandbox_client, connected):
    client = ShopifyClient(connected)
    client.register_webhooks(WEBHOOK_URL)
    client.revoke()
    [delivery] = deliveries(sandbox_client, connected.shop_id)
    assert delivery["topic"] == "app/uninstalled"
    assert ShopifyClient.verify_webhook_request(delivery["headers"], delivery["body"].encode())
    [event] = ShopifyClient.parse_webhook(delivery["headers"], delivery["body"].encode())
    assert event.kind == WebhookKind.DEAUTHORIZED and event.shop_id == connected.shop_id


def test_client_module_documents_its_window(connected):
    assert ShopifyClient.max_order_window == timedelta(days=30)
    assert client_module.MAX_QUERY_COST == 1000
