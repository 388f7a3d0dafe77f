"""What scoping a breach costs against DuckDB reading the breached table once.

    .venv/bin/python benchmarks/bench_breach.py                 # 20,000 users (430,000 rows)
    .venv/bin/python benchmarks/bench_breach.py --users 2000
    .venv/bin/python benchmarks/bench_breach.py --per-person    # also the one-by-one search
    .venv/bin/python benchmarks/bench_breach.py --repeat 3 --profile   # medians; steps
    .venv/bin/python benchmarks/bench_breach.py --export DIR    # a demo written before

Per case, in one process on one engine: `scope_breach` (the rows in scope, the access search
over them, the people) against `SELECT *` of the breached table (the baseline), both after a
first read that warms the file cache, alternated `--repeat` times (medians; the baseline is
read five times each). Prints the rows and people in scope, wall and CPU time (this
process's, DuckDB's threads included: on a shared machine the CPU time moves less with the
load than the wall time) and both ratios.
`--profile`: the set search's steps (`dsar.breach.setsearch` logs each statement's time at
debug level, by the table it makes: never a value), summed over the repeats.
"""

from __future__ import annotations

import argparse
import logging
import re
import statistics
import tempfile
import time
from collections import defaultdict
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
    # the largest table, every row in scope: where one read of it weighs most
    "all web logs": ScopeSpec(("web_logs",)),
}

_READS = 5  # baseline reads per repeat (cheap; their median is steadier under load)
_STEP = re.compile(r"^set search: (.*) ([0-9.]+) s, cpu ([0-9.]+) s$")


class _Steps(logging.Handler):
    """The set search's step times (wall, CPU), summed per step."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.took: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])

    def emit(self, record: logging.LogRecord) -> None:
        found = _STEP.match(record.getMessage())
        if found:
            self.took[found.group(1)][0] += float(found.group(2))
            self.took[found.group(1)][1] += float(found.group(3))


def _since(wall: float, cpu: float) -> tuple[float, float]:
    return time.perf_counter() - wall, time.process_time() - cpu


def _bench(export: Path, args: argparse.Namespace) -> None:
    catalog = load_catalog(export)
    steps = _Steps()
    if args.profile:
        logger = logging.getLogger("dsar.breach.setsearch")
        logger.setLevel(logging.DEBUG)
        logger.addHandler(steps)
    with open_engine(catalog) as engine:
        rows = sum(engine.count_rows(t) for t in catalog.tables)
        print(f"{rows:,} rows")
        for name, spec in CASES.items():
            if args.case and not any(c in name for c in args.case):
                continue
            table = spec.tables[0]
            engine.query(f"SELECT * FROM {table}")  # warm the cache
            base: list[tuple[float, float]] = []
            took: list[tuple[float, float]] = []
            steps.took.clear()
            for _ in range(args.repeat):
                for _ in range(_READS):
                    clock = time.perf_counter(), time.process_time()
                    engine.query(f"SELECT * FROM {table}")
                    base.append(_since(*clock))
                clock = time.perf_counter(), time.process_time()
                scope = scope_breach(engine, spec)
                took.append(_since(*clock))
            bw, bc = (statistics.median(t[i] for t in base) for i in (0, 1))
            sw, sc = (statistics.median(t[i] for t in took) for i in (0, 1))
            print(
                f"{name}: {scope.total_rows:,} rows, {len(scope.people):,} people;"
                f" scope {sw:.2f} s (cpu {sc:.2f} s), read once {bw:.3f} s (cpu {bc:.3f} s),"
                f" {sw / bw:.1f}x (cpu {sc / bc:.1f}x)"
            )
            for step, (wall, cpu) in sorted(steps.took.items(), key=lambda s: -s[1][1]):
                if cpu / args.repeat >= 0.01:
                    print(f"    {step}: {wall / args.repeat:.3f} s (cpu {cpu / args.repeat:.3f} s)")
            if args.profile:  # the rows in scope, the catalog's guard, the split, the texts
                inside = sum(c for s, (_, c) in steps.took.items() if s.startswith("step "))
                print(f"    outside the set search: cpu {sc - inside / args.repeat:.3f} s")
            if args.per_person:
                clock = time.perf_counter(), time.process_time()
                scope_breach(engine, spec, method="per-person")
                slow, _ = _since(*clock)
                print(f"  per person: {slow:.2f} s, {slow / bw:.1f}x")


def main() -> None:
    """Generate the demo (or read `--export`), then time each case against its baseline."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=20_000)
    parser.add_argument("--export", type=Path, help="a demo export's catalog.yml, not generated")
    parser.add_argument("--repeat", type=int, default=1, help="alternated runs (medians)")
    parser.add_argument("--case", action="append", help="only the cases naming this (repeatable)")
    parser.add_argument("--profile", action="store_true", help="the set search's step times")
    parser.add_argument(
        "--per-person", action="store_true", help="also time the per-person search (slow)"
    )
    args = parser.parse_args()
    if args.export is not None:
        _bench(args.export, args)
        return
    with tempfile.TemporaryDirectory() as tmp:
        export = generate(Path(tmp), users=args.users, seed=7, as_of=date(2026, 11, 29))
        print(f"{args.users:,} users")
        _bench(export.catalog_path, args)


if __name__ == "__main__":
    main()
