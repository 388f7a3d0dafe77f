"""The linear check of suppressed cells (anonymize.disclosure), on tables built in memory."""

from __future__ import annotations

from collections.abc import Mapping

from anonymize.disclosure import MAX_ATOMS, View, close_gaps, recomputable


def _view(
    dims: tuple[str, ...], counts: Mapping[tuple[str, ...], int], hidden: set[tuple[str, ...]]
) -> View:
    return View(dims, dict(counts), dict.fromkeys(hidden, "primary"))


def test_a_coarse_total_minus_the_published_fine_cells_gives_the_hidden_one() -> None:
    atoms: list[tuple[str, ...]] = [("FR", "free"), ("FR", "team"), ("DE", "free"), ("DE", "team")]
    fine = _view(("c", "p"), dict.fromkeys(atoms, 20) | {("FR", "team"): 3}, {("FR", "team")})
    coarse = _view(("c",), {("FR",): 23, ("DE",): 40}, set())
    found, solved = recomputable([fine, coarse], ["c", "p"], atoms)
    assert solved and [row.key for row, _ in found] == [("FR", "team")]
    gaps = close_gaps([coarse], [fine], ["c", "p"], atoms)  # the coarse table is the new one
    assert coarse.suppressed == {("FR",): "earlier release"} and gaps.added == 1
    assert fine.suppressed == {("FR", "team"): "primary"}  # published earlier: never changed
    assert recomputable([fine, coarse], ["c", "p"], atoms)[0] == []


def test_two_hidden_cells_of_one_line_are_safe_but_not_with_a_second_line() -> None:
    atoms: list[tuple[str, ...]] = [(a, b) for a in "XY" for b in "KL"]
    grid = _view(("a", "b"), dict.fromkeys(atoms, 20), {("X", "K"), ("X", "L")})
    rows = _view(("a",), {("X",): 40, ("Y",): 40}, set())
    assert recomputable([grid, rows], ["a", "b"], atoms)[0] == []
    columns = _view(("b",), {("K",): 40, ("L",): 40}, set())  # K's total gives X,K back
    found, _ = recomputable([grid, rows, columns], ["a", "b"], atoms)
    assert sorted(row.key for row, _ in found) == [("X", "K"), ("X", "L")]


def test_many_atoms_in_few_classes_are_solved_exactly() -> None:
    """Thousands of values, each cell hidden, one published total: one class of atoms."""
    atoms = [(f"v{i}",) for i in range(MAX_ATOMS + 500)]
    cells = _view(("v",), dict.fromkeys(atoms, 1), set(atoms))
    total = _view((), {(): len(atoms)}, set())
    found, solved = recomputable([cells, total], ["v"], atoms)
    assert solved and found == []
    cells.suppressed.pop(atoms[0])  # one published: still no single other cell follows
    assert recomputable([cells, total], ["v"], atoms) == ([], True)
