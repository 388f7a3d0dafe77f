"""Replace export files safely: new versions beside the old, row accounting, a journal.

Erasure, correction and the retention sweep change export files this way, in two steps:

1. `stage_rewrites` writes every new file beside its original (`.<file>.<label>.workbench-new`)
   and checks the row accounting. Nothing is changed yet; a failure removes what it wrote.
2. `commit` writes a journal listing every move (each new file into place, its original
   kept as `<file>.before-<label>`; the certificate from its temporary name to its final
   one) and the audit entry still to be written, then carries them out and removes the
   journal.

A crash before the journal leaves the old state (and `recover` removes any stray new file);
a crash after it is finished by `recover`: the moves, the certificate, the audit entry
(once). The catalog refuses to load while a journal is there. `confirm_rewrite` deletes
the kept originals.
"""

from __future__ import annotations

import json
import secrets
import shutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dsar.catalog.models import Catalog
from dsar.engine.base import Engine, Params
from dsar.errors import ExportPathError, InternalError, MissingKeyError, WorkbenchError
from dsar.io import atomic_write_text, fsync_file, plain_name, sha256_file
from dsar.records.audit import AuditLog

JOURNAL = ".workbench-erasure-journal.json"
NEW_SUFFIX = ".workbench-new"  # a staged file; never part of a table (hidden, and this suffix)


@dataclass(frozen=True)
class FileChange:
    """One file replaced by a rewrite: its rows and checksums before and after."""

    table: str
    file: str
    rows_before: int
    rows_after: int
    sha256_before: str
    sha256_after: str


@dataclass(frozen=True)
class Rewrite:
    """One table to rewrite: a SELECT over `{source}` (one file) and the rows it removes."""

    table: str
    select: str
    params: Params = field(repr=False)  # the person's identifiers and key material
    removes: int


@dataclass(frozen=True)
class Staged:
    """New files written beside the originals, checked, not yet in place."""

    label: str
    moves: tuple[dict[str, str], ...]  # target, new, backup
    files: tuple[FileChange, ...]

    def discard(self) -> None:
        """Remove the staged files (the change is abandoned)."""
        for move in self.moves:
            Path(move["new"]).unlink(missing_ok=True)


def stage_rewrites(
    catalog: Catalog,
    engine: Engine,
    label: str,
    rewrites: Sequence[Rewrite],
    progress: Callable[[str], None] | None = None,
) -> Staged:
    """Write each table's new files beside the old ones and check the row accounting.

    `progress`, when given, is told each file before it is written. On any failure the
    files written so far are removed and nothing has changed.
    """
    plain_name(label, "request label")  # it names the new files and the kept originals
    moves: list[dict[str, str]] = []
    files: list[FileChange] = []
    paths_of = {rw.table: catalog.files(rw.table) for rw in rewrites}
    total = sum(len(paths) for paths in paths_of.values())
    try:
        for rw in rewrites:
            removed_total = 0
            for path in paths_of[rw.table]:
                if progress is not None:
                    progress(f"writing a new {path.name} ({len(files) + 1} of {total} files)")
                path = path.resolve()  # the journal must not depend on the working folder
                if not path.is_relative_to(catalog.boundary):  # changed since files() checked
                    raise ExportPathError(
                        rw.table,
                        f"the file {path} is outside the export root {catalog.boundary}",
                        "keep the table's files inside the export root; nothing was changed",
                    )
                new = _staged_name(path, label)
                moves.append(
                    {
                        "target": str(path),
                        "new": str(new),
                        "backup": str(_backup_name(path, label)),
                    }
                )
                engine.write_file(rw.table, path, new, rw.select, rw.params)
                shutil.copymode(path, new)  # the export's own permissions, not the umask's
                fsync_file(new)
                before = engine.count_file_rows(rw.table, path)
                after = engine.count_file_rows(rw.table, new)
                removed_total += before - after
                files.append(
                    FileChange(
                        rw.table, path.name, before, after, sha256_file(path), sha256_file(new)
                    )
                )
                moves[-1]["written"] = _stamp(new)  # checked again before the journal
            if removed_total != rw.removes:
                raise InternalError(
                    f"row accounting failed for {rw.table}: {removed_total} rows removed,"
                    f" {rw.removes} planned; nothing was changed"
                )
    except BaseException:
        Staged(label, tuple(moves), ()).discard()
        raise
    return Staged(label, tuple(moves), tuple(files))


def _stamp(path: Path) -> str:
    """A file's size and modification time: changes when anything rewrites or replaces it."""
    stat = path.stat()
    return f"{stat.st_size}:{stat.st_mtime_ns}"


def _staged_name(target: Path, label: str) -> Path:
    return target.with_name(f".{target.name}.{label}{NEW_SUFFIX}")


def _backup_name(target: Path, label: str) -> Path:
    return target.with_name(f"{target.name}.before-{label}")


@dataclass(frozen=True)
class PendingAudit:
    """The audit entry a change still owes: written once, after the files are in place."""

    log: AuditLog
    action: str
    request: str | None
    subject: str | None
    tables: Mapping[str, int]
    details: Mapping[str, Any]


def commit(
    root: Path,
    staged: Staged,
    artifacts: Sequence[tuple[Path, Path]] = (),
    audit: PendingAudit | None = None,
) -> None:
    """Put the staged files and the artifacts (temporary path, final path) in place.

    The journal is written first, so from then on the change is finished by `recover`
    whatever happens; then the moves; then the audit entry, once. Every staged file and
    artifact must be there, with the checksum it was staged with, before the journal is
    written: a change is never recorded (certificate, audit entry) without its files.

    Raises:
        InternalError: a staged file or an artifact is missing or changed.
    """
    for move, change in zip(staged.moves, staged.files, strict=True):
        new = Path(move["new"])
        # size and modification time, not the checksum again: reading every new file a
        # second time would double the apply's reading for a check this cheap one makes
        if not new.is_file() or _stamp(new) != move["written"]:
            raise InternalError(
                f"the new version of {change.file} is missing or changed since it was"
                " written; nothing was changed"
            )
    if not all(tmp.is_file() for tmp, _ in artifacts):
        raise InternalError("the certificate is missing since it was written; nothing was changed")
    journal = {
        "label": staged.label,
        "moves": list(staged.moves),
        "artifacts": [
            {"new": str(tmp.resolve()), "target": str(final.resolve())} for tmp, final in artifacts
        ],
        "audit": _audit_json(audit),
    }
    atomic_write_text(root / JOURNAL, json.dumps(journal, indent=1))
    _finish(root, journal, audit.log if audit is not None else None)


def _audit_json(audit: PendingAudit | None) -> dict[str, Any] | None:
    if audit is None:
        return None
    return {
        "log": str(audit.log.path.resolve()),
        "action": audit.action,
        "request": audit.request,
        "subject": audit.subject,
        "tables": dict(audit.tables),
        # an id for this change, so `recover` never writes its entry twice
        "details": {**audit.details, "change_id": secrets.token_hex(8)},
    }


def _finish(root: Path, journal: dict[str, Any], log: AuditLog | None) -> None:
    """Carry out a journal's moves and audit entry; re-runnable at any point.

    `log` is the audit log the entry goes to (None: open the one the journal names, which
    needs the key, so `recover` is given it).
    """
    _swap(journal["moves"])
    for move in journal.get("artifacts", []):
        new, target = Path(move["new"]), Path(move["target"])
        if new.exists():
            new.replace(target)
        elif not target.exists():
            raise InternalError(f"the certificate {target.name} is neither staged nor in place")
    pending = journal.get("audit")
    if pending is not None:
        if log is None:
            raise MissingKeyError(
                "the interrupted change's files are in place, but its audit entry needs the"
                " secret key: run the recover command again with WORKBENCH_KEY set or"
                " --key-file"
            )
        _append_once(pending, log)
    (root / JOURNAL).unlink()


def _append_once(pending: dict[str, Any], log: AuditLog) -> None:
    change_id = pending["details"]["change_id"]
    if any(e.details.get("change_id") == change_id for e in log.entries()):
        return
    log.append(
        pending["action"],
        request=pending["request"],
        subject=pending["subject"],
        tables=pending["tables"],
        details=pending["details"],
    )


def _swap(moves: Sequence[Mapping[str, str]]) -> None:
    """Move each new file into place, keeping the original as a backup. Re-runnable."""
    for move in moves:
        target, new, backup = Path(move["target"]), Path(move["new"]), Path(move["backup"])
        if not new.exists():
            if target.exists() and backup.exists():
                continue  # swapped already
            raise InternalError(
                f"{target.name}: neither its new version nor its kept original is there;"
                " restore the file from a backup before recovering"
            )
        if target.exists() and not backup.exists():
            target.replace(backup)
        new.replace(target)


def _check_journal(journal: Mapping[str, Any], path: Path, boundary: Path) -> None:
    """A journal moves only the workbench's own files: staged versions onto their targets
    inside the export root (`boundary`), originals to their backups, certificates from their
    temporary names. Anything else (a journal written by someone else, say, to replace a
    file outside the export) is refused before a single file moves."""
    label = str(journal.get("label", ""))
    try:
        plain_name(label, "journal label")
    except WorkbenchError:
        raise WorkbenchError(f"{path}: not a journal this workbench wrote; nothing moved") from None
    for move in journal.get("moves", []):
        target = Path(move["target"])
        if (
            not target.is_absolute()
            or Path(move["new"]) != _staged_name(target, label)
            or Path(move["backup"]) != _backup_name(target, label)
        ):
            raise WorkbenchError(f"{path}: a move it lists is not one the workbench makes")
        if not target.parent.resolve().is_relative_to(boundary.resolve()):
            raise WorkbenchError(
                f"{path}: a move it lists replaces {target}, outside the export root"
                f" {boundary.resolve()}; nothing moved"
            )
    for move in journal.get("artifacts", []):
        target, new = Path(move["target"]), Path(move["new"])
        if (
            not target.name.startswith(f"{label}-")
            or "-certificate" not in target.name
            or new.parent != target.parent
            or not new.name.startswith(f".{target.name}.")
            or not new.name.endswith(".workbench-tmp")
        ):
            raise WorkbenchError(f"{path}: an artifact it lists is not a certificate")


def recover(
    root: str | Path,
    key: bytes | None = None,
    files: Sequence[Path] | None = None,
    boundary: Path | None = None,
) -> bool:
    """Finish a change that a crash interrupted after its journal was written.

    `root` is the catalog's folder (the catalog may not load while files are half swapped).
    Without a journal, the staged versions a crash left beside `files` (the catalog's
    table files) are removed. True when there was something to finish or clean.
    `boundary` is the export root (`Catalog.boundary`; default `root`): a journal that
    moves a file outside it is refused.

    Raises:
        MissingKeyError: the files are in place but the change's audit entry needs `key`.
        WorkbenchError: the journal lists a move the workbench does not make.
    """
    path = Path(root) / JOURNAL
    if path.is_file():
        journal = json.loads(path.read_text(encoding="utf-8"))
        _check_journal(journal, path, Path(root) if boundary is None else boundary)
        pending = journal.get("audit")
        log = AuditLog(pending["log"], key) if pending is not None and key is not None else None
        _finish(Path(root), journal, log)
        return True
    stray = [
        p
        for f in files or ()
        for p in f.parent.glob(f".{f.name}.*{NEW_SUFFIX}")
        if p.is_file() and _plain_label(p.name[len(f.name) + 2 : -len(NEW_SUFFIX)])
    ]
    for leftover in stray:
        leftover.unlink()
    return bool(stray)


def _plain_label(text: str) -> bool:
    try:
        plain_name(text)
    except WorkbenchError:
        return False
    return True


def table_files(catalog: Catalog) -> list[Path]:
    """Every file of every table of the catalog (what `recover` cleans beside)."""
    return [path.resolve() for name in catalog.tables for path in catalog.files(name)]


def confirm_rewrite(catalog: Catalog, label: str) -> list[Path]:
    """Delete the originals kept by an applied rewrite; returns the files removed."""
    plain_name(label, "request label")
    removed = []
    for name in catalog.tables:
        for path in catalog.files(name):
            backup = path.with_name(f"{path.name}.before-{label}")
            if backup.exists():
                backup.unlink()
                removed.append(backup)
    return removed
