"""The bundle writer: one person's data as the folder and zip the law asks for, written safely.

bundle/
  manifest.json        the request, the person's identifiers, one entry per file
  report.md, .html     the access statement (GDPR Art. 15, CCPA right to know)
  data/<table>.parquet, .json and .csv (nested values as dotted columns, formulas defused)
  portability/<table>.json and .csv   data the person provided (GDPR Art. 20)
bundle.zip             the same folder, AES-256 encrypted when a passphrase is given (then
                       only the zip remains)

The folder is written under a temporary name, verified (`dsar.review.bundle`, the
reviewer's independent check) before it takes its name: one with findings is set aside as
`<label>.REJECTED` and never zipped. Every file is the owner's only (0600, folders 0700).
"""

from __future__ import annotations

import json
import logging
import secrets
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.parquet as pq

from dsar._version import __version__
from dsar.access.render import Block, to_html, to_markdown
from dsar.access.report import ReportInput, TableFacts, build_blocks, processor_rows
from dsar.access.rows import write_csv
from dsar.catalog.models import Catalog, IdentityKind, LegalBasis, Origin, joined_accounts
from dsar.copies import portable_csv
from dsar.errors import EngineError
from dsar.io import fsync_file, jsonable_rows, output_path, partial_folder, set_aside, sha256_file
from dsar.review.bundle import Finding, verify_bundle
from dsar.review.manifest import (
    BUNDLE_FORMAT_VERSION,
    AcceptedWarning,
    ArtifactKind,
    BundleManifest,
    InputRef,
    MatchRulesInfo,
    OutputFile,
    OwnedInfo,
    RequestInfo,
    StatementBlock,
    StatementInfo,
    SubjectInfo,
    TableInfo,
    ToolInfo,
    sign_manifest,
    write_manifest,
)
from dsar.rights.retention import HeldPast, rows_past_retention
from dsar.subjects.collect import SubjectData
from dsar.subjects.identity import MatchRules
from dsar.text.redact import RedactionLog

if TYPE_CHECKING:
    import pandas as pd

    from dsar.engine.guards import CatalogWarning
    from dsar.keys import Keys

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AccessBundle:
    """A written bundle, and what went into it.

    Attributes:
        label: the request reference.
        path: where the bundle is: the folder `out/<label>`; with a passphrase the encrypted
            zip, the only copy left; for a rejected bundle the folder set aside,
            `out/<label>.REJECTED`.
        zip_path: the zip to send, `out/<label>.zip`; None when the bundle was rejected.
        findings: what the bundle's own verification found; a bundle with findings is
            rejected: set aside, never zipped.
        past_retention: per table, the person's rows the retention sweep would delete (or
            keeps with a retained parent): the statement lists them, the analyst is warned.
    """

    label: str
    path: Path
    zip_path: Path | None
    manifest: BundleManifest
    subject: SubjectData
    redactions: RedactionLog
    findings: tuple[Finding, ...] = ()
    past_retention: tuple[HeldPast, ...] = ()

    @property
    def rejected(self) -> bool:
        """True when the bundle failed its own verification and must not be sent."""
        return bool(self.findings)

    @property
    def matched_nothing(self) -> bool:
        """True when no row matched the identifiers (the bundle says we hold no data)."""
        s = self.subject
        return s.rows == 0 and not s.held_as_processor and not s.set_aside

    def to_frame(self) -> pd.DataFrame:
        """What the bundle holds, one row per table: records, category, legal basis, and how
        many values were masked or redacted (from the manifest; no personal data)."""
        import pandas as pd

        m = self.manifest
        rows = [
            {
                "table": name,
                "records": info.rows,
                "masked": sum(n for c, n in m.secrets_masked.items() if c.startswith(f"{name}."))
                + sum(
                    sum(by.values())
                    for c, by in m.numbers_masked.items()
                    if c.startswith(f"{name}.")
                ),
                "redacted": sum(
                    sum(by.values()) for c, by in m.redacted.items() if c.startswith(f"{name}.")
                ),
                "description": info.description,
            }
            for name, info in m.tables.items()
        ]
        columns = ["table", "records", "masked", "redacted", "description"]
        return pd.DataFrame(rows, columns=columns).set_index("table")


PORTABLE_BASES = (LegalBasis.CONSENT, LegalBasis.CONTRACT)


def _portable(catalog: Catalog, name: str, table: pa.Table) -> pa.Table | None:
    spec = catalog.tables[name]
    if spec.legal_basis not in PORTABLE_BASES:
        return None
    keep = [
        c
        for c in table.column_names
        if (spec.columns[c].origin or spec.origin) is not Origin.INFERRED
    ]
    return table.select(keep) if keep else None


def _write_table(folder: Path, name: str, table: pa.Table, csv: bool = False) -> list[Path]:
    folder.mkdir(mode=0o700, exist_ok=True)
    written = []
    if not csv:
        pq.write_table(table, path := output_path(folder, name, "table name", ".parquet"))
        written.append(path)
    text = json.dumps(jsonable_rows(table), indent=1, ensure_ascii=False, default=str) + "\n"
    (path := output_path(folder, name, "table name", ".json")).write_text(text, encoding="utf-8")
    written.append(path)
    if not csv:  # every table as CSV for a spreadsheet: nested values as dotted columns
        write_csv(path := output_path(folder, name, "table name", ".csv"), table)
        written.append(path)
    else:
        path = output_path(folder, name, "table name", ".csv")
        # a name stored as `=HYPERLINK(...)` must not run when the person opens the CSV;
        # the JSON and Parquet files keep the value as it is
        path.write_bytes(portable_csv(table))
        written.append(path)
    return written


def _statement(blocks: list[Block], hole: str, title: str) -> StatementInfo:
    """The statement's template for the manifest: each block as rendered, the cells of the
    person's rows (`hole` in `blocks`) left null."""
    return StatementInfo(
        title=title,
        blocks=tuple(
            StatementBlock(
                kind=b.kind.value,
                text=b.text,
                items=b.items,
                header=b.header,
                rows=tuple(tuple(None if c == hole else c for c in row) for row in b.rows),
                summary=b.summary,
                links=b.links,
                data=b.data,
                table=b.table or None,
            )
            for b in blocks
        ),
    )


def write_bundle(
    out: Path,
    catalog: Catalog,
    subject: SubjectData,
    tables: dict[str, pa.Table],
    record: RedactionLog,
    rules: MatchRules,
    nlp_notice: str | None,
    passphrase: str | None,
    now: datetime,
    *,
    engine_name: str = "duckdb",
    accepted: Sequence[CatalogWarning] = (),
    keys: Keys | None = None,
    accept_joined: bool = False,
) -> AccessBundle:
    """Write the bundle into a `.<label>.partial-*` folder, verify it, then name it.

    `accepted`: the catalog warnings accepted to answer (`dsar.engine.guards`), recorded in
    the manifest and the statement; `engine_name`: the kind of engine that read the rows,
    as the manifest records it; `keys`: the workbench key, for the manifest's MAC (without
    it the manifest carries none, and `dsar verify` says it is not authenticated);
    `accept_joined`: the analyst checked that the accounts the search joined are all the
    person's (recorded in the manifest; without it such a bundle fails its own check).

    A bundle that passes (the folder, then its zip) becomes `out/<label>` and
    `out/<label>.zip`; with a passphrase only the encrypted zip remains. One with findings
    becomes `out/<label>.REJECTED` and is not zipped. Whatever happens, no partial folder,
    temporary zip or unpacked copy is left behind.
    """
    identity = subject.identity
    label = identity.request.label
    final = output_path(out, label, "request label")
    zip_final = output_path(out, label, "request label", ".zip")
    out.mkdir(mode=0o700, parents=True, exist_ok=True)
    # the bundle is written in `work/<label>` and zipped to `work/<label>.zip`, both inside
    # one partial folder: whatever is not renamed out of it goes with it, on failure too
    with partial_folder(out, label) as work:
        tmp = work / label
        tmp.mkdir(mode=0o700)
        files: list[OutputFile] = []
        portable: list[str] = []
        facts = []
        order = [n for n in catalog.tables if n in tables and tables[n].num_rows]
        held = _past_retention(catalog, subject, now, label)
        for name in order:
            table = tables[name]
            spec = catalog.tables[name]
            cats = sorted({spec.column_category(c).value for c in table.column_names})
            for path in _write_table(tmp / "data", name, table):
                files.append(
                    OutputFile.of(path, tmp, rows=table.num_rows, table=name, categories=cats)
                )
            if (ptable := _portable(catalog, name, table)) is not None:
                portable.append(name)
                for path in _write_table(tmp / "portability", name, ptable, csv=True):
                    files.append(
                        OutputFile.of(path, tmp, rows=ptable.num_rows, table=name, categories=cats)
                    )
            masked = sum(n for k, n in record.secrets.items() if k.startswith(f"{name}."))
            redacted = {c: v for c, v in record.by_column().items() if c.startswith(f"{name}.")}
            numbers = {
                c: v for c, v in record.masked_by_column().items() if c.startswith(f"{name}.")
            }
            facts.append(
                TableFacts(
                    name,
                    table.num_rows,
                    tuple(table.column_names),
                    masked,
                    redacted,
                    f"data/{name}.parquet",
                    numbers,
                    data=table,
                    past_retention=held.get(name),
                )
            )
        past = tuple(held[n] for n in order if n in held)
        given = tuple(str(k) for k in identity.request.keys)
        report = ReportInput(
            catalog=catalog,
            label=label,
            created=now,
            identifiers=given,
            provenance=tuple(
                p.describe() for p in sorted(identity.provenance.values(), key=lambda p: p.round)
            ),
            tables=tuple(facts),
            held_as_processor=processor_rows(catalog, subject.held_as_processor),
            set_aside=dict(subject.set_aside),
            portability=tuple(portable),
            erased_before=subject.erased_before,
            accepted_warnings=tuple(f"[{w.code}] {w.line}" for w in accepted),
            erasure_pending=subject.erasure_pending,
            found=tuple(sorted(identity.provenance.values(), key=lambda p: p.round)),
        )
        blocks = build_blocks(report)
        page_title = f"Your data: {label}"
        (tmp / "report.md").write_text(to_markdown(blocks), encoding="utf-8")
        (tmp / "report.html").write_text(to_html(blocks, page_title), encoding="utf-8")
        hole = secrets.token_hex(16)  # stands for each data cell: never text of the catalog
        statement = _statement(build_blocks(report, hole), hole, page_title)
        files += [OutputFile.of(tmp / "report.md", tmp), OutputFile.of(tmp / "report.html", tmp)]
        manifest = _manifest(
            catalog, subject, order, tables, record, rules, files, now, nlp_notice, engine_name
        )
        update: dict[str, object] = {"statement": statement}
        if accepted:
            update["accepted_catalog_warnings"] = tuple(map(AcceptedWarning.of, accepted))
        if accept_joined and joined_accounts(manifest.subject.identifiers):
            update["accepted_joined_accounts"] = True
        manifest = sign_manifest(manifest.model_copy(update=update), keys)
        write_manifest(manifest, tmp / "manifest.json")
        _owner_only(tmp)
        findings = verify_bundle(tmp, keys=keys).findings
        if not findings:  # then the very file that leaves: byte for byte the verified folder
            zipped = _zip(tmp, tmp.with_name(zip_final.name), passphrase, label)
            findings = _zip_differences(zipped, tmp, passphrase, label)
        if findings:
            aside = _set_aside(tmp, out, label)
            return AccessBundle(
                label, aside, None, manifest, subject, record, tuple(findings), past
            )
        # The zip first: it is what is sent. Stopped between the two, the zip is whole and the
        # folder goes (after a kill, the next run removes it); with a passphrase it goes now.
        zipped.replace(zip_final)
        if passphrase:
            return AccessBundle(label, zip_final, zip_final, manifest, subject, record, (), past)
        tmp.replace(final)
        return AccessBundle(label, final, zip_final, manifest, subject, record, (), past)


def _past_retention(
    catalog: Catalog, subject: SubjectData, now: datetime, label: str
) -> dict[str, HeldPast]:
    """Per table, the person's rows the retention sweep would delete today: the sweep's own
    rules (`dsar.rights.retention`), applied to these rows."""
    try:
        held = rows_past_retention(catalog, subject.tables, now.date())
    except EngineError as exc:
        log.warning("bundle %s: rows past retention not counted: %s", label, exc)
        return {}
    return {h.action.table: h for h in held}


def _owner_only(folder: Path) -> None:
    """Folders 0700, files 0600: personal data is the owner's only.

    Each file is written inside a folder made 0700 first, so no one else can reach it
    before its own mode is set; the process umask is not touched (other threads share it).
    """
    folder.chmod(0o700)
    for path in folder.rglob("*"):
        path.chmod(0o700 if path.is_dir() else 0o600)


def _set_aside(tmp: Path, out: Path, label: str) -> Path:
    """Rename a bundle that failed verification to `<label>.REJECTED` (then `-2`, `-3`...)."""
    return set_aside(tmp, out, label, "request label")


def _manifest(
    catalog: Catalog,
    subject: SubjectData,
    order: list[str],
    tables: dict[str, pa.Table],
    record: RedactionLog,
    rules: MatchRules,
    files: list[OutputFile],
    now: datetime,
    nlp_notice: str | None,
    engine_name: str,
) -> BundleManifest:
    identity = subject.identity
    ids: dict[IdentityKind, list[str]] = {}
    for key in sorted(identity.keys):
        ids.setdefault(key.kind, []).append(key.value)
    catalog_file = catalog.source if catalog.source and catalog.source.is_file() else None
    table_info = {}
    for name in order:
        spec = catalog.tables[name]
        table_info[name] = TableInfo(
            rows=tables[name].num_rows,
            description=spec.description,
            identity_columns=spec.identity_columns(),
            secret_columns=tuple(c for c, col in spec.columns.items() if col.secret),
            free_text_columns=tuple(c for c, col in spec.columns.items() if col.free_text),
            owned_through=None
            if spec.owned_through is None
            else OwnedInfo(
                column=spec.owned_through.column,
                parent_table=spec.owned_through.parent_table,
                parent_column=spec.owned_through.parent_column,
            ),
        )
    return BundleManifest(
        kind=ArtifactKind.ACCESS_BUNDLE,
        format_version=BUNDLE_FORMAT_VERSION,
        tool=ToolInfo(name="privacy-workbench", version=__version__, engine=engine_name),
        created_at=now,
        inputs=(
            InputRef(
                role="catalog",
                name=catalog_file.name if catalog_file else None,
                sha256=sha256_file(catalog_file) if catalog_file else None,
            ),
        ),
        outputs=tuple(files),
        parameters={},
        request=RequestInfo(
            label=identity.request.label,
            type="access",
            identifiers_given=tuple(str(k) for k in identity.request.keys),
            created_at=now,
        ),
        subject=SubjectInfo(
            identifiers={k: tuple(v) for k, v in ids.items()},
            provenance=tuple(p.describe() for p in identity.provenance.values()),
        ),
        match_rules=MatchRulesInfo(
            gmail_dots=rules.gmail_dots,
            plus_addressing=rules.plus_addressing,
            phone_region=rules.phone_region,
        ),
        controller=catalog.controller.name,
        tables=table_info,
        secrets_masked=dict(record.secrets),
        redacted=record.by_column(),
        numbers_masked=record.masked_by_column(),
        held_as_processor=processor_rows(catalog, subject.held_as_processor),
        set_aside_for_review=dict(subject.set_aside),
        nlp_notice=nlp_notice,
    )


def _zip_differences(zipped: Path, folder: Path, passphrase: str | None, top: str) -> list[Finding]:
    """Where the zip differs from the verified folder: every entry is read back (decrypted,
    so a wrong key or a damaged entry shows) and compared with its file, byte for byte.

    Verifying the folder, then proving the zip holds exactly it, costs half of verifying
    the unpacked zip again (measured on the 250,000-user export: 100 bundles written in
    4.2-4.9 s, against 5.8-6.1 s).
    """
    expected = {
        f"{top}/{p.relative_to(folder).as_posix()}": p
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }
    found: list[Finding] = []
    archive: Any
    if passphrase:
        import pyzipper  # its AES imports cost 0.1 s at every start: only for encrypted zips

        archive = pyzipper.AESZipFile(zipped)
        archive.setpassword(passphrase.encode("utf-8"))
    else:
        archive = zipfile.ZipFile(zipped)
    with archive:
        names = set(archive.namelist())
        for name in sorted(names ^ set(expected)):
            found.append(Finding("zip", name, "in the folder or the zip, not both"))
        for name in sorted(names & set(expected)):
            if archive.read(name) != expected[name].read_bytes():
                found.append(Finding("zip", name, "differs from the verified file"))
    return found


def _zip(folder: Path, target: Path, passphrase: str | None, top: str) -> Path:
    """Zip the bundle under `top/` into a temporary file beside `target` (0600, fsynced),
    returned for the caller to rename; with a passphrase, AES-256 (WinZip AE-2, 7-Zip)."""
    tmp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
    tmp.touch(mode=0o600, exist_ok=False)
    try:
        if passphrase:
            import pyzipper

            archive: Any = pyzipper.AESZipFile(
                tmp, "w", compression=zipfile.ZIP_DEFLATED, encryption=pyzipper.WZ_AES
            )
            archive.setpassword(passphrase.encode("utf-8"))
        else:
            archive = zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED)
        with archive:
            for path in sorted(folder.rglob("*")):
                if path.is_file():
                    archive.write(path, f"{top}/{path.relative_to(folder).as_posix()}")
        fsync_file(tmp)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp
