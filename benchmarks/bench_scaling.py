"""Benchmark: how the jobs grow with the export, and where one machine stops being enough.

For demo exports of about 1, 5, 20 and 50 million rows (`--rows`), each job runs once in a
fresh process; its time and peak memory are recorded and drawn into
`benchmarks/scaling.png` (time and memory against rows, both axes logarithmic), with the
figures in `bench-out/scaling.json`:

- floor: DuckDB reading every row of every table once (the baseline of every size);
- access, cold: one person's bundle, nothing cached;
- index build, and access with the index;
- erasure: one person's erasure planned and applied (on a hard-linked copy of the export);
- extract: a de-identified extract of the web logs, the largest table;
- access on Spark local: the cold bundle on Spark, on the same machine.

    .venv/bin/python benchmarks/bench_scaling.py                          # 1, 5, 20, 50 M rows
    .venv/bin/python benchmarks/bench_scaling.py --rows 1000000 2000000   # a quick look
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path
from typing import Any

from jobs import ACCESS, ERASE, EXTRACT, FLOOR, INDEX, copy_linked, demo_export, run
from report import Ratio, report

KEY = "benchmark-key-" + "k" * 32
ROWS_PER_USER = 21.6  # the demo's rows per user (5.4 M rows for 250,000 users)
HERE = Path(__file__).resolve().parent
LABELS = {
    "floor": "floor: DuckDB reads every row",
    "access": "access, cold",
    "index": "index build",
    "indexed": "access with the index",
    "erasure": "erasure, plan and apply",
    "extract": "extract of the web logs",
    "spark": "access on Spark local",
}
POLICY = """\
version: 1
name: web-logs
table: web_logs
person: user_id
columns:
  ts: {op: generalize, to: day}
  ip: {op: generalize, ip: 24}
  device_id: hash
  user_id: hash
  method: keep
  path: drop
  status: keep
  bytes: {op: generalize, bin: 10000}
  user_agent: drop
quasi_identifiers: [ts, method, status]  # ip and bytes are quasi-identifiers too (by default)
privacy: {k: 5, max_suppression: 1.0}     # a benchmark of the work: suppression is part of it
output: {path: web_logs.parquet}
"""


def measure(work: Path, rows: int, spark: bool) -> dict[str, dict[str, float]]:
    """Every job once on the export of about `rows` rows: seconds and peak MiB."""
    users = max(1000, round(rows / ROWS_PER_USER))
    catalog = demo_export(work, users)
    meta = json.loads((catalog.parent / "demo.json").read_text())
    person = f"email={meta['subject']['email']}"
    stamp = f"{time.strftime('%Y%m%d-%H%M%S')}-{users}"
    scratch = work / f"scaling-{stamp}"
    scratch.mkdir(parents=True)
    index = scratch / "index.db"
    policy = scratch / "web_logs.yml"
    policy.write_text(POLICY)
    copy = scratch / "copy"
    copy_linked(catalog.parent, copy)
    cat = str(catalog)
    jobs: dict[str, tuple[str, dict[str, Any]]] = {
        "floor": (FLOOR, {"catalog": cat}),
        "access": (ACCESS, {"catalog": cat, "out": str(scratch / "a"), "ids": [person]}),
        "index": (INDEX, {"catalog": cat, "index": str(index), "key": KEY}),
        "indexed": (
            ACCESS,
            {
                "catalog": cat,
                "out": str(scratch / "i"),
                "ids": [person],
                "index": str(index),
                "key": KEY,
            },
        ),
        "erasure": (
            ERASE,
            {
                "catalog": str(copy / "catalog.yml"),
                "id": person,
                "key": KEY,
                "apply": True,
                "out": str(scratch / "certificates"),
            },
        ),
        "extract": (
            EXTRACT,
            {"catalog": cat, "policy": str(policy), "out": str(scratch / "x"), "key": KEY},
        ),
    }
    if spark:
        jobs["spark"] = (
            ACCESS,
            {"catalog": cat, "out": str(scratch / "s"), "ids": [person], "engine": "spark"},
        )
    found: dict[str, dict[str, float]] = {"export": {"rows": float(sum(meta["rows"].values()))}}
    for job, (code, settings) in jobs.items():
        try:
            result, peak = run(code, settings)
        except SystemExit as failed:  # recorded as failed; the other jobs still run
            print(f"{found['export']['rows']:>12,.0f} rows, {LABELS[job]}: FAILED ({failed})")
            continue
        found[job] = {"seconds": result["seconds"], "mib": peak}
        print(
            f"{found['export']['rows']:>12,.0f} rows, {LABELS[job]}: {result['seconds']:.2f} s,"
            f" peak {peak:.0f} MiB",
            flush=True,
        )
    shutil.rmtree(scratch, ignore_errors=True)
    return found


def draw(points: list[dict[str, dict[str, float]]], path: Path) -> None:
    """Time and peak memory against rows, one line per job, both axes logarithmic."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.8))
    rows = [p["export"]["rows"] / 1e6 for p in points]
    for job, label in LABELS.items():
        done = [(r, p[job]) for r, p in zip(rows, points, strict=True) if job in p]
        if not done:
            continue
        style = "--" if job == "floor" else "-"
        xs = [r for r, _ in done]
        left.plot(xs, [m["seconds"] for _, m in done], style, marker="o", label=label)
        right.plot(xs, [m["mib"] for _, m in done], style, marker="o", label=label)
    for axis, title, unit in (
        (left, "time", "seconds"),
        (right, "peak memory (RSS)", "MiB"),
    ):
        axis.set_xscale("log")
        axis.set_yscale("log")
        axis.set_xlabel("rows in the export (millions)")
        axis.set_ylabel(unit)
        axis.set_title(title)
        axis.grid(True, which="both", alpha=0.3)
    right.axhline(1024, color="grey", linewidth=0.8)
    right.text(rows[0], 1100, "1 GiB", color="grey")
    left.legend(fontsize=8)
    fig.suptitle("The jobs as the export grows (2 cores, one process each, cold)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--rows", type=int, nargs="+", default=[1_000_000, 5_000_000, 20_000_000, 50_000_000]
    )
    parser.add_argument("--no-spark", action="store_true", help="leave out Spark local")
    parser.add_argument("--work", default="bench-out")
    parser.add_argument("--png", default=str(HERE / "scaling.png"))
    args = parser.parse_args()
    work = Path(args.work)
    points = [measure(work, rows, not args.no_spark) for rows in args.rows]
    (work / "scaling.json").write_text(json.dumps(points, indent=1))
    draw(points, Path(args.png))
    print(f"\ndrawn into {args.png}\n")
    print("| rows | " + " | ".join(LABELS[j] for j in LABELS if j in points[0]) + " |")
    print("| ---: |" + " ---: |" * sum(1 for j in LABELS if j in points[0]))
    for p in points:
        cells = [
            f"{p[j]['seconds']:.1f} s, {p[j]['mib']:.0f} MiB" if j in p else "failed"
            for j in LABELS
            if j in points[0]
        ]
        print(f"| {p['export']['rows'] / 1e6:.1f} M | " + " | ".join(cells) + " |")
    largest = points[-1]
    ratios = [
        Ratio(
            f"{LABELS[job]}, {largest['export']['rows'] / 1e6:.0f} M rows",
            largest[job]["seconds"],
            "s",
            "DuckDB reading every row once (the floor)",
            largest[job]["seconds"] / largest["floor"]["seconds"],
            lower_is_better=True,
        )
        for job in LABELS
        if job in largest and job != "floor"
    ]
    report(*ratios)


if __name__ == "__main__":
    main()
