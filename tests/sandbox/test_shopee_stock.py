"""The Shopee sandbox's product and stock endpoints over raw HTTP, signed with the tests' own HMAC
(tests/platforms/shopee/helpers.sign), independent of the client; and its stock console."""

import pytest

from tests.platforms.shopee.helpers import API, connect, shop_query

pytestmark = pytest.mark.django_db

ITEM_LIST = "/api/v2/product/get_item_list"
BASE_INFO = "/api/v2/product/get_item_base_info"
MODEL_LIST = "/api/v2/product/get_model_list"
UPDATE_STOCK = "/api/v2/product/update_stock"


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


def console(http, path, expect=200, **body):
    response = http.post(f"{API}/_console/{path}", json=body)
    assert response.status_code == expect, response.text
    return response.json()


def product(http, shop_id, sku, stock=0, **body):
    return console(http, "products", shop=shop_id, sku=sku, name=body.pop("name", sku), stock=stock, **body)


def state(http, shop_id):
    return http.get(f"{API}/_console/state", params={"shop": shop_id}).json()


def ok(response):
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["error"] == "", body
    return body["response"]


def error_of(response):
    body = response.json()
    assert set(body) >= {"request_id", "error", "message"} and "response" not in body
    return response.status_code, body["error"], body["message"]


def stock_entry(model_id, stock, location_id=None):
    seller = {"stock": stock} if location_id is None else {"location_id": location_id, "stock": stock}
    return {"model_id": model_id, "seller_stock": [seller]}


# --- get_item_list ------------------------------------------------------------------------------------
def test_item_list_pages_by_offset_and_filters_by_repeated_status(sandbox_client, account):
    _token, shop_id = account
    made = [product(sandbox_client, shop_id, f"P{n}")["item_id"] for n in range(5)]
    unlisted = product(sandbox_client, shop_id, "U", status="UNLIST")["item_id"]
    product(sandbox_client, shop_id, "B", status="BANNED")

    first = ok(
        get(sandbox_client, ITEM_LIST, account, offset=0, page_size=4, item_status=["NORMAL", "UNLIST"])
    )
    assert [i["item_id"] for i in first["item"]] == made[:4]
    assert first["item"][0]["item_status"] == "NORMAL" and first["item"][0]["update_time"] > 0
    assert (first["total_count"], first["has_next_page"], first["next_offset"]) == (6, True, 4)
    last = ok(
        get(sandbox_client, ITEM_LIST, account, offset=4, page_size=4, item_status=["NORMAL", "UNLIST"])
    )
    assert [i["item_id"] for i in last["item"]] == [made[4], unlisted]
    assert (last["has_next_page"], last["next_offset"]) == (False, 0)
    normal = ok(get(sandbox_client, ITEM_LIST, account, offset=0, page_size=100, item_status="NORMAL"))
    assert normal["total_count"] == 5
    # past the end: no "item" at all (UNCONFIRMED, the client accepts both)
    beyond = ok(get(sandbox_client, ITEM_LIST, account, offset=10, page_size=100, item_status="NORMAL"))
    assert "item" not in beyond and beyond["has_next_page"] is False


@pytest.mark.parametrize(
    "params",
    [
        {"offset": 0, "page_size": 0, "item_status": "NORMAL"},
        {"offset": 0, "page_size": 101, "item_status": "NORMAL"},
        {"offset": 0, "item_status": "NORMAL"},
        {"offset": -1, "page_size": 10, "item_status": "NORMAL"},
        {"offset": 0, "page_size": 10},
        {"offset": 0, "page_size": 10, "item_status": "SOLD_OUT"},
    ],
)
def test_item_list_parameter_errors(sandbox_client, account, params):
    status, error, message = error_of(get(sandbox_client, ITEM_LIST, account, **params))
    assert (status, error) == (400, "error_param") and message


def test_product_apis_need_a_valid_signature(sandbox_client, account):
    token, shop_id = account
    params = {**shop_query(ITEM_LIST, token, shop_id), "offset": 0, "page_size": 10, "item_status": "NORMAL"}
    params["sign"] = "0" * 64
    status, error, _message = error_of(sandbox_client.get(API + ITEM_LIST, params=params))
    assert (status, error) == (403, "error_sign")


# --- get_item_base_info / get_model_list ---------------------------------------------------------------
def test_base_info_gives_stock_for_items_without_models_and_never_a_barcode(sandbox_client, account):
    _token, shop_id = account
    plain = product(sandbox_client, shop_id, "PLAIN", stock=4, barcode="4710000000017")
    tee = product(
        sandbox_client, shop_id, "TEE", variants=[{"sku": "TEE-S", "stock": 2, "barcode": "4710000000024"}]
    )
    response = get(
        sandbox_client, BASE_INFO, account, item_id_list=f"{plain['item_id']},{tee['item_id']},123"
    )
    assert "123" in response.json()["warning"]
    first, second = ok(response)["item_list"]
    assert (first["item_sku"], first["has_model"]) == ("PLAIN", False)
    assert first["stock_info_v2"]["seller_stock"] == [{"location_id": "TWZ", "stock": 4, "if_saleable": True}]
    assert first["stock_info_v2"]["summary_info"] == {"total_reserved_stock": 0, "total_available_stock": 4}
    assert second["has_model"] is True and "stock_info_v2" not in second and "price_info" not in second
    assert "4710000000017" not in response.text and "barcode" not in response.text
    models = ok(get(sandbox_client, MODEL_LIST, account, item_id=tee["item_id"]))
    assert models["tier_variation"] == [{"name": "Variation", "option_list": [{"option": "TEE-S"}]}]
    [model] = models["model"]
    assert (model["model_sku"], model["model_status"], model["tier_index"]) == ("TEE-S", "MODEL_NORMAL", [0])
    assert model["stock_info_v2"]["seller_stock"][0]["stock"] == 2 and "barcode" not in model
    assert state(sandbox_client, shop_id)["products"][0]["barcode"] == "4710000000017"  # kept, not served


def test_base_info_takes_at_most_50_ids(sandbox_client, account):
    ids = ",".join(str(1000000001 + n) for n in range(51))
    assert error_of(get(sandbox_client, BASE_INFO, account, item_id_list=ids))[:2] == (400, "error_param")
    assert error_of(get(sandbox_client, BASE_INFO, account, item_id_list=""))[:2] == (400, "error_param")
    assert error_of(get(sandbox_client, BASE_INFO, account, item_id_list="1,x"))[:2] == (400, "error_param")
    ids = ",".join(str(1000000001 + n) for n in range(50))
    assert ok(get(sandbox_client, BASE_INFO, account, item_id_list=ids))["item_list"] == []


def test_model_list_of_an_item_without_models_and_of_an_unknown_item(sandbox_client, account):
    _token, shop_id = account
    plain = product(sandbox_client, shop_id, "PLAIN")
    assert ok(get(sandbox_client, MODEL_LIST, account, item_id=plain["item_id"])) == {
        "tier_variation": [],
        "model": [],
    }
    assert error_of(get(sandbox_client, MODEL_LIST, account, item_id=999))[:2] == (
        200,
        "error_item_not_found",
    )
    assert error_of(get(sandbox_client, MODEL_LIST, account))[:2] == (400, "error_param")


def test_another_shops_items_are_unknown(sandbox_client, account):
    _client, other = connect(sandbox_client)
    theirs = product(sandbox_client, other["id"], "THEIRS", stock=3)
    assert ok(get(sandbox_client, BASE_INFO, account, item_id_list=theirs["item_id"]))["item_list"] == []
    response = post(
        sandbox_client,
        UPDATE_STOCK,
        account,
        {"item_id": theirs["item_id"], "stock_list": [stock_entry(0, 1)]},
    )
    assert error_of(response)[:2] == (200, "error_item_not_found")
    assert state(sandbox_client, other["id"])["stock"][0]["stock"] == 3


# --- update_stock ---------------------------------------------------------------------------------------
def test_update_stock_sets_absolute_stock_per_model_and_writes_the_ledger(sandbox_client, account):
    _token, shop_id = account
    tee = product(
        sandbox_client, shop_id, "TEE", variants=[{"sku": "TEE-S", "stock": 5}, {"sku": "TEE-M", "stock": 6}]
    )
    small, medium = (m["model_id"] for m in tee["models"])
    body = {"item_id": tee["item_id"], "stock_list": [stock_entry(small, 2, "TWZ"), stock_entry(medium, 9)]}
    response = ok(post(sandbox_client, UPDATE_STOCK, account, body))
    assert response == {
        "success_list": [
            {"model_id": small, "location_id": "TWZ", "stock": 2},
            {"model_id": medium, "location_id": "TWZ", "stock": 9},
        ],
        "failure_list": [],
    }
    # the same call again changes nothing (absolute) but is still a recorded write
    ok(post(sandbox_client, UPDATE_STOCK, account, body))
    data = state(sandbox_client, shop_id)
    assert {r["sku"]: r["stock"] for r in data["stock"]} == {"TEE-S": 2, "TEE-M": 9}
    writes = [r for r in data["stock_ledger"] if r["source"] == "update_stock"]
    assert [(r["sku"], r["variant_id"], r["before"], r["after"], r["delta"]) for r in writes] == [
        ("TEE-S", str(small), 5, 2, -3),
        ("TEE-M", str(medium), 6, 9, 3),
        ("TEE-S", str(small), 2, 2, 0),
        ("TEE-M", str(medium), 9, 9, 0),
    ]


def test_update_stock_refuses_per_model(sandbox_client, account):
    _token, shop_id = account
    tee = product(
        sandbox_client, shop_id, "TEE", variants=[{"sku": f"TEE-{n}", "stock": 1} for n in range(4)]
    )
    ids = [m["model_id"] for m in tee["models"]]
    console(sandbox_client, "stock_lock", shop=shop_id, sku="TEE-3", reason="Locked by promotion.")
    body = {
        "item_id": tee["item_id"],
        "stock_list": [
            stock_entry(ids[0], 7),
            stock_entry(0, 7),  # model 0 is only for items without models
            stock_entry(ids[1], 7, "SGZ"),
            stock_entry(ids[2], 1_000_000),
            stock_entry(ids[3], 7),
        ],
    }
    response = ok(post(sandbox_client, UPDATE_STOCK, account, body))
    assert [s["model_id"] for s in response["success_list"]] == [ids[0]]
    assert response["failure_list"] == [
        {"model_id": 0, "failed_reason": "Model not found."},
        {"model_id": ids[1], "failed_reason": "Invalid location_id."},
        {"model_id": ids[2], "failed_reason": "Stock should be between 0 and 999999."},
        {"model_id": ids[3], "failed_reason": "Locked by promotion."},
    ]
    assert {r["sku"]: r["stock"] for r in state(sandbox_client, shop_id)["stock"]} == {
        "TEE-0": 7,
        "TEE-1": 1,
        "TEE-2": 1,
        "TEE-3": 1,
    }


@pytest.mark.parametrize(
    "body",
    [
        None,
        {"stock_list": [{"model_id": 0, "seller_stock": [{"stock": 1}]}]},
        {"item_id": "1000000001", "stock_list": [{"model_id": 0, "seller_stock": [{"stock": 1}]}]},
        {"item_id": 1000000001, "stock_list": []},
        {"item_id": 1000000001, "stock_list": [stock_entry(n + 1, 1) for n in range(51)]},
        {"item_id": 1000000001, "stock_list": [{"model_id": 0}]},
        {"item_id": 1000000001, "stock_list": [{"model_id": 0, "seller_stock": []}]},
        {"item_id": 1000000001, "stock_list": [{"model_id": 0, "seller_stock": [{"stock": "5"}]}]},
    ],
)
def test_update_stock_parameter_errors(sandbox_client, account, body):
    _token, shop_id = account
    product(sandbox_client, shop_id, "PLAIN", stock=3)
    status, error, _message = error_of(post(sandbox_client, UPDATE_STOCK, account, body))
    assert (status, error) == (400, "error_param")
    assert state(sandbox_client, shop_id)["stock"][0]["stock"] == 3


def test_update_stock_of_an_unknown_or_deleted_item(sandbox_client, account):
    _token, shop_id = account
    gone = product(sandbox_client, shop_id, "GONE", stock=3, status="SELLER_DELETE")
    for item_id in (gone["item_id"], 999999999):
        response = post(
            sandbox_client, UPDATE_STOCK, account, {"item_id": item_id, "stock_list": [stock_entry(0, 1)]}
        )
        assert error_of(response)[:2] == (200, "error_item_not_found")
    assert [r["source"] for r in state(sandbox_client, shop_id)["stock_ledger"]] == ["console"]


# --- console ----------------------------------------------------------------------------------------------
def test_console_stock_and_locks(sandbox_client, account):
    _token, shop_id = account
    product(sandbox_client, shop_id, "PLAIN", stock=2)
    product(sandbox_client, shop_id, "TEE", variants=[{"sku": "TEE-S", "stock": 1}])
    assert console(sandbox_client, "stock", shop=shop_id, sku="TEE-S", stock=8)["before"] == 1
    console(sandbox_client, "stock", shop=shop_id, sku="PLAIN", stock=0)
    console(sandbox_client, "stock", 404, shop=shop_id, sku="NOPE", stock=1)
    console(sandbox_client, "stock", 404, shop=shop_id, sku="TEE", stock=1)  # an item with models has none
    console(sandbox_client, "stock", 400, shop=shop_id, sku="PLAIN", stock=-1)
    console(sandbox_client, "stock", 400, shop=shop_id, sku="PLAIN", stock="many")
    console(sandbox_client, "stock", 404, shop="1", sku="PLAIN", stock=1)
    assert console(sandbox_client, "stock_lock", shop=shop_id, sku="PLAIN", reason="Under review.") == {
        "sku": "PLAIN",
        "locked": True,
        "reason": "Under review.",
    }
    console(sandbox_client, "stock_lock", 404, shop=shop_id, sku="NOPE", reason="x")
    data = state(sandbox_client, shop_id)
    assert {r["sku"]: (r["stock"], r["locked"]) for r in data["stock"]} == {
        "PLAIN": (0, "Under review."),
        "TEE-S": (8, ""),
    }
    assert [(r["sku"], r["source"], r["before"], r["after"]) for r in data["stock_ledger"]] == [
        ("PLAIN", "console", 0, 2),
        ("TEE-S", "console", 0, 1),
        ("TEE-S", "console", 1, 8),
        ("PLAIN", "console", 2, 0),
    ]
    assert console(sandbox_client, "stock_lock", shop=shop_id, sku="PLAIN", reason="")["locked"] is False
    assert state(sandbox_client, shop_id)["stock"][0]["locked"] == ""


def test_products_console_validates(sandbox_client, account):
    _token, shop_id = account
    console(sandbox_client, "products", 400, shop=shop_id, sku="", name="x")
    console(sandbox_client, "products", 400, shop=shop_id, sku="A", name="A", stock=-2)
    console(sandbox_client, "products", 400, shop=shop_id, sku="A", name="A", status="GONE")
    console(sandbox_client, "products", 400, shop=shop_id, sku="A", name="A", variants=[{"name": "no sku"}])
    console(sandbox_client, "products", 404, shop="42", sku="A", name="A")


def test_orders_take_stock_never_below_zero_and_are_never_refused(sandbox_client, account):
    _token, shop_id = account
    product(sandbox_client, shop_id, "PLAIN", stock=5)
    product(
        sandbox_client, shop_id, "TEE", variants=[{"sku": "TEE-S", "stock": 1}, {"sku": "TEE-M", "stock": 4}]
    )
    lines = [
        {"sku": "PLAIN", "quantity": 2},
        {"sku": "TEE-M", "quantity": 3},
        {"sku": "UNKNOWN", "quantity": 1},
    ]
    made = console(sandbox_client, "orders", shop=shop_id, count=3, lines=lines)
    assert made["count"] == 3
    data = state(sandbox_client, shop_id)
    assert {r["sku"]: r["stock"] for r in data["stock"]} == {"PLAIN": 0, "TEE-S": 1, "TEE-M": 0}
    rows = [r for r in data["stock_ledger"] if r["source"] == "order"]
    assert [(r["sku"], r["before"], r["after"]) for r in rows] == [
        ("PLAIN", 5, 3),
        ("TEE-M", 4, 1),
        ("PLAIN", 3, 1),
        ("TEE-M", 1, 0),
        ("PLAIN", 1, 0),
    ]
    assert {r["detail"] for r in rows} <= set(made["order_sns"])
    assert len(data["orders"]) == 3
