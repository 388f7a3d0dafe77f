"""Benchmark: demo export generation time and peak memory, against a full read of its files.

Each measurement runs in a fresh subprocess so its peak memory (max RSS) is its own. The
baseline, measured in the same run on the same files, is DuckDB reading every value of every
row of the generated export once: generation is reported as a multiple of that floor.

    .venv/bin/python benchmarks/bench_demo.py                     # 1,000 users (5 runs)
    .venv/bin/python benchmarks/bench_demo.py --users 1000000 --repeats 1
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from report import Ratio, report

GENERATE = (
    "import sys, datetime\n"
    "from dsar.demo import generate\n"
    "e = generate(sys.argv[1], users=int(sys.argv[2]), seed=7, as_of=datetime.date(2026, 11, 29))\n"
    "print(sum(e.rows.values()))\n"
)
FULL_READ = (
    "import sys\n"
    "from dsar import load_catalog, open_engine\n"
    "from dsar.engine import quote_identifier\n"
    "c = load_catalog(sys.argv[1])\n"
    "with open_engine(c) as e:\n"
    "    for t in e.tables:\n"
    "        e.query(f'SELECT count(COLUMNS(*)) FROM {quote_identifier(t)}')\n"
)


def run(code: str, *args: str) -> tuple[float, float, str]:
    """Wall seconds, peak RSS in MiB, and stdout of `python -c code args`."""
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", code, *args], stdout=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    out = proc.stdout.read() if proc.stdout else ""
    if status != 0:
        raise SystemExit(f"benchmark step failed with status {status}")
    return elapsed, usage.ru_maxrss / 1024, out.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, nargs="+", default=[1000])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print("| users | rows | generate s (median) | peak MiB | full read s | generate / read |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: |")
    for users in args.users:
        gen, mem, reads = [], [], []
        rows = ""
        with tempfile.TemporaryDirectory() as tmp:
            for i in range(args.repeats):
                out = Path(tmp) / f"run{i}"
                seconds, peak, rows = run(GENERATE, str(out), str(users))
                gen.append(seconds)
                mem.append(peak)
                reads.append(run(FULL_READ, str(out / "catalog.yml"))[0])
                if i:  # keep one copy on disk at a time
                    subprocess.run(["rm", "-rf", str(out)], check=True)
        g, r = statistics.median(gen), statistics.median(reads)
        print(f"| {users:,} | {int(rows):,} | {g:.2f} | {max(mem):.0f} | {r:.2f} | {g / r:.1f}x |")
        report(
            Ratio(
                f"demo export of {users:,} users",
                g,
                "s",
                "DuckDB reading every value of it once",
                g / r,
                lower_is_better=True,
            )
        )


if __name__ == "__main__":
    main()
