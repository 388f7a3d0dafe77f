"""Benchmark: an extract whose free text is redacted, on one worker process and on every core.

Support notes (each names two people, a phone number, an email and an invoice number) go
through `anonymize.run_extract` with `redact`, once with `workers=1` (everything in this
process) and once with a worker per core (finding in the workers, replacing here). The two
extracts must be identical; the ratio of the times is what the extra cores buy.

    .venv/bin/python benchmarks/bench_redact.py               # 20,000 notes
    .venv/bin/python benchmarks/bench_redact.py --rows 4000
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
from report import Ratio, report

from anonymize import run_extract
from dsar import open_engine
from dsar.catalog import load_catalog

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench-out" / "redact"
FIRST = ["Siobhán", "Marek", "Aisha", "Tomás", "Ingrid", "Kwame", "Mei", "Olivia", "Rahul"]
LAST = ["Kelly", "Nowak", "Bello", "Ruiz", "Olsen", "Mensah", "Chen", "Bennett", "Sharma"]
CATALOG = """\
version: 1
controller: {name: Helpdesk Ltd, contact: dpo@helpdesk.example, supervisory_authority: DPC}
tables:
  notes:
    path: notes.csv
    format: csv
    description: Agents' notes.
    category: communications
    origin: provided
    purposes: [support]
    legal_basis: contract
    source: our agents
    retention: {criteria: two years}
    erasure: {action: delete}
    columns:
      note_id: {type: integer}
      agent_email: {identity: email, type: string}
      body: {free_text: true, type: string}
"""
POLICY = """\
version: 1
name: notes
table: notes
person: agent_email
columns: {note_id: keep, agent_email: drop, body: {op: redact}}
output: {path: notes.parquet}
"""


def make_notes(root: Path, rows: int) -> None:
    if (root / "notes.csv").exists():
        return
    root.mkdir(parents=True, exist_ok=True)
    lines = ["note_id,agent_email,body"]
    for i in range(rows):
        who = f"{FIRST[i % 9]} {LAST[(i * 7) % 9]}"
        other = f"{FIRST[(i * 5 + 2) % 9]} {LAST[(i * 4 + 1) % 9]}"
        lines.append(
            f'{i},agent{i % 7}@helpdesk.example,"Called {who} on'
            f" +353 87 {i % 1000:03d} {i % 9999:04d}; {other} asked about invoice {i}."
            f' Mail {who.split()[0].lower()}{i}@example.org before Friday."'
        )
    (root / "notes.csv").write_text("\n".join(lines) + "\n")
    (root / "catalog.yml").write_text(CATALOG)
    (root / "policy.yml").write_text(POLICY)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    args = parser.parse_args(argv)
    root = OUT / f"notes-{args.rows}"
    make_notes(root, args.rows)
    catalog = load_catalog(root / "catalog.yml")
    cores = os.cpu_count() or 1
    times: dict[int, float] = {}
    files: dict[int, Path] = {}
    for workers in (1, cores):
        out = root / f"out-{workers}"
        shutil.rmtree(out, ignore_errors=True)
        start = time.perf_counter()
        with open_engine(catalog) as engine:
            result = run_extract(root / "policy.yml", engine, out, workers=workers)
        times[workers] = time.perf_counter() - start
        files[workers] = result.file
    same = pq.read_table(files[1]).equals(pq.read_table(files[cores]))
    print(
        json.dumps(
            {
                "rows": args.rows,
                "cores": cores,
                "one_worker_s": round(times[1], 1),
                "every_core_s": round(times[cores], 1),
                "speedup": round(times[1] / times[cores], 2),
                "rows_per_s_every_core": round(args.rows / times[cores]),
                "identical_extracts": same,
            },
            indent=1,
        )
    )
    report(
        Ratio(
            f"redact {args.rows:,} notes on {cores} worker processes",
            times[cores],
            "s",
            "the same on one process (the model on two)",
            times[1] / times[cores],
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
