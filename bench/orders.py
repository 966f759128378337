"""Issue 3 benchmarks, for one database backend (run in its own process by ``python -m bench``):

1. Platform calls per imported order vs the platform minimum for its page sizes (Shopee: list 100,
   detail 50): ratio must be 1.00.
2. Import throughput of 10,000 orders from the sandbox vs a raw bulk insert of the same rows into the
   same database in the same run (target ≤ 3×).
"""

from __future__ import annotations

import math
import sys
import time
from datetime import timedelta

from bench.common import cleanup, line, setup_django, verdict

THROUGHPUT_ORDERS = 10_000
CALLS_ORDERS = 2_350  # 23 full pages and a half page: the partial page must cost its minimum too
SKUS = ("BENCH-TEA-1", "BENCH-CAKE-2", "BENCH-NOOD-3")


def connect_shopee(sandbox, transport, merchant_code: str):
    """A merchant, channel, WMS products and a Shopee account connected through the real consent flow."""
    from ecbridge.channels.models import SalesChannel, ShippingType
    from ecbridge.core.demo_consent import approve
    from ecbridge.integrations.models import ECAccount
    from ecbridge.integrations.services import lifecycle
    from ecbridge.inventory.models import InventoryType, Product
    from ecbridge.tenancy.models import Merchant, Role, User

    merchant = Merchant.objects.create(code=merchant_code, name=f"Bench {merchant_code}")
    admin, _ = User.objects.get_or_create(username="bench-admin", defaults={"role": Role.WAREHOUSE_ADMIN})
    channel = SalesChannel.objects.create(
        merchant=merchant,
        name=f"{merchant_code} Shopee",
        primary_inventory_type=InventoryType.objects.get(code="good"),
        default_shipping_type=ShippingType.objects.get(code="tcat_home"),
    )
    for sku in SKUS:
        Product.objects.create(merchant=merchant, sku=sku, name=sku)
    shop = sandbox.post("/sandbox/shopee/_console/shops", json={"name": merchant_code}).json()
    for sku in SKUS:
        sandbox.post("/sandbox/shopee/_console/products", json={"shop": shop["id"], "sku": sku, "name": sku})
    account = ECAccount(
        merchant=merchant, platform="shopee", display_name=merchant_code, sales_channel=channel
    )
    lifecycle.save_account(account, credentials={})
    params = approve(sandbox, lifecycle.authorize_url(account, admin), choose={"shop_id": str(shop["id"])})
    lifecycle.complete_authorization(account, params)
    account.refresh_from_db()
    lifecycle.save_account(account, settings_data={"fetch_orders_enabled": True, "fetch_times": ["09:00"]})
    account.refresh_from_db()
    assert account.status == "connected", account.status_reason
    return account, shop["id"]


def place_orders(sandbox, shop_id, count: int) -> None:
    """``count`` buyer orders spread over the last six days (inside the first fetch's look-back)."""
    from django.utils import timezone

    start = timezone.now() - timedelta(days=6)
    response = sandbox.post(
        "/sandbox/shopee/_console/orders",
        json={
            "shop": shop_id,
            "count": count,
            "lines": [{"sku": SKUS[0], "quantity": 2}, {"sku": SKUS[1], "quantity": 1}],
            "created_at": int(start.timestamp()),
            "interval_seconds": max(1, int(5 * 86400 / count)),
        },
    )
    response.raise_for_status()


def bench_calls(sandbox, transport) -> bool:
    from ecbridge.integrations.services.fetching import run_fetch
    from ecbridge.orders.models import Order

    account, shop_id = connect_shopee(sandbox, transport, "calls")
    place_orders(sandbox, shop_id, CALLS_ORDERS)
    before = {
        op: transport.store.count_calls("shopee", op)
        for op in ("order.get_order_list", "order.get_order_detail")
    }
    run = run_fetch(account.pk, "manual")
    lists = transport.store.count_calls("shopee", "order.get_order_list") - before["order.get_order_list"]
    details = (
        transport.store.count_calls("shopee", "order.get_order_detail") - before["order.get_order_detail"]
    )
    imported = Order.objects.filter(ec_account=account).count()
    minimum = math.ceil(imported / 100) + math.ceil(imported / 50)
    ratio = (lists + details) / minimum if minimum else float("inf")
    line(f"Shopee orders imported (fetch {run.status})", f"{imported}")
    line("  list + detail calls made", f"{lists} + {details}")
    line("  platform minimum ceil(n/100) + ceil(n/50)", f"{minimum}")
    ok = imported == CALLS_ORDERS and abs(ratio - 1.0) < 1e-9
    line("  calls per imported order / minimum", f"{ratio:.2f}", verdict(ok) + " (target 1.00)")
    return ok


def raw_bulk_insert(account, pages) -> None:
    """The baseline: the same order and line rows, written with bulk_create and nothing else."""
    from django.db import transaction

    from ecbridge.orders.models import Order, OrderLine
    from ecbridge.orders.services.importing import order_fields

    with transaction.atomic():
        for page in pages:
            orders = Order.objects.bulk_create(
                [
                    Order(
                        merchant_id=account.merchant_id,
                        ec_account=account,
                        sales_channel_id=account.sales_channel_id,
                        platform=account.platform,
                        platform_order_id=data.platform_order_id,
                        **order_fields(data),
                    )
                    for data in page
                ]
            )
            OrderLine.objects.bulk_create(
                [
                    OrderLine(
                        order=order,
                        line_id=ln.line_id,
                        sku=ln.sku,
                        barcode=ln.barcode,
                        name=ln.name,
                        quantity=ln.quantity,
                        platform_item_id=ln.item_id,
                        platform_variant_id=ln.variant_id,
                    )
                    for order, data in zip(orders, page, strict=True)
                    for ln in data.lines
                ]
            )


def wipe_orders(account) -> None:
    from ecbridge.orders.models import Order

    Order.objects.filter(ec_account=account).delete()


def bench_throughput(sandbox, transport) -> bool:
    from django.utils import timezone

    from ecbridge.integrations.services import connection
    from ecbridge.integrations.services.fetching import run_fetch
    from ecbridge.orders.models import Order
    from ecbridge.orders.services.importing import import_page
    from ecbridge.platforms.base import OrderWindow

    account, shop_id = connect_shopee(sandbox, transport, "throughput")
    place_orders(sandbox, shop_id, THROUGHPUT_ORDERS)

    started = time.perf_counter()
    run = run_fetch(account.pk, "manual")
    end_to_end = time.perf_counter() - started
    imported = Order.objects.filter(ec_account=account).count()

    window = OrderWindow(run.window_start or timezone.now() - timedelta(days=7), timezone.now())
    started = time.perf_counter()
    pages = connection.call(account, lambda client: list(client.iter_orders(window)))
    fetch_only = time.perf_counter() - started
    rows = sum(len(p) for p in pages)

    wipe_orders(account)
    started = time.perf_counter()
    for page in pages:
        import_page(account, page)
    pipeline = time.perf_counter() - started

    wipe_orders(account)
    started = time.perf_counter()
    raw_bulk_insert(account, pages)
    raw = time.perf_counter() - started

    line(f"orders imported by one fetch (fetch {run.status})", f"{imported}")
    line("raw bulk insert of the same rows (baseline)", f"{raw:.2f} s")
    line("import pipeline on the fetched pages", f"{pipeline:.2f} s")
    line("fetch from the sandbox only (in-process HTTP, signing)", f"{fetch_only:.2f} s")
    line("whole fetch run (sandbox + import + API log)", f"{end_to_end:.2f} s")
    ratio_pipeline, ratio_e2e = pipeline / raw, end_to_end / raw
    ok = imported == THROUGHPUT_ORDERS and rows == THROUGHPUT_ORDERS and ratio_pipeline <= 3.0
    line("import pipeline / raw bulk insert", f"{ratio_pipeline:.2f}×", verdict(ok) + " (target ≤ 3×)")
    line("whole fetch run / raw bulk insert", f"{ratio_e2e:.2f}×", "(reported)")
    line("orders per second, whole fetch run", f"{imported / end_to_end:,.0f}")
    return ok


def main(label: str, database_url: str | None) -> int:
    var_dir = setup_django(database_url)
    try:
        import httpx

        from ecbridge.platforms import http as platform_http
        from ecbridge.sandbox.app import SandboxTransport, create_app
        from ecbridge.sandbox.store import SandboxStore

        transport = SandboxTransport(create_app(SandboxStore(str(var_dir / "sandbox.sqlite3"))))
        print(f"\n== Orders on {label} ==")
        with (
            platform_http.use_transport(transport),
            httpx.Client(transport=transport, base_url="http://sandbox.bench") as sandbox,
        ):
            results = [bench_calls(sandbox, transport), bench_throughput(sandbox, transport)]
        return 0 if all(results) else 1
    finally:
        cleanup(var_dir)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 and sys.argv[2] else None))
