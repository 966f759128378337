"""Fake momo 購物網 SCM API (reference/platforms-taiwan.md §2A).

Each vendor (供應商) has an 8-digit entpID, a 6-digit entpCode, an 8–14 character SCM password
and a 3-digit OTP back number; every call carries them in ``loginInfo`` and is checked, and the
caller's IP must be on the vendor's allowlist. Like the real servlets, refusals are HTTP 200 with
``{"ERROR": "..."}`` (GoodsServlet, the *.scm paths) or ``{"basicCheckMsgList": [...]}``
(OrderServlet); only the IP refusal is an HTTP 403 (how momo really refuses an unregistered IP is
UNCONFIRMED). Nothing here imports ecbridge.platforms.

Orders (issue 3; the order part lives in the second half of this module):
- ``OrderServlet.do`` queries, one per delivery flavour (廠商配送 company, 超商 stores, 第三方物流
  third) and state: ``unsend*Query`` (to ship, window on the transfer time), ``sending*Query``
  (shipped, window on the ship time) and ``stopSendingQuery`` (攔貨: cancelled, window on the
  cancellation time). momo itself windows the sending/stop queries on the transfer date and the stop
  query has no window at all; filtering on the change time here lets a re-fetch window see the
  change (UNCONFIRMED, a sandbox choice). No paging: one call answers the whole window.
- Every ``sendInfo`` key must be present (even empty) or momo answers ``basicCheckMsgList``; the
  window is at most 60 days (momo says "about 2 months"; UNCONFIRMED).
- ``dataList`` rows are per item (``completeOrderNo`` = order no. + item sequence), AES-ECB
  encrypted with the SCM password like the real order queries.
- Shipping: ``unsendCompanyConfirm`` (carrier name + slip no., partial success in ``resultInfo``)
  and a simplified ``unsendStoresFinish`` / ``unsendThirdFinish`` that also hands back the
  shipment number momo's logistics assigns (``slipNoList``; the real flow is check goods → combine
  box → finish → print label, UNCONFIRMED).

Products and stock (issue 4; docs/stock-momo.md):
- ``GoodsServlet.do`` ``queryGoodsList``: goods listed (登入) within ``frDate``..``toDate`` (whole
  days, Asia/Taipei, both inclusive), one row per goodsdt (單品), no paging and no window limit
  (UNCONFIRMED: a sandbox choice; the client walks the vendor's history in windows anyway).
- ``/api/v1/goodsStockQty/query.scm``: ≤ 2000 goods codes a call, every goodsdt of each.
  ``order_counsel_qty`` (可接單量) is the stock every write changes; ``syslast`` follows it by the
  same amount (its exact meaning is UNCONFIRMED).
- ``GoodsServlet.do`` ``changeGoodsQty``: ``sendInfoList`` of deltas (``addReduceQty``) with the
  quantity as read (``orderCounselQty``). At most ``STOCK_CHANGE_MAX`` entries (the real limit is
  UNCONFIRMED), else the whole call is refused. Each entry succeeds or fails on its own (a result
  below 0, unknown goods, a console stock lock). momo may or may not compare ``orderCounselQty``
  with its current value (UNCONFIRMED): the sandbox never refuses a mismatch, it records both in
  the ledger detail. No barcode appears in any of these calls (momo has none in the SCM API)."""

from __future__ import annotations

import base64
import ipaddress
import json
import re
import secrets
import string
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from flask import Blueprint, Response, g, jsonify, request

from ecbridge.sandbox.base import ConsoleError, PlatformSandbox

TAIPEI = ZoneInfo("Asia/Taipei")
DEFAULT_ALLOWED_IPS = ("127.0.0.1",)
PASSWORD_MIN, PASSWORD_MAX = 8, 14
STOCK_QUERY_MAX = 2000
STOCK_CHANGE_MAX = 100  # changeGoodsQty sendInfoList entries per call (UNCONFIRMED; a sandbox choice)
DATE_RE = re.compile(r"\d{4}/\d{2}/\d{2}")

# The refusal texts (the vendor-not-found one is quoted in momo's SCM FAQ; the others are ours).
MSG_VENDOR_NOT_FOUND = "查無此供應商"
MSG_BAD_PASSWORD = "登入失敗：密碼錯誤"
MSG_BAD_OTP = "登入失敗：OTP序號後三碼錯誤"
MSG_PASSWORD_LENGTH = "entpPwd 長度需為8~14碼"
MSG_NO_LOGIN_INFO = "loginInfo 不可為空"
MSG_BAD_JSON = "傳入資料格式錯誤(JSON)"
MSG_IP_REJECTED = "來源IP({ip})未登錄於momo SCM API白名單，拒絕存取"
MSG_NO_DO_ACTION = "doAction 不可為空"
MSG_UNKNOWN_DO_ACTION = "doAction 參數錯誤：查無此作業({action})"

# --- orders -------------------------------------------------------------------------------------
MAX_WINDOW = timedelta(days=60)  # "at most about 2 months" (UNCONFIRMED): 60 days
CVS_TYPES = {
    "21": "7-11 大智通",
    "23": "便利達康",
    "27": "全家",
    "28": "7-11 店到店",
    "29": "全家店到店",
    "2A": "OK超商",
    "2B": "萊爾富",
}
THIRD_TYPES = {"61": "宅配通", "62": "新竹", "63": "宅急便", "65": "大榮"}
# Carrier names unsendCompanyConfirm accepts in delyGbStr.
COMPANY_CARRIERS = (
    "宅配通",
    "新竹貨運",
    "統一速達",
    "大榮貨運",
    "東元物流",
    "其他宅配",
    "郵局",
    "便利袋",
    "其他",
)
SHIPPED_REMARK = "已配送"
READY_REMARK = "可出貨"

# Window keys: the unsend queries use <prefix>_fr_dd/hh/mm and <prefix>_to_dd/hh/mm; the sending
# queries fromDate/fromHour/fromMinute/toDate/toHour/toMinute (as in third-party client code).
PREFIX_WINDOW = ("{p}_fr_dd", "{p}_fr_hh", "{p}_fr_mm", "{p}_to_dd", "{p}_to_hh", "{p}_to_mm")
PLAIN_WINDOW = ("fromDate", "fromHour", "fromMinute", "toDate", "toHour", "toMinute")


def _prefixed(prefix: str, *extra: str) -> tuple[str, ...]:
    return tuple(k.format(p=prefix) for k in PREFIX_WINDOW) + tuple(f"{prefix}_{e}" for e in extra)


# doAction → (delivery flavour or None for all, item status, the sendInfo keys that must be present,
# the order-number filter key). The store/third filter keys beyond the window are partly ours.
QUERIES: dict[str, tuple[str | None, str, tuple[str, ...], str]] = {
    "unsendCompanyQuery": (
        "company",
        "unsend",
        _prefixed("company", "receiver", "goodsCode", "orderNo", "entpGoodsNo", "orderGb"),
        "company_orderNo",
    ),
    "unsendStoresQuery": (
        "stores",
        "unsend",
        _prefixed("stores", "receiver", "goodsCode", "orderNo", "entpGoodsNo", "special"),
        "stores_orderNo",
    ),
    "unsendThirdQuery": (
        "third",
        "unsend",
        _prefixed(
            "third", "receiver", "goodsCode", "orderNo", "entpGoodsNo", "orderGb", "delyGb", "delyTemp"
        ),
        "third_orderNo",
    ),
    "sendingCompanyQuery": (
        "company",
        "sending",
        PLAIN_WINDOW + ("receiver", "orderNo", "status"),
        "orderNo",
    ),
    "sendingStoresQuery": ("stores", "sending", PLAIN_WINDOW + ("receiver", "orderNo", "status"), "orderNo"),
    "sendingThirdQuery": ("third", "sending", PLAIN_WINDOW + ("receiver", "orderNo", "status"), "orderNo"),
    # 攔貨 (stop sending): how cancelled orders reach the vendor. The real query has no window
    # (receiver/goodsCode/orderNo/entp_goods_no only); the window keys are ours (UNCONFIRMED).
    "stopSendingQuery": (
        None,
        "cancelled",
        PLAIN_WINDOW + ("receiver", "goodsCode", "orderNo", "entp_goods_no"),
        "orderNo",
    ),
}
STATUS_TIME = {"unsend": "transfer_at", "sending": "sent_at", "cancelled": "cancelled_at"}

MSG_MISSING_KEY = "sendInfo.{key} 欄位不存在"
MSG_DATE = "{key} 日期格式錯誤(yyyy/MM/dd)"
MSG_HOUR = "{key} 時間格式錯誤(HH)"
MSG_MINUTE = "{key} 時間格式錯誤(mm)"
MSG_WINDOW_ORDER = "轉單日起日不可大於迄日"
MSG_WINDOW_TOO_LARGE = "查詢區間不可超過2個月(60天)"
MSG_NO_SEND_INFO = "sendInfo 不可為空"
MSG_NO_SEND_INFO_LIST = "sendInfoList 不可為空"
MSG_ORDER_NOT_FOUND = "查無此訂單"
MSG_ALREADY_SHIPPED = "此訂單已出貨確認，不可重複出貨"
MSG_CANCELLED = "此訂單已取消(攔貨)，不可出貨"
MSG_WRONG_FLAVOUR = "此訂單非{flavour}訂單"
MSG_BAD_CARRIER = "物流公司錯誤：{value}"
MSG_NO_SLIP = "配送狀態為[已配送]時，配送編號(slipNo)必填"
MSG_BAD_DELY_DATE = "約定配送日格式錯誤(yyyy/MM/dd)"
FLAVOUR_NAMES = {"company": "廠商配送", "stores": "超商取貨", "third": "第三方物流"}

# changeGoodsQty refusals (our wording; momo's own texts are UNCONFIRMED).
MSG_STOCK_TOO_MANY = "sendInfoList 最多{max}筆"
MSG_STOCK_MISSING = "{key} 不可為空"
MSG_STOCK_NOT_NUMBER = "{key} 需為整數"
MSG_STOCK_ZERO = "addReduceQty 不可為0"
MSG_STOCK_NO_GOODS = "查無此商品({code})"
MSG_STOCK_NO_GOODSDT = "查無此單品({code}-{dt})"
MSG_STOCK_BELOW_ZERO = "加減量後可接單量不可小於0(目前{current}，加減量{delta})"


def _whole(value) -> int | None:
    """A whole number as momo's JSON may carry it: 5, "5", "-3", "+2"."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"[+-]?\d{1,9}", value.strip()):
        return int(value.strip())
    return None


def _fmt_time(ts: float | None) -> str:
    return datetime.fromtimestamp(ts, TAIPEI).strftime("%Y/%m/%d %H:%M:%S") if ts else ""


def _fmt_date(ts: float | None) -> str:
    return datetime.fromtimestamp(ts, TAIPEI).strftime("%Y/%m/%d") if ts else ""


def _epoch(value, default: float) -> float:
    """Console times: epoch seconds or ISO 8601 (naive = Asia/Taipei)."""
    if value in (None, ""):
        return default
    if isinstance(value, int | float):
        return float(value)
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        raise ConsoleError(f"Not a time: {value!r} (epoch seconds or ISO 8601)") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=TAIPEI)
    return parsed.timestamp()


def _delivery_of(code: str) -> tuple[str, str]:
    """A console shipping code → (flavour, momo delivery code)."""
    code = (code or "").strip()
    if code in ("", "home", "company"):
        return "company", ""
    if code.upper() in CVS_TYPES:
        return "stores", code.upper()
    if code in THIRD_TYPES:
        return "third", code
    if code == "stores":
        return "stores", "28"
    if code == "third":
        return "third", "62"
    raise ConsoleError(
        f"Unknown shipping code {code!r}: use home, a CVS type ({', '.join(CVS_TYPES)}) "
        f"or a third-party carrier ({', '.join(THIRD_TYPES)})"
    )


SERVLET_500 = """<!doctype html><html lang="en"><head><title>HTTP Status 500 – Internal Server Error</title>
<style type="text/css">body {font-family:Tahoma,Arial,sans-serif;} h1 {font-size:22px;}</style></head>
<body><h1>HTTP Status 500 – Internal Server Error</h1><hr class="line" />
<p><b>Type</b> Exception Report</p><p><b>Message</b> Request processing failed; nested exception is
java.lang.NullPointerException</p><p><b>Description</b> The server encountered an unexpected condition
that prevented it from fulfilling the request.</p><hr class="line" />
<h3>Apache Tomcat/8.5.57</h3></body></html>"""


def encrypt_data_list(rows: list, password: str) -> str:
    """momo's encrypted ``dataList``: JSON, AES-128-ECB with PKCS5 padding, base64. The key is the
    SCM password right-padded with '0' to 16 characters (SCM API FAQ V1.1)."""
    key = password.encode("utf-8").ljust(16, b"0")[:16]
    padder = padding.PKCS7(128).padder()
    data = padder.update(json.dumps(rows, ensure_ascii=False).encode("utf-8")) + padder.finalize()
    encryptor = Cipher(algorithms.AES(key), modes.ECB()).encryptor()  # noqa: S305 (momo's choice)
    return base64.b64encode(encryptor.update(data) + encryptor.finalize()).decode("ascii")


def _json(doc: dict, status: int = 200) -> Response:
    return Response(
        json.dumps(doc, ensure_ascii=False), status=status, mimetype="application/json;charset=UTF-8"
    )


def _new_password() -> str:
    alphabet = string.ascii_letters + string.digits
    while True:
        value = "".join(secrets.choice(alphabet) for _ in range(12))
        if any(c.isdigit() for c in value) and any(c.isalpha() for c in value):
            return value


def _parse_ip_list(value) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConsoleError("allowed_ips must be a list of IP addresses or networks")
    out = []
    for item in value:
        try:
            out.append(str(ipaddress.ip_network(item.strip(), strict=False)))
        except ValueError:
            raise ConsoleError(f"Not an IP address or network: {item!r}") from None
    return out


def _ip_allowed(remote: str | None, allowed: list[str]) -> bool:
    try:
        ip = ipaddress.ip_address(remote or "")
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(net, strict=False) for net in allowed)


def _day_bounds(fr: str, to: str) -> tuple[float, float]:
    start = datetime.strptime(fr, "%Y/%m/%d").replace(tzinfo=TAIPEI)
    end = datetime.strptime(to, "%Y/%m/%d").replace(tzinfo=TAIPEI) + timedelta(days=1)
    return start.timestamp(), end.timestamp() - 0.000001


class Refused(Exception):
    """A refusal in the servlet's own shape."""

    def __init__(self, message: str, status: int = 200):
        super().__init__(message)
        self.message = message
        self.status = status


class MomoSandbox(PlatformSandbox):
    code = "momo"
    name = "momo"

    def __init__(self, *args, **kwargs):
        # doAction → handler(vendor, body) → response document. Later issues add orders/stock.
        self.goods_actions = {
            "queryGoodsList": self._query_goods_list,
            "changeGoodsQty": self._change_goods_qty,
        }
        self.order_actions: dict = {action: self._order_query for action in QUERIES}
        self.order_actions["unsendCompanyConfirm"] = self._company_confirm
        self.order_actions["unsendStoresFinish"] = self._logistics_finish
        self.order_actions["unsendThirdFinish"] = self._logistics_finish
        super().__init__(*args, **kwargs)

    # --- routes ------------------------------------------------------------------------------------
    def register_routes(self, bp: Blueprint) -> None:
        bp.add_url_rule("/GoodsServlet.do", view_func=self.goods_servlet, methods=["POST"])
        bp.add_url_rule("/OrderServlet.do", view_func=self.order_servlet, methods=["POST"])
        bp.add_url_rule("/api/v1/goodsStockQty/query.scm", view_func=self.stock_query, methods=["POST"])

        def console(fn):
            def view(shop_id):
                try:
                    return jsonify(fn(shop_id, request.get_json(silent=True) or {}))
                except ConsoleError as exc:
                    return jsonify({"error": str(exc)}), exc.status

            view.__name__ = f"console_{fn.__name__}"
            return view

        bp.add_url_rule(
            "/_console/shops/<shop_id>/password", view_func=console(self.change_password), methods=["POST"]
        )
        bp.add_url_rule(
            "/_console/shops/<shop_id>/allowlist", view_func=console(self.set_allowlist), methods=["POST"]
        )

    def goods_servlet(self):
        return self._servlet(self.goods_actions, as_list=False)

    def order_servlet(self):
        return self._servlet(self.order_actions, as_list=True)

    def _servlet(self, actions: dict, *, as_list: bool) -> Response:
        """Login and allowlist first, then ``doAction`` dispatch. OrderServlet reports refusals in
        ``basicCheckMsgList``, GoodsServlet in ``ERROR``."""
        try:
            body = self._read_body()
            action = body.get("doAction")
            g.sandbox_operation = action if isinstance(action, str) and action else "missing doAction"
            vendor = self._login(body)
            if not isinstance(action, str) or not action:
                raise Refused(MSG_NO_DO_ACTION)
            handler = actions.get(action)
            if handler is None:
                raise Refused(MSG_UNKNOWN_DO_ACTION.format(action=action))
            return _json(handler(vendor, body))
        except Refused as exc:
            if exc.status != 200 or not as_list:
                return _json({"ERROR": exc.message}, exc.status)
            return _json({"basicCheckMsgList": [exc.message]}, exc.status)

    def stock_query(self):
        g.sandbox_operation = "goodsStockQty.query"
        try:
            body = self._read_body()
            vendor = self._login(body)
            codes = body.get("goodsCodeList")
            if not isinstance(codes, list) or not codes:
                raise Refused("goodsCodeList 不可為空")
            if len(codes) > STOCK_QUERY_MAX:
                raise Refused(f"goodsCodeList 最多{STOCK_QUERY_MAX}筆")
            rows = []
            for code in codes:
                product = self.store.get(self.code, "product", f"{vendor['entp_code']}:{code}")
                for dt in (product or {}).get("variants", []):
                    rows.append(
                        {
                            "goods_code": product["goods_code"],
                            "goods_name": product["goods_name"],
                            "goodsdt_code": dt["goodsdt_code"],
                            "goodsdt_info": dt["goodsdt_info"],
                            "order_counsel_qty": dt.get("order_counsel_qty", 0),
                            "syslast": dt.get("syslast", 0),
                            "entp_goods_no": dt.get("entp_goods_no", ""),
                        }
                    )
            return _json({"ERROR": "", "dataList": rows})
        except Refused as exc:
            return _json({"ERROR": exc.message}, exc.status)

    # --- the login every call makes ----------------------------------------------------------------
    def _read_body(self) -> dict:
        try:
            body = json.loads(request.get_data(as_text=True) or "null")
        except ValueError:
            raise Refused(MSG_BAD_JSON) from None
        if not isinstance(body, dict):
            raise Refused(MSG_BAD_JSON)
        return body

    def _login(self, body: dict) -> dict:
        """The vendor named by ``loginInfo``, once its IP, password and OTP number check out."""
        info = body.get("loginInfo")
        if not isinstance(info, dict) or not info:
            raise Refused(MSG_NO_LOGIN_INFO)
        fields = {k: info.get(k) for k in ("entpID", "entpCode", "entpPwd", "otpBackNo")}
        if not all(isinstance(v, str) for v in fields.values()):
            raise Refused(MSG_VENDOR_NOT_FOUND)
        vendor = self.store.get(self.code, "shop", fields["entpCode"])
        if vendor is None or vendor["entp_id"] != fields["entpID"]:
            raise Refused(MSG_VENDOR_NOT_FOUND)
        g.sandbox_shop = vendor["id"]
        if not _ip_allowed(request.remote_addr, vendor["allowed_ips"]):
            raise Refused(MSG_IP_REJECTED.format(ip=request.remote_addr), status=403)
        if not PASSWORD_MIN <= len(fields["entpPwd"]) <= PASSWORD_MAX:
            raise Refused(MSG_PASSWORD_LENGTH)
        if not secrets.compare_digest(fields["entpPwd"].encode(), vendor["entp_pwd"].encode()):
            raise Refused(MSG_BAD_PASSWORD)
        if fields["otpBackNo"] != vendor["otp_back_no"]:
            raise Refused(MSG_BAD_OTP)
        return vendor

    # --- GoodsServlet doActions -------------------------------------------------------------------
    def _query_goods_list(self, vendor: dict, body: dict) -> dict:
        """Products whose listing (登入) date is within ``frDate``..``toDate``, one row per variant."""
        info = body.get("sendInfo")
        if not isinstance(info, dict):
            raise Refused("sendInfo 不可為空")
        fr, to = info.get("frDate"), info.get("toDate")
        for name, value in (("frDate", fr), ("toDate", to)):
            if not isinstance(value, str) or not DATE_RE.fullmatch(value):
                raise Refused(f"{name} 日期格式錯誤(yyyy/MM/dd)")
        try:
            start, end = _day_bounds(fr, to)
        except ValueError:
            raise Refused("日期格式錯誤(yyyy/MM/dd)") from None
        if start > end:
            raise Refused("起始日期不可大於結束日期")
        wanted = {k: str(info.get(k) or "") for k in ("goodsCode", "entpGoodsNoQ", "goodsName")}
        rows = []
        for product in self.store.find(
            self.code, "product", shop=vendor["entp_code"], sort_from=start, sort_to=end
        ):
            if wanted["goodsCode"] and product["goods_code"] != wanted["goodsCode"]:
                continue
            if wanted["goodsName"] and wanted["goodsName"] not in product["goods_name"]:
                continue
            for dt in product.get("variants", []):
                if wanted["entpGoodsNoQ"] and wanted["entpGoodsNoQ"] not in dt.get("entp_goods_no", ""):
                    continue
                rows.append(
                    {
                        "goodsCode": product["goods_code"],
                        "goodsName": product["goods_name"],
                        "goodsdtCode": dt["goodsdt_code"],
                        "goodsdtInfo": dt["goodsdt_info"],
                        "entpGoodsNo": dt.get("entp_goods_no", ""),
                    }
                )
        return {"ERROR": "", "dataList": rows}

    # --- GoodsServlet: stock change (商品加減量) ------------------------------------------------------
    def _change_goods_qty(self, vendor: dict, body: dict) -> dict:
        """Add ``addReduceQty`` to each goodsdt's 可接單量; each entry succeeds or fails on its own."""
        entries = body.get("sendInfoList")
        if not isinstance(entries, list) or not entries:
            raise Refused(MSG_NO_SEND_INFO_LIST)
        if len(entries) > STOCK_CHANGE_MAX:
            raise Refused(MSG_STOCK_TOO_MANY.format(max=STOCK_CHANGE_MAX))
        shop = vendor["entp_code"]
        ok, fail = [], []
        with self.store.tx():
            for entry in entries:
                if not isinstance(entry, dict):
                    fail.append({"goodsCode": "", "goodsdtCode": "", "msg": MSG_BAD_JSON})
                    continue
                code = str(entry.get("goodsCode") or "").strip()
                dt_code = str(entry.get("goodsdtCode") or "").strip()
                ident = {"goodsCode": code, "goodsdtCode": dt_code}
                reason, product, dt, sent, delta = self._stock_entry(shop, entry, code, dt_code)
                if reason:
                    fail.append({**ident, "msg": reason})
                    continue
                before = int(dt.get("order_counsel_qty", 0))
                after = before + delta
                dt["order_counsel_qty"] = after
                dt["syslast"] = max(0, int(dt.get("syslast", 0)) + delta)
                self._put_product(shop, product)
                detail = f"orderCounselQty sent={sent} momo={before}"
                if sent != before:
                    detail += " (mismatch, not refused)"
                self.record_stock_change(
                    shop=shop,
                    sku=dt.get("entp_goods_no", ""),
                    item_id=code,
                    variant_id=dt_code,
                    before=before,
                    after=after,
                    source="changeGoodsQty",
                    detail=detail,
                )
                ok.append({**ident, "orderCounselQty": after})
        return {
            "ERROR": "",
            "resultInfo": {
                "successCnt": str(len(ok)),
                "successList": ok,
                "failCnt": str(len(fail)),
                "failList": fail,
            },
        }

    def _stock_entry(self, shop: str, entry: dict, code: str, dt_code: str):
        """(refusal, product, goodsdt, orderCounselQty sent, delta) of one changeGoodsQty entry."""
        for key in (
            "goodsCode",
            "goodsName",
            "goodsdtCode",
            "goodsdtInfo",
            "orderCounselQty",
            "addReduceQty",
        ):
            if entry.get(key) in (None, ""):
                return MSG_STOCK_MISSING.format(key=key), None, None, 0, 0
        sent, delta = _whole(entry["orderCounselQty"]), _whole(entry["addReduceQty"])
        if sent is None:
            return MSG_STOCK_NOT_NUMBER.format(key="orderCounselQty"), None, None, 0, 0
        if delta is None:
            return MSG_STOCK_NOT_NUMBER.format(key="addReduceQty"), None, None, 0, 0
        if delta == 0:
            return MSG_STOCK_ZERO, None, None, 0, 0
        product = self.store.get(self.code, "product", f"{shop}:{code}")
        if product is None:
            return MSG_STOCK_NO_GOODS.format(code=code), None, None, 0, 0
        dt = next((d for d in product.get("variants", []) if d["goodsdt_code"] == dt_code), None)
        if dt is None:
            return MSG_STOCK_NO_GOODSDT.format(code=code, dt=dt_code), None, None, 0, 0
        if dt.get("lock_reason"):
            return dt["lock_reason"], None, None, 0, 0
        current = int(dt.get("order_counsel_qty", 0))
        if current + delta < 0:
            return MSG_STOCK_BELOW_ZERO.format(current=current, delta=delta), None, None, 0, 0
        return "", product, dt, sent, delta

    def _put_product(self, shop: str, product: dict) -> None:
        sort = product.get("listed_at", product.get("created_at", 0))
        self.store.put(self.code, "product", f"{shop}:{product['goods_code']}", product, shop=shop, sort=sort)

    # --- OrderServlet: order queries ----------------------------------------------------------------
    def _order_query(self, vendor: dict, body: dict) -> dict:
        """One query flavour over its window; rows per item, the dataList encrypted."""
        flavour, status, keys, order_key = QUERIES[body["doAction"]]
        info = body.get("sendInfo")
        if not isinstance(info, dict):
            raise Refused(MSG_NO_SEND_INFO)
        missing = [MSG_MISSING_KEY.format(key=k) for k in keys if k not in info]
        if missing:
            return {"basicCheckMsgList": missing}
        if any(not isinstance(info[k], str) for k in keys):
            return {"basicCheckMsgList": [MSG_BAD_JSON]}
        errors, start, end = _window(info, keys[:6])
        if errors:
            return {"basicCheckMsgList": errors}
        filters = {
            k.split("_", 1)[-1] if k.startswith(("company_", "stores_", "third_")) else k: info[k].strip()
            for k in keys[6:]
        }
        order_no = info[order_key].strip()
        time_key = STATUS_TIME[status]
        if status == "unsend":  # the store sorts orders by transfer time
            orders = self.store.find(
                self.code, "order", shop=vendor["entp_code"], sort_from=start, sort_to=end
            )
        else:
            orders = self.store.find(self.code, "order", shop=vendor["entp_code"])
        rows = []
        for order in orders:
            if (flavour and order["delivery"] != flavour) or (order_no and order["order_no"] != order_no):
                continue
            if filters.get("delyGb") and order["dely_gb"] != filters["delyGb"]:
                continue
            if filters.get("receiver") and filters["receiver"] not in order["receiver"]:
                continue
            if status == "sending" and filters.get("status") not in ("", None, "1", "2"):
                continue
            for item in order["items"]:
                if item["status"] != status:
                    continue
                at = order["transfer_at"] if status == "unsend" else item.get(time_key)
                if at is None or not start <= at < end:
                    continue
                if filters.get("goodsCode") and item["goods_code"] != filters["goodsCode"]:
                    continue
                sku_filter = filters.get("entpGoodsNo") or filters.get("entp_goods_no")
                if sku_filter and sku_filter not in item["entp_goods_no"]:
                    continue
                rows.append(_row(order, item, len(rows) + 1))
        return {"basicCheckMsgList": [], "dataList": encrypt_data_list(rows, vendor["entp_pwd"])}

    # --- OrderServlet: shipping ----------------------------------------------------------------------
    def _find_item(self, vendor: dict, complete_order_no: str) -> tuple[dict | None, dict | None]:
        order = self.store.get(self.code, "order", complete_order_no.split("-", 1)[0])
        if order is None or order["shop"] != vendor["entp_code"]:
            return None, None
        item = next((i for i in order["items"] if i["complete_order_no"] == complete_order_no), None)
        return (order, item) if item else (None, None)

    def _entries(self, body: dict) -> list:
        entries = body.get("sendInfoList")
        if not isinstance(entries, list) or not entries:
            raise Refused(MSG_NO_SEND_INFO_LIST)
        return entries

    def _company_confirm(self, vendor: dict, body: dict) -> dict:
        """Home-delivery confirmation: per completeOrderNo, partial success is normal."""
        entries = self._entries(body)
        ok, fail, undo, saved = [], [], [], 0
        now = time.time()
        with self.store.tx():
            touched: dict[str, dict] = {}
            shipped: dict[str, list[dict]] = {}
            for entry in entries:
                cno = entry.get("completeOrderNo") if isinstance(entry, dict) else None
                if not isinstance(cno, str) or not cno:
                    undo.append(json.dumps(entry, ensure_ascii=False))
                    continue
                order, item = self._find_item(vendor, cno)
                order = touched.get(order["order_no"], order) if order else None
                item = next(i for i in order["items"] if i["complete_order_no"] == cno) if order else None
                reason = _cannot_ship(order, item, "company")
                if reason:
                    fail.append(f"{cno}\t{reason}")
                    continue
                remark = str(entry.get("remark5VStr") or "")
                if remark != SHIPPED_REMARK:  # another status: momo only saves the message
                    item["msg_note"] = str(entry.get("msgNote") or remark)
                    touched[order["order_no"]] = order
                    saved += 1
                    continue
                carrier = str(entry.get("delyGbStr") or "")
                slip = str(entry.get("slipNo") or "").strip()
                dely_date = str(entry.get("scmDelyDate") or "")
                if carrier not in COMPANY_CARRIERS:
                    fail.append(f"{cno}\t{MSG_BAD_CARRIER.format(value=carrier)}")
                elif not slip:
                    fail.append(f"{cno}\t{MSG_NO_SLIP}")
                elif dely_date and not DATE_RE.fullmatch(dely_date):
                    fail.append(f"{cno}\t{MSG_BAD_DELY_DATE}")
                else:
                    item.update(
                        status="sending",
                        sent_at=now,
                        slip_no=slip,
                        dely_gb_str=carrier,
                        scm_dely_date=dely_date,
                    )
                    touched[order["order_no"]] = order
                    shipped.setdefault(order["order_no"], []).append(item)
                    ok.append(cno)
            self._save_shipped(vendor, touched, shipped, body["doAction"], now)
        return {
            "resultInfo": {
                "undoCnt": str(len(undo)),
                "undoList": undo,
                "confirmOkCnt": str(len(ok)),
                "confirmOkList": ok,
                "confirmFailCnt": str(len(fail)),
                "confirmFailList": fail,
                "saveMsgOkCnt": str(saved),
                "saveMsgFailCnt": "0",
                "saveMsgFailList": [],
                "addCounselOkCnt": "0",
                "addCounselFailCnt": "0",
                "addCounselFailList": [],
                "setZeroOkCnt": "0",
                "setZeroFailCount": "0",
                "setZeroMsgList": [],
            }
        }

    def _logistics_finish(self, vendor: dict, body: dict) -> dict:
        """CVS / third-party "出貨確認" (simplified: no separate check-goods and combine-box steps);
        momo's logistics assigns the shipment number, handed back in ``slipNoList`` (ours)."""
        flavour = "stores" if body["doAction"] == "unsendStoresFinish" else "third"
        entries = self._entries(body)
        ok, fail, repeat, undo, numbers = [], [], [], [], []
        now = time.time()
        with self.store.tx():
            touched: dict[str, dict] = {}
            shipped: dict[str, list[dict]] = {}
            for entry in entries:
                cno = entry.get("completeOrderNo") if isinstance(entry, dict) else None
                if not isinstance(cno, str) or not cno:
                    undo.append(json.dumps(entry, ensure_ascii=False))
                    continue
                order, item = self._find_item(vendor, cno)
                order = touched.get(order["order_no"], order) if order else None
                item = next(i for i in order["items"] if i["complete_order_no"] == cno) if order else None
                if item is not None and item["status"] == "sending" and order["delivery"] == flavour:
                    repeat.append(cno)
                    numbers.append({"completeOrderNo": cno, "slipNo": item.get("slip_no", "")})
                    continue
                reason = _cannot_ship(order, item, flavour)
                if not reason and entry.get("remark5VStr") != READY_REMARK:
                    reason = f"配送狀態需為[{READY_REMARK}]"
                if reason:
                    fail.append(f"{cno}\t{reason}")
                    continue
                slip = next((i["slip_no"] for i in order["items"] if i.get("slip_no")), "")
                slip = slip or f"{order['dely_gb']}{self.store.next_id(f'{self.code}:slip', 10**9):011d}"
                item.update(status="sending", sent_at=now, slip_no=slip, dely_gb_str=_dely_name(order))
                item["scm_dely_date"] = _fmt_date(now)
                touched[order["order_no"]] = order
                shipped.setdefault(order["order_no"], []).append(item)
                ok.append(cno)
                numbers.append({"completeOrderNo": cno, "slipNo": slip})
            self._save_shipped(vendor, touched, shipped, body["doAction"], now)
        return {
            "resultInfo": {
                "undoCnt": str(len(undo)),
                "undoList": undo,
                "confirmOkCnt": str(len(ok)),
                "confirmOkList": ok,
                "confirmFailCnt": str(len(fail)),
                "confirmFailList": fail,
                "confirmRepeatCnt": str(len(repeat)),
                "confirmRepeatList": repeat,
                "slipNoList": numbers,
            }
        }

    def _save_shipped(self, vendor, touched: dict, shipped: dict, action: str, now: float) -> None:
        for order in touched.values():
            order["updated_at"] = now
            self._put_order(order)
        for order_no, items in shipped.items():
            shipment_id = self.store.next_id(f"{self.code}:shipment")
            self.store.put(
                self.code,
                "shipment",
                shipment_id,
                {
                    "id": shipment_id,
                    "shop": vendor["entp_code"],
                    "order_no": order_no,
                    "do_action": action,
                    "complete_order_nos": [i["complete_order_no"] for i in items],
                    "dely_gb_str": items[0].get("dely_gb_str", ""),
                    "slip_no": items[0].get("slip_no", ""),
                    "scm_dely_date": items[0].get("scm_dely_date", ""),
                    "at": now,
                },
                shop=vendor["entp_code"],
                sort=now,
            )

    def _put_order(self, order: dict) -> None:
        statuses = {i["status"] for i in order["items"]}
        order["status"] = (
            "cancelled" if statuses == {"cancelled"} else "unsend" if "unsend" in statuses else "sending"
        )
        self.store.put(
            self.code, "order", order["order_no"], order, shop=order["shop"], sort=order["transfer_at"]
        )

    # --- console: products and orders ----------------------------------------------------------------
    def create_product(self, body: dict) -> dict:
        """{shop, sku, name, barcode?, variants?: [{sku, name, barcode?, stock?}], stock?}: a goods
        code with one 單品 per variant (goodsdt 000 when it has none); entpGoodsNo is the SKU."""
        vendor = self._vendor(str(body.get("shop") or ""))
        sku = str(body.get("sku") or "").strip()
        variants = body.get("variants") or []
        if not isinstance(variants, list) or not all(isinstance(v, dict) for v in variants):
            raise ConsoleError("variants must be a list of objects")
        if not sku and not variants:
            raise ConsoleError("sku is required")
        try:
            stock = int(body.get("stock") or 0)
            dts = [
                {
                    "goodsdt_code": f"{n:03d}",
                    "goodsdt_info": str(v.get("name") or v.get("info") or v.get("sku") or f"規格{n}"),
                    "entp_goods_no": str(v.get("sku") or ""),
                    "barcode": str(v.get("barcode") or ""),
                    "order_counsel_qty": int(v.get("stock", stock) or 0),
                    "syslast": int(v.get("stock", stock) or 0),
                }
                for n, v in enumerate(variants, start=1)
            ]
        except (TypeError, ValueError):
            raise ConsoleError("stock must be a whole number") from None
        if not dts:
            dts = [
                {
                    "goodsdt_code": "000",
                    "goodsdt_info": "無",
                    "entp_goods_no": sku,
                    "barcode": str(body.get("barcode") or ""),
                    "order_counsel_qty": stock,
                    "syslast": stock,
                }
            ]
        shop = vendor["entp_code"]
        now = time.time()
        listed = _epoch(body.get("listed_at"), now)
        with self.store.tx():
            goods_code = str(self.store.next_id(f"{self.code}:goods", 10_000_001))
            product = {
                "goods_code": goods_code,
                "goods_name": str(body.get("name") or sku or goods_code),
                "entp_goods_no": sku,
                "variants": dts,
                "created_at": now,
                "listed_at": listed,  # momo's 登入日: what queryGoodsList windows on
            }
            self._put_product(shop, product)
            for dt in dts:
                if dt["order_counsel_qty"]:
                    self.record_stock_change(
                        shop=shop,
                        sku=dt["entp_goods_no"],
                        item_id=goods_code,
                        variant_id=dt["goodsdt_code"],
                        before=0,
                        after=dt["order_counsel_qty"],
                        source="console",
                        detail="initial stock",
                    )
        return {"id": goods_code, **product}

    def _sku(self, body: dict) -> tuple[str, dict, dict]:
        """(shop, goods, goodsdt) of a console body's {shop, sku}."""
        vendor = self._vendor(str(body.get("shop") or ""))
        sku = str(body.get("sku") or "").strip()
        if not sku:
            raise ConsoleError("sku is required")
        product, dt = self._catalogue(vendor["entp_code"]).get(sku, (None, None))
        if product is None:
            raise ConsoleError(f"No goods with entpGoodsNo {sku!r} at this vendor", 404)
        return vendor["entp_code"], product, dt

    def set_stock_console(self, body: dict) -> dict:
        """{shop, sku, stock}: the vendor sets 可接單量 in momo's SCM pages (ledger source console)."""
        stock = _whole(body.get("stock"))
        if stock is None or stock < 0:
            raise ConsoleError("stock must be a whole number of at least 0")
        with self.store.tx():
            shop, product, dt = self._sku(body)
            before = int(dt.get("order_counsel_qty", 0))
            dt["order_counsel_qty"] = stock
            dt["syslast"] = stock
            self._put_product(shop, product)
            if stock != before:
                self.record_stock_change(
                    shop=shop,
                    sku=dt["entp_goods_no"],
                    item_id=product["goods_code"],
                    variant_id=dt["goodsdt_code"],
                    before=before,
                    after=stock,
                    source="console",
                    detail="set in SCM",
                )
        return {"sku": dt["entp_goods_no"], "goods_code": product["goods_code"], "stock": stock}

    def lock_stock_console(self, body: dict) -> dict:
        """{shop, sku, reason}: changeGoodsQty refuses that goodsdt with ``reason`` in its failList
        (an empty reason unlocks)."""
        reason = str(body.get("reason") or "").strip()
        with self.store.tx():
            shop, product, dt = self._sku(body)
            if reason:
                dt["lock_reason"] = reason
            else:
                dt.pop("lock_reason", None)
            self._put_product(shop, product)
        return {"sku": dt["entp_goods_no"], "goods_code": product["goods_code"], "reason": reason}

    def _stock_for_order(self, shop: str, items: list[dict], count: int, order_no: str) -> None:
        """A placed order takes its quantity off 可接單量: never below 0, never refusing the order.
        ``count`` identical orders make one ledger row per SKU."""
        wanted: dict[str, int] = {}
        for item in items:
            wanted[item["entp_goods_no"]] = wanted.get(item["entp_goods_no"], 0) + item["quantity"] * count
        catalogue = self._catalogue(shop)
        for sku, quantity in wanted.items():
            product, dt = catalogue.get(sku, (None, None))
            if product is None:
                continue
            product = self.store.get(self.code, "product", f"{shop}:{product['goods_code']}")
            dt = next(d for d in product["variants"] if d["goodsdt_code"] == dt["goodsdt_code"])
            before = int(dt.get("order_counsel_qty", 0))
            after = max(0, before - quantity)
            if after == before:
                continue
            dt["order_counsel_qty"] = after
            dt["syslast"] = max(0, int(dt.get("syslast", 0)) - quantity)
            self._put_product(shop, product)
            detail = f"order {order_no}" if count == 1 else f"{count} orders from {order_no}"
            self.record_stock_change(
                shop=shop,
                sku=sku,
                item_id=product["goods_code"],
                variant_id=dt["goodsdt_code"],
                before=before,
                after=after,
                source="order",
                detail=f"{detail}: {quantity} ordered",
            )

    def create_order(self, body: dict) -> dict:
        """{shop, lines:[{sku, quantity, name?}], shipping_code?, buyer?, status?, created_at?,
        updated_at?, count?}. ``count`` places that many identical orders in one transaction."""
        vendor = self._vendor(str(body.get("shop") or ""))
        lines = body.get("lines")
        if not isinstance(lines, list) or not lines or not all(isinstance(x, dict) for x in lines):
            raise ConsoleError("lines must be a non-empty list of {sku, quantity}")
        try:
            count = int(body.get("count") or 1)
        except (TypeError, ValueError):
            raise ConsoleError("count must be a whole number") from None
        if not 1 <= count <= 200_000:
            raise ConsoleError("count must be between 1 and 200000")
        status = {
            "": "unsend",
            "to_ship": "unsend",
            "unsend": "unsend",
            "shipped": "sending",
            "sending": "sending",
            "cancelled": "cancelled",
        }.get(str(body.get("status") or ""))
        if status is None:
            raise ConsoleError("status must be unsend (to_ship), sending (shipped) or cancelled")
        flavour, dely_gb = _delivery_of(str(body.get("shipping_code") or ""))
        now = time.time()
        created = _epoch(body.get("created_at"), now)
        updated = max(created, _epoch(body.get("updated_at"), created))
        buyer = _buyer(body.get("buyer"))
        catalogue = self._catalogue(vendor["entp_code"])
        items = [_item_template(line, catalogue) for line in lines]
        ids = []
        with self.store.tx():
            for _ in range(count):
                number = self.store.next_id(f"{self.code}:order")
                order_no = (
                    datetime.fromtimestamp(created, TAIPEI).strftime("%Y%m%d") + f"{number % 10**6:06d}"
                )
                order = {
                    "order_no": order_no,
                    "shop": vendor["entp_code"],
                    "delivery": flavour,
                    "dely_gb": dely_gb,
                    "dely_temp": "01",
                    **buyer,
                    "created_at": created,
                    "transfer_at": created,
                    "updated_at": updated,
                    "items": [],
                }
                for n, template in enumerate(items, start=1):
                    item = {
                        **template,
                        "seq": n,
                        "complete_order_no": f"{order_no}-{n:03d}-001-001",
                        "status": status,
                    }
                    if status == "sending":
                        item.update(
                            sent_at=updated,
                            scm_dely_date=_fmt_date(updated),
                            dely_gb_str=_dely_name(order) if flavour != "company" else "宅配通",
                            slip_no=f"S{number:011d}",
                        )
                    elif status == "cancelled":
                        item["cancelled_at"] = updated
                    order["items"].append(item)
                self._put_order(order)
                ids.append(order_no)
            if status != "cancelled":
                self._stock_for_order(vendor["entp_code"], items, count, ids[0])
        if count == 1:
            return self._summary(self.store.get(self.code, "order", ids[0]))
        return {"count": count, "ids": ids}

    def _catalogue(self, shop: str) -> dict[str, tuple[dict, dict]]:
        """entpGoodsNo → (product, variant) for one vendor."""
        out = {}
        for product in self.store.find(self.code, "product", shop=shop):
            for dt in product.get("variants", []):
                if dt.get("entp_goods_no"):
                    out.setdefault(dt["entp_goods_no"], (product, dt))
        return out

    def _order(self, order_id: str) -> dict:
        order = self.store.get(self.code, "order", order_id.split("-", 1)[0])
        if order is None:
            raise ConsoleError(f"No momo order {order_id!r}", 404)
        return order

    def _summary(self, order: dict) -> dict:
        return {
            "id": order["order_no"],
            "order_no": order["order_no"],
            "shop": order["shop"],
            "status": order["status"],
            "delivery": order["delivery"],
            "dely_gb": order["dely_gb"],
            "complete_order_nos": [i["complete_order_no"] for i in order["items"]],
            "items": order["items"],
        }

    def cancel_order(self, order_id: str, body: dict) -> dict:
        """The buyer cancels (momo's 攔貨): every item not cancelled yet, or ``items`` (completeOrderNo
        list). A shipped item can be cancelled too (the vendor must intercept it)."""
        with self.store.tx():
            order = self._order(order_id)
            wanted = body.get("items")
            at = _epoch(body.get("at"), time.time())
            changed = 0
            for item in order["items"]:
                if item["status"] == "cancelled" or (wanted and item["complete_order_no"] not in wanted):
                    continue
                item.update(status="cancelled", cancelled_at=at)
                changed += 1
            if not changed:
                raise ConsoleError("Nothing to cancel: the order is already cancelled.", 409)
            order["updated_at"] = at
            self._put_order(order)
        return self._summary(order)

    def edit_order(self, order_id: str, body: dict) -> dict:
        """Change a to-ship order: ``lines`` replace its unsent items; ``buyer`` fields replace the
        receiver. momo re-transfers a changed order, so the transfer time moves to now (UNCONFIRMED)
        and the next fetch window sees it."""
        with self.store.tx():
            order = self._order(order_id)
            if not any(i["status"] == "unsend" for i in order["items"]):
                raise ConsoleError("Only orders not shipped yet can be edited.", 409)
            at = _epoch(body.get("at"), time.time())
            if "lines" in body:
                lines = body["lines"]
                if not isinstance(lines, list) or not lines or not all(isinstance(x, dict) for x in lines):
                    raise ConsoleError("lines must be a non-empty list of {sku, quantity}")
                catalogue = self._catalogue(order["shop"])
                kept = [i for i in order["items"] if i["status"] != "unsend"]
                seq = max(i["seq"] for i in order["items"])
                for line in lines:
                    seq += 1
                    kept.append(
                        {
                            **_item_template(line, catalogue),
                            "seq": seq,
                            "status": "unsend",
                            "complete_order_no": f"{order['order_no']}-{seq:03d}-001-001",
                        }
                    )
                order["items"] = kept
            if body.get("buyer") is not None:
                order.update(_buyer(body["buyer"]))
            order["transfer_at"] = at
            order["updated_at"] = at
            self._put_order(order)
        return self._summary(order)

    # --- console -----------------------------------------------------------------------------------
    def create_shop(self, body: dict) -> dict:
        allowed = _parse_ip_list(body["allowed_ips"] if "allowed_ips" in body else list(DEFAULT_ALLOWED_IPS))
        number = self.store.next_id(f"{self.code}:vendor")
        entp_code = f"{100000 + number:06d}"
        vendor = {
            "id": entp_code,
            "name": str(body.get("name") or f"momo 測試供應商 {number}"),
            "entp_id": f"{secrets.randbelow(10**8):08d}",
            "entp_code": entp_code,
            "entp_pwd": _new_password(),
            "otp_back_no": f"{secrets.randbelow(1000):03d}",
            "allowed_ips": allowed,
            "created_at": time.time(),
            "password_changed_at": None,
        }
        self.store.put(self.code, "shop", entp_code, vendor, shop=entp_code, sort=vendor["created_at"])
        return {
            "id": entp_code,
            "name": vendor["name"],
            "allowed_ips": allowed,
            "credentials": {k: vendor[k] for k in ("entp_id", "entp_code", "entp_pwd", "otp_back_no")},
        }

    def _vendor(self, shop_id: str) -> dict:
        vendor = self.store.get(self.code, "shop", shop_id)
        if vendor is None:
            raise ConsoleError(f"No momo vendor {shop_id!r}", 404)
        return vendor

    def change_password(self, shop_id: str, body: dict) -> dict:
        """The merchant changes the SCM password in momo: our stored one stops working."""
        with self.store.tx():
            vendor = self._vendor(shop_id)
            new = body.get("entp_pwd")
            if new is None:
                new = _new_password()
            if not isinstance(new, str) or not PASSWORD_MIN <= len(new) <= PASSWORD_MAX:
                raise ConsoleError(f"entp_pwd must have {PASSWORD_MIN} to {PASSWORD_MAX} characters")
            vendor.update(entp_pwd=new, password_changed_at=time.time())
            self.store.put(self.code, "shop", shop_id, vendor, shop=shop_id, sort=vendor["created_at"])
        return {"id": shop_id, "entp_pwd": new}

    def set_allowlist(self, shop_id: str, body: dict) -> dict:
        with self.store.tx():
            vendor = self._vendor(shop_id)
            if "allowed_ips" not in body:
                raise ConsoleError("allowed_ips is required")
            vendor["allowed_ips"] = _parse_ip_list(body["allowed_ips"])
            self.store.put(self.code, "shop", shop_id, vendor, shop=shop_id, sort=vendor["created_at"])
        return {"id": shop_id, "allowed_ips": vendor["allowed_ips"]}

    def state(self, shop: str | None) -> dict:
        """Vendors without their password or OTP number, and their products."""
        vendors = [self.store.get(self.code, "shop", shop)] if shop else self.shops()
        hidden = {"entp_pwd", "otp_back_no"}
        products = self.store.find(self.code, "product", shop=shop)
        return {
            "shops": [{k: v for k, v in vendor.items() if k not in hidden} for vendor in vendors if vendor],
            "products": products,
            "stock": {
                dt["entp_goods_no"]: int(dt.get("order_counsel_qty", 0))
                for product in products
                for dt in product.get("variants", [])
                if dt.get("entp_goods_no")
            },
            "orders": self.store.find(self.code, "order", shop=shop),
            "shipments": self.store.find(self.code, "shipment", shop=shop),
        }

    def expire_tokens(self) -> None:
        """Nothing to expire: momo SCM has no tokens, every call logs in with loginInfo. (Changing
        the password through the console is how a connection is broken.)"""

    def fault_response(self, kind: str) -> Response:
        if kind == "throttle":  # momo documents no throttling: this shape is UNCONFIRMED
            resp = _json({"ERROR": "系統忙碌中，請稍後再試"}, 429)
            resp.headers["Retry-After"] = "3"
            return resp
        if kind == "malformed":
            return Response(
                '{"ERROR":"","dataList":[{"goodsCode":"2024',
                status=200,
                mimetype="application/json;charset=UTF-8",
            )
        return Response(SERVLET_500, status=500, mimetype="text/html;charset=utf-8")


# --- order helpers ------------------------------------------------------------------------------------
def _window(info: dict, keys: tuple[str, ...]) -> tuple[list[str], float, float]:
    """(errors, start, end) of a query window: minutes, both ends inclusive, Asia/Taipei. Empty
    hours/minutes mean the start or the end of the day."""
    fr_dd, fr_hh, fr_mm, to_dd, to_hh, to_mm = keys
    errors = []
    for key in (fr_dd, to_dd):
        if not DATE_RE.fullmatch(info[key].strip()):
            errors.append(MSG_DATE.format(key=key))
    parts = {}
    for key, default, top, message in (
        (fr_hh, "00", 23, MSG_HOUR),
        (fr_mm, "00", 59, MSG_MINUTE),
        (to_hh, "23", 23, MSG_HOUR),
        (to_mm, "59", 59, MSG_MINUTE),
    ):
        value = info[key].strip() or default
        if not re.fullmatch(r"\d{1,2}", value) or int(value) > top:
            errors.append(message.format(key=key))
        else:
            parts[key] = int(value)
    if errors:
        return errors, 0.0, 0.0
    try:
        start = datetime.strptime(info[fr_dd].strip(), "%Y/%m/%d").replace(
            hour=parts[fr_hh], minute=parts[fr_mm], tzinfo=TAIPEI
        )
        last = datetime.strptime(info[to_dd].strip(), "%Y/%m/%d").replace(
            hour=parts[to_hh], minute=parts[to_mm], tzinfo=TAIPEI
        )
    except ValueError:
        return [MSG_DATE.format(key=fr_dd)], 0.0, 0.0
    if last < start:
        return [MSG_WINDOW_ORDER], 0.0, 0.0
    if last - start > MAX_WINDOW:
        return [MSG_WINDOW_TOO_LARGE], 0.0, 0.0
    return [], start.timestamp(), (last + timedelta(minutes=1)).timestamp()


def _dely_name(order: dict) -> str:
    if order["delivery"] == "stores":
        return CVS_TYPES.get(order["dely_gb"], "")
    if order["delivery"] == "third":
        return THIRD_TYPES.get(order["dely_gb"], "")
    return ""


def _cannot_ship(order: dict | None, item: dict | None, flavour: str) -> str:
    if item is None:
        return MSG_ORDER_NOT_FOUND
    if order["delivery"] != flavour:
        return MSG_WRONG_FLAVOUR.format(flavour=FLAVOUR_NAMES[flavour])
    if item["status"] == "cancelled":
        return MSG_CANCELLED
    if item["status"] == "sending":
        return MSG_ALREADY_SHIPPED
    return ""


def _buyer(value) -> dict:
    """Console ``buyer``: a name, or {name, phone, address, post_no, store, note}."""
    if value in (None, ""):
        value = {}
    if isinstance(value, str):
        value = {"name": value}
    if not isinstance(value, dict):
        raise ConsoleError("buyer must be a name or an object")
    name = str(value.get("name") or "王小明")
    return {
        "receiver": name,
        "receiver_tel": str(value.get("tel") or ""),
        "receiver_mobile": str(value.get("phone") or "0912345678"),
        "post_no": str(value.get("post_no") or "100"),
        "receiver_addr": str(value.get("address") or "台北市中正區重慶南路一段122號"),
        "store_name": str(value.get("store") or "台北門市"),
        "cust_name": str(value.get("customer") or name),
        "msg": str(value.get("note") or ""),
    }


def _item_template(line: dict, catalogue: dict) -> dict:
    """An order item for a console line; a SKU with no product still works (ids synthesized), so
    unknown products reach the integration."""
    sku = str(line.get("sku") or "").strip()
    try:
        quantity = int(line.get("quantity", 1))
    except (TypeError, ValueError):
        raise ConsoleError("quantity must be a whole number") from None
    if not sku or quantity < 1:
        raise ConsoleError("every line needs a sku and a quantity of at least 1")
    product, dt = catalogue.get(sku, (None, None))
    if product is None:
        digest = sum(ord(c) * 31**i for i, c in enumerate(sku)) % 10**7
        return {
            "goods_code": f"9{digest:07d}",
            "goods_name": str(line.get("name") or sku),
            "goodsdt_code": "000",
            "goodsdt_info": "無",
            "entp_goods_no": sku,
            "quantity": quantity,
            "buy_price": int(line.get("price") or 100),
        }
    return {
        "goods_code": product["goods_code"],
        "goods_name": str(line.get("name") or product["goods_name"]),
        "goodsdt_code": dt["goodsdt_code"],
        "goodsdt_info": dt["goodsdt_info"],
        "entp_goods_no": sku,
        "quantity": quantity,
        "buy_price": int(line.get("price") or 100),
    }


def _row(order: dict, item: dict, number: int) -> dict:
    """One dataList row. Field names follow third-party client code of the SCM API (UNCONFIRMED);
    ``delyGb`` (the CVS / third-party delivery code on the row) and ``lastProcDate`` (the time of
    the row's last change, with seconds) are ours."""
    flavour = order["delivery"]
    last_change = {
        "unsend": order["transfer_at"],
        "sending": item.get("sent_at"),
        "cancelled": item.get("cancelled_at"),
    }[item["status"]]
    row = {
        "itemNo": str(number),
        "isRedStr": "正常",
        "completeOrderNo": item["complete_order_no"],
        "remark5VStr": {"unsend": "", "sending": SHIPPED_REMARK, "cancelled": "無貨取消訂單"}[item["status"]],
        "msgNote": item.get("msg_note", ""),
        "orderGbStr": "一般訂單",
        "msg": order["msg"],
        "lastPricDate": _fmt_time(order["transfer_at"]),
        "lastProcDate": _fmt_time(last_change),
        "delyHopeDate": _fmt_date(order["transfer_at"] + 3 * 86400),
        "delyGb": order["dely_gb"],
        "entpGoodsNo": item["entp_goods_no"],
        "goodsCode": item["goods_code"],
        "goodsName": item["goods_name"],
        "goodsDtCode": item["goodsdt_code"],
        "goodsDtInfo": item["goodsdt_info"],
        "syslast": str(item["quantity"]),
        "buyPrice": str(item["buy_price"]),
        "describeNote": "",
        "invoiceNo": "",
        "invoiceDate": "",
        "custId": "",
        "packYnStr": "否",
        "slipNo": item.get("slip_no", ""),
        "delyGbStr": item.get("dely_gb_str", ""),
        "scmDelyDate": item.get("scm_dely_date", ""),
    }
    if flavour == "company":
        row.update(
            receiver=order["receiver"],
            receiverTel=order["receiver_tel"],
            receiverMobile=order["receiver_mobile"],
            postNo=order["post_no"],
            receiverAddr=order["receiver_addr"],
            custName=order["cust_name"],
            claimReason="",
        )
    else:
        masked = order["receiver"][:1] + "O" + order["receiver"][2:]
        row.update(receiver=order["receiver"], receiverMask=masked, custNameMask=masked, boxYn="")
        if flavour == "stores":
            row.update(storeIdName=order["store_name"], delyGbName=CVS_TYPES.get(order["dely_gb"], ""))
        else:
            row.update(
                orderDelyGbName=THIRD_TYPES.get(order["dely_gb"], ""),
                delyTemp=order["dely_temp"],
                postNo=order["post_no"],
                receiverAddrMask=order["receiver_addr"][:6] + "***",
                receiverMobile=order["receiver_mobile"],
                scm_msg="",
            )
    if item["status"] == "cancelled":
        row.update(allowExecuteYN="Y", notAllowReason="", returnReason="客戶取消")
    return row
