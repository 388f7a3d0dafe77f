"""Check an erasure, correction or retention certificate without the code that wrote it.

The certificate's JSON is its own manifest (`CertificateManifest`); `verify_certificate`
reads it through the model and checks:

- with the key, its keyed MAC (an edited count, a file name or checksum moved by hand); without
  it, a notice says that nothing is authenticated;
- its Markdown twin's checksum; that the job and the kind agree;
- the row accounting: per file and per table, rows before = rows after + rows removed (an
  erasure or a sweep never adds rows, a correction never removes any), the files summing to
  their table;
- given the export (its catalog, or its folder), that every file it replaced is still the one
  it put in place (a file changed since is a finding, with its rows now when they differ);
- given the catalog and the key, for an erasure, that the person's keyed reference is in no
  identity column of the tables it erased them from (rows kept by law, with a parent, for
  customers or for review are not checked).

A certificate written before format 2 (no plan, no accounting, no MAC) is read and checked
for what it holds; a notice says what could not be checked. Findings name the file, table or
field, never a value.
"""

from __future__ import annotations

import glob
import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import ValidationError

from dsar.errors import UnreadableArtifactError, WorkbenchError
from dsar.io import sha256_file
from dsar.review.bundle import Finding, Verification
from dsar.review.manifest import (
    CERTIFICATE_KINDS,
    CertificateManifest,
    FileChangeInfo,
    check_mac,
    manifest_problems,
)

if TYPE_CHECKING:
    from dsar.catalog.models import Catalog
    from dsar.engine import Engine
    from dsar.keys import Keys


def is_certificate(path: Path) -> bool:
    """Whether a JSON file declares a certificate's kind, or is an untyped certificate of an
    older version (read as JSON, nothing trusted)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and (
        str(data.get("kind")) in _KINDS or _untyped_job(data) is not None
    )


_KINDS = {kind.value for kind in CERTIFICATE_KINDS.values()}
_UNTYPED = "privacy-workbench/{}-certificate"  # the `format` before the typed manifest


def _untyped_job(data: dict[str, object]) -> str | None:
    """The job of a certificate written before the typed manifest (no `kind`, a `format`
    naming the job), else None."""
    if "kind" in data:
        return None
    return next(
        (job for job in CERTIFICATE_KINDS if data.get("format") == _UNTYPED.format(job)), None
    )


def _typed(data: dict[str, object], job: str) -> dict[str, object]:
    """An untyped certificate as format 1 reads it: its kind from its job, no Markdown twin
    listed (it kept no checksum of it), no inputs or parameters."""
    typed = {k: v for k, v in data.items() if k != "format"}
    return typed | {
        "kind": CERTIFICATE_KINDS[job].value,
        "format_version": 1,
        "created_at": data.get("applied_at"),
        "inputs": [],
        "outputs": [],
        "parameters": {},
    }


def certificates_in(folder: Path) -> list[Path]:
    """The certificates' JSON files in a folder (not below it), by name."""
    return sorted(p for p in folder.glob("*.json") if p.is_file() and is_certificate(p))


def verify_certificate(
    path: str | Path,
    export: str | Path | None = None,
    *,
    keys: Keys | None = None,
    catalog: Catalog | None = None,
    accept_unsigned: bool = False,
) -> Verification:
    """Verify a certificate's JSON file, or every certificate in a folder.

    Args:
        path: `<label>-<job>-certificate.json`, or the folder the certificates were written
            to (each is checked; a finding's location starts with its file's name).
        export: the export's folder: each replaced file (found by name below it) must have
            the SHA-256 the certificate records after the change.
        keys: the workbench key: the certificate's MAC is checked (a MAC that fails, or none,
            is a finding), and with `catalog` the erased person's keyed reference is looked
            for in the rewritten files.
        catalog: the export's catalog: each replaced file is found where the catalog reads
            the table (rather than by name under `export`) and its rows are counted.
        accept_unsigned: with `keys`, a certificate of a format before the MAC (format 1,
            or untyped) is read with a notice and the result marked `unauthenticated`
            (never signed off); without it, such a certificate is a finding: a current one
            with its MAC removed and its version set back reads the same.

    Raises:
        UnreadableArtifactError: a folder that holds no certificate.
    """
    path = Path(path)
    if not path.is_dir():
        return _verify_one(path, export, keys, catalog, accept_unsigned)
    found = certificates_in(path)
    if not found:
        raise UnreadableArtifactError(
            path,
            "no certificate in this folder",
            "give a certificate's JSON file, or the folder `erase apply --out` wrote to",
        )
    result = Verification(path)
    for cert in found:
        one = _verify_one(cert, export, keys, catalog, accept_unsigned)
        result.findings += [
            Finding(f.check, f"{cert.name}: {f.where}", f.message) for f in one.findings
        ]
        result.notices += [f"{cert.name}: {n}" for n in one.notices]
        result.checked_files += one.checked_files
        result.checked_rows += one.checked_rows
        result.unauthenticated |= one.unauthenticated
    return result


def _verify_one(
    path: Path,
    export: str | Path | None,
    keys: Keys | None,
    catalog: Catalog | None,
    accept_unsigned: bool = False,
) -> Verification:
    if not path.is_file():
        raise UnreadableArtifactError(
            path, "no such certificate file", "give a certificate's JSON file or its folder"
        )
    result = Verification(path)
    add = result.findings.append
    raw = path.read_bytes()
    try:
        data = json.loads(raw)
    except ValueError:
        data = None
    if isinstance(data, dict) and "kind" in data and str(data["kind"]) not in _KINDS:
        raise UnreadableArtifactError(
            path,
            f"a manifest of kind {str(data['kind'])!r} is not a certificate",
            "give the artifact's folder to dsar verify",
        )
    untyped = _untyped_job(data) if isinstance(data, dict) else None
    try:
        if isinstance(data, dict) and untyped is not None:
            cert = CertificateManifest.model_validate(_typed(data, untyped))
        else:
            cert = CertificateManifest.model_validate_json(raw)
    except ValidationError as exc:
        for where, message in manifest_problems(exc):
            add(Finding("manifest", where or path.name, message))
        return result
    result.note_accepted(cert)
    if CERTIFICATE_KINDS[cert.job] is not cert.kind:
        add(Finding("manifest", "kind", f"a {cert.kind.value} for the job {cert.job}"))
    if untyped is not None:
        _unsigned(
            "written by an older version (an untyped certificate, before format 1): not"
            " checkable for its MAC, the plan it executed, the per-table accounting or its"
            " Markdown twin (only its files' rows and checksums are)",
            keys,
            accept_unsigned,
            result,
        )
    else:
        _check_mac(cert, data, keys, accept_unsigned, result)
    for output in cert.outputs:
        twin = path.parent / output.path
        if not twin.is_file():
            add(Finding("checksum", output.path, "missing"))
        elif sha256_file(twin) != output.sha256 or twin.stat().st_size != output.bytes:
            add(Finding("checksum", output.path, "changed since the certificate was written"))
        else:
            result.checked_files += 1
    _check_accounting(cert, result)
    if catalog is None and export is None:
        result.notices.append(
            "the export was not checked: give its catalog (--catalog) or folder (--export) to"
            f" check that the files the {cert.job} put in place are still there, unchanged"
        )
        return result
    if catalog is not None:
        _check_export(cert, catalog, keys, result)
    else:
        assert export is not None
        if cert.job == "erasure" and cert.subject:
            result.notices.append(
                "the erased person's keyed reference was not looked for in the files: give the"
                " export's catalog (--catalog), which names their identity columns"
            )
        for change in cert.files_replaced:
            named = [p for p in Path(export).rglob(glob.escape(change.file)) if p.is_file()]
            current = sha256_file(named[0]) if len(named) == 1 else None
            if current is None:
                add(Finding("export", _where(change), "not found in the export"))
            elif current != change.sha256_after:
                add(Finding("export", _where(change), f"changed since the {cert.job}"))
    return result


def _where(change: FileChangeInfo) -> str:
    return f"{change.file} (table {change.table})"


def _unsigned(notice: str, keys: Keys | None, accept: bool, result: Verification) -> None:
    """A certificate of a format without a MAC. With the key it is a finding, unless
    `accept_unsigned` was given: nothing tells it from a current certificate whose MAC was
    removed and its version set back (recipients emptied, counts rewritten). Accepted, or
    without the key, it is read with a notice and the result is not authenticated."""
    result.unauthenticated = True
    if keys is not None and not accept:
        result.findings.append(
            Finding(
                "manifest",
                "mac",
                f"no MAC although a key was given: {notice.partition(':')[0]}, or a current"
                " certificate with its MAC removed and its version set back; pass"
                " --accept-unsigned (accept_unsigned=True) to read it as an old certificate,"
                " never signed off",
            )
        )
        return
    result.notices.append(notice)


def _check_mac(
    cert: CertificateManifest,
    data: object,
    keys: Keys | None,
    accept_unsigned: bool,
    result: Verification,
) -> None:
    """With the key, the MAC must verify; without it, a notice. A format before the MAC:
    `_unsigned`."""
    if cert.format_version < 2:
        _unsigned(
            f"written by an older version (format {cert.format_version}): not checkable for"
            " its MAC, the plan it executed and the per-table accounting (only its files'"
            " rows and checksums are)",
            keys,
            accept_unsigned,
            result,
        )
        return
    check_mac(
        keys,
        cert.mac,
        lambda: data,
        result,
        on_trust="its counts and checksums are taken on trust (whoever edits a file can write"
        " them again)",
        unsigned="written without the key, or its MAC removed",
        name="the certificate",
        where="mac",
    )


def _check_accounting(cert: CertificateManifest, result: Verification) -> None:
    """Per file and per table: rows before = rows after + rows removed."""
    add = result.findings.append
    sums: dict[str, list[int]] = {}
    for change in cert.files_replaced:
        where = f"files_replaced: {change.file} (table {change.table})"
        removed = change.rows_before - change.rows_after
        if cert.job == "correction" and removed:
            add(Finding("accounting", where, f"a correction removed {removed} row(s)"))
        elif removed < 0:
            add(Finding("accounting", where, f"the {cert.job} added {-removed} row(s)"))
        result.checked_rows += change.rows_before
        total = sums.setdefault(change.table, [0, 0])
        total[0] += change.rows_before
        total[1] += change.rows_after
    if cert.accounting is None:
        return
    for table in sorted(set(sums) | set(cert.accounting)):
        where = f"accounting.{table}"
        entry = cert.accounting.get(table)
        if entry is None:
            add(Finding("accounting", where, "a table with files replaced is not accounted"))
            continue
        if table not in sums:
            add(Finding("accounting", where, "accounted, but none of its files is listed"))
            continue
        before, after = sums[table]
        if entry.rows_before != before:
            add(Finding("accounting", f"{where}.rows_before", "differs from its files' sum"))
        if entry.rows_after != after:
            add(Finding("accounting", f"{where}.rows_after", "differs from its files' sum"))
        if entry.rows_before != entry.rows_after + entry.rows_removed:
            add(
                Finding(
                    "accounting",
                    f"{where}.rows_removed",
                    f"rows before ({entry.rows_before}) are not rows after"
                    f" ({entry.rows_after}) + rows removed ({entry.rows_removed})",
                )
            )
        if cert.job == "correction" and entry.rows_removed:
            add(Finding("accounting", f"{where}.rows_removed", "a correction removes no row"))
        planned = cert.plan.changes.get(table, 0) if cert.plan is not None else None
        if planned is not None and entry.rows_removed + entry.rows_changed != planned:
            add(
                Finding(
                    "accounting",
                    f"{where}.rows_changed",
                    f"rows removed and changed ({entry.rows_removed + entry.rows_changed})"
                    f" are not the plan's ({planned})",
                )
            )
    if cert.plan is not None:
        for table, rows in sorted(cert.plan.changes.items()):
            if rows and table not in cert.accounting:
                add(
                    Finding(
                        "accounting",
                        f"plan.changes.{table}",
                        f"the plan changes {rows} row(s) of a table none of whose files was"
                        " replaced",
                    )
                )


def _check_export(
    cert: CertificateManifest, catalog: Catalog, keys: Keys | None, result: Verification
) -> None:
    """Each replaced file, where the catalog reads its table: unchanged since (with its rows
    now when they differ), and for an erasure with the key, without the person's keyed
    reference where they were erased."""
    add = result.findings.append
    located: list[tuple[FileChangeInfo, Path, bool]] = []  # the change, the file, changed
    for change in cert.files_replaced:
        paths = (
            [p for p in catalog.files(change.table) if p.name == change.file]
            if change.table in catalog.tables
            else []
        )
        if len(paths) != 1:
            add(Finding("export", _where(change), "not among the files the catalog reads"))
            continue
        located.append((change, paths[0], sha256_file(paths[0]) != change.sha256_after))
    erased = _erased_columns(cert, catalog) if keys is not None else {}
    if cert.job == "erasure" and cert.subject and keys is None:
        result.notices.append(
            "the erased person's keyed reference was not looked for in the files: give the key"
        )
    try:
        engine = _open(catalog)
    except WorkbenchError as exc:  # a file damaged past reading: the checksums say enough
        for change, _, changed in located:
            if changed:
                add(Finding("export", _where(change), f"changed since the {cert.job}"))
        result.notices.append(
            f"the export cannot be read ({type(exc).__name__}): rows not counted, and nobody"
            " looked for in the files"
        )
        return
    with engine:
        for change, path, changed in located:
            if changed:
                add(Finding("export", _where(change), _changed(cert, change, engine, path)))
            if keys is not None and cert.subject and change.table in erased:
                _look_for_subject(cert.subject, keys, catalog, engine, change, path, erased, result)


def _open(catalog: Catalog) -> Engine:
    from dsar.engine import open_engine

    return open_engine(catalog)


def _changed(cert: CertificateManifest, change: FileChangeInfo, engine: Engine, path: Path) -> str:
    """ "changed since the erasure", with the file's rows now when they differ."""
    try:
        rows = engine.count_file_rows(change.table, path)
    except WorkbenchError:
        return f"changed since the {cert.job}; it cannot be read as its table now"
    if rows != change.rows_after:
        return f"changed since the {cert.job}; {rows} row(s) now, {change.rows_after} after it"
    return f"changed since the {cert.job}"


def _look_for_subject(
    subject: str,
    keys: Keys,
    catalog: Catalog,
    engine: Engine,
    change: FileChangeInfo,
    path: Path,
    erased: dict[str, list[str]],
    result: Verification,
) -> None:
    """A finding per column of the file that still holds the erased person's reference."""
    try:
        holding = list(
            _columns_holding(
                engine, catalog, change.table, path, erased[change.table], subject, keys
            )
        )
    except WorkbenchError:  # unreadable: not searched, and said so
        result.notices.append(f"{_where(change)} could not be read: not searched for the person")
        return
    for column in holding:
        result.findings.append(
            Finding(
                "identifier",
                f"{_where(change)}, column {column}",
                "the erased person's keyed reference is still there",
            )
        )


def _erased_columns(cert: CertificateManifest, catalog: Catalog) -> dict[str, list[str]]:
    """Per table the erasure emptied of the person: the identity columns that must no longer
    hold them (all, where their rows were deleted; the columns emptied or pseudonymized)."""
    if cert.job != "erasure" or not isinstance(cert.erased, list):
        return {}
    others = set()
    for part in (cert.held_for_customers, cert.set_aside_for_review):
        if isinstance(part, dict):
            others |= set(part)
    columns: dict[str, list[str]] = {}
    for entry in cert.erased:
        if not isinstance(entry, dict) or entry.get("kept_with_parent"):
            continue
        table = str(entry.get("table"))
        if table in others or table not in catalog.tables:
            continue
        identity = list(catalog.tables[table].identity_columns())
        action = entry.get("action")
        if action == "delete":
            columns[table] = identity
        elif action in ("nullify", "pseudonymize") and isinstance(
            named_columns := entry.get("columns"), list
        ):
            named = {str(c) for c in named_columns}
            columns[table] = [c for c in identity if c in named]
    return {t: c for t, c in columns.items() if c}


def _columns_holding(
    engine: Engine,
    catalog: Catalog,
    table: str,
    path: Path,
    columns: list[str],
    subject: str,
    keys: Keys,
) -> Iterator[str]:
    """The columns of one file in which some value's keyed reference is the subject's."""
    from dsar.engine.base import quote_identifier
    from dsar.records.audit import subject_ref
    from dsar.subjects.identity import SubjectKey, normalize, with_catalog_rules

    kinds = catalog.tables[table].identity_columns()
    rules = with_catalog_rules(None, catalog)  # a phone read as the erasure read it
    relation = engine.files_relation(table, [path])
    for column in columns:
        col = quote_identifier(column)
        values = engine.query(
            f"SELECT DISTINCT CAST({col} AS VARCHAR) AS v FROM {relation} WHERE {col} IS NOT NULL"
        ).column("v")
        kind = kinds[column]
        for value in values.to_pylist():
            norm = normalize(kind, value, rules)
            if norm is not None and subject_ref(keys, SubjectKey(kind, norm)) == subject:
                yield column
                break


__all__ = ["certificates_in", "is_certificate", "verify_certificate"]


def certificate_check(path: Path, catalog: Catalog, keys: Keys | None) -> tuple[bool, int]:
    """A certificate's checks run again before it leaves (`Register.update(...,
    certificate_check=...)` for `sent`): whether it passes, and its number of findings."""
    checked = verify_certificate(path, None, keys=keys, catalog=catalog)
    return checked.ok, len(checked.findings)
