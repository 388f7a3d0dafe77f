"""The retention sweep: rows kept longer than the catalog allows, found and purged.

Same shape as erasure: `plan_retention` is a value (what would go, per table), and
`apply_plan` rewrites the files through the same journal, with row accounting, a
certificate and an audit entry. Web logs kept "about 30 days" are the typical case.
"""

from __future__ import annotations

import secrets
from collections.abc import Collection, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from typing import Any, ClassVar

import pyarrow as pa

from dsar.catalog.models import Catalog, Duration, ErasureAction, Role, Table
from dsar.engine.base import Engine, quote_identifier
from dsar.engine.guards import CatalogWarning, guard_catalog
from dsar.errors import EngineError
from dsar.keys import Keys
from dsar.records.deadlines import add_months
from dsar.rights.actions import PersonRows, Retain, SqlPart
from dsar.rights.children import Stays, kept_with_parent
from dsar.rights.plan import Job, Plan
from dsar.rights.rewrite import Rewrite


@dataclass(frozen=True)
class RetentionAction:
    """One table's rows past their retention, or owned through rows that are."""

    table: str
    period: str | None  # None: no period of its own; its rows go with their parent rows
    after: str | None
    cutoff: date | None  # rows whose `after` is before this day are past retention
    rows: int
    expired: int  # rows the sweep deletes: past retention, or with their parent rows
    kept_with_parent: int = 0  # rows past retention kept with their retained parent rows
    parent: str | None = None  # the table this one is owned through
    with_parent: int = 0  # of `expired`: rows deleted with their parent rows

    def words(self, done: bool) -> str:
        """What the sweep deletes (`done`: deleted) from the table, and what it keeps."""
        verb = "deleted" if done else "would be deleted"
        own = self.expired - self.with_parent
        if self.period is None:
            text = f"{self.expired:,} of {self.rows:,} row(s) {verb}"
            text += f" with their {self.parent} rows" if done else ""
        else:
            text = f"{own:,} of {self.rows:,} row(s) from before {self.cutoff} {verb}"
            if done:
                text += f" (kept {self.period} after {self.after})"
            if self.with_parent:
                text += f", and {self.with_parent:,} with their {self.parent} rows"
        if self.kept_with_parent:
            text += (
                f"; {self.kept_with_parent:,} past retention kept with their retained"
                f" {self.parent} rows"
            )
        return text


@dataclass(frozen=True)
class RetentionPlan(Plan):
    """The sweep, planned: nothing has been changed yet."""

    job: ClassVar[Job] = Job.RETENTION
    label: str
    today: date
    actions: tuple[RetentionAction, ...]
    subject: str | None = None  # a sweep concerns no one person
    recipients: tuple[str, ...] = ()
    accepted_warnings: tuple[CatalogWarning, ...] = ()  # catalog warnings accepted to plan it

    @property
    def changes(self) -> int:
        """Rows the sweep would delete."""
        return sum(a.expired for a in self.actions)

    def describe(self) -> str:
        """The dry run as text."""
        lines = [f"retention sweep {self.label}, as of {self.today}:"]
        lines += [f"  {a.table:<24} {_rule(a)}: {a.words(done=False)}" for a in self.actions]
        lines.append(
            f"{self.changes:,} row(s) would be deleted"
            if self.changes
            else "nothing is past its retention"
        )
        return "\n".join(lines)

    def table_rows(self) -> list[dict[str, Any]]:
        """One row per table with a retention period: rows in all, rows past it."""
        return [asdict(a) | {"changes": a.expired} for a in self.actions]

    def rewrites(self, catalog: Catalog, keys: Keys | None) -> list[Rewrite]:
        """One rewrite per table with rows to delete: every other row kept."""
        rewrites = []
        for a in self.actions:
            gone = _gone(catalog, a.table, self.today) if a.expired else None
            if gone is not None:
                sql, params = gone
                rewrites.append(
                    Rewrite(a.table, f"SELECT * FROM {{source}} WHERE NOT {sql}", params, a.expired)
                )
        return rewrites

    def certificate_body(self) -> dict[str, Any]:
        """Per table: the period, the cutoff, rows in all and rows deleted."""
        return {"tables": [asdict(a) for a in self.actions]}

    def certificate_lines(self) -> list[str]:
        """Per table, the rows deleted and the rule."""
        return [f"- {a.table}: {a.words(done=True)}" for a in self.actions]


def _expired(after: str) -> str:
    return f"CAST({quote_identifier(after)} AS DATE) < CAST(? AS DATE)"


def _rule(a: RetentionAction) -> str:
    if a.period is None:
        return f"kept as long as its {a.parent} rows"
    return f"keep {a.period} after {a.after}"


def _cutoff(period: Duration, today: date) -> date:
    """Rows whose date is before this day are past a retention `period`."""
    months = {"year": 12 * period.amount, "month": period.amount}.get(period.unit)
    days = {"day": period.amount, "week": 7 * period.amount}.get(period.unit, 0)
    return add_months(today, -months) if months else date.fromordinal(today.toordinal() - days)


def _swept(table: Table) -> bool:
    return table.role is Role.CONTROLLER and table.personal


def _period(table: Table, today: date) -> tuple[str, date] | None:
    """The date column and the cutoff of a table the sweep reaches with a period of its own."""
    period, after = table.retention.period, table.retention.after
    if not _swept(table) or period is None or after is None:
        return None
    return after, _cutoff(period, today)


def sweep_stays(catalog: Catalog, today: date) -> Stays:
    """A retained table's rows the sweep keeps: within the retention its erasure rule says,
    and not past its own retention period (which this sweep deletes)."""

    def stays(name: str) -> SqlPart:
        table = catalog.tables[name]
        sql, params = Retain().stays_sql(PersonRows(table, "true", [], today))
        rule = _period(table, today)
        if rule is not None:
            sql = f"({sql} AND NOT coalesce({_expired(rule[0])}, false))"
            params = [*params, rule[1].isoformat()]
        return sql, params

    return stays


def _with_parent(catalog: Catalog, name: str, today: date) -> SqlPart | None:
    """Rows of `name` kept with their retained parent rows (`dsar.rights.children`); None
    when none can be, or the catalog says to delete them all the same."""
    if catalog.tables[name].erasure.even_if_parent_retained:
        return None
    return kept_with_parent(catalog, name, sweep_stays(catalog, today))


def _past(catalog: Catalog, name: str, today: date) -> SqlPart | None:
    """Rows of `name` past its own retention period, less those kept with a retained
    parent; None: the table has no period."""
    rule = _period(catalog.tables[name], today)
    if rule is None:
        return None
    past = f"coalesce({_expired(rule[0])}, false)"
    params: list[object] = [rule[1].isoformat()]
    kept = _with_parent(catalog, name, today)
    if kept is None:
        return past, params
    return f"({past} AND NOT {kept[0]})", [*params, *kept[1]]


def _gone(catalog: Catalog, name: str, today: date, depth: int = 0) -> SqlPart | None:
    """Rows of `name` the sweep deletes: past its own retention, or owned through parent rows
    the sweep deletes (to any depth), unless its own erasure rule still retains them. None:
    the sweep deletes nothing there, whatever the rows."""
    table = catalog.tables[name]
    parts = [] if (past := _past(catalog, name, today)) is None else [past]
    own = table.owned_through
    # the loader refuses a circle; the depth bounds one in a catalog built in code
    if own is not None and own.parent_table in catalog.tables and depth <= len(catalog.tables):
        parent = _gone(catalog, own.parent_table, today, depth + 1)
        if parent is not None and _swept(table):
            column = f"CAST({quote_identifier(own.column)} AS VARCHAR)"
            key = f"CAST({quote_identifier(own.parent_column)} AS VARCHAR)"
            sql = (
                f"coalesce({column} IN (SELECT {key} FROM"
                f" {quote_identifier(own.parent_table)} WHERE {parent[0]}), false)"
            )
            params = list(parent[1])
            if table.erasure.action is ErasureAction.RETAIN:  # its own obligation first
                stays, stays_params = sweep_stays(catalog, today)(name)
                sql, params = f"({sql} AND NOT {stays})", [*params, *stays_params]
            parts.append((sql, params))
    if not parts:
        return None
    return "(" + " OR ".join(p for p, _ in parts) + ")", [x for _, ps in parts for x in ps]


def plan_retention(
    catalog: Catalog,
    engine: Engine,
    *,
    today: date | None = None,
    accept_catalog_warnings: bool | Collection[str] = False,
) -> RetentionPlan:
    """Count, per table with a retention period, the rows kept past it; per table owned
    through one, the rows that go with their parent rows. Rows kept with a retained parent
    stay (`dsar.rights.children`).

    A catalog that can give one person's rows to another (`dsar.engine.guards`) is refused
    unless `accept_catalog_warnings` (True, or the codes accepted); the certificate records
    them.
    """
    today = today or datetime.now(UTC).date()
    accepted = guard_catalog(catalog, engine, accept_catalog_warnings)
    actions = []
    for name in catalog.tables:
        counted = _counts(catalog, name, today)
        if counted is not None:
            columns, params = counted
            sql = f"SELECT {', '.join(columns)} FROM {quote_identifier(name)}"
            row = engine.query(sql, params).to_pylist()[0]
            actions.append(_action(catalog, name, today, row))
    # a label of its own per sweep: two sweeps on one day keep their originals apart
    return RetentionPlan(
        f"RS-{today:%Y%m%d}-{secrets.token_hex(3)}",
        today,
        tuple(actions),
        accepted_warnings=accepted,
    )


@dataclass(frozen=True)
class HeldPast:
    """One table of a person's rows held past retention: the sweep's counts over those rows,
    and which of them (positions in the table, from 0) the sweep deletes."""

    action: RetentionAction
    positions: tuple[int, ...]


_POSITION = "__workbench_position"


def rows_past_retention(
    catalog: Catalog, tables: Mapping[str, pa.Table], today: date
) -> tuple[HeldPast, ...]:
    """What the retention sweep would delete from these rows (one person's, as an access
    bundle holds them), counted by the sweep's own query over them instead of the export.

    Every catalog table the rules may read is given: those absent from `tables`, empty.
    Only tables with rows the sweep deletes (or keeps with a retained parent) are returned.

    Raises:
        EngineError: a rule could not be applied (a date column that holds no date).
    """
    import duckdb

    from dsar.engine.duckdb import scratch_connection  # the rows are in memory

    con = scratch_connection()
    try:
        for name, spec in catalog.tables.items():
            table = tables.get(name)
            if table is None:
                table = pa.table({c: pa.array([], pa.string()) for c in spec.columns})
            positions = pa.array(range(table.num_rows), pa.int64())
            con.register(name, table.append_column(_POSITION, positions))
        held = []
        for name in catalog.tables:
            counted = _counts(catalog, name, today)
            table = tables.get(name)
            if counted is None or table is None or not table.num_rows:
                continue
            columns, params = counted
            gone, gone_params = _gone(catalog, name, today) or ("false", [])
            where = f"list({_POSITION} ORDER BY {_POSITION}) FILTER (WHERE {gone})"
            columns = [*columns, f"{where} AS positions"]
            sql = f"SELECT {', '.join(columns)} FROM {quote_identifier(name)}"
            try:
                result = con.sql(sql, params=[*params, *gone_params]).to_arrow_table()
            except duckdb.Error as exc:  # its message may quote a value: only its kind
                raise EngineError(
                    f"table {name!r}: its retention rule could not be applied to these rows"
                    f" ({type(exc).__name__})"
                ) from None
            row = result.to_pylist()[0]
            action = _action(catalog, name, today, row)
            if action.expired or action.kept_with_parent:
                held.append(HeldPast(action, tuple(row["positions"] or ())))
        return tuple(held)
    finally:
        con.close()


def _counts(catalog: Catalog, name: str, today: date) -> tuple[list[str], list[object]] | None:
    """The sweep's counts of a table as SELECT columns (n, old, own, kept) with their
    parameters; None: the sweep deletes nothing there."""
    gone = _gone(catalog, name, today)
    if gone is None:
        return None
    columns, params = [f"count(*) AS n, count(*) FILTER (WHERE {gone[0]}) AS old"], gone[1]
    past = _past(catalog, name, today)
    if past is not None:
        columns.append(f"count(*) FILTER (WHERE {past[0]}) AS own")
        params = [*params, *past[1]]
    rule, kept = _period(catalog.tables[name], today), _with_parent(catalog, name, today)
    if rule is not None and kept is not None:
        columns.append(f"count(*) FILTER (WHERE {_expired(rule[0])} AND {kept[0]}) AS kept")
        params = [*params, rule[1].isoformat(), *kept[1]]
    return columns, params


def _action(catalog: Catalog, name: str, today: date, row: dict[str, Any]) -> RetentionAction:
    """The counts of `_counts`, read back."""
    table = catalog.tables[name]
    rule, period = _period(table, today), table.retention.period
    return RetentionAction(
        name,
        str(period) if rule is not None else None,
        rule[0] if rule is not None else None,
        rule[1] if rule is not None else None,
        int(row["n"]),
        int(row["old"]),
        kept_with_parent=int(row.get("kept") or 0),
        parent=table.owned_through.parent_table if table.owned_through else None,
        with_parent=int(row["old"]) - int(row.get("own") or 0),
    )
