"""Who is this person, and which rows are theirs.

- `identity`: identifiers (`SubjectKey`), requests (`SubjectRequest`), normalisation and the
  match rules (`MatchRules`), strong and weak kinds, and their SQL twins.
- `collect`: every row of each requester, in as few passes over the files as it takes.
- `selection`: SQL predicates for a person's rows (erasure and correction rewrite with them).
- `index`: the identity index (`IdentityIndex`): where each identifier sits in the files, so
  that repeat requests read only those rows.
- `people`: everyone at once (`resolve_people`): every identifier of the export joined into
  people in SQL, for a job that asks of every row whose it is (an audience and its ledger).
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
from dsar.subjects.index import IdentityIndex, IndexedFiles
from dsar.subjects.people import ExportPeople, resolve_people

__all__ = [
    "ExportPeople",
    "Identity",
    "IdentityIndex",
    "IndexedFiles",
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
    "resolve_people",
]
