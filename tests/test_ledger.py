"""The suppression ledger: keyed hashes only; erasures replayed on a restored export."""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
from datetime import date
from pathlib import Path

import pytest

from dsar import load_catalog, open_engine
from dsar.errors import KeySchemeError, RecordTamperedError, WorkbenchError
from dsar.keys import SCHEME, Keys
from dsar.records.ledger import LEGACY_SCHEME, Ledger, Reason, ledger_ref
from dsar.rights import apply_plan
from dsar.rights.erasure import plan_erasure, replay_erasures
from dsar.subjects.identity import SubjectRequest, parse_key

KEY = b"k" * 40
KEYS = Keys(KEY)


def test_ledger_holds_hashes_not_identifiers(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "ledger.db", KEYS)
    ann = parse_key("email=ann@example.com")
    assert (
        ledger.add(
            [ann, parse_key("user_id=u1")],
            Reason.OBJECTED_DIRECT_MARKETING,
            "R-1",
            date(2026, 11, 1),
        )
        == 2
    )
    assert ledger.add([ann], Reason.OBJECTED_DIRECT_MARKETING, "R-2") == 0  # known already
    assert ledger.is_suppressed(ann)
    assert ledger.is_suppressed(ann, Reason.OBJECTED_DIRECT_MARKETING)
    assert not ledger.is_suppressed(ann, Reason.ERASED)
    assert not ledger.is_suppressed(parse_key("email=bob@example.com"))
    ledger.close()
    raw = (tmp_path / "ledger.db").read_bytes()
    assert b"ann@example.com" not in raw and b"user_id=u1" not in raw
    assert ledger_ref(KEYS, ann) != ledger_ref(Keys(b"z" * 40), ann)


def _old_ledger(path: Path, rows: int) -> None:
    """A ledger as written before the scheme was recorded: no meta table."""
    db = sqlite3.connect(path)
    db.execute(
        "CREATE TABLE suppression (ref TEXT NOT NULL, reason TEXT NOT NULL,"
        " request TEXT NOT NULL, since TEXT NOT NULL, PRIMARY KEY (ref, reason))"
    )
    db.executemany(
        "INSERT INTO suppression VALUES (?, 'erased', 'R-1', '2026-01-01')",
        [(f"{n:064x}",) for n in range(rows)],
    )
    db.commit()
    db.close()


def _other_scheme(path: Path) -> None:
    Ledger(path, KEYS).close()
    db = sqlite3.connect(path)
    db.execute("UPDATE meta SET value = 'sha256/v0' WHERE key = 'scheme'")
    db.commit()
    db.close()


def test_a_ledger_hashed_under_an_unknown_scheme_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    _other_scheme(path)
    before = path.read_bytes()
    with pytest.raises(
        KeySchemeError, match=r"written with another hashing scheme: scheme 'sha256/v0'"
    ) as caught:
        Ledger(path, KEYS)
    assert (caught.value.found, caught.value.expected) == ("sha256/v0", SCHEME)
    assert "from the request register" in str(caught.value)
    assert path.read_bytes() == before  # refused without touching the file


def test_a_ledger_from_before_schemes_keeps_finding_its_people(
    trap_catalog: Path, tmp_path: Path
) -> None:
    """Written by the first version (sha256 of the key's hex and the identifier): replay
    on a restored export still finds the person, in SQL, under the old construction."""
    path = tmp_path / "ledger.db"
    _old_ledger(path, 0)
    ann = parse_key("email=ann@example.com")
    old_ref = hashlib.sha256(KEY.hex().encode() + b"|" + str(ann).encode()).hexdigest()
    db = sqlite3.connect(path)
    db.execute("INSERT INTO suppression VALUES (?, 'erased', 'R-OLD', '2026-01-01')", (old_ref,))
    db.commit()
    db.close()
    with pytest.raises(RecordTamperedError, match=r"no seals nor keyed rows"):
        Ledger(path, KEYS)  # never adopted unasked: stripped seals read the same
    ledger = Ledger(path, KEYS, adopt=True)  # `dsar ledger adopt --i-know`
    assert ledger.scheme == LEGACY_SCHEME
    assert ledger.reasons(ann) == {Reason.ERASED}
    catalog = load_catalog(trap_catalog)
    with open_engine(catalog) as engine:
        [found] = ledger.find_in_export(catalog, engine)
    assert found.label == "R-OLD" and ann in found.keys
    ledger.add([parse_key("email=bob@example.com")], Reason.RESTRICTED, "R-2")
    assert ledger.is_suppressed(parse_key("email=bob@example.com"))  # one scheme per file
    ledger.close()
    db = sqlite3.connect(path)
    assert db.execute("SELECT value FROM meta").fetchall() == [(LEGACY_SCHEME,)]
    db.close()


def test_the_scheme_is_recorded_and_an_empty_old_ledger_adopted(tmp_path: Path) -> None:
    _old_ledger(tmp_path / "old.db", 0)
    for name in ("new.db", "old.db"):
        Ledger(tmp_path / name, KEYS).close()
        db = sqlite3.connect(tmp_path / name)
        assert db.execute("SELECT key, value FROM meta").fetchall() == [("scheme", SCHEME)]
        db.close()
        Ledger(tmp_path / name, KEYS).close()  # and opens again


def test_key_file_beside_the_ledger_is_refused(tmp_path: Path) -> None:
    (tmp_path / "key").write_text("k" * 40)
    with pytest.raises(WorkbenchError, match=r"sits beside the ledger"):
        Ledger(tmp_path / "ledger.db", KEYS, key_file=tmp_path / "key")


def test_restoring_a_backup_and_replaying_the_ledger_erases_again(
    trap_catalog: Path, tmp_path: Path
) -> None:
    backup = tmp_path / "backup"
    shutil.copytree(trap_catalog.parent, backup)
    ledger = Ledger(tmp_path / "ledger" / "ledger.db", KEYS)
    request = SubjectRequest("R-9", (parse_key("email=ann@example.com"),))
    catalog = load_catalog(trap_catalog)
    with open_engine(catalog) as engine:
        plan = plan_erasure(catalog, engine, request, keys=KEYS)
        apply_plan(
            plan, catalog, engine, out=tmp_path / "c", keys=KEYS, dry_run=False, ledger=ledger
        )
    assert {e.request for e in ledger.entries()} == {"R-9"}
    # the old export comes back from a backup: Ann is in it again
    restored = load_catalog(backup / "catalog.yml")
    with open_engine(restored) as engine:
        assert engine.count_rows("accounts") == 4
        [found] = ledger.find_in_export(restored, engine)
        assert found.label == "R-9"
        assert parse_key("user_id=u1") in found.keys
        results = replay_erasures(ledger, restored, engine, tmp_path / "c2", keys=KEYS)
        assert [r.plan.label for r in results] == ["R-9"]
        assert engine.count_rows("accounts") == 3
        assert (
            engine.query("SELECT count(*) FROM accounts WHERE user_id = 'u1'").column(0)[0].as_py()
            == 0
        )
        assert replay_erasures(ledger, restored, engine, tmp_path / "c3", keys=KEYS) == []


def test_ledger_commands(
    trap_catalog: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from dsar.cli import app

    monkeypatch.setenv("WORKBENCH_KEY", KEY.decode())
    runner = CliRunner()
    book = str(tmp_path / "l" / "ledger.db")
    added = runner.invoke(
        app,
        [
            "ledger",
            "add",
            "--ledger",
            book,
            "--reason",
            "objected_direct_marketing",
            "--request",
            "R-5",
            "--email",
            "Ann@Example.com",
        ],
    )
    assert added.exit_code == 0 and "1 identifier(s) recorded" in added.output
    check = runner.invoke(app, ["ledger", "check", "--ledger", book, "--email", "ann@example.com"])
    assert check.exit_code == 1 and check.output.strip() == "objected_direct_marketing"
    clean = runner.invoke(app, ["ledger", "check", "--ledger", book, "--email", "bob@example.com"])
    assert clean.exit_code == 0 and "not in the ledger" in clean.output
    erased = runner.invoke(
        app,
        [
            "erase",
            "apply",
            "--catalog",
            str(trap_catalog),
            "--email",
            "ann@example.com",
            "--ledger",
            book,
            "--out",
            str(tmp_path / "c"),
        ],
    )
    assert erased.exit_code == 0, erased.output
    check = runner.invoke(app, ["ledger", "check", "--ledger", book, "--id", "user_id=u1"])
    assert check.output.strip() == "erased"
    replay = runner.invoke(
        app,
        [
            "ledger",
            "replay",
            "--ledger",
            book,
            "--catalog",
            str(trap_catalog),
            "--out",
            str(tmp_path / "c"),
        ],
    )
    assert replay.exit_code == 0 and "0 erasure(s) re-applied" in replay.output


def test_ledger_list_names_no_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from dsar.cli import app

    monkeypatch.setenv("WORKBENCH_KEY", KEY.decode())
    book = tmp_path / "l" / "ledger.db"
    ledger = Ledger(book, KEYS)
    ledger.add(
        [parse_key("email=ann@example.com"), parse_key("user_id=u1")],
        Reason.RESTRICTED,
        "R-7",
        date(2026, 11, 2),
    )
    ledger.close()
    result = CliRunner().invoke(app, ["ledger", "list", "--ledger", str(book)])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0].split() == [
        "2026-11-02",
        "R-7",
        "restricted",
        "done",
        "2",
        "identifier(s)",
    ]
    assert "ann" not in result.output
