"""Replace export files safely: new versions staged beside the old, with row accounting.

Erasure, correction and the retention sweep change export files in two steps: here,
`stage_rewrites` writes every new file beside its original (`.<file>.<label>.workbench-new`)
and checks the row accounting, changing nothing; then `dsar.rights.journal.commit` swaps
them in (each original kept as `<file>.before-<label>`) under a journal. `confirm_rewrite`
deletes the kept originals.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from dsar.catalog.models import Catalog
from dsar.engine.base import Engine, Params
from dsar.errors import ExportPathError, InternalError
from dsar.faults import point
from dsar.io import fsync_file, plain_name, sha256_file
from dsar.lock import export_lock

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
                new = staged_name(path, label)
                moves.append(
                    {
                        "target": str(path),
                        "new": str(new),
                        "backup": str(backup_name(path, label)),
                    }
                )
                point(f"stage {path.name}")
                engine.write_file(rw.table, path, new, rw.select, rw.params)
                shutil.copymode(path, new)  # the export's own permissions, not the umask's
                point(f"fsync {new.name}")
                fsync_file(new)
                before = engine.count_file_rows(rw.table, path)
                after = engine.count_file_rows(rw.table, new)
                removed_total += before - after
                files.append(
                    FileChange(
                        rw.table, path.name, before, after, sha256_file(path), sha256_file(new)
                    )
                )
                moves[-1]["written"] = stamp(new)  # checked again before the journal
            if removed_total != rw.removes:
                raise InternalError(
                    f"row accounting failed for {rw.table}: {removed_total} rows removed,"
                    f" {rw.removes} planned; nothing was changed"
                )
    except BaseException:
        Staged(label, tuple(moves), ()).discard()
        raise
    return Staged(label, tuple(moves), tuple(files))


def stamp(path: Path) -> str:
    """A file's size and modification time: changes when anything rewrites or replaces it."""
    stat = path.stat()
    return f"{stat.st_size}:{stat.st_mtime_ns}"


def staged_name(target: Path, label: str) -> Path:
    return target.with_name(f".{target.name}.{label}{NEW_SUFFIX}")


def backup_name(target: Path, label: str) -> Path:
    return target.with_name(f"{target.name}.before-{label}")


def table_files(catalog: Catalog) -> list[Path]:
    """Every file of every table of the catalog (what `recover` cleans beside)."""
    return [path.resolve() for name in catalog.tables for path in catalog.files(name)]


def confirm_rewrite(catalog: Catalog, label: str) -> list[Path]:
    """Delete the originals kept by an applied rewrite; returns the files removed."""
    plain_name(label, "request label")
    removed = []
    with export_lock(catalog.root, exclusive=True, holder=f"{label} (confirm)"):
        for name in catalog.tables:
            for path in catalog.files(name):
                backup = backup_name(path, label)
                if backup.exists():
                    backup.unlink()
                    removed.append(backup)
    return removed
