"""Red team 26 round 4, finding 11 (LOW): `dsar breach confirm --catalog` accepted a catalog
other than the one scope read (the breached table's identity removed, a description
rewritten), though scope.json records the catalog's SHA-256: the decision could rest on
another data map. Now refused, as a changed export file is."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_attacks_breach import _confirm, _lab, _scope


def test_confirm_refuses_a_catalog_other_than_the_one_scope_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = _lab(tmp_path / "lab", [("NL", "")] * 3)
    out, register = tmp_path / "BR", tmp_path / "records" / "requests.db"
    code, output = _scope(catalog, out, monkeypatch, "--id", "BR-1", "--register", str(register))
    assert code == 0, output
    other = catalog.with_name("catalog2.yml")
    other.write_text(catalog.read_text().replace("{identity: user_id,", "{", 1))
    assert other.read_text() != catalog.read_text()
    code, output = _confirm(out, catalog.with_name("catalog2.yml"), register, monkeypatch)
    assert code == 1 and "not the one scope read" in output, output
    code, output = _confirm(out, catalog, register, monkeypatch)
    assert code == 0, output
