"""Stock levels: the only code that changes ``on_hand`` (through a ledger row) or ``reserved``.

- ``on_hand`` changes only through :func:`add_stock` (row-locked, one StockMovement per change).
- ``reserved`` is never incremented: :func:`recompute_reserved` derives it from the open orders
  (status PENDING, held or not) in the order's sales channel's primary inventory type, so calling
  it twice, late, or for too many products is always safe.
- What an EC account may sell is :func:`sellable_by_product`: on hand − reserved over the channel's
  sellable inventory types (primary and secondary), never below zero.

Row locks are always taken in (product, inventory type) order, so two writers never deadlock."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from django.db import transaction
from django.db.models import F, IntegerField, Q, Sum, Value
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone
from django.utils.translation import gettext as _

from ecbridge.inventory.models import InventoryType, StockLevel, StockMovement

REFERENCE_LENGTH = 120  # StockMovement.reference


def _ids(items: Iterable) -> list[int]:
    """Product ids from products or ids; None dropped, sorted, unique."""
    out = set()
    for item in items:
        if item is None:
            continue
        out.add(int(getattr(item, "pk", item)))
    return sorted(out)


def add_stock(product, inventory_type, delta: int, *, reason: str, reference: str = "", user=None):
    """Change on hand of (product, inventory type) by ``delta`` and write the ledger row.
    Returns the StockMovement. Joins the caller's transaction when there is one."""
    return _move(product, inventory_type, lambda level: (int(delta), reference), reason, user)


def remove_stock(product, inventory_type, quantity: int, *, reason: str, reference: str = "", user=None):
    """Take ``quantity`` off on hand, never below zero: a shortfall is clamped and the ledger row's
    reference says how many units were missing. Returns the StockMovement (None when nothing to do)."""
    quantity = int(quantity)
    if quantity <= 0:
        return None

    def clamped(level):
        taken = min(quantity, max(0, level.on_hand))
        if taken == quantity:
            return -taken, reference
        note = _("%(reference)s (short by %(missing)d: on hand clamped at 0)")
        return -taken, note % {"reference": reference, "missing": quantity - taken}

    return _move(product, inventory_type, clamped, reason, user)


def _move(product, inventory_type, change, reason: str, user) -> StockMovement:
    """Lock (creating if needed) the stock level, apply ``change(level) -> (delta, reference)`` to
    on hand and write the ledger row, in one transaction: the only writer of ``on_hand``."""
    with transaction.atomic(savepoint=False):
        level, _created = StockLevel.objects.select_for_update().get_or_create(
            product_id=getattr(product, "pk", product),
            inventory_type_id=getattr(inventory_type, "pk", inventory_type),
        )
        delta, reference = change(level)
        level.on_hand += delta
        level.save(update_fields=["on_hand", "updated_at"])
        return StockMovement.objects.create(
            product_id=level.product_id,
            inventory_type_id=level.inventory_type_id,
            delta=delta,
            on_hand_after=level.on_hand,
            reason=reason,
            reference=(reference or "")[:REFERENCE_LENGTH],
            created_by=user if getattr(user, "pk", None) else None,
        )


def reserved_from_orders(product_ids: Iterable[int]) -> dict[tuple[int, int], int]:
    """{(product id, inventory type id): units} held by open orders, in each order's sales
    channel's primary inventory type."""
    from ecbridge.orders.models import Order, OrderLine

    rows = (
        OrderLine.objects.filter(product_id__in=list(product_ids), order__status=Order.Status.PENDING)
        .order_by()
        .values("product_id", "order__sales_channel__primary_inventory_type_id")
        .annotate(units=Sum("quantity"))
    )
    return {(r["product_id"], r["order__sales_channel__primary_inventory_type_id"]): r["units"] for r in rows}


def recompute_reserved(product_ids: Iterable) -> int:
    """Set ``reserved`` of every stock level of these products from the open orders (creating the
    rows that become reserved, zeroing rows no longer reserved). Idempotent; joins the caller's
    transaction. Three or four queries whatever the number of products. Returns rows written."""
    ids = _ids(product_ids)
    if not ids:
        return 0
    with transaction.atomic(savepoint=False):
        levels = list(
            StockLevel.objects.select_for_update()
            .filter(product_id__in=ids)
            .order_by("product_id", "inventory_type_id")
        )
        wanted = reserved_from_orders(ids)  # read under the lock: a writer that committed is seen
        now = timezone.now()
        changed = []
        for level in levels:
            units = wanted.pop((level.product_id, level.inventory_type_id), 0)
            if level.reserved != units:
                level.reserved, level.updated_at = units, now
                changed.append(level)
        if changed:
            StockLevel.objects.bulk_update(changed, ["reserved", "updated_at"])
        new = [
            StockLevel(product_id=p, inventory_type_id=t, reserved=units, updated_at=now)
            for (p, t), units in sorted(wanted.items())
            if units
        ]
        if new:  # upsert: a row created concurrently (by a put-away) keeps its on hand
            StockLevel.objects.bulk_create(
                new,
                update_conflicts=True,
                unique_fields=["product", "inventory_type"],
                update_fields=["reserved", "updated_at"],
            )
    return len(changed) + len(new)


def ship_order(order, *, user=None) -> list[StockMovement]:
    """Stock side of shipping ``order`` (call inside the shipping transaction, after the status
    change): each matched line leaves on hand of the channel's primary inventory type, and the
    reservations of its products are recomputed."""
    from ecbridge.channels.models import SalesChannel

    lines = sorted(
        (line for line in order.lines.all() if line.product_id is not None),
        key=lambda line: (line.product_id, line.pk),
    )
    if not lines:
        return []
    type_id = (
        SalesChannel.objects.filter(pk=order.sales_channel_id)
        .values_list("primary_inventory_type_id", flat=True)
        .get()
    )
    units: dict[int, int] = defaultdict(int)
    for line in lines:
        units[line.product_id] += line.quantity
    movements = []
    for product_id, quantity in sorted(units.items()):
        movement = remove_stock(
            product_id,
            type_id,
            quantity,
            reason=StockMovement.Reason.SHIPMENT,
            reference=order.order_number,
            user=user,
        )
        if movement is not None:
            movements.append(movement)
    recompute_reserved(units)
    return movements


def channel_types(sales_channel) -> list[int]:
    """The sellable inventory type ids an account bound to this channel may sell from."""
    wanted = [
        t for t in (sales_channel.primary_inventory_type_id, sales_channel.secondary_inventory_type_id) if t
    ]
    return list(InventoryType.objects.filter(pk__in=wanted, sellable=True).values_list("pk", flat=True))


def sellable_by_product(products: Iterable, sales_channel) -> dict[int, int]:
    """{product id: units an EC account bound to ``sales_channel`` may sell}: on hand − reserved
    summed over the channel's primary and secondary inventory types that are sellable, never
    below zero. A shortfall in one type (more reserved than on hand) is taken from the other,
    because the warehouse fills those orders from the channel's other type: never oversell.
    Products without stock rows count 0."""
    ids = _ids(products)
    result = dict.fromkeys(ids, 0)
    types = channel_types(sales_channel)
    if not ids or not types:
        return result
    rows = (
        StockLevel.objects.filter(product_id__in=ids, inventory_type_id__in=types)
        .order_by()
        .values("product_id")
        .annotate(net=Sum(F("on_hand") - F("reserved")))
    )
    for row in rows:
        result[row["product_id"]] = max(0, row["net"] or 0)
    return result


def stock_summary(products: Iterable) -> dict[int, dict[str, int]]:
    """{product id: {"on_hand", "reserved", "sellable"}} in one query, by the same rule as the
    product list (:func:`with_stock_totals`)."""
    from ecbridge.inventory.models import Product

    ids = _ids(products)
    result = {pk: {"on_hand": 0, "reserved": 0, "sellable": 0} for pk in ids}
    for row in with_stock_totals(Product.objects.filter(pk__in=ids)).values(
        "pk", "on_hand_total", "reserved_total", "sellable_total"
    ):
        result[row["pk"]] = {
            "on_hand": row["on_hand_total"],
            "reserved": row["reserved_total"],
            "sellable": row["sellable_total"],
        }
    return result


def with_stock_totals(qs):
    """Annotate a Product queryset with ``on_hand_total``, ``reserved_total`` and
    ``sellable_total`` (as :func:`stock_summary`), so lists can sort by them."""
    zero = Value(0, output_field=IntegerField())
    return qs.annotate(
        on_hand_total=Coalesce(Sum("stock_levels__on_hand"), zero),
        reserved_total=Coalesce(Sum("stock_levels__reserved"), zero),
        sellable_total=Greatest(
            Coalesce(
                Sum(
                    F("stock_levels__on_hand") - F("stock_levels__reserved"),
                    filter=Q(stock_levels__inventory_type__sellable=True),
                ),
                zero,
            ),
            zero,
        ),
    )
