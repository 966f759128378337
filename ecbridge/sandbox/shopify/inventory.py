"""Products, variants, locations and inventory of the fake Shopify (reference/platforms-global.md
§2.6-2.7). Mixed into ShopifySandbox before OrdersMixin (it extends the console's products and
orders with stock).

Decisions (the brief leaves them open; all sandbox-only, see docs/stock-shopify.md):
- One location per shop ("Warehouse", the id fulfillment orders already use). A variant is stocked
  there unless created with ``stocked: false`` (then it has no inventory level, and writes to it
  are refused with ITEM_NOT_STOCKED_AT_LOCATION, as on Shopify).
- A variant's ``stock`` is its ``available`` quantity; ``on_hand`` shows the same number
  (committed/reserved stock is not simulated), other quantity names are 0.
- Writes are all-or-nothing: a mutation with any userError applies nothing (the safe reading;
  UNCONFIRMED whether Shopify applies the other changes). A SKU locked on the console answers
  NON_MUTABLE_INVENTORY_ITEM with the lock's reason for each of its changes.
- ``@idempotent(key:)`` is mandatory from API version 2026-04 (a top-level error without it,
  shape UNCONFIRMED). Every finished attempt is remembered per shop and key (forever, until
  reset): the same key with the same input answers the original result and applies nothing;
  with other input IDEMPOTENCY_KEY_PARAMETER_MISMATCH; from 2026-10 a remembered *failed*
  attempt answers IDEMPOTENCY_PREVIOUS_ATTEMPT_FAILED (that enum value appears in 2026-10).
- ``inventorySetQuantities`` from 2026-04 needs ``changeFromQuantity`` on every quantity (null
  skips the check; a missing one is COMPARE_QUANTITY_REQUIRED here, UNCONFIRMED), before that
  ``compareQuantity`` unless ``ignoreCompareQuantity: true``. A duplicate item/location pair is
  NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR. Adjust changes on one item apply in order.
- Placing an order lowers ``available`` by the ordered quantity, never below 0 and never refusing
  the order (ledger source "order"); cancelling or editing does not restock.
- Product/variant search (``query``) understands ``sku:``, ``barcode:``, ``product_id:``, ``id:``
  and ``updated_at:`` (with >, >=, <, <=) joined by AND/spaces; anything else is an error."""

from __future__ import annotations

import hashlib
import json
import re
import time
from datetime import UTC, datetime

from graphql import GraphQLError, value_from_ast_untyped

from ecbridge.sandbox.base import ConsoleError

PRODUCT_BASE = 7_000_000_000_000  # as in orders.py
VARIANT_BASE = 43_000_000_000_000
INVENTORY_ITEM_BASE = 45_000_000_000_000  # item = base + (variant - VARIANT_BASE): one per variant
LOCATION_ID = 61_000_000_001  # the location orders.py assigns fulfillment orders to
LOCATION_NAME = "Warehouse"
MAX_INPUT = 250
MAX_QUANTITY = 1_000_000_000
GID_RE = re.compile(r"gid://shopify/([A-Za-z]+)/(\d+)")
QUANTITY_NAMES = (
    "available",
    "on_hand",
    "committed",
    "incoming",
    "reserved",
    "damaged",
    "safety_stock",
    "quality_control",
)
WRITABLE_NAMES = ("available", "on_hand")
REASONS = {
    "correction",
    "cycle_count_available",
    "damaged",
    "movement_created",
    "movement_updated",
    "movement_received",
    "movement_canceled",
    "other",
    "promotion",
    "quality_control",
    "received",
    "reservation_created",
    "reservation_deleted",
    "reservation_updated",
    "restock",
    "safety_stock",
    "shrinkage",
}
PRODUCT_STATUSES = ("ACTIVE", "ARCHIVED", "DRAFT", "UNLISTED")
VARIANT_SEARCH_RE = re.compile(r"""([a-z_]+):(>=|<=|>|<)?('[^']*'|"[^"]*"|[^\s'"]+)""")

_IDEMPOTENCY_CODES = """
  IDEMPOTENCY_CONCURRENT_REQUEST IDEMPOTENCY_KEY_PARAMETER_MISMATCH IDEMPOTENCY_PREVIOUS_ATTEMPT_FAILED
"""
INVENTORY_SDL = f"""
directive @idempotent(key: String!) on FIELD

enum ProductStatus {{ {" ".join(PRODUCT_STATUSES)} }}
enum ProductVariantSortKeys {{ ID SKU TITLE INVENTORY_QUANTITY NAME POSITION RELEVANCE }}

extend type Product {{ status: ProductStatus! createdAt: DateTime! updatedAt: DateTime! }}
extend type ProductVariant {{
  createdAt: DateTime! updatedAt: DateTime! displayName: String!
  inventoryItem: InventoryItem! inventoryQuantity: Int
}}
extend type Location {{ legacyResourceId: UnsignedInt64! isActive: Boolean! }}

type ProductVariantEdge {{ cursor: String! node: ProductVariant! }}
type ProductVariantConnection {{
  edges: [ProductVariantEdge!]! nodes: [ProductVariant!]! pageInfo: PageInfo!
}}
type LocationEdge {{ cursor: String! node: Location! }}
type LocationConnection {{ edges: [LocationEdge!]! nodes: [Location!]! pageInfo: PageInfo! }}

type InventoryQuantity implements Node {{ id: ID! name: String! quantity: Int! updatedAt: DateTime }}
type InventoryLevel implements Node {{
  id: ID! createdAt: DateTime! updatedAt: DateTime! canDeactivate: Boolean!
  location: Location! item: InventoryItem!
  quantities(names: [String!]!): [InventoryQuantity!]!
}}
type InventoryLevelEdge {{ cursor: String! node: InventoryLevel! }}
type InventoryLevelConnection {{
  edges: [InventoryLevelEdge!]! nodes: [InventoryLevel!]! pageInfo: PageInfo!
}}
type InventoryItem implements Node {{
  id: ID! legacyResourceId: UnsignedInt64! sku: String tracked: Boolean!
  createdAt: DateTime! updatedAt: DateTime! variant: ProductVariant!
  inventoryLevels(first: Int, after: String, last: Int, before: String, reverse: Boolean = false,
    query: String): InventoryLevelConnection!
  inventoryLevel(locationId: ID!): InventoryLevel
}}

extend type QueryRoot {{
  productVariants(first: Int, after: String, last: Int, before: String, reverse: Boolean = false,
    sortKey: ProductVariantSortKeys = ID, query: String): ProductVariantConnection!
  productVariant(id: ID!): ProductVariant
  product(id: ID!): Product
  locations(first: Int, after: String, last: Int, before: String, reverse: Boolean = false,
    query: String, includeInactive: Boolean = false, includeLegacy: Boolean = false
  ): LocationConnection!
  location(id: ID): Location
  inventoryItem(id: ID!): InventoryItem
}}

input InventoryChangeInput {{
  delta: Int! inventoryItemId: ID! locationId: ID! ledgerDocumentUri: String
}}
input InventoryAdjustQuantitiesInput {{
  reason: String! name: String! referenceDocumentUri: String changes: [InventoryChangeInput!]!
}}
input InventoryQuantityInput {{
  inventoryItemId: ID! locationId: ID! quantity: Int! compareQuantity: Int changeFromQuantity: Int
}}
input InventorySetQuantitiesInput {{
  reason: String! name: String! referenceDocumentUri: String ignoreCompareQuantity: Boolean = false
  quantities: [InventoryQuantityInput!]!
}}

type InventoryChange {{
  name: String! delta: Int! quantityAfterChange: Int ledgerDocumentUri: String
  item: InventoryItem location: Location
}}
type InventoryAdjustmentGroup {{
  id: ID! createdAt: DateTime! reason: String! referenceDocumentUri: String
  changes(inventoryItemIds: [ID!], locationIds: [ID!], quantityNames: [String!]): [InventoryChange!]!
}}
enum InventoryAdjustQuantitiesUserErrorCode {{
  INTERNAL_LEDGER_DOCUMENT INVALID_AVAILABLE_DOCUMENT INVALID_INVENTORY_ITEM INVALID_LEDGER_DOCUMENT
  INVALID_LOCATION INVALID_QUANTITY_DOCUMENT INVALID_QUANTITY_NAME INVALID_QUANTITY_TOO_HIGH
  INVALID_QUANTITY_TOO_LOW INVALID_REASON INVALID_REFERENCE_DOCUMENT ITEM_NOT_STOCKED_AT_LOCATION
  MAX_ONE_LEDGER_DOCUMENT NON_MUTABLE_INVENTORY_ITEM {_IDEMPOTENCY_CODES}
}}
type InventoryAdjustQuantitiesUserError {{
  code: InventoryAdjustQuantitiesUserErrorCode field: [String!] message: String!
}}
type InventoryAdjustQuantitiesPayload {{
  inventoryAdjustmentGroup: InventoryAdjustmentGroup userErrors: [InventoryAdjustQuantitiesUserError!]!
}}
enum InventorySetQuantitiesUserErrorCode {{
  CHANGE_FROM_QUANTITY_STALE COMPARE_QUANTITY_REQUIRED COMPARE_QUANTITY_STALE INVALID_INVENTORY_ITEM
  INVALID_LOCATION INVALID_NAME INVALID_QUANTITY_NEGATIVE INVALID_QUANTITY_TOO_HIGH
  INVALID_QUANTITY_TOO_LOW INVALID_REASON INVALID_REFERENCE_DOCUMENT ITEM_NOT_STOCKED_AT_LOCATION
  NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR NON_MUTABLE_INVENTORY_ITEM {_IDEMPOTENCY_CODES}
}}
type InventorySetQuantitiesUserError {{
  code: InventorySetQuantitiesUserErrorCode field: [String!] message: String!
}}
type InventorySetQuantitiesPayload {{
  inventoryAdjustmentGroup: InventoryAdjustmentGroup userErrors: [InventorySetQuantitiesUserError!]!
}}

extend type Mutation {{
  inventoryAdjustQuantities(input: InventoryAdjustQuantitiesInput!): InventoryAdjustQuantitiesPayload
  inventorySetQuantities(input: InventorySetQuantitiesInput!): InventorySetQuantitiesPayload
}}
"""


def _iso(ts: float | None) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_time(text: str) -> float:
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def version_at_least(version: str, wanted: str) -> bool:
    """API versions are YYYY-MM; "unstable" is newer than any."""
    return version == "unstable" or version >= wanted


def idempotency_key(info) -> str | None:
    """The ``key`` of the field's ``@idempotent`` directive (literal or variable), if any."""
    for node in info.field_nodes:
        for directive in node.directives or ():
            if directive.name.value != "idempotent":
                continue
            for argument in directive.arguments or ():
                if argument.name.value == "key":
                    variables = getattr(info.variable_values, "coerced", info.variable_values)
                    value = value_from_ast_untyped(argument.value, variables)
                    return value if isinstance(value, str) else None
    return None


def parse_variant_search(query: str | None) -> list[tuple[str, str, str]]:
    terms = []
    text = (query or "").strip()
    position = 0
    while position < len(text):
        if text[position].isspace():
            position += 1
            continue
        if text.startswith("AND", position) and (position + 3 == len(text) or text[position + 3].isspace()):
            position += 3
            continue
        match = VARIANT_SEARCH_RE.match(text, position)
        if not match:
            raise GraphQLError(f"Unsupported search syntax near: {text[position : position + 30]!r}")
        name, operator, raw = match.groups()
        if name not in ("sku", "barcode", "product_id", "id", "updated_at"):
            raise GraphQLError(f"Invalid search field for this query: {name}")
        if operator and name != "updated_at":
            raise GraphQLError(f"Range search is not supported on {name}")
        terms.append((name, operator or "=", raw.strip("'\"")))
        position = match.end()
    return terms


class InventoryMixin:
    """Needs ``self.store``, ``self.code``, ``self._shop``, ``self.require_scope`` and the base's
    ``record_stock_change``; extends OrdersMixin's console products and orders."""

    # --- storage ---------------------------------------------------------------------------------------
    def _product_doc(self, number: int) -> dict | None:
        return self.store.get(self.code, "product", number)

    def _save_product(self, doc: dict) -> None:
        self.store.put(self.code, "product", doc["number"], doc, shop=doc["shop"], sort=doc["number"])

    @staticmethod
    def _item_number(variant: dict) -> int:
        return INVENTORY_ITEM_BASE + (variant["number"] - VARIANT_BASE)

    def _by_variant_number(self, domain: str, number: int) -> tuple[dict, dict] | tuple[None, None]:
        product = self._product_doc(PRODUCT_BASE + (number - VARIANT_BASE) // 100)
        if product is None or product["shop"] != domain:
            return None, None
        variant = next((v for v in product["variants"] if v["number"] == number), None)
        return (product, variant) if variant else (None, None)

    def _by_gid(self, domain: str, gid, kind: str) -> tuple[dict, dict] | tuple[None, None]:
        """(product, variant) for a ProductVariant or InventoryItem gid of this shop."""
        match = GID_RE.fullmatch(str(gid or ""))
        if not match or match.group(1) != kind:
            return None, None
        number = int(match.group(2))
        if kind == "InventoryItem":
            number = number - INVENTORY_ITEM_BASE + VARIANT_BASE
        return self._by_variant_number(domain, number)

    def _lock_reason(self, domain: str, sku: str) -> str:
        if not sku:
            return ""
        lock = self.store.get(self.code, "stock_lock", f"{domain}|{sku}")
        return lock["reason"] if lock else ""

    @staticmethod
    def _stocked(variant: dict) -> bool:
        return variant.get("stocked", True)

    # --- GraphQL objects -------------------------------------------------------------------------------
    @staticmethod
    def location_object(shop: dict | None = None) -> dict:
        return {
            "__typename": "Location",
            "_number": LOCATION_ID,
            "id": f"gid://shopify/Location/{LOCATION_ID}",
            "legacyResourceId": str(LOCATION_ID),
            "name": LOCATION_NAME,
            "isActive": True,
        }

    @staticmethod
    def product_object(product: dict) -> dict:
        created = product.get("created_at") or 0
        return {
            "__typename": "Product",
            "id": f"gid://shopify/Product/{product['number']}",
            "legacyResourceId": str(product["number"]),
            "title": product["title"],
            "status": product.get("status", "ACTIVE"),
            "createdAt": _iso(created),
            "updatedAt": _iso(product.get("updated_at") or created),
        }

    def variant_object(self, product: dict, variant: dict) -> dict:
        title = variant["title"]
        return {
            "__typename": "ProductVariant",
            "_number": variant["number"],
            "id": f"gid://shopify/ProductVariant/{variant['number']}",
            "legacyResourceId": str(variant["number"]),
            "sku": variant["sku"] or None,
            "barcode": variant["barcode"] or None,
            "title": title,
            "displayName": product["title"] if title == "Default Title" else f"{product['title']} - {title}",
            "createdAt": _iso(variant.get("created_at") or 0),
            "updatedAt": _iso(variant.get("updated_at") or variant.get("created_at") or 0),
            "product": self.product_object(product),
            "inventoryItem": lambda _info: self.item_object(product, variant),
            "inventoryQuantity": variant["stock"] if self._stocked(variant) else 0,
        }

    def item_object(self, product: dict, variant: dict) -> dict:
        from ecbridge.sandbox.shopify.admin_graphql import paginate

        number = self._item_number(variant)

        def levels(_info, query=None, **page):
            items = [self.level_object(product, variant)] if self._stocked(variant) else []
            return paginate(items, lambda level: level["_number"], **page)

        def level(_info, locationId):  # noqa: N803
            if not self._stocked(variant) or locationId != f"gid://shopify/Location/{LOCATION_ID}":
                return None
            return self.level_object(product, variant)

        return {
            "__typename": "InventoryItem",
            "id": f"gid://shopify/InventoryItem/{number}",
            "legacyResourceId": str(number),
            "sku": variant["sku"] or None,
            "tracked": variant.get("tracked", True),
            "createdAt": _iso(variant.get("created_at") or 0),
            "updatedAt": _iso(variant.get("updated_at") or variant.get("created_at") or 0),
            "variant": lambda _info: self.variant_object(product, variant),
            "inventoryLevels": levels,
            "inventoryLevel": level,
        }

    def level_object(self, product: dict, variant: dict) -> dict:
        item = self._item_number(variant)
        stamp = _iso(variant.get("stock_at") or variant.get("created_at") or 0)

        def quantities(_info, names):
            unknown = [n for n in names if n not in QUANTITY_NAMES]
            if unknown:
                raise GraphQLError(
                    f"Invalid quantity names: {', '.join(unknown)}", extensions={"code": "BAD_REQUEST"}
                )
            values = {"available": variant["stock"], "on_hand": variant["stock"]}
            return [
                {
                    "__typename": "InventoryQuantity",
                    "id": f"gid://shopify/InventoryQuantity/{item}?location_id={LOCATION_ID}&name={n}",
                    "name": n,
                    "quantity": values.get(n, 0),
                    "updatedAt": stamp,
                }
                for n in names
            ]

        return {
            "__typename": "InventoryLevel",
            "_number": LOCATION_ID,
            "id": f"gid://shopify/InventoryLevel/{LOCATION_ID}?inventory_item_id={item}",
            "createdAt": _iso(variant.get("created_at") or 0),
            "updatedAt": stamp,
            "canDeactivate": True,
            "location": self.location_object(),
            "item": lambda _info: self.item_object(product, variant),
            "quantities": quantities,
        }

    # --- queries -----------------------------------------------------------------------------------------
    def _shop_variants(self, domain: str) -> list[tuple[dict, dict]]:
        return [(p, v) for p in self.store.find(self.code, "product", shop=domain) for v in p["variants"]]

    def product_variants_connection(self, shop: dict, *, query=None, sortKey="ID", **page) -> dict:  # noqa: N803
        from ecbridge.sandbox.shopify.admin_graphql import paginate

        terms = parse_variant_search(query)
        rows = []
        for product, variant in self._shop_variants(shop["domain"]):
            if self._variant_matches(product, variant, terms):
                rows.append({"_number": variant["number"], "_pair": (product, variant)})
        if sortKey not in ("ID", "RELEVANCE", "POSITION"):
            raise GraphQLError(f"Sorting by {sortKey} is not simulated")
        connection = paginate(rows, lambda row: row["_number"], **page)
        nodes = [self.variant_object(*row["_pair"]) for row in connection["nodes"]]
        connection["nodes"] = nodes
        connection["edges"] = [
            {"cursor": e["cursor"], "node": n} for e, n in zip(connection["edges"], nodes, strict=True)
        ]
        return connection

    @staticmethod
    def _variant_matches(product: dict, variant: dict, terms) -> bool:
        for name, operator, value in terms:
            if name == "sku" and (variant["sku"] or "").lower() != value.lower():
                return False
            if name == "barcode" and (variant["barcode"] or "") != value:
                return False
            if name == "product_id" and str(product["number"]) != value.rsplit("/", 1)[-1]:
                return False
            if name == "id" and str(variant["number"]) != value.rsplit("/", 1)[-1]:
                return False
            if name == "updated_at":
                try:
                    bound = _parse_time(value)
                except ValueError:
                    raise GraphQLError(f"Invalid date in search: {value}") from None
                actual = variant.get("updated_at") or variant.get("created_at") or 0
                ok = {
                    ">": actual > bound,
                    ">=": actual >= bound,
                    "<": actual < bound,
                    "<=": actual <= bound,
                    "=": int(actual) == int(bound),
                }[operator]
                if not ok:
                    return False
        return True

    def locations_connection(
        self, shop: dict, *, query=None, includeInactive=False, includeLegacy=False, **page
    ):  # noqa: N803, E501
        from ecbridge.sandbox.shopify.admin_graphql import paginate

        return paginate([self.location_object(shop)], lambda loc: loc["_number"], **page)

    def inventory_node(self, shop: dict, token: dict, gid: str) -> dict | None:
        """Products, variants, inventory items and locations by gid (None: not this shop's)."""
        match = GID_RE.fullmatch(str(gid))
        kind = match.group(1) if match else ""
        if kind == "Location":
            self.require_scope(token, "nodes", "read_locations", "read_inventory")
            return self.location_object(shop) if int(match.group(2)) == LOCATION_ID else None
        if kind == "Product":
            self.require_scope(token, "nodes", "read_products")
            product = self._product_doc(int(match.group(2)))
            return self.product_object(product) if product and product["shop"] == shop["domain"] else None
        if kind in ("ProductVariant", "InventoryItem"):
            self.require_scope(
                token, "nodes", "read_products" if kind == "ProductVariant" else "read_inventory"
            )
            product, variant = self._by_gid(shop["domain"], gid, kind)
            if variant is None:
                return None
            if kind == "ProductVariant":
                return self.variant_object(product, variant)
            return self.item_object(product, variant)
        return None

    def node(self, shop: dict, token: dict, gid: str) -> dict | None:
        match = GID_RE.fullmatch(str(gid))
        if match and match.group(1) in ("Location", "Product", "ProductVariant", "InventoryItem"):
            return self.inventory_node(shop, token, gid)
        return super().node(shop, token, gid)

    # --- mutations ---------------------------------------------------------------------------------------
    def _require_key(self, version: str, key: str | None, mutation: str) -> None:
        if key is None and version_at_least(version, "2026-04"):
            raise GraphQLError(
                f"The @idempotent directive with a key is required for {mutation} in this API version.",
                extensions={"code": "BAD_REQUEST"},
            )
        if key is not None and not 0 < len(key) <= 255:
            raise GraphQLError(
                "The idempotency key must be 1 to 255 characters.", extensions={"code": "BAD_REQUEST"}
            )

    def _replay(self, shop: dict, version: str, key: str | None, mutation: str, data: dict) -> dict | None:
        """The remembered answer for ``key``, or None to run the mutation."""
        if key is None:
            return None
        record = self.store.get(self.code, "idempotency", f"{shop['domain']}|{key}")
        if record is None:
            return None
        fingerprint = hashlib.sha256(json.dumps([mutation, data], sort_keys=True).encode()).hexdigest()
        if record["fingerprint"] != fingerprint:
            return self._payload(
                None,
                [
                    {
                        "code": "IDEMPOTENCY_KEY_PARAMETER_MISMATCH",
                        "field": None,
                        "message": "The same idempotency key cannot be used with different "
                        "operation parameters.",
                    }
                ],
            )
        if record["group"] is None and version_at_least(version, "2026-10"):
            return self._payload(
                None,
                [
                    {
                        "code": "IDEMPOTENCY_PREVIOUS_ATTEMPT_FAILED",
                        "field": None,
                        "message": "A previous request with this idempotency key failed. "
                        "Retry with a new idempotency key.",
                    }
                ],
            )
        return self._payload(record["group"], record["userErrors"])

    def _remember(self, shop: dict, key: str | None, mutation: str, data: dict, group, errors) -> None:
        if key is None:
            return
        fingerprint = hashlib.sha256(json.dumps([mutation, data], sort_keys=True).encode()).hexdigest()
        record = {
            "shop": shop["domain"],
            "key": key,
            "mutation": mutation,
            "fingerprint": fingerprint,
            "group": group,
            "userErrors": errors,
            "at": time.time(),
        }
        self.store.put(self.code, "idempotency", f"{shop['domain']}|{key}", record, shop=shop["domain"])

    def _payload(self, group: dict | None, errors: list[dict]) -> dict:
        if group is None:
            return {"inventoryAdjustmentGroup": None, "userErrors": errors}
        changes = group["changes"]

        def changes_field(_info, inventoryItemIds=None, locationIds=None, quantityNames=None):  # noqa: N803
            result = []
            for change in changes:
                item_gid = f"gid://shopify/InventoryItem/{change['item']}"
                if inventoryItemIds is not None and item_gid not in inventoryItemIds:
                    continue
                if locationIds is not None and f"gid://shopify/Location/{LOCATION_ID}" not in locationIds:
                    continue
                if quantityNames is not None and change["name"] not in quantityNames:
                    continue
                result.append(self._change_object(group["shop"], change))
            return result

        return {
            "inventoryAdjustmentGroup": {
                "id": f"gid://shopify/InventoryAdjustmentGroup/{group['number']}",
                "createdAt": _iso(group["at"]),
                "reason": group["reason"],
                "referenceDocumentUri": group["reference"],
                "changes": changes_field,
            },
            "userErrors": errors,
        }

    def _change_object(self, domain: str, change: dict) -> dict:
        def item(_info):
            product, variant = self._by_gid(
                domain, f"gid://shopify/InventoryItem/{change['item']}", "InventoryItem"
            )
            return self.item_object(product, variant) if variant else None

        return {
            "name": change["name"],
            "delta": change["delta"],
            "quantityAfterChange": change["after"],
            "ledgerDocumentUri": change.get("ledger"),
            "item": item,
            "location": self.location_object(),
        }

    def _check_target(self, domain: str, index: int, field: str, item_gid, location_gid, codes: dict):
        """(product, variant) or a userError for one change/quantity."""
        path = ["input", field, str(index)]
        product, variant = self._by_gid(domain, item_gid, "InventoryItem")
        if variant is None:
            return None, {
                "code": codes["item"],
                "field": path + ["inventoryItemId"],
                "message": "The specified inventory item could not be found.",
            }
        if location_gid != f"gid://shopify/Location/{LOCATION_ID}":
            return None, {
                "code": "INVALID_LOCATION",
                "field": path + ["locationId"],
                "message": "The specified location could not be found.",
            }
        if not self._stocked(variant):
            return None, {
                "code": "ITEM_NOT_STOCKED_AT_LOCATION",
                "field": path + ["locationId"],
                "message": "The specified inventory item is not stocked at the location.",
            }
        reason = self._lock_reason(domain, variant["sku"])
        if reason:
            return None, {
                "code": "NON_MUTABLE_INVENTORY_ITEM",
                "field": path + ["inventoryItemId"],
                "message": reason,
            }
        return (product, variant), None

    def _apply(self, shop: dict, mutation: str, data: dict, key, reason: str, name: str, plan) -> dict:
        """Apply ``plan`` [(index, product, variant, new quantity)] and record the group."""
        now = time.time()
        products: dict[int, dict] = {}
        changes = []
        for _index, product, variant, after in plan:
            product = products.setdefault(product["number"], product)
            variant = next(v for v in product["variants"] if v["number"] == variant["number"])
            before = variant["stock"]
            variant["stock"] = after
            variant["stock_at"] = now
            self.record_stock_change(
                shop=shop["domain"],
                sku=variant["sku"],
                item_id=f"gid://shopify/Product/{product['number']}",
                variant_id=f"gid://shopify/ProductVariant/{variant['number']}",
                before=before,
                after=after,
                source=mutation,
                detail=f"reason={reason}" + (f" key={key}" if key else ""),
            )
            item = self._item_number(variant)
            for quantity_name in (name, *(n for n in WRITABLE_NAMES if n != name)):
                changes.append({"name": quantity_name, "delta": after - before, "after": after, "item": item})
        for product in products.values():
            self._save_product(product)
        group = {
            "number": self.store.next_id(f"{self.code}:adjustment_group", start=90_000_000_001),
            "shop": shop["domain"],
            "at": now,
            "reason": reason,
            "reference": data.get("referenceDocumentUri"),
            "changes": changes,
        }
        return group

    def _common_errors(self, data: dict, items: list, name_code: str) -> list[dict]:
        errors = []
        if data.get("reason") not in REASONS:
            errors.append(
                {
                    "code": "INVALID_REASON",
                    "field": ["input", "reason"],
                    "message": "The specified reason is invalid.",
                }
            )
        if data.get("name") not in WRITABLE_NAMES:
            errors.append(
                {
                    "code": name_code,
                    "field": ["input", "name"],
                    "message": "The quantity name must be either 'available' or 'on_hand'.",
                }
            )
        if len(items) > MAX_INPUT:
            raise GraphQLError(
                f"The input array size of {len(items)} is greater than the maximum allowed of {MAX_INPUT}.",
                extensions={"code": "MAX_INPUT_SIZE_EXCEEDED"},
            )
        return errors

    def inventory_adjust_quantities(self, shop: dict, token: dict, version: str, data: dict, key) -> dict:
        self.require_scope(token, "inventoryAdjustQuantities", "write_inventory")
        mutation = "inventoryAdjustQuantities"
        self._require_key(version, key, mutation)
        changes = data.get("changes") or []
        errors = self._common_errors(data, changes, "INVALID_QUANTITY_NAME")
        replay = self._replay(shop, version, key, mutation, data)
        if replay is not None:
            return replay
        plan = []
        running: dict[int, int] = {}  # variant number → quantity after the earlier changes
        for index, change in enumerate(changes):
            ledger = change.get("ledgerDocumentUri")
            path = ["input", "changes", str(index)]
            if data.get("name") == "available" and ledger:
                errors.append(
                    {
                        "code": "INVALID_AVAILABLE_DOCUMENT",
                        "field": path + ["ledgerDocumentUri"],
                        "message": "A ledger document URI is not allowed when adjusting available.",
                    }
                )
                continue
            if data.get("name") == "on_hand" and not ledger:
                errors.append(
                    {
                        "code": "INVALID_QUANTITY_DOCUMENT",
                        "field": path + ["ledgerDocumentUri"],
                        "message": "A ledger document URI is required for this quantity name.",
                    }
                )
                continue
            target, error = self._check_target(
                shop["domain"],
                index,
                "changes",
                change.get("inventoryItemId"),
                change.get("locationId"),
                {"item": "INVALID_INVENTORY_ITEM"},
            )
            if error:
                errors.append(error)
                continue
            product, variant = target
            after = running.get(variant["number"], variant["stock"]) + int(change["delta"])
            if after > MAX_QUANTITY:
                errors.append(
                    {
                        "code": "INVALID_QUANTITY_TOO_HIGH",
                        "field": path + ["delta"],
                        "message": "The quantity can't be higher than 1,000,000,000.",
                    }
                )
                continue
            if after < -MAX_QUANTITY:
                errors.append(
                    {
                        "code": "INVALID_QUANTITY_TOO_LOW",
                        "field": path + ["delta"],
                        "message": "The quantity can't be lower than -1,000,000,000.",
                    }
                )
                continue
            running[variant["number"]] = after
            plan.append((index, product, variant, after))
        return self._finish(shop, key, mutation, data, errors, plan)

    def _finish(self, shop, key, mutation, data, errors, plan) -> dict:
        if errors:  # all-or-nothing: nothing is applied
            self._remember(shop, key, mutation, data, None, errors)
            return self._payload(None, errors)
        group = self._apply(shop, mutation, data, key, data["reason"], data["name"], plan)
        self._remember(shop, key, mutation, data, group, [])
        return self._payload(group, [])

    def inventory_set_quantities(self, shop: dict, token: dict, version: str, data: dict, key) -> dict:
        self.require_scope(token, "inventorySetQuantities", "write_inventory")
        mutation = "inventorySetQuantities"
        self._require_key(version, key, mutation)
        quantities = data.get("quantities") or []
        errors = self._common_errors(data, quantities, "INVALID_NAME")
        replay = self._replay(shop, version, key, mutation, data)
        if replay is not None:
            return replay
        new_rules = version_at_least(version, "2026-04")
        plan = []
        seen = set()
        for index, entry in enumerate(quantities):
            path = ["input", "quantities", str(index)]
            target, error = self._check_target(
                shop["domain"],
                index,
                "quantities",
                entry.get("inventoryItemId"),
                entry.get("locationId"),
                {"item": "INVALID_INVENTORY_ITEM"},
            )
            if error:
                errors.append(error)
                continue
            product, variant = target
            pair = (entry.get("inventoryItemId"), entry.get("locationId"))
            if pair in seen:
                errors.append(
                    {
                        "code": "NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR",
                        "field": path,
                        "message": "The combination of inventoryItemId and locationId must be unique.",
                    }
                )
                continue
            seen.add(pair)
            quantity = int(entry["quantity"])
            current = variant["stock"]
            if new_rules:
                if "changeFromQuantity" not in entry:
                    errors.append(
                        {
                            "code": "COMPARE_QUANTITY_REQUIRED",
                            "field": path + ["changeFromQuantity"],
                            "message": "changeFromQuantity must be given for each quantity "
                            "(null skips the check).",
                        }
                    )
                    continue
                if entry["changeFromQuantity"] is not None and entry["changeFromQuantity"] != current:
                    errors.append(
                        {
                            "code": "CHANGE_FROM_QUANTITY_STALE",
                            "field": path + ["changeFromQuantity"],
                            "message": "The changeFromQuantity value does not match persisted value.",
                        }
                    )
                    continue
            elif not data.get("ignoreCompareQuantity"):
                compare = entry.get("compareQuantity", entry.get("changeFromQuantity"))
                if compare is None:
                    errors.append(
                        {
                            "code": "COMPARE_QUANTITY_REQUIRED",
                            "field": path + ["compareQuantity"],
                            "message": "The compareQuantity argument must be given to each quantity or "
                            "ignored using ignoreCompareQuantity.",
                        }
                    )
                    continue
                if compare != current:
                    errors.append(
                        {
                            "code": "COMPARE_QUANTITY_STALE",
                            "field": path + ["compareQuantity"],
                            "message": "The compareQuantity value does not match persisted value.",
                        }
                    )
                    continue
            if quantity < 0:
                errors.append(
                    {
                        "code": "INVALID_QUANTITY_NEGATIVE",
                        "field": path + ["quantity"],
                        "message": "The quantity can't be negative.",
                    }
                )
                continue
            if quantity > MAX_QUANTITY:
                errors.append(
                    {
                        "code": "INVALID_QUANTITY_TOO_HIGH",
                        "field": path + ["quantity"],
                        "message": "The total quantity can't be higher than 1,000,000,000.",
                    }
                )
                continue
            plan.append((index, product, variant, quantity))
        return self._finish(shop, key, mutation, data, errors, plan)

    # --- console -----------------------------------------------------------------------------------------
    def create_product(self, body: dict) -> dict:
        """OrdersMixin's product plus status, timestamps, ``stocked``/``tracked`` per variant,
        and the initial stock in the ledger (source "console")."""
        body = dict(body)
        variants_in = body.get("variants")
        if isinstance(variants_in, list):
            body["variants"] = [
                {**v, "title": v.get("title") or v.get("name")} if isinstance(v, dict) else v
                for v in variants_in
            ]
        status = str(body.get("status") or "ACTIVE").upper()
        if status not in PRODUCT_STATUSES:
            raise ConsoleError(f"status must be one of {', '.join(PRODUCT_STATUSES)}")
        specs = body.get("variants") or [body]
        with self.store.tx():
            created = super().create_product(body)
            number = created["legacy_id"]
            doc = self._product_doc(number)
            now = time.time()
            doc.update(status=status, created_at=now, updated_at=now)
            for variant, spec in zip(doc["variants"], specs, strict=False):
                variant.update(
                    created_at=now,
                    updated_at=now,
                    stock_at=now,
                    stocked=bool(spec.get("stocked", True)) if isinstance(spec, dict) else True,
                    tracked=bool(spec.get("tracked", True)) if isinstance(spec, dict) else True,
                )
                if not variant["stocked"]:
                    variant["stock"] = 0
                elif variant["stock"]:
                    self.record_stock_change(
                        shop=doc["shop"],
                        sku=variant["sku"],
                        item_id=f"gid://shopify/Product/{number}",
                        variant_id=f"gid://shopify/ProductVariant/{variant['number']}",
                        before=0,
                        after=variant["stock"],
                        source="console",
                        detail="initial stock",
                    )
            self._save_product(doc)
        for variant, out in zip(doc["variants"], created["variants"], strict=True):
            out["inventory_item_id"] = f"gid://shopify/InventoryItem/{self._item_number(variant)}"
            out["stock"] = variant["stock"]
        created["location_id"] = f"gid://shopify/Location/{LOCATION_ID}"
        return created

    def _variants_with_sku(self, domain: str, sku: str) -> list[tuple[dict, dict]]:
        return [(p, v) for p, v in self._shop_variants(domain) if sku and v["sku"] == sku]

    def set_stock_console(self, body: dict) -> dict:
        shop = self._shop(body.get("shop"))
        if shop is None:
            raise ConsoleError("Unknown shop", 404)
        sku = str(body.get("sku") or "").strip()
        try:
            stock = int(body.get("stock"))
        except (TypeError, ValueError):
            raise ConsoleError("stock must be a whole number") from None
        if not 0 <= stock <= MAX_QUANTITY:
            raise ConsoleError("stock must be between 0 and 1,000,000,000")
        with self.store.tx():
            pairs = [(p, v) for p, v in self._variants_with_sku(shop["domain"], sku) if self._stocked(v)]
            if not pairs:
                raise ConsoleError(f"No stocked variant with SKU {sku}", 404)
            changed = []
            for product, variant in pairs:
                product = self._product_doc(product["number"])
                variant = next(v for v in product["variants"] if v["number"] == variant["number"])
                before = variant["stock"]
                variant["stock"] = stock
                variant["stock_at"] = time.time()
                self._save_product(product)
                if before != stock:
                    self.record_stock_change(
                        shop=shop["domain"],
                        sku=sku,
                        item_id=f"gid://shopify/Product/{product['number']}",
                        variant_id=f"gid://shopify/ProductVariant/{variant['number']}",
                        before=before,
                        after=stock,
                        source="console",
                        detail="set in the Shopify admin",
                    )
                changed.append(f"gid://shopify/ProductVariant/{variant['number']}")
        return {"shop": shop["domain"], "sku": sku, "stock": stock, "variants": changed}

    def lock_stock_console(self, body: dict) -> dict:
        shop = self._shop(body.get("shop"))
        if shop is None:
            raise ConsoleError("Unknown shop", 404)
        sku = str(body.get("sku") or "").strip()
        if not self._variants_with_sku(shop["domain"], sku):
            raise ConsoleError(f"No variant with SKU {sku}", 404)
        reason = str(body.get("reason") or "").strip()
        key = f"{shop['domain']}|{sku}"
        if reason:
            self.store.put(self.code, "stock_lock", key, {"sku": sku, "reason": reason}, shop=shop["domain"])
        else:
            self.store.delete(self.code, "stock_lock", key)
        return {"shop": shop["domain"], "sku": sku, "locked": bool(reason), "reason": reason}

    def create_order(self, body: dict) -> dict:
        """The order first (it is never refused for stock), then ``available`` goes down by the
        ordered quantities, never below 0 (ledger source "order")."""
        result = super().create_order(body)
        status = str(body.get("status") or "to_ship").lower()
        if status == "cancelled":
            return result
        count = int(body["count"]) if body.get("count") not in (None, "") else 1
        names = [result["name"]] if "name" in result else [o["name"] for o in result.get("orders", [])]
        wanted: dict[str, int] = {}
        for line in body.get("lines") or ():
            sku = str(line.get("sku") or "").strip()
            if sku:
                wanted[sku] = wanted.get(sku, 0) + int(line.get("quantity", 1)) * count
        shop = self._shop(body.get("shop"))
        with self.store.tx():
            catalogue = {}
            for product, variant in self._shop_variants(shop["domain"]):
                if variant["sku"]:
                    catalogue.setdefault(variant["sku"], (product, variant))
            for sku, quantity in wanted.items():
                if sku not in catalogue:
                    continue
                product, variant = catalogue[sku]
                if not self._stocked(variant):
                    continue
                product = self._product_doc(product["number"])
                variant = next(v for v in product["variants"] if v["number"] == variant["number"])
                before = variant["stock"]
                after = max(0, before - quantity)
                if after == before:
                    continue
                variant["stock"] = after
                variant["stock_at"] = time.time()
                self._save_product(product)
                detail = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
                self.record_stock_change(
                    shop=shop["domain"],
                    sku=sku,
                    item_id=f"gid://shopify/Product/{product['number']}",
                    variant_id=f"gid://shopify/ProductVariant/{variant['number']}",
                    before=before,
                    after=after,
                    source="order",
                    detail=f"ordered {quantity}: {detail}",
                )
        return result

    def orders_state(self, domain: str) -> dict:
        data = super().orders_state(domain)
        locks = {d["sku"]: d["reason"] for d in self.store.find(self.code, "stock_lock", shop=domain)}
        data["products"] = [
            {
                "id": f"gid://shopify/Product/{p['number']}",
                "title": p["title"],
                "status": p.get("status", "ACTIVE"),
                "variants": [
                    {
                        "id": f"gid://shopify/ProductVariant/{v['number']}",
                        "inventory_item_id": f"gid://shopify/InventoryItem/{self._item_number(v)}",
                        "location_id": f"gid://shopify/Location/{LOCATION_ID}" if self._stocked(v) else None,
                        "sku": v["sku"],
                        "barcode": v["barcode"],
                        "title": v["title"],
                        "stock": v["stock"],
                        "stocked": self._stocked(v),
                        "locked": locks.get(v["sku"], ""),
                    }
                    for v in p["variants"]
                ],
            }
            for p in self.store.find(self.code, "product", shop=domain)
        ]
        data["locations"] = [
            {"id": f"gid://shopify/Location/{LOCATION_ID}", "name": LOCATION_NAME, "is_active": True}
        ]
        return data
