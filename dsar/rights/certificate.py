"""The certificate of an applied change: what was done, why, until when, and whom to tell.

One writer for every job (erasure, correction, retention): JSON for machines and reviewers,
Markdown for people. The person is named only by the keyed reference, never an identifier.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict
from datetime import UTC, date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol

from dsar._version import __version__
from dsar.io import atomic_write_text, output_path
from dsar.keys import SCHEME
from dsar.rights.rewrite import FileChange


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
    def certificate_body(self) -> dict[str, Any]: ...
    def certificate_lines(self) -> list[str]: ...


def write_certificate(plan: Certified, files: Sequence[FileChange], out: Path) -> Path:
    """Write `<label>-<job>-certificate.json` and `.md` to `out`; return the JSON path."""
    out.mkdir(parents=True, exist_ok=True)
    applied_at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    body: dict[str, Any] = {
        "format": f"privacy-workbench/{plan.job.value}-certificate",
        "tool": {"name": "privacy-workbench", "version": __version__},
        "scheme": SCHEME,  # how the keyed reference and any pseudonyms were made
        "job": plan.job.value,
        "request": plan.label,
        "subject": plan.subject,
        "applied_at": applied_at,
        "as_of": plan.today.isoformat(),
        **plan.certificate_body(),
        "files_replaced": [asdict(f) for f in files],
        "recipients_to_notify": list(plan.recipients),
    }
    path = output_path(out, plan.label, "request label", f"-{plan.job.value}-certificate.json")
    atomic_write_text(path, json.dumps(body, indent=2, default=str) + "\n")
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
    atomic_write_text(path.with_suffix(".md"), "\n".join(lines) + "\n")
    return path
