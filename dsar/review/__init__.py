"""Review: check an artifact before it leaves the company, trusting only the artifact.

- `bundle`: `verify_bundle`, the independent checks of an access bundle (folder or zip).
"""

from __future__ import annotations

from dsar.review.bundle import Finding, Verification, verify_bundle

__all__ = ["Finding", "Verification", "verify_bundle"]
