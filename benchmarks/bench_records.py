"""What keyed rows cost: opening a ledger (every row and seal checked) and one write (a
pending erasure, then done), against the same statements on a plain SQLite file.

    .venv/bin/python benchmarks/bench_records.py [--sizes 1000,10000,100000]

The baseline is measured in the same run: a SQLite file with the same table and rows, no
MACs, opened and written the way the ledger did before keyed rows.
"""

from __future__ import annotations

import argparse
import sqlite3
import tempfile
import time
from pathlib import Path

from dsar.keys import Keys
from dsar.records.ledger import Ledger, Reason
from dsar.subjects.identity import parse_key

KEYS = Keys(b"b" * 40)


def _plain(path: Path, rows: int) -> tuple[float, float]:
    """Open + count, and one insert + one update, on a plain SQLite table."""
    db = sqlite3.connect(path)
    db.execute(
        "CREATE TABLE suppression (ref TEXT, reason TEXT, request TEXT, since TEXT, state TEXT,"
        " PRIMARY KEY (ref, reason))"
    )
    db.executemany(
        "INSERT INTO suppression VALUES (?, 'objected', 'R-bulk', '2026-12-01', 'done')",
        [(f"{i:064x}",) for i in range(rows)],
    )
    db.commit()
    db.close()
    start = time.perf_counter()
    db = sqlite3.connect(path)
    db.execute("SELECT count(*) FROM suppression").fetchone()
    opened = time.perf_counter() - start
    start = time.perf_counter()
    with db:
        db.execute(
            "INSERT INTO suppression VALUES ('x', 'erased', 'ER-1', '2026-12-06', 'pending')"
        )
    with db:
        db.execute("UPDATE suppression SET state = 'done' WHERE request = 'ER-1'")
    written = time.perf_counter() - start
    db.close()
    return opened, written


def _keyed(path: Path, rows: int) -> tuple[float, float]:
    ledger = Ledger(path, KEYS)
    keys = [parse_key(f"email=p{i}@example.com") for i in range(rows)]
    ledger.add(keys, Reason.OBJECTED_DIRECT_MARKETING, "R-bulk")
    ledger.close()
    start = time.perf_counter()
    ledger = Ledger(path, KEYS)
    opened = time.perf_counter() - start
    start = time.perf_counter()
    ledger.add([parse_key("email=x@example.com")], Reason.ERASED, "ER-1", pending=True)
    ledger.complete("ER-1")
    written = time.perf_counter() - start
    ledger.close()
    return opened, written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="1000,10000,100000")
    sizes = [int(s) for s in parser.parse_args().sizes.split(",")]
    print("| ledger rows | open: plain s | open: keyed s | write pending+done: plain s | keyed s |")
    print("| ---: | ---: | ---: | ---: | ---: |")
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            plain = _plain(Path(tmp) / f"plain-{n}.db", n)
            keyed = _keyed(Path(tmp) / f"keyed-{n}.db", n)
            print(f"| {n:,} | {plain[0]:.3f} | {keyed[0]:.3f} | {plain[1]:.3f} | {keyed[1]:.3f} |")


if __name__ == "__main__":
    main()
