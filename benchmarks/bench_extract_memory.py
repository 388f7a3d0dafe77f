"""Benchmark: a de-identified extract of a CSV export of several GB, its peak memory and time.

An event log exported as CSV (about 100 bytes a row: an event id, a user id repeated about 20
times, an email, a timestamp, a country, a plan, an amount, a user agent) goes through
`anonymize.run_extract` with a typical policy: ids hashed (keyed), the email and the user
agent dropped, the time generalised to the month, the amount top-coded, k = 10 over country,
plan and month. The extract runs in a child process, so its peak resident memory
(`ru_maxrss`) is the extract's own, Python, DuckDB and Arrow included.

    .venv/bin/python benchmarks/bench_extract_memory.py                # 5 GB (cached)
    .venv/bin/python benchmarks/bench_extract_memory.py --gb 0.2       # a quick look
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb
from report import Ratio, report

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench-out"
ROW_BYTES = 129  # measured: bytes per row of the CSV below

CATALOG = """\
version: 1
controller: {name: Syncloop, contact: privacy@syncloop.example, supervisory_authority: DPC}
tables:
  events:
    path: events.csv
    format: csv
    description: Product events.
    category: usage
    origin: observed
    purposes: [product analytics]
    legal_basis: legitimate_interests
    source: the product
    retention: {period: 13 months, after: created_at}
    erasure: {action: delete}
    columns:
      event_id: {type: string}
      user_id: {identity: user_id, type: string}
      email: {identity: email, type: string}
      created_at: {type: timestamp}
      country: {type: string}
      plan: {type: string}
      amount: {type: float}
      user_agent: {type: string}
"""

POLICY = """\
version: 1
name: events
table: events
person: user_id                    # several events per person: k counts people
columns:
  event_id: hash
  user_id: hash
  email: drop
  created_at: {op: generalize, to: month}
  country: keep
  plan: keep
  amount: {op: top_bottom, top: 500}
  user_agent: drop
quasi_identifiers: [country, plan, created_at]
sensitive: [amount]                # what the analysis reads: not known outside
insensitive:
  event_id: "a keyed hash of the event's own id: nobody without the key can compute it"
privacy: {k: 10, max_suppression: 0.01}
output: {path: events.parquet}
"""


def make_export(root: Path, gigabytes: float) -> int:
    """Write the CSV export (once per size) and its catalog; return its rows."""
    rows = int(gigabytes * 1e9 / ROW_BYTES)
    csv = root / "events.csv"
    if not csv.exists():
        root.mkdir(parents=True, exist_ok=True)
        partial = root / "events.csv.partial"
        con = duckdb.connect(config={"memory_limit": "1GB"})
        con.execute(
            "COPY (SELECT 'ev' || lpad(CAST(i AS VARCHAR), 10, '0') AS event_id,"
            f" 'u' || CAST(hash(i) % {max(rows // 20, 1)} AS VARCHAR) AS user_id,"
            f" 'user' || CAST(hash(i) % {max(rows // 20, 1)} AS VARCHAR) || '@example.com'"
            " AS email,"
            " TIMESTAMP '2024-01-01' + to_seconds(CAST(hash(i * 3) % 63072000 AS BIGINT))"
            " AS created_at,"
            " ['IE', 'FR', 'DE', 'NL', 'ES', 'IT', 'PL', 'SE', 'US', 'GB'][1 + CAST(hash(i * 5)"
            " % 10 AS INTEGER)] AS country,"
            " ['free', 'team', 'business'][1 + CAST(hash(i * 7) % 3 AS INTEGER)] AS plan,"
            " CAST(hash(i * 11) % 100000 AS DOUBLE) / 100 AS amount,"
            " 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36' AS user_agent"
            f" FROM range({rows}) t(i)) TO '{partial}' (FORMAT csv, HEADER)"
        )
        con.close()
        partial.rename(csv)
    (root / "catalog.yml").write_text(CATALOG)
    (root / "policy.yml").write_text(POLICY)
    return rows


CHILD = """
import json, sys, time
from anonymize import run_extract
from anonymize.extract import MEMORY_LIMIT
from dsar import load_catalog, open_engine
from dsar.keys import Keys
root, out = sys.argv[1], sys.argv[2]
start = time.perf_counter()
# as `anonymize extract` opens it: DuckDB within the limit, spilling beside the extract
with open_engine(load_catalog(root + "/catalog.yml"), memory_limit=MEMORY_LIMIT,
                 temp_directory=out + "/.engine-spill") as engine:
    result = run_extract(root + "/policy.yml", engine, out, keys=Keys(b"bench-key-" * 4))
m = result.manifest
print(json.dumps({"seconds": time.perf_counter() - start, "rows_in": m.rows_in,
                  "rows_out": m.rows_out, "suppressed": m.suppressed, "k": m.risk.k}))
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gb", type=float, default=5.0, help="size of the CSV export")
    args = parser.parse_args(argv)
    root = OUT / f"extract-{args.gb:g}gb"
    started = time.perf_counter()
    rows = make_export(root, args.gb)
    made = time.perf_counter() - started
    out = root / "out"
    shutil.rmtree(out, ignore_errors=True)
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    run = subprocess.run(
        [sys.executable, "-c", CHILD, str(root), str(out)],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "TQDM_DISABLE": "1"},
    )
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    child = json.loads(run.stdout.strip().splitlines()[-1])
    input_bytes = (root / "events.csv").stat().st_size
    result = {
        "input_gb": round(input_bytes / 1e9, 2),
        "rows": rows,
        "export_written_s": round(made, 1),
        "extract_s": round(child["seconds"], 1),
        "rows_per_s": round(child["rows_in"] / child["seconds"]),
        "peak_rss_mib": round(peak_kib / 1024, 1),
        "peak_rss_before_mib": round(before / 1024, 1),
        "under_1_gib": peak_kib < 1024 * 1024,
        **{k: child[k] for k in ("rows_in", "rows_out", "suppressed", "k")},
    }
    print(json.dumps(result, indent=1))
    shutil.rmtree(out, ignore_errors=True)
    peak = peak_kib / 1024
    report(
        Ratio(
            f"extract of a {input_bytes / 1e9:.1f} GB CSV export, peak memory",
            peak,
            "MiB",
            "the target: 1 GiB",
            peak / 1024,
            target=1.0,
            lower_is_better=True,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
