# ruff: noqa: F811 - fixtures imported from tests.stock_fakes are test parameters by design
"""Sync Product Mappings against the fake platform: full pagination, SKU and barcode rules,
unmatched and ambiguous reports, people's mappings kept, failures change nothing."""

import pytest

from ecbridge.channels.models import SalesChannel
from ecbridge.integrations.models import ECAccount, ProductMapping, ProductSyncRun
from ecbridge.integrations.services import mapping_sync
from ecbridge.notifications.models import Notification
from ecbridge.platforms.errors import TransientError
from tests.factories import ECAccountFactory
from tests.orders.factories import ProductFactory
from tests.stock_fakes import install_stock_platform  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def platform(install_stock_platform):
    return install_stock_platform("shopify")


@pytest.fixture
def account(platform, merchant, channel, monkeypatch):
    monkeypatch.setattr(mapping_sync, "_enqueue", lambda run_id: None)
    return ECAccountFactory(
        merchant=merchant, sales_channel=channel, platform="fakestock", inbound_push_enabled=True
    )


def sync(account):
    run, created = mapping_sync.request_sync(account)
    assert created
    return mapping_sync.run_sync(run.pk)


def test_maps_every_variant_over_all_pages(account, platform, merchant):
    platform.page_size = 2
    for i in range(5):
        ProductFactory(merchant=merchant, sku=f"SKU-{i}")
        platform.add(f"SKU-{i}", item="I-1" if i < 3 else f"I-{i}", variant=f"V-{i}" if i < 3 else "")
    platform.add("NOT-IN-WMS")
    platform.add("", item="NO-SKU")
    run = sync(account)
    assert run.status == ProductSyncRun.Status.SUCCEEDED
    assert (run.variants_seen, run.mapped, run.new_mappings, run.unmatched) == (7, 5, 5, 2)
    assert {i["sku"] for i in run.unmatched_items} == {"NOT-IN-WMS", ""}
    mapping = ProductMapping.objects.get(platform_sku="SKU-1")
    assert (mapping.platform_item_id, mapping.platform_variant_id) == ("I-1", "V-1")
    assert mapping.stock_ref == {"ref": "R-I-1-V-1"} and mapping.product.sku == "SKU-1"
    account.refresh_from_db()
    assert account.product_mappings_synced_at is not None
    note = Notification.objects.get(kind="product_mapping_sync")
    assert "5 products mapped (5 new), 2 platform SKUs without a WMS product" in note.body


def test_second_run_updates_and_removes_vanished_listings(account, platform, merchant):
    a = ProductFactory(merchant=merchant, sku="A")
    ProductFactory(merchant=merchant, sku="B")
    platform.add("A")
    listing_b = platform.add("B")
    sync(account)
    platform.products.remove(listing_b)
    run = sync(account)
    assert (run.mapped, run.new_mappings) == (1, 0)
    assert list(ProductMapping.objects.values_list("product_id", flat=True)) == [a.pk]


def test_manual_mappings_are_never_touched(account, platform, merchant):
    chosen = ProductFactory(merchant=merchant, sku="CHOSEN")
    ProductFactory(merchant=merchant, sku="X")
    platform.add("X", item="I-X")
    ProductMapping.objects.create(
        ec_account=account,
        product=chosen,
        platform_item_id="I-X",
        platform_variant_id="",
        platform_sku="X",
        source=ProductMapping.Source.MANUAL,
    )
    ProductMapping.objects.create(
        ec_account=account, product=chosen, platform_item_id="GONE", platform_sku="G", source="manual"
    )
    sync(account)
    assert ProductMapping.objects.get(platform_item_id="I-X").product == chosen
    assert ProductMapping.objects.filter(platform_item_id="GONE").exists()


def test_order_placeholder_gives_way_to_the_real_variant(account, platform, merchant):
    person_choice = ProductFactory(merchant=merchant, sku="WMS-GIFT")
    ProductMapping.objects.create(
        ec_account=account,
        product=person_choice,
        platform_item_id="",
        platform_variant_id="sku:GIFT",
        platform_sku="GIFT",
        source=ProductMapping.Source.MANUAL,
    )
    platform.add("GIFT", item="I-G", variant="V-G")
    run = sync(account)
    assert run.unmatched == 0
    mapping = ProductMapping.objects.get()
    assert (mapping.platform_item_id, mapping.product, mapping.source) == ("I-G", person_choice, "manual")


def test_barcode_rule_and_ambiguity(account, platform, merchant):
    SalesChannel.objects.filter(pk=account.sales_channel_id).update(match_rule=SalesChannel.MatchRule.BARCODE)
    account.refresh_from_db()
    ProductFactory(merchant=merchant, sku="ONE", barcode="4710001")
    ProductFactory(merchant=merchant, sku="TWO", barcode="4710002")
    ProductFactory(merchant=merchant, sku="THREE", barcode="4710002")
    platform.add("p-one", barcode="4710001")
    platform.add("p-dup", barcode="4710002")
    run = sync(account)
    assert (run.mapped, run.ambiguous, run.unmatched) == (1, 1, 0)
    assert ProductMapping.objects.get().product.sku == "ONE"
    assert "Several WMS products" in run.unmatched_items[0]["reason"]


def test_other_merchants_products_are_never_matched(account, platform, other_merchant):
    ProductFactory(merchant=other_merchant, sku="SHARED")
    platform.add("SHARED")
    run = sync(account)
    assert run.mapped == 0 and run.unmatched == 1 and not ProductMapping.objects.exists()


def test_failed_pull_changes_nothing(account, platform, merchant):
    ProductFactory(merchant=merchant, sku="A")
    platform.add("A")
    sync(account)
    before = list(ProductMapping.objects.values_list("pk", "synced_at"))
    platform.page_size = 1
    platform.add("B")
    platform.page_errors[1] = TransientError("503 on page 2")
    run = sync(account)
    assert run.status == ProductSyncRun.Status.FAILED and "503 on page 2" in run.message
    assert list(ProductMapping.objects.values_list("pk", "synced_at")) == before
    assert Notification.objects.filter(kind="product_mapping_sync", level="error").exists()


def test_request_guards_and_single_queue(account):
    run, created = mapping_sync.request_sync(account)
    again, created_again = mapping_sync.request_sync(account)
    assert created and not created_again and again == run
    ECAccount.objects.filter(pk=account.pk).update(inbound_push_enabled=False)
    account.refresh_from_db()
    with pytest.raises(mapping_sync.SyncNotAvailable):
        mapping_sync.request_sync(account)
    ECAccount.objects.filter(pk=account.pk).update(inbound_push_enabled=True, status="disconnected")
    account.refresh_from_db()
    with pytest.raises(mapping_sync.SyncNotAvailable):
        mapping_sync.request_sync(account)
