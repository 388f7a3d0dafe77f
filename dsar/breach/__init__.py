"""Breach scoping: who a breach reached, what of theirs, by when to tell whom, and the notices.

- `filters`: what the breach covers (`ScopeSpec`: tables, columns, a `Window`, `--where`
  conditions parsed by `parse_where`, values bound as parameters).
- `assess`: categories per leaked column, others named in free text, ENISA severity.
- `deadlines`: the duties to notify and their due times, from `deadlines.json` (sourced).
- `report`: the folder: `scope.json` (`BreachManifest`), `affected.parquet` (owner-only),
  `regulator-report.md`, `letters/`.
- `run`: `breach_scope`, all of it in one call (what `dsar breach scope` runs), and
  `confirm_breach`, a person's decision on the scope the register holds (`dsar breach confirm`).
- `scope`: the rows in scope (tables, a time window, `--where` filters bound as parameters)
  and the people the access search reaches through them (`scope_breach`).
"""

from __future__ import annotations

from dsar.breach.assess import Circumstances, Severity
from dsar.breach.deadlines import Deadline, compute_deadlines
from dsar.breach.filters import Condition, ScopeSpec, Window, parse_where
from dsar.breach.report import BreachManifest, BreachOutput, Decision, Incident
from dsar.breach.run import breach_scope, confirm_breach
from dsar.breach.scope import AffectedPerson, Scope, scope_breach

__all__ = [
    "AffectedPerson",
    "BreachManifest",
    "BreachOutput",
    "Circumstances",
    "Condition",
    "Deadline",
    "Decision",
    "Incident",
    "Scope",
    "ScopeSpec",
    "Severity",
    "Window",
    "breach_scope",
    "compute_deadlines",
    "confirm_breach",
    "parse_where",
    "scope_breach",
]
