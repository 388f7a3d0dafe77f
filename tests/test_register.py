"""The request register and its audit log: deadlines tracked, changes checked and chained."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dsar.cli import app
from dsar.errors import DeadlineError, RequestNotFoundError, WorkbenchError
from dsar.keys import SCHEME, Keys
from dsar.records.audit import GENESIS, verify_audit_log
from dsar.records.deadlines import Jurisdiction, RequestType
from dsar.records.register import DenialReason, Register, Status
from dsar.subjects.identity import parse_key
from tests.conftest import register_request

KEY = "k" * 40
KEYS = Keys(KEY.encode())
TODAY = date(2026, 11, 29)


@pytest.fixture
def reg(tmp_path: Path) -> Iterator[Register]:
    register = Register(tmp_path / "requests.db", KEYS)
    yield register
    register.close()


def _add(
    reg: Register,
    kind: RequestType = RequestType.ERASURE,
    law: Jurisdiction = Jurisdiction.GDPR,
    received: date = date(2026, 11, 2),
    who: str = "email=ann@example.com",
) -> str:
    return reg.add(kind, law, received, [parse_key(who)]).id


def test_add_list_show(reg: Register) -> None:
    first = _add(reg, received=date(2026, 10, 1))
    second = _add(reg, RequestType.ACCESS, Jurisdiction.CCPA, date(2026, 11, 20))
    assert (first, second) == ("R-2026-0001", "R-2026-0002")
    listed = reg.list(today=TODAY)
    assert [r.id for r in listed] == [first, second]  # by deadline
    assert listed[0].overdue(TODAY) and not listed[1].overdue(TODAY)
    assert reg.get(second).deadlines.acknowledge_by == date(2026, 12, 4)
    assert [r.id for r in reg.list(due_within=7, today=TODAY)] == [first]


def test_lifecycle(reg: Register) -> None:
    rid = _add(reg, RequestType.ACCESS)  # an erasure is completed by its apply only
    reg.update(rid, status=Status.IN_PROGRESS, today=TODAY)
    extended = reg.update(rid, extend=("thousands of files", date(2026, 11, 20)), today=TODAY)
    assert extended.deadlines.due == date(2027, 2, 2)
    done = reg.update(rid, status=Status.COMPLETED, today=TODAY)
    assert done.closed_on == TODAY and not done.is_open
    assert reg.list(today=TODAY) == []
    assert [r.id for r in reg.list(include_closed=True, today=TODAY)] == [rid]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda r, i: r.update(i, status=Status.DENIED), r"denying a request needs a reason"),
        (lambda r, i: r.update(i, extend=("", date(2026, 11, 3))), r"needs its reason"),
        (
            lambda r, i: r.update(i, extend=("busy", date(2026, 12, 3))),
            r"must be notified within the first one month",
        ),
        (lambda r, i: r.get("R-1999-0001"), r"no request 'R-1999-0001' in .*requests list --all"),
        (
            lambda r, i: r.add(RequestType.ACCESS, Jurisdiction.GDPR, date(2026, 11, 2), []),
            r"at least one identifier",
        ),
    ],
)
def test_bad_changes_are_refused_and_change_nothing(
    reg: Register, change: Callable[[Register, str], object], message: str
) -> None:
    rid = _add(reg)
    before = reg.get(rid)
    entries = len(reg.audit.entries())
    with pytest.raises((WorkbenchError, DeadlineError), match=message):
        change(reg, rid)
    assert reg.get(rid) == before
    assert len(reg.audit.entries()) == entries


def test_extension_only_once_and_closed_requests_stay_closed(reg: Register) -> None:
    rid = _add(reg)
    reg.update(rid, extend=("busy", date(2026, 11, 10)))
    with pytest.raises(WorkbenchError, match=r"extended already; the law allows one extension"):
        reg.update(rid, extend=("busier", date(2026, 11, 11)))
    reg.update(rid, deny=DenialReason.NO_MATCH)
    with pytest.raises(WorkbenchError, match=r"cannot go from denied to completed"):
        reg.update(rid, status=Status.COMPLETED)
    with pytest.raises(RequestNotFoundError):
        reg.update("R-2026-9999", status=Status.COMPLETED)


def test_audit_names_no_one(reg: Register) -> None:
    rid = _add(reg, who="email=ann@example.com")
    reg.update(rid, deny=DenialReason.IDENTITY_NOT_VERIFIED)
    text = reg.audit.path.read_text()
    assert "example.com" not in text
    entries = reg.audit.entries()
    assert [e.action for e in entries] == ["request.added", "request.updated"]
    assert entries[0].subject == entries[1].subject
    assert (entries[0].subject or "").startswith("ref:")
    assert entries[1].details["denial_reason"] == "identity_not_verified"
    # the same person gets the same reference; another key gives another one
    other = Register(reg.path.with_name("other.db"), Keys(("z" * 40).encode()))
    again = other.add(
        RequestType.ACCESS,
        Jurisdiction.GDPR,
        date(2026, 11, 2),
        [parse_key("email=ann@example.com")],
    )
    assert again.subject_ref != entries[0].subject


def test_frame_and_chart(reg: Register) -> None:
    _add(reg, received=date(2026, 10, 1))
    _add(reg, RequestType.OPT_OUT, Jurisdiction.CCPA, date(2026, 11, 27))
    frame = reg.frame(today=TODAY)
    assert list(frame["overdue"]) == [True, False]
    assert list(frame["days_left"]) == [-28, 19]
    fig = reg.chart(today=TODAY)
    assert fig.axes[0].get_title() == "2 open request(s)"


# ---- the audit log under attack ----------------------------------------------------------


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines()


def _edit(path: Path) -> None:
    lines = _lines(path)
    entry = json.loads(lines[1])
    entry["details"]["due"] = "2099-01-01"
    lines[1] = json.dumps(entry)
    path.write_text("\n".join(lines) + "\n")


def _remove_middle(path: Path) -> None:
    lines = _lines(path)
    path.write_text("\n".join(lines[:1] + lines[2:]) + "\n")


def _swap(path: Path) -> None:
    lines = _lines(path)
    lines[1], lines[2] = lines[2], lines[1]
    path.write_text("\n".join(lines) + "\n")


def _cut_tail(path: Path) -> None:
    path.write_text("\n".join(_lines(path)[:-1]) + "\n")


def _drop_head(path: Path) -> None:
    path.with_name(path.name + ".head").unlink()


def _rewrite_with_new_hashes(path: Path) -> None:
    """Edit an entry and recompute every hash and the head, as an attacker without the key."""
    import hashlib

    entries = [json.loads(line) for line in _lines(path)]
    entries[1]["details"]["due"] = "2099-01-01"
    prev = GENESIS
    for entry in entries:
        entry["prev"] = prev
        body = {k: v for k, v in entry.items() if k != "hash"}
        canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        entry["hash"] = prev = hashlib.sha256(canonical.encode()).hexdigest()
    path.write_text("".join(json.dumps(e) + "\n" for e in entries))
    head = {"seq": entries[-1]["seq"], "hash": entries[-1]["hash"]}
    path.with_name(path.name + ".head").write_text(json.dumps(head) + "\n")


@pytest.mark.parametrize(
    ("tamper", "message"),
    [
        (_edit, r"line 2: entry 2 was edited or written without the key"),
        (_rewrite_with_new_hashes, r"line 1: entry 1 was edited or written without the key"),
        (_remove_middle, r"expected entry 2, found 3: entries removed or reordered"),
        (_swap, r"expected entry 2, found 3"),
        (_cut_tail, r"the log ends at entry 2 but its head records entry 3"),
        (_drop_head, r"the head file .* is missing"),
    ],
    ids=["edited", "rehashed", "removed", "reordered", "cut from the end", "head removed"],
)
def test_tampering_with_the_audit_log_is_detected(
    reg: Register, tamper: Callable[[Path], None], message: str
) -> None:
    for day in (1, 2, 3):
        _add(reg, received=date(2026, 11, day))
    assert reg.audit.verify() == []
    tamper(reg.audit.path)
    problems = [str(p) for p in reg.audit.verify()]
    assert any(re.search(message, p) for p in problems), problems


def test_each_entry_records_the_keyed_hash_scheme(reg: Register) -> None:
    _add(reg)
    [entry] = reg.audit.entries()
    assert entry.scheme == SCHEME
    line = json.loads(_lines(reg.audit.path)[0])
    assert line["scheme"] == SCHEME
    # the scheme is inside the MACed body: changing it is found
    line["scheme"] = "sha256/v0"
    reg.audit.path.write_text(json.dumps(line) + "\n")
    assert [str(p) for p in reg.audit.verify()] == [
        "line 1: entry 1 is not MACed with the hmac-sha256/v1 scheme (written by an earlier"
        " version, or forged): it proves nothing"
    ]


def test_the_chain_verifies_only_with_the_key_that_wrote_it(reg: Register, tmp_path: Path) -> None:
    _add(reg)
    assert verify_audit_log(reg.audit.path, KEYS) == []
    other = verify_audit_log(reg.audit.path, Keys(b"another key of thirty-two bytes!!"))
    assert [str(p) for p in other] == [
        "line 1: entry 1 was edited or written without the key (its MAC differs)"
    ]
    assert KEY not in repr(reg.audit)


def test_requests_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKBENCH_KEY", KEY)
    db = str(tmp_path / "r.db")
    runner = CliRunner()

    def run(*args: str) -> str:
        result = runner.invoke(app, list(args))
        assert result.exit_code == 0, result.output
        return result.output

    out = run(
        "requests",
        "add",
        "--register",
        db,
        "--type",
        "erasure",
        "--jurisdiction",
        "gdpr",
        "--received",
        "2026-01-31",
        "--email",
        "ann@example.com",
    )
    assert (
        out.strip()
        == "R-2026-0001: erasure (gdpr), due 2026-02-28  [GDPR Art. 12(3): one month, +2]"
    )
    run(
        "requests",
        "add",
        "--register",
        db,
        "--type",
        "opt_out",
        "--jurisdiction",
        "ccpa",
        "--received",
        "2026-11-27",
        "--id",
        "user_id=u1",
    )
    listed = run("requests", "list", "--register", db, "--today", "2026-11-29")
    assert (
        "OVERDUE" in listed.splitlines()[0] and listed.splitlines()[-1] == "2 request(s), 1 OVERDUE"
    )
    assert (
        len(
            run(
                "requests", "list", "--register", db, "--today", "2026-11-29", "--due-within", "7d"
            ).splitlines()
        )
        == 2
    )
    run("requests", "update", "R-2026-0001", "--register", db, "--deny", "no_match")
    assert "denied:       no_match" in run("requests", "show", "R-2026-0001", "--register", db)
    assert "intact, every entry and row MACed with the key: " in run(
        "audit", "verify", "--register", db
    )
    assert "audit.jsonl (3 entries), " in run("audit", "verify", "--register", db)
    bad = runner.invoke(
        app,
        [
            "requests",
            "add",
            "--register",
            db,
            "--type",
            "forget",
            "--jurisdiction",
            "gdpr",
            "--received",
            "2026-01-01",
            "--email",
            "a@b.c",
        ],
    )
    assert bad.exit_code == 2 and "'forget' is not a valid RequestType" in bad.output


def test_access_for_a_registered_request_is_audited(
    tmp_path: Path, trap_catalog: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WORKBENCH_KEY", KEY)
    db = tmp_path / "r.db"
    runner = CliRunner()
    register_request(db, "access", "uk_gdpr", "2026-11-20", "ann@example.com")
    result = runner.invoke(
        app,
        [
            "access",
            "--catalog",
            str(trap_catalog),
            "--out",
            str(tmp_path / "b"),
            "--request",
            "R-2026-0001",
            "--register",
            str(db),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "R-2026-0001  (9 rows, verified)" in result.output
    entry = Register(db, KEYS).audit.entries()[-1]
    assert entry.action == "access.bundle_written" and entry.request == "R-2026-0001"
    assert entry.tables == {"accounts": 1, "logins": 4, "prefs": 2, "tickets": 1, "integrations": 1}
    assert "example.com" not in db.with_name("r.db.audit.jsonl").read_text()
    assert verify_audit_log(db.with_name("r.db.audit.jsonl"), KEYS) == []
