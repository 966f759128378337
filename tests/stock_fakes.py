"""A fake platform for the stock services' generic behaviour: stock in memory, configurable
semantics (absolute-only like Shopee, idempotent delta like Shopify, delta-with-current like momo),
per-SKU refusals, whole-call failures and "applied, then the answer was lost" on demand.
Registered as platform "fakestock" by the ``stock_platform`` fixture."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from ecbridge.platforms import registry
from ecbridge.platforms.base import (
    AuthKind,
    Capability,
    Client,
    PlatformProduct,
    PlatformSpec,
    StockOutcome,
    StockTarget,
)

SPEC = PlatformSpec(
    code="fakestock",
    name="FakeStock",
    auth=AuthKind.API_KEY,
    capabilities=frozenset(
        {
            Capability.FETCH_ORDERS,
            Capability.SYNC_PRODUCTS,
            Capability.PUSH_STOCK,
            Capability.MANUAL_STOCK_SYNC,
        }
    ),
    client_class="tests.stock_fakes.FakeStockClient",
)

FLAVOURS = {
    # name: (absolute_native, delta_native, adjust_idempotent, adjust_needs_current)
    "shopee": (True, False, False, False),
    "shopify": (True, True, True, False),
    "momo": (False, True, False, True),
}


@dataclass
class StockState:
    stock: dict[tuple[str, str], int] = field(default_factory=dict)  # (item, variant) → quantity
    products: list[PlatformProduct] = field(default_factory=list)
    batch_size: int = 2
    page_size: int = 2
    locked: dict[str, str] = field(default_factory=dict)  # sku → reason (refused per SKU)
    busy: dict[str, int] = field(default_factory=dict)  # sku → times refused as retryable
    errors: list[Exception] = field(default_factory=list)  # raised by the next write calls, in order
    read_errors: list[Exception] = field(default_factory=list)
    page_errors: dict[int, Exception] = field(default_factory=dict)  # product page index → error
    lose_answer_after_apply: int = 0  # the next N write calls apply, then raise TransientError
    seen_keys: dict[str, list[StockOutcome]] = field(default_factory=dict)
    calls: list[tuple[str, int]] = field(default_factory=list)  # (operation, targets)
    ledger: list[tuple[str, int, int, str]] = field(default_factory=list)  # (sku, before, after, op)

    def add(self, sku, quantity=0, *, item=None, variant="", barcode="", name=""):
        item = item or f"I-{sku}"
        self.stock[(item, variant)] = quantity
        product = PlatformProduct(
            item_id=item,
            variant_id=variant,
            sku=sku,
            name=name or f"Product {sku}",
            barcode=barcode,
            stock=quantity,
            stock_ref={"ref": f"R-{item}-{variant}"},
        )
        self.products.append(product)
        return product

    def qty(self, sku) -> int:
        product = next(p for p in self.products if p.sku == sku)
        return self.stock[(product.item_id, product.variant_id)]


STATE = StockState()


class FakeStockClient(Client):
    spec = SPEC

    def iter_products(self):
        for index in range(0, len(STATE.products), STATE.page_size):
            page_no = index // STATE.page_size
            if page_no in STATE.page_errors:
                raise STATE.page_errors.pop(page_no)
            yield list(STATE.products[index : index + STATE.page_size])

    def stock_batches(self, targets, *, absolute):
        return [targets[i : i + STATE.batch_size] for i in range(0, len(targets), STATE.batch_size)]

    def read_stock(self, targets: list[StockTarget]) -> dict[str, int]:
        STATE.calls.append(("read", len(targets)))
        if STATE.read_errors:
            raise STATE.read_errors.pop(0)
        return {
            t.key: STATE.stock[(t.item_id, t.variant_id)]
            for t in targets
            if (t.item_id, t.variant_id) in STATE.stock
        }

    def _write(self, op: str, targets: list[StockTarget], absolute: bool) -> list[StockOutcome]:
        STATE.calls.append((op, len(targets)))
        if STATE.errors:
            raise STATE.errors.pop(0)
        assert len(targets) <= STATE.batch_size, "a batch over the platform's limit"
        call_key = "|".join(t.idempotency_key for t in targets)
        if self.adjust_idempotent and not absolute and call_key in STATE.seen_keys:
            return STATE.seen_keys[call_key]  # the platform answers the original result again
        outcomes = []
        for t in targets:
            where = (t.item_id, t.variant_id)
            if where not in STATE.stock:
                outcomes.append(StockOutcome(t.key, False, error="item not found"))
                continue
            if t.sku in STATE.locked:
                outcomes.append(StockOutcome(t.key, False, error=STATE.locked[t.sku]))
                continue
            if STATE.busy.get(t.sku):
                STATE.busy[t.sku] -= 1
                outcomes.append(StockOutcome(t.key, False, error="item busy", retryable=True))
                continue
            if self.adjust_needs_current and not absolute:
                assert t.current is not None, "momo-like adjust needs the quantity as read"
            before = STATE.stock[where]
            after = t.quantity if absolute else before + t.quantity
            if after < 0:
                outcomes.append(StockOutcome(t.key, False, error="stock below zero"))
                continue
            STATE.stock[where] = after
            STATE.ledger.append((t.sku, before, after, op))
            outcomes.append(StockOutcome(t.key, True, quantity=after))
        if self.adjust_idempotent and not absolute:
            STATE.seen_keys[call_key] = outcomes
        if STATE.lose_answer_after_apply:
            from ecbridge.platforms.errors import TransientError

            STATE.lose_answer_after_apply -= 1
            raise TransientError("read timeout (the platform applied it)")
        return outcomes

    def set_stock(self, targets):
        if not self.stock_absolute_native:  # like momo's client: there is no absolute write
            raise NotImplementedError
        return self._write("set", targets, absolute=True)

    def adjust_stock(self, targets):
        if not self.stock_delta_native:  # like Shopee's client: there is no delta write
            raise NotImplementedError
        return self._write("adjust", targets, absolute=False)


@pytest.fixture(params=list(FLAVOURS))
def stock_platform(request, monkeypatch):
    """The fake stock platform, once per flavour (Shopee-like, Shopify-like, momo-like)."""
    return _install(request.param, monkeypatch)


def _install(flavour: str, monkeypatch) -> StockState:
    monkeypatch.setitem(registry.all_specs(), "fakestock", SPEC)
    absolute, delta, idempotent, current = FLAVOURS[flavour]
    monkeypatch.setattr(FakeStockClient, "stock_absolute_native", absolute)
    monkeypatch.setattr(FakeStockClient, "stock_delta_native", delta)
    monkeypatch.setattr(FakeStockClient, "adjust_idempotent", idempotent)
    monkeypatch.setattr(FakeStockClient, "adjust_needs_current", current)
    fresh = StockState()
    for name in fresh.__dataclass_fields__:
        setattr(STATE, name, getattr(fresh, name))
    STATE.flavour = flavour
    return STATE


@pytest.fixture
def install_stock_platform(monkeypatch):
    """Install one chosen flavour: ``install_stock_platform("momo")``."""
    return lambda flavour: _install(flavour, monkeypatch)
