"""The Shopify sandbox's orders, fulfillment and webhooks, driven over HTTP with raw GraphQL (the
sandbox never imports ecbridge.platforms; these tests check it on its own)."""

import base64
import hashlib
import hmac
import json
import time

import pytest

from tests.sandbox.test_shopify import BASE, CONSOLE, SECRET, gql, install, make_shop, state

ORDERS = """
query($q: String, $after: String, $first: Int!) {
  orders(first: $first, after: $after, sortKey: UPDATED_AT, query: $q) {
    pageInfo { hasNextPage endCursor }
    nodes { id name updatedAt displayFinancialStatus displayFulfillmentStatus cancelledAt
      lineItems(first: 5) { nodes { id sku currentQuantity } } }
  }
}
"""
FULFILLMENT_ORDERS = """
query($id: ID!) { order(id: $id) { fulfillmentOrders(first: 5) { nodes { id status
  lineItems(first: 10) { nodes { id remainingQuantity lineItem { id } } } } } } }
"""
FULFIL = """
mutation($f: FulfillmentInput!) { fulfillmentCreate(fulfillment: $f) {
  fulfillment { id status trackingInfo(first: 1) { company number } } userErrors { field message } } }
"""


@pytest.fixture
def shop(sandbox_client):
    domain = make_shop(sandbox_client)
    token = install(
        sandbox_client, domain, scope="read_orders,write_orders,write_merchant_managed_fulfillment_orders"
    )
    return domain, token["access_token"]


def create(client, domain, **body):
    body.setdefault("lines", [{"sku": "A", "quantity": 1}])
    response = client.post(f"{CONSOLE}/orders", json={"shop": domain, **body})
    assert response.status_code == 200, response.text
    return response.json()


def data(response) -> dict:
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    return body["data"]


def errors(response) -> list[dict]:
    assert response.status_code == 200, response.text
    return response.json()["errors"]


# --- console ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "body,status",
    [
        ({"shop": "nope.myshopify.com", "lines": [{"sku": "A"}]}, 404),
        ({"lines": []}, 400),
        ({"lines": [{"sku": "A", "quantity": 0}]}, 400),
        ({"lines": [{"sku": "A", "quantity": "x"}]}, 400),
        ({"lines": [{"sku": "A"}], "status": "weird"}, 400),
        ({"lines": [{"sku": "A"}], "created_at": "yesterday"}, 400),
        ({"lines": [{"sku": "A"}], "count": 0}, 400),
        ({"lines": [{"sku": "A"}], "financial_status": "FREE"}, 400),
    ],
)
def test_console_order_validation(sandbox_client, shop, body, status):
    response = sandbox_client.post(f"{CONSOLE}/orders", json={"shop": shop[0], **body})
    assert response.status_code == status, response.text


def test_console_products_orders_and_state(sandbox_client, shop):
    domain, _token = shop
    made = sandbox_client.post(
        f"{CONSOLE}/products",
        json={"shop": domain, "name": "Tea", "variants": [{"sku": "T-S", "barcode": "111"}, {"sku": "T-L"}]},
    ).json()
    assert [v["sku"] for v in made["variants"]] == ["T-S", "T-L"]
    created = create(
        sandbox_client,
        domain,
        lines=[{"sku": "T-L", "quantity": 2}, {"sku": "X"}],
        created_at="2026-01-02T03:04:05Z",
    )
    assert created["name"] == "#1001" and created["created_at"] == "2026-01-02T03:04:05Z"
    assert (
        created["lines"][0]["variant_id"] == made["variants"][1]["id"]
        and created["lines"][1]["variant_id"] is None
    )
    snapshot = state(sandbox_client, domain)
    assert [o["id"] for o in snapshot["orders"]] == [created["id"]]
    assert snapshot["products"][0]["variants"][0]["barcode"] == "111"
    assert snapshot["shipments"] == []
    by_name = sandbox_client.post(f"{CONSOLE}/orders/1001/cancel", json={"shop": domain})
    assert by_name.status_code == 200 and by_name.json()["cancelled_at"]
    assert sandbox_client.post(f"{CONSOLE}/orders/1001/cancel", json={}).status_code == 409
    assert sandbox_client.post(f"{CONSOLE}/orders/999999/cancel", json={}).status_code == 404
    assert sandbox_client.post(f"{CONSOLE}/orders/1001/edit", json={"lines": "x"}).status_code == 400


def test_bulk_creation_is_one_quick_call_without_webhooks(sandbox_client, shop):
    domain, _token = shop
    started = time.monotonic()
    created = create(sandbox_client, domain, count=2000, updated_at=1_700_000_000)
    assert created["count"] == 2000 and len({o["id"] for o in created["orders"]}) == 2000
    assert time.monotonic() - started < 20
    assert state(sandbox_client, domain)["deliveries"] == []


# --- orders query ----------------------------------------------------------------------------------
def test_orders_need_a_token_and_the_orders_scope(sandbox_client):
    domain = make_shop(sandbox_client)
    assert gql(sandbox_client, domain, None, ORDERS, {"first": 1}).status_code == 401
    token = install(sandbox_client, domain, scope="read_products")["access_token"]
    [error] = errors(gql(sandbox_client, domain, token, ORDERS, {"first": 1}))
    assert error["extensions"]["code"] == "ACCESS_DENIED"


def test_keyset_pages_are_exact_even_when_update_times_tie(sandbox_client, shop):
    domain, token = shop
    create(sandbox_client, domain, count=25, updated_at="2026-02-01T00:00:00Z")  # all the same time
    create(sandbox_client, domain, updated_at="2026-02-01T00:00:01Z")
    seen, after, calls = [], None, 0
    while True:
        page = data(gql(sandbox_client, domain, token, ORDERS, {"first": 10, "after": after}))["orders"]
        calls += 1
        seen += [n["id"] for n in page["nodes"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert calls == 3 and len(seen) == 26 and len(set(seen)) == 26
    assert seen == sorted(seen[:25]) + seen[25:]  # ties ordered by id; the later update last
    empty = data(gql(sandbox_client, domain, token, ORDERS, {"first": 10, "q": "updated_at:>'2030-01-01'"}))
    assert empty["orders"]["pageInfo"] == {"hasNextPage": False, "endCursor": None}


@pytest.mark.parametrize(
    "query,expected",
    [
        ("updated_at:>='2026-01-01T00:00:00Z' AND updated_at:<'2026-01-01T01:00:00Z'", ["#1001", "#1002"]),
        ("updated_at:>'2026-01-01T00:00:00Z' updated_at:<='2026-01-01T01:00:00Z'", ["#1002", "#1003"]),
        ('created_at:>="2026-01-01T00:30:00+00:00"', ["#1002", "#1003"]),
        ("updated_at:<2026-01-01", []),
    ],
)
def test_search_syntax(sandbox_client, shop, query, expected):
    domain, token = shop
    for at in ("2026-01-01T00:00:00Z", "2026-01-01T00:30:00Z", "2026-01-01T01:00:00Z"):
        create(sandbox_client, domain, created_at=at)
    found = data(gql(sandbox_client, domain, token, ORDERS, {"first": 50, "q": query}))["orders"]["nodes"]
    assert [n["name"] for n in found] == expected


@pytest.mark.parametrize(
    "query", ["status:open", "updated_at:>'2026-01-01' OR updated_at:<'2025-01-01'", "updated_at:>'soon'"]
)
def test_unsupported_search_is_an_error_not_everything(sandbox_client, shop, query):
    domain, token = shop
    create(sandbox_client, domain)
    response = gql(sandbox_client, domain, token, ORDERS, {"first": 5, "q": query})
    assert response.json()["data"] is None and errors(response)


def test_the_briefs_nested_page_sizes_exceed_the_max_cost(sandbox_client, shop):
    domain, token = shop
    query = "{ orders(first: 100) { nodes { id lineItems(first: 100) { nodes { id variant { id } } } } } }"
    [error] = errors(gql(sandbox_client, domain, token, query))
    assert error["extensions"]["code"] == "MAX_COST_EXCEEDED" and error["extensions"]["cost"] > 1000


def test_actual_cost_is_refunded_to_the_bucket(sandbox_client, shop):
    domain, token = shop
    create(sandbox_client, domain)
    cost = gql(sandbox_client, domain, token, ORDERS, {"first": 50}).json()["extensions"]["cost"]
    assert cost["requestedQueryCost"] == 2 + 50 * (1 + 2 + 5 * 1)
    assert cost["actualQueryCost"] == 2 + 1 * (1 + 2 + 1)
    assert cost["throttleStatus"]["currentlyAvailable"] >= 2000 - cost["actualQueryCost"] - 1


def test_nodes_limits_and_unknown_ids(sandbox_client, shop):
    domain, token = shop
    created = create(sandbox_client, domain)
    query = "query($ids: [ID!]!) { nodes(ids: $ids) { id ... on Order { name } } }"
    found = data(gql(sandbox_client, domain, token, query, {"ids": [created["id"], "gid://shopify/Order/1"]}))
    assert found["nodes"] == [{"id": created["id"], "name": "#1001"}, None]
    too_many = gql(sandbox_client, domain, token, query, {"ids": [created["id"]] * 251})
    assert errors(too_many)[0]["extensions"]["code"] in ("MAX_INPUT_SIZE_EXCEEDED", "MAX_COST_EXCEEDED")


def test_faults_reach_the_orders_endpoint(sandbox_client, shop):
    domain, token = shop
    sandbox_client.post(f"{CONSOLE}/faults", json={"fail_next": 1, "throttle_next": 1})
    assert gql(sandbox_client, domain, token, ORDERS, {"first": 1}).status_code == 503
    throttled = gql(sandbox_client, domain, token, ORDERS, {"first": 1})
    assert errors(throttled)[0]["extensions"]["code"] == "THROTTLED"
    assert gql(sandbox_client, domain, token, ORDERS, {"first": 1}).status_code == 200


# --- fulfillment -----------------------------------------------------------------------------------
def fulfillment_orders(client, domain, token, order_id) -> list[dict]:
    return data(gql(client, domain, token, FULFILLMENT_ORDERS, {"id": order_id}))["order"][
        "fulfillmentOrders"
    ]["nodes"]


def test_fulfillment_closes_the_fulfillment_order_and_records_the_shipment(sandbox_client, shop):
    domain, token = shop
    created = create(sandbox_client, domain, lines=[{"sku": "A", "quantity": 3}])
    [fo] = fulfillment_orders(sandbox_client, domain, token, created["id"])
    [item] = fo["lineItems"]["nodes"]
    variables = {
        "f": {
            "lineItemsByFulfillmentOrder": [
                {
                    "fulfillmentOrderId": fo["id"],
                    "fulfillmentOrderLineItems": [{"id": item["id"], "quantity": 4}],
                }
            ],
            "trackingInfo": {"company": "UPS", "number": "1Z999"},
        }
    }
    refused = data(gql(sandbox_client, domain, token, FULFIL, variables))["fulfillmentCreate"]
    assert refused["fulfillment"] is None and "quantity" in refused["userErrors"][0]["message"]
    variables["f"]["lineItemsByFulfillmentOrder"][0]["fulfillmentOrderLineItems"][0]["quantity"] = 3
    done = data(gql(sandbox_client, domain, token, FULFIL, variables))["fulfillmentCreate"]
    assert done["userErrors"] == [] and done["fulfillment"]["trackingInfo"] == [
        {"company": "UPS", "number": "1Z999"}
    ]
    [fo] = fulfillment_orders(sandbox_client, domain, token, created["id"])
    assert fo["status"] == "CLOSED" and fo["lineItems"]["nodes"][0]["remainingQuantity"] == 0
    snapshot = state(sandbox_client, domain)
    assert snapshot["orders"][0]["fulfillment_status"] == "FULFILLED"
    assert [s["tracking_number"] for s in snapshot["shipments"]] == ["1Z999"]
    again = data(gql(sandbox_client, domain, token, FULFIL, variables))["fulfillmentCreate"]
    assert again["fulfillment"] is None and "unfulfillable status" in again["userErrors"][0]["message"]


def test_fulfillment_of_unknown_or_foreign_fulfillment_orders(sandbox_client, shop):
    domain, token = shop
    other = make_shop(sandbox_client, name="Other")
    foreign = create(sandbox_client, other)
    fo_id = foreign["fulfillment_orders"][0]["id"]
    for bad in (fo_id, "gid://shopify/FulfillmentOrder/1", "gid://shopify/Order/1"):
        variables = {"f": {"lineItemsByFulfillmentOrder": [{"fulfillmentOrderId": bad}]}}
        payload = data(gql(sandbox_client, domain, token, FULFIL, variables))["fulfillmentCreate"]
        assert payload["userErrors"][0]["message"] == "Fulfillment order does not exist."
    assert state(sandbox_client, other)["shipments"] == []


def test_fulfillment_needs_a_fulfillment_scope(sandbox_client):
    domain = make_shop(sandbox_client)
    token = install(sandbox_client, domain, scope="read_orders")["access_token"]
    created = create(sandbox_client, domain)
    variables = {
        "f": {"lineItemsByFulfillmentOrder": [{"fulfillmentOrderId": created["fulfillment_orders"][0]["id"]}]}
    }
    [error] = errors(gql(sandbox_client, domain, token, FULFIL, variables))
    assert error["extensions"]["code"] == "ACCESS_DENIED"


# --- webhooks --------------------------------------------------------------------------------------
SUBSCRIBE = """
mutation($topic: WebhookSubscriptionTopic!, $uri: String!) {
  webhookSubscriptionCreate(topic: $topic, webhookSubscription: {uri: $uri, format: JSON}) {
    webhookSubscription { id } userErrors { message } } }
"""


def subscribe(client, domain, token, *topics, uri="https://wms.example/webhooks/shopify/"):
    for topic in topics:
        created = data(gql(client, domain, token, SUBSCRIBE, {"topic": topic, "uri": uri}))
        assert created["webhookSubscriptionCreate"]["userErrors"] == []


def test_deliveries_are_signed_and_carry_the_order(sandbox_client, shop):
    domain, token = shop
    received = []
    sandbox_client._transport.set_deliver(
        lambda url, headers, body: received.append((url, headers, body)) or 200
    )
    subscribe(
        sandbox_client,
        domain,
        token,
        "ORDERS_CREATE",
        "ORDERS_UPDATED",
        "ORDERS_CANCELLED",
        "ORDERS_FULFILLED",
    )
    created = create(sandbox_client, domain)
    sandbox_client.post(f"{CONSOLE}/orders/{created['legacy_id']}/edit", json={"note": "ring twice"})
    fo = created["fulfillment_orders"][0]["id"]
    data(
        gql(
            sandbox_client,
            domain,
            token,
            FULFIL,
            {"f": {"lineItemsByFulfillmentOrder": [{"fulfillmentOrderId": fo}]}},
        )
    )
    topics = [headers["X-Shopify-Topic"] for _url, headers, _body in received]
    assert topics == ["orders/create", "orders/updated", "orders/updated", "orders/fulfilled"]
    for url, headers, body in received:
        assert url == "https://wms.example/webhooks/shopify/"
        expected = base64.b64encode(hmac.new(SECRET.encode(), body, hashlib.sha256).digest()).decode()
        assert headers["X-Shopify-Hmac-Sha256"] == expected
        assert headers["X-Shopify-Shop-Domain"] == domain and headers["Content-Type"] == "application/json"
        assert headers["X-Shopify-API-Version"] == "2026-07" and headers["X-Shopify-Triggered-At"]
        payload = json.loads(body)
        assert payload["id"] == created["legacy_id"] and payload["admin_graphql_api_id"] == created["id"]
    assert json.loads(received[1][2])["note"] == "ring twice"
    assert json.loads(received[-1][2])["fulfillment_status"] == "fulfilled"
    assert len({h["X-Shopify-Webhook-Id"] for _u, h, _b in received}) == 4


def test_redelivery_keeps_the_webhook_id_and_body(sandbox_client, shop):
    domain, token = shop
    subscribe(sandbox_client, domain, token, "ORDERS_CREATE")
    create(sandbox_client, domain)
    [delivery] = state(sandbox_client, domain)["deliveries"]
    again = sandbox_client.post(f"{CONSOLE}/deliveries/{delivery['id']}/redeliver").json()
    assert again["headers"]["X-Shopify-Webhook-Id"] == delivery["headers"]["X-Shopify-Webhook-Id"]
    assert again["body"] == delivery["body"] and len(again["attempts"]) == 2


def test_no_subscription_no_delivery_and_uninstall_notifies_first(sandbox_client, shop):
    domain, token = shop
    create(sandbox_client, domain)
    assert state(sandbox_client, domain)["deliveries"] == []
    subscribe(sandbox_client, domain, token, "APP_UNINSTALLED")
    sandbox_client.post(f"{CONSOLE}/uninstall", json={"shop": domain})
    [delivery] = state(sandbox_client, domain)["deliveries"]
    assert (
        delivery["topic"] == "app/uninstalled" and json.loads(delivery["body"])["myshopify_domain"] == domain
    )
    assert state(sandbox_client, domain)["webhooks"] == []


def test_sandbox_never_imports_the_client():
    import ecbridge.sandbox.shopify.orders as module

    source = open(module.__file__).read()
    assert "ecbridge.platforms" not in source
    assert BASE == "/sandbox/shopify"
