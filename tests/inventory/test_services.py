# ruff: noqa: F811 - fixtures imported from tests.fakes are test parameters by design
"""Stock services: put-away once (locked), validation writes nothing, reservations from the open
orders (import, mapping, shipping, cancellation), sellable per sales channel."""

import threading
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext

from ecbridge.integrations.services import pushing
from ecbridge.inventory.models import InboundReceipt, InboundReceiptLine, StockLevel, StockMovement
from ecbridge.inventory.services import receipts, stock
from ecbridge.inventory.services.receipts import LineInput
from ecbridge.orders.models import Order
from ecbridge.orders.services import mapping, shipping
from ecbridge.orders.services.importing import import_page
from ecbridge.platforms.base import PlatformOrderState as S
from tests.factories import ECAccountFactory, SalesChannelFactory, inventory_type
from tests.fakes import NOW, fake_platform, order  # noqa: F401
from tests.orders.factories import (
    OrderFactory,
    OrderLineFactory,
    ProductFactory,
    UnknownProductFactory,
    unknown_line,
)

LATER = NOW - timedelta(minutes=10)


@pytest.fixture
def good(db):
    return inventory_type("good")


@pytest.fixture
def near(db):
    return inventory_type("near_expiry")


@pytest.fixture
def damaged(db):
    return inventory_type("damaged")


@pytest.fixture
def tea(merchant):
    return ProductFactory(merchant=merchant, sku="TEA-01", name="Oolong tea")


@pytest.fixture
def cup(merchant):
    return ProductFactory(merchant=merchant, sku="CUP-01", name="Cup")


@pytest.fixture
def account(merchant, channel):
    return ECAccountFactory(merchant=merchant, sales_channel=channel, platform="shopee")


def level(product, itype):
    return StockLevel.objects.filter(product=product, inventory_type=itype).first()


def on_hand(product, itype):
    row = level(product, itype)
    return row.on_hand if row else 0


def reserved(product, itype):
    row = level(product, itype)
    return row.reserved if row else 0


# --- add_stock ------------------------------------------------------------------------------------
def test_add_stock_creates_the_level_and_writes_the_ledger(tea, good, admin_user):
    stock.add_stock(tea, good, 5, reason=StockMovement.Reason.ADJUSTMENT, reference="count", user=admin_user)
    movement = stock.add_stock(tea, good, -2, reason=StockMovement.Reason.ADJUSTMENT, reference="x" * 300)
    assert on_hand(tea, good) == 3
    assert movement.delta == -2 and movement.on_hand_after == 3 and len(movement.reference) == 120
    assert list(StockMovement.objects.filter(product=tea).values_list("delta", flat=True)) == [-2, 5]
    assert StockMovement.objects.filter(created_by=admin_user).count() == 1


# --- receipts: create -----------------------------------------------------------------------------
def test_create_receipt_writes_receipt_and_lines(merchant, tea, cup, good, near, admin_user):
    receipt = receipts.create_receipt(
        merchant, " IN-001 ", [(tea, good, 10), (cup, near, "3")], note="pallet 1", user=admin_user
    )
    assert receipt.reference == "IN-001" and receipt.status == InboundReceipt.Status.RECEIVING
    assert [(li.product.sku, li.inventory_type.code, li.quantity) for li in receipt.lines.all()] == [
        ("TEA-01", "good", 10),
        ("CUP-01", "near_expiry", 3),
    ]
    assert StockMovement.objects.count() == 0  # nothing is stock until put away


@pytest.mark.parametrize(
    "reference, lines, field, text",
    [
        ("", "ok", "reference", "Enter the receipt reference"),
        ("IN-DUP", "ok", "reference", "already has a receipt"),
        ("IN-2", "none", "lines", "at least one line"),
        ("IN-2", "zero", "lines", "quantity must be a whole number"),
        ("IN-2", "negative", "lines", "quantity must be a whole number"),
        ("IN-2", "foreign", "lines", "does not belong to Acme Foods"),
    ],
)
def test_create_receipt_validation_writes_nothing(
    merchant, other_merchant, tea, good, reference, lines, field, text
):
    receipts.create_receipt(merchant, "IN-DUP", [(tea, good, 1)])
    foreign = ProductFactory(merchant=other_merchant, sku="BETA-1")
    chosen = {
        "ok": [(tea, good, 1)],
        "none": [],
        "zero": [(tea, good, 1), (tea, good, 0)],
        "negative": [(tea, good, -4)],
        "foreign": [(tea, good, 1), (foreign, good, 1)],
    }[lines]
    with pytest.raises(ValidationError) as exc:
        receipts.create_receipt(merchant, reference, chosen)
    assert text in " ".join(exc.value.message_dict[field])
    assert InboundReceipt.objects.count() == 1 and InboundReceiptLine.objects.count() == 1


def test_the_same_reference_is_fine_for_another_merchant(merchant, other_merchant, tea, good):
    receipts.create_receipt(merchant, "IN-1", [(tea, good, 1)])
    beta = ProductFactory(merchant=other_merchant, sku="TEA-01")
    receipts.create_receipt(other_merchant, "IN-1", [(beta, good, 1)])
    assert InboundReceipt.objects.count() == 2


def test_resolve_lines_names_every_unknown_sku_and_bad_value(merchant, other_merchant, tea, good, near):
    ProductFactory(merchant=other_merchant, sku="BETA-ONLY")
    lines = receipts.resolve_lines(
        merchant, [LineInput("TEA-01", "4"), LineInput("tea-01", 2, "near_expiry")], default_type=good
    )
    assert lines == [(tea, good, 4), (tea, near, 2)]  # SKU case-insensitive when not exact
    with pytest.raises(ValidationError) as exc:
        receipts.resolve_lines(
            merchant,
            [
                LineInput("NOPE-9", 1),
                LineInput("BETA-ONLY", 1),  # another merchant's SKU is unknown here
                LineInput("TEA-01", "1.5"),
                LineInput("TEA-01", 1, "frozen"),
            ],
        )
    messages = exc.value.message_dict["lines"]
    assert any("Line 1" in m and "NOPE-9" in m for m in messages)
    assert any("Line 2" in m and "BETA-ONLY" in m for m in messages)
    assert any("Line 3" in m and "1.5" in m for m in messages)
    assert any("Line 4" in m and "frozen" in m for m in messages)


# --- receipts: put-away ---------------------------------------------------------------------------
def test_putaway_adds_stock_once_and_queues_the_push_in_the_same_transaction(
    merchant, tea, cup, good, near, admin_user, monkeypatch
):
    stock.add_stock(tea, good, 7, reason=StockMovement.Reason.ADJUSTMENT)
    receipt = receipts.create_receipt(merchant, "IN-1", [(tea, good, 10), (cup, near, 3), (tea, good, 2)])
    seen = []

    def spy(r, *, user=None):
        assert connection.in_atomic_block
        # inside the transaction the stock and the status are already written
        assert InboundReceipt.objects.get(pk=r.pk).status == InboundReceipt.Status.COMPLETED
        seen.append((r.pk, on_hand(tea, good), user))
        return []

    monkeypatch.setattr(pushing, "queue_inbound_pushes", spy)
    done = receipts.complete_putaway(receipt, admin_user)
    assert done.status == InboundReceipt.Status.COMPLETED and done.completed_by == admin_user
    assert done.completed_at is not None and receipt.status == InboundReceipt.Status.COMPLETED
    assert seen == [(receipt.pk, 19, admin_user)]
    assert (on_hand(tea, good), on_hand(cup, near)) == (19, 3)
    moves = StockMovement.objects.filter(reason=StockMovement.Reason.PUTAWAY)
    assert sorted(moves.values_list("delta", flat=True)) == [2, 3, 10]
    assert set(moves.values_list("reference", flat=True)) == {"IN-1"}

    # twice: rejected with a clear error, nothing changes (also from a stale object)
    stale = InboundReceipt.objects.get(pk=receipt.pk)
    stale.status = InboundReceipt.Status.RECEIVING
    for attempt in (receipt, stale):
        with pytest.raises(receipts.AlreadyCompleted, match="already put away"):
            receipts.complete_putaway(attempt, admin_user)
    assert (on_hand(tea, good), on_hand(cup, near)) == (19, 3)
    assert moves.count() == 3 and len(seen) == 1


def test_putaway_failing_push_queue_rolls_everything_back(merchant, tea, good, monkeypatch):
    receipt = receipts.create_receipt(merchant, "IN-1", [(tea, good, 10)])

    def broken(r, *, user=None):
        raise RuntimeError("outbox down")

    monkeypatch.setattr(pushing, "queue_inbound_pushes", broken)
    with pytest.raises(RuntimeError):
        receipts.complete_putaway(receipt)
    receipt.refresh_from_db()
    assert receipt.status == InboundReceipt.Status.RECEIVING and receipt.completed_at is None
    assert on_hand(tea, good) == 0 and StockMovement.objects.count() == 0


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_concurrent_putaways_exactly_one_succeeds(monkeypatch):
    from tests.factories import MerchantFactory

    if connection.vendor == "sqlite" and "memory" in str(connection.settings_dict["NAME"]):
        # In-memory SQLite in shared-cache mode fails a second writer at once instead of waiting.
        pytest.skip("needs a file database or PostgreSQL (CI runs it on PostgreSQL)")
    merchant = MerchantFactory(name="Acme", code="acme")
    tea = ProductFactory(merchant=merchant, sku="TEA-01")
    receipt = receipts.create_receipt(merchant, "IN-RACE", [(tea, inventory_type("good"), 10)])
    barrier = threading.Barrier(2)
    outcomes = []

    def slow_queue(r, *, user=None):
        return []

    monkeypatch.setattr(pushing, "queue_inbound_pushes", slow_queue)

    def worker():
        try:
            barrier.wait(timeout=5)
            receipts.complete_putaway(InboundReceipt.objects.get(pk=receipt.pk))
            outcomes.append("ok")
        except receipts.AlreadyCompleted:
            outcomes.append("rejected")
        except Exception as exc:  # pragma: no cover - reported by the assertion
            outcomes.append(repr(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(outcomes) == ["ok", "rejected"]
    assert on_hand(tea, inventory_type("good")) == 10
    assert StockMovement.objects.count() == 1


def test_putaway_locks_the_receipt_row(merchant, tea, good):
    receipt = receipts.create_receipt(merchant, "IN-1", [(tea, good, 1)])
    with CaptureQueriesContext(connection) as ctx:
        receipts.complete_putaway(receipt)
    first = next(q["sql"] for q in ctx.captured_queries if "inventory_inboundreceipt" in q["sql"])
    if connection.features.has_select_for_update:
        assert "FOR UPDATE" in first
    assert first.lstrip().startswith("SELECT")


# --- reservations ---------------------------------------------------------------------------------
def test_reserved_comes_from_open_orders_in_the_channels_primary_type(
    merchant, account, tea, cup, good, near
):
    other_channel = SalesChannelFactory(
        merchant=merchant, name="Near expiry outlet", primary_inventory_type=near
    )
    outlet = ECAccountFactory(merchant=merchant, sales_channel=other_channel, platform="momo")
    a = OrderFactory(ec_account=account)
    OrderLineFactory(order=a, product=tea, quantity=2)
    OrderLineFactory(order=a, product=cup, quantity=1)
    b = OrderFactory(ec_account=account)
    OrderLineFactory(order=b, product=tea, quantity=3)
    c = OrderFactory(ec_account=outlet)
    OrderLineFactory(order=c, product=tea, quantity=4)
    shipped = OrderFactory(ec_account=account, status=Order.Status.SHIPPED)
    OrderLineFactory(order=shipped, product=tea, quantity=100)
    cancelled = OrderFactory(ec_account=account, status=Order.Status.CANCELLED)
    OrderLineFactory(order=cancelled, product=tea, quantity=100)

    stock.recompute_reserved([tea, cup.pk, None])
    assert (reserved(tea, good), reserved(tea, near), reserved(cup, good)) == (5, 4, 1)
    assert stock.recompute_reserved([tea, cup]) == 0  # idempotent: nothing to write the second time

    # an order cancelled by the warehouse frees its units; rows no longer reserved go to 0
    Order.objects.filter(pk=c.pk).update(status=Order.Status.CANCELLED)
    Order.objects.filter(pk=a.pk).update(status=Order.Status.CANCELLED)
    stock.recompute_reserved([tea, cup])
    assert (reserved(tea, good), reserved(tea, near), reserved(cup, good)) == (3, 0, 0)


def test_import_reserves_and_a_cancelled_new_order_reserves_nothing(
    fake_platform, merchant, channel, tea, good
):
    acct = ECAccountFactory(merchant=merchant, sales_channel=channel, platform="fake", external_shop_id="s1")
    stock.add_stock(tea, good, 10, reason=StockMovement.Reason.ADJUSTMENT)
    import_page(acct, [order("1", ("TEA-01", 2)), order("2", ("TEA-01", 5), state=S.CANCELLED)])
    assert Order.objects.get(platform_order_id="2").status == Order.Status.CANCELLED
    assert reserved(tea, good) == 2
    # the platform changes the quantity: the reservation follows
    import_page(acct, [order("1", ("TEA-01", 4), updated=LATER)])
    assert reserved(tea, good) == 4
    assert stock.sellable_by_product([tea], channel) == {tea.pk: 6}


def test_import_line_moving_to_another_product_frees_the_old_one(
    fake_platform, merchant, channel, tea, cup, good
):
    acct = ECAccountFactory(merchant=merchant, sales_channel=channel, platform="fake", external_shop_id="s1")
    import_page(acct, [order("1", ("TEA-01", 2))])
    assert reserved(tea, good) == 2
    import_page(acct, [order("1", ("CUP-01", 2), updated=LATER)])
    assert (reserved(tea, good), reserved(cup, good)) == (0, 2)


def test_confirm_mapping_reserves_the_mapped_product(merchant, account, tea, good):
    unknown = UnknownProductFactory(ec_account=account, platform_sku="SP-TEA", platform_item_id="9001")
    held = OrderFactory(ec_account=account)
    unknown_line(held, unknown, quantity=3)
    stock.recompute_reserved([tea])
    assert reserved(tea, good) == 0
    mapping.confirm_mapping(unknown, tea)
    assert reserved(tea, good) == 3


def test_shipping_deducts_on_hand_and_frees_the_reservation(merchant, account, tea, cup, good, admin_user):
    stock.add_stock(tea, good, 10, reason=StockMovement.Reason.ADJUSTMENT)
    stock.add_stock(cup, good, 1, reason=StockMovement.Reason.ADJUSTMENT)
    o = OrderFactory(ec_account=account, order_number="SO-1")
    OrderLineFactory(order=o, product=tea, quantity=2)
    OrderLineFactory(order=o, product=tea, quantity=1)
    OrderLineFactory(order=o, product=cup, quantity=3)  # only 1 on hand: clamped at 0
    OrderLineFactory(order=o, product=None, quantity=9)  # unmatched: nothing to deduct
    other = OrderFactory(ec_account=account)
    OrderLineFactory(order=other, product=tea, quantity=4)
    stock.recompute_reserved([tea, cup])
    assert (reserved(tea, good), reserved(cup, good)) == (7, 3)

    shipping.mark_shipped(o, carrier="T-Cat", tracking_number="900100", user=admin_user)
    assert (on_hand(tea, good), on_hand(cup, good)) == (7, 0)
    assert (reserved(tea, good), reserved(cup, good)) == (4, 0)
    moves = {m.product_id: m for m in StockMovement.objects.filter(reason=StockMovement.Reason.SHIPMENT)}
    assert moves[tea.pk].delta == -3 and moves[tea.pk].reference == "SO-1"
    assert moves[cup.pk].delta == -1 and moves[cup.pk].on_hand_after == 0
    assert "SO-1" in moves[cup.pk].reference and "short by 2" in moves[cup.pk].reference
    assert moves[tea.pk].created_by == admin_user


def test_refused_shipment_changes_no_stock(merchant, account, tea, good):
    stock.add_stock(tea, good, 10, reason=StockMovement.Reason.ADJUSTMENT)
    o = OrderFactory(ec_account=account, status=Order.Status.CANCELLED)
    OrderLineFactory(order=o, product=tea, quantity=2)
    with pytest.raises(shipping.ShippingError):
        shipping.mark_shipped(o, carrier="T-Cat", tracking_number="1")
    assert on_hand(tea, good) == 10 and StockMovement.objects.count() == 1


# --- sellable -------------------------------------------------------------------------------------
def test_sellable_by_product_uses_the_channels_sellable_types(merchant, tea, cup, good, near, damaged):
    both = SalesChannelFactory(
        merchant=merchant, name="Both", primary_inventory_type=good, secondary_inventory_type=near
    )
    only_good = SalesChannelFactory(merchant=merchant, name="Good", primary_inventory_type=good)
    with_damaged = SalesChannelFactory(
        merchant=merchant, name="Damaged 2nd", primary_inventory_type=good, secondary_inventory_type=damaged
    )
    stock.add_stock(tea, good, 10, reason=StockMovement.Reason.ADJUSTMENT)
    stock.add_stock(tea, near, 4, reason=StockMovement.Reason.ADJUSTMENT)
    stock.add_stock(tea, damaged, 50, reason=StockMovement.Reason.ADJUSTMENT)
    StockLevel.objects.filter(product=tea, inventory_type=good).update(reserved=3)
    assert stock.sellable_by_product([tea, cup], both) == {tea.pk: 11, cup.pk: 0}
    assert stock.sellable_by_product([tea], only_good) == {tea.pk: 7}
    assert stock.sellable_by_product([tea.pk], with_damaged) == {tea.pk: 7}  # damaged is not sellable
    # more reserved than on hand: the shortfall comes out of the other type, never negative
    StockLevel.objects.filter(product=tea, inventory_type=good).update(reserved=12)
    assert stock.sellable_by_product([tea], both) == {tea.pk: 2}
    assert stock.sellable_by_product([tea], only_good) == {tea.pk: 0}


def test_stock_summary_in_one_query(tea, cup, good, damaged, django_assert_max_num_queries):
    stock.add_stock(tea, good, 10, reason=StockMovement.Reason.ADJUSTMENT)
    stock.add_stock(tea, damaged, 5, reason=StockMovement.Reason.ADJUSTMENT)
    StockLevel.objects.filter(product=tea, inventory_type=good).update(reserved=4)
    with django_assert_max_num_queries(2):
        summary = stock.stock_summary([tea, cup])
    assert summary == {
        tea.pk: {"on_hand": 15, "reserved": 4, "sellable": 6},
        cup.pk: {"on_hand": 0, "reserved": 0, "sellable": 0},
    }
