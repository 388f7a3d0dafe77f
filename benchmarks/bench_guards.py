"""What the identity guards cost each job now that they run before every one.

    .venv/bin/python benchmarks/bench_guards.py                 # 1,000 and 40,000 users
    .venv/bin/python benchmarks/bench_guards.py --users 250000  # about 600 MB

Per export, in one process: the guard as it runs (`guard_catalog`: the catalog checks and the
coverage check on the first `SAMPLE_ROWS` values of each identity column) against the
coverage check as `dsar catalog check` ran it before (every distinct value of every identity
column), median of 7 calls each. Then one access request, each in a fresh process, with the
guard and with the guard left out (the baseline), median of 5 runs each, alternated.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from functools import partial
from pathlib import Path

from dsar import load_catalog, open_engine
from dsar.demo import generate
from dsar.engine import Engine, guard_catalog
from dsar.engine.base import quote_identifier
from dsar.engine.guards import _home_columns

ACCESS = """
import json, sys, time
p = json.loads(sys.argv[1])
import dsar.access.answer as answer
if not p["guard"]:
    answer.guard_catalog = lambda catalog, engine, accept=False: ()
from dsar import load_catalog
from dsar.subjects.identity import SubjectRequest, parse_key
t = time.perf_counter()
request = SubjectRequest("AR-1", (parse_key("user_id=u0000000"),))
answer.answer_access_requests(load_catalog(p["catalog"]), [request], p["out"])
print(json.dumps({"seconds": time.perf_counter() - t}))
"""


def whole_coverage(catalog_path: Path, engine: Engine) -> None:
    """The coverage check as it was: every distinct value against its home, per column."""
    catalog = load_catalog(catalog_path)
    homes = {kind: places[0] for kind, places in _home_columns(catalog).items()}
    for name, table in catalog.tables.items():
        for column, kind in table.identity_columns().items():
            home = homes.get(kind)
            if home is None or home == (name, column):
                continue
            value = f"CAST({quote_identifier(column)} AS VARCHAR)"
            homed = f"CAST({quote_identifier(home[1])} AS VARCHAR)"
            engine.query(
                f"SELECT count(*) AS n, count(*) FILTER (WHERE v NOT IN (SELECT {homed} FROM"
                f" {quote_identifier(home[0])} WHERE {homed} IS NOT NULL)) AS missing FROM"
                f" (SELECT DISTINCT {value} AS v FROM {quote_identifier(name)}"
                f" WHERE {value} IS NOT NULL)"
            )


def _median(fn: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _access(catalog: Path, out: Path, guard: bool) -> float:
    settings = json.dumps({"catalog": str(catalog), "out": str(out), "guard": guard})
    done = subprocess.run(
        [sys.executable, "-c", ACCESS, settings], check=True, capture_output=True, text=True
    )
    return float(json.loads(done.stdout.splitlines()[-1])["seconds"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, nargs="*", default=[1000, 40000])
    args = parser.parse_args()
    print(
        f"{'users':>8} {'rows':>11} {'guard':>8} {'before':>8} {'ratio':>6}"
        f" {'access':>8} {'no guard':>9} {'ratio':>6}"
    )
    for users in args.users:
        with tempfile.TemporaryDirectory() as tmp:
            export = generate(Path(tmp) / "demo", users=users, seed=7, as_of=date(2026, 12, 6))
            catalog = load_catalog(export.catalog_path)
            with open_engine(catalog) as engine:
                guard_catalog(catalog, engine)  # warm the file cache for both
                guarded = _median(partial(guard_catalog, catalog, engine), 7)
                before = _median(partial(whole_coverage, export.catalog_path, engine), 7)
            with_guard, without = [], []
            for i in range(5):
                with_guard.append(_access(export.catalog_path, Path(tmp) / f"g{i}", True))
                without.append(_access(export.catalog_path, Path(tmp) / f"n{i}", False))
            a, b = statistics.median(with_guard), statistics.median(without)
            print(
                f"{users:>8,} {sum(export.rows.values()):>11,} {guarded:>7.3f}s {before:>7.3f}s"
                f" {guarded / before:>6.2f} {a:>7.2f}s {b:>8.2f}s {a / b:>6.2f}"
            )


if __name__ == "__main__":
    main()
