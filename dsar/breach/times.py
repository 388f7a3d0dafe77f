"""The time window on a breached table, compared on instants in UTC.

A time column is read as the file holds it, never through the engine's typed view of a CSV
or JSON file (which keeps the clock time of `2026-11-15T01:00:00+05:00` and drops its
offset). Each cell becomes an instant in UTC:

- an ISO date or timestamp, with its offset (`Z`, `+05:00`) applied; one without a zone is
  taken as UTC (the catalog states no zone), and the run says so;
- a compact local time of 14 or 12 digits, `20261105103000` (YYYYMMDDhhmmss) or
  `202611051030`, text or number, whose year is 1900 to 2199 and whose date and clock are
  valid, read as that clock time (without a zone: UTC, said);
- an epoch number (text or a number column), in seconds, milliseconds, microseconds or
  nanoseconds by its magnitude (at least 9 digits: a shorter number is no time); a negative
  one (before 1970) is no record time the tool can trust: unreadable;
- `05/11/2026 10:00`, `5.11.2026`: day first or month first, decided per column by a value
  that only one reading allows (13/11/2026), refused with the column named when none does
  or both do; a catalog's `csv: {timestamp_format}` is used first;
- `Nov 5, 2026`, `5 November 2026 10:00`, `Nov 5, 2026 8:00 PM`, an RFC 2822 date (`Thu, 05
  Nov 2026 10:00:00 +0000`);
- any of these with a zone after its clock: an offset (`-08:00`, `+0300`, `GMT+2`), `UTC`,
  `Z` or an abbreviation with one meaning (RFC 2822's `PST`, `EST`..., `CET`, `CEST`), also
  after a compact time (`20261031200000-0800`, `202610312000-08:00`, the X.509 and LDAP
  layout); a zone it cannot read (`IST`, `-25:00`) makes the time unreadable (kept, counted),
  never UTC.

A cell that is empty or cannot be read cannot be placed outside the window: its row is kept
in scope (the conservative reading) and counted as undetermined, per table, in the scope's
counts, the report and a warning; it is never dropped unsaid. So is a time read more than a
day after this run (so after `--discovered` too), outside the window: no export holds a
record written in its future, so that reading is wrong (an unknown layout, a corrupt cell,
`20261105103000` taken for epoch milliseconds), not a place outside the window.
"""

from __future__ import annotations

import email.utils
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from dsar.breach.filters import (
    Condition,
    ScopeSpec,
    Window,
    condition_sql,
    condition_window,
    down_the_chain,
    is_time_condition,
    may_compare_times,
    numbers_as_text,
    refuse_text_not_number,
    table_chain,
    text_not_number_sql,
    time_choice,
    time_column,
)
from dsar.catalog.models import Catalog, ColumnType, FileFormat
from dsar.engine.base import Engine, quote_identifier, sql_in
from dsar.errors import UsageError

_EPOCH = re.compile(r"^[+-]?\d{9,}(?:\.\d+)?$")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?(?:\.0*)?$")
_COMPACT_YEARS = (1900, 2199)
_COMPACT_RANGES = ((1.9000101e11, 2.2e11), (1.9000101e13, 2.2e13))
"""Numbers that may be a compact YYYYMMDDhhmm[ss] time (read as one where valid)."""
_LATE = timedelta(days=1)  # a time read later than this after the run is no record time
_NUMERIC_DATE = re.compile(
    r"^(\d{1,2})([/.-])(\d{1,2})\2(\d{4})(?:[ T,]+(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?)?$"
)
_YEAR_FIRST = re.compile(r"^\d{4}/\d{1,2}/\d{1,2}(?:[ T].*)?$")
_NAMED = tuple(
    f"{day}{clock}"
    for day in ("%b %d, %Y", "%B %d, %Y", "%d %b %Y", "%d %B %Y", "%b %d %Y", "%B %d %Y")
    for clock in (
        "",
        " %H:%M",
        " %H:%M:%S",
        ", %H:%M",
        ", %H:%M:%S",
        " %I:%M %p",
        " %I:%M:%S %p",
        ", %I:%M %p",
        ", %I:%M:%S %p",
    )
)
_ZONED = re.compile(
    r"^(?P<rest>.*?(?:\d:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:\s*[AaPp]\.?[Mm]\.?)?|\d{12}|\d{14}))"
    r"\s*(?P<zone>[+-]\d{2}(?::?\d{2})?|(?:UTC|GMT|UT)(?:\s*[+-]\d{1,2}(?::?\d{2})?)?|Z"
    r"|\(?[A-Za-z]{2,5}\)?)$"
)
"""A time with a zone after its clock (`Oct 31, 2026 20:00 -08:00`, `... 8:00 PM PST`) or
after a compact time (`20261031200000-0800`, `202610312000-08:00`): the zone is read here,
the rest by the layouts below (an ISO time's offset too, to the same instant)."""
_NUMERIC_ZONE = re.compile(r"^(?:UTC|GMT|UT)?\s*([+-])(\d{1,2})(?::?(\d{2}))?$")
_NAMED_ZONES = {
    "Z": 0, "UTC": 0, "GMT": 0, "UT": 0, "WET": 0,
    "EST": -5, "EDT": -4, "CST": -6, "CDT": -5, "MST": -7, "MDT": -6, "PST": -8, "PDT": -7,
    "AKST": -9, "AKDT": -8, "HST": -10,
    "CET": 1, "CEST": 2, "MET": 1, "MEST": 2, "WEST": 1, "EET": 2, "EEST": 3,
}  # fmt: skip
"""Zone abbreviations with one meaning (RFC 2822's US zones, Europe's): another (IST, BST,
the Chinese CST read as US Central would be wrong: RFC 2822's reading is kept) makes the
time unreadable, kept in scope and counted, never read as UTC."""
_SLACK = timedelta(hours=15)  # the widest UTC offset is 14 hours: a clock time read without
# its offset is within 15 hours of its instant
_RAW = "__breach_raw__"
_SAMPLE = 1000  # distinct cells read to tell a text column of times (`text_times`)
_EPOCH_UNITS = ((1e11, 1.0), (1e14, 1e3), (1e17, 1e6), (1e30, 1e9))
"""An epoch number's unit by its magnitude: below 1e11 seconds, then ms, us and ns."""


@dataclass
class TimeRead:
    """How one table's rows were placed in the window (counts and column names only)."""

    column: str  # table.column the window was read on
    empty: int = 0  # rows in scope whose time is empty: kept, undetermined
    unreadable: int = 0  # rows in scope whose time no layout reads: kept, undetermined
    late: int = 0  # rows whose time reads after this run (and outside the window): kept
    naive: bool = False  # some times carried no zone and were read as UTC
    notes: list[str] = field(default_factory=list)

    @property
    def undetermined(self) -> int:
        """Rows kept in scope because their time cannot place them outside the window."""
        return self.empty + self.unreadable + self.late


def _compact(text: str) -> datetime | None:
    """`20261105103000` or `202611051030`: that clock time, where it is a valid one."""
    match = _COMPACT.match(text)
    if match is None or not _COMPACT_YEARS[0] <= int(match[1]) <= _COMPACT_YEARS[1]:
        return None
    try:
        year, month, day, hour, minute, second = (int(part or 0) for part in match.groups())
        return datetime(year, month, day, hour, minute, second)
    except ValueError:
        return None


def _epoch(number: float) -> datetime:
    scale = next((scale for high, scale in _EPOCH_UNITS if abs(number) < high), 1e9)
    return datetime(1970, 1, 1) + timedelta(seconds=number / scale)


def _utc(moment: datetime) -> tuple[datetime, bool]:
    if moment.tzinfo is None:
        return moment, True
    return moment.astimezone(UTC).replace(tzinfo=None), False


def _day_first(texts: Iterable[str], column: str) -> bool | None:
    """Whether `a/b/yyyy` dates of a column put the day first (None: the column has none).

    Raises:
        UsageError: no value tells (every day and month at most 12), or values tell both.
    """
    firsts = seconds = 0
    found = False
    for text in texts:
        match = _NUMERIC_DATE.match(text)
        if match is None:
            continue
        found = True
        firsts = max(firsts, int(match[1]))
        seconds = max(seconds, int(match[3]))
    if not found:
        return None
    if firsts > 12 and seconds <= 12:
        return True
    if seconds > 12 and firsts <= 12:
        return False
    why = "some put the day first, some the month" if firsts > 12 else "no value tells"
    raise UsageError(
        "--from/--to",
        f"column {column} holds dates such as dd/mm/yyyy or mm/dd/yyyy and {why} which comes"
        " first, so the window cannot be placed on it",
        "state the layout in the catalog (csv: {timestamp_format: '%d/%m/%Y %H:%M'}) or"
        " convert the column to ISO 8601",
    )


def parse_times(
    texts: Iterable[str], column: str, layout: str | None = None
) -> dict[str, tuple[datetime | None, bool]]:
    """Each distinct text of a time column: (its instant in UTC, naive) or (None, False)
    where it cannot be read. `layout` is a strptime layout stated by the catalog.

    Raises:
        UsageError: a/b/yyyy dates whose order the column does not settle (see module).

    Examples:
        >>> parse_times(["2026-11-15T01:00:00+05:00"], "t")["2026-11-15T01:00:00+05:00"]
        (datetime.datetime(2026, 11, 14, 20, 0), False)
    """
    distinct = sorted({t.strip() for t in texts})
    day_first = _day_first(distinct, column)
    out: dict[str, tuple[datetime | None, bool]] = {}
    for text in distinct:
        out[text] = _parse_one(text, layout, day_first)
    return out


def _zone_offset(zone: str) -> timedelta | None:
    """The UTC offset a zone written after a time names (None: no offset it can read).

    Examples:
        >>> _zone_offset("-08:00") == _zone_offset("PST") == timedelta(hours=-8)
        True
        >>> _zone_offset("+0530"), _zone_offset("IST")
        (datetime.timedelta(seconds=19800), None)
    """
    zone = zone.strip("()").strip()
    if zone.upper() in _NAMED_ZONES:
        return timedelta(hours=_NAMED_ZONES[zone.upper()])
    match = _NUMERIC_ZONE.match(zone.upper())
    if match is None:
        return None
    hours, minutes = int(match[2]), int(match[3] or 0)
    if hours > 14 or minutes > 59:
        return None
    offset = timedelta(hours=hours, minutes=minutes)
    return -offset if match[1] == "-" else offset


def _parse_one(
    text: str, layout: str | None, day_first: bool | None
) -> tuple[datetime | None, bool]:
    if not text:
        return None, False
    if layout:
        try:
            return _utc(datetime.strptime(text, layout))
        except ValueError:
            pass
    zoned = _ZONED.match(text)
    if zoned is not None and zoned["zone"].strip("().").upper() not in ("AM", "PM"):
        # the zone after the clock: read apart, never dropped (an unknown one: unreadable)
        offset = _zone_offset(zoned["zone"])
        moment, naive = _parse_one(zoned["rest"].strip(), None, day_first)
        if offset is None or moment is None or not naive:
            return None, False
        return moment - offset, False
    compact = _compact(text)
    if compact is not None:
        return compact, True
    if _EPOCH.match(text):
        if text.startswith("-"):
            return None, False  # before 1970: no record time to trust
        try:
            return _epoch(float(text)), False
        except (OverflowError, ValueError):
            return None, False
    try:
        return _utc(
            datetime.fromisoformat(text.replace("/", "-") if _YEAR_FIRST.match(text) else text)
        )
    except ValueError:
        pass
    match = _NUMERIC_DATE.match(text)
    if match is not None:
        a, b = int(match[1]), int(match[3])
        day, month = (a, b) if day_first else (b, a)
        micro = int((match[8] or "0").ljust(6, "0"))
        try:
            return datetime(
                int(match[4]),
                month,
                day,
                int(match[5] or 0),
                int(match[6] or 0),
                int(match[7] or 0),
                micro,
            ), True
        except ValueError:
            return None, False
    spaced = " ".join(text.replace(".", " ").split()) if not text[:1].isdigit() else text
    for named in _NAMED:
        try:
            return datetime.strptime(spaced, named), True
        except ValueError:
            continue
    try:
        return _utc(email.utils.parsedate_to_datetime(text))
    except (TypeError, ValueError, IndexError):
        return None, False


def _numeric(arrow: pa.DataType) -> bool:
    return bool(
        pa.types.is_integer(arrow) or pa.types.is_floating(arrow) or pa.types.is_decimal(arrow)
    )


def _window_sql(column: str, window: Window, params: list[object]) -> list[str]:
    """Terms placing a column the engine reads as a timestamp in the window (naive, UTC)."""
    terms = []
    if window.start is not None:
        terms.append(f"TRY_CAST({quote_identifier(column)} AS TIMESTAMP) >= CAST(? AS TIMESTAMP)")
        params.append(window.start.isoformat(sep=" "))
    if window.end is not None:
        terms.append(f"TRY_CAST({quote_identifier(column)} AS TIMESTAMP) < CAST(? AS TIMESTAMP)")
        params.append(window.end.isoformat(sep=" "))
    return terms


def _epoch_sql(column: str, window: Window, params: list[object]) -> str:
    """Rows of a number column whose epoch (unit by magnitude) falls in the window."""
    col = f"CAST({quote_identifier(column)} AS DOUBLE)"
    epoch0 = datetime(1970, 1, 1)
    terms, low = [], 0.0
    for high, scale in _EPOCH_UNITS:
        parts = [f"ABS({col}) >= ?", f"ABS({col}) < ?"]
        params.extend([low, high])
        if window.start is not None:
            parts.append(f"{col} >= ?")
            params.append((window.start - epoch0).total_seconds() * scale)
        if window.end is not None:
            parts.append(f"{col} < ?")
            params.append((window.end - epoch0).total_seconds() * scale)
        terms.append("(" + " AND ".join(parts) + ")")
        low = high
    return "(" + " OR ".join(terms) + ")"


def raw_relation(engine: Engine, catalog: Catalog, table: str, columns: Sequence[str]) -> str:
    """`table` (quoted) with `columns` read as the file writes them (text): a CSV or JSON
    file's typed view keeps a timestamp's clock time and drops its offset. A Parquet table,
    or no column, is the table itself."""
    spec = catalog.tables[table]
    wanted = sorted(set(columns))
    if spec.format is FileFormat.PARQUET or not wanted:
        return quote_identifier(table)
    types = dict(spec.columns)
    for column in wanted:
        types[column] = types[column].model_copy(update={"type": ColumnType.STRING})
    alias = f"{_RAW}{table}__{'__'.join(wanted)}"  # one view per set of text columns
    tables = {**catalog.tables, alias: spec.model_copy(update={"columns": types})}
    raw = catalog.model_copy(update={"tables": tables})
    if alias not in engine.tables:
        engine.register_table(raw, alias)
    return quote_identifier(alias)


def time_conditions(catalog: Catalog, name: str, spec: ScopeSpec) -> list[Condition]:
    """The `--where` conditions on `name` that compare a date or timestamp column: placed on
    instants in UTC (`keep_conditions`), never compared in SQL."""
    table = catalog.tables[name]
    return [
        c
        for c in spec.where
        if c.table in (None, name) and c.column in table.columns and is_time_condition(table, c)
    ]


def check_numbers(engine: Engine, catalog: Catalog, name: str, spec: ScopeSpec) -> None:
    """Refuse a number ordering a column of `name` typed no number where one of its cells
    is no number (`numbers_as_text`): comparing numbers there would drop those rows and
    text would misorder them; never silently one or the other.

    Raises:
        UsageError: such a condition and such a cell.
    """
    table = catalog.tables[name]
    for cond in spec.where:
        if cond.table not in (None, name) or not numbers_as_text(table, cond):
            continue
        cells = (
            engine.query(f"SELECT {text_not_number_sql(cond.column)} FROM {quote_identifier(name)}")
            .column(0)[0]
            .as_py()
        )
        if cells:
            raise refuse_text_not_number(cond, name, int(cells))


def text_times(engine: Engine, catalog: Catalog, name: str, spec: ScopeSpec) -> list[Condition]:
    """The `--where` conditions on `name` comparing a date or time with a column typed no
    time (`may_compare_times`) whose cells read as times: most of its distinct non-empty
    cells (a sample of them), or it has none. They are placed on instants in UTC as the
    typed ones are (`keep_conditions`: offsets applied, empty and unreadable cells kept and
    counted); text would compare `2026-11-05` with `2026-11-05T10:00:00Z` as unequal.

    Raises:
        UsageError: the column's dates read both day first and month first (as the window's).
    """
    table = catalog.tables[name]
    layout = table.csv.timestamp_format if table.csv else None
    found: list[Condition] = []
    for cond in spec.where:
        if cond.table not in (None, name) or not may_compare_times(table, cond):
            continue
        relation = raw_relation(engine, catalog, name, [cond.column])
        cell = f"TRIM(CAST({quote_identifier(cond.column)} AS VARCHAR))"
        texts = [
            str(t)
            for t in engine.query(
                f"SELECT DISTINCT {cell} FROM {relation} WHERE {cell} <> '' LIMIT {_SAMPLE}"
            )
            .column(0)
            .to_pylist()
            if t
        ]
        parsed = parse_times(texts, f"{name}.{cond.column}", layout)
        times = sum(1 for t in texts if parsed[t.strip()][0] is not None)
        if 2 * times > len(texts) or not texts:
            found.append(cond)
    return found


def plain_where(
    catalog: Catalog,
    name: str,
    spec: ScopeSpec,
    params: list[object],
    timed: Sequence[Condition] = (),
) -> str:
    """SQL of the other `--where` conditions on `name` (values appended to `params`);
    `timed`: conditions on text columns of times (`text_times`), placed on instants too."""
    table = catalog.tables[name]
    terms = [
        condition_sql(table, c, params)
        for c in spec.where
        if c.table in (None, name)
        and c.column in table.columns
        and not is_time_condition(table, c)
        and c not in timed
    ]
    return " AND ".join(terms) or "true"


def _as_text(value: object) -> str:
    """A number cell as text `parse_times` reads (an integer without '.0')."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def keep_conditions(
    rows: pa.Table,
    conditions: Sequence[Condition],
    name: str,
    layout: str | None,
    read: TimeRead,
    late: datetime,
    counted: pa.Array | None = None,
) -> pa.Table:
    """`rows` kept by every time condition, compared on instants in UTC as the window is:
    a cell read with its offset (text), typed, a compact time or an epoch number by
    magnitude. A cell that is empty or unreadable, or reads more than a day after the run
    outside the condition, cannot be placed outside it: its row is kept and counted into
    `read` (unless `counted` marks it counted already by the window)."""
    if not conditions or not rows.num_rows:
        return rows
    keep = np.ones(rows.num_rows, dtype=bool)
    odd = np.zeros(rows.num_rows, dtype=bool)
    empty: set[int] = set()
    unreadable: set[int] = set()
    lated: set[int] = set()
    for cond in conditions:
        window, outside = condition_window(cond)
        values = rows.column(cond.column).to_pylist()
        texts = [_as_text(v) for v in values if v is not None and not isinstance(v, date)]
        parsed = parse_times(texts, f"{name}.{cond.column}", layout)
        for i, value in enumerate(values):
            moment: datetime | None
            if value is None:
                empty.add(i)
                odd[i] = True
                continue
            day = isinstance(value, date) and not isinstance(value, datetime)
            if isinstance(value, date):  # a typed cell (a datetime is a date too)
                moment = _naive(value)
                # a zoneless typed time (Parquet timestamp[ns]) is read as UTC: said
                read.naive = read.naive or (isinstance(value, datetime) and value.tzinfo is None)
            else:
                moment, naive = parsed[_as_text(value).strip()]
                read.naive = read.naive or (moment is not None and naive)
                day = moment is not None and _date_only(_as_text(value), moment)
            if moment is None:
                (unreadable if _as_text(value).strip() else empty).add(i)
                odd[i] = True
                continue
            if _day_placed(moment, window, outside) if day else _inside(moment, window) != outside:
                continue
            if moment > late:
                lated.add(i)
                odd[i] = True
                continue
            keep[i] = False
    fresh = np.ones(rows.num_rows, dtype=bool)
    if counted is not None:
        fresh = ~np.asarray(counted.to_numpy(zero_copy_only=False), dtype=bool)
    kept_odd = keep & odd & fresh
    late_rows = {i for i in lated if kept_odd[i]}
    empty_rows = {i for i in empty if kept_odd[i]} - late_rows
    read.late += len(late_rows)
    read.empty += len(empty_rows)
    read.unreadable += int(kept_odd.sum()) - len(late_rows) - len(empty_rows)
    return rows.filter(pa.array(keep, type=pa.bool_()))


class _Placer:
    """Reads one table's time column and says which of its rows lie in the window."""

    def __init__(
        self, engine: Engine, catalog: Catalog, table: str, column: str, also: Sequence[str] = ()
    ) -> None:
        """`also`: other columns of `table` its relation holds as text too (time conditions)."""
        self.engine, self.catalog, self.table, self.column = engine, catalog, table, column
        spec = catalog.tables[table]
        self.relation = quote_identifier(table)
        self.layout = spec.csv.timestamp_format if spec.csv else None
        self.dated = False  # a typed DATE column: each cell names its whole day
        if spec.format is not FileFormat.PARQUET:  # the typed view drops offsets: read text
            self.relation = raw_relation(engine, catalog, table, [column, *also])
            self.kind = "text"
        else:
            arrow = (
                engine.query(f"SELECT {quote_identifier(column)} FROM {self.relation} LIMIT 0")
                .schema.field(0)
                .type
            )
            self.dated = pa.types.is_date(arrow)
            self.kind = (
                "number"
                if _numeric(arrow)
                else "typed"
                if pa.types.is_timestamp(arrow) or pa.types.is_date(arrow)
                else "text"
            )

    def sql(self, window: Window, params: list[object], late: datetime) -> str:
        """A first, wide cut in SQL (kept: rows in the window, rows whose time is empty,
        times read after `late`, compact-time candidates).

        Two computations of the window, on purpose: a Parquet date or timestamp column, or
        an epoch number, holds its instants typed, so SQL places its rows exactly (in the
        engine, no row read into Python); a text column's offsets the engine drops, so
        SQL only cuts wide (`_SLACK`) and `keep` compares the instants `parse_times` reads.
        """
        col = quote_identifier(self.column)
        cast = f"TRY_CAST({col} AS TIMESTAMP)"
        if self.kind == "typed":
            day = _day_window(window) if self.dated else window
            terms = _window_sql(self.column, day, params)
            params.append(late.isoformat(sep=" "))
            return (
                f"(({' AND '.join(terms) or 'true'}) OR {col} IS NULL"
                f" OR {cast} > CAST(? AS TIMESTAMP))"
            )
        if self.kind == "number":
            exact = _epoch_sql(self.column, window, params)  # its parameters come first
            number = f"CAST({col} AS DOUBLE)"
            odd = [f"{number} < 0"]
            for low, high in _COMPACT_RANGES:
                odd.append(f"({number} >= ? AND {number} < ?)")
                params.extend([low, high])
            low = 0.0
            seconds = (late - datetime(1970, 1, 1)).total_seconds()
            for high, scale in _EPOCH_UNITS:
                odd.append(f"({number} >= ? AND {number} < ? AND {number} > ?)")
                params.extend([low, high, seconds * scale])
                low = high
            return f"({exact} OR {col} IS NULL OR {' OR '.join(odd)})"
        # text: whatever the engine cannot read as a timestamp, and clock times near it
        wide = _day_window(window)  # a date alone reads as its midnight
        wide = Window(_shift(wide.start, -_SLACK), _shift(wide.end, _SLACK))
        terms = _window_sql(self.column, wide, params)
        params.append((_shift(late, -_SLACK) or late).isoformat(sep=" "))
        return (
            f"({cast} IS NULL OR ({' AND '.join(terms) or 'true'})"
            f" OR {cast} > CAST(? AS TIMESTAMP))"
        )

    def keep(
        self,
        values: pa.Array | pa.ChunkedArray,
        window: Window,
        read: TimeRead,
        late: datetime,
    ) -> tuple[pa.Array, pa.Array]:
        """The mask of rows kept (in the window, or undetermined: counted into `read`) and
        the mask of the undetermined ones."""
        nulls = values.is_null()
        if isinstance(nulls, pa.ChunkedArray):
            nulls = nulls.combine_chunks()
        read.empty += int(pc.sum(nulls).as_py() or 0)
        if self.kind == "typed":
            return self._keep_typed(values, window, read, late, nulls)
        if self.kind == "number":
            return self._keep_number(values, window, read, late, nulls)
        texts = list(values.to_pylist())
        parsed = parse_times(
            (str(t) for t in texts if t is not None), f"{self.table}.{self.column}", self.layout
        )
        mask, odd = [], []
        for text in texts:
            if text is None:
                mask.append(True)
                odd.append(True)
                continue
            moment, naive = parsed[str(text).strip()]
            if moment is None:
                if str(text).strip():
                    read.unreadable += 1
                else:
                    read.empty += 1
                mask.append(True)
                odd.append(True)
                continue
            read.naive = read.naive or naive
            inside = _inside(
                moment, _day_window(window) if _date_only(str(text), moment) else window
            )
            if not inside and moment > late:
                read.late += 1
            mask.append(inside or moment > late)
            odd.append(not inside and moment > late)
        return pa.array(mask, type=pa.bool_()), pa.array(odd, type=pa.bool_())

    def _keep_typed(
        self,
        values: pa.Array | pa.ChunkedArray,
        window: Window,
        read: TimeRead,
        late: datetime,
        nulls: pa.Array,
    ) -> tuple[pa.Array, pa.Array]:
        """A typed column: SQL placed it exactly; the rows after `late` are counted. A
        timestamp with no zone (Parquet's `timestamp[ns]`, not `timestamp[ns, tz=...]`) is
        read as UTC, said as for text times without a zone (`read.naive`)."""
        kind = values.type
        if pa.types.is_timestamp(kind) and kind.tz is None:
            read.naive = read.naive or len(values) > int(pc.sum(nulls).as_py() or 0)
        if pa.types.is_timestamp(kind):
            bound = pa.scalar(late.replace(tzinfo=UTC) if kind.tz else late, type=kind)
        else:
            bound = pa.scalar(late.date(), type=kind)
        after = pc.fill_null(pc.greater(values, bound), False)
        if isinstance(after, pa.ChunkedArray):
            after = after.combine_chunks()
        odd = np.asarray(nulls.to_numpy(zero_copy_only=False), dtype=bool).copy()
        for index in np.flatnonzero(after.to_numpy(zero_copy_only=False)):
            if not _inside(
                _naive(values[int(index)].as_py()), _day_window(window) if self.dated else window
            ):
                read.late += 1
                odd[index] = True
        return pa.array([True] * len(values), type=pa.bool_()), pa.array(odd, type=pa.bool_())

    def _keep_number(
        self,
        values: pa.Array | pa.ChunkedArray,
        window: Window,
        read: TimeRead,
        late: datetime,
        nulls: pa.Array,
    ) -> tuple[pa.Array, pa.Array]:
        """An epoch number column: SQL placed most rows exactly; compact times, negative
        numbers and epochs after `late` are read here."""
        numbers = pc.cast(values, pa.float64()).to_numpy(zero_copy_only=False)
        keep = np.ones(len(numbers), dtype=bool)
        odd = np.asarray(nulls.to_numpy(zero_copy_only=False), dtype=bool).copy()
        seconds = (late - datetime(1970, 1, 1)).total_seconds()
        suspect = numbers < 0
        for low, high in _COMPACT_RANGES:
            suspect |= (numbers >= low) & (numbers < high)
        low = 0.0
        for high, scale in _EPOCH_UNITS:
            suspect |= (numbers >= low) & (numbers < high) & (numbers > seconds * scale)
            low = high
        for index in np.flatnonzero(suspect):
            number = float(numbers[index])
            moment = _compact(str(int(number))) if number.is_integer() else None
            if moment is not None:
                read.naive = True
            elif number < 0:
                read.unreadable += 1
                odd[index] = True
                continue
            else:
                try:
                    moment = _epoch(number)
                except OverflowError:
                    read.unreadable += 1
                    odd[index] = True
                    continue
            inside = _inside(moment, window)
            if not inside and moment > late:
                read.late += 1
                odd[index] = True
            keep[index] = inside or moment > late
        return pa.array(keep, type=pa.bool_()), pa.array(odd, type=pa.bool_())


def _inside(moment: datetime, window: Window) -> bool:
    return (window.start is None or moment >= window.start) and (
        window.end is None or moment < window.end
    )


def _day_window(window: Window) -> Window:
    """The window a date alone (its midnight) is compared with: its start taken back to its
    day's midnight, so that a date whose day overlaps the window, its first day included,
    is in it (a date names its whole day: the window's last day is in it already)."""
    if window.start is None:
        return window
    return Window(datetime.combine(window.start.date(), datetime.min.time()), window.end)


def _day_placed(day: datetime, window: Window, outside: bool) -> bool:
    """Whether a date alone (`day`, its midnight) is kept by a window (`outside`: by the
    instants outside it): kept when its day overlaps the instants kept, since the day
    cannot be placed outside them."""
    if not outside:
        return _inside(day, _day_window(window))
    whole = _inside(day, window) and (
        window.end is None or (_shift(day, timedelta(days=1)) or datetime.max) <= window.end
    )
    return not whole


_DATE_ONLY = re.compile(r"[^:]*")


def _date_only(text: str, moment: datetime) -> bool:
    """Whether a text cell read as `moment` names a day, not an instant (no clock in it, and
    not a compact time or epoch longer than yyyymmdd)."""
    bare = text.strip()
    return (
        moment.time() == datetime.min.time()
        and _DATE_ONLY.fullmatch(bare) is not None
        and not (bare.isdigit() and len(bare) != 8)
    )


def _naive(value: object) -> datetime:
    """A typed column's value as a naive UTC datetime (a date: its midnight)."""
    if isinstance(value, datetime):
        return _utc(value)[0]
    return datetime.combine(value, datetime.min.time())  # type: ignore[arg-type]


def _shift(moment: datetime | None, delta: timedelta) -> datetime | None:
    """`moment + delta`, None (open) past the calendar's ends (--to 9999-12-31)."""
    if moment is None:
        return None
    try:
        return moment + delta
    except OverflowError:
        return None


def _late() -> datetime:
    """Times read after this are no record time: a day after this run (the export was
    written before it, and `--discovered` is no later than now)."""
    return datetime.now(UTC).replace(tzinfo=None) + _LATE


def rows_in_scope(
    engine: Engine, catalog: Catalog, name: str, spec: ScopeSpec
) -> tuple[pa.Table, TimeRead | None, tuple[str, ...]]:
    """The rows of `name` in scope, how their times were read (the window's column and the
    time conditions': None where neither applies), and the columns the returned rows hold
    as text where the engine's rows hold them typed (a CSV or JSON file's time columns)."""
    table = catalog.tables[name]
    check_numbers(engine, catalog, name, spec)
    params: list[object] = []
    texted = text_times(engine, catalog, name, spec)
    where = plain_where(catalog, name, spec, params, texted)
    timed = [*time_conditions(catalog, name, spec), *texted]
    timed_columns = sorted({c.column for c in timed})
    layout = table.csv.timestamp_format if table.csv else None
    late = _late()
    placed = time_column(catalog, name) if not spec.window.open else None
    text = tuple(timed_columns) if table.format is not FileFormat.PARQUET else ()
    if placed is None:
        relation = raw_relation(engine, catalog, name, timed_columns)
        rows = engine.query(f"SELECT * FROM {relation} WHERE {where}", params)
        if not timed:
            return rows, None, ()
        read = TimeRead(", ".join(f"{name}.{c}" for c in timed_columns))
        rows = keep_conditions(rows, timed, name, layout, read, late)
        _note(read, condition=True)
        return rows, read, text
    top, column = placed
    read = TimeRead(f"{top}.{column}")
    _say_column(read, catalog, name, spec)
    if top == name:
        placer = _Placer(engine, catalog, top, column, also=timed_columns)
        cut: list[object] = []
        sql = (
            f"SELECT * FROM {placer.relation} WHERE {where}"
            f" AND {placer.sql(spec.window, cut, late)}"
        )
        rows = engine.query(sql, params + cut)
        mask, odd = placer.keep(rows.column(column), spec.window, read, late)
        _note(read)
        rows, odd = rows.filter(mask), odd.filter(mask)
        rows = _conditions(rows, timed, name, layout, read, late, odd)
        return rows, read, (*((column,) if placer.kind == "text" else ()), *text)
    # the window is on an ancestor: its rows' keys in the window (and undetermined), then
    # the rows below whose parent chain reaches one of them. Such a table has no date or
    # timestamp column of its own (it would be its window's), so no typed time condition;
    # one on a text column of times it does not place (its rows are read typed)
    if texted:
        cond = texted[0]
        raise UsageError(
            "--where",
            f"{cond.describe()} compares a time with {name}.{cond.column}, a text column of"
            f" times, while the window places {name}'s rows through {top}.{column}: its"
            " cells cannot be compared as instants there, and text would miss rows",
            f"scope {name} without --from/--to, or declare {cond.column}: {{type: timestamp}}"
            " in the catalog",
        )
    assert not timed
    placer = _Placer(engine, catalog, top, column)
    chain = table_chain(catalog, name)
    level = chain.index(top)
    below = catalog.tables[chain[level - 1]].owned_through
    assert below is not None  # every table below the top of the chain is owned
    cut = []
    key = f"CAST({quote_identifier(below.parent_column)} AS VARCHAR)"
    parents = engine.query(
        f"SELECT {key} AS __key, {quote_identifier(column)} FROM {placer.relation}"
        f" WHERE {placer.sql(spec.window, cut, late)}",
        cut,
    )
    counted = TimeRead(read.column)
    mask, odd = placer.keep(parents.column(column), spec.window, counted, late)
    kept = parents.filter(mask)
    keys = sorted({str(k) for k in kept.column("__key").to_pylist() if k is not None})
    undetermined = sorted(
        {str(k) for k in parents.filter(odd).column("__key").to_pylist() if k is not None}
    )
    rows = _chain_rows(engine, catalog, chain, level, keys, where, params)
    if undetermined:
        below_rows = _chain_rows(engine, catalog, chain, level, undetermined, where, params)
        read.unreadable = below_rows.num_rows  # placed by a parent whose time is undetermined
    read.naive = counted.naive
    _note(read, through_parent=True)
    return rows, read, ()


def _conditions(
    rows: pa.Table,
    timed: Sequence[Condition],
    name: str,
    layout: str | None,
    read: TimeRead,
    late: datetime,
    counted: pa.Array | None,
) -> pa.Table:
    """`keep_conditions` on rows the window placed, its counts added to `read` and said in a
    note of their own."""
    if not timed:
        return rows
    own = TimeRead(", ".join(sorted({f"{name}.{c.column}" for c in timed})))
    rows = keep_conditions(rows, timed, name, layout, own, late, counted)
    _note(own, condition=True)
    read.empty += own.empty
    read.unreadable += own.unreadable
    read.late += own.late
    read.naive = read.naive or own.naive
    read.notes += own.notes
    return rows


def _chain_rows(
    engine: Engine,
    catalog: Catalog,
    chain: Sequence[str],
    level: int,
    keys: list[str],
    where: str,
    params: list[object],
) -> pa.Table:
    inner: list[object] = []
    child = catalog.tables[chain[level - 1]]
    own = child.owned_through
    assert own is not None
    sql = (
        f"SELECT * FROM {quote_identifier(chain[level - 1])} WHERE"
        f" {sql_in(f'CAST({quote_identifier(own.column)} AS VARCHAR)', keys, inner)}"
        if keys
        else f"SELECT * FROM {quote_identifier(chain[level - 1])} WHERE false"
    )
    sql = down_the_chain(catalog, chain, level, sql)
    return engine.query(f"SELECT * FROM ({sql}) WHERE {where}", inner + params)


def _note(read: TimeRead, *, through_parent: bool = False, condition: bool = False) -> None:
    if read.undetermined:
        how = " (through their parent row)" if through_parent else ""
        outside = "the --where condition on it" if condition else "the window"
        read.notes.append(
            f"WARNING: {read.undetermined} row(s) in scope{how} have a time in {read.column}"
            f" that is empty ({read.empty}), cannot be read ({read.unreadable}) or reads in the"
            f" future, after this run ({read.late}): they cannot be placed outside"
            f" {outside}, so they are kept in scope (undetermined)"
        )
    if read.naive:
        read.notes.append(
            f"times without a zone in {read.column} are read as UTC (the catalog states no zone)"
        )


def _say_column(read: TimeRead, catalog: Catalog, name: str, spec: ScopeSpec) -> None:
    """Which column `name`'s window is read on and why; a NOTICE where that is a guess."""
    choice = time_choice(catalog, name, spec.time_columns)
    if choice is None:
        return
    read.notes.append(f"the window of {name} is read on {read.column}: {choice.reason}")
    if choice.guessed:
        read.notes.append(
            f"NOTICE: the window's column for {name} is a guess ({read.column}): if the row's"
            f" time is another column, give --time-column {name}.COLUMN or declare the"
            " catalog's retention: {after: COLUMN}"
        )
