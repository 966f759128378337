"""The sandbox's slice of the Admin GraphQL schema, executed by graphql-core.

Documents are parsed and validated for real (fragments, aliases, variables); validation errors
for unknown fields and arguments take the shape Shopify's graphql-ruby server gives them
(``Field 'x' doesn't exist on type 'QueryRoot'``, ``extensions.code = undefinedField``). Later
issues extend ``SDL`` and ``Root`` with orders, products and inventory."""

from __future__ import annotations

import base64
import functools
import json
from typing import TYPE_CHECKING

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLObjectType,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    ValidationRule,
    build_schema,
    get_named_type,
    get_operation_ast,
    is_abstract_type,
    is_leaf_type,
    is_object_type,
    is_required_argument,
    parse,
    specified_rules,
    validate,
    value_from_ast_untyped,
)
from graphql.validation import FieldsOnCorrectTypeRule, KnownArgumentNamesRule, ProvidedRequiredArgumentsRule
from graphql.validation.rules.known_argument_names import KnownArgumentNamesOnDirectivesRule
from graphql.validation.rules.provided_required_arguments import ProvidedRequiredArgumentsOnDirectivesRule

from ecbridge.sandbox.shopify.inventory import INVENTORY_SDL, idempotency_key

if TYPE_CHECKING:
    from ecbridge.sandbox.shopify.sandbox import ShopifySandbox

WEBHOOK_TOPICS = {
    # topic: the access scope it needs to be subscribed to (None: any app)
    "APP_UNINSTALLED": None,
    "SHOP_UPDATE": None,
    "ORDERS_CREATE": "orders",
    "ORDERS_UPDATED": "orders",
    "ORDERS_CANCELLED": "orders",
    "ORDERS_FULFILLED": "orders",
    "ORDERS_PAID": "orders",
    "ORDERS_DELETE": "orders",
    "FULFILLMENTS_CREATE": "orders",
    "FULFILLMENTS_UPDATE": "orders",
    "PRODUCTS_CREATE": "products",
    "PRODUCTS_UPDATE": "products",
    "PRODUCTS_DELETE": "products",
    "INVENTORY_LEVELS_UPDATE": "inventory",
    "INVENTORY_ITEMS_UPDATE": "inventory",
}

# Orders and fulfillment (reference §2.4, §2.5): the fields a WMS reads and writes.
ORDERS_SDL = """
enum OrderSortKeys {
  CREATED_AT CUSTOMER_NAME DESTINATION FINANCIAL_STATUS FULFILLMENT_STATUS ID ORDER_NUMBER PO_NUMBER
  PROCESSED_AT RELEVANCE TOTAL_ITEMS_QUANTITY TOTAL_PRICE UPDATED_AT
}
enum OrderDisplayFinancialStatus {
  AUTHORIZED EXPIRED PAID PARTIALLY_PAID PARTIALLY_REFUNDED PENDING REFUNDED VOIDED
}
enum OrderDisplayFulfillmentStatus {
  FULFILLED IN_PROGRESS ON_HOLD OPEN PARTIALLY_FULFILLED PENDING_FULFILLMENT REQUEST_DECLINED RESTOCKED
  SCHEDULED UNFULFILLED FULFILLMENT_NOT_REQUIRED
}
enum OrderCancelReason { CUSTOMER DECLINED FRAUD INVENTORY OTHER STAFF }
enum FulfillmentOrderStatus { CANCELLED CLOSED INCOMPLETE IN_PROGRESS ON_HOLD OPEN SCHEDULED }
enum FulfillmentStatus { CANCELLED ERROR FAILURE OPEN PENDING SUCCESS }
enum CountryCode { TW US JP HK SG MY TH CN GB CA AU }

type MailingAddress {
  name: String firstName: String lastName: String company: String address1: String address2: String
  city: String province: String provinceCode: String zip: String country: String
  countryCodeV2: CountryCode phone: String
}
type ShippingLine { id: ID title: String! code: String source: String carrierIdentifier: String }
type Product implements Node { id: ID! legacyResourceId: UnsignedInt64! title: String! }
type ProductVariant implements Node {
  id: ID! legacyResourceId: UnsignedInt64! sku: String barcode: String title: String! product: Product!
}
type LineItem implements Node {
  id: ID! sku: String name: String! title: String! quantity: Int! currentQuantity: Int!
  unfulfilledQuantity: Int! variant: ProductVariant product: Product
}
type LineItemEdge { cursor: String! node: LineItem! }
type LineItemConnection { edges: [LineItemEdge!]! nodes: [LineItem!]! pageInfo: PageInfo! }
type Location implements Node { id: ID! name: String! }
type FulfillmentOrderAssignedLocation { name: String location: Location }
type FulfillmentOrderLineItem {
  id: ID! sku: String totalQuantity: Int! remainingQuantity: Int! lineItem: LineItem!
}
type FulfillmentOrderLineItemEdge { cursor: String! node: FulfillmentOrderLineItem! }
type FulfillmentOrderLineItemConnection {
  edges: [FulfillmentOrderLineItemEdge!]! nodes: [FulfillmentOrderLineItem!]! pageInfo: PageInfo!
}
type FulfillmentOrder implements Node {
  id: ID! orderId: ID! status: FulfillmentOrderStatus! createdAt: DateTime! updatedAt: DateTime!
  assignedLocation: FulfillmentOrderAssignedLocation!
  lineItems(first: Int, after: String, last: Int, before: String, reverse: Boolean = false
  ): FulfillmentOrderLineItemConnection!
}
type FulfillmentOrderEdge { cursor: String! node: FulfillmentOrder! }
type FulfillmentOrderConnection {
  edges: [FulfillmentOrderEdge!]! nodes: [FulfillmentOrder!]! pageInfo: PageInfo!
}
type FulfillmentTrackingInfo { company: String number: String url: URL }
type Fulfillment implements Node {
  id: ID! legacyResourceId: UnsignedInt64! name: String! status: FulfillmentStatus! createdAt: DateTime!
  trackingInfo(first: Int): [FulfillmentTrackingInfo!]!
}
type Order implements Node {
  id: ID! legacyResourceId: UnsignedInt64! name: String! createdAt: DateTime! updatedAt: DateTime!
  processedAt: DateTime! cancelledAt: DateTime cancelReason: OrderCancelReason closed: Boolean!
  closedAt: DateTime displayFinancialStatus: OrderDisplayFinancialStatus
  displayFulfillmentStatus: OrderDisplayFulfillmentStatus! email: String phone: String note: String
  paymentGatewayNames: [String!]!
  shippingAddress: MailingAddress shippingLine: ShippingLine
  lineItems(first: Int, after: String, last: Int, before: String, reverse: Boolean = false
  ): LineItemConnection!
  fulfillmentOrders(first: Int, after: String, last: Int, before: String, reverse: Boolean = false,
    displayable: Boolean = false, query: String): FulfillmentOrderConnection!
  fulfillments(first: Int): [Fulfillment!]!
}
type OrderEdge { cursor: String! node: Order! }
type OrderConnection { edges: [OrderEdge!]! nodes: [Order!]! pageInfo: PageInfo! }

input FulfillmentOrderLineItemInput { id: ID! quantity: Int! }
input FulfillmentOrderLineItemsInput {
  fulfillmentOrderId: ID! fulfillmentOrderLineItems: [FulfillmentOrderLineItemInput!]
}
input FulfillmentTrackingInput { company: String number: String url: URL numbers: [String!] urls: [URL!] }
input FulfillmentInput {
  lineItemsByFulfillmentOrder: [FulfillmentOrderLineItemsInput!]!
  trackingInfo: FulfillmentTrackingInput notifyCustomer: Boolean = false
}
type FulfillmentCreatePayload { fulfillment: Fulfillment userErrors: [UserError!]! }
"""

SDL = f"""
schema {{ query: QueryRoot mutation: Mutation }}

scalar DateTime
scalar URL
scalar UnsignedInt64

type QueryRoot {{
  shop: Shop!
  currentAppInstallation: AppInstallation!
  webhookSubscription(id: ID!): WebhookSubscription
  webhookSubscriptions(first: Int, after: String, last: Int, before: String, reverse: Boolean = false,
    topics: [WebhookSubscriptionTopic!], uri: String, format: WebhookSubscriptionFormat
  ): WebhookSubscriptionConnection!
  orders(first: Int, after: String, last: Int, before: String, reverse: Boolean = false,
    sortKey: OrderSortKeys = PROCESSED_AT, query: String
  ): OrderConnection!
  order(id: ID!): Order
  node(id: ID!): Node
  nodes(ids: [ID!]!): [Node]!
}}

type Mutation {{
  appUninstall: AppUninstallPayload
  webhookSubscriptionCreate(topic: WebhookSubscriptionTopic!,
    webhookSubscription: WebhookSubscriptionInput!): WebhookSubscriptionCreatePayload
  webhookSubscriptionDelete(id: ID!): WebhookSubscriptionDeletePayload
  fulfillmentCreate(fulfillment: FulfillmentInput!, message: String): FulfillmentCreatePayload
}}

interface Node {{ id: ID! }}

enum CurrencyCode {{ TWD USD JPY HKD SGD MYR THB EUR GBP CAD AUD }}

type Shop {{
  id: ID!
  name: String!
  myshopifyDomain: String!
  email: String!
  contactEmail: String!
  currencyCode: CurrencyCode!
  ianaTimezone: String!
  url: URL!
  createdAt: DateTime!
}}

type App {{ id: ID! title: String! handle: String apiKey: String! }}
type AccessScope {{ handle: String! description: String! }}
type AppInstallation {{ id: ID! app: App! accessScopes: [AccessScope!]! launchUrl: URL! }}

enum AppUninstallAppUninstallErrorCode {{
  APP_NOT_FOUND APP_NOT_INSTALLED APP_UNINSTALL_ERROR USER_PERMISSIONS_INSUFFICIENT
}}
type AppUninstallAppUninstallError {{
  code: AppUninstallAppUninstallErrorCode field: [String!] message: String!
}}
type AppUninstallPayload {{ app: App userErrors: [AppUninstallAppUninstallError!]! }}

type UserError {{ field: [String!] message: String! }}

enum WebhookSubscriptionTopic {{ {" ".join(WEBHOOK_TOPICS)} }}
enum WebhookSubscriptionFormat {{ JSON XML }}

input WebhookSubscriptionInput {{
  uri: String
  callbackUrl: URL
  format: WebhookSubscriptionFormat
  includeFields: [String!]
  metafieldNamespaces: [String!]
  filter: String
}}

type ApiVersion {{ handle: String! displayName: String! supported: Boolean! }}

type WebhookSubscription {{
  id: ID!
  legacyResourceId: UnsignedInt64!
  topic: WebhookSubscriptionTopic!
  uri: String!
  callbackUrl: URL!
  format: WebhookSubscriptionFormat!
  includeFields: [String!]!
  metafieldNamespaces: [String!]!
  filter: String
  apiVersion: ApiVersion!
  createdAt: DateTime!
  updatedAt: DateTime!
}}
type WebhookSubscriptionEdge {{ cursor: String! node: WebhookSubscription! }}
type PageInfo {{ hasNextPage: Boolean! hasPreviousPage: Boolean! startCursor: String endCursor: String }}
type WebhookSubscriptionConnection {{
  edges: [WebhookSubscriptionEdge!]!
  nodes: [WebhookSubscription!]!
  pageInfo: PageInfo!
}}
type WebhookSubscriptionCreatePayload {{ webhookSubscription: WebhookSubscription userErrors: [UserError!]! }}
type WebhookSubscriptionDeletePayload {{ deletedWebhookSubscriptionId: ID userErrors: [UserError!]! }}
{ORDERS_SDL}
{INVENTORY_SDL}
"""

SCHEMA = build_schema(SDL)
MAX_PAGE_SIZE = 250
MUTATION_COST = 10


# --- validation in graphql-ruby's words ----------------------------------------------------------
def _error_path(node: FieldNode, ancestors) -> list[str]:
    path = []
    for ancestor in ancestors:
        if isinstance(ancestor, OperationDefinitionNode):
            op = ancestor.operation.value
            path.append(f"{op} {ancestor.name.value}" if ancestor.name else op)
        elif isinstance(ancestor, FragmentDefinitionNode):
            path.append(f"fragment {ancestor.name.value}")
        elif isinstance(ancestor, FieldNode):
            path.append((ancestor.alias or ancestor.name).value)
    path.append((node.alias or node.name).value)
    return path


class UndefinedFieldRule(ValidationRule):
    def enter_field(self, node: FieldNode, _key, _parent, _path, ancestors):
        parent = self.context.get_parent_type()
        name = node.name.value
        if not is_object_type(parent) or name == "__typename" or name in parent.fields:
            return
        if name in ("__schema", "__type") and parent is self.context.schema.query_type:
            return
        self.report_error(
            GraphQLError(
                f"Field '{name}' doesn't exist on type '{parent.name}'",
                node,
                path=_error_path(node, ancestors),
                extensions={"code": "undefinedField", "typeName": parent.name, "fieldName": name},
            )
        )


class ArgumentNotAcceptedRule(ValidationRule):
    def enter_argument(self, node, _key, _parent, _path, ancestors):
        if self.context.get_directive() is not None or self.context.get_argument() is not None:
            return
        if self.context.get_field_def() is None:
            return
        field_node = next((a for a in reversed(ancestors) if isinstance(a, FieldNode)), None)
        name = field_node.name.value if field_node else ""
        self.report_error(
            GraphQLError(
                f"Field '{name}' doesn't accept argument '{node.name.value}'",
                node,
                extensions={
                    "code": "argumentNotAccepted",
                    "name": name,
                    "typeName": "Field",
                    "argumentName": node.name.value,
                },
            )
        )


class MissingRequiredArgumentsRule(ValidationRule):
    def leave_field(self, node: FieldNode, *_args):
        field = self.context.get_field_def()
        if field is None:
            return
        given = {arg.name.value for arg in node.arguments or ()}
        missing = [
            name for name, arg in field.args.items() if is_required_argument(arg) and name not in given
        ]
        if missing:
            self.report_error(
                GraphQLError(
                    f"Field '{node.name.value}' is missing required arguments: {', '.join(missing)}",
                    node,
                    extensions={
                        "code": "missingRequiredArguments",
                        "className": "Field",
                        "name": node.name.value,
                        "arguments": ", ".join(missing),
                    },
                )
            )


_REPLACED = (FieldsOnCorrectTypeRule, KnownArgumentNamesRule, ProvidedRequiredArgumentsRule)
RULES = [rule for rule in specified_rules if rule not in _REPLACED] + [
    UndefinedFieldRule,
    ArgumentNotAcceptedRule,
    KnownArgumentNamesOnDirectivesRule,
    MissingRequiredArgumentsRule,
    ProvidedRequiredArgumentsOnDirectivesRule,
]


def validate_document(document: DocumentNode) -> list[GraphQLError]:
    return validate(SCHEMA, document, RULES)


@functools.lru_cache(maxsize=256)
def parse_and_validate(query: str) -> tuple[DocumentNode, tuple[GraphQLError, ...]]:
    """Clients send the same few documents over and over; parse and validate each once."""
    document = parse(query)
    return document, tuple(validate_document(document))


# --- cost (reference §2.3: scalar/enum 0, object 1, connection 2 + first x child, mutation 10) -----
# Interfaces (``nodes``) cost the most expensive of their possible types; a list argued by ``ids``
# costs one element per id. The *actual* cost counts what came back (Shopify refunds the rest).
def _applies(type_condition, parent) -> bool:
    if parent is None or type_condition is None:
        return True
    name = type_condition.name.value
    return name == parent.name or any(i.name == name for i in getattr(parent, "interfaces", ()))


def _fields(selection_set: SelectionSetNode | None, fragments, seen=frozenset(), parent=None):
    for selection in selection_set.selections if selection_set else ():
        if isinstance(selection, FieldNode):
            yield selection
        elif isinstance(selection, InlineFragmentNode):
            if _applies(selection.type_condition, parent):
                yield from _fields(selection.selection_set, fragments, seen, parent)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            if name in fragments and name not in seen and _applies(fragments[name].type_condition, parent):
                yield from _fields(fragments[name].selection_set, fragments, seen | {name}, parent)


def _argument(node: FieldNode, name: str, variables: dict):
    for argument in node.arguments or ():
        if argument.name.value == name:
            return value_from_ast_untyped(argument.value, variables)
    return None


def _int_argument(node: FieldNode, name: str, variables: dict) -> int:
    value = _argument(node, name, variables)
    return value if isinstance(value, int) else 0


def _concrete(named) -> list[GraphQLObjectType]:
    return list(SCHEMA.get_possible_types(named)) if is_abstract_type(named) else [named]


def _cost(selection_set, parent: GraphQLObjectType, fragments, variables) -> int:
    total = 0
    for node in _fields(selection_set, fragments, parent=parent):
        field = parent.fields.get(node.name.value)
        if field is None:
            continue
        named = get_named_type(field.type)
        if is_leaf_type(named):
            continue
        if named.name.endswith("Connection"):
            per_item = sum(
                1
                + _cost(
                    child.selection_set,
                    get_named_type(named.fields[child.name.value].type),
                    fragments,
                    variables,
                )
                for child in _fields(node.selection_set, fragments, parent=named)
                if child.name.value in ("nodes", "edges")
            )
            size = _int_argument(node, "first", variables) or _int_argument(node, "last", variables)
            total += 2 + size * per_item
        else:
            ids = _argument(node, "ids", variables)
            count = len(ids) if isinstance(ids, list) else (_int_argument(node, "first", variables) or 1)
            child = max(_cost(node.selection_set, t, fragments, variables) for t in _concrete(named))
            total += count * (1 + child)
    return total


def _actual(selection_set, parent, fragments, value) -> int:
    if not isinstance(value, dict):
        return 0
    total = 0
    for node in _fields(selection_set, fragments, parent=parent):
        field = parent.fields.get(node.name.value)
        if field is None:
            continue
        named = get_named_type(field.type)
        if is_leaf_type(named):
            continue
        child = value.get((node.alias or node.name).value)
        if named.name.endswith("Connection"):
            total += 2
            for sub in _fields(node.selection_set, fragments, parent=named):
                if sub.name.value in ("nodes", "edges") and isinstance(child, dict):
                    item_type = get_named_type(named.fields[sub.name.value].type)
                    for item in child.get((sub.alias or sub.name).value) or ():
                        total += 1 + _actual(sub.selection_set, item_type, fragments, item)
            continue
        for item in child if isinstance(child, list) else [child]:
            if item is not None:
                total += 1 + max(_actual(node.selection_set, t, fragments, item) for t in _concrete(named))
    return total


def _operation(document: DocumentNode, operation_name: str | None):
    operation = get_operation_ast(document, operation_name)
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    return operation, fragments


def requested_cost(document: DocumentNode, operation_name: str | None, variables: dict | None) -> int:
    operation, fragments = _operation(document, operation_name)
    if operation is None:
        return 0
    if operation.operation == OperationType.MUTATION:
        return MUTATION_COST * sum(1 for _ in _fields(operation.selection_set, fragments))
    return _cost(operation.selection_set, SCHEMA.query_type, fragments, variables or {})


def actual_cost(document: DocumentNode, operation_name: str | None, data, requested: int) -> int:
    """What the answer really cost: never more than requested (mutations cost what they ask)."""
    operation, fragments = _operation(document, operation_name)
    if operation is None or operation.operation == OperationType.MUTATION or not isinstance(data, dict):
        return requested
    return min(requested, _actual(operation.selection_set, SCHEMA.query_type, fragments, data))


# --- resolvers -------------------------------------------------------------------------------------
def _cursor(number: int) -> str:
    return base64.b64encode(json.dumps({"last_id": number, "last_value": str(number)}).encode()).decode()


def _cursor_id(cursor: str) -> int:
    try:
        return int(json.loads(base64.b64decode(cursor.encode(), validate=True))["last_id"])
    except (ValueError, KeyError, TypeError):
        raise GraphQLError(f"Invalid cursor for current pagination sort: {cursor}") from None


def paginate(
    items: list[dict], key, *, first=None, after=None, last=None, before=None, reverse=False
) -> dict:
    """A Relay connection over ``items`` (each with a numeric ``key``) the way Shopify pages."""
    if first is None and last is None:
        raise GraphQLError("you must provide one of first or last")
    for name, value in (("first", first), ("last", last)):
        if value is not None and not 0 <= value <= MAX_PAGE_SIZE:
            raise GraphQLError(f"The '{name}' argument must be between 0 and {MAX_PAGE_SIZE}")
    items = sorted(items, key=key, reverse=bool(reverse))
    ids = [key(item) for item in items]
    start, end = 0, len(items)
    if after:
        mark = _cursor_id(after)
        start = next((i + 1 for i, v in enumerate(ids) if v == mark), start)
    if before:
        mark = _cursor_id(before)
        end = next((i for i, v in enumerate(ids) if v == mark), end)
    window = items[start:end]
    has_next = has_previous = False
    if first is not None and len(window) > first:
        window, has_next = window[:first], True
    if last is not None and len(window) > last:
        window, has_previous = window[len(window) - last :], True
    has_previous = has_previous or start > 0
    has_next = has_next or end < len(items)
    cursors = [_cursor(key(item)) for item in window]
    return {
        "nodes": window,
        "edges": [{"cursor": c, "node": n} for c, n in zip(cursors, window, strict=True)],
        "pageInfo": {
            "hasNextPage": has_next,
            "hasPreviousPage": has_previous,
            "startCursor": cursors[0] if cursors else None,
            "endCursor": cursors[-1] if cursors else None,
        },
    }


class Root:
    """Root value for one request; graphql-core calls ``field(info, **arguments)``."""

    def __init__(self, sandbox: ShopifySandbox, shop: dict, token: dict, api_version: str):
        self.sandbox = sandbox
        self.shop_doc = shop
        self.token = token
        self.api_version = api_version

    # queries
    def shop(self, _info):
        return self.sandbox.shop_object(self.shop_doc)

    def currentAppInstallation(self, _info):  # noqa: N802 (GraphQL field name)
        return self.sandbox.app_installation(self.shop_doc, self.token)

    def webhookSubscription(self, _info, id):  # noqa: N802, A002
        return self.sandbox.webhook_object(self.sandbox.find_webhook(self.shop_doc["domain"], id))

    def webhookSubscriptions(self, _info, topics=None, uri=None, format=None, **page):  # noqa: N802, A002
        items = self.sandbox.webhooks(self.shop_doc["domain"])
        if topics:
            items = [w for w in items if w["topic"] in topics]
        if uri:
            items = [w for w in items if w["uri"] == uri]
        if format:
            items = [w for w in items if w["format"] == format]
        connection = paginate(items, lambda w: w["number"], **page)
        nodes = [self.sandbox.webhook_object(w) for w in connection["nodes"]]
        connection["nodes"] = nodes
        connection["edges"] = [
            {"cursor": e["cursor"], "node": n} for e, n in zip(connection["edges"], nodes, strict=True)
        ]
        return connection

    # mutations
    def appUninstall(self, _info):  # noqa: N802
        app = self.sandbox.app_object()
        self.sandbox.uninstall(self.shop_doc["domain"])
        return {"app": app, "userErrors": []}

    def webhookSubscriptionCreate(self, _info, topic, webhookSubscription):  # noqa: N802, N803
        return self.sandbox.create_webhook(
            self.shop_doc, self.token, topic, webhookSubscription, self.api_version
        )

    def webhookSubscriptionDelete(self, _info, id):  # noqa: N802, A002
        return self.sandbox.delete_webhook(self.shop_doc["domain"], id)

    # orders (reference §2.4) and fulfillment (§2.5)
    def orders(self, _info, query=None, sortKey="PROCESSED_AT", **page):  # noqa: N803
        self.sandbox.require_scope(self.token, "orders", "read_orders")
        return self.sandbox.orders_connection(self.shop_doc, query=query, sort_key=sortKey, **page)

    def order(self, _info, id):  # noqa: A002
        self.sandbox.require_scope(self.token, "order", "read_orders")
        return self.sandbox.order_node(self.shop_doc, id, required_type="Order")

    def node(self, _info, id):  # noqa: A002
        return self.sandbox.node(self.shop_doc, self.token, id)

    def nodes(self, _info, ids):
        if len(ids) > MAX_PAGE_SIZE:
            raise GraphQLError(
                f"The input array size of {len(ids)} is greater than the maximum allowed of {MAX_PAGE_SIZE}.",
                extensions={"code": "MAX_INPUT_SIZE_EXCEEDED"},
            )
        return [self.sandbox.node(self.shop_doc, self.token, gid) for gid in ids]

    def fulfillmentCreate(self, _info, fulfillment, message=None):  # noqa: N802
        self.sandbox.require_scope(
            self.token,
            "fulfillmentCreate",
            "write_merchant_managed_fulfillment_orders",
            "write_fulfillments",
        )
        return self.sandbox.fulfillment_create(self.shop_doc, fulfillment)

    # products, locations and inventory (reference §2.6, §2.7)
    def productVariants(self, _info, **arguments):  # noqa: N802
        self.sandbox.require_scope(self.token, "productVariants", "read_products")
        return self.sandbox.product_variants_connection(self.shop_doc, **arguments)

    def productVariant(self, _info, id):  # noqa: N802, A002
        self.sandbox.require_scope(self.token, "productVariant", "read_products")
        return self._typed_node(id, "ProductVariant")

    def product(self, _info, id):  # noqa: A002
        self.sandbox.require_scope(self.token, "product", "read_products")
        return self._typed_node(id, "Product")

    def inventoryItem(self, _info, id):  # noqa: N802, A002
        self.sandbox.require_scope(self.token, "inventoryItem", "read_inventory")
        return self._typed_node(id, "InventoryItem")

    def locations(self, _info, **arguments):
        self.sandbox.require_scope(self.token, "locations", "read_locations", "read_inventory")
        return self.sandbox.locations_connection(self.shop_doc, **arguments)

    def location(self, _info, id=None):  # noqa: A002
        self.sandbox.require_scope(self.token, "location", "read_locations", "read_inventory")
        if id is None:
            return self.sandbox.location_object(self.shop_doc)
        return self._typed_node(id, "Location")

    def _typed_node(self, gid: str, kind: str):
        if not str(gid).startswith(f"gid://shopify/{kind}/"):
            raise GraphQLError(
                f"Invalid global id '{gid}'", extensions={"code": "argumentLiteralsIncompatible"}
            )
        return self.sandbox.inventory_node(self.shop_doc, self.token, gid)

    def inventoryAdjustQuantities(self, info, input):  # noqa: N802, A002
        return self.sandbox.inventory_adjust_quantities(
            self.shop_doc, self.token, self.api_version, input, idempotency_key(info)
        )

    def inventorySetQuantities(self, info, input):  # noqa: N802, A002
        return self.sandbox.inventory_set_quantities(
            self.shop_doc, self.token, self.api_version, input, idempotency_key(info)
        )
