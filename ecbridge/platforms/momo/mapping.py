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
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from ecbridge.platforms.base import OrderData, OrderLineData, OrderWindow, PlatformOrderState

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
