"""Which rows a breach touched, and whose they are: the access search run over the rows in scope.

The rows in scope are read with one query per breached table (`dsar.breach.filters`: the
time window and the `--where` conditions, values bound as parameters). Their people are
found by the access search itself (`dsar.subjects.collect`), not by a second implementation of it:

1. seeds: each row's strong identifiers (an owned row's come from the parent row that has
   them, to any depth); a row with weak identifiers only (an anonymous log line's device)
   seeds the strong identifiers seen beside that weak one anywhere in the export;
2. `collect` answers one request per distinct seed set, in one pass, exactly as `dsar
   access` would for a person giving those identifiers (the closure over strong
   identifiers, weak ones kept only when not shared, owned rows through their parents);
3. a person is affected when the rows access would give them include a row in scope; the
   requests that reach one closure are one person.

Rows in scope no one's access reaches (a device shared by two accounts, a device never seen
with an account) are counted as not linked; rows of tables held for customers are counted
per customer, never resolved (the customer is the controller and is told instead).
Nothing here logs or returns an identifier in a message: counts, tables and columns only.
"""

from __future__ import annotations

import json
import logging
from collections import Counter, defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Literal

import pyarrow as pa
import pyarrow.compute as pc

from dsar.breach.columns import VALUE_SAMPLE, read_from_values, unflagged
from dsar.breach.filters import (
    ScopeSpec,
    check_spec,
    down_the_chain,
    table_chain,
    time_column,
)
from dsar.breach.people import (
    AffectedPerson as AffectedPerson,
    contact_channel,
    first_address,
    other_places,
    place_cell,
)
from dsar.breach.places import COUNTRY_COLUMN, STATE_COLUMN
from dsar.breach.setsearch import set_search, supported
from dsar.breach.split import (
    home_tables,
    reach_by_weak,
    row_anchor_keys,
    row_keys,
    split_accounts,
)
from dsar.breach.times import plain_where, rows_in_scope
from dsar.catalog.models import Catalog, DataCategory, IdentityKind, PersonalKind, Role, Table
from dsar.engine.base import Engine, quote_identifier, sql_in
from dsar.engine.guards import guard_catalog
from dsar.errors import AmbiguousIdentifierError, IdentifierError, OverMatchError, UsageError
from dsar.subjects.collect import SubjectData, collect
from dsar.subjects.identity import (
    STRONG,
    MatchRules,
    SubjectKey,
    SubjectRequest,
    make_key,
    with_catalog_rules,
)

log = logging.getLogger(__name__)

_COUNTRY, _STATE = COUNTRY_COLUMN, STATE_COLUMN


@dataclass
class Scope:
    """The rows in scope and the people they reach (counts, and the people in memory)."""

    spec: ScopeSpec
    rows: dict[str, int]  # rows in scope per table
    columns: dict[str, tuple[str, ...]]  # leaked columns per table
    people: list[AffectedPerson]
    not_linked: dict[str, int]  # rows in scope whose person access cannot tell
    held_for_customers: dict[str, dict[str, int]]  # processor tables: rows per customer
    texts: dict[str, list[tuple[str | None, int | None]]] = field(default_factory=dict)
    # per table: the free-text columns whose cells `texts` holds, a row's cells in this order
    text_columns: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # per table: the rows in scope grouped by which leaked columns hold a value (not null,
    # not blank) -> (rows, their people's numbers); counts and numbers only, no values
    filled: dict[str, dict[frozenset[str], tuple[int, frozenset[int]]]] = field(
        default_factory=dict
    )
    time_columns: dict[str, str | None] = field(default_factory=dict)
    # per table: leaked columns the catalog does not flag and whose name says nothing, whose
    # values in scope are ID, card or bank account numbers or secrets -> their category
    # (`dsar.breach.columns.read_from_values`, a sample per column); names only, no values
    by_values: dict[str, dict[str, str]] = field(default_factory=dict)
    accepted: tuple[str, ...] = ()  # catalog warnings accepted to run (names, no values)
    undetermined: dict[str, int] = field(default_factory=dict)  # rows kept: time unreadable
    several_accounts: dict[str, int] = field(default_factory=dict)  # rows reaching 2+ accounts
    orphans: dict[str, int] = field(default_factory=dict)  # rows kept: parent row missing
    # rows given to no one: their parent key is held by more than one person's parent rows
    set_aside: dict[str, int] = field(default_factory=dict)
    end_users: dict[str, dict[str, int]] = field(default_factory=dict)  # processor: per customer
    weak_only: int = 0  # account holders reached only by a weak or shared identifier of theirs
    # per table: accounts a row in scope names in a column that is no identity of the row
    # (a message's recipient, a ticket's agent: `references:` an account table) and that
    # are no person reached; counted, never resolved (red team 26 r5 F17)
    referenced: dict[str, int] = field(default_factory=dict)
    referenced_total: int = 0  # the same accounts over every table, each once
    # people reached whose rows in scope hold no value in a leaked column: not in `people`
    # (nothing of theirs leaked, red team 26 r6 F10); and such rows per table
    nothing_leaked: int = 0
    rows_nothing_leaked: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # how times were read, merges (no values)

    @property
    def account_holders(self) -> int:
        """People with an account."""
        return sum(1 for p in self.people if p.account_holder)

    @property
    def without_account(self) -> int:
        """People reached with no account (a requester, a contact, an employee)."""
        return len(self.people) - self.account_holders

    @property
    def held_end_users(self) -> int:
        """End users reached in data held for customers (each customer's counted apart)."""
        return sum(sum(per.values()) for per in self.end_users.values())

    @property
    def held_customers(self) -> int:
        """Customers (controllers) whose end users the breach reached."""
        return len({c for per in self.end_users.values() for c in per})

    @property
    def total_rows(self) -> int:
        """Rows in scope, every table."""
        return sum(self.rows.values())


def _fingerprint(row: dict[str, object], skip: Collection[str] = ()) -> str:
    """A row's content; `skip`: time columns read as text in scope (typed in collect's rows)."""
    if skip:
        row = {k: v for k, v in row.items() if k not in skip}
    return json.dumps(row, sort_keys=True, default=str)


def _has_value(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """Per cell: does it hold a value (not null; a text not blank)."""
    valid = pc.is_valid(column)
    if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        blank = pc.equal(pc.utf8_trim_whitespace(column), "")
        valid = pc.and_(valid, pc.invert(pc.fill_null(blank, False)))
    return valid


def filled_groups(
    rows: pa.Table, columns: Sequence[str], holders: Sequence[frozenset[int]] | None = None
) -> dict[frozenset[str], tuple[int, frozenset[int]]]:
    """The rows grouped by which of `columns` hold a value: per set of columns, the rows
    and the people (`holders`: each row's people's numbers, in order; None: no one's).
    Rows with no value in any of the columns are left out."""
    present = [c for c in columns if c in rows.column_names]
    bits: list[list[int]] = []  # per block of 62 columns: each row's bit mask
    for start in range(0, len(present), 62):
        mask = pa.chunked_array([pa.array([0] * rows.num_rows, pa.int64())])
        for bit, column in enumerate(present[start : start + 62]):
            has = pc.cast(_has_value(rows.column(column)), pa.int64())
            mask = pc.add(mask, pc.multiply(has, pa.scalar(1 << bit, pa.int64())))
        bits.append(mask.to_pylist())
    if not bits:
        return {}
    keys: list[tuple[int, ...]] = list(zip(*bits, strict=True))
    rows_per = Counter(keys)
    people_per: dict[tuple[int, ...], set[int]] = defaultdict(set)
    if holders is not None:
        for key, held in zip(keys, holders, strict=True):
            if held:
                people_per[key].update(held)
    out = {}
    for key, count in rows_per.items():
        if not any(key):  # no value in any of the columns
            continue
        names = frozenset(
            present[block * 62 + bit]
            for block, value in enumerate(key)
            for bit in range(62)
            if value >> bit & 1
        )
        out[names] = (count, frozenset(people_per.get(key, ())))
    return out


def _orphans(engine: Engine, catalog: Catalog, name: str, spec: ScopeSpec) -> pa.Table:
    """Rows of `name` (an owned table whose window is read on an ancestor) that meet the
    `--where` conditions but whose parent chain reaches no row of that ancestor (an order
    line pointing to a missing order): their time cannot be known, so they cannot be placed
    outside the window."""
    placed = time_column(catalog, name)
    assert placed is not None
    top = placed[0]
    chain = table_chain(catalog, name)
    level = chain.index(top)
    # no time condition: a table whose window is read on an ancestor has no date or
    # timestamp column of its own (`dsar.breach.times.rows_in_scope`)
    own = catalog.tables[chain[level - 1]].owned_through
    assert own is not None
    sql = (
        f"SELECT * FROM {quote_identifier(chain[level - 1])} WHERE"
        f" CAST({quote_identifier(own.column)} AS VARCHAR) IN (SELECT"
        f" CAST({quote_identifier(own.parent_column)} AS VARCHAR) FROM {quote_identifier(top)})"
    )
    sql = down_the_chain(catalog, chain, level, sql)
    first: list[object] = []
    second: list[object] = []
    every = (
        f"SELECT * FROM {quote_identifier(name)} WHERE {plain_where(catalog, name, spec, first)}"
    )
    reached = f"SELECT * FROM ({sql}) WHERE {plain_where(catalog, name, spec, second)}"
    return engine.query(f"{every} EXCEPT ALL {reached}", first + second)


def _anchor_rows(
    engine: Engine, catalog: Catalog, name: str, rows: pa.Table
) -> list[dict[str, object]]:
    """For each row in scope of an owned table, the identity columns of the first ancestor
    that has them (same order; an orphan row gives {})."""
    chain = table_chain(catalog, name)
    current: list[dict[str, object]] = rows.to_pylist()
    own = catalog.tables[name].owned_through
    if own is None:
        return current
    keys: list[str | None] = [
        None if r.get(own.column) is None else str(r.get(own.column)) for r in current
    ]
    for parent in chain[1:]:
        table = catalog.tables[parent]
        own_parent = table.owned_through
        pk_column = catalog.tables[chain[chain.index(parent) - 1]].owned_through
        assert pk_column is not None
        wanted = sorted({k for k in keys if k is not None})
        if not wanted:
            return [{} for _ in current]
        params: list[object] = []
        key_sql = f"CAST({quote_identifier(pk_column.parent_column)} AS VARCHAR)"
        found = engine.query(
            f"SELECT {key_sql} AS __key, * FROM {quote_identifier(parent)}"
            f" WHERE {sql_in(key_sql, wanted, params)}",
            params,
        ).to_pylist()
        by_key = {str(r["__key"]): r for r in found}
        if own_parent is None or table.identity_columns():
            return [by_key.get(k, {}) if k is not None else {} for k in keys]
        keys = [
            None
            if k is None or k not in by_key or by_key[k].get(own_parent.column) is None
            else str(by_key[k][own_parent.column])
            for k in keys
        ]
    return [{} for _ in current]


def _weak_neighbours(
    engine: Engine, catalog: Catalog, weak: set[SubjectKey], rules: MatchRules
) -> dict[SubjectKey, set[SubjectKey]]:
    """Each weak identifier's strong neighbours: strong identifiers in a row beside it."""
    from dsar.subjects.identity import sql_normalize

    out: dict[SubjectKey, set[SubjectKey]] = defaultdict(set)
    for name, table in catalog.tables.items():
        if table.role is not Role.CONTROLLER or not table.personal:
            continue
        ids = table.identity_columns()
        strong = {c: k for c, k in ids.items() if k in STRONG}
        if not strong:
            continue
        for column, kind in ids.items():
            values = sorted({k.value for k in weak if k.kind is kind})
            if kind in STRONG or not values:
                continue
            params: list[object] = []
            expr = sql_normalize(kind, quote_identifier(column), rules)
            picks = ", ".join(quote_identifier(c) for c in strong)
            found = engine.query(
                f"SELECT {expr} AS __weak, {picks} FROM {quote_identifier(name)}"
                f" WHERE {sql_in(expr, values, params)}",
                params,
            ).to_pylist()
            for row in found:
                key = SubjectKey(kind, str(row["__weak"]))
                out[key].update(row_keys(table, row, rules))
    return out


def _phones(table: Table, rows: pa.Table, rules: MatchRules) -> set[SubjectKey]:
    """The phones `rows` of `table` hold (as access reads them; placeholders none)."""
    out = set()
    for column, kind in table.identity_columns().items():
        if kind is not IdentityKind.PHONE or column not in rows.column_names:
            continue
        for value in rows.column(column).to_pylist():
            if value is not None:
                try:
                    out.add(make_key(kind, str(value), rules))
                except IdentifierError:
                    continue
    return out


def _describe_person(
    catalog: Catalog, data: SubjectData, number: int, homes: set[str], rules: MatchRules
) -> AffectedPerson:
    keys = frozenset(data.identity.keys)
    address = None
    holder = any(name in data.tables for name in homes)
    # the first address of their account's row; for someone without an account, of any row
    # (an account holder's is never one another row holds: it may be another person's)
    for name in [*sorted(homes), *catalog.tables]:
        if holder and name not in homes:
            break
        rows = data.tables.get(name)
        if address is None and rows is not None and rows.num_rows:
            address = first_address(catalog.tables[name], rows.slice(0, 1).to_pylist()[0])
    own = (  # the phones on their account row (a letter's channel without an address)
        {
            key
            for name in sorted(homes)
            if (rows := data.tables.get(name)) is not None
            for key in _phones(catalog.tables[name], rows, rules)
        }
        if holder and address is None
        else set()
    )
    contact = contact_channel(keys, holder=holder, address=address, own_phones=own)
    country = state = None
    names: set[str] = set()
    pairs: set[tuple[str | None, str | None]] = set()
    for name, rows in data.tables.items():
        table = catalog.tables[name]
        where = [
            next((c for c in rows.column_names if c in table.columns and p.match(c)), None)
            for p in (_COUNTRY, _STATE)
        ]
        if where != [None, None]:  # every (country, state) of a row, its two cells together
            cells = [rows.column(c).to_pylist() if c else [None] * rows.num_rows for c in where]
            pairs.update((place_cell(c), place_cell(s)) for c, s in zip(*cells, strict=True))
        for column in rows.column_names:
            spec = table.columns.get(column)
            if spec is None:
                continue
            values = [v for v in rows.column(column).to_pylist() if v not in (None, "")]
            if spec.personal is PersonalKind.NAME:
                names.update(str(v).casefold().strip() for v in values)
            elif country is None and _COUNTRY.match(column) and values:
                country = str(values[0]).strip().upper()
            elif state is None and _STATE.match(column) and values:
                state = str(values[0]).strip().upper()
    return AffectedPerson(
        number=number,
        keys=keys,
        account_holder=holder,
        contact=contact,
        country=country,
        state=state,
        elsewhere=other_places(pairs, country, state),
        names=frozenset(names),
    )


def scope_breach(
    engine: Engine,
    spec: ScopeSpec,
    *,
    rules: MatchRules | None = None,
    accept_catalog_warnings: bool | Collection[str] = False,
    method: Literal["set", "per-person"] = "set",
) -> Scope:
    """The rows in scope and the people access reaches through them.

    `method` "set" (the default) finds every person at once in a few SQL statements
    (`dsar.breach.setsearch`); "per-person" answers one access request per seed through
    `collect`, as access does (the reference the set search is tested against; also used
    where the catalog's shape is one the set search does not cover, see `setsearch.supported`).

    The engine's catalog names the tables; `spec` is checked against it first, and a
    catalog that could give one person's rows to another is refused as access refuses it
    (`dsar.engine.guards`), unless its warnings are accepted (recorded in `accepted`).

    Raises:
        UsageError: the spec names what the catalog does not have (see `check_spec`).
        CollisionProneCatalogError: the catalog's identity shortcuts, not accepted.
    """
    catalog = engine.catalog
    rules = with_catalog_rules(rules, catalog)  # the catalog's phone_region unless given
    leaked = check_spec(catalog, spec)
    accepted = guard_catalog(catalog, engine, accept_catalog_warnings)
    in_scope: dict[str, dict[str, int]] = {}  # table -> fingerprint -> rows with it
    row_seeds: dict[str, list[list[SubjectKey]]] = {}
    rows_count: dict[str, int] = {}
    held: dict[str, dict[str, int]] = {}
    row_prints: dict[str, list[str]] = {}  # per-person search: each row in scope's content
    times: dict[str, str | None] = {}
    use_set = method == "set" and supported(catalog, spec.tables)
    scoped: dict[str, pa.Table] = {}
    skipped: dict[str, tuple[str, ...]] = {}
    notes: list[str] = []
    undetermined: dict[str, int] = {}
    orphans: dict[str, int] = {}
    end_users: dict[str, dict[str, int]] = {}  # processor tables: end users per customer
    filled: dict[str, dict[frozenset[str], tuple[int, frozenset[int]]]] = {}
    for name in spec.tables:
        table = catalog.tables[name]
        placed = time_column(catalog, name)
        times[name] = f"{placed[0]}.{placed[1]}" if placed else None
        rows, read, as_text = rows_in_scope(engine, catalog, name, spec)
        skipped[name] = as_text
        if placed is not None and placed[0] != name and not spec.window.open:
            lost = _orphans(engine, catalog, name, spec)
            if lost.num_rows:  # kept in scope, linked to no one (parent missing)
                orphans[name] = lost.num_rows
                rows = pa.concat_tables([rows, lost.cast(rows.schema)])
                notes.append(
                    f"{lost.num_rows} row(s) of {name} point to a parent row that is missing:"
                    " their time cannot be known, so they are kept in scope, linked to no one"
                    " (parent missing)"
                )
        if read is not None:
            notes += read.notes
            if read.undetermined:
                undetermined[name] = read.undetermined
        rows_count[name] = rows.num_rows
        log.info("%s: %d row(s) in scope", name, rows.num_rows)
        if not table.personal or table.role is Role.PROCESSOR:  # no one's (people: 0)
            filled[name] = filled_groups(rows, leaked[name])
        if not table.personal:
            continue
        if table.role is Role.PROCESSOR:
            customers: dict[str, int] = defaultdict(int)
            users: dict[str, set[object]] = defaultdict(set)
            column = rows.column(table.held_for).to_pylist() if table.held_for else []
            for i, row in enumerate(rows.to_pylist()):
                customer = str(column[i]) if column and column[i] is not None else "unknown"
                customers[customer] += 1
                # an end user: their identifiers (a row with none counts as one on its own)
                ids = frozenset(row_keys(table, row, rules))
                users[customer].add(ids if ids else ("row", i))
            held[name] = dict(customers)
            end_users[name] = {c: len(u) for c, u in users.items()}
            continue
        scoped[name] = rows
        if use_set:
            continue
        listed = rows.to_pylist()
        prints: dict[str, int] = defaultdict(int)
        row_prints[name] = [_fingerprint(row, as_text) for row in listed]
        for fp in row_prints[name]:
            prints[fp] += 1
        in_scope[name] = dict(prints)
        anchors = _anchor_rows(engine, catalog, name, rows) if table.owned_through else listed
        anchor_table = (
            catalog.tables[table_chain(catalog, name)[-1]] if table.owned_through else table
        )
        row_seeds[name] = [row_keys(anchor_table, a, rules) for a in anchors]
    if use_set:
        try:
            found = set_search(engine, catalog, scoped, rules) if scoped else None
        except OverMatchError as exc:
            raise _too_many(exc) from None
        people, holders = (found.people, found.holders) if found else ([], {})
        set_aside = found.set_aside if found else {}
    else:
        set_aside = {}
        people, holders = _per_person(
            engine, catalog, rules, row_seeds, in_scope, row_prints, skipped
        )
    _phone_requesters(engine, catalog, rules, scoped, skipped, people, holders)
    scope = Scope(
        spec=spec,
        rows=rows_count,
        columns=leaked,
        people=people,
        not_linked={},
        held_for_customers=held,
        time_columns=times,
        accepted=tuple(w.line for w in accepted),
        undetermined=undetermined,
        orphans=orphans,
        set_aside=set_aside,
        end_users=end_users,
        filled=filled,
        notes=list(notes),
    )
    return _finish(engine, scope, rules, scoped, holders, closed=use_set)


def _phone_requesters(
    engine: Engine,
    catalog: Catalog,
    rules: MatchRules,
    scoped: dict[str, pa.Table],
    skipped: dict[str, tuple[str, ...]],
    people: list[AffectedPerson],
    holders: dict[str, list[frozenset[int]]],
) -> None:
    """People without an account known by a phone alone (red team 26c F4): a row in scope
    linked to no one whose only identifiers are phones is the person's whom access, given
    that phone, hands the row to (a caller's ticket). Each such phone is asked as access
    would be asked (`collect`), and a person holding no strong identifier whose rows include
    the row is added (to `people`, and to the row's `holders`); a phone of an account
    holder, or shared, leads nowhere new. A device or cookie id alone still links no one."""
    asked: dict[SubjectKey, list[tuple[str, int]]] = defaultdict(list)
    for name, rows in scoped.items():
        table = catalog.tables[name]
        if table.owned_through is not None or name not in holders:
            continue
        for i, row in enumerate(rows.to_pylist()):
            if holders[name][i]:
                continue
            keys = row_keys(table, row, rules)
            if keys and all(k.kind is IdentityKind.PHONE for k in keys):
                for key in set(keys):
                    asked[key].append((name, i))
    if not asked:
        return
    phones = sorted(asked, key=str)
    requests = [SubjectRequest(f"P-{i}", (k,)) for i, k in enumerate(phones)]
    try:
        found = collect(engine, catalog, requests, rules)
    except (OverMatchError, AmbiguousIdentifierError):
        return  # a phone of several people: no one's alone, left linked to no one
    homes = home_tables(catalog)
    for phone, data in zip(phones, found, strict=True):
        if any(k.kind in STRONG for k in data.identity.keys):
            continue
        hits: dict[str, int] = defaultdict(int)
        reached: list[tuple[str, int]] = []
        for name, i in asked[phone]:
            own = data.tables.get(name)
            if own is None:
                continue
            prints = {_fingerprint(r, skipped.get(name, ())) for r in own.to_pylist()}
            row = scoped[name].slice(i, 1).to_pylist()[0]
            if _fingerprint(row, skipped.get(name, ())) in prints and not holders[name][i]:
                hits[name] += 1
                reached.append((name, i))
        if not reached:
            continue
        person = _describe_person(catalog, data, len(people) + 1, homes, rules)
        person.rows = dict(hits)
        people.append(person)
        for name, i in reached:
            holders[name][i] = frozenset({person.number})


def _per_person(
    engine: Engine,
    catalog: Catalog,
    rules: MatchRules,
    row_seeds: dict[str, list[list[SubjectKey]]],
    in_scope: dict[str, dict[str, int]],
    row_prints: dict[str, list[str]],
    skipped: dict[str, tuple[str, ...]],
) -> tuple[list[AffectedPerson], dict[str, list[frozenset[int]]]]:
    """The people and each row in scope's holders, one access request per seed (`collect`):
    `row_seeds`, each row in scope's (or its anchor's) identifiers; `in_scope`, per table the
    rows in scope by content; `row_prints`, each row's content in order."""
    # seeds: one request per distinct set of strong identifiers of a row in scope
    seed_sets: set[frozenset[SubjectKey]] = set()
    weak_alone: set[SubjectKey] = set()
    for seeds in row_seeds.values():
        for keys in seeds:
            strong = frozenset(k for k in keys if k.kind in STRONG)
            if strong:
                seed_sets.add(strong)
            else:
                weak_alone.update(keys)
    if weak_alone:
        for strong_keys in _weak_neighbours(engine, catalog, weak_alone, rules).values():
            for key in strong_keys:
                seed_sets.add(frozenset({key}))
    ordered = sorted(seed_sets, key=lambda s: sorted(map(str, s)))
    requests = [SubjectRequest(f"B-{i}", tuple(sorted(s, key=str))) for i, s in enumerate(ordered)]
    try:
        found = collect(engine, catalog, requests, rules) if requests else []
    except OverMatchError as exc:  # its request label (B-17) means nothing to the analyst
        raise _too_many(exc) from None
    homes = home_tables(catalog)
    people: list[AffectedPerson] = []
    seen: dict[frozenset[SubjectKey], AffectedPerson] = {}
    holder_of: dict[str, dict[str, set[int]]] = defaultdict(dict)  # table -> print -> people
    for data in found:
        closure = frozenset(k for k in data.identity.keys if k.kind in STRONG)
        if closure in seen:
            continue
        hits: dict[str, int] = {}
        mine: dict[str, list[str]] = {}
        for name, prints in in_scope.items():
            rows = data.tables.get(name)
            if rows is None:
                continue
            own = {_fingerprint(r, skipped.get(name, ())) for r in rows.to_pylist()}
            matched = [p for p in own if p in prints]
            if matched:
                hits[name] = sum(prints[p] for p in matched)
                mine[name] = matched
        if not hits:
            continue
        person = _describe_person(catalog, data, len(people) + 1, homes, rules)
        person.rows = hits
        seen[closure] = person
        people.append(person)
        for name, matched in mine.items():
            for p in matched:
                holder_of[name].setdefault(p, set()).add(person.number)
    holders = {
        name: [frozenset(holder_of[name].get(fp, ())) for fp in prints]
        for name, prints in row_prints.items()
    }
    return people, holders


def _finish(
    engine: Engine,
    scope: Scope,
    rules: MatchRules,
    scoped: dict[str, pa.Table],
    holders: dict[str, list[frozenset[int]]],
    *,
    closed: bool,
) -> Scope:
    """What both searches do last: account holders split apart (`dsar.breach.split`), the
    rows linked to no one, each leaked text's owner, and the notes on joined accounts.
    `closed`: the people are closures already (the set search's), none shares a strong
    identifier with another."""
    catalog = engine.catalog

    def anchors(name: str, indices: Sequence[int]) -> list[tuple[SubjectKey, ...]]:
        table = catalog.tables[name]
        rows = scoped[name].take(list(indices))
        listed = _anchor_rows(engine, catalog, name, rows) if table.owned_through else None
        anchor = catalog.tables[table_chain(catalog, name)[-1]]
        return [row_anchor_keys(anchor, row, rules) for row in (listed or rows.to_pylist())]

    done = split_accounts(engine, catalog, rules, scope.people, anchors, holders, closed=closed)
    sizes = {name: rows.num_rows for name, rows in scoped.items()}
    weak = reach_by_weak(engine, catalog, rules, done.people, anchors, done.holders, sizes)
    scope.people = weak.people
    if unkeyed := _unkeyed_people(catalog, rules, scoped, scope.people, weak.holders):
        scope.notes.append(
            f"{unkeyed} person(s) without an account found by the contact or name columns of"
            " rows in scope of a table with no identity column (a list of names and"
            " addresses): each distinct address (else number, else name) is one person,"
            " counted and written to at that address (without one: no contact channel)"
        )
    scope.several_accounts = done.several if weak.several is None else weak.several
    scope.weak_only = weak.weak_only
    owners = {name: [min(h) if h else None for h in rows] for name, rows in weak.holders.items()}
    not_linked = {name: sum(1 for o in owners[name] if o is None) for name in scoped}
    scope.not_linked = {k: v for k, v in not_linked.items() if v}
    log.info(
        "%d people reached through %d row(s); %d row(s) not linked to anyone",
        len(scope.people),
        sum(scope.rows.values()),
        sum(not_linked.values()),
    )
    for name, rows in scoped.items():  # per table: rows and people per filled columns
        scope.filled[name] = filled_groups(rows, scope.columns[name], weak.holders[name])
    _set_apart_nothing_leaked(scope, scoped, weak.holders)
    for name, rows in scoped.items():  # per table: unflagged columns read by their values
        plain = [c for c in scope.columns[name] if unflagged(catalog, name, c)]
        # a sample: the first values in scope (read_from_values reads VALUE_SAMPLE non-blank)
        read = read_from_values(
            catalog,
            name,
            {c: pc.drop_null(rows.column(c)).slice(0, 2 * VALUE_SAMPLE).to_pylist() for c in plain},
        )
        if read:
            scope.by_values[name] = read
    for name, rows in scoped.items():  # per table: (text, owner number) per free-text cell
        free = [c for c in scope.columns[name] if catalog.tables[name].columns[c].free_text]
        if not free:
            continue
        cells = {c: rows.column(c).to_pylist() for c in free}
        scope.text_columns[name] = tuple(free)
        scope.texts[name] = [
            (None if cells[c][i] is None else str(cells[c][i]), owners[name][i])
            for i in range(rows.num_rows)
            for c in free
        ]
    if weak.weak_only:
        scope.notes.append(
            f"{weak.weak_only} account holder(s) reached only through a weak or shared"
            " identifier of their own account (a phone) found in a row in scope: each is"
            " counted and told, though access would not hand them that row"
        )
    if scope.several_accounts:
        scope.notes.append(
            f"{sum(scope.several_accounts.values())} row(s) in scope reach more than one"
            " account holder"
            " (an identifier two accounts share, such as a team inbox, or a row holding one's"
            " id and another's address): each account holder is counted, written to and"
            " placed in their country on their own"
        )
    scope.notes += _merged(catalog, scope.people)
    scope.referenced, scope.referenced_total = _referenced(catalog, rules, scoped, scope.people)
    if scope.referenced:
        tables = ", ".join(f"{n} {c}" for n, c in sorted(scope.referenced.items()))
        scope.notes.append(
            f"WARNING: {scope.referenced_total} other account holder(s) are named by"
            f" the rows in scope ({tables}) in a column that references an account but is"
            " no identity of the row (a message's recipient, a ticket's agent): their id and"
            " what the row says of them leaked; they are not in affected.parquet and get no"
            " letter: decide whether they are affected (find them with dsar access by that id)"
        )
    if scope.end_users:
        scope.notes.append(
            f"{scope.held_end_users} end user(s) of {scope.held_customers} customer(s) reached"
            " in data held as a processor: tell each customer (their controller) without undue"
            " delay (Art. 33(2)) with their own counts; the customers are listed in"
            " controllers.parquet"
        )
    return scope


def _set_apart_nothing_leaked(
    scope: Scope, scoped: dict[str, pa.Table], holders: dict[str, list[frozenset[int]]]
) -> None:
    """Take out of `scope.people` those whose rows in scope hold no value in any leaked
    column (red team 26 r6 F10): `--columns phone` leaks nothing of a person whose tickets
    have no phone. They are reached but nothing of theirs leaked, so they are not among the
    people concerned, get no letter and count in no place's threshold; `nothing_leaked`
    counts them, and `rows_nothing_leaked` the rows in scope with no value in a leaked
    column (per table). A person no row's holders name (none known) is kept."""
    linked = {n for rows in holders.values() for held in rows for n in held}
    touched = {n for name in scoped for _, numbers in scope.filled[name].values() for n in numbers}
    apart = linked - touched
    scope.rows_nothing_leaked = {
        name: rest
        for name in scoped
        if (rest := scope.rows[name] - sum(c for c, _ in scope.filled[name].values())) > 0
    }
    if not apart:
        return
    scope.people = [p for p in scope.people if p.number not in apart]
    scope.nothing_leaked = len(apart)
    scope.notes.append(
        f"NOTICE: {len(apart)} person(s) reached by rows in scope that hold no value in the"
        " leaked columns: nothing of theirs leaked, so they are not counted among the people"
        " concerned, get no letter and are not in affected.parquet (scope.json:"
        " counts.nothing_leaked)"
    )


def _unkeyed_people(
    catalog: Catalog,
    rules: MatchRules,
    scoped: dict[str, pa.Table],
    people: list[AffectedPerson],
    holders: dict[str, list[frozenset[int]]],
) -> int:
    """People in rows in scope of a table with no identity column (a `subject_requests:
    false` catalog's list of names and addresses, red team 26 r5 F15), added to `people` and
    `holders` and counted: rows linked to no one that hold an address (`personal: email`, or
    a `category: contact` column's email-shaped value) or a phone (`personal: phone`) are one
    person per address or number, rows with a name only one per name."""
    added = 0
    for name, rows in scoped.items():
        table = catalog.tables[name]
        if table.identity_columns() or name not in holders:
            continue
        present = {c: spec for c, spec in table.columns.items() if c in rows.column_names}
        emails = [
            c
            for c, spec in present.items()
            if spec.personal is PersonalKind.EMAIL
            or (spec.personal is None and spec.category is DataCategory.CONTACT)
        ]
        phones = [c for c, spec in present.items() if spec.personal is PersonalKind.PHONE]
        named = [c for c, spec in present.items() if spec.personal is PersonalKind.NAME]
        if not (emails or phones or named):
            continue
        by_tag: dict[object, AffectedPerson] = {}
        for i, row in enumerate(rows.to_pylist()):
            if holders[name][i]:
                continue
            keys: list[SubjectKey] = []
            for column, kind in [(c, IdentityKind.EMAIL) for c in emails] + [
                (c, IdentityKind.PHONE) for c in phones
            ]:
                value = row.get(column)
                if value is None or (kind is IdentityKind.EMAIL and "@" not in str(value)):
                    continue
                try:
                    keys.append(make_key(kind, str(value), rules))
                except IdentifierError:
                    continue
            names = {
                str(row[c]).casefold().strip()
                for c in named
                if row.get(c) is not None and str(row[c]).strip()
            }
            tags: list[object] = [*keys] or [("name", n) for n in sorted(names)]
            if not tags:
                continue
            person = next((by_tag[t] for t in tags if t in by_tag), None)
            if person is None:
                geo = {c: str(v).strip().upper() for c, v in row.items() if v not in (None, "")}
                person = AffectedPerson(
                    number=len(people) + 1,
                    keys=frozenset(keys),
                    account_holder=False,
                    contact=contact_channel(keys, holder=False),
                    country=next((v for c, v in geo.items() if _COUNTRY.match(c)), None),
                    state=next((v for c, v in geo.items() if _STATE.match(c)), None),
                    names=frozenset(names),
                )
                people.append(person)
                added += 1
            for tag in tags:
                by_tag.setdefault(tag, person)
            person.rows[name] = person.rows.get(name, 0) + 1
            holders[name][i] = frozenset({person.number})
    return added


def _referenced(
    catalog: Catalog,
    rules: MatchRules,
    scoped: dict[str, pa.Table],
    people: Sequence[AffectedPerson],
) -> tuple[dict[str, int], int]:
    """Per table in scope: the distinct accounts its rows name through a column that is no
    identity of the row but `references:` an account table's key (a message's recipient),
    less those of the people reached; and how many distinct accounts that is over every
    table (one named by two tables is one data subject). Counts only."""
    homes = home_tables(catalog)
    reached = {k for p in people for k in p.keys}
    out: dict[str, int] = {}
    everywhere: set[SubjectKey] = set()
    for name, rows in scoped.items():
        named: set[SubjectKey] = set()
        for column, spec in catalog.tables[name].columns.items():
            if spec.identity is not None or not spec.references or column not in rows.column_names:
                continue
            table, _, key = spec.references.partition(".")
            home = catalog.tables.get(table)
            if table not in homes or home is None or tuple(home.primary_key) != (key,):
                continue
            kind = home.columns[key].identity
            assert kind is not None  # a home table's key is an identity (`home_tables`)
            for value in rows.column(column).to_pylist():
                if value is None:
                    continue
                try:
                    named.add(make_key(kind, str(value), rules))
                except IdentifierError:
                    continue
        if count := len(named - reached):
            out[name] = count
            everywhere |= named - reached
    return out, len(everywhere)


def _merged(catalog: Catalog, people: Sequence[AffectedPerson]) -> list[str]:
    """A warning (counts only) for people whose identifiers hold two or more account keys
    (two user ids joined through an address or number they share, a team inbox): access
    answers them as one person, so they get one letter and one country."""
    kinds = {
        catalog.tables[h].columns[catalog.tables[h].primary_key[0]].identity
        for h in home_tables(catalog)
    }
    notes = []
    for kind in sorted(k for k in kinds if k is not None):
        joined = [p for p in people if sum(1 for k in p.keys if k.kind is kind) > 1]
        if joined:
            accounts = sum(sum(1 for k in p.keys if k.kind is kind) for p in joined)
            notes.append(
                f"WARNING: {len(joined)} affected person(s) join {accounts} {kind}s (accounts"
                " linked through an identifier they share, such as a team inbox or a ticket"
                " naming another's address): each is counted, written to and placed in one"
                " country as one person; check them with dsar access before notifying"
            )
    return notes


def _too_many(exc: OverMatchError) -> UsageError:
    return UsageError(
        "--max-identifiers",
        f"a row in scope leads to a person with {exc.count} identifiers of kind"
        f" {str(exc.kind)!r} (limit {exc.limit}): a shared identifier (a team billing"
        " address) probably joins several people",
        "check the identity provenance with dsar access for one of the rows, then raise"
        " --max-identifiers only if this really is one person or an address several account"
        f" holders share (a bookkeeper's, a team inbox: above {exc.count}; breach scope keeps"
        " each account holder apart, and the address's own rows are its holder's, a person"
        " without an account), or narrow the scope",
    )


def people_by_number(scope: Scope) -> dict[int, AffectedPerson]:
    """The affected people by their number."""
    return {p.number: p for p in scope.people}


def check_tables(catalog: Catalog, names: Sequence[str]) -> None:
    """Refuse unknown table names (for callers that take them before a spec)."""
    check_spec(catalog, ScopeSpec(tuple(names)))
