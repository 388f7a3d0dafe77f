"""What an artifact folder may hold, and a bounded private copy of it.

An artifact is regular files in folders. A device node, a FIFO, a socket, a symbolic link or
a folder holding no file is none of what the workbench writes: `odd_entries` makes each a
finding, by position (an entry's name can be an address), never by name. `copy_artifact`
copies an artifact for a sign-off without trusting it: every entry's type is read (lstat)
before it is opened, only regular files are read (opened without following a link and
without blocking, their type checked again on the open descriptor), each no further than
the size it had when listed, and the whole no further than the bytes its manifests state.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

from dsar.errors import UnreadableArtifactError
from dsar.review.findings import Finding

_BLOCK = 1 << 20


def odd_entries(root: Path, listed: set[str] | frozenset[str] = frozenset()) -> list[Finding]:
    """A finding per entry under `root` that is not a regular file or a folder holding one
    (at any depth): devices, FIFOs, sockets, links, empty folders. The place is the entry's
    position and its folder when that folder is the top or one of `listed`'s (the relative
    paths of the files the manifest lists), else "in a subfolder"."""
    known = {n.rpartition("/")[0] for n in listed} | {""}
    odd: list[str] = []
    _walk(root, "", odd)
    findings = []
    for n, rel in enumerate(sorted(odd), start=1):
        folder = rel.rpartition("/")[0]
        if not folder:
            place = "at the top"
        else:
            place = f"in {folder}/" if folder in known else "in a subfolder"
        findings.append(
            Finding(
                "files",
                f"odd entry {n} of {len(odd)} ({place})",
                "not a regular file: a device, FIFO, socket, link or a folder with no file"
                " (the workbench writes none); make the artifact again",
            )
        )
    return findings


def _walk(folder: Path, rel: str, odd: list[str]) -> bool:
    """Collect odd entries below `folder`; True when it holds a regular file at any depth."""
    holds = False
    with os.scandir(folder) as entries:
        for entry in entries:
            name = f"{rel}{entry.name}"
            mode = entry.stat(follow_symlinks=False).st_mode
            if stat.S_ISDIR(mode):
                if _walk(Path(entry.path), f"{name}/", odd):
                    holds = True
                else:
                    odd.append(name)
            elif stat.S_ISREG(mode):
                holds = True
            else:
                odd.append(name)
    return holds


def stated_bytes(path: Path) -> int | None:
    """The bytes an artifact's manifests state: each JSON manifest's own size plus the
    `bytes` of every output it lists (a folder: its top-level JSON files; a file: itself and
    its outputs). None when no manifest states any output's size."""
    manifests = sorted(path.glob("*.json")) if path.is_dir() else [path]
    total, stated = 0, False
    for manifest in manifests:
        try:
            if not stat.S_ISREG(manifest.lstat().st_mode):
                continue
            size = manifest.stat().st_size
            data = json.loads(manifest.read_bytes()) if size <= 64 * 1024**2 else None
        except (OSError, ValueError):
            continue
        total += size
        outputs = data.get("outputs") if isinstance(data, dict) else None
        for output in outputs if isinstance(outputs, list) else []:
            count = output.get("bytes") if isinstance(output, dict) else None
            if isinstance(count, int) and not isinstance(count, bool) and count >= 0:
                total += count
                stated = True
    return total if stated else None


class _Budget:
    """The bytes a copy may still write (None: no cap beyond each file's listed size)."""

    def __init__(self, cap: int | None) -> None:
        self.left = cap


def copy_artifact(source: Path, target: Path, cap: int | None) -> None:
    """Copy a file or a folder (links copied as links, for the caller to refuse) without
    reading anything but regular files, none past its listed size, the whole at most `cap`
    bytes (the manifests' stated bytes).

    Raises:
        UnreadableArtifactError: a device, FIFO or socket (before it is opened); more bytes
            than the manifests state; a file that grew or changed type while copied.
    """
    budget = _Budget(cap)
    mode = source.lstat().st_mode
    if stat.S_ISDIR(mode):
        _copy_tree(source, target, budget, source)
    else:
        _copy_entry(source, target, mode, budget, source)


def _copy_tree(source: Path, target: Path, budget: _Budget, top: Path) -> None:
    target.mkdir(mode=0o700)
    with os.scandir(source) as entries:
        for entry in sorted(entries, key=lambda e: e.name):
            mode = entry.stat(follow_symlinks=False).st_mode
            child = Path(entry.path)
            if stat.S_ISDIR(mode):
                _copy_tree(child, target / entry.name, budget, top)
            else:
                _copy_entry(child, target / entry.name, mode, budget, top)


def _copy_entry(source: Path, target: Path, mode: int, budget: _Budget, top: Path) -> None:
    if stat.S_ISLNK(mode):
        target.symlink_to(source.readlink())
        return
    if not stat.S_ISREG(mode):
        raise UnreadableArtifactError(
            top,
            "it holds a device, FIFO or socket (not read): the workbench writes regular files only",
            "make the artifact again; nothing was signed off",
        )
    fd = os.open(source, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    try:
        status = os.fstat(fd)
        if not stat.S_ISREG(status.st_mode):
            raise UnreadableArtifactError(
                top,
                "an entry changed type while being copied (not a regular file)",
                "sign off again once nothing is changing it",
            )
        left = status.st_size
        with os.fdopen(fd, "rb", closefd=False) as reader, target.open("xb") as sink:
            while block := reader.read(min(_BLOCK, left + 1)):
                left -= len(block)
                if left < 0:
                    raise UnreadableArtifactError(
                        top,
                        "a file grew while being copied",
                        "sign off again once nothing is changing it",
                    )
                if budget.left is not None:
                    budget.left -= len(block)
                    if budget.left < 0:
                        raise UnreadableArtifactError(
                            top,
                            "it holds more bytes than its manifest states (its outputs and"
                            " itself): not copied further",
                            "make the artifact again; nothing was signed off",
                        )
                sink.write(block)
    finally:
        os.close(fd)
