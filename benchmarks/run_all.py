"""Every benchmark, one after the other, and one table of their ratios (`make bench`).

Each benchmark runs in its own process (its data generated once and cached in `bench-out/`),
its full output kept in `bench-out/logs/<name>.log`; the ratios it reports (`report.py`:
what was measured, against which baseline measured in the same run, and the issue's target)
are gathered into one Markdown table, printed and written to `bench-out/bench-table.md` with
the command, the date and the machine.

    .venv/bin/python benchmarks/run_all.py            # the issues' sizes (about 90 minutes)
    .venv/bin/python benchmarks/run_all.py --quick    # small sizes, a few minutes
    .venv/bin/python benchmarks/run_all.py --only bench_audience bench_redact
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from report import Ratio

HERE = Path(__file__).resolve().parent
OUT = HERE.parent / "bench-out"

# name -> (arguments at the issues' sizes, arguments for --quick)
JOBS: dict[str, tuple[list[str], list[str]]] = {
    "bench_demo": (["--users", "1000", "--repeats", "3"], ["--users", "1000", "--repeats", "1"]),
    "bench_access": (
        ["--users", "250000", "--repeats", "3"],
        ["--users", "20000", "--repeats", "1"],
    ),
    "bench_text": ([], ["--tickets", "2000", "--presidio-texts", "200", "--repeats", "1"]),
    # unseen texts, each once (issue 24)
    "bench_text_unseen": (["--distinct", "1000", "--repeats", "3"], ["--distinct", "200"]),
    "bench_anonymize": ([], ["--rows", "200000", "--risk-rows", "1000000", "--repeats", "1"]),
    # k, l, t over people on 20 M rows against an exact GROUP BY (issue 22, point 9)
    "bench_risk": ([], ["--rows", "2000000", "--repeats", "1"]),
    "bench_audience": ([], ["--rows", "1000000"]),
    "bench_extract_memory": ([], ["--gb", "0.2"]),
    "bench_redact": ([], ["--rows", "4000"]),
    "bench_search": (["--repeats", "5"], ["--repeats", "1"]),
    "bench_engines": (
        ["--users", "250000", "--repeats", "2"],
        ["--users", "20000", "--repeats", "1"],
    ),
    "bench_scaling": ([], ["--rows", "1000000", "--png", str(OUT / "scaling-quick.png")]),
}
# a job that runs another job's script with other arguments
SCRIPTS = {"bench_text_unseen": "bench_text"}


def table(ratios: list[Ratio]) -> str:
    """The Markdown table of every ratio."""
    lines = [
        "| job | measured | baseline (same run) | ratio | target | met |",
        "| --- | ---: | --- | ---: | ---: | --- |",
    ]
    for r in ratios:
        cost = "x the baseline" if r.lower_is_better else "x"
        target = "" if r.target is None else f"{'<=' if r.lower_is_better else '>='} {r.target:g}"
        met = {None: "", True: "yes", False: "**no**"}[r.met]
        lines.append(
            f"| {r.job} | {r.measured:,.2f} {r.unit} | {r.baseline} | {r.ratio:.2f} {cost}"
            f" | {target} | {met} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, a few minutes")
    parser.add_argument("--only", nargs="+", choices=sorted(JOBS), help="these benchmarks only")
    args = parser.parse_args(argv)
    logs = OUT / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    results = OUT / "bench-results.jsonl"
    results.unlink(missing_ok=True)
    failed: list[str] = []
    for name in args.only or list(JOBS):
        full, quick = JOBS[name]
        script = HERE / f"{SCRIPTS.get(name, name)}.py"
        command = [sys.executable, str(script), *(quick if args.quick else full)]
        start = time.perf_counter()
        print(f"{name} {' '.join(command[2:])} ...", end=" ", flush=True)
        with (logs / f"{name}.log").open("w") as log:
            done = subprocess.run(
                command,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, "BENCH_RESULTS": str(results), "TQDM_DISABLE": "1"},
                check=False,
            )
        seconds = time.perf_counter() - start
        print(f"{'done' if done.returncode == 0 else 'FAILED'} in {seconds:.0f} s", flush=True)
        if done.returncode:
            failed.append(name)
    ratios = (
        [Ratio(**json.loads(line)) for line in results.read_text().splitlines()]
        if results.exists()
        else []
    )
    header = (
        f"`{' '.join(['benchmarks/run_all.py', *(argv if argv is not None else sys.argv[1:])])}`,"
        f" {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores, {platform.machine()},"
        f" Python {platform.python_version()}"
    )
    text = f"{header}\n\n{table(ratios)}\n"
    if failed:
        text += f"\nFailed (see bench-out/logs/): {', '.join(failed)}\n"
    (OUT / "bench-table.md").write_text(text)
    print("\n" + text)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
