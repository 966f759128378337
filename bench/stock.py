"""Issue 4 benchmark, for one database backend (run in its own process by ``python -m bench``):

Platform calls for an inbound of 1,000 SKUs to three accounts (Shopee 40 %, Shopify 30 %, momo 30 %)
vs the minimum the platforms' batch limits allow; target ratio 1.00 on each platform:

    Shopify  ceil(n/250) inventoryAdjustQuantities (delta with an idempotency key, no read)
    momo     ceil(codes/2000) goodsStockQty reads + ceil(n/batch) changeGoodsQty writes
    Shopee   ceil(n/50) get_item_base_info reads + n update_stock writes (one item per call)

The accounts' products are mapped by running Sync Product Mappings (its calls are reported
separately), the receipt is put away through the real service (outbox) and each run is drained
once; then every sandbox ledger must show each SKU got exactly its account's share, and the shares
of a line never add up to more than was received. The drain time is reported (no target).
"""

from __future__ import annotations

import math
import sys
import time
from collections import defaultdict

from bench.common import cleanup, line, setup_django, verdict

SKUS = 1_000
INITIAL_STOCK = 5  # on the platforms before the push: a read-then-set must keep it
# (platform, push percentage). Shopify joins when its stock part is in (see shopify_ready()).
ACCOUNTS = (("shopee", 40), ("shopify", 30), ("momo", 30))
# What each platform's stock calls are called in the sandbox's call log.
READS = {"shopee": "product.get_item_base_info", "momo": "goodsStockQty.query", "shopify": None}
WRITES = {
    "shopee": "product.update_stock",
    "momo": "changeGoodsQty",
    "shopify": "graphql:inventoryAdjustQuantities",
}


def shopify_ready() -> bool:
    """The Shopify sandbox and client take stock (the stock part of issue 4 may still be landing)."""
    try:
        from ecbridge.platforms.base import Capability
        from ecbridge.platforms.registry import get_spec
        from ecbridge.sandbox.shopify import inventory  # noqa: F401
    except ImportError:
        return False
    spec = get_spec("shopify")
    return bool(spec.implemented and spec.has(Capability.PUSH_STOCK) and spec.has(Capability.SYNC_PRODUCTS))


def quantity(index: int) -> int:
    """Received quantity of line ``index``: 10..100, so every account's share is at least 1."""
    return 10 + (index * 37) % 91


def shop_ref(account) -> str:
    """The sandbox console's name for the account's shop."""
    if account.platform == "momo":
        return account.credentials.get("entp_code", "")
    if account.platform == "shopify":
        return account.credentials.get("shop_domain", "") or account.external_shop_id
    return account.external_shop_id


def connect(sandbox, platform: str, merchant, channel, admin, name: str, percentage: int):
    """Create a sandbox shop and connect an EC account to it through the real flows (consent page
    and token exchange, or credentials and a connection test), with Inbound Push on."""
    from ecbridge.core.demo_consent import approve
    from ecbridge.integrations.models import ECAccount
    from ecbridge.integrations.services import connection, lifecycle

    shop = sandbox.post(f"/sandbox/{platform}/_console/shops", json={"name": name})
    shop.raise_for_status()
    shop = shop.json()
    account = ECAccount(
        merchant=merchant, platform=platform, display_name=name, sales_channel=channel, created_by=admin
    )
    if platform == "momo":
        lifecycle.save_account(account, credentials=shop["credentials"])
        connection.test_account(account)
    else:
        creds = {"shop_domain": shop["id"]} if platform == "shopify" else {}
        lifecycle.save_account(account, credentials=creds)
        choose = {"shop_id": str(shop["id"])} if platform == "shopee" else None
        params = approve(sandbox, lifecycle.authorize_url(account, admin), choose=choose)
        lifecycle.complete_authorization(account, params)
    account.refresh_from_db()
    assert account.status == "connected", (platform, account.status, account.status_reason)
    lifecycle.save_account(
        account, settings_data={"inbound_push_enabled": True, "push_percentage": percentage}
    )
    account.refresh_from_db()
    assert account.inbound_push_enabled and account.push_percentage == percentage
    return account


def setup_merchant(sandbox, code: str, platforms, skus: list[str]):
    """A merchant with ``skus`` as WMS products and one connected account per (platform, %),
    each on its own sales channel and its own sandbox shop listing every SKU (no variants)."""
    from ecbridge.channels.models import SalesChannel, ShippingType
    from ecbridge.inventory.models import InventoryType, Product
    from ecbridge.tenancy.models import Merchant, Role, User

    merchant = Merchant.objects.create(code=code, name=f"Bench {code}")
    admin, _ = User.objects.get_or_create(username="bench-admin", defaults={"role": Role.WAREHOUSE_ADMIN})
    good = InventoryType.objects.get(code="good")
    Product.objects.bulk_create(
        [Product(merchant=merchant, sku=sku, name=f"Bench product {sku}") for sku in skus]
    )
    accounts = []
    for platform, percentage in platforms:
        channel = SalesChannel.objects.create(
            merchant=merchant,
            name=f"{code} {platform}",
            primary_inventory_type=good,
            default_shipping_type=ShippingType.objects.get(code="tcat_home"),
        )
        account = connect(sandbox, platform, merchant, channel, admin, f"{code} {platform}", percentage)
        shop = shop_ref(account)
        for sku in skus:
            response = sandbox.post(
                f"/sandbox/{platform}/_console/products",
                json={"shop": shop, "sku": sku, "name": f"Bench product {sku}", "stock": INITIAL_STOCK},
            )
            response.raise_for_status()
        accounts.append(account)
    return merchant, admin, accounts


def sync_mappings(account, admin) -> None:
    from ecbridge.integrations.services import mapping_sync

    run, _created = mapping_sync.request_sync(account, admin)
    run = mapping_sync.run_sync(run.pk)
    assert run.status == "succeeded", (account.platform, run.status, getattr(run, "error", ""))


def platform_stock(state: dict, platform: str) -> dict[str, int]:
    """SKU → stock from a sandbox console state (each platform shows it its own way)."""
    if platform == "momo":
        return {sku: int(qty) for sku, qty in state["stock"].items()}
    if platform == "shopee":
        return {row["sku"]: int(row["stock"]) for row in state["stock"]}
    return {v["sku"]: int(v["stock"]) for p in state["products"] for v in p["variants"] if v["sku"]}


def push_deltas(state: dict) -> dict[str, list[int]]:
    """SKU → the stock changes the ledger shows from API calls (not the console or buyer orders)."""
    changes: dict[str, list[int]] = defaultdict(list)
    for entry in state["stock_ledger"]:
        if entry["source"] not in ("console", "order") and entry["delta"]:
            changes[entry["sku"]].append(int(entry["delta"]))
    return changes


def minimum_calls(platform: str, rows: int, client_settings: dict) -> tuple[int, int]:
    """(reads, writes) the platform's batch limits allow for ``rows`` SKUs (one listing each)."""
    if platform == "shopee":
        return math.ceil(rows / 50), rows
    if platform == "momo":
        batch = int(client_settings.get("stock_batch_size") or 100)
        return math.ceil(rows / 2000), math.ceil(rows / batch)
    return 0, math.ceil(rows / 250)


def count(transport, platform: str, operation: str | None) -> int:
    return transport.store.count_calls(platform, operation) if operation else 0


def bench_inbound(sandbox, transport) -> bool:
    from django.conf import settings

    from ecbridge.integrations.models import StockPush, StockRun
    from ecbridge.integrations.services import pushing
    from ecbridge.inventory.models import InventoryType, Product
    from ecbridge.inventory.services import receipts

    platforms = [(p, pct) for p, pct in ACCOUNTS if p != "shopify" or shopify_ready()]
    if len(platforms) < len(ACCOUNTS):
        print("  (Shopify stock is not in yet: Shopee and momo only)")
    skus = [f"BENCH-{i:05d}" for i in range(SKUS)]
    merchant, admin, accounts = setup_merchant(sandbox, "stock", platforms, skus)

    ok = True
    for account in accounts:
        before = transport.store.count_calls(account.platform)
        started = time.perf_counter()
        sync_mappings(account, admin)
        elapsed = time.perf_counter() - started
        made = transport.store.count_calls(account.platform) - before
        mapped = account.product_mappings.count()
        line(f"{account.platform}: mapping sync (calls, mapped, time)", f"{made}, {mapped}, {elapsed:.1f} s")
        ok &= mapped == SKUS
        if mapped != SKUS:
            line(f"  {account.platform}: every product mapped", f"{mapped}/{SKUS}", verdict(False))

    products = {p.sku: p for p in Product.objects.filter(merchant=merchant)}
    good = InventoryType.objects.get(code="good")
    lines = [(products[sku], good, quantity(i)) for i, sku in enumerate(skus)]
    receipt = receipts.create_receipt(merchant, "BENCH-IN-1", lines)
    started = time.perf_counter()
    receipts.complete_putaway(receipt)
    putaway = time.perf_counter() - started
    line(f"put-away of {SKUS:,} lines (stock + outbox, one transaction)", f"{putaway:.2f} s")

    received = {sku: quantity(i) for i, sku in enumerate(skus)}
    shares: dict[str, dict[str, int]] = {}  # platform → sku → share queued
    pushed_total: dict[str, int] = defaultdict(int)
    drain_total = 0.0
    for account in accounts:
        platform = account.platform
        run = StockRun.objects.get(ec_account=account, receipt=receipt)
        rows = {p.platform_sku: p.quantity for p in StockPush.objects.filter(run=run)}
        shares[platform] = rows
        before = {
            "all": transport.store.count_calls(platform),
            "read": count(transport, platform, READS[platform]),
            "write": count(transport, platform, WRITES[platform]),
        }
        started = time.perf_counter()
        outcome = pushing.drain_run(run.pk)
        elapsed = time.perf_counter() - started
        drain_total += elapsed
        run.refresh_from_db()
        reads = count(transport, platform, READS[platform]) - before["read"]
        writes = count(transport, platform, WRITES[platform]) - before["write"]
        other = transport.store.count_calls(platform) - before["all"] - reads - writes
        min_reads, min_writes = minimum_calls(platform, len(rows), settings.PLATFORMS.get(platform, {}))
        minimum = min_reads + min_writes
        made = reads + writes + other
        ratio = made / minimum if minimum else float("inf")
        good_run = run.status == "succeeded" and run.succeeded == len(rows) == SKUS
        line(
            f"{platform} {account.push_percentage} %: run {run.status} ({outcome})",
            f"{run.succeeded}/{len(rows)} SKUs",
            verdict(good_run),
        )
        line("  calls made: reads + writes + other", f"{reads} + {writes} + {other}")
        line("  platform minimum: reads + writes", f"{min_reads} + {min_writes}")
        line(f"  drain time (in-process sandbox, {len(rows) / elapsed:,.0f} SKUs/s)", f"{elapsed:.2f} s")
        ratio_ok = abs(ratio - 1.0) < 1e-9
        line(f"  {platform} calls / minimum", f"{ratio:.2f}", verdict(ratio_ok) + " (target 1.00)")
        ok &= good_run and ratio_ok
        for sku, share in rows.items():
            pushed_total[sku] += share
    line("drain time, all accounts (reported)", f"{drain_total:.2f} s")

    # The ledgers: each SKU got exactly its share once, on top of the initial stock.
    wrong: list[str] = []
    for account in accounts:
        platform = account.platform
        state = sandbox.get(f"/sandbox/{platform}/_console/state", params={"shop": shop_ref(account)})
        state.raise_for_status()
        state = state.json()
        deltas, stock = push_deltas(state), platform_stock(state, platform)
        bad = [
            sku
            for sku in skus
            if deltas.get(sku, []) != ([shares[platform][sku]] if shares[platform].get(sku) else [])
            or stock.get(sku) != INITIAL_STOCK + shares[platform].get(sku, 0)
        ]
        line(
            f"{platform} ledger: SKUs changed exactly by their share, once",
            f"{SKUS - len(bad)}/{SKUS}",
            verdict(not bad),
        )
        wrong += [f"{platform}:{sku}" for sku in bad[:3]]
    over = [sku for sku in skus if pushed_total[sku] > received[sku]]
    exact = sum(1 for sku in skus if pushed_total[sku] == received[sku])
    line("lines whose shares exceed the received quantity", f"{len(over)}", verdict(not over))
    line("lines fully shared out (percentages add up to 100)", f"{exact}/{SKUS}")
    if wrong:
        line("  first mismatches", ", ".join(wrong)[:60], verdict(False))
    return ok and not wrong and not over


def main(label: str, database_url: str | None) -> int:
    var_dir = setup_django(database_url)
    try:
        import httpx

        from ecbridge.integrations.services import mapping_sync, pushing
        from ecbridge.platforms import http as platform_http
        from ecbridge.sandbox.app import SandboxTransport, create_app
        from ecbridge.sandbox.store import SandboxStore

        # The jobs are run here, one at a time, so each drain is timed and its calls counted.
        pushing.enqueue = lambda run_id: None
        mapping_sync._enqueue = lambda run_id: None
        transport = SandboxTransport(create_app(SandboxStore(str(var_dir / "sandbox.sqlite3"))))
        print(f"\n== Stock push on {label}: {SKUS:,} SKUs put away, three accounts ==")
        with (
            platform_http.use_transport(transport),
            httpx.Client(transport=transport, base_url="http://sandbox.bench") as sandbox,
        ):
            ok = bench_inbound(sandbox, transport)
        return 0 if ok else 1
    finally:
        cleanup(var_dir)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 and sys.argv[2] else None))
