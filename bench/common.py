"""What every benchmark shares: a fresh database per backend, Django set up inside a subprocess,
and a connected account on the in-process platform sandbox."""

from __future__ import annotations

import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_URL = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/ecbridge_bench")


def postgres_available() -> bool:
    if os.environ.get("BENCH_POSTGRES", "1") == "0":
        return False
    try:
        import psycopg

        with psycopg.connect("host=127.0.0.1 port=5432 user=postgres dbname=postgres", connect_timeout=3):
            return True
    except Exception:
        return False


def backends() -> list[tuple[str, str | None]]:
    """(label, DATABASE_URL or None for a fresh SQLite file)."""
    found: list[tuple[str, str | None]] = [("SQLite", None)]
    if postgres_available():
        found.append(("PostgreSQL", POSTGRES_URL))
    return found


def setup_django(database_url: str | None) -> Path:
    """Point Django at a fresh database of the given kind, migrate it, and return the var dir."""
    var_dir = Path(tempfile.mkdtemp(prefix="ecbridge-bench-"))
    os.environ["ECBRIDGE_VAR_DIR"] = str(var_dir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ecbridge.settings")
    os.environ["HUEY_IMMEDIATE"] = "1"
    if database_url:
        os.environ["DATABASE_URL"] = database_url
        _recreate_postgres_database(database_url)
    else:
        os.environ.pop("DATABASE_URL", None)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return var_dir


def _recreate_postgres_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[-1]
    with psycopg.connect("host=127.0.0.1 port=5432 user=postgres dbname=postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def cleanup(var_dir: Path) -> None:
    shutil.rmtree(var_dir, ignore_errors=True)


def peak_rss_mb() -> float:
    """Peak resident set size of this process (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@contextmanager
def timed(results: dict, key: str):
    started = time.perf_counter()
    yield
    results[key] = time.perf_counter() - started


def median_p95(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered), p95


def line(label: str, value: str, verdict: str = "") -> None:
    print(f"  {label:<58} {value:>16}  {verdict}")
    sys.stdout.flush()


def verdict(ok: bool) -> str:
    return "OK" if ok else "MISSED"
