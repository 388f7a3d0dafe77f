"""The record of what was sent to ad platforms, read by subject rights: an erasure names the
platforms whose audiences actually hold the person, an objection lists them, and a person
never sent is named nowhere. The record is tamper-evident: a row edited, added or deleted by
hand, or an earlier copy of the file put back, is named by `anonymize withdraw`, by every
reader and by `dsar audit verify`."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from anonymize.audience import build_audience, platform
from anonymize.cli import app as anonymize_app
from dsar import load_catalog, open_engine
from dsar.cli import app
from dsar.errors import InternalError, MissingFileError, RecordTamperedError, UnusableFileError
from dsar.keys import Keys
from dsar.records.audit import AuditLog
from dsar.records.sealed import Seal, verify_record
from dsar.records.sent import SentRecord, verify_sent

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


# -- tamper-evidence --------------------------------------------------------------------------

THREE = [("ann@example.com", "h1"), ("bob@example.com", "h2"), ("cy@example.com", "h3")]


def _sent(tmp_path: Path) -> Path:
    """A record holding three people sent to meta in one run."""
    path = tmp_path / "rec" / "sent.db"
    record = SentRecord(path, KEYS)
    record.record("meta", "a1", "run-1", THREE)
    record.close()
    return path


def _sql(path: Path, statement: str) -> None:
    """An edit by hand, as anyone with write access to the file can make (no key)."""
    db = sqlite3.connect(path)
    db.execute(statement)
    db.commit()
    db.close()


def _withdraw(path: Path, tmp_path: Path) -> object:
    result = CliRunner().invoke(
        anonymize_app,
        [
            "withdraw",
            "--platform",
            "meta",
            "--record",
            str(path),
            "--ledger",
            str(tmp_path / "led" / "ledger.db"),
            "--out",
            str(tmp_path / "wd"),
        ],
    )
    assert not (tmp_path / "wd").exists()  # no removal file from a record that fails
    return result.exception


def _audit_verify(path: Path) -> tuple[int, str]:
    """`dsar audit verify` on the record's audit log alone: it finds the record it logs."""
    result = CliRunner().invoke(app, ["audit", "verify", "--log", str(path.parent / "audit.jsonl")])
    return result.exit_code, result.output


@pytest.mark.parametrize(
    ("edit", "named"),
    [
        (
            "UPDATE sent SET uploaded = 'h9' WHERE uploaded = 'h2'",
            "table sent, row 2: edited or added outside the workbench",
        ),
        (
            "INSERT INTO sent (platform, audience, run, day, ref, uploaded, loose, seq, mac)"
            " SELECT platform, audience, run, day, 'r4', 'h4', loose, 4, mac FROM sent"
            " WHERE seq = 1",
            "table sent, row 4: edited or added outside the workbench",
        ),
        (
            "DELETE FROM sent WHERE uploaded = 'h2'",
            "table sent, row 2: deleted outside the workbench",
        ),
        ("DELETE FROM sent WHERE seq >= 2", "table sent, rows 2-3: deleted outside the workbench"),
        ("DELETE FROM writes", "table writes, row 1: deleted outside the workbench"),
    ],
    ids=["edited", "added", "deleted", "last two deleted", "write deleted"],
)
def test_a_row_changed_by_hand_is_named_by_withdraw_and_audit_verify(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, edit: str, named: str
) -> None:
    """Issue 23: deleting a row by hand made `withdraw` report "0 people to remove" and
    `dsar audit verify` say intact."""
    monkeypatch.setenv("WORKBENCH_KEY", KEY)
    path = _sent(tmp_path)
    assert verify_sent(path, KEYS) == []
    _sql(path, edit)
    assert named in verify_sent(path, KEYS)
    refused = _withdraw(path, tmp_path)
    assert isinstance(refused, RecordTamperedError)
    assert named in refused.problems
    with pytest.raises(RecordTamperedError, match=named):
        SentRecord(path, KEYS, read_only=True)  # erasure plans, ledger add
    code, output = _audit_verify(path)
    assert code == 1
    assert f"{path}: {named}" in output


def test_an_earlier_copy_of_the_record_put_back_is_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every row and seal of an earlier copy verify: its audit log's latest write tells."""
    monkeypatch.setenv("WORKBENCH_KEY", KEY)
    path = _sent(tmp_path)
    older = path.read_bytes()
    record = SentRecord(path, KEYS)
    record.record("meta", "a1", "run-2", [("dee@example.com", "h5")])
    record.close()
    path.write_bytes(older)
    assert verify_record(path, KEYS) == []  # the rows alone cannot tell
    found = (
        "the record holds 1 write(s), its audit log audit.jsonl records 2: an earlier copy of"
        " the record was put back (put the latest one back)"
    )
    assert verify_sent(path, KEYS) == [found]
    refused = _withdraw(path, tmp_path)
    assert isinstance(refused, RecordTamperedError) and refused.problems == (found,)
    with pytest.raises(RecordTamperedError, match="an earlier copy of the record was put back"):
        SentRecord(path, KEYS, read_only=True)
    code, output = _audit_verify(path)
    assert code == 1 and f"{path}: {found}" in output


def test_another_copy_with_as_many_writes_is_found(tmp_path: Path) -> None:
    """A record from elsewhere (same key, one write) put in the place of one with one write."""
    path = _sent(tmp_path)
    other = SentRecord(tmp_path / "other" / "sent.db", KEYS)
    other.record("meta", "a1", "run-1", THREE[:2])
    other.close()
    shutil.copy(tmp_path / "other" / "sent.db", path)
    assert verify_sent(path, KEYS) == [
        "write 1: the record's seals differ from those its audit log recorded: the record was"
        " replaced by another copy"
    ]
    with pytest.raises(RecordTamperedError, match="replaced by another copy"):
        SentRecord(path, KEYS)


def test_a_deleted_record_its_log_vouches_for_is_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WORKBENCH_KEY", KEY)
    path = _sent(tmp_path)
    code, output = _audit_verify(path)
    assert code == 0 and "intact, every entry and row MACed with the key" in output
    assert str(path) in output
    path.unlink()
    code, output = _audit_verify(path)
    assert code == 1 and f"{path}: no record at {path}" in output


def test_a_write_whose_audit_entry_a_crash_cut_is_completed_by_the_next_writer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _sent(tmp_path)

    def crash(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt  # killed after the record committed, before its entry

    record = SentRecord(path, KEYS)
    monkeypatch.setattr(record.audit, "append", crash)
    with pytest.raises(KeyboardInterrupt):
        record.record("meta", "a1", "run-2", [("dee@example.com", "h5")])
    record.close()
    [problem] = verify_sent(path, KEYS)
    assert problem.startswith("write 2: its entry is missing from the audit log")
    SentRecord(
        path, KEYS, read_only=True
    ).close()  # a reader is not refused: a write may be under way
    SentRecord(path, KEYS).close()  # a writer completes it
    assert verify_sent(path, KEYS) == []
    last = AuditLog(path.with_name("audit.jsonl"), KEYS).entries()[-1]
    assert last.details | {"state": None} == {
        "platform": "meta",
        "people": 1,
        "repaired": True,
        "audience": "a1",
        "run": "run-2",
        "record": "sent.db",
        "write": 2,
        "state": None,
    }


def test_a_row_replaced_inside_a_write_is_a_bug_not_a_deletion(tmp_path: Path) -> None:
    """Numbered rows only grow: a REPLACE (delete, then insert) would hide a deletion."""
    record = SentRecord(_sent(tmp_path), KEYS)
    with (
        pytest.raises(InternalError, match="table sent lost a row inside a write"),
        record.seal.transaction(),
    ):
        record.db.execute(
            "INSERT OR REPLACE INTO sent (platform, audience, run, day, ref, uploaded)"
            " SELECT platform, audience, 'run-2', day, ref, uploaded FROM sent WHERE seq = 1"
        )
    record.close()
    assert verify_sent(record.path, KEYS) == []  # rolled back


def _old_format(path: Path) -> None:
    """A record as the workbench wrote it before rows were numbered and writes counted."""
    path.parent.mkdir(parents=True)
    db = sqlite3.connect(path, isolation_level=None)
    db.executescript(
        "CREATE TABLE sent (platform TEXT NOT NULL, audience TEXT NOT NULL, run TEXT NOT NULL,"
        " day TEXT NOT NULL, ref TEXT NOT NULL, uploaded TEXT NOT NULL, loose TEXT,"
        " PRIMARY KEY (platform, audience, ref));"
        "CREATE TABLE withdrawn (platform TEXT NOT NULL, uploaded TEXT NOT NULL, day TEXT NOT"
        " NULL, PRIMARY KEY (platform, uploaded));"
    )
    sent = ("platform", "audience", "run", "day", "ref", "uploaded", "loose")
    seal = Seal(db, KEYS, {"sent": sent, "withdrawn": ("platform", "uploaded", "day")}, path)
    with seal.transaction():
        db.execute(
            "INSERT INTO sent VALUES ('meta', 'a1', 'r0', '2026-01-01', 'r', 'h1', 'l', NULL),"
            " ('meta', 'a1', 'r0', '2026-01-01', 's', 'h2', 'm', NULL)"
        )
    db.close()


def test_a_record_from_before_rows_were_numbered_is_checked_then_numbered(
    tmp_path: Path,
) -> None:
    path = tmp_path / "rec" / "sent.db"
    _old_format(path)
    assert verify_sent(path, KEYS) == []
    SentRecord(path, KEYS, read_only=True).close()  # read as it is
    record = SentRecord(path, KEYS)
    assert record.db.execute("SELECT seq FROM sent ORDER BY seq").fetchall() == [(1,), (2,)]
    record.record("meta", "a1", "run-1", [("dee@example.com", "h5")])
    record.close()
    assert verify_sent(path, KEYS) == []
    _sql(path, "DELETE FROM sent WHERE uploaded = 'h1'")
    assert "table sent, row 1: deleted outside the workbench" in verify_sent(path, KEYS)


def test_a_record_from_before_changed_by_hand_is_refused_not_numbered(tmp_path: Path) -> None:
    path = tmp_path / "rec" / "sent.db"
    _old_format(path)
    _sql(path, "UPDATE sent SET uploaded = 'h9' WHERE uploaded = 'h2'")
    with pytest.raises(RecordTamperedError, match="table sent, row 2: edited"):
        SentRecord(path, KEYS)
    db = sqlite3.connect(path)
    columns = [c[1] for c in db.execute("PRAGMA table_info(sent)")]
    db.close()
    assert "seq" not in columns  # checked as it was: nothing numbered, nothing keyed again
    assert "table sent, row 2: edited or added outside the workbench" in verify_sent(path, KEYS)
