"""File helpers every artifact writer uses: atomic writes, checksums, JSON-ready rows."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from dsar.errors import UnsafeNameError

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


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write beside the target, fsync, rename: a crash leaves the old file or the new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    """`atomic_write_bytes` for UTF-8 text."""
    atomic_write_bytes(path, text.encode("utf-8"))


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
