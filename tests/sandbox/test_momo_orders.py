"""The momo sandbox's order endpoints over raw HTTP: required keys, window limits, encrypted rows,
change-time windows for shipped/cancelled queries, shipping confirmations, and the console."""

import base64
import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

BASE = "/sandbox/momo"
CONSOLE = f"{BASE}/_console"
TAIPEI = ZoneInfo("Asia/Taipei")
COMPANY_KEYS = ("receiver", "goodsCode", "orderNo", "entpGoodsNo", "orderGb")


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


def decrypt(text, password):
    """The test's own AES-128-ECB/PKCS5 (key: password right-padded with '0')."""
    key = password.encode().ljust(16, b"0")
    data = Cipher(algorithms.AES(key), modes.ECB()).decryptor().update(base64.b64decode(text))  # noqa: S305
    unpadder = padding.PKCS7(128).unpadder()
    return json.loads(unpadder.update(data) + unpadder.finalize())


def company_info(fr, to, **filters):
    info = {
        "company_fr_dd": fr.strftime("%Y/%m/%d"),
        "company_fr_hh": fr.strftime("%H"),
        "company_fr_mm": fr.strftime("%M"),
        "company_to_dd": to.strftime("%Y/%m/%d"),
        "company_to_hh": to.strftime("%H"),
        "company_to_mm": to.strftime("%M"),
    }
    info.update({f"company_{k}": "" for k in COMPANY_KEYS})
    info.update(filters)
    return info


def plain_info(fr, to, *extra, **filters):
    info = {
        "fromDate": fr.strftime("%Y/%m/%d"),
        "fromHour": fr.strftime("%H"),
        "fromMinute": fr.strftime("%M"),
        "toDate": to.strftime("%Y/%m/%d"),
        "toHour": to.strftime("%H"),
        "toMinute": to.strftime("%M"),
    }
    info.update(dict.fromkeys(extra, ""))
    info.update(filters)
    return info


def servlet(client, creds, action, **body):
    return client.post(
        f"{BASE}/OrderServlet.do", json={"doAction": action, "loginInfo": login(creds), **body}
    )


def rows_of(response, creds):
    doc = response.json()
    assert response.status_code == 200 and doc.get("basicCheckMsgList") == [], doc
    assert isinstance(doc["dataList"], str)  # encrypted, never plain rows
    return decrypt(doc["dataList"], creds["entp_pwd"])


def now_taipei():
    return datetime.now(TAIPEI)


def place(client, vendor, **body):
    response = client.post(
        f"{CONSOLE}/orders", json={"shop": vendor["id"], "lines": [{"sku": "SKU-1", "quantity": 2}], **body}
    )
    assert response.status_code == 200, response.text
    return response.json()


# --- queries ----------------------------------------------------------------------------------------
def test_unsend_company_rows_are_per_item_and_encrypted(sandbox_client, vendor, creds):
    sandbox_client.post(
        f"{CONSOLE}/products",
        json={"shop": vendor["id"], "sku": "", "name": "茶", "variants": [{"sku": "SKU-1", "name": "大"}]},
    )
    order = place(
        sandbox_client, vendor, lines=[{"sku": "SKU-1", "quantity": 2}, {"sku": "NEW-9", "quantity": 1}]
    )
    now = now_taipei()
    rows = rows_of(
        servlet(
            sandbox_client, creds, "unsendCompanyQuery", sendInfo=company_info(now - timedelta(hours=1), now)
        ),
        creds,
    )
    assert [r["completeOrderNo"] for r in rows] == order["complete_order_nos"]
    first, second = rows
    assert first["completeOrderNo"].startswith(order["id"] + "-")
    assert (
        first["entpGoodsNo"],
        first["goodsName"],
        first["goodsDtCode"],
        first["goodsDtInfo"],
        first["syslast"],
    ) == (
        "SKU-1",
        "茶",
        "001",
        "大",
        "2",
    )
    assert second["entpGoodsNo"] == "NEW-9" and second["goodsCode"] and second["goodsDtCode"] == "000"
    assert (
        first["receiver"]
        and first["receiverAddr"]
        and first["lastPricDate"].startswith(now.strftime("%Y/%m/%d"))
    )


def test_every_filter_key_must_be_present(sandbox_client, vendor, creds):
    now = now_taipei()
    info = company_info(now, now)
    del info["company_orderGb"], info["company_to_mm"]
    doc = servlet(sandbox_client, creds, "unsendCompanyQuery", sendInfo=info).json()
    assert "dataList" not in doc
    assert sorted(doc["basicCheckMsgList"]) == [
        "sendInfo.company_orderGb 欄位不存在",
        "sendInfo.company_to_mm 欄位不存在",
    ]
    doc = servlet(sandbox_client, creds, "unsendCompanyQuery").json()
    assert doc["basicCheckMsgList"] == ["sendInfo 不可為空"]


@pytest.mark.parametrize(
    ("days", "ok"),
    [(60, True), (61, False)],
)
def test_window_is_at_most_sixty_days(sandbox_client, vendor, creds, days, ok):
    to = now_taipei().replace(hour=23, minute=59)
    fr = (to - timedelta(days=days)).replace(hour=23, minute=59)
    doc = servlet(
        sandbox_client,
        creds,
        "sendingCompanyQuery",
        sendInfo=plain_info(fr, to, "receiver", "orderNo", "status"),
    ).json()
    if ok:
        assert doc["basicCheckMsgList"] == [] and "dataList" in doc
    else:
        assert doc["basicCheckMsgList"] == ["查詢區間不可超過2個月(60天)"] and "dataList" not in doc


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"company_fr_dd": "2026-01-01"}, "company_fr_dd 日期格式錯誤(yyyy/MM/dd)"),
        ({"company_to_hh": "24"}, "company_to_hh 時間格式錯誤(HH)"),
        ({"company_fr_mm": "6O"}, "company_fr_mm 時間格式錯誤(mm)"),
        ({"company_fr_dd": "2026/02/02", "company_to_dd": "2026/02/01"}, "轉單日起日不可大於迄日"),
    ],
)
def test_bad_windows_are_refused(sandbox_client, vendor, creds, override, message):
    now = now_taipei()
    doc = servlet(
        sandbox_client, creds, "unsendCompanyQuery", sendInfo=company_info(now, now, **override)
    ).json()
    assert doc["basicCheckMsgList"] == [message]


def test_order_queries_check_the_login(sandbox_client, vendor, creds):
    now = now_taipei()
    body = {
        "doAction": "unsendCompanyQuery",
        "loginInfo": login(creds, entpPwd="WrongPass123"),
        "sendInfo": company_info(now, now),
    }
    doc = sandbox_client.post(f"{BASE}/OrderServlet.do", json=body).json()
    assert doc == {"basicCheckMsgList": ["登入失敗：密碼錯誤"]}


def test_flavours_only_return_their_own_orders(sandbox_client, vendor, creds):
    home = place(sandbox_client, vendor)
    cvs = place(sandbox_client, vendor, shipping_code="2A")
    third = place(sandbox_client, vendor, shipping_code="63")
    now = now_taipei()
    fr = now - timedelta(hours=1)
    stores = {f"stores_{k}": "" for k in ("receiver", "goodsCode", "orderNo", "entpGoodsNo", "special")}
    stores.update(
        {
            k.replace("company", "stores"): v
            for k, v in company_info(fr, now).items()
            if "_fr_" in k or "_to_" in k
        }
    )
    thirds = {
        f"third_{k}": ""
        for k in ("receiver", "goodsCode", "orderNo", "entpGoodsNo", "orderGb", "delyGb", "delyTemp")
    }
    thirds.update(
        {
            k.replace("company", "third"): v
            for k, v in company_info(fr, now).items()
            if "_fr_" in k or "_to_" in k
        }
    )
    company_rows = rows_of(
        servlet(sandbox_client, creds, "unsendCompanyQuery", sendInfo=company_info(fr, now)), creds
    )
    store_rows = rows_of(servlet(sandbox_client, creds, "unsendStoresQuery", sendInfo=stores), creds)
    third_rows = rows_of(servlet(sandbox_client, creds, "unsendThirdQuery", sendInfo=thirds), creds)
    assert [r["completeOrderNo"] for r in company_rows] == home["complete_order_nos"]
    assert [r["completeOrderNo"] for r in store_rows] == cvs["complete_order_nos"]
    assert store_rows[0]["delyGb"] == "2A" and store_rows[0]["storeIdName"]
    assert [r["completeOrderNo"] for r in third_rows] == third["complete_order_nos"]
    assert third_rows[0]["delyGb"] == "63" and third_rows[0]["orderDelyGbName"] == "宅急便"


def test_shipped_and_cancelled_queries_window_on_the_change_time(sandbox_client, vendor, creds):
    long_ago = (now_taipei() - timedelta(days=30)).isoformat()
    shipped = place(sandbox_client, vendor, created_at=long_ago)
    cancelled = place(sandbox_client, vendor, created_at=long_ago)
    now = now_taipei()
    fr = now - timedelta(minutes=5)
    row = shipped["complete_order_nos"][0]
    entry = {
        "completeOrderNo": row,
        "remark5VStr": "已配送",
        "delyGbStr": "郵局",
        "slipNo": "P1",
        "scmDelyDate": "",
    }
    servlet(sandbox_client, creds, "unsendCompanyConfirm", sendInfoList=[entry])
    sandbox_client.post(f"{CONSOLE}/orders/{cancelled['id']}/cancel", json={})

    sending = rows_of(
        servlet(
            sandbox_client,
            creds,
            "sendingCompanyQuery",
            sendInfo=plain_info(fr, now, "receiver", "orderNo", "status"),
        ),
        creds,
    )
    assert [(r["completeOrderNo"], r["slipNo"], r["delyGbStr"]) for r in sending] == [(row, "P1", "郵局")]
    stop_keys = ("receiver", "goodsCode", "orderNo", "entp_goods_no")
    stopped = rows_of(
        servlet(sandbox_client, creds, "stopSendingQuery", sendInfo=plain_info(fr, now, *stop_keys)), creds
    )
    assert [r["completeOrderNo"] for r in stopped] == cancelled["complete_order_nos"]
    # a window before the change sees neither
    earlier = now - timedelta(days=1)
    assert (
        rows_of(
            servlet(
                sandbox_client,
                creds,
                "stopSendingQuery",
                sendInfo=plain_info(earlier - timedelta(hours=1), earlier, *stop_keys),
            ),
            creds,
        )
        == []
    )
    # the order-number filter
    other = rows_of(
        servlet(
            sandbox_client,
            creds,
            "stopSendingQuery",
            sendInfo=plain_info(fr, now, *stop_keys, orderNo=shipped["id"]),
        ),
        creds,
    )
    assert other == []


# --- shipping -----------------------------------------------------------------------------------------
def test_company_confirm_reports_partial_success(sandbox_client, vendor, creds):
    a = place(sandbox_client, vendor, lines=[{"sku": "A", "quantity": 1}, {"sku": "B", "quantity": 1}])
    cvs = place(sandbox_client, vendor, shipping_code="28")
    gone = place(sandbox_client, vendor)
    sandbox_client.post(f"{CONSOLE}/orders/{gone['id']}/cancel", json={})
    a1, a2 = a["complete_order_nos"]

    def entry(cno, **kw):
        return {
            "completeOrderNo": cno,
            "remark5VStr": "已配送",
            "delyGbStr": "新竹貨運",
            "slipNo": "H1",
            "scmDelyDate": "2026/01/02",
            **kw,
        }

    info = servlet(
        sandbox_client,
        creds,
        "unsendCompanyConfirm",
        sendInfoList=[
            entry(a1),
            entry(a2, delyGbStr="順豐"),
            entry(cvs["complete_order_nos"][0]),
            entry(gone["complete_order_nos"][0]),
            entry("20000101000000-001-001-001"),
            entry(a2, slipNo=""),
            entry(a2, scmDelyDate="2026-01-02"),
        ],
    ).json()["resultInfo"]
    assert info["confirmOkList"] == [a1] and info["confirmOkCnt"] == "1"
    assert info["confirmFailList"] == [
        f"{a2}\t物流公司錯誤：順豐",
        f"{cvs['complete_order_nos'][0]}\t此訂單非廠商配送訂單",
        f"{gone['complete_order_nos'][0]}\t此訂單已取消(攔貨)，不可出貨",
        "20000101000000-001-001-001\t查無此訂單",
        f"{a2}\t配送狀態為[已配送]時，配送編號(slipNo)必填",
        f"{a2}\t約定配送日格式錯誤(yyyy/MM/dd)",
    ]
    again = servlet(sandbox_client, creds, "unsendCompanyConfirm", sendInfoList=[entry(a1)]).json()[
        "resultInfo"
    ]
    assert again["confirmFailList"] == [f"{a1}\t此訂單已出貨確認，不可重複出貨"]
    state = sandbox_client.get(f"{CONSOLE}/state", params={"shop": vendor["id"]}).json()
    (shipment,) = state["shipments"]
    assert shipment["complete_order_nos"] == [a1] and shipment["slip_no"] == "H1"
    order = next(o for o in state["orders"] if o["order_no"] == a["id"])
    assert [i["status"] for i in order["items"]] == ["sending", "unsend"] and order["status"] == "unsend"


def test_confirm_without_entries_is_refused(sandbox_client, vendor, creds):
    doc = servlet(sandbox_client, creds, "unsendCompanyConfirm", sendInfoList=[]).json()
    assert doc == {"basicCheckMsgList": ["sendInfoList 不可為空"]}


def test_stores_finish_hands_back_one_shipment_number_per_order(sandbox_client, vendor, creds):
    order = place(
        sandbox_client,
        vendor,
        shipping_code="29",
        lines=[{"sku": "A", "quantity": 1}, {"sku": "B", "quantity": 1}],
    )
    home = place(sandbox_client, vendor)
    entries = [{"completeOrderNo": c, "remark5VStr": "可出貨"} for c in order["complete_order_nos"]]
    info = servlet(sandbox_client, creds, "unsendStoresFinish", sendInfoList=entries).json()["resultInfo"]
    assert info["confirmOkList"] == order["complete_order_nos"]
    numbers = {n["slipNo"] for n in info["slipNoList"]}
    assert len(numbers) == 1 and numbers.pop().startswith("29")
    again = servlet(sandbox_client, creds, "unsendStoresFinish", sendInfoList=entries).json()["resultInfo"]
    assert again["confirmRepeatList"] == order["complete_order_nos"] and again["confirmOkList"] == []
    wrong = servlet(
        sandbox_client,
        creds,
        "unsendStoresFinish",
        sendInfoList=[{"completeOrderNo": home["complete_order_nos"][0], "remark5VStr": "可出貨"}],
    ).json()["resultInfo"]
    assert wrong["confirmFailList"] == [f"{home['complete_order_nos'][0]}\t此訂單非超商取貨訂單"]


def test_faults_wrap_order_endpoints(sandbox_client, vendor, creds):
    sandbox_client.post(f"{CONSOLE}/faults", json={"fail_next": 1})
    now = now_taipei()
    response = servlet(sandbox_client, creds, "unsendCompanyQuery", sendInfo=company_info(now, now))
    assert response.status_code == 500 and "Apache Tomcat" in response.text
    assert (
        servlet(sandbox_client, creds, "unsendCompanyQuery", sendInfo=company_info(now, now)).status_code
        == 200
    )


# --- console --------------------------------------------------------------------------------------------
def test_bulk_orders_in_the_past(sandbox, sandbox_client, vendor, creds):
    at = datetime(2026, 1, 15, 9, 30, tzinfo=TAIPEI)
    result = place(sandbox_client, vendor, count=300, created_at=at.timestamp())
    assert result["count"] == 300 and len(set(result["ids"])) == 300
    assert all(i.startswith("20260115") for i in result["ids"])
    rows = rows_of(
        servlet(sandbox_client, creds, "unsendCompanyQuery", sendInfo=company_info(at, at)),
        creds,
    )
    assert len(rows) == 300 and rows[0]["lastPricDate"] == "2026/01/15 09:30:00"


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"lines": []}, 400),
        ({"lines": [{"sku": "A", "quantity": 0}]}, 400),
        ({"shipping_code": "99"}, 400),
        ({"status": "lost"}, 400),
        ({"created_at": "yesterday"}, 400),
        ({"shop": "999999"}, 404),
    ],
)
def test_bad_console_orders_are_refused(sandbox, sandbox_client, vendor, body, status):
    payload = {"shop": vendor["id"], "lines": [{"sku": "A", "quantity": 1}], **body}
    assert sandbox_client.post(f"{CONSOLE}/orders", json=payload).status_code == status
    assert sandbox.store.find("momo", "order") == []


def test_cancel_and_edit_rules(sandbox_client, vendor):
    order = place(sandbox_client, vendor)
    assert (
        sandbox_client.post(f"{CONSOLE}/orders/{order['id']}/cancel", json={}).json()["status"] == "cancelled"
    )
    assert sandbox_client.post(f"{CONSOLE}/orders/{order['id']}/cancel", json={}).status_code == 409
    assert (
        sandbox_client.post(
            f"{CONSOLE}/orders/{order['id']}/edit", json={"lines": [{"sku": "X", "quantity": 1}]}
        ).status_code
        == 409
    )
    assert sandbox_client.post(f"{CONSOLE}/orders/20000101000000/cancel", json={}).status_code == 404
    shipped = place(sandbox_client, vendor, status="shipped")
    assert shipped["status"] == "sending" and shipped["items"][0]["slip_no"]
    assert (
        sandbox_client.post(f"{CONSOLE}/orders/{shipped['id']}/edit", json={"buyer": "X"}).status_code == 409
    )


def test_edit_moves_the_transfer_time(sandbox_client, vendor, creds):
    order = place(sandbox_client, vendor, created_at=(now_taipei() - timedelta(days=10)).isoformat())
    edited = sandbox_client.post(
        f"{CONSOLE}/orders/{order['id']}/edit", json={"lines": [{"sku": "SKU-1", "quantity": 5}]}
    ).json()
    assert [i["quantity"] for i in edited["items"]] == [5]
    assert edited["complete_order_nos"] == [f"{order['id']}-002-001-001"]
    now = now_taipei()
    rows = rows_of(
        servlet(
            sandbox_client,
            creds,
            "unsendCompanyQuery",
            sendInfo=company_info(now - timedelta(minutes=5), now),
        ),
        creds,
    )
    assert [(r["completeOrderNo"], r["syslast"]) for r in rows] == [(edited["complete_order_nos"][0], "5")]


def test_state_lists_orders_and_shipments_without_secrets(sandbox_client, vendor, creds):
    place(sandbox_client, vendor)
    state = sandbox_client.get(f"{CONSOLE}/state", params={"shop": vendor["id"]}).json()
    assert len(state["orders"]) == 1 and state["shipments"] == []
    assert creds["entp_pwd"] not in json.dumps(state, ensure_ascii=False)
