"""Check an erasure, correction or retention certificate without the code that wrote it.

The certificate's JSON is its own manifest (`CertificateManifest`); `verify_certificate`
reads it through the model, checks its Markdown twin's checksum, that the job, the kind and
the row accounting agree (an erasure or a sweep never adds rows, a correction never removes
any), and, given the export's folder, that the files it says it put in place are the ones
there now (until a later change replaces them again).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from dsar.io import sha256_file
from dsar.review.bundle import Finding, Verification
from dsar.review.manifest import CERTIFICATE_KINDS, CertificateManifest, manifest_problems


def verify_certificate(path: str | Path, export: str | Path | None = None) -> Verification:
    """Verify a certificate's JSON file (and, with `export`, the files it replaced).

    Args:
        path: `<label>-<job>-certificate.json`.
        export: the export's folder: each replaced file's current SHA-256 is compared with
            the one the certificate records.
    """
    path = Path(path)
    result = Verification(path)
    add = result.findings.append
    try:
        cert = CertificateManifest.model_validate_json(path.read_bytes())
    except ValidationError as exc:
        for where, message in manifest_problems(exc):
            add(Finding("manifest", where or path.name, message))
        return result
    result.note_accepted(cert)
    if CERTIFICATE_KINDS[cert.job] is not cert.kind:
        add(Finding("manifest", "kind", f"a {cert.kind.value} for the job {cert.job}"))
    for output in cert.outputs:
        twin = path.parent / output.path
        if not twin.is_file():
            add(Finding("checksum", output.path, "missing"))
        elif sha256_file(twin) != output.sha256 or twin.stat().st_size != output.bytes:
            add(Finding("checksum", output.path, "changed since the certificate was written"))
        else:
            result.checked_files += 1
    for change in cert.files_replaced:
        where = f"files_replaced: {change.file}"
        removed = change.rows_before - change.rows_after
        if cert.job == "correction" and removed:
            add(Finding("accounting", where, f"a correction removed {removed} row(s)"))
        elif removed < 0:
            add(Finding("accounting", where, f"the {cert.job} added {-removed} row(s)"))
        result.checked_rows += change.rows_before
        if export is not None:
            named = [p for p in Path(export).rglob(change.file) if p.is_file()]
            found = sha256_file(named[0]) if len(named) == 1 else None
            if found != change.sha256_after:
                add(
                    Finding(
                        "export",
                        where,
                        "the file in the export is not the one this change put in place"
                        " (changed since, or never applied)",
                    )
                )
    return result


__all__ = ["verify_certificate"]
