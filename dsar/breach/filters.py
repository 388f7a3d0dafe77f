"""What a breach covers: the tables, the leaked columns, a time window and `--where` filters.

The time window is read on a table's retention column (else its first date or timestamp
column; an owned table with neither uses its nearest parent's); `dsar.breach.times` selects
the rows in scope with it and these conditions. A `--where` condition is a
catalog column, an operator from a fixed list and one value, which reaches SQL only as a
bound parameter: anything else is refused before any SQL is written.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta

from pydantic import JsonValue

from dsar.catalog.models import Catalog, ColumnType, Table
from dsar.engine.base import quote_identifier
from dsar.errors import InternalError, UsageError

OPERATORS = ("=", "!=", "<>", "<=", ">=", "<", ">", "like")
"""The only operators `--where` accepts."""

_WHERE = re.compile(
    r"^\s*(?:(?P<table>[A-Za-z_][A-Za-z0-9_]*)\.)?(?P<column>[A-Za-z_][A-Za-z0-9_]*)\s*"
    r"(?P<op><=|>=|!=|<>|=|<|>|(?i:like)(?=\s))\s*"
    r"(?P<value>'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|[^\s'\";]+)\s*$"
)
_NUMERIC = {ColumnType.INTEGER, ColumnType.FLOAT, ColumnType.DECIMAL}
_TEMPORAL = {ColumnType.DATE, ColumnType.TIMESTAMP}
_ORDER = {"<", "<=", ">", ">="}
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


@dataclass(frozen=True)
class Condition:
    """One `--where` filter: `[table.]column op value`, the value bound as a parameter."""

    column: str
    op: str
    value: str
    table: str | None = None

    def describe(self) -> str:
        """The condition without its value (values may be personal): 'status ='."""
        where = f"{self.table}." if self.table else ""
        return f"{where}{self.column} {self.op}"


def parse_where(text: str) -> Condition:
    """Parse `[table.]column op value`; anything else is refused, never passed to SQL.

    The value is one word or one quoted string ('...' or "...", a quote doubled inside);
    the operator one of `OPERATORS`.

    Raises:
        UsageError: the text is not of that shape.

    Examples:
        >>> parse_where("status = 'open'")
        Condition(column='status', op='=', value='open', table=None)
    """
    match = _WHERE.match(text)
    if match is None:
        raise UsageError(
            "--where",
            "the --where condition is not 'column operator value' (one column of the"
            f" catalog, one of {', '.join(OPERATORS)}, one word or one quoted value)",
            "write e.g. --where \"status = 'open'\" or --where 'web_logs.status >= 500';"
            " give several --where to combine them (all must hold)",
        )
    value = match["value"]
    if value[0] in "'\"":
        value = value[1:-1].replace(value[0] * 2, value[0])
    return Condition(match["column"], match["op"].lower(), value, match["table"])


@dataclass(frozen=True)
class Window:
    """The time the breach covers: rows whose time column falls in [start, end).

    A `--to` date covers its whole day (end: the next midnight); a `--to` time is inclusive
    too (end: that instant plus one microsecond, the finest time the engines keep).
    """

    start: datetime | None = None
    end: datetime | None = None

    @classmethod
    def parse(cls, start: str | None, end: str | None) -> Window:
        """From `--from` and `--to`: a date or an ISO timestamp; a date `--to` is inclusive.
        A `--to` at the calendar's end (9999-12-31) leaves the window open at that end.

        Raises:
            UsageError: not a date or timestamp, or the window ends before it starts.
        """
        lo = _instant(start, "--from", end_of_day=False) if start else None
        hi = _instant(end, "--to", end_of_day=True) if end else None
        if lo is not None and hi is not None and hi <= lo:
            raise UsageError("--to", "the window ends before it starts", "swap --from and --to")
        return cls(lo, hi)

    @property
    def open(self) -> bool:
        """True when the window does not limit anything."""
        return self.start is None and self.end is None


def _instant(text: str, option: str, *, end_of_day: bool) -> datetime | None:
    """The instant (naive UTC) `text` names; None where `--to` is past the calendar's end."""
    try:
        return _read_instant(text, option, end_of_day=end_of_day)
    except OverflowError:  # 9999-12-31 plus its day, or 0001-01-01 minus an offset
        if end_of_day:
            return None
        raise UsageError(
            option, f"{option} lies outside the calendar", "write e.g. 2026-11-01"
        ) from None


def _read_instant(text: str, option: str, *, end_of_day: bool) -> datetime:
    try:
        if len(text.strip()) == 10:
            day = date.fromisoformat(text.strip())
            moment = datetime.combine(day, time())
            return moment + timedelta(days=1) if end_of_day else moment
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(
            option, f"{option} is not a date or ISO timestamp", "write e.g. 2026-11-01"
        ) from None
    # the export's timestamps are UTC: a time given with its zone is read as that instant
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment + timedelta(microseconds=1) if end_of_day else moment  # --to is inclusive


@dataclass(frozen=True)
class ScopeSpec:
    """What was breached: the tables, their columns, a time window and filters."""

    tables: tuple[str, ...]
    columns: tuple[str, ...] = ()  # the leaked columns: `column` (in any table) or `table.column`
    window: Window = Window()
    where: tuple[Condition, ...] = ()
    time_columns: tuple[str, ...] = ()  # `--time-column TABLE.COLUMN`: the window's column
    time_reasons: tuple[tuple[str, str], ...] = ()  # (table, "t.column: why"), place_in_time


# fmt: off
_CREATED = frozenset({
    "created", "creation", "create", "inserted", "insert", "registered", "registration",
    "signup", "signed", "occurred", "logged", "received", "sent", "submitted", "placed",
    "ordered", "recorded", "event", "ts", "timestamp", "datetime", "time", "date", "when",
    "happened", "posted", "paid", "booked",
})
"""Words of a column name that say when a row was created or its event happened."""
_UPDATED = frozenset({"updated", "update", "modified", "changed", "edited"})
"""Words of a column name that say when a row last changed."""
_OTHER_EVENT = frozenset({
    "birth", "birthday", "born", "dob", "expires", "expiry", "expiration", "expire", "valid",
    "until", "deleted", "closed", "opted", "cancelled", "canceled", "ended", "end", "due",
    "last", "next", "scheduled", "deadline", "start", "starts", "started",
})
"""Words of a column name that say it is the time of something else than the row: a closure,
an opt-out, an expiry (empty for most rows, or far from when the row was made)."""
# fmt: on


@dataclass(frozen=True)
class TimeChoice:
    """The column a table's window is read on, why, and whether that is a guess."""

    table: str  # the table whose column it is (the breached table, or an ancestor)
    column: str
    reason: str  # in words, column names only
    guessed: bool  # no retention.after, no --time-column and no creation/event name


def _words(column: str) -> set[str]:
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", column)
    return {w for w in re.split(r"[^a-z0-9]+", spaced.lower()) if w}


def _rank(column: str) -> int:
    """0: named for the row's creation or event; 1: its last update; 2: another time;
    3: the time of something else (an opt-out, a closure, an expiry)."""
    words = _words(column)
    if words & _OTHER_EVENT:
        return 3
    if words & _UPDATED:
        return 1
    return 0 if words & _CREATED or column.lower().endswith(("at", "on", "ts")) else 2


def _personal_time(table: Table, column: str) -> bool:
    """A date the catalog marks personal or identifying (a date of birth): never a row's time."""
    spec = table.columns[column]
    return spec.personal is not None or spec.identity is not None


def time_choice(catalog: Catalog, name: str, given: Sequence[str] = ()) -> TimeChoice | None:
    """The column whose time places a row of `name` in the window, and why: a column chosen
    with `--time-column` (`given`: `table.column`), else the catalog's retention.after,
    else the table's date or timestamp column named for the row's creation or event (else its
    last update, else its first other one; a timestamp before a date), never a column the
    catalog marks personal (a date of birth), else its nearest parent's."""
    seen: set[str] = set()
    start = name
    while name not in seen:
        seen.add(name)
        table = catalog.tables[name]
        after = table.retention.after
        own = "" if name == start else f" (read on {name}, the table {start} belongs to)"
        if after and after in table.columns:
            why = (
                "chosen with --time-column"
                if f"{name}.{after}" in given
                else "the catalog's retention.after"
            )
            return TimeChoice(name, after, why + own, guessed=False)
        typed = [c for c, spec in table.columns.items() if spec.type in _TEMPORAL]
        usable = [c for c in typed if not _personal_time(table, c)]
        skipped = [c for c in typed if c not in usable]
        if usable:
            best = min(
                usable,
                key=lambda c: (
                    _rank(c),
                    table.columns[c].type is not ColumnType.TIMESTAMP,
                    usable.index(c),
                ),
            )
            rank = _rank(best)
            why = [
                "its name says when the row was created or its event happened",
                "the row's last update by its name (no column named for its creation)",
                "its first date or timestamp column (none is named for the row's creation)",
                "its only kind of date or timestamp column, named for another event",
            ][rank]
            if skipped:
                why += f"; {', '.join(skipped)} skipped: personal data, not the row's time"
            return TimeChoice(
                name,
                best,
                f"no retention.after: {why}{own}",
                guessed=rank > 0 or sum(_rank(c) == 0 for c in usable) > 1,
            )
        if table.owned_through is None:
            return None
        name = table.owned_through.parent_table
    return None


def time_column(catalog: Catalog, name: str) -> tuple[str, str] | None:
    """(table, column) whose time places a row of `name` in the window (`time_choice`)."""
    choice = time_choice(catalog, name)
    return (choice.table, choice.column) if choice else None


def personal_times(catalog: Catalog, name: str) -> list[str]:
    """The date or timestamp columns of `name` the window is never read on (personal)."""
    table = catalog.tables[name]
    return [c for c, s in table.columns.items() if s.type in _TEMPORAL and _personal_time(table, c)]


def place_in_time(catalog: Catalog, spec: ScopeSpec) -> tuple[Catalog, ScopeSpec]:
    """The catalog with each `--time-column TABLE.COLUMN` as that table's retention.after (so
    every reader of the window reads it there), and the spec with each table's reason.

    Raises:
        UsageError: a `--time-column` not `table.column` of a breached table, or a column
            the catalog marks personal (a date of birth says nothing of a row's time).
    """
    tables = dict(catalog.tables)
    for given in spec.time_columns:
        name, dot, column = given.partition(".")
        if not dot or name not in spec.tables or column not in catalog.tables[name].columns:
            raise UsageError(
                "--time-column",
                f"--time-column {given!r} is not table.column of a breached table",
                "write e.g. --time-column accounts.created_at (a table given with --table)",
            )
        if _personal_time(catalog.tables[name], column):
            raise UsageError(
                "--time-column",
                f"{given} is personal data (the catalog marks it personal or identifying):"
                " it says nothing of when a row was made or exposed",
                "name the column that holds the row's time (created, logged, updated)",
            )
        table = tables[name]
        tables[name] = table.model_copy(
            update={"retention": table.retention.model_copy(update={"after": column})}
        )
    placed = catalog.model_copy(update={"tables": tables}) if spec.time_columns else catalog
    return placed, replace(spec, time_reasons=time_reasons(placed, spec))


def time_reasons(catalog: Catalog, spec: ScopeSpec) -> tuple[tuple[str, str], ...]:
    """Each breached table's window column in `catalog` and why: (table, "t.column: why"),
    as scope.json's `parameters.time_column_reasons` and the report say them."""
    return tuple(
        (name, f"{choice.table}.{choice.column}: {choice.reason}")
        for name in spec.tables
        if name in catalog.tables
        and (choice := time_choice(catalog, name, spec.time_columns)) is not None
    )


def table_chain(catalog: Catalog, name: str) -> list[str]:
    """`name`, its parent, ... up to the first table that is not owned."""
    chain = [name]
    while (own := catalog.tables[chain[-1]].owned_through) is not None and len(chain) <= len(
        catalog.tables
    ):
        chain.append(own.parent_table)
    return chain


def down_the_chain(catalog: Catalog, chain: Sequence[str], level: int, sql: str) -> str:
    """The rows of `chain[0]` below `sql`, a query of rows of `chain[level - 1]`: each owned
    table's rows whose parent key is among the rows of the table above, down the chain."""
    for step in range(level - 2, -1, -1):
        own = catalog.tables[chain[step]].owned_through
        assert own is not None
        sql = (
            f"SELECT * FROM {quote_identifier(chain[step])} WHERE"
            f" CAST({quote_identifier(own.column)} AS VARCHAR) IN (SELECT"
            f" CAST({quote_identifier(own.parent_column)} AS VARCHAR) FROM ({sql}))"
        )
    return sql


def is_time_condition(table: Table, cond: Condition) -> bool:
    """Whether `cond` is on a column of `table` the catalog types as a date or timestamp:
    compared on instants in UTC by `dsar.breach.times` (`condition_window`), never in SQL."""
    spec = table.columns.get(cond.column)
    return spec is not None and spec.type in _TEMPORAL


def condition_window(cond: Condition) -> tuple[Window, bool]:
    """A time condition as the window of instants (naive UTC) it keeps, and whether it keeps
    the instants outside it instead (`!=`, `<>`). The value is read as `--from`/`--to` are
    (its offset applied; a time without a zone is UTC); a date alone names its whole day:
    `= 2026-11-05` is that day, `<= 2026-11-05` includes it, `> 2026-11-05` starts after it,
    `>= 2026-11-05` and `< 2026-11-05` at its midnight. A time names its instant.

    Raises:
        UsageError: the value is not a date or an ISO time, or `like` on a time column.

    Examples:
        >>> condition_window(parse_where("ts >= 2026-11-10T00:00:00+05:00"))[0].start
        datetime.datetime(2026, 11, 9, 19, 0)
    """
    if cond.op == "like":
        raise UsageError(
            "--where",
            f"{cond.describe()} compares the text of a time column, which its layout and"
            " offset change",
            "compare it with =, <, <=, >, >= or != and a date or an ISO time",
        )
    lo = _instant(cond.value, "--where", end_of_day=False)
    assert lo is not None  # the start of a day or an instant is always in the calendar
    hi = _instant(cond.value, "--where", end_of_day=True)  # None: past the calendar's end
    end = hi if hi is not None else datetime.max
    if cond.op == ">=":
        return Window(lo, None), False
    if cond.op == ">":
        return Window(end, None), False
    if cond.op == "<":
        return Window(None, lo), False
    if cond.op == "<=":
        return Window(None, hi), False
    return Window(lo, hi), cond.op in ("!=", "<>")


def may_compare_times(table: Table, cond: Condition) -> bool:
    """Whether `cond` compares a date or an ISO time with a column the catalog types no
    number or time (`type: string`, or none): a time comparison where the column's cells
    read as times (`dsar.breach.times.text_times` looks), never text. Text would drop each
    cell's offset, miss a date's whole day (`= 2026-11-05` against `2026-11-05T10:00Z`)
    and drop empty cells unsaid. A plain number stays a number (`numbers_as_text`)."""
    spec = table.columns.get(cond.column)
    if spec is None or spec.type in _NUMERIC | _TEMPORAL or cond.op == "like":
        return False
    value = cond.value.strip()
    if _NUMBER.fullmatch(value) is not None:
        return False
    try:
        _read_instant(value, "--where", end_of_day=False)
    except (UsageError, OverflowError, ValueError):
        return False
    return True


def condition_sql(table: Table, cond: Condition, params: list[object]) -> str:
    """SQL for one `--where` condition on `table`, its value appended to `params` (a time
    condition is no SQL: see `is_time_condition`)."""
    column = quote_identifier(cond.column)
    kind = table.columns[cond.column].type
    op = "LIKE" if cond.op == "like" else cond.op
    if op in ("!=", "<>"):
        # SQL's three-valued logic: NULL != 'u9' is NULL, which would drop the row (an
        # anonymous log line whose user_id is empty); "differs from" keeps it
        op = "IS DISTINCT FROM"
    if op == "LIKE":
        params.append(cond.value)
        return f"CAST({column} AS VARCHAR) LIKE ?"
    if kind in _NUMERIC:
        try:
            params.append(float(cond.value))
        except ValueError:
            raise UsageError(
                "--where",
                f"{cond.describe()} compares a number column with a value that is no number",
                "give a number, e.g. --where 'amount_cents > 1000'",
            ) from None
        return f"TRY_CAST({column} AS DOUBLE) {op} ?"
    if kind in _TEMPORAL:  # SQL would drop the value's or the cell's UTC offset
        raise InternalError(
            f"{cond.describe()} is a time condition: dsar.breach.times places it on instants"
        )
    if numbers_as_text(table, cond):  # every cell a number: checked by `text_not_number`
        params.append(float(cond.value))
        return f"TRY_CAST(TRIM(CAST({column} AS VARCHAR)) AS DOUBLE) {op} ?"
    params.append(cond.value)
    return f"CAST({column} AS VARCHAR) {op} ?"


def numbers_as_text(table: Table, cond: Condition) -> bool:
    """Whether `cond` orders (`<`, `<=`, `>`, `>=`) a column the catalog gives no number or
    time type with a number: compared as numbers (text would put '10' before '3'), which
    holds only where every cell of the column reads as a number (`text_not_number`)."""
    spec = table.columns.get(cond.column)
    return (
        spec is not None
        and spec.type not in _NUMERIC | _TEMPORAL
        and cond.op in _ORDER
        and _NUMBER.fullmatch(cond.value.strip()) is not None
    )


def text_not_number_sql(column: str) -> str:
    """SQL counting the cells of `column` that are neither empty nor a number."""
    cell = f"TRIM(CAST({quote_identifier(column)} AS VARCHAR))"
    return f"COUNT(*) FILTER (WHERE {cell} <> '' AND TRY_CAST({cell} AS DOUBLE) IS NULL)"


def refuse_text_not_number(cond: Condition, table: str, cells: int) -> UsageError:
    """The refusal of a number ordering a column some of whose cells are no number."""
    return UsageError(
        "--where",
        f"{cond.describe()} compares a number with {table}.{cond.column}, whose type the"
        f" catalog does not give as a number and {cells} of whose cells are no number: as"
        " text, '10' would sort before '3' and rows would be missed",
        f"declare its type in the catalog ({cond.column}: {{type: integer}} or float) if it"
        " holds numbers, or compare it with = or like",
    )


def check_spec(catalog: Catalog, spec: ScopeSpec) -> dict[str, tuple[str, ...]]:
    """Refuse a spec naming what the catalog does not have; the leaked columns per table.

    Raises:
        UsageError: an unknown table or column, a condition on no breached table, a window
            on a table with no time column.
    """
    if not spec.tables:
        raise UsageError("--table", "no table given", "name each breached table with --table")
    for name in spec.tables:
        if name not in catalog.tables:
            raise UsageError(
                "--table",
                f"unknown table {name!r}",
                f"use one of: {', '.join(sorted(catalog.tables))}",
            )
        if not spec.window.open and time_column(catalog, name) is None:
            personal = personal_times(catalog, name)
            aside = (
                f" (its {', '.join(personal)} is personal data, never a row's time)"
                if personal
                else ""
            )
            raise UsageError(
                "--from/--to",
                f"table {name!r} has no date or timestamp column to place its rows in time{aside}",
                "declare one (retention: {after: COLUMN} or a column with type: timestamp),"
                " give --time-column TABLE.COLUMN, or scope that table without --from/--to",
            )
    for cond in spec.where:
        if cond.table is not None and cond.table not in spec.tables:
            raise UsageError(
                "--where", f"{cond.describe()} names a table not in scope", "add it with --table"
            )
        if not any(
            cond.column in catalog.tables[t].columns for t in spec.tables if cond.table in (None, t)
        ):
            raise UsageError(
                "--where",
                f"no breached table has the column in {cond.describe()}",
                "name a column of the catalog (dsar catalog show lists them)",
            )
        _refuse_time_condition(catalog, spec, cond)
    leaked: dict[str, tuple[str, ...]] = {}
    if spec.columns:
        unknown = [c for c in spec.columns if not _names_column(catalog, spec.tables, c)]
        if unknown:
            raise UsageError(
                "--columns",
                f"no breached table has column(s) {', '.join(unknown)}",
                "name columns of the breached tables, as column or table.column (dsar"
                " catalog show lists them)",
            )
    for name in spec.tables:
        columns = tuple(catalog.tables[name].columns)
        if spec.columns:
            columns = tuple(
                c for c in columns if c in spec.columns or f"{name}.{c}" in spec.columns
            )
            if not columns:
                raise UsageError(
                    "--columns",
                    f"table {name!r} has none of the columns given",
                    "name its leaked columns too, or leave it out",
                )
        leaked[name] = columns
    return leaked


def _refuse_time_condition(catalog: Catalog, spec: ScopeSpec, cond: Condition) -> None:
    """Refuse a `--where` on the column a table's window is read on (typed, or a text
    column holding times, epochs, offsets): `--from`/`--to` place rows on it. A condition on
    another date or timestamp column is read on instants in UTC, as the window is
    (`condition_window`, `dsar.breach.times`); its value is checked here.

    SQL would compare the window column's text, or its clock time with the offset dropped
    (`ts >= 2026-11-10T00:00:00+05:00` read as 00:00 UTC; an epoch cell compared as text),
    and drop rows unsaid.

    Raises:
        UsageError: the condition is on a breached table's window column, or a time
            condition's value is not a date or time (or its operator is `like`).
    """
    for name in spec.tables:
        table = catalog.tables[name]
        if cond.table not in (None, name) or cond.column not in table.columns:
            continue
        if is_time_condition(table, cond) and time_column(catalog, name) != (name, cond.column):
            condition_window(cond)
            continue
        typed = table.columns[cond.column].type in _TEMPORAL
        if typed or time_column(catalog, name) == (name, cond.column):
            raise UsageError(
                "--where",
                f"{cond.describe()} is on a time column ({name}.{cond.column}): SQL would"
                " compare its text or drop its UTC offset, and miss rows",
                "give the time bounds with --from/--to (compared as instants in UTC, with"
                " unreadable times kept and counted)",
            )


def _names_column(catalog: Catalog, tables: tuple[str, ...], given: str) -> bool:
    """Whether `given` (`column`, or `table.column` as --where takes it) names a column of a
    breached table."""
    table, dot, column = given.rpartition(".")
    if dot and table in tables and column in catalog.tables[table].columns:
        return True
    return any(given in catalog.tables[t].columns for t in tables)


def spec_summary(spec: ScopeSpec) -> dict[str, JsonValue]:
    """The spec without values (conditions as 'column op'), for the manifest."""
    return {
        "tables": list[JsonValue](spec.tables),
        "columns": list[JsonValue](spec.columns),
        # UTC instants, their zone said (the window holds them naive)
        "from": spec.window.start.replace(tzinfo=UTC).isoformat() if spec.window.start else None,
        "to": spec.window.end.replace(tzinfo=UTC).isoformat() if spec.window.end else None,
        "where": list[JsonValue](c.describe() for c in spec.where),
        "time_column_given": list[JsonValue](spec.time_columns),
        # each table's window column and why (column names only)
        "time_column_reasons": dict[str, JsonValue](spec.time_reasons),
    }
