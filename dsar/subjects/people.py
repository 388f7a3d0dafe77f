"""Who is who across a whole export: every identifier joined into people at once, in SQL.

`collect` follows one requester's identifiers from row to row. An ad audience asks the same
question of everyone at once (is this row's person in the suppression ledger, under any of
their addresses?), so here the closure is computed for the whole export in one go:

- each controller table's strong identifiers (email, user id, customer id, OAuth subject)
  and phones are read once through the engine, normalised as the ledger keeps them
  (`sql_normalize` with the plain rules), distinct rows only;
- two strong identifiers seen in one row belong to one person, to any depth: the people are
  the connected components, found by label propagation in a scratch DuckDB connection
  (each round, a node takes the smallest label of the rows it is in, then jumps to its
  label's label), a few rounds for any real export;
- emails are joined with `+tags` and Gmail dots folded (`PEOPLE_RULES`): a person is never
  split by an alias (`name+news@...` and `name@...` are one person). Folding can join two
  people who differ only by a tag; for the uses here (leaving people out, withdrawing them)
  that errs on the side of the person;
- a phone is weak (a family's, an office's): it never joins people, and belongs to every
  person it was seen with (a row with a phone and no strong identifier: a person of its own);
- processor tables (data held for customers) and reference tables are not read.

The tables left in the connection (`people_nodes`, `people_members`) are what callers join
their own rows with; `node_sql` gives an identifier's node, `forms_sql` the forms under which
a record may have hashed it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dsar.catalog.models import IdentityKind, Role
from dsar.engine.base import Engine, quote_identifier
from dsar.errors import InternalError
from dsar.subjects.identity import STRONG, MatchRules, sql_normalize

if TYPE_CHECKING:
    import duckdb

log = logging.getLogger(__name__)

PEOPLE_RULES = MatchRules(gmail_dots=True, plus_addressing=True)
PLAIN = MatchRules()  # how the ledger and the sent record normalise by default
KINDS = STRONG | {IdentityKind.PHONE}  # what people are joined on (phones: attached only)
MAX_ROUNDS = 200  # label propagation converges in (component diameter) rounds; a safety net
_ROW_BITS = 40  # a row's number: its table's index above this many bits, its own below

# the rules an erasure or a person may have recorded an email under: the ledger and the sent
# record hold keyed hashes only, so each form is hashed and compared
_FORMS = (
    MatchRules(plus_addressing=True),
    MatchRules(gmail_dots=True),
    PEOPLE_RULES,
)


@dataclass(frozen=True)
class ExportPeople:
    """What `resolve_people` found (counts only; the people are in the connection).

    Attributes:
        people: persons (connected components, and persons known by a phone alone).
        identifiers: distinct identifiers, every kind together.
        rounds: label-propagation rounds until no label changed.
    """

    people: int
    identifiers: int
    rounds: int


def node_sql(kind: IdentityKind, value_sql: str) -> str:
    """SQL of an identifier's node: 'kind=value', with an email folded by `PEOPLE_RULES`.

    `value_sql` must already be normalised as the ledger keeps it (`sql_normalize` with the
    plain rules); NULL gives NULL.
    """
    if kind is IdentityKind.EMAIL:
        return f"('email=' || {sql_normalize(kind, value_sql, PEOPLE_RULES)})"
    return f"('{kind.value}=' || {value_sql})"


def forms_sql(kind: IdentityKind, value_sql: str) -> str:
    """SQL of the list of 'kind=value' strings a record may have hashed this identifier as:
    as given (plain rules), and for an email with `+tags`, Gmail dots or both folded (an
    erasure run with those rules records the folded forms). Duplicates are left in."""
    forms = [value_sql]
    if kind is IdentityKind.EMAIL:
        forms += [sql_normalize(kind, value_sql, rules) for rules in _FORMS]
    items = ", ".join(f"'{kind.value}=' || {f}" for f in forms)
    return f"list_filter([{items}], lambda x: x IS NOT NULL)"


def resolve_people(engine: Engine, con: duckdb.DuckDBPyConnection) -> ExportPeople:
    """Join every identifier of the engine's export into people, in the scratch `con`.

    Leaves two tables in `con`:

    - `people_nodes(node, person, only_limited)`: each identifier's node (`node_sql`) and its
      person (the smallest node of its component; a phone has a row per person it was seen
      with); `only_limited`: the identifier appears only in tables bound by Google's Limited
      Use rules (`limited_use: true`).
    - `people_members(person, kind, value)`: every identifier of every person, normalised as
      the ledger keeps it.

    Raises:
        InternalError: the propagation did not settle in `MAX_ROUNDS` rounds.
    """
    catalog = engine.catalog
    con.execute(
        "CREATE OR REPLACE TEMP TABLE people_ids (row BIGINT, kind VARCHAR, value VARCHAR,"
        " node VARCHAR, strong BOOLEAN, limited BOOLEAN)"
    )
    for index, (name, table) in enumerate(catalog.tables.items()):
        columns = {c: k for c, k in table.identity_columns().items() if k in KINDS}
        if table.role is not Role.CONTROLLER or not table.personal or not columns:
            continue
        picks = ", ".join(
            f"{sql_normalize(k, quote_identifier(c), PLAIN)} AS i{j}"
            for j, (c, k) in enumerate(columns.items())
        )
        some = " OR ".join(f"i{j} IS NOT NULL" for j in range(len(columns)))
        rows = engine.query(
            f"SELECT DISTINCT * FROM (SELECT {picks} FROM {quote_identifier(name)}) WHERE {some}"
        )
        con.register("people_read", rows)
        con.execute(
            "CREATE OR REPLACE TEMP TABLE people_rows AS SELECT"
            f" {index << _ROW_BITS} + row_number() OVER () AS row, * FROM people_read"
        )
        con.unregister("people_read")
        for j, kind in enumerate(columns.values()):
            con.execute(
                f"INSERT INTO people_ids SELECT row, '{kind.value}', i{j},"
                f" {node_sql(kind, f'i{j}')} AS node, {kind in STRONG}, {table.limited_use}"
                f" FROM people_rows WHERE node IS NOT NULL"
            )
    rounds = _propagate(con)
    # a phone belongs to the people of the rows it is in; alone in a row, to itself
    con.execute(
        "CREATE OR REPLACE TEMP TABLE people_nodes AS"
        " WITH origin AS (SELECT node, bool_and(limited) AS only_limited FROM people_ids"
        " GROUP BY node),"
        " placed AS (SELECT node, person FROM people_label UNION SELECT DISTINCT w.node,"
        " coalesce(l.person, w.node) FROM people_ids w LEFT JOIN people_ids s ON s.row = w.row"
        " AND s.strong LEFT JOIN people_label l ON l.node = s.node WHERE NOT w.strong)"
        " SELECT placed.*, origin.only_limited FROM placed JOIN origin USING (node)"
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE people_members AS SELECT DISTINCT n.person, i.kind,"
        " i.value FROM people_ids i JOIN people_nodes n USING (node)"
    )
    counted = con.execute(
        "SELECT count(DISTINCT person), count(DISTINCT (kind, value)) FROM people_members"
    ).fetchone()
    people, identifiers = (int(counted[0]), int(counted[1])) if counted else (0, 0)
    con.execute("DROP TABLE IF EXISTS people_rows")
    log.info("%d people, %d identifiers, %d rounds", people, identifiers, rounds)
    return ExportPeople(people, identifiers, rounds)


def _propagate(con: duckdb.DuckDBPyConnection) -> int:
    """`people_label(node, person)` for every strong node: the smallest node of its
    component. Only rows holding two or more strong nodes join anything."""
    con.execute(
        "CREATE OR REPLACE TEMP TABLE people_links AS SELECT row, node FROM (SELECT DISTINCT"
        " row, node FROM people_ids WHERE strong) QUALIFY count(*) OVER (PARTITION BY row) > 1"
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE people_label AS SELECT DISTINCT node, node AS person"
        " FROM people_ids WHERE strong"
    )
    for rounds in range(1, MAX_ROUNDS + 1):
        con.execute(
            "CREATE OR REPLACE TEMP TABLE people_step AS"
            " WITH by_row AS (SELECT k.row, min(l.person) AS person FROM people_links k"
            " JOIN people_label l USING (node) GROUP BY k.row),"
            " by_node AS (SELECT k.node, min(r.person) AS person FROM people_links k"
            " JOIN by_row r USING (row) GROUP BY k.node)"
            " SELECT l.node, least(l.person, coalesce(n.person, l.person)) AS person"
            " FROM people_label l LEFT JOIN by_node n USING (node)"
        )
        # a label is a node of the same component: take its label too (pointer jumping)
        con.execute(
            "CREATE OR REPLACE TEMP TABLE people_next AS SELECT s.node,"
            " least(s.person, coalesce(j.person, s.person)) AS person FROM people_step s"
            " LEFT JOIN people_step j ON j.node = s.person"
        )
        changed = con.execute(
            "SELECT count(*) FROM people_next n JOIN people_label l USING (node)"
            " WHERE n.person <> l.person"
        ).fetchone()
        con.execute("DROP TABLE people_label")
        con.execute("ALTER TABLE people_next RENAME TO people_label")
        if not changed or not changed[0]:
            con.execute("DROP TABLE IF EXISTS people_step")
            con.execute("DROP TABLE IF EXISTS people_links")
            return rounds
    raise InternalError(f"people did not settle in {MAX_ROUNDS} rounds of label propagation")
