"""Issue 23, the records side, attacked as the red team found it: a ledger emptied or
stripped of its seals without the key, a trailing dot in an email, an upload file hidden in
a subfolder of an audience, a catalog naming one file twice under different rules."""

from __future__ import annotations

import sqlite3
from datetime import date
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from dsar import parse_key
from dsar.catalog.models import IdentityKind
from dsar.cli import app
from dsar.cli.common import existing_ledger
from dsar.errors import MissingFileError, RecordTamperedError, UnusableFileError
from dsar.keys import Keys
from dsar.records.ledger import Ledger, Reason, verify_ledger
from dsar.subjects.identity import MatchRules, normalize, sql_normalize
from dsar.subjects.people import PEOPLE_RULES

KEY = b"k" * 40
KEYS = Keys(KEY)
OBJ = Reason.OBJECTED_DIRECT_MARKETING


def _sql(path: Path, script: str) -> None:
    """Edits by hand, as anyone with write access to the file can make (no key)."""
    db = sqlite3.connect(path)
    db.executescript(script)
    db.commit()
    db.close()


def _ledger(path: Path) -> None:
    ledger = Ledger(path, KEYS)
    for n in range(3):
        ledger.add([parse_key(f"email=p{n}@example.com")], OBJ, f"R-{n}", date(2026, 11, 1))
    ledger.close()


@pytest.fixture
def cli_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKBENCH_KEY", KEY.decode())


@pytest.mark.parametrize(
    "make",
    [
        lambda p: p.write_bytes(b""),  # `: > ledger.db`
        lambda p: p.write_text("ref,reason\n"),  # not SQLite
        lambda p: _sql(p, "CREATE TABLE other (x TEXT)"),  # SQLite, no ledger table
    ],
    ids=["emptied", "not-sqlite", "no-ledger-table"],
)
def test_a_file_that_is_not_a_ledger_is_refused_by_every_reader(
    tmp_path: Path, make: object, cli_key: None
) -> None:
    """H1 (A): a 0-byte ledger was read as one holding nobody (541 uploaded, 26 objectors
    among them), then sealed, after which `dsar audit verify` said intact."""
    path = tmp_path / "rec" / "ledger.db"
    path.parent.mkdir()
    assert callable(make)
    make(path)
    before = path.read_bytes()
    with pytest.raises(UnusableFileError, match=r"not a ledger"):
        Ledger(path, KEYS)
    with pytest.raises(UnusableFileError, match=r"not a ledger"):
        existing_ledger(path, KEYS, None)  # what audience and extract open
    runner = CliRunner()
    check = runner.invoke(app, ["ledger", "check", "--ledger", str(path), "--email", "a@b.co"])
    assert check.exit_code != 0 and "not in the ledger" not in check.output
    assert path.read_bytes() == before  # nothing written: never sealed as a ledger
    assert any("not a ledger" in p for p in verify_ledger(path, KEYS))
    verify = runner.invoke(app, ["audit", "verify", "--ledger", str(path)])
    assert verify.exit_code == 1, verify.output


STRIP = """
DELETE FROM suppression WHERE request IN ('R-0', 'R-1');
DELETE FROM folded WHERE request IN ('R-0', 'R-1');
ALTER TABLE suppression DROP COLUMN mac;
ALTER TABLE folded DROP COLUMN mac;
ALTER TABLE meta DROP COLUMN mac;
DROP TABLE seals;
"""
EVERY_MAC = STRIP + "ALTER TABLE writes DROP COLUMN mac;"


@pytest.mark.parametrize("strip", [STRIP, EVERY_MAC, EVERY_MAC + "DROP TABLE writes;"])
def test_a_ledger_stripped_of_its_seals_is_refused_never_adopted(
    tmp_path: Path, cli_key: None, strip: str
) -> None:
    """H1 (B): two objectors deleted, every MAC column and the seals dropped: the audience
    run adopted the rest with a warning, and even `dsar ledger check` sealed it back, after
    which `dsar audit verify` said intact."""
    path = tmp_path / "rec" / "ledger.db"
    _ledger(path)
    _sql(path, strip)
    before = path.read_bytes()
    with pytest.raises(RecordTamperedError, match=r"no seals"):
        Ledger(path, KEYS)
    with pytest.raises(RecordTamperedError, match=r"no seals"):
        existing_ledger(path, KEYS, None)
    runner = CliRunner()
    for args in (["check", "--email", "p0@example.com"], ["list"]):  # read-only commands
        out = runner.invoke(app, ["ledger", *args, "--ledger", str(path)])
        assert out.exit_code != 0 and isinstance(out.exception, RecordTamperedError)
    assert path.read_bytes() == before  # never keyed nor sealed back by a reader
    verify = runner.invoke(app, ["audit", "verify", "--ledger", str(path)])
    assert verify.exit_code == 1 and "no seals" in verify.output


def test_adopting_an_old_ledger_is_explicit_and_recorded(tmp_path: Path, cli_key: None) -> None:
    """The legacy need the adoption served (a ledger from before rows were keyed) is met
    only by `dsar ledger adopt --i-know`, which the audit log records."""
    path = tmp_path / "rec" / "ledger.db"
    path.parent.mkdir()
    _sql(  # as the first versions wrote it: no MAC, no seals, no log
        path,
        "CREATE TABLE suppression (ref TEXT NOT NULL, reason TEXT NOT NULL, request TEXT NOT"
        " NULL, since TEXT NOT NULL, PRIMARY KEY (ref, reason));"
        "INSERT INTO suppression VALUES ('a', 'erased', 'R-0', '2026-01-01'),"
        " ('b', 'erased', 'R-1', '2026-01-01'), ('c', 'erased', 'R-2', '2026-01-01');",
    )
    runner = CliRunner()
    base = ["ledger", "adopt", "--ledger", str(path)]
    refused = runner.invoke(app, base)
    assert refused.exit_code != 0 and "--i-know" in str(refused.exception or refused.output)
    with pytest.raises(RecordTamperedError):
        Ledger(path, KEYS)
    done = runner.invoke(app, [*base, "--i-know"])
    assert done.exit_code == 0, done.output
    from dsar.records.audit import AuditLog

    log = AuditLog(path.with_name("ledger.db.audit.jsonl"), KEYS)  # the ledger's own
    [entry] = [e for e in log.entries() if e.action == "ledger.adopted"]
    assert entry.details["ledger"] == "ledger.db" and entry.details["rows"] == 3
    assert verify_ledger(path, KEYS) == []
    assert {e.request for e in Ledger(path, KEYS).entries()} == {"R-0", "R-1", "R-2"}


def test_a_ledger_emptied_or_put_back_older_is_refused_by_its_audit_log(
    tmp_path: Path, cli_key: None
) -> None:
    """H1: without the key, a ledger can still be replaced whole: by a new SQLite file with
    an empty suppression table (it would be sealed as a new ledger) or by an older copy
    (every row and seal verify). Each write is numbered and logged with its seals, as the
    sent record's are: both hold fewer writes than the log records."""
    path = tmp_path / "rec" / "ledger.db"
    ledger = Ledger(path, KEYS)
    ledger.add([parse_key("email=p0@example.com")], OBJ, "R-0")
    ledger.close()
    older = path.read_bytes()
    _ledger(path)  # three more writes
    assert verify_ledger(path, KEYS) == []
    latest = path.read_bytes()
    path.write_bytes(older)
    with pytest.raises(RecordTamperedError, match=r"an earlier copy of the record was put back"):
        Ledger(path, KEYS)
    assert any("earlier copy" in p for p in verify_ledger(path, KEYS))
    path.unlink()
    _sql(
        path,
        "CREATE TABLE suppression (ref TEXT NOT NULL, reason TEXT NOT NULL, request TEXT NOT"
        " NULL, since TEXT NOT NULL, PRIMARY KEY (ref, reason))",
    )
    assert verify_ledger(path, KEYS) != []
    with pytest.raises(RecordTamperedError, match=r"holds 0 write\(s\), its audit log"):
        existing_ledger(path, KEYS, None)
    path.unlink()  # deleted: a writer would start a new, empty ledger
    with pytest.raises(RecordTamperedError, match=r"holds 0 write\(s\), its audit log"):
        Ledger(path, KEYS)
    path.write_bytes(latest)  # the latest copy back: accepted
    assert Ledger(path, KEYS).is_suppressed(parse_key("email=p2@example.com"), OBJ)


@pytest.mark.parametrize("rules", [MatchRules(), PEOPLE_RULES], ids=["plain", "folded"])
def test_a_trailing_dot_in_an_email_names_the_same_person(
    tmp_path: Path, rules: MatchRules
) -> None:
    """L3: the ledger held `user@example.co.uk.` (a domain written fully qualified) and the
    audience's `user@example.co.uk` was not matched: normalised alike, in Python and SQL."""
    held, given = "User@Example.co.uk.", "user@example.co.uk"
    assert normalize(IdentityKind.EMAIL, held, rules) == normalize(IdentityKind.EMAIL, given, rules)
    for for_match in (False, True):
        expr = sql_normalize(IdentityKind.EMAIL, "x", rules, for_match=for_match)
        [(sql,)] = duckdb.execute(f"SELECT {expr} FROM (VALUES (?)) t(x)", [held]).fetchall()
        assert sql == normalize(IdentityKind.EMAIL, given, rules)
    ledger = Ledger(tmp_path / "ledger.db", KEYS)
    ledger.add([parse_key(f"email={held}")], OBJ, "R-1")
    assert ledger.is_suppressed(parse_key(f"email={given}"), OBJ)


def test_an_access_request_with_a_trailing_dot_finds_the_person(
    trap_catalog: Path, tmp_path: Path
) -> None:
    from dsar import load_catalog
    from dsar.access.answer import answer_access_requests
    from dsar.subjects.identity import SubjectRequest

    catalog = load_catalog(trap_catalog)
    rows = []
    for n, text in enumerate(("email=ann@example.com", "email=Ann@Example.com.")):
        [bundle] = answer_access_requests(
            catalog, [SubjectRequest(f"AR-{n}", (parse_key(text),))], tmp_path / str(n)
        )
        rows.append(bundle.subject.rows)
    assert rows[0] > 0 and rows[1] == rows[0]


def test_an_upload_file_in_a_subfolder_of_an_audience_is_a_finding(
    demo_export: Path, tmp_path: Path
) -> None:
    """M4: `mkdir audience/more` holding a google.csv of hashes (a ledger person's among
    them) verified OK: only the folder's top level was compared with the manifests."""
    from anonymize.audience import build_audience
    from dsar import load_catalog, open_engine
    from dsar.records.sent import SentRecord
    from dsar.review.audience import verify_audience

    spec = Path(__file__).parents[1] / "examples" / "audience_marketing.yml"
    record = SentRecord(tmp_path / "records" / "sent.db", KEYS)
    with open_engine(load_catalog(demo_export)) as engine:
        build_audience(spec, engine, ["meta"], tmp_path / "aud", record=record)
    record.close()
    assert [str(f) for f in verify_audience(tmp_path / "aud").findings] == []
    (tmp_path / "aud" / "more" / "deeper").mkdir(parents=True)
    upload = (tmp_path / "aud" / "meta.csv").read_bytes()
    (tmp_path / "aud" / "more" / "google.csv").write_bytes(upload)
    (tmp_path / "aud" / "more" / "deeper" / ".tiktok.csv").write_bytes(upload)
    (tmp_path / "aud" / "empty").mkdir()
    findings = [str(f) for f in verify_audience(tmp_path / "aud").findings]
    assert [f.split(":")[0] for f in findings] == [  # by position: a name can be personal
        "[checksum] unlisted file 1 of 2 (in a subfolder)",
        "[checksum] unlisted file 2 of 2 (in a subfolder)",
    ]


@pytest.mark.parametrize("copy", [False, True], ids=["same-file", "byte-identical-copy"])
def test_catalog_check_reports_one_file_under_two_sets_of_rules(
    trap_catalog: Path, copy: bool
) -> None:
    """L4: `dsar catalog check` said OK for two entries over one file (or a copy of it) under
    different rules, which `anonymize audience` refuses."""
    import yaml

    doc = yaml.safe_load(trap_catalog.read_text(encoding="utf-8"))
    second = dict(doc["tables"]["accounts"], purposes=["advertising audiences"])
    if copy:
        root = trap_catalog.parent
        (root / "accounts_copy.csv").write_bytes((root / "accounts.csv").read_bytes())
        second["path"] = "accounts_copy.csv"
    doc["tables"]["accounts_ads"] = second
    trap_catalog.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    out = CliRunner().invoke(app, ["catalog", "check", str(trap_catalog)])
    assert out.exit_code == 1
    assert "the tables accounts, accounts_ads read the same file" in str(out.exception)
    assert "catalog OK" not in out.output


def test_reading_a_ledger_that_is_not_there_makes_none(tmp_path: Path, cli_key: None) -> None:
    """`dsar ledger check` and `list` on a path with a typo said "not in the ledger" and left
    a new, empty ledger there: a reader now refuses a missing ledger and creates nothing."""
    path = tmp_path / "rec" / "ledgr.db"
    runner = CliRunner()
    for args in (["check", "--email", "p0@example.com"], ["list"]):
        out = runner.invoke(app, ["ledger", *args, "--ledger", str(path)])
        assert isinstance(out.exception, MissingFileError), out.output
        assert "not in the ledger" not in out.output
    assert not path.exists() and not (tmp_path / "rec").exists()
