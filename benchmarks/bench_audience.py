"""Benchmark: emails normalised and hashed for one platform, against a plain Python loop.

The workbench (`anonymize.audience.build_audience_file`: DuckDB reads the list, normalises in
SQL, hashes with its native SHA-256, writes the upload file) against `hashlib.sha256` in a
Python loop over the same values already normalised (the loop does less work: no reading, no
normalising, no writing), and the hashing step alone: DuckDB's SHA-256 over the same
normalised values against the loop, and normalising plus hashing (the platform's encoding)
of the raw values held in memory, as the loop's are. Peak memory of the workbench run is its
process's max RSS (it runs first, in a fresh process).

    .venv/bin/python benchmarks/bench_audience.py                  # 10 M emails
    .venv/bin/python benchmarks/bench_audience.py --rows 1000000
"""

from __future__ import annotations

import argparse
import hashlib
import json
import resource
import shutil
import sys
import time
from pathlib import Path

import duckdb
from report import Ratio, report

from anonymize.audience import build_audience_file, platform

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench-out"


def make_list(path: Path, rows: int) -> None:
    if path.exists():
        return
    duckdb.execute(
        "COPY (SELECT CASE WHEN i % 3 = 0 THEN ' ' ELSE '' END || 'Person.' || i ||"
        " CASE WHEN i % 5 = 0 THEN '+ads' ELSE '' END || '@'"
        " || ['Gmail.com', 'example.com', 'mail.example.org'][1 + i % 3] AS email"
        f" FROM range({rows}) t(i)) TO '{path}' (FORMAT parquet)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--platform", default="uid2")
    args = parser.parse_args(argv)
    OUT.mkdir(exist_ok=True)
    source = OUT / f"audience-{args.rows}.parquet"
    make_list(source, args.rows)
    target = OUT / "audience-out"
    shutil.rmtree(target, ignore_errors=True)
    start = time.perf_counter()
    result = build_audience_file(source, "email", [args.platform], target)
    workbench = time.perf_counter() - start
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    p = platform(args.platform)
    emails = p.email_relation(f"read_parquet('{source}')", "email")
    relation = duckdb.sql(f"SELECT __email FROM {emails}")
    assert relation is not None
    values = [r[0] for r in relation.fetchall() if r[0] is not None]
    start = time.perf_counter()
    for v in values:
        hashlib.sha256(v.encode()).hexdigest()
    loop = time.perf_counter() - start
    con = duckdb.connect()
    con.execute(f"CREATE TABLE n AS SELECT __email AS n FROM {emails}")
    con.execute(f"CREATE TABLE raw AS SELECT email FROM '{source}'")
    start = time.perf_counter()
    con.execute("SELECT count(sha256(n)) FROM n").fetchone()
    sql_hash = time.perf_counter() - start
    # normalising and hashing the raw values, both in memory as the loop's values are
    start = time.perf_counter()
    con.execute(
        f"SELECT count({p.hash_sql('__email')}) FROM {p.email_relation('raw', 'email')}"
    ).fetchone()
    normalise_and_hash = time.perf_counter() - start
    print(
        json.dumps(
            {
                "rows": args.rows,
                "platform": args.platform,
                "workbench_s": workbench,
                "python_hashlib_loop_over_normalised_s": loop,
                "speedup_whole_run": loop / workbench,
                "duckdb_sha256_over_the_same_normalised_values_s": sql_hash,
                "speedup_hashing_step": loop / sql_hash,
                "duckdb_normalise_and_hash_raw_values_s": normalise_and_hash,
                "speedup_normalise_and_hash": loop / normalise_and_hash,
                "workbench_peak_rss_mib": peak_mib,
                "written": result.manifests[args.platform].counts["written"],
            },
            indent=1,
        )
    )
    report(
        Ratio(
            f"SHA-256 of {args.rows:,} normalised emails ({args.platform})",
            sql_hash,
            "s",
            "a Python hashlib loop over the same values",
            loop / sql_hash,
            target=3.0,
        ),
        Ratio(
            f"normalise and hash {args.rows:,} raw emails ({args.platform})",
            normalise_and_hash,
            "s",
            "a Python hashlib loop over the values already normalised",
            loop / normalise_and_hash,
            target=3.0,
        ),
        Ratio(
            f"audience file of {args.rows:,} emails, peak memory",
            peak_mib,
            "MiB",
            "the target: 1 GiB",
            peak_mib / 1024,
            target=1.0,
            lower_is_better=True,
        ),
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
