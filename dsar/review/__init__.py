"""Review: check an artifact before it leaves the company, trusting only the artifact.

- `bundle`: `verify_bundle`, the independent checks of an access bundle (folder or zip);
  `unzip`: unpacking a zip for review without trusting it.
- `derived`: `verify_derived`, the checks of a de-identified extract or an aggregate run
  (checksums, k and l recomputed, a personal-data scan, cells recomputable from totals).
- `certificate`: `verify_certificate`, the checks of an erasure, correction or retention
  certificate or a folder of them (its model and keyed MAC, its Markdown twin, rows accounted
  per file and table, the files in place unchanged, the erased person's keyed reference gone).
- `audience`: `verify_audience`, the checks of an audience folder (checksums, each
  platform's header and hash shapes, no hash twice, the counts add up; with the sent record
  and the ledger, nobody in the ledger).
- `signoff`: `sign_off`, four-eyes sign-off (a reviewer, then someone else approves the same
  digest) recorded in the register's audit log; `third_party_items` and `load_decisions`,
  the decision per third party a bundle names (ICO factors); `verify_artifact`, the checks
  `dsar verify` runs, chosen by the artifact's kind.
- `manifest`: the typed manifest every artifact carries (`ArtifactManifest`, `BundleManifest`,
  `CertificateManifest`, ...), with `OutputFile.of`, `write_manifest` and `read_manifest`.
"""

from __future__ import annotations

from dsar.records.signoffs import artifact_digest
from dsar.review.audience import verify_audience
from dsar.review.bundle import Finding, Verification, verify_bundle
from dsar.review.certificate import certificate_check, verify_certificate
from dsar.review.derived import recoverable_cells, verify_derived
from dsar.review.manifest import (
    AcceptedWarning,
    AggregateManifest,
    ArtifactKind,
    ArtifactManifest,
    AudienceManifest,
    BundleManifest,
    CertificateManifest,
    ExtractManifest,
    InputRef,
    OutputFile,
    ToolInfo,
    manifest_problems,
    read_manifest,
    write_manifest,
)
from dsar.review.signoff import (
    DisclosureDecision,
    SignOff,
    SignOffRole,
    ThirdPartyConsent,
    ThirdPartyDecision,
    ThirdPartyItem,
    load_decisions,
    sign_off,
    third_party_items,
    verify_artifact,
)

__all__ = [
    "AcceptedWarning",
    "AggregateManifest",
    "ArtifactKind",
    "ArtifactManifest",
    "AudienceManifest",
    "BundleManifest",
    "CertificateManifest",
    "DisclosureDecision",
    "ExtractManifest",
    "Finding",
    "InputRef",
    "OutputFile",
    "SignOff",
    "SignOffRole",
    "ThirdPartyConsent",
    "ThirdPartyDecision",
    "ThirdPartyItem",
    "ToolInfo",
    "Verification",
    "artifact_digest",
    "certificate_check",
    "load_decisions",
    "manifest_problems",
    "read_manifest",
    "recoverable_cells",
    "sign_off",
    "third_party_items",
    "verify_artifact",
    "verify_audience",
    "verify_bundle",
    "verify_certificate",
    "verify_derived",
    "write_manifest",
]
