"""Replace export files safely: new versions beside the old, row accounting, a journal.

Erasure and the retention sweep both change export files this way. Every new file is
written and counted first; then a journal listing the swaps is written atomically; then the
swaps happen, each original kept as `<file>.before-<label>`. A crash before the journal
leaves the old files untouched; a crash after it is finished by `recover` (the catalog
refuses to load until then). `confirm_rewrite` deletes the kept originals.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from dsar.catalog.models import Catalog
from dsar.engine.base import Engine, Params
from dsar.errors import InternalError
from dsar.io import atomic_write_text, fsync_file, plain_name, sha256_file

JOURNAL = ".workbench-erasure-journal.json"


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


def rewrite_tables(
    catalog: Catalog,
    engine: Engine,
    label: str,
    rewrites: list[Rewrite],
    progress: Callable[[str], None] | None = None,
) -> tuple[FileChange, ...]:
    """Rewrite each table's files as one all-or-nothing change; returns the files replaced.

    `progress`, when given, is told each file before it is written.
    """
    plain_name(label, "request label")  # it names the new files and the kept originals
    journal: list[dict[str, str]] = []
    files: list[FileChange] = []
    paths_of = {rw.table: catalog.files(rw.table) for rw in rewrites}
    total = sum(len(paths) for paths in paths_of.values())
    try:
        for rw in rewrites:
            removed_total = 0
            for path in paths_of[rw.table]:
                if progress is not None:
                    progress(f"writing a new {path.name} ({len(files) + 1} of {total} files)")
                new = path.with_name(f".{path.name}.{label}.new")
                engine.write_file(rw.table, path, new, rw.select, rw.params)
                fsync_file(new)
                before = engine.count_file_rows(rw.table, path)
                after = engine.count_file_rows(rw.table, new)
                removed_total += before - after
                journal.append(
                    {
                        "target": str(path),
                        "new": str(new),
                        "backup": str(path.with_name(f"{path.name}.before-{label}")),
                    }
                )
                files.append(
                    FileChange(
                        rw.table, path.name, before, after, sha256_file(path), sha256_file(new)
                    )
                )
            if removed_total != rw.removes:
                raise InternalError(
                    f"row accounting failed for {rw.table}: {removed_total} rows removed,"
                    f" {rw.removes} planned; nothing was changed"
                )
    except BaseException:
        for entry in journal:
            Path(entry["new"]).unlink(missing_ok=True)
        raise
    if journal:
        atomic_write_text(catalog.root / JOURNAL, json.dumps(journal, indent=1))
        _swap(journal)
        (catalog.root / JOURNAL).unlink()
    return tuple(files)


def _swap(journal: list[dict[str, str]]) -> None:
    """Move each new file into place, keeping the original as a backup. Re-runnable."""
    for entry in journal:
        target, new, backup = Path(entry["target"]), Path(entry["new"]), Path(entry["backup"])
        if not new.exists():
            continue  # swapped already
        if target.exists() and not backup.exists():
            target.replace(backup)
        new.replace(target)


def recover(root: str | Path) -> bool:
    """Finish a rewrite that a crash interrupted after its journal was written.

    `root` is the catalog's folder (the catalog may not load while files are half swapped).
    True when there was something to finish.
    """
    path = Path(root) / JOURNAL
    if not path.is_file():
        return False
    _swap(json.loads(path.read_text(encoding="utf-8")))
    path.unlink()
    return True


def confirm_rewrite(catalog: Catalog, label: str) -> list[Path]:
    """Delete the originals kept by an applied rewrite; returns the files removed."""
    removed = []
    for name in catalog.tables:
        for path in catalog.files(name):
            backup = path.with_name(f"{path.name}.before-{label}")
            if backup.exists():
                backup.unlink()
                removed.append(backup)
    return removed
