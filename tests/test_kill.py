"""Kill tests: a change interrupted at every step leaves the old state or, once its journal
exists, the new one after `recover`: files, certificate and audit entry, nothing stray.

Failures are injected at named points (not by timing): while the new files are written,
after they are all written, while the certificate is written, after the journal, in the
middle of the moves, before the audit entry, before the journal is removed.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from dsar import AuditLog, load_catalog, open_engine, parse_key, plan_retention
from dsar.keys import Keys
from dsar.rights import (
    Plan,
    apply_plan,
    journal as journal_module,
    plan_correction,
    plan_erasure,
    recover,
)
from dsar.rights.journal import JOURNAL
from dsar.rights.rewrite import NEW_SUFFIX
from dsar.subjects.identity import SubjectRequest
from tests.conftest import AS_OF

KEYS = Keys(b"k" * 40)
ANN = SubjectRequest("R-K", (parse_key("email=ann@example.com"),))


class Killed(BaseException):
    """The process dies here (a BaseException, as KeyboardInterrupt or SystemExit would)."""


def _state(root: Path) -> dict[str, str]:
    """Every file under the export and the certificates, with its digest."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _person(catalog_path: Path) -> SubjectRequest:
    """The demo person (demo.json beside the demo's catalog)."""
    demo = json.loads((catalog_path.parent / "demo.json").read_text())
    return SubjectRequest("R-K", (parse_key(f"email={demo['subject']['email']}"),))


def _erasure(catalog_path: Path) -> Callable[[], Plan]:
    def make() -> Plan:
        catalog = load_catalog(catalog_path)
        with open_engine(catalog) as engine:
            return plan_erasure(catalog, engine, _person(catalog_path), keys=KEYS)

    return make


def _correction(catalog_path: Path) -> Callable[[], Plan]:
    def make() -> Plan:
        catalog = load_catalog(catalog_path)
        values = {"accounts.full_name": "Corrected Name"}
        with open_engine(catalog) as engine:
            return plan_correction(catalog, engine, _person(catalog_path), values)

    return make


def _retention(catalog_path: Path) -> Callable[[], Plan]:
    def make() -> Plan:
        catalog = load_catalog(catalog_path)
        with open_engine(catalog) as engine:
            return plan_retention(catalog, engine, today=AS_OF)

    return make


JOBS = {"erasure": _erasure, "correction": _correction, "retention": _retention}


def _fail_on_call(monkeypatch: pytest.MonkeyPatch, target: object, name: str, call: int) -> None:
    real = getattr(target, name)
    calls = {"n": 0}

    def failing(*args: object, **kwargs: object) -> object:
        calls["n"] += 1
        if calls["n"] == call:
            raise Killed(f"killed in {name}")
        return real(*args, **kwargs)

    monkeypatch.setattr(target, name, failing)


def _kill_in_engine_write(monkeypatch: pytest.MonkeyPatch) -> None:
    """Dies just after the first new file is on disk, before it is counted."""
    from dsar.engine.duckdb import DuckDBEngine

    real = DuckDBEngine.write_file

    def write_then_die(self: DuckDBEngine, *args: object, **kwargs: object) -> None:
        real(self, *args, **kwargs)  # type: ignore[arg-type]
        raise Killed("killed after writing a new file")

    monkeypatch.setattr(DuckDBEngine, "write_file", write_then_die)


def _kill_after_staging(monkeypatch: pytest.MonkeyPatch) -> None:
    from dsar.rights import plan as plan_module

    _fail_on_call(monkeypatch, plan_module, "write_certificate", 1)


def _kill_in_certificate(monkeypatch: pytest.MonkeyPatch) -> None:
    from dsar.rights import certificate

    _fail_on_call(monkeypatch, certificate, "_write_private", 2)


def _kill_after_journal(monkeypatch: pytest.MonkeyPatch) -> None:
    _fail_on_call(monkeypatch, journal_module, "_swap", 1)


def _kill_mid_moves(monkeypatch: pytest.MonkeyPatch) -> None:
    real = Path.replace
    calls = {"n": 0}

    def replace(self: Path, target: str | Path) -> Path:
        if self.name.endswith((NEW_SUFFIX, ".workbench-tmp")) and JOURNAL not in self.name:
            calls["n"] += 1
            if calls["n"] == 2:
                raise Killed("killed between two moves")
        return real(self, target)

    monkeypatch.setattr(Path, "replace", replace)


def _kill_before_audit(monkeypatch: pytest.MonkeyPatch) -> None:
    _fail_on_call(monkeypatch, AuditLog, "append", 1)


def _kill_before_journal_removed(monkeypatch: pytest.MonkeyPatch) -> None:
    real = Path.unlink

    def unlink(self: Path, missing_ok: bool = False) -> None:
        if self.name == JOURNAL:
            raise Killed("killed before the journal was removed")
        real(self, missing_ok=missing_ok)

    monkeypatch.setattr(Path, "unlink", unlink)


# (name, inject, whether the journal was written: the change then completes on recovery)
POINTS = [
    ("writing the new files", _kill_in_engine_write, False),
    ("after the new files", _kill_after_staging, False),
    ("writing the certificate", _kill_in_certificate, False),
    ("after the journal", _kill_after_journal, True),
    ("between two moves", _kill_mid_moves, True),
    ("before the audit entry", _kill_before_audit, True),
    ("before the journal is removed", _kill_before_journal_removed, True),
]


@pytest.mark.parametrize("job", list(JOBS))
@pytest.mark.parametrize(
    ("inject", "completes"), [p[1:] for p in POINTS], ids=[p[0] for p in POINTS]
)
def test_a_change_killed_at_any_step_is_old_or_new_never_half(
    demo_export: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    job: str,
    inject: Callable[[pytest.MonkeyPatch], None],
    completes: bool,
) -> None:
    # the same change, uninterrupted, on a copy: what the new state must be
    reference = tmp_path / "reference"
    shutil.copytree(demo_export.parent, reference / "export")
    plan = JOBS[job](reference / "export" / "catalog.yml")()
    if plan.changes == 0:
        pytest.skip("nothing to change for this person in this export")
    catalog = load_catalog(reference / "export" / "catalog.yml")
    audit = AuditLog(reference / "audit.jsonl", KEYS)
    with open_engine(catalog) as engine:
        apply_plan(
            plan, catalog, engine, out=reference / "certs", keys=KEYS, dry_run=False, audit=audit
        )
    expected = {k: v for k, v in _state(reference / "export").items() if ".before-" not in k}

    work = tmp_path / "work"
    shutil.copytree(demo_export.parent, work / "export")
    catalog_path = work / "export" / "catalog.yml"
    before = _state(work)
    plan = JOBS[job](catalog_path)()
    audit = AuditLog(work / "audit.jsonl", KEYS)
    with monkeypatch.context() as m:
        inject(m)
        catalog = load_catalog(catalog_path)
        with pytest.raises(Killed), open_engine(catalog) as engine:
            apply_plan(
                plan, catalog, engine, out=work / "certs", keys=KEYS, dry_run=False, audit=audit
            )

    assert (work / "export" / JOURNAL).exists() is completes
    if not completes:
        assert _state(work) == before  # the old state, nothing stray
        recover(work / "export", KEYS)
        assert _state(work) == before
        return
    assert recover(work / "export", KEYS)
    now = _state(work)
    assert {k: v for k, v in now.items() if k.startswith("export/") and ".before-" not in k} == {
        f"export/{k}": v for k, v in expected.items()
    }
    certificates = sorted(k for k in now if k.startswith("certs/"))
    assert [Path(c).suffix for c in certificates] == [".json", ".md"]  # exactly one, in place
    assert not [k for k in now if "workbench-" in k]  # no staged file or temporary left
    entries = [e for e in audit.entries() if e.action == f"{plan.job.value}.applied"]
    assert len(entries) == 1 and entries[0].request == plan.label  # recorded once
    assert audit.verify() == []
    assert not recover(work / "export", KEYS)  # and nothing more to do


def test_recovery_without_the_key_does_nothing_and_asks_for_it(
    demo_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dsar.errors import MissingKeyError

    plan = _erasure(demo_copy)()
    audit = AuditLog(tmp_path / "audit.jsonl", KEYS)
    with monkeypatch.context() as m:
        _kill_before_audit(m)
        catalog = load_catalog(demo_copy)
        with pytest.raises(Killed), open_engine(catalog) as engine:
            apply_plan(
                plan, catalog, engine, out=tmp_path / "c", keys=KEYS, dry_run=False, audit=audit
            )
    with pytest.raises(MissingKeyError, match=r"updates its records \(the audit log"):
        recover(demo_copy.parent)  # the journal's MAC cannot be checked: nothing is done
    assert (demo_copy.parent / JOURNAL).exists()  # the catalog stays locked until then
    assert recover(demo_copy.parent, KEYS)
    assert [e.action for e in audit.entries()] == ["erasure.applied"]


def test_two_sweeps_on_one_day_keep_both_certificates(demo_copy: Path, tmp_path: Path) -> None:
    catalog = load_catalog(demo_copy)
    with open_engine(catalog) as engine:
        first = apply_plan(
            plan_retention(catalog, engine, today=AS_OF),
            catalog,
            engine,
            out=tmp_path,
            dry_run=False,
        )
        second = apply_plan(
            plan_retention(catalog, engine, today=AS_OF),
            catalog,
            engine,
            out=tmp_path,
            dry_run=False,
        )
    assert first.certificate is not None and second.certificate is not None
    assert first.certificate != second.certificate and first.certificate.is_file()
    assert "0 of" not in first.certificate.with_suffix(".md").read_text().split("web_logs")[1][:20]


def test_the_same_label_applied_twice_never_overwrites_a_certificate(
    trap_catalog: Path, tmp_path: Path
) -> None:
    catalog = load_catalog(trap_catalog)
    with open_engine(catalog) as engine:
        plan = plan_erasure(catalog, engine, ANN, keys=KEYS)
        first = apply_plan(plan, catalog, engine, out=tmp_path, keys=KEYS, dry_run=False)
        again = plan_erasure(catalog, engine, ANN, keys=KEYS)  # retained rows still there
        second = apply_plan(again, catalog, engine, out=tmp_path, keys=KEYS, dry_run=False)
    assert first.certificate == tmp_path / "R-K-erasure-certificate.json"
    assert second.certificate == tmp_path / "R-K-erasure-certificate-2.json"
    assert "deleted" in first.certificate.with_suffix(".md").read_text()


def test_stray_staged_files_are_removed_by_recover(trap_catalog: Path) -> None:
    from dsar.rights.rewrite import table_files

    stray = trap_catalog.parent / f".accounts.csv.R-X{NEW_SUFFIX}"
    stray.write_text("user_id\nu1\n")
    elsewhere = trap_catalog.parent / "other" / f".x.csv.R-X{NEW_SUFFIX}"  # not ours: kept
    elsewhere.parent.mkdir()
    elsewhere.write_text("x\n")
    assert recover(trap_catalog.parent, files=table_files(load_catalog(trap_catalog)))
    assert not stray.exists() and elsewhere.exists()


def test_a_journal_the_workbench_did_not_write_moves_nothing(
    trap_catalog: Path, tmp_path: Path
) -> None:
    """A planted journal that would replace a file outside the export is refused."""
    from dsar.errors import WorkbenchError

    victim = tmp_path / "home" / ".bashrc"
    victim.parent.mkdir()
    victim.write_text("mine\n")
    planted = victim.with_name(".evil")
    planted.write_text("attacker\n")
    journal = {
        "label": "R-1",
        "moves": [{"target": str(victim), "new": str(planted), "backup": str(victim) + ".b"}],
        "artifacts": [],
        "audit": None,
    }
    (trap_catalog.parent / JOURNAL).write_text(json.dumps(journal))
    with pytest.raises(WorkbenchError, match=r"a move it lists is not one the workbench makes"):
        recover(trap_catalog.parent, KEYS)
    assert victim.read_text() == "mine\n" and planted.exists()


def test_a_staged_file_gone_before_the_journal_records_nothing(
    trap_catalog: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No certificate and no audit entry for a change whose files are not all there."""
    from dsar.errors import InternalError
    from dsar.rights import plan as plan_module

    real = getattr(plan_module, "write_certificate")  # noqa: B009 - patched below

    def lose_a_staged_file(plan: Plan, files: object, out: Path, *rest: object) -> object:
        next(trap_catalog.parent.glob(f".*{NEW_SUFFIX}")).unlink()
        return real(plan, files, out, *rest)

    monkeypatch.setattr(plan_module, "write_certificate", lose_a_staged_file)
    before = _state(trap_catalog.parent)
    catalog = load_catalog(trap_catalog)
    audit = AuditLog(tmp_path / "audit.jsonl", KEYS)
    with open_engine(catalog) as engine:
        plan = plan_erasure(catalog, engine, ANN, keys=KEYS)
        with pytest.raises(InternalError, match=r"missing or changed since it was written"):
            apply_plan(
                plan, catalog, engine, out=tmp_path / "c", keys=KEYS, dry_run=False, audit=audit
            )
    assert _state(trap_catalog.parent) == before
    assert not (tmp_path / "c").exists() or not any((tmp_path / "c").iterdir())
    assert audit.entries() == []
