"""Breach scoping: who a breach reached, what of theirs, by when to tell whom, and the notices.

- `filters`: what the breach covers (`ScopeSpec`: tables, columns, a `Window`, `--where`
  conditions parsed by `parse_where`, values bound as parameters).
- `scope`: the rows in scope (tables, a time window, `--where` filters bound as parameters)
  and the people the access search reaches through them (`scope_breach`).
"""

from __future__ import annotations

from dsar.breach.filters import Condition, ScopeSpec, Window, parse_where
from dsar.breach.scope import AffectedPerson, Scope, scope_breach

__all__ = [
    "AffectedPerson",
    "Condition",
    "Scope",
    "ScopeSpec",
    "Window",
    "parse_where",
    "scope_breach",
]
