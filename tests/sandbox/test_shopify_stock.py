"""The Shopify sandbox's products, locations and inventory mutations, driven over HTTP with raw
GraphQL (the sandbox never imports ecbridge.platforms; these tests check it on its own)."""

import pytest

from tests.sandbox.test_shopify import CONSOLE, faults, gql, install, make_shop, state

VARIANTS = """
query($first: Int!, $after: String, $q: String) {
  productVariants(first: $first, after: $after, query: $q) {
    pageInfo { hasNextPage endCursor }
    nodes { id sku barcode title updatedAt product { id title status }
      inventoryItem { id tracked inventoryLevels(first: 1) { nodes { location { id }
        quantities(names: ["available", "on_hand"]) { name quantity } } } }
      inventoryQuantity }
  }
}
"""
LEVELS = """
query($ids: [ID!]!, $loc: ID!) {
  nodes(ids: $ids) { ... on InventoryItem { id inventoryLevel(locationId: $loc) {
    quantities(names: ["available"]) { name quantity } } } }
}
"""
ADJUST = """
mutation($input: InventoryAdjustQuantitiesInput!, $key: String!) {
  inventoryAdjustQuantities(input: $input) @idempotent(key: $key) {
    inventoryAdjustmentGroup { id reason changes { name delta quantityAfterChange item { id } } }
    userErrors { code field message }
  }
}
"""
ADJUST_NO_KEY = """
mutation($input: InventoryAdjustQuantitiesInput!) {
  inventoryAdjustQuantities(input: $input) {
    inventoryAdjustmentGroup { id } userErrors { code field message }
  }
}
"""
SET = """
mutation($input: InventorySetQuantitiesInput!, $key: String!) {
  inventorySetQuantities(input: $input) @idempotent(key: $key) {
    inventoryAdjustmentGroup { id changes(quantityNames: ["available"]) { name delta quantityAfterChange } }
    userErrors { code field message }
  }
}
"""
LOCATION = "gid://shopify/Location/61000000001"


@pytest.fixture
def shop(sandbox_client):
    domain = make_shop(sandbox_client)
    token = install(sandbox_client, domain, scope="read_products,read_inventory,write_inventory,read_orders")
    return domain, token["access_token"]


def product(client, domain, **body) -> dict:
    body.setdefault("name", "Tea")
    response = client.post(f"{CONSOLE}/products", json={"shop": domain, **body})
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


def items(made: dict) -> list[str]:
    return [v["inventory_item_id"] for v in made["variants"]]


def adjust_input(pairs, name="available", reason="received") -> dict:
    return {
        "name": name,
        "reason": reason,
        "changes": [{"delta": d, "inventoryItemId": i, "locationId": LOCATION} for i, d in pairs],
    }


def set_input(pairs, **extra) -> dict:
    return {
        "name": "available",
        "reason": "correction",
        "quantities": [
            {"inventoryItemId": i, "locationId": LOCATION, "quantity": q, "changeFromQuantity": c}
            for i, q, c in pairs
        ],
        **extra,
    }


def stock(client, domain) -> dict[str, int]:
    return {v["sku"]: v["stock"] for p in state(client, domain)["products"] for v in p["variants"]}


# --- listing and reads ---------------------------------------------------------------------------------
def test_variants_page_with_levels_and_search(sandbox_client, shop):
    domain, token = shop
    product(sandbox_client, domain, variants=[{"sku": f"V{n}", "stock": n} for n in range(1, 6)])
    product(
        sandbox_client, domain, name="Preorder", variants=[{"sku": "PRE", "stocked": False}], status="draft"
    )
    first = data(gql(sandbox_client, domain, token, VARIANTS, {"first": 4}))["productVariants"]
    assert [n["sku"] for n in first["nodes"]] == ["V1", "V2", "V3", "V4"]
    assert first["pageInfo"]["hasNextPage"]
    rest = data(
        gql(sandbox_client, domain, token, VARIANTS, {"first": 4, "after": first["pageInfo"]["endCursor"]})
    )["productVariants"]
    assert [n["sku"] for n in rest["nodes"]] == ["V5", "PRE"] and not rest["pageInfo"]["hasNextPage"]
    v3 = first["nodes"][2]
    level = v3["inventoryItem"]["inventoryLevels"]["nodes"][0]
    assert level["location"]["id"] == LOCATION
    assert level["quantities"] == [{"name": "available", "quantity": 3}, {"name": "on_hand", "quantity": 3}]
    assert v3["inventoryQuantity"] == 3
    pre = rest["nodes"][1]
    assert pre["inventoryItem"]["inventoryLevels"]["nodes"] == [] and pre["product"]["status"] == "DRAFT"
    found = data(gql(sandbox_client, domain, token, VARIANTS, {"first": 5, "q": "sku:'V2'"}))[
        "productVariants"
    ]
    assert [n["sku"] for n in found["nodes"]] == ["V2"]
    bad = errors(gql(sandbox_client, domain, token, VARIANTS, {"first": 5, "q": "vendor:x"}))
    assert "Invalid search field" in bad[0]["message"]


def test_listing_cost_is_accounted_and_capped(sandbox_client, shop):
    domain, token = shop
    body = gql(sandbox_client, domain, token, VARIANTS, {"first": 124}).json()
    assert body["extensions"]["cost"]["requestedQueryCost"] == 2 + 124 * 8
    assert body["extensions"]["cost"]["actualQueryCost"] == 2  # nothing listed: refunded
    too_big = errors(gql(sandbox_client, domain, token, VARIANTS, {"first": 250}))
    assert too_big[0]["extensions"]["code"] == "MAX_COST_EXCEEDED"


def test_batch_reads_by_inventory_item(sandbox_client, shop):
    domain, token = shop
    made = product(sandbox_client, domain, variants=[{"sku": "A", "stock": 4}, {"sku": "B", "stock": 0}])
    other = make_shop(sandbox_client, name="Other")
    foreign = product(sandbox_client, other, sku="X", stock=9)
    ids = items(made) + items(foreign)
    nodes = data(gql(sandbox_client, domain, token, LEVELS, {"ids": ids, "loc": LOCATION}))["nodes"]
    assert [n and n["inventoryLevel"]["quantities"][0]["quantity"] for n in nodes] == [4, 0, None]
    too_many = errors(gql(sandbox_client, domain, token, LEVELS, {"ids": ids[:1] * 251, "loc": LOCATION}))
    assert too_many[0]["extensions"]["code"] == "MAX_INPUT_SIZE_EXCEEDED"


def test_reads_need_the_scopes(sandbox_client):
    domain = make_shop(sandbox_client, name="Narrow")
    token = install(sandbox_client, domain, scope="read_orders")["access_token"]
    denied = errors(gql(sandbox_client, domain, token, VARIANTS, {"first": 1}))
    assert denied[0]["extensions"]["code"] == "ACCESS_DENIED"


# --- adjust --------------------------------------------------------------------------------------------
def test_adjust_applies_and_records_the_ledger(sandbox_client, shop):
    domain, token = shop
    a, b = items(
        product(sandbox_client, domain, variants=[{"sku": "A", "stock": 2}, {"sku": "B", "stock": 5}])
    )
    result = data(
        gql(sandbox_client, domain, token, ADJUST, {"input": adjust_input([(a, 3), (b, -1)]), "key": "k1"})
    )
    group = result["inventoryAdjustQuantities"]["inventoryAdjustmentGroup"]
    available = [c for c in group["changes"] if c["name"] == "available"]
    assert [(c["item"]["id"], c["delta"], c["quantityAfterChange"]) for c in available] == [
        (a, 3, 5),
        (b, -1, 4),
    ]
    assert stock(sandbox_client, domain) == {"A": 5, "B": 4}
    rows = [
        r for r in state(sandbox_client, domain)["stock_ledger"] if r["source"] == "inventoryAdjustQuantities"
    ]
    assert [(r["sku"], r["before"], r["after"]) for r in rows] == [("A", 2, 5), ("B", 5, 4)]
    assert "key=k1" in rows[0]["detail"]


def test_the_same_key_answers_the_original_result_and_applies_nothing(sandbox_client, shop):
    domain, token = shop
    (a,) = items(product(sandbox_client, domain, sku="A", stock=1))
    variables = {"input": adjust_input([(a, 2)]), "key": "same"}
    first = data(gql(sandbox_client, domain, token, ADJUST, variables))
    second = data(gql(sandbox_client, domain, token, ADJUST, variables))
    assert first == second
    assert stock(sandbox_client, domain) == {"A": 3}
    changed = dict(variables, input=adjust_input([(a, 5)]))
    mismatch = data(gql(sandbox_client, domain, token, ADJUST, changed))["inventoryAdjustQuantities"]
    assert mismatch["userErrors"][0]["code"] == "IDEMPOTENCY_KEY_PARAMETER_MISMATCH"
    assert stock(sandbox_client, domain) == {"A": 3}


def test_the_key_is_mandatory_from_2026_04(sandbox_client, shop):
    domain, token = shop
    (a,) = items(product(sandbox_client, domain, sku="A", stock=1))
    refused = errors(gql(sandbox_client, domain, token, ADJUST_NO_KEY, {"input": adjust_input([(a, 1)])}))
    assert "@idempotent" in refused[0]["message"]
    assert stock(sandbox_client, domain) == {"A": 1}
    older = gql(
        sandbox_client, domain, token, ADJUST_NO_KEY, {"input": adjust_input([(a, 1)])}, version="2026-01"
    )
    assert data(older)["inventoryAdjustQuantities"]["userErrors"] == []
    assert stock(sandbox_client, domain) == {"A": 2}


def test_more_than_250_changes_is_an_error(sandbox_client, shop):
    domain, token = shop
    (a,) = items(product(sandbox_client, domain, sku="A", stock=1))
    variables = {"input": adjust_input([(a, 1)] * 251), "key": "big"}
    refused = errors(gql(sandbox_client, domain, token, ADJUST, variables))
    assert refused[0]["extensions"]["code"] == "MAX_INPUT_SIZE_EXCEEDED"
    assert stock(sandbox_client, domain) == {"A": 1}


def test_a_locked_sku_refuses_its_change_and_nothing_is_applied(sandbox_client, shop):
    domain, token = shop
    a, b, c = items(product(sandbox_client, domain, variants=[{"sku": s, "stock": 1} for s in "ABC"]))
    response = sandbox_client.post(
        f"{CONSOLE}/stock_lock", json={"shop": domain, "sku": "B", "reason": "Bundle"}
    )
    assert response.json() == {"shop": domain, "sku": "B", "locked": True, "reason": "Bundle"}
    variables = {"input": adjust_input([(a, 1), (b, 1), (c, 1)]), "key": "lock-1"}
    payload = data(gql(sandbox_client, domain, token, ADJUST, variables))["inventoryAdjustQuantities"]
    assert payload["inventoryAdjustmentGroup"] is None
    assert payload["userErrors"] == [
        {
            "code": "NON_MUTABLE_INVENTORY_ITEM",
            "field": ["input", "changes", "1", "inventoryItemId"],
            "message": "Bundle",
        }
    ]
    assert stock(sandbox_client, domain) == {"A": 1, "B": 1, "C": 1}
    assert state(sandbox_client, domain)["products"][0]["variants"][1]["locked"] == "Bundle"
    sandbox_client.post(f"{CONSOLE}/stock_lock", json={"shop": domain, "sku": "B", "reason": ""})
    again = data(gql(sandbox_client, domain, token, ADJUST, {**variables, "key": "lock-2"}))
    assert again["inventoryAdjustQuantities"]["userErrors"] == []
    assert stock(sandbox_client, domain) == {"A": 2, "B": 2, "C": 2}


def test_a_failed_attempt_is_remembered(sandbox_client, shop):
    domain, token = shop
    (a,) = items(product(sandbox_client, domain, sku="A", stock=1))
    sandbox_client.post(f"{CONSOLE}/stock_lock", json={"shop": domain, "sku": "A", "reason": "Locked"})
    variables = {"input": adjust_input([(a, 1)]), "key": "fail-1"}
    assert data(gql(sandbox_client, domain, token, ADJUST, variables))["inventoryAdjustQuantities"][
        "userErrors"
    ]
    sandbox_client.post(f"{CONSOLE}/stock_lock", json={"shop": domain, "sku": "A", "reason": ""})
    replay = data(gql(sandbox_client, domain, token, ADJUST, variables))["inventoryAdjustQuantities"]
    assert replay["userErrors"][0]["message"] == "Locked"  # the original answer, not a new attempt
    newest = data(gql(sandbox_client, domain, token, ADJUST, variables, version="2026-10"))
    assert (
        newest["inventoryAdjustQuantities"]["userErrors"][0]["code"] == "IDEMPOTENCY_PREVIOUS_ATTEMPT_FAILED"
    )
    assert stock(sandbox_client, domain) == {"A": 1}


def test_bad_reason_name_item_and_location_are_user_errors(sandbox_client, shop):
    domain, token = shop
    (a,) = items(product(sandbox_client, domain, sku="A", stock=1))
    other = make_shop(sandbox_client, name="Other")
    (foreign,) = items(product(sandbox_client, other, sku="X", stock=1))
    bad = adjust_input([(a, 1), (foreign, 1)], reason="because", name="incoming")
    bad["changes"].append({"delta": 1, "inventoryItemId": a, "locationId": "gid://shopify/Location/1"})
    payload = data(gql(sandbox_client, domain, token, ADJUST, {"input": bad, "key": "bad"}))
    codes = [e["code"] for e in payload["inventoryAdjustQuantities"]["userErrors"]]
    assert codes == ["INVALID_REASON", "INVALID_QUANTITY_NAME", "INVALID_INVENTORY_ITEM", "INVALID_LOCATION"]
    assert stock(sandbox_client, domain) == {"A": 1}


# --- set -----------------------------------------------------------------------------------------------
def test_set_with_change_from_quantity(sandbox_client, shop):
    domain, token = shop
    a, b = items(
        product(sandbox_client, domain, variants=[{"sku": "A", "stock": 3}, {"sku": "B", "stock": 8}])
    )
    stale = data(
        gql(sandbox_client, domain, token, SET, {"input": set_input([(a, 10, 3), (b, 0, 7)]), "key": "s1"})
    )
    assert [e["code"] for e in stale["inventorySetQuantities"]["userErrors"]] == [
        "CHANGE_FROM_QUANTITY_STALE"
    ]
    assert stock(sandbox_client, domain) == {"A": 3, "B": 8}
    done = data(
        gql(sandbox_client, domain, token, SET, {"input": set_input([(a, 10, 3), (b, 0, None)]), "key": "s2"})
    )
    changes = done["inventorySetQuantities"]["inventoryAdjustmentGroup"]["changes"]
    assert [(c["delta"], c["quantityAfterChange"]) for c in changes] == [(7, 10), (-8, 0)]
    assert stock(sandbox_client, domain) == {"A": 10, "B": 0}
    rows = [
        r for r in state(sandbox_client, domain)["stock_ledger"] if r["source"] == "inventorySetQuantities"
    ]
    assert [(r["sku"], r["delta"]) for r in rows] == [("A", 7), ("B", -8)]


def test_set_needs_change_from_quantity_and_refuses_negatives_and_duplicates(sandbox_client, shop):
    domain, token = shop
    (a,) = items(product(sandbox_client, domain, sku="A", stock=3))
    omitted = set_input([(a, 1, None)])
    del omitted["quantities"][0]["changeFromQuantity"]
    payload = data(gql(sandbox_client, domain, token, SET, {"input": omitted, "key": "o"}))
    assert payload["inventorySetQuantities"]["userErrors"][0]["code"] == "COMPARE_QUANTITY_REQUIRED"
    negative = data(
        gql(sandbox_client, domain, token, SET, {"input": set_input([(a, -1, None)]), "key": "n"})
    )
    assert negative["inventorySetQuantities"]["userErrors"][0]["code"] == "INVALID_QUANTITY_NEGATIVE"
    twice = data(
        gql(sandbox_client, domain, token, SET, {"input": set_input([(a, 1, None)] * 2), "key": "d"})
    )
    assert (
        twice["inventorySetQuantities"]["userErrors"][0]["code"]
        == "NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR"
    )
    assert stock(sandbox_client, domain) == {"A": 3}


def test_writes_need_write_inventory(sandbox_client):
    domain = make_shop(sandbox_client, name="Reader")
    token = install(sandbox_client, domain, scope="read_products,read_inventory")["access_token"]
    (a,) = items(product(sandbox_client, domain, sku="A", stock=3))
    denied = errors(gql(sandbox_client, domain, token, ADJUST, {"input": adjust_input([(a, 1)]), "key": "x"}))
    assert denied[0]["extensions"]["code"] == "ACCESS_DENIED"


def test_injected_5xx_applies_nothing(sandbox_client, shop):
    domain, token = shop
    (a,) = items(product(sandbox_client, domain, sku="A", stock=3))
    faults(sandbox_client, fail_next=1)
    response = gql(sandbox_client, domain, token, ADJUST, {"input": adjust_input([(a, 1)]), "key": "f"})
    assert response.status_code == 503
    assert stock(sandbox_client, domain) == {"A": 3}


# --- console -------------------------------------------------------------------------------------------
def test_console_stock_and_lock_validate(sandbox_client, shop):
    domain, _token = shop
    product(sandbox_client, domain, sku="A", stock=3)
    ok = sandbox_client.post(f"{CONSOLE}/stock", json={"shop": domain, "sku": "A", "stock": 11})
    assert ok.status_code == 200 and ok.json()["stock"] == 11
    assert (
        sandbox_client.post(f"{CONSOLE}/stock", json={"shop": domain, "sku": "A", "stock": "x"}).status_code
        == 400
    )
    assert (
        sandbox_client.post(f"{CONSOLE}/stock", json={"shop": domain, "sku": "A", "stock": -1}).status_code
        == 400
    )
    assert (
        sandbox_client.post(f"{CONSOLE}/stock", json={"shop": domain, "sku": "Z", "stock": 1}).status_code
        == 404
    )
    assert (
        sandbox_client.post(
            f"{CONSOLE}/stock_lock", json={"shop": domain, "sku": "Z", "reason": "x"}
        ).status_code
        == 404
    )
    assert (
        sandbox_client.post(f"{CONSOLE}/stock", json={"shop": "nope", "sku": "A", "stock": 1}).status_code
        == 404
    )
    rows = state(sandbox_client, domain)["stock_ledger"]
    assert [(r["source"], r["before"], r["after"]) for r in rows] == [("console", 0, 3), ("console", 3, 11)]


def test_an_order_lowers_stock_never_below_zero_and_is_never_refused(sandbox_client, shop):
    domain, _token = shop
    product(sandbox_client, domain, variants=[{"sku": "A", "stock": 5}, {"sku": "B", "stock": 1}])
    response = sandbox_client.post(
        f"{CONSOLE}/orders",
        json={
            "shop": domain,
            "lines": [{"sku": "A", "quantity": 2}, {"sku": "B", "quantity": 3}, {"sku": "?"}],
        },
    )
    assert response.status_code == 200, response.text
    assert stock(sandbox_client, domain) == {"A": 3, "B": 0}
    rows = [r for r in state(sandbox_client, domain)["stock_ledger"] if r["source"] == "order"]
    assert [(r["sku"], r["before"], r["after"]) for r in rows] == [("A", 5, 3), ("B", 1, 0)]
    assert response.json()["name"] in rows[0]["detail"]
    bulk = sandbox_client.post(
        f"{CONSOLE}/orders", json={"shop": domain, "lines": [{"sku": "A"}], "count": 2}
    )
    assert bulk.status_code == 200
    assert stock(sandbox_client, domain) == {"A": 1, "B": 0}
