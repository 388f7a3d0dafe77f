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
  so is an email one table holds beside two accounts of one kind (a team inbox: two user
  ids with it), which would otherwise make its people one; an identifier several people
  are seen with is listed in `people_shared`;
- processor tables (data held for customers) and reference tables join nobody: they are
  read only when asked (`also_read`), each value on its own, to know where a value is held;
  a table whose rows hold one identifier each (web logs, events) joins nobody either, and is
  read only when asked where values are held, and only for its emails and phones;
- phones are read as `phone_sql` writes them: full-width and Arabic-Indic digits as ASCII,
  an extension (`ext. 12`, `x12`, `#12`) cut off, so the number a platform's phone library
  reads is the number matched here; and compared on their last nine digits
  (`identity.phone_suffix`), not as whole numbers as access compares them: what is decided
  here is who is left out or withdrawn, where a suffix shared by two numbers errs on the
  side of the person, and an objector's national and international writings ('06 12 34 56
  06', '+33 6 12 34 56 06') and a ledger or sent record written under the nine-digit rule
  still meet.

Where a value is held is kept per identifier, for the tables a caller marks (`marked_by`,
`only_marked_by`), so that an audience can refuse values that came from a table it may not
use (Google's Limited Use rules, purpose limitation) whichever list they were copied into.

At 250,000 demo users (1.1 million identifiers) this takes about 10 s of CPU, three rounds.

The tables left in the connection (`people_nodes`, `people_members`) are what callers join
their own rows with; `node_sql` gives an identifier's node, `forms_sql` the forms under which
a record may have hashed it.
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dsar.catalog.models import IdentityKind, Role
from dsar.engine.base import Engine, quote_identifier
from dsar.errors import InternalError
from dsar.subjects.identity import (
    ASCII_DIGITS,
    OTHER_DIGITS,
    PHONE_EXTENSION,
    STRONG,
    MatchRules,
    sql_legacy_forms,
    sql_normalize,
    sql_phone_suffix,
)

if TYPE_CHECKING:
    import duckdb

log = logging.getLogger(__name__)

PEOPLE_RULES = MatchRules(gmail_dots=True, plus_addressing=True)
PLAIN = MatchRules()  # how the ledger and the sent record normalise by default
KINDS = STRONG | {IdentityKind.PHONE}  # what people are joined on (phones: attached only)
LISTED = frozenset({IdentityKind.EMAIL, IdentityKind.PHONE})  # what an audience list holds
MAX_ROUNDS = 200  # label propagation converges in (component diameter) rounds; a safety net
_ROW_BITS = 40  # a row's number: its table's index above this many bits, its own below
_DIGITS, _ASCII_DIGITS = OTHER_DIGITS, ASCII_DIGITS  # as `identity.phone_text` reads them


@dataclass(frozen=True)
class ExportPeople:
    """What `resolve_people` found (counts only; the people are in the connection).

    Attributes:
        people: persons (connected components, and persons known by a phone alone).
        identifiers: distinct identifiers, every kind together.
        rounds: label-propagation rounds until no label changed.
        shared: identifiers the export holds for several people (`people_shared`).
    """

    people: int
    identifiers: int
    rounds: int
    shared: int = 0


def fold_sql(value_sql: str, *, plus: bool = True, dots: bool = True) -> str:
    """SQL folding an email already normalised by the plain rules (one '@', trimmed, lower
    case) as `normalize` would with `plus_addressing` and `gmail_dots`: string functions
    only (no regular expression: several times cheaper over a million addresses). NULL when
    nothing is left before the '@'."""
    local = f"split_part({value_sql}, '@', 1)"
    domain = f"split_part({value_sql}, '@', 2)"
    if plus:  # everything from the first '+' to the '@' goes
        local = f"split_part({local}, '+', 1)"
    if not dots:
        return f"(CASE WHEN {local} <> '' THEN {local} || '@' || {domain} END)"
    gmail = f"{domain} IN ('gmail.com', 'googlemail.com')"
    kept = f"(CASE WHEN {gmail} THEN replace({local}, '.', '') ELSE {local} END)"
    address = f"{kept} || '@' || (CASE WHEN {gmail} THEN 'gmail.com' ELSE {domain} END)"
    return f"(CASE WHEN {kept} <> '' THEN {address} END)"


def node_sql(kind: IdentityKind, value_sql: str) -> str:
    """SQL of an identifier's node: 'kind=value', with an email folded by `PEOPLE_RULES`.

    `value_sql` must already be normalised as the ledger keeps it (`sql_normalize` with the
    plain rules); NULL gives NULL.
    """
    if kind is IdentityKind.EMAIL:
        return f"('email=' || {fold_sql(value_sql)})"
    return f"('{kind.value}=' || {value_sql})"


def forms_sql(kind: IdentityKind, value_sql: str) -> str:
    """SQL of the list of 'kind=value' strings a record may have hashed this identifier as:
    as given (plain rules), and for an email with `+tags`, Gmail dots or both folded (an
    erasure run with those rules records the folded forms), each once. `value_sql` is
    normalised by the plain rules."""
    forms = [value_sql]
    if kind is IdentityKind.EMAIL:
        forms += [
            fold_sql(value_sql, dots=False),
            fold_sql(value_sql, plus=False),
            fold_sql(value_sql),
        ]
    items = ", ".join(f"'{kind.value}=' || {f}" for f in forms)
    return f"list_distinct(list_filter([{items}], lambda x: x IS NOT NULL))"


def idn_forms(value: str) -> list[str]:
    """The other forms of an address (already normalised by the plain rules) under which the
    same mailbox may be written: NFKC-normalised (full-width letters), its domain in IDNA
    ASCII (`müller.de` -> `xn--mller-kva.de`) and in Unicode; the value itself excluded.

    The one normalisation the ledger (each email recorded under these forms too, table
    `folded`) and an audience's matching (`anonymize.audience.forms.add_idn_forms`) share:
    an objection recorded as `Name@Exämple.com` in full-width letters meets a list's
    `name@xn--xmple-rra.com`, and the reverse."""
    text = unicodedata.normalize("NFKC", value).lower()
    local, at, domain = text.rpartition("@")
    forms = {text}
    if at and local and domain:
        try:
            ascii_domain = domain.encode("idna").decode("ascii")
            forms.add(f"{local}@{ascii_domain}")
            forms.add(f"{local}@{ascii_domain.encode('ascii').decode('idna')}")
        except UnicodeError:
            pass  # not a domain IDNA can write: the address is matched as written
    return sorted(f for f in forms if f != value)


def phone_sql(value_sql: str) -> str:
    """SQL of a raw phone as its digits would be read by a phone library: other scripts'
    digits as ASCII, a `tel:` prefix dropped, and an extension (from the first letter, '#',
    ';' or ',') cut off (`identity.phone_text`, its Python twin).
    `sql_normalize` then reads the number: '+44 7700 900123 ext. 45', and the same number
    in full-width or Arabic-Indic digits, meet '+447700900123'."""
    text = f"translate(CAST({value_sql} AS VARCHAR), '{_DIGITS}', '{_ASCII_DIGITS}')"
    text = f"regexp_replace({text}, '^\\s*[Tt][Ee][Ll]:', '')"
    return f"regexp_replace({text}, '{PHONE_EXTENSION}', '')"


def identity_sql(kind: IdentityKind, column_sql: str) -> str:
    """SQL normalising a column of `kind` as the ledger keeps it (`sql_normalize`, plain
    rules), phones read first by `phone_sql` and kept as their last nine digits (the loose
    form, `identity.phone_suffix`: for leaving people out only): what people are joined and
    matched on."""
    if kind is IdentityKind.PHONE:
        return sql_phone_suffix(sql_normalize(kind, phone_sql(column_sql), PLAIN))
    return sql_normalize(kind, column_sql, PLAIN)


def resolve_people(
    engine: Engine,
    con: duckdb.DuckDBPyConnection,
    *,
    marked: Sequence[str] = (),
    also_read: Collection[str] = (),
    older: bool = False,
) -> ExportPeople:
    """Join every identifier of the engine's export into people, in the scratch `con`.

    `marked` names tables whose values a caller must know about, first the one that matters
    most; with marked tables, one-identifier tables are read too (for their emails and
    phones), and the tables in `also_read` (processor tables), each value on its own (it
    joins nobody).

    Leaves two tables in `con`:

    - `people_nodes(node, person, marked_by, only_marked_by)`: each identifier's node
      (`node_sql`) and its person (a number; a phone has a row per person it was seen with);
      `marked_by`: the first marked table (in `marked`'s order) that holds the identifier;
      `only_marked_by`: the same, where every table that holds it is marked (else NULL).
    - `people_held(kind, value, marked_by, only_marked_by)`, with marked tables: the same
      for each value exactly as normalised, not folded (`name+news@` is not `name@`).
    - `people_members(person, kind, value)`: every identifier of every person, normalised as
      the ledger keeps it.
    - `people_shared(kind, value, node)`: the identifiers seen with several people (a phone:
      a family's landline, an office's switchboard). They link nobody to anybody: an entry
      of the ledger under one names none of its people's other identifiers, and a person's
      upload is not recorded under it (`anonymize.audience.people`); only the value itself
      is withheld where it is what would be uploaded.
    - `people_older(kind, value, old)`, with `older`: each identifier whose cell an older
      rule keyed otherwise (`identity.sql_legacy_forms`: a phone with its extension's
      digits glued on, before b9ec3fb), `value` as in `people_members`, `old` that older
      key; only cells where one may differ are kept (a record written then holds it:
      `anonymize.audience.people` compares it, to leave people out).

    Nodes are numbered once (a dictionary of distinct identifiers), so the joins of the
    propagation run over integers, not strings.

    Raises:
        InternalError: the propagation did not settle in `MAX_ROUNDS` rounds.
    """
    catalog = engine.catalog
    order = {name: n for n, name in enumerate(marked)}
    con.execute(
        "CREATE OR REPLACE TEMP TABLE people_raw (row BIGINT, kind VARCHAR, value VARCHAR,"
        " strong BOOLEAN, tbl INTEGER)"
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE people_marks (tbl INTEGER, mark VARCHAR, rank INTEGER)"
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE people_older (kind VARCHAR, value VARCHAR, old VARCHAR)"
    )
    for index, name in enumerate(catalog.tables):
        if name in order:
            con.execute("INSERT INTO people_marks VALUES (?, ?, ?)", [index, name, order[name]])
    for index, (name, table) in enumerate(catalog.tables.items()):
        columns = {c: k for c, k in table.identity_columns().items() if k in KINDS}
        apart = name in also_read  # each value on its own: joins nobody
        if not columns or not table.personal:
            continue
        if table.role is not Role.CONTROLLER and not apart:
            continue
        if len(columns) == 1 or apart:
            # a row holding one identifier joins nobody: read only to know where values are
            if not order:
                continue
            columns = {c: k for c, k in columns.items() if k in LISTED}
            if not columns:
                continue
        picks = ", ".join(
            f"{identity_sql(k, quote_identifier(c))} AS i{j}"
            for j, (c, k) in enumerate(columns.items())
        )
        # each older key of a cell (NULL wherever it cannot differ: only such cells pay)
        olds: list[tuple[int, int, IdentityKind]] = []
        for j, (c, k) in enumerate(columns.items() if older else ()):
            for n, form in enumerate(sql_legacy_forms(k, quote_identifier(c), PLAIN)):
                picks += f", {form} AS o{j}_{n}"
                olds.append((j, n, k))
        some = " OR ".join(f"i{j} IS NOT NULL" for j in range(len(columns)))
        rows = engine.query(
            f"SELECT DISTINCT * FROM (SELECT {picks} FROM {quote_identifier(name)}) WHERE {some}"
        )
        con.register("people_read", rows)
        for j, n, k in olds:
            con.execute(
                f"INSERT INTO people_older SELECT DISTINCT '{k.value}', i{j}, o{j}_{n}"
                f" FROM people_read WHERE o{j}_{n} IS NOT NULL AND i{j} IS NOT NULL"
            )
        # a row's number is its table's, then its own; a value read apart is a row alone
        number = f"{index << _ROW_BITS} + row_number() OVER ()"
        unpivot = " UNION ALL ".join(
            f"SELECT {'NULL' if apart else '__row'} AS __row, '{k.value}' AS kind,"
            f" i{j} AS value, {k in STRONG} AS strong FROM numbered WHERE i{j} IS NOT NULL"
            for j, k in enumerate(columns.values())
        )
        con.execute(
            f"INSERT INTO people_raw SELECT {number if apart else '__row'}, kind, value,"
            f" strong, {index} FROM (WITH numbered AS (SELECT {number} AS __row, *"
            f" FROM people_read) {unpivot})"
        )
        con.unregister("people_read")
    # each distinct identifier once: its node, and the node's number
    kinds = " ".join(f"WHEN '{k.value}' THEN {node_sql(k, 'value')}" for k in KINDS)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE people_found AS SELECT kind, value, node FROM"
        f" (SELECT kind, value, CASE kind {kinds} END AS node FROM"
        " (SELECT DISTINCT kind, value FROM people_raw)) WHERE node IS NOT NULL"
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE people_dict AS SELECT node,"
        " row_number() OVER () AS nid FROM (SELECT DISTINCT node FROM people_found)"
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE people_values AS SELECT f.kind, f.value, d.nid"
        " FROM people_found f JOIN people_dict d USING (node)"
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE people_ids AS SELECT r.row, v.nid, r.strong, r.tbl"
        " FROM people_raw r JOIN people_values v USING (kind, value)"
    )
    # an email beside two accounts of one table (a team inbox: two user ids, each with it)
    # is several people's: weak, as a phone is, it joins none of them
    con.execute(
        "UPDATE people_ids SET strong = false WHERE strong AND nid IN (SELECT e.nid"
        " FROM people_ids e JOIN people_ids o ON o.row = e.row AND o.strong AND o.nid <> e.nid"
        " JOIN (SELECT DISTINCT nid, kind FROM people_values) ke ON ke.nid = e.nid"
        " JOIN (SELECT DISTINCT nid, kind FROM people_values) ko ON ko.nid = o.nid"
        " WHERE ke.kind = 'email' AND ko.kind <> 'email'"
        " GROUP BY e.nid, e.tbl, ko.kind HAVING count(DISTINCT o.nid) > 1)"
    )
    if not order:
        con.execute(
            "CREATE OR REPLACE TEMP TABLE people_held (kind VARCHAR, value VARCHAR,"
            " marked_by VARCHAR, only_marked_by VARCHAR)"
        )
    else:  # where each value, exactly as written, is held
        con.execute(
            "CREATE OR REPLACE TEMP TABLE people_held AS SELECT kind, value, arg_min(mark, rank)"
            " AS marked_by, CASE WHEN bool_and(mark IS NOT NULL) THEN arg_min(mark, rank) END"
            " AS only_marked_by FROM (SELECT DISTINCT r.kind, r.value, r.tbl, m.mark, m.rank"
            " FROM people_raw r LEFT JOIN people_marks m USING (tbl)) GROUP BY ALL"
        )
    rounds = _propagate(con)
    # a phone belongs to the people of the rows it is in; alone in a row, to itself
    con.execute(
        "CREATE OR REPLACE TEMP TABLE people_of AS"
        " WITH held AS (SELECT DISTINCT i.nid, i.tbl, m.mark, m.rank FROM people_ids i"
        " LEFT JOIN people_marks m USING (tbl)),"
        " origin AS (SELECT nid, arg_min(mark, rank) AS marked_by, CASE WHEN"
        " bool_and(mark IS NOT NULL) THEN arg_min(mark, rank) END AS only_marked_by"
        " FROM held GROUP BY nid),"
        " placed AS (SELECT nid, person FROM people_label UNION SELECT DISTINCT w.nid,"
        " coalesce(l.person, w.nid) FROM people_ids w LEFT JOIN people_ids s ON s.row = w.row"
        " AND s.strong LEFT JOIN people_label l ON l.nid = s.nid WHERE NOT w.strong)"
        " SELECT placed.*, origin.marked_by, origin.only_marked_by FROM placed"
        " JOIN origin USING (nid)"
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE people_nodes AS SELECT d.node, p.person, p.marked_by,"
        " p.only_marked_by FROM people_of p JOIN people_dict d USING (nid)"
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE people_members AS SELECT DISTINCT p.person, v.kind,"
        " v.value FROM people_values v JOIN people_of p USING (nid)"
    )
    # an identifier seen with several people (a family's landline): the persons of strong
    # identifiers only (a phone alone in a row is a person of its own, nobody else's)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE people_shared AS SELECT DISTINCT v.kind, v.value, d.node"
        " FROM people_values v JOIN people_dict d USING (nid) WHERE v.nid IN (SELECT nid FROM"
        " people_of WHERE person IN (SELECT person FROM people_label) GROUP BY nid"
        " HAVING count(DISTINCT person) > 1)"
    )
    counted = con.execute(
        "SELECT count(DISTINCT person), (SELECT count(*) FROM people_values),"
        " (SELECT count(*) FROM people_shared) FROM people_of"
    ).fetchone()
    people, identifiers, shared = (
        (int(counted[0]), int(counted[1]), int(counted[2])) if counted else (0, 0, 0)
    )
    scratch_tables = ("people_raw", "people_found", "people_ids", "people_of", "people_dict")
    for scratch in (*scratch_tables, "people_marks"):
        con.execute(f"DROP TABLE IF EXISTS {scratch}")
    con.execute("DROP TABLE IF EXISTS people_values")
    log.info(
        "%d people, %d identifiers (%d shared by several people), %d rounds",
        people,
        identifiers,
        shared,
        rounds,
    )
    return ExportPeople(people, identifiers, rounds, shared)


def _propagate(con: duckdb.DuckDBPyConnection) -> int:
    """`people_label(nid, person)` for every strong node: the smallest node number of its
    component. Only rows holding two or more strong nodes join anything."""
    con.execute(
        "CREATE OR REPLACE TEMP TABLE people_links AS SELECT row, nid FROM (SELECT DISTINCT"
        " row, nid FROM people_ids WHERE strong) QUALIFY count(*) OVER (PARTITION BY row) > 1"
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE people_label AS SELECT DISTINCT nid, nid AS person"
        " FROM people_ids WHERE strong"
    )
    for rounds in range(1, MAX_ROUNDS + 1):
        con.execute(
            "CREATE OR REPLACE TEMP TABLE people_step AS"
            " WITH by_row AS (SELECT k.row, min(l.person) AS person FROM people_links k"
            " JOIN people_label l USING (nid) GROUP BY k.row),"
            " by_node AS (SELECT k.nid, min(r.person) AS person FROM people_links k"
            " JOIN by_row r USING (row) GROUP BY k.nid)"
            " SELECT l.nid, least(l.person, coalesce(n.person, l.person)) AS person"
            " FROM people_label l LEFT JOIN by_node n USING (nid)"
        )
        # a label is a node of the same component: take its label too (pointer jumping)
        con.execute(
            "CREATE OR REPLACE TEMP TABLE people_next AS SELECT s.nid,"
            " least(s.person, coalesce(j.person, s.person)) AS person FROM people_step s"
            " LEFT JOIN people_step j ON j.nid = s.person"
        )
        changed = con.execute(
            "SELECT count(*) FROM people_next n JOIN people_label l USING (nid)"
            " WHERE n.person <> l.person"
        ).fetchone()
        con.execute("DROP TABLE people_label")
        con.execute("ALTER TABLE people_next RENAME TO people_label")
        if not changed or not changed[0]:
            con.execute("DROP TABLE IF EXISTS people_step")
            con.execute("DROP TABLE IF EXISTS people_links")
            return rounds
    raise InternalError(f"people did not settle in {MAX_ROUNDS} rounds of label propagation")
