"""The retention sweep: rows kept longer than the catalog allows, found and purged.

Same shape as erasure: `plan_retention` is a value (what would go, per table), and
`apply_retention` rewrites the files through the same journal, with row accounting and a
certificate. Web logs kept "about 30 days" are the typical case.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from dsar._version import __version__
from dsar.catalog.models import Catalog, Role
from dsar.engine.base import Engine, quote_identifier
from dsar.io import atomic_write_text
from dsar.records.deadlines import add_months
from dsar.rights.rewrite import Rewrite, recover, rewrite_tables


@dataclass(frozen=True)
class RetentionAction:
    """One table's rows past their retention."""

    table: str
    period: str
    after: str
    cutoff: date  # rows whose `after` is before this day are past retention
    rows: int
    expired: int


@dataclass(frozen=True)
class RetentionPlan:
    """The sweep, planned: nothing has been changed yet."""

    label: str
    today: date
    actions: tuple[RetentionAction, ...]

    @property
    def changes(self) -> int:
        """Rows the sweep would delete."""
        return sum(a.expired for a in self.actions)

    def describe(self) -> str:
        """The dry run as text."""
        lines = [f"retention sweep {self.label}, as of {self.today}:"]
        lines += [
            f"  {a.table:<24} keep {a.period} after {a.after}: {a.expired:,} of {a.rows:,}"
            f" row(s) from before {a.cutoff} would be deleted"
            for a in self.actions
        ]
        lines.append(
            f"{self.changes:,} row(s) would be deleted"
            if self.changes
            else "nothing is past its retention"
        )
        return "\n".join(lines)


def _expired(after: str) -> str:
    return f"CAST({quote_identifier(after)} AS DATE) < CAST(? AS DATE)"


def plan_retention(catalog: Catalog, engine: Engine, today: date | None = None) -> RetentionPlan:
    """Count, per table with a retention period, the rows kept past it."""
    today = today or datetime.now(UTC).date()
    recover(catalog.root)
    actions = []
    for name, table in catalog.tables.items():
        period, after = table.retention.period, table.retention.after
        if table.role is not Role.CONTROLLER or period is None or after is None:
            continue
        months = {"year": 12 * period.amount, "month": period.amount}.get(period.unit)
        days = {"day": period.amount, "week": 7 * period.amount}.get(period.unit, 0)
        cutoff = (
            add_months(today, -months) if months else date.fromordinal(today.toordinal() - days)
        )
        row = engine.query(
            f"SELECT count(*) AS n, count(*) FILTER (WHERE {_expired(after)}) AS old"
            f" FROM {quote_identifier(name)}",
            [cutoff.isoformat()],
        ).to_pylist()[0]
        actions.append(
            RetentionAction(name, str(period), after, cutoff, int(row["n"]), int(row["old"]))
        )
    return RetentionPlan(f"RS-{today:%Y%m%d}", today, tuple(actions))


def apply_retention(
    plan: RetentionPlan,
    catalog: Catalog,
    engine: Engine,
    out: str | Path,
    *,
    dry_run: bool = True,
    progress: Callable[[str], None] | None = None,
) -> Path | None:
    """Delete the rows past retention (unless `dry_run`, the default); returns the certificate.

    `progress`, when given, is told each file before it is written.
    """
    if dry_run:
        return None
    rewrites = [
        Rewrite(
            a.table,
            f"SELECT * FROM {{source}} WHERE NOT coalesce({_expired(a.after)}, false)",
            [a.cutoff.isoformat()],
            a.expired,
        )
        for a in plan.actions
        if a.expired
    ]
    files = rewrite_tables(catalog, engine, plan.label, rewrites, progress)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{plan.label}-retention-certificate.json"
    body = {
        "format": "privacy-workbench/retention-certificate",
        "tool": {"name": "privacy-workbench", "version": __version__},
        "label": plan.label,
        "applied_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "as_of": plan.today.isoformat(),
        "tables": [asdict(a) for a in plan.actions],
        "files_replaced": list(files),
    }
    atomic_write_text(path, json.dumps(body, indent=2, default=str) + "\n")
    atomic_write_text(
        path.with_suffix(".md"), plan.describe().replace("would be deleted", "deleted") + "\n"
    )
    return path
