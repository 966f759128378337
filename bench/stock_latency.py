"""Issue 4 latency benchmark, for one database backend (run in its own process by ``python -m bench``):
put-away completed → stock changed in the sandbox, with a worker running. Target: p95 < 5 s for
100 SKUs.

Nothing is in-process: the sandbox runs as its own HTTP server and the pushes are made by the
product's worker, both started from the Procfile's own command lines (so the bench measures the
worker flags `make run` uses): SQLite + SqliteHuey, or PostgreSQL + RedisHuey when Redis answers.
This process plays the warehouse: it creates one merchant with 100 products listed on Shopee,
Shopify and momo (40/30/30 %), maps them with Sync Product Mappings, then puts away a 100-line
receipt ``ROUNDS`` times. Each time, the clock starts when the put-away's transaction commits and
stops when the sandbox consoles show all 100 SKUs changed by their share on every account (polled).
Before each put-away the worker is left idle long enough for its polling delay to reach its maximum
(SqliteHuey polls with a growing delay; RedisHuey blocks), so every sample pays the worst idle wait.
"""

from __future__ import annotations

import os
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import ROOT, cleanup, line, median_p95, verdict

SKUS = 100
ROUNDS = int(os.environ.get("BENCH_STOCK_ROUNDS", "12"))
TARGET_P95 = 5.0
ROUND_TIMEOUT = 60.0
POLL_SECONDS = 0.05
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")


def redis_available() -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping())
    except Exception:
        return False


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def procfile_command(name: str) -> str:
    """The command line of one Procfile process (the bench runs what `make run` runs)."""
    for raw in (ROOT / "Procfile").read_text().splitlines():
        key, sep, command = raw.partition(":")
        if sep and key.strip() == name:
            return command.strip()
    raise LookupError(f"no {name!r} process in the Procfile")


def worker_idle_seconds(command: str) -> float:
    """How long the worker must sit idle before its polling delay reaches the maximum (huey's
    consumer: ``--delay``, ``--backoff``, ``--max-delay``; RedisHuey blocks and never waits)."""
    from huey.consumer_options import config_defaults

    defaults = dict(config_defaults)
    values = {
        "delay": defaults["initial_delay"],
        "backoff": defaults["backoff"],
        "max_delay": defaults["max_delay"],
    }
    words = shlex.split(command)
    names = {"-d": "delay", "--delay": "delay", "-b": "backoff", "--backoff": "backoff"}
    names.update({"-m": "max_delay", "--max-delay": "max_delay"})
    for index, word in enumerate(words):
        key, _eq, inline = word.partition("=")
        if key in names:
            values[names[key]] = float(inline or words[index + 1])
    delay, waited = values["delay"], 0.0
    while delay < values["max_delay"] and values["backoff"] > 1:
        waited += delay
        delay *= values["backoff"]
    return waited + values["max_delay"]


class Services:
    """The sandbox server and the worker as child processes (their own process groups), with
    their output in log files under the run's var dir."""

    def __init__(self, var_dir: Path, env: dict[str, str]):
        self.var_dir, self.env, self.procs = var_dir, env, {}

    def start(self, name: str, command: str) -> None:
        log = open(self.var_dir / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process
        self.procs[name] = (
            subprocess.Popen(  # noqa: S603 - our own Procfile line
                ["/bin/sh", "-c", f"exec {command}"],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            ),
            log,
        )

    def check(self) -> None:
        for name, (proc, _log) in self.procs.items():
            if proc.poll() is not None:
                raise RuntimeError(f"the {name} exited ({proc.returncode}):\n{self.tail(name)}")

    def tail(self, name: str, lines: int = 15) -> str:
        path = self.var_dir / f"{name}.log"
        text = path.read_text(errors="replace") if path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        for proc, log in self.procs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
            log.close()


def setup(database_url: str | None, use_redis: bool, sandbox_url: str) -> tuple[Path, dict[str, str]]:
    """Fresh var dir and database, Django set up for a real queue (not immediate); returns the
    environment the worker and the sandbox get, the same as this process's."""
    var_dir = Path(tempfile.mkdtemp(prefix="ecbridge-bench-"))
    os.environ["ECBRIDGE_VAR_DIR"] = str(var_dir)
    os.environ["DJANGO_SETTINGS_MODULE"] = "ecbridge.settings"
    os.environ["HUEY_IMMEDIATE"] = "0"
    os.environ["ECBRIDGE_SANDBOX_URL"] = sandbox_url
    os.environ["ECBRIDGE_SANDBOX_DB"] = str(var_dir / "sandbox.sqlite3")
    os.environ["PYTHONUNBUFFERED"] = "1"
    os.environ["PATH"] = str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", "")
    if database_url:
        from bench.common import _recreate_postgres_database

        os.environ["DATABASE_URL"] = database_url
        _recreate_postgres_database(database_url)
    else:
        os.environ.pop("DATABASE_URL", None)
    if use_redis:
        os.environ["REDIS_URL"] = REDIS_URL
        os.environ["HUEY_QUEUE_NAME"] = f"ecbridge-bench-{os.getpid()}"  # nobody else's tasks
    else:
        os.environ.pop("REDIS_URL", None)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return var_dir, dict(os.environ)


def wait_for(sandbox, services: Services, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        services.check()
        try:
            if sandbox.get("/sandbox/_health").status_code == 200:
                return
        except Exception:  # noqa: BLE001, S110 - not listening yet
            pass
        time.sleep(0.1)
    raise RuntimeError(f"the sandbox did not start:\n{services.tail('sandbox')}")


def snapshot(sandbox, accounts) -> dict[int, dict[str, int]]:
    """Account id → SKU → stock, as each sandbox console shows it now."""
    from bench.stock import platform_stock, shop_ref

    out = {}
    for account in accounts:
        response = sandbox.get(
            f"/sandbox/{account.platform}/_console/state", params={"shop": shop_ref(account)}
        )
        response.raise_for_status()
        out[account.pk] = platform_stock(response.json(), account.platform)
    return out


def put_away_and_wait(sandbox, services, merchant, accounts, products, number: int) -> tuple[float, dict]:
    """One 100-line put-away; seconds from its commit until every account shows every share, and
    the seconds per platform."""
    from django.db import transaction

    from ecbridge.integrations.models import StockPush
    from ecbridge.inventory.models import InventoryType
    from ecbridge.inventory.services import receipts

    good = InventoryType.objects.get(code="good")
    receipt = receipts.create_receipt(
        merchant, f"BENCH-LAT-{number}", [(product, good, 10 + number) for product in products]
    )
    before = snapshot(sandbox, accounts)
    committed: list[float] = []
    with transaction.atomic():
        transaction.on_commit(lambda: committed.append(time.perf_counter()))  # first: before the enqueue
        receipts.complete_putaway(receipt)
    expected: dict[int, dict[str, int]] = {a.pk: dict(before[a.pk]) for a in accounts}
    for push in StockPush.objects.filter(receipt_line__receipt=receipt):
        expected[push.ec_account_id][push.platform_sku] += push.quantity
    pending = {a.pk: a for a in accounts}
    done: dict[str, float] = {}
    while pending:
        now = time.perf_counter()
        if now - committed[0] > ROUND_TIMEOUT:
            services.check()
            return float("inf"), done
        for account_id, seen in snapshot(sandbox, pending.values()).items():
            if all(seen.get(sku) == qty for sku, qty in expected[account_id].items()):
                done[pending.pop(account_id).platform] = time.perf_counter() - committed[0]
        if pending:
            time.sleep(POLL_SECONDS)
    return max(done.values()), done


def bench_latency(label: str, sandbox, services: Services, queue: str) -> bool:
    from bench.stock import ACCOUNTS, setup_merchant, shopify_ready, sync_mappings
    from ecbridge.inventory.models import Product

    platforms = [(p, pct) for p, pct in ACCOUNTS if p != "shopify" or shopify_ready()]
    skus = [f"LAT-{i:04d}" for i in range(SKUS)]
    merchant, admin, accounts = setup_merchant(sandbox, "latency", platforms, skus)
    for account in accounts:
        sync_mappings(account, admin)
        assert account.product_mappings.count() == SKUS, account.platform
    products = list(Product.objects.filter(merchant=merchant).order_by("sku"))

    command = procfile_command("worker")
    idle = 0.5 if queue == "RedisHuey" else worker_idle_seconds(command)
    services.start("worker", command)
    names = " + ".join(f"{a.platform} {a.push_percentage} %" for a in accounts)
    line(f"worker: {command} ({queue})", "")
    line(f"accounts: {names}", f"{SKUS} SKUs each")
    line("worker idle before each put-away (polling delay at its max)", f"{idle:.1f} s")
    samples: list[float] = []
    per_platform: dict[str, list[float]] = {a.platform: [] for a in accounts}
    for number in range(1, ROUNDS + 1):
        time.sleep(idle)
        services.check()
        seconds, done = put_away_and_wait(sandbox, services, merchant, accounts, products, number)
        samples.append(seconds)
        for platform, value in done.items():
            per_platform[platform].append(value)
        if seconds == float("inf"):
            line(f"put-away {number}: not all stock changed after {ROUND_TIMEOUT:.0f} s", "", verdict(False))
            print(services.tail("worker"))
            break
    finite = [s for s in samples if s != float("inf")]
    for platform, values in per_platform.items():
        if values:
            med, p95 = median_p95(values)
            line(f"  {platform}: median / p95", f"{med:.2f} / {p95:.2f} s")
    median, p95 = median_p95(samples) if finite else (float("inf"), float("inf"))
    line(f"put-away → all {SKUS} SKUs changed, median of {len(samples)}", f"{median:.2f} s")
    ok = len(finite) == ROUNDS and p95 < TARGET_P95
    line(
        f"put-away → all {SKUS} SKUs changed, p95",
        f"{p95:.2f} s",
        verdict(ok) + f" (target < {TARGET_P95:.0f} s)",
    )
    return ok


def main(label: str, database_url: str | None) -> int:
    use_redis = bool(database_url) and redis_available()
    queue = "RedisHuey" if use_redis else "SqliteHuey"
    port = free_port()
    sandbox_url = f"http://127.0.0.1:{port}"
    var_dir, env = setup(database_url, use_redis, sandbox_url)
    services = Services(var_dir, {**env, "ECBRIDGE_SANDBOX_PORT": str(port)})
    try:
        import httpx

        from ecbridge.integrations.services import mapping_sync

        mapping_sync._enqueue = lambda run_id: None  # synced here, before the worker starts
        print(f"\n== Stock push latency on {label} + {queue}: put-away → sandbox, worker running ==")
        services.start("sandbox", procfile_command("sandbox"))
        with httpx.Client(base_url=sandbox_url, timeout=30) as sandbox:
            wait_for(sandbox, services)
            ok = bench_latency(label, sandbox, services, queue)
        return 0 if ok else 1
    finally:
        services.stop()
        if use_redis:
            try:
                from huey.contrib.djhuey import HUEY

                HUEY.flush()
            except Exception:  # noqa: BLE001, S110 - best effort: the queue name is unique anyway
                pass
        cleanup(var_dir)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 and sys.argv[2] else None))
