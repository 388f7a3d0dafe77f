"""Who is this person, and which rows are theirs.

- `identity`: identifiers (`SubjectKey`), requests (`SubjectRequest`), normalisation and the
  match rules (`MatchRules`), strong and weak kinds, and their SQL twins.
- `collect`: every row of each requester, in as few passes over the files as it takes.
- `selection`: SQL predicates for a person's rows (erasure and correction rewrite with them).
"""

from __future__ import annotations

from dsar.subjects.collect import ProgressFn, SubjectData, collect
from dsar.subjects.identity import (
    Identity,
    MatchRules,
    Provenance,
    SubjectKey,
    SubjectRequest,
    make_key,
    normalize,
    parse_key,
)

__all__ = [
    "Identity",
    "MatchRules",
    "ProgressFn",
    "Provenance",
    "SubjectData",
    "SubjectKey",
    "SubjectRequest",
    "collect",
    "make_key",
    "normalize",
    "parse_key",
]
