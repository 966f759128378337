"""The Shopee sandbox over raw HTTP: Shopee's gateway checks, errors and envelopes, the
authorization pages, token rotation, and the console API. Requests are signed with the tests'
own HMAC (tests/platforms/shopee/helpers.sign), independent of the client and the sandbox."""

import ast
import json
import re
import time
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.conf import settings

from ecbridge.sandbox import shopee as shopee_module
from tests.platforms.shopee.helpers import (
    API,
    PARTNER_ID,
    PARTNER_KEY,
    REDIRECT_URI,
    create_shop,
    public_query,
    read_form,
    shop_query,
)

TOKEN_GET = "/api/v2/auth/token/get"
REFRESH = "/api/v2/auth/access_token/get"
SHOP_INFO = "/api/v2/shop/get_shop_info"
SHOPS = "/api/v2/public/get_shops_by_partner"


@pytest.fixture
def shopee(sandbox):
    return sandbox.sandbox("shopee")


def auth_page_query(**overrides):
    query = {
        "partner_id": PARTNER_ID,
        "auth_type": "seller",
        "redirect_uri": REDIRECT_URI,
        "response_type": "code",
        "state": "xyz",
    }
    query.update(overrides)
    return urlencode({k: v for k, v in query.items() if v is not None})


def consent(http, shop_id, *, state="xyz", redirect_uri=REDIRECT_URI, days=None) -> dict:
    data = {
        "partner_id": PARTNER_ID,
        "redirect_uri": redirect_uri,
        "state": state,
        "auth_type": "seller",
        "response_type": "code",
        "shop_id": shop_id,
    }
    if days is not None:
        data["duration_days"] = days
    response = http.post(f"{API}/auth", data=data)
    assert response.status_code == 302, response.text
    return {k: v[0] for k, v in parse_qs(urlsplit(response.headers["location"]).query).items()}


def token_get(http, code, shop_id, *, ts=None, **body):
    payload = {"code": code, "partner_id": PARTNER_ID, "shop_id": int(shop_id), **body}
    return http.post(f"{API}{TOKEN_GET}", params=public_query(TOKEN_GET, ts=ts), json=payload)


def refresh(http, refresh_token, shop_id, *, ts=None, **body):
    payload = {"refresh_token": refresh_token, "partner_id": PARTNER_ID, "shop_id": int(shop_id), **body}
    return http.post(f"{API}{REFRESH}", params=public_query(REFRESH, ts=ts), json=payload)


def shop_info(http, token, shop_id, *, ts=None):
    return http.get(f"{API}{SHOP_INFO}", params=shop_query(SHOP_INFO, token, shop_id, ts=ts))


def authorized(http, **shop_body) -> tuple[dict, dict]:
    shop = create_shop(http, **shop_body)
    params = consent(http, shop["id"])
    response = token_get(http, params["code"], shop["id"])
    assert response.status_code == 200, response.text
    return shop, response.json()


def error_of(response) -> tuple[int, str, str]:
    body = response.json()
    return response.status_code, body["error"], body["message"]


# --- the module itself ---------------------------------------------------------------------------
def test_sandbox_imports_neither_the_clients_nor_django():
    tree = ast.parse(Path(shopee_module.__file__).read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add(node.module or "")
    assert not any(name.startswith(("ecbridge.platforms", "django")) for name in imported)


def test_partner_credentials_equal_the_development_settings():
    assert shopee_module.PARTNER_ID == settings.PLATFORMS["shopee"]["partner_id"] == PARTNER_ID
    assert shopee_module.PARTNER_KEY == settings.PLATFORMS["shopee"]["partner_key"] == PARTNER_KEY


# --- consent page ----------------------------------------------------------------------------------
def test_consent_page_lists_shops_and_preselects_the_requested_one(sandbox_client):
    first = create_shop(sandbox_client, name="First <b>shop</b>")
    second = create_shop(sandbox_client, name="Second shop", region="SG")
    page = sandbox_client.get(f"{API}/auth?{auth_page_query(shop_id=second['id'])}")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    form = read_form(page.text)
    assert form.action == f"{API}/auth"
    assert form.radios == [first["id"], second["id"]]
    assert form.fields["shop_id"] == second["id"]
    assert form.fields["duration_days"] == "365"
    assert form.fields["state"] == "xyz" and form.fields["redirect_uri"] == REDIRECT_URI
    assert form.buttons == ["Authorize"]
    assert "First &lt;b&gt;shop&lt;/b&gt;" in page.text  # escaped
    # without a shop_id the first shop is chosen
    assert (
        read_form(sandbox_client.get(f"{API}/auth?{auth_page_query()}").text).fields["shop_id"] == first["id"]
    )


def test_consent_page_without_shops_offers_no_authorize_button(sandbox_client):
    page = sandbox_client.get(f"{API}/auth?{auth_page_query()}")
    assert page.status_code == 200
    assert "no shops" in page.text and "<form" not in page.text


@pytest.mark.parametrize(
    ("overrides", "msg"),
    [
        ({"partner_id": 999}, "Invalid partner_id."),
        ({"partner_id": "abc"}, "Invalid partner_id."),
        ({"partner_id": None}, "partner_id is required."),
        ({"redirect_uri": None}, "redirect_uri is required."),
        ({"redirect_uri": "javascript:alert(1)"}, "redirect_uri is invalid."),
        ({"auth_type": "supplier"}, "The sandbox supports auth_type=seller only."),
        ({"response_type": "token"}, "response_type must be code."),
    ],
)
def test_consent_page_rejects_bad_links_with_shopee_json(sandbox_client, overrides, msg):
    create_shop(sandbox_client)
    response = sandbox_client.get(f"{API}/auth?{auth_page_query(**overrides)}")
    assert response.status_code == 400
    assert response.json() == {"code": 1, "error": "error_param", "msg": msg}


def test_redirect_domain_can_be_enforced(sandbox_client, monkeypatch):
    monkeypatch.setattr(shopee_module, "REDIRECT_DOMAIN", "example.com")
    create_shop(sandbox_client)
    assert sandbox_client.get(f"{API}/auth?{auth_page_query()}").status_code == 200  # wms.example.com
    response = sandbox_client.get(f"{API}/auth?{auth_page_query(redirect_uri='https://evil.test/cb')}")
    assert response.json()["msg"] == shopee_module.MSG_REDIRECT_DOMAIN


def test_authorize_redirects_with_a_single_use_code(sandbox_client, shopee):
    shop = create_shop(sandbox_client)
    params = consent(sandbox_client, shop["id"], redirect_uri=REDIRECT_URI + "?keep=1", state="s t")
    assert re.fullmatch(r"[0-9a-f]{32}", params["code"])
    assert params["shop_id"] == shop["id"] and params["state"] == "s t" and params["keep"] == "1"
    first = token_get(sandbox_client, params["code"], shop["id"])
    assert first.status_code == 200
    second = token_get(sandbox_client, params["code"], shop["id"])
    assert error_of(second) == (
        200,
        "invalid_code",
        "The code is expired or used or invalid, please check the code.",
    )


def test_state_is_omitted_when_not_given(sandbox_client):
    shop = create_shop(sandbox_client)
    assert "state" not in consent(sandbox_client, shop["id"], state="")


def test_code_is_valid_ten_minutes(sandbox_client, shopee):
    shop = create_shop(sandbox_client)
    params = consent(sandbox_client, shop["id"])
    later = time.time() + 601
    shopee.clock = lambda: later
    response = token_get(sandbox_client, params["code"], shop["id"], ts=int(later))
    assert error_of(response)[1] == "invalid_code"


def test_authorize_refuses_unknown_and_banned_shops(sandbox_client):
    normal = create_shop(sandbox_client)
    banned = create_shop(sandbox_client, status="BANNED")
    base = {
        "partner_id": PARTNER_ID,
        "redirect_uri": REDIRECT_URI,
        "auth_type": "seller",
        "response_type": "code",
    }
    unknown = sandbox_client.post(f"{API}/auth", data={**base, "shop_id": "123"})
    assert unknown.status_code == 400 and unknown.json()["msg"] == "shop_id is invalid."
    refused = sandbox_client.post(f"{API}/auth", data={**base, "shop_id": banned["id"]})
    assert refused.status_code == 403 and refused.json()["error"] == "shop_banned"
    bad_days = sandbox_client.post(
        f"{API}/auth", data={**base, "shop_id": normal["id"], "duration_days": "400"}
    )
    assert (
        bad_days.status_code == 400 and bad_days.json()["msg"] == "duration_days must be between 1 and 365."
    )
    state = sandbox_client.get(f"{API}/_console/state").json()
    assert state["authorizations"] == [] and state["pending_codes"] == 0  # nothing half-written


def test_legacy_signed_link_shows_the_same_consent_page(sandbox_client):
    shop = create_shop(sandbox_client)
    path = "/api/v2/shop/auth_partner"
    page = sandbox_client.get(f"{API}{path}", params=public_query(path, redirect=REDIRECT_URI))
    assert page.status_code == 200
    form = read_form(page.text)
    assert form.fields["redirect_uri"] == REDIRECT_URI and form.fields["shop_id"] == shop["id"]
    done = sandbox_client.post(form.action, data=form.fields)
    assert done.status_code == 302 and done.headers["location"].startswith(REDIRECT_URI + "?code=")

    bad = sandbox_client.get(
        f"{API}{path}", params={**public_query(path, redirect=REDIRECT_URI), "sign": "0" * 64}
    )
    assert error_of(bad) == (403, "error_sign", "Wrong sign.")
    stale = sandbox_client.get(
        f"{API}{path}", params=public_query(path, ts=int(time.time()) - 301, redirect=REDIRECT_URI)
    )
    assert error_of(stale) == (400, "error_param", "Timestamp is expired.")
    missing = sandbox_client.get(f"{API}{path}", params=public_query(path))
    assert missing.json() == {"code": 1, "error": "error_param", "msg": "redirect is required."}


# --- gateway checks ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda q: q.pop("partner_id"), (400, "error_param", "There is no partner_id in query.")),
        (
            lambda q: q.update(partner_id="x1"),
            (400, "error_param", "Partner_id is invalid, should be an integer between 0 and 4294967295."),
        ),
        (lambda q: q.update(partner_id=5), (400, "error_param", "Invalid partner_id.")),
        (lambda q: q.pop("timestamp"), (400, "error_param", "no timestamp")),
        (
            lambda q: q.update(timestamp="soon"),
            (400, "error_param", "Timestamp is invalid, should be an integer between 0 and 4294967295."),
        ),
        (lambda q: q.pop("sign"), (400, "error_param", "There is no sign in query.")),
        (lambda q: q.update(sign="ab" * 32), (403, "error_sign", "Wrong sign.")),
    ],
)
def test_public_api_gateway_checks(sandbox_client, change, expected):
    query = public_query(SHOPS)
    change(query)
    response = sandbox_client.get(f"{API}{SHOPS}", params=query)
    assert error_of(response) == expected
    assert set(response.json()) == {"request_id", "error", "message"}


def test_timestamps_older_than_five_minutes_or_from_the_future_are_refused(sandbox_client):
    now = int(time.time())
    assert sandbox_client.get(f"{API}{SHOPS}", params=public_query(SHOPS, ts=now - 290)).status_code == 200
    stale = sandbox_client.get(f"{API}{SHOPS}", params=public_query(SHOPS, ts=now - 310))
    assert error_of(stale) == (400, "error_param", "Timestamp is expired.")
    future = sandbox_client.get(f"{API}{SHOPS}", params=public_query(SHOPS, ts=now + 400))
    assert error_of(future) == (400, "error_param", "Invalid timestamp")


def test_sign_with_another_key_or_path_is_wrong(sandbox_client):
    wrong_key = sandbox_client.get(f"{API}{SHOPS}", params=public_query(SHOPS, key="not-the-key"))
    assert error_of(wrong_key) == (403, "error_sign", "Wrong sign.")
    wrong_path = sandbox_client.get(f"{API}{SHOPS}", params=public_query(TOKEN_GET))
    assert error_of(wrong_path) == (403, "error_sign", "Wrong sign.")


def test_shop_api_gateway_checks(sandbox_client, shopee):
    shop, tokens = authorized(sandbox_client)
    other, _ = authorized(sandbox_client)
    token = tokens["access_token"]
    ok = shop_info(sandbox_client, token, shop["id"])
    assert ok.status_code == 200

    query = shop_query(SHOP_INFO, token, shop["id"])
    query.pop("access_token")
    missing = sandbox_client.get(f"{API}{SHOP_INFO}", params=query)
    assert error_of(missing) == (400, "error_param", "There is no access_token in query.")
    query = shop_query(SHOP_INFO, token, shop["id"])
    query.pop("shop_id")
    assert error_of(sandbox_client.get(f"{API}{SHOP_INFO}", params=query))[1] == "error_param"
    # a public sign (without token and shop) on a Shop API is wrong
    public = {**public_query(SHOP_INFO), "access_token": token, "shop_id": shop["id"]}
    assert error_of(sandbox_client.get(f"{API}{SHOP_INFO}", params=public)) == (
        403,
        "error_sign",
        "Wrong sign.",
    )

    unknown = shop_info(sandbox_client, "f" * 32, shop["id"])
    assert error_of(unknown) == (403, "error_auth", "Invalid access_token.")
    crossed = shop_info(sandbox_client, token, other["id"])
    assert error_of(crossed) == (403, "error_auth", "Invalid partner_id or shopid.")

    sandbox_client.post(f"{API}/_console/faults", json={"expire_tokens": True})
    expired = shop_info(sandbox_client, token, shop["id"])
    assert error_of(expired) == (403, "invalid_acceess_token", "Invalid access_token.")


def test_unknown_api_paths_answer_shopee_style(sandbox_client):
    response = sandbox_client.get(
        f"{API}/api/v2/order/get_nothing", params=public_query("/api/v2/order/get_nothing")
    )
    assert error_of(response)[:2] == (404, "error_param")
    wrong_method = sandbox_client.get(f"{API}{TOKEN_GET}", params=public_query(TOKEN_GET))
    assert error_of(wrong_method)[:2] == (404, "error_param")


# --- token endpoints ---------------------------------------------------------------------------------
def test_token_get_answers_top_level_fields(sandbox_client):
    shop = create_shop(sandbox_client)
    params = consent(sandbox_client, shop["id"])
    body = token_get(sandbox_client, params["code"], shop["id"]).json()
    assert body["error"] == "" and body["message"] == "" and body["request_id"]
    assert body["expire_in"] == 14400
    assert re.fullmatch(r"[0-9a-f]{32}", body["access_token"]) and re.fullmatch(
        r"[0-9a-f]{32}", body["refresh_token"]
    )
    assert "response" not in body


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"shop_id": "SHOP"}, ("error_param", "Wrong parameters, detail: shop_id must be an integer.")),
        (
            {"partner_id": 1},
            ("error_param", "Wrong parameters, detail: partner_id in the body does not match the query."),
        ),
        (
            {"partner_id": str(PARTNER_ID)},
            ("error_param", "Wrong parameters, detail: partner_id in the body does not match the query."),
        ),
        ({"code": ""}, ("error_param", "Wrong parameters, detail: code is required.")),
    ],
)
def test_token_get_checks_its_body(sandbox_client, body, expected):
    shop = create_shop(sandbox_client)
    params = consent(sandbox_client, shop["id"])
    payload = {"code": params["code"], "partner_id": PARTNER_ID, "shop_id": int(shop["id"]), **body}
    if body.get("shop_id") == "SHOP":
        payload["shop_id"] = shop["id"]  # the id as a string, not a JSON integer
    response = sandbox_client.post(f"{API}{TOKEN_GET}", params=public_query(TOKEN_GET), json=payload)
    assert error_of(response)[1:] == expected
    # nothing was spent: the code still works
    assert token_get(sandbox_client, params["code"], shop["id"]).status_code == 200


def test_token_get_rejects_a_body_that_is_not_json(sandbox_client):
    response = sandbox_client.post(f"{API}{TOKEN_GET}", params=public_query(TOKEN_GET), content=b"code=1")
    assert error_of(response)[:2] == (400, "error_param")


def test_token_get_for_another_shop_keeps_the_code(sandbox_client):
    shop = create_shop(sandbox_client)
    other = create_shop(sandbox_client)
    params = consent(sandbox_client, shop["id"])
    wrong = token_get(sandbox_client, params["code"], other["id"])
    assert error_of(wrong) == (
        200,
        "invalid_shop_id",
        "The code or shop_id is wrong, please check the code or the shop_id.",
    )
    assert token_get(sandbox_client, params["code"], shop["id"]).status_code == 200


def test_main_accounts_do_not_exist_in_the_sandbox(sandbox_client):
    response = sandbox_client.post(
        f"{API}{TOKEN_GET}",
        params=public_query(TOKEN_GET),
        json={"code": "c" * 32, "partner_id": PARTNER_ID, "main_account_id": 5},
    )
    assert error_of(response)[1] == "invalid_main_acount_id"


def test_refresh_rotates_single_use_tokens_with_a_grace_period(sandbox_client, shopee):
    shop, first = authorized(sandbox_client)
    second = refresh(sandbox_client, first["refresh_token"], shop["id"])
    body = second.json()
    assert second.status_code == 200 and body["error"] == ""
    assert (
        body["partner_id"] == PARTNER_ID and body["shop_id"] == int(shop["id"]) and body["expire_in"] == 14400
    )
    assert body["refresh_token"] != first["refresh_token"] and body["access_token"] != first["access_token"]

    reused = refresh(sandbox_client, first["refresh_token"], shop["id"])
    assert error_of(reused) == (
        200,
        "error_shop_refresh_token",
        "Your refresh token is error ,please check refresh token or shopid.",
    )
    # the old access token keeps working for five minutes, the new one for four hours
    assert shop_info(sandbox_client, first["access_token"], shop["id"]).status_code == 200
    later = time.time() + 301
    shopee.clock = lambda: later
    old = shop_info(sandbox_client, first["access_token"], shop["id"], ts=int(later))
    assert error_of(old)[1] == "invalid_acceess_token"
    assert shop_info(sandbox_client, body["access_token"], shop["id"], ts=int(later)).status_code == 200


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({"merchant_id": 7}, "error_param"),  # two subjects
        ({"shop_id": "1"}, "error_param"),
    ],
)
def test_refresh_checks_its_body(sandbox_client, extra, expected):
    shop, tokens = authorized(sandbox_client)
    payload = {
        "refresh_token": tokens["refresh_token"],
        "partner_id": PARTNER_ID,
        "shop_id": int(shop["id"]),
        **extra,
    }
    response = sandbox_client.post(f"{API}{REFRESH}", params=public_query(REFRESH), json=payload)
    assert error_of(response)[1] == expected
    assert refresh(sandbox_client, tokens["refresh_token"], shop["id"]).status_code == 200  # not spent


def test_refresh_for_another_shop_or_a_merchant_is_refused(sandbox_client):
    shop, tokens = authorized(sandbox_client)
    other = create_shop(sandbox_client)
    assert (
        error_of(refresh(sandbox_client, tokens["refresh_token"], other["id"]))[1]
        == "error_shop_refresh_token"
    )
    merchant = sandbox_client.post(
        f"{API}{REFRESH}",
        params=public_query(REFRESH),
        json={"refresh_token": tokens["refresh_token"], "partner_id": PARTNER_ID, "merchant_id": 9},
    )
    assert error_of(merchant)[1] == "error_merchant_refresh_token"


def test_refresh_token_lives_thirty_days(sandbox_client, shopee):
    shop, tokens = authorized(sandbox_client)
    later = time.time() + 30 * 86400 + 1
    shopee.clock = lambda: later
    response = refresh(sandbox_client, tokens["refresh_token"], shop["id"], ts=int(later))
    assert error_of(response) == (200, "refresh_token_expired", "Your refresh_token expired.")


def test_lapsed_authorization_cannot_refresh(sandbox_client, shopee):
    shop = create_shop(sandbox_client)
    params = consent(sandbox_client, shop["id"], days=7)
    tokens = token_get(sandbox_client, params["code"], shop["id"]).json()
    later = time.time() + 8 * 86400
    shopee.clock = lambda: later
    response = refresh(sandbox_client, tokens["refresh_token"], shop["id"], ts=int(later))
    assert error_of(response) == (200, "shop_access_expired", "Your access to shop has expired.")
    info = shop_info(sandbox_client, tokens["access_token"], shop["id"], ts=int(later))
    assert error_of(info)[1] == "error_auth"


# --- get_shop_info / get_shops_by_partner -------------------------------------------------------------
def test_get_shop_info_top_level_fields(sandbox_client):
    shop, tokens = authorized(sandbox_client, name="台北小舖", region="TW")
    body = shop_info(sandbox_client, tokens["access_token"], shop["id"]).json()
    assert body["error"] == "" and "response" not in body
    assert body["shop_name"] == "台北小舖" and body["region"] == "TW" and body["status"] == "NORMAL"
    assert body["expire_time"] - body["auth_time"] == 365 * 86400
    assert body["is_cb"] is False


def test_get_shops_by_partner_pages_through_authorized_shops(sandbox_client):
    shops = [authorized(sandbox_client)[0] for _ in range(3)]
    create_shop(sandbox_client)  # never authorized
    first = sandbox_client.get(f"{API}{SHOPS}", params=public_query(SHOPS, page_size=2, page_no=1)).json()
    second = sandbox_client.get(f"{API}{SHOPS}", params=public_query(SHOPS, page_size=2, page_no=2)).json()
    assert first["more"] is True and second["more"] is False
    listed = [s["shop_id"] for s in first["authed_shop_list"] + second["authed_shop_list"]]
    assert listed == [int(s["id"]) for s in shops]
    assert set(first["authed_shop_list"][0]) >= {"shop_id", "region", "auth_time", "expire_time"}
    too_big = sandbox_client.get(f"{API}{SHOPS}", params=public_query(SHOPS, page_size=101))
    assert error_of(too_big)[:2] == (400, "error_param")


# --- cancelling an authorization --------------------------------------------------------------------------
def test_cancel_authorization_stops_every_token(sandbox_client):
    shop, tokens = authorized(sandbox_client)
    never = create_shop(sandbox_client)
    page = sandbox_client.get(f"{API}/cancel_auth?{auth_page_query(state=None)}")
    form = read_form(page.text)
    assert form.radios == [shop["id"]] and never["id"] not in form.radios  # only authorized shops
    assert form.buttons == ["Cancel authorization"]
    done = sandbox_client.post(form.action, data=form.fields)
    assert done.status_code == 302 and done.headers["location"] == REDIRECT_URI

    assert error_of(shop_info(sandbox_client, tokens["access_token"], shop["id"])) == (
        403,
        "error_auth",
        "Invalid partner_id or shopid.",
    )
    assert error_of(refresh(sandbox_client, tokens["refresh_token"], shop["id"])) == (
        200,
        "shop_no_linked",
        "Partner and shop has no linked.",
    )
    listed = sandbox_client.get(f"{API}{SHOPS}", params=public_query(SHOPS)).json()["authed_shop_list"]
    assert listed == []
    again = sandbox_client.post(form.action, data=form.fields)
    assert again.status_code == 400 and again.json()["error"] == "error_param"


def test_reauthorizing_after_cancel_gives_working_tokens(sandbox_client):
    shop, old = authorized(sandbox_client)
    sandbox_client.post(
        f"{API}/cancel_auth",
        data={"partner_id": PARTNER_ID, "redirect_uri": REDIRECT_URI, "shop_id": shop["id"]},
    )
    params = consent(sandbox_client, shop["id"])
    new = token_get(sandbox_client, params["code"], shop["id"]).json()
    assert shop_info(sandbox_client, new["access_token"], shop["id"]).status_code == 200
    assert error_of(shop_info(sandbox_client, old["access_token"], shop["id"]))[1] == "error_auth"


def test_legacy_cancel_link(sandbox_client):
    shop, _tokens = authorized(sandbox_client)
    path = "/api/v2/shop/cancel_auth_partner"
    page = sandbox_client.get(f"{API}{path}", params=public_query(path, redirect=REDIRECT_URI))
    assert read_form(page.text).fields["shop_id"] == shop["id"]


# --- console ---------------------------------------------------------------------------------------
def test_create_shop_defaults_and_validation(sandbox_client):
    first = create_shop(sandbox_client)
    second = create_shop(sandbox_client, name="  Named  ", region="sg")
    assert first == {
        "id": first["id"],
        "shop_id": int(first["id"]),
        "name": f"Sandbox Shop {first['id']}",
        "region": "TW",
        "status": "NORMAL",
        "created_at": first["created_at"],
    }
    assert (
        second["shop_id"] == first["shop_id"] + 1 and second["name"] == "Named" and second["region"] == "SG"
    )
    for body, words in (
        ({"region": "XX"}, "region"),
        ({"status": "GONE"}, "status"),
        ({"name": "x" * 101}, "name"),
    ):
        response = sandbox_client.post(f"{API}/_console/shops", json=body)
        assert response.status_code == 400 and words in response.json()["error"]
    assert len(sandbox_client.get(f"{API}/_console/state").json()["shops"]) == 2  # nothing half-written


def test_state_shows_counts_never_tokens(sandbox_client):
    shop, tokens = authorized(sandbox_client)
    other = create_shop(sandbox_client)
    consent(sandbox_client, other["id"])  # a pending code
    refreshed = refresh(sandbox_client, tokens["refresh_token"], shop["id"]).json()
    shop_info(sandbox_client, refreshed["access_token"], shop["id"])

    state = sandbox_client.get(f"{API}/_console/state").json()
    text = json.dumps(state)
    for secret in (
        tokens["access_token"],
        tokens["refresh_token"],
        refreshed["access_token"],
        refreshed["refresh_token"],
        PARTNER_KEY,
    ):
        assert secret not in text
    assert state["pending_codes"] == 1
    mine = next(a for a in state["authorizations"] if a["shop_id"] == int(shop["id"]))
    assert mine["status"] == "active"
    assert mine["access_tokens"]["valid"] == 2  # the old one is in its 5-minute grace
    assert mine["refresh_tokens"] == {"unused": 1, "used": 1}
    operations = [c["operation"] for c in state["calls"]]
    assert {"auth.token.get", "auth.access_token.get", "shop.get_shop_info"} <= set(operations)
    info_call = next(c for c in state["calls"] if c["operation"] == "shop.get_shop_info")
    assert info_call["shop"] == shop["id"] and "access_token" not in json.dumps(info_call)

    scoped = sandbox_client.get(f"{API}/_console/state", params={"shop": other["id"]}).json()
    assert [s["id"] for s in scoped["shops"]] == [other["id"]]
    assert [a["shop_id"] for a in scoped["authorizations"]] == [int(other["id"])]

    sandbox_client.post(f"{API}/_console/faults", json={"expire_tokens": True})
    expired = sandbox_client.get(f"{API}/_console/state").json()
    mine = next(a for a in expired["authorizations"] if a["shop_id"] == int(shop["id"]))
    assert mine["access_tokens"]["valid"] == 0 and mine["access_tokens"]["expired"] == 2


def test_console_authorize_code_helper(sandbox_client):
    shop = create_shop(sandbox_client)
    response = sandbox_client.post(
        f"{API}/_console/shops/{shop['id']}/authorize-code",
        json={"redirect_uri": REDIRECT_URI, "duration_days": 30},
    )
    body = response.json()
    assert response.status_code == 200 and body["shop_id"] == int(shop["id"])
    assert body["callback_url"] == f"{REDIRECT_URI}?code={body['code']}&shop_id={shop['id']}"
    tokens = token_get(sandbox_client, body["code"], shop["id"]).json()
    info = shop_info(sandbox_client, tokens["access_token"], shop["id"]).json()
    assert info["expire_time"] - info["auth_time"] == 30 * 86400
    assert sandbox_client.post(f"{API}/_console/shops/99/authorize-code", json={}).status_code == 404
    bad = sandbox_client.post(f"{API}/_console/shops/{shop['id']}/authorize-code", json={"duration_days": 0})
    assert bad.status_code == 400


def test_console_shop_status(sandbox_client):
    shop, tokens = authorized(sandbox_client)
    response = sandbox_client.post(f"{API}/_console/shops/{shop['id']}/status", json={"status": "frozen"})
    assert response.json()["status"] == "FROZEN"
    assert shop_info(sandbox_client, tokens["access_token"], shop["id"]).json()["status"] == "FROZEN"
    bad = sandbox_client.post(f"{API}/_console/shops/{shop['id']}/status", json={"status": "odd"})
    assert bad.status_code == 400


def test_reset_forgets_everything(sandbox_client):
    shop, tokens = authorized(sandbox_client)
    assert sandbox_client.post(f"{API}/_console/reset").json() == {"reset": True}
    state = sandbox_client.get(f"{API}/_console/state").json()
    assert state["shops"] == [] and state["authorizations"] == [] and state["calls"] == []
    assert error_of(shop_info(sandbox_client, tokens["access_token"], shop["id"]))[1] == "error_auth"
    assert create_shop(sandbox_client)["id"] == shop["id"]  # ids start again


# --- faults -----------------------------------------------------------------------------------------
def test_server_error_fault_uses_shopee_envelope(sandbox_client):
    sandbox_client.post(f"{API}/_console/faults", json={"fail_next": 1})
    response = sandbox_client.get(f"{API}{SHOPS}", params=public_query(SHOPS))
    assert error_of(response) == (500, "error_server", "Something wrong. Please try later.")
    assert sandbox_client.get(f"{API}{SHOPS}", params=public_query(SHOPS)).status_code == 200


def test_throttle_fault(sandbox_client):
    sandbox_client.post(f"{API}/_console/faults", json={"throttle_next": 1})
    response = sandbox_client.get(f"{API}{SHOPS}", params=public_query(SHOPS))
    status, error, message = error_of(response)
    assert (status, error) == (429, "error_rate_limit") and message.startswith("Too many requests")
    assert "retry-after" not in response.headers  # Shopee documents none


def test_malformed_fault_breaks_the_body(sandbox_client):
    sandbox_client.post(f"{API}/_console/faults", json={"malformed_next": 1})
    response = sandbox_client.get(f"{API}{SHOPS}", params=public_query(SHOPS))
    assert response.status_code == 200
    with pytest.raises(ValueError):
        json.loads(response.text)


def test_authorization_pages_are_exempt_from_faults(sandbox_client):
    shop = create_shop(sandbox_client)
    sandbox_client.post(f"{API}/_console/faults", json={"fail_next": 1})
    assert sandbox_client.get(f"{API}/auth?{auth_page_query()}").status_code == 200
    params = consent(sandbox_client, shop["id"])
    # the injected failure is still waiting for the first API call
    assert token_get(sandbox_client, params["code"], shop["id"]).status_code == 500
    assert token_get(sandbox_client, params["code"], shop["id"]).status_code == 200
