"""Read each found table through the engine: its columns and types, counts, and a sample.

The tables are registered in the engine under a provisional catalog (reference tables with
no type declared), so the columns, types and CSV dialect are exactly those the engine reads
once the drafted catalog is in use. Counts come from one aggregate scan per table; the values
that are classified come from a bounded reservoir sample of `sample` rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from dsar.catalog.models import Catalog, ColumnType, FileFormat, Table
from dsar.draft.scan import FoundTable
from dsar.engine.base import Engine, quote_identifier, sql_string

_INTEGER = ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64")


@dataclass(frozen=True)
class ColumnProfile:
    """One column: its type as the engine reads it, and counts over every row."""

    name: str
    arrow_type: str
    non_null: int
    distinct: int  # approximate over every row (exact where a key is decided)
    low: int | None = None  # integers: the smallest and largest value
    high: int | None = None

    @property
    def kind(self) -> ColumnType | None:
        """The catalog's logical type, None for nested values (lists, structs)."""
        return logical_type(self.arrow_type)

    @property
    def keyish(self) -> bool:
        """Whether values of this type can be a key (text or whole numbers)."""
        return self.kind in (ColumnType.STRING, ColumnType.INTEGER)


@dataclass(frozen=True)
class TableProfile:
    """One table: rows, columns in file order, and a sample of rows as Arrow."""

    found: FoundTable
    rows: int
    columns: dict[str, ColumnProfile]
    sample: pa.Table

    @property
    def name(self) -> str:
        return self.found.name

    def values(self, column: str) -> list[object]:
        """The sampled non-null values of a column."""
        return [v for v in self.sample.column(column).to_pylist() if v is not None]


def logical_type(arrow_type: str) -> ColumnType | None:
    """The catalog type of an Arrow type name as the engine reports it."""
    if arrow_type in _INTEGER:
        return ColumnType.INTEGER
    if arrow_type in ("string", "large_string"):
        return ColumnType.STRING
    if arrow_type in ("double", "float", "halffloat"):
        return ColumnType.FLOAT
    if arrow_type == "bool":
        return ColumnType.BOOLEAN
    if arrow_type.startswith("date"):
        return ColumnType.DATE
    if arrow_type.startswith("timestamp"):
        return ColumnType.TIMESTAMP
    if arrow_type.startswith("decimal"):
        return ColumnType.DECIMAL
    return None


def provisional_catalog(root: Path, found: Sequence[FoundTable], engine: Engine) -> Catalog:
    """A catalog that only says how to read each table (every table reference data, no type
    declared), so that the engine reads the files as it will under the drafted catalog."""
    tables = {
        f.name: Table.model_validate(
            {
                "path": f.path,
                "format": f.format,
                **({"csv": f.csv} if f.csv else {}),
                "description": "provisional",
                "personal": False,
                "columns": {c: {} for c in _column_names(f, engine)},
            }
        )
        for f in found
    }
    provisional = Catalog.model_validate(
        {
            "version": 1,
            "controller": {"name": "draft", "contact": "draft", "supervisory_authority": "draft"},
            "tables": tables,
        }
    )
    return provisional.located_in(root)


def _column_names(found: FoundTable, engine: Engine) -> list[str]:
    """The columns the files have, in file order (for JSON, every record's keys)."""
    listed = "[" + ", ".join(sql_string(str(f)) for f in found.files) + "]"
    if found.format is FileFormat.PARQUET:
        reader = f"read_parquet({listed}, union_by_name=true)"
    elif found.format is FileFormat.CSV:
        opts = "".join(
            f", {key}={sql_string(str(found.csv[name]))}"
            for name, key in (("delimiter", "delim"), ("quote", "quote"), ("encoding", "encoding"))
            if name in found.csv
        )
        header = "false" if found.csv.get("header") is False else "true"
        reader = f"read_csv({listed}, header={header}{opts})"
    else:
        fmt = "array" if found.format is FileFormat.JSON else "newline_delimited"
        reader = f"read_json({listed}, format={sql_string(fmt)})"
    names = [str(n) for n in engine.query(f"DESCRIBE SELECT * FROM {reader}")["column_name"]]
    if found.format in (FileFormat.JSON, FileFormat.JSONL):
        fmt = "array" if found.format is FileFormat.JSON else "newline_delimited"
        keys = engine.query(
            "SELECT DISTINCT unnest(json_keys(json)) AS k FROM"
            f" read_json_objects({listed}, format={sql_string(fmt)}) ORDER BY k"
        )["k"].to_pylist()
        names += [str(k) for k in keys if k not in names]
    return names


def profile_table(engine: Engine, found: FoundTable, sample: int) -> TableProfile:
    """Counts over every row of a registered table, and a sample of up to `sample` rows."""
    types = engine.columns(found.name)
    relation = quote_identifier(found.name)
    parts = ["count(*) AS n"]
    for i, (col, kind) in enumerate(types.items()):
        q = quote_identifier(col)
        parts.append(f"count({q}) AS c{i}")
        nested = logical_type(kind) is None
        parts.append(f"0 AS d{i}" if nested else f"approx_count_distinct({q}) AS d{i}")
        if kind in _INTEGER:
            parts += [f"min({q}) AS lo{i}", f"max({q}) AS hi{i}"]
    row = engine.query(f"SELECT {', '.join(parts)} FROM {relation}").to_pylist()[0]
    columns = {
        col: ColumnProfile(
            col,
            kind,
            int(row[f"c{i}"]),
            int(row[f"d{i}"]),
            row.get(f"lo{i}"),
            row.get(f"hi{i}"),
        )
        for i, (col, kind) in enumerate(types.items())
    }
    rows = int(row["n"])
    taken = engine.query(
        f"SELECT * FROM {relation} USING SAMPLE reservoir({int(sample)} ROWS) REPEATABLE (7)"
        if rows > sample
        else f"SELECT * FROM {relation}"
    )
    return TableProfile(found, rows, columns, taken)


def exact_unique(engine: Engine, table: TableProfile, candidates: Sequence[str]) -> set[str]:
    """Of `candidates`, the columns whose values are all present and all different."""
    if not candidates or table.rows == 0:
        return set()
    parts = [f"count(DISTINCT {quote_identifier(c)}) AS u{i}" for i, c in enumerate(candidates)]
    row = engine.query(
        f"SELECT {', '.join(parts)} FROM {quote_identifier(table.name)}"
    ).to_pylist()[0]
    return {
        c
        for i, c in enumerate(candidates)
        if row[f"u{i}"] == table.rows and table.columns[c].non_null == table.rows
    }


def values_within(
    engine: Engine, child: str, column: str, parent: str, key: str
) -> tuple[int, int]:
    """How many distinct values `child.column` has, and how many of them `parent.key` holds."""
    c, k = quote_identifier(column), quote_identifier(key)
    row = engine.query(
        f"SELECT count(*) AS n, count(p.v) AS found FROM (SELECT DISTINCT {c} AS v FROM"
        f" {quote_identifier(child)} WHERE {c} IS NOT NULL) AS d LEFT JOIN (SELECT DISTINCT"
        f" {k} AS v FROM {quote_identifier(parent)}) AS p ON d.v = p.v"
    ).to_pylist()[0]
    return int(row["n"]), int(row["found"])


def share_found(engine: Engine, values: Sequence[str], table: str, column: str) -> int:
    """How many of `values` (bound as parameters, compared trimmed and case-folded) are
    among `table.column`'s values."""
    if not values:
        return 0
    q = quote_identifier(column)
    row = engine.query(
        f"SELECT count(DISTINCT lower(trim(CAST({q} AS VARCHAR)))) AS n FROM"
        f" {quote_identifier(table)} WHERE lower(trim(CAST({q} AS VARCHAR))) IN"
        " (SELECT unnest(CAST(? AS VARCHAR[])))",
        [sorted({v.strip().lower() for v in values})],
    ).to_pylist()[0]
    return int(row["n"])
