"""Issue 3 memory benchmark: importing 100,000 orders keeps the worker's peak RSS under 300 MB
(pages are streamed from the platform and committed one by one, never all held in memory).

Runs in its own process so the peak belongs to this import alone. The sandbox runs in the same
process (in-process transport, file-backed storage), so its share counts against us too."""

from __future__ import annotations

import sys
import time

from bench.common import cleanup, line, peak_rss_mb, setup_django, verdict

ORDERS = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
LIMIT_MB = 300


def main() -> int:
    var_dir = setup_django(None)
    try:
        import httpx

        from bench.orders import connect_shopee, place_orders
        from ecbridge.integrations.services.fetching import run_fetch
        from ecbridge.orders.models import Order
        from ecbridge.platforms import http as platform_http
        from ecbridge.sandbox.app import SandboxTransport, create_app
        from ecbridge.sandbox.store import SandboxStore

        transport = SandboxTransport(create_app(SandboxStore(str(var_dir / "sandbox.sqlite3"))))
        print(f"\n== Worker memory importing {ORDERS:,} orders (SQLite) ==")
        with (
            platform_http.use_transport(transport),
            httpx.Client(transport=transport, base_url="http://sandbox.bench") as sandbox,
        ):
            account, shop_id = connect_shopee(sandbox, transport, "memory")
            for _ in range(ORDERS // 20_000):
                place_orders(sandbox, shop_id, 20_000)
            if ORDERS % 20_000:
                place_orders(sandbox, shop_id, ORDERS % 20_000)
            before = peak_rss_mb()
            started = time.perf_counter()
            run = run_fetch(account.pk, "manual")
            elapsed = time.perf_counter() - started
        imported = Order.objects.filter(ec_account=account).count()
        peak = peak_rss_mb()
        ok = imported == ORDERS and peak < LIMIT_MB
        line(f"orders imported (fetch {run.status})", f"{imported:,}")
        line("whole fetch run", f"{elapsed:.1f} s")
        line("peak RSS before the fetch (Django + sandbox with its orders)", f"{before:.0f} MB")
        line("peak RSS of the worker process", f"{peak:.0f} MB")
        line(f"peak RSS / {LIMIT_MB} MB limit", f"{peak / LIMIT_MB:.2f}", verdict(ok) + " (target < 1.00)")
        return 0 if ok else 1
    finally:
        cleanup(var_dir)


if __name__ == "__main__":
    sys.exit(main())
