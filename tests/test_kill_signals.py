"""A real SIGKILL at every write of a change, then `recover`: the records agree with the files.

The child process (started by `tests.child`) is told (`WORKBENCH_KILL_AT=N`, `dsar.faults`) to kill itself
at the Nth fsync, rename, append or record commit of an erasure (with the ledger, the
register and its audit log), a correction and a retention sweep; N runs from 1 until the
change completes uninterrupted. After each kill `recover` runs, and then:

- the export's files are all old or all new, never a mix;
- old: no certificate, no audit entry, no ledger entry, the request still open;
  new: one certificate, one audit entry, the ledger entry done, the request completed;
- the audit chain, the register and the ledger verify;
- no temporary, staged or journal file is left anywhere.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from dsar import load_catalog, open_engine, parse_key
from dsar.faults import KILL_AT
from dsar.keys import Keys
from dsar.records.audit import verify_audit_log
from dsar.records.deadlines import Jurisdiction, RequestType
from dsar.records.ledger import Ledger, Reason, State
from dsar.records.register import Register, Status, verify_register
from dsar.rights import (
    Outcome,
    Plan,
    apply_plan,
    plan_correction,
    plan_erasure,
    plan_retention,
    recover,
)
from dsar.rights.rewrite import table_files
from dsar.subjects.identity import SubjectRequest
from tests.child import run_child
from tests.conftest import AS_OF

KEYS = Keys(b"s" * 40)
MAX_POINTS = 120


def _person(export: Path) -> list:  # type: ignore[type-arg]
    import json

    demo = json.loads((export / "demo.json").read_text())
    return [parse_key(f"email={demo['subject']['email']}")]


def _tables(export: Path) -> dict[str, str]:
    """The export's table files (not the catalog, backups or the demo's notes): digests."""
    catalog = load_catalog(export / "catalog.yml")
    return {
        str(p.relative_to(export)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in table_files(catalog)
    }


def _setup(folder: Path, demo: Path, job: str = "erasure") -> str:
    """A copy of the demo export, a register with the person's request (a correction for
    the correction, else an erasure: a request is completed by the change it asks for); the
    request id."""
    shutil.copytree(demo, folder / "export")
    (folder / "records").mkdir()
    reg = Register(folder / "records" / "requests.db", KEYS)
    kind = RequestType.CORRECTION if job == "correction" else RequestType.ERASURE
    record = reg.add(kind, Jurisdiction.GDPR, date(2026, 11, 20), _person(folder / "export"))
    reg.close()
    return record.id


def _plan(job: str, export: Path, request: str) -> Callable[[], Plan]:
    def make() -> Plan:
        catalog = load_catalog(export / "catalog.yml")
        person = SubjectRequest(request, tuple(_person(export)))
        with open_engine(catalog) as engine:
            if job == "erasure":
                return plan_erasure(catalog, engine, person, keys=KEYS, today=AS_OF)
            if job == "correction":
                values = {"accounts.full_name": "Corrected Name"}
                return plan_correction(catalog, engine, person, values, keys=KEYS)
            return plan_retention(catalog, engine, today=AS_OF)

    return make


def _apply(job: str, folder: Path, request: str, plan: Plan | None = None) -> None:
    """The change as `dsar erase|correct|retention apply --request` makes it (planned here
    unless `plan` was made on an identical copy at the same path)."""
    export = folder / "export"
    plan = plan or _plan(job, export, request)()
    catalog = load_catalog(export / "catalog.yml")
    reg = Register(folder / "records" / "requests.db", KEYS)
    ledger = Ledger(folder / "records" / "ledger.db", KEYS) if job == "erasure" else None
    with open_engine(catalog) as engine:
        apply_plan(
            plan,
            catalog,
            engine,
            out=folder / "certs",
            keys=KEYS,
            dry_run=False,
            audit=reg.audit,
            ledger=ledger,
            register=reg if job != "retention" else None,
        )


def _child(n: int, job: str, folder: Path, request: str, plan: Plan) -> int:
    """The child: dies at point n, or finishes (0) or fails (2)."""
    os.environ[KILL_AT] = str(n)
    try:
        _apply(job, folder, request, plan)
    except Exception:
        return 2
    return 0


def _killed_at(n: int, job: str, folder: Path, request: str, plan: Plan) -> bool:
    """Run the change in a child killed at point `n`; False when it completed instead."""
    code = run_child(_child, n, job, folder, request, plan)
    if code < 0:
        assert -code == signal.SIGKILL
        return True
    assert code == 0, "the change failed without being killed"
    return False


def _leftovers(folder: Path) -> list[str]:
    return [
        str(p.relative_to(folder))
        for p in folder.rglob("*")
        if "workbench-" in p.name or p.name.endswith(".tmp") or p.name == ".workbench.lock"
    ]


@pytest.mark.slow
@pytest.mark.parametrize("job", ["erasure", "correction", "retention"])
def test_a_real_kill_at_every_write_is_rolled_back_or_forward(
    demo_export: Path, tmp_path: Path, job: str
) -> None:
    reference = tmp_path / "reference"
    request = _setup(reference, demo_export.parent, job)
    old = _tables(reference / "export")
    _apply(job, reference, request)
    new = _tables(reference / "export")
    assert old != new, "the change must change something"

    # Planned once on a fresh copy; every kill point starts from an identical copy at the same
    # path (planning an erasure takes seconds, applying it a fraction of that).
    work = tmp_path / "work"
    assert _setup(work, demo_export.parent, job) == request
    plan = _plan(job, work / "export", request)()
    shutil.rmtree(work)
    outcomes: dict[Outcome, int] = {}
    for n in range(1, MAX_POINTS):
        assert _setup(work, demo_export.parent, job) == request
        export = work / "export"
        if not _killed_at(n, job, work, request, plan):
            break
        found = recover(
            export,
            KEYS,
            table_files(load_catalog(export / "catalog.yml"))
            if not (export / ".workbench-erasure-journal.json").exists()
            else None,
            register=work / "records" / "requests.db",
        )
        outcomes[found.outcome] = outcomes.get(found.outcome, 0) + 1
        now = _tables(export)
        assert now in (old, new), f"killed at point {n}: files mixed"
        done = now == new
        certificates = (
            sorted((work / "certs").glob("*-certificate*")) if (work / "certs").exists() else []
        )
        assert len(certificates) == (2 if done else 0), f"point {n}: {certificates}"
        reg = Register(work / "records" / "requests.db", KEYS)
        applied = [e for e in reg.audit.entries() if e.action.endswith(".applied")]
        assert len(applied) == (1 if done else 0), f"point {n}"
        if job != "retention":
            status = reg.get(request).status
            assert status is (Status.COMPLETED if done else Status.OPEN), f"point {n}"
        reg.close()
        if job == "erasure" and (work / "records" / "ledger.db").exists():
            ledger = Ledger(work / "records" / "ledger.db", KEYS)
            states = {e.state for e in ledger.entries() if e.reason is Reason.ERASED}
            assert states == ({State.DONE} if done else set()), f"point {n}: {states}"
            ledger.close()
        assert verify_audit_log(work / "records" / "requests.db.audit.jsonl", KEYS) == []
        assert verify_register(work / "records" / "requests.db", KEYS) == []
        assert _leftovers(work) == [], f"point {n}"
        shutil.rmtree(work)
    else:
        pytest.fail(f"the change never completed within {MAX_POINTS} points")
    assert n > 10, "the change passed too few kill points to mean anything"
    assert outcomes.get(Outcome.ROLLED_BACK) and outcomes.get(Outcome.ROLLED_FORWARD)
