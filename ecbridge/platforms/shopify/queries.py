"""The Admin GraphQL documents the client sends (reference/platforms-global.md §2.2, §2.8)."""

SHOP = "query ShopInfo { shop { id name myshopifyDomain } }"

APP_UNINSTALL = """
mutation AppUninstall {
  appUninstall {
    app { id }
    userErrors { field message code }
  }
}
"""

WEBHOOK_SUBSCRIPTIONS = """
query WebhookSubscriptions($topics: [WebhookSubscriptionTopic!], $after: String) {
  webhookSubscriptions(first: 100, after: $after, topics: $topics) {
    pageInfo { hasNextPage endCursor }
    nodes { id topic uri }
  }
}
"""

WEBHOOK_SUBSCRIPTION_CREATE = """
mutation WebhookSubscriptionCreate(
  $topic: WebhookSubscriptionTopic!
  $webhookSubscription: WebhookSubscriptionInput!
) {
  webhookSubscriptionCreate(topic: $topic, webhookSubscription: $webhookSubscription) {
    webhookSubscription { id topic uri }
    userErrors { field message }
  }
}
"""

WEBHOOK_SUBSCRIPTION_DELETE = """
mutation WebhookSubscriptionDelete($id: ID!) {
  webhookSubscriptionDelete(id: $id) {
    deletedWebhookSubscriptionId
    userErrors { field message }
  }
}
"""

# --- orders (§2.4) -----------------------------------------------------------------------------------
# Page sizes are variables: the query's requested cost (connection = 2 + first x per-node cost) must
# stay under Shopify's single-query maximum, so the client sizes them (see client.OrderPaging).
ORDER_FIELDS = """
fragment OrderFields on Order {
  id legacyResourceId name createdAt updatedAt cancelledAt closed
  displayFinancialStatus displayFulfillmentStatus paymentGatewayNames note phone
  shippingAddress { name company address1 address2 city province zip country countryCodeV2 phone }
  shippingLine { title code source carrierIdentifier }
  lineItems(first: $lines) {
    pageInfo { hasNextPage endCursor }
    nodes { ...LineFields }
  }
  fulfillmentOrders(first: $fulfillmentOrders) {
    pageInfo { hasNextPage }
    nodes {
      id status
      lineItems(first: $fulfillmentOrderLines) {
        pageInfo { hasNextPage }
        nodes { id remainingQuantity lineItem { id } }
      }
    }
  }
}
fragment LineFields on LineItem {
  id sku quantity currentQuantity name
  variant { id sku barcode }
  product { id }
}
"""

ORDERS = (
    """
query Orders($query: String!, $after: String, $first: Int!, $lines: Int!, $fulfillmentOrders: Int!,
  $fulfillmentOrderLines: Int!) {
  orders(first: $first, after: $after, sortKey: UPDATED_AT, query: $query) {
    pageInfo { hasNextPage endCursor }
    nodes { ...OrderFields }
  }
}
"""
    + ORDER_FIELDS
)

ORDER_NODES = (
    """
query OrderNodes($ids: [ID!]!, $lines: Int!, $fulfillmentOrders: Int!, $fulfillmentOrderLines: Int!) {
  nodes(ids: $ids) { ...OrderFields }
}
"""
    + ORDER_FIELDS
)

ORDER_LINE_ITEMS = """
query OrderLineItems($id: ID!, $after: String) {
  order(id: $id) {
    lineItems(first: 250, after: $after) {
      pageInfo { hasNextPage endCursor }
      nodes { ...LineFields }
    }
  }
}
fragment LineFields on LineItem {
  id sku quantity currentQuantity name
  variant { id sku barcode }
  product { id }
}
"""

# --- fulfillment (§2.5) ------------------------------------------------------------------------------
ORDER_FULFILLMENT = """
query OrderFulfillment($id: ID!) {
  order(id: $id) {
    id name cancelledAt displayFulfillmentStatus
    fulfillments(first: 5) { id status trackingInfo(first: 1) { company number } }
    fulfillmentOrders(first: 5) {
      pageInfo { hasNextPage }
      nodes {
        id status
        lineItems(first: 50) {
          pageInfo { hasNextPage }
          nodes { id remainingQuantity lineItem { id } }
        }
      }
    }
  }
}
"""

FULFILLMENT_CREATE = """
mutation FulfillmentCreate($fulfillment: FulfillmentInput!) {
  fulfillmentCreate(fulfillment: $fulfillment) {
    fulfillment { id status trackingInfo(first: 1) { company number url } }
    userErrors { field message }
  }
}
"""

# --- products and inventory (§2.6, §2.7) -------------------------------------------------------------
# One inventory level per variant (its first location) keeps the listing's requested cost at
# 2 + first x 8 points, so a page holds up to 124 variants under the 1000-point query maximum.
PRODUCT_VARIANTS = """
query ProductVariants($first: Int!, $after: String, $query: String) {
  productVariants(first: $first, after: $after, query: $query) {
    pageInfo { hasNextPage endCursor }
    nodes {
      id sku title barcode updatedAt
      product { id title status }
      inventoryItem {
        id tracked
        inventoryLevels(first: 1) {
          nodes { location { id } quantities(names: ["available"]) { name quantity } }
        }
      }
      inventoryQuantity
    }
  }
}
"""

LOCATIONS = """
query Locations {
  locations(first: 50) { nodes { id name isActive } }
}
"""

VARIANT_INVENTORY_NODES = """
query VariantInventory($ids: [ID!]!) {
  nodes(ids: $ids) {
    ... on ProductVariant {
      id sku
      inventoryItem { id inventoryLevels(first: 1) { nodes { location { id } } } }
    }
  }
}
"""

INVENTORY_LEVELS = """
query InventoryLevels($ids: [ID!]!, $locationId: ID!) {
  nodes(ids: $ids) {
    ... on InventoryItem {
      id
      inventoryLevel(locationId: $locationId) { quantities(names: ["available"]) { name quantity } }
    }
  }
}
"""

INVENTORY_CHANGES = """
  inventoryAdjustmentGroup {
    id
    changes { name delta quantityAfterChange item { id } location { id } }
  }
  userErrors { code field message }
"""

INVENTORY_ADJUST = (
    """
mutation InventoryAdjustQuantities($input: InventoryAdjustQuantitiesInput!, $key: String!) {
  inventoryAdjustQuantities(input: $input) @idempotent(key: $key) {"""
    + INVENTORY_CHANGES
    + """  }
}
"""
)

INVENTORY_SET = (
    """
mutation InventorySetQuantities($input: InventorySetQuantitiesInput!, $key: String!) {
  inventorySetQuantities(input: $input) @idempotent(key: $key) {"""
    + INVENTORY_CHANGES
    + """  }
}
"""
)
