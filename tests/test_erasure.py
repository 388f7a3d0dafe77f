"""Erasure: exactly the person's rows, nothing else; atomic; idempotent; certified."""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
from collections import Counter
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from typer.testing import CliRunner

from dsar import load_catalog, open_engine
from dsar.catalog import Erasure, ErasureAction, IdentityKind, LegalBasis
from dsar.cli import app
from dsar.errors import CatalogError, ChangeInterruptedError, NoMatchError, WorkbenchError
from dsar.keys import Keys
from dsar.lock import LOCK_NAME
from dsar.records.audit import subject_ref
from dsar.rights import apply_plan
from dsar.rights.erasure import (
    JOURNAL,
    confirm_erasure,
    plan_erasure,
    recover,
)
from dsar.rights.rewrite import NEW_SUFFIX
from dsar.subjects.collect import collect
from dsar.subjects.identity import SubjectRequest, make_key, parse_key
from tests.access_fixture import TICKETS
from tests.conftest import register_request

KEY = b"k" * 40
KEYS = Keys(KEY)


def _digests(root: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.iterdir())
        if p.is_file() and p.name != LOCK_NAME  # there while an engine holds the export
    }


def _req(text: str, label: str = "R-1") -> SubjectRequest:
    return SubjectRequest(label, (parse_key(text),))


def _erase(catalog_path: Path, request: SubjectRequest, out: Path) -> None:
    catalog = load_catalog(catalog_path)
    with open_engine(catalog) as engine:
        plan = plan_erasure(catalog, engine, request, keys=KEYS)
        apply_plan(plan, catalog, engine, out=out, keys=KEYS, dry_run=False)


def test_dry_run_changes_nothing(trap_catalog: Path) -> None:
    before = _digests(trap_catalog.parent)
    catalog = load_catalog(trap_catalog)
    with open_engine(catalog) as engine:
        plan = plan_erasure(catalog, engine, _req("email=ann@example.com"), keys=KEYS)
        result = apply_plan(plan, catalog, engine, out=trap_catalog.parent / "certs", keys=KEYS)
    assert not result.applied and result.certificate is None
    assert _digests(trap_catalog.parent) == before
    assert {a.table: (a.action.value, a.to_change) for a in plan.actions} == {
        "accounts": ("delete", 1),
        "logins": ("delete", 4),
        "prefs": ("delete", 2),
        "tickets": ("pseudonymize", 1),
        "integrations": ("delete", 1),
    }
    assert plan.held_as_processor == {"end_users": 1} and plan.set_aside == {"logins": 1}
    assert plan.mentions == {"tickets": 1}  # Bob's ticket names Ann's email: reported, kept
    assert "ann@example.com" not in plan.describe()


def _mentions(catalog_path: Path, ticket: int, body: str, person: str) -> int:
    """Rewrite one ticket's body, plan the person's erasure: tickets of others naming them."""
    tickets = [dict(t) for t in TICKETS]
    tickets[ticket]["body"] = body
    (catalog_path.parent / "tickets.jsonl").write_text(
        "".join(json.dumps(t) + "\n" for t in tickets), "utf-8"
    )
    catalog = load_catalog(catalog_path)
    with open_engine(catalog) as engine:
        plan = plan_erasure(catalog, engine, _req(person), keys=KEYS)
    return plan.mentions.get("tickets", 0)


@pytest.mark.parametrize(
    ("written", "found"),
    [("+44 7700 900003", 1), ("07700-900-003", 1), ("(0)7700 900 003", 1), ("7700 900 004", 0)],
)
def test_mentions_find_the_phone_however_it_is_written(
    trap_catalog: Path, written: str, found: int
) -> None:
    # Ann's ticket no longer names Bob's email: only the phone can be found
    body = f"Please add my colleague, call {written}. Thanks, Ann Lee"
    assert _mentions(trap_catalog, 0, body, "email=bob@example.com") == found


@pytest.mark.parametrize(
    ("written", "found"),
    [
        ("Ann Lee asked me to write about ANN@example.com.", 1),
        ("cc: (ann@example.com)", 1),
        ("cc: joann@example.com", 0),  # another person's address that contains Ann's
        ("see ann@example.com.au", 0),
    ],
)
def test_mentions_find_the_email_only_where_it_stands_alone(
    trap_catalog: Path, written: str, found: int
) -> None:
    assert _mentions(trap_catalog, 1, f"Bob here. {written}", "email=ann@example.com") == found


def test_apply_erases_the_person_and_no_one_else(trap_catalog: Path, tmp_path: Path) -> None:
    root = trap_catalog.parent
    before = _digests(root)
    catalog = load_catalog(trap_catalog)
    with open_engine(catalog) as engine:
        [bob_before] = collect(engine, catalog, [_req("email=bob@example.com")])
    _erase(trap_catalog, _req("email=ann@example.com"), tmp_path / "certs")
    after = _digests(root)
    # untouched tables keep their bytes; the staff and the processor table are not ours to erase
    for name in ("staff.csv", "end_users.csv"):
        assert after[name] == before[name]
    with open_engine(catalog) as engine:
        [ann] = collect(engine, catalog, [_req("user_id=u1")])
        [bob] = collect(engine, catalog, [_req("email=bob@example.com")])
        assert engine.count_rows("logins") == 5  # 9 - 4: the shared laptop's line stays...
        unlinked = engine.query("SELECT device_id FROM logins WHERE ts = '2026-11-04 08:00:00'")
        assert unlinked.column(0).to_pylist() == [None]  # ...but no longer points at anyone
        tickets = engine.query("SELECT body FROM tickets ORDER BY ticket_id").column(0).to_pylist()
    assert set(ann.tables) == {"tickets"}  # only the pseudonymized ticket still carries u1
    assert tickets[0].startswith("pseudo:") and tickets[1].startswith("Bob here")
    assert {k: v.to_pylist() for k, v in bob.tables.items()} == {
        k: v.to_pylist() for k, v in bob_before.tables.items()
    }
    cert = json.loads(next((tmp_path / "certs").glob("*.json")).read_text())
    accounting = {f["table"]: (f["rows_before"], f["rows_after"]) for f in cert["files_replaced"]}
    assert accounting == {
        "accounts": (4, 3),
        "logins": (9, 5),
        "prefs": (4, 2),
        "tickets": (2, 2),
        "integrations": (2, 1),
    }
    assert cert["recipients_to_notify"] == ["AWS"]
    assert "ann@example.com" not in json.dumps(cert)


def test_running_twice_changes_nothing(trap_catalog: Path, tmp_path: Path) -> None:
    _erase(trap_catalog, _req("user_id=u1"), tmp_path / "one")
    once = _digests(trap_catalog.parent)
    catalog = load_catalog(trap_catalog)
    with open_engine(catalog) as engine:
        plan = plan_erasure(catalog, engine, _req("user_id=u1", "R-2"), keys=KEYS)
        assert plan.changes == 0
        apply_plan(plan, catalog, engine, out=tmp_path / "two", keys=KEYS, dry_run=False)
    assert _digests(trap_catalog.parent) == once


def _row_texts(path: Path) -> Counter[str]:
    """Each row of a CSV or JSON file as its exact text values (quoting aside)."""
    name = path.name.split(".before-")[0]
    if name.endswith(".csv"):
        with path.open(newline="", encoding="utf-8") as f:
            return Counter(json.dumps(row) for row in csv.reader(f))
    text = path.read_text(encoding="utf-8")
    rows = json.loads(text) if name.endswith(".json") else map(json.loads, text.splitlines())
    return Counter(json.dumps(row, sort_keys=True) for row in rows)


def test_rewritten_files_keep_the_text_of_every_row_they_do_not_change(
    demo_copy: Path, tmp_path: Path
) -> None:
    root = demo_copy.parent
    catalog = load_catalog(demo_copy)
    request = _req("user_id=u0000000")
    with open_engine(catalog) as engine:
        plan = plan_erasure(catalog, engine, request, keys=KEYS)
        apply_plan(plan, catalog, engine, out=tmp_path / "certs", keys=KEYS, dry_run=False)
    in_place = {
        a.table: (a.to_change if a.action.value in ("nullify", "pseudonymize") else 0) + a.unlinked
        for a in plan.actions
    }
    checked = 0
    for before in sorted(root.glob("*.before-R-1")):
        after = before.with_name(before.name.split(".before-")[0])
        if after.suffix == ".parquet":
            continue  # typed columns: compared through Arrow by the other tests
        old, new = _row_texts(before), _row_texts(after)
        kept = sum((old & new).values())
        # every row is either byte-for-byte the same text or one the plan changes in place
        assert kept == sum(new.values()) - in_place[after.stem], after.name
        checked += 1
    assert checked >= 3  # accounts (CSV), Google profiles and tickets (JSON Lines), ...


def test_erasure_names_its_steps(trap_catalog: Path, tmp_path: Path) -> None:
    lines: list[str] = []
    catalog = load_catalog(trap_catalog)
    request = _req("email=ann@example.com")
    with open_engine(catalog) as engine:
        plan = plan_erasure(catalog, engine, request, keys=KEYS, progress=lines.append)
        apply_plan(
            plan, catalog, engine, out=tmp_path, keys=KEYS, dry_run=False, progress=lines.append
        )
    assert lines[0].startswith("round 1: ")
    assert [line for line in lines if line.startswith("writing")] == [
        f"writing a new {f} ({i} of 5 files)"
        for i, f in enumerate(
            ["accounts.csv", "logins.csv", "prefs.jsonl", "tickets.jsonl", "integrations.parquet"],
            start=1,
        )
    ]
    assert not any("ann@example.com" in line for line in lines)


def test_confirm_removes_the_originals(trap_catalog: Path, tmp_path: Path) -> None:
    _erase(trap_catalog, _req("email=ann@example.com"), tmp_path)
    kept = sorted(p.name for p in trap_catalog.parent.glob("*.before-R-1"))
    assert kept == [
        "accounts.csv.before-R-1",
        "integrations.parquet.before-R-1",
        "logins.csv.before-R-1",
        "prefs.jsonl.before-R-1",
        "tickets.jsonl.before-R-1",
    ]
    removed = confirm_erasure(load_catalog(trap_catalog), "R-1")
    assert len(removed) == 5 and not list(trap_catalog.parent.glob("*.before-*"))


def test_a_crash_before_the_journal_leaves_the_old_state(
    trap_catalog: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = _digests(trap_catalog.parent)
    from dsar.engine.base import Engine

    original = Engine.write_file
    calls = {"n": 0}

    def crash(self: Engine, *args: object, **kwargs: object) -> None:
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError("disk full (simulated)")
        original(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Engine, "write_file", crash)
    with pytest.raises(OSError, match="simulated"):
        _erase(trap_catalog, _req("email=ann@example.com"), tmp_path)
    assert _digests(trap_catalog.parent) == before  # no new, no temporary, no changed file


def test_a_crash_during_the_swap_is_finished_on_recovery(
    trap_catalog: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clean = tmp_path / "clean"
    shutil.copytree(trap_catalog.parent, clean)
    _erase(clean / "catalog.yml", _req("email=ann@example.com"), tmp_path / "c1")
    expected = {k: v for k, v in _digests(clean).items() if ".before-" not in k}

    real_replace = Path.replace
    moves = {"n": 0}

    def crash(self: Path, target: Path) -> Path:
        if self.name.endswith(NEW_SUFFIX):
            moves["n"] += 1
            if moves["n"] == 2:  # the first table is swapped in, the second is not
                raise OSError("power cut (simulated)")
        return real_replace(self, target)

    monkeypatch.setattr(Path, "replace", crash)
    with pytest.raises(ChangeInterruptedError, match=r"R-1: the change was committed but"):
        _erase(trap_catalog, _req("email=ann@example.com"), tmp_path / "c2")
    monkeypatch.setattr(Path, "replace", real_replace)
    assert (trap_catalog.parent / JOURNAL).exists()  # half swapped: the journal knows
    with pytest.raises(
        CatalogError,
        match=r"(?s)an erasure, a correction or a retention sweep\) was interrupted.*dsar erase recover",
    ):
        load_catalog(trap_catalog)
    done = CliRunner().invoke(app, ["erase", "recover", "--catalog", str(trap_catalog)])
    assert done.exit_code == 0
    assert "R-1: the change was committed when it was interrupted; rolled forward" in done.output
    assert not recover(trap_catalog.parent)
    now = {k: v for k, v in _digests(trap_catalog.parent).items() if ".before-" not in k}
    assert now == expected


def test_bad_input_changes_nothing(trap_catalog: Path) -> None:
    before = _digests(trap_catalog.parent)
    catalog = load_catalog(trap_catalog)
    with (
        open_engine(catalog) as engine,
        pytest.raises(NoMatchError, match=r"no row matches the identifiers given"),
    ):
        plan_erasure(catalog, engine, _req("email=nobody@example.com"), keys=KEYS)
    retain = Erasure(
        action=ErasureAction.RETAIN, legal_basis=LegalBasis.LEGAL_OBLIGATION, reason="kept by law"
    )
    retain_only = catalog.model_copy(
        update={
            "tables": {
                n: t.model_copy(update={"erasure": retain}) for n, t in catalog.tables.items()
            }
        }
    )
    with (
        open_engine(catalog) as engine,
        pytest.raises(
            WorkbenchError, match=r"the catalog has no erasure actions: every table says retain"
        ),
    ):
        plan_erasure(retain_only, engine, _req("email=ann@example.com"), keys=KEYS)
    assert _digests(trap_catalog.parent) == before


def test_invoices_are_retained_until_their_retention_ends(demo_copy: Path) -> None:
    catalog = load_catalog(demo_copy)
    with open_engine(catalog) as engine:
        plan = plan_erasure(
            catalog,
            engine,
            _req("user_id=u0000000"),
            keys=KEYS,
            today=date(2026, 11, 29),
        )
    [invoices] = [a for a in plan.actions if a.table == "invoices"]
    assert invoices.action.value == "retain"
    assert invoices.rows == invoices.retained + invoices.to_change
    assert invoices.to_change > 0  # the demo person's first invoices are over 7 years old
    assert invoices.retained > 0  # and the later ones are kept until their 7 years end
    assert invoices.reason and "7 years" in invoices.reason
    assert invoices.retained_until is not None
    assert date.fromisoformat(invoices.retained_until) > date(2026, 11, 29)  # a date, no time


@settings(
    derandomize=True,
    max_examples=5,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(user=st.integers(min_value=0, max_value=299), other=st.integers(min_value=0, max_value=299))
def test_erasure_removes_exactly_the_persons_rows(
    demo_export: Path, tmp_path_factory: pytest.TempPathFactory, user: int, other: int
) -> None:
    root = tmp_path_factory.mktemp("erase")
    shutil.copytree(demo_export.parent, root, dirs_exist_ok=True)
    catalog = load_catalog(root / "catalog.yml")
    me = _req(f"user_id=u{user:07d}")
    them = SubjectRequest("o", (make_key(IdentityKind.USER_ID, f"u{other:07d}"),))
    with open_engine(catalog) as engine:
        counts = {t: engine.count_rows(t) for t in engine.tables}
        [mine, theirs] = collect(engine, catalog, [me, them])
        plan = plan_erasure(catalog, engine, me, keys=KEYS)
        apply_plan(plan, catalog, engine, out=root / "certs", keys=KEYS, dry_run=False)
        after = {t: engine.count_rows(t) for t in engine.tables}
        [theirs_after] = collect(engine, catalog, [them])
    for action in plan.actions:
        if action.action.value == "delete":
            assert after[action.table] == counts[action.table] - mine.tables[action.table].num_rows
    if user != other and not (mine.identity.keys & theirs.identity.keys):
        assert {k: v.num_rows for k, v in theirs_after.tables.items()} == {
            k: v.num_rows for k, v in theirs.tables.items()
        }


def test_erase_command(trap_catalog: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKBENCH_KEY", KEY.decode())
    runner = CliRunner()
    dry = runner.invoke(
        app, ["erase", "plan", "--catalog", str(trap_catalog), "--email", "ann@example.com"]
    )
    assert dry.exit_code == 0, dry.output
    assert "dry run: nothing was changed" in dry.output
    done = runner.invoke(
        app,
        [
            "erase",
            "apply",
            "--catalog",
            str(trap_catalog),
            "--email",
            "ann@example.com",
            "--out",
            str(tmp_path),
        ],
    )
    assert done.exit_code == 0, done.output
    assert "applied; certificate:" in done.output


def test_applying_writes_the_audit_entry(
    trap_catalog: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dsar.records.audit import verify_audit_log

    monkeypatch.setenv("WORKBENCH_KEY", KEY.decode())
    db = tmp_path / "requests.db"
    runner = CliRunner()
    register_request(db, "erasure", "gdpr", "2026-11-20", "ann@example.com")
    done = runner.invoke(
        app,
        [
            "erase",
            "apply",
            "--catalog",
            str(trap_catalog),
            "--request",
            "R-2026-0001",
            "--register",
            str(db),
            "--out",
            str(tmp_path / "c"),
        ],
    )
    assert done.exit_code == 0, done.output
    log = db.with_name("requests.db.audit.jsonl")
    text = log.read_text()
    assert '"action": "erasure.applied"' in text and '"logins": 5' in text  # 4 erased, 1 unlinked
    assert "example.com" not in text
    assert verify_audit_log(log, KEYS) == []


def test_every_erasure_action_has_one_registered_class() -> None:
    from dsar.rights import erasure_action

    for name in ErasureAction:
        action = erasure_action(name)
        assert action.name is name


def test_the_plan_needs_no_key_and_applying_a_pseudonym_does(
    trap_catalog: Path, tmp_path: Path
) -> None:
    from dsar.errors import MissingKeyError

    before = _digests(trap_catalog.parent)
    catalog = load_catalog(trap_catalog)
    with open_engine(catalog) as engine:
        plan = plan_erasure(catalog, engine, _req("email=ann@example.com"))
        assert plan.subject is None and plan.needs_key  # tickets are pseudonymized
        assert "(ref:" not in plan.describe()
        frame = plan.to_frame()
        assert list(frame["table"]) == [a.table for a in plan.actions]
        assert int(frame["changes"].sum()) == plan.changes
        with pytest.raises(MissingKeyError, match=r"R-1: the plan pseudonymizes columns"):
            apply_plan(plan, catalog, engine, out=tmp_path, dry_run=False)
        assert _digests(trap_catalog.parent) == before  # refused before anything changed
        result = apply_plan(plan, catalog, engine, out=tmp_path, keys=KEYS, dry_run=False)
    # applied with the key: the records name the person by the keyed reference after all
    body = json.loads(result.certificate.read_text()) if result.certificate else {}
    assert body["subject"] == subject_ref(KEYS, parse_key("email=ann@example.com"))


def test_the_certificate_says_what_each_action_did(trap_catalog: Path, tmp_path: Path) -> None:
    catalog = load_catalog(trap_catalog)
    with open_engine(catalog) as engine:
        plan = plan_erasure(catalog, engine, _req("email=ann@example.com"), keys=KEYS)
        result = apply_plan(plan, catalog, engine, out=tmp_path, keys=KEYS, dry_run=False)
    assert result.applied and result.certificate == tmp_path / "R-1-erasure-certificate.json"
    text = result.certificate.with_suffix(".md").read_text()
    assert text.startswith("# Erasure certificate: R-1\n")
    assert f"Person: {plan.subject} (keyed reference)" in text
    for a in plan.actions:
        if a.action is ErasureAction.DELETE:
            assert f"- {a.table}: {a.to_change} row(s) deleted" in text
        elif a.action is ErasureAction.PSEUDONYMIZE:
            assert f"- {a.table}: {', '.join(a.columns)} pseudonymized in" in text
        elif a.action is ErasureAction.NULLIFY:
            assert f"- {a.table}: {', '.join(a.columns)} emptied in" in text
    body = json.loads(result.certificate.read_text())
    assert body["job"] == "erasure" and body["subject"] == plan.subject
    assert [f["file"] for f in body["files_replaced"]] == [f.file for f in result.files]


def test_erase_plan_command_needs_no_key(
    trap_catalog: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("WORKBENCH_KEY", raising=False)
    runner = CliRunner()
    args = ["--catalog", str(trap_catalog), "--email", "ann@example.com"]
    plan = runner.invoke(app, ["erase", "plan", *args])
    assert plan.exit_code == 0, plan.output
    assert "applying needs the secret key: it pseudonymizes" in plan.output
    applied = runner.invoke(app, ["erase", "apply", *args])
    assert applied.exit_code == 1
    assert "a secret key of at least 32 characters is needed" in str(applied.exception)


@pytest.mark.parametrize("command", [["erase", "apply"], ["erase", "plan"]])
def test_a_refused_request_is_not_carried_out(
    trap_catalog: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: list[str]
) -> None:
    monkeypatch.setenv("WORKBENCH_KEY", KEY.decode())
    db = tmp_path / "requests.db"
    register_request(db, "erasure", "gdpr", "2026-11-20", "ann@example.com")
    runner = CliRunner()
    denied = runner.invoke(
        app,
        [
            "requests",
            "update",
            "R-2026-0001",
            "--register",
            str(db),
            "--deny",
            "identity_not_verified",
        ],
    )
    assert denied.exit_code == 0, denied.output
    before = _digests(trap_catalog.parent)
    args = [*command, "--catalog", str(trap_catalog), "--request", "R-2026-0001"]
    args += ["--register", str(db)] + (["--out", str(tmp_path / "c")] if "apply" in command else [])
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert "is denied (identity_not_verified)" in result.output
    assert _digests(trap_catalog.parent) == before


def test_a_rewritten_file_keeps_the_exports_permissions(trap_catalog: Path, tmp_path: Path) -> None:
    accounts = trap_catalog.parent / "accounts.csv"
    accounts.chmod(0o640)
    _erase(trap_catalog, _req("email=ann@example.com"), tmp_path)
    assert accounts.stat().st_mode & 0o777 == 0o640  # not the process umask's 0644


def test_erase_plan_for_a_registered_request_needs_no_key(
    trap_catalog: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "requests.db"
    monkeypatch.setenv("WORKBENCH_KEY", KEY.decode())
    register_request(db, "erasure", "gdpr", "2026-11-20", "ann@example.com")
    monkeypatch.delenv("WORKBENCH_KEY")
    before = db.read_bytes()
    result = CliRunner().invoke(
        app,
        [
            "erase",
            "plan",
            "--catalog",
            str(trap_catalog),
            "--request",
            "R-2026-0001",
            "--register",
            str(db),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "erasure plan for R-2026-0001, as of" in result.output
    assert db.read_bytes() == before  # read, not written
