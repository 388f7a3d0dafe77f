"""Erasure: plan what the catalog says to do with one person's rows, then apply it safely.

    plan = plan_erasure(catalog, engine, request, key=key)   # a value: show it, diff it
    result = apply_erasure(plan, catalog, engine, out, key=key, dry_run=False)

What is erased is exactly what an access request would show: the plan selects the rows
`collect` gives the person. Per table the catalog's erasure action applies: delete the rows,
nullify or pseudonymize columns, or retain them under a legal obligation until their
retention ends (rows whose retention has already ended are deleted now).

Applying writes a new version of each affected file beside it, checks row accounting, then
swaps all files in under a journal: a crash leaves the old state or, once the journal is
written, the new state on the next run (`recover`), never half. The originals are kept as
`<file>.before-<request>` until `confirm_erasure`. A certificate records what was erased,
what was retained and why, and whom to notify.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from dsar.catalog.models import Catalog, ErasureAction, Role, Table
from dsar.engine.base import Engine, quote_identifier
from dsar.errors import NoMatchError, WorkbenchError
from dsar.records.audit import AuditLog, subject_ref
from dsar.records.ledger import Ledger, Reason
from dsar.rights.certificate import write_certificate
from dsar.rights.rewrite import JOURNAL, Rewrite, confirm_rewrite, recover, rewrite_tables
from dsar.subjects.collect import ProgressFn, SubjectData, collect
from dsar.subjects.identity import MatchRules, SubjectRequest
from dsar.subjects.selection import others_mentioning, row_predicate, unlink_conditions

PSEUDO = "pseudo:"


@dataclass(frozen=True)
class TableAction:
    """What erasure does to one table for this person."""

    table: str
    action: ErasureAction
    rows: int  # the person's rows in the table
    to_change: int  # rows the apply step would delete or change now (0: nothing to do)
    columns: tuple[str, ...] = ()
    retained: int = 0  # rows kept under a legal obligation
    retained_until: str | None = None  # the latest date a retained row is kept to
    reason: str | None = None
    legal_basis: str | None = None
    unlinked: int = 0  # anonymous rows on an identifier shared with someone else: unlinked


@dataclass(frozen=True)
class ErasurePlan:
    """The erasure of one person, planned: nothing has been changed yet."""

    request: str
    subject: str  # keyed reference, never the identifiers
    created: str
    today: date
    actions: tuple[TableAction, ...]
    recipients: tuple[str, ...]
    held_as_processor: dict[str, int]
    set_aside: dict[str, int]
    mentions: dict[str, int] = field(default_factory=dict)  # others' free text naming them
    # the person's identifiers and rows the plan was made from: applying the plan uses them
    # rather than searching again (the row accounting still checks every file)
    data: SubjectData | None = field(default=None, repr=False, compare=False)

    @property
    def changes(self) -> int:
        """Rows the apply step would delete or change."""
        return sum(a.to_change + a.unlinked for a in self.actions)

    def describe(self) -> str:
        """The dry run, as text: per table, the rows and columns it would touch."""
        lines = [f"erasure plan for {self.request} ({self.subject}), as of {self.today}:"]
        for a in self.actions:
            what = {
                ErasureAction.DELETE: f"delete {a.to_change} row(s)",
                ErasureAction.NULLIFY: f"empty {', '.join(a.columns)} in {a.to_change} row(s)",
                ErasureAction.PSEUDONYMIZE: f"pseudonymize {', '.join(a.columns)} in"
                f" {a.to_change} row(s)",
                ErasureAction.RETAIN: (
                    f"retain {a.retained} row(s) until {a.retained_until} ({a.reason});"
                    if a.retained
                    else "nothing left to retain;"
                )
                + f" delete {a.to_change} past retention",
            }[a.action]
            lines.append(f"  {a.table:<24} {a.rows:>6} row(s) of the person: {what}")
            if a.unlinked:
                lines.append(
                    f"  {'':<24} {a.unlinked:>6} anonymous row(s) on a device or number"
                    " shared with someone else: unlink (empty that identifier)"
                )
        for table, rows in self.held_as_processor.items():
            lines.append(
                f"  {table:<24} {rows:>6} row(s) held for customers: forward the request to them"
            )
        for table, rows in self.set_aside.items():
            lines.append(f"  {table:<24} {rows:>6} row(s) on a shared device: review by hand")
        for table, rows in self.mentions.items():
            lines.append(
                f"  {table:<24} {rows:>6} row(s) of other people mention the person's"
                " email or phone in free text: review by hand"
            )
        lines.append(f"recipients to notify: {', '.join(self.recipients) or 'none'}")
        lines.append(f"{self.changes} row(s) would change" if self.changes else "nothing to change")
        return "\n".join(lines)


def _expired_sql(table: Table) -> str | None:
    """SQL that is true for rows whose retention under `retain` has ended."""
    period, after = table.erasure.retain_for, table.retention.after
    if table.erasure.action is not ErasureAction.RETAIN or period is None or after is None:
        return None
    until = f"(CAST({quote_identifier(after)} AS DATE) + INTERVAL {period.amount} {period.unit})"
    return f"({until} < CAST(? AS DATE))"


def _until_sql(table: Table) -> str:
    """SQL for the date until which a retained row is kept (a date: no time of day)."""
    period, after = table.erasure.retain_for, table.retention.after
    assert period is not None and after is not None
    until = f"CAST({quote_identifier(after)} AS DATE) + INTERVAL {period.amount} {period.unit}"
    return f"CAST({until} AS DATE)"


def _change_sql(table: Table, predicate: str) -> str:
    """SQL true for the person's rows that applying would delete or change now."""
    action = table.erasure.action
    if action is ErasureAction.DELETE:
        return predicate
    if action is ErasureAction.NULLIFY:
        cols = " OR ".join(f"{quote_identifier(c)} IS NOT NULL" for c in table.erasure.columns)
        return f"({predicate} AND ({cols}))"
    if action is ErasureAction.PSEUDONYMIZE:
        cols = " OR ".join(
            f"NOT coalesce(starts_with(CAST({quote_identifier(c)} AS VARCHAR), '{PSEUDO}'), true)"
            for c in table.erasure.columns
        )
        return f"({predicate} AND ({cols}))"
    expired = _expired_sql(table)
    return f"({predicate} AND {expired})" if expired else "false"


def plan_erasure(
    catalog: Catalog,
    engine: Engine,
    request: SubjectRequest,
    *,
    key: bytes,
    rules: MatchRules | None = None,
    today: date | None = None,
    progress: ProgressFn | None = None,
) -> ErasurePlan:
    """Plan the erasure of the person `request` names. Changes nothing.

    `progress`, when given, is told each table read of the search.

    Raises:
        WorkbenchError: the catalog has no table with an erasure action that changes data.
    """
    rules = rules or MatchRules()
    today = today or datetime.now(UTC).date()
    controller = [t for t in catalog.tables.values() if t.role is Role.CONTROLLER]
    if all(t.erasure.action is ErasureAction.RETAIN for t in controller):
        raise WorkbenchError(
            "the catalog has no erasure actions: every table says retain; give the tables"
            " that may be erased erasure: {action: delete} (or nullify, pseudonymize)"
        )
    recover(catalog.root)
    [data] = collect(engine, catalog, [request], rules, progress)
    if data.rows == 0 and not data.held_as_processor:
        raise NoMatchError(
            request.label,
            f"request {request.label}: no row matches the identifiers given (a typo, or the"
            " person was erased already); nothing was changed",
        )
    return _plan(catalog, engine, request, data, key, rules, today)


def _plan(
    catalog: Catalog,
    engine: Engine,
    request: SubjectRequest,
    data: SubjectData,
    key: bytes,
    rules: MatchRules,
    today: date,
) -> ErasurePlan:
    actions = []
    recipients: set[str] = set()
    for name, table in catalog.tables.items():
        if table.role is not Role.CONTROLLER or (
            name not in data.tables and name not in data.set_aside
        ):
            continue
        predicate, params = row_predicate(table, data, rules)
        change = _change_sql(table, predicate)
        change_params = params + ([today.isoformat()] if _expired_sql(table) else [])
        columns = [
            f"count(*) FILTER (WHERE {predicate}) AS rows",
            f"count(*) FILTER (WHERE {change}) AS change",
        ]
        all_params = params + change_params
        expired = _expired_sql(table)
        if table.erasure.action is ErasureAction.RETAIN:
            keep = f"({predicate} AND NOT {expired})" if expired else predicate
            keep_params = params + ([today.isoformat()] if expired else [])
            until_sql = f"max({_until_sql(table)}) FILTER (WHERE {keep})" if expired else "NULL"
            columns += [f"count(*) FILTER (WHERE {keep}) AS retained", f"{until_sql} AS until"]
            all_params += keep_params + (keep_params if expired else [])
        counts = engine.query(
            f"SELECT {', '.join(columns)} FROM {quote_identifier(name)}", all_params
        ).to_pylist()[0]
        unlink = unlink_conditions(table, data, rules)
        unlinked = 0
        if unlink:
            cond = " OR ".join(c for _, c, _ in unlink)
            unlink_params = [p for _, _, ps in unlink for p in ps]
            unlinked = int(
                engine.query(
                    f"SELECT count(*) AS n FROM {quote_identifier(name)} WHERE {cond}",
                    unlink_params,
                )
                .column("n")[0]
                .as_py()
            )
        retained = int(counts.get("retained") or 0)
        until = str(counts["until"]) if counts.get("until") is not None else None
        e = table.erasure
        actions.append(
            TableAction(
                table=name,
                action=e.action,
                rows=int(counts["rows"]),
                to_change=int(counts["change"]),
                columns=tuple(e.columns),
                retained=retained,
                retained_until=until,
                reason=e.reason,
                legal_basis=e.legal_basis.value if e.legal_basis else None,
                unlinked=unlinked,
            )
        )
        recipients.update(catalog.recipients[r].name for r in table.recipients)
    held = {t: sum(c.values()) for t, c in data.held_as_processor.items()}
    return ErasurePlan(
        request=request.label,
        subject=subject_ref(key, request.keys[0]),
        created=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        today=today,
        actions=tuple(actions),
        recipients=tuple(sorted(recipients)),
        held_as_processor=held,
        set_aside=dict(data.set_aside),
        mentions=others_mentioning(catalog, engine, data, rules),
        data=data,
    )


@dataclass(frozen=True)
class ErasureResult:
    """What applying a plan did."""

    plan: ErasurePlan
    applied: bool
    files: tuple[dict[str, Any], ...]
    certificate: Path | None


def apply_erasure(
    plan: ErasurePlan,
    catalog: Catalog,
    engine: Engine,
    request: SubjectRequest,
    out: str | Path,
    *,
    key: bytes,
    rules: MatchRules | None = None,
    dry_run: bool = True,
    ledger: Ledger | None = None,
    audit: AuditLog | None = None,
    progress: ProgressFn | None = None,
) -> ErasureResult:
    """Apply a plan (unless `dry_run`, the default), then write the certificate to `out`.

    With a `ledger`, every identifier of the person is recorded as erased, so a restored
    backup can be cleaned again (`replay_erasures`) and audiences leave the person out.
    """
    rules = rules or MatchRules()
    if dry_run:
        return ErasureResult(plan, False, (), None)
    data = _planned_data(plan, request) or collect(engine, catalog, [request], rules)[0]
    if ledger is not None:
        ledger.add(data.identity.keys, Reason.ERASED, plan.request, plan.today)
    if plan.changes == 0:
        result = ErasureResult(plan, True, (), write_certificate(plan, (), Path(out)))
        _audit(audit, result)
        return result
    rewrites = []
    for action in plan.actions:
        if action.to_change == 0 and action.unlinked == 0:
            continue
        table = catalog.tables[action.table]
        predicate, params = row_predicate(table, data, rules)
        if action.to_change:
            select, select_params = _rewrite_sql(table, predicate, params, key, plan.today)
        else:
            select, select_params = "SELECT * FROM {source}", []
        if action.unlinked:
            unlink = unlink_conditions(table, data, rules)
            replaces = ", ".join(
                f"CASE WHEN {cond} THEN NULL ELSE {quote_identifier(col)} END AS"
                f" {quote_identifier(col)}"
                for col, cond, _ in unlink
            )
            select = f"SELECT * REPLACE ({replaces}) FROM ({select})"
            select_params = [p for _, _, ps in unlink for p in ps] + select_params
        removes = action.action in (ErasureAction.DELETE, ErasureAction.RETAIN)
        rewrites.append(
            Rewrite(action.table, select, select_params, action.to_change if removes else 0)
        )
    files = rewrite_tables(catalog, engine, plan.request, rewrites, progress)
    result = ErasureResult(plan, True, files, write_certificate(plan, files, Path(out)))
    _audit(audit, result)
    return result


def _planned_data(plan: ErasurePlan, request: SubjectRequest) -> SubjectData | None:
    """The search the plan was made from, when it was made for this request."""
    if plan.data is not None and plan.data.identity.request == request:
        return plan.data
    return None


def _audit(audit: AuditLog | None, result: ErasureResult) -> None:
    if audit is None:
        return
    plan = result.plan
    audit.append(
        "erasure.applied",
        request=plan.request,
        subject=plan.subject,
        tables={
            a.table: a.to_change + a.unlinked for a in plan.actions if a.to_change + a.unlinked
        },
        details={
            "files": len(result.files),
            "retained": sum(a.retained for a in plan.actions),
            "certificate": result.certificate.name if result.certificate else None,
        },
    )


def _rewrite_sql(
    table: Table, predicate: str, params: list[object], key: bytes, today: date
) -> tuple[str, list[object]]:
    action = table.erasure.action
    if action is ErasureAction.DELETE:
        return f"SELECT * FROM {{source}} WHERE NOT {predicate}", params
    if action is ErasureAction.RETAIN:
        expired = _expired_sql(table)
        return (
            f"SELECT * FROM {{source}} WHERE NOT ({predicate} AND {expired})",
            [*params, today.isoformat()],
        )
    replaces, all_params = [], []
    for col in table.erasure.columns:
        c = quote_identifier(col)
        if action is ErasureAction.NULLIFY:
            replaces.append(f"CASE WHEN {predicate} THEN NULL ELSE {c} END AS {c}")
            all_params += params
        else:
            # a keyed pseudonym: the same value gives the same pseudonym (joins survive),
            # and a value already pseudonymized is left alone (applying twice changes nothing)
            replaces.append(
                f"CASE WHEN {predicate} AND {c} IS NOT NULL AND NOT starts_with(CAST({c} AS"
                f" VARCHAR), '{PSEUDO}') THEN '{PSEUDO}' || left(sha256(? || CAST({c} AS"
                f" VARCHAR)), 16) ELSE {c} END AS {c}"
            )
            all_params += [*params, key.hex()]
    return f"SELECT * REPLACE ({', '.join(replaces)}) FROM {{source}}", all_params


def replay_erasures(
    ledger: Ledger,
    catalog: Catalog,
    engine: Engine,
    out: str | Path,
    *,
    key: bytes,
    rules: MatchRules | None = None,
) -> list[ErasureResult]:
    """Re-apply every erasure in the ledger to this export (e.g. a restored backup)."""
    results = []
    for request in ledger.find_in_export(catalog, engine, Reason.ERASED, rules):
        try:
            plan = plan_erasure(catalog, engine, request, key=key, rules=rules)
        except NoMatchError:
            continue
        if plan.changes:
            results.append(
                apply_erasure(
                    plan, catalog, engine, request, out, key=key, rules=rules, dry_run=False
                )
            )
    return results


def confirm_erasure(catalog: Catalog, request: str) -> list[Path]:
    """Delete the originals kept by an applied erasure; returns the files removed."""
    return confirm_rewrite(catalog, request)


__all__ = [
    "JOURNAL",
    "ErasurePlan",
    "ErasureResult",
    "NoMatchError",
    "TableAction",
    "apply_erasure",
    "confirm_erasure",
    "plan_erasure",
    "recover",
    "replay_erasures",
]
