"""The erasure certificate: what was erased, what was retained, why and until when, whom to tell.

JSON for machines and reviewers, Markdown for people; the person is named only by the keyed
reference, never by an identifier.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dsar._version import __version__
from dsar.catalog.models import ErasureAction
from dsar.io import atomic_write_text

if TYPE_CHECKING:
    from dsar.rights.erasure import ErasurePlan


def write_certificate(plan: ErasurePlan, files: tuple[dict[str, Any], ...], out: Path) -> Path:
    """Write `<request>-erasure-certificate.json` and `.md` to `out`; return the JSON path."""
    out.mkdir(parents=True, exist_ok=True)
    body = {
        "format": "privacy-workbench/erasure-certificate",
        "tool": {"name": "privacy-workbench", "version": __version__},
        "request": plan.request,
        "subject": plan.subject,
        "applied_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "as_of": plan.today.isoformat(),
        "erased": [
            asdict(a) | {"action": a.action.value}
            for a in plan.actions
            if a.action is not ErasureAction.RETAIN
        ],
        "retained": [
            asdict(a) | {"action": a.action.value}
            for a in plan.actions
            if a.action is ErasureAction.RETAIN
        ],
        "files_replaced": list(files),
        "recipients_to_notify": list(plan.recipients),
        "held_for_customers": plan.held_as_processor,
        "set_aside_for_review": plan.set_aside,
        "mentioned_in_others_records": plan.mentions,
    }
    path = out / f"{plan.request}-erasure-certificate.json"
    atomic_write_text(path, json.dumps(body, indent=2, default=str) + "\n")
    lines = [
        f"# Erasure certificate: {plan.request}",
        "",
        f"Person: {plan.subject} (keyed reference). Applied {body['applied_at']}.",
        "",
    ]
    for a in plan.actions:
        if a.action is ErasureAction.RETAIN:
            lines.append(
                f"- {a.table}: {a.to_change} row(s) past retention deleted;"
                f" {a.retained} row(s) retained until {a.retained_until} under"
                f" {a.legal_basis} ({a.reason}), restricted to that purpose"
            )
        elif a.action is ErasureAction.DELETE:
            lines.append(f"- {a.table}: {a.to_change} row(s) deleted")
        else:
            lines.append(
                f"- {a.table}: {', '.join(a.columns)} {a.action.value}d in {a.to_change} row(s)"
            )
    for table, rows in plan.held_as_processor.items():
        lines.append(f"- {table}: {rows} row(s) held for customers; request forwarded to them")
    for table, rows in plan.mentions.items():
        lines.append(
            f"- {table}: {rows} row(s) of other people mention the person; left for review"
        )
    lines += ["", f"Recipients to notify (Art. 19): {', '.join(plan.recipients) or 'none'}"]
    atomic_write_text(path.with_suffix(".md"), "\n".join(lines) + "\n")
    return path
