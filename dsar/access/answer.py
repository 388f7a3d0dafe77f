"""Access and portability: one person's data as a bundle the person can use and the law accepts.

bundle/
  manifest.json        the request, the person's identifiers, one entry per file
  report.md, .html     the access statement (GDPR Art. 15, CCPA right to know)
  data/<table>.parquet and data/<table>.json
  portability/<table>.json and .csv   data the person provided (GDPR Art. 20)
bundle.zip             the same folder, AES-256 encrypted when a passphrase is given (then
                       only the zip remains)

A bundle is verified (`dsar.review.bundle`, the reviewer's independent check) before it
takes its name: one with findings is set aside as `<label>.REJECTED` and never zipped.
Every file is the owner's only (0600, folders 0700).
"""

from __future__ import annotations

import csv
import itertools
import json
import logging
import re
import secrets
import shutil
import time
import zipfile
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from dsar._version import __version__
from dsar.access.report import (
    ReportInput,
    TableFacts,
    build_blocks,
    processor_rows,
    to_html,
    to_markdown,
)
from dsar.catalog.models import Catalog, IdentityKind, LegalBasis, Origin
from dsar.engine import Engine, open_engine
from dsar.errors import IdentifierError, InternalError, WorkbenchError
from dsar.io import fsync_file, jsonable_rows, output_path, plain_name, sha256_file
from dsar.records.audit import subject_ref
from dsar.records.register import Register
from dsar.review.bundle import Finding, verify_bundle
from dsar.review.manifest import (
    BUNDLE_FORMAT_VERSION,
    ArtifactKind,
    BundleManifest,
    InputRef,
    MatchRulesInfo,
    OutputFile,
    RequestInfo,
    SubjectInfo,
    TableInfo,
    ToolInfo,
    write_manifest,
)
from dsar.subjects.collect import ProgressFn, SubjectData, collect
from dsar.subjects.identity import MatchRules, SubjectRequest, make_key
from dsar.text.nlp import NlpSettings
from dsar.text.redact import RedactionLog, Redactor

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger(__name__)
PORTABLE_BASES = (LegalBasis.CONSENT, LegalBasis.CONTRACT)


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
    """

    label: str
    path: Path
    zip_path: Path | None
    manifest: BundleManifest
    subject: SubjectData
    redactions: RedactionLog
    findings: tuple[Finding, ...] = ()

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
                "masked": sum(n for c, n in m.secrets_masked.items() if c.startswith(f"{name}.")),
                "redacted": sum(
                    sum(by.values()) for c, by in m.redacted.items() if c.startswith(f"{name}.")
                ),
                "description": info.description,
            }
            for name, info in m.tables.items()
        ]
        columns = ["table", "records", "masked", "redacted", "description"]
        return pd.DataFrame(rows, columns=columns).set_index("table")


def new_label(now: datetime | None = None, prefix: str = "AR") -> str:
    """A request reference such as 'AR-20261129-4f2a9c' (random, so it reveals no one)."""
    now = now or datetime.now(UTC)
    return f"{prefix}-{now:%Y%m%d}-{secrets.token_hex(3)}"


def answer_access_requests(
    catalog: Catalog,
    requests: Sequence[SubjectRequest],
    out: str | Path,
    *,
    engine: Engine | None = None,
    rules: MatchRules | None = None,
    nlp: NlpSettings | None = None,
    passphrase: str | None = None,
    now: datetime | None = None,
    register: Register | None = None,
    progress: ProgressFn | None = None,
) -> list[AccessBundle]:
    """Answer one or many access requests in one pass over the data, a bundle for each.

    `progress`, when given, is called with a short line before each step (each table read,
    the redaction, each bundle written), for a command line or a notebook to show.

    Examples:
        >>> from dsar import load_catalog
        >>> from dsar.subjects.identity import SubjectRequest, make_key
        >>> from dsar.catalog import IdentityKind
        >>> catalog = load_catalog("demo-export/catalog.yml")  # doctest: +SKIP
        >>> request = SubjectRequest("AR-1", (make_key(IdentityKind.EMAIL, "ann@example.com"),))
        >>> [bundle] = answer_access_requests(catalog, [request], "bundles")  # doctest: +SKIP
    """
    out = Path(out)
    started = time.time()
    labels = [r.label for r in requests]
    if len(set(labels)) != len(labels):
        raise WorkbenchError("two requests share a label; give each request its own reference")
    for label in labels:
        for suffix in ("", ".zip"):
            if output_path(out, label, "request label", suffix).exists():
                raise WorkbenchError(
                    f"a bundle {out / label}{suffix} exists already; choose another --out"
                )
    say = progress or (lambda _line: None)
    if removed := _remove_leftovers(out, started):
        line = f"removed {removed} leftover(s) of an interrupted access run from {out}"
        if progress:
            say(line)
        else:
            log.warning(line)
    rules = rules or MatchRules()
    redactor = Redactor(catalog, nlp, rules)
    with ExitStack() as stack:
        # Loading Presidio and a spaCy model takes two to three seconds of mostly Python
        # work: it starts first and overlaps with sniffing the files and the scans, during
        # which DuckDB releases the GIL.
        pool = stack.enter_context(ThreadPoolExecutor(max_workers=1))
        loading = pool.submit(redactor.warm_up) if _has_free_text(catalog) else None
        if engine is None:
            say(f"opening {len(catalog.tables)} tables (reading each file's layout)")
            engine = stack.enter_context(open_engine(catalog))
        subjects = collect(engine, catalog, requests, rules, say)
        say("looking up the people named in free text")
        redactor.prepare(engine, [s.tables for s in subjects])
        if loading is not None:
            if not loading.done():
                say("waiting for the language model to load")
            loading.result()
        bundles = []
        for subject in subjects:
            say(f"redacting and writing {subject.identity.request.label}")
            bundles.append(
                _answer_one(out, catalog, subject, redactor, rules, passphrase, now, register)
            )
        return bundles


def _answer_one(
    out: Path,
    catalog: Catalog,
    subject: SubjectData,
    redactor: Redactor,
    rules: MatchRules,
    passphrase: str | None,
    now: datetime | None,
    register: Register | None,
) -> AccessBundle:
    """Redact one person's rows, write the bundle, and record it in the audit log."""
    tables, record = redactor.apply(subject.identity, subject.tables)
    notice = redactor.info.notice if redactor.info else None
    bundle = _write_bundle(
        out, catalog, subject, tables, record, rules, notice, passphrase, now or datetime.now(UTC)
    )
    if register is not None:
        first = subject.identity.request.keys[0]
        register.audit.append(
            "access.bundle_rejected" if bundle.rejected else "access.bundle_written",
            request=subject.identity.request.label,
            subject=subject_ref(register.key, first),
            tables={n: t.num_rows for n, t in tables.items() if t.num_rows},
            details={
                "rows": subject.rows,
                "set_aside": sum(subject.set_aside.values()),
                "held_as_processor": sum(
                    sum(c.values()) for c in subject.held_as_processor.values()
                ),
                "identifiers": len(subject.identity.keys),
                **({"findings": len(bundle.findings)} if bundle.rejected else {}),
            },
        )
    label = subject.identity.request.label
    if bundle.rejected:
        log.warning(
            "bundle %s failed its own verification (%d finding(s)); set aside as %s, not zipped",
            label,
            len(bundle.findings),
            bundle.path.name,
        )
    else:
        log.info("bundle %s: %d rows in %d tables", label, subject.rows, len(tables))
    return bundle


def _has_free_text(catalog: Catalog) -> bool:
    return any(c.free_text for t in catalog.tables.values() for c in t.columns.values())


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
        pq.write_table(table, folder / f"{name}.parquet")
        written.append(folder / f"{name}.parquet")
    text = json.dumps(jsonable_rows(table), indent=1, ensure_ascii=False, default=str) + "\n"
    (folder / f"{name}.json").write_text(text, encoding="utf-8")
    written.append(folder / f"{name}.json")
    if csv:
        pacsv.write_csv(defuse_formulas(_nested_as_json(table)), folder / f"{name}.csv")
        written.append(folder / f"{name}.csv")
    return written


def _nested_as_json(table: pa.Table) -> pa.Table:
    """Nested cells (a JSON object the export kept whole) as JSON text: a CSV cell is text."""
    columns = []
    for column in table.columns:
        if pa.types.is_nested(column.type):
            cells = [
                None if v is None else json.dumps(v, ensure_ascii=False, default=str)
                for v in column.to_pylist()
            ]
            column = pa.array(cells, pa.string())
        columns.append(column)
    return pa.table(columns, names=table.column_names)


FORMULA_START = r"^[=+\-@\t\r]"  # what a spreadsheet may run as a formula (OWASP)


def defuse_formulas(table: pa.Table) -> pa.Table:
    """Text cells a spreadsheet would run as a formula, prefixed with `'` (shown, not run).

    A name stored as `=HYPERLINK(...)` or `+cmd|...` would otherwise run when the person
    opens the portability CSV in a spreadsheet. Only the CSV files are changed; the JSON
    and Parquet files keep the value as it is.
    """
    import pyarrow.compute as pc

    columns = []
    for column in table.columns:
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            risky = pc.match_substring_regex(column, FORMULA_START)
            column = pc.if_else(risky, pc.binary_join_element_wise("'", column, ""), column)
        columns.append(column)
    return pa.table(columns, names=table.column_names)


def _write_bundle(
    out: Path,
    catalog: Catalog,
    subject: SubjectData,
    tables: dict[str, pa.Table],
    record: RedactionLog,
    rules: MatchRules,
    nlp_notice: str | None,
    passphrase: str | None,
    now: datetime,
) -> AccessBundle:
    """Write the bundle into a `.<label>.partial-*` folder, verify it, then name it.

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
    tmp = _partial(out, label)
    made = [tmp]  # removed at the end if still there: on failure, rejection, or scratch
    try:
        files: list[OutputFile] = []
        portable: list[str] = []
        facts = []
        order = [n for n in catalog.tables if n in tables and tables[n].num_rows]
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
            facts.append(
                TableFacts(
                    name,
                    table.num_rows,
                    tuple(table.column_names),
                    masked,
                    redacted,
                    f"data/{name}.parquet",
                )
            )
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
        )
        blocks = build_blocks(report)
        (tmp / "report.md").write_text(to_markdown(blocks), encoding="utf-8")
        (tmp / "report.html").write_text(to_html(blocks, f"Your data: {label}"), encoding="utf-8")
        files += [OutputFile.of(tmp / "report.md", tmp), OutputFile.of(tmp / "report.html", tmp)]
        manifest = _manifest(catalog, subject, order, tables, record, rules, files, now, nlp_notice)
        write_manifest(manifest, tmp / "manifest.json")
        _owner_only(tmp)
        findings = verify_bundle(tmp).findings
        if not findings:  # then the very file that leaves, unpacked beside it, not in /tmp
            made.append(zipped := _zip(tmp, zip_final, passphrase, label))
            made.append(scratch := _partial(out, label))
            findings = verify_bundle(zipped, passphrase, scratch=scratch).findings
        if findings:
            aside = _set_aside(tmp, out, label)
            return AccessBundle(label, aside, None, manifest, subject, record, tuple(findings))
        # The zip first: it is what is sent. Stopped between the two, the zip is whole and the
        # folder goes (after a kill, the next run removes it); with a passphrase it goes now.
        zipped.replace(zip_final)
        if passphrase:
            return AccessBundle(label, zip_final, zip_final, manifest, subject, record)
        tmp.replace(final)
        return AccessBundle(label, final, zip_final, manifest, subject, record)
    finally:
        for path in made:
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)


_LEFTOVER = re.compile(r"\.[A-Za-z0-9][A-Za-z0-9._-]*\.(partial-[0-9a-f]{8}|zip\.[0-9a-f]{8}\.tmp)")


def _remove_leftovers(out: Path, before: float) -> int:
    """Remove what an interrupted access run left in `out`; return how many were removed.

    Only `.<label>.partial-<8 hex>` folders and `.<label>.zip.<8 hex>.tmp` files last
    changed before `before` (seconds since the epoch) are removed: never anything else,
    never through a link.
    """
    removed = 0
    for entry in sorted(out.iterdir()) if out.is_dir() else ():
        if not _LEFTOVER.fullmatch(entry.name) or entry.is_symlink():
            continue
        is_zip = entry.name.endswith(".tmp")
        try:
            if entry.lstat().st_mtime >= before or not (
                entry.is_file() if is_zip else entry.is_dir()
            ):
                continue  # another run's, started after this one; or not what we write
            if is_zip:
                entry.unlink()
            else:
                shutil.rmtree(entry)
        except FileNotFoundError:
            continue  # removed meanwhile
        removed += 1
    return removed


def _partial(out: Path, label: str) -> Path:
    """A new owner-only `.<label>.partial-<8 hex>` folder in `out`."""
    path = out / f".{label}.partial-{secrets.token_hex(4)}"
    path.mkdir(mode=0o700)
    return path


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
    for n in itertools.count(1):
        suffix = ".REJECTED" if n == 1 else f".REJECTED-{n}"
        target = output_path(out, label, "request label", suffix)
        if not target.exists() and not target.is_symlink():
            tmp.rename(target)
            return target
    raise InternalError("itertools.count ended")  # pragma: no cover


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
        )
    return BundleManifest(
        kind=ArtifactKind.ACCESS_BUNDLE,
        format_version=BUNDLE_FORMAT_VERSION,
        tool=ToolInfo(name="privacy-workbench", version=__version__),
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
            phone_digits_compared=9,
        ),
        controller=catalog.controller.name,
        tables=table_info,
        secrets_masked=dict(record.secrets),
        redacted=record.by_column(),
        held_as_processor=processor_rows(catalog, subject.held_as_processor),
        set_aside_for_review=dict(subject.set_aside),
        nlp_notice=nlp_notice,
    )


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


def read_batch_requests(path: str | Path, rules: MatchRules | None = None) -> list[SubjectRequest]:
    """Read many requests from a CSV: `request_id`, then one column per identifier type.

    Example file::

        request_id,email,user_id
        AR-101,ann@example.com,
        AR-102,,u0000042
    """
    path = Path(path)
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            try:
                return _batch_rows(path, reader, rules)
            except UnicodeDecodeError:
                raise WorkbenchError(
                    f"{path}: not UTF-8 text; save the batch as CSV UTF-8 (a spreadsheet's"
                    " Save As offers it)"
                ) from None
            except csv.Error as exc:
                raise WorkbenchError(
                    f"{path} line {reader.reader.line_num}: not a readable CSV ({exc})"
                ) from None
    except FileNotFoundError:
        raise WorkbenchError(
            f"{path}: no such file; --batch takes a CSV with a request_id column and one"
            " column per identifier type"
        ) from None
    except OSError as exc:
        raise WorkbenchError(f"{path}: cannot read the batch file ({exc.strerror})") from None


def _batch_rows(
    path: Path, reader: csv.DictReader[str], rules: MatchRules | None
) -> list[SubjectRequest]:
    kinds = {k.value for k in IdentityKind}
    columns = [c.strip() for c in reader.fieldnames or []]
    unknown = [c for c in columns if c != "request_id" and c not in kinds]
    types = f"request_id and identifier types: {', '.join(sorted(kinds))}"
    if not columns or not all(re.fullmatch(r"[A-Za-z_]+", c) for c in unknown):
        # no header: a first line of values is never quoted, it may hold someone's email
        raise WorkbenchError(f"{path}: the first line must be a header naming the columns: {types}")
    if unknown:
        raise WorkbenchError(f"{path}: unknown column(s) {', '.join(unknown)}; use {types}")
    requests = []
    for line, row in enumerate(reader, start=2):
        keys = []
        for column, value in row.items():
            if column is None or column.strip() == "request_id" or not (value or "").strip():
                continue
            try:
                keys.append(make_key(IdentityKind(column.strip()), value, rules))
            except IdentifierError as exc:
                raise IdentifierError(exc.text, f"{path} line {line}: {exc}") from None
        if not keys:
            raise WorkbenchError(f"{path} line {line}: no identifier given")
        label = (row.get("request_id") or "").strip() or f"{new_label()}-{line}"
        plain_name(label, f"request_id on line {line} of {path.name}")
        requests.append(SubjectRequest(label, tuple(keys)))
    return requests
