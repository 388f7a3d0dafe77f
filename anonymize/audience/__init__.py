"""Hashed ad audiences: per-platform normalisation, vectorised hashing, upload files.

- `platforms`: one `Platform` per ad platform (its rules, headers, limits and source page),
  `PLATFORMS`, `to_e164`.
- `build`: `build_audience_file` hashes a list's emails or phones for each platform.

- `eligible`: `build_audience` from a catalog table, after consent, opt-outs, the
  suppression ledger and closed accounts, refusing data whose purposes exclude advertising
  or that came from a Google sign-in (Limited Use).

- `SentRecord` (kept in `dsar.records.sent`, where erasure plans read it): who was sent to
  which platform (keyed references and the uploaded hashes, an audit-log entry per run), and
  the removal file for everyone since withdrawn.
"""

from __future__ import annotations

from anonymize.audience.build import AudienceResult, build_audience_file
from anonymize.audience.eligible import (
    AudienceSpec,
    build_audience,
    check_purposes,
    load_audience_spec,
)
from anonymize.audience.platforms import (
    NORMALIZER_VERSION,
    PLATFORMS,
    Platform,
    platform,
    to_e164,
)
from dsar.records.sent import SentRecord, person_ref

__all__ = [
    "NORMALIZER_VERSION",
    "PLATFORMS",
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
