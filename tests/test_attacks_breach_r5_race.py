"""Red team 26 round 5, finding 19: scope hashed the export's files before reading them, so
an export job replacing a file (`mv new.csv tickets.csv`) while scope ran left scope.json
with the SHA-256 of a version it never read, and `confirm` then vouched for it. Scope now
checks after reading that every file is the one it hashed (same inode, size and times, same
SHA-256) and refuses, writing nothing, where a file changed, even back to the same bytes."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import dsar.breach.run as run
from tests.test_attacks_breach import _lab, _manifest, _scope

PLACES = [("NL", "")] * 4


def _swap(path: Path, content: Path) -> None:
    """Replace `path` by a copy of `content`, as an export job does (copy, then rename)."""
    tmp = path.with_name(path.name + ".tmp")
    shutil.copyfile(content, tmp)
    os.replace(tmp, path)


def _during_scope(
    monkeypatch: pytest.MonkeyPatch, before: Callable[[], None], after: Callable[[], None]
) -> None:
    from dsar.breach.scope import scope_breach as real

    def scope_while_written(*args: Any, **kwargs: Any) -> Any:
        before()
        try:
            return real(*args, **kwargs)
        finally:
            after()

    monkeypatch.setattr(run, "scope_breach", scope_while_written)


def _versions(lab: Path) -> tuple[Path, Path, Path]:
    logs = lab / "web_logs.csv"
    full = lab.parent / "A.csv"
    shutil.copyfile(logs, full)
    short = lab.parent / "B.csv"
    short.write_text(logs.read_text().splitlines()[0] + "\n2026-11-05 10:00:00,u1\n")
    return logs, full, short


def test_a_file_swapped_and_swapped_back_during_scope_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = _lab(tmp_path / "lab", PLACES)
    logs, full, short = _versions(tmp_path / "lab")
    # scope hashes A, reads B (1 person), and the job puts A back: the same bytes as hashed
    _during_scope(monkeypatch, lambda: _swap(logs, short), lambda: _swap(logs, full))
    out = tmp_path / "BR"
    code, output = _scope(catalog, out, monkeypatch)
    assert code != 0, output
    assert "export changed while scope read it" in output
    assert not out.exists()


def test_a_file_rewritten_during_scope_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = _lab(tmp_path / "lab", PLACES)
    logs, _full, short = _versions(tmp_path / "lab")
    _during_scope(monkeypatch, lambda: None, lambda: _swap(logs, short))
    out = tmp_path / "BR"
    code, output = _scope(catalog, out, monkeypatch)
    assert code != 0, output
    assert not out.exists()


def test_an_export_left_alone_is_scoped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    catalog = _lab(tmp_path / "lab", PLACES)
    _during_scope(monkeypatch, lambda: None, lambda: None)
    out = tmp_path / "BR"
    code, output = _scope(catalog, out, monkeypatch)
    assert code == 0, output
    assert _manifest(out)["counts"]["people"] == len(PLACES)  # type: ignore[index]
