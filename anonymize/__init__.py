"""Privacy Workbench, derived-data side: de-identified extracts, aggregates, ad audiences.

Planned (not built yet): `anonymize.extract` (policy-driven column operators and free-text
redaction with a k-anonymity / l-diversity risk check), `anonymize.aggregate` (group-by with
small-cell suppression) and `anonymize.audience` (per-platform normalised, hashed email
files honouring consent and the suppression ledger). It builds on `dsar` (catalog, engine,
ledger); `dsar` never imports it.
"""

from __future__ import annotations

__all__: list[str] = []
