"""Free-text redaction on several processes gives the same extract, byte for byte, as on
one: the finding runs in workers, the numbering of placeholders stays in order here."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest

from anonymize import run_extract
from dsar import Keys, open_engine
from dsar.catalog import load_catalog

CATALOG = """\
version: 1
controller: {name: Helpdesk Ltd, contact: dpo@helpdesk.example, supervisory_authority: DPC}
tables:
  notes:
    path: notes.csv
    format: csv
    description: Agents' notes.
    category: communications
    origin: provided
    purposes: [support]
    legal_basis: contract
    source: our agents
    retention: {criteria: two years}
    erasure: {action: delete}
    columns:
      note_id: {type: integer}
      agent_email: {identity: email, type: string}
      body: {free_text: true, type: string}
"""

PEOPLE = ["Siobhán Kelly", "Marek Nowak", "Aisha Bello", "Tomás Ruiz", "Ingrid Olsen"]


KEYS = Keys(b"k" * 40)


def _notes(root: Path, rows: int) -> Path:
    root.mkdir()
    lines = ["note_id,agent_email,body"]
    for i in range(rows):
        who, other = PEOPLE[i % 5], PEOPLE[(i * 3 + 1) % 5]
        lines.append(
            f'{i},agent{i % 7}@helpdesk.example,"Called {who} on +353 87 123 {i % 10_000:04d}; {other} asked about'
            f' invoice {i}, mail {who.split()[0].lower()}{i}@example.org"'
        )
    (root / "notes.csv").write_text("\n".join(lines) + "\n")
    (root / "catalog.yml").write_text(CATALOG)
    (root / "policy.yml").write_text(
        "version: 1\nname: notes\ntable: notes\nperson: agent_email\ncolumns:\n  note_id: keep\n"
        "  agent_email: drop\n"
        "  body: {op: redact}\noutput: {path: notes.parquet}\n"
    )
    return root


@pytest.mark.slow
def test_two_workers_write_the_same_extract_as_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("anonymize.extract.BATCH_ROWS", 500)  # 12 batches: the window is used
    root = _notes(tmp_path / "desk", 6_000)
    catalog = load_catalog(root / "catalog.yml")
    with open_engine(catalog) as engine:
        # the rows' order is keyed (without a key it is random per run): one key for both
        one = run_extract(root / "policy.yml", engine, tmp_path / "one", keys=KEYS, workers=1)
    with open_engine(catalog) as engine:
        two = run_extract(root / "policy.yml", engine, tmp_path / "two", keys=KEYS, workers=2)
    assert pq.read_table(one.file).equals(pq.read_table(two.file))
    assert one.manifest.outputs[0].sha256 == two.manifest.outputs[0].sha256
    body = pq.read_table(two.file).column("body").to_pylist()
    assert body[0].startswith("Called <PERSON_1> on <PHONE_NUMBER_1>"), body[0]
    assert not any("example.org" in b or "Kelly" in b for b in body)
