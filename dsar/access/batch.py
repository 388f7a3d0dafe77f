"""Many access requests from one CSV file, and the random references requests get."""

from __future__ import annotations

import csv
import re
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from dsar.catalog.models import IdentityKind
from dsar.errors import IdentifierError, WorkbenchError
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
                raise WorkbenchError(
                    f"{path}: not UTF-8 text; save the batch as CSV UTF-8 (a spreadsheet's"
                    " Save As offers it)"
                ) from None
            except csv.Error as exc:
                raise WorkbenchError(
                    f"{path} line {reader.reader.line_num}: not a readable CSV ({exc})"
                ) from None
    except FileNotFoundError:
        raise WorkbenchError(
            f"{path}: no such file; --batch takes a CSV with a request_id column and one"
            " column per identifier type"
        ) from None
    except OSError as exc:
        raise WorkbenchError(f"{path}: cannot read the batch file ({exc.strerror})") from None


def _batch_rows(
    path: Path, reader: csv.DictReader[str], rules: MatchRules | None
) -> list[SubjectRequest]:
    kinds = {k.value for k in IdentityKind}
    columns = [c.strip() for c in reader.fieldnames or []]
    unknown = [c for c in columns if c != "request_id" and c not in kinds]
    types = f"request_id and identifier types: {', '.join(sorted(kinds))}"
    if not columns or not all(re.fullmatch(r"[A-Za-z_]+", c) for c in unknown):
        # no header: a first line of values is never quoted, it may hold someone's email
        raise WorkbenchError(f"{path}: the first line must be a header naming the columns: {types}")
    if unknown:
        raise WorkbenchError(f"{path}: unknown column(s) {', '.join(unknown)}; use {types}")
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
            raise WorkbenchError(f"{path} line {line}: no identifier given")
        label = (row.get("request_id") or "").strip() or f"{new_label()}-{line}"
        plain_name(label, f"request_id on line {line} of {path.name}")
        requests.append(SubjectRequest(label, tuple(keys)))
    return requests
