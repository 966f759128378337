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
