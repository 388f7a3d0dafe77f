"""The audience's records attacked (issue 23, red team F4, F6, F7, F8, F10, F13), through the
command line on the issue's demo export (`tests.test_attacks_audience`'s set-up):

- F4: a phone upload's removal file carried the email header (and X's a header at all): the
  platform would reject or ignore it. Each removal file now has the header of the upload of
  its kind, one file per kind.
- F6: killed after the platform files were written and before the sent record, an audience
  was left published and unrecorded, and plain `dsar verify` passed it. Now the files are
  published only after the record, at every kill point; `dsar verify --sent-record` fails a
  folder whose upload is not recorded, and says when it could not check.
- F7: no warning when an audience was built without --record.
- F8: an earlier copy of the sent record was accepted once its audit log was deleted.
- F10: `dsar ledger add --id user_id=... --sent-record` named no platform.
- F13: an edited manifest passed verify (no MAC); the hash of the empty string passed as a
  member; `build_audience` from Python ignored $WORKBENCH_LEDGER.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import shutil
import signal
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from anonymize.audience import build_audience, platform
from anonymize.cli import app as anonymize_app
from dsar import UsageError, load_catalog, open_engine
from dsar.cli import app as dsar_app
from dsar.demo import generate
from dsar.faults import KILL_AT
from dsar.records.sent import SentRecord
from dsar.review.audience import EMPTY_HASHES
from tests.child import run_child
from tests.test_attacks_audience import (
    KEY,
    KEYS,
    SPEC,
    _audience,
    _hashes,
    _ledger_add,
    _manifest,
    _meta,
    _rows,
)

runner = CliRunner()
ENV = {"WORKBENCH_KEY": KEY}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The issue's demo export, as `tests.test_attacks_audience` makes it: 1,000 users,
    seed 7; the catalog's path."""
    return generate(tmp_path_factory.mktemp("demo1000"), users=1000, seed=7).catalog_path


BASIS = ("--consent-basis", "legitimate interests: existing customers (policy 4.2)")


def _dsar(*args: str) -> Result:
    return runner.invoke(dsar_app, list(args), env=ENV)


def _withdraw(record: Path, ledger: Path, name: str, out: Path, *more: str) -> Result:
    return runner.invoke(
        anonymize_app,
        [
            *("withdraw", "--platform", name, "--record", str(record)),
            *("--ledger", str(ledger), "--out", str(out), *more),
        ],
        env=ENV,
    )


def _csv_rows(path: Path) -> list[list[str]]:
    return list(csv.reader(path.open(newline="", encoding="utf-8")))


# -- F4: a removal file has the header of the upload it removes from ---------------------


def test_a_phone_upload_is_withdrawn_with_the_phone_header(demo: Path, tmp_path: Path) -> None:
    """Each platform's phone removal file has that platform's phone header and the very hash
    uploaded; a platform that received emails too gets a second file, with its email header;
    X's removal file has no header line (its upload had none). (A CRM's list of customers the
    export does not hold, under a stated basis.)"""
    numbers = [f"+44 7700 900{n:03d}" for n in range(1, 41)]
    email = "pat.jones@crm-example.org"
    phones, emails = tmp_path / "phones.csv", tmp_path / "emails.csv"
    phones.write_text("phone\n" + "\n".join(numbers) + "\n")
    emails.write_text(f"email\n{email}\nsam@crm-example.org\n")
    record = tmp_path / "rec" / "sent.db"
    by_phone = ["google", "meta", "tiktok", "snap", "uid2"]
    built = _audience(
        demo, tmp_path / "ph", "--input", str(phones), "--column", "phone", "--kind", "phone",
        "--platform", ",".join(by_phone), *BASIS, "--record", str(record),
    )  # fmt: skip
    assert built.exit_code == 0, built.output
    by_email = _audience(
        demo, tmp_path / "em", "--input", str(emails), "--column", "email",
        "--platform", "meta,x", *BASIS, "--record", str(record),
    )  # fmt: skip
    assert by_email.exit_code == 0, by_email.output
    ledger = tmp_path / "led" / "ledger.db"
    _ledger_add(ledger, email, "--id", "phone=+447700900001")
    for name in by_phone:
        p = platform(name)
        out = tmp_path / "wd" / name
        done = _withdraw(record, ledger, name, out)
        assert done.exit_code == 0, done.output
        uploaded = p.hash(p.phone(numbers[0]) or "")
        assert uploaded in {r[0] for r in _csv_rows(tmp_path / "ph" / f"{name}.csv")[1:]}
        [phone_file] = sorted(out.glob(f"{name}-withdraw-phone-*.csv"))
        assert _csv_rows(phone_file) == [[p.phone_header], [uploaded]], name
        if name == "meta":  # emails too: their own file, the email header
            [email_file] = sorted(out.glob("meta-withdraw-2*.csv"))
            assert _csv_rows(email_file) == [["email"], [_meta(email)]]
        else:
            assert len(list(out.iterdir())) == 1
    x = platform("x")
    done = _withdraw(record, ledger, "x", tmp_path / "wd" / "x")
    assert done.exit_code == 0, done.output
    [x_file] = (tmp_path / "wd" / "x").iterdir()
    assert x_file.read_text().splitlines() == [x.hash(x.email(email) or "")]  # no header


# -- F6: files are published only once the upload is recorded -----------------------------


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small demo export (the kill test runs the command once per write)."""
    return generate(tmp_path_factory.mktemp("demo150"), users=150, seed=7).catalog_path


def _build_child(n: int, catalog: Path, out: Path, record: Path) -> int:
    """The child: the build's exit code, unless killed at write point `n`."""
    os.environ[KILL_AT] = str(n)
    try:
        done = _audience(
            catalog, out, "--spec", str(SPEC), "--platform", "meta,uid2", "--record", str(record)
        )
    except Exception:
        return 2
    return done.exit_code


def _build_killed_at(n: int, catalog: Path, out: Path, record: Path) -> bool:
    """`anonymize audience --record` in a child killed at write point `n`; False when it
    completed instead."""
    code = run_child(_build_child, n, catalog, out, record)
    if code < 0:
        assert -code == signal.SIGKILL
        return True
    assert code == 0, "the build failed without being killed"
    return False


def _published(out: Path) -> dict[str, set[str]]:
    """Per platform, the hashes of its upload files visible in `out` (not partial folders)."""
    found: dict[str, set[str]] = {}
    for f in sorted(out.glob("*.csv")) if out.is_dir() else []:
        found.setdefault(f.stem.split("-")[0], set()).update(r[0] for r in _csv_rows(f)[1:])
    return found


@pytest.mark.slow
def test_a_build_killed_at_any_write_never_publishes_an_unrecorded_upload(
    small: Path, tmp_path: Path
) -> None:
    """Killed at each write in turn (files, manifests, the record's commit, its audit entry,
    each rename into --out): every hash visible in --out is in the sent record, and a folder
    that verifies without the record (every manifest there) verifies with it too. After a
    kill that published nothing, a run into the same --out publishes a whole, recorded
    audience (after one that published something, the rerun was never checked: not run)."""
    kills = 0
    for n in range(1, 80):
        work = tmp_path / f"k{n}"
        out, record = work / "out", work / "rec" / "sent.db"
        if not _build_killed_at(n, small, out, record):
            break
        kills += 1
        visible = _published(out)
        if visible:
            sent = SentRecord(record, KEYS, read_only=True)
            try:
                for name, hashes in visible.items():
                    assert hashes <= sent.uploaded(name), f"point {n}: {name} unrecorded"
            finally:
                sent.close()
            checked = _dsar("verify", str(out), "--sent-record", str(record))
            assert "sent record does not hold" not in checked.output, f"point {n}"
        else:  # nothing published: a rerun into the same --out publishes it whole
            again = _audience(
                small, out, "--spec", str(SPEC), "--platform", "meta,uid2", "--record", str(record)
            )
            assert again.exit_code == 0, f"point {n}: {again.output}"
            assert _dsar("verify", str(out), "--sent-record", str(record)).exit_code == 0
            assert not [p for p in out.iterdir() if p.name.startswith(".")], f"point {n}"
        shutil.rmtree(work)
    else:
        pytest.fail("the build never completed")
    assert kills >= 8, "too few write points to mean anything"


def test_verify_fails_an_upload_the_sent_record_does_not_hold(demo: Path, tmp_path: Path) -> None:
    """A folder built without --record passed plain `dsar verify`. With the record given, it
    fails (its upload is not there); without it, a notice says what was not checked."""
    record = tmp_path / "rec" / "sent.db"
    recorded = _audience(
        demo, tmp_path / "a", "--spec", str(SPEC), "--platform", "meta", "--record", str(record)
    )
    assert recorded.exit_code == 0, recorded.output
    loose = _audience(demo, tmp_path / "b", "--spec", str(SPEC), "--platform", "meta")
    assert loose.exit_code == 0, loose.output
    ok = _dsar("verify", str(tmp_path / "a"), "--sent-record", str(record))
    assert ok.exit_code == 0, ok.output
    found = _dsar("verify", str(tmp_path / "b"), "--sent-record", str(record))
    assert found.exit_code == 1
    assert "built without a sent record (--record): its upload is not recorded" in found.output
    plain = _dsar("verify", str(tmp_path / "a"))
    assert plain.exit_code == 0
    assert "not checked against the sent record (give --sent-record)" in plain.output
    unrecorded = _dsar("verify", str(tmp_path / "b"))
    assert "built without a sent record (--record): nothing lets" in unrecorded.output
    # a manifest pointing at a write that is not its upload
    m = json.loads((tmp_path / "a" / "meta.manifest.json").read_text())
    assert m["sent"]["record"] == "sent.db" and m["recorded"] is True
    m["sent"]["run"] = "another-run"
    del m["mac"]  # a forger has no key: checked here without one (--sent-record needs it)
    (tmp_path / "a" / "meta.manifest.json").write_text(json.dumps(m))
    forged = _dsar("verify", str(tmp_path / "a"), "--sent-record", str(record))
    assert forged.exit_code == 1
    assert "is not this upload (audience" in forged.output and "no MAC" in forged.output


# -- F7: an audience built without a sent record says so, loudly --------------------------


def test_an_audience_without_a_record_is_said_to_be_unrecorded(demo: Path, tmp_path: Path) -> None:
    built = _audience(demo, tmp_path / "out", "--spec", str(SPEC), "--platform", "meta")
    assert built.exit_code == 0, built.output
    assert "NOT RECORDED: no sent record" in built.output  # stderr, mixed in by the runner
    assert _manifest(tmp_path / "out").recorded is False
    record = tmp_path / "rec" / "sent.db"
    again = _audience(
        demo, tmp_path / "out2", "--spec", str(SPEC), "--platform", "meta", "--record", str(record)
    )
    assert again.exit_code == 0 and "NOT RECORDED" not in again.output
    manifest = _manifest(tmp_path / "out2")
    assert manifest.recorded is True and manifest.sent is not None
    sent = SentRecord(record, KEYS, read_only=True)
    assert sent.sent_write(manifest.sent.write) == (
        "sent",
        "meta",
        manifest.sent.audience,
        manifest.sent.run,
    )
    sent.close()


# -- F8: a record whose audit log is gone is refused ----------------------------------------


def test_an_earlier_record_with_its_log_deleted_is_refused(tmp_path: Path) -> None:
    """The copy after the first write put back, the log and its head deleted: withdraw read
    it as a record whose first entry a crash had cut, and accepted it (a withdrawal since
    undone). Now refused by withdraw and `dsar audit verify`, unless --audit-log-lost, which
    starts a new log that says so."""
    path = tmp_path / "rec" / "sent.db"
    record = SentRecord(path, KEYS)
    record.record("meta", "a", "run1", [("ann@example.org", "h1"), ("bob@example.org", "h2")])
    record.close()
    shutil.copy(path, tmp_path / "copy.db")
    ledger = tmp_path / "led" / "ledger.db"
    _ledger_add(ledger, "ann@example.org")
    first = _withdraw(path, ledger, "meta", tmp_path / "wd1")
    assert first.exit_code == 0 and "1 people to remove" in first.output
    shutil.copy(tmp_path / "copy.db", path)  # ann back in, not withdrawn
    (path.parent / "audit.jsonl").unlink()
    (path.parent / "audit.jsonl.head").unlink()
    refused = _withdraw(path, ledger, "meta", tmp_path / "wd2")
    assert refused.exit_code != 0
    assert "its audit log is missing" in str(refused.exception)
    assert not (tmp_path / "wd2").exists()
    checked = _dsar("audit", "verify", "--sent-record", str(path))
    assert checked.exit_code == 1 and "its audit log is missing" in checked.output
    # the user says the log was lost: accepted, and a new log begins from the record
    lost = _withdraw(path, ledger, "meta", tmp_path / "wd3", "--audit-log-lost")
    assert lost.exit_code == 0, lost.output
    log = [json.loads(line) for line in (path.parent / "audit.jsonl").read_text().splitlines()]
    assert [e["action"] for e in log] == ["audience.log_restarted", "audience.withdrawn"]
    assert _dsar("audit", "verify", "--sent-record", str(path)).exit_code == 0


def test_a_new_record_starts_its_log_before_its_first_write(tmp_path: Path) -> None:
    """So a crash between the first write and its entry leaves a log (empty, with its head)
    that verifies, never writes without a log."""
    path = tmp_path / "rec" / "sent.db"
    SentRecord(path, KEYS).close()
    assert (path.parent / "audit.jsonl").read_text() == ""
    assert _dsar("audit", "verify", "--sent-record", str(path)).exit_code == 0


# -- F10: an objection under an account id names the platforms ------------------------------


def test_an_objection_under_an_account_id_names_every_platform(demo: Path, tmp_path: Path) -> None:
    record = tmp_path / "rec" / "sent.db"
    built = _audience(
        demo, tmp_path / "out", "--spec", str(SPEC), "--platform", "meta,uid2",
        "--record", str(record),
    )  # fmt: skip
    assert built.exit_code == 0, built.output
    written = _hashes(tmp_path / "out")
    user_id, email = next(
        (u, e)
        for u, e in _rows(demo, "SELECT m.user_id, m.email FROM {m} m ORDER BY m.user_id")
        if _meta(e) in written
    )
    ledger = tmp_path / "led" / "ledger.db"
    args = ["ledger", "add", "--reason", "objected_direct_marketing", "--request", "OB-3"]
    added = _dsar(
        *args, "--ledger", str(ledger), "--id", f"user_id={user_id}", "--sent-record", str(record)
    )
    assert added.exit_code == 0, added.output
    assert "held by ad platform meta" in added.output
    assert "held by ad platform uid2" in added.output
    done = _withdraw(record, ledger, "meta", tmp_path / "wd")
    assert done.exit_code == 0 and "1 people to remove" in done.output, done.output
    [removal] = (tmp_path / "wd").iterdir()
    assert _csv_rows(removal) == [["email"], [_meta(email)]]


def test_an_account_id_is_resolved_through_the_catalog(demo: Path, tmp_path: Path) -> None:
    """A record that holds the upload under the email alone (written from Python, or before
    account ids were recorded): --catalog finds the person's email from their account id."""
    [(user_id, email)] = _rows(demo, "SELECT user_id, email FROM {a} ORDER BY user_id LIMIT 1")
    record = tmp_path / "rec" / "sent.db"
    sent = SentRecord(record, KEYS)
    sent.record("meta", "crm", "run1", [(email, _meta(email))])
    sent.close()
    args = ["ledger", "add", "--reason", "objected_direct_marketing", "--request", "OB-4"]
    base = [*args, "--ledger", str(tmp_path / "ledger.db"), "--id", f"user_id={user_id}"]
    alone = _dsar(*base, "--sent-record", str(record))
    assert alone.exit_code == 0 and "held by ad platform" not in alone.output
    assert "give --catalog" in alone.output
    resolved = _dsar(*base, "--sent-record", str(record), "--catalog", str(demo))
    assert resolved.exit_code == 0, resolved.output
    assert "held by ad platform meta in audience crm" in resolved.output


# -- F13: manifests sealed, no empty hash, the ledger from the environment ----------------


def test_an_edited_manifest_fails_verify(demo: Path, tmp_path: Path) -> None:
    record = tmp_path / "rec" / "sent.db"
    out = tmp_path / "out"
    built = _audience(demo, out, "--spec", str(SPEC), "--platform", "meta", "--record", str(record))
    assert built.exit_code == 0, built.output
    assert _dsar("verify", str(out)).exit_code == 0  # the key from $WORKBENCH_KEY
    path = out / "meta.manifest.json"
    original = path.read_text()
    m = json.loads(original)
    m["counts"]["no_consent"] += 5  # a count that still adds up: rows_read too
    m["counts"]["rows_read"] += 5
    path.write_text(json.dumps(m))
    edited = _dsar("verify", str(out))
    assert edited.exit_code == 1 and "its MAC does not match" in edited.output
    del m["mac"]
    path.write_text(json.dumps(m))
    stripped = _dsar("verify", str(out))
    assert stripped.exit_code == 1 and "no MAC" in stripped.output
    path.write_text(original)
    assert _dsar("verify", str(out), "--sent-record", str(record)).exit_code == 0


@pytest.mark.parametrize("blank", ["", " ", "\t", "  "])
def test_the_hash_of_nothing_is_a_finding(demo: Path, tmp_path: Path, blank: str) -> None:
    record = tmp_path / "rec" / "sent.db"
    out = tmp_path / "out"
    built = _audience(
        demo, out, "--spec", str(SPEC), "--platform", "meta,uid2", "--record", str(record)
    )
    assert built.exit_code == 0, built.output
    for name, encode in (("meta", bytes.hex), ("uid2", _b64)):
        file = out / f"{name}.csv"
        rows = file.read_text().splitlines()
        rows[3] = encode(hashlib.sha256(blank.encode()).digest())
        file.write_text("\n".join(rows) + "\n")
    # checksums fixed as a forger would: the finding is the hash itself
    _refresh_checksums(out)
    found = _dsar("verify", str(out))
    assert found.exit_code == 1
    for name in ("meta", "uid2"):
        assert f"{name}.csv" in found.output
    assert found.output.count("the hash of an empty value") == 2


def _b64(digest: bytes) -> str:
    import base64

    return base64.b64encode(digest).decode("ascii")


def _refresh_checksums(out: Path) -> None:
    """Each manifest's checksums made to match its files again, and its MAC removed (a forger
    without the key): left is what the files hold."""
    for path in out.glob("*.manifest.json"):
        m = json.loads(path.read_text())
        for o in m["outputs"]:
            data = (out / o["path"]).read_bytes()
            o["sha256"], o["bytes"] = hashlib.sha256(data).hexdigest(), len(data)
        m["mac"] = None
        path.write_text(json.dumps(m))


def test_build_never_writes_the_hash_of_nothing(demo: Path, tmp_path: Path) -> None:
    """Blank values and blank fields in a list: none is hashed, on any platform."""
    people = tmp_path / "crm.csv"
    emails = [f"customer{n}@crm-example.org" for n in range(30)]
    lines = [f"{e},Ann,Lee,GB,SW1A 1AA" for e in emails]
    lines += [" ,Bob,Ray,GB,E1", "\t, , ,  ,  ", ",,,,", f"{emails[0]}, , ,\t, "]
    people.write_text("email,first,last,country,zip\n" + "\n".join(lines) + "\n")
    out = tmp_path / "out"
    built = _audience(
        demo, out, "--input", str(people), "--column", "email", "--platform", "google,meta,uid2",
        "--fields", "first_name=first,last_name=last,country=country,postcode=zip", *BASIS,
        "--record", str(tmp_path / "rec" / "sent.db"),
    )  # fmt: skip
    assert built.exit_code == 0, built.output
    cells = {c for f in out.glob("*.csv") for row in _csv_rows(f) for c in row}
    assert not cells & EMPTY_HASHES
    assert _dsar("verify", str(out)).exit_code == 0


def test_build_audience_from_python_never_ignores_the_ledger_env(
    demo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WORKBENCH_LEDGER", str(tmp_path / "ledger.db"))
    with open_engine(load_catalog(demo)) as engine, pytest.raises(UsageError) as refused:
        build_audience(SPEC, engine, ["meta"], tmp_path / "out")
    assert "WORKBENCH_LEDGER" in str(refused.value)
    assert not list((tmp_path / "out").glob("*.csv")) if (tmp_path / "out").exists() else True
