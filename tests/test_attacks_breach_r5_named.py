"""Red team 26 round 5, finding 3: `others_named_in_text` (the Art. 33 approximate number of
others named in the leaked text) counted two people's addresses and a phone as 1, an
address reading as one person's name (`jan.devries@`) as the nearest other name's, and one
name repeated ("John Smith ... Mr. Smith") as 3. Now a part of a name beside the whole name
in one text is that person, an address whose local part names someone no name of the text
is stays apart, and two contacts near no name are one person's only where each is the
other's nearest."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_attacks_breach_r3b_text import _export, _scope

CASES = [
    ("Please call my colleagues Pieter Bakker and Maria Schmidt about this.", 2),
    ("Contact jan.devries@corp.test and sofia.rossi@corp.test and +31 6 12345678.", 2),
    ("Jan de Vries (jan.devries@corp.test) asked too. Also Sofia Rossi, sofia.rossi@corp.test.", 2),
    ("I spoke with John Smith. Later John Smith called again, and then Mr. Smith wrote.", 1),
    (
        "Please also contact my colleague Jan de Vries at jan.devries@corp.test or"
        " +31 6 12345678, and Pieter Bakker.",
        2,
    ),
    ("Maria Lopez, maria@lopez.example, +34 612 345 678 will call you back.", 1),
]


@pytest.mark.parametrize(("body", "people"), CASES)
def test_others_named_counts_people(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str, people: int
) -> None:
    manifest = _scope(_export(tmp_path / "x", [body]), tmp_path / "BR", monkeypatch)
    counts = manifest["counts"]
    assert isinstance(counts, dict)
    assert counts["others_named_in_text"] == people, body
