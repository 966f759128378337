"""Ids no row can have (above 2^63−1, negative, not a number) in filters, forms, API bodies and
paging: the API answers 422 naming the field, a page shows an empty list, a form shows its
error; never a server error, and never "no filter" (all rows) instead of none."""

import json

import pytest
from django.test import Client

from ecbridge.channels.models import SalesChannel
from ecbridge.integrations.forms import ShippingMappingForm
from tests.world import build_world

pytestmark = pytest.mark.django_db

TOO_BIG = str(2**63)
BAD = [TOO_BIG, "-1", "0", "abc", "١٢"]  # the last: Arabic-Indic digits, which str.isdigit() accepts

API_LISTS = {
    "/api/v1/sales-channels": ["merchant"],
    "/api/v1/ec-accounts": ["merchant"],
    "/api/v1/api-logs": ["merchant", "ec_account"],
    "/api/v1/orders": ["merchant", "ec_account"],
    "/api/v1/unknown-products": ["merchant", "ec_account"],
    "/api/v1/products": ["merchant"],
    "/api/v1/inbound-receipts": ["merchant"],
}
PAGES = {
    "/sales-channels/": ["merchant"],
    "/ec-accounts/": ["merchant"],
    "/api-logs/": ["merchant", "ec_account"],
    "/orders/": ["merchant", "ec_account"],
    "/unknown-products/": ["merchant", "ec_account"],
    "/holds/": ["merchant"],
    "/products/": ["merchant"],
    "/inbound/": ["merchant"],
}


@pytest.fixture
def world(merchant, operator):
    return build_world(merchant, operator)


def _client(user):
    client = Client(raise_request_exception=True)
    client.force_login(user)
    return client


@pytest.mark.parametrize("value", BAD)
@pytest.mark.parametrize(("url", "param"), [(u, p) for u, ps in API_LISTS.items() for p in ps])
def test_api_list_filters_refuse_impossible_ids(url, param, value, world, operator):
    response = _client(operator).get(url, {param: value})
    assert response.status_code == 422, (url, param, value, response.status_code)
    body = response.json()
    assert param in str(body["errors"]), body


def _row_link(url, world):
    """A link only a row of the world's data has on that list page."""
    target = {
        "/sales-channels/": f"/sales-channels/{world.channel.pk}/",
        "/ec-accounts/": f"/ec-accounts/{world.account.pk}/",
        "/api-logs/": None,
        "/orders/": f"/orders/{world.order.pk}/",
        "/unknown-products/": f"/unknown-products/{world.unknown.pk}/",
        "/holds/": f"/orders/{world.order.pk}/",
        "/products/": f"/products/{world.product.pk}/",
        "/inbound/": f"/inbound/{world.receipt.pk}/",
    }[url]
    return f'data-call="{world.call.pk}"' if target is None else f'href="{target}'


@pytest.mark.parametrize("value", BAD)
@pytest.mark.parametrize(("url", "param"), [(u, p) for u, ps in PAGES.items() for p in ps])
def test_page_filters_with_impossible_ids_show_nothing(url, param, value, world, operator):
    client = _client(operator)
    assert _row_link(url, world) in client.get(url).content.decode()  # listed without the filter
    response = client.get(url, {param: value})
    assert response.status_code == 200, (url, param, value)
    assert _row_link(url, world) not in response.content.decode()


@pytest.mark.parametrize("url", ["/api/v1/api-logs", "/api/v1/sales-channels"])
def test_api_page_numbers_are_bounded(url, world, operator):
    response = _client(operator).get(url, {"page": TOO_BIG})
    assert response.status_code == 422 and "page" in str(response.json()["errors"])


@pytest.mark.parametrize("url", ["/api/v1/orders", "/api/v1/products", "/api/v1/ec-accounts"])
def test_api_offsets_are_bounded(url, world, operator):
    response = _client(operator).get(url, {"offset": TOO_BIG})
    assert response.status_code == 422 and "offset" in str(response.json()["errors"])


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/ec-accounts/{big}",
        "/api/v1/orders/{big}",
        "/api/v1/products/{big}",
        "/ec-accounts/{big}/",
        "/orders/{big}/",
        "/products/{big}/",
    ],
)
def test_impossible_ids_in_paths_are_not_found(url, world, operator):
    response = _client(operator).get(url.format(big=TOO_BIG))
    assert response.status_code == 404


@pytest.mark.parametrize("value", [TOO_BIG, "abc", "-3"])
def test_forms_and_bodies_refuse_impossible_ids(value, world, operator):
    client = _client(operator)
    channels_before = SalesChannel.objects.count()
    assert client.post("/sales-channels/new/", {"merchant": value, "name": "X"}).status_code == 404
    form = ShippingMappingForm(data={"shipping_type": value, "platform_code": "x"})
    assert not form.is_valid() and "shipping_type" in form.errors
    api = client.post(
        f"/api/v1/unknown-products/{world.unknown.pk}/map",
        data=json.dumps({"product_id": int(value) if value.lstrip("-").isdigit() else value}),
        content_type="application/json",
    )
    assert api.status_code == 422 and "product_id" in str(api.json()["errors"])
    assert SalesChannel.objects.count() == channels_before


@pytest.mark.parametrize(
    ("method", "url", "data", "content_type"),
    [
        ("get", "/api/v1/ec-accounts", {"q": "a\x00b"}, None),
        ("get", "/ec-accounts/", {"q": "a\x00b"}, None),
        ("post", "/api/v1/products", '{"sku": "A\\u0000", "name": "x"}', "application/json"),
        ("post", "/sales-channels/new/", {"name": "a\x00"}, None),
    ],
)
def test_nul_characters_are_refused_before_any_view(method, url, data, content_type, world, operator):
    """PostgreSQL cannot store a NUL character in text: a clear 400, never a server error."""
    client = _client(operator)
    kwargs = {"content_type": content_type} if content_type else {}
    response = getattr(client, method)(url, data, **kwargs)
    assert response.status_code == 400 and "NUL" in response.content.decode()
