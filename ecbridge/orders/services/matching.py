"""Matching imported order lines to WMS products, a page at a time (a fixed number of queries
per page, never one per line).

Order of precedence for one line:
1. the account's ProductMapping for the line's platform item + variant (a mapping confirmed by a
   person or synced from the platform beats any rule). A line without an item id (platforms that
   only send a SKU) uses the mapping stored with an empty item id and the same platform SKU;
2. the sales channel's rule: ``sku`` → ``Product.sku``; ``barcode`` → ``Product.barcode`` (the
   line's barcode, or its SKU when the platform has no barcode field: sellers put the barcode
   there), always within the account's merchant.

Variant ids "0" and "" both mean "no variant" (Shopee sends model_id 0); they are normalised to ""
everywhere: in lookups, in unknown-product keys and in what is stored."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ecbridge.channels.models import SalesChannel
from ecbridge.integrations.models import ECAccount, ProductMapping
from ecbridge.inventory.models import Product
from ecbridge.platforms.base import OrderLineData

NO_VARIANT = ("", "0")


def norm_variant(variant_id) -> str:
    value = str(variant_id or "").strip()
    return "" if value in NO_VARIANT else value


def unknown_key(item_id: str, variant_id: str, sku: str) -> str:
    """The UnknownProduct key within an account: "<item>[:<variant>]|<sku>", e.g. "1001:2002|SKU-1"
    or "1001|SKU-1" without a variant, "|SKU-1" when the platform gives no item id."""
    item = str(item_id or "").strip()
    variant = norm_variant(variant_id)
    ident = f"{item}:{variant}" if variant else item
    return f"{ident}|{(sku or '').strip()}"[:300]


def line_key(line: OrderLineData) -> str:
    return unknown_key(line.item_id, line.variant_id, line.sku)


@dataclass(frozen=True)
class MatchRule:
    """What matching needs to know about an account, read once per page."""

    account_id: int
    merchant_id: int
    rule: str  # SalesChannel.MatchRule

    @classmethod
    def for_account(cls, account: ECAccount, channel: SalesChannel | None = None) -> MatchRule:
        channel = channel or account.sales_channel
        return cls(account.pk, account.merchant_id, channel.match_rule)


def rule_value(line: OrderLineData, rule: str) -> str:
    """The value the channel's rule compares with the WMS product."""
    if rule == SalesChannel.MatchRule.BARCODE:
        return (line.barcode or line.sku or "").strip()
    return (line.sku or "").strip()


def match_lines(match: MatchRule, lines: Sequence[OrderLineData]) -> list[int | None]:
    """The WMS product id for each line (None = unknown), in order. Three queries at most."""
    if not lines:
        return []
    by_variant: dict[tuple[str, str], int] = {}
    by_sku: dict[str, int] = {}
    item_ids = {str(line.item_id).strip() for line in lines if str(line.item_id or "").strip()}
    skus_without_item = {
        line.sku.strip() for line in lines if not str(line.item_id or "").strip() and line.sku
    }
    if item_ids:
        for item, variant, product_id in ProductMapping.objects.filter(
            ec_account_id=match.account_id, platform_item_id__in=item_ids
        ).values_list("platform_item_id", "platform_variant_id", "product_id"):
            by_variant[(item, norm_variant(variant))] = product_id
    if skus_without_item:
        for sku, product_id in ProductMapping.objects.filter(
            ec_account_id=match.account_id, platform_item_id="", platform_sku__in=skus_without_item
        ).values_list("platform_sku", "product_id"):
            by_sku[sku] = product_id

    results: list[int | None] = []
    pending_rule: dict[int, str] = {}
    for index, line in enumerate(lines):
        item = str(line.item_id or "").strip()
        product_id = (
            by_variant.get((item, norm_variant(line.variant_id)))
            if item
            else by_sku.get((line.sku or "").strip())
        )
        results.append(product_id)
        if product_id is None:
            value = rule_value(line, match.rule)
            if value:
                pending_rule[index] = value
    if pending_rule:
        field = "barcode" if match.rule == SalesChannel.MatchRule.BARCODE else "sku"
        found = _products_by(match.merchant_id, field, set(pending_rule.values()))
        for index, value in pending_rule.items():
            results[index] = found.get(value)
    return results


def _products_by(merchant_id: int, field: str, values: Iterable[str]) -> dict[str, int]:
    """value → product id. Barcodes are not unique: the lowest id wins, so the answer is stable."""
    found: dict[str, int] = {}
    rows = (
        Product.objects.filter(merchant_id=merchant_id, **{f"{field}__in": list(values)})
        .order_by("-pk")
        .values_list(field, "pk")
    )
    for value, pk in rows:
        found[value] = pk  # descending ids: the last write is the lowest id
    return found


def match_line(account: ECAccount, line: OrderLineData) -> int | None:
    """One line (convenience for callers outside the import)."""
    return match_lines(MatchRule.for_account(account), [line])[0]
