"""The momo sandbox's products and stock over raw HTTP: changeGoodsQty's per-entry results and
limits, the console's stock and stock lock, orders taking stock, and the stock ledger."""

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from ecbridge.sandbox.momo import STOCK_CHANGE_MAX

BASE = "/sandbox/momo"
CONSOLE = f"{BASE}/_console"
TAIPEI = ZoneInfo("Asia/Taipei")
TODAY = datetime.now(TAIPEI).strftime("%Y/%m/%d")


@pytest.fixture
def vendor(sandbox_client):
    return sandbox_client.post(f"{CONSOLE}/shops", json={}).json()


@pytest.fixture
def creds(vendor):
    return vendor["credentials"]


def login(creds, **override):
    info = {
        "entpID": creds["entp_id"],
        "entpCode": creds["entp_code"],
        "entpPwd": creds["entp_pwd"],
        "otpBackNo": creds["otp_back_no"],
    }
    return {**info, **override}


def product(client, vendor, **body):
    response = client.post(f"{CONSOLE}/products", json={"shop": vendor["id"], **body})
    assert response.status_code == 200, response.text
    return response.json()


def entry(goods, dt=0, *, delta, current=None, **override):
    variant = goods["variants"][dt]
    return {
        "goodsCode": goods["goods_code"],
        "goodsName": goods["goods_name"],
        "goodsdtCode": variant["goodsdt_code"],
        "goodsdtInfo": variant["goodsdt_info"],
        "orderCounselQty": str(variant["order_counsel_qty"] if current is None else current),
        "addReduceQty": str(delta),
        **override,
    }


def change(client, creds, entries, **login_override):
    body = {
        "doAction": "changeGoodsQty",
        "loginInfo": login(creds, **login_override),
        "sendInfoList": entries,
    }
    return client.post(f"{BASE}/GoodsServlet.do", json=body)


def state(client, vendor):
    return client.get(f"{CONSOLE}/state", params={"shop": vendor["id"]}).json()


def goods_list(client, creds, fr, to=TODAY):
    info = {"entpGoodsNoQ": "", "doFlag": "", "goodsName": "", "frDate": fr, "toDate": to, "goodsCode": ""}
    body = {"doAction": "queryGoodsList", "loginInfo": login(creds), "sendInfo": info}
    return client.post(f"{BASE}/GoodsServlet.do", json=body).json()


# --- changeGoodsQty ---------------------------------------------------------------------------------------
def test_change_goods_qty_adds_deltas_and_reports_each_entry(sandbox_client, vendor, creds):
    tea = product(
        sandbox_client,
        vendor,
        sku="TEA",
        name="烏龍茶",
        variants=[{"sku": "TEA-S", "stock": 5}, {"sku": "TEA-L"}],
    )
    response = change(
        sandbox_client,
        creds,
        [entry(tea, 0, delta=-2), entry(tea, 1, delta="+4"), entry(tea, 0, delta=-9)],
    )
    assert response.status_code == 200
    result = response.json()
    assert result["ERROR"] == ""
    info = result["resultInfo"]
    assert info["successCnt"] == "2" and info["failCnt"] == "1"
    assert info["successList"] == [
        {"goodsCode": tea["goods_code"], "goodsdtCode": "001", "orderCounselQty": 3},
        {"goodsCode": tea["goods_code"], "goodsdtCode": "002", "orderCounselQty": 4},
    ]
    (failed,) = info["failList"]
    assert failed["goodsdtCode"] == "001" and "不可小於0" in failed["msg"]  # 3 - 9 < 0: refused, not clamped
    assert state(sandbox_client, vendor)["stock"] == {"TEA-S": 3, "TEA-L": 4}


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"addReduceQty": "0"}, "addReduceQty 不可為0"),
        ({"addReduceQty": "two"}, "addReduceQty 需為整數"),
        ({"addReduceQty": 1.5}, "addReduceQty 需為整數"),
        ({"orderCounselQty": ""}, "orderCounselQty 不可為空"),
        ({"goodsName": None}, "goodsName 不可為空"),
        ({"goodsCode": "99999999"}, "查無此商品(99999999)"),
        ({"goodsdtCode": "007"}, "-007)"),
    ],
)
def test_change_goods_qty_refuses_a_bad_entry_on_its_own(sandbox_client, vendor, creds, override, message):
    goods = product(sandbox_client, vendor, sku="A-1", stock=2)
    other = product(sandbox_client, vendor, sku="B-1", stock=2)
    info = change(sandbox_client, creds, [entry(goods, delta=1, **override), entry(other, delta=1)]).json()[
        "resultInfo"
    ]
    assert [e["goodsCode"] for e in info["successList"]] == [other["goods_code"]]
    (failed,) = info["failList"]
    assert message in failed["msg"]
    assert state(sandbox_client, vendor)["stock"] == {"A-1": 2, "B-1": 3}


def test_change_goods_qty_refuses_an_over_limit_or_empty_batch_whole(sandbox_client, vendor, creds):
    goods = product(
        sandbox_client, vendor, sku="MANY", variants=[{"sku": f"V-{n}"} for n in range(STOCK_CHANGE_MAX + 1)]
    )
    entries = [entry(goods, n, delta=1) for n in range(STOCK_CHANGE_MAX + 1)]
    assert change(sandbox_client, creds, entries).json() == {
        "ERROR": f"sendInfoList 最多{STOCK_CHANGE_MAX}筆"
    }
    assert change(sandbox_client, creds, []).json() == {"ERROR": "sendInfoList 不可為空"}
    assert all(v == 0 for v in state(sandbox_client, vendor)["stock"].values())
    ok = change(sandbox_client, creds, entries[:STOCK_CHANGE_MAX]).json()["resultInfo"]
    assert ok["successCnt"] == str(STOCK_CHANGE_MAX)


def test_change_goods_qty_checks_login_and_another_vendors_goods(sandbox_client, vendor, creds):
    goods = product(sandbox_client, vendor, sku="A-1", stock=2)
    assert change(sandbox_client, creds, [entry(goods, delta=1)], entpPwd="wrongpass1").json() == {
        "ERROR": "登入失敗：密碼錯誤"
    }
    other = sandbox_client.post(f"{CONSOLE}/shops", json={}).json()
    refused = change(sandbox_client, other["credentials"], [entry(goods, delta=1)]).json()["resultInfo"]
    assert refused["successList"] == [] and "查無此商品" in refused["failList"][0]["msg"]
    assert state(sandbox_client, vendor)["stock"] == {"A-1": 2}


def test_a_stale_order_counsel_qty_is_applied_and_recorded(sandbox_client, vendor, creds):
    goods = product(sandbox_client, vendor, sku="A-1", stock=5)
    change(sandbox_client, creds, [entry(goods, delta=2, current=9)])
    change(sandbox_client, creds, [entry(goods, delta=1, current=7)])
    rows = [r for r in state(sandbox_client, vendor)["stock_ledger"] if r["source"] == "changeGoodsQty"]
    assert [(r["before"], r["after"], r["detail"]) for r in rows] == [
        (5, 7, "orderCounselQty sent=9 momo=5 (mismatch, not refused)"),
        (7, 8, "orderCounselQty sent=7 momo=7"),
    ]


def test_a_stock_lock_refuses_that_sku_with_its_reason_until_unlocked(sandbox_client, vendor, creds):
    a = product(sandbox_client, vendor, sku="A-1", stock=1)
    b = product(sandbox_client, vendor, sku="B-1", stock=1)
    lock = {"shop": vendor["id"], "sku": "A-1", "reason": "商品已停售"}
    assert sandbox_client.post(f"{CONSOLE}/stock_lock", json=lock).status_code == 200
    info = change(sandbox_client, creds, [entry(a, delta=1), entry(b, delta=1)]).json()["resultInfo"]
    assert info["failList"] == [{"goodsCode": a["goods_code"], "goodsdtCode": "000", "msg": "商品已停售"}]
    assert [e["goodsCode"] for e in info["successList"]] == [b["goods_code"]]

    sandbox_client.post(f"{CONSOLE}/stock_lock", json={**lock, "reason": ""})
    assert change(sandbox_client, creds, [entry(a, delta=1)]).json()["resultInfo"]["successCnt"] == "1"
    assert state(sandbox_client, vendor)["stock"] == {"A-1": 2, "B-1": 2}


def test_stock_query_reports_what_changed(sandbox_client, vendor, creds):
    goods = product(sandbox_client, vendor, sku="A-1", name="杯", stock=2)
    change(sandbox_client, creds, [entry(goods, delta=5)])
    body = {"doAction": "query", "loginInfo": login(creds), "goodsCodeList": [goods["goods_code"]]}
    (row,) = sandbox_client.post(f"{BASE}/api/v1/goodsStockQty/query.scm", json=body).json()["dataList"]
    assert row["order_counsel_qty"] == 7 and row["syslast"] == 7 and row["entp_goods_no"] == "A-1"
    assert "barcode" not in json.dumps(row)


def test_a_malformed_answer_still_applied_the_change(sandbox_client, vendor, creds):
    goods = product(sandbox_client, vendor, sku="A-1", stock=2)
    sandbox_client.post(f"{CONSOLE}/faults", json={"malformed_next": 1})
    response = change(sandbox_client, creds, [entry(goods, delta=1)])
    with pytest.raises(ValueError):
        json.loads(response.text)
    assert state(sandbox_client, vendor)["stock"] == {"A-1": 3}


def test_a_5xx_or_throttle_changes_nothing(sandbox_client, vendor, creds):
    goods = product(sandbox_client, vendor, sku="A-1", stock=2)
    sandbox_client.post(f"{CONSOLE}/faults", json={"fail_next": 1, "throttle_next": 1})
    assert change(sandbox_client, creds, [entry(goods, delta=1)]).status_code == 500
    throttled = change(sandbox_client, creds, [entry(goods, delta=1)])
    assert throttled.status_code == 429 and throttled.headers["Retry-After"] == "3"
    assert state(sandbox_client, vendor)["stock"] == {"A-1": 2}


# --- listing ----------------------------------------------------------------------------------------------
def test_query_goods_list_windows_on_the_listing_date_and_shows_no_barcode(sandbox_client, vendor, creds):
    old = (datetime.now(TAIPEI) - timedelta(days=40)).replace(microsecond=0)
    product(sandbox_client, vendor, sku="OLD", barcode="4710000000011", listed_at=old.isoformat())
    product(sandbox_client, vendor, sku="NEW", barcode="4710000000028")
    day = old.strftime("%Y/%m/%d")
    assert [r["entpGoodsNo"] for r in goods_list(sandbox_client, creds, day, day)["dataList"]] == ["OLD"]
    assert [r["entpGoodsNo"] for r in goods_list(sandbox_client, creds, TODAY)["dataList"]] == ["NEW"]
    everything = goods_list(sandbox_client, creds, "2004/01/01")
    assert [r["entpGoodsNo"] for r in everything["dataList"]] == ["OLD", "NEW"]
    assert "4710000000" not in json.dumps(everything)


# --- console ----------------------------------------------------------------------------------------------
def test_console_products_and_stock_go_to_the_ledger(sandbox_client, vendor):
    goods = product(
        sandbox_client, vendor, sku="TEA", variants=[{"sku": "TEA-S", "stock": 5}, {"sku": "TEA-L"}]
    )
    response = sandbox_client.post(
        f"{CONSOLE}/stock", json={"shop": vendor["id"], "sku": "TEA-L", "stock": 8}
    )
    assert response.status_code == 200
    now = state(sandbox_client, vendor)
    assert now["stock"] == {"TEA-S": 5, "TEA-L": 8}
    assert [
        (r["sku"], r["item_id"], r["variant_id"], r["before"], r["after"], r["source"])
        for r in now["stock_ledger"]
    ] == [
        ("TEA-S", goods["goods_code"], "001", 0, 5, "console"),
        ("TEA-L", goods["goods_code"], "002", 0, 8, "console"),
    ]


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("stock", {"sku": "NOPE", "stock": 1}, 404),
        ("stock", {"sku": "A-1", "stock": -1}, 400),
        ("stock", {"sku": "A-1", "stock": "x"}, 400),
        ("stock", {"stock": 1}, 400),
        ("stock_lock", {"sku": "NOPE", "reason": "x"}, 404),
    ],
)
def test_console_stock_refuses_bad_input(sandbox_client, vendor, path, body, status):
    product(sandbox_client, vendor, sku="A-1", stock=1)
    response = sandbox_client.post(f"{CONSOLE}/{path}", json={"shop": vendor["id"], **body})
    assert response.status_code == status
    assert state(sandbox_client, vendor)["stock"] == {"A-1": 1}


@pytest.mark.parametrize("path", ["stock", "stock_lock"])
def test_console_stock_needs_a_known_vendor(sandbox_client, path):
    body = {"shop": "nope", "sku": "A-1", "stock": 1, "reason": "x"}
    assert sandbox_client.post(f"{CONSOLE}/{path}", json=body).status_code == 404


def test_placing_orders_takes_stock_never_below_zero(sandbox_client, vendor):
    product(sandbox_client, vendor, sku="A-1", stock=5)
    product(sandbox_client, vendor, sku="B-1", stock=1)

    def order(lines, **body):
        payload = {"shop": vendor["id"], "lines": [{"sku": s, "quantity": q} for s, q in lines], **body}
        response = sandbox_client.post(f"{CONSOLE}/orders", json=payload)
        assert response.status_code == 200, response.text
        return response.json()

    first = order([("A-1", 2), ("B-1", 3), ("GHOST", 1)])  # more than B-1 has: still placed
    order([("A-1", 1)], count=2)
    order([("A-1", 1)], status="cancelled")  # a cancelled order takes nothing
    now = state(sandbox_client, vendor)
    assert now["stock"] == {"A-1": 1, "B-1": 0}
    rows = [r for r in now["stock_ledger"] if r["source"] == "order"]
    assert [(r["sku"], r["before"], r["after"]) for r in rows] == [
        ("A-1", 5, 3),
        ("B-1", 1, 0),
        ("A-1", 3, 1),
    ]
    assert first["id"] in rows[0]["detail"] and "2 orders" in rows[2]["detail"]
    order([("B-1", 1)])  # nothing left: no change, no ledger row
    assert len([r for r in state(sandbox_client, vendor)["stock_ledger"] if r["source"] == "order"]) == 3
