"""momo 購物網 SCM client (reference/platforms-taiwan.md §2A).

No tokens: every JSON body carries ``loginInfo{entpID, entpCode, entpPwd, otpBackNo}``. The
calls go to dispatcher servlets (``GoodsServlet.do`` / ``OrderServlet.do`` with ``doAction``)
or a few REST-like ``*.scm`` paths. momo answers HTTP 200 with ``{"ERROR": "..."}`` or
``{"basicCheckMsgList": [...]}`` when it refuses, and ``{"dataList": ...}`` when it does not.
Field spellings come from a third-party conversion of the vendor PDF (UNCONFIRMED).

Orders (the status table is in mapping.py): momo has no update time, no paging and no push.
``iter_orders`` asks the seven order queries (to ship / shipped per delivery flavour, and the
cancelled query) once each for the window, groups the per-item rows into orders and yields them in
pages of ``orders_page_size`` (a setting, default 100). The "updated" time is the transfer time,
or the time a line was shipped/cancelled where momo tells it (UNCONFIRMED: momo windows every query
on the transfer date; the sandbox windows the shipped/cancelled queries on the change itself).
Windows are at most 60 days ("about 2 months", UNCONFIRMED).

Shipping: home delivery is ``unsendCompanyConfirm`` with the carrier name and slip no. for every
completeOrderNo of the order (partial success is normal: items already confirmed count as done,
other failures raise with momo's reasons). CVS and third-party orders use momo's logistics: the
finish call (``unsendStoresFinish`` / ``unsendThirdFinish``; the real flow has check-goods and
combine-box steps before it, UNCONFIRMED) and momo hands back the shipment number.

Products and stock (docs/stock-momo.md): ``queryGoodsList`` walked in listing-date windows
(``iter_products``, one PlatformProduct per goodsdt), ``goodsStockQty/query.scm`` for reads (≤ 2000
goods codes a call) and ``changeGoodsQty`` for writes: deltas only (``addReduceQty``) with the
quantity as read (``orderCounselQty``), ``stock_batch_size`` entries a call (a setting, default 100;
momo's limit is UNCONFIRMED). A write is never repeated by the HTTP layer except after throttling:
a lost answer may have been applied, so it surfaces as TransientError and the caller re-reads."""

from __future__ import annotations

import json
import math
import re
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import tenacity
from django.conf import settings as django_settings
from django.utils.translation import gettext

from ecbridge.platforms import http as platform_http
from ecbridge.platforms.base import (
    Client,
    ConnectionInfo,
    OrderData,
    OrderWindow,
    PlatformProduct,
    ShipmentOutcome,
    ShipmentRequest,
    ShipmentResult,
    StockOutcome,
    StockTarget,
    WebhookEvent,
)
from ecbridge.platforms.errors import AuthError, PlatformError, RateLimited, TransientError
from ecbridge.platforms.http import parse_retry_after
from ecbridge.platforms.momo import mapping
from ecbridge.platforms.momo.crypto import decode_data_list

TAIPEI = ZoneInfo("Asia/Taipei")
DEFAULT_MIN_INTERVAL_SECONDS = 1.0  # momo documents no limit (UNCONFIRMED); be polite: ≤1 req/s

# How momo words a refusal. It sends no machine-readable codes, only text (UNCONFIRMED).
LOGIN_MARKERS = ("查無此供應商", "登入失敗", "密碼", "OTP", "otpBackNo", "entpPwd", "entpID", "entpCode")
VENDOR_NOT_FOUND_MARKERS = ("查無此供應商",)
IP_PATTERN = re.compile(r"(?<![A-Za-z])IP(?![A-Za-z])|白名單")
BUSY_MARKERS = ("系統忙碌", "請稍後再試", "流量", "too many requests", "busy")

CREDENTIAL_KEYS = ("entp_id", "entp_code", "entp_pwd", "otp_back_no")

MAX_ORDER_WINDOW = timedelta(days=60)  # "at most about 2 months" (UNCONFIRMED)
DEFAULT_PAGE_SIZE = 100
SHIPPED_REMARK = "已配送"  # remark5VStr of a home-delivery confirmation
READY_REMARK = "可出貨"  # remark5VStr of a CVS / third-party finish
# How momo words "this item was confirmed already" in a confirmFailList entry (UNCONFIRMED).
ALREADY_SHIPPED_MARKERS = ("已出貨", "重複出貨", "重複操作")
FINISH_ACTIONS = {"stores": "unsendStoresFinish", "third": "unsendThirdFinish"}

# Politeness pacing, shared by every client in the process, per momo host and vendor.
_pace_lock = threading.Lock()
_last_call: dict[tuple[str, str], float] = {}
clock = time.monotonic
sleep = time.sleep  # tests replace it


class MomoClient(Client):
    # --- plumbing --------------------------------------------------------------------------------
    @property
    def api_base(self) -> str:
        return str(self.settings.get("api_base") or "https://scmapi.momoshop.com.tw").rstrip("/")

    def login_info(self) -> dict[str, str]:
        creds = self.ctx.credentials
        missing = [k for k in CREDENTIAL_KEYS if not creds.get(k)]
        if missing:
            raise AuthError(
                gettext("The momo credentials are incomplete (missing: %(fields)s).")
                % {"fields": ", ".join(missing)},
                code="credentials_missing",
            )
        return {
            "entpID": creds["entp_id"],
            "entpCode": creds["entp_code"],
            "entpPwd": creds["entp_pwd"],
            "otpBackNo": creds["otp_back_no"],
        }

    def _pace(self) -> None:
        """Keep at least ``min_interval_seconds`` between calls for one vendor in this process.
        A slot is reserved under the lock, then the wait happens outside it."""
        interval = float(self.settings.get("min_interval_seconds", DEFAULT_MIN_INTERVAL_SECONDS) or 0)
        if interval <= 0:
            return
        key = (self.api_base, self.ctx.credentials.get("entp_code", ""))
        with _pace_lock:
            now = clock()
            start = max(now, _last_call.get(key, -math.inf) + interval)
            _last_call[key] = start
        if start > now:
            sleep(start - now)

    def post(self, path: str, body: dict[str, Any], *, operation: str, parse=None, retry: bool = True) -> Any:
        """POST ``body`` plus ``loginInfo`` as JSON to ``path``; ``parse`` receives the checked
        response document (default: the document itself). ``retry=False``: one attempt only."""
        payload = {**body, "loginInfo": self.login_info()}
        content = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        self._pace()
        return self.http.send(
            "POST",
            f"{self.api_base}/{path.lstrip('/')}",
            operation=operation,
            parse=lambda response: (parse or (lambda doc: doc))(self.check(response)),
            content=content,
            headers={"Content-Type": "application/json; charset=UTF-8", "Accept": "application/json"},
            retry=retry,
        )

    # --- error mapping -----------------------------------------------------------------------------
    def check(self, response: httpx.Response) -> dict[str, Any]:
        """Map momo's refusals to typed errors; return the JSON document of a success."""
        status = response.status_code
        if status == 429:
            raise RateLimited(
                gettext("momo is throttling requests (HTTP 429)."),
                retry_after=parse_retry_after(response.headers.get("Retry-After")),
                code="http_429",
                status=status,
            )
        if status >= 500:
            raise TransientError(
                gettext("momo server error (HTTP %(status)s).") % {"status": status},
                code=f"http_{status}",
                status=status,
            )
        doc = _json_or_none(response)
        message = _refusal_message(doc) if doc is not None else ""
        # How momo refuses an unregistered caller IP is UNCONFIRMED: a 403 or a message naming the IP.
        if status == 403 or (message and IP_PATTERN.search(message)):
            raise AuthError(
                self._ip_message(message or f"HTTP {status}"), code="ip_not_allowed", status=status
            )
        if status == 401:
            raise AuthError(self._login_message(message or "HTTP 401"), code="login_failed", status=status)
        if status >= 300 and doc is None:
            raise PlatformError(
                gettext("momo answered HTTP %(status)s; check the API base URL.") % {"status": status},
                code=f"http_{status}",
                status=status,
            )
        if doc is None:
            raise ValueError("momo returned a body that is not JSON")
        if not isinstance(doc, dict):
            raise TypeError(f"momo returned a JSON {type(doc).__name__}, not an object")
        if message:
            if any(m in message for m in LOGIN_MARKERS):
                code = (
                    "vendor_not_found"
                    if any(m in message for m in VENDOR_NOT_FOUND_MARKERS)
                    else "login_failed"
                )
                raise AuthError(self._login_message(message), code=code, status=status)
            if any(m.lower() in message.lower() for m in BUSY_MARKERS):
                raise RateLimited(message, code="busy", status=status)
            code = "basicCheckMsgList" if doc.get("basicCheckMsgList") else "ERROR"
            raise PlatformError(message, code=code, status=status)
        if status >= 300:
            raise PlatformError(
                gettext("momo answered HTTP %(status)s.") % {"status": status},
                code=f"http_{status}",
                status=status,
            )
        return doc

    def _login_message(self, momo_message: str) -> str:
        if any(m in momo_message for m in VENDOR_NOT_FOUND_MARKERS):
            return gettext(
                "momo found no vendor for this Entp ID and Entp Code (momo said: %(message)s). Entp Code is "
                "the 6-digit vendor code and Entp ID the 8-digit company number (統一編號)."
            ) % {"message": momo_message}
        return gettext(
            "momo rejected the SCM login (momo said: %(message)s). The SCM password was probably changed in "
            "momo: enter the new one in Entp Pwd, check OTP Back No (SCM function C1209), then Test "
            "Connection and Save."
        ) % {"message": momo_message}

    def _ip_message(self, momo_message: str) -> str:
        ips = ", ".join(getattr(django_settings, "EGRESS_IPS", []) or [])
        return gettext(
            "momo refused this server's IP address (momo said: %(message)s). Give momo the server IP "
            "addresses shown on the settings page (%(ips)s) for its allowlist, then Test Connection again."
        ) % {"message": momo_message, "ips": ips or gettext("none configured")}

    # --- connection --------------------------------------------------------------------------------
    def test_connection(self) -> ConnectionInfo:
        """``GoodsServlet.do`` ``queryGoodsList`` over today (Taipei): read-only, tiny, fully
        specified, and it goes through the same login and allowlist checks as the order and stock
        calls. (The stock query would need a real goods code, or an empty list momo may refuse.)"""
        today = datetime.now(TAIPEI).strftime("%Y/%m/%d")
        body = {
            "doAction": "queryGoodsList",
            "sendInfo": {
                "entpGoodsNoQ": "",
                "doFlag": "",
                "goodsName": "",
                "frDate": today,
                "toDate": today,
                "goodsCode": "",
            },
        }

        def parse(doc: dict[str, Any]) -> ConnectionInfo:
            rows = decode_data_list(doc["dataList"], self.ctx.credentials["entp_pwd"])
            name = str(doc.get("entpName") or doc.get("ENTP_NAME") or "")  # not in the spec; used if sent
            return ConnectionInfo(
                shop_id=self.ctx.credentials["entp_code"],
                shop_name=name,
                extra={"products_listed_today": len(rows)},
            )

        return self.post("GoodsServlet.do", body, operation="queryGoodsList", parse=parse)

    # --- orders --------------------------------------------------------------------------------------
    max_order_window = MAX_ORDER_WINDOW
    initial_lookback = timedelta(days=7)

    def _rows(self, query: mapping.OrderQuery, window: OrderWindow, *, order_no: str = "") -> list[dict]:
        """One order query: its decrypted dataList (rows per item)."""
        body = {"doAction": query.action, "sendInfo": mapping.send_info(query, window, order_no=order_no)}

        def parse(doc: dict[str, Any]) -> list[dict]:
            if "dataList" not in doc:
                raise ValueError("momo answered an order query without dataList")
            rows = decode_data_list(doc["dataList"], self.ctx.credentials["entp_pwd"])
            for row in rows:
                if not isinstance(row, dict) or not str(row.get("completeOrderNo") or "").strip():
                    raise ValueError("momo sent a dataList row without completeOrderNo")
            return rows

        return self.post("OrderServlet.do", body, operation=query.action, parse=parse)

    def _orders(self, windows_and_numbers: list[tuple[OrderWindow, str]]) -> list[OrderData]:
        rows: list[tuple[mapping.OrderQuery, dict]] = []
        for window, order_no in windows_and_numbers:
            for query in mapping.ORDER_QUERIES:
                rows += [(query, row) for row in self._rows(query, window, order_no=order_no)]
        try:
            return mapping.build_orders(rows)
        except (ValueError, TypeError) as exc:
            raise PlatformError(str(exc), code="malformed_row") from exc

    def iter_orders(self, window: OrderWindow) -> Iterator[list[OrderData]]:
        """Every order with a line transferred, shipped or cancelled in ``window``: one call per
        query (seven), then pages of ``orders_page_size`` orders. Every call is made before the
        first page is yielded, so a failed call raises and never looks like "no more orders"."""
        if window.end - window.start > self.max_order_window:
            raise ValueError(f"momo order windows are at most {self.max_order_window.days} days")
        if window.end <= window.start:
            return
        orders = self._orders([(window, "")])
        size = max(1, int(self.settings.get("orders_page_size") or DEFAULT_PAGE_SIZE))
        for i in range(0, len(orders), size):
            yield orders[i : i + size]

    def _recent_window(self) -> OrderWindow:
        end = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(minutes=1)
        return OrderWindow(end - self.max_order_window, end)

    def get_orders(self, ids: list[str]) -> list[OrderData]:
        """Orders by order no., over the last 60 days (momo needs a window even with an order no.):
        seven calls per order. Unknown numbers are left out."""
        wanted = list(dict.fromkeys(str(i) for i in ids if str(i).strip()))
        window = self._recent_window()
        found = {o.platform_order_id: o for o in self._orders([(window, n) for n in wanted])}
        return [found[n] for n in wanted if n in found]

    # --- shipments -------------------------------------------------------------------------------------
    def _refs(self, shipment: ShipmentRequest) -> tuple[str, list[str]]:
        refs = shipment.shipment_refs or {}
        flavour = str(refs.get("delivery") or "")
        if not flavour:
            code = (shipment.shipping_code or "").upper()
            flavour = (
                "stores"
                if code in mapping.CVS_TYPES
                else "third"
                if code in mapping.THIRD_TYPES
                else "company"
            )
        numbers = [
            str(n) for n in refs.get("complete_order_nos") or [line.line_id for line in shipment.lines]
        ]
        if flavour not in ("company", "stores", "third") or not numbers:
            raise PlatformError(
                gettext("This momo order has no item numbers (completeOrderNo) to confirm; fetch it again."),
                code="no_items",
            )
        return flavour, numbers

    def report_shipment(self, shipment: ShipmentRequest) -> ShipmentResult:
        flavour, numbers = self._refs(shipment)
        if flavour == "company":
            return self._confirm_home_delivery(shipment, numbers)
        return self._finish_logistics(shipment, flavour, numbers)

    def _confirm_home_delivery(self, shipment: ShipmentRequest, numbers: list[str]) -> ShipmentResult:
        slip = (shipment.tracking_number or "").strip()
        if not slip:
            raise PlatformError(
                gettext("momo home delivery needs the tracking number (slip no.) of the parcel."),
                code="tracking_required",
            )
        carrier = mapping.momo_carrier(shipment.carrier)
        today = datetime.now(TAIPEI).strftime("%Y/%m/%d")
        body = {
            "doAction": "unsendCompanyConfirm",
            "sendInfoList": [
                {
                    "completeOrderNo": number,
                    "remark5VStr": SHIPPED_REMARK,
                    "msgNote": "",
                    "scmDelyDate": today,
                    "delyGbStr": carrier,
                    "slipNo": slip,
                    "shipTypeStr": "",
                    "packTypeStr": "",
                    "packUnit": "",
                }
                for number in numbers
            ],
        }
        result = self.post("OrderServlet.do", body, operation="unsendCompanyConfirm", parse=_result_info)
        ok, already = _settle(result, numbers)
        return ShipmentResult(
            outcome=ShipmentOutcome.DONE,
            tracking_number=slip,
            carrier=carrier,
            already_shipped=bool(already) and not ok,
            message=_done_message(ok, already),
        )

    def _finish_logistics(
        self, shipment: ShipmentRequest, flavour: str, numbers: list[str]
    ) -> ShipmentResult:
        action = FINISH_ACTIONS[flavour]
        body = {
            "doAction": action,
            "sendInfoList": [{"completeOrderNo": n, "remark5VStr": READY_REMARK} for n in numbers],
        }
        result = self.post("OrderServlet.do", body, operation=action, parse=_result_info)
        ok, already = _settle(result, numbers)
        slips = result.get("slipNoList") or []
        tracking = _join(
            str(s.get("slipNo") or "")
            for s in slips
            if isinstance(s, dict) and s.get("completeOrderNo") in numbers
        )
        message = _done_message(ok, already)
        if not tracking:
            return ShipmentResult(outcome=ShipmentOutcome.AWAITING_TRACKING, message=message)
        return ShipmentResult(
            outcome=ShipmentOutcome.DONE,
            tracking_number=tracking,
            carrier=_carrier_name(shipment, flavour),
            already_shipped=bool(already) and not ok,
            message=message,
        )

    def fetch_tracking(self, shipment: ShipmentRequest) -> ShipmentResult:
        """The shipment number momo's logistics assigned, read from the shipped query."""
        flavour, numbers = self._refs(shipment)
        rows = self._rows(
            mapping.SENDING_QUERY[flavour], self._recent_window(), order_no=shipment.platform_order_id
        )
        tracking = _join(str(r.get("slipNo") or "") for r in rows if r.get("completeOrderNo") in numbers)
        if not tracking:
            return ShipmentResult(outcome=ShipmentOutcome.AWAITING_TRACKING)
        carrier = _join(str(r.get("delyGbStr") or "") for r in rows if r.get("completeOrderNo") in numbers)
        return ShipmentResult(
            outcome=ShipmentOutcome.DONE,
            tracking_number=tracking,
            carrier=carrier or _carrier_name(shipment, flavour),
        )

    # --- products and stock ------------------------------------------------------------------------------
    stock_absolute_native = False  # no "set to n": an overwrite is read → difference → adjust
    stock_delta_native = True  # changeGoodsQty addReduceQty
    adjust_idempotent = False  # no idempotency key: a repeated change applies twice
    adjust_needs_current = True  # every entry carries orderCounselQty, the quantity as read

    def _goods(self, first, last) -> list[PlatformProduct]:
        body = {"doAction": "queryGoodsList", "sendInfo": mapping.goods_send_info(first, last)}

        def parse(doc: dict[str, Any]) -> list[PlatformProduct]:
            if "dataList" not in doc:
                raise ValueError("momo answered queryGoodsList without dataList")
            return mapping.products_from_rows(
                decode_data_list(doc["dataList"], self.ctx.credentials["entp_pwd"])
            )

        return self.post("GoodsServlet.do", body, operation="queryGoodsList", parse=parse)

    def iter_products(self) -> Iterator[list[PlatformProduct]]:
        """Every goods with every goodsdt: one queryGoodsList call per listing-date window from
        ``products_since`` to today (Taipei), ``products_window_days`` days each; a page per window
        that lists anything. A failed window raises (the walk never ends early)."""
        since = mapping.parse_day(self.settings.get("products_since"), mapping.DEFAULT_PRODUCTS_SINCE)
        days = int(self.settings.get("products_window_days") or mapping.DEFAULT_PRODUCTS_WINDOW_DAYS)
        today = datetime.now(TAIPEI).date()
        seen: set[tuple[str, str]] = set()
        for first, last in mapping.date_windows(since, today, days):
            page = [p for p in self._goods(first, last) if (p.item_id, p.variant_id) not in seen]
            seen.update((p.item_id, p.variant_id) for p in page)
            if page:
                yield page

    @property
    def stock_batch_size(self) -> int:
        return max(1, int(self.settings.get("stock_batch_size") or mapping.DEFAULT_STOCK_BATCH_SIZE))

    def stock_batches(self, targets: list[StockTarget], *, absolute: bool) -> list[list[StockTarget]]:
        """Groups of at most ``stock_batch_size`` goodsdt. Targets for the same goodsdt stay in one
        group (adjust_stock sends them as one entry), so a group never outgrows the limit. momo
        has no absolute write; both kinds split the same way."""
        units: dict[tuple[str, ...], list[int]] = {}
        for index, target in enumerate(targets):
            units.setdefault(_unit(target), []).append(index)
        batches: list[list[StockTarget]] = []
        group: list[int] = []
        for count, indexes in enumerate(units.values()):
            if count and count % self.stock_batch_size == 0:
                batches.append([targets[i] for i in sorted(group)])
                group = []
            group += indexes
        if group:
            batches.append([targets[i] for i in sorted(group)])
        return batches

    def _stock_query(self, codes: list[str]) -> dict[str, list[mapping.StockRow]]:
        body = {"doAction": "query", "goodsCodeList": codes}

        def parse(doc: dict[str, Any]) -> dict[str, list[mapping.StockRow]]:
            if "dataList" not in doc:
                raise ValueError("momo answered the stock query without dataList")
            return mapping.stock_rows(decode_data_list(doc["dataList"], self.ctx.credentials["entp_pwd"]))

        return self.post("api/v1/goodsStockQty/query.scm", body, operation="goodsStockQty.query", parse=parse)

    def _lookup(self, targets: list[StockTarget]) -> dict[str, mapping.StockRow]:
        """key → momo's stock row for each target it knows: one stock query per 2000 goods codes.
        Targets without a goods code (mappings made from orders carry one, so rarely) are first
        found by SKU in the product listing."""
        located: dict[str, tuple[str, str]] = {}
        by_sku: dict[str, PlatformProduct] = {}
        wanted = {t.sku for t in targets if not t.item_id and t.sku}
        if wanted:
            for page in self.iter_products():
                for product in page:
                    if product.sku in wanted:
                        by_sku.setdefault(product.sku, product)
        for target in targets:
            if target.item_id:
                located[target.key] = (target.item_id, target.variant_id)
            elif target.sku in by_sku:
                found = by_sku[target.sku]
                located[target.key] = (found.item_id, found.variant_id)
        codes = list(dict.fromkeys(code for code, _ in located.values()))
        rows: dict[str, list[mapping.StockRow]] = {}
        for i in range(0, len(codes), mapping.STOCK_QUERY_MAX):
            rows.update(self._stock_query(codes[i : i + mapping.STOCK_QUERY_MAX]))
        out = {}
        for target in targets:
            if target.key in located:
                code, dt = located[target.key]
                row = mapping.match_stock_row(rows.get(code, []), dt, target.sku)
                if row is not None:
                    out[target.key] = row
        return out

    def read_stock(self, targets: list[StockTarget]) -> dict[str, int]:
        """可接單量 (order_counsel_qty) per target, ≤ 2000 goods codes a call; unknown ones left out."""
        return {key: row.quantity for key, row in self._lookup(targets).items()}

    def adjust_stock(self, targets: list[StockTarget]) -> list[StockOutcome]:
        """One changeGoodsQty call for the batch: each goodsdt once, with ``orderCounselQty`` = the
        quantity as read (``current``) and ``addReduceQty`` = the sum of its targets' deltas.
        Names and missing ``current`` come from ``stock_ref``, else from one stock query."""
        incomplete = [
            t
            for t in targets
            if t.current is None
            or not (t.item_id and t.variant_id)
            or not (t.stock_ref or {}).get("goods_name")
            or "goodsdt_info" not in (t.stock_ref or {})
        ]
        looked = self._lookup(incomplete) if incomplete else {}
        outcomes: dict[str, StockOutcome] = {}
        groups: dict[tuple[str, str], dict[str, Any]] = {}
        for target in targets:
            row = looked.get(target.key)
            ref = target.stock_ref or {}
            code = target.item_id or (row.goods_code if row else "")
            dt = target.variant_id or (row.goodsdt_code if row else "")
            name = str(ref.get("goods_name") or (row.goods_name if row else ""))
            info = str(ref["goodsdt_info"]) if "goodsdt_info" in ref else (row.goodsdt_info if row else "")
            current = target.current if target.current is not None else (row.quantity if row else None)
            if not code or not dt or not name or current is None:
                outcomes[target.key] = StockOutcome(
                    target.key,
                    ok=False,
                    error=gettext(
                        "momo has no goods for SKU %(sku)s (goods code %(code)s); sync the product "
                        "mappings again."
                    )
                    % {"sku": target.sku or "?", "code": code or "?"},
                )
                continue
            group = groups.setdefault(
                (code, dt), {"name": name, "info": info, "current": current, "delta": 0, "keys": []}
            )
            group["delta"] += int(target.quantity)
            group["keys"].append(target.key)
        entries = [
            mapping.change_entry(code, g["name"], dt, g["info"], g["current"], g["delta"])
            for (code, dt), g in groups.items()
            if g["delta"]
        ]
        for g in groups.values():
            if not g["delta"]:  # nothing to change: momo is not asked (it refuses addReduceQty 0)
                for key in g["keys"]:
                    outcomes[key] = StockOutcome(key, ok=True, quantity=g["current"])
        if entries:
            ok, failed = self._change(entries)
            for ident, g in groups.items():
                if not g["delta"]:
                    continue
                for key in g["keys"]:
                    outcomes[key] = _stock_outcome(key, ident, g, ok, failed)
        return [outcomes[t.key] for t in targets]

    def _change(self, entries: list[dict[str, str]]):
        """The write. Throttled calls were not applied and are retried; anything else that fails
        (5xx, timeout, malformed answer) may have been applied, so it is not repeated here."""
        body = {"doAction": "changeGoodsQty", "sendInfoList": entries}

        def parse(doc: dict[str, Any]):
            info = doc["resultInfo"]
            if not isinstance(info, dict):
                raise TypeError("momo's resultInfo is not an object")
            return mapping.change_results(info)

        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(self.http.max_attempts),
            wait=platform_http._wait,
            retry=tenacity.retry_if_exception(
                lambda exc: isinstance(exc, RateLimited) and platform_http._worth_retrying(exc)
            ),
            sleep=lambda seconds: platform_http.sleep(seconds),
            reraise=True,
        )
        for attempt in retrying:
            with attempt:
                return self.post(
                    "GoodsServlet.do", body, operation="changeGoodsQty", parse=parse, retry=False
                )
        raise AssertionError("unreachable")  # pragma: no cover

    # --- push ------------------------------------------------------------------------------------------
    @classmethod
    def verify_webhook_request(cls, headers: dict[str, str], body: bytes, url: str = "") -> bool:
        """momo SCM pushes nothing: no delivery is genuine."""
        return False

    @classmethod
    def parse_webhook(cls, headers: dict[str, str], body: bytes) -> list[WebhookEvent]:
        raise ValueError("momo SCM has no push notifications")


def _unit(target: StockTarget) -> tuple[str, ...]:
    """The goodsdt a target changes (its SKU when the goods code is not known yet)."""
    return ("goods", target.item_id, target.variant_id) if target.item_id else ("sku", target.sku)


def _stock_outcome(key: str, ident: tuple[str, str], group: dict, ok: dict, failed: dict) -> StockOutcome:
    if ident in ok:  # reported done: never retried, even if also listed as failed
        after = ok[ident]
        return StockOutcome(
            key, ok=True, quantity=after if after is not None else group["current"] + group["delta"]
        )
    if ident in failed:
        reason = failed[ident]
        busy = any(m.lower() in reason.lower() for m in BUSY_MARKERS)
        return StockOutcome(key, ok=False, error=reason, retryable=busy)
    return StockOutcome(
        key,
        ok=False,
        error=gettext("momo did not report this item; read its stock before trying again."),
    )


def _result_info(doc: dict[str, Any]) -> dict[str, Any]:
    info = doc["resultInfo"]
    if not isinstance(info, dict):
        raise TypeError("momo's resultInfo is not an object")
    return info


def _entry(value: Any) -> tuple[str, str]:
    """A confirmFailList / undoList entry → (completeOrderNo, reason). momo writes tab-separated
    text (number, goods, reason); the number is the first part that looks like one."""
    if isinstance(value, dict):
        return str(value.get("completeOrderNo") or ""), str(value.get("msg") or value.get("reason") or value)
    parts = [p.strip() for p in str(value).split("\t") if p.strip()]
    number = next((p for p in parts if re.fullmatch(r"\d{6,}(-\d+)*", p)), "")
    reason = parts[-1] if parts and parts[-1] != number else str(value).strip()
    return number, reason


def _settle(result: dict[str, Any], numbers: list[str]) -> tuple[list[str], list[str]]:
    """(confirmed, already confirmed) of a partial-success result; anything else raises with
    momo's reasons for the failed items."""
    ok = [str(n) for n in result.get("confirmOkList") or []]
    already = [str(n) for n in result.get("confirmRepeatList") or []]
    failed: list[tuple[str, str]] = []
    for value in result.get("confirmFailList") or []:
        number, reason = _entry(value)
        if any(m in reason for m in ALREADY_SHIPPED_MARKERS):
            already.append(number)
        else:
            failed.append((number, reason))
    failed += [(*_entry(v)[:1], gettext("not executed")) for v in result.get("undoList") or []]
    settled = set(ok) | set(already)
    if not failed and not settled and str(result.get("confirmOkCnt") or "0") == str(len(numbers)):
        ok = list(numbers)  # counted but not listed
        settled = set(ok)
    failed += [(n, gettext("not confirmed")) for n in numbers if n not in settled and n not in dict(failed)]
    if failed:
        raise PlatformError(
            gettext("momo refused the shipment for %(count)s item(s): %(items)s")
            % {"count": len(failed), "items": "; ".join(f"{n or '?'}: {r}" for n, r in failed)},
            code="confirm_failed",
        )
    return ok, already


def _done_message(ok: list[str], already: list[str]) -> str:
    if already and not ok:
        return gettext("momo already had this shipment confirmed.")
    if already:
        return gettext("momo confirmed %(ok)s item(s); %(already)s were confirmed already.") % {
            "ok": len(ok),
            "already": len(already),
        }
    return ""


def _join(values) -> str:
    return ", ".join(dict.fromkeys(v.strip() for v in values if v and v.strip()))


def _carrier_name(shipment: ShipmentRequest, flavour: str) -> str:
    code = str((shipment.shipment_refs or {}).get("dely_gb") or shipment.shipping_code or "").upper()
    names = mapping.CVS_TYPES if flavour == "stores" else mapping.THIRD_TYPES
    return names.get(code, "")


def _json_or_none(response: httpx.Response) -> Any:
    try:
        return json.loads(response.content.decode("utf-8-sig"))
    except (ValueError, UnicodeDecodeError):
        return None


def _refusal_message(doc: Any) -> str:
    """The refusal text of a momo document: ``ERROR`` (a string) or ``basicCheckMsgList``."""
    if not isinstance(doc, dict):
        return ""
    parts: list[str] = []
    error = doc.get("ERROR")
    if isinstance(error, str) and error.strip():
        parts.append(error.strip())
    checks = doc.get("basicCheckMsgList")
    if isinstance(checks, list):
        parts += [str(m).strip() for m in checks if str(m).strip()]
    elif isinstance(checks, str) and checks.strip():
        parts.append(checks.strip())
    return "; ".join(parts)
