"""Benchmark: drafting a data map from an export's files (`dsar catalog draft`, issue 27).

The target: drafting the 250,000-user demo export within 3x DuckDB reading it once. Every
measurement runs in a fresh process and reports its own wall time and CPU time (all its
threads), measured inside the process after imports; the draft's time includes creating
the text engine and loading its model (when a column needs it), scanning the folder,
sniffing, sampling, the text engine and every count. The baseline, measured in the same
rounds on the same files:

- floor: DuckDB reading every value of every row of every table once, in a query over all
  columns that matches nothing (`WHERE hash(concat_ws('|', COLUMNS(*))) = 0`), as in
  `bench_access.py`.

Rounds alternate the jobs (floor, draft, and the earlier draft when `--compare` names
one), so a drift in the machine's speed hits them alike; a ratio is taken within each
round, then the median. `--compare DIR` times an earlier version too: DIR holds its `dsar`
package, e.g. `git archive f923408 dsar | tar -x -C /tmp/draft-before`.

The draft reads a hard-linked copy of the demo export (`bench-out/draft-N`: no disk, and a
lock another benchmark holds on the demo folder does not stop it).

    .venv/bin/python benchmarks/bench_draft.py                       # 10,000 and 250,000 users
    .venv/bin/python benchmarks/bench_draft.py --users 250000 --repeats 5
    .venv/bin/python benchmarks/bench_draft.py --compare /tmp/draft-before --repeats 3
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

from jobs import PRELUDE, demo_export
from report import Ratio, report

FLOOR = (
    PRELUDE
    + """
from dsar import load_catalog, open_engine
from dsar.engine import quote_identifier
t, c = time.perf_counter(), time.process_time()
catalog = load_catalog(p["catalog"])
with open_engine(catalog) as engine:
    for name in engine.tables:
        engine.query(
            f"SELECT count(*) FROM {quote_identifier(name)}"
            " WHERE hash(concat_ws('|', COLUMNS(*))) = 0"
        )
print(json.dumps({"peak_mib": peak(), "seconds": time.perf_counter() - t,
                  "cpu": time.process_time() - c}))
"""
)
"""DuckDB reading every value of every row of every table once (as `jobs.FLOOR`), with CPU."""

DRAFT = (
    PRELUDE
    + """
from dsar.draft import draft
t, c = time.perf_counter(), time.process_time()
result = draft(p["export"], sample=p["sample"])
print(json.dumps({"peak_mib": peak(), "seconds": time.perf_counter() - t,
                  "cpu": time.process_time() - c, "tables": len(result.tables),
                  "links": len(result.links)}))
"""
)
"""The draft of an export folder, as `dsar catalog draft` makes it (without writing it)."""


def run_in(code: str, settings: dict[str, Any], cwd: Path | None = None) -> dict[str, Any]:
    """A job in a fresh process; with `cwd`, the `dsar` package found there comes first."""
    env = {**os.environ, "TQDM_DISABLE": "1", "TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS": ""}
    done = subprocess.run(
        [sys.executable, "-c", code, json.dumps(settings)],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"benchmark step failed ({done.returncode}): {done.stderr[-2000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def linked_copy(export: Path, target: Path) -> Path:
    """A copy of the export whose files are hard links (made once)."""
    if not target.exists():
        target.mkdir(parents=True)
        for path in export.iterdir():
            if path.is_file():
                os.link(path, target / path.name)
    return target


def load_average() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def bench(users: int, repeats: int, sample: int, work: Path, compare: Path | None) -> float:
    """One export size: prints the rounds and the table; returns the draft's x floor."""
    export = linked_copy(demo_export(work, users).parent, work / f"draft-{users}")
    meta = json.loads((export / "demo.json").read_text())
    rows = sum(meta["rows"].values())
    jobs = ["floor", "draft"] + (["before"] if compare else [])
    got: dict[str, list[dict[str, Any]]] = {j: [] for j in jobs}
    settings = {"export": str(export.resolve()), "sample": sample}
    print(f"\n{users:,} users, {rows:,} rows; load average {load_average()}", flush=True)
    for i in range(repeats):
        got["floor"].append(run_in(FLOOR, {"catalog": str((export / "catalog.yml").resolve())}))
        got["draft"].append(run_in(DRAFT, settings))
        if compare is not None:
            got["before"].append(run_in(DRAFT, settings, cwd=compare))
        line = ", ".join(
            f"{j} {got[j][-1]['seconds']:.2f} s (cpu {got[j][-1]['cpu']:.2f} s)" for j in jobs
        )
        print(f"round {i + 1}: {line}; load {load_average()}", flush=True)

    def ratio(job: str, key: str = "seconds") -> float:
        return float(
            statistics.median(a[key] / f[key] for a, f in zip(got[job], got["floor"], strict=True))
        )

    labels = {
        "floor": "floor: DuckDB reads every row once",
        "draft": "dsar catalog draft",
        "before": f"dsar catalog draft, earlier ({compare})",
    }
    print(f"\n{users:,} users, {rows:,} rows, {repeats} rounds (medians; x floor: median of")
    print("the ratios within each round)\n")
    print("| job | wall s | x floor | CPU s | CPU x floor | peak MiB |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for j in jobs:
        wall = statistics.median(r["seconds"] for r in got[j])
        cpu = statistics.median(r["cpu"] for r in got[j])
        peak = max(r["peak_mib"] or 0 for r in got[j])
        x, xc = ("1.0", "1.0") if j == "floor" else (f"{ratio(j):.2f}", f"{ratio(j, 'cpu'):.2f}")
        print(f"| {labels[j]} | {wall:.2f} | {x} | {cpu:.2f} | {xc} | {peak:.0f} |")
    drafted = got["draft"][-1]
    print(f"\ndrafted {drafted['tables']} tables, {drafted['links']} links", flush=True)
    report(
        Ratio(
            f"drafting a data map (dsar catalog draft), {users:,} users",
            statistics.median(r["seconds"] for r in got["draft"]),
            "s",
            "DuckDB reading every row once (the floor)",
            ratio("draft"),
            target=3 if users >= 250_000 else None,
            lower_is_better=True,
        )
    )
    return float(ratio("draft"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, nargs="+", default=[10_000, 250_000])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--sample", type=int, default=2000)
    parser.add_argument("--work", default="bench-out")
    parser.add_argument("--compare", type=Path, help="a folder holding an earlier dsar package")
    args = parser.parse_args()
    compare = args.compare.resolve() if args.compare else None
    for users in args.users:
        bench(users, args.repeats, args.sample, Path(args.work), compare)


if __name__ == "__main__":
    main()
