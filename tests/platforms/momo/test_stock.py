"""MomoClient products and stock against the in-process momo sandbox: the listing walk, batch reads
and writes, delta semantics with the quantity as read, per-SKU refusals and whole-call failures."""

from datetime import datetime, timedelta
from math import ceil
from zoneinfo import ZoneInfo

import pytest

from ecbridge.apilog.models import ApiCall
from ecbridge.platforms.base import StockTarget
from ecbridge.platforms.errors import AuthError, PlatformError, RateLimited, TransientError
from ecbridge.platforms.momo import client as momo_client
from ecbridge.platforms.momo import mapping
from ecbridge.platforms.momo.client import MomoClient
from ecbridge.sandbox.momo import STOCK_CHANGE_MAX
from tests.platforms.momo.test_client import assert_no_secrets_logged, make_ctx

pytestmark = pytest.mark.django_db

CONSOLE = "/sandbox/momo/_console"
TAIPEI = ZoneInfo("Asia/Taipei")


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

        def stock(self, sku, stock):
            response = sandbox_client.post(
                f"{CONSOLE}/stock", json={"shop": vendor["id"], "sku": sku, "stock": stock}
            )
            assert response.status_code == 200, response.text

        def lock(self, sku, reason):
            response = sandbox_client.post(
                f"{CONSOLE}/stock_lock", json={"shop": vendor["id"], "sku": sku, "reason": reason}
            )
            assert response.status_code == 200, response.text

        def faults(self, **body):
            assert sandbox_client.post(f"{CONSOLE}/faults", json=body).status_code == 200

        def state(self):
            return sandbox_client.get(f"{CONSOLE}/state", params={"shop": vendor["id"]}).json()

        def ledger(self, source="changeGoodsQty"):
            return [row for row in self.state()["stock_ledger"] if row["source"] == source]

        def password(self, new):
            sandbox_client.post(f"{CONSOLE}/shops/{vendor['id']}/password", json={"entp_pwd": new})

    return Console()


def client_for(creds, **settings):
    return MomoClient(make_ctx(creds, **settings))


def calls(sandbox, operation):
    return [c for c in all_calls(sandbox) if c["operation"] == operation]


def all_calls(sandbox):
    return sandbox.store.calls("momo", limit=10_000)


def statuses_after(sandbox, mark):
    """(path end, status) of the calls after ``mark``: a faulted call never reaches its handler,
    so it is recorded under its path (GoodsServlet.do), not its doAction."""
    return [(c["path"].rsplit("/", 1)[-1], c["status"]) for c in all_calls(sandbox)[mark:]]


def products(creds, **settings):
    return [p for page in client_for(creds, **settings).iter_products() for p in page]


def targets_for(creds, deltas: dict[str, int], **settings):
    """StockTargets from a mapping sync, as the services build them (key = our row id)."""
    found = {p.sku: p for p in products(creds, **settings)}
    return [
        StockTarget(
            key=f"push-{n}",
            item_id=found[sku].item_id,
            variant_id=found[sku].variant_id,
            sku=sku,
            quantity=delta,
            stock_ref=found[sku].stock_ref,
        )
        for n, (sku, delta) in enumerate(deltas.items(), start=1)
    ]


def push_inbound(client, targets):
    """The service's inbound flow for a delta platform that wants the quantity as read."""
    assert client.stock_delta_native and client.adjust_needs_current
    current = client.read_stock(targets)
    for target in targets:
        target.current = current.get(target.key)
    outcomes = []
    for batch in client.stock_batches(targets, absolute=False):
        outcomes += client.adjust_stock(batch)
    return {o.key: o for o in outcomes}


def days_ago(days):
    return (datetime.now(TAIPEI) - timedelta(days=days)).isoformat()


# --- flags ---------------------------------------------------------------------------------------------
def test_momo_is_delta_only_and_wants_the_quantity_as_read(creds):
    client = client_for(creds)
    assert client.stock_delta_native and client.adjust_needs_current
    assert not client.stock_absolute_native and not client.adjust_idempotent
    with pytest.raises(NotImplementedError):
        client.set_stock([])


# --- products ------------------------------------------------------------------------------------------
def test_iter_products_walks_every_listing_window_and_every_goodsdt(sandbox, console, creds):
    tea = console.product(
        sku="TEA",
        name="烏龍茶",
        listed_at=days_ago(25),
        variants=[
            {"sku": "TEA-S", "name": "小包", "barcode": "4710000000011"},
            {"sku": "TEA-L", "name": "大包"},
        ],
    )
    cup = console.product(sku="CUP-1", name="保溫杯", barcode="4710000000028", listed_at=days_ago(3))
    console.product(sku="OLD-1", name="舊品", listed_at=days_ago(400))  # before products_since

    since = (datetime.now(TAIPEI) - timedelta(days=30)).strftime("%Y/%m/%d")
    pages = list(client_for(creds, products_since=since, products_window_days=7).iter_products())

    windows = mapping.date_windows(
        datetime.strptime(since, "%Y/%m/%d").date(), datetime.now(TAIPEI).date(), 7
    )
    assert len(calls(sandbox, "queryGoodsList")) == len(windows) == 5  # 31 days in 7-day windows
    assert len(pages) == 2  # one page per window that lists anything
    by_sku = {p.sku: p for page in pages for p in page}
    assert set(by_sku) == {"TEA-S", "TEA-L", "CUP-1"}
    small = by_sku["TEA-S"]
    assert (small.item_id, small.variant_id, small.name) == (tea["goods_code"], "001", "烏龍茶 小包")
    assert small.stock_ref == {"goods_name": "烏龍茶", "goodsdt_info": "小包"}
    assert by_sku["TEA-L"].variant_id == "002" and by_sku["TEA-L"].item_id == tea["goods_code"]
    single = by_sku["CUP-1"]
    assert (single.item_id, single.variant_id, single.name) == (cup["goods_code"], "000", "保溫杯")
    assert single.stock_ref == {"goods_name": "保溫杯", "goodsdt_info": "無"}
    # momo's SCM calls carry no barcode, so none is invented
    assert all(p.barcode == "" and p.stock is None for p in by_sku.values())


def test_iter_products_default_walk_reaches_back_to_products_since(sandbox, console, creds):
    console.product(sku="OLD-1", name="舊品", listed_at="2006-05-01T10:00:00")
    console.product(sku="NEW-1", name="新品")
    skus = [p.sku for p in products(creds)]
    assert skus == ["OLD-1", "NEW-1"]
    today = datetime.now(TAIPEI).date()
    expected = mapping.date_windows(
        mapping.DEFAULT_PRODUCTS_SINCE, today, mapping.DEFAULT_PRODUCTS_WINDOW_DAYS
    )
    assert len(calls(sandbox, "queryGoodsList")) == len(expected)


def test_a_failing_window_raises_instead_of_ending_the_walk(sandbox, console, creds):
    console.product(sku="A-1", listed_at=days_ago(20))
    console.product(sku="B-1", listed_at=days_ago(1))
    since = (datetime.now(TAIPEI) - timedelta(days=21)).strftime("%Y/%m/%d")
    walk = client_for(creds, products_since=since, products_window_days=10).iter_products()
    assert [p.sku for p in next(walk)] == ["A-1"]
    console.faults(fail_next=50)
    with pytest.raises(TransientError):
        next(walk)


def test_a_transient_5xx_while_listing_is_retried(sandbox, console, creds):
    console.product(sku="A-1")
    console.faults(fail_next=1)
    since = datetime.now(TAIPEI).strftime("%Y/%m/%d")
    assert [p.sku for p in products(creds, products_since=since)] == ["A-1"]
    assert statuses_after(sandbox, 0) == [("GoodsServlet.do", 500), ("GoodsServlet.do", 200)]


def test_a_changed_password_is_an_auth_error_for_listing_reading_and_writing(console, creds):
    console.product(sku="A-1", stock=5)
    targets = targets_for(creds, {"A-1": 1})
    targets[0].current = 5
    console.password("Changed12345")
    client = client_for(creds)
    with pytest.raises(AuthError):
        list(client.iter_products())
    with pytest.raises(AuthError):
        client.read_stock(targets)
    with pytest.raises(AuthError):
        client.adjust_stock(targets)
    assert console.ledger() == []


# --- reading -------------------------------------------------------------------------------------------
def test_read_stock_reads_every_goodsdt_in_one_call(sandbox, console, creds):
    console.product(sku="TEA", variants=[{"sku": "TEA-S", "stock": 4}, {"sku": "TEA-L", "stock": 9}])
    console.product(sku="CUP-1", stock=2)
    targets = targets_for(creds, {"TEA-S": 0, "TEA-L": 0, "CUP-1": 0})
    targets.append(StockTarget(key="ghost", item_id="99999999", variant_id="000", sku="GHOST"))

    assert client_for(creds).read_stock(targets) == {"push-1": 4, "push-2": 9, "push-3": 2}
    assert len(calls(sandbox, "goodsStockQty.query")) == 1  # unknown goods are left out


def test_read_stock_asks_for_at_most_2000_goods_codes_a_call(sandbox, console, creds):
    console.product(sku="REAL-1", stock=3)
    real = targets_for(creds, {"REAL-1": 0})
    fake = [
        StockTarget(key=f"f{n}", item_id=str(50_000_000 + n), variant_id="000", sku="") for n in range(2500)
    ]
    current = client_for(creds).read_stock(fake + real)
    assert current == {"push-1": 3}
    assert len(calls(sandbox, "goodsStockQty.query")) == ceil(2501 / mapping.STOCK_QUERY_MAX) == 2


def test_read_stock_finds_a_target_known_only_by_sku(sandbox, console, creds):
    console.product(sku="TEA", variants=[{"sku": "TEA-S", "stock": 4}, {"sku": "TEA-L", "stock": 9}])
    target = StockTarget(key="k", item_id="", variant_id="", sku="TEA-L")
    assert client_for(creds).read_stock([target]) == {"k": 9}


def test_read_stock_5xx_is_retried_then_a_typed_error(sandbox, console, creds):
    console.product(sku="A-1", stock=3)
    targets = targets_for(creds, {"A-1": 0})
    console.faults(fail_next=1)
    assert client_for(creds).read_stock(targets) == {"push-1": 3}
    console.faults(fail_next=50)
    with pytest.raises(TransientError):
        client_for(creds).read_stock(targets)
    console.faults(throttle_next=50)
    with pytest.raises(RateLimited):
        client_for(creds).read_stock(targets)


# --- writing -------------------------------------------------------------------------------------------
def test_inbound_push_is_one_read_and_one_write_per_batch(sandbox, console, creds):
    skus = [f"SKU-{n}" for n in range(5)]
    for n, sku in enumerate(skus):
        console.product(sku=sku, stock=n)
    targets = targets_for(creds, {sku: 10 for sku in skus}, stock_batch_size=2)
    before = len(all_calls(sandbox))

    outcomes = push_inbound(client_for(creds, stock_batch_size=2), targets)

    made = all_calls(sandbox)[before:]
    assert [c["operation"] for c in made] == ["goodsStockQty.query"] + ["changeGoodsQty"] * ceil(5 / 2)
    assert all(o.ok for o in outcomes.values())
    assert [outcomes[t.key].quantity for t in targets] == [10, 11, 12, 13, 14]
    assert console.state()["stock"] == {sku: n + 10 for n, sku in enumerate(skus)}
    ledger = console.ledger()
    assert [(r["sku"], r["before"], r["after"], r["delta"]) for r in ledger] == [
        (sku, n, n + 10, 10) for n, sku in enumerate(skus)
    ]
    assert all("orderCounselQty sent=" in r["detail"] and "mismatch" not in r["detail"] for r in ledger)


def test_stock_batches_keep_the_limit_and_one_goodsdt_in_one_batch(creds):
    client = client_for(creds)
    thousand = [StockTarget(key=str(n), item_id=str(n), variant_id="000", sku=f"S{n}") for n in range(1000)]
    batches = client.stock_batches(thousand, absolute=False)
    assert len(batches) == ceil(1000 / mapping.DEFAULT_STOCK_BATCH_SIZE) == 10
    assert [t.key for b in batches for t in b] == [t.key for t in thousand]

    twice = [
        StockTarget(key="a", item_id="1", variant_id="001", sku="A"),
        StockTarget(key="b", item_id="2", variant_id="001", sku="B"),
        StockTarget(key="c", item_id="3", variant_id="001", sku="C"),
        StockTarget(key="a2", item_id="1", variant_id="001", sku="A"),
    ]
    batches = client_for(creds, stock_batch_size=2).stock_batches(twice, absolute=False)
    assert [[t.key for t in b] for b in batches] == [["a", "b", "a2"], ["c"]]


def test_the_same_goodsdt_twice_in_a_batch_is_one_entry(sandbox, console, creds):
    console.product(sku="A-1", stock=5)
    (first,) = targets_for(creds, {"A-1": 3})
    second = StockTarget(**{**first.__dict__, "key": "push-2", "quantity": 4})
    outcomes = push_inbound(client_for(creds), [first, second])
    assert outcomes["push-1"].ok and outcomes["push-2"].ok and outcomes["push-2"].quantity == 12
    assert [(r["before"], r["after"]) for r in console.ledger()] == [(5, 12)]
    assert len(calls(sandbox, "changeGoodsQty")) == 1


def test_a_locked_sku_fails_with_momos_reason_while_its_siblings_succeed(sandbox, console, creds):
    for sku in ("A-1", "B-1", "C-1"):
        console.product(sku=sku, stock=1)
    console.lock("B-1", "商品審核中，不可調整數量")
    targets = targets_for(creds, {"A-1": 2, "B-1": 2, "C-1": 2})

    outcomes = push_inbound(client_for(creds), targets)

    assert outcomes["push-1"].ok and outcomes["push-3"].ok
    refused = outcomes["push-2"]
    assert not refused.ok and refused.error == "商品審核中，不可調整數量" and not refused.retryable
    assert [r["sku"] for r in console.ledger()] == ["A-1", "C-1"]
    assert console.state()["stock"] == {"A-1": 3, "B-1": 1, "C-1": 3}

    console.lock("B-1", "")  # unlocked: the retry goes through
    retry = [t for t in targets if t.key == "push-2"]
    assert push_inbound(client_for(creds), retry)["push-2"].ok
    assert console.state()["stock"]["B-1"] == 3


def test_manual_sync_below_zero_is_refused_per_item(sandbox, console, creds):
    """Manual stock sync on a delta platform: read, then adjust by (target - current)."""
    console.product(sku="A-1", stock=8)
    console.product(sku="B-1", stock=3)
    targets = targets_for(creds, {"A-1": 0, "B-1": 0})
    client = client_for(creds)
    current = client.read_stock(targets)
    wanted = {"push-1": 2, "push-2": 0}
    for target in targets:
        target.current = current[target.key]
        target.quantity = wanted[target.key] - target.current
    console.stock("B-1", 1)  # a buyer order lands between the read and the write
    outcomes = {o.key: o for o in client.adjust_stock(targets)}
    assert outcomes["push-1"].ok and outcomes["push-1"].quantity == 2
    assert not outcomes["push-2"].ok and "不可小於0" in outcomes["push-2"].error
    assert console.state()["stock"] == {"A-1": 2, "B-1": 1}


def test_order_counsel_qty_carries_the_quantity_as_read_and_a_mismatch_is_only_recorded(console, creds):
    console.product(sku="A-1", stock=5)
    targets = targets_for(creds, {"A-1": 2})
    targets[0].current = 4  # stale read
    (outcome,) = client_for(creds).adjust_stock(targets)
    assert outcome.ok and outcome.quantity == 7  # momo's own number after the change
    (row,) = console.ledger()
    assert row["detail"] == "orderCounselQty sent=4 momo=5 (mismatch, not refused)"


def test_zero_delta_and_unknown_goods_make_no_write(sandbox, console, creds):
    console.product(sku="A-1", stock=5)
    targets = targets_for(creds, {"A-1": 0})
    targets[0].current = 5
    ghost = StockTarget(key="ghost", item_id="99999999", variant_id="000", sku="GHOST", quantity=3)
    outcomes = {o.key: o for o in client_for(creds).adjust_stock(targets + [ghost])}
    assert outcomes["push-1"].ok and outcomes["push-1"].quantity == 5
    assert not outcomes["ghost"].ok and "GHOST" in outcomes["ghost"].error
    assert calls(sandbox, "changeGoodsQty") == []


def test_a_mapping_made_from_orders_is_resolved_with_one_read(sandbox, console, creds):
    goods = console.product(sku="TEA", name="烏龍茶", variants=[{"sku": "TEA-S", "name": "小包", "stock": 2}])
    bare = StockTarget(key="k", item_id=goods["goods_code"], variant_id="001", sku="TEA-S", quantity=3)
    (outcome,) = client_for(creds).adjust_stock([bare])  # no stock_ref, no current
    assert outcome.ok and outcome.quantity == 5
    assert [c["operation"] for c in sandbox.store.calls("momo")] == ["goodsStockQty.query", "changeGoodsQty"]

    only_sku = StockTarget(key="s", item_id="", variant_id="", sku="TEA-S", quantity=1)
    (outcome,) = client_for(creds).adjust_stock([only_sku])
    assert outcome.ok and outcome.quantity == 6


def test_an_over_limit_batch_is_refused_whole(sandbox, console, creds):
    size = STOCK_CHANGE_MAX + 1
    console.product(sku="MANY", variants=[{"sku": f"V-{n}", "stock": 1} for n in range(size)])
    targets = targets_for(creds, {f"V-{n}": 1 for n in range(size)})
    for target in targets:
        target.current = 1
    client = client_for(creds, stock_batch_size=size)  # misconfigured above momo's limit
    (batch,) = client.stock_batches(targets, absolute=False)
    with pytest.raises(PlatformError, match=f"最多{STOCK_CHANGE_MAX}筆"):
        client.adjust_stock(batch)
    assert console.ledger() == []
    assert len(client_for(creds).stock_batches(targets, absolute=False)) == 2  # the default fits


def test_a_write_that_got_a_5xx_is_not_repeated(sandbox, console, creds):
    console.product(sku="A-1", stock=1)
    targets = targets_for(creds, {"A-1": 2})
    targets[0].current = 1
    console.faults(fail_next=1)
    mark = len(all_calls(sandbox))
    with pytest.raises(TransientError):
        client_for(creds).adjust_stock(targets)
    assert statuses_after(sandbox, mark) == [("GoodsServlet.do", 500)]
    assert console.ledger() == []


def test_a_lost_answer_is_not_repeated_because_momo_may_have_applied_it(sandbox, console, creds):
    console.product(sku="A-1", stock=1)
    targets = targets_for(creds, {"A-1": 2})
    targets[0].current = 1
    console.faults(malformed_next=1)  # momo applied it, the answer was lost
    with pytest.raises(TransientError):
        client_for(creds).adjust_stock(targets)
    assert len(calls(sandbox, "changeGoodsQty")) == 1
    assert [(r["before"], r["after"]) for r in console.ledger()] == [(1, 3)]  # applied exactly once
    # the caller re-reads and sees it landed
    assert client_for(creds).read_stock(targets) == {"push-1": 3}


def test_a_throttled_write_is_retried_and_applied_once(sandbox, console, creds, _no_backoff_sleep):
    console.product(sku="A-1", stock=1)
    targets = targets_for(creds, {"A-1": 2})
    targets[0].current = 1
    console.faults(throttle_next=1)
    mark = len(all_calls(sandbox))
    (outcome,) = client_for(creds).adjust_stock(targets)
    assert outcome.ok and outcome.quantity == 3
    assert statuses_after(sandbox, mark) == [("GoodsServlet.do", 429), ("GoodsServlet.do", 200)]
    assert calls(sandbox, "changeGoodsQty")[-1]["status"] == 200
    assert _no_backoff_sleep == [3]  # momo's Retry-After honoured
    assert len(console.ledger()) == 1

    console.faults(throttle_next=50)
    with pytest.raises(RateLimited):
        client_for(creds).adjust_stock(targets)
    assert len(console.ledger()) == 1


def test_stock_calls_are_logged_without_secrets(console, creds):
    console.product(sku="A-1", stock=1)
    targets = targets_for(creds, {"A-1": 2})
    push_inbound(client_for(creds), targets)
    operations = set(ApiCall.objects.values_list("operation", flat=True))
    assert {"queryGoodsList", "goodsStockQty.query", "changeGoodsQty"} <= operations
    assert_no_secrets_logged(creds)


# --- pure payload code ---------------------------------------------------------------------------------
def test_change_results_read_objects_and_tab_separated_text():
    ok, failed = mapping.change_results(
        {
            "successList": [{"goodsCode": "1", "goodsdtCode": "001", "orderCounselQty": "7"}, "2\t002"],
            "failList": [{"goodsCode": "3", "goodsdtCode": "000", "msg": "停售"}, "4\t001\t查無此單品"],
        }
    )
    assert ok == {("1", "001"): 7, ("2", "002"): None}
    assert failed == {("3", "000"): "停售", ("4", "001"): "查無此單品"}


def test_date_windows_cover_every_day_once():
    start, end = datetime(2024, 1, 1).date(), datetime(2024, 3, 1).date()
    windows = mapping.date_windows(start, end, 30)
    assert windows[0][0] == start and windows[-1][1] == end
    assert all(b[0] - a[1] == timedelta(days=1) for a, b in zip(windows, windows[1:], strict=False))
    assert all((last - first).days < 30 for first, last in windows)
    assert mapping.date_windows(end, start, 30) == []
    with pytest.raises(ValueError):
        mapping.parse_day("01-02-2024", start)


def test_malformed_goods_and_stock_rows_are_refused():
    with pytest.raises(ValueError):
        mapping.products_from_rows([{"goodsCode": "1", "goodsdtCode": ""}])
    with pytest.raises(TypeError):
        mapping.products_from_rows(["1"])
    with pytest.raises(ValueError):
        mapping.stock_rows([{"goods_code": "1", "goodsdt_code": "000", "order_counsel_qty": "many"}])
