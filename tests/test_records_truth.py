"""Records that never lie: each promise of the register, the ledger, the sent record and the
audit log, attacked as issue 20 found them broken (edits by hand, failures, races, files)."""

from __future__ import annotations

import os
import re
import sqlite3
import stat
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dsar import AuditLog, load_catalog, open_engine, parse_key
from dsar.cli import app
from dsar.errors import DiskFullError, ExportBusyError, MissingFileError, RecordTamperedError
from dsar.keys import Keys
from dsar.lock import export_lock
from dsar.records.audit import verify_audit_log
from dsar.records.deadlines import Jurisdiction, RequestType
from dsar.records.ledger import Ledger, Reason, State
from dsar.records.register import DenialReason, Register, Status, verify_register
from dsar.records.sealed import verify_record
from dsar.records.sent import SentRecord
from dsar.rights import apply_plan, plan_erasure, recover
from dsar.subjects.identity import SubjectRequest
from tests.child import run_child

KEY = b"t" * 40
KEYS = Keys(KEY)
ANN = parse_key("email=ann@example.com")
ENV = {**os.environ, "WORKBENCH_KEY": KEY.decode()}


def _sql(path: Path, statement: str) -> None:
    """An edit by hand, as anyone with write access to the file can make."""
    db = sqlite3.connect(path)
    db.execute(statement)
    db.commit()
    db.close()


def _ledger(path: Path) -> None:
    ledger = Ledger(path, KEYS)
    ledger.add([ANN], Reason.ERASED, "ER-1", date(2026, 11, 1))
    ledger.add([parse_key("email=bob@example.com")], Reason.OBJECTED_DIRECT_MARKETING, "R-2")
    ledger.close()


@pytest.mark.parametrize(
    ("edit", "found"),
    [
        ("UPDATE suppression SET request = 'ER-9' WHERE request = 'ER-1'", r"row 1: edited"),
        (
            "INSERT INTO suppression (ref, reason, request, since, state, mac)"
            " VALUES ('ab', 'erased', 'ER-3', '2026-01-01', 'done', 'cd')",
            r"row 3: edited or added outside the workbench",
        ),
        ("DELETE FROM suppression WHERE request = 'R-2'", r"sealed with 2 row\(s\), holds 1"),
        ("UPDATE suppression SET state = 'pending'", r"edited or added"),
        ("DROP TABLE seals", r"it holds no seals"),
    ],
    ids=["edited", "added", "deleted", "state changed", "seals dropped"],
)
def test_a_ledger_changed_by_hand_is_found_and_refused(
    tmp_path: Path, edit: str, found: str
) -> None:
    path = tmp_path / "ledger.db"
    _ledger(path)
    assert verify_record(path, KEYS) == []
    _sql(path, edit)
    assert any(re.search(found, p) for p in verify_record(path, KEYS))
    with pytest.raises(RecordTamperedError, match=r"fail their keyed check"):
        Ledger(path, KEYS)
    result = CliRunner().invoke(
        app,
        ["audit", "verify", "--register", str(tmp_path / "none.db"), "--ledger", str(path)],
        env={"WORKBENCH_KEY": KEY.decode()},
    )
    assert result.exit_code == 1


def _register(path: Path) -> tuple[str, str]:
    reg = Register(path, KEYS)
    denied = reg.add(RequestType.ERASURE, Jurisdiction.GDPR, date(2026, 11, 20), [ANN])
    reg.update(denied.id, deny=DenialReason.IDENTITY_NOT_VERIFIED)
    other = reg.add(RequestType.ACCESS, Jurisdiction.GDPR, date(2026, 11, 21), [ANN])
    reg.close()
    return denied.id, other.id


def test_a_denied_request_reopened_by_hand_is_not_carried_out(
    trap_catalog: Path, tmp_path: Path
) -> None:
    db = tmp_path / "records" / "requests.db"
    denied, _ = _register(db)
    _sql(db, f"UPDATE requests SET status = 'open' WHERE id = '{denied}'")
    before = (trap_catalog.parent / "accounts.csv").read_bytes()
    result = CliRunner().invoke(
        app,
        ["erase", "apply", "--catalog", str(trap_catalog), "--request", denied],
        env={"WORKBENCH_KEY": KEY.decode(), "WORKBENCH_REGISTER": str(db)},
    )
    assert result.exit_code == 1
    assert "1 row(s) fail their keyed check" in str(result.exception)
    assert (trap_catalog.parent / "accounts.csv").read_bytes() == before
    problems = verify_register(db, KEYS)
    assert any("edited or added outside the workbench" in p for p in problems)
    assert any(
        f"request {denied}: the register says open, the audit log denied" in p for p in problems
    )
    verify = CliRunner().invoke(
        app, ["audit", "verify", "--register", str(db)], env={"WORKBENCH_KEY": KEY.decode()}
    )
    assert verify.exit_code == 1


def test_an_earlier_copy_of_the_register_put_back_is_refused(
    trap_catalog: Path, tmp_path: Path
) -> None:
    """The copy's rows all verify; the audit log has the changes since: refused, and never
    "repaired" into the log."""
    import shutil

    db = tmp_path / "records" / "requests.db"
    reg = Register(db, KEYS)
    request = reg.add(RequestType.ERASURE, Jurisdiction.GDPR, date(2026, 11, 20), [ANN]).id
    reg.close()
    shutil.copy(db, tmp_path / "old.db")
    reg = Register(db, KEYS)
    reg.update(request, deny=DenialReason.IDENTITY_NOT_VERIFIED)
    reg.close()
    shutil.copy(tmp_path / "old.db", db)
    entries = len(AuditLog(db.with_name(db.name + ".audit.jsonl"), KEYS).entries())
    with pytest.raises(RecordTamperedError, match=r"an earlier copy of the register was put"):
        Register(db, KEYS)
    assert len(AuditLog(db.with_name(db.name + ".audit.jsonl"), KEYS).entries()) == entries
    result = CliRunner().invoke(
        app,
        ["erase", "apply", "--catalog", str(trap_catalog), "--request", request],
        env={"WORKBENCH_KEY": KEY.decode(), "WORKBENCH_REGISTER": str(db)},
    )
    assert result.exit_code == 1 and "an earlier copy" in str(result.exception)
    assert any(
        "an earlier copy of the register was put back" in p for p in verify_register(db, KEYS)
    )


def test_a_register_change_whose_audit_entry_was_cut_is_completed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "requests.db"
    reg = Register(db, KEYS)
    request = reg.add(RequestType.ERASURE, Jurisdiction.GDPR, date(2026, 11, 20), [ANN]).id

    class Killed(BaseException):
        pass

    def die(*args: object, **kwargs: object) -> None:
        raise Killed

    with monkeypatch.context() as m:
        m.setattr(AuditLog, "append", die)
        with pytest.raises(Killed):
            reg.update(request, status=Status.IN_PROGRESS)
    reg.close()
    assert any("entries are missing from the log" in p for p in verify_register(db, KEYS))
    reg = Register(db, KEYS)  # the cut entry is written on the next open
    assert reg.get(request).status is Status.IN_PROGRESS
    reg.close()
    assert verify_register(db, KEYS) == []


def test_a_request_deleted_or_added_by_hand_is_found(tmp_path: Path) -> None:
    db = tmp_path / "requests.db"
    _denied, other = _register(db)
    _sql(db, f"DELETE FROM requests WHERE id = '{other}'")
    problems = verify_register(db, KEYS)
    assert "table requests: sealed with 2 row(s), holds 1: rows were deleted or added" in (
        " ".join(problems)
    )
    assert f"request {other}: in the audit log, missing from the register (deleted)" in problems
    with pytest.raises(RecordTamperedError):
        Register(db, KEYS)


def test_a_sent_record_row_deleted_by_hand_is_found(tmp_path: Path) -> None:
    path = tmp_path / "sent.db"
    sent = SentRecord(path, KEYS)
    sent.record("meta", "a1", "run-1", [("ann@example.com", "h1"), ("bob@example.com", "h2")])
    sent.close()
    _sql(path, "DELETE FROM sent WHERE uploaded = 'h1'")
    assert any("rows were deleted" in p for p in verify_record(path, KEYS))
    with pytest.raises(RecordTamperedError):
        SentRecord(path, KEYS, read_only=True)
    with pytest.raises(RecordTamperedError):
        SentRecord(path, KEYS)


def _erase_with_records(catalog_path: Path, records: Path, label: str = "ER-1") -> None:
    catalog = load_catalog(catalog_path)
    ledger = Ledger(records / "ledger.db", KEYS)
    audit = AuditLog(records / "audit.jsonl", KEYS)
    try:
        with open_engine(catalog) as engine:
            plan = plan_erasure(catalog, engine, SubjectRequest(label, (ANN,)), keys=KEYS)
            apply_plan(
                plan,
                catalog,
                engine,
                out=records / "certs",
                keys=KEYS,
                dry_run=False,
                ledger=ledger,
                audit=audit,
            )
    finally:
        ledger.close()


def test_a_failed_erasure_is_not_recorded_as_done(
    trap_catalog: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dsar.engine.duckdb import DuckDBEngine

    real = DuckDBEngine._write  # the backend's write, under the engine's shared wrapper
    calls = {"n": 0}

    def full(self: DuckDBEngine, *args: object, **kwargs: object) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError(28, "No space left on device")
        real(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(DuckDBEngine, "_write", full)
    before = (trap_catalog.parent / "accounts.csv").read_bytes()
    with pytest.raises(DiskFullError, match=r"the disk is full while writing .*\.workbench-new"):
        _erase_with_records(trap_catalog, tmp_path)
    assert (trap_catalog.parent / "accounts.csv").read_bytes() == before
    ledger = Ledger(tmp_path / "ledger.db", KEYS)
    assert ledger.entries() == []  # the pending entry was withdrawn with the change
    ledger.close()
    assert not (tmp_path / "certs").exists() or not list((tmp_path / "certs").iterdir())
    assert AuditLog(tmp_path / "audit.jsonl", KEYS).entries() == []
    monkeypatch.undo()
    _erase_with_records(trap_catalog, tmp_path)  # and it works once there is room
    ledger = Ledger(tmp_path / "ledger.db", KEYS)
    assert {e.state for e in ledger.entries()} == {State.DONE}
    ledger.close()


def _statement(catalog: Path, ledger: Path, out: Path) -> str:
    result = CliRunner().invoke(
        app,
        [
            "access",
            "--catalog",
            str(catalog),
            "--email",
            "ann@example.com",
            "--ledger",
            str(ledger),
            "--out",
            str(out),
            "--label",
            "AR-1",
        ],
        env={"WORKBENCH_KEY": KEY.decode()},
    )
    assert result.exit_code == 0, result.output
    return (out / "AR-1" / "report.md").read_text()


def test_a_pending_erasure_is_stated_as_not_complete(trap_catalog: Path, tmp_path: Path) -> None:
    """An erasure recorded as requested whose change is not committed (another copy of the
    export, a change not yet recovered) is never stated as done."""
    ledger = Ledger(tmp_path / "ledger.db", KEYS)
    ledger.add([ANN], Reason.ERASED, "ER-7", date(2026, 12, 1), pending=True)
    ledger.close()
    report = _statement(trap_catalog, tmp_path / "ledger.db", tmp_path / "bundles")
    assert "An erasure of your data was requested on 2026-12-01 (ER-7) and is not complete" in (
        report
    )
    assert "We erased it" not in report


def test_a_done_erasure_is_stated_as_done(trap_catalog: Path, tmp_path: Path) -> None:
    _erase_with_records(trap_catalog, tmp_path)
    report = _statement(trap_catalog, tmp_path / "ledger.db", tmp_path / "bundles")
    assert "You asked us before to erase your data (ER-1). We erased it" in report
    assert "is not complete" not in report


def _dsar(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "dsar.cli", *args],
        env=env or ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.slow
def test_two_erasures_at_once_both_happen_or_the_second_is_refused(
    trap_catalog: Path, tmp_path: Path
) -> None:
    people = ["ann@example.com", "joann@example.com"]
    accounts = trap_catalog.parent / "accounts.csv"
    rows = {"u1,", "u2,"}  # their account rows
    assert all(any(line.startswith(r) for line in accounts.read_text().splitlines()) for r in rows)
    runs = [
        _dsar(
            "erase",
            "apply",
            "--catalog",
            str(trap_catalog),
            "--email",
            person,
            "--register",
            str(tmp_path / f"r{i}" / "requests.db"),
            "--out",
            str(tmp_path / "certs"),
            "--wait",
        )
        for i, person in enumerate(people)
    ]
    outputs = [run.communicate(timeout=300) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    lines = accounts.read_text().splitlines()
    assert not [r for r in rows if any(line.startswith(r) for line in lines)], "an erasure lost"

    # without --wait, a run that finds the export held is refused and changes nothing
    before = accounts.read_bytes()
    with export_lock(trap_catalog.parent, exclusive=True, holder="ER-HELD (erasure)"):
        refused = _dsar("erase", "apply", "--catalog", str(trap_catalog), "--email", "bo@x.org")
        _, err = refused.communicate(timeout=300)
    assert refused.returncode == 1
    assert "another change (ER-HELD (erasure)) holds this export since" in err
    assert "Traceback" not in err
    assert accounts.read_bytes() == before


def _read_once(catalog: Path) -> int:
    """Another process: an access request. 3 when refused because a change holds the export."""
    try:
        with open_engine(load_catalog(catalog)):
            return 0
    except ExportBusyError as exc:
        return 3 if "another change (ER-5 (erasure))" in str(exc) else 4
    except Exception:
        return 5


def test_a_reader_is_refused_while_a_change_holds_the_export(trap_catalog: Path) -> None:
    with export_lock(trap_catalog.parent, exclusive=True, holder="ER-5 (erasure)"):
        code = run_child(_read_once, trap_catalog)
    assert code == 3
    with open_engine(load_catalog(trap_catalog)):  # and read once it is released
        pass


def test_an_append_cut_before_its_head_is_no_tamper_alarm_and_is_repaired(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = AuditLog(tmp_path / "audit.jsonl", KEYS)
    log.append("request.added", request="R-1")

    class Killed(BaseException):
        pass

    def die(self: AuditLog, seq: int, mac: str) -> None:
        raise Killed

    with monkeypatch.context() as m:
        m.setattr(AuditLog, "_write_head", die)
        with pytest.raises(Killed):
            log.append("request.updated", request="R-1")
    assert verify_audit_log(log.path, KEYS) == []  # the head one behind an intact entry
    assert log.repair()
    assert verify_audit_log(log.path, KEYS) == []
    assert '"seq": 2' in log.head_path.read_text()
    with log.path.open("a") as handle:  # an append cut half-way (a full disk)
        handle.write('{"seq": 3, "at": "2026')
    assert log.repair()
    assert verify_audit_log(log.path, KEYS) == []
    log.append("request.updated", request="R-1")
    assert [e.seq for e in log.entries()] == [1, 2, 3]


def test_a_head_cut_back_by_hand_is_still_found(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit.jsonl", KEYS)
    for _ in range(3):
        log.append("request.added", request="R-1")
    lines = log.path.read_text().splitlines()
    log.path.write_text("\n".join(lines[:1]) + "\n")  # two entries cut, the head left
    problems = [str(p) for p in verify_audit_log(log.path, KEYS)]
    assert any("entries were cut from the end" in p for p in problems)
    assert not log.repair()


def test_records_and_certificates_are_owner_only_whatever_the_umask(
    trap_catalog: Path, tmp_path: Path
) -> None:
    old = os.umask(0)
    try:
        records = tmp_path / "records"
        _erase_with_records(trap_catalog, records)
        reg = Register(records / "requests.db", KEYS)
        reg.add(RequestType.ACCESS, Jurisdiction.GDPR, date(2026, 11, 21), [ANN])
        reg.close()
        SentRecord(records / "sent.db", KEYS).close()
    finally:
        os.umask(old)
    files = [
        records / "ledger.db",
        records / "audit.jsonl",
        records / "audit.jsonl.head",
        records / "requests.db",
        records / "requests.db.audit.jsonl",
        records / "requests.db.audit.jsonl.head",
        records / "sent.db",
        *(records / "certs").iterdir(),
    ]
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in files}
    assert set(modes.values()) == {0o600}, modes
    assert stat.S_IMODE(records.stat().st_mode) == 0o700
    assert stat.S_IMODE((records / "certs").stat().st_mode) == 0o700


@pytest.mark.parametrize(
    "args",
    [
        ["access", "--email", "ann@example.com"],
        ["erase", "apply", "--email", "ann@example.com"],
    ],
    ids=["access", "erase"],
)
def test_out_naming_a_file_is_one_line(trap_catalog: Path, tmp_path: Path, args: list[str]) -> None:
    taken = tmp_path / "taken"
    taken.write_text("mine\n")
    result = CliRunner().invoke(
        app,
        [*args, "--catalog", str(trap_catalog), "--out", str(taken)],
        env={"WORKBENCH_KEY": KEY.decode()},
        standalone_mode=True,
    )
    assert result.exit_code == 1 or isinstance(result.exception, SystemExit)
    assert taken.read_text() == "mine\n"
    run = _dsar(*args, "--catalog", str(trap_catalog), "--out", str(taken))
    _, err = run.communicate(timeout=300)
    assert run.returncode == 1
    assert "Traceback" not in err
    assert f"{taken}" in err and len(err.strip().splitlines()) == 1


def test_a_key_file_that_is_a_folder_says_so(trap_catalog: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        [
            "erase",
            "apply",
            "--catalog",
            str(trap_catalog),
            "--email",
            "ann@example.com",
            "--key-file",
            str(tmp_path),
        ],
    )
    assert result.exit_code == 1
    assert f"key file {tmp_path} is a folder: give the file holding the key" in str(
        result.exception
    )


def test_a_killed_extracts_partial_folder_is_removed_by_the_next_run(tmp_path: Path) -> None:
    from dsar.io import partial_folder, remove_partials

    out = tmp_path / "extracts"
    left = out / ".accounts.partial-0123abcd"
    left.mkdir(parents=True)
    (left / ".stage.parquet").write_bytes(b"rows before suppression")
    with partial_folder(out, "accounts") as work:
        assert not left.exists()  # a dead run's: removed
        assert remove_partials(out, "accounts") == 0  # a live run's: kept
        assert work.is_dir()
        (work / "x").write_text("x")
        work.rename(out / "accounts")
    assert sorted(p.name for p in out.iterdir()) == ["accounts"]


@pytest.fixture
def small_disk(tmp_path: Path) -> object:
    """A 2 MiB tmpfs (root only, where the machine allows mounting one)."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)], capture_output=True
    )
    if done.returncode != 0:
        pytest.skip(f"this machine does not mount a tmpfs here: {done.stderr.decode().strip()}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)  # lazy: a handle may linger


@pytest.mark.slow
@pytest.mark.parametrize("free_kib", [0, 4, 8, 12, 16, 20, 24, 32, 48, 64, 96, 400])
def test_a_full_disk_never_records_an_erasure_that_did_not_happen(
    trap_catalog: Path, tmp_path: Path, small_disk: Path, free_kib: int
) -> None:
    import shutil

    export = small_disk / "export"
    shutil.copytree(trap_catalog.parent, export)
    records = small_disk / "records"
    records.mkdir()
    Ledger(records / "ledger.db", KEYS).close()  # the company's records exist already
    Register(records / "requests.db", KEYS).close()
    before = {p.name: p.read_bytes() for p in export.iterdir()}
    filler = small_disk / "filler"
    with filler.open(
        "wb", buffering=0
    ) as handle:  # fill the disk, then give back what the case leaves
        try:
            while True:
                handle.write(b"\0" * 4096)
        except OSError:
            pass
    os.truncate(filler, max(0, filler.stat().st_size - free_kib * 1024))
    env = {
        **ENV,
        "WORKBENCH_REGISTER": str(records / "requests.db"),
        "WORKBENCH_LEDGER": str(records / "ledger.db"),
    }
    catalog = str(export / "catalog.yml")
    run = _dsar("erase", "apply", "--catalog", catalog, "--email", "ann@example.com", env=env)
    _, err = run.communicate(timeout=300)
    assert "Traceback" not in err, err
    filler.unlink()  # room again, for what follows
    recovered = _dsar("erase", "recover", "--catalog", catalog, env=env)
    _out, err2 = recovered.communicate(timeout=300)
    assert recovered.returncode == 0, err2
    erased = not (export / "accounts.csv").read_text().count("\nu1,")
    if run.returncode != 0:
        assert len(err.strip().splitlines()) == 1, err  # one line, naming what failed
    if not erased:  # nothing happened: nothing may say it did
        assert {p.name: p.read_bytes() for p in export.iterdir() if p.name in before} == before
        assert not list(small_disk.glob("**/*certificate*"))
    if (records / "ledger.db").exists():
        ledger = Ledger(records / "ledger.db", KEYS)
        states = {e.state for e in ledger.entries()}
        ledger.close()
        assert states == ({State.DONE} if erased else set()), (free_kib, states, err)
    else:
        assert not erased
    leftovers = [p.name for p in small_disk.rglob("*") if "workbench-" in p.name]
    assert leftovers == [], leftovers
    if (records / "ledger.db").exists():
        report = _statement(export / "catalog.yml", records / "ledger.db", tmp_path / "bundles")
        assert ("We erased it" in report) is erased


def test_a_rollback_without_a_ledger_mentions_none(trap_catalog: Path, tmp_path: Path) -> None:
    from dsar.rights import Outcome
    from dsar.rights.journal import begin

    root = trap_catalog.parent
    begin(root, "RT-1", [root / "accounts.csv"], tmp_path / "certs")
    staged = root / ".accounts.csv.RT-1.workbench-new"
    staged.write_text("half\n")
    found = recover(root, KEYS)
    assert found.outcome is Outcome.ROLLED_BACK and not staged.exists()
    assert "ledger" not in found.describe()
    assert found.describe().startswith("RT-1: the change was interrupted before it was committed")


def test_a_dropped_mac_column_is_named_as_such(tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    _ledger(path)
    _sql(path, "ALTER TABLE suppression DROP COLUMN mac")
    assert "table suppression: its keyed rows were removed (no mac column)" in verify_record(
        path, KEYS
    )


def _killed_after_commit(trap_catalog: Path, records: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """An erasure of a registered request, stopped after its commit (before the swap)."""
    from dsar.rights import journal as journal_module

    reg = Register(records / "requests.db", KEYS)
    request = reg.add(RequestType.ERASURE, Jurisdiction.GDPR, date(2026, 11, 20), [ANN]).id

    class Killed(BaseException):
        pass

    def die(*args: object) -> None:
        raise Killed

    catalog = load_catalog(trap_catalog)
    ledger = Ledger(records / "ledger.db", KEYS)
    with monkeypatch.context() as m, open_engine(catalog) as engine:
        m.setattr(journal_module, "_swap", die)
        plan = plan_erasure(catalog, engine, SubjectRequest(request, (ANN,)), keys=KEYS)
        with pytest.raises(Killed):
            apply_plan(
                plan,
                catalog,
                engine,
                out=records.parent / "certs",
                keys=KEYS,
                dry_run=False,
                audit=reg.audit,
                ledger=ledger,
                register=reg,
            )
    ledger.close()
    reg.close()
    return request


def test_recover_never_creates_records_where_they_were(
    trap_catalog: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The records folder moved after the crash: recover refuses, then finishes the change in
    the records named, never in new empty ones where the old folder was."""
    request = _killed_after_commit(trap_catalog, tmp_path / "records", monkeypatch)
    (tmp_path / "records").rename(tmp_path / "moved")
    with pytest.raises(
        MissingFileError, match=r"is not there: moved, or its volume is not mounted\? Make it"
    ):
        recover(trap_catalog.parent, KEYS)
    assert not (tmp_path / "records").exists()
    found = recover(
        trap_catalog.parent,
        KEYS,
        register=tmp_path / "moved" / "requests.db",
        ledger=tmp_path / "moved" / "ledger.db",
    )
    assert found.outcome.value == "rolled forward"
    reg = Register(tmp_path / "moved" / "requests.db", KEYS)
    assert reg.get(request).status is Status.COMPLETED
    assert [e.action for e in reg.audit.entries()][-2:] == ["erasure.applied", "request.updated"]
    reg.close()
    ledger = Ledger(tmp_path / "moved" / "ledger.db", KEYS)
    assert {e.state for e in ledger.entries()} == {State.DONE}
    ledger.close()
    assert not (tmp_path / "records").exists()


def test_a_journal_planted_without_the_key_records_nothing(
    trap_catalog: Path, tmp_path: Path
) -> None:
    import json

    from dsar.rights.journal import JOURNAL

    db = tmp_path / "requests.db"
    reg = Register(db, KEYS)
    request = reg.add(RequestType.ERASURE, Jurisdiction.GDPR, date(2026, 11, 20), [ANN]).id
    reg.close()
    journal: dict[str, object] = {
        "phase": "commit",
        "label": request,
        "moves": [],
        "artifacts": [],
        "audit": {
            "log": str(db.with_name(db.name + ".audit.jsonl")),
            "action": "erasure.applied",
            "request": request,
            "subject": None,
            "tables": {"accounts": 1},
            "details": {"change_id": "x"},
        },
        "ledger": None,
        "register": str(db),
    }
    (trap_catalog.parent / JOURNAL).write_text(json.dumps(journal))
    with pytest.raises(Exception, match=r"not a journal this workbench wrote with this key"):
        recover(trap_catalog.parent, KEYS)
    reg = Register(db, KEYS)
    assert reg.get(request).status is Status.OPEN
    assert [e.action for e in reg.audit.entries()] == ["request.added"]
    reg.close()


@pytest.mark.parametrize("text", ["", '{"phase": "commit"', "[]"], ids=["empty", "cut", "list"])
def test_an_unreadable_journal_is_one_line(trap_catalog: Path, text: str) -> None:
    from dsar.rights.journal import JOURNAL

    (trap_catalog.parent / JOURNAL).write_text(text)
    run = _dsar("erase", "recover", "--catalog", str(trap_catalog))
    _, err = run.communicate(timeout=300)
    assert run.returncode == 1 and "Traceback" not in err
    assert "not a journal this workbench wrote (unreadable)" in err


def test_a_journal_that_is_a_folder_is_refused_by_recover_too(trap_catalog: Path) -> None:
    from dsar.errors import UnusableFileError
    from dsar.rights.journal import JOURNAL

    (trap_catalog.parent / JOURNAL).mkdir()
    with pytest.raises(UnusableFileError, match=r": not a journal file; remove it"):
        recover(trap_catalog.parent, KEYS)


def test_a_lock_file_that_is_a_link_is_never_written_through(
    trap_catalog: Path, tmp_path: Path
) -> None:
    from dsar.errors import UnusableFileError
    from dsar.lock import LOCK_NAME

    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    (trap_catalog.parent / LOCK_NAME).symlink_to(victim)
    with pytest.raises(UnusableFileError, match=r": not the workbench's lock file \(a link"):
        _erase_with_records(trap_catalog, tmp_path / "records")
    with pytest.raises(UnusableFileError, match=r": not the workbench's lock file"):
        open_engine(load_catalog(trap_catalog))
    assert victim.read_text() == "precious\n"


@pytest.mark.parametrize("head", ["", "garbage", "[]"], ids=["empty", "garbage", "list"])
def test_an_edited_audit_head_is_reported_and_never_written_over(tmp_path: Path, head: str) -> None:
    from dsar.errors import WorkbenchError

    log = AuditLog(tmp_path / "audit.jsonl", KEYS)
    log.append("request.added", request="R-1")
    log.head_path.write_text(head)
    assert any("was changed (unreadable)" in str(p) for p in verify_audit_log(log.path, KEYS))
    with pytest.raises(WorkbenchError, match=r"not the head this workbench wrote"):
        log.append("request.updated", request="R-1")
    assert log.head_path.read_text() == head
    result = CliRunner().invoke(
        app,
        ["audit", "verify", "--log", str(log.path)],
        env={"WORKBENCH_KEY": KEY.decode()},
    )
    assert result.exit_code == 1 and "was changed (unreadable)" in result.output
