"""The Shopee sandbox's order, logistics and push endpoints over raw HTTP, signed with the tests' own
HMAC (tests/platforms/shopee/helpers.sign), independent of the client."""

import hashlib
import hmac
import json
import time

import pytest

from tests.platforms.shopee.helpers import API, PARTNER_KEY, connect, public_query, shop_query

pytestmark = pytest.mark.django_db

ORDER_LIST = "/api/v2/order/get_order_list"
ORDER_DETAIL = "/api/v2/order/get_order_detail"
SHIPPING_PARAMETER = "/api/v2/logistics/get_shipping_parameter"
SHIP_ORDER = "/api/v2/logistics/ship_order"
TRACKING = "/api/v2/logistics/get_tracking_number"
SET_PUSH = "/api/v2/push/set_app_push_config"
GET_PUSH = "/api/v2/push/get_app_push_config"
PUSH_URL = "https://wms.example.com/webhooks/shopee"


@pytest.fixture
def account(sandbox_client):
    client, created = connect(sandbox_client)
    return client.ctx.tokens["access_token"], created["shop_id"]


def get(http, path, account, **params):
    token, shop_id = account
    return http.get(API + path, params={**shop_query(path, token, shop_id), **params})


def post(http, path, account, body):
    token, shop_id = account
    return http.post(API + path, params=shop_query(path, token, shop_id), json=body)


def console(http, path, **body):
    response = http.post(f"{API}/_console/{path}", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def orders(http, shop_id, **body):
    body.setdefault("lines", [{"sku": "SKU-1", "quantity": 1}])
    return console(http, "orders", shop=shop_id, **body)


def listing(http, account, **params):
    now = int(time.time())
    base = {"time_range_field": "update_time", "time_from": now - 3600, "time_to": now + 60, "page_size": 100}
    return get(http, ORDER_LIST, account, **{**base, **params})


def error_of(response):
    body = response.json()
    assert set(body) >= {"request_id", "error", "message"}
    return body["error"]


# --- get_order_list -----------------------------------------------------------------------------------
def test_order_list_requires_a_valid_sign_and_token(sandbox_client, account):
    token, shop_id = account
    params = {**shop_query(ORDER_LIST, token, shop_id), "time_range_field": "update_time"}
    params["sign"] = "0" * 64
    response = sandbox_client.get(API + ORDER_LIST, params=params)
    assert response.status_code == 403 and error_of(response) == "error_sign"
    response = get(sandbox_client, ORDER_LIST, ("f" * 32, shop_id), time_range_field="update_time")
    assert error_of(response) == "error_auth"


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"time_range_field": "pay_time"}, "error_param"),
        ({"time_from": "abc"}, "error_param"),
        ({"page_size": 0}, "error_param"),
        ({"page_size": 101}, "error_param"),
        ({"cursor": "!!!"}, "error_param"),
        ({"order_status": "SOMETHING"}, "error_param"),
        ({"order_status": "PENDING"}, "error_param"),  # only with request_order_status_pending
    ],
)
def test_order_list_parameter_errors(sandbox_client, account, params, error):
    response = listing(sandbox_client, account, **params)
    assert response.status_code == 400 and error_of(response) == error


def test_order_list_window_limit_is_15_days(sandbox_client, account):
    now = int(time.time())
    ok = listing(sandbox_client, account, time_from=now - 15 * 86400, time_to=now)
    assert ok.status_code == 200 and error_of(ok) == ""
    for time_from, time_to in ((now - 15 * 86400 - 1, now), (now, now - 1)):
        response = listing(sandbox_client, account, time_from=time_from, time_to=time_to)
        assert error_of(response) == "order.order_list_invalid_time"
        assert response.json()["message"] == "Start time must be earlier than end time and diff in 15days."


def test_order_list_pages_with_exact_more_and_cursor(sandbox_client, account):
    _token, shop_id = account
    made = orders(sandbox_client, shop_id, count=7)["order_sns"]
    seen, cursor, calls = [], "", 0
    while True:
        body = listing(sandbox_client, account, page_size=3, cursor=cursor).json()["response"]
        calls += 1
        seen += [o["order_sn"] for o in body["order_list"]]
        if not body["more"]:
            assert body["next_cursor"] == ""
            break
        cursor = body["next_cursor"]
    assert calls == 3 and sorted(seen) == sorted(made)
    exact = listing(sandbox_client, account, page_size=7).json()["response"]
    assert exact["more"] is False and len(exact["order_list"]) == 7


def test_an_order_updated_mid_listing_never_hides_another(sandbox_client, account):
    _token, shop_id = account
    now = int(time.time())
    made = orders(sandbox_client, shop_id, count=4, created_at=now - 600, interval_seconds=10)["order_sns"]
    first = listing(sandbox_client, account, page_size=2).json()["response"]
    console(sandbox_client, f"orders/{first['order_list'][0]['order_sn']}/edit", buyer_note="moved")
    rest = listing(sandbox_client, account, page_size=10, cursor=first["next_cursor"]).json()["response"]
    seen = {o["order_sn"] for o in first["order_list"] + rest["order_list"]}
    assert seen == set(made)


def test_order_list_filters_status_and_time_field(sandbox_client, account):
    _token, shop_id = account
    now = int(time.time())
    paid = orders(sandbox_client, shop_id)["order_sn"]
    pending = orders(sandbox_client, shop_id, status="PENDING")["order_sn"]
    orders(sandbox_client, shop_id, status="UNPAID")
    old = orders(sandbox_client, shop_id, created_at=now - 5 * 86400, updated_at=now)["order_sn"]
    ready = listing(
        sandbox_client, account, order_status="READY_TO_SHIP", response_optional_fields="order_status"
    )
    statuses = {o["order_sn"]: o["order_status"] for o in ready.json()["response"]["order_list"]}
    assert statuses == {paid: "READY_TO_SHIP", pending: "READY_TO_SHIP", old: "READY_TO_SHIP"}
    flagged = listing(
        sandbox_client,
        account,
        response_optional_fields="order_status",
        request_order_status_pending="true",
    )
    assert {o["order_sn"]: o["order_status"] for o in flagged.json()["response"]["order_list"]}[
        pending
    ] == "PENDING"
    by_create = listing(sandbox_client, account, time_range_field="create_time").json()["response"]
    assert old not in {o["order_sn"] for o in by_create["order_list"]}
    assert "order_status" not in by_create["order_list"][0]


# --- get_order_detail ---------------------------------------------------------------------------------
def test_order_detail_fields_and_limits(sandbox_client, account):
    _token, shop_id = account
    order_sn = orders(sandbox_client, shop_id, buyer_note="幫我包好")["order_sn"]
    plain = get(sandbox_client, ORDER_DETAIL, account, order_sn_list=order_sn).json()["response"][
        "order_list"
    ][0]
    assert (
        plain["message_to_seller"] == "幫我包好"
        and "item_list" not in plain
        and "recipient_address" not in plain
    )
    full = get(
        sandbox_client,
        ORDER_DETAIL,
        account,
        order_sn_list=f"{order_sn},NOSUCH",
        response_optional_fields="item_list,package_list,recipient_address",
    ).json()
    [order] = full["response"]["order_list"]
    assert order["item_list"][0]["model_quantity_purchased"] == 1
    assert order["package_list"][0]["logistics_channel_id"] == 30005
    assert "NOSUCH" in full["warning"]
    too_many = get(sandbox_client, ORDER_DETAIL, account, order_sn_list=",".join(f"A{i}" for i in range(51)))
    assert too_many.status_code == 400 and error_of(too_many) == "error_param"
    assert error_of(get(sandbox_client, ORDER_DETAIL, account, order_sn_list="")) == "error_param"


def test_another_shops_orders_are_invisible(sandbox_client, account):
    other_client, other = connect(sandbox_client)
    foreign = orders(sandbox_client, other["id"])["order_sn"]
    body = get(sandbox_client, ORDER_DETAIL, account, order_sn_list=foreign).json()
    assert body["response"]["order_list"] == []
    assert listing(sandbox_client, account).json()["response"]["order_list"] == []
    assert (
        error_of(get(sandbox_client, SHIPPING_PARAMETER, account, order_sn=foreign))
        == "logistics.order_not_found"
    )


# --- logistics ---------------------------------------------------------------------------------------
def test_ship_order_needs_exactly_the_named_object(sandbox_client, account):
    _token, shop_id = account
    order_sn = orders(sandbox_client, shop_id, shipping_code="30005")["order_sn"]
    parameter = get(sandbox_client, SHIPPING_PARAMETER, account, order_sn=order_sn).json()["response"]
    assert parameter["info_needed"] == {"dropoff": ["slug"]}
    slug = parameter["dropoff"]["slug_list"][0]["slug"]
    wrong = post(sandbox_client, SHIP_ORDER, account, {"order_sn": order_sn, "pickup": {}})
    assert error_of(wrong) == "logistics.error_param"
    both = post(
        sandbox_client, SHIP_ORDER, account, {"order_sn": order_sn, "dropoff": {"slug": slug}, "pickup": {}}
    )
    assert error_of(both) == "logistics.error_param"
    no_slug = post(sandbox_client, SHIP_ORDER, account, {"order_sn": order_sn, "dropoff": {}})
    assert "slug" in no_slug.json()["message"]
    done = post(sandbox_client, SHIP_ORDER, account, {"order_sn": order_sn, "dropoff": {"slug": slug}})
    assert done.status_code == 200 and error_of(done) == ""
    again = post(sandbox_client, SHIP_ORDER, account, {"order_sn": order_sn, "dropoff": {"slug": slug}})
    assert error_of(again) == "logistics.order_already_shipped"
    assert error_of(get(sandbox_client, SHIPPING_PARAMETER, account, order_sn=order_sn)) == (
        "logistics.order_already_shipped"
    )


def test_pickup_parameters_and_tracking_polls(sandbox_client, account):
    _token, shop_id = account
    console(sandbox_client, "settings", tracking_polls=1)
    order_sn = orders(sandbox_client, shop_id, shipping_code="30001")["order_sn"]
    assert (
        get(sandbox_client, TRACKING, account, order_sn=order_sn).json()["response"]["tracking_number"] == ""
    )
    parameter = get(sandbox_client, SHIPPING_PARAMETER, account, order_sn=order_sn).json()["response"]
    address = parameter["pickup"]["address_list"][0]
    bad = post(
        sandbox_client,
        SHIP_ORDER,
        account,
        {"order_sn": order_sn, "pickup": {"address_id": address["address_id"]}},
    )
    assert "pickup_time_id" in bad.json()["message"]
    pickup = {
        "address_id": address["address_id"],
        "pickup_time_id": address["time_slot_list"][0]["pickup_time_id"],
    }
    assert error_of(post(sandbox_client, SHIP_ORDER, account, {"order_sn": order_sn, "pickup": pickup})) == ""
    first = get(sandbox_client, TRACKING, account, order_sn=order_sn).json()["response"]
    second = get(sandbox_client, TRACKING, account, order_sn=order_sn).json()["response"]
    assert first["tracking_number"] == "" and second["tracking_number"].startswith("TW")
    [order] = [o for o in console_state(sandbox_client, shop_id)["orders"] if o["order_sn"] == order_sn]
    assert order["order_status"] == "SHIPPED" and order["tracking_number"] == second["tracking_number"]


def test_package_numbers_are_checked(sandbox_client, account):
    _token, shop_id = account
    order = orders(sandbox_client, shop_id)
    package = order["package_list"][0]["package_number"]
    ok = get(sandbox_client, SHIPPING_PARAMETER, account, order_sn=order["order_sn"], package_number=package)
    assert error_of(ok) == ""
    bad = get(sandbox_client, SHIPPING_PARAMETER, account, order_sn=order["order_sn"], package_number="OFG0")
    assert error_of(bad) == "logistics.package_not_exist"


def test_logistics_faults_go_through_injection(sandbox_client, account):
    _token, shop_id = account
    order_sn = orders(sandbox_client, shop_id)["order_sn"]
    console(sandbox_client, "faults", fail_next=1, throttle_next=1)
    failed = get(sandbox_client, SHIPPING_PARAMETER, account, order_sn=order_sn)
    assert failed.status_code == 500 and error_of(failed) == "error_server"
    throttled = get(sandbox_client, ORDER_LIST, account)
    assert throttled.status_code == 429 and error_of(throttled) == "error_rate_limit"
    assert get(sandbox_client, SHIPPING_PARAMETER, account, order_sn=order_sn).status_code == 200


# --- push configuration --------------------------------------------------------------------------------
def test_set_and_get_app_push_config(sandbox_client, account):
    _token, shop_id = account
    response = sandbox_client.post(
        API + SET_PUSH,
        params=public_query(SET_PUSH),
        json={"callback_url": PUSH_URL, "set_push_config_off": [3]},
    )
    assert response.status_code == 200 and error_of(response) == ""
    config = sandbox_client.get(API + GET_PUSH, params=public_query(GET_PUSH)).json()["response"]
    assert config["callback_url"] == PUSH_URL and 3 in config["push_config_off_list"]
    orders(sandbox_client, shop_id)  # code 3 is off: nothing delivered
    assert console_state(sandbox_client, shop_id)["deliveries"] == []
    sandbox_client.post(API + SET_PUSH, params=public_query(SET_PUSH), json={"set_push_config_on": [3]})
    order_sn = orders(sandbox_client, shop_id)["order_sn"]
    [delivery] = console_state(sandbox_client, shop_id)["deliveries"]
    body = delivery["body"].encode()
    expected = hmac.new(PARTNER_KEY.encode(), PUSH_URL.encode() + b"|" + body, hashlib.sha256).hexdigest()
    assert delivery["headers"]["Authorization"] == expected
    assert json.loads(body)["data"]["ordersn"] == order_sn and json.loads(body)["code"] == 3
    bad = sandbox_client.post(API + SET_PUSH, params=public_query(SET_PUSH), json={"callback_url": "ftp://x"})
    assert bad.status_code == 400 and error_of(bad) == "error_param"
    unsigned = sandbox_client.post(
        API + SET_PUSH, params={**public_query(SET_PUSH), "sign": "0" * 64}, json={}
    )
    assert error_of(unsigned) == "error_sign"


def test_default_push_url_and_console_override(sandbox, sandbox_client, account):
    _token, shop_id = account
    shopee = sandbox.sandbox("shopee")
    shopee.set_default_push_url(PUSH_URL)
    orders(sandbox_client, shop_id)
    assert [d["url"] for d in console_state(sandbox_client, shop_id)["deliveries"]] == [PUSH_URL]
    console(sandbox_client, "push-config", callback_url="https://other.example.com/hook")
    orders(sandbox_client, shop_id)
    assert console_state(sandbox_client, shop_id)["deliveries"][-1]["url"] == "https://other.example.com/hook"
    bad = sandbox_client.post(f"{API}/_console/push-config", json={"set_push_config_on": [99]})
    assert bad.status_code == 400


def test_deliveries_reach_the_receiver(sandbox, sandbox_client, account):
    _token, shop_id = account
    received = []
    sandbox.set_deliver(lambda url, headers, body: received.append((url, headers, body)) or 200)
    console(sandbox_client, "push-config", callback_url=PUSH_URL)
    order_sn = orders(sandbox_client, shop_id)["order_sn"]
    console(sandbox_client, f"orders/{order_sn}/cancel", request=True)
    assert [json.loads(b)["data"]["status"] for _u, _h, b in received] == ["READY_TO_SHIP", "IN_CANCEL"]
    assert console_state(sandbox_client, shop_id)["deliveries"][-1]["attempts"][-1]["status"] == 200


# --- console -----------------------------------------------------------------------------------------
def console_state(http, shop_id):
    return http.get(f"{API}/_console/state", params={"shop": shop_id}).json()


@pytest.mark.parametrize(
    "body",
    [
        {"shop": "999"},
        {"lines": []},
        {"lines": [{"quantity": 1}]},
        {"lines": [{"sku": "A", "quantity": 0}]},
        {"status": "LOST"},
        {"shipping_code": "seven"},
        {"created_at": "yesterday"},
        {"count": 0},
        {"created_at": 2000, "updated_at": 1000},
    ],
)
def test_console_order_validation(sandbox_client, account, body):
    _token, shop_id = account
    payload = {"shop": shop_id, "lines": [{"sku": "A", "quantity": 1}], **body}
    response = sandbox_client.post(f"{API}/_console/orders", json=payload)
    assert response.status_code in (400, 404), response.text


def test_console_bulk_times_cancel_and_edit(sandbox_client, account):
    _token, shop_id = account
    bulk = orders(sandbox_client, shop_id, count=3, created_at="2026-01-01T00:00:00Z", interval_seconds=60)
    assert bulk["count"] == 3
    created = sorted(o["create_time"] for o in console_state(sandbox_client, shop_id)["orders"])
    assert created == [1767225600, 1767225660, 1767225720]
    order_sn = bulk["order_sns"][0]
    cancelled = console(sandbox_client, f"orders/{order_sn}/cancel", reason="Out of stock", by="seller")
    assert cancelled["order_status"] == "CANCELLED" and cancelled["cancel_by"] == "seller"
    assert sandbox_client.post(f"{API}/_console/orders/{order_sn}/cancel", json={}).status_code == 409
    edited = console(
        sandbox_client, f"orders/{bulk['order_sns'][1]}/edit", lines=[{"sku": "B", "quantity": 4}]
    )
    assert edited["item_list"][0]["model_quantity_purchased"] == 4 and edited["update_time"] > 1767225660
    assert sandbox_client.post(f"{API}/_console/orders/NOPE/edit", json={}).status_code == 404
    assert console(sandbox_client, "settings", tracking_polls=3)["tracking_polls"] == 3
    assert sandbox_client.post(f"{API}/_console/settings", json={"tracking_polls": -1}).status_code == 400
