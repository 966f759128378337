"""Line matching: account mappings first, then the channel's SKU/barcode rule, per merchant, batched."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ecbridge.channels.models import SalesChannel
from ecbridge.integrations.models import ProductMapping
from ecbridge.orders.services.matching import MatchRule, match_lines, norm_variant, unknown_key
from ecbridge.platforms.base import OrderLineData
from tests.factories import ECAccountFactory
from tests.orders.factories import ProductFactory

pytestmark = pytest.mark.django_db


def line(sku="", item="", variant="", barcode=""):
    return OrderLineData(
        line_id="1", sku=sku, name="x", quantity=1, item_id=item, variant_id=variant, barcode=barcode
    )


@pytest.fixture
def account(merchant, channel):
    return ECAccountFactory(merchant=merchant, sales_channel=channel)


def rule(account):
    return MatchRule.for_account(account)


def test_sku_rule_matches_only_the_merchants_products(account, merchant, other_merchant):
    mine = ProductFactory(merchant=merchant, sku="A-1")
    ProductFactory(merchant=other_merchant, sku="B-1")
    assert match_lines(rule(account), [line("A-1"), line("B-1"), line("")]) == [mine.pk, None, None]


def test_barcode_rule_uses_barcode_then_sku_field(account, merchant, channel):
    channel.match_rule = SalesChannel.MatchRule.BARCODE
    channel.save()
    account.refresh_from_db()
    product = ProductFactory(merchant=merchant, sku="A-1", barcode="4710001")
    got = match_lines(rule(account), [line("A-1"), line("zzz", barcode="4710001"), line("4710001")])
    assert got == [None, product.pk, product.pk]


def test_mapping_beats_the_rule_and_zero_variant_equals_none(account, merchant):
    by_rule = ProductFactory(merchant=merchant, sku="A-1")
    mapped = ProductFactory(merchant=merchant, sku="OTHER")
    ProductMapping.objects.create(
        ec_account=account, product=mapped, platform_item_id="100", platform_variant_id="0"
    )
    got = match_lines(
        rule(account), [line("A-1", "100", ""), line("A-1", "100", "0"), line("A-1", "100", "7")]
    )
    assert got == [mapped.pk, mapped.pk, by_rule.pk]


def test_mapping_without_item_id_matches_by_platform_sku(account, merchant):
    mapped = ProductFactory(merchant=merchant, sku="WMS-9")
    ProductMapping.objects.create(
        ec_account=account,
        product=mapped,
        platform_item_id="",
        platform_variant_id="sku:P-9",
        platform_sku="P-9",
    )
    assert match_lines(rule(account), [line("P-9"), line("P-8")]) == [mapped.pk, None]


def test_another_accounts_mapping_is_not_used(account, merchant, channel):
    other = ECAccountFactory(merchant=merchant, sales_channel=channel)
    ProductMapping.objects.create(
        ec_account=other, product=ProductFactory(merchant=merchant), platform_item_id="5"
    )
    assert match_lines(rule(account), [line("nope", "5")]) == [None]


def test_a_page_is_matched_in_a_fixed_number_of_queries(account, merchant):
    for i in range(30):
        ProductFactory(merchant=merchant, sku=f"S-{i}")
    lines = [line(f"S-{i}", str(i)) for i in range(60)]
    with CaptureQueriesContext(connection) as ctx:
        got = match_lines(rule(account), lines)
    assert len(ctx.captured_queries) <= 2
    assert sum(1 for g in got if g) == 30


def test_keys_and_variant_normalisation():
    assert norm_variant("0") == norm_variant("") == norm_variant(None) == ""
    assert unknown_key("1001", "2002", "SKU-1") == "1001:2002|SKU-1"
    assert unknown_key("1001", "0", "SKU-1") == unknown_key("1001", "", "SKU-1") == "1001|SKU-1"
    assert unknown_key("", "", "SKU-1") == "|SKU-1"
