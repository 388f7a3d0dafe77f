"""One shape for every change to the export: plan (a value), then apply (one result type).

    plan = plan_erasure(catalog, engine, request)      # or plan_correction, plan_retention
    plan.describe()                                     # the dry run, as text
    plan.to_frame()                                     # one row per table, for a notebook
    result = apply_plan(plan, catalog, engine, out="certificates", dry_run=False, keys=keys)
    result.certificate                                  # what was done, why, whom to notify

A plan changes nothing and names the person only by a keyed reference. `apply_plan` is the
one place that changes files: it rewrites them through the journal (`rewrite`), writes one
certificate (`certificate`), and appends one audit entry, whatever the job.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from dsar.catalog.models import Catalog
from dsar.engine.base import Engine
from dsar.errors import (
    ChangeInterruptedError,
    DiskFullError,
    MissingKeyError,
    UsageError,
    WorkbenchError,
)
from dsar.io import plain_name
from dsar.keys import Keys
from dsar.lock import export_lock
from dsar.records.audit import subject_ref
from dsar.rights.certificate import write_certificate
from dsar.rights.journal import PendingAudit, Records, abandon, begin, commit
from dsar.rights.rewrite import FileChange, Rewrite, stage_rewrites

if TYPE_CHECKING:
    import pandas as pd

    from dsar.engine.guards import CatalogWarning
    from dsar.records.audit import AuditLog
    from dsar.records.ledger import Ledger
    from dsar.records.register import Register
    from dsar.subjects.identity import SubjectKey
    from dsar.subjects.index import IdentityIndex

log = logging.getLogger(__name__)

ProgressFn = Callable[[str], None]


class Job(StrEnum):
    """The kinds of change a plan describes (the audit action is `<job>.applied`)."""

    ERASURE = "erasure"
    CORRECTION = "correction"
    RETENTION = "retention"


class Plan(ABC):
    """What a job would change, per table; nothing has been changed yet.

    Subclasses are frozen dataclasses with at least `label` (the request or sweep reference),
    `today` (the date the plan is made as of), `subject` (a keyed reference to the person,
    or None) and `recipients` (whom to notify once applied); `accepted_warnings` are the
    catalog warnings accepted to plan it (`dsar.engine.guards`), which the certificate records.
    """

    job: ClassVar[Job]
    label: str
    today: date
    subject: str | None
    recipients: tuple[str, ...]
    accepted_warnings: tuple[CatalogWarning, ...] = ()

    @property
    @abstractmethod
    def changes(self) -> int:
        """Rows (or cells, for a correction) that applying would change; 0: nothing to do."""

    def person(self) -> SubjectKey | None:
        """The first identifier the request gave (the keyed reference is made from it)."""
        return None

    @property
    def needs_key(self) -> bool:
        """True when applying computes keyed values (pseudonyms) and so needs the secret key."""
        return False

    @abstractmethod
    def describe(self) -> str:
        """The dry run, as text: per table what applying would do (counts, never values)."""

    @abstractmethod
    def table_rows(self) -> list[dict[str, Any]]:
        """One mapping per table: its name, the rows concerned and what happens to them."""

    def to_frame(self) -> pd.DataFrame:
        """The plan as a dataframe, one row per table."""
        import pandas as pd

        return pd.DataFrame(self.table_rows())

    @abstractmethod
    def rewrites(self, catalog: Catalog, keys: Keys | None) -> list[Rewrite]:
        """The table rewrites that carry the plan out."""

    def record(self, ledger: Ledger | None) -> None:  # noqa: B027 - optional hook
        """Record the job in the suppression ledger before any file changes (erasure does)."""

    @abstractmethod
    def certificate_body(self) -> dict[str, Any]:
        """The job's part of the certificate JSON (the writer adds the common part)."""

    @abstractmethod
    def certificate_lines(self) -> list[str]:
        """The job's part of the certificate Markdown, one bullet per line."""

    def audit_tables(self) -> dict[str, int]:
        """Rows changed per table, for the audit entry."""
        return {r["table"]: int(r["changes"]) for r in self.table_rows() if r["changes"]}

    def audit_details(self) -> Mapping[str, Any]:
        """Anything else the audit entry should say (counts and names, never values)."""
        return {}


@dataclass(frozen=True)
class ApplyResult:
    """What applying a plan did: whether it ran, the files replaced, the certificate."""

    plan: Plan
    applied: bool
    files: tuple[FileChange, ...] = ()
    certificate: Path | None = None


def apply_plan(
    plan: Plan,
    catalog: Catalog,
    engine: Engine,
    *,
    out: str | Path = "certificates",
    dry_run: bool = True,
    keys: Keys | None = None,
    audit: AuditLog | None = None,
    ledger: Ledger | None = None,
    progress: ProgressFn | None = None,
    index: IdentityIndex | None = None,
    register: Register | None = None,
    wait: bool = False,
) -> ApplyResult:
    """Carry a plan out (unless `dry_run`, the default); write its certificate to `out`.

    The files change all at once under a journal (see `dsar.rights.rewrite`); the
    certificate (JSON and Markdown) says what was done; with an `audit` log, one entry
    records it; with a `ledger`, an erasure records the person first.

    Args:
        plan: from `plan_erasure`, `plan_correction` or `plan_retention`.
        catalog: the catalog the plan was made from.
        engine: an engine over the same files.
        out: the folder for the certificate.
        dry_run: True (the default) changes nothing and writes nothing.
        keys: the workbench's keys (`dsar.keys.load_keys`), needed when the plan
            pseudonymizes.
        audit: the audit log to record the change in.
        ledger: the suppression ledger (erasure records the person as erased).
        progress: told each file before it is written.
        index: the identity index: the files the change rewrote are indexed again, so
            an erased person's references leave it with their rows.
        register: the request register; the request the plan carries out (its label) is
            marked completed once the files are committed.
        wait: wait for another change holding the export instead of refusing.

    The ledger entry is written as pending before any file changes and marked done with
    the files; a failure before the commit rolls everything back (the pending entry too),
    one after it is finished by `recover` (`ChangeInterruptedError` says so).

    Raises:
        MissingKeyError: the plan pseudonymizes and no key was given.
    """
    if dry_run:
        return ApplyResult(plan, applied=False)
    plain_name(plan.label, "request label")  # before anything changes: it names files
    if index is not None and engine.name != "duckdb":
        raise UsageError(
            "index",
            f"the identity index is refreshed with the DuckDB engine, not {engine.name}",
            "apply without --index (files changed since are read whole), then run"
            " `dsar index build`",
        )
    if plan.needs_key and keys is None:
        raise MissingKeyError(
            f"{plan.label}: the plan pseudonymizes columns, which needs the secret key"
            " (set WORKBENCH_KEY or pass a key file)"
        )
    if plan.subject is None and keys is not None and (person := plan.person()) is not None:
        # planned without the key (it needs none): name the person in the records now
        plan = replace(plan, subject=subject_ref(keys, person))  # type: ignore[type-var]
    holder = f"{plan.label} ({plan.job.value})"
    with export_lock(catalog.root, exclusive=True, holder=holder, wait=wait):
        records = Records(ledger, register, keys or _keys_of(audit, ledger, register))
        staged = _change(plan, catalog, engine, Path(out), keys, audit, records, progress)
        if index is not None and staged.files:
            _refresh(index, catalog, engine, plan.label, {f.table for f in staged.files}, progress)
    return ApplyResult(plan, True, staged.files, staged.certificate)


def _keys_of(
    audit: AuditLog | None, ledger: Ledger | None, register: Register | None
) -> Keys | None:
    """The key of the records a change updates (they all hold the same), to MAC its journal."""
    if audit is not None:
        return audit.keys
    if ledger is not None:
        return ledger.keys
    return register.keys if register is not None else None


@dataclass(frozen=True)
class _Done:
    files: tuple[FileChange, ...]
    certificate: Path


def _change(
    plan: Plan,
    catalog: Catalog,
    engine: Engine,
    out: Path,
    keys: Keys | None,
    audit: AuditLog | None,
    records: Records,
    progress: ProgressFn | None = None,
) -> _Done:
    """Stage, certify and commit under the journal; roll back whatever fails before the
    commit, and leave what fails after it to `recover` (with a message that says so)."""
    rewrites = plan.rewrites(catalog, keys) if plan.changes else []
    targets = [path for rw in rewrites for path in catalog.files(rw.table)]
    begin(catalog.root, plan.label, targets, out, records)
    try:
        plan.record(records.ledger)
        staged = stage_rewrites(catalog, engine, plan.label, rewrites, progress)
        removed = {rw.table: rw.removes for rw in rewrites}
        artifacts = write_certificate(plan, staged.files, out, records.keys, removed)
        certificate = artifacts[0][1]
        pending = None
        if audit is not None:
            pending = PendingAudit(
                audit,
                f"{plan.job.value}.applied",
                request=plan.label,
                subject=plan.subject,
                tables=plan.audit_tables(),
                details={
                    **plan.audit_details(),
                    "files": len(staged.files),
                    "certificate": certificate.name,
                },
            )
        commit(catalog.root, staged, artifacts, pending, records)
    except BaseException as exc:
        try:
            rolled_back, committed = abandon(catalog.root, records.ledger), True
        except Exception:  # rolling back failed too (the disk is still full): not committed
            rolled_back, committed = False, False
        if rolled_back or not isinstance(exc, Exception):  # an interrupt stays one
            raise
        if isinstance(exc, DiskFullError):
            cause = f"the disk is full while writing {exc.path}"
        else:
            cause = str(exc) if isinstance(exc, WorkbenchError) else type(exc).__name__
        raise ChangeInterruptedError(plan.label, cause, committed=committed) from exc
    return _Done(staged.files, certificate)


def _refresh(
    index: IdentityIndex,
    catalog: Catalog,
    engine: Engine,
    label: str,
    tables: set[str],
    progress: ProgressFn | None,
) -> None:
    """Index the rewritten files again; a failure only leaves the index behind."""
    try:
        index.build(catalog, engine, progress, tables=tables)
    except Exception as exc:  # done and recorded: the index only lags behind, and the
        # files changed are read whole until the next build (their fingerprints moved)
        log.warning(
            "%s: the identity index was not refreshed (%s); the files changed are read"
            " whole until `dsar index build`",
            label,
            type(exc).__name__,
        )


__all__ = ["ApplyResult", "Job", "Plan", "ProgressFn", "apply_plan"]
