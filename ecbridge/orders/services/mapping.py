"""Confirm Mapping: an Unknown Product becomes a product mapping, and the orders it held go free.

Everything happens in one transaction so a failure leaves the unknown product, its lines and the
holds exactly as they were. An order is released only when no other line of it is still unknown;
holds for other reasons (cancelled on platform, address, ...) are never touched here."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from ecbridge.integrations.models import ProductMapping
from ecbridge.integrations.services import listings
from ecbridge.inventory.models import Product
from ecbridge.inventory.services import stock
from ecbridge.orders.models import Hold, Order, OrderLine, UnknownProduct
from ecbridge.orders.services import holds


class MappingError(Exception):
    """The mapping cannot be confirmed (wrong merchant, record already mapped); nothing changed."""


@dataclass(frozen=True)
class MappingPreview:
    """What confirming would do, shown before the user confirms."""

    affected_orders: int  # orders with a line of this unknown product
    orders_to_release: int  # of those, orders that come off hold entirely
    orders_still_held: int  # affected orders that stay on hold (other unknown lines or other holds)


@dataclass(frozen=True)
class MappingResult:
    mapping_id: int
    mapping_created: bool
    lines_updated: int
    holds_released: int  # UNKNOWN_PRODUCT holds released (one per order at most)
    orders_released: int  # orders that were on hold and no longer are
    orders_still_held: int  # affected orders still on hold afterwards, for any reason
    # The listing that carries the product's stock on this account (services/listings.py): None
    # when the new mapping cannot take stock yet (known from orders only).
    stock_listing_id: int | None = None
    stock_listing_sku: str = ""

    @property
    def is_stock_listing(self) -> bool:
        return self.stock_listing_id in (None, self.mapping_id)


def affected_orders(unknown: UnknownProduct) -> QuerySet:
    """Orders with at least one line pointing at this unknown product."""
    return Order.objects.filter(lines__unknown_product=unknown).distinct()


def _release_plan(unknown: UnknownProduct) -> tuple[set[int], set[int]]:
    """(affected order ids, ids whose unknown-product hold goes once this product is mapped)."""
    affected = set(
        OrderLine.objects.filter(unknown_product=unknown).values_list("order_id", flat=True).distinct()
    )
    other_unknown = set(
        OrderLine.objects.filter(order_id__in=affected, unknown_product__isnull=False)
        .exclude(unknown_product=unknown)
        .values_list("order_id", flat=True)
    )
    held = set(
        Hold.objects.active()
        .filter(order_id__in=affected, reason=Hold.Reason.UNKNOWN_PRODUCT)
        .values_list("order_id", flat=True)
    )
    return affected, (held - other_unknown)


def _held_for_other_reasons(order_ids: set[int]) -> set[int]:
    return set(
        Hold.objects.active()
        .filter(order_id__in=order_ids)
        .exclude(reason=Hold.Reason.UNKNOWN_PRODUCT)
        .values_list("order_id", flat=True)
    )


def preview(unknown: UnknownProduct) -> MappingPreview:
    affected, release = _release_plan(unknown)
    # An order released from its unknown-product hold may still be held for another reason.
    freed = release - _held_for_other_reasons(release)
    still_held = set(Order.objects.filter(pk__in=affected, on_hold=True).values_list("pk", flat=True)) - freed
    return MappingPreview(
        affected_orders=len(affected), orders_to_release=len(freed), orders_still_held=len(still_held)
    )


def mapping_ids(unknown: UnknownProduct) -> tuple[str, str]:
    """(platform_item_id, platform_variant_id) under which the mapping is stored.

    ProductMapping is unique per (account, item, variant). services.matching looks a line without
    an item id (platforms that only send a SKU) up by empty item id + platform SKU, ignoring the
    variant; every such product would collide on ("", ""), so the variant slot then holds a
    "sku:<SKU>" placeholder that keeps one mapping per SKU."""
    item = (unknown.platform_item_id or "").strip()
    if not item:
        return "", f"sku:{unknown.platform_sku.strip()}"[:120]
    variant = (unknown.platform_variant_id or "").strip()
    return item, "" if variant in ("", "0") else variant  # "0" = no variant, as in services.matching


def confirm_mapping(unknown: UnknownProduct, product: Product, user=None) -> MappingResult:
    """Save the manual mapping, point the affected lines at ``product``, release the holds of the
    orders that no longer have an unknown line, and delete the unknown product."""
    if product.merchant_id != unknown.merchant_id:
        raise MappingError(_("The product belongs to another merchant: pick a product of this merchant."))
    with transaction.atomic():
        locked = UnknownProduct.objects.select_for_update().filter(pk=unknown.pk).first()
        if locked is None:
            raise MappingError(_("This unknown product has already been mapped."))
        item_id, variant_id = mapping_ids(locked)
        same_listing = ProductMapping.objects.filter(
            ec_account_id=locked.ec_account_id, platform_item_id=item_id, platform_variant_id=variant_id
        )
        same_listing.exclude(product=product).update(is_stock_primary=False)  # it was another product's
        mapping, created = ProductMapping.objects.update_or_create(
            ec_account_id=locked.ec_account_id,
            platform_item_id=item_id,
            platform_variant_id=variant_id,
            defaults={
                "product": product,
                "platform_sku": locked.platform_sku,
                "platform_barcode": locked.barcode,
                "platform_name": locked.name,
                "source": ProductMapping.Source.MANUAL,
            },
        )
        affected, release = _release_plan(locked)
        held_before = set(Order.objects.filter(pk__in=affected, on_hold=True).values_list("pk", flat=True))
        lines_updated = OrderLine.objects.filter(unknown_product=locked).update(
            product=product, unknown_product=None
        )
        released = holds.release_holds(
            Hold.objects.active().filter(order_id__in=release, reason=Hold.Reason.UNKNOWN_PRODUCT),
            user=user,
            note=_("Mapped to %(product)s") % {"product": product},
        )
        locked.delete()
        stock.recompute_reserved([product.pk])  # the lines now reserve this product
        held_after = set(Order.objects.filter(pk__in=affected, on_hold=True).values_list("pk", flat=True))
        stock_listing = listings.stock_listings([locked.ec_account_id], [product.pk]).get(
            (locked.ec_account_id, product.pk)
        )
    return MappingResult(
        mapping_id=mapping.pk,
        mapping_created=created,
        lines_updated=lines_updated,
        holds_released=released,
        orders_released=len(held_before - held_after),
        orders_still_held=len(held_after),
        stock_listing_id=stock_listing.pk if stock_listing else None,
        stock_listing_sku=stock_listing.platform_sku if stock_listing else "",
    )
