"""Red team 26 round 4, finding 3: a leaked child row under a parent key two people share
(invoice 1 in each year's file) was set aside for no one, and said only in scope.json: the
console said '0 people ... no one reached' and the regulator report counted it among
records not linked to a person. Such rows are now stated, with their count, in the console
summary (a WARNING) and in the regulator report, as rows a person must check."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_attacks_breach import _scope
from tests.test_breach_shared_parent_key import per_file_numbering

__all__ = ["per_file_numbering"]  # the fixture, used by name


def test_rows_under_a_shared_parent_key_are_stated_for_a_person_to_check(
    per_file_numbering: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "BR"
    code, output = _scope(per_file_numbering, out, monkeypatch, table="invoice_lines")
    assert code == 0, output
    warning = [line for line in output.splitlines() if "shared parent key" in line]
    assert len(warning) == 1, output
    assert warning[0].startswith("WARNING: 1 row(s)")
    assert "invoice_lines 1" in warning[0] and "must check" in warning[0]
    report = (out / "regulator-report.md").read_text()
    row = [line for line in report.splitlines() if "shared parent key" in line]
    assert row and any(line.rstrip(" |").endswith("| 1") for line in row), report
    assert "must check" in report


def test_no_such_warning_without_a_shared_parent_key(
    per_file_numbering: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = per_file_numbering.parent / "invoice_lines.csv"
    lines.write_text("line_id,invoice_no,item\nl2,2,b\n")  # u1's invoice 2 only
    out = tmp_path / "BR"
    code, output = _scope(per_file_numbering, out, monkeypatch, table="invoice_lines")
    assert code == 0, output
    assert "shared parent key" not in output
    report = (out / "regulator-report.md").read_text()
    assert (
        next(line for line in report.splitlines() if "shared parent key" in line)
        .rstrip(" |")
        .endswith("| 0")
    )
