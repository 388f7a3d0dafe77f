"""One change at a time per export: an exclusive lock for changes, a shared one for readers.

Every change to an export (erasure, correction and retention apply, confirm, recover,
replay, an identity index build) holds an exclusive `flock` on `<export>/.workbench.lock`
from its first read to its last write; every reader (access, extracts, aggregates,
audiences) holds a shared one, so it never reads a half-swapped export and a change never
starts under a reader. A second change is refused with who holds the export and since
when, or waits (`wait=True`, `--wait`).

    with export_lock(catalog.root, exclusive=True, holder="ER-2026-0007"):
        ...  # plan, stage, swap

The lock is taken again freely inside the same process (an apply inside a replay).
What it cannot cover: `flock` is advisory and local. Two machines changing the same export
on a network file system (NFS, SMB) may both get it; a tool that does not take the lock
(a spreadsheet, `cp`) is not stopped. Run changes from one machine.
"""

from __future__ import annotations

import errno
import fcntl
import json
import logging
import os
import stat
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import NoReturn

from dsar.errors import ExportBusyError, UnusableFileError

log = logging.getLogger(__name__)

LOCK_NAME = ".workbench.lock"
_POLL = 0.1  # seconds between tries while waiting


@dataclass
class _Held:
    fd: int
    exclusive: bool
    depth: int
    pid: int  # a forked child does not hold its parent's lock: it takes its own


_held: dict[Path, _Held] = {}
_guard = threading.Lock()


def lock_path(root: str | Path) -> Path:
    """The lock file of the export whose catalog sits in `root`."""
    return Path(root).resolve() / LOCK_NAME


_FLAGS = os.O_CLOEXEC | os.O_NOFOLLOW | os.O_NONBLOCK  # never through a link, nor a FIFO


def _open(path: Path, exclusive: bool) -> int | None:
    """The lock file's descriptor; None where a reader may not create it (read-only export).

    Raises:
        UnusableFileError: the lock file is a link, a folder or anything but a plain file (it is
            never followed: a link planted there would have the lock write elsewhere).
    """
    fd = None
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | _FLAGS, 0o644)
    except PermissionError:
        pass
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.EISDIR, errno.ENXIO):
            _not_a_lock(path)
        if exc.errno != errno.EROFS:
            raise
    if fd is None:
        try:  # another user's lock file, or a read-only folder: a lock on a read-only handle
            fd = os.open(path, os.O_RDONLY | _FLAGS)
        except OSError as exc:
            if exc.errno in (errno.ELOOP, errno.EISDIR, errno.ENXIO):
                _not_a_lock(path)
            if exclusive:
                raise UnusableFileError(
                    path,
                    "cannot create the lock file",
                    "a change needs write access to the export folder",
                ) from None
            return None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        _not_a_lock(path)
    return fd


def _not_a_lock(path: Path) -> NoReturn:
    raise UnusableFileError(
        path,
        "not the workbench's lock file (a link, a folder or a device)",
        "remove it, then run this again; nothing was done",
    )


def _holder(fd: int) -> tuple[str | None, str | None]:
    """Who holds the export exclusively, as its holder wrote it (None: readers only)."""
    try:  # a shared lock taken at once means only readers hold it now
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None, None
    except OSError:
        pass
    try:
        info = json.loads(os.pread(fd, 4096, 0).decode("utf-8") or "{}")
    except (OSError, ValueError):
        info = {}
    return str(info.get("holder") or "unknown"), str(info.get("since") or "an unknown time")


def _take(fd: int, root: Path, exclusive: bool, wait: bool) -> None:
    mode = fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH
    told = False
    while True:
        try:
            fcntl.flock(fd, mode | fcntl.LOCK_NB)
            return
        except OSError as exc:
            if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise
        holder, since = _holder(fd)
        if not wait:
            raise ExportBusyError(root, holder, since)
        if not told:
            who = f"{holder} (since {since})" if holder else "a run reading or changing it"
            log.warning("%s: waiting for %s", root, who)
            told = True
        time.sleep(_POLL)


@contextmanager
def export_lock(
    root: str | Path, *, exclusive: bool, holder: str = "", wait: bool = False
) -> Iterator[None]:
    """Hold the export in `root` (the catalog's folder) for a change or for reading.

    Args:
        root: the export's folder (`Catalog.root`).
        exclusive: True for a change, False for a reader.
        holder: what holds it, shown to a run that is refused ("ER-2026-0007 (erasure)").
        wait: wait for the holder instead of refusing.

    Raises:
        ExportBusyError: another run holds the export and `wait` is False.
    """
    path = lock_path(root)
    with _guard:
        held = _mine(path)
        if held is not None:
            held.depth += 1
    if held is not None:
        upgrade = exclusive and not held.exclusive
        try:
            if upgrade:  # this run reads (an open engine) and now changes: alone, or refused
                _take(held.fd, path.parent, True, wait)
                held.exclusive = True
                _write_holder(held.fd, holder)
            elif exclusive and holder:  # the change now knows its name (the request's)
                _write_holder(held.fd, holder)
            yield
        finally:
            with _guard:
                held.depth -= 1
            if upgrade and held.exclusive:
                with suppress(OSError):
                    os.ftruncate(held.fd, 0)
                fcntl.flock(held.fd, fcntl.LOCK_SH)  # back to reading
                held.exclusive = False
        return
    fd = _acquire(path, exclusive, wait)
    if fd is None:
        log.warning("%s: read-only export, read without a lock", path.parent)
        yield
        return
    try:
        if exclusive:
            _write_holder(fd, holder)
        with _guard:
            _held[path] = _Held(fd, exclusive, 1, os.getpid())
        try:
            yield
        finally:
            with _guard:
                _held.pop(path, None)
            _release(fd, path)
    finally:
        os.close(fd)  # closing the last descriptor releases the lock


def _mine(path: Path) -> _Held | None:
    """This process's hold on `path` (call under `_guard`)."""
    held = _held.get(path)
    return held if held is not None and held.pid == os.getpid() else None


def _write_holder(fd: int, holder: str) -> None:
    """Say in the lock file who changes the export, for the runs it refuses."""
    since = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    info = json.dumps({"holder": holder or "a change", "since": since, "pid": os.getpid()})
    with suppress(OSError):  # a read-only handle or a full disk: the lock holds all the same
        os.ftruncate(fd, 0)
        os.pwrite(fd, info.encode("utf-8"), 0)


def _acquire(path: Path, exclusive: bool, wait: bool) -> int | None:
    """Lock the file at `path`; retried when a holder removed it meanwhile (the lock
    must be on the file the path names now, or two runs could each hold a different one)."""
    while True:
        fd = _open(path, exclusive)
        if fd is None:
            return None
        try:
            _take(fd, path.parent, exclusive, wait)
            with suppress(FileNotFoundError):
                if os.fstat(fd).st_ino == path.stat().st_ino:
                    return fd
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)


def _release(fd: int, path: Path) -> None:
    """Remove the lock file when nobody else holds it (no file is left in the export)."""
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return  # other readers still hold it: the last one removes it
    with suppress(OSError):
        if path.lstat().st_ino == os.fstat(fd).st_ino:  # ours, not what replaced it
            path.unlink()


@contextmanager
def file_lock(path: str | Path, *, holder: str = "") -> Iterator[None]:
    """Hold the lock file at `path` exclusively, waiting for whoever holds it: one check and
    the write it allows at a time, for a record that is not an export (the sign-offs of a
    register's audit log: `<log>.lock`). Unlike `export_lock` it is not re-entrant: every
    hold, in another thread of this process too, waits for the one before (`flock` on a
    descriptor of its own); the file is removed by the last holder.
    """
    path = Path(path).resolve()
    fd = _acquire(path, True, wait=True)
    if fd is None:  # pragma: no cover - an exclusive hold raises rather than return None
        raise UnusableFileError(path, "cannot create the lock file", "check the folder")
    try:
        _write_holder(fd, holder)
        try:
            yield
        finally:
            _release(fd, path)
    finally:
        os.close(fd)


def change_in_progress(root: str | Path) -> str | None:
    """Who is changing the export now, in another run ("ER-1 (erasure) since ..."); None
    when no change holds it (or this run does)."""
    path = lock_path(root)
    if holds_export(root) or not path.exists():
        return None
    try:
        fd = os.open(path, os.O_RDONLY | _FLAGS)
    except OSError:
        return None
    try:
        holder, since = _holder(fd)
    finally:
        os.close(fd)
    return None if holder is None else f"{holder} since {since}"


def holds_export(root: str | Path, *, exclusive: bool = True) -> bool:
    """True when this process holds the export's lock (exclusively, unless told otherwise)."""
    with _guard:
        held = _mine(lock_path(root))
    return held is not None and (held.exclusive or not exclusive)


__all__ = [
    "LOCK_NAME",
    "ExportBusyError",
    "change_in_progress",
    "export_lock",
    "file_lock",
    "holds_export",
    "lock_path",
]
