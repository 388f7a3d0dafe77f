"""Many access requests from one CSV file, and the random references requests get."""

from __future__ import annotations

import csv
import re
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from dsar.catalog.models import IdentityKind
from dsar.errors import IdentifierError, InputFileError
from dsar.io import plain_name
from dsar.subjects.identity import MatchRules, SubjectRequest, make_key

if TYPE_CHECKING:
    pass


def new_label(now: datetime | None = None, prefix: str = "AR") -> str:
    """A request reference such as 'AR-20261129-4f2a9c' (random, so it reveals no one)."""
    now = now or datetime.now(UTC)
    return f"{prefix}-{now:%Y%m%d}-{secrets.token_hex(3)}"


def read_batch_requests(path: str | Path, rules: MatchRules | None = None) -> list[SubjectRequest]:
    """Read many requests from a CSV: `request_id`, then one column per identifier type.

    Example file::

        request_id,email,user_id
        AR-101,ann@example.com,
        AR-102,,u0000042
    """
    path = Path(path)
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            try:
                return _batch_rows(path, reader, rules)
            except UnicodeDecodeError:
                raise InputFileError(
                    path,
                    "not UTF-8 text",
                    "save the batch as CSV UTF-8 (a spreadsheet's Save As offers it)",
                ) from None
            except csv.Error as exc:
                raise InputFileError(
                    path,
                    f"not a readable CSV ({exc})",
                    "save the batch as CSV from a spreadsheet, one request per line",
                    line=reader.reader.line_num,
                ) from None
    except FileNotFoundError:
        raise InputFileError(
            path,
            "no such file",
            "--batch takes a CSV with a request_id column and one column per identifier type",
        ) from None
    except OSError as exc:
        raise InputFileError(
            path,
            f"cannot read the batch file ({exc.strerror})",
            "give a CSV file you may read",
        ) from None


def _batch_rows(
    path: Path, reader: csv.DictReader[str], rules: MatchRules | None
) -> list[SubjectRequest]:
    kinds = {k.value for k in IdentityKind}
    columns = [c.strip() for c in reader.fieldnames or []]
    unknown = [c for c in columns if c != "request_id" and c not in kinds]
    types = f"request_id and identifier types: {', '.join(sorted(kinds))}"
    if not columns or not all(re.fullmatch(r"[A-Za-z_]+", c) for c in unknown):
        # no header: a first line of values is never quoted, it may hold someone's email
        raise InputFileError(
            path, "no header line", f"the first line must be a header naming the columns: {types}"
        )
    if unknown:
        raise InputFileError(path, f"unknown column(s) {', '.join(unknown)}", f"use {types}")
    requests = []
    for line, row in enumerate(reader, start=2):
        keys = []
        for column, value in row.items():
            if column is None or column.strip() == "request_id" or not (value or "").strip():
                continue
            try:
                keys.append(make_key(IdentityKind(column.strip()), value, rules))
            except IdentifierError as exc:
                raise IdentifierError(exc.text, f"{path} line {line}: {exc}") from None
        if not keys:
            raise InputFileError(
                path,
                "no identifier given",
                "give each request at least one identifier of the person",
                line=line,
            )
        label = (row.get("request_id") or "").strip() or f"{new_label()}-{line}"
        plain_name(label, f"request_id on line {line} of {path.name}")
        requests.append(SubjectRequest(label, tuple(keys)))
    return requests
