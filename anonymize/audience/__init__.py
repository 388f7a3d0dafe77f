"""Hashed ad audiences: per-platform normalisation, vectorised hashing, upload files.

- `platforms`: one `Platform` per ad platform (its rules, headers, limits and source page),
  `PLATFORMS`, `to_e164`.
- `build`: `build_audience_file` hashes a list's emails or phones for each platform.

- `sources`: what an audience is built from (`AudienceSpec`, `AudienceList`), its consent
  stated, and what it may use (Limited Use, purposes: `check_purposes`).
- `forms`: each value as each chosen platform uploads it, so that the gate decides on what
  is hashed; `consent`: the columns the catalog lets the gate read as a yes or a no to ads,
  wherever they are, and what counts as a stated consent or basis.
- `eligible`: `build_audience`, the one gate for a catalog table (`AudienceSpec`) and a
  list (`AudienceList`): Limited Use and purposes first, consent stated, then each row
  matched to its person through the whole export (`people`, over
  `dsar.subjects.people`), so a person the suppression ledger holds under any identifier is
  left out, and what was sent is recorded under every identifier of theirs.

- `SentRecord` (kept in `dsar.records.sent`, where erasure plans read it): who was sent to
  which platform (keyed references and the uploaded hashes, an audit-log entry per run), and
  the removal file for everyone since withdrawn.
"""

from __future__ import annotations

from anonymize.audience.build import AudienceResult, build_audience_file
from anonymize.audience.eligible import build_audience
from anonymize.audience.platforms import (
    NORMALIZER_VERSION,
    PLATFORMS,
    Platform,
    platform,
    to_e164,
)
from anonymize.audience.sources import (
    AudienceList,
    AudienceSpec,
    check_purposes,
    load_audience_spec,
)
from dsar.records.sent import SentRecord, person_ref

__all__ = [
    "NORMALIZER_VERSION",
    "PLATFORMS",
    "AudienceList",
    "AudienceResult",
    "AudienceSpec",
    "Platform",
    "SentRecord",
    "build_audience",
    "build_audience_file",
    "check_purposes",
    "load_audience_spec",
    "person_ref",
    "platform",
    "to_e164",
]
