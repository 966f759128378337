"""Shopify products and stock (issue 4): the client against the sandbox's productVariants,
locations, nodes, inventoryAdjustQuantities and inventorySetQuantities."""

import pytest

from ecbridge.platforms.base import StockTarget
from ecbridge.platforms.errors import AuthError, PlatformError, RateLimited, TokenExpired, TransientError
from ecbridge.platforms.shopify.client import ShopifyClient
from tests.platforms.shopify.helpers import (
    CONSOLE,
    authorize,
    make_ctx,
    new_shop,
    set_faults,
    state,
    with_tokens,
)

pytestmark = pytest.mark.django_db

ADJUST = "graphql:inventoryAdjustQuantities"
SET = "graphql:inventorySetQuantities"
NODES = "graphql:nodes"
LISTING = "graphql:productVariants"
LOCATIONS = "graphql:locations"


@pytest.fixture
def roomy(sandbox_client):
    """A shop whose cost bucket refills at once: listing 300 variants (3 x 994 points) would
    otherwise wait for the bucket, and tests do not sleep."""
    shop = new_shop(sandbox_client, name="Roomy", restore_rate=1_000_000)
    ctx = make_ctx(shop["id"])
    return with_tokens(ctx, authorize(sandbox_client, ctx))


def calls(sandbox, operation: str) -> int:
    return sandbox.store.count_calls("shopify", operation)


def product(sandbox_client, domain: str, name: str = "Tea", **body) -> dict:
    response = sandbox_client.post(f"{CONSOLE}/products", json={"shop": domain, "name": name, **body})
    assert response.status_code == 200, response.text
    return response.json()


def catalogue(sandbox_client, domain: str, count: int, stock: int = 0, per_product: int = 75) -> None:
    """``count`` variants with SKUs S0001..., ``per_product`` per product."""
    for start in range(0, count, per_product):
        variants = [
            {"sku": f"S{n:04d}", "barcode": f"471{n:06d}", "stock": stock}
            for n in range(start + 1, min(count, start + per_product) + 1)
        ]
        product(sandbox_client, domain, name=f"Box {start}", variants=variants)


def listed(client) -> dict:
    """SKU → PlatformProduct from a full listing."""
    return {p.sku: p for page in client.iter_products() for p in page}


def targets(products, quantity: int = 1, prefix: str = "push") -> list[StockTarget]:
    return [
        StockTarget(
            key=f"{prefix}-{index}",
            item_id=p.item_id,
            variant_id=p.variant_id,
            sku=p.sku,
            quantity=quantity,
            stock_ref=dict(p.stock_ref),
            idempotency_key=f"ecbridge-stock-push-{prefix}-{index}",
        )
        for index, p in enumerate(products)
    ]


def stock_of(sandbox_client, domain: str) -> dict[str, int]:
    return {v["sku"]: v["stock"] for p in state(sandbox_client, domain)["products"] for v in p["variants"]}


def ledger(sandbox_client, domain: str, source: str | None = None) -> list[dict]:
    rows = state(sandbox_client, domain)["stock_ledger"]
    return [r for r in rows if source is None or r["source"] == source]


def lock(sandbox_client, domain: str, sku: str, reason: str) -> None:
    response = sandbox_client.post(
        f"{CONSOLE}/stock_lock", json={"shop": domain, "sku": sku, "reason": reason}
    )
    assert response.status_code == 200, response.text


# --- flags and listing ---------------------------------------------------------------------------------
def test_flags_say_both_writes_are_native_and_adjust_is_idempotent(connected):
    client = ShopifyClient(connected)
    assert client.stock_absolute_native and client.stock_delta_native and client.adjust_idempotent
    assert not client.adjust_needs_current


def test_listing_pages_every_variant_with_its_stock_ref(sandbox, sandbox_client, connected):
    product(sandbox_client, connected.shop_id, name="Oolong", sku="OOL-1", barcode="4710001", stock=7)
    product(
        sandbox_client,
        connected.shop_id,
        name="Shirt",
        variants=[
            {"sku": "SH-S", "name": "Small", "stock": 1},
            {"sku": "SH-M", "name": "Medium", "stock": 2},
            {"sku": "SH-L", "name": "Large", "barcode": "4710009", "stock": 3},
        ],
        status="draft",
    )
    product(sandbox_client, connected.shop_id, name="Gift card", sku="", stock=0)
    connected.settings["products_page_size"] = 2
    client = ShopifyClient(connected)
    pages = list(client.iter_products())
    assert [len(p) for p in pages] == [2, 2, 1]
    assert calls(sandbox, LISTING) == 3  # hasNextPage is exact: no empty last call
    found = {p.variant_id: p for page in pages for p in page}
    assert len(found) == 5  # every variant once, draft products and SKU-less variants included
    by_sku = {p.sku: p for p in found.values()}
    oolong = by_sku["OOL-1"]
    assert (oolong.name, oolong.barcode, oolong.stock) == ("Oolong", "4710001", 7)
    assert oolong.item_id.startswith("gid://shopify/Product/")
    assert oolong.stock_ref["inventory_item_id"].startswith("gid://shopify/InventoryItem/")
    assert oolong.stock_ref["location_id"].startswith("gid://shopify/Location/")
    assert by_sku["SH-L"].name == "Shirt - Large" and by_sku["SH-L"].barcode == "4710009"
    assert by_sku["SH-M"].item_id == by_sku["SH-S"].item_id != oolong.item_id
    assert calls(sandbox, LOCATIONS) == 0  # every variant had a level


def test_default_page_size_fits_the_query_cost_limit(sandbox, sandbox_client, connected):
    catalogue(sandbox_client, connected.shop_id, 130, per_product=65)
    client = ShopifyClient(connected)
    assert client._products_per_call() == 124  # 2 + 124 x 8 points <= 1000
    pages = list(client.iter_products())
    assert [len(p) for p in pages] == [124, 6]
    assert calls(sandbox, LISTING) == 2
    # ...and the sandbox refuses a listing whose requested cost exceeds the maximum
    connected.settings["max_query_cost"] = 3000
    with pytest.raises(PlatformError) as caught:
        list(ShopifyClient(connected).iter_products())
    assert caught.value.code == "MAX_COST_EXCEEDED"


def test_a_variant_stocked_nowhere_gets_the_first_active_location(sandbox, sandbox_client, connected):
    product(sandbox_client, connected.shop_id, name="Preorder", variants=[{"sku": "PRE-1", "stocked": False}])
    product(sandbox_client, connected.shop_id, name="Later", variants=[{"sku": "PRE-2", "stocked": False}])
    found = listed(ShopifyClient(connected))
    assert found["PRE-1"].stock_ref["location_id"] == "gid://shopify/Location/61000000001"
    assert found["PRE-1"].stock == 0
    assert calls(sandbox, LOCATIONS) == 1  # once per client, not per variant


def test_a_failed_listing_page_raises_instead_of_ending_early(sandbox_client, connected):
    catalogue(sandbox_client, connected.shop_id, 5)
    connected.settings["products_page_size"] = 2
    pages = ShopifyClient(connected).iter_products()
    assert len(next(pages)) == 2
    set_faults(sandbox_client, fail_next=20)
    with pytest.raises(TransientError):
        next(pages)


# --- batches -----------------------------------------------------------------------------------------
def test_batches_hold_at_most_250_in_order_and_never_one_item_twice(connected):
    client = ShopifyClient(connected)
    many = [
        StockTarget(
            key=str(n), item_id="", variant_id="", sku=f"S{n}", stock_ref={"inventory_item_id": f"i{n}"}
        )
        for n in range(600)
    ]
    batches = client.stock_batches(many, absolute=False)
    assert [len(b) for b in batches] == [250, 250, 100]
    assert [t.key for b in batches for t in b] == [t.key for t in many]
    twice = many[:3] + [many[1]] + many[3:5]
    assert [len(b) for b in client.stock_batches(twice, absolute=True)] == [3, 3]


# --- inbound: adjust by delta --------------------------------------------------------------------------
def test_300_targets_are_two_adjust_calls_and_no_reads(sandbox, sandbox_client, roomy):
    catalogue(sandbox_client, roomy.shop_id, 300, stock=5)
    client = ShopifyClient(roomy)
    products = sorted(listed(client).values(), key=lambda p: p.sku)
    reads_before = calls(sandbox, NODES) + calls(sandbox, LISTING) + calls(sandbox, LOCATIONS)
    todo = targets(products, quantity=3)
    outcomes = [o for batch in client.stock_batches(todo, absolute=False) for o in client.adjust_stock(batch)]
    assert calls(sandbox, ADJUST) == 2
    assert calls(sandbox, NODES) + calls(sandbox, LISTING) + calls(sandbox, LOCATIONS) == reads_before
    assert [o.key for o in outcomes] == [t.key for t in todo]
    assert all(o.ok and o.quantity == 8 for o in outcomes)
    assert set(stock_of(sandbox_client, roomy.shop_id).values()) == {8}
    rows = ledger(sandbox_client, roomy.shop_id, "inventoryAdjustQuantities")
    assert len(rows) == 300 and {r["delta"] for r in rows} == {3}


def test_a_retried_batch_is_applied_once(sandbox, sandbox_client, connected):
    catalogue(sandbox_client, connected.shop_id, 3, stock=10)
    client = ShopifyClient(connected)
    batch = targets(sorted(listed(client).values(), key=lambda p: p.sku), quantity=4)
    first = client.adjust_stock(batch)
    again = ShopifyClient(connected).adjust_stock(batch)  # a new worker after a crash: same batch
    assert [o.quantity for o in first] == [o.quantity for o in again] == [14, 14, 14]
    assert all(o.ok for o in again)
    assert calls(sandbox, ADJUST) == 2
    assert stock_of(sandbox_client, connected.shop_id) == {"S0001": 14, "S0002": 14, "S0003": 14}
    assert len(ledger(sandbox_client, connected.shop_id, "inventoryAdjustQuantities")) == 3


def test_an_answer_lost_after_the_change_is_retried_without_adding_twice(sandbox, sandbox_client, connected):
    catalogue(sandbox_client, connected.shop_id, 2, stock=1)
    client = ShopifyClient(connected)
    batch = targets(sorted(listed(client).values(), key=lambda p: p.sku), quantity=5)
    set_faults(sandbox_client, malformed_next=1)  # applied, but the answer arrives broken
    outcomes = client.adjust_stock(batch)
    assert all(o.ok and o.quantity == 6 for o in outcomes)
    assert calls(sandbox, ADJUST) == 2  # the http layer resent the same key
    assert stock_of(sandbox_client, connected.shop_id) == {"S0001": 6, "S0002": 6}


def test_the_key_follows_the_batch(connected):
    client = ShopifyClient(connected)
    a, b = (
        StockTarget(key=k, item_id="", variant_id="", sku=k, quantity=1, idempotency_key=f"push-{k}")
        for k in "ab"
    )
    rows = [(a, "gid://shopify/InventoryItem/1", "L"), (b, "gid://shopify/InventoryItem/2", "L")]
    key = client._mutation_key("inventoryAdjustQuantities", rows)
    assert key == client._mutation_key("inventoryAdjustQuantities", list(rows))
    assert key != client._mutation_key("inventoryAdjustQuantities", rows[:1])
    assert key != client._mutation_key("inventorySetQuantities", rows)
    assert len(key) == 36  # a UUID-shaped key


def test_a_locked_sku_fails_alone_and_its_neighbours_go_in_a_later_call(sandbox, sandbox_client, connected):
    catalogue(sandbox_client, connected.shop_id, 3, stock=2)
    lock(sandbox_client, connected.shop_id, "S0002", "Product is bundled; stock is managed by the bundle app")
    client = ShopifyClient(connected)
    batch = targets(sorted(listed(client).values(), key=lambda p: p.sku), quantity=1)
    outcomes = {o.key: o for o in client.adjust_stock(batch)}
    locked = outcomes["push-1"]
    assert not locked.ok and not locked.retryable
    assert locked.error == "Product is bundled; stock is managed by the bundle app"
    for key in ("push-0", "push-2"):
        assert not outcomes[key].ok and outcomes[key].retryable
        assert "bundle app" in outcomes[key].error
    assert ledger(sandbox_client, connected.shop_id, "inventoryAdjustQuantities") == []  # nothing applied
    retry = client.adjust_stock([batch[0], batch[2]])
    assert all(o.ok and o.quantity == 3 for o in retry)
    assert stock_of(sandbox_client, connected.shop_id) == {"S0001": 3, "S0002": 2, "S0003": 3}


# --- manual sync: read and set -------------------------------------------------------------------------
def test_read_then_set_overwrites_whatever_the_seller_changed(sandbox, sandbox_client, connected):
    catalogue(sandbox_client, connected.shop_id, 3, stock=9)
    client = ShopifyClient(connected)
    batch = targets(sorted(listed(client).values(), key=lambda p: p.sku))
    assert client.read_stock(batch) == {"push-0": 9, "push-1": 9, "push-2": 9}
    assert calls(sandbox, NODES) == 1
    response = sandbox_client.post(
        f"{CONSOLE}/stock", json={"shop": connected.shop_id, "sku": "S0002", "stock": 40}
    )
    assert response.status_code == 200, response.text
    for target, quantity in zip(batch, (0, 12, 3), strict=True):
        target.quantity = quantity
    outcomes = client.set_stock(batch)  # changeFromQuantity null: the seller's 40 is overwritten
    assert [(o.ok, o.quantity) for o in outcomes] == [(True, 0), (True, 12), (True, 3)]
    assert calls(sandbox, SET) == 1
    assert stock_of(sandbox_client, connected.shop_id) == {"S0001": 0, "S0002": 12, "S0003": 3}
    rows = ledger(sandbox_client, connected.shop_id)
    assert [r["source"] for r in rows if r["sku"] == "S0002"] == [
        "console",
        "console",
        "inventorySetQuantities",
    ]
    assert [(r["before"], r["after"]) for r in rows if r["sku"] == "S0002"][-1] == (40, 12)


def test_reading_300_items_takes_two_calls(sandbox, sandbox_client, roomy):
    catalogue(sandbox_client, roomy.shop_id, 300, stock=4)
    client = ShopifyClient(roomy)
    batch = targets(sorted(listed(client).values(), key=lambda p: p.sku))
    current = client.read_stock(batch)
    assert len(current) == 300 and set(current.values()) == {4}
    assert calls(sandbox, NODES) == 2


def test_set_refuses_negative_quantities_locally_and_sends_the_rest(sandbox, sandbox_client, connected):
    catalogue(sandbox_client, connected.shop_id, 2, stock=5)
    client = ShopifyClient(connected)
    batch = targets(sorted(listed(client).values(), key=lambda p: p.sku))
    batch[0].quantity, batch[1].quantity = -1, 2
    first, second = client.set_stock(batch)
    assert not first.ok and "negative" in first.error
    assert second.ok and second.quantity == 2
    assert stock_of(sandbox_client, connected.shop_id) == {"S0001": 5, "S0002": 2}


def test_an_item_not_stocked_at_the_location_is_refused_per_sku(sandbox_client, connected):
    product(sandbox_client, connected.shop_id, name="Preorder", variants=[{"sku": "PRE-1", "stocked": False}])
    catalogue(sandbox_client, connected.shop_id, 1, stock=1)
    client = ShopifyClient(connected)
    batch = targets(sorted(listed(client).values(), key=lambda p: p.sku), quantity=3)
    outcomes = {t.sku: o for t, o in zip(batch, client.set_stock(batch), strict=True)}
    assert not outcomes["PRE-1"].ok and "not stocked at the location" in outcomes["PRE-1"].error
    assert not outcomes["PRE-1"].retryable and outcomes["S0001"].retryable
    assert client.read_stock(batch) == {batch[1].key: 1}  # a read leaves out what has no level


# --- mappings made from orders (no stock_ref) ---------------------------------------------------------
def test_targets_without_a_stock_ref_are_resolved_by_variant_or_sku(sandbox, sandbox_client, connected):
    made = product(
        sandbox_client,
        connected.shop_id,
        name="Tea",
        variants=[{"sku": "T-1", "stock": 1}, {"sku": "T-2", "stock": 1}],
    )
    by_variant = StockTarget(
        key="a",
        item_id=made["id"],
        variant_id=made["variants"][0]["id"],
        sku="T-1",
        quantity=2,
        idempotency_key="k-a",
    )
    by_sku = StockTarget(key="b", item_id="", variant_id="", sku="T-2", quantity=3, idempotency_key="k-b")
    unknown = StockTarget(key="c", item_id="", variant_id="", sku="NOPE", quantity=1, idempotency_key="k-c")
    outcomes = ShopifyClient(connected).adjust_stock([by_variant, by_sku, unknown])
    assert [(o.ok, o.quantity) for o in outcomes[:2]] == [(True, 3), (True, 4)]
    assert not outcomes[2].ok and "NOPE" in outcomes[2].error and not outcomes[2].retryable
    assert calls(sandbox, ADJUST) == 1
    assert calls(sandbox, NODES) == 1 and calls(sandbox, LISTING) == 2  # variant lookup, 2 SKU searches


def test_nothing_resolvable_means_no_write_call(sandbox, connected):
    outcome = ShopifyClient(connected).set_stock([StockTarget(key="x", item_id="", variant_id="", sku="")])
    assert not outcome[0].ok
    assert calls(sandbox, SET) == 0


# --- whole-call failures -------------------------------------------------------------------------------
def test_a_5xx_that_persists_is_a_transient_error_and_changes_nothing(sandbox_client, connected):
    catalogue(sandbox_client, connected.shop_id, 2, stock=1)
    client = ShopifyClient(connected)
    batch = targets(sorted(listed(client).values(), key=lambda p: p.sku))
    set_faults(sandbox_client, fail_next=50)
    with pytest.raises(TransientError):
        client.adjust_stock(batch)
    set_faults(sandbox_client)
    assert stock_of(sandbox_client, connected.shop_id) == {"S0001": 1, "S0002": 1}


def test_throttling_is_rate_limited(sandbox_client, connected):
    catalogue(sandbox_client, connected.shop_id, 1, stock=1)
    client = ShopifyClient(connected)
    batch = targets(list(listed(client).values()))
    set_faults(sandbox_client, throttle_next=50)
    with pytest.raises(RateLimited) as caught:
        client.set_stock(batch)
    assert caught.value.retry_after is not None
    set_faults(sandbox_client)
    assert stock_of(sandbox_client, connected.shop_id) == {"S0001": 1}


def test_a_throttle_then_success_is_retried_by_the_http_layer(sandbox, sandbox_client, connected):
    catalogue(sandbox_client, connected.shop_id, 1, stock=1)
    client = ShopifyClient(connected)
    batch = targets(list(listed(client).values()), quantity=2)
    set_faults(sandbox_client, throttle_next=1)
    assert client.adjust_stock(batch)[0].quantity == 3
    assert len(ledger(sandbox_client, connected.shop_id, "inventoryAdjustQuantities")) == 1


def test_expired_token_is_token_expired_and_uninstalled_is_auth_error(
    sandbox_client, connected, connected_expiring
):
    catalogue(sandbox_client, connected.shop_id, 1, stock=1)
    batch = targets(list(listed(ShopifyClient(connected)).values()))
    set_faults(sandbox_client, expire_tokens=True)
    with pytest.raises(TokenExpired):
        ShopifyClient(connected_expiring).adjust_stock(batch)
    sandbox_client.post(f"{CONSOLE}/uninstall", json={"shop": connected.shop_id})
    with pytest.raises(AuthError) as caught:
        ShopifyClient(connected).read_stock(batch)
    assert not isinstance(caught.value, TokenExpired)


def test_without_write_inventory_the_write_is_an_auth_error(sandbox_client, shop):
    catalogue(sandbox_client, shop["id"], 1, stock=1)
    ctx = make_ctx(shop["id"], scopes="read_products,read_inventory")
    ctx = with_tokens(ctx, authorize(sandbox_client, ctx))
    client = ShopifyClient(ctx)
    batch = targets(list(listed(client).values()))
    with pytest.raises(AuthError) as caught:
        client.adjust_stock(batch)
    assert caught.value.code == "ACCESS_DENIED"


def test_bench_shape_1000_skus_are_four_adjust_calls(sandbox, sandbox_client, roomy):
    """What `make bench` counts: mappings carry their stock_ref, so an inbound of 1,000 SKUs is
    ceil(1000 / 250) = 4 writes and not a single read."""
    todo = []
    for start in range(0, 1000, 99):
        made = product(
            sandbox_client,
            roomy.shop_id,
            name=f"Box {start}",
            variants=[{"sku": f"B{n:04d}"} for n in range(start, min(1000, start + 99))],
        )
        for variant in made["variants"]:
            ref = {"inventory_item_id": variant["inventory_item_id"], "location_id": made["location_id"]}
            todo.append(
                StockTarget(
                    key=variant["sku"],
                    item_id=made["id"],
                    variant_id=variant["id"],
                    sku=variant["sku"],
                    quantity=1,
                    stock_ref=ref,
                    idempotency_key=f"push-{variant['sku']}",
                )
            )
    client = ShopifyClient(roomy)
    before = sandbox.store.count_calls("shopify")
    outcomes = [o for batch in client.stock_batches(todo, absolute=False) for o in client.adjust_stock(batch)]
    assert sandbox.store.count_calls("shopify") - before == 4 == calls(sandbox, ADJUST)
    assert len(outcomes) == 1000 and all(o.ok and o.quantity == 1 for o in outcomes)
