"""What scoping a breach costs against DuckDB reading the breached table once.

    .venv/bin/python benchmarks/bench_breach.py                 # 20,000 users (430,000 rows)
    .venv/bin/python benchmarks/bench_breach.py --users 2000
    .venv/bin/python benchmarks/bench_breach.py --per-person    # also the one-by-one search

Per case, in one process on one engine: `scope_breach` (the rows in scope, the access search
over them, the people) against `SELECT *` of the breached table (the baseline), both after a
first read that warms the file cache. Prints the rows and people in scope and the ratio.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import date
from pathlib import Path

from dsar import load_catalog, open_engine
from dsar.breach import ScopeSpec, Window, scope_breach
from dsar.demo import generate

CASES = {
    "two weeks of web logs": ScopeSpec(
        ("web_logs",), window=Window.parse("2026-11-01", "2026-11-14")
    ),
    "half a year of tickets": ScopeSpec(
        ("support_tickets",), window=Window.parse("2026-01-01", "2026-06-30")
    ),
    "March invoices": ScopeSpec(("invoices",), window=Window.parse("2026-03-01", "2026-03-31")),
}


def main() -> None:
    """Generate the demo, then time each case against its baseline."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=20_000)
    parser.add_argument(
        "--per-person", action="store_true", help="also time the per-person search (slow)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        export = generate(Path(tmp), users=args.users, seed=7, as_of=date(2026, 11, 29))
        catalog = load_catalog(export.catalog_path)
        with open_engine(catalog) as engine:
            rows = sum(engine.count_rows(t) for t in catalog.tables)
            print(f"{args.users:,} users, {rows:,} rows")
            for name, spec in CASES.items():
                table = spec.tables[0]
                engine.query(f"SELECT * FROM {table}")  # warm the cache
                start = time.perf_counter()
                engine.query(f"SELECT * FROM {table}")
                baseline = time.perf_counter() - start
                start = time.perf_counter()
                scope = scope_breach(engine, spec)
                took = time.perf_counter() - start
                print(
                    f"{name}: {scope.total_rows:,} rows, {len(scope.people):,} people;"
                    f" scope {took:.2f} s, read once {baseline:.2f} s, {took / baseline:.1f}x"
                )
                if args.per_person:
                    start = time.perf_counter()
                    scope_breach(engine, spec, method="per-person")
                    slow = time.perf_counter() - start
                    print(f"  per person: {slow:.2f} s, {slow / baseline:.1f}x")


if __name__ == "__main__":
    main()
