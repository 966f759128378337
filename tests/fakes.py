"""A fake platform for the pipeline's generic behaviour: orders in memory, pages of a fixed size,
failures on demand, and a signed webhook format. Registered as platform "fake" by the
``fake_platform`` fixture (import it into a test module to use it)."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from ecbridge.platforms import registry
from ecbridge.platforms.base import (
    AuthKind,
    Capability,
    Client,
    OrderData,
    OrderLineData,
    OrderWindow,
    PlatformOrderState,
    PlatformSpec,
    WebhookEvent,
    WebhookKind,
)

SECRET = b"fake-webhook-secret"

SPEC = PlatformSpec(
    code="fake",
    name="Fake",
    auth=AuthKind.API_KEY,
    capabilities=frozenset({Capability.FETCH_ORDERS, Capability.REALTIME_PUSH}),
    client_class="tests.fakes.FakeClient",
)


@dataclass
class FakeState:
    orders: dict[str, OrderData] = field(default_factory=dict)
    page_size: int = 2
    windows: list[OrderWindow] = field(default_factory=list)
    pages_served: int = 0
    fail_at_page: int | None = None  # raise ``error`` instead of serving this page (0-based, global)
    error: Exception | None = None
    get_calls: list[list[str]] = field(default_factory=list)
    get_error: Exception | None = None

    def add(self, order: OrderData) -> OrderData:
        self.orders[order.platform_order_id] = order
        return order


STATE = FakeState()


class FakeClient(Client):
    spec = SPEC
    max_order_window = timedelta(days=2)
    initial_lookback = timedelta(days=3)

    def iter_orders(self, window: OrderWindow):
        assert window.end - window.start <= self.max_order_window
        STATE.windows.append(window)
        found = sorted(
            (o for o in STATE.orders.values() if window.start <= o.updated_at < window.end),
            key=lambda o: (o.updated_at, o.platform_order_id),
        )
        for start in range(0, len(found), STATE.page_size):
            if STATE.fail_at_page is not None and STATE.pages_served == STATE.fail_at_page:
                STATE.fail_at_page = None
                raise STATE.error
            STATE.pages_served += 1
            yield [copy.deepcopy(o) for o in found[start : start + STATE.page_size]]

    def get_orders(self, ids):
        STATE.get_calls.append(list(ids))
        if STATE.get_error is not None:
            error, STATE.get_error = STATE.get_error, None
            raise error
        return [copy.deepcopy(STATE.orders[i]) for i in ids if i in STATE.orders]

    @classmethod
    def verify_webhook_request(cls, headers, body, url=""):
        given = next((v for k, v in headers.items() if k.lower() == "x-fake-signature"), "")
        return hmac.compare_digest(given, sign(body))

    @classmethod
    def parse_webhook(cls, headers, body):
        data = json.loads(body)
        return [
            WebhookEvent(
                delivery_id=data["delivery"],
                topic=data["topic"],
                kind=WebhookKind(data.get("kind", "order")),
                shop_id=data.get("shop", ""),
                order_ids=data.get("orders", []),
            )
        ]


def sign(body: bytes) -> str:
    return hmac.new(SECRET, body, hashlib.sha256).hexdigest()


def webhook(delivery: str, topic: str = "orders/updated", *, shop="shop-1", orders=(), kind="order"):
    body = json.dumps(
        {"delivery": delivery, "topic": topic, "shop": shop, "orders": list(orders), "kind": kind}
    ).encode()
    return body, {"X-Fake-Signature": sign(body)}


NOW = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=30)  # orders sit inside any lookback


def order(
    oid: str,
    *lines: tuple,
    state=PlatformOrderState.TO_SHIP,
    updated: datetime | None = None,
    shipping_code: str = "HOME",
    address: str = "台北市信義區市府路1號",
    **extra,
) -> OrderData:
    """An order; each line is (sku, quantity) or (sku, quantity, item_id, variant_id[, barcode])."""
    updated = updated or NOW - timedelta(hours=1)
    return OrderData(
        platform_order_id=oid,
        order_number=f"N{oid}",
        state=state,
        platform_status=str(state).upper(),
        created_at=updated - timedelta(minutes=5),
        updated_at=updated,
        lines=[
            OrderLineData(
                line_id=f"{oid}-{i}",
                sku=spec[0],
                name=f"Product {spec[0]}",
                quantity=spec[1],
                item_id=spec[2] if len(spec) > 2 else "",
                variant_id=spec[3] if len(spec) > 3 else "",
                barcode=spec[4] if len(spec) > 4 else "",
            )
            for i, spec in enumerate(lines or [("SKU-1", 1)])
        ],
        shipping_code=shipping_code,
        recipient_name="王小明",
        recipient_phone="0912345678",
        recipient_address=address,
        **extra,
    )


@pytest.fixture
def fake_platform(monkeypatch):
    """Register the fake platform and reset its state."""
    monkeypatch.setitem(registry.all_specs(), "fake", SPEC)
    fresh = FakeState()
    for name in fresh.__dataclass_fields__:
        setattr(STATE, name, getattr(fresh, name))
    return STATE
