"""Who said no, wherever the export records it, and what counts as a stated consent.

The catalog has no field that says "this column is consent"; it says which columns hold
marketing preferences (the `marketing_preferences` data category, of the table or of the
column) and their types. From those, a column is read as a person's answer on advertising:

- a **consent flag**: a boolean whose name speaks of ads or marketing (`ads_personalization`,
  `marketing_consent`, `targeted_ads`): only true is consent, so false (or empty) is a no;
- an **opt-out**: any column whose name records a no (`opted_out_at`, `unsubscribed`,
  `consent_withdrawn_at`, `objected_at`, `restricted`, `do_not_sell`): any value is a no
  (for a boolean, true).

A `newsletter: false` is a no to newsletters, not to ads: it is not read as one.
`said_no_sql` gives the condition; `eligible` leaves out every person the condition holds
for in any row of any table (`said_no_elsewhere`), whatever basis a list or a spec states.

`closed_sql` reads an account table's closure (a `status` of `closed`, a `closed_at`), and
`closed_people` finds everyone one of whose accounts is closed, on every path.

`basis_problem` refuses a legal basis that is not in words (".", "n/a", "consent"), and
`consent_column_problem` a consent column that cannot hold a consent (a `plan` string).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from dsar.catalog.models import Catalog, ColumnType, DataCategory, IdentityKind, Role, Table
from dsar.engine.base import quote_identifier
from dsar.subjects.identity import STRONG
from dsar.subjects.people import KINDS, identity_sql, node_sql

if TYPE_CHECKING:
    import duckdb

    from dsar.engine import Engine

_WORDS = re.compile(r"[^\W\d_]{2,}")  # a word: two letters or more, any script
_ADS = re.compile(r"(^|_)(ads?|advert\w*|personali[sz]\w*|target\w*|audiences?|marketing)($|_)")
_NO = re.compile(
    r"opt_?out|opted_?out|unsubscri|withdr[ae]wn?|object|restrict|do_?not|suppress|revoked"
)
_CONSENT_DATE = re.compile(r"consent|opt_?in|opted_?in|agreed|granted")
PLACEHOLDERS = frozenset(
    {"none", "n/a", "na", "tbd", "todo", "test", "xxx", "consent", "basis", "legal basis",
     "legitimate interests", "legitimate interest", "yes", "ok", "asdf", "foo", "bar"}
)  # fmt: skip
DATES = (ColumnType.DATE, ColumnType.TIMESTAMP)


@dataclass(frozen=True)
class Signal:
    """One column of a table read as a person's answer on advertising."""

    column: str
    kind: Literal["consent", "opt_out"]
    boolean: bool


def _words(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower())


def _preferences(table: Table, column: str) -> bool:
    return table.column_category(column) is DataCategory.MARKETING_PREFERENCES


def signals(table: Table) -> list[Signal]:
    """The table's columns the catalog lets us read as a yes or a no to ads (see the module)."""
    found = []
    for name, col in table.columns.items():
        if not _preferences(table, name):
            continue
        words, boolean = _words(name), col.type is ColumnType.BOOLEAN
        if _NO.search(words):
            found.append(Signal(name, "opt_out", boolean))
        elif boolean and _ADS.search(words):
            found.append(Signal(name, "consent", boolean))
    return found


def said_no_sql(found: list[Signal]) -> str | None:
    """SQL true for a row in which the person said no (None: the table records no answer)."""
    parts = []
    for s in found:
        column = quote_identifier(s.column)
        if s.kind == "consent":
            parts.append(f"coalesce(TRY_CAST({column} AS BOOLEAN), false) IS NOT TRUE")
        elif s.boolean:
            parts.append(f"coalesce(TRY_CAST({column} AS BOOLEAN), false)")
        else:
            parts.append(f"({column} IS NOT NULL AND trim(CAST({column} AS VARCHAR)) <> '')")
    return " OR ".join(parts) or None


def answering_tables(catalog: Catalog) -> dict[str, list[Signal]]:
    """Every controller table that records a yes or a no to ads, with its signals."""
    return {
        name: found
        for name, table in catalog.tables.items()
        if table.personal and table.role is Role.CONTROLLER and (found := signals(table))
    }


def said_no_people(engine: Engine, con: duckdb.DuckDBPyConnection, skip: str | None) -> int:
    """`said_no_people(person)`: everyone who said no in a row of any table that records an
    answer (`answering_tables`), but `skip` (the spec's own table, whose rows the gate reads
    itself). A row's person is found through its strong identifiers, or its phone where it
    has none; `resolve_people` must have run. Returns the rows read that said no."""
    con.execute("CREATE OR REPLACE TEMP TABLE said_no_nodes (node VARCHAR)")
    rows_read = 0
    for name, found in answering_tables(engine.catalog).items():
        table = engine.catalog.tables[name]
        ids = {c: k for c, k in table.identity_columns().items() if k in KINDS}
        condition = said_no_sql(found)
        if name == skip or not ids or condition is None:
            continue
        rows_read += _insert_nodes(engine, con, "said_no_nodes", name, ids, condition)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE said_no_people AS SELECT DISTINCT person FROM"
        " people_nodes JOIN said_no_nodes USING (node)"
    )
    return rows_read


def _insert_nodes(
    engine: Engine,
    con: duckdb.DuckDBPyConnection,
    into: str,
    name: str,
    ids: dict[str, IdentityKind],
    condition: str,
) -> int:
    """Insert into `into` the identity nodes of table `name`'s rows where `condition` holds:
    each identifier of `ids`, a weak one (a phone, or an identifier several people share,
    `people_shared`: a team inbox) only in a row with no other. Returns the distinct rows
    read."""
    picks = ", ".join(
        f"{identity_sql(k, quote_identifier(c))} AS i{j}" for j, (c, k) in enumerate(ids.items())
    )
    rows = engine.query(f"SELECT DISTINCT {picks} FROM {quote_identifier(name)} WHERE {condition}")
    con.register("node_rows", rows)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE node_numbered AS SELECT row_number() OVER () AS r, *"
        " FROM node_rows"
    )
    con.unregister("node_rows")
    con.execute("CREATE OR REPLACE TEMP TABLE node_found (r BIGINT, node VARCHAR, strong BOOLEAN)")
    for j, k in enumerate(ids.values()):
        con.execute(
            f"INSERT INTO node_found SELECT r, {node_sql(k, f'i{j}')}, {k in STRONG} FROM"
            f" node_numbered WHERE i{j} IS NOT NULL"
        )
    con.execute("DROP TABLE node_numbered")
    con.execute(
        "UPDATE node_found SET strong = false WHERE node IN (SELECT node FROM people_shared)"
    )
    con.execute(
        f"INSERT INTO {into} SELECT node FROM node_found f WHERE f.strong OR NOT EXISTS"
        " (SELECT 1 FROM node_found s WHERE s.r = f.r AND s.strong)"
    )
    con.execute("DROP TABLE node_found")
    return int(rows.num_rows)


CLOSED_STATUS = ("status", "account_status")  # an account table's status column ...
CLOSED_VALUES = ("closed",)  # ... and the values that say the account is closed
CLOSED_AT = ("closed_at",)  # any value: the account is closed


def closed_sql(table: Table) -> str | None:
    """SQL true for a row of an account table (the catalog's `account` category) whose
    account is closed: its `status` says closed, or its `closed_at` holds a date (None:
    the table records no closure)."""
    if table.category is not DataCategory.ACCOUNT:
        return None
    values = ", ".join(f"'{v}'" for v in CLOSED_VALUES)
    parts = [
        f"lower(trim(CAST({quote_identifier(c)} AS VARCHAR))) IN ({values})"
        for c in table.columns
        if c.lower() in CLOSED_STATUS
    ] + [f"{quote_identifier(c)} IS NOT NULL" for c in table.columns if c.lower() in CLOSED_AT]
    return " OR ".join(f"({p})" for p in parts) or None


def closed_people(engine: Engine, con: duckdb.DuckDBPyConnection) -> int:
    """`closed_people(person)`: everyone one of whose accounts is closed, in any controller
    account table (`closed_sql`), found through the row's strong identifiers only (a shared
    phone closes no one else's account); `resolve_people` must have run. Returns the rows
    read."""
    con.execute("CREATE OR REPLACE TEMP TABLE closed_nodes (node VARCHAR)")
    rows_read = 0
    for name, table in engine.catalog.tables.items():
        condition = closed_sql(table)
        ids = {c: k for c, k in table.identity_columns().items() if k in STRONG}
        if table.role is not Role.CONTROLLER or not table.personal or not ids or not condition:
            continue
        rows_read += _insert_nodes(engine, con, "closed_nodes", name, ids, condition)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE closed_people AS SELECT DISTINCT person FROM"
        " people_nodes JOIN closed_nodes USING (node)"
    )
    return rows_read


def basis_problem(text: str | None) -> str | None:
    """Why a legal basis is not one stated in words (None: it is)."""
    basis = (text or "").strip()
    words = _WORDS.findall(basis)
    if not basis:
        return "no legal basis is given"
    if len(words) < 2 or sum(map(len, words)) < 10:
        return f"the legal basis given ({len(basis)} characters) is not in words"
    if " ".join(w.lower() for w in words) in PLACEHOLDERS:
        return "the legal basis given is a placeholder, not the basis and why it applies"
    return None


def consent_column_problem(table: Table, column: str, opted_out: str | None) -> str | None:
    """Why `column` cannot hold consent to ads (None: it can): a boolean (only true is
    consent), or a date or timestamp the catalog files under marketing preferences whose
    name says consent (`consented_at`, `ads_opt_in_at`), never one that records a no."""
    col = table.columns.get(column)
    if col is None:
        return None  # named as missing elsewhere
    words = _words(column)
    if column == opted_out or _NO.search(words):
        return f"{column!r} records a no (an opt-out), not a consent"
    if col.type is ColumnType.BOOLEAN:
        return None
    if col.type in DATES and _preferences(table, column) and _CONSENT_DATE.search(words):
        return None
    if col.type is None:
        return (
            f"{column!r} has no declared type: a consent column is a boolean (only true is"
            " consent) or a consent date"
        )
    return (
        f"{column!r} is a {col.type.value}, not a consent: a consent column is a boolean (only"
        " true is consent), or a date or timestamp of marketing preferences named for consent"
    )
