"""The EC account list: text columns sort without regard to case, and the search finds a
platform by the names people in Taiwan use (蝦皮, momo購物網, 酷澎…), page and API alike."""

import re

import pytest

from ecbridge.platforms.registry import all_specs
from tests.factories import ECAccountFactory

pytestmark = pytest.mark.django_db


def names_on_page(client, query):
    html = client.get(f"/ec-accounts/{query}").content.decode()
    return re.findall(r'data-account-name="([^"]+)"', html)


@pytest.fixture
def accounts(merchant, channel):
    return [
        ECAccountFactory(merchant=merchant, sales_channel=channel, platform="momo", display_name="beta"),
        ECAccountFactory(merchant=merchant, sales_channel=channel, platform="shopee", display_name="acme b"),
        ECAccountFactory(merchant=merchant, sales_channel=channel, platform="shopify", display_name="Acme A"),
    ]


def test_sort_by_name_ignores_case(accounts, merchant_client, operator_client):
    assert names_on_page(merchant_client, "?sort=display_name") == ["Acme A", "acme b", "beta"]
    assert names_on_page(merchant_client, "?sort=-display_name") == ["beta", "acme b", "Acme A"]
    api = operator_client.get("/api/v1/ec-accounts?sort=display_name").json()
    assert [a["display_name"] for a in api["items"]] == ["Acme A", "acme b", "beta"]


@pytest.mark.parametrize(
    ("term", "expected"),
    [("蝦皮", ["acme b"]), ("momo購物網", ["beta"]), ("SHOPIFY", ["Acme A"]), ("酷澎", [])],
)
def test_search_finds_platforms_by_local_names(accounts, merchant_client, operator_client, term, expected):
    assert names_on_page(merchant_client, f"?q={term}") == expected
    api = operator_client.get("/api/v1/ec-accounts", {"q": term}).json()
    assert [a["display_name"] for a in api["items"]] == expected


def test_every_local_name_finds_its_platform():
    for code, spec in all_specs().items():
        for name in spec.local_names:
            assert spec.matches(name), (code, name)
    assert all_specs()["coupang"].matches("酷澎") and not all_specs()["shopee"].matches("酷澎")
