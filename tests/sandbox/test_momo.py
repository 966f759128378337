"""The momo SCM sandbox, driven over HTTP like a vendor's own integration would."""

import json
import re
import time
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

BASE = "/sandbox/momo"
CONSOLE = f"{BASE}/_console"
TODAY = datetime.now(ZoneInfo("Asia/Taipei")).strftime("%Y/%m/%d")


@pytest.fixture
def vendor(sandbox_client):
    return sandbox_client.post(f"{CONSOLE}/shops", json={"name": "測試供應商"}).json()


def login_info(creds, **override):
    info = {
        "entpID": creds["entp_id"],
        "entpCode": creds["entp_code"],
        "entpPwd": creds["entp_pwd"],
        "otpBackNo": creds["otp_back_no"],
    }
    return {**info, **override}


def goods_list(client, creds, *, fr=TODAY, to=TODAY, **override):
    body = {
        "doAction": "queryGoodsList",
        "loginInfo": login_info(creds, **override),
        "sendInfo": {
            "entpGoodsNoQ": "",
            "doFlag": "",
            "goodsName": "",
            "frDate": fr,
            "toDate": to,
            "goodsCode": "",
        },
    }
    return client.post(f"{BASE}/GoodsServlet.do", json=body)


# --- console --------------------------------------------------------------------------------------
def test_create_shop_returns_credentials_in_momo_formats(sandbox_client):
    first = sandbox_client.post(f"{CONSOLE}/shops", json={}).json()
    second = sandbox_client.post(f"{CONSOLE}/shops", json={"name": "B", "allowed_ips": ["10.0.0.0/8"]}).json()

    creds = first["credentials"]
    assert first["id"] == creds["entp_code"]
    assert re.fullmatch(r"\d{8}", creds["entp_id"])
    assert re.fullmatch(r"\d{6}", creds["entp_code"])
    assert 8 <= len(creds["entp_pwd"]) <= 14
    assert re.fullmatch(r"\d{3}", creds["otp_back_no"])
    assert first["allowed_ips"] == ["127.0.0.1/32"]
    assert second["name"] == "B" and second["allowed_ips"] == ["10.0.0.0/8"]
    assert second["id"] != first["id"]
    assert second["credentials"]["entp_pwd"] != creds["entp_pwd"]


@pytest.mark.parametrize("ips", ["127.0.0.1", ["not-an-ip"], [1]])
def test_create_shop_rejects_a_bad_allowlist(sandbox, sandbox_client, ips):
    response = sandbox_client.post(f"{CONSOLE}/shops", json={"allowed_ips": ips})
    assert response.status_code == 400
    assert sandbox.store.find("momo", "shop") == []  # nothing half-created


def test_state_never_shows_the_password_or_otp(sandbox_client, vendor):
    creds = vendor["credentials"]
    sandbox_client.post(f"{CONSOLE}/shops/{vendor['id']}/password", json={"entp_pwd": "Changed12345"})
    for url in (f"{CONSOLE}/state", f"{CONSOLE}/state?shop={vendor['id']}"):
        state = sandbox_client.get(url).json()
        text = json.dumps(state, ensure_ascii=False)
        assert creds["entp_pwd"] not in text and "Changed12345" not in text
        assert "entp_pwd" not in text and "otp_back_no" not in text
        (shop,) = state["shops"]
        assert shop["entp_code"] == creds["entp_code"] and shop["entp_id"] == creds["entp_id"]
        assert shop["password_changed_at"]


def test_password_change_breaks_the_old_password(sandbox_client, vendor):
    creds = vendor["credentials"]
    assert goods_list(sandbox_client, creds).json() == {"ERROR": "", "dataList": []}

    new = sandbox_client.post(f"{CONSOLE}/shops/{vendor['id']}/password", json={}).json()
    assert (
        new["id"] == vendor["id"] and 8 <= len(new["entp_pwd"]) <= 14 and new["entp_pwd"] != creds["entp_pwd"]
    )

    refused = goods_list(sandbox_client, creds)
    assert refused.status_code == 200 and refused.json() == {"ERROR": "登入失敗：密碼錯誤"}
    assert goods_list(sandbox_client, {**creds, "entp_pwd": new["entp_pwd"]}).json()["ERROR"] == ""


def test_password_change_with_an_explicit_value(sandbox_client, vendor):
    response = sandbox_client.post(f"{CONSOLE}/shops/{vendor['id']}/password", json={"entp_pwd": "abcdefgh"})
    assert response.json() == {"id": vendor["id"], "entp_pwd": "abcdefgh"}
    assert goods_list(sandbox_client, {**vendor["credentials"], "entp_pwd": "abcdefgh"}).json()["ERROR"] == ""


@pytest.mark.parametrize("value", ["short12", "fifteen-chars-x", 12345678])
def test_password_change_validates_length(sandbox_client, vendor, value):
    response = sandbox_client.post(f"{CONSOLE}/shops/{vendor['id']}/password", json={"entp_pwd": value})
    assert response.status_code == 400
    assert goods_list(sandbox_client, vendor["credentials"]).json()["ERROR"] == ""  # unchanged


def test_console_routes_404_for_an_unknown_vendor(sandbox_client):
    assert sandbox_client.post(f"{CONSOLE}/shops/999999/password", json={}).status_code == 404
    assert (
        sandbox_client.post(f"{CONSOLE}/shops/999999/allowlist", json={"allowed_ips": []}).status_code == 404
    )


def test_allowlist_route_validates(sandbox_client, vendor):
    url = f"{CONSOLE}/shops/{vendor['id']}/allowlist"
    assert sandbox_client.post(url, json={}).status_code == 400
    assert sandbox_client.post(url, json={"allowed_ips": ["999.1.1.1"]}).status_code == 400
    ok = sandbox_client.post(url, json={"allowed_ips": ["192.0.2.1", "2001:db8::/32"]})
    assert ok.json() == {"id": vendor["id"], "allowed_ips": ["192.0.2.1/32", "2001:db8::/32"]}


def test_reset_forgets_vendors(sandbox_client, vendor):
    sandbox_client.post(f"{CONSOLE}/reset")
    assert sandbox_client.get(f"{CONSOLE}/state").json()["shops"] == []
    assert goods_list(sandbox_client, vendor["credentials"]).json() == {"ERROR": "查無此供應商"}


def test_expire_tokens_is_a_no_op(sandbox_client, vendor):
    assert sandbox_client.post(f"{CONSOLE}/faults", json={"expire_tokens": True}).status_code == 200
    assert goods_list(sandbox_client, vendor["credentials"]).json()["ERROR"] == ""


# --- the login every call makes ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"entpCode": "000000"}, "查無此供應商"),
        ({"entpID": "00000000"}, "查無此供應商"),
        ({"entpPwd": "wrongpass1"}, "登入失敗：密碼錯誤"),
        ({"entpPwd": "short"}, "entpPwd 長度需為8~14碼"),
        ({"entpPwd": None}, "查無此供應商"),
    ],
)
def test_wrong_login_info_is_refused(sandbox_client, vendor, override, message):
    response = goods_list(sandbox_client, vendor["credentials"], **override)
    assert response.status_code == 200
    assert response.json() == {"ERROR": message}


def test_wrong_otp_back_no_is_refused(sandbox_client, vendor):
    creds = vendor["credentials"]
    other = "999" if creds["otp_back_no"] != "999" else "998"
    assert goods_list(sandbox_client, creds, otpBackNo=other).json() == {
        "ERROR": "登入失敗：OTP序號後三碼錯誤"
    }


def test_missing_login_info_and_bad_json(sandbox_client):
    no_login = sandbox_client.post(f"{BASE}/GoodsServlet.do", json={"doAction": "queryGoodsList"})
    assert no_login.json() == {"ERROR": "loginInfo 不可為空"}
    garbage = sandbox_client.post(
        f"{BASE}/GoodsServlet.do", content=b"{nope", headers={"Content-Type": "application/json"}
    )
    assert garbage.json() == {"ERROR": "傳入資料格式錯誤(JSON)"}
    assert sandbox_client.get(f"{BASE}/GoodsServlet.do").status_code == 405


def test_callers_off_the_allowlist_are_rejected(sandbox, sandbox_client, vendor):
    creds = vendor["credentials"]
    sandbox_client.post(f"{CONSOLE}/shops/{vendor['id']}/allowlist", json={"allowed_ips": ["203.0.113.0/24"]})

    for response in (
        goods_list(sandbox_client, creds),
        sandbox_client.post(
            f"{BASE}/OrderServlet.do", json={"doAction": "unsendCompanyQuery", "loginInfo": login_info(creds)}
        ),
        sandbox_client.post(
            f"{BASE}/api/v1/goodsStockQty/query.scm",
            json={"loginInfo": login_info(creds), "goodsCodeList": ["1"]},
        ),
    ):
        assert response.status_code == 403
        assert "127.0.0.1" in response.json()["ERROR"] and "白名單" in response.json()["ERROR"]
    calls = sandbox.store.calls("momo", vendor["id"])
    assert [c["status"] for c in calls] == [403, 403, 403]

    sandbox_client.post(f"{CONSOLE}/shops/{vendor['id']}/allowlist", json={"allowed_ips": ["127.0.0.0/8"]})
    assert goods_list(sandbox_client, creds).status_code == 200


# --- dispatch -----------------------------------------------------------------------------------------
def test_unknown_do_action(sandbox_client, vendor):
    info = login_info(vendor["credentials"])
    goods = sandbox_client.post(f"{BASE}/GoodsServlet.do", json={"doAction": "dropTables", "loginInfo": info})
    assert goods.json() == {"ERROR": "doAction 參數錯誤：查無此作業(dropTables)"}
    orders = sandbox_client.post(
        f"{BASE}/OrderServlet.do", json={"doAction": "dropTables", "loginInfo": info}
    )
    assert orders.json() == {"basicCheckMsgList": ["doAction 參數錯誤：查無此作業(dropTables)"]}
    missing = sandbox_client.post(f"{BASE}/GoodsServlet.do", json={"loginInfo": info})
    assert missing.json() == {"ERROR": "doAction 不可為空"}


def test_order_servlet_checks_login_before_the_action(sandbox_client, vendor):
    info = login_info(vendor["credentials"], entpPwd="wrongpass1")
    response = sandbox_client.post(
        f"{BASE}/OrderServlet.do", json={"doAction": "dropTables", "loginInfo": info}
    )
    assert response.json() == {"basicCheckMsgList": ["登入失敗：密碼錯誤"]}


@pytest.mark.parametrize(
    ("fr", "to", "message"),
    [
        ("2024-01-01", TODAY, "frDate 日期格式錯誤(yyyy/MM/dd)"),
        (TODAY, None, "toDate 日期格式錯誤(yyyy/MM/dd)"),
        ("2024/02/30", "2024/03/01", "日期格式錯誤(yyyy/MM/dd)"),
        ("2024/03/02", "2024/03/01", "起始日期不可大於結束日期"),
    ],
)
def test_query_goods_list_validates_dates(sandbox_client, vendor, fr, to, message):
    assert goods_list(sandbox_client, vendor["credentials"], fr=fr, to=to).json() == {"ERROR": message}


def _put_product(sandbox, vendor_id, goods_code, created_at, entp_goods_no="SKU-1"):
    """Products arrive through the console in a later issue; this is their storage shape."""
    sandbox.store.put(
        "momo",
        "product",
        f"{vendor_id}:{goods_code}",
        {
            "goods_code": goods_code,
            "goods_name": "保溫杯",
            "created_at": created_at,
            "variants": [
                {
                    "goodsdt_code": "001",
                    "goodsdt_info": "紅色",
                    "entp_goods_no": entp_goods_no,
                    "order_counsel_qty": 7,
                    "syslast": 1,
                }
            ],
        },
        shop=vendor_id,
        sort=created_at,
    )


def test_query_goods_list_and_stock_query_read_the_vendors_products(sandbox, sandbox_client, vendor):
    creds = vendor["credentials"]
    _put_product(sandbox, vendor["id"], "2024000000001", time.time())
    _put_product(
        sandbox,
        vendor["id"],
        "2020000000001",
        datetime(2020, 1, 1, tzinfo=ZoneInfo("Asia/Taipei")).timestamp(),
        "OLD-1",
    )
    other = sandbox_client.post(f"{CONSOLE}/shops", json={}).json()
    _put_product(sandbox, other["id"], "2024000000009", time.time(), "OTHER-1")

    rows = goods_list(sandbox_client, creds).json()["dataList"]
    assert rows == [
        {
            "goodsCode": "2024000000001",
            "goodsName": "保溫杯",
            "goodsdtCode": "001",
            "goodsdtInfo": "紅色",
            "entpGoodsNo": "SKU-1",
        }
    ]
    assert len(goods_list(sandbox_client, creds, fr="2019/12/31", to=TODAY).json()["dataList"]) == 2

    stock = sandbox_client.post(
        f"{BASE}/api/v1/goodsStockQty/query.scm",
        json={"loginInfo": login_info(creds), "goodsCodeList": ["2024000000001", "2024000000009"]},
    ).json()
    assert stock == {
        "ERROR": "",
        "dataList": [
            {
                "goods_code": "2024000000001",
                "goods_name": "保溫杯",
                "goodsdt_code": "001",
                "goodsdt_info": "紅色",
                "order_counsel_qty": 7,
                "syslast": 1,
                "entp_goods_no": "SKU-1",
            }
        ],
    }  # another vendor's goods are not seen


@pytest.mark.parametrize(
    ("codes", "message"),
    [
        (None, "goodsCodeList 不可為空"),
        ([], "goodsCodeList 不可為空"),
        (["1"] * 2001, "goodsCodeList 最多2000筆"),
    ],
)
def test_stock_query_validates_the_code_list(sandbox_client, vendor, codes, message):
    body = {"loginInfo": login_info(vendor["credentials"]), "goodsCodeList": codes}
    assert sandbox_client.post(f"{BASE}/api/v1/goodsStockQty/query.scm", json=body).json() == {
        "ERROR": message
    }


def test_stock_query_checks_login(sandbox_client, vendor):
    body = {"loginInfo": login_info(vendor["credentials"], entpPwd="wrongpass1"), "goodsCodeList": ["1"]}
    response = sandbox_client.post(f"{BASE}/api/v1/goodsStockQty/query.scm", json=body)
    assert response.json() == {"ERROR": "登入失敗：密碼錯誤"}


# --- faults and the call record -----------------------------------------------------------------------
def test_injected_faults_use_momo_shapes(sandbox_client, vendor):
    creds = vendor["credentials"]
    sandbox_client.post(f"{CONSOLE}/faults", json={"fail_next": 1, "throttle_next": 1, "malformed_next": 1})

    error = goods_list(sandbox_client, creds)
    assert error.status_code == 500 and "text/html" in error.headers["content-type"]
    assert "Apache Tomcat" in error.text
    throttled = goods_list(sandbox_client, creds)
    assert throttled.status_code == 429 and throttled.headers["Retry-After"] == "3"
    broken = goods_list(sandbox_client, creds)
    assert broken.status_code == 200
    with pytest.raises(ValueError):
        json.loads(broken.text)
    assert goods_list(sandbox_client, creds).json()["ERROR"] == ""
    # the console itself is never faulted
    assert sandbox_client.get(f"{CONSOLE}/state").status_code == 200


def test_calls_are_recorded_per_vendor(sandbox_client, vendor):
    creds = vendor["credentials"]
    goods_list(sandbox_client, creds)
    goods_list(sandbox_client, creds, entpPwd="wrongpass1")
    state = sandbox_client.get(f"{CONSOLE}/state?shop={vendor['id']}").json()
    assert [(c["operation"], c["status"]) for c in state["calls"]] == [("queryGoodsList", 200)] * 2
    assert all(c["shop"] == vendor["id"] for c in state["calls"])
