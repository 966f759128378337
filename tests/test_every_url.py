"""Every URL pattern of the product, requested by every role with real ids: no page or API path
may answer a server error (a missing template, a broken query), and a user of another merchant
gets 404 for every object and changes nothing.

A new URL pattern with an object id must be added to ``PAGE_PK`` below, or this test fails: the
sweep cannot silently skip it."""

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from ecbridge.integrations.models import ECAccount, ProductMapping
from ecbridge.orders.models import Order
from tests.world import build_world

pytestmark = pytest.mark.django_db

# page URL name → the World attribute its <pk> names
PAGE_PK = {
    "tenancy:revoke_api_token": "token",
    "channels:detail": "channel",
    "channels:edit": "channel",
    "apilog:detail": "call",
    "orders:detail": "order",
    "orders:ship": "order",
    "orders:shipment_retry": "order",
    "orders:unknown_detail": "unknown",
    "orders:unknown_map": "unknown",
    "inventory:product_detail": "product",
    "inventory:receipt_detail": "receipt",
    "inventory:receipt_complete": "receipt",
    "integrations:progress": "stock_run",  # <kind> is "stock_run" in World.ids
}
SKIPPED_NAMESPACES = ("admin:",)  # Django's own admin, tested by Django


def _patterns(resolvers=None, namespace=""):
    for entry in resolvers if resolvers is not None else get_resolver().url_patterns:
        if isinstance(entry, URLResolver):
            inner = namespace + (f"{entry.namespace}:" if entry.namespace else "")
            yield from _patterns(entry.url_patterns, inner)
        elif isinstance(entry, URLPattern) and entry.name:
            yield namespace + entry.name, entry


NAMES = sorted({name for name, _p in _patterns() if not name.startswith(SKIPPED_NAMESPACES)})


def url_for(name: str, pattern: URLPattern, world) -> str:
    params = list(pattern.pattern.converters) or list(pattern.pattern.regex.groupindex)
    ids = world.ids()
    kwargs = {}
    for param in params:
        if param == "pk":
            if name.startswith("integrations:") and name not in PAGE_PK:
                kwargs["pk"] = world.account.pk
            else:
                assert name in PAGE_PK, f"{name}: say which object its <pk> is in PAGE_PK"
                kwargs["pk"] = getattr(world, PAGE_PK[name]).pk
        else:
            assert param in ids, f"{name}: no real id for <{param}> in tests/world.py"
            kwargs[param] = ids[param]
    return reverse(name, kwargs=kwargs)


PATTERNS = dict(_patterns())


@pytest.fixture
def users(admin_user, operator, merchant_user):
    return {"admin": admin_user, "operator": operator, "merchant_user": merchant_user}


def _client(user):
    client = Client(raise_request_exception=True)
    client.force_login(user)
    return client


@pytest.mark.parametrize("role", ["admin", "operator", "merchant_user"])
@pytest.mark.parametrize("name", NAMES)
def test_every_url_answers_every_role_without_a_server_error(name, role, users, merchant):
    world = build_world(merchant, users[role])
    url = url_for(name, PATTERNS[name], world)
    client = _client(users[role])
    response = client.get(url)
    # 400: a clear refusal (e.g. "this platform has no OAuth"); 404 only where the object is not theirs
    assert response.status_code in (200, 302, 400, 404, 405), (url, response.status_code)
    if response.status_code == 404:  # every id is this merchant's: nothing may be "not found"
        pytest.fail(f"{url}: a user of this merchant must reach it")
    if response.status_code == 302:
        assert not response["Location"].startswith("/login/"), url
    post = (
        client.post(url, data="{}", content_type="application/json")
        if name.startswith("api:")
        else client.post(url, data={})
    )
    assert post.status_code < 500, (url, post.status_code)


@pytest.mark.parametrize("name", [n for n in NAMES if PATTERNS[n].pattern.converters])
def test_another_merchants_user_reaches_no_object_and_changes_nothing(
    name, merchant, merchant_user, other_merchant_user
):
    world = build_world(merchant, merchant_user)
    url = url_for(name, PATTERNS[name], world)
    if name in ("integrations:oauth_callback", "webhook"):
        pytest.skip("reached by the platform, not by a user; covered by the OAuth and webhook tests")
    client = _client(other_merchant_user)
    before = _fingerprint(world)
    for response in (
        client.get(url),
        client.post(url, data="{}", content_type="application/json")
        if name.startswith("api:")
        else client.post(url, data={}),
    ):
        # 422: the body was refused before any object was looked up (the same for any id)
        assert response.status_code in (404, 405, 422), (url, response.status_code)
    assert _fingerprint(world) == before


def _fingerprint(world):
    account = ECAccount.objects.filter(pk=world.account.pk).values().first()
    order = Order.objects.filter(pk=world.order.pk).values().first()
    return (
        account,
        order,
        list(ProductMapping.objects.filter(ec_account=world.account).values()),
        world.token.__class__.objects.filter(pk=world.token.pk).exists(),
        world.receipt.__class__.objects.filter(pk=world.receipt.pk).values().first(),
        world.unknown.__class__.objects.filter(pk=world.unknown.pk).exists(),
    )
