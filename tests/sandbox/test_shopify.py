"""The Shopify sandbox on its own: console, consent page, token endpoint, the GraphQL endpoint and
its error shapes, uninstall, and faults. Driven over HTTP like any client would."""

import ast
import base64
import hashlib
import hmac
import json
import pathlib
import time
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx
import pytest

import ecbridge.sandbox.shopify as sandbox_package

BASE = "/sandbox/shopify"
CONSOLE = f"{BASE}/_console"
CLIENT_ID = "sandbox-shopify-client"
SECRET = "sandbox-shopify-secret"
REDIRECT = "https://wms.example/callback/"
INVALID_TOKEN = {"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"}


def make_shop(client, **body) -> str:
    response = client.post(f"{CONSOLE}/shops", json={"name": "Acme Foods", **body})
    assert response.status_code == 200, response.text
    return response.json()["id"]


def authorize_query(**overrides) -> str:
    params = {
        "client_id": CLIENT_ID,
        "scope": "read_orders,write_orders",
        "redirect_uri": REDIRECT,
        "state": "xyz",
    }
    params.update(overrides)
    return urlencode({k: v for k, v in params.items() if v is not None})


def get_code(client, shop, **overrides) -> dict:
    response = client.post(f"{BASE}/{shop}/admin/oauth/authorize?{authorize_query(**overrides)}")
    assert response.status_code == 302, response.text
    return dict(parse_qsl(urlsplit(response.headers["location"]).query))


def token_request(client, shop, **body):
    return client.post(
        f"{BASE}/{shop}/admin/oauth/access_token",
        json={"client_id": CLIENT_ID, "client_secret": SECRET, **body},
    )


def install(client, shop, expiring=False, **overrides) -> dict:
    body = {"code": get_code(client, shop, **overrides)["code"]}
    if expiring:
        body["expiring"] = "1"
    response = token_request(client, shop, **body)
    assert response.status_code == 200, response.text
    return response.json()


def gql(client, shop, token, query, variables=None, version="2026-07", **kwargs):
    body = {"query": query}
    if variables is not None:
        body["variables"] = variables
    headers = {"X-Shopify-Access-Token": token} if token else {}
    return client.post(
        f"{BASE}/{shop}/admin/api/{version}/graphql.json", json=body, headers=headers, **kwargs
    )


def state(client, shop) -> dict:
    response = client.get(f"{CONSOLE}/state", params={"shop": shop})
    assert response.status_code == 200, response.text
    return response.json()


def faults(client, **values):
    response = client.post(f"{CONSOLE}/faults", json=values)
    assert response.status_code == 200, response.text


CREATE = """mutation($topic: WebhookSubscriptionTopic!, $sub: WebhookSubscriptionInput!) {
  webhookSubscriptionCreate(topic: $topic, webhookSubscription: $sub) {
    webhookSubscription { id topic uri format } userErrors { field message } } }"""


def create_webhook(client, shop, token, topic="ORDERS_CREATE", uri="https://wms.example/hooks"):
    response = gql(client, shop, token, CREATE, {"topic": topic, "sub": {"uri": uri, "format": "JSON"}})
    assert response.status_code == 200, response.text
    return response.json()["data"]["webhookSubscriptionCreate"]


# --- the package stays independent ---------------------------------------------------------------------
def test_sandbox_never_imports_the_client_or_django():
    for path in pathlib.Path(sandbox_package.__file__).parent.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            for name in names:
                assert not name.startswith(("ecbridge.platforms", "django")), (path.name, name)


# --- console ---------------------------------------------------------------------------------------------
def test_create_shop_derives_the_domain(sandbox_client):
    response = sandbox_client.post(f"{CONSOLE}/shops", json={"name": "Acme Foods & Co."})
    assert response.json()["id"] == "acme-foods-co.myshopify.com"
    assert response.json()["name"] == "Acme Foods & Co."
    assert make_shop(sandbox_client, name="x", domain="Beta-Goods") == "beta-goods.myshopify.com"
    assert make_shop(sandbox_client, name="台灣好店").startswith("shop-")
    assert [s["shop"]["domain"] for s in sandbox_client.get(f"{CONSOLE}/state").json()["shops"]][:2] == [
        "acme-foods-co.myshopify.com",
        "beta-goods.myshopify.com",
    ]


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({}, 400),
        ({"name": "  "}, 400),
        ({"name": "x", "domain": "acme.example.com"}, 400),
        ({"name": "x", "domain": "-acme.myshopify.com"}, 400),
        ({"name": "x", "restore_rate": "fast"}, 400),
        ({"name": "x", "bucket_size": -1}, 400),
        ({"name": "x", "currency": "XXX"}, 400),
    ],
)
def test_create_shop_rejects_bad_input(sandbox_client, body, status):
    response = sandbox_client.post(f"{CONSOLE}/shops", json=body)
    assert response.status_code == status
    assert response.json()["error"]
    assert sandbox_client.get(f"{CONSOLE}/state").json()["shops"] == []  # nothing half-written


def test_duplicate_shop_is_a_conflict(sandbox_client):
    make_shop(sandbox_client)
    response = sandbox_client.post(f"{CONSOLE}/shops", json={"name": "Acme Foods"})
    assert response.status_code == 409


def test_state_of_unknown_shop_is_404(sandbox_client):
    assert sandbox_client.get(f"{CONSOLE}/state", params={"shop": "nope.myshopify.com"}).status_code == 404


def test_state_counts_tokens_but_never_shows_them(sandbox_client):
    shop = make_shop(sandbox_client)
    plain = install(sandbox_client, shop)
    expiring = install(sandbox_client, shop, expiring=True)
    create_webhook(sandbox_client, shop, plain["access_token"])
    seen = state(sandbox_client, shop)
    assert seen["installed"] is True and seen["scope"] == "read_orders,write_orders"
    assert seen["tokens"] == {
        "active": 2,
        "active_expiring": 1,
        "expired": 0,
        "revoked": 0,
        "refresh_active": 1,
    }
    assert [(w["topic"], w["uri"]) for w in seen["webhooks"]] == [
        ("ORDERS_CREATE", "https://wms.example/hooks")
    ]
    text = json.dumps(sandbox_client.get(f"{CONSOLE}/state").json()) + json.dumps(seen)
    for value in (plain["access_token"], expiring["access_token"], expiring["refresh_token"], SECRET):
        assert value not in text
    assert [c["operation"] for c in seen["calls"]][-1] == "graphql:webhookSubscriptionCreate"


def test_reset_forgets_everything(sandbox_client):
    shop = make_shop(sandbox_client)
    token = install(sandbox_client, shop)["access_token"]
    assert sandbox_client.post(f"{CONSOLE}/reset").json() == {"reset": True}
    assert sandbox_client.get(f"{CONSOLE}/state").json()["shops"] == []
    assert make_shop(sandbox_client) == shop
    assert gql(sandbox_client, shop, token, "{ shop { id } }").status_code == 401


def test_console_shop_status_and_uninstall_validate_input(sandbox_client):
    shop = make_shop(sandbox_client)
    assert (
        sandbox_client.post(f"{CONSOLE}/shop_status", json={"shop": shop, "status": "gone"}).status_code
        == 400
    )
    assert (
        sandbox_client.post(
            f"{CONSOLE}/shop_status", json={"shop": "x.myshopify.com", "status": "frozen"}
        ).status_code
        == 404
    )
    assert sandbox_client.post(f"{CONSOLE}/uninstall", json={"shop": "x.myshopify.com"}).status_code == 404


# --- consent page ----------------------------------------------------------------------------------------
def test_consent_page_shows_shop_scopes_and_install_button(sandbox_client):
    shop = make_shop(sandbox_client)
    page = sandbox_client.get(f"{BASE}/{shop}/admin/oauth/authorize?{authorize_query()}")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    for text in (
        "Acme Foods",
        shop,
        "read_orders",
        "write_orders",
        'method="post"',
        "Install app",
        'name="state" value="xyz"',
    ):
        assert text in page.text


def test_consent_page_escapes_what_it_echoes(sandbox_client):
    shop = make_shop(sandbox_client, name="<b>Shop</b>")
    query = authorize_query(state='"><script>')
    page = sandbox_client.get(f"{BASE}/{shop}/admin/oauth/authorize?{query}")
    assert "<script>" not in page.text and "<b>Shop</b>" not in page.text


@pytest.mark.parametrize(
    ("overrides", "status", "message"),
    [
        (
            {"client_id": "someone-else"},
            400,
            "Oauth error invalid_request: Could not find Shopify API application with api_key someone-else",
        ),
        ({"redirect_uri": None}, 400, "redirect_uri"),
        ({"redirect_uri": "javascript:alert(1)"}, 400, "redirect_uri"),
        (
            {"scope": "read_orders,drop_tables"},
            400,
            "Oauth error invalid_scope: The access scope is invalid: drop_tables",
        ),
        ({"grant_options[]": "per-user"}, 400, "offline"),
    ],
)
def test_consent_page_errors(sandbox_client, overrides, status, message):
    shop = make_shop(sandbox_client)
    for method in ("GET", "POST"):
        response = sandbox_client.request(
            method, f"{BASE}/{shop}/admin/oauth/authorize?{authorize_query(**overrides)}"
        )
        assert response.status_code == status
        assert message in response.text
    assert sandbox_client.get(f"{CONSOLE}/state", params={"shop": shop}).json()["tokens"]["active"] == 0


def test_consent_for_unknown_shop_is_404(sandbox_client):
    response = sandbox_client.get(f"{BASE}/nope.myshopify.com/admin/oauth/authorize?{authorize_query()}")
    assert response.status_code == 404
    assert "unavailable" in response.text


def test_callback_carries_a_real_hmac(sandbox_client):
    shop = make_shop(sandbox_client)
    before = int(time.time())
    params = get_code(sandbox_client, shop)
    assert set(params) == {"code", "hmac", "host", "shop", "state", "timestamp"}
    assert params["shop"] == shop and params["state"] == "xyz"
    assert before <= int(params["timestamp"]) <= int(time.time())
    host = params["host"] + "=" * (-len(params["host"]) % 4)
    assert base64.urlsafe_b64decode(host).decode() == "admin.shopify.com/store/acme-foods"
    message = "&".join(f"{k}={v}" for k, v in sorted(params.items()) if k != "hmac")
    assert params["hmac"] == hmac.new(SECRET.encode(), message.encode(), hashlib.sha256).hexdigest()


def test_consent_page_is_exempt_from_faults(sandbox_client):
    shop = make_shop(sandbox_client)
    faults(sandbox_client, fail_next=1)
    assert sandbox_client.get(f"{BASE}/{shop}/admin/oauth/authorize?{authorize_query()}").status_code == 200
    code = get_code(sandbox_client, shop)["code"]
    assert token_request(sandbox_client, shop, code=code).status_code == 503  # the fault is still pending
    assert token_request(sandbox_client, shop, code=code).status_code == 200


# --- token endpoint --------------------------------------------------------------------------------------
def test_offline_token_by_json_or_form(sandbox_client):
    shop = make_shop(sandbox_client)
    first = token_request(sandbox_client, shop, code=get_code(sandbox_client, shop)["code"])
    assert first.status_code == 200
    assert set(first.json()) == {"access_token", "scope"}
    assert first.json()["access_token"].startswith("shpat_")
    form = sandbox_client.post(
        f"{BASE}/{shop}/admin/oauth/access_token",
        data={
            "client_id": CLIENT_ID,
            "client_secret": SECRET,
            "code": get_code(sandbox_client, shop)["code"],
        },
    )
    assert form.status_code == 200 and form.json()["scope"] == "read_orders,write_orders"
    assert form.json()["access_token"] != first.json()["access_token"]


def test_codes_are_single_use_and_bound_to_their_shop(sandbox_client):
    shop = make_shop(sandbox_client)
    other = make_shop(sandbox_client, name="Other")
    code = get_code(sandbox_client, shop)["code"]
    refused = token_request(sandbox_client, other, code=code)
    assert refused.status_code == 400
    assert refused.json() == {
        "error": "invalid_request",
        "error_description": "The authorization code was not found or was already used",
    }
    assert token_request(sandbox_client, shop, code=code).status_code == 200
    assert token_request(sandbox_client, shop, code=code).json()["error"] == "invalid_request"
    assert token_request(sandbox_client, shop, code="").status_code == 400


def test_expired_code_is_refused(sandbox_client, sandbox):
    shop = make_shop(sandbox_client)
    code = get_code(sandbox_client, shop)["code"]
    doc = sandbox.store.get("shopify", "code", code)
    doc["expires_at"] = time.time() - 1
    sandbox.store.put("shopify", "code", code, doc, shop=shop)
    assert token_request(sandbox_client, shop, code=code).status_code == 400


def test_wrong_client_credentials_are_refused(sandbox_client):
    shop = make_shop(sandbox_client)
    code = get_code(sandbox_client, shop)["code"]
    response = sandbox_client.post(
        f"{BASE}/{shop}/admin/oauth/access_token",
        json={"client_id": CLIENT_ID, "client_secret": "guess", "code": code},
    )
    assert response.status_code == 400 and response.json()["error"] == "invalid_client"
    assert token_request(sandbox_client, shop, code=code).status_code == 200  # the code was not burnt
    assert token_request(sandbox_client, "nope.myshopify.com", code=code).status_code == 404
    assert (
        token_request(sandbox_client, shop, grant_type="password").json()["error"] == "unsupported_grant_type"
    )


def test_expiring_token_and_rotating_refresh(sandbox_client):
    shop = make_shop(sandbox_client)
    first = install(sandbox_client, shop, expiring=True)
    assert first["expires_in"] == 3600 and first["refresh_token_expires_in"] == 90 * 24 * 3600
    assert first["refresh_token"] and first["refresh_token"] != first["access_token"]

    def refresh(token):
        return token_request(sandbox_client, shop, grant_type="refresh_token", refresh_token=token)

    second = refresh(first["refresh_token"]).json()
    assert (
        second["access_token"] != first["access_token"] and second["refresh_token"] != first["refresh_token"]
    )
    # the answer may have been lost: until the new refresh token is used, the old one still works...
    second_again = refresh(first["refresh_token"]).json()
    assert refresh(second["refresh_token"]).status_code == 400  # ...and replaces the lost one
    third = refresh(second_again["refresh_token"])
    assert third.status_code == 200
    rejected = refresh(first["refresh_token"])  # its successor was used: retired
    assert rejected.status_code == 400 and rejected.json()["error"] == "invalid_grant"
    assert refresh("shprt_unknown").status_code == 400
    for token in (first, second, third.json()):  # access tokens live until they expire
        assert gql(sandbox_client, shop, token["access_token"], "{ shop { id } }").status_code == 200


def test_expire_tokens_only_touches_expiring_tokens(sandbox_client):
    shop = make_shop(sandbox_client)
    plain = install(sandbox_client, shop)["access_token"]
    expiring = install(sandbox_client, shop, expiring=True)
    faults(sandbox_client, expire_tokens=True)
    expired = gql(sandbox_client, shop, expiring["access_token"], "{ shop { id } }")
    assert expired.status_code == 401 and expired.json() == INVALID_TOKEN
    assert gql(sandbox_client, shop, plain, "{ shop { id } }").status_code == 200
    assert state(sandbox_client, shop)["tokens"]["expired"] == 1
    renewed = token_request(
        sandbox_client, shop, grant_type="refresh_token", refresh_token=expiring["refresh_token"]
    )
    assert gql(sandbox_client, shop, renewed.json()["access_token"], "{ shop { id } }").status_code == 200


# --- GraphQL ---------------------------------------------------------------------------------------------
@pytest.fixture
def shop_token(sandbox_client):
    shop = make_shop(sandbox_client)
    return shop, install(sandbox_client, shop)["access_token"]


def test_shop_query_with_cost_extensions(sandbox_client, shop_token):
    shop, token = shop_token
    response = gql(
        sandbox_client, shop, token, "{ shop { id name myshopifyDomain currencyCode ianaTimezone } }"
    )
    assert response.status_code == 200
    assert response.headers["X-Shopify-API-Version"] == "2026-07"
    body = response.json()
    assert body["data"]["shop"] == {
        "id": state(sandbox_client, shop)["shop"]["gid"],
        "name": "Acme Foods",
        "myshopifyDomain": shop,
        "currencyCode": "TWD",
        "ianaTimezone": "Asia/Taipei",
    }
    cost = body["extensions"]["cost"]
    assert cost["requestedQueryCost"] == 1 and cost["actualQueryCost"] == 1
    assert cost["throttleStatus"]["maximumAvailable"] == 2000.0
    assert cost["throttleStatus"]["restoreRate"] == 100.0
    assert 1990 <= cost["throttleStatus"]["currentlyAvailable"] <= 2000


@pytest.mark.parametrize(
    ("token", "shop_override"),
    [(None, None), ("shpat_" + "0" * 32, None), ("own", "other")],
)
def test_unknown_missing_or_foreign_token_is_401(sandbox_client, shop_token, token, shop_override):
    shop, own = shop_token
    target = make_shop(sandbox_client, name="Other") if shop_override else shop
    response = gql(sandbox_client, target, own if token == "own" else token, "{ shop { id } }")
    assert response.status_code == 401
    assert response.json() == INVALID_TOKEN


def test_request_errors(sandbox_client, shop_token):
    shop, token = shop_token
    missing = sandbox_client.post(
        f"{BASE}/{shop}/admin/api/2026-07/graphql.json",
        json={"variables": {}},
        headers={"X-Shopify-Access-Token": token},
    )
    assert missing.status_code == 400
    assert missing.json() == {"errors": {"query": "Required parameter missing or invalid"}}
    assert gql(sandbox_client, shop, token, "{ shop { id } }", version="2026-13").status_code == 404
    assert gql(sandbox_client, "nope.myshopify.com", token, "{ shop { id } }").status_code == 404
    syntax = gql(sandbox_client, shop, token, "{ shop { id ")
    assert syntax.status_code == 200
    assert syntax.json()["errors"][0]["message"].startswith("Syntax Error")
    assert syntax.json()["errors"][0]["locations"]


def test_unknown_field_error_looks_like_shopifys(sandbox_client, shop_token):
    shop, token = shop_token
    response = gql(sandbox_client, shop, token, "query Probe { shop { id nickname } files { id } }")
    assert response.status_code == 200
    errors = response.json()["errors"]
    assert "data" not in response.json()
    assert errors[0] == {
        "message": "Field 'nickname' doesn't exist on type 'Shop'",
        "locations": [{"line": 1, "column": 25}],
        "path": ["query Probe", "shop", "nickname"],
        "extensions": {"code": "undefinedField", "typeName": "Shop", "fieldName": "nickname"},
    }
    assert errors[1]["message"] == "Field 'files' doesn't exist on type 'QueryRoot'"
    assert errors[1]["path"] == ["query Probe", "files"]


def test_argument_errors_look_like_shopifys(sandbox_client, shop_token):
    shop, token = shop_token
    extra = gql(sandbox_client, shop, token, "{ shop(id: 1) { id } }").json()["errors"][0]
    assert extra["message"] == "Field 'shop' doesn't accept argument 'id'"
    assert extra["extensions"]["code"] == "argumentNotAccepted"
    missing = gql(
        sandbox_client, shop, token, "mutation { webhookSubscriptionDelete { userErrors { message } } }"
    )
    error = missing.json()["errors"][0]
    assert error["message"] == "Field 'webhookSubscriptionDelete' is missing required arguments: id"
    assert error["extensions"]["code"] == "missingRequiredArguments"


def test_aliases_fragments_variables_and_raw_graphql(sandbox_client, shop_token):
    shop, token = shop_token
    query = """query Q($n: Int!) { s: shop { ...F } hooks: webhookSubscriptions(first: $n) { nodes { id } } }
               fragment F on Shop { name myshopifyDomain }"""
    body = gql(sandbox_client, shop, token, query, {"n": 5}).json()
    assert body["data"] == {"s": {"name": "Acme Foods", "myshopifyDomain": shop}, "hooks": {"nodes": []}}
    assert body["extensions"]["cost"]["requestedQueryCost"] == 1 + 2 + 5
    raw = sandbox_client.post(
        f"{BASE}/{shop}/admin/api/unstable/graphql.json",
        content="{ shop { name } }",
        headers={"X-Shopify-Access-Token": token, "Content-Type": "application/graphql"},
    )
    assert raw.json()["data"] == {"shop": {"name": "Acme Foods"}}
    bad_variable = gql(sandbox_client, shop, token, query, {"n": "many"})
    assert bad_variable.status_code == 200 and "$n" in bad_variable.json()["errors"][0]["message"]


def test_webhook_subscriptions_lifecycle(sandbox_client, shop_token):
    shop, token = shop_token
    created = [
        create_webhook(sandbox_client, shop, token, topic)["webhookSubscription"]
        for topic in ("ORDERS_CREATE", "ORDERS_UPDATED", "APP_UNINSTALLED")
    ]
    assert [w["topic"] for w in created] == ["ORDERS_CREATE", "ORDERS_UPDATED", "APP_UNINSTALLED"]
    assert all(w["format"] == "JSON" and w["uri"] == "https://wms.example/hooks" for w in created)

    page = """query($after: String) { webhookSubscriptions(first: 2, after: $after) {
                edges { cursor node { id } } pageInfo { hasNextPage hasPreviousPage endCursor } } }"""
    first = gql(sandbox_client, shop, token, page).json()["data"]["webhookSubscriptions"]
    assert [e["node"]["id"] for e in first["edges"]] == [created[0]["id"], created[1]["id"]]
    assert first["pageInfo"]["hasNextPage"] is True and first["pageInfo"]["hasPreviousPage"] is False
    second = gql(sandbox_client, shop, token, page, {"after": first["pageInfo"]["endCursor"]}).json()
    second = second["data"]["webhookSubscriptions"]
    assert [e["node"]["id"] for e in second["edges"]] == [created[2]["id"]]
    assert second["pageInfo"]["hasNextPage"] is False and second["pageInfo"]["hasPreviousPage"] is True

    filtered = gql(
        sandbox_client,
        shop,
        token,
        "{ webhookSubscriptions(first: 10, topics: [APP_UNINSTALLED]) { nodes { topic } } }",
    ).json()
    assert filtered["data"]["webhookSubscriptions"]["nodes"] == [{"topic": "APP_UNINSTALLED"}]
    no_size = gql(sandbox_client, shop, token, "{ webhookSubscriptions { nodes { id } } }").json()
    assert no_size["errors"][0]["message"] == "you must provide one of first or last"

    one = gql(
        sandbox_client,
        shop,
        token,
        "query($id: ID!) { webhookSubscription(id: $id) { topic apiVersion { handle } } }",
        {"id": created[1]["id"]},
    ).json()["data"]["webhookSubscription"]
    assert one == {"topic": "ORDERS_UPDATED", "apiVersion": {"handle": "2026-07"}}

    delete = (
        "mutation($id: ID!) { webhookSubscriptionDelete(id: $id) {"
        " deletedWebhookSubscriptionId userErrors { field message } } }"
    )
    gone = gql(sandbox_client, shop, token, delete, {"id": created[0]["id"]}).json()
    assert gone["data"]["webhookSubscriptionDelete"] == {
        "deletedWebhookSubscriptionId": created[0]["id"],
        "userErrors": [],
    }
    assert gone["extensions"]["cost"]["requestedQueryCost"] == 10
    again = gql(sandbox_client, shop, token, delete, {"id": created[0]["id"]}).json()
    assert again["data"]["webhookSubscriptionDelete"] == {
        "deletedWebhookSubscriptionId": None,
        "userErrors": [{"field": ["id"], "message": "Webhook subscription does not exist"}],
    }
    invalid = gql(sandbox_client, shop, token, delete, {"id": "42"}).json()
    assert invalid["errors"][0]["message"] == "Invalid global id '42'"
    assert len(state(sandbox_client, shop)["webhooks"]) == 2


def test_webhook_create_user_errors(sandbox_client):
    shop = make_shop(sandbox_client)
    token = install(sandbox_client, shop, scope="read_products")["access_token"]
    refused = create_webhook(sandbox_client, shop, token, "ORDERS_CREATE")
    assert refused == {
        "webhookSubscription": None,
        "userErrors": [
            {
                "field": ["topic"],
                "message": "You cannot create a webhook subscription with the specified topic",
            }
        ],
    }
    assert create_webhook(sandbox_client, shop, token, "PRODUCTS_UPDATE")["userErrors"] == []
    taken = create_webhook(sandbox_client, shop, token, "PRODUCTS_UPDATE")
    assert taken["userErrors"][0]["message"] == "Address for this topic has already been taken"
    assert (
        create_webhook(sandbox_client, shop, token, "APP_UNINSTALLED", uri="ftp://x")["userErrors"][0][
            "message"
        ]
        == "Address is invalid"
    )
    assert (
        create_webhook(sandbox_client, shop, token, "APP_UNINSTALLED", uri="")["userErrors"][0]["message"]
        == "Address can't be blank"
    )
    assert [w["topic"] for w in state(sandbox_client, shop)["webhooks"]] == ["PRODUCTS_UPDATE"]


def test_cost_bucket_throttles_and_refuses_oversized_queries(sandbox_client):
    shop = make_shop(sandbox_client, bucket_size=25, restore_rate=0.001)
    token = install(sandbox_client, shop)["access_token"]
    create_webhook(sandbox_client, shop, token, "ORDERS_CREATE")
    create_webhook(sandbox_client, shop, token, "ORDERS_UPDATED")
    throttled = gql(
        sandbox_client,
        shop,
        token,
        CREATE,
        {"topic": "ORDERS_CANCELLED", "sub": {"uri": "https://x.example"}},
    )
    assert throttled.status_code == 200
    body = throttled.json()
    assert body["errors"][0]["message"] == "Throttled"
    assert body["errors"][0]["extensions"]["code"] == "THROTTLED"
    cost = body["extensions"]["cost"]
    assert cost["requestedQueryCost"] == 10 and cost["actualQueryCost"] is None
    assert cost["throttleStatus"]["maximumAvailable"] == 25.0
    assert 5 <= cost["throttleStatus"]["currentlyAvailable"] < 5.1
    assert len(state(sandbox_client, shop)["webhooks"]) == 2  # the throttled mutation did nothing
    oversized = gql(
        sandbox_client, shop, token, "{ webhookSubscriptions(first: 50) { nodes { id } } }"
    ).json()
    assert oversized["errors"][0]["extensions"]["code"] == "MAX_COST_EXCEEDED"
    assert oversized["errors"][0]["message"].startswith("Query cost is 52, which exceeds")


def test_app_uninstall_revokes_tokens_and_deletes_webhooks(sandbox_client, shop_token):
    shop, token = shop_token
    other = make_shop(sandbox_client, name="Other")
    other_token = install(sandbox_client, other)["access_token"]
    create_webhook(sandbox_client, shop, token)
    create_webhook(sandbox_client, other, other_token)
    body = gql(
        sandbox_client,
        shop,
        token,
        "mutation { appUninstall { app { id title } userErrors { field message code } } }",
    ).json()
    assert body["data"]["appUninstall"]["userErrors"] == []
    assert body["data"]["appUninstall"]["app"]["title"]
    seen = state(sandbox_client, shop)
    assert seen["installed"] is False and seen["webhooks"] == [] and seen["tokens"]["revoked"] == 1
    assert gql(sandbox_client, shop, token, "{ shop { id } }").status_code == 401
    assert len(state(sandbox_client, other)["webhooks"]) == 1  # another shop is untouched
    assert gql(sandbox_client, other, other_token, "{ shop { id } }").status_code == 200


def test_rest_uninstall_and_access_scopes(sandbox_client, shop_token):
    shop, token = shop_token
    headers = {"X-Shopify-Access-Token": token}
    scopes = sandbox_client.get(f"{BASE}/{shop}/admin/oauth/access_scopes.json", headers=headers)
    assert scopes.json() == {"access_scopes": [{"handle": "read_orders"}, {"handle": "write_orders"}]}
    create_webhook(sandbox_client, shop, token)
    assert sandbox_client.delete(f"{BASE}/{shop}/admin/api_permissions/current.json").status_code == 401
    response = sandbox_client.delete(f"{BASE}/{shop}/admin/api_permissions/current.json", headers=headers)
    assert response.status_code == 200
    assert state(sandbox_client, shop)["webhooks"] == []
    assert (
        sandbox_client.get(f"{BASE}/{shop}/admin/oauth/access_scopes.json", headers=headers).status_code
        == 401
    )


@pytest.mark.parametrize(("status", "code"), [("frozen", 402), ("locked", 423)])
def test_frozen_and_locked_shops(sandbox_client, shop_token, status, code):
    shop, token = shop_token
    sandbox_client.post(f"{CONSOLE}/shop_status", json={"shop": shop, "status": status})
    response = gql(sandbox_client, shop, token, "{ shop { id } }")
    assert response.status_code == code
    assert isinstance(response.json()["errors"], str)


# --- faults ----------------------------------------------------------------------------------------------
def test_throttle_fault_shapes(sandbox_client, shop_token):
    shop, token = shop_token
    faults(sandbox_client, throttle_next=2)
    graphql = gql(sandbox_client, shop, token, "{ shop { id } }")
    assert graphql.status_code == 200
    assert graphql.json()["errors"] == [
        {
            "message": "Throttled",
            "extensions": {"code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits"},
        }
    ]
    assert graphql.json()["extensions"]["cost"]["requestedQueryCost"] == 1
    assert graphql.json()["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] == 0
    rest = token_request(sandbox_client, shop, code="whatever")
    assert rest.status_code == 429
    assert rest.headers["Retry-After"] == "2.0"
    assert rest.json() == {
        "errors": "Exceeded 2 calls per second for api client. "
        "Reduce request rates to resume uninterrupted service."
    }
    assert gql(sandbox_client, shop, token, "{ shop { id } }").json()["data"]


def test_server_error_malformed_and_timeout_faults(sandbox_client, shop_token):
    shop, token = shop_token
    faults(sandbox_client, fail_next=1)
    failed = gql(sandbox_client, shop, token, "{ shop { id } }")
    assert failed.status_code == 503 and failed.headers["content-type"].startswith("text/html")
    faults(sandbox_client, malformed_next=1)
    broken = gql(sandbox_client, shop, token, "{ shop { id } }")
    assert broken.status_code == 200
    with pytest.raises(ValueError):
        json.loads(broken.text)
    faults(sandbox_client, timeout_next=1)
    with pytest.raises(httpx.ReadTimeout):
        gql(sandbox_client, shop, token, "{ shop { id } }")
    assert gql(sandbox_client, shop, token, "{ shop { id } }").status_code == 200
    calls = state(sandbox_client, shop)["calls"]
    assert [c["status"] for c in calls[-3:]] == [503, 200, 200]
