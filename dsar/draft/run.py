"""Draft a data map from an export folder: scan, profile, classify, link, decide."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from dsar.catalog.models import Catalog, ColumnType, IdentityKind, PersonalKind
from dsar.draft.confidence import assess
from dsar.draft.counts import Check, Share, count_tables, share
from dsar.draft.keys import decide, plan_counts
from dsar.draft.model import ColumnDraft, Confidence, Draft, TableDraft
from dsar.draft.people import (
    assign_key_kinds,
    company_mailboxes,
    contact_of,
    find_ownership,
    find_people,
    identity_by_link,
    mark_reference,
    one_person_per_row,
    propose_retention,
)
from dsar.draft.profile import TableProfile, profile_table, provisional_catalog, register
from dsar.draft.scan import FoundTable, NotRead, scan_export
from dsar.draft.shapes import Finding, TextEvidence, TextReading, classify
from dsar.errors import UsageError, WorkbenchError

if TYPE_CHECKING:
    from dsar.engine.base import Engine
    from dsar.text.engine import TextEngine

DEFAULT_SAMPLE = 2000
"""Rows per table whose values are classified (keys and links are checked on every row)."""

Progress = Callable[[str], None]


def draft(
    export: str | Path,
    *,
    sample: int = DEFAULT_SAMPLE,
    progress: Progress | None = None,
    text_engine: TextEngine | None = None,
    memory_limit: str | None = "2GB",
) -> Draft:
    """Read every table of an export folder and decide what the data map can say from it.

    Args:
        export: the folder of CSV, Parquet, JSON and JSON Lines files.
        sample: rows per table (a reservoir sample) whose values are classified.
        progress: called with one line per step (table names and counts only).
        text_engine: a `TextEngine` (default: one with the installed model, if any).
        memory_limit: DuckDB's bound; beyond it the engine spills to disk.
    """
    from dsar.engine import open_engine

    root = Path(export)
    if not root.is_dir():
        raise UsageError("export", f"{root} is not a folder", "give the export's folder")
    if sample < 10:
        raise UsageError("--sample", f"a sample of {sample} rows is too small", "give 10 or more")
    say: Progress = progress or (lambda _line: None)
    with open_engine(memory_limit=memory_limit) as engine:
        scan = scan_export(root, engine, say)
        not_read = list(scan.not_read)
        if not scan.tables and not not_read:
            raise UsageError(
                "export",
                f"no CSV, Parquet, JSON or JSON Lines table found in {root}",
                "give the folder that holds the exported files",
            )
        if not scan.tables:  # every table not read: they are listed, nothing else to draft
            say(f"drafted 0 tables; {len(not_read)} not read")
            return Draft({}, (), scan.skipped, sample, tuple(not_read))
        catalog = provisional_catalog(root, scan.tables)
        engine.hold_export(catalog)
        # The engine's work (DuckDB, off the GIL) runs in a thread while the text engine
        # reads the samples (Python): a table is sampled while the one before is read, and
        # every row is counted while the last are. The count covers every column the
        # shapes leave linkable, a few more than the final verdict keeps.
        text = text_engine or _text_engine()
        reading = TextReading()
        profiles: list[TableProfile] = []
        pool = ThreadPoolExecutor(1)
        try:
            sampling = [pool.submit(_sampled, engine, catalog, f, sample) for f in scan.tables]
            for i, (found, future) in enumerate(zip(scan.tables, sampling, strict=True), 1):
                try:
                    prof = future.result()
                except Exception as exc:
                    failed: tuple[type[BaseException], ...] = (
                        WorkbenchError,
                        *engine.backend_errors,
                    )
                    if not isinstance(exc, failed):
                        raise
                    why = _unread_reason(found, exc)
                    not_read.append(NotRead(found.name, found.path, found.format, why))
                    say(f"not read {found.name} ({i}/{len(scan.tables)}): {why}")
                    continue
                say(
                    f"profiled {prof.name} ({i}/{len(scan.tables)}): {len(prof.columns)}"
                    f" columns, {prof.sample.num_rows:,} rows sampled"
                )
                profiles.append(prof)
                reading.add(prof)
                reading.read(text)
            sampled = {p.name: p for p in profiles}
            plan = plan_counts(
                sampled, lambda t, c: _linkable(_shaped_draft(c, reading.shaped(t, c)))
            )
            shares = _shares(sampled, plan.checks, reading)
            say("counting every row: keys and links")
            counting = pool.submit(
                count_tables, engine, sampled, plan.candidates, plan.checks, shares
            )
            say("reading sampled text with the text engine")
            evidence = reading.evidence(text)
            counted = counting.result()
        finally:
            pool.shutdown(cancel_futures=True)
        tables = {p.name: _classified(p, evidence.table(p.name)) for p in profiles}
        company_mailboxes(tables)  # a company's support@ is no person's identity
        links = decide(tables, plan, counted, lambda t, c: _linkable(tables[t].columns[c]), say)
        roots = find_people(engine, tables, links, counted.shared)
        assign_key_kinds(roots, links)
        identity_by_link(tables, links, roots)
        one_person_per_row(tables, links)
        find_ownership(tables, links)
        located(tables)
        mark_reference(tables)
        for table in tables.values():
            if table.personal:
                propose_retention(table)
                if table.retention_after is None:
                    epoch_note(table)
    result = Draft(tables, tuple(links), scan.skipped, sample, tuple(not_read))
    assess(result)  # every decision's confidence
    say(f"drafted {len(tables)} tables, {len(links)} links")
    return result


def _shares(
    profiles: dict[str, TableProfile], checks: Sequence[Check], reading: TextReading
) -> list[Share]:
    """The contacts to look up while counting: for each link checked between two tables that
    each have a contact by their values' shapes (an email or phone one per row), the child's
    sampled contacts in the parent's (do they share their people? `find_people`)."""

    def shaped(table: str) -> Callable[[str], IdentityKind | None]:
        return lambda column: _shaped_draft(column, reading.shaped(table, column)).identity

    contacts = {name: contact_of(prof, shaped(name)) for name, prof in profiles.items()}
    out = []
    for check in checks:
        mine, theirs = contacts[check.child], contacts[check.parent]
        if check.child != check.parent and mine is not None and theirs is not None:
            out.append(share(check.parent, theirs, profiles[check.child].values(mine)))
    return out


def _sampled(engine: Engine, catalog: Catalog, found: FoundTable, sample: int) -> TableProfile:
    register(engine, catalog, found.name)
    return profile_table(engine, found, sample)


_SAFE_REASONS = ("the file is empty", "the file holds only blank lines", "the file is UTF-16")


def _unread_reason(found: FoundTable, exc: BaseException) -> str:
    """Why a table could not be read, without the backend's text (it may quote a value):
    the engine's own reason where it names no value, the file by its position."""
    from dsar.errors import ExportReadError

    if isinstance(exc, ExportReadError):
        where = ""
        if exc.files and len(found.files) > 1:
            paths = [str(f) for f in found.files]
            if exc.files[0] in paths:
                where = f"file {paths.index(exc.files[0]) + 1} of {len(paths)} (in name order): "
        if exc.reason.startswith(_SAFE_REASONS):
            return f"{where}{exc.reason}"
        return f"{where}the engine cannot read it as the table's files are described"
    return (
        "the engine cannot read it as a table (its error is not shown: it may quote a value);"
        " check the file's format, or read it with `dsar catalog check` once described"
    )


def _text_engine() -> TextEngine:
    from dsar.text.engine import TextEngine

    return TextEngine()


def _classified(profile: TableProfile, evidence: TextEvidence) -> TableDraft:
    columns = {}
    for name, col in profile.columns.items():
        found = classify(profile, col, evidence)
        draft = ColumnDraft(name, col.kind)
        if found is not None and found.identity is IdentityKind.PHONE:
            draft.kind = ColumnType.STRING  # phones as whole numbers: read as text
        if found is not None:
            draft.identity, draft.personal = found.identity, found.personal
            draft.secret, draft.free_text = found.secret, found.free_text
            draft.maybe = found.maybe
            draft.notes.append(found.evidence)
            if found.sensitive is not None:
                draft.sensitive = found.sensitive
                draft.confidence["sensitive"] = Confidence(
                    0.5,
                    f"{found.sensitive}, by its name and values; the catalog has no kind for"
                    " it: a person decides how it is held",
                )
        columns[name] = draft
    return TableDraft(profile, columns)


def located(tables: dict[str, TableDraft]) -> None:
    """Coordinates left unmarked for want of a person among the table's values are a
    person's where the table has one by a link (an identity by link, or owned through a
    parent): a check-in's latitude beside its user_id is where that person was."""
    for table in tables.values():
        if not (table.identity_columns() or table.owned_through):
            continue
        for col in table.columns.values():
            if col.maybe is PersonalKind.LOCATION and col.personal is None:
                col.personal, col.maybe = PersonalKind.LOCATION, None
                col.notes.append(
                    "marked personal location after all: the table's rows are a person's"
                    " (an identity or owned_through found by a link), so the place is theirs"
                )


_EPOCH_NAME = re.compile(
    r"(?i)creat|updat|modif|changed|timestamp|time|date|(^|_)ts($|_)|_at$|[a-z]At$|epoch"
    r"|(^|_)(since|seen|login|last)(_|$)"
)
EPOCH_LOW = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)  # the earliest plausible record's time
EPOCH_NOTE = "epoch time:"


def epoch_columns(table: TableDraft) -> list[tuple[str, str]]:
    """Whole-number columns named as a time (created, updated_at, timestamp, ts) whose every
    value lies between 2000 and a year from now read as Unix epoch seconds or
    milliseconds (Stripe's `created`): (column, unit)."""
    now = dt.datetime.now(dt.UTC).timestamp() + 366 * 86400
    low = EPOCH_LOW.timestamp()
    out = []
    for name, prof in table.profile.columns.items():
        if prof.kind is not ColumnType.INTEGER or prof.low is None or prof.high is None:
            continue
        if not _EPOCH_NAME.search(name) or table.columns[name].has_role:
            continue
        for unit, scale in (("seconds", 1), ("milliseconds", 1000)):
            if low * scale <= prof.low and prof.high <= now * scale:
                out.append((name, unit))
                break
    return out


def epoch_note(table: TableDraft) -> None:
    """Say, where a personal table has no date column but a time kept as epoch integers,
    that the catalog cannot count a retention period from it (`retention.after` must be a
    date, timestamp or text column; `dsar catalog check` refuses an integer one)."""
    found = epoch_columns(table)
    if not found:
        return
    said = ", ".join(f"{c} (Unix epoch {unit})" for c, unit in found)
    table.notes.append(
        f"{EPOCH_NOTE} {said}: a time the rows began, kept as whole numbers; the catalog"
        " counts a retention period only from a date or timestamp column (retention.after"
        " on an integer column is refused), so none is proposed: re-export it as a timestamp"
        " (e.g. ISO 8601 text, which the engine reads as one) to count from it, or state"
        " the criteria in words"
    )


def _shaped_draft(name: str, found: Finding | None) -> ColumnDraft:
    """A column's draft as far as its values' shapes tell (before the text engine)."""
    draft = ColumnDraft(name, None)
    if found is not None:
        draft.identity, draft.personal, draft.secret = found.identity, found.personal, found.secret
    return draft


def _linkable(column: ColumnDraft) -> bool:
    """Columns that may hold another table's key: no contact, secret, text or personal
    value (an identifier found by its name and shape, a device id, may)."""
    if column.secret or column.free_text or column.personal is not None:
        return False
    return column.identity not in (IdentityKind.EMAIL, IdentityKind.PHONE)


def draft_catalog(
    export: str | Path,
    out: str | Path,
    *,
    sample: int = DEFAULT_SAMPLE,
    progress: Progress | None = None,
    text_engine: TextEngine | None = None,
    force: bool = False,
) -> Draft:
    """Draft the data map of an export folder and write it to `out` (atomically).

    An existing `out` is replaced only with `force`, or where it is a draft of the same
    export that no one has filled in yet (its controller and every description still TODO):
    a catalog a person has worked on is never overwritten unasked.

    Examples:
        >>> d = draft_catalog("demo-export", "draft.yml", sample=1000)  # doctest: +SKIP
        >>> sorted(t for t, table in d.tables.items() if not table.personal)  # doctest: +SKIP
        []
    """
    import os

    from dsar.draft.write import render
    from dsar.io import atomic_write_text

    target = Path(out)
    if not force:
        refuse_overwrite(target, Path(export))
    result = draft(export, sample=sample, progress=progress, text_engine=text_engine)
    prefix = Path(os.path.relpath(Path(export).resolve(), target.parent.resolve())).as_posix()
    atomic_write_text(target, render(result, str(export), prefix))
    return result


_DRAFTED = "# Drafted by `dsar catalog draft` from "


def refuse_overwrite(target: Path, export: Path) -> None:
    """Raise `UsageError` where `target` exists and is not an unfilled draft of `export`."""
    import yaml

    if not target.exists():
        return
    why = "it is not a draft"
    try:
        text = target.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        text = ""
    first = text.split("\n", 1)[0]
    if first.startswith(_DRAFTED):
        source = first[len(_DRAFTED) :].rsplit(" on ", 1)[0]
        if Path(source).resolve() != export.resolve():
            why = "it is a draft of another export folder"
        else:
            try:
                data = yaml.safe_load(text)
            except yaml.YAMLError:
                data = None
            if _unfilled(data):
                return
            why = "a person has filled in part of it"
    raise UsageError(
        "--out",
        f"{target} exists and {why}: drafting would overwrite it",
        "give another --out (then compare the two), or add --force to replace it",
    )


def _unfilled(data: object) -> bool:
    """Whether a drafted catalog's controller and every table's description are still TODO."""
    from dsar.catalog.todo import TODO

    if not isinstance(data, dict) or not isinstance(data.get("tables"), dict):
        return False
    controller = data.get("controller")
    if not isinstance(controller, dict) or controller.get("name") != TODO:
        return False
    return all(
        isinstance(t, dict) and t.get("description") == TODO for t in data["tables"].values()
    )
