"""Red team 26 round 4, finding 9: government ID numbers or full card numbers leaked make
identification easy (ENISA 2013: EI maximum), so session tokens, card numbers and SSNs
leaked are no longer "medium: notice not required"."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.test_attacks_breach import _run

ACCOUNTS = """\
  accounts:
    path: accounts.csv
    format: csv
    description: Your account.
    category: account
    origin: provided
    purposes: [provide the service]
    legal_basis: contract
    source: the person
    retention: {criteria: 'while the account is open'}
    erasure: {action: delete}
    primary_key: [user_id]
    columns:
      user_id: {identity: user_id, type: string}
      email: {identity: email, type: string, category: contact}
      created_at: {type: timestamp}
"""
SESSIONS = """\
  sessions:
    path: sessions.csv
    format: csv
    description: Your sessions.
    category: usage
    origin: observed
    purposes: [provide the service]
    legal_basis: contract
    source: our servers
    retention: {period: 30 days, after: ts}
    erasure: {action: delete}
    primary_key: [sid]
    columns:
      sid: {type: string}
      user_id: {identity: user_id, type: string, references: accounts.user_id}
"""
HEAD = """\
version: 1
controller:
  name: Lab B.V.
  contact: privacy@lab.example
  dpo: dpo@lab.example
  supervisory_authority: Autoriteit Persoonsgegevens (Netherlands)
tables:
"""
EXTRA = {
    "session_token": "{secret: true, type: string}",
    "card_number": "{personal: financial_account, type: string}",
    "national_id": "{personal: government_id, type: string}",
}
VALUES = {
    "session_token": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1MSJ9.abcDEF12345{i}",
    "card_number": "4111111111111111",
    "national_id": "123-45-678{i}",
}


def _export(root: Path, columns: list[str]) -> Path:
    root.mkdir()
    (root / "accounts.csv").write_text(
        "user_id,email,created_at\n"
        + "".join(f"u{i},p{i}@example.com,2025-01-01T00:00:00Z\n" for i in (1, 2))
    )
    (root / "sessions.csv").write_text(
        ",".join(["sid", "user_id", *columns, "ts"])
        + "\n"
        + "".join(
            ",".join([f"s{i}", f"u{i}", *(VALUES[c].format(i=i) for c in columns)])
            + ",2026-11-05T10:00:00Z\n"
            for i in (1, 2)
        )
    )
    extra = "".join(f"      {c}: {EXTRA[c]}\n" for c in columns)
    (root / "catalog.yml").write_text(
        HEAD + ACCOUNTS + SESSIONS + extra + "      ts: {type: timestamp}\n"
    )
    return root / "catalog.yml"


def _severity(
    tmp_path: Path, name: str, columns: list[str], mp: pytest.MonkeyPatch
) -> dict[str, Any]:
    catalog = _export(tmp_path / name, columns)
    out = tmp_path / f"{name}-out"
    code, output = _run(
        ["breach", "scope", "--catalog", str(catalog), "--table", "sessions",
         "--discovered", "2026-12-01T10:00Z", "--out", str(out)],
        mp,
    )  # fmt: skip
    assert code == 0, output
    severity: dict[str, Any] = json.loads((out / "scope.json").read_text())["severity"]
    return severity


@pytest.mark.parametrize("column", ["national_id", "card_number"])
def test_an_id_or_card_number_leaked_is_ei_maximum(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, column: str
) -> None:
    severity = _severity(tmp_path, column, [column], monkeypatch)
    assert severity["ei"]["value"] == 1
    assert "EI maximum" in severity["ei"]["reason"]
    word = "government ID" if column == "national_id" else "card or bank account"
    assert word in severity["ei"]["reason"]


def test_tokens_cards_and_ssns_leaked_are_high_and_the_people_told(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    severity = _severity(tmp_path, "all", list(EXTRA), monkeypatch)
    assert severity["ei"]["value"] == 1
    assert severity["score"] == 3.5 and severity["band"] == "high"
    assert severity["notify_people_recommended"] is True
    # a user id and a token alone stay "significant"
    token = _severity(tmp_path, "token", ["session_token"], monkeypatch)
    assert token["ei"]["value"] == 0.75
