"""`dsar verify` on an audience folder (issue 23, point 6): a good folder passes on every
platform, with no false finding; a row added, a hash of the wrong shape, a hash twice, counts
that do not add up, and a person in the ledger are each found, by line, never by value."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Literal

import duckdb
import pytest
from typer.testing import CliRunner

from anonymize.audience import PLATFORMS, build_audience, build_audience_file, platform
from dsar import load_catalog, open_engine
from dsar.catalog.models import IdentityKind
from dsar.cli import app
from dsar.errors import UsageError
from dsar.keys import Keys
from dsar.records.ledger import Ledger, Reason
from dsar.records.sent import SentRecord
from dsar.review.audience import verify_audience
from dsar.subjects.identity import SubjectKey

KEY = "v" * 40
KEYS = Keys(KEY.encode())
SPEC = Path(__file__).parents[1] / "examples" / "audience_marketing.yml"
EVERY = sorted(PLATFORMS)


@pytest.fixture(scope="module")
def built(demo_export: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo's example audience for every platform, recorded; returns the work folder
    (`audiences/`, `records/sent.db`)."""
    root = tmp_path_factory.mktemp("audiences")
    record = SentRecord(root / "records" / "sent.db", KEYS)
    with open_engine(load_catalog(demo_export)) as engine:
        build_audience(SPEC, engine, EVERY, root / "audiences", record=record)
    record.close()
    return root


@pytest.fixture
def work(built: Path, tmp_path: Path) -> Path:
    """A private copy of the built folder and its record, for a test that changes them."""
    shutil.copytree(built, tmp_path / "w")
    return tmp_path / "w"


def _verify(root: Path, ledger: Ledger | None = None) -> list[str]:
    sent = SentRecord(root / "records" / "sent.db", KEYS, read_only=True)
    try:
        result = verify_audience(root / "audiences", sent=sent, ledger=ledger)
    finally:
        sent.close()
    return [str(f) for f in result.findings]


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def _write(path: Path, lines: list[str]) -> None:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")


def test_a_good_audience_passes_on_every_platform(work: Path) -> None:
    ledger = Ledger(work / "led" / "ledger.db", KEYS)
    ledger.add([SubjectKey(IdentityKind.EMAIL, "nobody@example.com")], Reason.ERASED, "ER-1")
    assert _verify(work, ledger) == []
    ledger.close()
    sent = SentRecord(work / "records" / "sent.db", KEYS, read_only=True)
    result = verify_audience(work / "audiences", sent=sent)
    sent.close()
    assert result.ok and result.checked_files == len(EVERY)
    written = [
        json.loads(m.read_text())["counts"]["written"]
        for m in (work / "audiences").glob("*.manifest.json")
    ]
    assert result.checked_rows == sum(written) and min(written) > 50


@pytest.mark.parametrize("kind", ["email", "phone"])
def test_lists_with_fields_pass_on_every_platform_that_takes_them(
    tmp_path: Path, kind: Literal["email", "phone"]
) -> None:
    """Google's and Meta's name, postcode and country columns (hashed or in clear), phones,
    UID2's base64, X's file without a header: no false finding."""
    source = tmp_path / "list.csv"
    source.write_text(
        "email,phone,first,last,zip,country\n"
        "Ann.Lee+x@Gmail.com,+44 7700 900001,Ann,Lee,SW1A 1AA,GB\n"
        "bo@example.org,+1 202 555 0143,Bo,,94303-5300,US\n"
        "cy@example.net,+33 6 12 34 56 78,Cy,Doe,,France\n"
        "not an email,123,Dee,Fox,=1+1,IE\n"
    )
    takes = [
        p
        for p in EVERY
        if (PLATFORMS[p].email_header if kind == "email" else PLATFORMS[p].phone_header)
    ]
    build_audience_file(
        source,
        kind,
        takes,
        tmp_path / "out",
        kind=kind,
        fields={
            "first_name": "first",
            "last_name": "last",
            "postcode": "zip",
            "country": "country",
        },
    )
    result = verify_audience(tmp_path / "out")
    assert [str(f) for f in result.findings] == []
    assert result.checked_files == len(takes)
    header = _lines(tmp_path / "out" / "google.csv")[0]
    assert header == f"{'Email' if kind == 'email' else 'Phone'},First Name,Last Name,Zip,Country"


def _meta(work: Path) -> Path:
    return work / "audiences" / "meta.csv"


def _row_added(work: Path) -> None:
    lines = _lines(_meta(work))
    _write(_meta(work), [*lines, "ab" * 32])


def _wrong_shape(work: Path) -> None:
    lines = _lines(_meta(work))
    lines[1] = lines[1].upper()  # upper-case hex: the platform matches nobody
    _write(_meta(work), lines)


def _base64_for_hex(work: Path) -> None:
    path = work / "audiences" / "uid2.csv"
    lines = _lines(path)
    lines[2] = "cd" * 32
    _write(path, lines)


def _duplicate(work: Path) -> None:
    lines = _lines(_meta(work))
    lines[3] = lines[2]
    _write(_meta(work), lines)


def _counts(work: Path) -> None:
    path = work / "audiences" / "meta.manifest.json"
    data = json.loads(path.read_text())
    data["counts"]["no_consent"] += 1
    path.write_text(json.dumps(data))


def _header(work: Path) -> None:
    lines = _lines(_meta(work))
    lines[0] = "Email"
    _write(_meta(work), lines)


def _unlisted(work: Path) -> None:
    (work / "audiences" / "notes.csv").write_text("x\n")


@pytest.mark.parametrize(
    ("change", "found"),
    [
        (_row_added, "[checksum] meta.csv: SHA-256 differs from the manifest"),
        (_row_added, "[rows] meta.csv: {more} rows, the manifest says {written}"),
        (
            _row_added,
            "[counts] meta.manifest.json counts: written {written}, the files hold {more} rows",
        ),
        (
            _row_added,
            "[sent record] meta.manifest.json: 1 hash(es) the sent record does not hold for"
            " meta (first at meta.csv line {last}): sent without being recorded, they could never"
            " be withdrawn",
        ),
        (
            _wrong_shape,
            "[shape] meta.csv email line 2: not a SHA-256 as 64 lower-case hex characters",
        ),
        (
            _base64_for_hex,
            "[shape] uid2.csv email_hash line 3: not a SHA-256 as the base64 of its 32 bytes"
            " (44 characters)",
        ),
        (_duplicate, "[duplicate] meta.csv line 4: the same hash as meta.csv line 3"),
        (
            _counts,
            "[counts] meta.manifest.json counts: rows_read {rows_read} is not rows_in {rows_in}"
            " + the rows left out (no_consent {no_consent_more}, opted_out 0, closed_account 0",
        ),
        (_header, "[header] meta.csv line 1: not meta's upload header (email)"),
        (_unlisted, "[checksum] unlisted file 1 of 1 (at the top): a file not listed in any"),
    ],
    ids=[
        "row added: checksum",
        "row added: rows",
        "row added: counts",
        "row added: not recorded",
        "upper-case hex",
        "hex where base64",
        "duplicate",
        "counts",
        "header",
        "unlisted file",
    ],
)
def test_each_change_is_found(work: Path, change: Callable[[Path], None], found: str) -> None:
    assert _verify(work) == []
    counts = json.loads((work / "audiences" / "meta.manifest.json").read_text())["counts"]
    written = counts["written"]
    figures = {
        "more": written + 1,
        "last": written + 2,
        "no_consent_more": counts["no_consent"] + 1,
    }
    change(work)
    findings = _verify(work)
    expected = found.format(**counts, **figures)
    assert any(f.startswith(expected) for f in findings), findings
    assert all(f.split("] ", 1)[1].startswith(("meta", "uid2", "unlisted file")) for f in findings)


def _held(demo: Path, audiences: Path) -> str:
    """An email of the demo whose meta hash is in the meta file."""
    sent = set(_lines(audiences / "meta.csv")[1:])
    meta = platform("meta")
    emails = [
        str(e)
        for (e,) in duckdb.execute(
            f"SELECT email FROM read_json('{demo.parent}/marketing_preferences.json')"
        ).fetchall()
    ]
    return next(e for e in emails if (n := meta.email(e)) and meta.hash(n) in sent)


def test_a_person_in_the_ledger_is_found_on_every_platform(
    demo_export: Path, work: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    person = _held(demo_export, work / "audiences")
    line = (
        _lines(_meta(work)).index(platform("meta").hash(platform("meta").email(person) or "")) + 1
    )
    ledger = Ledger(work / "led" / "ledger.db", KEYS)
    ledger.add(
        [SubjectKey(IdentityKind.EMAIL, person.strip().lower())],
        Reason.OBJECTED_DIRECT_MARKETING,
        "OB-1",
    )
    findings = _verify(work, ledger)
    ledger.close()
    assert (
        f"[ledger] meta.csv line {line}: a person in the suppression ledger (erased, objected,"
        " opted out or restricted)"
    ) in findings
    assert sorted(f.split("] ", 1)[1].split(".")[0] for f in findings) == EVERY  # once each
    assert all(person not in f for f in findings)
    # the same through the command line: exit 1, the findings on stdout
    monkeypatch.setenv("WORKBENCH_KEY", KEY)
    args = ["verify", str(work / "audiences"), "--sent-record", str(work / "records" / "sent.db")]
    result = CliRunner().invoke(app, [*args, "--ledger", str(work / "led" / "ledger.db")])
    assert result.exit_code == 1
    assert f"[ledger] meta.csv line {line}:" in result.output
    clean = CliRunner().invoke(app, args)  # without the ledger: nothing to find, but built
    assert clean.exit_code == 3  # from Python, unsealed: OK, NOT AUTHENTICATED even with the key


def test_withdrawn_people_sent_again_are_found(demo_export: Path, work: Path) -> None:
    person = _held(demo_export, work / "audiences")
    record = SentRecord(work / "records" / "sent.db", KEYS)
    ledger = Ledger(work / "led" / "ledger.db", KEYS)
    ledger.add([SubjectKey(IdentityKind.EMAIL, person.strip().lower())], Reason.ERASED, "ER-2")
    record.write_withdrawal("meta", ledger, work / "wd", "email")
    record.close()
    ledger.close()
    assert any(
        f.startswith("[sent record] meta.csv line ")
        and f.endswith("withdrawn from meta before: sent again")
        for f in _verify(work)
    )


def test_the_command_line_checks_a_folder_or_one_manifest(
    work: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runner = CliRunner()
    folder = work / "audiences"
    monkeypatch.delenv("WORKBENCH_KEY", raising=False)
    ok = runner.invoke(app, ["verify", str(folder)])
    assert ok.exit_code == 3, ok.output  # without the key: nothing authenticated
    assert f"{folder}: OK, NOT AUTHENTICATED ({len(EVERY)} files" in ok.output
    _duplicate(work)
    one = runner.invoke(app, ["verify", str(folder / "google.manifest.json")])
    assert one.exit_code == 3, one.output  # only google's files
    bad = runner.invoke(app, ["verify", str(folder / "meta.manifest.json")])
    assert bad.exit_code == 1
    assert "[duplicate] meta.csv line 4: the same hash as meta.csv line 3" in bad.output
    monkeypatch.setenv("WORKBENCH_KEY", KEY)
    led = work / "led" / "ledger.db"
    Ledger(led, KEYS).close()
    alone = runner.invoke(app, ["verify", str(folder), "--ledger", str(led)])
    assert isinstance(alone.exception, UsageError)
    assert "give the sent record too (--sent-record)" in str(alone.exception)
