"""Which suppressed cells the published ones give back, solved as a linear system.

Every published count is a sum over the data's finest cells (the atoms: each combination of
the values of every group column the tables use, as it occurs in the data). A suppressed
cell can be recomputed exactly when its own sum is a linear combination of published sums:
when its row lies in the row space of the published rows. That covers subtraction along a
line (what `anonymize.suppression.protect` guards against), and every other combination: a
coarser table of one run against a finer table of another, margins of two tables together,
chains of lines. The attacker is given more than the files tell: which atoms are empty (a
cell a table does not list holds nobody, and every atom under it too), so the check errs on
the side of hiding.

`close_gaps` runs the line rule and this check in turn, suppressing in the new tables (never
in tables published earlier) until no suppressed cell, of this run or an earlier one, can be
recomputed from the union, or until what is left is given back by earlier releases alone.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from anonymize.suppression import EARLIER, Grid, protect

MAX_ATOMS = 3000  # classes of atoms per connected block; beyond it the line rule alone holds
_TOLERANCE = 1e-6

Key = tuple[Any, ...]


@dataclass
class View:
    """A published group-by under the union's column names (its dicts shared, so what is
    suppressed here is suppressed in the table it views)."""

    group_by: tuple[str, ...]
    counts: dict[Key, int]
    suppressed: dict[Key, str]


@dataclass(frozen=True)
class Gaps:
    """What closing the gaps did."""

    added: int  # cells suppressed in the new tables, by the line rule and the linear check
    exposed_earlier: int  # suppressed cells earlier releases already give back on their own
    solved: bool  # False: a block was too large for the linear check (the line rule held)


@dataclass(frozen=True)
class _Row:
    table: int
    key: Key


def close_gaps(
    new: Sequence[Grid],
    earlier: Sequence[Grid],
    columns: Sequence[str],
    atoms: Sequence[Key],
) -> Gaps:
    """Suppress in `new` until no suppressed cell of `new` or `earlier` can be recomputed.

    Args:
        new: this run's tables (margins included); they are changed.
        earlier: tables published before from the same data; never changed.
        columns: the union's column names, which every table's `group_by` is drawn from.
        atoms: the distinct combinations of `columns` in the data.
    """
    added = 0
    while True:
        added += protect(new, earlier)
        exposed, solved = recomputable([*new, *earlier], columns, atoms)
        fresh = {id(t) for t in new}
        tables = [*new, *earlier]
        victims: dict[tuple[int, Key], str] = {}
        left = 0
        for row, involved in exposed:
            mine = [  # hiding a cell published earlier again would protect nothing
                r
                for r in involved
                if id(tables[r.table]) in fresh
                and not _published_before(tables[r.table], r.key, earlier)
            ]
            if not mine:  # given back by earlier releases alone: this run cannot help
                if not _published_before(tables[row.table], row.key, earlier):
                    left += 1  # (a cell this run hides that one of them published is no news)
                continue
            victim = min(mine, key=lambda r: (tables[r.table].counts[r.key], str(r.key)))
            old = any(id(tables[r.table]) not in fresh for r in [row, *involved])
            victims[(victim.table, victim.key)] = EARLIER if old else "complementary"
        for (table, key), why in victims.items():
            tables[table].suppressed[key] = why
        added += len(victims)
        if not victims:
            return Gaps(added, left, solved)


def _published_before(table: Grid, key: Key, earlier: Sequence[Grid]) -> bool:
    """The same cell (the same columns, in any order, and values) is published in `earlier`."""
    cell = dict(zip(table.group_by, key, strict=True))
    for t in earlier:
        if set(t.group_by) == set(cell):
            mapped = tuple(cell[g] for g in t.group_by)
            if mapped in t.counts and mapped not in t.suppressed:
                return True
    return False


def recomputable(
    tables: Sequence[Grid], columns: Sequence[str], atoms: Sequence[Key]
) -> tuple[list[tuple[_Row, list[_Row]]], bool]:
    """Every suppressed cell whose sum the published cells determine, with the published
    cells a solution uses; and whether every block of cells was small enough to solve."""
    index = {c: i for i, c in enumerate(columns)}
    projections: list[dict[Key, list[int]]] = []
    zero: set[int] = set()  # atoms under a cell some table does not list: known empty
    for t in tables:
        groups: dict[Key, list[int]] = defaultdict(list)
        picks = [index[g] for g in t.group_by]
        for a, atom in enumerate(atoms):
            groups[tuple(atom[i] for i in picks)].append(a)
        for key, members in groups.items():
            if key not in t.counts:
                zero.update(members)
        projections.append(groups)
    known: list[tuple[_Row, list[int]]] = []
    hidden: list[tuple[_Row, list[int]]] = []
    for ti, t in enumerate(tables):
        for key in t.counts:
            members = [a for a in projections[ti].get(key, ()) if a not in zero]
            if members:
                (hidden if key in t.suppressed else known).append((_Row(ti, key), members))
    known, hidden = _classes(known, hidden)
    found: list[tuple[_Row, list[_Row]]] = []
    solved = True
    for block_known, block_hidden, width in _blocks(known, hidden):
        if not block_hidden:
            continue
        if width > MAX_ATOMS:
            solved = False
            continue
        found += _solve(block_known, block_hidden)
    return found, solved


def _classes(
    known: list[tuple[_Row, list[int]]], hidden: list[tuple[_Row, list[int]]]
) -> tuple[list[tuple[_Row, list[int]]], list[tuple[_Row, list[int]]]]:
    """The rows over classes of atoms instead of atoms: atoms in exactly the same published
    cells form a class, which every published cell holds whole. A suppressed cell that holds
    part of a class (or an atom in no published cell) differs from every combination of
    published cells there, so it cannot be recomputed and is left out; the others keep their
    answer over the classes, and the system shrinks to as many columns as there are classes."""
    sign: dict[int, list[int]] = defaultdict(list)
    for r, (_, members) in enumerate(known):
        for a in members:
            sign[a].append(r)
    ids: dict[tuple[int, ...], int] = {}
    of = {a: ids.setdefault(tuple(rows), len(ids)) for a, rows in sign.items()}
    size: dict[int, int] = defaultdict(int)
    for c in of.values():
        size[c] += 1
    packed = [(row, sorted({of[a] for a in members})) for row, members in known]
    kept: list[tuple[_Row, list[int]]] = []
    for row, members in hidden:
        if any(a not in of for a in members):
            continue
        classes: dict[int, int] = defaultdict(int)
        for a in members:
            classes[of[a]] += 1
        if all(n == size[c] for c, n in classes.items()):
            kept.append((row, sorted(classes)))
    return packed, kept


def _blocks(
    known: list[tuple[_Row, list[int]]], hidden: list[tuple[_Row, list[int]]]
) -> list[tuple[list[tuple[_Row, list[int]]], list[tuple[_Row, list[int]]], int]]:
    """The rows split into blocks that share no atom (each solved on its own)."""
    parent: dict[int, int] = {}

    def find(a: int) -> int:
        while parent.setdefault(a, a) != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    for _, members in [*known, *hidden]:
        root = find(members[0])
        for a in members[1:]:
            parent[find(a)] = root
    blocks: dict[int, tuple[list[Any], list[Any], set[int]]] = {}
    for is_hidden, rows in ((False, known), (True, hidden)):
        for row, members in rows:
            block = blocks.setdefault(find(members[0]), ([], [], set()))
            (block[1] if is_hidden else block[0]).append((row, members))
            block[2].update(members)
    return [(k, h, len(atoms)) for k, h, atoms in blocks.values()]


def _solve(
    known: list[tuple[_Row, list[int]]], hidden: list[tuple[_Row, list[int]]]
) -> list[tuple[_Row, list[_Row]]]:
    """The hidden rows in the row space of the known ones, each with the known rows of the
    least-norm combination that gives it."""
    atoms = sorted({a for _, members in [*known, *hidden] for a in members})
    col = {a: i for i, a in enumerate(atoms)}
    if not known:
        return []
    matrix = np.zeros((len(known), len(atoms)))
    for r, (_, members) in enumerate(known):
        matrix[r, [col[a] for a in members]] = 1.0
    u, s, vt = np.linalg.svd(matrix, full_matrices=False)
    rank = int((s > _TOLERANCE * max(1.0, float(s[0]) if len(s) else 1.0)).sum())
    u, s, vt = u[:, :rank], s[:rank], vt[:rank]
    found: list[tuple[_Row, list[_Row]]] = []
    for row, members in hidden:
        h = np.zeros(len(atoms))
        h[[col[a] for a in members]] = 1.0
        inside = vt @ h
        if np.linalg.norm(h - vt.T @ inside) > _TOLERANCE * max(1.0, float(np.linalg.norm(h))):
            continue
        weights = u @ (inside / s)  # the least-norm y with matrix.T @ y == h
        used = [known[i][0] for i in np.flatnonzero(np.abs(weights) > 1e-9)]
        found.append((row, used))
    return found


__all__ = ["MAX_ATOMS", "Gaps", "View", "close_gaps", "recomputable"]
