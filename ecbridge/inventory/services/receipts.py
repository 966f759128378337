"""Inbound receipts: create (validated, all or nothing) and complete put-away (once, locked).

Completing put-away adds every line to stock and queues the inbound stock push in the same
transaction (the outbox, see integrations.services.pushing): either all of it happens or none."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ecbridge.inventory.models import (
    InboundReceipt,
    InboundReceiptLine,
    InventoryType,
    Product,
    StockMovement,
)
from ecbridge.inventory.services.stock import add_stock

MAX_LINES = 5000
MAX_QUANTITY = 1_000_000


class AlreadyCompleted(Exception):
    """Put-away was already completed for this receipt; nothing changed. The message is for users."""


@dataclass(frozen=True)
class LineInput:
    """One requested receipt line before it is resolved to a product (pages and API)."""

    sku: str
    quantity: object
    inventory_type: str = ""  # code; empty = the default type
    label: str = ""  # where the line came from, for messages ("Line 3")
    error: str = ""  # a problem found while reading the line (reported as is)


def default_inventory_type() -> InventoryType | None:
    return (
        InventoryType.objects.filter(code="good").first()
        or InventoryType.objects.filter(sellable=True).first()
    )


def resolve_lines(merchant, rows: list[LineInput], default_type: InventoryType | None = None) -> list[tuple]:
    """[(product, inventory type, quantity)] for the merchant's SKUs (exact, then case-insensitive).
    Raises ValidationError({"lines": [...]}) naming every unknown SKU, type or bad quantity."""
    default_type = default_type or default_inventory_type()
    types = {t.code: t for t in InventoryType.objects.all()}
    skus = {(r.sku or "").strip() for r in rows if (r.sku or "").strip()}
    products = {p.sku: p for p in Product.objects.filter(merchant=merchant, sku__in=skus)}
    folded: dict[str, Product] = {}
    if skus - set(products):
        wanted = {s.casefold() for s in skus - set(products)}
        for p in Product.objects.filter(merchant=merchant):
            if p.sku.casefold() in wanted:
                folded.setdefault(p.sku.casefold(), p)
    errors, lines = [], []
    for index, row in enumerate(rows, start=1):
        where = row.label or _("Line %(n)d") % {"n": index}
        if row.error:
            errors.append(row.error)
            continue
        sku = (row.sku or "").strip()
        product = products.get(sku) or folded.get(sku.casefold())
        if not sku:
            errors.append(_("%(where)s: enter the SKU.") % {"where": where})
        elif product is None:
            errors.append(
                _("%(where)s: unknown SKU “%(sku)s” (no product of %(merchant)s has it).")
                % {"where": where, "sku": sku, "merchant": merchant.name}
            )
        code = (row.inventory_type or "").strip()
        itype = types.get(code) if code else default_type
        if itype is None:
            errors.append(
                _("%(where)s: unknown inventory type “%(code)s” (one of: %(codes)s).")
                % {"where": where, "code": code, "codes": ", ".join(types)}
            )
        quantity = _quantity(row.quantity)
        if quantity is None:
            errors.append(
                _("%(where)s: the quantity must be a whole number from 1 to %(max)d (got “%(value)s”).")
                % {"where": where, "max": MAX_QUANTITY, "value": row.quantity}
            )
        if product is not None and itype is not None and quantity is not None:
            lines.append((product, itype, quantity))
    if errors:
        raise ValidationError({"lines": errors})
    return lines


def _quantity(value) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    else:
        text = str(value if value is not None else "").strip().replace(",", "")
        if not re.fullmatch(r"\d+", text):
            return None
        number = int(text)
    return number if 1 <= number <= MAX_QUANTITY else None


def create_receipt(merchant, reference: str, lines, note: str = "", user=None) -> InboundReceipt:
    """Create a receipt with ``lines`` = [(product, inventory type, quantity)]. Raises
    ValidationError (by field: reference, lines) and writes nothing when anything is wrong: the
    reference is empty or already used by this merchant, there is no line, a quantity is not ≥ 1,
    or a product belongs to another merchant."""
    reference = (reference or "").strip()
    errors: dict[str, list[str]] = {}
    max_ref = InboundReceipt._meta.get_field("reference").max_length
    if not reference:
        errors.setdefault("reference", []).append(_("Enter the receipt reference."))
    elif len(reference) > max_ref:
        errors.setdefault("reference", []).append(
            _("The reference may have at most %(n)d characters.") % {"n": max_ref}
        )
    elif InboundReceipt.objects.filter(merchant=merchant, reference=reference).exists():
        errors.setdefault("reference", []).append(_duplicate(reference, merchant))
    lines = list(lines or [])
    if not lines:
        errors.setdefault("lines", []).append(_("Add at least one line."))
    elif len(lines) > MAX_LINES:
        errors.setdefault("lines", []).append(_("A receipt may have at most %(n)d lines.") % {"n": MAX_LINES})
    for index, (product, itype, quantity) in enumerate(lines, start=1):
        if product is None or product.merchant_id != merchant.pk:
            errors.setdefault("lines", []).append(
                _("Line %(n)d: the product does not belong to %(merchant)s.")
                % {"n": index, "merchant": merchant.name}
            )
        if itype is None:
            errors.setdefault("lines", []).append(_("Line %(n)d: choose the inventory type.") % {"n": index})
        if _quantity(quantity) is None:
            errors.setdefault("lines", []).append(
                _("Line %(n)d: the quantity must be a whole number from 1 to %(max)d.")
                % {"n": index, "max": MAX_QUANTITY}
            )
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            receipt = InboundReceipt.objects.create(
                merchant=merchant,
                reference=reference,
                note=(note or "").strip(),
                created_by=user if getattr(user, "pk", None) else None,
            )
            InboundReceiptLine.objects.bulk_create(
                [
                    InboundReceiptLine(
                        receipt=receipt, product=product, inventory_type=itype, quantity=_quantity(qty)
                    )
                    for product, itype, qty in lines
                ]
            )
    except IntegrityError:  # a concurrent create took the reference first
        if InboundReceipt.objects.filter(merchant=merchant, reference=reference).exists():
            raise ValidationError({"reference": [_duplicate(reference, merchant)]}) from None
        raise
    return receipt


def _duplicate(reference: str, merchant) -> str:
    return _("%(merchant)s already has a receipt with the reference “%(reference)s”.") % {
        "merchant": merchant.name,
        "reference": reference,
    }


def complete_putaway(receipt: InboundReceipt, user=None) -> InboundReceipt:
    """Add every line to stock, mark the receipt put away and queue the inbound push, in one
    transaction. The receipt row is locked and re-read first, so of two concurrent calls exactly
    one succeeds; the other (and any later call) raises AlreadyCompleted and changes nothing."""
    from ecbridge.integrations.services import pushing

    with transaction.atomic():
        locked = InboundReceipt.objects.select_for_update().get(pk=receipt.pk)
        if locked.status == InboundReceipt.Status.COMPLETED:
            raise AlreadyCompleted(
                _("Receipt “%(reference)s” was already put away at %(when)s; nothing was changed.")
                % {
                    "reference": locked.reference,
                    "when": timezone.localtime(locked.completed_at).strftime("%Y-%m-%d %H:%M")
                    if locked.completed_at
                    else "-",
                }
            )
        lines = sorted(
            locked.lines.all(), key=lambda line: (line.product_id, line.inventory_type_id, line.pk)
        )
        for line in lines:
            add_stock(
                line.product_id,
                line.inventory_type_id,
                line.quantity,
                reason=StockMovement.Reason.PUTAWAY,
                reference=locked.reference,
                user=user,
            )
        locked.status = InboundReceipt.Status.COMPLETED
        locked.completed_at = timezone.now()
        locked.completed_by = user if getattr(user, "pk", None) else None
        locked.save(update_fields=["status", "completed_at", "completed_by"])
        pushing.queue_inbound_pushes(locked, user=user)
    receipt.status, receipt.completed_at, receipt.completed_by = (
        locked.status,
        locked.completed_at,
        locked.completed_by,
    )
    return locked
