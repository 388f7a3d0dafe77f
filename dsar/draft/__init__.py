"""A first data map drafted from the export files (`dsar catalog draft`).

- `scan`: the tables of an export folder, their formats and CSV dialects.
- `profile`: each table read through the engine: types, counts, a bounded sample.
- `shapes`: what sampled values are (emails, phones, IPs, secrets, names, places, free
  text), with the text engine; `keys`: primary keys and links checked on every row;
  `people`: people tables, identity kinds, identity by link, ownership, reference data.
- `confidence`: how sure each decision is (a number in [0, 1] and a one-line reason);
  `Draft.confirm_first()` lists the least sure, what a person confirms first.
- `write`: the catalog YAML, every decision with its evidence and confidence, every legal
  field TODO.

`draft` returns the decisions as values (`Draft`); `draft_catalog` also writes the file.
"""

from __future__ import annotations

from dsar.draft.model import ColumnDraft, Confidence, Decision, Draft, Link, TableDraft
from dsar.draft.run import DEFAULT_SAMPLE, draft, draft_catalog
from dsar.draft.write import render

__all__ = [
    "DEFAULT_SAMPLE",
    "ColumnDraft",
    "Confidence",
    "Decision",
    "Draft",
    "Link",
    "TableDraft",
    "draft",
    "draft_catalog",
    "render",
]
