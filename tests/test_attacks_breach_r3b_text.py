"""Red team 26 round 3, finding 3: a card, an IBAN, a password and a diagnosis in the leaked
free text left the severity at DPC 2 (medium, no notice), and the letters said nothing of
the card or the password. What the text engine finds there now counts as the same data in
a column would: categories, the ENISA DPC with its reason, the consequences, the advice."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from tests.test_attacks_breach import _manifest, _run

CATALOG = """\
version: 1
controller:
  name: Text Lab GmbH
  contact: privacy@lab.example
  dpo: dpo@lab.example
  supervisory_authority: Berliner Beauftragte für Datenschutz und Informationsfreiheit
  automated_decisions: none
tables:
  accounts:
    path: accounts.csv
    format: csv
    description: Your account.
    category: account
    origin: provided
    purposes: [service]
    legal_basis: contract
    source: you
    retention: {criteria: while open}
    erasure: {action: delete}
    primary_key: [user_id]
    columns:
      user_id: {identity: user_id, type: string}
      email: {identity: email, type: string, category: contact}
      country: {type: string, category: location}
  tickets:
    path: tickets.jsonl
    format: jsonl
    description: Your support tickets.
    category: communications
    origin: provided
    purposes: [support]
    legal_basis: contract
    source: you
    retention: {period: 3 years, after: created_at}
    erasure: {action: delete}
    primary_key: [ticket_id]
    columns:
      ticket_id: {type: string}
      user_id: {identity: user_id, type: string, references: accounts.user_id}
      body: {free_text: true, type: string}
      created_at: {type: timestamp}
"""

BODIES = {
    "plain": "The export button does nothing when I click it twice in a row.",
    "card": "My card 4111 1111 1111 1111 exp 09/28 was charged twice, IBAN DE89 3704 0044"
    " 0532 0130 00.",
    "password": "My password is Hunter2!Secret, please reset the login for me.",
    "health": "I could not call back because I was diagnosed with HIV last year.",
}


def _export(root: Path, bodies: list[str]) -> Path:
    root.mkdir(parents=True)
    with (root / "accounts.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["user_id", "email", "country"])
        for i in range(1, len(bodies) + 1):
            w.writerow([f"u{i}", f"p{i}@example.com", "DE"])
    with (root / "tickets.jsonl").open("w") as f:
        for i, body in enumerate(bodies, 1):
            row = {"ticket_id": f"t{i}", "user_id": f"u{i}", "body": body}
            f.write(json.dumps(row | {"created_at": "2026-11-02T10:00:00Z"}) + "\n")
    (root / "catalog.yml").write_text(CATALOG)
    return root / "catalog.yml"


def _scope(catalog: Path, out: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, object]:
    args = ["breach", "scope", "--catalog", str(catalog), "--table", "tickets"]
    args += ["--discovered", "2026-12-04T18:30Z", "--out", str(out)]
    code, output = _run(args, monkeypatch)
    assert code == 0, output
    return _manifest(out)


def _severity(manifest: dict[str, object]) -> dict[str, object]:
    severity = manifest["severity"]
    assert isinstance(severity, dict)
    return severity


def _letter(out: Path, number: int) -> str:
    return (out / "letters" / f"P-{number:04d}.md").read_text()


def test_plain_tickets_stay_behavioural(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    manifest = _scope(_export(tmp_path / "x", [BODIES["plain"]]), tmp_path / "BR", monkeypatch)
    severity = _severity(manifest)
    assert severity["dpc"] == {"value": 2, "reason": severity["dpc"]["reason"]}  # type: ignore[index]
    assert "billing" not in manifest["categories"]  # type: ignore[operator]


@pytest.mark.parametrize(
    ("body", "category", "said"),
    [
        ("card", "billing", "financial data"),
        ("password", "credentials", "credentials"),
        ("health", "special_categories", "special categories"),
    ],
)
def test_what_the_text_holds_raises_the_dpc_as_a_column_would(
    body: str, category: str, said: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bodies = [BODIES["plain"], BODIES[body]]
    out = tmp_path / "BR"
    manifest = _scope(_export(tmp_path / "x", bodies), out, monkeypatch)
    categories = manifest["categories"]
    assert isinstance(categories, dict)
    assert categories[category]["rows"] == 1 and categories[category]["people"] == 1
    assert categories[category]["columns"] == ["tickets.body (in the text)"]
    severity = _severity(manifest)
    dpc = severity["dpc"]
    assert isinstance(dpc, dict)
    assert dpc["value"] == (4 if category == "special_categories" else 3)
    assert said in str(dpc["reason"]) and "free text" in str(dpc["reason"])
    ei = severity["ei"]
    assert isinstance(ei, dict)
    assert severity["score"] == round(float(dpc["value"]) * float(ei["value"]) + 0.5, 2)
    report = (out / "regulator-report.md").read_text()
    assert str(dpc["reason"]) in report
    # the letters follow: only the person whose text held it is told of it
    plain, theirs = _letter(out, 1), _letter(out, 2)
    for text in (plain, theirs, report, json.dumps(manifest)):
        assert "4111" not in text and "Hunter2" not in text and "HIV" not in text
    advice = {
        "card": "Check your bank and card statements",
        "password": "Change your password",
        "health": "Sensitive details about you may be read by others",
    }[body]
    assert advice in theirs and advice not in plain


def test_the_letter_says_what_the_text_held_and_both_kinds_of_advice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    both = BODIES["card"] + " " + BODIES["password"]
    out = tmp_path / "BR"
    _scope(_export(tmp_path / "x", [both]), out, monkeypatch)
    letter = _letter(out, 1)
    assert "held a card or bank account number and a password or another secret" in letter
    assert "Change your password" in letter and "Check your bank and card statements" in letter


def test_special_words_are_words_not_parts_of_words() -> None:
    from dsar.breach.assess import special_words

    assert special_words("Diagnosed with diabetes in May")
    assert special_words("she is pregnant")
    assert not special_words("the cancellation fee was charged")  # not 'cancer'
    assert not special_words("a gayety theatre ticket") and not special_words("refund please")


def test_a_card_in_a_ticket_that_names_its_writer_is_high_and_told(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the red team's x11: the text names people (EI maximum); DPC 3 x 1 + 0.5 = 3.5, high
    body = "Hi, this is Ann Alpha. " + BODIES["card"]
    manifest = _scope(_export(tmp_path / "x", [body]), tmp_path / "BR", monkeypatch)
    severity = _severity(manifest)
    assert severity["score"] == 3.5 and severity["band"] == "high"
    assert severity["notify_people_recommended"] is True
