"""Generate the demo export: a SaaS integration platform's tables, deterministic by seed."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from importlib import resources
from pathlib import Path

import numpy as np
import pyarrow as pa

from dsar.demo import pools as P
from dsar.demo.people import STAFF, Chunk
from dsar.demo.schemas import SCHEMAS
from dsar.demo.tables import build_tables
from dsar.demo.writers import TableSink
from dsar.errors import UsageError
from dsar.io import atomic_write_text

CHUNK = 20_000


@dataclass(frozen=True)
class DemoExport:
    """What `generate` wrote."""

    root: Path
    catalog_path: Path
    seed: int
    users: int
    as_of: date
    rows: dict[str, int]
    subject_email: str
    subject_user_id: str


def generate(
    out: str | Path,
    users: int = 1000,
    seed: int = 7,
    as_of: date | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> DemoExport:
    """Write a realistic export of the platform, and its catalog, to `out`.

    The same `users`, `seed` and `as_of` give byte-identical files. `as_of` (default: today,
    UTC) is the export date: web logs reach 90 days back from it, accounts ten years.

    Examples:
        >>> export = generate("demo-export", users=1000, seed=7)  # doctest: +SKIP
        >>> export.rows["accounts"]  # doctest: +SKIP
        1000
    """
    if users < 10:
        raise UsageError(
            "users",
            f"--users must be at least 10 (got {users})",
            "give 10 or more: the demo plants cases among them",
        )
    root = Path(out)
    root.mkdir(parents=True, exist_ok=True)
    as_of = as_of or datetime.now(UTC).date()
    now = int(datetime(as_of.year, as_of.month, as_of.day, tzinfo=UTC).timestamp())
    pools = P.make_pools(seed, companies=int(np.clip(users // 12, 20, 20_000)))
    sinks = {
        name: TableSink(root / path, fmt, schema) for name, (path, fmt, schema) in SCHEMAS.items()
    }
    try:
        sinks["staff"].write(_staff(seed, pools))
        used: set[str] = set()
        subject = ("", "")
        for start in range(0, users, CHUNK):
            n = min(CHUNK, users - start)
            chunk = Chunk(np.random.default_rng([seed, start // CHUNK]), start, n, now, pools, used)
            if start == 0:
                subject = (chunk.email[0], chunk.user_id[0])
            for name, table in build_tables(chunk).items():
                sinks[name].write(table)
            if progress is not None:
                progress(start + n, users)
        for sink in sinks.values():
            sink.close()
    except BaseException:
        for sink in sinks.values():
            sink.abort()
        raise
    template = resources.files("dsar.demo").joinpath("catalog.yml")
    catalog_path = root / "catalog.yml"
    atomic_write_text(catalog_path, template.read_text(encoding="utf-8"))
    rows = {name: sink.rows for name, sink in sinks.items()}
    meta = {
        "seed": seed,
        "users": users,
        "as_of": as_of.isoformat(),
        "rows": rows,
        "subject": {"email": subject[0], "user_id": subject[1]},
    }
    atomic_write_text(root / "demo.json", json.dumps(meta, indent=2) + "\n")
    return DemoExport(root, catalog_path, seed, users, as_of, rows, subject[0], subject[1])


def _staff(seed: int, pools: P.Pools) -> pa.Table:
    rng = np.random.default_rng([seed, 7777])
    first = rng.choice(pools.first["GB"], STAFF)
    last = rng.choice(pools.last["GB"], STAFF)
    return pa.table(
        {
            "staff_id": [f"stf_{i:03d}" for i in range(STAFF)],
            "full_name": [f"{f} {la}" for f, la in zip(first, last, strict=True)],
            "email": [
                f"{P.ascii_slug(f)}.{P.ascii_slug(la)}@syncloop.io"
                for f, la in zip(first, last, strict=True)
            ],
            "team": rng.choice(["support", "success", "billing"], STAFF).tolist(),
        }
    )
