"""ShopeeClient products and stock against the in-process sandbox: pagination, batch limits and
call counts, read + set, per-model refusals, whole-call failures, tokens and the ledger."""

import pytest

from ecbridge.platforms.base import StockTarget
from ecbridge.platforms.errors import PlatformError, RateLimited, TokenExpired, TransientError
from ecbridge.platforms.shopee import mapping
from ecbridge.platforms.shopee.client import ShopeeClient
from tests.platforms.shopee.helpers import API, connect

pytestmark = pytest.mark.django_db

OPS = (
    "product.get_item_list",
    "product.get_item_base_info",
    "product.get_model_list",
    "product.update_stock",
)


@pytest.fixture
def shopee(sandbox):
    return sandbox.sandbox("shopee")


@pytest.fixture
def shop(sandbox_client):
    return connect(sandbox_client)


def console(sandbox_client, path, **body):
    response = sandbox_client.post(f"{API}/_console/{path}", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def product(sandbox_client, shop_id, sku, stock=0, **body):
    return console(
        sandbox_client, "products", shop=shop_id, sku=sku, name=body.pop("name", sku), stock=stock, **body
    )


def variants(sandbox_client, shop_id, sku, count, stock=0):
    return product(
        sandbox_client,
        shop_id,
        sku,
        variants=[{"sku": f"{sku}-{n}", "name": f"Size {n}", "stock": stock} for n in range(count)],
    )


def state(sandbox_client, shop_id):
    return sandbox_client.get(f"{API}/_console/state", params={"shop": shop_id}).json()


def stock_of(sandbox_client, shop_id):
    return {row["sku"]: row["stock"] for row in state(sandbox_client, shop_id)["stock"]}


def ledger(sandbox_client, shop_id, source=None):
    rows = state(sandbox_client, shop_id)["stock_ledger"]
    return [r for r in rows if source is None or r["source"] == source]


class Calls:
    """Calls per product operation since it was made."""

    def __init__(self, shopee):
        self.shopee = shopee
        self.start = self.now()

    def now(self):
        return {op: self.shopee.store.count_calls("shopee", op) for op in OPS}

    def __call__(self):
        now = self.now()
        return {op.split(".")[1]: now[op] - self.start[op] for op in OPS if now[op] - self.start[op]}


def all_products(client):
    return [p for page in client.iter_products() for p in page]


def targets_for(products, quantity=0):
    return [
        StockTarget(
            key=f"k{n}",
            item_id=p.item_id,
            variant_id=p.variant_id,
            sku=p.sku,
            quantity=quantity,
            stock_ref=p.stock_ref,
        )
        for n, p in enumerate(products)
    ]


def push(client, targets):
    """What the inbound push does on Shopee: read, then set current + n, one call per batch."""
    current = client.read_stock(targets)
    outcomes = []
    for batch in client.stock_batches(targets, absolute=True):
        for t in batch:
            t.quantity = current[t.key] + t.quantity
        outcomes += client.set_stock(batch)
    return outcomes


# --- flags ----------------------------------------------------------------------------------------
def test_shopee_is_absolute_only():
    assert ShopeeClient.stock_absolute_native is True
    assert ShopeeClient.stock_delta_native is False
    assert ShopeeClient.adjust_idempotent is False and ShopeeClient.adjust_needs_current is False


def test_adjust_is_not_offered(shop):
    client, _created = shop
    with pytest.raises(NotImplementedError):
        client.adjust_stock([StockTarget("k", "1", "", "SKU", quantity=1)])


# --- products ---------------------------------------------------------------------------------------
def test_every_item_and_model_in_pages_with_the_fewest_calls(sandbox_client, shopee, shop):
    client, created = shop
    for n in range(120):
        product(sandbox_client, created["id"], f"P{n:03d}", stock=n, barcode=f"471000{n:07d}")
    variants(sandbox_client, created["id"], "TEE", 3, stock=7)
    variants(sandbox_client, created["id"], "CAP", 2, stock=1)
    product(sandbox_client, created["id"], "HIDDEN", stock=5, status="UNLIST")
    product(sandbox_client, created["id"], "BANNED", stock=5, status="BANNED")
    product(sandbox_client, created["id"], "GONE", stock=5, status="SELLER_DELETE")
    calls = Calls(shopee)

    pages = list(client.iter_products())

    # 123 listed items (NORMAL + UNLIST): pages of 100 and 23; base info 2 + 1; one model list per
    # item with models
    assert calls() == {"get_item_list": 2, "get_item_base_info": 3, "get_model_list": 2}
    assert [len(p) for p in pages] == [100, 23 - 2 + 5]
    products = [p for page in pages for p in page]
    by_sku = {p.sku: p for p in products}
    assert len(by_sku) == len(products) == 126
    assert "BANNED" not in by_sku and "GONE" not in by_sku and "HIDDEN" in by_sku
    assert "TEE" not in by_sku and "CAP" not in by_sku  # an item with models is its models
    plain = by_sku["P007"]
    assert plain.variant_id == "" and plain.stock == 7 and plain.name == "P007"
    assert plain.barcode == ""  # Shopee's payloads carry no barcode (the sandbox keeps it to itself)
    assert plain.stock_ref == {"location_id": "TWZ"}
    tee = [p for p in products if p.sku.startswith("TEE-")]
    assert len(tee) == 3 and len({p.item_id for p in tee}) == 1
    assert all(p.variant_id.isdigit() and p.variant_id != "0" and p.stock == 7 for p in tee)
    assert by_sku["TEE-1"].name == "TEE (Size 1)"


def test_an_empty_shop_is_one_call_and_no_page(shopee, shop):
    client, _created = shop
    calls = Calls(shopee)
    assert list(client.iter_products()) == []
    assert calls() == {"get_item_list": 1}


def test_a_failed_page_raises_instead_of_ending_early(sandbox_client, shop):
    client, created = shop
    for n in range(101):
        product(sandbox_client, created["id"], f"P{n:03d}")
    pages = client.iter_products()
    assert len(next(pages)) == 100
    console(sandbox_client, "faults", error_rate=1)
    with pytest.raises(TransientError):
        next(pages)


def test_an_item_deleted_between_list_and_models_is_skipped(sandbox_client, shopee, shop, monkeypatch):
    client, created = shop
    variants(sandbox_client, created["id"], "KEEP", 2)
    gone = variants(sandbox_client, created["id"], "GONE", 2)
    original = client._model_list

    def model_list(item_id):
        if item_id == str(gone["item_id"]):
            item = shopee.store.get("shopee", "item", gone["item_id"])
            shopee.store.put("shopee", "item", item["item_id"], {**item, "item_status": "SELLER_DELETE"})
        return original(item_id)

    monkeypatch.setattr(client, "_model_list", model_list)
    assert {p.sku for p in all_products(client)} == {"KEEP-0", "KEEP-1"}


# --- batches ----------------------------------------------------------------------------------------
def test_batches_hold_one_item_and_at_most_50_models_in_order(shop):
    client, _created = shop
    many = [StockTarget(f"a{n}", "11", str(500 + n), f"A{n}") for n in range(120)]
    plain = [StockTarget(f"p{n}", str(20 + n), "", f"P{n}") for n in range(3)]
    mixed = [plain[0], *many[:60], plain[1], *many[60:], plain[2]]
    batches = client.stock_batches(mixed, absolute=True)
    assert [len(b) for b in batches] == [1, 50, 50, 20, 1, 1]
    assert [t.key for b in batches[1:4] for t in b] == [t.key for t in many]
    assert [b[0].key for b in (batches[0], batches[4], batches[5])] == ["p0", "p1", "p2"]
    # the same model twice never shares a call (the second would win silently)
    twice = [
        StockTarget("x", "11", "500", "A"),
        StockTarget("y", "11", "501", "B"),
        StockTarget("z", "11", "500", "A"),
    ]
    assert [[t.key for t in b] for b in client.stock_batches(twice, absolute=True)] == [["x", "y"], ["z"]]


def test_set_stock_refuses_more_than_one_batch(shop):
    client, _created = shop
    with pytest.raises(ValueError):
        client.set_stock([StockTarget("a", "1", "", "A"), StockTarget("b", "2", "", "B")])
    with pytest.raises(ValueError):
        client.set_stock([StockTarget(f"m{n}", "1", str(n + 1), "M") for n in range(51)])
    assert client.set_stock([]) == []


# --- the call counts the bench holds us to ---------------------------------------------------------
def test_inbound_of_items_without_models_reads_50_a_call_and_writes_one_item_a_call(
    sandbox_client, shopee, shop
):
    client, created = shop
    for n in range(120):
        product(sandbox_client, created["id"], f"P{n:03d}", stock=10)
    targets = targets_for(all_products(client), quantity=3)
    calls = Calls(shopee)

    outcomes = push(client, targets)

    # 1,000 SKUs → 20 + 1,000; here 120 → ceil(120 / 50) = 3 reads and 120 writes
    assert calls() == {"get_item_base_info": 3, "update_stock": 120}
    assert all(o.ok and o.quantity == 13 for o in outcomes)
    assert [o.key for o in outcomes] == [t.key for t in targets]
    assert set(stock_of(sandbox_client, created["id"]).values()) == {13}
    rows = ledger(sandbox_client, created["id"], "update_stock")
    assert len(rows) == 120 and {(r["before"], r["after"], r["delta"]) for r in rows} == {(10, 13, 3)}


def test_inbound_of_items_with_50_models_is_one_read_and_one_write_per_item(sandbox_client, shopee, shop):
    client, created = shop
    for n in range(3):
        variants(sandbox_client, created["id"], f"ITEM{n}", 50, stock=2)
    targets = targets_for(all_products(client), quantity=5)
    assert len(targets) == 150
    calls = Calls(shopee)

    outcomes = push(client, targets)

    # 10 items × 50 models → 10 + 10; here 3 × 50 → 3 model lists and 3 writes, no base info
    assert calls() == {"get_model_list": 3, "update_stock": 3}
    assert len(outcomes) == 150 and all(o.ok and o.quantity == 7 for o in outcomes)
    rows = ledger(sandbox_client, created["id"], "update_stock")
    assert len(rows) == 150 and all(r["variant_id"] and r["delta"] == 5 for r in rows)


def test_read_stock_mixes_both_kinds_and_leaves_out_what_shopee_does_not_know(sandbox_client, shopee, shop):
    client, created = shop
    plain = product(sandbox_client, created["id"], "PLAIN", stock=4)
    tee = variants(sandbox_client, created["id"], "TEE", 2, stock=6)
    model = tee["models"][1]
    targets = [
        # mappings made from orders: no stock_ref, variant "" or the model id only
        StockTarget("plain", str(plain["item_id"]), "", "PLAIN"),
        StockTarget("model", str(tee["item_id"]), str(model["model_id"]), "TEE-1"),
        StockTarget("zero", str(plain["item_id"]), "0", "PLAIN"),
        StockTarget("unknown-item", "999999999", "", "NOPE"),
        StockTarget("unknown-model-item", "999999998", "42", "NOPE"),
        StockTarget("unknown-model", str(tee["item_id"]), "42", "NOPE"),
        StockTarget("has-models-now", str(tee["item_id"]), "", "TEE"),
        StockTarget("garbage", "abc", "x", "NOPE"),
    ]
    calls = Calls(shopee)
    assert client.read_stock(targets) == {"plain": 4, "model": 6, "zero": 4}
    assert calls() == {"get_item_base_info": 1, "get_model_list": 2}


# --- writes -------------------------------------------------------------------------------------------
def test_a_locked_model_fails_with_shopees_reason_while_its_siblings_are_set(sandbox_client, shop):
    client, created = shop
    variants(sandbox_client, created["id"], "TEE", 3, stock=1)
    console(
        sandbox_client,
        "stock_lock",
        shop=created["id"],
        sku="TEE-1",
        reason="Stock is locked by a flash sale.",
    )
    targets = targets_for(all_products(client), quantity=9)

    outcomes = client.set_stock(targets)

    assert [(o.key, o.ok, o.quantity) for o in outcomes] == [
        ("k0", True, 9),
        ("k1", False, None),
        ("k2", True, 9),
    ]
    assert outcomes[1].error == "Stock is locked by a flash sale." and not outcomes[1].retryable
    assert stock_of(sandbox_client, created["id"]) == {"TEE-0": 9, "TEE-1": 1, "TEE-2": 9}
    assert [r["sku"] for r in ledger(sandbox_client, created["id"], "update_stock")] == ["TEE-0", "TEE-2"]
    # unlocked, the same write goes through
    console(sandbox_client, "stock_lock", shop=created["id"], sku="TEE-1", reason="")
    assert [o.ok for o in client.set_stock(targets)] == [True, True, True]
    assert stock_of(sandbox_client, created["id"])["TEE-1"] == 9


def test_an_unknown_item_fails_every_target_of_its_call(sandbox_client, shop):
    client, created = shop
    targets = [
        StockTarget("a", "999999999", "", "NOPE", quantity=1),
        StockTarget("b", "999999999", "7", "NOPE", quantity=1),
    ]
    outcomes = client.set_stock(targets)
    assert [(o.key, o.ok) for o in outcomes] == [("a", False), ("b", False)]
    assert "error_item_not_found" in outcomes[0].error and not outcomes[0].retryable
    assert ledger(sandbox_client, created["id"]) == []


def test_an_unknown_model_and_a_negative_quantity_fail_alone(sandbox_client, shopee, shop):
    client, created = shop
    tee = variants(sandbox_client, created["id"], "TEE", 2)
    item = str(tee["item_id"])
    targets = [
        StockTarget("ok", item, str(tee["models"][0]["model_id"]), "TEE-0", quantity=5),
        StockTarget("ghost", item, "42", "GHOST", quantity=5),
        StockTarget("negative", item, str(tee["models"][1]["model_id"]), "TEE-1", quantity=-1),
        StockTarget("as-item", item, "", "TEE", quantity=5),  # model 0 on an item with models
    ]
    calls = Calls(shopee)
    outcomes = {o.key: o for o in client.set_stock(targets)}
    assert calls() == {"update_stock": 1}  # the negative one is never sent
    assert outcomes["ok"].ok and outcomes["ok"].quantity == 5
    assert not outcomes["ghost"].ok and outcomes["ghost"].error == "Model not found."
    assert not outcomes["as-item"].ok and outcomes["as-item"].error == "Model not found."
    assert not outcomes["negative"].ok and "negative" in outcomes["negative"].error
    assert stock_of(sandbox_client, created["id"]) == {"TEE-0": 5, "TEE-1": 0}


def test_a_write_without_stock_ref_goes_to_shopees_default_location(sandbox_client, shop):
    client, created = shop
    plain = product(sandbox_client, created["id"], "PLAIN", stock=1)
    [outcome] = client.set_stock([StockTarget("a", str(plain["item_id"]), "", "PLAIN", quantity=8)])
    assert outcome.ok and outcome.quantity == 8
    # a location Shopee does not know is refused for that model
    [outcome] = client.set_stock(
        [StockTarget("a", str(plain["item_id"]), "", "PLAIN", quantity=9, stock_ref={"location_id": "XXX"})]
    )
    assert not outcome.ok and outcome.error == "Invalid location_id."
    assert stock_of(sandbox_client, created["id"]) == {"PLAIN": 8}


# --- whole-call failures --------------------------------------------------------------------------------
def test_a_write_answered_5xx_is_retried_once_and_applied_once(sandbox_client, shopee, shop):
    client, created = shop
    plain = product(sandbox_client, created["id"], "PLAIN", stock=1)
    console(sandbox_client, "faults", fail_next=1)
    calls = Calls(shopee)
    [outcome] = client.set_stock([StockTarget("a", str(plain["item_id"]), "", "PLAIN", quantity=4)])
    assert outcome.ok and calls() == {"update_stock": 1}
    assert shopee.store.count_calls("shopee", "update_stock") == 1  # the 5xx (answered before the handler)
    assert [(r["before"], r["after"]) for r in ledger(sandbox_client, created["id"], "update_stock")] == [
        (1, 4)
    ]


@pytest.mark.parametrize(
    ("fault", "error"),
    [("error_rate", TransientError), ("throttle_rate", RateLimited), ("malformed_rate", TransientError)],
)
def test_whole_call_failures_raise_typed_errors(sandbox_client, shop, fault, error):
    client, created = shop
    plain = product(sandbox_client, created["id"], "PLAIN", stock=1)
    target = StockTarget("a", str(plain["item_id"]), "", "PLAIN", quantity=4)
    console(sandbox_client, "faults", **{fault: 1})
    with pytest.raises(error):
        client.set_stock([target])
    with pytest.raises(error):
        client.read_stock([target])
    console(sandbox_client, "faults")  # cleared
    if (
        fault != "malformed_rate"
    ):  # a malformed answer may hide an applied write: that is fine, it is absolute
        assert stock_of(sandbox_client, created["id"]) == {"PLAIN": 1}


def test_an_expired_token_raises_token_expired_and_works_after_a_refresh(sandbox_client, shop):
    client, created = shop
    plain = product(sandbox_client, created["id"], "PLAIN", stock=1)
    target = StockTarget("a", str(plain["item_id"]), "", "PLAIN", quantity=3)
    console(sandbox_client, "faults", expire_tokens=True)
    with pytest.raises(TokenExpired):
        client.read_stock([target])
    with pytest.raises(TokenExpired):
        client.set_stock([target])
    with pytest.raises(TokenExpired):
        all_products(client)
    client.refresh()
    assert client.read_stock([target]) == {"a": 1}
    assert client.set_stock([target])[0].ok


def test_a_parameter_error_is_not_a_per_target_refusal(shop, monkeypatch):
    client, _created = shop
    monkeypatch.setattr("ecbridge.platforms.shopee.client.STOCK_BATCH", 60)
    targets = [StockTarget(f"m{n}", "1000000001", str(n + 1), "M", quantity=1) for n in range(51)]
    with pytest.raises(PlatformError) as caught:
        client.set_stock(targets)
    assert caught.value.code == "error_param"


# --- the sandbox's own stock changes ------------------------------------------------------------------
def test_console_and_orders_change_stock_the_client_reads(sandbox_client, shop):
    client, created = shop
    plain = product(sandbox_client, created["id"], "PLAIN", stock=5)
    target = StockTarget("a", str(plain["item_id"]), "", "PLAIN")
    console(sandbox_client, "stock", shop=created["id"], sku="PLAIN", stock=7)
    assert client.read_stock([target]) == {"a": 7}
    console(sandbox_client, "orders", shop=created["id"], lines=[{"sku": "PLAIN", "quantity": 3}])
    assert client.read_stock([target]) == {"a": 4}
    console(sandbox_client, "orders", shop=created["id"], lines=[{"sku": "PLAIN", "quantity": 9}])
    assert client.read_stock([target]) == {"a": 0}  # never below zero, the order is still placed
    rows = ledger(sandbox_client, created["id"])
    assert [(r["source"], r["before"], r["after"]) for r in rows] == [
        ("console", 0, 5),
        ("console", 5, 7),
        ("order", 7, 4),
        ("order", 4, 0),
    ]
    assert len(state(sandbox_client, created["id"])["orders"]) == 2


# --- mapping (payloads the sandbox does not send) ------------------------------------------------------
def test_mapping_reads_gtin_code_and_names_models_from_their_tiers():
    base = {"item_id": 5, "item_name": "Tee", "item_sku": "T", "has_model": True}
    models = mapping.model_list(
        {
            "response": {
                "tier_variation": [
                    {"name": "Colour", "option_list": [{"option": "Red"}, {"option": "Blue"}]},
                    {"name": "Size", "option_list": [{"option": "S"}, {"option": "M"}]},
                ],
                "model": [
                    {
                        "model_id": 9,
                        "model_sku": "T-BM",
                        "tier_index": [1, 1],
                        "gtin_code": "4710000000017",
                        "stock_info_v2": {"seller_stock": [{"location_id": "", "stock": 2}, {"stock": 3}]},
                    },
                    {"model_id": 10, "model_sku": "T-RS", "tier_index": [0, 5], "gtin_code": "00"},
                ],
            }
        }
    )
    blue, red = mapping.model_products(base, models)
    assert (blue.variant_id, blue.name, blue.barcode, blue.stock, blue.stock_ref) == (
        "9",
        "Tee (Blue, M)",
        "4710000000017",
        5,
        {},
    )
    assert (red.name, red.barcode, red.stock) == ("Tee (Red)", "", None)
    assert mapping.model_stocks(models) == {"9": 5}
    # an empty page may leave out "item"
    assert mapping.item_list_page({"response": {"has_next_page": False, "total_count": 0}}) == ([], False, 0)
    with pytest.raises(ValueError):
        mapping.item_list_page({"response": {"item": [{"item_id": "1"}], "has_next_page": False}})
    with pytest.raises(ValueError):
        mapping.model_list({"response": {"model": [{"model_id": 0}]}})
