"""Shared helpers for the Shopee client and sandbox tests: contexts, the consent form, signing."""

from __future__ import annotations

import hashlib
import hmac
import time
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

from ecbridge.platforms.base import AccountContext
from ecbridge.platforms.settings import platform_settings
from ecbridge.platforms.shopee.client import ShopeeClient

PARTNER_ID = 2001887
PARTNER_KEY = "sandbox-shopee-key"
REDIRECT_URI = "https://wms.example.com/integrations/oauth/shopee/callback"
API = "/sandbox/shopee"


def make_client(*, tokens=None, shop_id="", **settings_overrides) -> ShopeeClient:
    settings = platform_settings("shopee") | settings_overrides
    ctx = AccountContext(
        account_id=None,
        merchant_id=None,
        platform="shopee",
        tokens=dict(tokens or {}),
        shop_id=str(shop_id),
        settings=settings,
    )
    return ShopeeClient(ctx)


class FormReader(HTMLParser):
    """What a browser would submit from the page's first form (hidden inputs, the checked radio,
    the selected option), plus every radio offered."""

    def __init__(self):
        super().__init__()
        self.action = None
        self.fields: dict[str, str] = {}
        self.radios: list[str] = []
        self.buttons: list[str] = []
        self._select = None
        self._in_button = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and self.action is None:
            self.action = a.get("action")
        elif tag == "input" and a.get("type") == "radio":
            self.radios.append(a["value"])
            if "checked" in a:
                self.fields[a["name"]] = a["value"]
        elif tag == "input":
            self.fields[a["name"]] = a.get("value", "")
        elif tag == "select":
            self._select = a["name"]
        elif tag == "option" and self._select and "selected" in a:
            self.fields[self._select] = a["value"]
        elif tag == "button":
            self._in_button = True

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        if tag == "button":
            self._in_button = False

    def handle_data(self, data):
        if self._in_button and data.strip():
            self.buttons.append(data.strip())


def read_form(html: str) -> FormReader:
    reader = FormReader()
    reader.feed(html)
    return reader


def path_and_query(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def authorize_in_browser(sandbox_client, client: ShopeeClient, *, shop_id=None, state="st4te") -> dict:
    """authorize_url → consent page → Authorize → the callback's query parameters."""
    url = client.authorize_url(state=state, redirect_uri=REDIRECT_URI)
    if shop_id is not None:
        url += f"&shop_id={shop_id}"
    page = sandbox_client.get(path_and_query(url))
    assert page.status_code == 200, page.text
    form = read_form(page.text)
    answer = sandbox_client.post(form.action, data=form.fields)
    assert answer.status_code == 302, answer.text
    location = answer.headers["location"]
    assert location.startswith(REDIRECT_URI + "?")
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def create_shop(sandbox_client, **body) -> dict:
    response = sandbox_client.post(f"{API}/_console/shops", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def connect(sandbox_client, **shop) -> tuple[ShopeeClient, dict]:
    """The whole connect flow; returns a client holding the tokens, and the shop."""
    created = create_shop(sandbox_client, **shop)
    client = make_client()
    params = authorize_in_browser(sandbox_client, client, shop_id=created["id"])
    tokens = client.exchange_code(params, redirect_uri=REDIRECT_URI)
    connected = make_client(tokens=tokens.as_secret_dict(), shop_id=tokens.shop_id)
    return connected, created


def sign(base: str, key: str = PARTNER_KEY) -> str:
    """The tests' own HMAC (independent of both the client and the sandbox)."""
    return hmac.new(key.encode(), base.encode(), hashlib.sha256).hexdigest()


def public_query(path: str, *, ts=None, partner_id=PARTNER_ID, key=PARTNER_KEY, **extra) -> dict:
    ts = int(time.time()) if ts is None else ts
    return {"partner_id": partner_id, "timestamp": ts, "sign": sign(f"{partner_id}{path}{ts}", key), **extra}


def shop_query(path: str, token: str, shop_id, *, ts=None, partner_id=PARTNER_ID, key=PARTNER_KEY) -> dict:
    ts = int(time.time()) if ts is None else ts
    return {
        "partner_id": partner_id,
        "timestamp": ts,
        "access_token": token,
        "shop_id": shop_id,
        "sign": sign(f"{partner_id}{path}{ts}{token}{shop_id}", key),
    }
