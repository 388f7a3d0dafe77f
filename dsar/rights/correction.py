"""Correction (GDPR Art. 16): change a person's wrong data, show the diff, tell the recipients.

    plan = plan_correction(catalog, engine, request, {"accounts.full_name": "Ann Smith"})
    plan.diff            # before/after per row, for the analyst to review
    apply_plan(plan, catalog, engine, out="certificates", dry_run=False)

Only the person's rows change (the same rows an access request shows). Secrets and key
columns cannot be corrected this way. The files are rewritten through the same journal as
erasure; the audit log records tables, columns and counts, never the values.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, ClassVar

import pyarrow as pa

from dsar.catalog.models import Catalog, Role
from dsar.engine.base import Engine, quote_identifier
from dsar.engine.guards import CatalogWarning, guard_catalog
from dsar.errors import NoMatchError, UsageError, WorkbenchError
from dsar.keys import Keys
from dsar.records.audit import subject_ref
from dsar.rights.plan import Job, Plan, ProgressFn
from dsar.rights.rewrite import Rewrite
from dsar.subjects.collect import SubjectData, collect
from dsar.subjects.identity import MatchRules, SubjectKey, SubjectRequest, with_catalog_rules
from dsar.subjects.selection import row_predicate

_SQL_TYPES = {
    "string": "VARCHAR",
    "large_string": "VARCHAR",
    "int64": "BIGINT",
    "int32": "INTEGER",
    "double": "DOUBLE",
    "float": "FLOAT",
    "bool": "BOOLEAN",
    "date32[day]": "DATE",
}


@dataclass(frozen=True)
class Change:
    """One column of one table set to a new value in the person's rows."""

    table: str
    column: str
    value: str = field(repr=False)  # the new value: personal data, never in a repr
    sql_type: str
    rows: int  # rows of the person whose value differs


@dataclass(frozen=True)
class CorrectionPlan(Plan):
    """The correction, planned: `diff` shows every row before and after."""

    job: ClassVar[Job] = Job.CORRECTION
    label: str
    corrections: tuple[Change, ...]
    # per table: the person's rows with old and new values (personal data: not in the repr)
    diff: dict[str, pa.Table] = field(compare=False, repr=False)
    recipients: tuple[str, ...]
    data: SubjectData = field(repr=False, compare=False)  # the search the plan was made from
    rules: MatchRules = field(repr=False)
    today: date = field(default_factory=lambda: datetime.now(UTC).date())
    subject: str | None = None  # keyed reference, when a key was given
    accepted_warnings: tuple[CatalogWarning, ...] = ()  # catalog warnings accepted to plan it

    @property
    def changes(self) -> int:
        """Cells that would change."""
        return sum(c.rows for c in self.corrections)

    def describe(self) -> str:
        """Per table and column, how many of the person's rows change (no values)."""
        lines = [f"correction plan for {self.label}:"]
        lines += [f"  {c.table}.{c.column}: {c.rows} row(s) change" for c in self.corrections]
        lines.append(f"recipients to notify: {', '.join(self.recipients) or 'none'}")
        return "\n".join(lines)

    def person(self) -> SubjectKey | None:
        """The first identifier the request gave."""
        return self.data.identity.request.keys[0]

    def table_rows(self) -> list[dict[str, Any]]:
        """One row per corrected column (no values)."""
        return [
            {"table": c.table, "column": c.column, "type": c.sql_type, "changes": c.rows}
            for c in self.corrections
        ]

    def audit_tables(self) -> dict[str, int]:
        """Cells changed per table."""
        tables: dict[str, int] = {}
        for c in self.corrections:
            tables[c.table] = tables.get(c.table, 0) + c.rows
        return tables

    def audit_details(self) -> dict[str, Any]:
        """The columns corrected and the recipients to notify (never the values)."""
        return {
            "columns": [f"{c.table}.{c.column}" for c in self.corrections],
            "recipients": list(self.recipients),
        }

    def rewrites(self, catalog: Catalog, keys: Keys | None) -> list[Rewrite]:
        """One rewrite per table: the new value in the person's rows, every other row as is."""
        rewrites = []
        for table_name in dict.fromkeys(c.table for c in self.corrections):
            predicate, params = row_predicate(catalog.tables[table_name], self.data, self.rules)
            replaces, all_params = [], []
            for c in (c for c in self.corrections if c.table == table_name):
                col = quote_identifier(c.column)
                replaces.append(
                    f"CASE WHEN {predicate} THEN CAST(? AS {c.sql_type}) ELSE {col} END AS {col}"
                )
                all_params += [*params, c.value]
            select = f"SELECT * REPLACE ({', '.join(replaces)}) FROM {{source}}"
            rewrites.append(Rewrite(table_name, select, all_params, 0))
        return rewrites

    def certificate_body(self) -> dict[str, Any]:
        """The columns corrected, with the rows changed in each (never the values)."""
        return {"corrected": self.table_rows()}

    def certificate_lines(self) -> list[str]:
        """Per column, the rows corrected."""
        return [f"- {c.table}.{c.column}: {c.rows} row(s) corrected" for c in self.corrections]


def _sql_type(arrow_type: str, target: str) -> str:
    if arrow_type.startswith("timestamp"):
        return "TIMESTAMP"
    if arrow_type in _SQL_TYPES:
        return _SQL_TYPES[arrow_type]
    raise UsageError(
        "values",
        f"{target}: columns of type {arrow_type} cannot be corrected here",
        "correct it in the system the export came from",
    )


def plan_correction(
    catalog: Catalog,
    engine: Engine,
    request: SubjectRequest,
    values: dict[str, str],
    *,
    keys: Keys | None = None,
    rules: MatchRules | None = None,
    today: date | None = None,
    progress: ProgressFn | None = None,
    accept_catalog_warnings: bool | Collection[str] = False,
) -> CorrectionPlan:
    """Plan setting `values` ({'table.column': 'new value'}) in the person's rows.

    `diff` shows each affected row before and after, without its secret columns (a
    password hash or a token is never shown, even in part). `today` is the plan's date;
    `progress` is told each table read of the search. A catalog that can give one person's
    rows to another (`dsar.engine.guards`) is refused unless `accept_catalog_warnings` (True,
    or the codes accepted); the certificate records them.

    Raises:
        CollisionProneCatalogError: such a catalog, not accepted.
        UsageError: an unknown table or column, a secret or key column, a value that does
            not fit the column's type.
        NoMatchError: the person has no row in a table named.
    """
    rules = with_catalog_rules(rules, catalog)  # the catalog's phone_region unless given
    today = today or datetime.now(UTC).date()
    targets = []
    for target, value in values.items():
        table_name, _, column = target.partition(".")
        table = catalog.tables.get(table_name)
        if table is None or table.role is not Role.CONTROLLER:
            raise UsageError(
                "values",
                f"{target}: no controller table {table_name!r} in the catalog",
                "name a table the catalog holds as controller, as table.column",
            )
        if column not in table.columns:
            raise UsageError(
                "values",
                f"{target}: table {table_name} has no column {column!r}",
                f"columns: {', '.join(table.columns)}",
            )
        if table.columns[column].secret or column in table.primary_key:
            raise UsageError(
                "values",
                f"{target}: secrets and key columns cannot be corrected",
                "correct them in the system the export came from",
            )
        targets.append((table_name, column, value))
    accepted = guard_catalog(catalog, engine, accept_catalog_warnings)
    [data] = collect(engine, catalog, [request], rules, progress)
    changes: list[Change] = []
    diff: dict[str, pa.Table] = {}
    recipients: set[str] = set()
    for table_name, column, value in targets:
        if table_name not in data.tables:
            raise NoMatchError(
                request.label,
                f"{table_name}: the person has no row in this table; correct only tables"
                " that hold theirs",
            )
        sql_type = _sql_type(engine.columns(table_name)[column], f"{table_name}.{column}")
        try:
            new = engine.query(f"SELECT CAST(? AS {sql_type}) AS v", [value]).column("v")[0]
        except WorkbenchError:
            raise UsageError(
                "values",
                f"{table_name}.{column}: the new value is not a valid {sql_type.lower()}",
                f"give a value that reads as a {sql_type.lower()}",
            ) from None
        before = data.tables[table_name]
        old = before.column(column)
        differs = sum(1 for v in old.to_pylist() if v != new.as_py())
        changes.append(Change(table_name, column, value, sql_type, differs))
        secrets = [c for c, spec in catalog.tables[table_name].columns.items() if spec.secret]
        shown = diff.get(table_name, before.drop_columns(secrets))
        shown = shown.append_column(
            f"{column} (new)", pa.array([new.as_py()] * len(before), old.type)
        )
        diff[table_name] = shown
        recipients.update(catalog.recipients[r].name for r in catalog.tables[table_name].recipients)
    return CorrectionPlan(
        label=request.label,
        corrections=tuple(changes),
        diff=diff,
        recipients=tuple(sorted(recipients)),
        data=data,
        rules=rules,
        today=today,
        subject=subject_ref(keys, request.keys[0]) if keys is not None else None,
        accepted_warnings=accepted,
    )
