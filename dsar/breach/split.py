"""Account holders kept apart: one affected person per account, whatever identifier joins them.

Access answers a closure: two accounts whose rows share an address (a team inbox two accounts
sign in with) or are joined by a row holding one's id and the other's email (a ticket filed
by one for the other) are one requester there. A breach must not do that: each account holder
is told on their own, at their own address, and counted in their own country.

Both searches (`scope_breach`'s set search and per-person search) find the people as access
does; this step, shared by both, then splits every person holding two or more values of an
account key (the primary key of an identity's home table, such as `accounts.user_id`, that
has a row there):

- each account's identifiers: its own home row's, then those of every row reached from them
  (rows holding one of its strong identifiers), except that a row holding another account's
  key teaches it nothing and an identifier held by another account's home row (and not by its
  own) is never its (a team inbox both home rows hold is both accounts');
- each row in scope the joined person held goes to every account whose identifiers it holds
  (a ticket holding bob's id and carol's email reaches both: conservative); a row reaching
  none of them goes to all of them;
- each account is described from its own rows: its home row's address and country first.

The rows in scope that reach two or more account holders are counted per table. Nothing here
logs or returns an identifier in a message.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace

from dsar.breach.people import AffectedPerson, contact_channel, first_address
from dsar.catalog.models import Catalog, IdentityKind, PersonalKind, Role, Table
from dsar.engine.base import Engine, quote_identifier, sql_in
from dsar.errors import IdentifierError
from dsar.subjects.identity import (
    STRONG,
    MatchRules,
    SubjectKey,
    email_forms,
    idna_key,
    make_key,
    sql_normalize,
)

_COUNTRY = re.compile(r"^(country|country_code|.*_country)$", re.IGNORECASE)
_STATE = re.compile(r"^(state|state_code|region|province)$", re.IGNORECASE)
_ID = "__split_id__"

Holders = dict[str, list[frozenset[int]]]  # per table: each row in scope's person numbers
# (table, rows in scope's indices) -> each row's identifiers (an owned row's: its anchor's),
# in column order (`row_anchor_keys`)
Anchors = Callable[[str, Sequence[int]], list[tuple[SubjectKey, ...]]]


@dataclass
class Split:
    """The people after the split, each row in scope's holders, and the rows in scope that
    reached two or more account holders (per table)."""

    people: list[AffectedPerson]
    holders: Holders
    several: dict[str, int]


def account_homes(catalog: Catalog) -> dict[IdentityKind, list[tuple[str, str]]]:
    """Per account kind: its home tables and their key column (a one-column primary key of a
    strong identity kind that references no other table)."""
    homes: dict[IdentityKind, list[tuple[str, str]]] = defaultdict(list)
    for name, table in catalog.tables.items():
        if len(table.primary_key) != 1 or table.role is not Role.CONTROLLER:
            continue
        spec = table.columns.get(table.primary_key[0])
        if spec is not None and spec.identity in STRONG and spec.references is None:
            homes[spec.identity].append((name, table.primary_key[0]))
    return dict(homes)


@dataclass
class _Row:
    table: str
    keys: frozenset[SubjectKey]
    values: dict[str, object]


def _keys(table: Table, row: dict[str, object]) -> frozenset[SubjectKey]:
    return frozenset(
        idna_key(SubjectKey(kind, str(row[_ID + column])))
        for column, kind in table.identity_columns().items()
        if row.get(_ID + column) is not None
    )


def _read(
    engine: Engine, catalog: Catalog, rules: MatchRules, wanted: set[SubjectKey]
) -> list[_Row]:
    """Every row of a searched table holding one of `wanted` (strong keys), with its keys."""
    out: list[_Row] = []
    for name, table in catalog.tables.items():
        ids = table.identity_columns()
        if table.role is not Role.CONTROLLER or not table.personal:
            continue
        terms: list[str] = []
        params: list[object] = []
        for column, kind in ids.items():
            values = sorted({k.value for k in wanted if k.kind is kind})
            if kind is IdentityKind.EMAIL:  # each address under both IDNA forms
                values = sorted({f for v in values for f in email_forms(v)})
            if kind in STRONG and values:
                terms.append(
                    sql_in(sql_normalize(kind, quote_identifier(column), rules), values, params)
                )
        if not terms:
            continue
        helpers = ", ".join(
            f"{sql_normalize(k, quote_identifier(c), rules)} AS {quote_identifier(_ID + c)}"
            for c, k in ids.items()
        )
        real = engine.query(f"SELECT * FROM {quote_identifier(name)} LIMIT 0").schema.names
        described = [  # what describes a person: identifiers (contact), names, residence
            quote_identifier(c)
            for c in real
            if c in table.columns
            and (
                c in ids
                or table.columns[c].personal is PersonalKind.NAME
                or _COUNTRY.match(c)
                or _STATE.match(c)
            )
        ]
        found = engine.query(
            f"SELECT {', '.join([*described, helpers])} FROM {quote_identifier(name)}"
            f" WHERE {' OR '.join(terms)}",
            params,
        ).to_pylist()
        for r in found:
            keys = _keys(table, r)
            out.append(_Row(name, keys, {c: v for c, v in r.items() if not c.startswith(_ID)}))
    return out


def _strong(keys: Iterable[SubjectKey]) -> set[SubjectKey]:
    return {k for k in keys if k.kind in STRONG}


def _accounts(
    person: AffectedPerson, rows: Sequence[_Row], homes: dict[IdentityKind, list[tuple[str, str]]]
) -> tuple[IdentityKind, list[SubjectKey]] | None:
    """The account kind the person joins two or more accounts of, and those accounts."""
    best: tuple[IdentityKind, list[SubjectKey]] | None = None
    for kind in sorted(homes, key=str):
        tables = {t for t, _ in homes[kind]}
        held = sorted(
            {
                k
                for r in rows
                if r.table in tables
                for k in r.keys
                if k.kind is kind and k in person.keys
            },
            key=str,
        )
        if len(held) >= 2 and (best is None or len(held) > len(best[1])):
            best = (kind, held)
    return best


def _closure(
    account: SubjectKey, others: set[SubjectKey], rows: Sequence[_Row], home_tables: set[str]
) -> tuple[set[SubjectKey], list[_Row]]:
    """The account's identifiers and the rows that taught them (see the module's text)."""
    own_home = [r for r in rows if r.table in home_tables and account in r.keys]
    mine = {k for r in own_home for k in r.keys}
    claimed = {k for r in rows if r.table in home_tables and r.keys & others for k in r.keys} - mine
    known = {account} | _strong(frozenset(mine))
    used: list[_Row] = []
    todo = [r for r in rows if not (r.keys & others)]
    while True:
        grown = [r for r in todo if _strong(r.keys) & known]
        if not grown:
            break
        todo = [r for r in todo if not (_strong(r.keys) & known)]
        used += grown
        known |= {k for r in grown for k in _strong(r.keys)} - claimed
    weak = {k for r in used for k in r.keys if k.kind not in STRONG} - claimed
    return known | weak, used


def _contact(
    catalog: Catalog,
    account: SubjectKey,
    used: Sequence[_Row],
    keys: set[SubjectKey],
    homes: set[str],
) -> SubjectKey | None:
    """An account holder's address: the one on their own account row (never one another row
    holds, a ticket's requester, who may be another person), else the phone on that row
    (never one reached through another row: red team 26 r5 F1), else None (no contact
    channel: no letter)."""
    own = [r for r in used if r.table in homes and account in r.keys]
    address = next(
        (
            found
            for row in sorted(own, key=lambda r: list(catalog.tables).index(r.table))
            if (found := first_address(catalog.tables[row.table], row.values)) is not None
        ),
        None,
    )
    phones = {k for r in own for k in r.keys if k.kind is IdentityKind.PHONE}
    return contact_channel(keys, holder=True, address=address, own_phones=phones)


def _describe(
    catalog: Catalog, account: SubjectKey, used: Sequence[_Row], homes: set[str]
) -> tuple[str | None, str | None, frozenset[str]]:
    """Country, state (the account's home row first, then its other rows in catalog order)
    and names."""
    order = list(catalog.tables)
    country = state = None
    names: set[str] = set()
    ranked = sorted(
        used, key=lambda r: (r.table not in homes or account not in r.keys, order.index(r.table))
    )
    for row in ranked:
        table = catalog.tables[row.table]
        for column, value in row.values.items():
            spec = table.columns.get(column)
            if spec is None or value in (None, ""):
                continue
            if spec.personal is PersonalKind.NAME:
                names.add(str(value).casefold().strip())
            elif country is None and _COUNTRY.match(column):
                country = str(value).strip().upper()
            elif state is None and _STATE.match(column):
                state = str(value).strip().upper()
    return country, state, frozenset(names)


def _union(
    people: Sequence[AffectedPerson], holders: Holders
) -> tuple[list[AffectedPerson], Holders]:
    """People sharing a strong identifier made one, as the set search's closure makes them
    (a batch of access requests can leave two requests that learned a shared address from
    rows found for the other apart); numbered by their first, rows counted again."""
    parent = {p.number: p.number for p in people}

    def find(n: int) -> int:
        while parent[n] != n:
            parent[n] = parent[parent[n]]
            n = parent[n]
        return n

    first: dict[SubjectKey, int] = {}
    for person in sorted(people, key=lambda p: p.number):
        for key in _strong(person.keys):
            if key in first:
                a, b = find(first[key]), find(person.number)
                parent[max(a, b)] = min(a, b)
            else:
                first[key] = person.number
    if all(find(n) == n for n in parent):
        return list(people), holders
    keys: dict[int, set[SubjectKey]] = defaultdict(set)
    for person in people:
        keys[find(person.number)] |= person.keys
    kept = sorted((p for p in people if find(p.number) == p.number), key=lambda p: p.number)
    number = {p.number: i + 1 for i, p in enumerate(kept)}
    new_holders = {
        name: [frozenset(number[find(n)] for n in numbers) for numbers in listed]
        for name, listed in holders.items()
    }
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    for name, listed in new_holders.items():
        for numbers in listed:
            for n in numbers:
                counts[n][name] = counts[n].get(name, 0) + 1
    joined = {find(n) for n in parent if find(n) != n}
    out = [
        replace(
            p,
            number=number[p.number],
            keys=frozenset(keys[p.number]),
            rows=counts[number[p.number]] if p.number in joined else p.rows,
        )
        for p in kept
    ]
    return out, new_holders


def split_accounts(
    engine: Engine,
    catalog: Catalog,
    rules: MatchRules,
    people: Sequence[AffectedPerson],
    anchors: Anchors,
    holders: Holders,
    *,
    closed: bool = False,
) -> Split:
    """Split every person joining two or more accounts into one person per account.

    `anchors(table, indices)`: those rows in scope's identifiers (an owned row's: its
    anchor's), asked only for rows a split person holds; `holders`: per breached table,
    each row in scope's person numbers (as found).
    People are renumbered in order: a split person's accounts take its place, in the order of
    their keys. `closed`: no two people share a strong identifier already (the set search's
    closures), so none is joined first (`_union`).
    """
    if not closed:
        people, holders = _union(people, holders)
    homes = account_homes(catalog)
    joined = [
        p for p in people if any(sum(1 for k in p.keys if k.kind is kind) > 1 for kind in homes)
    ]
    rows: list[_Row] = []
    if joined:
        rows = _read(engine, catalog, rules, {k for p in joined for k in _strong(p.keys)})
    by_key: dict[SubjectKey, list[int]] = defaultdict(list)  # strong key -> rows holding it
    for i, row in enumerate(rows):
        for key in _strong(row.keys):
            by_key[key].append(i)
    parts: dict[int, list[tuple[AffectedPerson, set[SubjectKey]]]] = {}
    on_accounts: dict[int, set[SubjectKey]] = {}  # per person split: its accounts' rows' keys
    for person in joined:
        theirs = [rows[i] for i in sorted({i for k in person.keys for i in by_key.get(k, ())})]
        found = _accounts(person, theirs, homes)
        if found is None:
            continue
        kind, accounts = found
        kind_homes = {t for t, _ in homes[kind]}
        on_accounts[person.number] = {k for r in theirs if r.table in kind_homes for k in r.keys}
        split = []
        for account in accounts:
            keys, used = _closure(account, set(accounts) - {account}, theirs, kind_homes)
            country, state, names = _describe(catalog, account, used, kind_homes)
            contact = _contact(catalog, account, used, keys, kind_homes)
            split.append(
                (
                    replace(
                        person,
                        keys=frozenset(keys),
                        account_holder=True,
                        rows={},
                        contact=contact,
                        country=country,
                        state=state,
                        names=names,
                    ),
                    keys,
                )
            )
        parts[person.number] = split
    if not parts:
        return Split(list(people), holders, {})
    renumber: dict[int, list[int]] = {}
    out: list[AffectedPerson] = []
    for person in sorted(people, key=lambda p: p.number):
        if person.number not in parts:
            renumber[person.number] = [len(out) + 1]
            out.append(replace(person, number=len(out) + 1))
            continue
        renumber[person.number] = []
        for piece, _ in parts[person.number]:
            renumber[person.number].append(len(out) + 1)
            out.append(replace(piece, number=len(out) + 1))
    by_number = {p.number: p for p in out}
    # a row in scope of a person split whose identifiers are on none of its accounts' rows
    # (a bookkeeper's own ticket, from the address 40 accounts' tickets name) is also the
    # row's own person's: someone without an account, written to at that address (red team
    # 26 r5 F7); the accounts that used the address are still reached (conservative)
    own_person: dict[frozenset[SubjectKey], int] = {}
    new_holders: Holders = {}
    several: dict[str, int] = {}
    for name, listed in holders.items():
        new_rows: list[frozenset[int]] = []
        wanted = [i for i, numbers in enumerate(listed) if numbers & parts.keys()]
        held = dict(zip(wanted, anchors(name, wanted) if wanted else [], strict=True))
        for i, numbers in enumerate(listed):
            now: set[int] = set()
            for number in numbers:
                if number not in parts:
                    now.update(renumber[number])
                    continue
                reached = [
                    new
                    for new, (_, keys) in zip(renumber[number], parts[number], strict=True)
                    if keys.intersection(held[i])
                ]
                now.update(reached or renumber[number])  # reaching none of them: all of them
                strong = frozenset(_strong(held[i]))
                if strong and not strong & on_accounts[number]:
                    if strong not in own_person:
                        own_person[strong] = len(out) + 1
                        out.append(_without_account(len(out) + 1, strong, held[i]))
                        by_number[len(out)] = out[-1]
                    now.add(own_person[strong])
            new_rows.append(frozenset(now))
            if sum(1 for n in now if by_number[n].account_holder) > 1:
                several[name] = several.get(name, 0) + 1
        new_holders[name] = new_rows
    # rows per table of the people split (the others keep what the search counted)
    split_numbers = {n for number in parts for n in renumber[number]} | set(own_person.values())
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    for name, listed in new_holders.items():
        for numbers in listed:
            for n in numbers & split_numbers:
                counts[n][name] = counts[n].get(name, 0) + 1
    # an account of a joined person that no row in scope reaches is not affected
    kept = [p for p in out if p.number not in split_numbers or counts[p.number]]
    final = {p.number: i + 1 for i, p in enumerate(kept)}
    out = [
        replace(p, number=final[p.number], rows=counts[p.number])
        if p.number in split_numbers
        else replace(p, number=final[p.number])
        for p in kept
    ]
    new_holders = {
        name: [frozenset(final[n] for n in numbers) for numbers in listed]
        for name, listed in new_holders.items()
    }
    return Split(out, new_holders, several)


def _without_account(
    number: int, keys: frozenset[SubjectKey], row: Sequence[SubjectKey]
) -> AffectedPerson:
    """The person a row's own identifiers name (`keys`: the strong ones of `row`, the row's
    identifiers in column order), with no account: written to at the row's first address,
    as the searches write to someone without an account (else its phone)."""
    address = next((k for k in row if k.kind is IdentityKind.EMAIL and k in keys), None)
    contact = contact_channel(keys, holder=False, address=address)
    return AffectedPerson(number=number, keys=keys, account_holder=False, contact=contact)


def row_keys(table: Table, row: dict[str, object], rules: MatchRules) -> list[SubjectKey]:
    """A row's (or its anchor's) identifiers, in column order, normalised as the searches
    normalise them; a value that is no identifier of its kind is skipped."""
    keys = []
    for column, kind in table.identity_columns().items():
        value = row.get(column)
        if value is None:
            continue
        try:
            keys.append(idna_key(make_key(kind, str(value), rules)))
        except IdentifierError:
            continue
    return keys


def row_anchor_keys(
    table: Table, anchor: dict[str, object], rules: MatchRules
) -> tuple[SubjectKey, ...]:
    """A row's (or its anchor's) identifiers, normalised as the searches normalise them, in
    column order (a row's first address is its person's channel: `_without_account`)."""
    return tuple(dict.fromkeys(row_keys(table, anchor, rules)))


def home_tables(catalog: Catalog) -> set[str]:
    """Tables that are an identity's home (an account table): a one-column primary key of a
    strong identity kind that references no other table."""
    homes = set()
    for name, table in catalog.tables.items():
        if len(table.primary_key) != 1 or table.role is not Role.CONTROLLER:
            continue
        spec = table.columns.get(table.primary_key[0])
        if spec is not None and spec.identity in STRONG and spec.references is None:
            homes.add(name)
    return homes


@dataclass
class WeakReach:
    """The people after the weak reach, each row in scope's holders, the rows in scope that
    reach two or more account holders, and how many account holders were reached only
    through a weak or shared identifier (their own phone in a leaked row)."""

    people: list[AffectedPerson]
    holders: Holders
    several: dict[str, int] | None  # None: no row changed hands (keep the split's count)
    weak_only: int


def _home_weak(
    engine: Engine, catalog: Catalog, rules: MatchRules, wanted: set[SubjectKey]
) -> dict[SubjectKey, set[SubjectKey]]:
    """Each weak identifier of `wanted` that an account's home row holds: those accounts."""
    out: dict[SubjectKey, set[SubjectKey]] = defaultdict(set)
    for kind_homes in account_homes(catalog).values():
        for name, key_column in kind_homes:
            table = catalog.tables[name]
            key_kind = table.columns[key_column].identity
            assert key_kind is not None
            key_sql = sql_normalize(key_kind, quote_identifier(key_column), rules)
            for column, kind in table.identity_columns().items():
                values = sorted({k.value for k in wanted if k.kind is kind})
                if kind in STRONG or not values:
                    continue
                params: list[object] = []
                expr = sql_normalize(kind, quote_identifier(column), rules)
                found = engine.query(
                    f"SELECT {expr} AS __weak, {key_sql} AS __account"
                    f" FROM {quote_identifier(name)}"
                    f" WHERE {sql_in(expr, values, params)} AND {key_sql} IS NOT NULL",
                    params,
                ).to_pylist()
                for row in found:
                    out[SubjectKey(kind, str(row["__weak"]))].add(
                        idna_key(SubjectKey(key_kind, str(row["__account"])))
                    )
    return out


def home_weak_kinds(catalog: Catalog) -> set[IdentityKind]:
    """The weak identifier kinds an account's home row holds (a phone in `accounts`)."""
    kinds: set[IdentityKind] = set()
    for kind_homes in account_homes(catalog).values():
        for name, _ in kind_homes:
            kinds |= {
                k for k in catalog.tables[name].identity_columns().values() if k not in STRONG
            }
    return kinds


def reach_by_weak(
    engine: Engine,
    catalog: Catalog,
    rules: MatchRules,
    people: Sequence[AffectedPerson],
    anchors: Anchors,
    holders: Holders,
    sizes: dict[str, int],
) -> WeakReach:
    """Every account holder whose own home row holds a weak identifier (a phone, a device)
    found in a row in scope is affected by that row: access does not hand a row to someone
    on a weak or shared identifier alone (it would disclose another's data), but a breach
    asks whose data leaked, and the leaked number is theirs. A shared landline in a leaked
    row reaches every account holding it; a requester's ticket giving an account's phone
    reaches the requester and that account.

    `sizes`: rows in scope per breached table. An account holder not reached before is added
    (numbered after the others, described from their own rows as `split_accounts` describes
    a split account); one reached already takes the row too. Runs after `split_accounts`,
    for both searches alike."""
    weak_kinds = home_weak_kinds(catalog)
    if not weak_kinds:
        return WeakReach(list(people), holders, None, 0)
    from dsar.breach.filters import table_chain

    row_weak: dict[str, list[tuple[int, frozenset[SubjectKey]]]] = {}
    for name, size in sizes.items():
        anchor = catalog.tables[table_chain(catalog, name)[-1]]
        if not weak_kinds & set(anchor.identity_columns().values()):
            continue  # no row of it can hold an account's weak identifier
        found = anchors(name, range(size)) if size else []
        row_weak[name] = [
            (i, weak)
            for i, k in enumerate(found)
            if (weak := frozenset(x for x in k if x.kind in weak_kinds))
        ]
    wanted = {k for rows in row_weak.values() for _, weak in rows for k in weak}
    if not wanted:
        return WeakReach(list(people), holders, None, 0)
    owners = _home_weak(engine, catalog, rules, wanted)
    reached: set[SubjectKey] = {a for accounts in owners.values() for a in accounts}
    if not reached:
        return WeakReach(list(people), holders, None, 0)
    out = list(people)
    number_of: dict[SubjectKey, int] = {}
    for person in out:
        if person.account_holder:
            for key in person.keys & reached:
                number_of.setdefault(key, person.number)
    new = sorted(reached - number_of.keys(), key=str)
    if new:
        rows = _read(engine, catalog, rules, set(new))
        homes = account_homes(catalog)
        for account in new:
            kind_homes = {t for t, _ in homes[account.kind]}
            theirs = [r for r in rows if account in r.keys]
            keys, used = _closure(account, set(new) - {account}, theirs, kind_homes)
            country, state, names = _describe(catalog, account, used, kind_homes)
            person = AffectedPerson(
                number=len(out) + 1,
                keys=frozenset(keys),
                account_holder=True,
                contact=_contact(catalog, account, used, keys, kind_homes),
                country=country,
                state=state,
                names=names,
            )
            number_of[account] = person.number
            out.append(person)
    by_number = {p.number: p for p in out}
    gained: dict[int, dict[str, int]] = defaultdict(dict)
    new_holders: Holders = {name: list(listed) for name, listed in holders.items()}
    for name, rows_weak in row_weak.items():
        listed = new_holders.setdefault(name, [frozenset()] * sizes[name])
        for i, weak in rows_weak:
            numbers = {number_of[a] for k in weak for a in owners.get(k, ())}
            added = numbers - listed[i]
            if not added:
                continue
            listed[i] = listed[i] | added
            for n in added:
                gained[n][name] = gained[n].get(name, 0) + 1
    for n, per in gained.items():
        person = by_number[n]
        rows_now = dict(person.rows)
        for name, count in per.items():
            rows_now[name] = rows_now.get(name, 0) + count
        by_number[n] = replace(person, rows=rows_now)
    final = [by_number[p.number] for p in out]
    several = {
        name: count
        for name, listed in new_holders.items()
        if (count := sum(1 for ns in listed if sum(by_number[n].account_holder for n in ns) > 1))
    }
    if not gained:
        return WeakReach(list(people), holders, None, 0)
    return WeakReach(final, new_holders, several, len(new))
