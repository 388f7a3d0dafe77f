"""What earlier releases of a data set mean for a new aggregate run (the release log's side).

A run's data sets are every table it reads, its base table and each joined one: every run
over one of them publishes numbers about its people. Its data version is a keyed fingerprint
of each source table's files (`Purpose.RELEASE_REF`), so the log names no checksum anyone
could test a guess of the data against; beside it, its content: a keyed fingerprint of the
table's rows as a multiset (a keyed sum of row hashes, computed in SQL: the column names
sorted, every value as text), the same whatever the rows' order, the files' names or the
table's name in the catalog. An earlier release counts as made from the data as it is now
when every table it read has the same content now, under any name (its tables are then read
under the new names), or, for entries from before contents were recorded, the same files.

- **Suppression.** Tables published earlier from the same version of the same tables take
  part in this run's complementary suppression as they were published (`anonymize.disclosure`):
  this run hides whatever, together with them, would give back a cell they or it suppress;
  it is never refused for it. Releases of another version are not compared (the data moved).
  A release that read one of this run's tables as it is now but cannot be compared with it
  (it counted another base table's people, or another table it read has changed) refuses
  the run (`ReleaseConflictError`, naming it and the fix): the linear check cannot relate
  the two populations' cells.
- **Differential privacy.** Each noisy table is one query: the data set, the version, the
  columns, measures, bounds, declared values, ε and δ. Its noise is seeded by a keyed hash of
  the query (`Purpose.AGGREGATE_NOISE`), so the same query on the same data gives the same
  answer, and its id (`Purpose.RELEASE_REF`) is what the budget charges once. The query names
  its tables by their content, so a renamed or reordered copy asks the same query. The budget
  is per data set across every version (people stay from one export to the next): a data set
  is a table name together with every content a run of it read and every other name a run
  read one of those contents under, base or joined (`lineage`); a run is charged to every
  data set it reads, and refused when any of them is beyond its budget. Its budget is the
  smallest `budget` any run of it stated, and one run's worth (the largest ε of a run of it)
  while none had: once a run was charged, a later spec stating more does not raise it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from anonymize.aggregate_spec import AggregateRun, AggregateSpec
from anonymize.disclosure import View
from anonymize.joins import Join, Source, joined_relation, resolve_links
from anonymize.suppression import EARLIER, Cells
from dsar.catalog import Catalog
from dsar.engine.base import Engine, quote_identifier
from dsar.errors import BudgetExceededError, ReleaseConflictError
from dsar.io import sha256_file
from dsar.keys import Keys, Purpose
from dsar.records.releases import Charge, PublishedTable, Release

_SLACK = 1e-9  # float sums of ε compared with the budget


def dims_of(run: AggregateRun, catalog: Catalog) -> dict[str, str]:
    """Each column a spec can group by, under its source's name ("table.column"): the same in
    every run, whatever the join's prefix."""
    return {name: f"{s.table}.{s.column}" for name, s in run.sources(catalog).items()}


def data_version(catalog: Catalog, keys: Keys, tables: Iterable[str]) -> dict[str, str]:
    """Per table, a keyed fingerprint of its files (names and contents)."""
    found: dict[str, str] = {}
    for table in sorted(set(tables)):
        files = "|".join(f"{p.name}:{sha256_file(p)}" for p in catalog.files(table))
        found[table] = keys.keyed_hash(Purpose.RELEASE_REF, f"version|{table}|{files}")[:32]
    return found


def joins_of(run: AggregateRun) -> tuple[tuple[str, str | None], ...]:
    return tuple((j.table, j.via) for j in run.join)


def _shape(keys: Keys, columns: Iterable[str]) -> str:
    return keys.keyed_hash(Purpose.RELEASE_REF, "shape|" + "|".join(sorted(columns)))[:8]


def content_version(engine: Engine, keys: Keys, table: str) -> str:
    """A keyed fingerprint of a table's rows as a multiset: its sorted column names, then
    the count and two keyed sums of the rows' hashes (every value as text), whatever the rows'
    order, the files' names or the table's name. One scan of the table."""
    columns = sorted(engine.columns(table))
    values = ", ".join(f"CAST({quote_identifier(c)} AS VARCHAR)" for c in columns)
    salt = keys.keyed_hash(Purpose.RELEASE_REF, "content-salt")[:32]
    row = engine.query(
        f"SELECT count(*) AS n, sum(hash(?, {values})) AS a, sum(hash(?, {values})) AS b"
        f" FROM {quote_identifier(table)}",
        (salt + "a", salt + "b"),
    ).to_pylist()[0]
    text = f"content|{'|'.join(columns)}|{row['n']}|{row['a']}|{row['b']}"
    return _shape(keys, columns) + keys.keyed_hash(Purpose.RELEASE_REF, text)[:24]


def content_versions(engine: Engine, keys: Keys, tables: Iterable[str]) -> dict[str, str]:
    """Per table, its content's fingerprint (`content_version`)."""
    return {t: content_version(engine, keys, t) for t in sorted(set(tables))}


class _Contents:
    """The current catalog's tables by content, fingerprinted only when asked for."""

    def __init__(self, engine: Engine, keys: Keys, known: dict[str, str]) -> None:
        self._engine, self._keys = engine, keys
        self._of = dict(known)
        self._shapes: dict[str, str] = {}
        self._files: dict[str, str] = {}

    def _tables(self) -> list[str]:
        return sorted(self._engine.catalog.tables)

    def of(self, table: str) -> str:
        if table not in self._of:
            self._of[table] = content_version(self._engine, self._keys, table)
        return self._of[table]

    def shape(self, table: str) -> str:
        if table in self._of:
            return self._of[table][:8]
        if table not in self._shapes:
            self._shapes[table] = _shape(self._keys, self._engine.columns(table))
        return self._shapes[table]

    def find(self, content: str, prefer: str) -> str | None:
        """The table holding this content now: `prefer` when it does, else any other."""
        tables = self._tables()
        ordered = ([prefer] if prefer in tables else []) + [t for t in tables if t != prefer]
        for table in ordered:
            if self.shape(table) == content[:8] and self.of(table) == content:
                return table
        return None

    def files(self, table: str) -> str | None:
        if table not in self._engine.catalog.tables:
            return None
        if table not in self._files:
            self._files.update(data_version(self._engine.catalog, self._keys, [table]))
        return self._files[table]


def renamed(release: Release, names: dict[str, str]) -> Release:
    """An earlier release with its tables read under their names now."""

    def dim(d: str) -> str:
        table, column = d.split(".", 1)
        return f"{names.get(table, table)}.{column}"

    return replace(
        release,
        dataset=names.get(release.dataset, release.dataset),
        joins=tuple((names.get(t, t), via) for t, via in release.joins),
        tables=tuple(replace(t, dims=tuple(dim(d) for d in t.dims)) for t in release.tables),
    )


def comparable(
    releases: Sequence[Release],
    engine: Engine,
    keys: Keys,
    table: str,
    contents: dict[str, str],
    methods: tuple[str, ...] = ("suppression",),
    *,
    strict: bool = True,
) -> list[Release]:
    """The earlier releases of this run's data set made from the data as it is now (of the
    `methods` given: suppression runs by default; "extract" and "differential_privacy" too):
    every table they read holds the same content now, under its name or another (they are
    returned under the names of now, this run's tables first), or, for those recorded before
    contents were, the same files; and their base table is this run's. Not `strict`: the
    others are left out, never refused.

    A release's data sets are every table it read, base and joins: an earlier release that
    read any table this run reads (`contents`: the same content) relates to it. One that
    cannot be checked with it (another base table, so other people counted; or another table
    it read has changed since) is refused: together, the two could give back a cell either
    suppressed, and the linear check cannot relate their cells.

    Raises:
        ReleaseConflictError: an earlier release read a table of this run but cannot be
            checked with it; names the release and the fix.
    """
    now = _Contents(engine, keys, contents)
    mine = {c: t for t, c in sorted(contents.items(), key=lambda i: i[0] == table)}
    same: list[Release] = []
    for release in releases:
        if release.method not in methods:
            continue
        names: dict[str, str] | None = None
        if release.contents:
            shared = sorted(mine[c] for c in release.contents.values() if c in mine)
            found = {t: mine.get(c) or now.find(c, t) for t, c in release.contents.items()}
            if all(f is not None for f in found.values()):
                names = {t: f for t, f in found.items() if f is not None}
        else:  # the same files, under the same names (entries from before)
            shared = sorted(
                t for t, v in release.versions.items() if t in contents and now.files(t) == v
            )
            unchanged = all(now.files(t) == v for t, v in release.versions.items())
            names = {} if unchanged else None
        moved = renamed(release, names) if names is not None else None
        if moved is not None and moved.dataset == table:
            same.append(moved)
        elif shared and strict:
            raise _unrelatable(release, table, shared, moved)
    return same


def _unrelatable(
    release: Release, table: str, shared: list[str], moved: Release | None
) -> ReleaseConflictError:
    """Why an earlier release that read some of this run's tables cannot be checked with it."""
    read = ", ".join(shared)
    if moved is not None:
        base = moved.dataset
        problem = (
            f"it read {read} as this run reads it, but counted the people of {base}, this run"
            f" those of {table}: their cells cannot be checked against each other, and"
            " together they could give back a cell either suppressed"
        )
        fix = (
            f"base this run on {base} (table: {base}, joining the other tables) so that it is"
            f" checked against that release, or publish it with differential_privacy"
        )
    else:
        problem = (
            f"it read {read} as this run reads it, but another table it read has changed"
            " since (or is not in this catalog): their cells cannot be checked against each"
            " other, and together they could give back a cell either suppressed"
        )
        fix = (
            "base this run on the tables that release read, as they were (the same export),"
            " so that it is checked against it, or publish it with differential_privacy"
        )
    return ReleaseConflictError(table, release.describe(), problem, fix)


def _reads(release: Release) -> set[tuple[str, str | None]]:
    """Every table a release read, with its content (None in entries made before)."""
    if release.contents:
        return set(release.contents.items())
    return {(t, None) for t in (release.dataset, *(j for j, _ in release.joins))}


def lineage(releases: Sequence[Release], table: str, content: str) -> list[Release]:
    """The releases of one data set: those that read (as their base table or a joined one)
    this table name or this content, and, in turn, every name a run read one of those
    contents under and every content a run read under one of those names (a copy renamed,
    then changed, stays the same data set)."""
    names, contents = {table}, {content}
    grew = True
    while grew:
        grew = False
        for r in releases:
            for name, seen in _reads(r):
                if name in names or (seen is not None and seen in contents):
                    if name not in names:
                        names.add(name)
                        grew = True
                    if seen is not None and seen not in contents:
                        contents.add(seen)
                        grew = True
    return [
        r
        for r in releases
        if any(n in names or (c is not None and c in contents) for n, c in _reads(r))
    ]


def union_joins(run: AggregateRun, earlier: Sequence[Release]) -> list[Join]:
    """This run's joins, then every other table an earlier release joined (the same way).

    Raises:
        ReleaseConflictError: an earlier release joined a table through another column.
    """
    return joins_with(run.table, run.join, earlier)


def joins_with(table: str, own: Sequence[Join], earlier: Sequence[Release]) -> list[Join]:
    """A run's joins (of an aggregate or an extract of `table`), then every other table an
    earlier release joined (the same way).

    Raises:
        ReleaseConflictError: an earlier release joined a table through another column.
    """
    joins: list[Join] = [Join(table=j.table, via=j.via) for j in own]
    seen = {j.table: j.via for j in own}
    for release in earlier:
        for table, via in release.joins:
            if table not in seen:
                joins.append(Join(table=table, via=via))
                seen[table] = via
            elif seen[table] != via:
                raise ReleaseConflictError(
                    table,
                    release.describe(),
                    f"it joined {table} via {via or 'its one link'}, this run via"
                    f" {seen[table] or 'its one link'}",
                    f"join {table} the same way (via: {via}) so the two can be checked together",
                )
    return joins


def atoms(
    engine: Engine,
    catalog: Catalog,
    table: str,
    joins: list[Join],
    columns: Sequence[str],
    where: tuple[str, Sequence[object]] = ("TRUE", ()),
) -> list[tuple[str | None, ...]]:
    """The distinct combinations of `columns` ("table.column") in the data of base `table`,
    as text; of the base table's rows that meet `where` (the suppression ledger's condition)
    when given."""
    links, problems = resolve_links(catalog, table, joins)
    if problems:
        _, problem, fix = problems[0]
        raise ReleaseConflictError(table, "(joins)", problem, fix)
    outputs = {f"__a{i}": Source(*c.split(".", 1)) for i, c in enumerate(columns)}
    relation = joined_relation(table, links, {a: s for a, s in outputs.items() if s.table != table})
    picks = [
        quote_identifier(s.column if s.table == table else a) + f" AS {quote_identifier(a)}"
        for a, s in outputs.items()
    ]
    if not picks:
        return [()]
    rows = engine.query(
        f"SELECT DISTINCT {', '.join(picks)} FROM {relation} WHERE {where[0]}", list(where[1])
    ).to_pylist()
    return [tuple(None if r[a] is None else str(r[a]) for a in outputs) for r in rows]


def view(cells: Cells, dims: dict[str, str]) -> View:
    """A table of this run under the union's column names (suppressing in it suppresses in
    the table)."""
    return View(tuple(dims[g] for g in cells.group_by), cells.counts, cells.suppressed)


def earlier_views(releases: Sequence[Release]) -> list[View]:
    """The tables of earlier releases as they were published (their counts are not kept:
    nothing of theirs is ever chosen to be hidden)."""
    found: list[View] = []
    for release in releases:
        for t in release.tables:
            counts = dict.fromkeys([*t.published, *t.suppressed], 0)
            found.append(View(t.dims, counts, dict.fromkeys(t.suppressed, EARLIER)))
    return found


def published(cells: Sequence[Cells], dims: dict[str, str]) -> tuple[PublishedTable, ...]:
    """Each table of this run as the release log keeps it (group values, never counts)."""
    tables: list[PublishedTable] = []
    for c in cells:
        name = c.spec.name
        if tuple(c.group_by) != tuple(c.spec.group_by):
            name += f"[{','.join(c.group_by)}]"
        order = sorted(c.counts, key=lambda k: tuple(str(v) for v in k))
        tables.append(
            PublishedTable(
                name,
                tuple(dims[g] for g in c.group_by),
                tuple(k for k in order if k not in c.suppressed),
                tuple(k for k in order if k in c.suppressed),
            )
        )
    return tuple(tables)


@dataclass(frozen=True)
class Query:
    """One noisy table as a query: its seed (secret) and what it charges."""

    seed: bytes
    charge: Charge


def query(
    keys: Keys,
    run: AggregateRun,
    agg: AggregateSpec,
    dims: dict[str, str],
    versions: dict[str, str],
    epsilon: float,
    delta: float | None,
    left_out: str | None = None,
) -> Query:
    """The query a noisy table asks, keyed: everything its noisy numbers depend on. Its
    tables are named by their content (`versions`: `content_versions`), so the same query on
    a renamed or reordered copy of the data is the same query: the same answer, charged once.
    `left_out`: a keyed fingerprint of the people the suppression ledger left out (other
    people counted: another query, its own noise, charged anew)."""
    dp = run.differential_privacy
    assert dp is not None

    def named(d: str | None) -> str | None:
        if d is None:
            return None
        table, column = d.split(".", 1)
        return f"{versions.get(table, table)}.{column}"

    by = {g: named(dims[g]) for g in dims}
    what: dict[str, Any] = {
        "dataset": versions.get(run.table, run.table),
        "versions": sorted(versions.values()),
        "joins": [(versions.get(t, t), via) for t, via in joins_of(run)],
        "person": by.get(str(run.person)),
        "group_by": [by[g] for g in agg.group_by],
        "measures": [(m.op, by.get(str(m.column)), m.bounds) for m in agg.measures],
        "keys": {by[g]: sorted(v) for g, v in dp.keys.items() if g in agg.group_by},
        "max_groups_per_person": dp.max_groups_per_person,
        "epsilon": epsilon,
        "delta": delta,
    }
    if left_out is not None:
        what["left_out_by_ledger"] = left_out
    text = json.dumps(what, sort_keys=True, separators=(",", ":"), default=str)
    seed = bytes.fromhex(keys.keyed_hash(Purpose.AGGREGATE_NOISE, text))
    ref = keys.keyed_hash(Purpose.RELEASE_REF, f"query|{text}")[:32]
    return Query(seed, Charge(ref, agg.name, epsilon, delta or 0.0))


@dataclass(frozen=True)
class Spending:
    """The data set's budget, before and after this run."""

    budget: float
    spent_before: float
    charged: float  # what this run adds (0: every query repeated)
    delta_spent: float  # δ of every distinct query, this run's included


def spend(
    run: AggregateRun,
    releases: Sequence[Release],
    charges: Sequence[Charge],
    dataset: str | None = None,
) -> Spending:
    """Check this run's charges against the budget of one data set it reads (`dataset`, by
    default its base table), whose noisy releases are `releases`.

    Raises:
        BudgetExceededError: the new queries would spend more than is left.
    """
    dp = run.differential_privacy
    assert dp is not None
    spent: dict[str, Charge] = {}
    by: dict[int, float] = {}
    for release in releases:
        for c in release.charges:
            if c.query not in spent:
                spent[c.query] = c
                by[release.seq] = by.get(release.seq, 0.0) + c.epsilon
    new = {c.query: c for c in charges if c.query not in spent}
    stated = _in_force(releases, dp.budget)
    one_run = max([dp.epsilon, *(sum(c.epsilon for c in r.charges) for r in releases)])
    budget = min(stated) if stated else one_run
    before = round(sum(c.epsilon for c in spent.values()), 9)
    needed = round(sum(c.epsilon for c in new.values()), 9)
    if before + needed > budget + _SLACK:
        names = {r.seq: r.describe() for r in releases}
        raise BudgetExceededError(
            dataset or run.table,
            budget,
            before,
            needed,
            [f"{names[seq]}: epsilon {round(eps, 9)}" for seq, eps in by.items()],
            "lower epsilon, or repeat an earlier query (the same spec on the same data gives"
            " the same answer, free)"
            + (
                "; a budget once stated can be lowered, never raised"
                if stated
                else "; or state the data set's budget across runs: differential_privacy.budget"
            ),
        )
    delta = sum(c.delta for c in [*spent.values(), *new.values()])
    return Spending(budget, before, needed, delta)


def _in_force(releases: Sequence[Release], stating: float | None = None) -> list[float]:
    """The budgets a data set's noisy releases set (and this run's, `stating`): each one
    stated, and, when runs were charged before the first statement, one run's worth of those
    (the default in force then, which a later statement can lower, never raise)."""
    first = min((r.seq for r in releases if r.budget is not None), default=None)
    stated = [r.budget for r in releases if r.budget is not None]
    if stating is not None:
        stated.append(stating)
    before = [r for r in releases if r.budget is None and (first is None or r.seq < first)]
    if stated and before:
        stated.append(max(round(sum(c.epsilon for c in r.charges), 9) for r in before))
    return stated


def spent_on(releases: Sequence[Release]) -> tuple[float, float | None]:
    """The ε a data set's releases spent (each distinct query once) and the budget they set
    (`_in_force`; None: none stated one, one run's worth holds)."""
    spent = {c.query: c.epsilon for r in releases for c in r.charges}
    stated = _in_force([r for r in releases if r.method == "differential_privacy"])
    return round(sum(spent.values()), 9), (min(stated) if stated else None)
