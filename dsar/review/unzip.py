"""Unpack a bundle zip for review without trusting it: one folder, limits, counted bytes."""

from __future__ import annotations

import mmap
import stat
import struct
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


_LOCAL = struct.Struct("<4sHHHHHIIIHH")  # a local file header, 30 bytes
_END = struct.Struct("<4sHHHHIIH")  # the end of central directory record, 22 bytes
_END64 = struct.Struct("<4sQHHIIQQQQ")  # the ZIP64 end record, 56 bytes
_LOCATOR = 20  # the ZIP64 end record locator
_EXTRAS = {0x0001, 0x9901}  # the only extra fields the writer adds: ZIP64 sizes, WinZip AES


def layout_problems(path: Path) -> list[tuple[str, str]]:
    """How a zip differs from one the workbench writes, as (where, problem) pairs: every
    byte of the file read, so nothing rides along unchecked. The writer makes one entry per
    file, each once, in central-directory order from byte 0, no directory entries, no
    comments, no extra fields but ZIP64 sizes and AES, and the end record closing the file
    (a folder entry is let through only for a folder its files lie in, as zip tools write).
    Anything else (a zip comment, an entry comment, an extra field, bytes before the first
    entry or after the end, an entry twice, an empty folder's entry, a link) is a problem; places
    are entry positions and byte offsets, never names (an entry's name can be an address)."""
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            comment = archive.comment
        with (
            path.open("rb") as handle,
            mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data,
        ):
            return _problems(data, infos, comment)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        return [("zip", f"not a readable zip ({type(exc).__name__})")]


def _problems(
    data: mmap.mmap, infos: list[zipfile.ZipInfo], comment: bytes
) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    if comment:
        found.append(("zip", "a zip comment (the writer leaves none)"))
    seen: dict[str, int] = {}
    files = [i.filename for i in infos if not i.is_dir()]
    offset = 0
    for n, info in enumerate(infos, start=1):
        where = f"zip entry {n} of {len(infos)}"
        if info.filename in seen:
            found.append((where, f"the same name as entry {seen[info.filename]}"))
        seen.setdefault(info.filename, n)
        kind = stat.S_IFMT(info.external_attr >> 16)  # 0: no type written (writestr)
        if info.is_dir():  # only a folder of the files (as zip tools write), empty
            implied = any(f.startswith(info.filename) for f in files)
            if not implied or info.file_size or kind not in (0, stat.S_IFDIR):
                found.append((where, "a folder entry no file of the zip lies in"))
        elif kind not in (0, stat.S_IFREG):
            found.append((where, "a link or device, not a file"))
        if info.comment:
            found.append((where, "an entry comment"))
        if not _plain_extra(info.extra):
            found.append((where, "an extra field the writer never adds (central directory)"))
        if info.header_offset != offset:
            found.append(
                (where, f"starts at byte {info.header_offset}, not {offset}: bytes in between")
            )
            offset = info.header_offset
        header = data[offset : offset + _LOCAL.size]
        if len(header) < _LOCAL.size or header[:4] != b"PK\x03\x04":
            found.append((where, "no local header where the directory says"))
            return found
        fields = _LOCAL.unpack(header)
        name_len, extra_len = fields[9], fields[10]
        extra = data[offset + 30 + name_len : offset + 30 + name_len + extra_len]
        if not _plain_extra(extra):
            found.append((where, "an extra field the writer never adds (local header)"))
        offset += 30 + name_len + extra_len + info.compress_size
        if info.flag_bits & 0x08:  # a data descriptor: optional signature, CRC, two sizes
            offset += 4 if data[offset : offset + 4] == b"PK\x07\x08" else 0
            offset += 12 if extra_len == 0 or not _has(extra, 0x0001) else 20
    found += _end_problems(data, offset, len(infos))
    return found


def _plain_extra(extra: bytes) -> bool:
    """Extra fields the writer adds, each once, parsed to the last byte."""
    ids: list[int] = []
    at = 0
    while at < len(extra):
        if at + 4 > len(extra):
            return False
        kind, size = struct.unpack_from("<HH", extra, at)
        ids.append(kind)
        at += 4 + size
    return at == len(extra) and len(set(ids)) == len(ids) and set(ids) <= _EXTRAS


def _has(extra: bytes, wanted: int) -> bool:
    at = 0
    while at + 4 <= len(extra):
        kind, size = struct.unpack_from("<HH", extra, at)
        if kind == wanted:
            return True
        at += 4 + size
    return False


def _end_problems(data: mmap.mmap, entries_end: int, count: int) -> list[tuple[str, str]]:
    """The central directory starts where the last entry ends, and the end record (without
    a comment) closes the file."""
    end = len(data) - _END.size
    if end < 0 or data[end : end + 4] != b"PK\x05\x06":
        return [("zip end", "bytes after the end record, or a zip comment")]
    _, _, _, _, total, size, start, comment = _END.unpack_from(data, end)
    directory_end = end
    if start == 0xFFFFFFFF or size == 0xFFFFFFFF or total == 0xFFFF:
        record = end - _LOCATOR - _END64.size
        if record < 0 or data[record : record + 4] != b"PK\x06\x06":
            return [("zip end", "a ZIP64 end record missing or not where it belongs")]
        fields = _END64.unpack_from(data, record)
        total, size, start = fields[7], fields[8], fields[9]
        directory_end = record
    found = []
    if comment:
        found.append(("zip end", "a zip comment"))
    if start != entries_end:
        found.append(
            (
                "zip directory",
                f"starts at byte {start}, not where the last entry ends ({entries_end})",
            )
        )
    if start + size != directory_end:
        found.append(("zip directory", "bytes between the central directory and its end record"))
    if total != count:
        found.append(("zip end", f"says {total} entries, the directory holds {count}"))
    return found


def unzip_bundle(path: Path, into: Path, passphrase: str | None, limit: int) -> Path:
    """Unpack a bundle zip safely, entry by entry; return its one top folder.

    A zip that is not laid out as the workbench writes it (`layout_problems`: a comment, an
    extra field, a prefix, an entry twice, a directory entry, ...) is refused before
    anything is unpacked: its bytes would leave unread by the checks."""
    import pyzipper

    problems = layout_problems(path)
    if problems:
        where, what = problems[0]
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise UnreadableArtifactError(
            path,
            f"not laid out as the workbench writes a zip: {where}: {what}{more}",
            "nothing was unpacked; make the bundle again (`dsar access`): a zip changed after"
            " it was written carries bytes no check reads",
        )
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
                    f"entry {infos.index(info) + 1} is damaged or unpacks to more than it declares"
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
    for n, info in enumerate(infos, start=1):
        if info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise UnreadableArtifactError(
                path,
                f"entry {n} is compressed more than {MAX_RATIO}:1"
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
