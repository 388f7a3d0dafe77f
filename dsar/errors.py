"""The workbench's exceptions: one root, typed subclasses that carry data and say what to do."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path


class WorkbenchError(Exception):
    """Root of every error the workbench raises on purpose (bad input, missing setup).

    Messages say what went wrong and what to do. They never contain personal data:
    name tables, columns, files and counts, not the values in them.
    """


class InternalError(WorkbenchError):
    """A bug in the workbench itself, not in the user's input. Please report it."""


class MissingDependencyError(WorkbenchError):
    """An optional library is needed for this feature and is not installed, or is installed
    but cannot be loaded.

    Attributes: `library`, `feature`, `extra` (the install extra that brings it), `broken`
    (why an installed one cannot be loaded; None when it is not installed), `fix`.
    """

    def __init__(
        self,
        library: str,
        feature: str,
        extra: str,
        *,
        broken: str | None = None,
        fix: str | None = None,
    ) -> None:
        self.library = library
        self.feature = feature
        self.extra = extra
        self.broken = broken
        self.fix = fix or f"pip install '.[{extra}]'"
        if broken is None:
            super().__init__(f"{feature} needs {library}: {self.fix}")
        else:
            super().__init__(
                f"{feature} needs {library}, which is installed but cannot be loaded ({broken});"
                f" {self.fix}"
            )


@dataclass(frozen=True)
class ConfigProblem:
    """One problem found in a configuration file: where it is, what is wrong, how to fix it.

    `location` is the dotted path of the key with its line, e.g. `rules.0.column (line 7)`.
    """

    location: str
    message: str
    fix: str

    def __str__(self) -> str:
        return f"{self.location}: {self.message}\n    fix: {self.fix}"


class ConfigError(WorkbenchError):
    """A YAML configuration file (a policy, settings) is invalid. Carries every problem found.

    Attributes: `source` (the file), `problems` (each with its location and fix), `what` (the
    kind of file, as messages name it). The catalog raises its subclass `CatalogError`.
    """

    def __init__(
        self, source: str, problems: Sequence[ConfigProblem], what: str = "config"
    ) -> None:
        self.source = source
        self.problems = tuple(problems)
        self.what = what
        lines = [f"{len(self.problems)} problem(s) in {what} {source}:"]
        lines += [f"  - {p}" for p in self.problems]
        super().__init__("\n".join(lines))


CatalogProblem = ConfigProblem  # one problem in the catalog (the same shape as any config's)


class CatalogError(ConfigError):
    """The catalog (data map) is invalid. Carries every problem found, not just the first."""

    def __init__(self, source: str, problems: Sequence[ConfigProblem]) -> None:
        super().__init__(source, problems, what="catalog")


class UnlistedValueError(ConfigError):
    """A column holds values its generalisation hierarchy does not list (a value left out
    would otherwise be published unchanged or as '*', without anyone deciding it).

    The message names a few of the values: they are categories of a quasi-identifier the
    policy's hierarchy already spells out, and the fix is to give each one its group.

    Attributes: `column`, `values` (the first unlisted values, sorted), `count` (how many
    distinct values are unlisted), `level` (which of the column's `levels`, from 1; None
    for a column with one hierarchy and no levels).
    """

    SHOWN = 5  # values named in the message

    def __init__(
        self,
        source: str,
        column: str,
        values: Sequence[str],
        *,
        count: int,
        level: int | None = None,
    ) -> None:
        self.column = column
        self.values = tuple(values)
        self.count = count
        self.level = level
        shown = ", ".join(repr(v[:40]) for v in self.values[: self.SHOWN])
        more = f" and {count - self.SHOWN} more" if count > self.SHOWN else ""
        where = f"columns.{column}" + (f".levels.{level - 1}" if level else "") + ".hierarchy"
        example = self.values[0][:40] if self.values else "value"
        problem = ConfigProblem(
            where,
            f"{column} holds {count} value(s) the hierarchy does not list: {shown}{more}",
            f"give every value its group, e.g. {example!r}: <group>, in the hierarchy"
            + (f" of level {level}" if level else "")
            + " (a value no hierarchy lists is never turned into '*' silently)",
        )
        super().__init__(source, [problem], what="policy")


class EngineError(WorkbenchError):
    """A query failed in the engine. Carries the SQL (never the bound values)."""

    # the statement's first characters in the message (the whole stays in `sql`): a
    # generated statement may run to hundreds of kilobytes
    SHOWN = 2_000

    def __init__(self, message: str, sql: str | None = None) -> None:
        self.sql = sql
        shown: str | None = sql
        if sql is not None and len(sql) > self.SHOWN:
            shown = f"{sql[: self.SHOWN]} ... ({len(sql):,} characters in all)"
        text = message if shown is None else f"{message}\n-- while running:\n{shown}"
        super().__init__(text)


class ExportReadError(EngineError):
    """An export file could not be read: names the table, the files and, when known, the line."""

    def __init__(self, table: str, files: Sequence[str], reason: str) -> None:
        self.table = table
        self.files = tuple(files)
        self.reason = reason
        shown = ", ".join(self.files[:3]) + (" ..." if len(self.files) > 3 else "")
        super().__init__(
            f"cannot read table {table!r} from {shown}: {reason}\n"
            "Check that the file is complete and matches the format and options in the catalog."
        )


class IdentifierError(WorkbenchError):
    """An identifier given for a person cannot be used: unknown type, not TYPE=VALUE, empty.

    Attributes: `text` (what was given, without the value when it names a person), `reason`.
    """

    def __init__(self, text: str, reason: str) -> None:
        self.text = text
        self.reason = reason
        super().__init__(reason)


class OverMatchError(WorkbenchError):
    """A person's identifier set grew past the limit: some identifier is shared."""

    def __init__(self, label: str, kind: str, count: int, limit: int) -> None:
        self.label, self.kind, self.count, self.limit = label, kind, count, limit
        super().__init__(
            f"request {label!r}: the person's identifiers grew to {count} of kind"
            f" {str(kind)!r} (limit {limit}). A shared identifier (a team billing address,"
            " a reused email) probably joins several people. Check the identity provenance,"
            " then raise MatchRules.max_identifiers (--max-identifiers) only if this really is"
            " one person."
        )


class JoinedAccountsError(WorkbenchError):
    """An erasure whose search joined several accounts: one value (a bookkeeper's or a team's
    address) can stand on two people's rows, and erasing would delete both."""

    def __init__(self, label: str, joined: dict[str, int]) -> None:
        self.label, self.joined = label, joined
        what = ", ".join(f"{n} {kind}s" for kind, n in joined.items())
        super().__init__(
            f"request {label!r}: the search joined {what}: an identifier shared by two"
            " accounts (a bookkeeper's or a team's address) would erase both. Check the"
            " identity provenance (`dsar access` shows it), then plan again with"
            " --joined-ok only if every one of them is this person."
        )


class AmbiguousIdentifierError(WorkbenchError):
    """A weak identifier given in a request belongs to more than one person."""

    def __init__(self, label: str, kind: str, people: int) -> None:
        self.label, self.kind, self.people = label, kind, people
        super().__init__(
            f"request {label!r}: the {kind} given is linked to {people} different"
            " people; identify the person by email, user id or customer id instead"
        )


class NoMatchError(WorkbenchError):
    """No row of the export belongs to the person named."""

    def __init__(self, label: str, message: str) -> None:
        self.label = label
        super().__init__(message)


class DeadlineError(WorkbenchError):
    """A deadline cannot be computed as asked (e.g. an extension notified too late)."""


class RequestNotFoundError(WorkbenchError):
    """No request with that id in the register."""

    def __init__(self, request_id: str, message: str) -> None:
        self.request_id = request_id
        super().__init__(message)


class MissingKeyError(WorkbenchError):
    """No usable secret key for keyed references."""


class KeySchemeError(WorkbenchError):
    """A file of keyed hashes was written with another hashing scheme than this workbench's.

    Attributes: `what` (the file, e.g. "the ledger ledger.db"), `found` (the scheme it
    records; None when it records none, i.e. it predates recorded schemes), `expected`.
    """

    def __init__(self, what: str, found: str | None, expected: str) -> None:
        self.what, self.found, self.expected = what, found, expected
        written = f"scheme {found!r}" if found else "an earlier scheme (none recorded)"
        super().__init__(
            f"{what} was written with another hashing scheme: {written}, while this workbench"
            f" uses {expected!r}, so none of its hashes would match. Open it with the workbench"
            " version that wrote it, or start a new file and add its people again from the"
            " request register (keyed hashes are one-way and cannot be converted)."
        )


class ManifestError(WorkbenchError):
    """A manifest.json does not match its model. Carries every (location, message) found."""

    def __init__(self, path: str | Path, problems: Sequence[tuple[str, str]]) -> None:
        self.path = path
        self.problems = tuple(problems)
        lines = [f"{path}: {len(self.problems)} problem(s); was it written by this workbench?"]
        lines += [f"  - {loc or '(whole file)'}: {msg}" for loc, msg in self.problems]
        super().__init__("\n".join(lines))


class UnsafeNameError(WorkbenchError):
    """A name given for an output file or folder could lead outside it, or is not plain.

    Attributes: `what` (a request label, a batch request id, ...), `length` of what was
    given; the text itself is not kept, since it may be anything.
    """

    def __init__(self, what: str, text: str, limit: int) -> None:
        self.what = what
        self.length = len(text)
        super().__init__(  # not quoted: a label may be anything, an email address included
            f"the {what} given ({len(text)} characters) cannot name a file: use letters,"
            " digits, '.', '_' and '-'"
            f" only, starting with a letter or digit, no '..', at most {limit} characters"
        )


class PrivacyTargetError(WorkbenchError):
    """A de-identified output cannot meet its privacy targets (k, l, t) within its budget.

    Attributes: `target` ("k", "l" or "t"), `required` (the policy's value), `observed` (the
    value reached, when one was measured), `suppressed` and `rows` (the rows meeting the
    target would suppress, out of how many, when that is what failed).
    """

    def __init__(
        self,
        message: str,
        *,
        target: str,
        required: float,
        observed: float | None = None,
        suppressed: int | None = None,
        rows: int | None = None,
    ) -> None:
        self.target, self.required, self.observed = target, required, observed
        self.suppressed, self.rows = suppressed, rows
        super().__init__(message)


class ExtractRejectedError(WorkbenchError):
    """A de-identified extract failed its own check (the reviewer's, `verify_derived`): it
    was set aside as `<name>.REJECTED`, never under its name, and must not be shared.

    Attributes: `folder` (where it was set aside), `findings` (each as the review prints it:
    check, where, what; never a value of the data).
    """

    def __init__(self, folder: Path, findings: Sequence[str]) -> None:
        self.folder = folder
        self.findings = tuple(findings)
        shown = "; ".join(self.findings[:5])
        more = f"; and {len(self.findings) - 5} more" if len(self.findings) > 5 else ""
        super().__init__(
            f"{folder}: the extract failed its own check, {len(self.findings)} finding(s):"
            f" {shown}{more}. It was set aside and must not be shared: fix the policy or the"
            " catalog (a column the catalog gives no role, an operator that keeps too much),"
            " then run again"
        )


class ExportBusyError(WorkbenchError):
    """Another run holds the export: a change, or readers while a change is asked for.

    Attributes:
        holder: the change holding it ("ER-2026-0007 (erasure)"), or None for readers.
        since: when that change took the export (ISO 8601), or None.
    """

    def __init__(self, root: Path, holder: str | None, since: str | None) -> None:
        self.root, self.holder, self.since = root, holder, since
        if holder is not None:
            who = f"another change ({holder}) holds this export since {since}"
        else:
            who = "another run is reading or changing this export"
        super().__init__(
            f"{root}: {who}; nothing was changed. Run again when it has finished, or add"
            " --wait to wait for it"
        )


class RecordTamperedError(WorkbenchError):
    """A record (register, ledger, sent record) fails its keyed check: a row was edited,
    added or deleted outside the workbench, or it was written under another key.

    Attributes: `path` (the record's file) and `problems` (one line each, no values).
    """

    def __init__(self, path: str | Path, problems: Sequence[str]) -> None:
        self.path = path
        self.problems = tuple(problems)
        lines = [
            f"{path}: {len(self.problems)} row(s) fail their keyed check (changed outside the"
            " workbench, or another key); nothing was done. `dsar audit verify` lists them;"
            " restore the file from a backup"
        ]
        lines += [f"  - {p}" for p in self.problems[:20]]
        if len(self.problems) > 20:
            lines.append(f"  - ... and {len(self.problems) - 20} more")
        super().__init__("\n".join(lines))


class ExportPathError(WorkbenchError):
    """A table's path finds no file, or its file lies outside the export root, or is reached
    through a symbolic link the catalog does not allow: it is neither read nor written.

    Attributes: `table` (None where no table is named), `problem` and `fix` (what `dsar
    catalog check` reports for the table's path).
    """

    def __init__(self, table: str | None, problem: str, fix: str) -> None:
        self.table, self.problem, self.fix = table, problem, fix
        prefix = f"table {table!r}: " if table is not None else ""
        super().__init__(f"{prefix}{problem}; {fix}")


class OutputExistsError(WorkbenchError):
    """An output is already where the workbench would write one; outputs (bundles, extracts,
    aggregates, audience files, certificates, drafted policies) are never overwritten.

    Attributes: `path` (what is there), `what` (the output, as messages name it, e.g. "the
    extract"), `fix` (the next step, e.g. "choose another --out").
    """

    def __init__(self, path: str | Path, what: str, fix: str) -> None:
        self.path, self.what, self.fix = path, what, fix
        super().__init__(f"{what} {path} exists already and is never overwritten; {fix}")


class MissingFileError(WorkbenchError):
    """A file the workbench keeps (a record, the identity index, an interrupted change's
    audit log) is not where it is looked for.

    Attributes: `path` (where it was looked for), `what` (the file, as messages name it, e.g.
    "the identity index"), `fix` (how to make or name it).
    """

    def __init__(self, path: str | Path, what: str, fix: str) -> None:
        self.path, self.what, self.fix = path, what, fix
        super().__init__(f"{what} {path} is not there: {fix}")


class UnusableFileError(WorkbenchError):
    """A file the workbench keeps (a record, its audit log or head, a journal, a lock file)
    is not what it should be: a folder or a link where a file belongs, another kind of file,
    changed outside the workbench, or not one the workbench may create. Nothing was done.

    Attributes: `path` (the file), `problem` (what is wrong with it), `fix` (the next step,
    or what was left untouched where there is none).
    """

    def __init__(self, path: str | Path, problem: str, fix: str) -> None:
        self.path, self.problem, self.fix = path, problem, fix
        super().__init__(f"{path}: {problem}; {fix}")


class UnreadableArtifactError(WorkbenchError):
    """An artifact given for review (a bundle, its zip, an extract or aggregate folder)
    cannot be read, so none of it is checked: no manifest, another kind, a damaged,
    encrypted or oversized zip.

    Attributes: `path` (the artifact), `problem`, `fix` (the next step, or what was left
    undone, e.g. "not unpacked").
    """

    def __init__(self, path: str | Path, problem: str, fix: str) -> None:
        self.path, self.problem, self.fix = path, problem, fix
        super().__init__(f"{path}: {problem}; {fix}")


class SignOffRefusedError(WorkbenchError):
    """A sign-off was refused and nothing was recorded: the artifact has findings, the
    approver is the reviewer, there is no review of these bytes (none yet, or the artifact
    changed after it), a third-party item has no decision, or the audit log does not verify.

    Attributes: `artifact` (its path), `problem`, `fix`.
    """

    def __init__(self, artifact: str | Path, problem: str, fix: str) -> None:
        self.artifact, self.problem, self.fix = artifact, problem, fix
        super().__init__(f"{artifact}: sign-off refused: {problem}; {fix}")


class InputFileError(WorkbenchError):
    """A file the user hands in (a batch of requests, a table to measure, a list to hash)
    cannot be used: not there, not readable, not the expected shape.

    Attributes: `path` (the file), `line` (1-based, where one is at fault, else None),
    `problem` (never quoting a value of the file), `fix`.
    """

    def __init__(
        self, path: str | Path, problem: str, fix: str, *, line: int | None = None
    ) -> None:
        self.path, self.problem, self.fix, self.line = path, problem, fix, line
        where = f"{path} line {line}" if line is not None else f"{path}"
        super().__init__(f"{where}: {problem}; {fix}")


class RequestStateError(WorkbenchError):
    """A request in the register is in the wrong state for the change asked (closed, or
    extended already).

    Attributes: `request_id`, `status` (its status now), `problem`, `fix`.
    """

    def __init__(self, request_id: str, status: str, problem: str, fix: str) -> None:
        self.request_id, self.status, self.problem, self.fix = request_id, status, problem, fix
        super().__init__(f"request {request_id} {problem}; {fix}")


class UsageError(WorkbenchError):
    """The caller asked for something the workbench cannot do as asked: an unknown name, a
    missing, contradictory or out-of-range argument, an engine the feature does not support.

    Attributes: `argument` (the parameter or option at fault, as the caller names it, e.g.
    "--users" or "engine"), `problem` (naming what was given), `fix`.
    """

    def __init__(self, argument: str, problem: str, fix: str) -> None:
        self.argument, self.problem, self.fix = argument, problem, fix
        super().__init__(f"{problem}; {fix}")


class UseNotAllowedError(WorkbenchError):
    """A column may not be used for what was asked: the terms it was collected under or the
    purposes recorded for it in the catalog forbid that use.

    Attributes: `table`, `column`, `use` (e.g. "advertising"), `problem` (the rule that
    forbids it), `fix`.
    """

    def __init__(self, table: str, column: str, use: str, problem: str, fix: str) -> None:
        self.table, self.column, self.use = table, column, use
        self.problem, self.fix = problem, fix
        super().__init__(f"{table}.{column} {problem}; {fix}")


class ExportDataError(WorkbenchError):
    """The export's data does not fit what the catalog or the policy says of it (a join key
    that is not unique, a column without the type an operator needs).

    Attributes: `table` (None where the caller does not know it), `column`, `problem` (no
    value of the data quoted), `fix`.
    """

    def __init__(self, table: str | None, column: str, problem: str, fix: str) -> None:
        self.table, self.column, self.problem, self.fix = table, column, problem, fix
        where = f"{table}.{column}" if table is not None else column
        super().__init__(f"{where} {problem}; {fix}")


class ChangeInterruptedError(WorkbenchError):
    """A change failed and is left for `recover`: `committed`, its files are (being) swapped
    in and recover finishes it (certificate, audit entry, records); not committed, the
    originals are unchanged but undoing the rest failed too, and recover rolls it back."""

    def __init__(self, label: str, cause: str, *, committed: bool = True) -> None:
        self.label, self.cause, self.committed = label, cause, committed
        if committed:
            what = (
                f"the change was committed but interrupted while it finished ({cause}); run"
                " the recover command (e.g. dsar erase recover --catalog ...) to finish it:"
                " certificate, audit entry and records"
            )
        else:
            what = (
                f"the change failed before it was committed ({cause}), and undoing it failed"
                " too: the original files are unchanged and nothing records it as done; run"
                " the recover command (e.g. dsar erase recover --catalog ...) to roll it back"
            )
        super().__init__(f"{label}: {what}")


class BudgetExceededError(WorkbenchError):
    """A differentially private run would spend more of its data set's privacy budget than is
    left (the release log counts every earlier run's queries; a repeated query is free).

    Attributes: `dataset` (the base table), `budget` (the ε allowed across runs), `spent` (ε
    spent by earlier runs), `needed` (ε this run's new queries would add), `runs` (the earlier
    runs that spent it, each as '#3 accounts-dp (2026-12-06): ε 1.0'), `fix`.
    """

    def __init__(
        self,
        dataset: str,
        budget: float,
        spent: float,
        needed: float,
        runs: Sequence[str],
        fix: str,
    ) -> None:
        self.dataset, self.budget, self.spent, self.needed = dataset, budget, spent, needed
        self.runs, self.fix = tuple(runs), fix
        by = "; ".join(self.runs) or "no earlier run"
        super().__init__(
            f"data set {dataset}: this run needs epsilon {needed} more, but {spent} of its"
            f" budget of {budget} is spent (by {by}); {fix}"
        )


class ReleaseConflictError(WorkbenchError):
    """A run cannot be checked against an earlier release of the same data set (it joins a
    table another way), so it would be published unchecked.

    Attributes: `dataset`, `release` (the earlier release, as '#3 accounts-fine (2026-12-06)'),
    `problem`, `fix`.
    """

    def __init__(self, dataset: str, release: str, problem: str, fix: str) -> None:
        self.dataset, self.release, self.problem, self.fix = dataset, release, problem, fix
        super().__init__(f"data set {dataset}, earlier release {release}: {problem}; {fix}")


class DiskFullError(WorkbenchError):
    """The disk filled up while the workbench wrote `path`."""

    def __init__(self, path: str | Path) -> None:
        self.path = path
        super().__init__(
            f"the disk is full while writing {path}: free some space and run again; nothing"
            " half-written was kept (a change under way was rolled back, or its recover"
            " command finishes it)"
        )


def is_disk_full(exc: BaseException) -> bool:
    """True for the ways a full disk shows: ENOSPC or EDQUOT, SQLite's "database or disk is
    full", DuckDB's "No space left on device"."""
    import errno

    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    text = str(exc)
    return "No space left on device" in text or "database or disk is full" in text
