"""Red team 26 round 4, finding 7 (MEDIUM): a scope killed after it registered the breach and
before it renamed its complete folder left it as a hidden `.NAME.partial-*`, and the next
scope into any folder beside it removed it without a word: the register held a breach (its
deadlines, 504 people) whose scope.json, affected list and letters were gone, which could not
be confirmed nor scoped again under its id. Now a partial folder the register vouches for is
never swept (`dsar.io.vouch_for`), and the next scope into the same --out says how to finish
it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.test_attacks_breach import _confirm, _lab, _scope


class _Killed(BaseException):
    """Stands for the SIGKILL: nothing after it runs, no handler catches it."""


def test_a_registered_scope_killed_before_its_rename_is_kept_and_finished(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = _lab(tmp_path / "lab", [("NL", "")] * 3)
    out, register = tmp_path / "BR", tmp_path / "records" / "requests.db"
    real_rename = Path.rename

    def killed(self: Path, target: str | Path) -> Path:
        if Path(target) == out:
            raise _Killed
        return real_rename(self, target)

    with monkeypatch.context() as patched:
        patched.setattr(Path, "rename", killed)
        with pytest.raises(_Killed):
            _scope(catalog, out, monkeypatch, "--id", "BR-1", "--register", str(register))
    [left] = [p for p in tmp_path.glob(".BR.partial-*") if p.is_dir()]
    assert (left / "scope.json").is_file() and not out.exists()

    # another scope beside it sweeps its own leftovers, never the registered folder
    code, output = _scope(catalog, tmp_path / "other", monkeypatch, "--id", "BR-2")
    assert code == 0, output
    assert left.is_dir() and (left / "scope.json").is_file()

    # the same --out again (under a new id, as the register's refusal of BR-1 suggests):
    # told to finish the folder, nothing written
    code, output = _scope(catalog, out, monkeypatch, "--id", "BR-3", "--register", str(register))
    assert code == 1 and f"mv {left} {out}" in output, output
    assert not out.exists()

    shutil.move(left, out)  # as the message says; then it confirms as any scope
    code, output = _confirm(out, catalog, register, monkeypatch)
    assert code == 0, output


def test_a_scope_refused_at_registration_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = _lab(tmp_path / "lab", [("NL", "")] * 2)
    register = tmp_path / "records" / "requests.db"
    args = ("--id", "BR-1", "--register", str(register))
    assert _scope(catalog, tmp_path / "first", monkeypatch, *args)[0] == 0
    code, output = _scope(catalog, tmp_path / "second", monkeypatch, *args)
    assert code == 1, output  # the register holds BR-1 already
    assert not list(tmp_path.glob(".second.partial-*"))
