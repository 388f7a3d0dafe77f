"""Small-cell and complementary suppression of published group-by tables.

A cell counting fewer people than the minimum is suppressed (primary suppression). Published
totals make suppressed cells recomputable: a row, a column or a whole table of the same run
whose total is published and in which exactly one cell is suppressed gives that cell away by
subtraction. So, until no such line is left, the smallest published cell of every such line
is suppressed too (complementary suppression), across every table of the run whose groups
nest in another's: the coarser table's cells are the finer table's line totals.

Tables released earlier from the same data (`anonymize.history`) take part as `frozen`: their
lines count, but what they published stays published, so a cell of theirs that a new total
would give away is protected by hiding that total, or another cell, in the new run.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from anonymize.aggregate_spec import AggregateSpec


EARLIER = "earlier release"  # hidden because, with an earlier release, it would give one back


class Grid(Protocol):
    """What suppression needs of a published group-by: its columns, counts and hidden cells."""

    group_by: tuple[str, ...]
    counts: dict[tuple[Any, ...], int]
    suppressed: dict[tuple[Any, ...], str]


@dataclass
class Cells:
    """The cells of one published group-by (an aggregate, or one of its margins): group
    values -> count (people) and the measures."""

    spec: AggregateSpec  # the aggregate the cells are published in
    group_by: tuple[str, ...]  # the aggregate's columns, or a margin's fewer
    counts: dict[tuple[Any, ...], int]
    values: dict[tuple[Any, ...], dict[str, Any]]
    suppressed: dict[tuple[Any, ...], str]  # cell -> "primary" or "complementary"


def suppress_small(cells: Cells, min_count: int) -> int:
    """Primary suppression: every cell counting fewer than `min_count`; returns how many."""
    for key, n in cells.counts.items():
        if n < min_count:
            cells.suppressed[key] = "primary"
    return len(cells.suppressed)


Line = tuple[Grid, tuple[Any, ...], list[tuple[Any, ...]]]  # the total's cells, its key, its line


def _nested_lines(fine: Grid, coarse: Grid) -> list[Line]:
    """Lines of `fine` whose totals `coarse` publishes as its cells (its groups nest)."""
    idx = [fine.group_by.index(g) for g in coarse.group_by]
    groups: dict[tuple[Any, ...], list[tuple[Any, ...]]] = defaultdict(list)
    for key in fine.counts:
        groups[tuple(key[i] for i in idx)].append(key)
    return [
        (coarse, total, cells) for total, cells in groups.items() if total not in coarse.suppressed
    ]


def _share(src: Grid, dst: Grid) -> int:
    """Suppress in `dst` what `src` suppresses, where both publish the same cells."""
    order = [src.group_by.index(g) for g in dst.group_by]
    added = 0
    for key, why in list(src.suppressed.items()):
        mapped = tuple(key[i] for i in order)
        if mapped in dst.counts and mapped not in dst.suppressed:
            dst.suppressed[mapped] = why
            added += 1
    return added


def protect(run: Sequence[Grid], frozen: Sequence[Grid] = ()) -> int:
    """Complementary suppression until no published line has exactly one suppressed cell.
    Only the tables of `run` change; `frozen` (published earlier) take part as they are.
    Returns how many cells it suppressed."""
    fixed = {id(t) for t in frozen}
    tables = [*run, *frozen]
    public = {  # cells published earlier: hiding them again protects nothing
        frozenset(zip(t.group_by, k, strict=True))
        for t in frozen
        for k in t.counts
        if k not in t.suppressed
    }

    def known(grid: Grid, key: tuple[Any, ...]) -> bool:
        return bool(public) and frozenset(zip(grid.group_by, key, strict=True)) in public

    added = 0
    changed = True
    while changed:
        changed = False
        checks: list[tuple[Grid, Line]] = []
        for a, b in combinations(tables, 2):
            if id(a) in fixed and id(b) in fixed:
                continue
            if set(a.group_by) == set(b.group_by):  # the same cells in two tables
                added_here = (0 if id(b) in fixed else _share(a, b)) + (
                    0 if id(a) in fixed else _share(b, a)
                )
                added += added_here
                changed = changed or bool(added_here)
            for fine, coarse in ((a, b), (b, a)):
                if set(coarse.group_by) < set(fine.group_by):
                    checks += [(fine, line) for line in _nested_lines(fine, coarse)]
        for cells, (coarse, total, line) in checks:
            if total in coarse.suppressed:
                continue  # suppressed earlier in this pass
            hidden = [k for k in line if k in cells.suppressed and not known(cells, k)]
            if len(hidden) != 1:
                continue
            shown = [k for k in line if k not in cells.suppressed and not known(cells, k)]
            why = EARLIER if id(cells) in fixed or id(coarse) in fixed else "complementary"
            if shown and id(cells) not in fixed:
                victim = min(shown, key=lambda k: (cells.counts[k], str(k)))
                cells.suppressed[victim] = why
            elif id(coarse) not in fixed and not known(coarse, total):
                coarse.suppressed[total] = why  # the line is published, or is the cell
            else:  # published earlier: nothing this run can hide (the linear check reports it)
                continue
            added += 1
            changed = True
    return added
