"""The retention sweep: rows kept longer than the catalog allows, found and purged.

Same shape as erasure: `plan_retention` is a value (what would go, per table), and
`apply_plan` rewrites the files through the same journal, with row accounting, a
certificate and an audit entry. Web logs kept "about 30 days" are the typical case.
"""

from __future__ import annotations

import secrets
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from typing import Any, ClassVar

from dsar.catalog.models import Catalog, Role
from dsar.engine.base import Engine, quote_identifier
from dsar.records.deadlines import add_months
from dsar.rights.plan import Job, Plan
from dsar.rights.rewrite import Rewrite, recover, table_files


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
class RetentionPlan(Plan):
    """The sweep, planned: nothing has been changed yet."""

    job: ClassVar[Job] = Job.RETENTION
    label: str
    today: date
    actions: tuple[RetentionAction, ...]
    subject: str | None = None  # a sweep concerns no one person
    recipients: tuple[str, ...] = ()

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

    def table_rows(self) -> list[dict[str, Any]]:
        """One row per table with a retention period: rows in all, rows past it."""
        return [asdict(a) | {"changes": a.expired} for a in self.actions]

    def rewrites(self, catalog: Catalog, key: bytes | None) -> list[Rewrite]:
        """One rewrite per table with rows past retention: every other row kept."""
        return [
            Rewrite(
                a.table,
                f"SELECT * FROM {{source}} WHERE NOT coalesce({_expired(a.after)}, false)",
                [a.cutoff.isoformat()],
                a.expired,
            )
            for a in self.actions
            if a.expired
        ]

    def certificate_body(self) -> dict[str, Any]:
        """Per table: the period, the cutoff, rows in all and rows deleted."""
        return {"tables": [asdict(a) for a in self.actions]}

    def certificate_lines(self) -> list[str]:
        """Per table, the rows deleted and the rule."""
        return [
            f"- {a.table}: {a.expired:,} of {a.rows:,} row(s) from before {a.cutoff} deleted"
            f" (kept {a.period} after {a.after})"
            for a in self.actions
        ]


def _expired(after: str) -> str:
    return f"CAST({quote_identifier(after)} AS DATE) < CAST(? AS DATE)"


def plan_retention(catalog: Catalog, engine: Engine, *, today: date | None = None) -> RetentionPlan:
    """Count, per table with a retention period, the rows kept past it."""
    today = today or datetime.now(UTC).date()
    recover(catalog.root, files=table_files(catalog))
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
    # a label of its own per sweep: two sweeps on one day keep their originals apart
    return RetentionPlan(f"RS-{today:%Y%m%d}-{secrets.token_hex(3)}", today, tuple(actions))
