"""Browser end-to-end fixtures: Debian's chromium driven by Playwright against pytest-django's
live server, with the platform sandbox served over real HTTP so the browser can open the
platforms' consent pages and our server talks to the fake platforms as it would in production.

Every HTML and JSON body the live server sends is kept, so a test can assert that no secret ever
reached a page."""

from __future__ import annotations

import copy
import logging
import os
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from django.conf import settings as django_settings
from werkzeug.serving import make_server

from ecbridge.sandbox.app import create_app
from ecbridge.sandbox.store import SandboxStore
from tests.factories import PASSWORD

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--headless",
]
SCREENSHOTS = Path(django_settings.VAR_DIR) / "screenshots"
TIMEOUT_MS = 15_000


# --- the sandbox, over real HTTP ------------------------------------------------------------------
@dataclass
class SandboxServer:
    url: str
    store: SandboxStore

    def console(self, platform: str, path: str, payload: dict | None = None, *, method: str = "POST"):
        """Call the sandbox console API (``/sandbox/<platform>/_console/<path>``) and return its JSON."""
        response = httpx.request(
            method, f"{self.url}/sandbox/{platform}/_console/{path}", json=payload, timeout=10
        )
        assert response.status_code == 200, response.text
        return response.json()

    def state(self, platform: str, shop: str | None = None) -> dict:
        query = f"?shop={shop}" if shop else ""
        return self.console(platform, f"state{query}", method="GET")


@pytest.fixture(scope="session")
def sandbox_server():
    """ONE sandbox app on its own in-memory storage, served by werkzeug on a free local port."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    store = SandboxStore(":memory:")
    server = make_server("127.0.0.1", 0, create_app(store), threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="e2e-sandbox", daemon=True)
    thread.start()
    try:
        yield SandboxServer(url=f"http://127.0.0.1:{server.server_port}", store=store)
    finally:
        server.shutdown()
        thread.join(timeout=5)


@pytest.fixture
def platforms_on_sandbox(settings, live_server, sandbox_server):
    """Empty the sandbox, point every platform's base URL at it and OAuth callbacks at the live
    server. Clients read settings.PLATFORMS when they are built, so this takes effect at once."""
    for platform in ("shopee", "shopify", "momo"):
        sandbox_server.console(platform, "reset")  # every test starts with empty fake platforms
    base = sandbox_server.url
    platforms = copy.deepcopy(settings.PLATFORMS)
    platforms["shopee"].update(api_base=f"{base}/sandbox/shopee", auth_base=f"{base}/sandbox/shopee")
    platforms["shopify"]["shop_url_template"] = f"{base}/sandbox/shopify/{{shop}}"
    platforms["momo"]["api_base"] = f"{base}/sandbox/momo"
    settings.PLATFORMS = platforms
    settings.PUBLIC_URL = live_server.url.rstrip("/")
    return sandbox_server


# --- the browser ------------------------------------------------------------------------------------
@pytest.fixture
def browser(transactional_db, live_server):
    """A fresh headless chromium per test. Set up after (so torn down before) the test database:
    while Playwright's sync API runs, an asyncio loop is running in this thread, which Django's
    ORM would refuse without DJANGO_ALLOW_ASYNC_UNSAFE; the flag lives exactly as long as it."""
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium).")
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium fonts-noto-cjk)")
    from playwright.sync_api import sync_playwright

    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as pw:
            chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
            try:
                yield chromium
            finally:
                chromium.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@dataclass
class PageLog:
    """Every HTML/JSON body our server sent while the test ran (pages, htmx fragments, API answers),
    recorded on the server side so no response can slip by, however quickly the browser moves on."""

    bodies: list[tuple[str, str, int, str]] = field(default_factory=list)  # method, path, status, body
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, request, response) -> None:
        kind = response.get("Content-Type", "")
        if response.streaming or not kind.startswith(("text/html", "application/json")):
            return
        body = response.content.decode(response.charset or "utf-8", "replace")
        with self.lock:
            self.bodies.append((request.method, request.get_full_path(), response.status_code, body))

    def paths(self) -> list[str]:
        return [path for _m, path, _s, _b in self.bodies]

    def assert_no_secrets(self, secrets: Iterable[str], short_secrets: Iterable[str] = ()) -> int:
        """No page contains a secret. ``short_secrets`` (e.g. momo's 3-digit OTP back number) would
        match by chance anywhere, so they are looked for where a value is rendered: an input's value
        or a JSON string value."""
        assert self.bodies, "no page was recorded"
        long_ones = [s for s in secrets if s]
        for secret in long_ones:
            assert len(secret) >= 6, f"too short to search for safely: {secret!r}; pass it as short"
        patterns = [
            re.compile(rf"""value=["']?{re.escape(s)}(["'\s>]|$)|[:\[,]\s*["']{re.escape(s)}["']""")
            for s in short_secrets
            if s
        ]
        for method, url, _status, body in self.bodies:
            for secret in long_ones:
                assert secret not in body, f"a secret ({secret[:3]}…) is in {method} {url}"
            for pattern in patterns:
                match = pattern.search(body)
                assert match is None, f"a short secret is in {method} {url}: …{match.group(0)}…"
        return len(self.bodies)


class Site:
    """One signed-in browser tab on the live server, with screenshots and the page log."""

    def __init__(self, page, base_url: str, log: PageLog, test_name: str):
        self.page = page
        self.base_url = base_url.rstrip("/")
        self.log = log
        self.test_name = test_name

    def url(self, path: str) -> str:
        return self.base_url + path

    def goto(self, path: str):
        return self.page.goto(self.url(path))

    def login(self, username: str, password: str = PASSWORD) -> None:
        """Through the real sign-in page."""
        self.goto("/login/")
        self.page.fill("#id_username", username)
        self.page.fill("#id_password", password)
        with self.page.expect_navigation():
            self.page.click("button[type=submit]")
        assert "/login/" not in self.page.url, "sign-in failed"

    def shot(self, name: str) -> Path:
        """A full-page screenshot under var/screenshots/ for humans to review."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{self.test_name}--{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def path(self) -> str:
        return self.page.url.removeprefix(self.base_url)


@pytest.fixture
def page_log(monkeypatch) -> PageLog:
    """Record what the live server answers (it runs Django's handler in its own threads)."""
    from django.core.handlers.base import BaseHandler

    log = PageLog()
    original = BaseHandler.get_response

    def get_response(handler, request):
        response = original(handler, request)
        log.record(request, response)
        return response

    monkeypatch.setattr(BaseHandler, "get_response", get_response)
    return log


@pytest.fixture
def site(browser, live_server, platforms_on_sandbox, page_log, request):
    # Reduced motion: Bootstrap then opens dialogs without a fade, so screenshots show them whole.
    context = browser.new_context(
        viewport={"width": 1440, "height": 960}, locale="en-US", reduced_motion="reduce"
    )
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    name = re.sub(r"[^A-Za-z0-9_-]+", "_", request.node.name).removeprefix("test_")
    try:
        yield Site(page, live_server.url, page_log, name)
    finally:
        context.close()


def app_keys() -> list[str]:
    """The platform app secrets from settings (never to be shown to any user)."""
    platforms = django_settings.PLATFORMS
    return [
        str(v)
        for v in (platforms["shopee"].get("partner_key"), platforms["shopify"].get("client_secret"))
        if v
    ]


# --- accounts connected to the sandbox through the real services (for flows that start there) -------
@dataclass
class ConnectedAccounts:
    momo: object
    shopee: object
    shopify: object
    momo_shop: dict
    shopee_shop: dict
    shopify_shop: dict

    def all(self) -> list:
        return [self.momo, self.shopee, self.shopify]

    def secrets(self) -> tuple[list[str], list[str]]:
        """(secrets to search for verbatim, short secrets searched for in value contexts): the momo
        password, every stored token, the platform app keys; and the momo OTP back number."""
        long_ones = [self.momo.credentials["entp_pwd"], *app_keys()]
        for account in (self.shopee, self.shopify):
            account.refresh_from_db()
            long_ones += [v for v in account.tokens.values() if v]
        return long_ones, [self.momo.credentials["otp_back_no"]]


def _authorize(account, user, *, choose: dict | None = None) -> None:
    """Approve the sandbox's consent page over HTTP and complete the callback, as seed_demo does."""
    from ecbridge.core.demo_consent import approve
    from ecbridge.integrations.services import lifecycle

    url = lifecycle.authorize_url(account, user)
    with httpx.Client(timeout=10) as client:
        params = approve(client, url, choose=choose)
    ok, message = lifecycle.complete_authorization(account, params)
    assert ok, message


@pytest.fixture
def connected_accounts(platforms_on_sandbox, merchant, operator) -> ConnectedAccounts:
    """Acme Foods on momo, Shopee and Shopify, each Connected to its own sandbox shop."""
    from ecbridge.integrations.models import ECAccount
    from ecbridge.integrations.services import connection, lifecycle
    from tests.factories import SalesChannelFactory

    sandbox = platforms_on_sandbox
    momo_shop = sandbox.console("momo", "shops", {"name": "Acme momo"})
    shopee_shop = sandbox.console("shopee", "shops", {"name": "Acme Shopee 旗艦店"})
    shopify_shop = sandbox.console("shopify", "shops", {"name": "Acme Shopify"})

    def new(platform, name):
        channel = SalesChannelFactory(merchant=merchant, name=f"Acme {platform}")
        return ECAccount(
            merchant=merchant,
            platform=platform,
            display_name=name,
            sales_channel=channel,
            created_by=operator,
        )

    momo = new("momo", "Acme momo Store")
    lifecycle.save_account(momo, credentials=momo_shop["credentials"])
    assert connection.test_account(momo).ok
    shopee = new("shopee", "Acme Shopee Flagship")
    lifecycle.save_account(shopee, credentials={})
    _authorize(shopee, operator, choose={"shop_id": str(shopee_shop["shop_id"])})
    shopify = new("shopify", "Acme Shopify Store")
    lifecycle.save_account(shopify, credentials={"shop_domain": shopify_shop["domain"]})
    _authorize(shopify, operator)
    for account in (momo, shopee, shopify):
        account.refresh_from_db()
        assert account.status == "connected", (account.platform, account.status_reason)
    return ConnectedAccounts(momo, shopee, shopify, momo_shop, shopee_shop, shopify_shop)
