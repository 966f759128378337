"""Orders, fulfillment and order webhooks of the fake Shopify (reference/platforms-global.md §2.4,
§2.5, §2.8). Mixed into ShopifySandbox.

Decisions (the brief leaves them open; all sandbox-only):
- Times are stored as float epoch seconds; the API shows them to the second (Shopify's DateTime).
  Search bounds compare with the stored value, so ``updated_at:<'T'`` excludes an order updated
  at T + 0.5 s and the next window's ``updated_at:>='T'`` includes it.
- Search syntax: ``field:value``, ``field:>value`` (``>=``, ``<``, ``<=``), values bare or quoted,
  terms joined by ``AND`` or spaces; fields ``updated_at``, ``created_at``, ``processed_at``, ``id``.
  Anything else (OR, parentheses, other fields) is a GraphQL error here, so a client bug cannot
  silently fetch everything (Shopify would ignore an unknown field with a search warning).
- Every status is listed (the GraphQL ``orders`` query has no default status filter). The
  60-day limit without ``read_all_orders`` is not simulated.
- One location, one fulfillment order per order at creation; a line added by an edit joins the
  open fulfillment order (or a new one when none is open). Cancelling closes open fulfillment
  orders. A fulfillment closes a fulfillment order once nothing remains on it.
- Ids are derived from one counter per order (line, fulfillment order and fulfillment ids are
  unique functions of it), so a bulk create costs one counter step per order.
- Bulk creation (``count`` > 1) writes every order in one store transaction and delivers no
  webhooks unless ``webhooks`` is true (a 10,000-order benchmark should measure the import)."""

from __future__ import annotations

import base64
import json
import re
import time
import uuid
from datetime import UTC, datetime

from flask import g
from graphql import GraphQLError

from ecbridge.sandbox.base import ConsoleError
from ecbridge.sandbox.shopify.signing import body_hmac

ORDER_BASE = 5_000_000_000_000
LINE_BASE = 14_000_000_000_000
PRODUCT_BASE = 7_000_000_000_000
VARIANT_BASE = 43_000_000_000_000
FO_BASE = 6_000_000_000_000
FO_LINE_BASE = 16_000_000_000_000
FULFILLMENT_BASE = 4_000_000_000_000
LOCATION_ID = 61_000_000_001
FIRST_ORDER_NUMBER = 1001
MAX_BULK = 100_000
GID_RE = re.compile(r"gid://shopify/([A-Za-z]+)/(\d+)")
SEARCH_TERM_RE = re.compile(r"""([a-z_]+):(>=|<=|>|<)?('[^']*'|"[^"]*"|[^\s'"]+)""")
SEARCH_FIELDS = {"updated_at": "updated_at", "created_at": "created_at", "processed_at": "created_at"}
SORT_FIELDS = {
    "UPDATED_AT": "updated_at",
    "CREATED_AT": "created_at",
    "PROCESSED_AT": "created_at",
    "ID": "number",
    "ORDER_NUMBER": "order_number",
}
STATUS_PRESETS = {
    # console ``status`` → (financial status, fulfilled?, cancelled?)
    "to_ship": ("PAID", False, False),
    "paid": ("PAID", False, False),
    "unpaid": ("PENDING", False, False),
    "pending": ("PENDING", False, False),
    "shipped": ("PAID", True, False),
    "fulfilled": ("PAID", True, False),
    "cancelled": ("VOIDED", False, True),
    "returned": ("REFUNDED", True, False),
    "refunded": ("REFUNDED", True, False),
}
FINANCIAL_STATUSES = (
    "AUTHORIZED",
    "EXPIRED",
    "PAID",
    "PARTIALLY_PAID",
    "PARTIALLY_REFUNDED",
    "PENDING",
    "REFUNDED",
    "VOIDED",
)
ORDER_TOPICS = {"create": "ORDERS_CREATE", "update": "ORDERS_UPDATED", "cancel": "ORDERS_CANCELLED"}


def _iso(ts: float | None) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _rest_time(ts: float | None) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def parse_time(value) -> float:
    """Epoch seconds or ISO 8601 (``Z``, an offset, or naive = UTC; a bare date is midnight UTC)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    text = str(value or "").strip()
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return float(text)
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"not a time: {value!r}") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def parse_search(query: str | None) -> list[tuple[str, str, float]]:
    """``updated_at:>='…' AND updated_at:<'…'`` → [(doc field, operator, epoch)]."""
    terms: list[tuple[str, str, float]] = []
    text = (query or "").strip()
    position = 0
    while position < len(text):
        while position < len(text) and text[position].isspace():
            position += 1
        if text.startswith("AND", position) and (position + 3 == len(text) or text[position + 3].isspace()):
            position += 3
            continue
        if position >= len(text):
            break
        match = SEARCH_TERM_RE.match(text, position)
        if not match:
            raise GraphQLError(f"Unsupported search syntax near: {text[position : position + 30]!r}")
        name, operator, raw = match.groups()
        if name == "id":
            field = "number"
            try:
                value = float(raw.strip("'\""))
            except ValueError:
                raise GraphQLError(f"Invalid id in search: {raw}") from None
        elif name in SEARCH_FIELDS:
            field = SEARCH_FIELDS[name]
            try:
                value = parse_time(raw.strip("'\""))
            except ValueError:
                raise GraphQLError(f"Invalid date in search: {raw}") from None
        else:
            raise GraphQLError(f"Invalid search field for this query: {name}")
        terms.append((field, operator or "=", value))
        position = match.end()
    return terms


def _matches(doc: dict, terms) -> bool:
    for field, operator, value in terms:
        actual = doc[field]
        if not {
            ">=": actual >= value,
            ">": actual > value,
            "<": actual < value,
            "<=": actual <= value,
            "=": int(actual) == int(value) if field != "number" else actual == value,
        }[operator]:
            return False
    return True


def _encode_cursor(number: int, value) -> str:
    return base64.b64encode(json.dumps({"last_id": number, "last_value": value}).encode()).decode()


def _decode_cursor(cursor: str) -> tuple[int, float]:
    try:
        data = json.loads(base64.b64decode(cursor.encode(), validate=True))
        return int(data["last_id"]), float(data["last_value"])
    except (ValueError, KeyError, TypeError):
        raise GraphQLError(f"Invalid cursor for current pagination sort: {cursor}") from None


def _topic_path(topic: str) -> str:
    """ORDERS_UPDATED → orders/updated, APP_UNINSTALLED → app/uninstalled."""
    resource, _, event = topic.lower().partition("_")
    return f"{resource}/{event}"


class OrdersMixin:
    """Needs ``self.store``, ``self.code``, ``self._shop``, ``self.webhooks``, ``self.client_secret``."""

    # --- helpers ---------------------------------------------------------------------------------------
    @staticmethod
    def require_scope(token: dict, field: str, *scopes: str) -> None:
        granted = set(token["scope"].split(","))
        implied = {s.replace("read_", "write_") for s in scopes if s.startswith("read_")}
        if not granted & (set(scopes) | implied):
            raise GraphQLError(
                f"Access denied for {field} field. Required access: `{scopes[0]}` access scope.",
                extensions={
                    "code": "ACCESS_DENIED",
                    "documentation": "https://shopify.dev/api/usage/access-scopes",
                },
            )

    def _get_order(self, number: int) -> dict | None:
        return self.store.get(self.code, "order", number)

    def _put_order(self, doc: dict) -> None:
        self.store.put(self.code, "order", doc["number"], doc, shop=doc["shop"], sort=doc["updated_at"])

    def _find_order(self, shop: str | None, order_id: str) -> dict:
        """Console lookup by legacy id, gid or name (#1001)."""
        text = str(order_id or "").strip()
        match = GID_RE.fullmatch(text)
        doc = None
        if match and match.group(1) == "Order":
            doc = self._get_order(int(match.group(2)))
        elif text.isdigit() and int(text) > ORDER_BASE:
            doc = self._get_order(int(text))
        elif text.lstrip("#").isdigit():  # the order's name, with or without "#"
            for candidate in self.store.find(self.code, "order", shop=shop):
                if candidate["name"] == "#" + text.lstrip("#"):
                    doc = candidate
                    break
        if doc is None or (shop and doc["shop"] != str(shop).lower()):
            raise ConsoleError(f"Unknown order {order_id}", 404)
        return doc

    @staticmethod
    def _touch(doc: dict, at: float | None = None) -> None:
        doc["updated_at"] = max(at if at is not None else time.time(), doc["updated_at"])

    # --- products (console) ---------------------------------------------------------------------------
    def create_product(self, body: dict) -> dict:
        shop = self._shop(body.get("shop"))
        if shop is None:
            raise ConsoleError("Unknown shop", 404)
        title = str(body.get("name") or body.get("title") or "").strip()
        if not title:
            raise ConsoleError("name is required")
        variants_in = body.get("variants") or [
            {"sku": body.get("sku"), "barcode": body.get("barcode"), "stock": body.get("stock")}
        ]
        if not isinstance(variants_in, list) or not all(isinstance(v, dict) for v in variants_in):
            raise ConsoleError("variants must be a list of objects")
        with self.store.tx():
            number = PRODUCT_BASE + self.store.next_id(f"{self.code}:product")
            variants = []
            for index, variant in enumerate(variants_in, start=1):
                try:
                    stock = int(variant.get("stock") or 0)
                except (TypeError, ValueError):
                    raise ConsoleError("stock must be a whole number") from None
                variants.append(
                    {
                        "number": VARIANT_BASE + (number - PRODUCT_BASE) * 100 + index,
                        "sku": str(variant.get("sku") or ""),
                        "barcode": str(variant.get("barcode") or ""),
                        "title": str(
                            variant.get("title") or ("Default Title" if len(variants_in) == 1 else index)
                        ),
                        "stock": stock,
                    }
                )
            doc = {"number": number, "shop": shop["domain"], "title": title, "variants": variants}
            self.store.put(self.code, "product", number, doc, shop=shop["domain"], sort=number)
        return {
            "id": f"gid://shopify/Product/{number}",
            "legacy_id": number,
            "variants": [
                {
                    "id": f"gid://shopify/ProductVariant/{v['number']}",
                    "sku": v["sku"],
                    "barcode": v["barcode"],
                }
                for v in variants
            ],
        }

    def _variants_by_sku(self, domain: str) -> dict[str, tuple[dict, dict]]:
        found: dict[str, tuple[dict, dict]] = {}
        for product in self.store.find(self.code, "product", shop=domain):
            for variant in product["variants"]:
                if variant["sku"]:
                    found.setdefault(variant["sku"], (product, variant))
        return found

    def _line(self, seq: int, index: int, spec: dict, catalogue) -> dict:
        if not isinstance(spec, dict):
            raise ConsoleError("each line must be an object")
        sku = str(spec.get("sku") or "").strip()
        try:
            quantity = int(spec.get("quantity", 1))
        except (TypeError, ValueError):
            raise ConsoleError("quantity must be a whole number") from None
        if quantity < 1:
            raise ConsoleError("quantity must be at least 1")
        product, variant = catalogue.get(sku, (None, None))
        name = str(spec.get("name") or (product["title"] if product else sku or "Custom item"))
        return {
            "number": LINE_BASE + seq * 1000 + index,
            "sku": sku,
            "name": name,
            "quantity": quantity,
            "current_quantity": quantity,
            "fulfilled": 0,
            # an unknown SKU still reaches the app: a custom line item with no variant/product
            "variant": None
            if variant is None
            else {
                "number": variant["number"],
                "sku": variant["sku"],
                "barcode": variant["barcode"],
                "title": variant["title"],
            },
            "product": None if product is None else {"number": product["number"], "title": product["title"]},
        }

    # --- orders (console) -----------------------------------------------------------------------------
    def create_order(self, body: dict) -> dict:
        shop = self._shop(body.get("shop"))
        if shop is None:
            raise ConsoleError("Unknown shop", 404)
        lines = body.get("lines")
        if not isinstance(lines, list) or not lines:
            raise ConsoleError("lines must be a non-empty list")
        status = str(body.get("status") or "to_ship").lower()
        if status not in STATUS_PRESETS:
            raise ConsoleError(f"status must be one of {', '.join(STATUS_PRESETS)}")
        financial, fulfilled, cancelled = STATUS_PRESETS[status]
        financial = str(body.get("financial_status") or financial).upper()
        if financial not in FINANCIAL_STATUSES:
            raise ConsoleError(f"financial_status must be one of {', '.join(FINANCIAL_STATUSES)}")
        try:
            count = int(body["count"]) if body.get("count") not in (None, "") else 1
            created = (
                parse_time(body["created_at"]) if body.get("created_at") not in (None, "") else time.time()
            )
            updated = parse_time(body["updated_at"]) if body.get("updated_at") not in (None, "") else created
        except (TypeError, ValueError) as exc:
            raise ConsoleError(f"invalid count or time: {exc}") from None
        if not 1 <= count <= MAX_BULK:
            raise ConsoleError(f"count must be between 1 and {MAX_BULK}")
        buyer = body.get("buyer") if isinstance(body.get("buyer"), dict) else {}
        address = body.get("address") if isinstance(body.get("address"), dict) else {}
        shipping_code = str(body.get("shipping_code") or "standard")
        docs = []
        with self.store.tx():
            catalogue = self._variants_by_sku(shop["domain"])
            for _ in range(count):
                seq = self.store.next_id(f"{self.code}:order")
                order_lines = [self._line(seq, i, spec, catalogue) for i, spec in enumerate(lines, start=1)]
                doc = {
                    "number": ORDER_BASE + seq,
                    "seq": seq,
                    "shop": shop["domain"],
                    "order_number": FIRST_ORDER_NUMBER - 1 + seq,
                    "name": f"#{FIRST_ORDER_NUMBER - 1 + seq}",
                    "created_at": created,
                    "updated_at": max(updated, created),
                    "cancelled_at": None,
                    "cancel_reason": None,
                    "closed_at": None,
                    "financial_status": financial,
                    "email": str(buyer.get("email") or "buyer@example.com"),
                    "phone": str(buyer.get("phone") or "+886912345678"),
                    "note": str(body.get("note") or ""),
                    "gateways": [str(body.get("payment_gateway") or "shopify_payments")],
                    "shipping_address": {
                        "name": str(address.get("name") or buyer.get("name") or "Wang Xiaoming"),
                        "company": address.get("company"),
                        "address1": str(address.get("address1") or "No. 7, Sec. 5, Xinyi Rd."),
                        "address2": address.get("address2"),
                        "city": str(address.get("city") or "Taipei City"),
                        "province": address.get("province"),
                        "provinceCode": address.get("provinceCode"),
                        "zip": str(address.get("zip") or "110"),
                        "country": str(address.get("country") or "Taiwan"),
                        "countryCodeV2": str(address.get("countryCodeV2") or "TW"),
                        "phone": str(address.get("phone") or buyer.get("phone") or "+886912345678"),
                    },
                    "shipping_line": {
                        "title": str(body.get("shipping_title") or shipping_code.replace("_", " ").title()),
                        "code": shipping_code,
                        "source": "shopify",
                        "carrierIdentifier": None,
                    },
                    "lines": order_lines,
                    "fulfillment_orders": [],
                    "fulfillments": [],
                }
                self._open_fulfillment_order(doc, order_lines, created)
                if fulfilled:
                    self._fulfil(doc, doc["fulfillment_orders"], None, {"number": f"SB{seq:08d}"}, created)
                    doc["updated_at"] = max(updated, created)
                if cancelled:
                    self._cancel(doc, "CUSTOMER", max(updated, created))
                self._put_order(doc)
                docs.append(doc)
        if count == 1 or body.get("webhooks"):
            for doc in docs:
                self.deliver_order_event(shop, doc, ["create"] + (["cancel"] if cancelled else []))
        if count == 1:
            return self._console_order(docs[0])
        return {"count": count, "orders": [{"id": self._gid(d), "name": d["name"]} for d in docs]}

    @staticmethod
    def _gid(doc: dict) -> str:
        return f"gid://shopify/Order/{doc['number']}"

    @staticmethod
    def _open_fulfillment_order(doc: dict, lines: list[dict], at: float) -> dict:
        index = len(doc["fulfillment_orders"]) + 1
        number = FO_BASE + doc["seq"] * 100 + index
        fo = {
            "number": number,
            "status": "OPEN",
            "created_at": at,
            "updated_at": at,
            "lines": [
                {
                    "number": FO_LINE_BASE + doc["seq"] * 100_000 + index * 1000 + (line["number"] % 1000),
                    "line": line["number"],
                    "total": line["current_quantity"] - line["fulfilled"],
                    "remaining": line["current_quantity"] - line["fulfilled"],
                }
                for line in lines
                if line["current_quantity"] - line["fulfilled"] > 0
            ],
        }
        doc["fulfillment_orders"].append(fo)
        return fo

    @staticmethod
    def _cancel(doc: dict, reason: str, at: float) -> None:
        doc["cancelled_at"] = at
        doc["cancel_reason"] = reason
        doc["closed_at"] = at
        if doc["financial_status"] in ("PENDING", "AUTHORIZED"):
            doc["financial_status"] = "VOIDED"
        for fo in doc["fulfillment_orders"]:
            if fo["status"] in ("OPEN", "IN_PROGRESS", "SCHEDULED", "ON_HOLD"):
                fo["status"] = "CLOSED"
                fo["updated_at"] = at
        doc["updated_at"] = max(doc["updated_at"], at)

    def cancel_order(self, order_id: str, body: dict) -> dict:
        with self.store.tx():
            doc = self._find_order(body.get("shop"), order_id)
            if doc["cancelled_at"] is not None:
                raise ConsoleError("Order is already cancelled", 409)
            reason = str(body.get("reason") or "CUSTOMER").upper()
            if reason not in ("CUSTOMER", "DECLINED", "FRAUD", "INVENTORY", "OTHER", "STAFF"):
                raise ConsoleError("unknown cancel reason")
            self._cancel(doc, reason, max(time.time(), doc["updated_at"]))
            if body.get("refund"):
                doc["financial_status"] = "REFUNDED"
            self._put_order(doc)
        self.deliver_order_event(self._shop(doc["shop"]), doc, ["update", "cancel"])
        return self._console_order(doc)

    def edit_order(self, order_id: str, body: dict) -> dict:
        """``lines`` ([{sku, quantity, name?}]) is the new content: listed SKUs get that current
        quantity (new ones are added), unlisted lines drop to 0 (Shopify keeps them with
        currentQuantity 0). Also ``address``, ``note``, ``financial_status``, ``shipping_code``."""
        with self.store.tx():
            doc = self._find_order(body.get("shop"), order_id)
            now = max(time.time(), doc["updated_at"])
            if "lines" in body:
                wanted = body["lines"]
                if not isinstance(wanted, list) or not all(isinstance(w, dict) for w in wanted):
                    raise ConsoleError("lines must be a list of objects")
                by_sku = {}
                for spec in wanted:
                    try:
                        quantity = int(spec.get("quantity", 1))
                    except (TypeError, ValueError):
                        raise ConsoleError("quantity must be a whole number") from None
                    if quantity < 0:
                        raise ConsoleError("quantity must not be negative")
                    by_sku[str(spec.get("sku") or "").strip()] = (quantity, spec)
                added = []
                for line in doc["lines"]:
                    quantity = by_sku.pop(line["sku"], (0, None))[0]
                    if quantity < line["fulfilled"]:
                        raise ConsoleError(f"{line['sku']}: cannot go below the fulfilled quantity")
                    line["current_quantity"] = quantity
                catalogue = self._variants_by_sku(doc["shop"])
                for sku, (quantity, spec) in by_sku.items():
                    if quantity > 0:
                        line = self._line(doc["seq"], len(doc["lines"]) + 1, {**spec, "sku": sku}, catalogue)
                        doc["lines"].append(line)
                        added.append(line)
                self._resize_fulfillment_orders(doc, added, now)
            if isinstance(body.get("address"), dict):
                doc["shipping_address"].update(
                    {k: v for k, v in body["address"].items() if isinstance(k, str)}
                )
            if "note" in body:
                doc["note"] = str(body.get("note") or "")
            if body.get("shipping_code"):
                doc["shipping_line"]["code"] = str(body["shipping_code"])
                doc["shipping_line"]["title"] = str(body.get("shipping_title") or body["shipping_code"])
            if body.get("financial_status"):
                status = str(body["financial_status"]).upper()
                if status not in FINANCIAL_STATUSES:
                    raise ConsoleError(f"financial_status must be one of {', '.join(FINANCIAL_STATUSES)}")
                doc["financial_status"] = status
            self._touch(doc, now)
            self._put_order(doc)
        self.deliver_order_event(self._shop(doc["shop"]), doc, ["update"])
        return self._console_order(doc)

    def _resize_fulfillment_orders(self, doc: dict, added: list[dict], at: float) -> None:
        lines = {line["number"]: line for line in doc["lines"]}
        for fo in doc["fulfillment_orders"]:
            if fo["status"] != "OPEN":
                continue
            for fo_line in fo["lines"]:
                line = lines[fo_line["line"]]
                remaining = max(0, line["current_quantity"] - line["fulfilled"])
                fo_line["remaining"] = remaining
                fo_line["total"] = max(fo_line["total"], remaining)
            fo["updated_at"] = at
            if not any(fo_line["remaining"] for fo_line in fo["lines"]) and not added:
                fo["status"] = "CLOSED"
        if added:
            open_fo = next((fo for fo in doc["fulfillment_orders"] if fo["status"] == "OPEN"), None)
            if open_fo is None:
                self._open_fulfillment_order(doc, added, at)
            else:
                index = doc["fulfillment_orders"].index(open_fo) + 1
                for line in added:
                    open_fo["lines"].append(
                        {
                            "number": FO_LINE_BASE
                            + doc["seq"] * 100_000
                            + index * 1000
                            + line["number"] % 1000,
                            "line": line["number"],
                            "total": line["current_quantity"],
                            "remaining": line["current_quantity"],
                        }
                    )

    # --- fulfillment ------------------------------------------------------------------------------------
    def _fulfil(self, doc: dict, fos: list[dict], chosen, tracking: dict, at: float) -> dict:
        """Fulfil ``chosen`` {fo number: {fo line number: qty}} (None = all remaining) of ``fos``."""
        lines = {line["number"]: line for line in doc["lines"]}
        index = len(doc["fulfillments"]) + 1
        shipped = []
        for fo in fos:
            picks = None if chosen is None else chosen.get(fo["number"])
            for fo_line in fo["lines"]:
                quantity = fo_line["remaining"] if picks is None else picks.get(fo_line["number"], 0)
                if quantity <= 0:
                    continue
                fo_line["remaining"] -= quantity
                lines[fo_line["line"]]["fulfilled"] += quantity
                shipped.append({"line": fo_line["line"], "quantity": quantity})
            fo["updated_at"] = at
            if not any(fo_line["remaining"] for fo_line in fo["lines"]):
                fo["status"] = "CLOSED"
            else:
                # Shopify splits the rest into a new fulfillment order; one open order keeps it simple
                fo["status"] = "OPEN"
        number = FULFILLMENT_BASE + doc["seq"] * 100 + index
        fulfillment = {
            "number": number,
            "name": f"{doc['name']}-F{index}",
            "status": "SUCCESS",
            "created_at": at,
            "company": tracking.get("company"),
            "tracking_number": tracking.get("number"),
            "url": tracking.get("url"),
            "lines": shipped,
            "fulfillment_orders": [fo["number"] for fo in fos],
        }
        doc["fulfillments"].append(fulfillment)
        self._touch(doc, at)
        return fulfillment

    def fulfillment_create(self, shop: dict, data: dict) -> dict:
        groups = data.get("lineItemsByFulfillmentOrder") or []
        if not groups:
            return self._fulfillment_error(
                ["fulfillment", "lineItemsByFulfillmentOrder"],
                "Line items by fulfillment order can't be blank.",
            )
        doc = None
        fos = []
        chosen: dict[int, dict[int, int] | None] = {}
        for position, group in enumerate(groups):
            match = GID_RE.fullmatch(str(group.get("fulfillmentOrderId") or ""))
            number = int(match.group(2)) if match and match.group(1) == "FulfillmentOrder" else None
            order = (
                self._get_order(ORDER_BASE + (number - FO_BASE) // 100)
                if number and number > FO_BASE
                else None
            )
            fo = next((f for f in (order or {}).get("fulfillment_orders", []) if f["number"] == number), None)
            if fo is None or order["shop"] != shop["domain"]:
                return self._fulfillment_error(
                    ["fulfillment", "lineItemsByFulfillmentOrder", str(position), "fulfillmentOrderId"],
                    "Fulfillment order does not exist.",
                )
            if doc is not None and order["number"] != doc["number"]:
                return self._fulfillment_error(
                    ["fulfillment"], "All fulfillment orders must belong to the same order."
                )
            doc = order
            if fo["status"] not in ("OPEN", "IN_PROGRESS"):
                return self._fulfillment_error(
                    ["fulfillment"],
                    f"Fulfillment order {fo['number']} has an unfulfillable status= {fo['status'].lower()}.",
                )
            items = group.get("fulfillmentOrderLineItems")
            if items is None:
                chosen[fo["number"]] = None
            else:
                picks = {}
                known = {fo_line["number"]: fo_line for fo_line in fo["lines"]}
                for item in items:
                    m = GID_RE.fullmatch(str(item.get("id") or ""))
                    line_number = int(m.group(2)) if m and m.group(1) == "FulfillmentOrderLineItem" else None
                    fo_line = known.get(line_number)
                    if fo_line is None:
                        return self._fulfillment_error(
                            ["fulfillment"], f"Fulfillment order line item {item.get('id')} does not exist."
                        )
                    if item["quantity"] <= 0 or item["quantity"] > fo_line["remaining"]:
                        return self._fulfillment_error(
                            ["fulfillment"],
                            "Invalid fulfillment order line item quantity requested.",
                        )
                    picks[line_number] = item["quantity"]
                chosen[fo["number"]] = picks
            fos.append(fo)
        if all(not any(fo_line["remaining"] for fo_line in fo["lines"]) for fo in fos):
            return self._fulfillment_error(
                ["fulfillment"], "Fulfillment order has no remaining line items to fulfill."
            )
        tracking = data.get("trackingInfo") or {}
        tracking = {
            "company": tracking.get("company"),
            "number": tracking.get("number") or next(iter(tracking.get("numbers") or []), None),
            "url": tracking.get("url") or next(iter(tracking.get("urls") or []), None),
        }
        now = max(time.time(), doc["updated_at"])
        fulfillment = self._fulfil(doc, fos, chosen, tracking, now)
        self._put_order(doc)
        fully = all(line["fulfilled"] >= line["current_quantity"] for line in doc["lines"])
        self.queue_order_event(shop, doc, ["update"] + (["fulfilled"] if fully else []))
        return {"fulfillment": self._fulfillment_object(fulfillment), "userErrors": []}

    @staticmethod
    def _fulfillment_error(field, message: str) -> dict:
        return {"fulfillment": None, "userErrors": [{"field": field, "message": message}]}

    @staticmethod
    def _fulfillment_object(f: dict) -> dict:
        return {
            "__typename": "Fulfillment",
            "id": f"gid://shopify/Fulfillment/{f['number']}",
            "legacyResourceId": str(f["number"]),
            "name": f["name"],
            "status": f["status"],
            "createdAt": _iso(f["created_at"]),
            "trackingInfo": lambda _info, first=None: (
                [{"company": f["company"], "number": f["tracking_number"], "url": f["url"]}]
                if f["tracking_number"] or f["company"]
                else []
            ),
        }

    # --- GraphQL objects -------------------------------------------------------------------------------
    @staticmethod
    def display_fulfillment_status(doc: dict) -> str:
        shipped = sum(line["fulfilled"] for line in doc["lines"])
        wanted = sum(line["current_quantity"] for line in doc["lines"])
        if shipped and shipped >= wanted:
            return "FULFILLED"
        if shipped:
            return "PARTIALLY_FULFILLED"
        return "UNFULFILLED"

    def order_object(self, doc: dict) -> dict:
        from ecbridge.sandbox.shopify.admin_graphql import paginate

        lines = {line["number"]: self._line_object(line) for line in doc["lines"]}

        def line_items(_info, **page):
            return paginate(list(lines.values()), lambda item: item["_number"], **page)

        def fulfillment_orders(_info, displayable=False, query=None, **page):
            items = [self._fo_object(doc, fo, lines) for fo in doc["fulfillment_orders"]]
            if displayable:
                items = [i for i in items if i["status"] != "CANCELLED"]
            return paginate(items, lambda item: item["_number"], **page)

        return {
            "__typename": "Order",
            "_number": doc["number"],
            "id": self._gid(doc),
            "legacyResourceId": str(doc["number"]),
            "name": doc["name"],
            "createdAt": _iso(doc["created_at"]),
            "processedAt": _iso(doc["created_at"]),
            "updatedAt": _iso(doc["updated_at"]),
            "cancelledAt": _iso(doc["cancelled_at"]),
            "cancelReason": doc["cancel_reason"],
            "closed": doc["closed_at"] is not None,
            "closedAt": _iso(doc["closed_at"]),
            "displayFinancialStatus": doc["financial_status"],
            "displayFulfillmentStatus": self.display_fulfillment_status(doc),
            "email": doc["email"],
            "phone": doc["phone"],
            "note": doc["note"] or None,
            "paymentGatewayNames": doc.get("gateways", []),
            "shippingAddress": doc["shipping_address"],
            "shippingLine": {"id": None, **doc["shipping_line"]} if doc["shipping_line"] else None,
            "lineItems": line_items,
            "fulfillmentOrders": fulfillment_orders,
            "fulfillments": lambda _info, first=None: [
                self._fulfillment_object(f) for f in doc["fulfillments"][: first or None]
            ],
        }

    @staticmethod
    def _line_object(line: dict) -> dict:
        product = line["product"]
        product_object = (
            None
            if product is None
            else {
                "__typename": "Product",
                "id": f"gid://shopify/Product/{product['number']}",
                "legacyResourceId": str(product["number"]),
                "title": product["title"],
            }
        )
        variant = line["variant"]
        return {
            "__typename": "LineItem",
            "_number": line["number"],
            "id": f"gid://shopify/LineItem/{line['number']}",
            "sku": line["sku"] or None,
            "name": line["name"],
            "title": line["name"],
            "quantity": line["quantity"],
            "currentQuantity": line["current_quantity"],
            "unfulfilledQuantity": max(0, line["current_quantity"] - line["fulfilled"]),
            "product": product_object,
            "variant": None
            if variant is None
            else {
                "__typename": "ProductVariant",
                "id": f"gid://shopify/ProductVariant/{variant['number']}",
                "legacyResourceId": str(variant["number"]),
                "sku": variant["sku"] or None,
                "barcode": variant["barcode"] or None,
                "title": variant["title"],
                "product": product_object,
            },
        }

    def _fo_object(self, doc: dict, fo: dict, lines: dict) -> dict:
        from ecbridge.sandbox.shopify.admin_graphql import paginate

        items = [
            {
                "_number": fo_line["number"],
                "id": f"gid://shopify/FulfillmentOrderLineItem/{fo_line['number']}",
                "sku": lines[fo_line["line"]]["sku"],
                "totalQuantity": fo_line["total"],
                "remainingQuantity": fo_line["remaining"],
                "lineItem": lines[fo_line["line"]],
            }
            for fo_line in fo["lines"]
        ]
        return {
            "__typename": "FulfillmentOrder",
            "_number": fo["number"],
            "id": f"gid://shopify/FulfillmentOrder/{fo['number']}",
            "orderId": self._gid(doc),
            "status": fo["status"],
            "createdAt": _iso(fo["created_at"]),
            "updatedAt": _iso(fo["updated_at"]),
            "assignedLocation": {
                "name": "Warehouse",
                "location": {
                    "__typename": "Location",
                    "id": f"gid://shopify/Location/{LOCATION_ID}",
                    "name": "Warehouse",
                },
            },
            "lineItems": lambda _info, **page: paginate(items, lambda item: item["_number"], **page),
        }

    def order_node(self, shop: dict, gid: str, required_type: str | None = None) -> dict | None:
        match = GID_RE.fullmatch(str(gid))
        if not match:
            raise GraphQLError(
                f"Invalid global id '{gid}'", extensions={"code": "argumentLiteralsIncompatible"}
            )
        kind, number = match.group(1), int(match.group(2))
        if required_type and kind != required_type:
            return None
        if kind == "Order":
            doc = self._get_order(number)
            return self.order_object(doc) if doc and doc["shop"] == shop["domain"] else None
        return None

    def node(self, shop: dict, token: dict, gid: str) -> dict | None:
        match = GID_RE.fullmatch(str(gid))
        if match and match.group(1) == "Order":
            self.require_scope(token, "nodes", "read_orders")
        return self.order_node(shop, gid)

    # --- the orders connection ----------------------------------------------------------------------
    def orders_connection(
        self,
        shop: dict,
        *,
        query=None,
        sort_key="PROCESSED_AT",
        first=None,
        after=None,
        last=None,
        before=None,
        reverse=False,
    ) -> dict:
        from ecbridge.sandbox.shopify.admin_graphql import MAX_PAGE_SIZE

        if first is None and last is None:
            raise GraphQLError("you must provide one of first or last")
        for name, value in (("first", first), ("last", last)):
            if value is not None and not 0 <= value <= MAX_PAGE_SIZE:
                raise GraphQLError(f"The '{name}' argument must be between 0 and {MAX_PAGE_SIZE}")
        terms = parse_search(query)
        field = SORT_FIELDS.get(sort_key, "number")
        if (
            field == "updated_at"
            and first is not None
            and last is None
            and before is None
            and not reverse
            and all(t[0] == "updated_at" for t in terms)
        ):
            docs, has_next = self._updated_page(shop["domain"], terms, first, after)
            has_previous = bool(after)
        else:
            docs, has_next, has_previous = self._generic_page(
                shop["domain"], terms, field, first, after, last, before, reverse
            )
        nodes = [self.order_object(d) for d in docs]
        cursors = [_encode_cursor(d["number"], d[field]) for d in docs]
        return {
            "nodes": nodes,
            "edges": [{"cursor": c, "node": n} for c, n in zip(cursors, nodes, strict=True)],
            "pageInfo": {
                "hasNextPage": has_next,
                "hasPreviousPage": has_previous,
                "startCursor": cursors[0] if cursors else None,
                "endCursor": cursors[-1] if cursors else None,
            },
        }

    def _updated_page(self, domain: str, terms, first: int, after: str | None) -> tuple[list[dict], bool]:
        """Keyset page on the store's (sort = updated_at, key) index: first + 1 rows, never a scan.
        Keys are fixed-width numbers, so text order is numeric order."""
        sql = "SELECT body FROM docs WHERE platform=? AND kind='order' AND shop=?"
        args: list = [self.code, domain]
        for _field, operator, value in terms:
            if operator == "=":
                sql += " AND sort >= ? AND sort < ?"
                args += [int(value), int(value) + 1]
            else:
                sql += f" AND sort {operator} ?"
                args.append(value)
        if after:
            last_id, last_value = _decode_cursor(after)
            sql += " AND (sort > ? OR (sort = ? AND key > ?))"
            args += [last_value, last_value, str(last_id)]
        sql += " ORDER BY sort, key LIMIT ?"
        args.append(first + 1)
        store = self.store
        with store._lock:  # the store has no keyset query; this one reads its table directly
            rows = store._db.execute(sql, args).fetchall()
        docs = [json.loads(r["body"]) for r in rows]
        return docs[:first], len(docs) > first

    def _generic_page(self, domain, terms, field, first, after, last, before, reverse):
        docs = [d for d in self.store.find(self.code, "order", shop=domain) if _matches(d, terms)]
        docs.sort(key=lambda d: (d[field], d["number"]), reverse=bool(reverse))
        keys = [(d["number"], float(d[field])) for d in docs]
        start, end = 0, len(docs)
        if after:
            mark = _decode_cursor(after)
            start = next((i + 1 for i, k in enumerate(keys) if k == mark), start)
        if before:
            mark = _decode_cursor(before)
            end = next((i for i, k in enumerate(keys) if k == mark), end)
        window = docs[start:end]
        has_next = end < len(docs)
        has_previous = start > 0
        if first is not None and len(window) > first:
            window, has_next = window[:first], True
        if last is not None and len(window) > last:
            window, has_previous = window[len(window) - last :], True
        return window, has_next, has_previous

    # --- webhooks ---------------------------------------------------------------------------------
    def rest_order(self, doc: dict) -> dict:
        """The REST-style order JSON of an orders/* webhook body."""
        status = self.display_fulfillment_status(doc)
        return {
            "id": doc["number"],
            "admin_graphql_api_id": self._gid(doc),
            "name": doc["name"],
            "order_number": doc["order_number"],
            "email": doc["email"],
            "phone": doc["phone"],
            "note": doc["note"] or None,
            "payment_gateway_names": doc.get("gateways", []),
            "created_at": _rest_time(doc["created_at"]),
            "updated_at": _rest_time(doc["updated_at"]),
            "processed_at": _rest_time(doc["created_at"]),
            "cancelled_at": _rest_time(doc["cancelled_at"]),
            "cancel_reason": doc["cancel_reason"].lower() if doc["cancel_reason"] else None,
            "closed_at": _rest_time(doc["closed_at"]),
            "financial_status": doc["financial_status"].lower(),
            "fulfillment_status": {"FULFILLED": "fulfilled", "PARTIALLY_FULFILLED": "partial"}.get(status),
            "line_items": [
                {
                    "id": line["number"],
                    "admin_graphql_api_id": f"gid://shopify/LineItem/{line['number']}",
                    "sku": line["sku"] or None,
                    "name": line["name"],
                    "title": line["name"],
                    "quantity": line["quantity"],
                    "current_quantity": line["current_quantity"],
                    "fulfillable_quantity": max(0, line["current_quantity"] - line["fulfilled"]),
                    "variant_id": line["variant"]["number"] if line["variant"] else None,
                    "product_id": line["product"]["number"] if line["product"] else None,
                }
                for line in doc["lines"]
            ],
            "shipping_address": {
                {"provinceCode": "province_code", "countryCodeV2": "country_code"}.get(k, k): v
                for k, v in (doc["shipping_address"] or {}).items()
            },
            "shipping_lines": [
                {
                    "title": doc["shipping_line"]["title"],
                    "code": doc["shipping_line"]["code"],
                    "source": "shopify",
                }
            ],
            "fulfillments": [
                {
                    "id": f["number"],
                    "admin_graphql_api_id": f"gid://shopify/Fulfillment/{f['number']}",
                    "status": f["status"].lower(),
                    "tracking_company": f["company"],
                    "tracking_number": f["tracking_number"],
                    "created_at": _rest_time(f["created_at"]),
                }
                for f in doc["fulfillments"]
            ],
        }

    def _deliver_topic(self, shop: dict, topic: str, payload: dict) -> list[dict]:
        """One delivery per subscription of ``topic`` (enum name), signed with the app secret."""
        body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
        sent = []
        for subscription in self.webhooks(shop["domain"]):
            if subscription["topic"] != topic:
                continue
            headers = {
                "Content-Type": "application/json",
                "X-Shopify-Topic": _topic_path(topic),
                "X-Shopify-Hmac-Sha256": body_hmac(self.client_secret, body),
                "X-Shopify-Shop-Domain": shop["domain"],
                "X-Shopify-Webhook-Id": str(uuid.uuid4()),
                "X-Shopify-Event-Id": str(uuid.uuid4()),
                "X-Shopify-API-Version": subscription["apiVersion"],
                "X-Shopify-Triggered-At": datetime.now(UTC)
                .isoformat(timespec="microseconds")
                .replace("+00:00", "Z"),
            }
            sent.append(
                self.send_webhook(
                    subscription["uri"], headers, body, shop=shop["domain"], topic=_topic_path(topic)
                )
            )
        return sent

    def deliver_order_event(self, shop: dict | None, doc: dict, events: list[str]) -> None:
        if shop is None:
            return
        payload = self.rest_order(doc)
        for event in events:
            topic = ORDER_TOPICS.get(event) or f"ORDERS_{event.upper()}"
            self._deliver_topic(shop, topic, payload)

    def queue_order_event(self, shop: dict, doc: dict, events: list[str]) -> None:
        """Inside an API request: deliver once the request's transaction has committed."""
        pending = g.setdefault("shopify_pending_events", [])
        pending.append((shop, doc, events))

    def flush_order_events(self) -> None:
        for shop, doc, events in g.pop("shopify_pending_events", []):
            self.deliver_order_event(shop, doc, events)

    # --- console state ------------------------------------------------------------------------------
    def _console_order(self, doc: dict) -> dict:
        return {
            "id": self._gid(doc),
            "legacy_id": doc["number"],
            "name": doc["name"],
            "created_at": _iso(doc["created_at"]),
            "updated_at": _iso(doc["updated_at"]),
            "updated_ts": doc["updated_at"],
            "cancelled_at": _iso(doc["cancelled_at"]),
            "financial_status": doc["financial_status"],
            "fulfillment_status": self.display_fulfillment_status(doc),
            "shipping_code": doc["shipping_line"]["code"],
            "lines": [
                {
                    "id": f"gid://shopify/LineItem/{line['number']}",
                    "sku": line["sku"],
                    "name": line["name"],
                    "quantity": line["quantity"],
                    "current_quantity": line["current_quantity"],
                    "fulfilled": line["fulfilled"],
                    "variant_id": f"gid://shopify/ProductVariant/{line['variant']['number']}"
                    if line["variant"]
                    else None,
                }
                for line in doc["lines"]
            ],
            "fulfillment_orders": [
                {
                    "id": f"gid://shopify/FulfillmentOrder/{fo['number']}",
                    "status": fo["status"],
                    "line_items": [
                        {
                            "id": f"gid://shopify/FulfillmentOrderLineItem/{fl['number']}",
                            "line_item_id": f"gid://shopify/LineItem/{fl['line']}",
                            "remaining": fl["remaining"],
                        }
                        for fl in fo["lines"]
                    ],
                }
                for fo in doc["fulfillment_orders"]
            ],
        }

    def orders_state(self, domain: str) -> dict:
        orders = self.store.find(self.code, "order", shop=domain)
        return {
            "orders": [self._console_order(doc) for doc in orders],
            "shipments": [
                {
                    "order_id": self._gid(doc),
                    "order_name": doc["name"],
                    "fulfillment_id": f"gid://shopify/Fulfillment/{f['number']}",
                    "status": f["status"],
                    "tracking_company": f["company"],
                    "tracking_number": f["tracking_number"],
                    "tracking_url": f["url"],
                    "created_at": _iso(f["created_at"]),
                    "lines": [
                        {"line_item_id": f"gid://shopify/LineItem/{s['line']}", "quantity": s["quantity"]}
                        for s in f["lines"]
                    ],
                }
                for doc in orders
                for f in doc["fulfillments"]
            ],
            "products": [
                {
                    "id": f"gid://shopify/Product/{p['number']}",
                    "title": p["title"],
                    "variants": [
                        {
                            "id": f"gid://shopify/ProductVariant/{v['number']}",
                            "sku": v["sku"],
                            "barcode": v["barcode"],
                            "stock": v["stock"],
                        }
                        for v in p["variants"]
                    ],
                }
                for p in self.store.find(self.code, "product", shop=domain)
            ],
        }
