"""Fake momo 購物網 SCM API (reference/platforms-taiwan.md §2A).

Each vendor (供應商) has an 8-digit entpID, a 6-digit entpCode, an 8–14 character SCM password
and a 3-digit OTP back number; every call carries them in ``loginInfo`` and is checked, and the
caller's IP must be on the vendor's allowlist. Like the real servlets, refusals are HTTP 200 with
``{"ERROR": "..."}`` (GoodsServlet, the *.scm paths) or ``{"basicCheckMsgList": [...]}``
(OrderServlet); only the IP refusal is an HTTP 403 (how momo really refuses an unregistered IP is
UNCONFIRMED). Order and product operations arrive with later issues: the dispatch tables below
are where they go. Nothing here imports ecbridge.platforms."""

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
        self.goods_actions = {"queryGoodsList": self._query_goods_list}
        self.order_actions: dict = {}
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
        return {
            "shops": [{k: v for k, v in vendor.items() if k not in hidden} for vendor in vendors if vendor],
            "products": self.store.find(self.code, "product", shop=shop),
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
