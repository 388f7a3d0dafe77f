"""The jobs the benchmarks time, each in a fresh process, and the helper that runs them.

Every job is a small program given its settings as JSON (`sys.argv[1]`); it prints one JSON
line with its own time in seconds, measured after imports, and what it found. `run` starts
it in a fresh process (nothing cached from an earlier job: a cold run) and returns that
line with the process's peak RSS in MiB.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

PRELUDE = """import json, sys, time
p = json.loads(sys.argv[1])


def peak():
    # this process's own high-water mark (VmHWM); the rusage of a child started from a large
    # parent can report the parent's memory, which it inherits until it execs
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return None
"""

FLOOR = (
    PRELUDE
    + """
from dsar import load_catalog, open_engine
from dsar.engine import quote_identifier
t = time.perf_counter()
catalog = load_catalog(p["catalog"])
with open_engine(catalog) as engine:
    for name in engine.tables:
        engine.query(
            f"SELECT count(*) FROM {quote_identifier(name)}"
            " WHERE hash(concat_ws('|', COLUMNS(*))) = 0"
        )
print(json.dumps({"peak_mib": peak(), "seconds": time.perf_counter() - t}))
"""
)
"""DuckDB reading every value of every row of every table once (a filter that matches
nothing: a hash keeps the optimizer from ruling it out from Parquet statistics)."""

ACCESS = (
    PRELUDE
    + """
from dsar import load_catalog, open_engine
from dsar.access.answer import answer_access_requests
from dsar.subjects.identity import SubjectRequest, parse_key
t = time.perf_counter()
marks = {}
def say(line):
    if line.startswith("looking up the people named"):
        marks["collected"] = time.perf_counter() - t
catalog = load_catalog(p["catalog"])
requests = [SubjectRequest(f"AR-{i}", (parse_key(x),)) for i, x in enumerate(p["ids"])]
index, options = None, {}
if p.get("index"):
    from dsar.keys import Keys
    from dsar.subjects.index import IdentityIndex
    index = IdentityIndex(p["index"], Keys(p["key"].encode()))
    options["readers"] = index.readers(catalog)
with open_engine(catalog, p.get("engine", "duckdb"), **options) as engine:
    bundles = answer_access_requests(
        catalog, requests, p["out"], engine=engine, index=index, progress=say
    )
rows = sum(b.subject.rows for b in bundles)
print(json.dumps({"peak_mib": peak(), "seconds": time.perf_counter() - t, "rows": rows, **marks}))
"""
)
"""One or many access bundles (`ids`: TYPE=VALUE each), on `engine`, with `index` or not;
`collected`: when the rows were all found (before redaction and writing)."""

INDEX = (
    PRELUDE
    + """
from pathlib import Path
from dsar import load_catalog, open_engine
from dsar.keys import Keys
from dsar.subjects.index import IdentityIndex
t = time.perf_counter()
catalog = load_catalog(p["catalog"])
Path(p["index"]).unlink(missing_ok=True)
with IdentityIndex(p["index"], Keys(p["key"].encode())) as index, open_engine(catalog) as engine:
    rows = sum(index.build(catalog, engine).values())
print(json.dumps({"peak_mib": peak(), "seconds": time.perf_counter() - t, "rows": rows,
                  "mib": Path(p["index"]).stat().st_size / 2**20}))
"""
)
"""Build the identity index from nothing."""

ERASE = (
    PRELUDE
    + """
from dsar import load_catalog, open_engine
from dsar.keys import Keys
from dsar.rights import apply_plan, plan_erasure
from dsar.subjects.identity import SubjectRequest, parse_key
t = time.perf_counter()
catalog = load_catalog(p["catalog"])
request = SubjectRequest("ER-1", (parse_key(p["id"]),))
keys = Keys(p["key"].encode())
with open_engine(catalog, p.get("engine", "duckdb")) as engine:
    plan = plan_erasure(catalog, engine, request, keys=keys)
    if p.get("apply"):
        apply_plan(plan, catalog, engine, out=p["out"], keys=keys, dry_run=False)
print(json.dumps({"peak_mib": peak(), "seconds": time.perf_counter() - t, "rows": plan.changes}))
"""
)
"""Plan one person's erasure, and apply it when `apply` (on a copy of the export)."""

EXTRACT = (
    PRELUDE
    + """
from dsar import load_catalog, open_engine
from dsar.keys import Keys
from anonymize import run_extract
t = time.perf_counter()
with open_engine(load_catalog(p["catalog"]), p.get("engine", "duckdb")) as engine:
    result = run_extract(p["policy"], engine, p["out"], keys=Keys(p["key"].encode()))
seconds = time.perf_counter() - t
print(json.dumps({"peak_mib": peak(), "seconds": seconds, "rows": result.manifest.rows_out}))
"""
)
"""A de-identified extract from a policy."""

AUDIENCE = (
    PRELUDE
    + """
from dsar import load_catalog, open_engine
from anonymize import build_audience
t = time.perf_counter()
with open_engine(load_catalog(p["catalog"]), p.get("engine", "duckdb")) as engine:
    result = build_audience(p["spec"], engine, ["google", "meta"], p["out"])
rows = sum(m.counts.get("rows_out", 0) for m in result.manifests.values())
print(json.dumps({"peak_mib": peak(), "seconds": time.perf_counter() - t, "rows": rows}))
"""
)
"""Google's and Meta's audience files from a spec."""


def run(code: str, settings: Mapping[str, Any]) -> tuple[dict[str, Any], float]:
    """The job's JSON line and the process's peak RSS in MiB (its own VmHWM where Linux
    gives it; a JVM it starts, as Spark's, is not counted)."""
    proc = subprocess.Popen(
        [sys.executable, "-c", code, json.dumps(settings)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "TQDM_DISABLE": "1"},
    )
    out = proc.stdout.read() if proc.stdout else ""
    _, status, usage = os.wait4(proc.pid, 0)
    if status != 0:
        raise SystemExit(f"benchmark step failed with status {status}: {settings}")
    result = json.loads(out.strip().splitlines()[-1])
    own = result.get("peak_mib")
    return result, float(own) if own is not None else usage.ru_maxrss / 1024


def demo_export(work: Path, users: int) -> Path:
    """The catalog of the demo export with `users` users, generated once into `work`."""
    export = work / f"demo-{users}"
    catalog = export / "catalog.yml"
    if not catalog.exists():
        print(f"generating the demo export with {users:,} users in {export} ...", flush=True)
        subprocess.run(
            [
                sys.executable,
                "-m",
                "dsar.cli",
                "demo",
                "--out",
                str(export),
                "--users",
                str(users),
                "--as-of",
                "2026-11-29",
            ],
            check=True,
        )
    return catalog


def copy_linked(source: Path, target: Path) -> None:
    """A copy of an export folder whose files are hard links: a rewrite replaces a file by
    renaming a new one into place, so the source's files are never changed, and the copy
    costs no disk."""
    target.mkdir(parents=True)
    for path in source.iterdir():
        if path.is_file():
            os.link(path, target / path.name)
