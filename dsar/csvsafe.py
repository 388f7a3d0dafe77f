"""CSV cells a spreadsheet would run as a formula: one rule for every CSV that leaves.

Every CSV that leaves the company (a bundle's portability files, an extract, an aggregate, an
audience) is written through here (`defuse_formulas` for Arrow tables, `copy_csv` for
DuckDB queries), and the reviewer (`dsar verify`) checks the files with the same
rule. A text cell is a formula when

- it starts with a tab, a carriage return or a line feed (OWASP, plus the line feed), or
- its first character after any leading whitespace, format (zero-width, direction, soft
  hyphen, tag) or blank-looking characters (`LEADING`) is `=`, `+`,
  `-` or `@` (OWASP), or a form of one that a spreadsheet may read as it: the fullwidth,
  small, superscript and subscript forms (every character whose NFKC form is one of the four,
  e.g. the fullwidth U+FF1D, U+FF0B, U+FF0D, U+FF20), and the minus sign U+2212 with
  its super- and subscript forms.

Such a cell is written with a `'` in front (a spreadsheet shows it as text and runs nothing).
Numbers are not text: a `-5` in a numeric column is written as it is, while a text cell `-5`
gets the quote. The rule is one regular expression, `FORMULA_PATTERN`, that Python's `re` and
RE2 (Arrow, DuckDB) read alike; no engine writes a leaving CSV itself (the Spark engine's rows
reach these writers as Arrow tables or through a local DuckDB connection), so Spark runs
produce the same cells.
"""

from __future__ import annotations

import re
import sys
import unicodedata
from collections.abc import Collection
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc

from dsar.engine.base import quote_identifier, sql_string

if TYPE_CHECKING:
    import duckdb

# What may stand before the sign, unseen: every character Python calls whitespace (the
# Unicode White_Space set, with the ASCII separators 0x1C-0x1F), every format character
# (category Cf: zero-width, direction marks and isolates, the soft hyphen, tags), and the
# characters that show as nothing or a blank (the combining grapheme joiner, variation
# selectors, Hangul fillers, the braille blank). Built as ranges of literal characters, not
# escapes, so that every regex dialect reads the same class.
BLANKS = (
    "\u034f\u115f\u1160\u17b4\u17b5\u180b\u180c\u180d\u180f\u2800\u3164\uffa0"
    + "".join(map(chr, range(0xFE00, 0xFE10)))
    + "".join(map(chr, range(0xE0100, 0xE01F0)))
)


# `_unseen()`'s answer for Unicode 14.0 (Python 3.11) as code point ranges: computing it scans
# every code point, which took 0.6-2 s at every start of the `dsar` command
UNSEEN_UNICODE_14 = (
    (0x9, 0xD), (0x1C, 0x20), (0x85, 0x85), (0xA0, 0xA0), (0xAD, 0xAD), (0x34F, 0x34F),
    (0x600, 0x605), (0x61C, 0x61C), (0x6DD, 0x6DD), (0x70F, 0x70F), (0x890, 0x891),
    (0x8E2, 0x8E2), (0x115F, 0x1160), (0x1680, 0x1680), (0x17B4, 0x17B5), (0x180B, 0x180F),
    (0x2000, 0x200F), (0x2028, 0x202F), (0x205F, 0x2064), (0x2066, 0x206F), (0x2800, 0x2800),
    (0x3000, 0x3000), (0x3164, 0x3164), (0xFE00, 0xFE0F), (0xFEFF, 0xFEFF), (0xFFA0, 0xFFA0),
    (0xFFF9, 0xFFFB), (0x110BD, 0x110BD), (0x110CD, 0x110CD), (0x13430, 0x13438),
    (0x1BCA0, 0x1BCA3), (0x1D173, 0x1D17A), (0xE0001, 0xE0001), (0xE0020, 0xE007F),
    (0xE0100, 0xE01EF),
)  # fmt: skip


def _class_body(ranges: Collection[tuple[int, int]]) -> str:
    return "".join(chr(a) if a == b else f"{chr(a)}-{chr(b)}" for a, b in ranges)


def _unseen() -> str:
    """The class body of every character that may stand unseen before a sign."""
    if unicodedata.unidata_version == "14.0.0":
        return _class_body(UNSEEN_UNICODE_14)
    return _class_body(unseen_ranges())


def unseen_ranges() -> list[tuple[int, int]]:
    """Every character that may stand unseen before a sign, as ranges, computed from the
    running Python's Unicode database (a scan of every code point: about a second)."""
    codes = [
        c
        for c in range(1, sys.maxunicode + 1)
        if not 0xD800 <= c <= 0xDFFF
        and (chr(c).isspace() or unicodedata.category(chr(c)) == "Cf" or chr(c) in BLANKS)
    ]
    ranges: list[tuple[int, int]] = []
    start = prev = codes[0]
    for code in [*codes[1:], -1]:
        if code == prev + 1:
            prev = code
            continue
        ranges.append((start, prev))
        start = prev = code
    return ranges


LEADING = _unseen()
# = + @ and - with their compatibility forms (NFKC), and the minus sign; '-' last: a literal
SIGNS = (
    "=\u207c\u208c\ufe66\uff1d"
    "+\u207a\u208a\ufb29\ufe62\uff0b"
    "@\ufe6b\uff20"
    "\u2212\u207b\u208b"
    "\ufe63\uff0d-"
)
FORMULA_PATTERN = f"^(?:[\t\r\n]|[{LEADING}]*[{SIGNS}])"
_FORMULA = re.compile(FORMULA_PATTERN)
# How a number column is written (DuckDB and Arrow): not text, never a formula
_NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
QUOTE = "'"


def is_formula(text: str) -> bool:
    """True when a spreadsheet may run the text cell `text` as a formula.

    Examples:
        >>> is_formula("=1+1"), is_formula(" =1+1"), is_formula("\\uff1dcmd"), is_formula("a=1")
        (True, True, True, False)
    """
    return _FORMULA.match(text) is not None


def defuse(text: str) -> str:
    """`text` as a CSV cell that a spreadsheet shows and does not run.

    Examples:
        >>> defuse("@SUM(1+1)"), defuse("Ann")
        ("'@SUM(1+1)", 'Ann')
    """
    return QUOTE + text if is_formula(text) else text


def unsafe_csv_cell(cell: str) -> bool:
    """For a cell read back from a CSV file: a formula that is not a written number.

    The file no longer says which column held numbers: `-5` (how a number column writes
    minus five) passes, `+5`, `-5+1` and `'`-less text formulas do not.
    """
    return is_formula(cell) and _NUMBER.fullmatch(cell) is None


def defuse_formulas(table: pa.Table) -> pa.Table:
    """Every text cell of `table` that is a formula, prefixed with `'` (the Arrow form).

    Only text columns change (string, large string, dictionary of strings); numbers, dates
    and the other types are written as they are.
    """
    columns = []
    for column in table.columns:
        kind = column.type
        if pa.types.is_dictionary(kind) and _is_text(kind.value_type):
            column = column.cast(kind.value_type)
        if _is_text(column.type):
            risky = pc.match_substring_regex(column, FORMULA_PATTERN)
            column = pc.if_else(risky, pc.binary_join_element_wise(QUOTE, column, ""), column)
        columns.append(column)
    return pa.table(columns, names=table.column_names)


def _is_text(kind: pa.DataType) -> bool:
    return bool(pa.types.is_string(kind) or pa.types.is_large_string(kind))


def defuse_sql(expr: str) -> str:
    """The DuckDB SQL of a VARCHAR expression with the same rule applied (NULL stays NULL)."""
    return (
        f"CASE WHEN regexp_matches({expr}, {sql_string(FORMULA_PATTERN)})"
        f" THEN {sql_string(QUOTE)} || {expr} ELSE {expr} END"
    )


def copy_csv(
    con: duckdb.DuckDBPyConnection,
    sql: str,
    target: Path,
    *,
    header: bool = True,
    order_by: str | None = None,
    digests: Collection[str] = (),
) -> None:
    """`COPY` the rows of the query `sql` to the CSV file `target`, every text cell defused.

    Args:
        con: the DuckDB connection the query runs on.
        sql: a SELECT (no bound parameters).
        target: the CSV file.
        header: write the column names as the first line.
        order_by: a column of `sql` that orders the rows and is not written (the order of
            a subquery is not kept once DuckDB may reorder).
        digests: columns the writer computed itself from a digest (an audience's hashes):
            written as they are, since no one chooses their first character and base64 may
            start with `+`, where a quote would break the match key.
    """
    described = con.execute(f"DESCRIBE SELECT * FROM ({sql}) AS q").fetchall()
    items = []
    for row in described:
        name, kind = str(row[0]), str(row[1])
        if name == order_by:
            continue
        col = f"q.{quote_identifier(name)}"
        if name not in digests and (kind == "VARCHAR" or kind.startswith("ENUM(")):
            col = defuse_sql(f"CAST({col} AS VARCHAR)" if kind != "VARCHAR" else col)
        items.append(f"{col} AS {quote_identifier(name)}")
    order = f" ORDER BY q.{quote_identifier(order_by)}" if order_by else ""
    con.execute(
        f"COPY (SELECT {', '.join(items)} FROM ({sql}) AS q{order})"
        f" TO {sql_string(str(target))} (FORMAT csv, HEADER {'true' if header else 'false'})"
    )
