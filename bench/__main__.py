"""`make bench`: every benchmark in its own process, on SQLite and (when reachable) PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys

from bench.common import ROOT, backends

SUITES = [  # (module, once per database backend)
    ("bench.orders", True),
    ("bench.orders_memory", False),
    ("bench.stock", True),
    ("bench.stock_latency", True),
]


def run(module: str, *args: str) -> int:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.call([sys.executable, "-m", module, *args], cwd=ROOT, env=env)


def main() -> int:
    failures = 0
    found = backends()
    print("Benchmarks: ratios against baselines measured in the same run.")
    print("Databases: " + ", ".join(label for label, _url in found))
    for module, per_backend in SUITES:
        if per_backend:
            for label, url in found:
                failures += run(module, label, url or "") != 0
        else:
            failures += run(module) != 0
    print(f"\n{'All targets met.' if not failures else f'{failures} benchmark(s) missed a target.'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
