"""Red team 26 round 5, finding 15: a leaked table of names and email addresses in a
`subject_requests: false` catalog (no identity column needed) was '0 people ... no one
reached', and the authority's report said 0 people concerned. Rows in scope of a table with
no identity column that hold an address, a phone or a name are now people without an account:
one per distinct address (else number, else name), counted, written to at that address, and
placed in the country their row gives."""

from __future__ import annotations

import csv
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from tests.test_attacks_breach import _manifest, _run

CATALOG = """\
version: 1
subject_requests: false
controller:
  name: Testco B.V.
  contact: privacy@testco.test
  dpo: dpo@testco.test
  supervisory_authority: Autoriteit Persoonsgegevens (Netherlands)
  automated_decisions: No decisions are made solely by automated means.
tables:
  people:
    path: people.csv
    format: csv
    description: Survey respondents.
    category: contact
    origin: provided
    purposes: [research]
    legal_basis: consent
    source: the person
    retention: {period: 1 years, after: created_at}
    erasure: {action: delete}
    primary_key: [row_id]
    columns:
      row_id: {type: string}
      full_name: {personal: name, type: string}
      email: {type: string, category: contact}
      country: {type: string}
      created_at: {type: timestamp}
"""

ROWS = [
    ("r1", "Ann Smith", "ann@example.com", "NL"),
    ("r2", "Bob Jones", "bob@example.com", "US"),
    ("r3", "Ann Smith", "ANN@example.com", "NL"),  # Ann again: one person
    ("r4", "Cy Lee", "", "DE"),  # a name alone: a person with no contact channel
]


def test_a_leaked_list_of_names_and_addresses_is_its_people(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "x"
    root.mkdir()
    with (root / "people.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["row_id", "full_name", "email", "country", "created_at"])
        for row in ROWS:
            w.writerow([*row, "2026-11-05T10:00:00Z"])
    (root / "catalog.yml").write_text(CATALOG)
    out = tmp_path / "BR"
    code, output = _run(
        [
            "breach", "scope", "--catalog", str(root / "catalog.yml"), "--table", "people",
            "--discovered", "2026-11-20T18:30Z", "--out", str(out),
        ],
        monkeypatch,
    )  # fmt: skip
    assert code == 0, output
    assert "no one reached" not in output
    counts = _manifest(out)["counts"]
    assert isinstance(counts, dict)
    assert counts["people"] == 3, output
    assert counts["no_contact_channel"] == 1
    people = pq.read_table(out / "affected.parquet").to_pylist()
    assert sorted(str(p["contact"]) for p in people if p["contact"]) == [
        "ann@example.com",
        "bob@example.com",
    ]
    assert not any(p["account_holder"] for p in people)
    assert sorted(str(p["country"]) for p in people) == ["DE", "NL", "US"]
