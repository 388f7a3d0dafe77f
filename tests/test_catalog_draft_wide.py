"""A wide export: many tables whose ids overlap (every table numbered from 0, as autoincrement
keys are) make thousands of candidate links. Counted in one statement they nested past
DuckDB's expression depth limit and the draft of a 41-table export failed ("Max expression
depth limit of 1000 exceeded", with the whole statement printed); the links are now counted
in batches (`dsar.draft.counts._MOST_PARTS` parts a statement), with the same answers."""

from __future__ import annotations

import csv
import random
from pathlib import Path

import pytest

from dsar.draft import Draft, draft
from dsar.text.engine import TextEngine

TABLES = 24  # 24 tables of two id columns: about 1,100 candidate links


def _export(root: Path, tables: int = TABLES) -> Path:
    rng = random.Random(3)
    root.mkdir()
    with (root / "users.csv").open("w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["user_id", "email"])
        out.writerows([i, f"user{i}@example.com"] for i in range(1, 81))
    for t in range(tables):
        with (root / f"t{t:02d}_events.csv").open("w", newline="") as fh:
            out = csv.writer(fh)
            out.writerow(["event_id", "user_id", "kind"])
            out.writerows([j, rng.randint(1, 80), rng.choice("abc")] for j in range(40))
    return root


def _draft(root: Path) -> Draft:
    return draft(root, sample=100, text_engine=TextEngine(nlp=None))


def _links(found: Draft) -> set[tuple[str, str, str, str]]:
    return {(k.child, k.column, k.parent, k.key) for k in found.links}


def test_a_wide_export_is_drafted_with_every_link_to_its_people(tmp_path: Path) -> None:
    found = _draft(_export(tmp_path / "export"))
    assert len(found.tables) == TABLES + 1
    to_users = {k for k in _links(found) if k[2:] == ("users", "user_id")}
    assert to_users == {(f"t{t:02d}_events", "user_id", "users", "user_id") for t in range(TABLES)}


def test_links_counted_in_batches_are_those_counted_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same export drafted with small batches and with everything in one statement
    (six tables: a statement DuckDB still binds)."""
    import dsar.draft.counts as counts

    export = _export(tmp_path / "export", tables=6)
    monkeypatch.setattr(counts, "_MOST_PARTS", 10_000)
    at_once = _draft(export)
    monkeypatch.setattr(counts, "_MOST_PARTS", 7)
    batched = _draft(export)
    assert _links(batched) == _links(at_once)
    for name, table in at_once.tables.items():
        assert batched.tables[name] == table, name
