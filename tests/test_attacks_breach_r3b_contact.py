"""Red team 26 round 3, finding 7: an account holder with no email or phone of their own was
written to at the address a leaked row of theirs held (a ticket's requester, the boss who
filed it): that person would learn of u1's breach, and u1 never would. An account holder's
address is the one on their account; without one they get no letter and are listed and
counted as 'no contact channel'."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from dsar import load_catalog, open_engine
from dsar.breach import ScopeSpec, Window, scope_breach
from tests.test_attacks_breach import _manifest, _run
from tests.test_attacks_breach_r3b_text import CATALOG as TEXT_CATALOG

CATALOG = TEXT_CATALOG.replace(
    "      body: {free_text: true, type: string}\n",
    "      requester_email: {identity: email, type: string, category: contact}\n"
    "      body: {free_text: true, type: string}\n",
)


def _export(root: Path) -> Path:
    root.mkdir(parents=True)
    with (root / "accounts.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["user_id", "email", "country"])
        w.writerow(["u1", "", "DE"])  # no address of their own
        w.writerow(["u2", "p2@example.com", "DE"])
    tickets = [
        ("t1", "u1", "boss@corp.example", "Filed for my colleague: her laptop broke."),
        ("t2", "u2", "p2@example.com", "The export button does nothing."),
        ("t3", None, "walkin@example.net", "I have no account yet, please call back."),
    ]
    with (root / "tickets.jsonl").open("w") as f:
        for ticket, user, email, body in tickets:
            row = {"ticket_id": ticket, "user_id": user, "requester_email": email, "body": body}
            f.write(json.dumps(row | {"created_at": "2026-11-02T10:00:00Z"}) + "\n")
    (root / "catalog.yml").write_text(CATALOG)
    return root / "catalog.yml"


def test_no_letter_to_another_persons_address(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = _export(tmp_path / "x")
    out = tmp_path / "BR"
    args = ["breach", "scope", "--catalog", str(catalog), "--table", "tickets"]
    code, output = _run(
        [*args, "--discovered", "2026-12-04T18:30Z", "--out", str(out)], monkeypatch
    )
    assert code == 0, output
    people = pq.read_table(out / "affected.parquet").to_pylist()
    assert len(people) == 3
    contacts = sorted(str(p["contact"]) for p in people)
    assert "boss@corp.example" not in contacts
    [silent] = [p for p in people if p["contact"] is None]
    assert silent["account_holder"] is True
    assert silent["contact_kind"] == "no contact channel" and silent["letter"] is None
    # the requester without an account keeps the address of their own request
    assert "walkin@example.net" in contacts and "p2@example.com" in contacts
    counts = _manifest(out)["counts"]
    assert isinstance(counts, dict)
    assert counts["no_contact_channel"] == 1 and counts["with_contact"] == 2
    assert len(list((out / "letters").glob("*.md"))) == 2
    assert "no contact channel" in (out / "regulator-report.md").read_text()
    assert "no email or phone of their own" in output


@pytest.mark.parametrize("method", ["set", "per-person"])
def test_both_searches_give_an_account_holder_only_their_own_address(
    method: str, tmp_path: Path
) -> None:
    catalog = load_catalog(_export(tmp_path / "x"))
    spec = ScopeSpec(tables=("tickets",), window=Window())
    with open_engine(catalog) as engine:
        scope = scope_breach(engine, spec, method=method)  # type: ignore[arg-type]
    holders = {p.number: p for p in scope.people if p.account_holder}
    assert len(holders) == 2
    assert sorted(str(p.contact.value) if p.contact else "-" for p in holders.values()) == [
        "-",
        "p2@example.com",
    ]
