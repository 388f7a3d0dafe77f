"""The record of what was sent to ad platforms, read by subject rights: an erasure names the
platforms whose audiences actually hold the person, an objection lists them, and a person
never sent is named nowhere."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from anonymize.audience import build_audience, platform
from dsar import load_catalog, open_engine
from dsar.cli import app
from dsar.errors import MissingFileError, UnusableFileError
from dsar.keys import Keys
from dsar.records.sent import SentRecord

KEY = "s" * 40
KEYS = Keys(KEY.encode())
SPEC = Path(__file__).parents[1] / "examples" / "audience_marketing.yml"


def _sent_and_unsent(demo: Path, record: SentRecord, out: Path) -> tuple[str, str]:
    """Send the demo's example audience to meta; return one email sent and one not."""
    with open_engine(load_catalog(demo)) as engine:
        result = build_audience(SPEC, engine, ["meta"], out, record=record)
    sent = set(result.files["meta"][0].read_text().split()[1:])
    meta = platform("meta")
    emails = [
        e
        for (e,) in duckdb.execute(
            f"SELECT email FROM read_json('{demo.parent}/marketing_preferences.json')"
        ).fetchall()
    ]
    accounts = {
        e
        for (e,) in duckdb.execute(
            f"SELECT email FROM read_csv('{demo.parent}/accounts.csv')"
        ).fetchall()
    }
    held = next(e for e in emails if e in accounts and meta.hash(meta.email(e) or "") in sent)
    not_held = next(
        e for e in emails if e in accounts and meta.hash(meta.email(e) or "") not in sent
    )
    return held, not_held


def test_an_erasure_names_the_audiences_that_hold_the_person(
    demo_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WORKBENCH_KEY", KEY)
    path = tmp_path / "records" / "sent.db"
    record = SentRecord(path, KEYS)
    held, not_held = _sent_and_unsent(demo_copy, record, tmp_path / "aud")
    record.close()
    runner = CliRunner()
    args = ["erase", "plan", "--catalog", str(demo_copy), "--register", str(tmp_path / "r.db")]
    plan = runner.invoke(app, [*args, "--email", held, "--sent-record", str(path)])
    assert plan.exit_code == 0, plan.output
    assert "ad platform meta (audience ads-lookalike)" in plan.output
    other = runner.invoke(app, [*args, "--email", not_held, "--sent-record", str(path)])
    assert other.exit_code == 0, other.output
    assert "ad platform" not in other.output
    applied = runner.invoke(
        app,
        [
            "erase",
            "apply",
            "--catalog",
            str(demo_copy),
            "--register",
            str(tmp_path / "r.db"),
            "--email",
            held,
            "--sent-record",
            str(path),
            "--out",
            str(tmp_path / "certs"),
        ],
    )
    assert applied.exit_code == 0, applied.output
    [certificate] = (tmp_path / "certs").rglob("*.json")
    recipients = json.loads(certificate.read_text())["recipients_to_notify"]
    assert "ad platform meta (audience ads-lookalike)" in recipients


def test_an_objection_lists_the_audiences_to_withdraw_from(
    demo_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WORKBENCH_KEY", KEY)
    path = tmp_path / "records" / "sent.db"
    record = SentRecord(path, KEYS)
    held, _ = _sent_and_unsent(demo_copy, record, tmp_path / "aud")
    record.close()
    added = CliRunner().invoke(
        app,
        [
            "ledger",
            "add",
            "--reason",
            "objected_direct_marketing",
            "--request",
            "OB-7",
            "--ledger",
            str(tmp_path / "ledger.db"),
            "--email",
            held,
            "--sent-record",
            str(path),
        ],
    )
    assert added.exit_code == 0, added.output
    assert "held by ad platform meta in audience ads-lookalike" in added.output
    assert "anonymize withdraw --platform meta" in added.output
    assert held not in added.output


def test_a_missing_record_is_an_error_not_an_empty_list(
    demo_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WORKBENCH_KEY", KEY)
    result = CliRunner().invoke(
        app,
        [
            "erase",
            "plan",
            "--catalog",
            str(demo_copy),
            "--register",
            str(tmp_path / "r.db"),
            "--email",
            "someone@example.com",
            "--sent-record",
            str(tmp_path / "nowhere.db"),
        ],
    )
    assert isinstance(result.exception, MissingFileError)  # `dsar` prints it, exit code 1
    assert str(result.exception) == (
        f"the record of sent audiences {tmp_path / 'nowhere.db'} is not there: check --sent-record"
    )
    assert not (tmp_path / "nowhere.db").exists()


def test_reading_the_record_never_writes_and_checks_what_it_opens(tmp_path: Path) -> None:
    from dsar.records.ledger import Ledger

    ledger = Ledger(tmp_path / "ledger.db", KEYS)
    ledger.close()
    before = (tmp_path / "ledger.db").read_bytes()
    with pytest.raises(UnusableFileError, match=": not a record of sent audiences"):
        SentRecord(tmp_path / "ledger.db", KEYS, read_only=True)
    assert (tmp_path / "ledger.db").read_bytes() == before  # the wrong file is left alone
    record = SentRecord(tmp_path / "rec" / "sent.db", KEYS)
    record.record("meta", "a", "r1", [("ann@example.com", "h1")])
    record.close()
    with pytest.raises(UnusableFileError, match="does not verify with this key"):
        SentRecord(tmp_path / "rec" / "sent.db", Keys(b"w" * 40), read_only=True)


def test_folded_identifiers_still_find_the_audiences(tmp_path: Path) -> None:
    """An erasure that folds gmail dots and +tags finds janedoe@gmail.com; what was sent was
    Jane.Doe+ads@gmail.com."""
    from dsar.catalog.models import IdentityKind
    from dsar.subjects.identity import MatchRules, SubjectKey

    record = SentRecord(tmp_path / "sent.db", KEYS)
    record.record("google", "ads", "r1", [("Jane.Doe+ads@gmail.com", "h")])
    record.close()
    reader = SentRecord(tmp_path / "sent.db", KEYS, read_only=True)
    folded = [SubjectKey(IdentityKind.EMAIL, "janedoe@gmail.com")]
    rules = MatchRules(gmail_dots=True, plus_addressing=True)
    assert reader.holding_any(folded, rules) == [("google", "ads")]
    exact = [SubjectKey(IdentityKind.EMAIL, "jane.doe+ads@gmail.com")]
    assert reader.holding_any(exact) == [("google", "ads")]
    assert reader.holding_any(folded) == []  # without folding, another address
    reader.close()
