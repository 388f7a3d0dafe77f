"""The people a breach reaches, found for all of them at once in a few SQL statements.

`scope_breach` used to answer one access request per distinct seed (thousands of people,
one by one, through `dsar.subjects.collect`). This module computes the same answer for the
whole set of rows in scope: each table's identifiers are read once through the engine
(normalised by the same `sql_normalize` and match rules as access; a table only searched is
read as its distinct rows, see `_Plan.read`), and the rest is joins in a scratch DuckDB
connection. What it reproduces of `collect`, for every person reached:

- the strong closure: strong identifiers seen together in a row of a searched table (a
  controller table with identity columns) are one person, to any depth (the connected
  components of the links, found in memory: `components`);
- the weak identifiers a person learns: those in a row holding one of their strong ones,
  searched in every table (`collect` searches the tables with two or more strong columns
  again with what the others revealed);
- the rows `collect` returns (a row holding a batch person's strong identifier, or a weak
  identifier searched in that table: `_Search._worth_scanning`), the weak identifiers shared
  with someone else (seen in such a row beside another person's strong identifier), and
  the verdict on each row (the person's own strong identifier, else only unshared weak ones);
- owned rows through their parents, parents first, replacing the rows found by identifier
  where there are any (`_add_owned_rows`);
- the batch: one request per distinct seed (a row's strong identifiers; an anonymous row's
  weak identifier seeds each strong identifier seen beside it), persons numbered in the order
  of their first request, `--max-identifiers` checked on every person of the batch.

One difference is left: where a person has a country (or state) column in more than one
table, `collect` takes the first table its search happened to fill; here the order is the
search's table order (tables with two or more strong columns first). `tests/test_breach_set.py`
compares both on the demo and the shop schemas.

Its cost is mostly fixed: every table is read and linked whatever the breach's size (at
debug level each statement's time is logged by the table it makes, never a value;
`benchmarks/bench_breach.py --profile`; BENCHMARKS.md, "Breach scoping", for the figures and
what would remove it: people resolved ahead of time).
"""

from __future__ import annotations

import logging
import re
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from dsar.breach.filters import table_chain
from dsar.breach.people import AffectedPerson, contact_channel, other_places, place_cell
from dsar.breach.places import COUNTRY_COLUMN, STATE_COLUMN
from dsar.breach.split import home_tables
from dsar.catalog.models import Catalog, IdentityKind, PersonalKind, Role
from dsar.engine.base import Engine, quote_identifier
from dsar.engine.duckdb import scratch_connection
from dsar.errors import InternalError, OverMatchError
from dsar.subjects.collect import _Search, owned_tables
from dsar.subjects.identity import (
    STRONG,
    MatchRules,
    SubjectKey,
    email_forms,
    idna_ascii,
    sql_normalize,
)

if TYPE_CHECKING:
    import duckdb

log = logging.getLogger(__name__)

_COUNTRY, _STATE = COUNTRY_COLUMN, STATE_COLUMN
_BITS = 40  # a row's number: its table's index above these bits, its own below
_SCOPE = 1 << 60  # rows in scope are numbered above this (copies of rows of their table)
_MAX_ROUNDS = 200


@dataclass
class SetResult:
    """The people, each row in scope's holders (the numbers of the people holding it), and
    per owned table the rows in scope set aside: their parent key is held by parent rows of
    more than one person (or by a person's and no one's), so they are given to no one."""

    people: list[AffectedPerson]
    holders: dict[str, list[frozenset[int]]]
    set_aside: dict[str, int] = field(default_factory=dict)


def supported(catalog: Catalog, tables: Sequence[str]) -> bool:
    """Whether the set search gives what `collect` gives for these breached tables: the
    catalog serves requests, and an owned table's rows are anchored on a searched root whose
    identity columns are those of the ancestor the anchor is read from."""
    if not catalog.subject_requests:
        return False
    for name in tables:
        if not catalog.tables[name].personal or catalog.tables[name].role is Role.PROCESSOR:
            continue  # counted per customer or not at all: never resolved to people
        chain = table_chain(catalog, name)
        root = catalog.tables[chain[-1]]
        if len(chain) > 1:
            anchor = next(
                catalog.tables[p]
                for p in chain[1:]
                if catalog.tables[p].owned_through is None or catalog.tables[p].identity_columns()
            )
            if anchor.identity_columns() != root.identity_columns():
                return False
        if root.identity_columns() and root.role is not Role.CONTROLLER:
            return False
    return True


class _Plan:
    """Which tables are read, and which of their columns, as numbered scratch columns."""

    def __init__(self, engine: Engine, catalog: Catalog, rules: MatchRules) -> None:
        self.catalog, self.rules = catalog, rules
        search = _Search(engine, catalog, [], rules, None)
        self.expansion = list(search.expansion_tables)
        self.other = list(search.other_tables)
        self.linked = [*self.expansion, *self.other]
        self.weak_only = set(search.weak_only)
        self.weak_kinds = set(search.weak_kinds_that_matter)
        self.owned = owned_tables(catalog)
        parents: dict[str, set[str]] = defaultdict(set)
        for name in self.owned:
            own = catalog.tables[name].owned_through
            assert own is not None
            parents[own.parent_table].add(own.parent_column)
        self.parent_columns = {k: sorted(v) for k, v in parents.items()}
        self.tables = list(dict.fromkeys([*self.linked, *self.owned, *self.parent_columns]))
        self.index = {name: i + 1 for i, name in enumerate(catalog.tables)}
        # the order in which a person's tables are filled (country: the first table's)
        self.order = list(dict.fromkeys([*self.linked, *self.owned]))
        self.homes = home_tables(catalog)
        self.describe: dict[str, dict[str, list[str]]] = {}
        for name in self.tables:
            self.describe[name] = self._describe_columns(engine, name)

    def _describe_columns(self, engine: Engine, name: str) -> dict[str, list[str]]:
        table = self.catalog.tables[name]
        real = engine.query(f"SELECT * FROM {quote_identifier(name)} LIMIT 0").schema
        emails = [c for c, k in table.identity_columns().items() if k is IdentityKind.EMAIL]
        # an account row's phones: an account holder's contact without an address of theirs
        phones = [
            c
            for c, k in table.identity_columns().items()
            if k is IdentityKind.PHONE and name in self.homes
        ]
        names, geo = [], []
        for column in real.names:
            spec = table.columns.get(column)
            if spec is None:
                continue
            if spec.personal is PersonalKind.NAME:
                names.append(column)
            elif _COUNTRY.match(column) or _STATE.match(column):
                geo.append(column)
        order: list[str] = []
        if emails or phones or names or geo:
            order = [c for c in table.primary_key if c in real.names] or [
                f.name for f in real if not pa.types.is_nested(f.type)
            ]
        return {"emails": emails, "phones": phones, "names": names, "geo": geo, "order": order}

    def phones(self, name: str) -> list[str]:
        """`name`'s phone columns (an account table's) in its scratch copy, normalised by the
        search's rules as the person's identifiers are: its identifiers themselves when it is
        searched."""
        phones = self.describe[name]["phones"]
        if name not in self.linked:
            return [f"h{j}" for j in range(len(phones))]
        ids = list(self.catalog.tables[name].identity_columns())
        return [f"i{ids.index(c)}" for c in phones]

    def contacts(self, name: str) -> list[str]:
        """`name`'s address columns in its scratch copy, normalised by the plain rules: its
        identifiers themselves when the search runs under the plain rules."""
        emails = self.describe[name]["emails"]
        if name not in self.linked or self.rules != MatchRules():
            return [f"c{j}" for j in range(len(emails))]
        ids = list(self.catalog.tables[name].identity_columns())
        return [f"i{ids.index(c)}" for c in emails]

    def select(self, name: str, *, scoped: bool = False) -> tuple[str, bool]:
        """The SELECT list of `name`'s scratch copy, and whether its rows may be distinct."""
        table = self.catalog.tables[name]
        q = quote_identifier
        picks = []
        if name in self.linked:
            for j, (column, kind) in enumerate(table.identity_columns().items()):
                picks.append(f"{sql_normalize(kind, q(column), self.rules)} AS i{j}")
        if table.owned_through is not None:
            picks.append(f"CAST({q(table.owned_through.column)} AS VARCHAR) AS __own")
        if scoped:
            return ", ".join(picks) or "1 AS __none", False
        for j, column in enumerate(self.parent_columns.get(name, [])):
            picks.append(f"CAST({q(column)} AS VARCHAR) AS __pk{j}")
        d = self.describe[name]
        for j, column in enumerate(d["emails"]):
            if self.contacts(name)[j] == f"c{j}":
                picks.append(
                    f"{sql_normalize(IdentityKind.EMAIL, q(column), MatchRules())} AS c{j}"
                )
        for j, column in enumerate(d["phones"]):
            if self.phones(name)[j] == f"h{j}":
                picks.append(f"{sql_normalize(IdentityKind.PHONE, q(column), self.rules)} AS h{j}")
        picks += [f"{q(c)} AS n{j}" for j, c in enumerate(d["names"])]
        picks += [f"{q(c)} AS g{j}" for j, c in enumerate(d["geo"])]
        picks += [f"{q(c)} AS o{j}" for j, c in enumerate(d["order"])]
        plain = len(picks) == len(table.identity_columns()) and name in self.linked
        return ", ".join(picks) or "1 AS __none", plain

    def read(self, name: str) -> str:
        """The query reading `name` once: its identifiers, ownership keys and what describes a
        person. A table only searched (not owned, no owned table's parent) is read as its
        distinct rows holding an identifier, the values made distinct before they are
        normalised: with only identifiers, distinct; with what describes a person and one
        ordering column that is none of them, one row per distinct content, at its smallest
        ordering value (the row a person's description would take first)."""
        table = self.catalog.tables[name]
        q = quote_identifier
        picks, plain = self.select(name)
        sql = f"SELECT {picks} FROM {q(name)}"
        ids = [f"i{j}" for j in range(len(table.identity_columns()))]
        if not ids or name not in self.linked:
            return sql
        some = " OR ".join(f"{i} IS NOT NULL" for i in ids)
        raw = ", ".join(q(c) for c in table.identity_columns())
        # aliases filtered outside (Spark SQL has none in its WHERE)
        if plain:
            return (
                f"SELECT DISTINCT * FROM (SELECT {picks} FROM (SELECT DISTINCT {raw}"
                f" FROM {q(name)}) AS r) AS t WHERE {some}"
            )
        d = self.describe[name]
        content = [*table.identity_columns(), *d["names"], *d["geo"]]
        if (
            table.owned_through is not None
            or name in self.parent_columns
            or len(d["order"]) != 1
            or d["order"][0] in content  # every row its own content already
        ):
            return sql
        raw = ", ".join(q(c) for c in dict.fromkeys(content))
        order = q(d["order"][0])
        source = f"(SELECT {raw}, min({order}) AS {order} FROM {q(name)} GROUP BY {raw}) AS r"
        kept = [
            *ids,
            *(c for c in self.contacts(name) if c.startswith("c")),
            *(c for c in self.phones(name) if c.startswith("h")),
            *(f"n{j}" for j in range(len(d["names"]))),
            *(f"g{j}" for j in range(len(d["geo"]))),
        ]
        listed = ", ".join(kept)
        return (
            f"SELECT {listed}, min(o0) AS o0 FROM (SELECT {picks} FROM {source}) AS t"
            f" WHERE {some} GROUP BY {listed}"
        )


def set_search(
    engine: Engine, catalog: Catalog, scoped: dict[str, pa.Table], rules: MatchRules
) -> SetResult:
    """The people the rows in `scoped` (per breached controller table, its rows in scope)
    reach, as `scope_breach`'s per-person search finds them.

    Raises:
        OverMatchError: a person of the batch has more strong identifiers of one kind than
            `rules.max_identifiers` (its label is the person's first request, `B-<n>`).
    """
    import tempfile

    plan = _Plan(engine, catalog, rules)
    # past memory, DuckDB spills to an owner-only folder (identifiers: removed after)
    with tempfile.TemporaryDirectory(prefix="dsar-breach-") as spill:
        con = scratch_connection(spill=Path(spill))
        try:
            return _run(engine, con, plan, scoped)
        finally:
            con.close()


_STEP = re.compile(r"(?:TABLE|INTO|FROM)\s+(\w+)", re.IGNORECASE)


def _timed(con: duckdb.DuckDBPyConnection) -> Callable[..., Any]:
    """`con.execute`, each statement's time logged at debug level by the table it makes
    (SQL text and values are never logged)."""
    if not log.isEnabledFor(logging.DEBUG):
        return con.execute

    def run(sql: str, *args: object) -> Any:
        started, cpu = time.perf_counter(), time.process_time()
        out = con.execute(sql, *args)
        found = _STEP.search(sql)
        step = found.group(1) if found else "statement"
        _took(step, started, cpu)
        return out

    return run


def _arrow(con: duckdb.DuckDBPyConnection, sql: str) -> pa.Table:
    """A query's result as Arrow (its time logged at debug level, as `_timed`'s)."""
    started, cpu = time.perf_counter(), time.process_time()
    out = con.sql(sql).to_arrow_table()
    _took("fetch", started, cpu)
    return out


def _took(step: str, started: float, cpu: float) -> None:
    log.debug(
        "set search: %s %.3f s, cpu %.3f s",
        step,
        time.perf_counter() - started,
        time.process_time() - cpu,
    )


def _kind_sql(kind: IdentityKind) -> str:
    return f"'{kind.value}'"


def _run(engine: Engine, con: object, plan: _Plan, scoped: dict[str, pa.Table]) -> SetResult:
    import duckdb

    assert isinstance(con, duckdb.DuckDBPyConnection)
    catalog = plan.catalog
    x = _timed(con)
    x(
        "CREATE TEMP TABLE bs_raw (row BIGINT, tbl INTEGER, kind VARCHAR, value VARCHAR,"
        " strong BOOLEAN)"
    )
    x("CREATE TEMP TABLE bs_tables (tbl INTEGER, expansion BOOLEAN, weak_only BOOLEAN)")
    for name in plan.linked:
        x(
            "INSERT INTO bs_tables VALUES (?, ?, ?)",
            [plan.index[name], name in plan.expansion, name in plan.weak_only],
        )

    def add_ids(name: str, relation: str, base: int) -> None:
        table = catalog.tables[name]
        parts = [
            f"SELECT {base} + __n AS row, {plan.index[name]} AS tbl, {_kind_sql(k)} AS kind,"
            f" i{j} AS value, {k in STRONG} AS strong FROM {relation} WHERE i{j} IS NOT NULL"
            for j, k in enumerate(table.identity_columns().values())
        ]
        if parts:
            x(f"INSERT INTO bs_raw {' UNION ALL '.join(parts)}")

    clock = time.perf_counter(), time.process_time()
    # 1. every table read once: identifiers, ownership keys and what describes a person
    for name in plan.tables:
        ti = plan.index[name]
        started, cpu = time.perf_counter(), time.process_time()
        con.register("bs_read", engine.query(plan.read(name)))
        _took(f"read {name}", started, cpu)
        x(
            f"CREATE TEMP TABLE bs_r{ti} AS SELECT {ti << _BITS} + row_number() OVER () AS __n,"
            " * FROM bs_read"
        )
        con.unregister("bs_read")
        if name in plan.linked:
            add_ids(name, f"bs_r{ti}", 0)
    # rows in scope: copies of their table's rows, numbered apart
    breached = list(scoped)
    for bi, name in enumerate(breached):
        con.register("bs_read", scoped[name])
        picks, _ = plan.select(name, scoped=True)
        x(
            f"CREATE TEMP TABLE bs_s{bi} AS SELECT row_number() OVER () - 1 AS __n, {picks}"
            " FROM bs_read"
        )
        con.unregister("bs_read")
        if name in plan.linked:
            add_ids(name, f"bs_s{bi}", _SCOPE + (bi << _BITS))

    _idna_fold(con, "bs_raw")
    _took("step 1 (reads)", *clock)
    clock = time.perf_counter(), time.process_time()
    # 2. the strong closure: label propagation over rows holding two strong identifiers
    # every identifier numbered once: the joins below run over integers
    x(
        "CREATE TEMP TABLE bs_dict AS SELECT row_number() OVER () AS nid, kind, value, strong"
        " FROM (SELECT DISTINCT kind, value, strong FROM bs_raw)"
    )
    x(
        "CREATE TEMP TABLE bs_ids AS SELECT r.row, r.tbl, d.nid, r.kind, r.strong FROM bs_raw r"
        " JOIN bs_dict d USING (kind, value)"
    )
    x("DROP TABLE bs_raw")
    x("CREATE TEMP TABLE bs_sid AS SELECT DISTINCT row, nid, tbl FROM bs_ids WHERE strong")
    _propagate(con)
    x(
        "CREATE TEMP TABLE bs_rowlabel AS SELECT s.row, any_value(s.tbl) AS tbl, min(l.label)"
        " AS label FROM bs_sid s"
        " JOIN bs_label l USING (nid) GROUP BY s.row"
    )

    _took("step 2 (closure)", *clock)
    clock = time.perf_counter(), time.process_time()
    # 3. the seeds: each row in scope's anchor's strong identifiers (one request per
    # distinct set); an anonymous row's weak identifiers seed the strong ones seen beside them
    x("CREATE TEMP TABLE bs_seed (n BIGINT, kind VARCHAR, value VARCHAR, strong BOOLEAN)")
    for bi, name in enumerate(breached):
        chain = table_chain(catalog, name)
        root = catalog.tables[chain[-1]]
        kinds = list(root.identity_columns().values())
        if not kinds:
            continue
        if len(chain) == 1:
            relation = f"bs_s{bi}"
        else:
            # walk up: each row's parent key, until the anchor (identity columns, or the root)
            current = f"(SELECT __n, __own AS __key FROM bs_s{bi})"
            relation = ""
            for depth, parent in enumerate(chain[1:]):
                ptable = catalog.tables[parent]
                child = catalog.tables[chain[depth]]
                assert child.owned_through is not None
                pk = plan.parent_columns[parent].index(child.owned_through.parent_column)
                pi = plan.index[parent]
                # a parent key held by several rows: one of them (the per-person search kept
                # the last it read; parent keys are primary keys)
                joined = (
                    f"(SELECT c.__n, any_value(p) AS p FROM {current} c JOIN bs_r{pi} p"
                    f" ON p.__pk{pk} = c.__key GROUP BY c.__n)"
                )
                if ptable.owned_through is None or ptable.identity_columns():
                    cols = ", ".join(f"p.i{j} AS i{j}" for j in range(len(kinds)))
                    relation = f"(SELECT __n, {cols} FROM {joined})"
                    break
                current = f"(SELECT __n, p.__own AS __key FROM {joined})"
            if not relation:
                continue
        parts = [
            f"SELECT {bi << _BITS} + __n, {_kind_sql(k)}, i{j}, {k in STRONG} FROM {relation}"
            f" WHERE i{j} IS NOT NULL"
            for j, k in enumerate(kinds)
        ]
        x(f"INSERT INTO bs_seed {' UNION ALL '.join(parts)}")
    _idna_fold(con, "bs_seed")
    x(
        "CREATE TEMP TABLE bs_weak_alone AS SELECT DISTINCT d.nid FROM bs_seed s"
        " JOIN bs_dict d USING (kind, value) WHERE s.n NOT IN (SELECT n FROM bs_seed WHERE strong)"
    )
    neighbours = [
        plan.index[n]
        for n, t in catalog.tables.items()
        if t.role is Role.CONTROLLER
        and t.personal
        and any(k in STRONG for k in t.identity_columns().values())
    ]
    x(
        "CREATE TEMP TABLE bs_sets AS"
        " SELECT list_sort(list(s.kind || '=' || s.value)) AS seeds, min(d.nid) AS nid"
        " FROM bs_seed s JOIN bs_dict d USING (kind, value) WHERE s.strong GROUP BY s.n"
        " UNION ALL SELECT DISTINCT [d.kind || '=' || d.value], d.nid FROM bs_ids w"
        " JOIN bs_weak_alone a ON a.nid = w.nid AND NOT w.strong"
        " JOIN bs_ids s ON s.row = w.row AND s.strong JOIN bs_dict d ON d.nid = s.nid"
        f" WHERE w.tbl IN ({', '.join(map(str, neighbours)) or 'NULL'}) AND w.row < {_SCOPE}"
    )
    # a request's person: the label of its seeds (a seed no table holds reaches no row)
    x(
        "CREATE TEMP TABLE bs_batch AS SELECT l.label, min(t.seeds) AS first FROM bs_sets t"
        " JOIN bs_label l USING (nid) GROUP BY l.label"
    )
    over = x(
        "SELECT b.first, n.kind, count(*) AS c FROM bs_batch b JOIN bs_label l USING (label)"
        " JOIN bs_dict n USING (nid) GROUP BY ALL HAVING count(*) > ? ORDER BY b.first LIMIT 1",
        [plan.rules.max_identifiers],
    ).fetchone()
    if over is not None:
        raise OverMatchError("B-0", IdentityKind(over[1]), int(over[2]), plan.rules.max_identifiers)

    _took("step 3 (seeds)", *clock)
    clock = time.perf_counter(), time.process_time()
    # 4. what the search returns and keeps, for the batch's people
    # a weak identifier learned anywhere is searched in every table it may match alone in
    # (`collect` searches the expansion tables again with what the others revealed)
    x(
        "CREATE TEMP TABLE bs_w AS SELECT DISTINCT rl.label, i.nid FROM bs_ids i"
        " JOIN bs_rowlabel rl USING (row)"
        " WHERE NOT i.strong AND rl.label IN (SELECT label FROM bs_batch)"
    )
    weak_kinds = ", ".join(_kind_sql(k) for k in plan.weak_kinds) or "NULL"
    x(
        "CREATE TEMP TABLE bs_in AS"
        " SELECT row FROM bs_rowlabel WHERE label IN (SELECT label FROM bs_batch)"
        " UNION SELECT i.row FROM bs_ids i JOIN bs_tables t USING (tbl)"
        " JOIN (SELECT DISTINCT nid FROM bs_w) k USING (nid)"
        f" WHERE NOT i.strong AND (t.weak_only OR i.kind IN ({weak_kinds}))"
    )
    x(
        "CREATE TEMP TABLE bs_shared AS SELECT DISTINCT w.label, w.nid FROM bs_w w"
        " JOIN bs_ids i ON i.nid = w.nid AND NOT i.strong"
        " JOIN bs_in USING (row) JOIN bs_rowlabel rl ON rl.row = i.row WHERE rl.label <> w.label"
    )
    x(
        "CREATE TEMP TABLE bs_mine AS"
        " SELECT label, row, tbl FROM bs_rowlabel WHERE label IN (SELECT label FROM bs_batch)"
        " UNION ALL SELECT w.label, i.row, any_value(i.tbl) FROM bs_ids i"
        " JOIN bs_w w ON w.nid = i.nid"
        " LEFT JOIN bs_shared sh ON sh.label = w.label AND sh.nid = i.nid"
        " WHERE NOT i.strong AND i.row IN (SELECT row FROM bs_in)"
        " AND i.row NOT IN (SELECT row FROM bs_rowlabel)"
        " GROUP BY w.label, i.row HAVING count(sh.label) = 0"
    )
    # owned rows, parents first: where a person has any, they are the person's rows there
    set_aside: dict[str, int] = {}
    for name in plan.owned:
        own = catalog.tables[name].owned_through
        assert own is not None
        ti, pi = plan.index[name], plan.index[own.parent_table]
        pk = plan.parent_columns[own.parent_table].index(own.parent_column)
        # a person's parent key is clear when every parent row holding it is theirs; a key
        # another parent row holds too (per-file invoice numbering: the primary key is
        # false) gives its child rows to no one, as `collect` does (`ownership.clear_keys`)
        x(
            f"CREATE OR REPLACE TEMP TABLE bs_pall AS SELECT m.label, p.__pk{pk} AS v,"
            f" count(DISTINCT m.row) AS mine FROM bs_mine m JOIN bs_r{pi} p ON p.__n = m.row"
            f" WHERE m.tbl = {pi} AND p.__pk{pk} IS NOT NULL GROUP BY ALL"
        )
        x(
            "CREATE OR REPLACE TEMP TABLE bs_pv AS SELECT a.label, a.v, coalesce(h.n, 1)"
            f" <= a.mine AS clear FROM bs_pall a LEFT JOIN (SELECT __pk{pk} AS v, count(*) AS n"
            f" FROM bs_r{pi} WHERE __pk{pk} IN (SELECT v FROM bs_pall) GROUP BY 1) h USING (v)"
        )
        parts = [
            f"SELECT v.label, r.__n AS row FROM bs_r{ti} r JOIN bs_pv v ON r.__own = v.v"
            " WHERE v.clear"
        ]
        if name in breached:
            bi = breached.index(name)
            parts.append(
                f"SELECT v.label, {_SCOPE + (bi << _BITS)} + s.__n FROM bs_s{bi} s"
                " JOIN bs_pv v ON s.__own = v.v WHERE v.clear"
            )
            # rows in scope whose parent key another person's parent row holds too
            unclear = x(
                f"SELECT count(DISTINCT s.__n) FROM bs_s{bi} s JOIN bs_pv v ON s.__own = v.v"
                " WHERE NOT v.clear"
            ).fetchone()
            if unclear and unclear[0]:
                set_aside[name] = int(unclear[0])
        x(f"CREATE OR REPLACE TEMP TABLE bs_owned AS {' UNION ALL '.join(parts)}")
        x(
            f"DELETE FROM bs_mine WHERE tbl = {ti} AND label IN"
            f" (SELECT label FROM bs_owned WHERE row < {_SCOPE})"
        )
        x(
            f"INSERT INTO bs_mine SELECT label, row, {ti} FROM bs_owned WHERE label IN"
            f" (SELECT label FROM bs_owned WHERE row < {_SCOPE})"
        )

    _took("step 4 (rows)", *clock)
    clock = time.perf_counter(), time.process_time()
    # 5. the rows in scope each person holds; persons numbered in their requests' order
    x(f"CREATE TEMP TABLE bs_hits AS SELECT label, tbl, row FROM bs_mine WHERE row >= {_SCOPE}")
    x(
        "CREATE TEMP TABLE bs_people AS SELECT label, row_number() OVER (ORDER BY first)"
        " AS number FROM bs_batch WHERE label IN (SELECT label FROM bs_hits)"
    )
    tbl_name = {plan.index[n]: n for n in catalog.tables}
    rows: dict[int, dict[str, int]] = defaultdict(dict)
    got = _arrow(
        con,
        "SELECT p.number, h.tbl, count(*) FROM bs_hits h JOIN bs_people p USING (label)"
        " GROUP BY ALL ORDER BY h.tbl",
    )
    for number, tbl, count in zip(*(c.to_pylist() for c in got.columns), strict=True):
        rows[number][tbl_name[tbl]] = count
    owners: dict[str, list[frozenset[int]]] = {}
    # each row in scope's holders: most hold one person (one frozenset per person, shared)
    alone = np.empty(len(rows) + 1, dtype=object)
    alone[:] = [frozenset((n,)) for n in range(len(rows) + 1)]
    for bi, name in enumerate(breached):
        base = _SCOPE + (bi << _BITS)
        got = _arrow(
            con,
            f"SELECT h.row - {base} AS n, min(p.number) AS one, max(p.number) AS last"
            " FROM bs_hits h JOIN bs_people p USING (label)"
            f" WHERE h.row >= {base} AND h.row < {base + (1 << _BITS)} GROUP BY h.row",
        )
        n, one, last = (got.column(c).to_numpy() for c in ("n", "one", "last"))
        listed = np.full(scoped[name].num_rows, frozenset(), dtype=object)
        listed[n[one == last]] = alone[one[one == last]]
        several = _arrow(
            con,
            f"SELECT h.row - {base}, list(DISTINCT p.number) FROM bs_hits h JOIN bs_people p"
            f" USING (label) WHERE h.row >= {base} AND h.row < {base + (1 << _BITS)}"
            " GROUP BY h.row HAVING count(DISTINCT p.number) > 1",
        )
        for row, numbers in zip(*(c.to_pylist() for c in several.columns), strict=True):
            listed[row] = frozenset(numbers)
        owners[name] = listed.tolist()

    _took("step 5 (hits)", *clock)
    clock = time.perf_counter(), time.process_time()
    # 6. what describes each person: identifiers, contact, residence, names
    keys: dict[int, set[SubjectKey]] = defaultdict(set)
    kind_of = {k.value: k for k in IdentityKind}
    got = _arrow(
        con,
        "SELECT p.number, n.kind, n.value FROM bs_people p JOIN bs_label l USING (label)"
        " JOIN bs_dict n USING (nid) UNION ALL SELECT p.number, n.kind, n.value"
        " FROM bs_people p JOIN bs_w w USING (label) JOIN bs_dict n USING (nid)",
    )
    for number, kind, value in zip(*(c.to_pylist() for c in got.columns), strict=True):
        keys[number].add(SubjectKey(kind_of[kind], value))
        if kind == IdentityKind.EMAIL.value:  # both IDNA forms, as access holds them
            keys[number].update(SubjectKey(IdentityKind.EMAIL, f) for f in email_forms(value))
    x(
        "CREATE TEMP TABLE bs_final AS SELECT p.number, m.row, m.tbl FROM bs_mine m"
        f" JOIN bs_people p USING (label) WHERE m.row < {_SCOPE}"
    )
    homes = {plan.index[h] for h in plan.homes}
    holders = {
        int(r[0])
        for r in x(
            f"SELECT DISTINCT number FROM bs_final WHERE tbl IN"
            f" ({', '.join(map(str, homes)) or 'NULL'})"
        ).fetchall()
    }
    address_of: dict[int, SubjectKey] = {}  # the first address of a person's own rows
    contacts: dict[str, dict[int, object]] = {}  # per table: the first row's address
    own_phones: dict[int, set[str]] = defaultdict(set)  # the phones on a person's account rows
    geo_of: dict[int, dict[str, tuple[str | None, str | None]]] = defaultdict(dict)
    places_of: dict[int, set[tuple[str | None, str | None]]] = defaultdict(set)
    names_of: dict[int, set[str]] = defaultdict(set)
    for name in plan.tables:
        d = plan.describe[name]
        if not d["order"]:
            continue
        ti = plan.index[name]
        order = ", ".join(f"r.o{j} ASC NULLS LAST" for j in range(len(d["order"])))
        source = f"FROM bs_final f JOIN bs_r{ti} r ON r.__n = f.row WHERE f.tbl = {ti}"
        if d["emails"]:
            first = ", ".join(f"r.{c}" for c in plan.contacts(name))
            got = x(
                f"SELECT f.number, coalesce({first}) {source}"
                f" QUALIFY row_number() OVER (PARTITION BY f.number ORDER BY {order}) = 1"
            ).fetchall()
            contacts[name] = {int(n): v for n, v in got}
        for column in plan.phones(name):
            for number, value in x(
                f"SELECT DISTINCT f.number, r.{column} {source} AND r.{column} IS NOT NULL"
            ).fetchall():
                own_phones[int(number)].add(str(value))
        if d["geo"]:
            for j, column in enumerate(d["geo"]):
                got = x(
                    f"SELECT f.number, r.g{j} {source} AND r.g{j} IS NOT NULL"
                    f" AND CAST(r.g{j} AS VARCHAR) <> ''"
                    f" QUALIFY row_number() OVER (PARTITION BY f.number ORDER BY {order}) = 1"
                ).fetchall()
                for number, value in got:
                    slot = geo_of[int(number)].setdefault(name, (None, None))
                    text = str(value).strip().upper()
                    if _COUNTRY.match(column) and slot[0] is None:
                        geo_of[int(number)][name] = (text, slot[1])
                    elif _STATE.match(column) and slot[1] is None:
                        geo_of[int(number)][name] = (slot[0], text)
            # every (country, state) the person's rows hold, a row's two cells together
            where = [
                next((f"r.g{j}" for j, c in enumerate(d["geo"]) if pattern.match(c)), "NULL")
                for pattern in (_COUNTRY, _STATE)
            ]
            for number, country, state in x(
                f"SELECT DISTINCT f.number, {where[0]}, {where[1]} {source}"
            ).fetchall():
                pair = (place_cell(country), place_cell(state))
                if pair != (None, None):
                    places_of[int(number)].add(pair)
        for j in range(len(d["names"])):
            for number, value in x(
                f"SELECT DISTINCT f.number, r.n{j} {source} AND r.n{j} IS NOT NULL"
                f" AND CAST(r.n{j} AS VARCHAR) <> ''"
            ).fetchall():
                names_of[int(number)].add(str(value).casefold().strip())
    for name in [*sorted(plan.homes), *catalog.tables]:
        for number, value in contacts.get(name, {}).items():
            # an account holder's address is their account's own: never one another row
            # (a ticket's requester) holds, which may be another person's
            if number in holders and name not in plan.homes:
                continue
            if number not in address_of and value is not None:
                address_of[number] = SubjectKey(IdentityKind.EMAIL, str(value))
    people = []
    no_names: frozenset[str] = frozenset()
    for number in range(1, len(rows) + 1):
        known = frozenset(keys[number])
        phones = {SubjectKey(IdentityKind.PHONE, v) for v in own_phones.get(number, ())}
        contact = contact_channel(
            known, holder=number in holders, address=address_of.get(number), own_phones=phones
        )
        country = state = None
        for name in plan.order if number in geo_of else ():
            c, s = geo_of[number].get(name, (None, None))
            country = country if country is not None else c
            state = state if state is not None else s
        names = names_of.get(number)
        people.append(
            AffectedPerson(
                number=number,
                keys=known,
                account_holder=number in holders,
                rows=rows[number],
                contact=contact,
                country=country,
                state=state,
                elsewhere=other_places(places_of.get(number, ()), country, state),
                names=frozenset(names) if names else no_names,
            )
        )
    _took("step 6 (people)", *clock)
    return SetResult(people, owners, set_aside)


def _idna_fold(con: duckdb.DuckDBPyConnection, table: str) -> None:
    """Every address of `table` (kind, value) under its domain's IDNA ASCII form
    (`idna_ascii`), as the access search reads a row (`_Search._row_keys`): the Unicode and
    the ASCII writing of one mailbox are one identifier. SQL cannot convert IDNA: only the
    few values holding a non-ASCII character or an `xn--` label are read out and mapped."""
    found = con.execute(
        f"SELECT DISTINCT value FROM {table} WHERE kind = 'email'"
        " AND (strlen(value) <> length(value) OR contains(value, 'xn--'))"
    ).fetchall()
    mapped = {v: a for (v,) in found if (a := idna_ascii(v)) != v}
    if not mapped:
        return
    con.register("bs_idna_map", pa.table({"value": list(mapped), "ascii": list(mapped.values())}))
    _timed(con)(
        f"UPDATE {table} SET value = m.ascii FROM bs_idna_map m"
        f" WHERE {table}.kind = 'email' AND {table}.value = m.value"
    )
    con.unregister("bs_idna_map")


def _propagate(con: duckdb.DuckDBPyConnection) -> None:
    """`bs_label(nid, label)`: each strong node's smallest node number in its component.

    A row holding several strong nodes links each to the row's smallest (a star: the same
    component as every pair), each link once however many rows repeat it (a customer's
    invoices all name the same two identifiers); the components are found in memory
    (`components`), not by rounds of SQL over the whole export."""
    x = _timed(con)
    edges = _arrow(
        con,
        "SELECT DISTINCT s.nid AS src, h.hub AS dst FROM bs_sid s JOIN (SELECT row, min(nid)"
        " AS hub FROM bs_sid GROUP BY row HAVING count(*) > 1) h USING (row) WHERE s.nid <> h.hub",
    )
    nodes = _arrow(con, "SELECT nid FROM bs_dict WHERE strong").column(0)
    src = edges.column("src").to_numpy()
    dst = edges.column("dst").to_numpy()
    ids = nodes.to_numpy()
    size = int(max(ids.max(initial=0), src.max(initial=0), dst.max(initial=0))) + 1
    labels = components(src, dst, size)[ids]
    con.register("bs_labels", pa.table({"nid": ids, "label": labels}))
    x("CREATE TEMP TABLE bs_label AS SELECT * FROM bs_labels")
    con.unregister("bs_labels")


def components(src: np.ndarray, dst: np.ndarray, size: int) -> np.ndarray:
    """Each node's smallest node number in its connected component (nodes 0..size-1, an
    edge from `src[i]` to `dst[i]`): roots hooked under the smaller root of every edge
    between two trees, then every pointer jumped to its root, until no edge joins two trees.

    Raises:
        InternalError: the trees did not settle in `_MAX_ROUNDS` rounds.
    """
    parent = np.arange(size, dtype=np.int64)
    src, dst = src.astype(np.int64), dst.astype(np.int64)
    for rounds in range(_MAX_ROUNDS):
        a, b = parent[src], parent[dst]
        apart = a != b
        if not apart.any():
            log.debug("set search: components settled in %d round(s)", rounds + 1)
            return parent
        a, b, src, dst = a[apart], b[apart], src[apart], dst[apart]
        # every node's parent is a root here: hook the larger root under the smaller
        np.minimum.at(parent, np.maximum(a, b), np.minimum(a, b))
        while True:
            jumped = parent[parent]
            if np.array_equal(jumped, parent):
                break
            parent = jumped
    raise InternalError(f"breach scope: labels did not settle in {_MAX_ROUNDS} rounds")
