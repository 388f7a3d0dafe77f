"""Primary keys and links between tables, decided from the values over every row.

A key is a column whose values are all present and all different (checked exactly). A link
is a column whose distinct values all lie within another table's key: cheap tests on the
samples (same type, value shapes, names) choose the pairs worth checking (`plan_counts`),
and all of them are then checked exactly over every row in one statement
(`dsar.draft.counts.count_tables`),
which also counts every table's rows and the distinct values of its may-be keys; `decide`
reads the keys and links from the counts. A few orphans (rows whose parent was deleted: at
most 5% of a column's distinct values) do not undo a link; the share is said. A column
whose values lie within its own table's key is a self-reference only where its name says
so (a manager, a parent, a reply_to) or its values are no dense integers (which fit any
key 1..n): it is written as a reference to that key, and is no link between tables (no
ownership, no identity). A polymorphic column (Rails' `<stem>_type` + `<stem>_id`, Django's
`content_type` + `object_id`, Salesforce's `WhoId`/`WhatId`) points at several tables: it
is no one table's link or identity, whatever its values fit, and is listed to confirm.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, replace

from dsar.catalog.models import ColumnType, IdentityKind
from dsar.draft.counts import Check, Counted, Share, share
from dsar.draft.model import Confidence, Link, TableDraft
from dsar.draft.profile import ColumnProfile, TableProfile
from dsar.draft.shapes import tokens

_ID_WORDS = {"id", "key", "ref", "no", "nr", "num", "number", "code", "uuid", "sub", "pk", "fk"}
_SHAPE_SAMPLE = 200  # sampled values below which text shapes compare by leading letters only
_SHAPE = re.compile(r"^[^\W\d]*")
_FEW = 20  # distinct numbers below which their spread tells nothing
_DENSE = 1.5  # a range at most this many times its distinct values is dense
_PERSON_ROLE = re.compile(
    r"(?i)owner|actor|(^|_)by($|_)|[a-z]By$|author|assignee|assigned|customer|client|user"
    r"|member|buyer|seller|patient|student|employee|staff|agent|person|account|subscriber"
    r"|recipient|sender|requester|reporter|creator|editor|uploader|host|guest|driver|rider"
    r"|liker|follow(?:er|ed|ee)|reviewer|voter|rater|commenter|poster|viewer|blocker"
    r"|inviter|invitee|referrer|payer|payee|caller|callee"
    r"|manager|clerk|operator|handler|salesperson|(?:^|_|sales|support)rep(?:$|_|id)"
    r"|(?-i:(?<=[a-z])Rep(?:Id)?$)"
)
_SELF_HINT = re.compile(
    r"(?i)parent|manager|referr|report|supervis|mentor|sponsor|invit|boss|lead|owner|(^|_)by$"
    r"|repl(?:y|ied)|previous|prev(?:$|_|[A-Z])|predecessor|successor|original|ancestor"
    r"|merged|duplicate|supersed|replace|spouse|sibling|(^|_)root(?:$|_|[A-Z])|child"
)
_DIGITS = re.compile(r"^[0-9]{1,18}$")
_ORPHANS = 0.05  # share of a link's distinct values that may be missing from the key
_TYPE_WORDS = ("type", "class", "model")  # Rails' and Laravel's `<stem>_type`
_CLASS_NAME = re.compile(r"^[A-Z][A-Za-z0-9]*(?:::[A-Z][A-Za-z0-9]*)*$")
_GENERIC_OBJECT = ("object_id", "object_pk", "objectid", "objectpk")  # Django's
_SALESFORCE_POLY = ("whoid", "whatid")  # a contact or a lead; an account, an opportunity...
_SALESFORCE_ID = re.compile(r"^[a-zA-Z0-9]{15,}$")  # 15 or 18 characters, the first 3 the object


def id_named(name: str) -> bool:
    """Whether a column's name says it holds an identifier (`CustomerId`, `user_id`)."""
    words = tokens(name)
    return bool(words) and (words[-1] in _ID_WORDS or name.lower().endswith("id"))


def _norm(name: str) -> str:
    return "".join(tokens(name))


def _singular(word: str) -> str:
    if word.endswith("ies"):
        return word[:-3] + "y"
    return word[:-1] if word.endswith("s") and not word.endswith("ss") else word


def generic(name: str) -> bool:
    """Whether a key's name says only that it is a key (`id`, `pk`, `uuid`), not whose."""
    return set(tokens(name)) <= _ID_WORDS


def name_score(column: str, parent: str, key: str, own: str | None = None) -> int:
    """2: the same name as the key (or the parent's name + the key's); 1: a word shared.
    A generic key name (`id`) shared is no agreement: every table's key is `id`. Given the
    column's `own` table, a word of its name that is a word of that table's name is no
    abbreviation of another's (`post_author` of wp_posts says nothing of wp_postmeta)."""
    c, k = _norm(column), _norm(key)
    ours = (_singular(_norm(parent)) + k, _norm(parent) + k)
    if c in ours or (c == k and not generic(key)):
        return 2
    words = {_singular(w) for w in tokens(column)} - _ID_WORDS
    theirs = {_singular(w) for w in tokens(parent) + tokens(key)} - _ID_WORDS
    if words & theirs:
        return 1
    # an abbreviation: cust_id -> customers, usr -> users
    mine = {_singular(w) for w in tokens(own)} if own is not None else set()
    return int(any(len(w) >= 3 and t.startswith(w) for w in words - mine for t in theirs))


def _words(name: str) -> set[str]:
    return {_singular(w) for w in tokens(name)} - _ID_WORDS


def named_for(column: str, table: str) -> bool:
    """Whether a column's name is `table`'s, an identifier's words aside (`user_id` of
    users, `customer_id` of customers): a name that only shares a word with it points at no
    one table (`subscriber_id` of email_subscribers and of sms_subscribers; Magento's
    `entity_id` of every `*_entity` table)."""
    words = _words(column)
    return bool(words) and words == _words(table)


def names_table(column: str, table: str) -> bool:
    """Whether a column's name names a table (`user_id` names auth_user, `cust_id`
    customers): a word of it, an identifier's words aside, is one of the table's name."""
    words = {_singular(w) for w in tokens(column)} - _ID_WORDS
    theirs = {_singular(w) for w in tokens(table)} - _ID_WORDS
    if words & theirs:
        return True
    return any(len(w) >= 3 and t.startswith(w) for w in words for t in theirs)


def person_named(name: str) -> bool:
    """Whether a column's name names a person's role (owner, actor, created_by, customer)."""
    return bool(_PERSON_ROLE.search(name))


def dense(col: ColumnProfile, values: Sequence[object] = (), few: int = _FEW) -> bool:
    """Whether a column's values fill most of a range of small integers (1..n), or are fewer
    than `few` distinct numbers: such values fit any other 1..m key, so that they lie in one
    tells little. Text that is all digits is read as integers from the sampled `values`;
    other text (codes, UUIDs) is not dense."""
    low, high, distinct = col.low, col.high, col.distinct
    if col.kind is ColumnType.STRING:
        digits = [str(v).strip() for v in values]
        if not digits or not all(d.isdigit() and len(d) <= 18 for d in digits):
            return False
        low, high = min(map(int, digits)), max(map(int, digits))
        distinct = distinct or len(set(digits))
    elif col.kind is not ColumnType.INTEGER:
        return False
    if low is None or high is None or not distinct:
        return False
    return distinct < few or high - low + 1 <= _DENSE * distinct


def unique_key(col: ColumnProfile, rows: int) -> bool:
    """Whether a column is a key of its `rows`: every value present and all different. A
    placeholder (`keine`, `-`: `dsar.draft.profile.PLACEHOLDERS`) is no value: a column whose
    real values are all different is a key of them where placeholders fill at most half of
    the rows and no row is null."""
    return bool(
        rows
        and col.non_null
        and col.non_null + col.placeholders == rows
        and col.distinct == col.non_null
        and 2 * col.placeholders <= rows
    )


def _key_candidates(prof: TableProfile, linkable: Callable[[str, str], bool]) -> list[str]:
    """Columns that may be keys: present and all different in the sample (a key is; the
    exact count over every row decides)."""
    return [
        c
        for c, p in prof.columns.items()
        if p.keyish and linkable(prof.name, c) and unique_key(p, prof.rows)
    ]


@dataclass(frozen=True)
class CountPlan:
    """What the counting statement counts: the columns that may be keys, per table, and
    the pairs whose values are checked."""

    candidates: dict[str, list[str]]
    checks: list[Check]


def plan_counts(
    profiles: Mapping[str, TableProfile], linkable: Callable[[str, str], bool]
) -> CountPlan:
    """The keys and links worth counting, from the samples: `linkable` may allow more
    columns than the final verdict (`decide` keeps only those it allows then)."""
    candidates = {n: _key_candidates(p, linkable) for n, p in profiles.items()}
    shapes: dict[tuple[str, str], frozenset[tuple[int, str]]] = {}

    def shapes_of(prof: TableProfile, column: str) -> frozenset[tuple[int, str]]:
        if (prof.name, column) not in shapes:
            shapes[(prof.name, column)] = _shapes(prof.values(column))
        return shapes[(prof.name, column)]

    checks = [
        Check(child.name, col.name, parent.name, key)
        for child in profiles.values()
        for col in child.columns.values()
        if col.keyish and linkable(child.name, col.name)
        for parent in profiles.values()
        if parent is not child or col.name not in candidates[child.name]
        for key in candidates[parent.name]
        if _may_fit(child, col, parent, key, shapes_of)
    ]
    # ids written as text ("17", "00000042") against integer keys, and back: counted read as
    # integers, and as written (the engine compares them so)
    checks += [
        Check(child.name, col.name, parent.name, key, compare)
        for child in profiles.values()
        for col in child.columns.values()
        if col.keyish and linkable(child.name, col.name)
        for parent in profiles.values()
        if parent is not child
        for key in candidates[parent.name]
        if _may_fit_as_integers(child, col, parent, key)
        for compare in ("integer", "text")
    ]
    # a column whose sample alone has more than twice the distinct values of a key read
    # whole (a table of 40 staff against 250,000 customers' names) cannot have even half of
    # them in it: nothing is decided from such a check, so it is not counted
    checks = [
        c
        for c in checks
        if not _cannot_hold(profiles[c.child], c.column, profiles[c.parent], c.key)
    ]
    return CountPlan(candidates, checks)


def _cannot_hold(child: TableProfile, column: str, parent: TableProfile, key: str) -> bool:
    """Whether `parent.key`, sampled whole, has fewer than half the distinct values that
    `child.column`'s sample already shows."""
    held, shown = parent.columns[key].distinct, child.columns[column].distinct
    return parent.whole and held is not None and shown is not None and held < 0.5 * shown


def decide(
    tables: dict[str, TableDraft],
    plan: CountPlan,
    counted: Counted,
    linkable: Callable[[str, str], bool],
    note: Callable[[str], None],
) -> list[Link]:
    """Keys, primary keys, self-references and links from the counts over every row, of
    the columns `linkable` allows."""
    profiles, found = counted.profiles, counted.found
    for name, table in tables.items():
        table.profile = profiles[name]
        _set_keys(table, [c for c in plan.candidates[name] if linkable(name, c)], note)
    links: list[Link] = []
    by_column: dict[tuple[str, str], list[Link]] = {}
    near: dict[tuple[str, str], list[Link]] = {}  # most values found, too many orphans
    held: dict[tuple[str, str], list[Link]] = {}  # own keys alike by name and range only
    for check in plan.checks:
        child, parent = tables[check.child], tables[check.parent]
        col = child.profile.columns[check.column]
        if not linkable(check.child, check.column) or check.key not in parent.keys:
            continue
        if check.compare == "text" or not _fits_counts(child, col, parent, check.key):
            continue
        n, hits = found[check]
        if not n:
            continue
        link = Link(check.child, check.column, check.parent, check.key, n, hits)
        if _own_key_alike(child, col, parent, check.key) and not _contacts_shared(
            child, parent, counted.shared
        ):
            if orphans_allowed(n, hits) and name_score(col.name, parent.name, check.key) == 2:
                held.setdefault((check.child, check.column), []).append(link)
            continue
        if check.compare == "integer" and orphans_allowed(n, hits):
            as_written = found.get(replace(check, compare="text"), (n, 0))[1]
            if as_written < hits:  # "00000042" against 42: the engine would find nothing
                _written_apart(child, col.name, link, hits - as_written)
                continue
        if orphans_allowed(n, hits):
            by_column.setdefault((check.child, check.column), []).append(link)
        elif hits >= 0.5 * n:
            near.setdefault((check.child, check.column), []).append(link)
    poly = {
        (name, column): why
        for name, table in tables.items()
        for column, why in polymorphic(table.profile, tables).items()
        if linkable(name, column)
    }
    for (name, column), why in poly.items():
        fits = by_column.get((name, column), []) + near.get((name, column), [])
        _unresolved(tables[name], column, why, fits, note)
    # a unique column that is itself a link (staff.store_id -> store.store_id, one staff
    # member a store) is a key of the table it points at, not its own table's second key:
    # values that lie in it lie in that table's key, and are linked there
    passing = {
        (name, column)
        for (name, column), options in by_column.items()
        if column != tables[name].primary_key
        and column in tables[name].keys
        and (name, column) not in poly
        and any(lk.parent != name and lk.key == tables[lk.parent].primary_key for lk in options)
    }
    by_column = {
        where: kept
        for where, options in by_column.items()
        if (kept := [lk for lk in options if (lk.parent, lk.key) not in passing])
    }
    for (name, column), options in by_column.items():
        if (name, column) in poly:
            continue
        col = tables[name].profile.columns[column]
        own = [lk for lk in options if lk.parent == name]
        others = [lk for lk in options if lk.parent != name]
        chosen: Link | None
        if own and others and _rootless(tables[name], col, own):
            chosen = _best(others, tables, col)
            _not_self_but(tables[name], col, chosen)
        else:
            chosen = _weighed(tables[name], col, others, tables) if others else None
        if chosen is not None:
            links.append(chosen)
        elif own:
            ref = _best(own, tables, col)
            if self_named(column, name, ref.key) or not dense(
                col, tables[name].profile.values(column)
            ):
                _self_reference(tables[name], ref, note)
            else:
                _not_self(tables[name], col, ref)
    linked = {(lk.child, lk.column) for lk in links}
    for (name, column), options in held.items():
        options = [lk for lk in options if (lk.parent, lk.key) not in passing]
        if options and (name, column) not in linked:
            _alike_only(tables[name], column, options, tables)
    for (name, column), options in near.items():
        if (name, column) in linked or (name, column) in poly:
            continue
        _too_many_orphans(tables[name], column, options, tables)
    links = _one_way(links, tables)
    for link in links:
        note(f"{link.child}.{link.column} -> {link.target}")
    return links


def orphans_allowed(distinct: int, found: int) -> bool:
    """Whether `found` of a column's `distinct` values lying in a key make a link: all of
    them, or all but a few orphans (rows whose parent was deleted), at most 5%."""
    return distinct > 0 and distinct - found <= int(_ORPHANS * distinct)


def self_named(column: str, table: str, key: str) -> bool:
    """Whether a column's name says it names another row of its own table: a parent, a
    manager, a reply_to, a referrer, or a word of the table's own name (parent_order)."""
    return bool(_SELF_HINT.search(column)) or name_score(column, table, key) > 0


def _names_table(kind: str, tables: Collection[str]) -> bool:
    """Whether a polymorphic type's value (`Customer`, `Spree::Order`) names a table."""
    own = _singular(_norm(kind.split("::")[-1]))
    return bool(own) and any(own == _singular(_norm(t)) for t in tables)


def polymorphic(prof: TableProfile, tables: Collection[str]) -> dict[str, str]:
    """The columns of a table that point at rows of several tables, with why (column names
    and counts, no value): Rails' and Laravel's `<stem>_id` beside a `<stem>_type` holding
    two kinds or more (class names, or names of this export's tables); Django's `object_id`
    beside a `content_type`; Salesforce's `WhoId`/`WhatId` holding ids of two objects or
    more (an id's first three characters say its object)."""
    out: dict[str, str] = {}
    columns = list(prof.columns)
    named = {tuple(tokens(c)): c for c in columns}
    for column in columns:
        words = tokens(column)
        flat = "".join(words)
        if flat.endswith(_GENERIC_OBJECT) or words[-2:] in (["object", "id"], ["object", "pk"]):
            ct = next(
                (c for c in columns if c != column and {"content", "type"} <= set(tokens(c))),
                None,
            )
            if ct is not None:
                types = len({str(v) for v in prof.values(ct)})
                out[column] = (
                    f"a generic relation (Django's content_type + object_id): {ct} says which"
                    f" table each row points at ({types:,} content type(s) in the sample)"
                )
                continue
        if flat in _SALESFORCE_POLY:
            ids = [str(v) for v in prof.values(column) if _SALESFORCE_ID.match(str(v))]
            objects = len({v[:3] for v in ids})
            if objects >= 2:
                out[column] = (
                    f"Salesforce's {column} points at several objects (a contact or a lead; an"
                    f" account, an opportunity): its ids start with {objects:,} object prefixes"
                )
            continue
        if len(words) < 2 or words[-1] not in ("id", "uuid", "key"):
            continue
        stem = tuple(words[:-1])
        sibling = next((named[(*stem, w)] for w in _TYPE_WORDS if (*stem, w) in named), None)
        if sibling is None:
            continue
        kinds = {str(v).strip() for v in prof.values(sibling)} - {""}
        tabled = sorted(k for k in kinds if _names_table(k, tables))
        if len(kinds) >= 2 and (tabled or all(_CLASS_NAME.match(k) for k in kinds)):
            out[column] = (
                f"a polymorphic link: {sibling} names the kind of row each points at"
                f" ({len(kinds):,} kinds in the sample, {len(tabled):,} of them tables of this"
                f" export), as Rails' <name>_type + <name>_id do"
            )
    return out


def _unresolved(
    table: TableDraft, column: str, why: str, fits: list[Link], note: Callable[[str], None]
) -> None:
    """A polymorphic column: no link, no identity, listed to confirm first."""
    col = table.columns[column]
    if col.identity is not None:
        col.notes.append(
            f"not identity {col.identity.value}: its rows point at people of several kinds"
        )
        col.identity = None
        col.confidence.pop("identity", None)
    fits = [lk for lk in fits if lk.parent != table.name]
    fit = ""
    if fits:
        each = ", ".join(f"{lk.found:,} in {lk.target}" for lk in sorted(fits, key=_by_target))
        fit = (
            f"; of its {fits[0].distinct:,} distinct values, {each} (that one key holds them"
            " says nothing where the keys of several tables overlap)"
        )
    col.notes.append(
        f"unresolved, not linked: {why}{fit}. No one table's key identifies the person of its"
        " rows: a request would receive another person's rows (an agent's under a customer's"
        " id). Split it by kind, or declare by hand the link of the rows whose kind is a"
        " person"
    )
    col.confidence["unlinked"] = Confidence(
        0.2, f"{why}: unresolved, no one table's link or identity"
    )
    note(f"{table.name}.{column}: polymorphic, not linked")


def _written_apart(table: TableDraft, column: str, link: Link, apart: int) -> None:
    """Ids that match a key only read as integers ("00000042" against 42): not linked, as
    the engine compares ids as written and would find none of those rows; flagged."""
    col = table.columns[column]
    col.notes.append(
        f"not linked: {link.found:,} of its {link.distinct:,} distinct values are keys of"
        f" {link.target} read as integers, but {apart:,} of them are written otherwise in the"
        " two tables (zero-padded, or text against numbers): a request compares ids as written"
        " and would find none of those rows. Write them alike in the export (or declare the"
        " link and check that `dsar access` reaches the rows)"
    )
    col.confidence["unlinked"] = Confidence(
        0.3,
        f"its values are keys of {link.target} only read as integers ({apart:,} written"
        " otherwise): a request would not find those rows",
    )


def _digits(values: Sequence[object]) -> bool:
    """Whether sampled values are all integers written as text ("17", "00000042")."""
    return bool(values) and all(_DIGITS.match(str(v)) for v in values)


def _may_fit_as_integers(
    child: TableProfile, col: ColumnProfile, parent: TableProfile, key: str
) -> bool:
    """An integer column against a key of integers written as text, or back, where the name
    is an identifier's or agrees with the key's."""
    kp = parent.columns[key]
    kinds = {col.kind, kp.kind}
    if kinds != {ColumnType.INTEGER, ColumnType.STRING}:
        return False
    text_values = child.values(col.name) if col.kind is ColumnType.STRING else parent.values(key)
    if not _digits(text_values):
        return False
    return (
        id_named(col.name) or person_named(col.name) or name_score(col.name, parent.name, key) > 0
    )


def _by_target(link: Link) -> str:
    return link.target


def _not_self(table: TableDraft, col: ColumnProfile, ref: Link) -> None:
    """Dense integers that fit their own table's key, with no name saying they name another
    row of it: no self-reference (an order's user_id is no order), flagged where the name
    names a person."""
    column = table.columns[col.name]
    column.notes.append(
        f"not a self-reference: its {ref.found:,} distinct values lie in {ref.target}, its own"
        " table's key, but dense integers fit any key 1..n and its name does not say it names"
        " another row of the same table (a parent, a manager, a reply_to)"
    )
    if person_named(col.name) and "unlinked" not in column.confidence:
        column.confidence["unlinked"] = Confidence(
            0.3,
            f"{col.name} names a person's role, but no other table's key holds its values:"
            " whose key is it?",
        )


def _rootless(table: TableDraft, col: ColumnProfile, own: list[Link]) -> bool:
    """Whether a column named as a self-reference (a parent) whose values lie in its own
    table's key and in another's is none: it names a row in every row (a tree's first rows
    name none), its values fit its own key only as 1..n fits any 1..m, and its name does not
    name its own table (`parent_id` of an order's status history names the order)."""
    rows = table.profile.rows
    return (
        bool(rows)
        and bool(_SELF_HINT.search(col.name))
        and col.non_null == rows
        and not col.placeholders
        and dense(col, table.profile.values(col.name))
        and all(name_score(col.name, table.name, lk.key) == 0 for lk in own)
    )


def _not_self_but(table: TableDraft, col: ColumnProfile, link: Link) -> None:
    """A column linked to another table's key, not taken for a self-reference."""
    table.columns[col.name].notes.append(
        f"not a self-reference: its values lie in its own table's key too, but they name a row"
        f" in every one of the {table.profile.rows:,} rows (a self-reference leaves its first"
        " rows without one) and fit that key only by a range 1..n; they are keys of"
        f" {link.target}"
    )


def _too_many_orphans(
    table: TableDraft, column: str, options: list[Link], tables: dict[str, TableDraft]
) -> None:
    """Most of a column's values lie in a key, more than a few not: no link, but where the
    key is a people table's (or the name names a person) the table is not reference data."""
    best = max(options, key=lambda lk: (lk.found / lk.distinct, lk.target))
    pct = 100 * best.found / best.distinct
    share = f"{best.found:,} of {best.distinct:,} distinct values ({pct:.1f}%)"
    col = table.columns[column]
    col.notes.append(
        f"not linked: {share} lie in {best.target}, more orphans (values in no row of it)"
        f" than a link tolerates ({100 * _ORPHANS:.0f}%): if it holds that key, declare"
        " references (and identity, for a person's)"
    )
    if _people_like(tables[best.parent]) or person_named(column):
        col.confidence["unlinked"] = Confidence(
            0.3, f"{share} lie in {best.target}, too few for a link: whose key is it?"
        )


def _people_like(table: TableDraft) -> bool:
    """A table with an email or phone column: maybe people's (decided later)."""
    return any(
        d.identity in (IdentityKind.EMAIL, IdentityKind.PHONE) for d in table.columns.values()
    )


def _one_contact_a_row(table: TableDraft) -> bool:
    """A table with an email or phone column whose sampled values nearly all differ."""
    for name, col in table.columns.items():
        if col.identity in (IdentityKind.EMAIL, IdentityKind.PHONE):
            values = [str(v).strip().lower() for v in table.profile.values(name)]
            if values and len(set(values)) >= 0.9 * len(values):
                return True
    return False


def _weighed(
    child: TableDraft, col: ColumnProfile, options: list[Link], tables: dict[str, TableDraft]
) -> Link | None:
    """The link a column's values make, if they tell one: values that fill a range 1..n fit
    any key 1..m, so such a column links only where its name agrees with the key's table
    (customer_id, customer, cust_id -> customers) or names a person's role (owner, created_by)
    and a people table's key holds them; otherwise it is left unlinked, and where a people
    table's key holds its values it is flagged for a person to confirm."""
    best = _best(options, tables, col)
    if not dense(col, child.profile.values(col.name)):
        return best  # sparse numbers, codes, UUIDs: the values are the evidence
    if name_score(col.name, best.parent, best.key, child.name) > 0:
        return best
    people = [lk for lk in options if _people_like(tables[lk.parent])]
    one = col.distinct == 1 and child.profile.rows >= _FEW
    if people and person_named(col.name) and not one:
        # a person's role names one row per person: a table whose contact differs in every
        # row (users) before one whose contacts repeat (comments, orders)
        each = [lk for lk in people if _one_contact_a_row(tables[lk.parent])]
        return _best(each or people, tables, col)
    if people:
        where = ", ".join(sorted({lk.target for lk in options}))
        said = (
            f"one value in all {child.profile.rows:,} rows, which lies in {where} and names no"
            " row's own person (one account on every row: an admin, a system user)"
            if one
            else f"{col.distinct or 0:,} distinct values (dense integers) all lie in"
            f" {where}, as numbers 1..n lie in any key 1..m, and its name points to none"
        )
        child.columns[col.name].notes.append(
            f"not linked: its {said}: if it holds a person's key, declare references and identity"
        )
        child.columns[col.name].confidence["unlinked"] = Confidence(
            0.3,
            f"its values all lie in {where}, a people table's key among them, but dense"
            " integers fit any such key and its name does not say which: does it name a"
            " person?",
        )
    return None


def _set_keys(table: TableDraft, candidates: Sequence[str], note: Callable[[str], None]) -> None:
    """The table's unique keys and its primary key (an identifier-named one first)."""
    prof = table.profile
    table.keys = [c for c in candidates if unique_key(prof.columns[c], prof.rows)]
    if not table.keys:
        return
    order = list(prof.columns)
    table.primary_key = max(
        table.keys,
        key=lambda c: (
            not prof.columns[c].placeholders,  # a key of every row first
            id_named(c),
            c == order[0],
            -order.index(c),
        ),
    )
    held = prof.columns[table.primary_key].placeholders
    table.columns[table.primary_key].notes.append(
        f"primary key: unique and non-null in all {prof.rows:,} rows"
        if not held
        else f"primary key: unique in its {prof.rows - held:,} values; {held:,} of the"
        f" {prof.rows:,} rows hold a placeholder (none, -, keine...), no value, which it does"
        " not tell apart"
    )
    note(f"{table.name}: key {table.primary_key}")


def _self_reference(table: TableDraft, link: Link, note: Callable[[str], None]) -> None:
    """A column whose values are keys of its own table: a reference, not a link."""
    column = table.columns[link.column]
    column.references = link.target
    share = (
        f"all {link.distinct:,} distinct values"
        if link.found == link.distinct
        else f"{link.found:,} of {link.distinct:,} distinct values"
    )
    column.notes.append(
        f"references {link.target}, its own table's key (a self-reference): {share} found in"
        " it; a row naming another row of the same table (a manager, a parent, a referrer)"
    )
    note(f"{link.child}.{link.column} -> {link.target} (self-reference)")


def _shapes(values: Sequence[object]) -> frozenset[tuple[int, str]]:
    """Value shapes of text keys: length and leading letters (`u0000042` -> (8, 'u'))."""
    out = set()
    for v in values:
        text = str(v)
        match = _SHAPE.match(text)
        out.add((len(text), match.group(0) if match else ""))
    return frozenset(out)


Shapes = Callable[[TableProfile, str], frozenset[tuple[int, str]]]


def _may_fit(
    child: TableProfile, col: ColumnProfile, parent: TableProfile, key: str, shapes: Shapes
) -> bool:
    """Cheap tests on the samples before the exact one: same type; integers named as
    identifiers; text of the key's shapes; within its own table only a column named as a
    reference (a manager, a parent) to a key other than itself."""
    kp = parent.columns[key]
    if col.kind != kp.kind or not col.keyish:
        return False
    same_name = name_score(col.name, parent.name, key) == 2
    named = id_named(col.name) or _SELF_HINT.search(col.name)
    if parent is child and (col.name == key or not named):
        return False
    if col.kind is ColumnType.INTEGER:
        return (
            same_name
            or id_named(col.name)
            or parent is child
            or person_named(col.name)
            or name_score(col.name, parent.name, key) > 0
            or not dense(col, few=0)  # in the sample: a small one checks more, not fewer
        )
    mine, theirs = shapes(child, col.name), shapes(parent, key)
    if len(parent.values(key)) < _SHAPE_SAMPLE or len(child.values(col.name)) < _SHAPE_SAMPLE:
        # few sampled values show few of the key's shapes: the key's own name is enough,
        # else the leading letters alone (a small sample checks more pairs, not fewer)
        if same_name:
            return True
        mine = frozenset((0, p) for _, p in mine)
        theirs = frozenset((0, p) for _, p in theirs)
    fits = sum(1 for s in mine if s in theirs)
    return fits >= 0.9 * len(mine)


def _fits_counts(child: TableDraft, col: ColumnProfile, parent: TableDraft, key: str) -> bool:
    """The tests on the counts over every row: some value (the values' count decides the
    rest, orphans allowed; a table's own key is weighed by `_own_key_alike`)."""
    return bool(col.non_null)


def _own_key_alike(child: TableDraft, col: ColumnProfile, parent: TableDraft, key: str) -> bool:
    """Whether a table's own primary key lies in another table's key by what tells nothing:
    a range 1..n (which fits any key 1..m), values within a dense key, or a name both keys
    share (`subscriber_id` of two lists, Magento's `entity_id` of every table), each table
    numbering its own rows. Its name being the other table's (`user_id` of users), or
    sparse values within a sparse key, tell a one-to-one link; so do shared contacts
    (`_contacts_shared`). Its other unique columns are weighed as any column is."""
    if col.name != child.primary_key:
        return False
    if name_score(col.name, parent.name, key) == 2 and named_for(col.name, parent.name):
        return False
    kp = parent.profile.columns[key]
    return (
        dense(col, child.profile.values(col.name))
        or dense(kp, parent.profile.values(key))
        or (col.distinct or 0) >= (kp.distinct or 0)
    )


_SAME_PEOPLE = 0.5  # share of a table's sampled contacts another holds: the same people


def _contacts_shared(child: TableDraft, parent: TableDraft, shared: Mapping[Share, int]) -> bool:
    """Whether half or more of a table's sampled contacts (emails, phones) are found in
    another's, as counted with the links (`dsar.draft.counts.Share`)."""
    for name, column in child.columns.items():
        if column.identity not in (IdentityKind.EMAIL, IdentityKind.PHONE):
            continue
        mine = share(parent.name, "", child.profile.values(name)).values
        if mine and any(
            looked.parent == parent.name and looked.values == mine
            for looked, hits in shared.items()
            if hits >= _SAME_PEOPLE * len(mine)
        ):
            return True
    return False


def _alike_only(
    table: TableDraft, column: str, options: list[Link], tables: dict[str, TableDraft]
) -> None:
    """A table's own key whose values lie in another table's key of the same name, by a
    range and a name both share: no link (each table numbers its own rows), a question."""
    where = ", ".join(sorted({lk.target for lk in options}))
    col = table.columns[column]
    col.notes.append(
        f"not linked: its {options[0].distinct:,} distinct values lie in {where}, a key of the"
        " same name, but both number their own rows (dense integers, 1..n fits any 1..m), its"
        " name points no more to that table than to its own, and no contacts are shared: a"
        " link would give one row another's. If they are the same rows, declare references"
    )
    if _people_like(table) or any(_people_like(tables[lk.parent]) for lk in options):
        col.confidence["unlinked"] = Confidence(
            0.3,
            f"its values lie in {where} by a shared range and name only: the same rows, or"
            " each table's own numbering?",
        )


def _one_way(links: list[Link], tables: dict[str, TableDraft]) -> list[Link]:
    """Two keys holding the same values link both ways (accounts and one preferences row
    per account): keep the link into the table whose primary key it is, else the wider
    table, the one the other extends."""
    pairs = {(lk.child, lk.column, lk.parent, lk.key) for lk in links}

    def weight(name: str, key: str) -> tuple[bool, int, str]:
        return (tables[name].primary_key == key, len(tables[name].columns), name)

    return [
        lk
        for lk in links
        if (lk.parent, lk.key, lk.child, lk.column) not in pairs
        or weight(lk.parent, lk.key) > weight(lk.child, lk.column)
    ]


def _rank(link: Link, tables: dict[str, TableDraft], col: ColumnProfile) -> tuple[int, ...]:
    parent = tables[link.parent]
    score = name_score(col.name, link.parent, link.key, link.child)
    people = int(parent.people is not None or bool(parent.identity_columns()))
    width = len(parent.columns)
    tight = -(parent.profile.columns[link.key].distinct or 0)
    found = link.found * 1000 // max(link.distinct, 1)  # fewer orphans first
    if col.kind is ColumnType.INTEGER:
        return (score, found, tight, people, width)
    return (score, found, people, width, tight)


def _best(found: list[Link], tables: dict[str, TableDraft], col: ColumnProfile) -> Link:
    ranked = sorted(found, key=lambda lk: _rank(lk, tables, col), reverse=True)
    top = ranked[0]
    also = tuple(
        lk.target for lk in ranked[1:] if _rank(lk, tables, col) == _rank(top, tables, col)
    )
    return Link(top.child, top.column, top.parent, top.key, top.distinct, top.found, also)
