"""momo SCM order payloads → platform-neutral DTOs (pure: no HTTP, no Django models).

momo has no order list with an update time and no status field: the state of an order line is the
query that returned it, and each query exists once per delivery flavour (廠商配送 company,
超商取貨 stores, 第三方物流 third):

| query (doAction)                                | flavour  | PlatformOrderState |
|-------------------------------------------------|----------|--------------------|
| unsendCompanyQuery / unsendStoresQuery / unsendThirdQuery    | each | TO_SHIP   |
| sendingCompanyQuery / sendingStoresQuery / sendingThirdQuery | each | SHIPPED   |
| stopSendingQuery (攔貨, see ``CANCELLED_QUERY``)             | all  | CANCELLED |

Rows are per item (``completeOrderNo`` = order no. + item sequence) and are grouped into one
OrderData per order no. An order whose lines are in different states: all cancelled → CANCELLED;
any line still to ship → TO_SHIP; otherwise SHIPPED. Cancelled lines of an order that is not wholly
cancelled are left out of its lines (the vendor must not ship them).

Field spellings come from third-party client code of the SCM API (UNCONFIRMED). ``delyGb`` on a row
(the CVS / third-party delivery code) and ``lastProcDate`` (time of the row's last change) are read
when present; momo's own rows may only carry ``lastPricDate`` (the transfer date)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from ecbridge.platforms.base import (
    OrderData,
    OrderLineData,
    OrderWindow,
    PlatformOrderState,
    PlatformProduct,
)

TAIPEI = ZoneInfo("Asia/Taipei")

# The cancelled-order query. momo's name for it is UNCONFIRMED: "stopSendingQuery" (攔貨訂單查詢)
# is what third-party client code calls; the sandbox implements the same. Change it here only.
CANCELLED_QUERY = "stopSendingQuery"

# momo's shipping codes on an imported order (OrderData.shipping_code); the same codes are the
# spec's fixed shipping codes, so accounts can map them to warehouse shipping types.
HOME_DELIVERY_CODE = "home"  # 廠商宅配: the vendor ships with its own carrier
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
FLAVOUR_NAMES = {"company": "廠商宅配", "stores": "超商取貨", "third": "第三方物流"}
STATE_NAMES = {"unsend": "未出貨", "sending": "出貨中", "cancelled": "攔貨/取消"}

# unsendCompanyConfirm's delyGbStr: momo's carrier names, and the names our carriers go by.
MOMO_CARRIERS = (
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
OTHER_CARRIER = "其他"
CARRIER_ALIASES = {
    "宅配通": ("宅配通", "pelican", "e-can", "ecan"),
    "新竹貨運": ("新竹貨運", "新竹物流", "新竹", "hct"),
    "統一速達": ("統一速達", "黑貓", "黑貓宅急便", "宅急便", "t-cat", "tcat", "yamato"),
    "大榮貨運": ("大榮貨運", "嘉里大榮", "大榮", "kerry tj", "kerry", "ktj"),
    "東元物流": ("東元物流",),
    "郵局": ("郵局", "中華郵政", "chunghwa post", "post", "post office"),
}


def momo_carrier(name: str) -> str:
    """The carrier name momo accepts for ``name`` (a warehouse carrier name or momo's own);
    anything else is 其他 (other)."""
    key = (name or "").strip().lower()
    if not key:
        return OTHER_CARRIER
    for momo_name, aliases in CARRIER_ALIASES.items():
        if key in aliases or any(key.startswith(a) for a in aliases if len(a) > 3):
            return momo_name
    return name.strip() if name.strip() in MOMO_CARRIERS else OTHER_CARRIER


# --- queries ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class OrderQuery:
    action: str
    flavour: str | None  # None: every flavour (the cancelled query)
    state: str  # unsend | sending | cancelled
    window_keys: tuple[str, str, str, str, str, str]  # fr date/hour/minute, to date/hour/minute
    filter_keys: tuple[str, ...]  # every other key; momo wants them all present, even empty
    order_key: str  # the filter key that takes an order no.


def _prefixed(prefix: str, *extra: str) -> tuple[tuple[str, str, str, str, str, str], tuple[str, ...]]:
    window = tuple(f"{prefix}_{k}" for k in ("fr_dd", "fr_hh", "fr_mm", "to_dd", "to_hh", "to_mm"))
    return window, tuple(f"{prefix}_{k}" for k in extra)  # type: ignore[return-value]


PLAIN_WINDOW = ("fromDate", "fromHour", "fromMinute", "toDate", "toHour", "toMinute")

ORDER_QUERIES: tuple[OrderQuery, ...] = (
    OrderQuery(
        "unsendCompanyQuery",
        "company",
        "unsend",
        *_prefixed("company", "receiver", "goodsCode", "orderNo", "entpGoodsNo", "orderGb"),
        "company_orderNo",
    ),
    OrderQuery(
        "unsendStoresQuery",
        "stores",
        "unsend",
        *_prefixed("stores", "receiver", "goodsCode", "orderNo", "entpGoodsNo", "special"),
        "stores_orderNo",
    ),
    OrderQuery(
        "unsendThirdQuery",
        "third",
        "unsend",
        *_prefixed(
            "third", "receiver", "goodsCode", "orderNo", "entpGoodsNo", "orderGb", "delyGb", "delyTemp"
        ),
        "third_orderNo",
    ),
    OrderQuery(
        "sendingCompanyQuery",
        "company",
        "sending",
        PLAIN_WINDOW,
        ("receiver", "orderNo", "status"),
        "orderNo",
    ),
    OrderQuery(
        "sendingStoresQuery", "stores", "sending", PLAIN_WINDOW, ("receiver", "orderNo", "status"), "orderNo"
    ),
    OrderQuery(
        "sendingThirdQuery", "third", "sending", PLAIN_WINDOW, ("receiver", "orderNo", "status"), "orderNo"
    ),
    OrderQuery(
        CANCELLED_QUERY,
        None,
        "cancelled",
        PLAIN_WINDOW,  # the window keys of the cancelled query are the sandbox's (UNCONFIRMED)
        ("receiver", "goodsCode", "orderNo", "entp_goods_no"),
        "orderNo",
    ),
)
SENDING_QUERY = {q.flavour: q for q in ORDER_QUERIES if q.state == "sending"}


def send_info(query: OrderQuery, window: OrderWindow, *, order_no: str = "") -> dict[str, str]:
    """The query's ``sendInfo``: the window in Asia/Taipei minutes, both ends inclusive (the
    minute holding ``window.end`` minus a microsecond), and every filter key present."""
    first = window.start.astimezone(TAIPEI)
    last = (window.end - timedelta(microseconds=1)).astimezone(TAIPEI)
    values = (
        first.strftime("%Y/%m/%d"),
        first.strftime("%H"),
        first.strftime("%M"),
        last.strftime("%Y/%m/%d"),
        last.strftime("%H"),
        last.strftime("%M"),
    )
    info = dict(zip(query.window_keys, values, strict=True))
    info.update(dict.fromkeys(query.filter_keys, ""))
    info[query.order_key] = order_no
    return info


# --- rows → orders ------------------------------------------------------------------------------------
def parse_time(value: Any) -> datetime | None:
    """momo's local times: ``yyyy/MM/dd`` with optional ``HH:mm[:ss]`` (Asia/Taipei) → aware UTC."""
    text = str(value or "").strip()
    for fmt in ("%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y/%m/%d"):
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=TAIPEI).astimezone(UTC)
        except ValueError:
            continue
    return None


def order_no_of(complete_order_no: str) -> str:
    """``20140918203512-001-001-001`` → ``20140918203512``."""
    return complete_order_no.split("-", 1)[0]


def _text(row: dict, *keys: str) -> str:
    for key in keys:
        value = row.get(key)
        if value not in (None, ""):
            return str(value).strip()
    return ""


def _quantity(row: dict) -> int:
    try:
        return int(float(str(row.get("syslast") or "0")))
    except ValueError:
        raise ValueError(f"momo sent a quantity that is not a number: {row.get('syslast')!r}") from None


def flavour_of(query_flavour: str | None, row: dict) -> str:
    """The delivery flavour of a row: its query's, or (cancelled query) from its delivery code;
    momo only intercepts (攔貨) vendor-delivered orders, so no code means company."""
    if query_flavour:
        return query_flavour
    code = _text(row, "delyGb").upper()
    if code in CVS_TYPES:
        return "stores"
    if code in THIRD_TYPES:
        return "third"
    return "company"


def build_orders(rows: Iterable[tuple[OrderQuery, dict]]) -> list[OrderData]:
    """Group (query, row) pairs into orders, in the order momo returned them."""
    grouped: dict[str, list[tuple[OrderQuery, dict]]] = {}
    for query, row in rows:
        if not isinstance(row, dict):
            raise TypeError(f"momo sent a dataList row that is a {type(row).__name__}, not an object")
        cno = _text(row, "completeOrderNo")
        if not cno:
            raise ValueError("momo sent a dataList row without completeOrderNo")
        grouped.setdefault(order_no_of(cno), []).append((query, row))
    return [_order(order_no, pairs) for order_no, pairs in grouped.items()]


def _order(order_no: str, pairs: list[tuple[OrderQuery, dict]]) -> OrderData:
    # The same item can come back from two queries when it changed state inside the window: the
    # later state wins (sending over unsend, cancelled over both).
    rank = {"unsend": 0, "sending": 1, "cancelled": 2}
    items: dict[str, tuple[OrderQuery, dict]] = {}
    for query, row in pairs:
        cno = _text(row, "completeOrderNo")
        if cno not in items or rank[query.state] >= rank[items[cno][0].state]:
            items[cno] = (query, row)
    states = {q.state for q, _ in items.values()}
    if states == {"cancelled"}:
        state = PlatformOrderState.CANCELLED
    elif "unsend" in states:
        state = PlatformOrderState.TO_SHIP
    else:
        state = PlatformOrderState.SHIPPED
    live = [(q, r) for q, r in items.values() if q.state != "cancelled"] or list(items.values())
    # Delivery details from a flavour-specific row where there is one.
    query, head = next(((q, r) for q, r in live if q.flavour), live[0])
    flavour = flavour_of(query.flavour, head)
    code = _text(head, "delyGb").upper()
    if flavour == "company":
        shipping_code, shipping_name = HOME_DELIVERY_CODE, FLAVOUR_NAMES["company"]
    elif flavour == "stores":
        shipping_code, shipping_name = code, _text(head, "delyGbName") or CVS_TYPES.get(code, "")
    else:
        shipping_code, shipping_name = code, _text(head, "orderDelyGbName") or THIRD_TYPES.get(code, "")
    lines = [
        OrderLineData(
            line_id=_text(row, "completeOrderNo"),
            sku=_text(row, "entpGoodsNo"),
            name=_line_name(row),
            quantity=_quantity(row),
            item_id=_text(row, "goodsCode"),
            variant_id=_text(row, "goodsDtCode"),
        )
        for _, row in live
    ]
    all_rows = [r for _, r in items.values()]
    transfer = [t for t in (parse_time(r.get("lastPricDate")) for r in all_rows) if t]
    changes = [t for t in (parse_time(r.get("lastProcDate")) for r in all_rows) if t]
    if not transfer and not changes:
        raise ValueError(f"momo sent order {order_no} without a transfer date (lastPricDate)")
    created = min(transfer or changes)
    updated = max(transfer + changes)
    shipped = [r for q, r in items.values() if q.state == "sending"]
    slips = sorted({_text(r, "slipNo") for r in shipped} - {""})
    carriers = sorted({_text(r, "delyGbStr") for r in shipped} - {""})
    address = " ".join(
        p for p in (_text(head, "postNo"), _text(head, "receiverAddr", "receiverAddrMask")) if p
    )
    if flavour == "stores":
        address = _text(head, "storeIdName") or address
    return OrderData(
        platform_order_id=order_no,
        order_number=order_no,
        state=state,
        platform_status=" / ".join(
            f"{FLAVOUR_NAMES[flavour]}·{STATE_NAMES[s]}"
            for s in ("unsend", "sending", "cancelled")
            if s in states
        ),
        created_at=created,
        updated_at=updated,
        lines=lines,
        shipping_code=shipping_code,
        shipping_name=shipping_name,
        recipient_name=_text(head, "receiver", "receiverMask"),
        recipient_phone=_text(head, "receiverMobile", "receiverTel"),
        recipient_address=address,
        buyer_note=_text(head, "msg"),
        tracking_number=", ".join(slips),
        carrier=", ".join(carriers),
        shipment_refs={
            "delivery": flavour,
            "dely_gb": code,
            "complete_order_nos": [line.line_id for line in lines],
        },
    )


def _line_name(row: dict) -> str:
    name = _text(row, "goodsName")
    info = _text(row, "goodsDtInfo")
    return f"{name} {info}".strip() if info and info not in ("無", "-") else name


# --- products and stock (issue 4; docs/stock-momo.md) ------------------------------------------------
# queryGoodsList windows on the listing date (登入日), whole days, both ends inclusive. How long a
# window momo answers, and whether it truncates a large answer, is UNCONFIRMED: the client walks
# the vendor's history in windows of ``products_window_days`` from ``products_since``.
DEFAULT_PRODUCTS_SINCE = date(2004, 1, 1)  # momo's SCM predates no listing before this (assumed)
DEFAULT_PRODUCTS_WINDOW_DAYS = 366
STOCK_QUERY_MAX = 2000  # goodsCodeList per goodsStockQty call (momo's documented limit)
DEFAULT_STOCK_BATCH_SIZE = 100  # changeGoodsQty entries per call (UNCONFIRMED; a setting)
NO_VARIANT = ("無", "-")


def goods_send_info(first: date, last: date) -> dict[str, str]:
    """queryGoodsList's ``sendInfo`` for listing dates ``first``..``last`` (every key present)."""
    return {
        "entpGoodsNoQ": "",
        "doFlag": "",
        "goodsName": "",
        "frDate": first.strftime("%Y/%m/%d"),
        "toDate": last.strftime("%Y/%m/%d"),
        "goodsCode": "",
    }


def date_windows(since: date, until: date, days: int) -> list[tuple[date, date]]:
    """Consecutive inclusive day windows of at most ``days`` days covering since..until."""
    days = max(1, days)
    windows = []
    first = since
    while first <= until:
        last = min(until, first + timedelta(days=days - 1))
        windows.append((first, last))
        first = last + timedelta(days=1)
    return windows


def parse_day(value: Any, default: date) -> date:
    """A setting's date: a date, ``yyyy/MM/dd`` or ``yyyy-MM-dd``; empty → ``default``."""
    if isinstance(value, date):
        return value
    text = str(value or "").strip()
    if not text:
        return default
    for fmt in ("%Y/%m/%d", "%Y-%m-%d"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(f"not a date: {text!r} (use yyyy/MM/dd)")


def variant_name(goods_name: str, goodsdt_info: str) -> str:
    return f"{goods_name} {goodsdt_info}".strip() if goodsdt_info not in NO_VARIANT else goods_name


def products_from_rows(rows: Iterable[Any]) -> list[PlatformProduct]:
    """queryGoodsList rows (one per goodsdt) → one PlatformProduct per goodsdt, in momo's order.
    A goods without variants still has one goodsdt (``000``/``無``), so variant_id is never empty."""
    products: dict[tuple[str, str], PlatformProduct] = {}
    for row in rows:
        if not isinstance(row, dict):
            raise TypeError(f"momo sent a goods row that is a {type(row).__name__}, not an object")
        code, dt = _text(row, "goodsCode"), _text(row, "goodsdtCode", "goodsDtCode")
        if not code or not dt:
            raise ValueError("momo sent a goods row without goodsCode or goodsdtCode")
        goods_name = _text(row, "goodsName")
        info = _text(row, "goodsdtInfo", "goodsDtInfo")
        products.setdefault(
            (code, dt),
            PlatformProduct(
                item_id=code,
                variant_id=dt,
                sku=_text(row, "entpGoodsNo"),
                name=variant_name(goods_name, info),
                stock_ref={"goods_name": goods_name, "goodsdt_info": info},
            ),
        )
    return list(products.values())


@dataclass(frozen=True)
class StockRow:
    """One goodsdt as goodsStockQty/query.scm reports it."""

    goods_code: str
    goodsdt_code: str
    goods_name: str
    goodsdt_info: str
    sku: str
    quantity: int  # order_counsel_qty (可接單量): what changeGoodsQty adds to


def stock_rows(rows: Iterable[Any]) -> dict[str, list[StockRow]]:
    """goodsStockQty dataList → goods code → its goodsdt rows."""
    out: dict[str, list[StockRow]] = {}
    for row in rows:
        if not isinstance(row, dict):
            raise TypeError(f"momo sent a stock row that is a {type(row).__name__}, not an object")
        code, dt = _text(row, "goods_code"), _text(row, "goodsdt_code")
        if not code or not dt:
            raise ValueError("momo sent a stock row without goods_code or goodsdt_code")
        raw = row.get("order_counsel_qty")
        try:
            quantity = int(float(str(raw)))
        except ValueError:
            raise ValueError(f"momo sent a stock quantity that is not a number: {raw!r}") from None
        out.setdefault(code, []).append(
            StockRow(
                goods_code=code,
                goodsdt_code=dt,
                goods_name=_text(row, "goods_name"),
                goodsdt_info=_text(row, "goodsdt_info"),
                sku=_text(row, "entp_goods_no"),
                quantity=quantity,
            )
        )
    return out


def match_stock_row(rows: list[StockRow], goodsdt_code: str, sku: str) -> StockRow | None:
    """The row of one goodsdt: by goodsdt code, else by SKU, else the goods' only row."""
    if goodsdt_code:
        return next((r for r in rows if r.goodsdt_code == goodsdt_code), None)
    if sku:
        found = [r for r in rows if r.sku == sku]
        if len(found) == 1:
            return found[0]
    return rows[0] if len(rows) == 1 else None


def change_entry(
    goods_code: str, goods_name: str, goodsdt_code: str, goodsdt_info: str, current: int, delta: int
) -> dict[str, str]:
    """One changeGoodsQty ``sendInfoList`` entry. Numbers go as strings, like momo's own samples."""
    return {
        "goodsCode": goods_code,
        "goodsName": goods_name,
        "goodsdtCode": goodsdt_code,
        "goodsdtInfo": goodsdt_info,
        "orderCounselQty": str(current),
        "addReduceQty": str(delta),
    }


def _change_ident(value: Any) -> tuple[tuple[str, str], str, int | None]:
    """A success/fail list entry → ((goodsCode, goodsdtCode), reason, quantity after). momo's
    shape is UNCONFIRMED: objects (the sandbox) or tab-separated text (like confirmFailList)."""
    if isinstance(value, dict):
        code = _text(value, "goodsCode", "goods_code")
        dt = _text(value, "goodsdtCode", "goodsDtCode", "goodsdt_code")
        reason = _text(value, "msg", "reason", "message")
        after = value.get("orderCounselQty", value.get("order_counsel_qty"))
        try:
            quantity = int(float(str(after))) if after not in (None, "") else None
        except ValueError:
            quantity = None
        return (code, dt), reason, quantity
    parts = [p.strip() for p in str(value).split("\t")]
    code = parts[0] if parts else ""
    dt = parts[1] if len(parts) > 1 else ""
    reason = parts[-1] if len(parts) > 2 else ""
    return (code, dt), reason, None


def change_results(
    result: dict[str, Any],
) -> tuple[dict[tuple[str, str], int | None], dict[tuple[str, str], str]]:
    """changeGoodsQty ``resultInfo`` → (succeeded: goodsdt → quantity after or None,
    failed: goodsdt → momo's reason)."""
    ok: dict[tuple[str, str], int | None] = {}
    failed: dict[tuple[str, str], str] = {}
    for value in result.get("successList") or []:
        ident, _, quantity = _change_ident(value)
        ok[ident] = quantity
    for value in result.get("failList") or []:
        ident, reason, _ = _change_ident(value)
        failed.setdefault(ident, reason or str(value))
    return ok, failed
