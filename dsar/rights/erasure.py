"""Erasure: plan what the catalog says to do with one person's rows, then apply it safely.

    plan = plan_erasure(catalog, engine, request)          # a value: show it, diff it
    result = apply_plan(plan, catalog, engine, out="certificates", keys=keys, dry_run=False)

What is erased is exactly what an access request would show: the plan selects the rows
`collect` gives the person. Per table the catalog's erasure action applies (the classes in
`dsar.rights.actions`): delete the rows, nullify or pseudonymize columns, or retain them
under a legal obligation until their retention ends (rows whose retention has already ended
are deleted now). Rows owned through retained rows (the lines of an invoice kept for tax)
are kept with them, whatever their own action (`dsar.rights.children`).

Applying (`dsar.rights.plan.apply_plan`) writes a new version of each affected file beside
it, checks row accounting, then swaps all files in under a journal: a crash leaves the old
state or, once the journal is written, the new state on the next run (`recover`), never
half. The originals are kept as `<file>.before-<request>` until `confirm_erasure`. The
certificate records what was erased, what was retained and why, and whom to notify.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, ClassVar

from dsar.catalog.models import ACCOUNT_KINDS, Catalog, Role, Table, joined_accounts
from dsar.engine.base import Engine, quote_identifier
from dsar.engine.guards import CatalogWarning, guard_catalog
from dsar.errors import JoinedAccountsError, NoMatchError, UsageError
from dsar.keys import Keys
from dsar.lock import export_lock
from dsar.records.audit import AuditLog, subject_ref
from dsar.records.ledger import Ledger, Reason
from dsar.records.sent import SentRecord
from dsar.rights.actions import TableAction, erasure_action
from dsar.rights.children import anyway_words, erasure_rows, kept_details, kept_words
from dsar.rights.journal import JOURNAL, recover
from dsar.rights.plan import ApplyResult, Job, Plan, ProgressFn, apply_plan
from dsar.rights.rewrite import Rewrite, confirm_rewrite
from dsar.subjects.collect import SubjectData, collect
from dsar.subjects.identity import MatchRules, SubjectKey, SubjectRequest, with_catalog_rules
from dsar.subjects.index import IndexedFiles
from dsar.subjects.selection import others_mentioning, unlink_conditions


@dataclass(frozen=True)
class ErasurePlan(Plan):
    """The erasure of one person, planned: nothing has been changed yet."""

    job: ClassVar[Job] = Job.ERASURE
    label: str
    subject: str | None  # keyed reference (when a key was given), never the identifiers
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
    rules: MatchRules = field(default_factory=MatchRules, repr=False)
    accepted_warnings: tuple[CatalogWarning, ...] = ()  # catalog warnings accepted to plan it

    @property
    def changes(self) -> int:
        """Rows the apply step would delete or change."""
        return sum(a.to_change + a.unlinked for a in self.actions)

    @property
    def needs_key(self) -> bool:
        """True when a table with rows to change pseudonymizes (the pseudonym is keyed)."""
        return any(erasure_action(a.action).needs_key and a.to_change for a in self.actions)

    def describe(self) -> str:
        """The dry run, as text: per table, the rows and columns it would touch."""
        who = f" ({self.subject})" if self.subject else ""
        lines = [f"erasure plan for {self.label}{who}, as of {self.today}:"]
        for a in self.actions:
            what = erasure_action(a.action).planned(a)
            lines.append(f"  {a.table:<24} {a.rows:>6} row(s) of the person: {what}")
            for words in (kept_words(a), anyway_words(a, done=False)):
                if words is not None:  # the count in the column of counts
                    count, _, rest = words.partition(" ")
                    lines.append(f"  {'':<24} {count:>6} {rest}")
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
            lines.append(
                f"  {table:<24} {rows:>6} row(s) set aside (a shared device or number, or a"
                " parent key several parent rows hold): review by hand"
            )
        for table, rows in self.mentions.items():
            lines.append(
                f"  {table:<24} {rows:>6} row(s) of other people mention the person's"
                " email or phone in free text: review by hand"
            )
        lines.append(f"recipients to notify: {', '.join(self.recipients) or 'none'}")
        lines.append(f"{self.changes} row(s) would change" if self.changes else "nothing to change")
        return "\n".join(lines)

    def table_rows(self) -> list[dict[str, Any]]:
        """One row per table: the action, the person's rows, what changes, what is kept."""
        return [
            {
                "table": a.table,
                "action": a.action.value,
                "rows": a.rows,
                "changes": a.to_change + a.unlinked,
                "columns": ", ".join(a.columns),
                "retained": a.retained,
                "retained_until": a.retained_until,
                "unlinked": a.unlinked,
                "kept_with_parent": a.kept_with_parent,
                "kept_until": a.kept_until,
                "changed_anyway": a.changed_anyway,
            }
            for a in self.actions
        ]

    def rewrites(self, catalog: Catalog, keys: Keys | None) -> list[Rewrite]:
        """One rewrite per table with rows to change or unlink."""
        data = self._data()
        pseudonym = keys.sql_pseudonym if keys is not None else None
        rewrites = []
        for a in self.actions:
            if a.to_change == 0 and a.unlinked == 0:
                continue
            table = catalog.tables[a.table]
            action = erasure_action(a.action)
            if a.to_change:
                # the rows kept with a retained parent are left out, as the plan counted
                rows = erasure_rows(catalog, a.table, data, self.rules, self.today).acted
                select, select_params = action.rewrite_sql(rows, pseudonym)
            else:
                select, select_params = "SELECT * FROM {source}", []
            if a.unlinked:
                unlink = unlink_conditions(table, data, self.rules)
                replaces = ", ".join(
                    f"CASE WHEN {cond} THEN NULL ELSE {quote_identifier(col)} END AS"
                    f" {quote_identifier(col)}"
                    for col, cond, _ in unlink
                )
                select = f"SELECT * REPLACE ({replaces}) FROM ({select})"
                select_params = [p for _, _, ps in unlink for p in ps] + select_params
            removes = a.to_change if action.removes_rows else 0
            rewrites.append(Rewrite(a.table, select, select_params, removes))
        return rewrites

    def person(self) -> SubjectKey | None:
        """The first identifier the request gave."""
        return self.data.identity.request.keys[0] if self.data is not None else None

    def record(self, ledger: Ledger | None) -> None:
        """Record every identifier of the person as erased, pending until the files are
        committed (the journal then marks the entry done, or withdraws it on rollback)."""
        if ledger is not None:
            ledger.add(  # the export's own forms: matched as the export holds them
                self._data().identity.keys,
                Reason.ERASED,
                self.label,
                self.today,
                pending=True,
                as_found=True,
            )

    def certificate_body(self) -> dict[str, Any]:
        """Erased and retained tables, tables held for customers, rows left for review."""

        def entry(a: TableAction) -> dict[str, Any]:
            return asdict(a) | {"action": a.action.value}

        return {
            "erased": [entry(a) for a in self.actions if not erasure_action(a.action).keeps_rows],
            "retained": [entry(a) for a in self.actions if erasure_action(a.action).keeps_rows],
            "kept_with_parent": [
                {
                    "table": a.table,
                    "rows": a.kept_with_parent,
                    "parent": a.parent,
                    "parent_rows": a.parent_rows,
                    "until": a.kept_until,
                    "until_unknown": a.kept_open,
                }
                for a in self.actions
                if a.kept_with_parent
            ],
            "held_for_customers": self.held_as_processor,
            "set_aside_for_review": self.set_aside,
            "mentioned_in_others_records": self.mentions,
        }

    def certificate_lines(self) -> list[str]:
        """Per table what was done; then forwarded and left-for-review rows."""
        lines = [
            f"- {a.table}: {words}"
            for a in self.actions
            for words in (
                erasure_action(a.action).done(a),
                kept_words(a),
                anyway_words(a, done=True),
            )
            if words is not None
        ]
        lines += [
            f"- {a.table}: {a.unlinked} anonymous row(s) on a shared device unlinked"
            for a in self.actions
            if a.unlinked
        ]
        lines += [
            f"- {table}: {rows} row(s) held for customers; request forwarded to them"
            for table, rows in self.held_as_processor.items()
        ]
        lines += [
            f"- {table}: {rows} row(s) of other people mention the person; left for review"
            for table, rows in self.mentions.items()
        ]
        return lines

    def audit_details(self) -> dict[str, Any]:
        """Rows retained under a legal obligation."""
        return {
            "retained": sum(a.retained for a in self.actions),
            "kept_with_parent": sum(a.kept_with_parent for a in self.actions),
        }

    def _data(self) -> SubjectData:
        if self.data is None:
            raise UsageError(
                "plan",
                f"{self.label}: this plan carries no search (it was built by hand)",
                "make it with plan_erasure",
            )
        return self.data


def plan_erasure(
    catalog: Catalog,
    engine: Engine,
    request: SubjectRequest,
    *,
    keys: Keys | None = None,
    rules: MatchRules | None = None,
    today: date | None = None,
    progress: ProgressFn | None = None,
    sent: SentRecord | None = None,
    index: IndexedFiles | None = None,
    accept_catalog_warnings: bool | Collection[str] = False,
    accept_joined: bool = False,
) -> ErasurePlan:
    """Plan the erasure of the person `request` names. Changes nothing.

    Args:
        catalog: the data map; each table's `erasure` rule decides what happens.
        engine: an engine over the catalog's files.
        request: the person's identifiers and the request reference.
        keys: the workbench's keys (`dsar.keys.load_keys`); when given, the plan names the
            person by a keyed reference. Planning never needs them; applying does when
            the plan pseudonymizes.
        rules: how identifiers match (gmail dots, plus addressing).
        today: the date retention is judged on (default: today, UTC).
        progress: told each table read of the search.
        sent: the record of what was sent to ad platforms; the platforms whose audiences
            hold the person join the recipients to notify.
        index: the identity index's files for this engine (`IdentityIndex.files_for`): the
            person's rows are found reading only the records it names (same rows).
        accept_catalog_warnings: plan although the catalog can give one person's rows to
            another (`dsar.engine.guards`): True, or the codes accepted; the certificate
            records them.
        accept_joined: plan although the search joined two or more accounts (user,
            customer or person ids, usernames), after a person checked they are one.

    Raises:
        JoinedAccountsError: the search joined several accounts, not accepted.
        CollisionProneCatalogError: such a catalog, not accepted.
        UsageError: the catalog has no table with an erasure action that changes data.
        NoMatchError: no row of the export belongs to the person.
    """
    rules = with_catalog_rules(rules, catalog)  # the catalog's phone_region unless given
    today = today or datetime.now(UTC).date()
    controller = [t for t in catalog.tables.values() if t.role is Role.CONTROLLER]
    if all(erasure_action(t.erasure.action).keeps_rows for t in controller):
        raise UsageError(
            "catalog",
            "the catalog has no erasure actions: every table says retain",
            "give the tables that may be erased erasure: {action: delete} (or nullify,"
            " pseudonymize)",
        )
    accepted = guard_catalog(catalog, engine, accept_catalog_warnings)
    [data] = collect(engine, catalog, [request], rules, progress, index)
    if data.rows == 0 and not data.held_as_processor:
        raise NoMatchError(
            request.label,
            f"request {request.label}: no row matches the identifiers given (a typo, or the"
            " person was erased already); nothing was changed",
        )
    joined = joined_accounts({kind: data.identity.values(kind) for kind in ACCOUNT_KINDS})
    if joined and not accept_joined:
        raise JoinedAccountsError(request.label, joined)
    return ErasurePlan(
        label=request.label,
        subject=subject_ref(keys, request.keys[0]) if keys is not None else None,
        created=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        today=today,
        actions=tuple(_table_actions(catalog, engine, data, rules, today)),
        recipients=_recipients(catalog, data) + audiences_holding(sent, data, rules),
        held_as_processor={t: sum(c.values()) for t, c in data.held_as_processor.items()},
        set_aside=dict(data.set_aside),
        mentions=others_mentioning(catalog, engine, data, rules),
        data=data,
        rules=rules,
        accepted_warnings=accepted,
    )


def _recipients(catalog: Catalog, data: SubjectData) -> tuple[str, ...]:
    names = {
        catalog.recipients[r].name
        for name, table in catalog.tables.items()
        if table.role is Role.CONTROLLER and (name in data.tables or name in data.set_aside)
        for r in table.recipients
    }
    return tuple(sorted(names))


def audiences_holding(
    sent: SentRecord | None, data: SubjectData, rules: MatchRules
) -> tuple[str, ...]:
    """The ad platforms (and their audiences) the record says hold the person."""
    if sent is None:
        return ()
    held = sent.holding_any(data.identity.keys, rules)
    return tuple(f"ad platform {platform} (audience {audience})" for platform, audience in held)


def _table_actions(
    catalog: Catalog, engine: Engine, data: SubjectData, rules: MatchRules, today: date
) -> list[TableAction]:
    """Per table with rows of the person: counted in one pass over the table."""
    actions = []
    for name, table in catalog.tables.items():
        if table.role is not Role.CONTROLLER or (
            name not in data.tables and name not in data.set_aside
        ):
            continue
        action = erasure_action(table.erasure.action)
        found = erasure_rows(catalog, name, data, rules, today)
        (predicate, params), rows = found.person, found.acted
        change, change_params = action.change_sql(rows)
        kept, kept_params = action.kept_columns(rows)
        columns = [
            f"count(*) FILTER (WHERE {predicate}) AS rows",
            f"count(*) FILTER (WHERE {change}) AS change",
            *kept,
        ]
        all_params = params + change_params + kept_params
        if found.with_parent is not None:  # rows of retained parents: kept, or changed anyway
            with_parent, with_params = found.with_parent
            if found.anyway:
                with_parent = f"({change} AND {with_parent})"
                with_params = change_params + with_params
            columns.append(f"count(*) FILTER (WHERE {with_parent}) AS with_parent")
            all_params += with_params
        counts = engine.query(
            f"SELECT {', '.join(columns)} FROM {quote_identifier(name)}", all_params
        ).to_pylist()[0]
        parent: dict[str, Any] = {}
        if counts.get("with_parent") and found.with_parent is not None:
            n = int(counts["with_parent"])
            details = kept_details(catalog, engine, name, found.with_parent)
            parent = {
                "parent": details.parent,
                "parent_rows": details.parent_rows,
                "kept_with_parent": 0 if found.anyway else n,
                "changed_anyway": n if found.anyway else 0,
                "kept_until": None if found.anyway else details.until,
                "kept_open": 0 if found.anyway else details.open_ended,
            }
        e = table.erasure
        actions.append(
            TableAction(
                table=name,
                action=e.action,
                rows=int(counts["rows"]),
                to_change=int(counts["change"]),
                columns=tuple(e.columns),
                retained=int(counts.get("retained") or 0),
                retained_open=int(counts.get("open_ended") or 0),
                retained_until=str(counts["until"]) if counts.get("until") is not None else None,
                reason=e.reason,
                legal_basis=e.legal_basis.value if e.legal_basis else None,
                unlinked=_unlinked(engine, name, table, data, rules),
                **parent,
            )
        )
    return actions


def _unlinked(engine: Engine, name: str, table: Table, data: SubjectData, rules: MatchRules) -> int:
    unlink = unlink_conditions(table, data, rules)
    if not unlink:
        return 0
    cond = " OR ".join(c for _, c, _ in unlink)
    params = [p for _, _, ps in unlink for p in ps]
    sql = f"SELECT count(*) AS n FROM {quote_identifier(name)} WHERE {cond}"
    return int(engine.query(sql, params).column("n")[0].as_py())


def replay_erasures(
    ledger: Ledger,
    catalog: Catalog,
    engine: Engine,
    out: str | Path,
    *,
    keys: Keys,
    rules: MatchRules | None = None,
    audit: AuditLog | None = None,
    accept_catalog_warnings: bool | Collection[str] = False,
) -> list[ApplyResult]:
    """Re-apply every erasure in the ledger to this export (e.g. a restored backup).

    Each re-applied erasure gets its certificate in `out` and, with `audit`, its entry.
    A collision-prone catalog is refused before any search, as by `plan_erasure`.
    The export is held (`dsar.lock`) from the first search to the last change.
    """
    results = []
    guard_catalog(catalog, engine, accept_catalog_warnings)  # each plan records what it accepts
    with export_lock(catalog.root, exclusive=True, holder="replay of the ledger's erasures"):
        for request in ledger.find_in_export(catalog, engine, Reason.ERASED, rules):
            try:
                plan = plan_erasure(
                    catalog,
                    engine,
                    request,
                    keys=keys,
                    rules=rules,
                    accept_catalog_warnings=accept_catalog_warnings,
                    accept_joined=True,  # each was planned and checked when first applied
                )
            except NoMatchError:
                continue
            if plan.changes:
                results.append(
                    apply_plan(
                        plan, catalog, engine, out=out, keys=keys, dry_run=False, audit=audit
                    )
                )
    return results


def confirm_erasure(catalog: Catalog, request: str) -> list[Path]:
    """Delete the originals kept by an applied erasure; returns the files removed."""
    return confirm_rewrite(catalog, request)


__all__ = [
    "JOURNAL",
    "ErasurePlan",
    "TableAction",
    "confirm_erasure",
    "plan_erasure",
    "recover",
    "replay_erasures",
]
