"""Find every row that belongs to each requester, in as few passes over the files as it takes.

The search is semi-naive: each table is scanned only with identifiers it has not been scanned
with before, and a rescan skips the rows the earlier scans returned, so the union of all
scans is exactly the rows that match the final identifier sets, with no row twice. Tables
whose rows can add strong identifiers (two or more strong identity columns) are settled
first; the large one-identifier tables (logs, events) are scanned after, usually once.
Many requests are answered together: one scan serves every requester.
"""

from __future__ import annotations

import logging
from array import array
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc

from dsar.catalog.models import Catalog, FileFormat, IdentityKind, Ownership, Role, Table
from dsar.engine.base import INLINE_VALUES, Engine, quote_identifier, sql_in
from dsar.engine.ownership import (
    clear_keys,
    column_type,
    key_text,
    keys_held_by_several,
    parent_key_texts,
    sql_key_text,
    union,
)
from dsar.errors import AmbiguousIdentifierError, CatalogError, ConfigProblem, OverMatchError

if TYPE_CHECKING:
    from dsar.subjects.index import IndexedFiles
from dsar.subjects.identity import (
    STRONG,
    Identity,
    MatchRules,
    Provenance,
    SubjectKey,
    SubjectRequest,
    canonical_email,
    email_forms,
    ip_pattern,
    phone_pattern,
    rekey,
    sql_canonical_email,
    sql_normalize,
    with_catalog_rules,
)

log = logging.getLogger(__name__)


class Verdict(StrEnum):
    """Whether a matched row is the person's."""

    KEEP = "keep"  # the person's: one of their strong identifiers, or only their weak ones
    SET_ASIDE = "set_aside"  # only a weak identifier the person shares with someone: review
    OTHER = "other"  # carries someone else's strong identifier: not this person's row


_IDNA_NOTE = "the same address with its domain in its other IDNA form (Unicode or ASCII)"
KEY_COLUMN = "__owner_key__"  # a child row's parent key as text, while it is matched
ID_PREFIX = "__id__"  # helper columns holding normalised identifiers; dropped before export


@dataclass
class SubjectData:
    """What one requester has in the export.

    Attributes:
        identity: every identifier of the person with its provenance.
        tables: the person's rows per controller table (original columns only).
        held_as_processor: per processor table, rows matched per customer they are held for.
        set_aside: per table, rows matched only through a shared device, phone or similar
            identifier: neither the person's nor clearly someone else's; left for review.
    """

    identity: Identity
    tables: dict[str, pa.Table] = field(default_factory=dict)
    held_as_processor: dict[str, dict[str, int]] = field(default_factory=dict)
    set_aside: dict[str, int] = field(default_factory=dict)
    shared: frozenset[SubjectKey] = frozenset()
    erased_before: tuple[str, ...] = ()  # earlier erasure requests found in the ledger
    # erasures recorded as requested whose change is not committed: (request, day recorded)
    erasure_pending: tuple[tuple[str, date], ...] = ()
    # per parent key followed (`parent_ref`): the keys (as text) whose child rows are the
    # person's; keys another parent row holds too are left out (their children set aside)
    owned_keys: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        """Rows found across all controller tables."""
        return sum(t.num_rows for t in self.tables.values())


ProgressFn = Callable[[str], None]
"""A callback `collect` calls with a short progress line (table names and counts only)."""


def collect(
    engine: Engine,
    catalog: Catalog,
    requests: Sequence[SubjectRequest],
    rules: MatchRules | None = None,
    progress: ProgressFn | None = None,
    index: IndexedFiles | None = None,
) -> list[SubjectData]:
    """Resolve each request's identity and collect its rows from every table of the catalog.

    The engine must have the catalog's tables registered (`open_engine(catalog)`). With an
    `index` (`IdentityIndex.files_for(engine)`), each scan reads only the records the index
    names in unchanged files (and the other files whole): the same rows, found faster.

    Raises:
        CatalogError: the catalog says it serves no subject requests (`subject_requests:
            false`): no one could be found in it.
        OverMatchError: a closure grew past `rules.max_identifiers`.
        AmbiguousIdentifierError: a weak identifier given in a request names several people.
    """
    if not catalog.subject_requests:
        source = str(catalog.source) if catalog.source is not None else "<catalog>"
        raise CatalogError(
            source,
            [
                ConfigProblem(
                    "subject_requests",
                    "this catalog serves no subject requests (subject_requests: false): none of"
                    " its columns identifies a person, so no one can be found in it",
                    "answer the request from the export the data came from, whose catalog"
                    " marks the people's identifiers",
                )
            ],
        )
    rules = with_catalog_rules(rules, catalog)  # the catalog's phone_region, unless given
    search = _Search(engine, catalog, list(requests), rules, progress, index)
    search.bootstrap_weak_seeds()
    search.run(search.expansion_tables)
    # what the other tables reveal (a device seen with the account in a log) is searched for
    # in the expansion tables again (a support ticket holding only that device), and so on
    while search.run(search.other_tables) and search.run(search.expansion_tables):
        pass
    results = search.results()
    _add_owned_rows(engine, catalog, results, progress or (lambda _msg: None))
    return results


def owned_tables(catalog: Catalog) -> list[str]:
    """Tables whose rows belong to their parent row's owner, parents before children."""
    order: list[str] = []

    def visit(name: str, depth: int) -> None:
        own = catalog.tables[name].owned_through
        if own is None or name in order or depth > len(catalog.tables):
            return
        visit(own.parent_table, depth + 1)
        order.append(name)

    for name in catalog.tables:
        visit(name, 0)
    return order


def owner_keys(data: SubjectData, table: Table) -> list[str]:
    """The parent keys (as text, `dsar.engine.ownership.key_text`) of the person's parent
    rows: their rows of `table` are those whose ownership column holds one of these. A key
    another parent row holds too is not among them (`collect` set its child rows aside)."""
    own = table.owned_through
    if own is None:
        return []
    if parent_ref(own) in data.owned_keys:
        return list(data.owned_keys[parent_ref(own)])
    if own.parent_table not in data.tables:
        return []
    column = data.tables[own.parent_table].column(own.parent_column)
    return sorted({t for v in column.to_pylist() if (t := key_text(v, "")) is not None})


def parent_ref(own: Ownership) -> str:
    """The parent key an ownership follows, `table.column`: the key of `owned_keys`."""
    return f"{own.parent_table}.{own.parent_column}"


def _add_owned_rows(
    engine: Engine, catalog: Catalog, people: list[SubjectData], progress: ProgressFn
) -> None:
    """Each person's rows of owned tables (order lines, attachments): one query per table
    for the whole batch, over the keys of the parent rows each person already has.

    Keys are read as the text they hold on both sides (`dsar.engine.ownership`). A key
    that a parent row not the person's holds too (a parent key that is not unique) gives
    its child rows to no one: they are counted as set aside for review."""
    for name in owned_tables(catalog):
        table = catalog.tables[name]
        own = table.owned_through
        if own is None:
            continue
        ptype = column_type(engine, own.parent_table, own.parent_column)
        mine_all = [
            parent_key_texts(p.tables[own.parent_table], own.parent_column, ptype)
            if own.parent_table in p.tables
            else Counter[str]()
            for p in people
        ]
        wanted = union(mine_all)
        if not wanted:
            continue
        progress(f"{name}: rows owned through {own.parent_table}")
        several = keys_held_by_several(engine, own, wanted)
        params: list[object] = []
        column = sql_key_text(quote_identifier(own.column))
        rows = engine.query(
            f"SELECT *, {column} AS {KEY_COLUMN} FROM {quote_identifier(name)}"
            f" WHERE {sql_in(column, wanted, params)}",
            params,
        )
        text = rows.column(KEY_COLUMN)
        rows = rows.drop_columns([KEY_COLUMN])
        for person, mine in zip(people, mine_all, strict=True):
            if not mine:
                continue
            clear, unclear = clear_keys(mine, several)
            person.owned_keys[parent_ref(own)] = tuple(clear)
            if unclear:
                aside = int(pc.sum(pc.is_in(text, pa.array(unclear, pa.string()))).as_py() or 0)
                if aside:
                    person.set_aside[name] = person.set_aside.get(name, 0) + aside
            if clear:
                subset = rows.filter(pc.is_in(text, pa.array(clear, pa.string())))
                if subset.num_rows:
                    person.tables[name] = _in_order(subset, table)


def _positions(indices: Sequence[int]) -> pa.Array:
    """Row positions for `take`, as an Arrow array built from its buffer.

    `take` of a Python list goes through `pa.array`, which imports pandas on its first call:
    while the analyzer's thread was importing it, the scans waited on the import lock
    (0.44 s of a 10,000-user bundle, measured); the positions are the same.
    """
    return pa.Array.from_buffers(
        pa.int64(), len(indices), [None, pa.py_buffer(array("q", indices))]
    )


def _in_order(rows: pa.Table, table: Table) -> pa.Table:
    """A person's rows in a stable order: by primary key, else by every plain column.

    Rows reach the results from several scans (and, in a batch, in another order than
    alone); sorting makes a bundle the same however the search went.
    """
    keys = [c for c in table.primary_key if c in rows.column_names] or [
        f.name for f in rows.schema if not pa.types.is_nested(f.type)
    ]
    if rows.num_rows < 2 or not keys:
        return rows
    return rows.sort_by([(c, "ascending") for c in keys])


def _scan_cost(table: Table) -> int:
    return {FileFormat.PARQUET: 0, FileFormat.JSONL: 1, FileFormat.JSON: 1, FileFormat.CSV: 2}[
        table.format
    ]


def _prefilter(kind: IdentityKind, values: list[str]) -> str | None:
    """A regular expression over a column's raw text that finds every row whose normalised
    value may be in `values` (`phone_pattern`, `ip_pattern`); None: no such prefilter."""
    if kind is IdentityKind.PHONE:
        return phone_pattern(values)
    if kind is IdentityKind.IP_ADDRESS:
        return ip_pattern(values)
    return None


class _Search:
    def __init__(
        self,
        engine: Engine,
        catalog: Catalog,
        requests: list[SubjectRequest],
        rules: MatchRules,
        progress: ProgressFn | None,
        index: IndexedFiles | None = None,
    ) -> None:
        self.engine, self.catalog, self.rules, self.index = engine, catalog, rules, index
        self.progress = progress or (lambda _msg: None)
        self.people = [Identity(r) for r in requests]
        self.owners: dict[SubjectKey, set[int]] = defaultdict(set)
        for i, person in enumerate(self.people):
            for key in person.request.keys:
                # a phone given nationally is read in the company's region (`rekey`)
                found = rekey(key, rules)
                note = None if found == key else f"the phone given, read in {rules.phone_region}"
                self._add(i, Provenance(found, note=note))
        self.scanned: dict[str, set[SubjectKey]] = defaultdict(set)
        self.canon_scanned: dict[str, set[str]] = defaultdict(set)
        self.pending: dict[str, list[pa.Table]] = defaultdict(list)
        self.rows: dict[str, list[pa.Table]] = defaultdict(list)
        self.visited: set[str] = set()  # tables scanned at least once
        self.round = 0
        linked = {
            n: t
            for n, t in catalog.tables.items()
            if t.role is Role.CONTROLLER and t.identity_columns()
        }

        # Hubs first: the tables whose strong identifiers lead to the most other tables (an
        # account row names the user id, customer id and email the rest are keyed by), so the
        # first round learns most identifiers; cheap formats before costly ones.
        def reach(name: str) -> int:
            kinds = set(self._strong_cols(linked[name]).values())
            return sum(
                len(kinds & set(t.identity_columns().values()))
                for other, t in linked.items()
                if other != name
            )

        ordered = sorted(linked, key=lambda n: (-reach(n), _scan_cost(linked[n]), n))
        self.expansion_tables = [n for n in ordered if len(self._strong_cols(linked[n])) >= 2]
        # A weak identifier is worth scanning a table for only where a row could match it
        # alone (no strong identifier always present), or where seeing it beside someone
        # else's identifier tells that it is shared with a table where that could happen.
        self.weak_only = {n for n, t in linked.items() if not self._always_strong(t)}
        self.weak_kinds_that_matter = {
            k
            for n in self.weak_only
            for k in linked[n].identity_columns().values()
            if k not in STRONG
        }
        self.other_tables = sorted(
            (n for n in ordered if n not in self.expansion_tables),
            key=lambda n: (_scan_cost(linked[n]), n),
        )

    @classmethod
    def _always_strong(cls, table: Table) -> bool:
        """A strong identity column is part of the primary key: every row has it."""
        return any(c in table.primary_key for c in cls._strong_cols(table))

    def _worth_scanning(self, name: str, key: SubjectKey) -> bool:
        return (
            key.kind in STRONG or name in self.weak_only or key.kind in self.weak_kinds_that_matter
        )

    @staticmethod
    def _strong_cols(table: Table) -> dict[str, IdentityKind]:
        return {c: k for c, k in table.identity_columns().items() if k in STRONG}

    def _add(self, person: int, prov: Provenance) -> None:
        if not self.people[person].add(prov):
            return
        self.owners[prov.key].add(person)
        if prov.key.kind is IdentityKind.EMAIL:
            # the same mailbox with its domain in the other IDNA form (`exämple.com`,
            # `xn--exmple-cua.com`): SQL cannot convert it, so the person holds both
            for form in email_forms(prov.key.value):
                key = SubjectKey(IdentityKind.EMAIL, form)
                if key != prov.key:
                    self._add(person, Provenance(key, via=prov.key, note=_IDNA_NOTE))

    # ---- scanning ------------------------------------------------------------------------

    def _filter(
        self, name: str, keys: set[SubjectKey], exclude: set[SubjectKey]
    ) -> tuple[str, list[object]]:
        """SQL condition (and its parameters) for rows matching `keys` and none of `exclude`."""
        table = self.catalog.tables[name]
        params: list[object] = []

        def any_of(which: set[SubjectKey]) -> str:
            terms = []
            for col, kind in table.identity_columns().items():
                values = sorted({k.value for k in which if k.kind is kind})
                if not values:
                    continue
                expr = sql_normalize(kind, quote_identifier(col), self.rules, for_match=True)
                if kind is IdentityKind.EMAIL:  # a superset: see canonical_email
                    values = sorted({canonical_email(v) for v in values})
                    expr = sql_canonical_email(expr)
                elif len(values) <= INLINE_VALUES and (pattern := _prefilter(kind, values)):
                    # the raw text first (cheap, a superset: a phone's last digits, an
                    # address's last group or dotted quad at its end), then the normalised
                    # form of only the rows it finds (an IPv6 one is costly): a value is
                    # matched whole, never a suffix
                    raw = f"regexp_matches(CAST({quote_identifier(col)} AS VARCHAR), ?)"
                    params.append(pattern)
                    terms.append(f"({raw} AND {sql_in(expr, values, params)})")
                    continue
                terms.append(sql_in(expr, values, params))
            return " OR ".join(terms)

        where = f"({any_of(keys)})"
        if old := any_of(exclude):
            # the earlier scans returned these rows already (NULL = no match)
            where += f" AND NOT coalesce(({old}), false)"
        return where, params

    def _scan(self, name: str, keys: set[SubjectKey], exclude: set[SubjectKey]) -> pa.Table:
        """Rows of `name` matching `keys` and none of `exclude`, with normalised id columns."""
        where, params = self._filter(name, keys, exclude)
        helpers = ", ".join(
            f"{sql_normalize(k, quote_identifier(c), self.rules)}"
            f" AS {quote_identifier(ID_PREFIX + c)}"
            for c, k in self.catalog.tables[name].identity_columns().items()
        )
        sql = f"SELECT *, {helpers} FROM {self._relation(name, keys)} WHERE {where}"
        return self.engine.query(sql, params)

    def _relation(self, name: str, keys: set[SubjectKey]) -> str:
        """The table, or (with an index) only the rows a search with `keys` could match."""
        narrowed = self.index.relation(name, keys) if self.index is not None else None
        return narrowed if narrowed is not None else quote_identifier(name)

    def _any_match(self, name: str, keys: set[SubjectKey], exclude: set[SubjectKey]) -> bool:
        """Whether `_scan` would return rows, reading only the identity columns.

        About half the cost of a full read of a CSV or JSON file, far less for Parquet: worth
        it before a rescan with identifiers learned late, which usually finds nothing.
        """
        where, params = self._filter(name, keys, exclude)
        sql = f"SELECT 1 FROM {self._relation(name, keys)} WHERE {where} LIMIT 1"
        return bool(self.engine.query(sql, params).num_rows > 0)

    def run(self, tables: list[str]) -> bool:
        """Scan `tables` until none has identifiers it has not been scanned with; whether
        anything was scanned.

        A scan returns a superset for email columns (see `canonical_email`): rows that match
        a known identifier exactly are the person's candidates; the others wait in `pending`
        and are promoted when a later identifier matches them, without another scan. An
        email whose canonical form a table was already scanned with needs no scan at all.
        """
        started = self.round
        while True:
            self.round += 1
            work = False
            for name in tables:
                kinds = set(self.catalog.tables[name].identity_columns().values())
                known = {
                    k for k in self.owners if k.kind in kinds and self._worth_scanning(name, k)
                }
                new = known - self.scanned[name]
                if not new:
                    continue
                work = True
                covered = {
                    k
                    for k in new
                    if k.kind is IdentityKind.EMAIL
                    and canonical_email(k.value) in self.canon_scanned[name]
                }
                self.scanned[name] |= covered
                self._promote(name)
                new -= covered
                if not new:
                    continue
                # a rescan (identifiers learned late) usually finds nothing: look first
                if name in self.visited and not self._any_match(name, new, self.scanned[name]):
                    found = None
                else:
                    found = self._scan(name, new, self.scanned[name])
                    self.visited.add(name)
                self.scanned[name] |= new
                self.canon_scanned[name] |= {
                    canonical_email(k.value) for k in new if k.kind is IdentityKind.EMAIL
                }
                rows = found.num_rows if found is not None else 0
                # said after the scan, with what it found: "searched with 2 identifiers"
                # is not "found 2 identifiers"
                self.progress(
                    f"round {self.round}: {name} searched with {len(new)} identifier(s)"
                    f" not tried there before: {rows} row(s)"
                )
                if found is not None and found.num_rows:
                    self.pending[name].append(found)
                    self._promote(name)
            if not work:
                self.round -= 1  # the pass that found nothing to do is no round
                return self.round > started

    def _promote(self, name: str) -> None:
        """Move pending rows that now match a known identifier into the results, and learn."""
        if not self.pending[name]:
            return
        waiting = pa.concat_tables(self.pending[name])
        hits = [
            i
            for i, row in enumerate(self._row_keys(name, waiting))
            if any(k in self.owners for k in row.values())
        ]
        if not hits:
            return
        matched = waiting.take(_positions(hits))
        rest = sorted(set(range(waiting.num_rows)) - set(hits))
        self.pending[name] = [waiting.take(_positions(rest))] if rest else []
        self.rows[name].append(matched)
        self._learn(name, matched)
        self._promote(name)  # what was just learned may match more of the waiting rows

    def _row_keys(self, name: str, found: pa.Table) -> list[dict[str, SubjectKey]]:
        cols = self.catalog.tables[name].identity_columns()
        data = {c: found.column(ID_PREFIX + c).to_pylist() for c in cols}
        return [
            {c: SubjectKey(kind, data[c][i]) for c, kind in cols.items() if data[c][i] is not None}
            for i in range(found.num_rows)
        ]

    def _learn(self, name: str, found: pa.Table) -> None:
        """Add what strongly matched rows reveal: their other strong and weak identifiers."""
        for row in self._row_keys(name, found):
            strong = {c: k for c, k in row.items() if k.kind in STRONG}
            for via in strong.values():
                for person in tuple(self.owners.get(via, ())):
                    for col, key in row.items():
                        self._add(person, Provenance(key, name, col, via, self.round))
        self._check_size()

    def _check_size(self) -> None:
        for person in self.people:
            counts: dict[IdentityKind, int] = defaultdict(int)
            for key in person.provenance:
                counts[key.kind] += 1
            for kind, count in counts.items():
                if kind in STRONG and count > self.rules.max_identifiers:
                    raise OverMatchError(
                        person.request.label, kind, count, self.rules.max_identifiers
                    )

    def bootstrap_weak_seeds(self) -> None:
        """A request given only weak identifiers (a phone) is anchored to one person, if any."""
        weak_only = [
            i for i, p in enumerate(self.people) if not any(k.kind in STRONG for k in p.keys)
        ]
        if not weak_only:
            return
        for name in self.expansion_tables + self.other_tables:
            kinds = set(self.catalog.tables[name].identity_columns().values())
            keys = {k for i in weak_only for k in self.people[i].keys if k.kind in kinds}
            if not keys or not self._strong_cols(self.catalog.tables[name]):
                continue
            found = self._scan(name, keys, set())
            for i in weak_only:
                mine = self.people[i].keys
                for row in self._row_keys(name, found):
                    via = next((k for k in row.values() if k in mine), None)
                    if via is None:
                        continue
                    for col, key in row.items():
                        if key.kind in STRONG:
                            self._add(i, Provenance(key, name, col, via, 0))
        for i in weak_only:
            person = self.people[i]
            for kind in STRONG:
                people = len(person.values(kind))
                if kind is IdentityKind.USER_ID and people > 1:
                    seed = next(k for k in person.request.keys)
                    raise AmbiguousIdentifierError(person.request.label, seed.kind, people)

    # ---- assignment ----------------------------------------------------------------------

    def results(self) -> list[SubjectData]:
        shared = self._shared_weak_keys()
        self._weak_beside_others(shared)
        out = [
            SubjectData(p, shared=frozenset(s)) for p, s in zip(self.people, shared, strict=True)
        ]
        for name, parts in self.rows.items():
            found = pa.concat_tables(parts)
            keep: dict[int, list[int]] = defaultdict(list)
            for index, row in enumerate(self._row_keys(name, found)):
                for person in {p for k in row.values() for p in self.owners.get(k, ())}:
                    verdict = self._verdict(person, row, shared[person])
                    if verdict is Verdict.KEEP:
                        keep[person].append(index)
                    elif verdict is Verdict.SET_ASIDE:
                        aside = out[person].set_aside
                        aside[name] = aside.get(name, 0) + 1
            original = [c for c in found.column_names if not c.startswith(ID_PREFIX)]
            for person, indices in keep.items():
                rows = found.select(original).take(_positions(indices))
                out[person].tables[name] = _in_order(rows, self.catalog.tables[name])
        self._processor_matches(out)
        return out

    def _verdict(self, person: int, row: dict[str, SubjectKey], shared: set[SubjectKey]) -> Verdict:
        mine = self.people[person].keys
        strong = [k for k in row.values() if k.kind in STRONG]
        if any(k in mine for k in strong):
            return Verdict.KEEP
        if strong:
            return Verdict.OTHER
        weak_hits = [k for k in row.values() if k in mine]
        return Verdict.SET_ASIDE if any(k in shared for k in weak_hits) else Verdict.KEEP

    def _shared_weak_keys(self) -> list[set[SubjectKey]]:
        """Per person: weak identifiers also seen in a row with someone else's strong identifier."""
        shared: list[set[SubjectKey]] = [set() for _ in self.people]
        for name, parts in self.rows.items():
            for row in self._row_keys(name, pa.concat_tables(parts)):
                strong = [k for k in row.values() if k.kind in STRONG]
                weak = [k for k in row.values() if k.kind not in STRONG]
                if not strong or not weak:
                    continue
                for key in weak:
                    for person in self.owners.get(key, ()):
                        mine = self.people[person].keys
                        if not any(k in mine for k in strong):
                            shared[person].add(key)
        return shared

    def _weak_beside_others(self, shared: list[set[SubjectKey]]) -> None:
        """Per person, add to `shared` their weak identifiers found, in a row holding no
        strong identifier, beside a value not theirs that some row shows beside an identifier
        not theirs either: Alice's device in an anonymous row with Bob's cookie (the cookie is
        in a row with Bob's user id). Such a row is no one's alone: it is set aside for review
        for both, and erasure unlinks it rather than deleting it. One scan per table that
        holds such values, and only when a weak-only row holds one (two weak columns)."""
        beside: list[tuple[int, SubjectKey, SubjectKey]] = []  # person, theirs, the other
        for name, parts in self.rows.items():
            for row in self._row_keys(name, pa.concat_tables(parts)):
                values = set(row.values())
                if len(values) < 2 or any(k.kind in STRONG for k in values):
                    continue
                for key in values:
                    for person in self.owners.get(key, ()):
                        mine = self.people[person].keys
                        beside += [(person, key, other) for other in values if other not in mine]
        if not beside:
            return
        others = {other for _, _, other in beside}
        seen_with: dict[SubjectKey, set[SubjectKey]] = defaultdict(set)
        for name, table in self.catalog.tables.items():
            keys = {k for k in others if k.kind in set(table.identity_columns().values())}
            if table.role is not Role.CONTROLLER or not keys:
                continue
            for row in self._row_keys(name, self._scan(name, keys, set())):
                values = set(row.values())
                for key in values & keys:
                    seen_with[key] |= values - {key}
        for person, key, other in beside:
            mine = self.people[person].keys
            if any(k not in mine for k in seen_with[other]):
                shared[person].add(key)

    def _processor_matches(self, out: list[SubjectData]) -> None:
        """Rows in tables held for customers: counted per customer, never collected."""
        for name, table in self.catalog.tables.items():
            if table.role is not Role.PROCESSOR or not table.identity_columns():
                continue
            kinds = set(table.identity_columns().values())
            keys = {k for k in self.owners if k.kind in kinds}
            if not keys:
                continue
            found = self._scan(name, keys, set())
            held_for = found.column(table.held_for).to_pylist() if table.held_for else []
            for index, row in enumerate(self._row_keys(name, found)):
                for person in {p for k in row.values() for p in self.owners.get(k, ())}:
                    counts = out[person].held_as_processor.setdefault(name, {})
                    customer = str(held_for[index]) if held_for else "unknown"
                    counts[customer] = counts.get(customer, 0) + 1
