"""Hashed ad audiences: per-platform normalisation, vectorised hashing, upload files.

- `platforms`: one `Platform` per ad platform (its rules, headers, limits and source page),
  `PLATFORMS`, `to_e164`.
- `build`: `build_audience_file` hashes a list's emails or phones for each platform.

Planned (issue 13): audiences from the catalog with eligibility (consent, the suppression
ledger, closed accounts, Google Limited Use), the record of what was sent, withdrawals.
"""

from __future__ import annotations

from anonymize.audience.build import AudienceResult, build_audience_file
from anonymize.audience.platforms import (
    NORMALIZER_VERSION,
    PLATFORMS,
    Platform,
    platform,
    to_e164,
)

__all__ = [
    "NORMALIZER_VERSION",
    "PLATFORMS",
    "AudienceResult",
    "Platform",
    "build_audience_file",
    "platform",
    "to_e164",
]
