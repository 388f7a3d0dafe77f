"""Benchmark: the same jobs on DuckDB and on Spark in local mode, on the same export.

Each job runs in a fresh process on each engine (Spark's start-up, about five seconds, is
part of its time, as it is for a user), `--repeats` times, interleaved; the ratio is Spark's
time over DuckDB's, the median of the ratios within each round. Every job's data files must
hold the same rows on both engines (compared sorted: neither engine promises a row order
for a large answer), or the benchmark fails.

Jobs: one person's access bundle, one person's erasure plan, the extract of
`examples/extract_accounts.yml`, and Google's and Meta's audience files of
`examples/audience_marketing.yml`.

    .venv/bin/python benchmarks/bench_engines.py                  # 250,000 users, 2 rounds
    .venv/bin/python benchmarks/bench_engines.py --users 20000 --repeats 1
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
from jobs import ACCESS, AUDIENCE, ERASE, EXTRACT, demo_export, run
from report import Ratio, report

KEY = "benchmark-key-" + "k" * 32
EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
ENGINES = ("duckdb", "spark")
SKIP = ("manifest.json", "report.html", "report.md")  # they carry the time and the engine


def data_files(folder: Path) -> dict[str, object]:
    """Every data file under `folder` by its path inside it, its rows sorted (manifests and
    reports left out; a zip holds them, so it is left out too). Neither engine promises a
    row order for a large answer: the issue's bar is the same rows, row for row."""
    return {
        str(p.relative_to(folder)).split("/", 1)[-1]: _rows(p)
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.name.endswith(SKIP) and p.suffix != ".zip"
    }


def _rows(path: Path) -> object:
    if path.suffix == ".parquet":
        table = pq.read_table(path)
        return (table.schema, sorted(map(repr, table.to_pylist())))
    lines = path.read_bytes().splitlines()
    return (lines[:1], sorted(lines[1:]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=250_000)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--work", default="bench-out")
    args = parser.parse_args()
    work = Path(args.work)
    catalog = demo_export(work, args.users)
    meta = json.loads((catalog.parent / "demo.json").read_text())
    person = f"email={meta['subject']['email']}"
    stamp = time.strftime("%Y%m%d-%H%M%S")
    jobs: dict[str, tuple[str, dict[str, Any]]] = {
        "access": (ACCESS, {"ids": [person]}),
        "erasure plan": (ERASE, {"id": person, "key": KEY}),
        "extract": (EXTRACT, {"policy": str(EXAMPLES / "extract_accounts.yml"), "key": KEY}),
        "audience": (AUDIENCE, {"spec": str(EXAMPLES / "audience_marketing.yml")}),
    }
    seconds: dict[tuple[str, str], list[float]] = {}
    peaks: dict[tuple[str, str], float] = {}
    for i in range(args.repeats):
        for job, (code, settings) in jobs.items():
            outputs: dict[str, object] = {}
            counted: dict[str, object] = {}
            for engine in ENGINES:
                out = work / f"engines-{stamp}-{i}-{job.replace(' ', '-')}-{engine}"
                given = {**settings, "catalog": str(catalog), "out": str(out), "engine": engine}
                result, peak = run(code, given)
                seconds.setdefault((job, engine), []).append(result["seconds"])
                peaks[(job, engine)] = max(peak, peaks.get((job, engine), 0.0))
                outputs[engine] = data_files(out) if out.exists() else {}
                counted[engine] = result.get("rows")
            if outputs["duckdb"] != outputs["spark"] or counted["duckdb"] != counted["spark"]:
                raise SystemExit(f"{job}: the engines wrote or counted different data")
            print(
                f"round {i + 1}, {job}: DuckDB {seconds[(job, 'duckdb')][-1]:.2f} s,"
                f" Spark {seconds[(job, 'spark')][-1]:.2f} s; {counted['duckdb']} rows,"
                " the same on both",
                flush=True,
            )

    def ratio(job: str) -> float:
        pairs = zip(seconds[(job, "spark")], seconds[(job, "duckdb")], strict=True)
        return statistics.median(s / d for s, d in pairs)

    print(f"\nexport: {args.users:,} users; {args.repeats} interleaved round(s)\n")
    print("| job | DuckDB s | Spark local s | Spark / DuckDB | MiB DuckDB | Spark (Python side) |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for job in jobs:
        d, s = (statistics.median(seconds[(job, e)]) for e in ENGINES)
        print(
            f"| {job} | {d:.2f} | {s:.2f} | {ratio(job):.2f} | {peaks[(job, 'duckdb')]:.0f}"
            f" | {peaks[(job, 'spark')]:.0f} |"
        )
    report(
        *(
            Ratio(
                f"{job} on Spark local, {args.users:,} users (same rows out)",
                statistics.median(seconds[(job, "spark")]),
                "s",
                "the same job on DuckDB",
                ratio(job),
                lower_is_better=True,
            )
            for job in jobs
        )
    )


if __name__ == "__main__":
    main()
