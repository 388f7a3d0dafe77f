"""Unpack a bundle zip for review without trusting it: one folder, limits, counted bytes."""

from __future__ import annotations

import zipfile
import zlib
from pathlib import Path
from typing import Any

from dsar.errors import UnreadableArtifactError

# Parquet and JSON of personal data compress 3:1 to 20:1; a run of zeros, 1000:1.
MAX_UNPACKED_BYTES = 20 * 1024**3
"""Default limit on what a zip may unpack to (the sum of its entries' declared sizes)."""
MAX_RATIO = 200
"""An entry larger than `RATIO_FLOOR` that is compressed more than this is refused."""
MAX_ENTRIES = 100_000
"""A bundle holds a few files per table: more entries than this is not a bundle."""
RATIO_FLOOR = 10 * 1024**2
"""Entries smaller than this (10 MiB) are never refused for their ratio."""


def unzip_bundle(path: Path, into: Path, passphrase: str | None, limit: int) -> Path:
    """Unpack a bundle zip safely, entry by entry; return its one top folder."""
    import pyzipper

    with pyzipper.AESZipFile(path) as archive:
        infos: list[zipfile.ZipInfo] = archive.infolist()
        names = [i.filename for i in infos]
        tops = {n.split("/", 1)[0] for n in names}
        unsafe = [
            n
            for n in names
            if n.startswith("/") or "\\" in n or ".." in n.split("/") or "/" not in n
        ]
        if len(tops) != 1 or unsafe:
            raise UnreadableArtifactError(
                path,
                "not a bundle zip (it must hold one folder and nothing outside it)",
                "nothing was unpacked; give the zip the workbench made",
            )
        _check_sizes(path, infos, limit)
        if passphrase:
            archive.setpassword(passphrase.encode("utf-8"))
        for info in infos:
            try:
                _extract(archive, info, into)
            except RuntimeError as exc:  # pyzipper: encrypted, and no or a wrong password
                if not passphrase:
                    raise UnreadableArtifactError(
                        path,
                        "it is encrypted",
                        "give its passphrase (dsar verify --passphrase-env VAR)",
                    ) from None
                raise UnreadableArtifactError(
                    path,
                    f"the passphrase does not open it ({exc})",
                    "give the passphrase it was made with",
                ) from None
            except (pyzipper.BadZipFile, zipfile.BadZipFile, zlib.error, EOFError) as exc:
                raise UnreadableArtifactError(
                    path,
                    f"entry {info.filename} is damaged or unpacks to more than it declares"
                    f" ({type(exc).__name__})",
                    "nothing was kept",
                ) from None
    return into / tops.pop()


def _check_sizes(path: Path, infos: list[zipfile.ZipInfo], limit: int) -> None:
    """Refuse a zip bomb from its directory alone, before a byte is unpacked."""
    declared = sum(i.file_size for i in infos)
    if len(infos) > MAX_ENTRIES:
        raise UnreadableArtifactError(
            path,
            f"{len(infos):,} entries, more than a bundle ever holds ({MAX_ENTRIES:,})",
            "not unpacked",
        )
    if declared > limit:
        raise UnreadableArtifactError(
            path,
            f"its entries declare {declared:,} bytes unpacked, over the limit of {limit:,}"
            " (max_unpacked_bytes)",
            "not unpacked",
        )
    for info in infos:
        if info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise UnreadableArtifactError(
                path,
                f"entry {info.filename} is compressed more than {MAX_RATIO}:1"
                f" ({info.file_size:,} bytes from {info.compress_size:,}), like a zip bomb",
                "not unpacked",
            )
    # many entries each under the per-entry floor still add up: the whole zip's ratio
    if declared > RATIO_FLOOR and declared > MAX_RATIO * max(path.stat().st_size, 1):
        raise UnreadableArtifactError(
            path,
            f"its entries declare {declared:,} bytes from a {path.stat().st_size:,}-byte zip,"
            f" more than {MAX_RATIO}:1, like a zip bomb",
            "not unpacked",
        )


def _extract(archive: Any, info: zipfile.ZipInfo, into: Path) -> None:
    """One entry, copied in blocks and counted: never more bytes than its header declares."""
    target = into / info.filename
    if info.is_dir():
        target.mkdir(parents=True, exist_ok=True)
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    left = info.file_size
    with archive.open(info) as source, target.open("wb") as sink:
        while block := source.read(1 << 20):
            left -= len(block)
            if left < 0:
                raise zipfile.BadZipFile("more bytes than declared")
            sink.write(block)
