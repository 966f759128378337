# ruff: noqa: F811 - fixtures imported from tests.stock_fakes are test parameters by design
"""Inbound push and manual stock sync through the outbox, against a fake platform in each of the
three stock semantics (Shopee-like absolute, Shopify-like idempotent delta, momo-like delta with
the quantity as read): splits, per-SKU outcomes, retries, interruptions, guards."""

from datetime import timedelta

import pytest
from django.utils import timezone

from ecbridge.integrations.models import ECAccount, ProductMapping, StockPush, StockRun
from ecbridge.integrations.services import pushing, stock_sync
from ecbridge.inventory.services import receipts
from ecbridge.inventory.services.stock import add_stock
from ecbridge.notifications.models import Notification
from ecbridge.platforms.errors import AuthError, PlatformError, RateLimited, TransientError
from tests.factories import ECAccountFactory, inventory_type
from tests.orders.factories import ProductFactory
from tests.stock_fakes import install_stock_platform, stock_platform  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_queue(monkeypatch):
    """Jobs are run by the tests themselves (drain), not by the queue."""
    monkeypatch.setattr(pushing, "enqueue", lambda run_id: None)


def make_account(merchant, channel, pct=100, **kwargs):
    defaults = {"platform": "fakestock", "inbound_push_enabled": True, "push_percentage": pct}
    defaults.update(kwargs)
    return ECAccountFactory(merchant=merchant, sales_channel=channel, **defaults)


def map_product(account, product, platform_product):
    return ProductMapping.objects.create(
        ec_account=account,
        product=product,
        platform_item_id=platform_product.item_id,
        platform_variant_id=platform_product.variant_id,
        platform_sku=platform_product.sku,
        stock_ref=platform_product.stock_ref,
    )


def put_away(merchant, *lines, reference="IN-1"):
    receipt = receipts.create_receipt(
        merchant, reference, [(product, inventory_type(), qty) for product, qty in lines]
    )
    return receipts.complete_putaway(receipt)


def drain_all(account):
    for run in StockRun.objects.filter(ec_account=account):
        pushing.drain_run(run.pk)


@pytest.fixture
def shop(stock_platform, merchant, channel):
    """One account (100 %), three mapped products with platform stock 5 each."""
    account = make_account(merchant, channel)
    products = []
    for i in range(3):
        product = ProductFactory(merchant=merchant, sku=f"SKU-{i}")
        map_product(account, product, stock_platform.add(f"SKU-{i}", 5))
        products.append(product)
    return account, products, stock_platform


def test_inbound_adds_each_share_to_platform_stock(shop):
    account, products, platform = shop
    put_away(account.merchant, (products[0], 10), (products[1], 3))
    run = StockRun.objects.get(ec_account=account)
    assert run.kind == StockRun.Kind.INBOUND and run.push_percentage == 100
    pushing.drain_run(run.pk)
    run.refresh_from_db()
    assert run.status == StockRun.Status.SUCCEEDED and (run.succeeded, run.failed) == (2, 0)
    assert platform.qty("SKU-0") == 15 and platform.qty("SKU-1") == 8 and platform.qty("SKU-2") == 5
    mapping = ProductMapping.objects.get(platform_sku="SKU-0")
    assert mapping.last_platform_qty == 15 and mapping.last_pushed_at is not None
    note = Notification.objects.get(kind="stock_inbound")
    assert note.level == "success" and "2 SKUs updated, 0 failed" in note.body


def test_flow_per_platform_semantics(shop):
    account, products, platform = shop
    put_away(account.merchant, (products[0], 4))
    pushing.drain_run(StockRun.objects.get().pk)
    ops = [op for op, _n in platform.calls]
    if platform.flavour == "shopee":  # absolute only: read, then set current + share
        assert ops == ["read", "set"] and platform.ledger == [("SKU-0", 5, 9, "set")]
    elif platform.flavour == "shopify":  # native idempotent delta: no read
        assert ops == ["adjust"] and platform.ledger == [("SKU-0", 5, 9, "adjust")]
    else:  # momo: delta, but the call carries the quantity as read
        assert ops == ["read", "adjust"] and platform.ledger == [("SKU-0", 5, 9, "adjust")]


def test_split_between_accounts_never_exceeds_received(install_stock_platform, merchant, channel):
    platform = install_stock_platform("shopify")
    product = ProductFactory(merchant=merchant, sku="TEA")
    shopee_like = make_account(merchant, channel, pct=60)
    momo_like = make_account(merchant, channel, pct=40)
    # Two listings on the fake platform so each account has its own stock.
    map_product(shopee_like, product, platform.add("TEA", 0, item="A"))
    map_product(momo_like, product, platform.add("TEA", 0, item="B"))
    put_away(merchant, (product, 101))
    pushes = {p.ec_account_id: p.quantity for p in StockPush.objects.all()}
    assert pushes == {shopee_like.pk: 61, momo_like.pk: 40}  # 60.6 + 40.4 → pool 101: remainder to 60 %
    assert sum(pushes.values()) <= 101


def test_percentages_over_100_are_scaled_down(install_stock_platform, merchant, channel):
    platform = install_stock_platform("shopify")
    product = ProductFactory(merchant=merchant)
    a = make_account(merchant, channel, pct=100)
    b = make_account(merchant, channel, pct=100)
    map_product(a, product, platform.add("X", 0, item="A"))
    map_product(b, product, platform.add("X", 0, item="B"))
    put_away(merchant, (product, 7))
    assert sorted(StockPush.objects.values_list("quantity", flat=True)) == [3, 4]


def test_only_connected_push_on_mapped_accounts_get_rows(install_stock_platform, merchant, channel):
    platform = install_stock_platform("shopee")
    product = ProductFactory(merchant=merchant)
    listing = platform.add("P", 0)
    connected = make_account(merchant, channel, pct=50)
    disconnected = make_account(merchant, channel, pct=30, status="disconnected")
    push_off = make_account(merchant, channel, pct=20, inbound_push_enabled=False)
    unmapped = make_account(merchant, channel, pct=20)
    for account in (connected, disconnected, push_off):
        map_product(account, product, listing)
    put_away(merchant, (product, 10))
    assert list(StockPush.objects.values_list("ec_account_id", "quantity")) == [(connected.pk, 5)]
    assert not StockRun.objects.filter(ec_account__in=[disconnected, push_off, unmapped]).exists()


def test_stock_received_into_a_type_the_channel_does_not_sell_is_not_pushed(shop):
    account, products, platform = shop
    receipt = receipts.create_receipt(account.merchant, "IN-D", [(products[0], inventory_type("damaged"), 4)])
    receipts.complete_putaway(receipt)
    assert not StockPush.objects.exists()


def test_percentage_change_applies_to_the_next_putaway(shop):
    account, products, platform = shop
    put_away(account.merchant, (products[0], 10), reference="IN-A")
    ECAccount.objects.filter(pk=account.pk).update(push_percentage=30)
    put_away(account.merchant, (products[0], 10), reference="IN-B")
    assert list(StockPush.objects.order_by("pk").values_list("quantity", flat=True)) == [10, 3]
    assert list(StockRun.objects.order_by("pk").values_list("push_percentage", flat=True)) == [100, 30]


def test_batches_respect_the_platform_limit(shop):
    account, products, platform = shop
    platform.batch_size = 2
    put_away(account.merchant, *[(p, 1) for p in products])
    pushing.drain_run(StockRun.objects.get().pk)
    writes = [n for op, n in platform.calls if op != "read"]
    assert writes == [2, 1]


def test_one_refused_sku_fails_alone_partial(shop):
    account, products, platform = shop
    platform.locked["SKU-1"] = "item under promotion"
    put_away(account.merchant, *[(p, 2) for p in products])
    run = StockRun.objects.get()
    pushing.drain_run(run.pk)
    run.refresh_from_db()
    assert run.status == StockRun.Status.PARTIAL and (run.succeeded, run.failed) == (2, 1)
    failed = StockPush.objects.get(platform_sku="SKU-1")
    assert failed.status == StockPush.Status.FAILED and failed.error == "item under promotion"
    assert platform.qty("SKU-1") == 5 and platform.qty("SKU-0") == 7 and platform.qty("SKU-2") == 7
    assert ProductMapping.objects.get(platform_sku="SKU-1").last_push_error == "item under promotion"
    assert Notification.objects.get(kind="stock_inbound").level == "warning"
    # Successful siblings are never re-sent: draining again changes nothing.
    calls = len(platform.calls)
    pushing.drain_run(run.pk)
    assert len(platform.calls) == calls


def test_retryable_refusal_waits_and_succeeds_later(shop):
    account, products, platform = shop
    platform.busy["SKU-0"] = 1
    put_away(account.merchant, (products[0], 2))
    run = StockRun.objects.get()
    pushing.drain_run(run.pk)
    push = StockPush.objects.get()
    assert push.status == StockPush.Status.PENDING and push.next_attempt_at > timezone.now()
    StockPush.objects.update(next_attempt_at=timezone.now())
    pushing.drain_run(run.pk)
    push.refresh_from_db()
    assert push.status == StockPush.Status.SUCCEEDED and platform.qty("SKU-0") == 7


def test_throttling_honours_retry_after_without_using_attempts(shop):
    account, products, platform = shop
    platform.errors.append(RateLimited("slow down", retry_after=120))  # the write (Shopify-like)
    if platform.flavour != "shopify":  # the others read first: the read is throttled
        platform.read_errors.append(RateLimited("slow down", retry_after=120))
    put_away(account.merchant, (products[0], 2))
    run = StockRun.objects.get()
    assert pushing.drain_run(run.pk) == "throttled"
    push = StockPush.objects.get()
    assert push.status == StockPush.Status.PENDING and push.attempts == 0
    assert push.next_attempt_at >= timezone.now() + timedelta(seconds=110)
    assert platform.qty("SKU-0") == 5


def test_transient_failures_retry_then_give_up(shop, settings):
    settings.STOCK_PUSH_MAX_ATTEMPTS = 3
    account, products, platform = shop
    platform.errors.extend([TransientError("503")] * 5)
    put_away(account.merchant, (products[0], 2))
    run = StockRun.objects.get()
    for _ in range(5):
        StockPush.objects.filter(status__in=pushing.OPEN).update(next_attempt_at=timezone.now())
        pushing.drain_run(run.pk)
    push = StockPush.objects.get()
    assert push.status == StockPush.Status.FAILED and "Gave up after 3 attempts" in push.error
    run.refresh_from_db()
    assert run.status == StockRun.Status.FAILED
    assert platform.qty("SKU-0") == 5
    assert Notification.objects.get(kind="stock_inbound").level == "error"


def test_answer_lost_after_apply_is_never_added_twice(shop):
    """The call reaches the platform, then the answer is lost (timeout / the worker died)."""
    account, products, platform = shop
    platform.lose_answer_after_apply = 1
    put_away(account.merchant, (products[0], 4))
    run = StockRun.objects.get()
    pushing.drain_run(run.pk)
    push = StockPush.objects.get()
    assert push.status == StockPush.Status.SENDING and platform.qty("SKU-0") == 9
    StockPush.objects.update(next_attempt_at=timezone.now())
    pushing.drain_run(run.pk)
    push.refresh_from_db()
    assert push.status == StockPush.Status.SUCCEEDED
    assert platform.qty("SKU-0") == 9  # +4 once, not +8
    assert len([row for row in platform.ledger if row[0] == "SKU-0"]) == 1


def test_worker_died_before_the_call_arrived_sends_again(shop):
    account, products, platform = shop
    put_away(account.merchant, (products[0], 4))
    push = StockPush.objects.get()
    # A worker marked it SENDING (having read 5) and died before the request left.
    StockPush.objects.filter(pk=push.pk).update(
        status=StockPush.Status.SENDING, observed_before=5, expected_after=9, attempts=1
    )
    pushing.drain_run(push.run_id)
    push.refresh_from_db()
    assert push.status == StockPush.Status.SUCCEEDED and platform.qty("SKU-0") == 9


def test_interrupted_push_with_changed_stock_is_parked_not_resent(install_stock_platform, merchant, channel):
    platform = install_stock_platform("shopee")
    account = make_account(merchant, channel)
    product = ProductFactory(merchant=merchant)
    map_product(account, product, platform.add("P", 5))
    put_away(merchant, (product, 4))
    push = StockPush.objects.get()
    StockPush.objects.filter(pk=push.pk).update(
        status=StockPush.Status.SENDING, observed_before=5, expected_after=9, attempts=1
    )
    platform.stock[("I-P", "")] = 3  # sales happened; we cannot tell whether our set arrived
    pushing.drain_run(push.run_id)
    push.refresh_from_db()
    assert push.status == StockPush.Status.FAILED and "Not sent again" in push.error
    assert platform.qty("P") == 3 and not [op for op, _n in platform.calls if op == "set"]


def test_a_line_is_never_pushed_twice_to_one_account(shop):
    account, products, platform = shop
    receipt = put_away(account.merchant, (products[0], 4))
    # Queueing again (a bug or a replay) is refused by the database.
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        pushing.queue_inbound_pushes(receipt)
    assert StockPush.objects.count() == 1


def test_auth_failure_disconnects_and_keeps_rows(shop):
    account, products, platform = shop
    platform.errors.append(AuthError("token revoked"))
    platform.read_errors.append(AuthError("token revoked"))
    put_away(account.merchant, (products[0], 4))
    run = StockRun.objects.get()
    assert pushing.drain_run(run.pk) == "auth_error"
    account.refresh_from_db()
    assert account.status == "disconnected"
    assert StockPush.objects.get().status in pushing.OPEN
    assert pushing.drain_run(run.pk) == "skipped"


def test_permanent_refusal_of_the_whole_call(shop):
    account, products, platform = shop
    platform.errors.append(PlatformError("shop blocked from updating stock"))
    put_away(account.merchant, (products[0], 4))
    pushing.drain_run(StockRun.objects.get().pk)
    push = StockPush.objects.get()
    assert push.status == StockPush.Status.FAILED and push.error == "shop blocked from updating stock"


def test_sweep_requeues_due_runs_of_connected_accounts(shop, monkeypatch):
    account, products, platform = shop
    put_away(account.merchant, (products[0], 4))
    queued = []
    monkeypatch.setattr(pushing, "enqueue", queued.append)
    StockPush.objects.update(updated_at=timezone.now() - timedelta(minutes=5))
    run = StockRun.objects.get()
    assert pushing.sweep() == [run.pk] and queued == [run.pk]
    ECAccount.objects.filter(pk=account.pk).update(status="disconnected")
    assert pushing.sweep() == []


# --- manual stock sync ------------------------------------------------------------------------------
def stock_in_wms(product, qty):
    add_stock(product, inventory_type(), qty, reason="adjustment")


def test_manual_sync_overwrites_with_wms_sellable(shop):
    account, products, platform = shop
    stock_in_wms(products[0], 12)
    stock_in_wms(products[1], 0)
    stock_in_wms(products[2], 3)
    run = stock_sync.request_stock_sync(account, confirm=True)
    assert run.kind == StockRun.Kind.MANUAL_SYNC
    pushing.drain_run(run.pk)
    assert (platform.qty("SKU-0"), platform.qty("SKU-1"), platform.qty("SKU-2")) == (12, 0, 3)
    run.refresh_from_db()
    assert run.status == StockRun.Status.SUCCEEDED
    if platform.flavour == "momo":  # delta only: read, then push the difference
        assert [op for op, _n in platform.calls] == ["read", "adjust", "adjust"]
    else:
        assert {op for op, _n in platform.calls} == {"set"}


def test_manual_sync_needs_confirmation_and_writes_nothing_without(shop):
    account, products, platform = shop
    with pytest.raises(stock_sync.NotConfirmed):
        stock_sync.request_stock_sync(account, confirm=False)
    assert not StockRun.objects.exists() and not StockPush.objects.exists()


def test_mass_zero_breaker_needs_the_count(shop):
    account, products, platform = shop
    stock_in_wms(products[0], 4)  # two of three mapped SKUs would drop to 0
    with pytest.raises(stock_sync.MassZeroNeedsConfirmation) as caught:
        stock_sync.request_stock_sync(account, confirm=True)
    assert (caught.value.zero_count, caught.value.total) == (2, 3)
    with pytest.raises(stock_sync.MassZeroNeedsConfirmation):
        stock_sync.request_stock_sync(account, confirm=True, confirm_zero_count=1)
    assert not StockRun.objects.exists()
    run = stock_sync.request_stock_sync(account, confirm=True, confirm_zero_count=2)
    assert run.zero_count == 2


def test_manual_sync_guards(shop):
    account, products, platform = shop
    ECAccount.objects.filter(pk=account.pk).update(inbound_push_enabled=False)
    account.refresh_from_db()
    with pytest.raises(stock_sync.NotAvailable):
        stock_sync.request_stock_sync(account, confirm=True)
    ECAccount.objects.filter(pk=account.pk).update(inbound_push_enabled=True, status="disconnected")
    account.refresh_from_db()
    with pytest.raises(stock_sync.NotAvailable):
        stock_sync.request_stock_sync(account, confirm=True)


def test_reserved_stock_is_not_sellable(shop):
    account, products, platform = shop
    from ecbridge.inventory.models import StockLevel

    stock_in_wms(products[0], 10)
    stock_in_wms(products[1], 1)
    stock_in_wms(products[2], 1)
    StockLevel.objects.filter(product=products[0]).update(reserved=4)
    run = stock_sync.request_stock_sync(account, confirm=True)
    assert run.pushes.get(product=products[0]).quantity == 6


def test_sku_only_mappings_from_orders_are_not_pushed(shop):
    """Order matching maps lines without a platform item id by SKU ("sku:<SKU>"): no stock call
    can address them, so neither a put-away nor a manual sync queues a push for them."""
    account, products, platform = shop
    orphan = ProductFactory(merchant=account.merchant, sku="GIFT")
    ProductMapping.objects.create(
        ec_account=account,
        product=orphan,
        platform_item_id="",
        platform_variant_id="sku:GIFT",
        platform_sku="GIFT",
    )
    put_away(account.merchant, (orphan, 5), (products[0], 1))
    assert list(StockPush.objects.values_list("platform_sku", flat=True)) == ["SKU-0"]
    stock_in_wms(products[0], 3)
    run = stock_sync.request_stock_sync(account, confirm=True, confirm_zero_count=2)
    assert sorted(run.pushes.values_list("platform_sku", flat=True)) == ["SKU-0", "SKU-1", "SKU-2"]
