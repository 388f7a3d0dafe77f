"""Primary keys and links between tables, decided from the values over every row.

A key is a column whose values are all present and all different (checked exactly). A link
is a column whose distinct values all lie within another table's key: cheap tests on the
profiles and samples (same type, integer ranges, value shapes, names) choose the pairs
worth checking, and each is then checked exactly over every row by the engine.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from dsar.catalog.models import ColumnType
from dsar.draft.model import Link, TableDraft
from dsar.draft.profile import ColumnProfile, exact_unique, values_within
from dsar.draft.shapes import tokens
from dsar.engine.base import Engine

_ID_WORDS = {"id", "key", "ref", "no", "nr", "num", "number", "code", "uuid", "sub", "pk", "fk"}
_STRING_FOUND = 0.98  # a text link tolerates a few orphans (rows whose parent was deleted)
_SHAPE = re.compile(r"^[^\W\d]*")


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


def name_score(column: str, parent: str, key: str) -> int:
    """2: the same name as the key (or the parent's name + the key's); 1: a word shared."""
    c = _norm(column)
    if c in (_norm(key), _singular(_norm(parent)) + _norm(key), _norm(parent) + _norm(key)):
        return 2
    words = set(tokens(column)) - _ID_WORDS
    theirs = {_singular(w) for w in tokens(parent) + tokens(key)} - _ID_WORDS
    return 1 if {_singular(w) for w in words} & theirs else 0


def find_keys(
    engine: Engine, table: TableDraft, plain: Callable[[str], bool], note: Callable[[str], None]
) -> None:
    """Set the table's unique keys and its primary key (an identifier-named one first)."""
    prof = table.profile
    candidates = [
        c
        for c, p in prof.columns.items()
        if p.keyish and plain(c) and prof.rows and p.non_null == prof.rows
        and p.distinct >= 0.9 * prof.rows
    ]  # fmt: skip
    table.keys = [c for c in prof.columns if c in exact_unique(engine, prof, candidates)]
    if not table.keys:
        return
    order = list(prof.columns)
    table.primary_key = max(table.keys, key=lambda c: (id_named(c), c == order[0], -order.index(c)))
    table.columns[table.primary_key].notes.append(
        f"primary key: unique and non-null in all {prof.rows:,} rows"
    )
    note(f"{table.name}: key {table.primary_key}")


def _shapes(values: Sequence[object]) -> set[tuple[int, str]]:
    """Value shapes of text keys: length and leading letters (`u0000042` -> (8, 'u'))."""
    out = set()
    for v in values:
        text = str(v)
        match = _SHAPE.match(text)
        out.add((len(text), match.group(0) if match else ""))
    return out


def _may_fit(child: TableDraft, col: ColumnProfile, parent: TableDraft, key: str) -> bool:
    """Cheap tests before the exact one: same type; a key of its own table only by the same
    name; integers named as identifiers and within the key's range; text of the key's shapes."""
    kp = parent.profile.columns[key]
    if col.kind != kp.kind or not col.non_null:
        return False
    same_name = name_score(col.name, parent.name, key) == 2
    if col.name in child.keys and not same_name:
        return False
    if col.kind is ColumnType.INTEGER:
        if not (same_name or id_named(col.name)) or col.low is None or kp.low is None:
            return False
        return (
            kp.low <= col.low
            and col.high is not None
            and kp.high is not None
            and (col.high <= kp.high)
        )
    mine = child.profile.values(col.name)
    theirs = _shapes(parent.profile.values(key))
    fits = sum(1 for s in _shapes(mine) if s in theirs)
    return fits >= 0.9 * len(_shapes(mine))


def find_links(
    engine: Engine,
    tables: dict[str, TableDraft],
    linkable: Callable[[str, str], bool],
    note: Callable[[str], None],
) -> list[Link]:
    """Every column's best link, checked exactly over every row."""
    links: list[Link] = []
    for child in tables.values():
        for col in child.profile.columns.values():
            if not col.keyish or not linkable(child.name, col.name):
                continue
            found = _candidates(engine, tables, child, col)
            if found:
                best = _best(found, tables, col)
                links.append(best)
    links = _one_way(links, tables)
    for link in links:
        note(f"{link.child}.{link.column} -> {link.target}")
    return links


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


def _candidates(
    engine: Engine, tables: dict[str, TableDraft], child: TableDraft, col: ColumnProfile
) -> list[Link]:
    found = []
    for parent in tables.values():
        if parent is child:
            continue
        for key in parent.keys:
            if not _may_fit(child, col, parent, key):
                continue
            n, hits = values_within(engine, child.name, col.name, parent.name, key)
            need = n if col.kind is ColumnType.INTEGER else _STRING_FOUND * n
            if n and hits >= need:
                found.append(Link(child.name, col.name, parent.name, key, n, hits))
    return found


def _rank(link: Link, tables: dict[str, TableDraft], col: ColumnProfile) -> tuple[int, ...]:
    parent = tables[link.parent]
    score = name_score(col.name, link.parent, link.key)
    people = int(parent.people is not None or bool(parent.identity_columns()))
    width = len(parent.columns)
    tight = -parent.profile.columns[link.key].distinct
    if col.kind is ColumnType.INTEGER:
        return (score, tight, people, width)
    return (score, people, width, tight)


def _best(found: list[Link], tables: dict[str, TableDraft], col: ColumnProfile) -> Link:
    ranked = sorted(found, key=lambda lk: _rank(lk, tables, col), reverse=True)
    top = ranked[0]
    also = tuple(
        lk.target for lk in ranked[1:] if _rank(lk, tables, col) == _rank(top, tables, col)
    )
    return Link(top.child, top.column, top.parent, top.key, top.distinct, top.found, also)
