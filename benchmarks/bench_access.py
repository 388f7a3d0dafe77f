"""Benchmark: one person's access bundle, and 100 in one batch, against reading every file once.

One person's bundle is also timed with the identity index (`dsar index build`, built once
before the rounds and timed too). Every measurement runs in a fresh subprocess (peak memory
is its own max RSS) and reports the job's own time, measured inside the process after
imports. Baselines, measured in the same
run on the same export:

- floor: DuckDB reading every value of every row of every table once, in a query over all
  columns that matches nothing (`WHERE hash(concat_ws('|', COLUMNS(*))) = 0`; a hash keeps
  the optimizer from ruling the filter out from Parquet statistics): no answer from these
  files can be faster;
- pandas: the job done the way an analyst would without the workbench: read each file with
  pandas (pyarrow engine where pandas has one) and keep the rows whose identifier columns
  hold one of the person's known identifiers (given, not searched for).

The whole-process table times one person's bundle as a user meets it, from outside: the
wall time and CPU time of a subprocess `dsar access --catalog ... --email ...` (Python's
start, imports, catalog, engine, text engine, writing and verifying the bundle, exit),
against a subprocess that imports DuckDB and reads every file of the export once with
DuckDB's own readers (`read_csv`, `read_parquet`, `read_json`, the same all-column filter);
and the same bundle with the identity index (`dsar access --index`, the index built once
before the rounds with `dsar index build` and kept). Every process runs once untimed first
(Python's bytecode cached under `--work`/pycache, as an installed package has it; the files
in the page cache), then once per round, the order rotated each round. `--before TREE`
adds the same jobs from another copy of the code (`git archive COMMIT dsar anonymize | tar
-x -C TREE`), alternated with the installed code in every round; the load average at each
round's start is printed (a shared machine: compare within a round, and CPU seconds).

    .venv/bin/python benchmarks/bench_access.py      # 250,000 users, ~5.4 M rows, 5 rounds
    .venv/bin/python benchmarks/bench_access.py --users 20000 --repeats 1
    .venv/bin/python benchmarks/bench_access.py --users 10000 --repeats 9 --process-only
    .venv/bin/python benchmarks/bench_access.py --users 10000 --process-only --before /tmp/b
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from jobs import ACCESS, FLOOR, INDEX, demo_export, run
from report import Ratio, report

KEY = "benchmark-key-" + "k" * 32
KEY_ENV = "WORKBENCH_KEY"  # where `dsar` looks for the key (dsar.keys.KEY_ENV)

PRELUDE = "import sys, time, json\nfrom pathlib import Path\n"

PANDAS = (
    PRELUDE
    + """
import pandas as pd
import yaml
t = time.perf_counter()
root = Path(sys.argv[1]).parent
spec = yaml.safe_load(Path(sys.argv[1]).read_text())
known = json.loads(sys.argv[2])  # {"user_id": [...], "email": [...], ...} of the person
rows = 0
for name, table in spec["tables"].items():
    path, fmt = root / table["path"], table["format"]
    if fmt == "csv":
        df = pd.read_csv(path, engine="pyarrow", dtype_backend="pyarrow")
    elif fmt == "parquet":
        df = pd.read_parquet(path)
    else:
        df = pd.read_json(path, lines=(fmt == "jsonl"), dtype=False)
    mask = pd.Series(False, index=df.index)
    for column, col in table["columns"].items():
        kind = (col or {}).get("identity")
        if kind in known:
            values = df[column].astype("string").str.strip()
            if kind == "email":
                values = values.str.lower()
            mask |= values.isin(known[kind]).fillna(False)
    rows += int(mask.sum())
print(json.dumps({"seconds": time.perf_counter() - t, "rows": rows}))
"""
)


def pandas_run(catalog: str, known: str) -> tuple[dict[str, float], float]:
    """The pandas baseline in a fresh process, and its peak RSS in MiB."""
    proc = subprocess.Popen(
        [sys.executable, "-c", PANDAS, catalog, known], stdout=subprocess.PIPE, text=True
    )
    out = proc.stdout.read() if proc.stdout else ""
    _, status, usage = os.wait4(proc.pid, 0)
    if status != 0:
        raise SystemExit(f"benchmark step failed with status {status}")
    return json.loads(out.strip().splitlines()[-1]), usage.ru_maxrss / 1024


DUCKDB_PROCESS = """
import sys
import duckdb
READERS = {"csv": "read_csv", "parquet": "read_parquet", "jsonl": "read_json", "json": "read_json"}
con = duckdb.connect()
for item in sys.argv[1:]:
    fmt, path = item.split(":", 1)
    con.execute(
        f"SELECT count(*) FROM {READERS[fmt]}(?) WHERE hash(concat_ws('|', COLUMNS(*))) = 0",
        [path],
    ).fetchall()
"""


def export_files(catalog: Path) -> list[str]:
    """FORMAT:PATH of every table file of the export, from its catalog."""
    import yaml

    spec = yaml.safe_load(catalog.read_text(encoding="utf-8"))
    return [
        f"{table['format']}:{catalog.parent / table['path']}" for table in spec["tables"].values()
    ]


def dsar_command() -> list[str]:
    """The `dsar` command installed beside this Python, as a user runs it."""
    script = Path(sys.executable).parent / "dsar"
    return [str(script)] if script.exists() else [sys.executable, "-m", "dsar.cli"]


def tree_command(tree: Path, work: Path) -> list[str]:
    """A `dsar` command that runs the code of another copy of the tree (`git archive`), made
    as the installed one is: a script named `dsar` that imports `dsar.cli` and calls main."""
    launcher = work / "launchers" / tree.resolve().as_posix().strip("/").replace("/", "_") / "dsar"
    launcher.parent.mkdir(parents=True, exist_ok=True)
    launcher.write_text(
        f"import sys\nsys.path.insert(0, {str(tree.resolve())!r})\n"
        "from dsar.cli import main\nsys.exit(main())\n",
        encoding="utf-8",
    )
    return [sys.executable, str(launcher)]


def process_env(work: Path, key: bool = False) -> dict[str, str]:
    """The environment of the timed processes: Python's bytecode cached (in `work/pycache`,
    as an installed package has it; a session that sets PYTHONDONTWRITEBYTECODE would
    otherwise time compiling every module from source), and the key for the index."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", KEY_ENV)}
    env["PYTHONPYCACHEPREFIX"] = str((work / "pycache").resolve())
    env["TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS"] = ""
    if key:
        env[KEY_ENV] = KEY
    return env


def wall(command: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """Seconds from starting `command` to its end, measured outside the process, and the
    CPU seconds it used (user and system, all its threads)."""
    with tempfile.TemporaryFile() as errors:
        t = time.perf_counter()
        proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=errors, env=env or None)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - t
        if status != 0:
            errors.seek(0)
            said = errors.read().decode(errors="replace")[-2000:]
            raise SystemExit(f"benchmark step failed with status {status}: {command}\n{said}")
    return seconds, usage.ru_utime + usage.ru_stime


@dataclass
class Process:
    """One whole-process job, timed from outside in every round."""

    label: str
    command: list[str]
    env: dict[str, str] | None
    out: Path | None  # the folder it writes, removed after each round
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)

    def once(self) -> tuple[float, float]:
        seconds, cpu = wall(self.command, self.env)
        if self.out is not None:
            shutil.rmtree(self.out, ignore_errors=True)  # the bundle is not looked at
        return seconds, cpu


def process_jobs(
    catalog: Path,
    email: str,
    work: Path,
    index: Path | None,
    trees: dict[str, Path | None],
) -> list[Process]:
    """DuckDB reading every file once, then for each code tree (`None`: the installed one)
    `dsar access` for one person, cold and with the identity `index` when given."""
    jobs = [
        Process(
            "DuckDB reads every file once",
            [sys.executable, "-c", DUCKDB_PROCESS, *export_files(catalog)],
            process_env(work),
            None,
        )
    ]
    for name, tree in trees.items():
        command = dsar_command() if tree is None else tree_command(tree, work)
        suffix = f" ({name})" if name else ""
        out = work / f"process-{name or 'now'}"
        access = [*command, "access", "--catalog", str(catalog), "--email", email]
        jobs.append(
            Process(
                f"dsar access, one person{suffix}",
                [*access, "--out", str(out)],
                process_env(work),
                out,
            )
        )
        if index is not None:
            jobs.append(
                Process(
                    f"dsar access --index, one person{suffix}",
                    [*access, "--index", str(index), "--out", str(out) + "-indexed"],
                    process_env(work, key=True),
                    Path(str(out) + "-indexed"),
                )
            )
    return jobs


def build_index_process(catalog: Path, index: Path, work: Path, tree: Path | None) -> float:
    """`dsar index build` from nothing (by the code in `tree`, else the installed one), timed
    from outside; the index is kept for the rounds."""
    index.unlink(missing_ok=True)
    command = dsar_command() if tree is None else tree_command(tree, work)
    seconds, _ = wall(
        [*command, "index", "build", "--catalog", str(catalog), "--index", str(index)],
        process_env(work, key=True),
    )
    return seconds


def stale_files(catalog: Path, index: Path, work: Path, tree: Path | None) -> list[str]:
    """`dsar index status` lines of the tables whose files are not all indexed and unchanged:
    a file changed (or only linked: its ctime moves) after the build is read whole."""
    command = dsar_command() if tree is None else tree_command(tree, work)
    done = subprocess.run(
        [*command, "index", "status", "--catalog", str(catalog), "--index", str(index)],
        env=process_env(work, key=True),
        capture_output=True,
        text=True,
        check=True,
    )
    lines = [line.split() for line in done.stdout.splitlines() if " of " in line]
    return [" ".join(w) for w in lines if len(w) > 3 and w[1] != w[3]]


def process_round(jobs: list[Process], round_: int) -> list[float]:
    """One round: every whole-process job once, the order rotated by `round_` (no job is
    always first or last); returns the load average before it."""
    load = list(os.getloadavg())
    turn = round_ % len(jobs)
    for job in jobs[turn:] + jobs[:turn]:
        seconds, cpu = job.once()
        job.wall.append(seconds)
        job.cpu.append(cpu)
    return load


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=250_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--work", default="bench-out")
    parser.add_argument(
        "--process-only", action="store_true", help="only the whole-process jobs, timed outside"
    )
    parser.add_argument(
        "--before",
        type=Path,
        action="append",
        default=[],
        metavar="TREE",
        help="also time `dsar access` from this copy of the code (`git archive COMMIT | tar -x"
        " -C TREE`), alternated with the installed one in every round (repeatable)",
    )
    parser.add_argument(
        "--now",
        type=Path,
        default=None,
        metavar="TREE",
        help="time this copy of the code as 'now' instead of the installed `dsar`",
    )
    args = parser.parse_args()
    work = Path(args.work)
    catalog = demo_export(work, args.users)
    export = catalog.parent
    meta = json.loads((export / "demo.json").read_text())
    total_rows = sum(meta["rows"].values())
    person = f"email={meta['subject']['email']}"
    step = max(1, args.users // 100)
    hundred = [f"user_id=u{i:07d}" for i in range(0, step * 100, step)][:100]
    trees: dict[str, Path | None] = {"now" if args.before else "": args.now}
    trees.update({tree.name: tree for tree in args.before})

    # Interleaved: each round runs every job once, so a drift in the machine's speed hits
    # the baseline and the jobs alike; ratios are taken within a round, then the median.
    stamp = time.strftime("%Y%m%d-%H%M%S")
    loads: list[list[float]] = []
    process: list[Process] | None = None
    if args.process_only:
        index = work / f"index-{args.users}-process.db"
        built_s = build_index_process(catalog, index, work, args.now)
        print(f"identity index (dsar index build, from outside): built in {built_s:.1f} s")
        process = process_jobs(catalog, meta["subject"]["email"], work / f"p-{stamp}", index, trees)
        for warm in process:  # once, untimed: bytecode compiled and cached, files in page cache
            warm.once()
        for i in range(args.repeats):
            loads.append(process_round(process, i))
            print(
                f"round {i + 1} (load {loads[-1][0]:.1f}): "
                + "; ".join(f"{j.label} {j.wall[-1]:.2f} s (cpu {j.cpu[-1]:.2f})" for j in process),
                flush=True,
            )
        print_process(args.users, total_rows, process, loads)
        if stale := stale_files(catalog, index, work, args.now):
            print(f"warning: the index went stale during the rounds: {'; '.join(stale)}")
        return
    index = work / f"index-{args.users}.db"
    built, built_peak = run(INDEX, {"catalog": str(catalog), "index": str(index), "key": KEY})
    print(
        f"identity index: built in {built['seconds']:.1f} s ({built['rows']:,} rows,"
        f" {built['mib']:.0f} MiB on disk, peak {built_peak:.0f} MiB)",
        flush=True,
    )
    jobs = ("floor", "one", "indexed", "batch", "pandas")
    seconds: dict[str, list[float]] = {j: [] for j in jobs}
    peaks: dict[str, list[float]] = {j: [] for j in jobs}
    rows: dict[str, int] = {}
    collected: dict[str, list[float]] = {"one": [], "indexed": []}
    process = None
    for i in range(args.repeats):
        one_out = work / f"one-{stamp}-{i}"
        cat = str(catalog)
        steps: dict[str, tuple[str, dict[str, object]]] = {
            "floor": (FLOOR, {"catalog": cat}),
            "one": (ACCESS, {"catalog": cat, "out": str(one_out), "ids": [person]}),
            "indexed": (
                ACCESS,
                {
                    "catalog": cat,
                    "out": str(work / f"indexed-{stamp}-{i}"),
                    "ids": [person],
                    "index": str(index),
                    "key": KEY,
                },
            ),
            "batch": (
                ACCESS,
                {"catalog": cat, "out": str(work / f"batch-{stamp}-{i}"), "ids": hundred},
            ),
        }
        for job, (code, settings) in steps.items():
            result, peak = run(code, settings)
            seconds[job].append(result["seconds"])
            peaks[job].append(peak)
            rows[job] = int(result.get("rows", 0))
            if job == "indexed":
                collected["indexed"].append(result["collected"])
            if job == "one":
                collected["one"].append(result["collected"])
        if process is None:
            process = process_jobs(
                catalog, meta["subject"]["email"], work / f"p-{stamp}", index, trees
            )
            for warm in process:  # once, not timed: bytecode compiled and cached
                warm.once()
        loads.append(process_round(process, i))
        # the pandas baseline is given the identifiers the workbench found: less work for it
        found = json.loads((one_out / "AR-0" / "manifest.json").read_text())
        result, peak = pandas_run(str(catalog), json.dumps(found["subject"]["identifiers"]))
        seconds["pandas"].append(result["seconds"])
        peaks["pandas"].append(peak)
        rows["pandas"] = int(result["rows"])
        print(
            f"round {i + 1}: floor {seconds['floor'][-1]:.2f} s, one person"
            f" {seconds['one'][-1]:.2f} s ({seconds['one'][-1] / seconds['floor'][-1]:.2f}x),"
            f" indexed {seconds['indexed'][-1]:.2f} s"
            f" (rows found at {collected['indexed'][-1]:.2f} s),"
            f" batch {seconds['batch'][-1]:.2f} s, pandas {seconds['pandas'][-1]:.2f} s;"
            f" whole process: DuckDB {process[0].wall[-1]:.2f} s, dsar access"
            f" {process[1].wall[-1]:.2f} s, with the index {process[2].wall[-1]:.2f} s",
            flush=True,
        )

    def ratio(a: str, b: str) -> float:
        return statistics.median(x / y for x, y in zip(seconds[a], seconds[b], strict=True))

    med = {j: statistics.median(seconds[j]) for j in jobs}
    print(f"\nexport: {args.users:,} users, {total_rows:,} rows; {args.repeats} interleaved rounds")
    print("(seconds: medians; x floor: median of the ratios within each round)\n")
    print("| job | seconds | x floor | peak MiB | rows found |")
    print("| --- | ---: | ---: | ---: | ---: |")
    labels = {
        "floor": "floor: DuckDB reads every row once",
        "one": "one person's bundle",
        "indexed": "one person's bundle, with the index",
        "batch": "100 people, batch",
        "pandas": "pandas, one person (ids given)",
    }
    for job in jobs:
        x = "1.0" if job == "floor" else f"{ratio(job, 'floor'):.2f}"
        found_rows = "-" if job == "floor" else str(rows[job])
        print(f"| {labels[job]} | {med[job]:.2f} | {x} | {max(peaks[job]):.0f} | {found_rows} |")
    found_at = {
        j: statistics.median(c / f for c, f in zip(collected[j], seconds["floor"], strict=True))
        for j in collected
    }
    print(
        f"\nrows found (before redaction and writing): cold {found_at['one']:.2f}x the floor,"
        f" with the index {found_at['indexed']:.2f}x"
    )
    print(
        f"batch of 100 / one person: {ratio('batch', 'one'):.2f}x;"
        f" pandas / workbench, one person: {ratio('pandas', 'one'):.2f}x"
    )
    assert process is not None
    process_ratio = print_process(args.users, total_rows, process, loads)
    if stale := stale_files(catalog, index, work, args.now):
        print(f"warning: the index went stale during the rounds: {'; '.join(stale)}")
    report(
        Ratio(
            f"one person's bundle as a whole process (dsar access), {args.users:,} users",
            statistics.median(process[1].wall),
            "s",
            "a DuckDB process reading every file once, both timed from outside",
            process_ratio[process[1].label],
            target=2,
            lower_is_better=True,
        ),
        Ratio(
            f"one person's bundle as a whole process with the identity index, {args.users:,} users",
            statistics.median(process[2].wall),
            "s",
            "a DuckDB process reading every file once, both timed from outside",
            process_ratio[process[2].label],
            target=2,
            lower_is_better=True,
        ),
        Ratio(
            f"one person's bundle, cold, {args.users:,} users",
            med["one"],
            "s",
            "DuckDB reading every row once (the floor)",
            ratio("one", "floor"),
            target=1.5,
            lower_is_better=True,
        ),
        Ratio(
            f"one person's bundle with the identity index, {args.users:,} users",
            med["indexed"],
            "s",
            "DuckDB reading every row once (the floor)",
            ratio("indexed", "floor"),
            target=0.25,
            lower_is_better=True,
        ),
        Ratio(
            "one person's rows found with the index (before redaction and writing)",
            statistics.median(collected["indexed"]),
            "s",
            "DuckDB reading every row once (the floor)",
            found_at["indexed"],
            lower_is_better=True,
        ),
        Ratio(
            f"building the identity index, {total_rows:,} rows",
            built["seconds"],
            "s",
            "DuckDB reading every row once (the floor)",
            built["seconds"] / med["floor"],
            lower_is_better=True,
        ),
        Ratio(
            "a batch of 100 people",
            med["batch"],
            "s",
            "one person's bundle",
            ratio("batch", "one"),
            lower_is_better=True,
        ),
        Ratio(
            "one person's bundle",
            med["one"],
            "s",
            "pandas, given the identifiers",
            ratio("pandas", "one"),
        ),
    )


def print_process(
    users: int, rows: int, jobs: list[Process], loads: list[list[float]]
) -> dict[str, float]:
    """The whole-process table; returns each job's median of its per-round ratios to the
    DuckDB process (the first job), by label."""
    duck = jobs[0]
    ratios = {
        j.label: statistics.median(a / d for a, d in zip(j.wall, duck.wall, strict=True))
        for j in jobs
    }
    cpu_ratios = {
        j.label: statistics.median(a / d for a, d in zip(j.cpu, duck.cpu, strict=True))
        for j in jobs
    }
    one_minute = [load[0] for load in loads]
    print(
        f"\nwhole process, timed from outside: {users:,} users, {rows:,} rows, {len(duck.wall)}"
        f" alternated rounds; load average (1 min) at each round's start: median"
        f" {statistics.median(one_minute):.1f}, {min(one_minute):.1f}-{max(one_minute):.1f}"
    )
    print("(seconds: medians; x DuckDB: median of the ratios within each round)\n")
    print("| process | wall s | x DuckDB | CPU s | CPU x DuckDB |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for j in jobs:
        print(
            f"| {j.label} | {statistics.median(j.wall):.2f} | {ratios[j.label]:.2f} |"
            f" {statistics.median(j.cpu):.2f} | {cpu_ratios[j.label]:.2f} |"
        )
    return ratios


if __name__ == "__main__":
    main()
