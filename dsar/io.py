"""File helpers every artifact writer uses: atomic writes, checksums, JSON-ready rows."""

from __future__ import annotations

import fcntl
import hashlib
import itertools
import os
import re
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from dsar.errors import DiskFullError, UnsafeNameError, is_disk_full
from dsar.faults import point

MAX_NAME = 100
_PLAIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def plain_name(text: str, what: str = "name") -> str:
    """`text` when it is a plain file name, else `UnsafeNameError`.

    Every output path the workbench derives from user input (request labels and ids, batch
    request ids, table names) goes through here, so no input can write outside the folder
    it was given: letters, digits, `.`, `_` and `-` only, starting with a letter or digit,
    no `..`, at most 100 characters.

    Examples:
        >>> plain_name("AR-20261129-4f2a9c")
        'AR-20261129-4f2a9c'
    """
    if len(text) > MAX_NAME or not _PLAIN.fullmatch(text) or ".." in text:
        raise UnsafeNameError(what, text, MAX_NAME)
    return text


def output_path(folder: str | Path, name: str, what: str = "name", suffix: str = "") -> Path:
    """`folder/<name><suffix>`, with `name` checked by `plain_name`."""
    return Path(folder) / f"{plain_name(name, what)}{suffix}"


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fsync_file(path: Path) -> None:
    """Flush a written file to disk."""
    with path.open("rb") as handle:
        os.fsync(handle.fileno())


def private_dir(folder: Path) -> Path:
    """Create `folder` (and its parents) owner-only (0700) where missing; returns it.

    A folder that exists already keeps its permissions: the workbench does not change
    folders it did not make (the working folder, say).
    """
    missing = []
    for parent in [folder, *folder.parents]:
        if parent.exists():
            break
        missing.append(parent)
    for parent in reversed(missing):
        try:
            parent.mkdir(mode=0o700)
        except FileExistsError:
            continue
        parent.chmod(0o700)  # whatever the umask
    return folder


def private_file(path: Path) -> Path:
    """Make sure the record at `path` exists owner-only (0600), in a folder made 0700.

    A record or key file is created 0600 whatever the umask; one written earlier with wider
    permissions is narrowed when it is the user's own.
    """
    private_dir(path.parent)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        if os.fstat(fd).st_uid == os.geteuid() and os.fstat(fd).st_mode & 0o077:
            os.fchmod(fd, 0o600)
    finally:
        os.close(fd)
    return path


def tmp_name(path: Path) -> Path:
    """The one temporary name a record's writer uses beside `path` (`.<name>.workbench-tmp`),
    so a run killed while writing leaves a file the next run removes by its exact name."""
    return path.with_name(f".{path.name}.workbench-tmp")


def atomic_write_bytes(path: Path, data: bytes, *, fixed_tmp: bool = False) -> None:
    """Write beside the target, fsync, rename: a crash leaves the old file or the new one.

    The new file is owner-only (0600). With `fixed_tmp` (a writer that holds a lock on the
    target: the audit head, the change journal) the temporary file has one name,
    `tmp_name(path)`, which the next write or `recover` removes; otherwise a random one.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    if fixed_tmp:
        tmp = str(tmp_name(path))
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
    else:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            point(f"fsync {path.name}")
            os.fsync(handle.fileno())
        point(f"rename {path.name}")
        Path(tmp).replace(path)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if is_disk_full(exc):
            raise DiskFullError(path) from exc
        raise


def atomic_write_text(path: Path, text: str, *, fixed_tmp: bool = False) -> None:
    """`atomic_write_bytes` for UTF-8 text."""
    atomic_write_bytes(path, text.encode("utf-8"), fixed_tmp=fixed_tmp)


@contextmanager
def partial_folder(out: Path, name: str) -> Iterator[Path]:
    """A new owner-only `out/.<name>.partial-<8 hex>` folder to write an artifact into.

    Partial folders that earlier runs left in `out` (killed, say: rows before suppression
    may lie in them), of any name, are removed first, unless their run is still going (each
    run holds a lock on `.<name>.partial-<hex>.held` beside its folder). The caller renames
    what it made out of the folder; whatever is still in it at the end goes with it, on an
    error as on success.
    """
    out.mkdir(parents=True, exist_ok=True)
    remove_partials(out)
    work, held, fd = _held_name(out, name)
    try:
        work.mkdir(mode=0o700)
        try:
            yield work
        except BaseException as exc:
            if not _vouched(work):
                shutil.rmtree(work, ignore_errors=True)
            if is_disk_full(exc):
                raise DiskFullError(out / name) from exc
            raise
        if not _vouched(work):
            shutil.rmtree(work, ignore_errors=True)  # what was not renamed out of it
    finally:
        held.unlink(missing_ok=True)
        os.close(fd)


_VOUCHED = ".vouched"


def vouch_for(work: Path) -> Path:
    """Mark the partial folder `work` as one a record already vouches for (a breach
    registered from its scope.json): no sweep removes it, as the record would then name a
    folder that is gone (the breach's documentation, Art. 33(5)); the run that finds it says
    how to finish it (`vouched_partials`). Returns the mark, beside the folder (never in
    it), for the caller to remove once the folder is renamed."""
    mark = work.with_name(work.name + _VOUCHED)
    for target, flags in ((mark, os.O_WRONLY | os.O_CREAT), (work.parent, os.O_RDONLY)):
        fd = os.open(target, flags | os.O_CLOEXEC, 0o600)  # the mark, then its folder's entry
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    return mark


def unvouch(work: Path) -> None:
    """Take `vouch_for`'s mark off `work`: the next sweep removes the folder."""
    work.with_name(work.name + _VOUCHED).unlink(missing_ok=True)


def _vouched(work: Path) -> bool:
    return work.with_name(work.name + _VOUCHED).exists()


def vouched_partials(out: Path, name: str) -> list[Path]:
    """The `.<name>.partial-*` folders in `out` a record vouches for (`vouch_for`): a run
    killed after recording and before renaming left them complete."""
    shape = re.compile(rf"\.{re.escape(name)}\.partial-[0-9a-f]{{8}}")
    return sorted(
        e
        for e in (out.iterdir() if out.is_dir() else ())
        if shape.fullmatch(e.name) and _vouched(e)
    )


def _held_name(out: Path, name: str) -> tuple[Path, Path, int]:
    """A fresh partial folder's name, and its lock file created and locked. Another run's
    sweep may remove a lock file in the instant before it is locked (it looks like one whose
    run was killed): then it is made again under a new name."""
    while True:
        token = secrets.token_hex(4)
        held = out / f".{name}.partial-{token}.held"
        fd = os.open(held, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            if held.lstat().st_ino == os.fstat(fd).st_ino:
                return out / f".{name}.partial-{token}", held, fd
        except FileNotFoundError:
            pass
        os.close(fd)


def set_aside(folder: Path, out: Path, name: str, what: str = "name") -> Path:
    """Rename an artifact folder that failed its check to `out/<name>.REJECTED` (then
    `-2`, `-3`...): kept for the owner to see why, never under its name."""
    for n in itertools.count(1):
        suffix = ".REJECTED" if n == 1 else f".REJECTED-{n}"
        target = output_path(out, name, what, suffix)
        if not target.exists() and not target.is_symlink():
            folder.rename(target)
            return target
    raise AssertionError("itertools.count ended")  # pragma: no cover


def remove_partials(out: Path, name: str | None = None) -> int:
    """Remove the `.<name>.partial-*` folders (of any name by default) no live run holds;
    returns how many."""
    names = re.escape(name) if name is not None else r"[A-Za-z0-9][A-Za-z0-9._-]*"
    shape = re.compile(rf"\.{names}\.partial-[0-9a-f]{{8}}(\.held|\.vouched)?")
    removed = 0
    for entry in sorted(out.iterdir()) if out.is_dir() else ():
        if not shape.fullmatch(entry.name) or entry.is_symlink():
            continue
        if entry.name.endswith(_VOUCHED):
            # a mark whose folder was renamed (a run killed before removing the mark)
            if not entry.with_name(entry.name.removesuffix(_VOUCHED)).exists():
                entry.unlink(missing_ok=True)
            continue
        if _vouched(entry):
            continue  # a record vouches for it: never removed (`vouch_for`)
        if entry.name.endswith(".held"):
            # a lock whose folder is gone (a run killed between the two): removed when free
            if not entry.with_name(entry.name.removesuffix(".held")).exists():
                _remove_free_lock(entry)
            continue
        held = entry.with_name(entry.name + ".held")
        try:
            fd = os.open(held, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            fd = None
        try:
            if fd is not None:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except OSError:
                    continue  # a run still writing it
            shutil.rmtree(entry, ignore_errors=True)
            held.unlink(missing_ok=True)
            removed += 1
        finally:
            if fd is not None:
                os.close(fd)
    return removed


def _remove_free_lock(held: Path) -> None:
    """Remove the lock file `held` unless a live run holds it."""
    try:
        fd = os.open(held, os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW)
    except OSError:
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        held.unlink(missing_ok=True)
    except OSError:
        pass  # a run still holds it
    finally:
        os.close(fd)


def jsonable_rows(table: pa.Table) -> list[dict[str, object]]:
    """Rows as dicts, timestamps as ISO 8601 strings (UTC), ready for `json.dumps`."""
    columns = {}
    for name in table.column_names:
        col = table.column(name)
        if pa.types.is_timestamp(col.type):
            col = pc.strftime(col, format="%Y-%m-%dT%H:%M:%SZ")
        elif pa.types.is_date(col.type) or pa.types.is_decimal(col.type):
            col = pc.cast(col, pa.string())
        columns[name] = col
    rows: list[dict[str, object]] = pa.table(columns).to_pylist()
    return rows
