"""Shopify test helpers: contexts, the consent page driven like a browser, console calls."""

from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlsplit

from ecbridge.platforms.base import AccountContext, TokenSet
from ecbridge.platforms.settings import platform_settings
from ecbridge.platforms.shopify.client import ShopifyClient

CONSOLE = "/sandbox/shopify/_console"
REDIRECT_URI = "https://wms.example/ec-accounts/oauth/shopify/callback/"
WEBHOOK_URL = "https://wms.example/webhooks/shopify/"
SECRET = "sandbox-shopify-secret"


def make_ctx(domain: str, tokens: dict | None = None, **settings) -> AccountContext:
    return AccountContext(
        account_id=None,
        merchant_id=None,
        platform="shopify",
        credentials={"shop_domain": domain},
        tokens=dict(tokens or {}),
        shop_id=domain,
        settings={**platform_settings("shopify"), **settings},
    )


class ConsentForm(HTMLParser):
    """The POST form of a consent page: its action and hidden fields, and whether it has a button."""

    def __init__(self):
        super().__init__()
        self.method = self.action = None
        self.fields: dict[str, str] = {}
        self.has_button = False
        self._inside = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self._inside = True
            self.method = (attrs.get("method") or "get").lower()
            self.action = attrs.get("action") or ""
        elif self._inside and tag == "input" and attrs.get("name"):
            self.fields[attrs["name"]] = attrs.get("value") or ""
        elif self._inside and tag == "button" and (attrs.get("type") or "submit") == "submit":
            self.has_button = True

    def handle_endtag(self, tag):
        if tag == "form":
            self._inside = False


def read_form(html: str) -> ConsentForm:
    form = ConsentForm()
    form.feed(html)
    return form


def consent(sandbox_client, authorize_url: str) -> dict[str, str]:
    """Open the consent page, press Install, return the callback's query parameters."""
    page = sandbox_client.get(authorize_url)
    assert page.status_code == 200, page.text
    form = read_form(page.text)
    assert form.method == "post" and form.has_button
    response = sandbox_client.post(authorize_url, data=form.fields)
    assert response.status_code == 302, response.text
    location = urlsplit(response.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT_URI
    return dict(parse_qsl(location.query))


def authorize(sandbox_client, ctx: AccountContext, state: str = "state-1") -> TokenSet:
    client = ShopifyClient(ctx)
    params = consent(sandbox_client, client.authorize_url(state=state, redirect_uri=REDIRECT_URI))
    client.verify_callback(params)
    return client.exchange_code(params, redirect_uri=REDIRECT_URI)


def with_tokens(ctx: AccountContext, tokens: TokenSet) -> AccountContext:
    ctx.tokens = tokens.as_secret_dict()
    return ctx


def new_shop(sandbox_client, **body) -> dict:
    response = sandbox_client.post(f"{CONSOLE}/shops", json={"name": "Acme Foods", **body})
    assert response.status_code == 200, response.text
    return response.json()


def state(sandbox_client, domain: str) -> dict:
    response = sandbox_client.get(f"{CONSOLE}/state", params={"shop": domain})
    assert response.status_code == 200, response.text
    return response.json()


def set_faults(sandbox_client, **faults) -> None:
    response = sandbox_client.post(f"{CONSOLE}/faults", json=faults)
    assert response.status_code == 200, response.text
