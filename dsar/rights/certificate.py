"""The certificate of an applied change: what was done, why, until when, and whom to tell.

One writer for every job (erasure, correction, retention): JSON for machines and reviewers,
Markdown for people. The person is named only by the keyed reference, never an identifier.
The JSON (format 2) names the plan it executed (its dry run's SHA-256), every file replaced
with its checksums before and after, the rows accounted per table (before = after +
removed) and, with the key, a keyed MAC (`dsar.review.manifest.manifest_mac`): `dsar verify`
checks all of it.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from datetime import UTC, date, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from dsar._version import __version__
from dsar.errors import DiskFullError, is_disk_full
from dsar.faults import point
from dsar.io import output_path, private_dir
from dsar.keys import SCHEME, Keys
from dsar.review.manifest import CERTIFICATE_KINDS, MAC_FIELD, CertificateManifest, manifest_mac
from dsar.rights.rewrite import FileChange

if TYPE_CHECKING:
    from dsar.engine.guards import CatalogWarning


class Certified(Protocol):
    """What the writer needs of a plan (`dsar.rights.plan.Plan` has it)."""

    @property
    def job(self) -> StrEnum: ...
    @property
    def label(self) -> str: ...
    @property
    def subject(self) -> str | None: ...
    @property
    def today(self) -> date: ...
    @property
    def recipients(self) -> tuple[str, ...]: ...
    @property
    def accepted_warnings(self) -> Sequence[CatalogWarning]: ...
    def certificate_body(self) -> dict[str, Any]: ...
    def certificate_lines(self) -> list[str]: ...
    def describe(self) -> str: ...
    def audit_tables(self) -> dict[str, int]: ...


def certificate_path(plan: Certified, out: Path) -> Path:
    """Where the certificate's JSON goes: `<label>-<job>-certificate.json`, or with `-2`,
    `-3`, ... when a certificate for the same label is there already (never overwritten)."""
    stem = f"-{plan.job.value}-certificate"
    path = output_path(out, plan.label, "request label", f"{stem}.json")
    n = 1
    while path.exists() or path.with_suffix(".md").exists():
        n += 1
        path = output_path(out, plan.label, "request label", f"{stem}-{n}.json")
    return path


def write_certificate(
    plan: Certified,
    files: Sequence[FileChange],
    out: Path,
    keys: Keys | None = None,
    removed: Mapping[str, int] | None = None,
) -> list[tuple[Path, Path]]:
    """Write the certificate (JSON and Markdown) under temporary names in `out`.

    `keys`, when given, MAC the JSON; `removed` is the rows each table's rewrite removes
    (`Rewrite.removes`, which staging checked against the files), for the accounting.

    Returns (temporary path, final path) pairs: the change's journal moves them into place
    together with the files, so a certificate exists exactly when the change happened.
    """
    private_dir(out)
    applied = datetime.now(UTC).replace(microsecond=0)
    applied_at = applied.strftime("%Y-%m-%dT%H:%M:%SZ")
    path = certificate_path(plan, out)
    moves = [(path.with_name(f".{path.name}{TMP}"), path)]
    moves.append((path.with_name(f".{path.stem}.md{TMP}"), path.with_suffix(".md")))
    person = f"Person: {plan.subject} (keyed reference). " if plan.subject else ""
    lines = [
        f"# {plan.job.value.capitalize()} certificate: {plan.label}",
        "",
        f"{person}Applied {applied_at}, as of {plan.today}.",
        "",
        *plan.certificate_lines(),
        "",
        f"Files replaced: {len(files)}.",
    ]
    if plan.recipients or plan.subject:
        lines.append(f"Recipients to notify (Art. 19): {', '.join(plan.recipients) or 'none'}")
    if plan.accepted_warnings:
        lines += ["", "Catalog warnings accepted (--accept-catalog-warnings):"]
        lines += [f"- [{w.code}] {w.line}" for w in plan.accepted_warnings]
    writing = path.with_suffix(".md")
    try:
        markdown = "\n".join(lines) + "\n"
        _write_private(moves[1][0], markdown)
        writing = path
        manifest = CertificateManifest.model_validate(
            {
                "kind": CERTIFICATE_KINDS[plan.job.value],
                "format_version": 2,
                "tool": {"name": "privacy-workbench", "version": __version__},
                "created_at": applied,
                "inputs": [],
                "outputs": [
                    {
                        "path": path.with_suffix(".md").name,
                        "sha256": hashlib.sha256(markdown.encode("utf-8")).hexdigest(),
                        "bytes": len(markdown.encode("utf-8")),
                        "rows": None,
                        "table": None,
                        "categories": [],
                    }
                ],
                "parameters": {},
                "accepted_catalog_warnings": [
                    {"code": str(w.code), "warning": w.line} for w in plan.accepted_warnings
                ],
                "scheme": SCHEME,  # how the keyed reference and any pseudonyms were made
                "job": plan.job.value,
                "request": plan.label,
                "subject": plan.subject,
                "applied_at": applied,
                "as_of": plan.today,
                "files_replaced": [asdict(f) for f in files],
                "recipients_to_notify": list(plan.recipients),
                "plan": {
                    "sha256": hashlib.sha256(plan.describe().encode("utf-8")).hexdigest(),
                    "changes": plan.audit_tables(),
                },
                "accounting": _accounting(plan, files, removed or {}),
                **json.loads(json.dumps(plan.certificate_body(), default=str)),
            }
        )
        body = {
            k: v
            for k, v in manifest.model_dump(mode="json").items()
            if v is not None or k in ("subject",)
        }
        if keys is not None:  # the MAC covers the JSON as written (absent fields absent)
            body[MAC_FIELD] = manifest_mac(keys, body)
        _write_private(moves[0][0], json.dumps(body, indent=2) + "\n")
    except BaseException as exc:
        for tmp, _ in moves:
            tmp.unlink(missing_ok=True)
        if is_disk_full(exc):
            raise DiskFullError(writing) from exc
        raise
    return moves


def _accounting(
    plan: Certified, files: Sequence[FileChange], removed: Mapping[str, int]
) -> dict[str, dict[str, int]]:
    """Per table rewritten: rows before and after (summed over its files), the rows the
    plan removed, and the rows it changed in place (its changes less those removed)."""
    changes = plan.audit_tables()
    tables: dict[str, dict[str, int]] = {}
    for f in files:
        entry = tables.setdefault(f.table, {"rows_before": 0, "rows_after": 0})
        entry["rows_before"] += f.rows_before
        entry["rows_after"] += f.rows_after
    for table, entry in tables.items():
        gone = removed.get(table, entry["rows_before"] - entry["rows_after"])
        entry["rows_removed"] = gone
        entry["rows_changed"] = max(0, changes.get(table, 0) - gone)
    return tables


TMP = ".workbench-tmp"  # a certificate's temporary name: `.<final name>.workbench-tmp`


def _write_private(path: Path, text: str) -> None:
    """Write an owner-only temporary file and flush it to disk (the journal renames it)."""
    point(f"write {path.name}")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
