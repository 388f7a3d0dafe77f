"""Check an access bundle before it leaves, trusting nothing but the bundle itself.

This module deliberately does not use the code that wrote the bundle (collection,
redaction, the bundle writer): it re-derives each check from the files and the manifest,
with its own small normalisation rules, so a bug there is caught here rather than repeated.
It shares the manifest's model (`dsar.review.manifest`), the format both sides agree on, and
the text engine's pattern detectors (`dsar.text.detectors`: what a card number, an IBAN, a
government ID or a token looks like) and the spreadsheet-formula rule (`dsar.csvsafe`), never
the decisions the redaction took with them. The copies of the Parquet data (the CSV and JSON
copies, the statement's tables of the person's rows) are made again from the Parquet files
with the writer's own formatting (`dsar.copies`, `dsar.statement`) and compared with the
files: they must say exactly what the data says. With the key, the manifest's MAC is checked.
Findings name files, tables, columns and row numbers, never the values found.
"""

from __future__ import annotations

import csv
import hashlib
import io
import ipaddress
import json
import re
import tempfile
import unicodedata
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import ValidationError

from dsar.catalog.models import IdentityKind, joined_accounts
from dsar.copies import csv_rows, data_cells, portable_csv
from dsar.csvsafe import unsafe_csv_cell
from dsar.engine.ownership import key_text
from dsar.errors import UnreadableArtifactError
from dsar.io import jsonable_rows
from dsar.review.findings import Finding as Finding
from dsar.review.manifest import (
    ArtifactManifest,
    BundleManifest,
    MatchRulesInfo,
    OutputFile,
    OwnedInfo,
    StatementInfo,
    TableInfo,
    check_mac,
    manifest_problems,
)
from dsar.review.snapshot import odd_entries
from dsar.review.unzip import MAX_UNPACKED_BYTES, layout_problems, unzip_bundle
from dsar.statement import Block, BlockKind, to_html, to_markdown
from dsar.text.detectors import (
    FINANCIAL_AND_GOVERNMENT,
    SECRET_PATTERNS,
    Span,
    cards,
    government_ids,
    ibans,
    phones,
    resolve,
)

if TYPE_CHECKING:
    from dsar.keys import Keys

# an address in any script ('straße@', a dotless i, 'οδος@'), looked for in a text read by
# `_email_scan`: a part of one (the 'e@example.de' of 'straße@example.de') is never taken
_EMAIL = re.compile(r"[\w.%+-]+@[\w.-]+\.[^\W\d_]{2,}")
# a secret masked to its last four characters, or a nested one (a struct, list or map) whole
MASK = re.compile(r"^\[secret [A-Za-z0-9_]+, (ends in .{0,4}|not shown)\]$")
# A nested field whose name says phone: phones are looked for there as in phone columns.
_PHONE_FIELD = re.compile(r"phone|mobile|msisdn|(^|_)(tel|fax|cell)(_|$)", re.IGNORECASE)


def unlisted_findings(
    names: list[str], listed: set[str], manifest: str = "the manifest"
) -> list[Finding]:
    """A finding per file no manifest lists, by position, never by name (a file's name can be
    an address or a person's name): "unlisted file 1 of 2 (in data/)", the folder shown when
    the manifest lists files in it, else "in a subfolder"."""
    known = {n.rpartition("/")[0] for n in listed}
    findings = []
    for i, name in enumerate(sorted(names), start=1):
        folder = name.rpartition("/")[0]
        at = (
            "at the top" if not folder else f"in {folder}/" if folder in known else "in a subfolder"
        )
        findings.append(
            Finding(
                "checksum",
                f"unlisted file {i} of {len(names)} ({at})",
                f"a file not listed in {manifest} (its name is not shown: a name can hold"
                " personal data); remove it",
            )
        )
    return findings


@dataclass
class Verification:
    """The result of verifying one bundle."""

    bundle: Path
    findings: list[Finding] = field(default_factory=list)
    checked_files: int = 0
    checked_rows: int = 0
    notices: list[str] = field(default_factory=list)  # not findings: e.g. accepted warnings
    unauthenticated: bool = False
    """Something was taken on trust: a manifest's MAC not checked (no key given), or an old
    certificate without one accepted (`accept_unsigned`). `dsar verify` then says
    `OK, NOT AUTHENTICATED` and exits 3, and nothing is signed off."""

    @property
    def ok(self) -> bool:
        """True when nothing was found."""
        return not self.findings

    def note_accepted(self, manifest: ArtifactManifest) -> None:
        """A notice per catalog warning accepted when the artifact was made."""
        self.notices += [
            f"made from a catalog with an accepted warning: [{w.code}] {w.warning}"
            for w in manifest.accepted_catalog_warnings
        ]


# what a cell may hold around or inside an address that is no part of it: characters that do
# not show, quotes of any kind, a list's separator after it
_NOT_SHOWN = re.compile("[\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")
_QUOTES = "\"'`\u00ab\u00bb\u2018-\u201f\u2039\u203a"
_QUOTED = re.compile(f"[{_QUOTES}]+(.*?)[{_QUOTES}]+", re.DOTALL)


def _filler(phone: str) -> bool:
    """A number that stands for none ('0000000000', '+41 00 000 00 00'): no one's, so not
    another person's either (the search never matches it)."""
    digits = re.sub(r"[^0-9]", "", phone)
    return re.fullmatch(r"([0-9])\1*|[1-9][0-9]{0,2}0{6,}", digits) is not None


def _email_scan(text: str) -> str:
    """A text as addresses are looked for in it: what does not show dropped, NFKC (an accent
    written apart joins its letter, full-width letters are ASCII)."""
    return unicodedata.normalize("NFKC", _NOT_SHOWN.sub("", text))


def _email_cell(value: str) -> str:
    """The address an email cell holds, restated apart from the engine's code: NFKC (full-width
    letters) and ideographic full stops as dots, lower case, `mailto:`, `Name <...>`, quotes
    around it or its local part, blanks and a trailing `;`, `,` or `.` all dropped. A dotted
    capital I is a plain i, and a final sigma the medial one, as the search reads them."""
    text = _email_scan(value).replace("\u3002", ".").replace("\u0130", "i")
    text = text.lower().replace("\u03c2", "\u03c3").strip().rstrip(";,. \t\r\n")
    if text.startswith("mailto:"):
        text = text[len("mailto:") :].split("?", 1)[0]
    if named := re.fullmatch(r"[^<>]*<([^<>]*)>", text, re.DOTALL):
        text = named[1]
        if text.startswith("mailto:"):  # a link inside a display name
            text = text[len("mailto:") :].split("?", 1)[0]
    if quoted := _QUOTED.fullmatch(text):
        text = quoted[1]
    text = re.sub(r'^"([^"@]*)"@', r"\1@", text)
    return "".join(text.split()).rstrip(";,.")


def _phone(text: str, rules: MatchRulesInfo) -> str | None:
    """A phone as the manifest's rules compare it, restated: its country calling code and
    national number ('+' or '00' before an international one, a '(0)' dropped; a national
    one read in `phone_region` from phonenumbers' metadata, else its digits as written), or
    (a bundle made before) its trailing digits. ASCII digits only, as the export side; an
    extension (from the first letter, '#', ';' or ',' after a digit) is no part of it."""
    if rules.phone_digits_compared is not None:
        digits = re.sub(r"[^0-9]", "", text.replace("(0)", ""))
        return digits[-rules.phone_digits_compared :] if len(digits) >= 7 else None
    if ext := re.search(r"[0-9][^A-Za-z#;,]*([A-Za-z#;,])", text, re.DOTALL):
        text = text[: ext.start(1)]
    text = text.replace("\uff0b", "+").replace("(0)", "")
    digits = re.sub(r"[^0-9]", "", text)

    def usable(key: str, taken: int) -> str | None:  # 7 digits, 5 of them from the text
        if len(key.lstrip("+")) < 7 or taken < 5:
            return None
        # no one's number: a digit repeated, or a calling code and zeros ('+4100000000')
        filler = re.fullmatch(r"\+?([0-9])\1*|\+[1-9][0-9]{0,2}0{6,}", key)
        return None if filler else key

    if re.sub(r"[^0-9+]", "", text).startswith("+"):
        return usable("+" + digits, len(digits))
    prefixes, code, trunk = ["00"], "", ""
    if rules.phone_region:
        from phonenumbers.phonemetadata import PhoneMetadata

        meta = PhoneMetadata.metadata_for_region(rules.phone_region)
        if meta is None:
            return None
        code, trunk = str(meta.country_code), meta.national_prefix or ""
        for prefix in (meta.international_prefix, meta.preferred_international_prefix):
            plain = (prefix or "").replace("~", "")
            if plain.isdigit() and plain not in prefixes:
                prefixes.append(plain)
    for prefix in sorted(prefixes, key=len, reverse=True):
        if digits.startswith(prefix):
            return usable("+" + digits[len(prefix) :], len(digits) - len(prefix))
    if not code:
        return usable(digits, len(digits))
    if trunk.isdigit() and digits.startswith(trunk):
        digits = digits[len(trunk) :]
    return usable(f"+{code}{digits}", len(digits))


def _norm(kind: str, value: object, rules: MatchRulesInfo) -> str | None:
    """Independent re-statement of the identifier rules the manifest declares."""
    if value is None:
        return None
    text = _json_string(str(value)).strip()
    if kind == "email":
        text = _email_cell(text)
        local, _, domain = text.partition("@")
        if rules.plus_addressing:
            local = local.split("+", 1)[0]
        if rules.gmail_dots and domain in ("gmail.com", "googlemail.com"):
            local, domain = local.replace(".", ""), "gmail.com"
        return f"{local}@{domain}" if local and domain else None
    if kind == "phone":
        return _phone(text, rules)
    if kind == "device_id" and re.fullmatch(
        r"[0-9A-Fa-f]{8}(-[0-9A-Fa-f]{4}){3}-[0-9A-Fa-f]{12}", text
    ):
        return text.lower()  # a UUID (an advertising id) in either case
    return _ip(text) if kind == "ip_address" else (text or None)


def _ip(text: str) -> str:
    """An IP address in its one form, read by `ipaddress`: IPv6 as RFC 5952 writes it, an
    IPv4-mapped one as its IPv4 address; anything else (an IPv4 address with leading zeros,
    a zone, a port) lower-cased as written."""
    text = text.lower()
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return text
    if isinstance(ip, ipaddress.IPv6Address) and ip.scope_id is None:
        return str(ip.ipv4_mapped or ip)
    return text


def _json_string(text: str) -> str:
    """A JSON string as its text: a JSON column of mixed value types reaches the bundle as
    JSON text (`"042"`), which the search read as the text it holds (042)."""
    if len(text) > 1 and text[0] == text[-1] == '"':
        try:
            inner = json.loads(text)
        except ValueError:
            return text
        return inner if isinstance(inner, str) else text
    return text


def verify_bundle(
    bundle: str | Path,
    passphrase: str | None = None,
    *,
    max_unpacked_bytes: int = MAX_UNPACKED_BYTES,
    scratch: str | Path | None = None,
    keys: Keys | None = None,
) -> Verification:
    """Run every check on a bundle folder, or on its zip (the file that leaves the company).

    A zip not laid out as the workbench writes it (`dsar.review.unzip.layout_problems`: a
    comment, an extra field, bytes before, between or after the entries, an entry twice, an
    empty folder's entry) is not unpacked: each difference is a finding, by entry position.
    Otherwise it is unpacked into a temporary folder first (an AES-encrypted one with
    `passphrase`), in `scratch` or the system's temporary folder, and removed afterwards. It
    must hold exactly one bundle folder and nothing outside it, and is refused before
    anything is unpacked when its entries declare more than `max_unpacked_bytes` in all
    (default 20 GiB) or one entry over 10 MiB is compressed more than 200:1 (a zip bomb);
    unpacking stops, and what was unpacked is removed, if an entry unpacks to more than it
    declares.

    With `keys`, the manifest's MAC must verify (a MAC that fails or is missing is a
    finding); without, a notice says that the manifest is not authenticated, and the result
    is `unauthenticated`. A device, FIFO, socket, link or empty folder in the folder is a
    finding (`dsar.review.snapshot.odd_entries`).

    Raises:
        UnreadableArtifactError: not a bundle folder or zip; an encrypted zip without the right
            passphrase; a zip with entries outside its one folder; a zip over the limits, or
            damaged.
    """
    path = Path(bundle)
    if path.is_file() and zipfile.is_zipfile(path):
        laid_out = layout_problems(path)
        if laid_out:  # bytes no check would read: a finding, and nothing unpacked
            result = Verification(path)
            result.findings += [Finding("zip", where, what) for where, what in laid_out]
            return result
        with tempfile.TemporaryDirectory(prefix="verify-", dir=scratch) as tmp:
            folder = unzip_bundle(path, Path(tmp), passphrase, max_unpacked_bytes)
            result = _verify_folder(folder, keys)
        result.bundle = path
        return result
    return _verify_folder(path, keys)


def _verify_folder(root: Path, keys: Keys | None = None) -> Verification:
    result = Verification(root)
    add = result.findings.append
    manifest_path = root / "manifest.json"
    if not manifest_path.is_file():
        raise UnreadableArtifactError(
            root, "not a bundle folder: it has no manifest.json", "give the bundle's folder or zip"
        )
    manifest = _read_manifest(manifest_path, add)
    if manifest is None:
        return result  # every other check reads the manifest
    result.note_accepted(manifest)
    check_mac(
        keys,
        manifest.mac,
        lambda: json.loads(manifest_path.read_text(encoding="utf-8")),
        result,
        on_trust="its identifiers, row counts, checksums and the statement's text are taken on"
        " trust (whoever removed or added rows in every copy can write them again: only the"
        " key authenticates them)",
        unsigned="made without the key, or its MAC removed; answer the request again with the key",
    )
    _check_files(root, manifest.outputs, manifest.tables, result)

    result.findings += odd_entries(root, {o.path for o in manifest.outputs})
    if (joined := joined_accounts(manifest.subject.identifiers)) and not (
        manifest.accepted_joined_accounts
    ):
        what = ", ".join(f"{n} {kind}s" for kind, n in joined.items())
        add(
            Finding(
                "identity",
                "manifest.json subject.identifiers",
                f"the search joined {what}: an identifier two accounts share (a bookkeeper's"
                " or a team's address) puts another person's rows in this bundle. Read the"
                " provenance in report.html; answer again with --joined-ok only if every one"
                " of them is this person",
            )
        )
    elif joined:
        result.notices.append(
            "the search joined "
            + ", ".join(f"{n} {k}s" for k, n in joined.items())
            + ", accepted as one person's (--joined-ok)"
        )
    ids = {k.value: set(v) for k, v in manifest.subject.identifiers.items()}
    rules = manifest.match_rules
    read: dict[str, pa.Table] = {}
    for name, info in manifest.tables.items():
        path = root / "data" / f"{name}.parquet"
        if not path.is_file():
            continue  # reported by the file check
        try:
            table = pq.read_table(path)
        except (pa.ArrowException, OSError):
            add(Finding("rows", f"data/{name}.parquet", "not a readable Parquet file"))
            continue
        result.checked_rows += table.num_rows
        read[name] = table
        if table.num_rows != info.rows:
            add(
                Finding(
                    "rows",
                    f"data/{name}.parquet",
                    f"{table.num_rows} rows, the manifest says {info.rows}",
                )
            )
        _check_json_rows(root / "data" / f"{name}.json", table.num_rows, add)
        if info.owned_through is not None:
            _check_owned(root, name, table, info.owned_through, add)
        else:
            _check_links(name, table, info, ids, rules, add)
        _check_secrets(name, table, info, add)
        _check_other_people(name, table, info, ids, rules, add)
        _check_numbers(name, table, info, add)
    _check_report(root, manifest.tables, add)
    _check_csv_formulas(root, manifest.outputs, add)
    _check_copies(root, manifest.outputs, read, add)
    _check_statement(root, manifest, read, add)
    return result


MAX_COPY_FINDINGS = 10  # per file: the rows that differ past these are counted in one more


def _check_copies(
    root: Path, outputs: tuple[OutputFile, ...], tables: dict[str, pa.Table], add: Any
) -> None:
    """Each CSV and JSON copy (data/ and portability/) says what its Parquet twin says:
    made again from data/<table>.parquet with the writer's formatting and compared as text,
    cell for cell (same rows, same columns)."""
    for entry in outputs:
        folder, _, file = entry.path.partition("/")
        stem, dot, suffix = file.rpartition(".")
        if folder not in ("data", "portability") or not dot or suffix not in ("csv", "json"):
            continue
        path = root / entry.path
        if not path.is_file():
            continue  # reported by the file check
        twin = tables.get(stem)
        if twin is None:
            add(Finding("copies", entry.path, f"no readable Parquet twin data/{stem}.parquet"))
        elif suffix == "csv":
            _compare_csv(path, entry.path, twin, folder == "portability", add)
        else:
            _compare_json(path, entry.path, twin, add)


def _read_csv(path: Path) -> list[list[str]] | None:
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            return list(csv.reader(handle))
    except (UnicodeDecodeError, csv.Error):
        return None


def _compare_csv(path: Path, name: str, twin: pa.Table, portable: bool, add: Any) -> None:
    found = _read_csv(path)
    if found is None:
        add(Finding("copies", name, "not a readable UTF-8 CSV file"))
        return
    if portable:  # a portability copy holds some of the table's columns, as Arrow writes
        header = found[0] if found else []
        missing = [i for i, c in enumerate(header, start=1) if c not in twin.column_names]
        if missing or not header or len(set(header)) != len(header):
            add(
                Finding(
                    "copies",
                    f"{name} line 1 column {missing[0] if missing else 1}",
                    "a column its Parquet twin does not have (or none, or one twice)",
                )
            )
            return
        text = portable_csv(twin.select(header)).decode("utf-8")
        expected = list(csv.reader(io.StringIO(text, newline="")))
    else:
        expected = csv_rows(twin)
    _compare_rows(name, found, expected, 1, add)


def _compare_rows(
    name: str, found: list[list[str]], expected: list[list[str]], header: int, add: Any
) -> None:
    """Rows of text cells against the rows made from the Parquet twin: the count, then each
    row's first differing column (line numbers count the header's `header` lines)."""
    if len(found) != len(expected):
        add(
            Finding(
                "copies",
                name,
                f"{len(found) - header} rows, its Parquet twin has {len(expected) - header}:"
                " the copy must hold the same rows",
            )
        )
    differing = 0
    for line, (got, want) in enumerate(zip(found, expected, strict=False), start=1):
        if got == want:
            continue
        differing += 1
        if differing > MAX_COPY_FINDINGS:
            continue
        column = next(
            (i for i, (a, b) in enumerate(zip(got, want, strict=False), start=1) if a != b),
            min(len(got), len(want)) + 1,
        )
        what = "header" if line <= header else f"row {line - header}"
        add(
            Finding(
                "copies",
                f"{name} line {line} column {column}",
                f"differs from its Parquet twin's {what}",
            )
        )
    if differing > MAX_COPY_FINDINGS:
        add(Finding("copies", name, f"{differing - MAX_COPY_FINDINGS} more line(s) differ"))


def _json_text(value: object) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


def _compare_json(path: Path, name: str, twin: pa.Table, add: Any) -> None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        add(Finding("copies", name, "not valid JSON"))
        return
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        add(Finding("copies", name, "not a list of rows"))
        return
    columns = list(data[0]) if data else twin.column_names
    if any(c not in twin.column_names for c in columns):
        add(Finding("copies", f"{name} row 1", "a field its Parquet twin does not have"))
        return
    made = json.dumps(jsonable_rows(twin.select(columns)), ensure_ascii=False, default=str)
    expected = [[_json_text(r)] for r in json.loads(made)]
    _compare_rows(name, [[_json_text(r)] for r in data], expected, 0, add)


def _check_statement(
    root: Path, manifest: BundleManifest, tables: dict[str, pa.Table], add: Any
) -> None:
    """The statement (report.md, report.html) rendered again from the manifest's template
    and the Parquet data, byte for byte: a row, a name or a retention note added to or
    removed from the statement alone is found."""
    statement = manifest.statement
    if statement is None:
        add(
            Finding(
                "report",
                "manifest.json statement",
                "the manifest records no statement to compare report.md and report.html with"
                " (made before it was recorded, or removed): answer the request again",
            )
        )
        return
    blocks = _statement_blocks(statement, tables, manifest, add)
    if blocks is None:
        return
    for file, text in (
        ("report.md", to_markdown(blocks)),
        ("report.html", to_html(blocks, statement.title)),
    ):
        path = root / file
        if not path.is_file():
            continue  # reported by the file and report checks
        # as bytes: read_text would turn a lone CR in a cell (the person's data) into a newline
        written = path.read_bytes().decode("utf-8", errors="replace")
        if written != text:
            line = next(
                (
                    n
                    for n, (a, b) in enumerate(
                        zip(written.splitlines(), text.splitlines(), strict=False), start=1
                    )
                    if a != b
                ),
                min(written.count("\n"), text.count("\n")) + 1,
            )
            add(
                Finding(
                    "report",
                    f"{file} line {line}",
                    "differs from the statement made again from the data (the Parquet files)"
                    " and the manifest: the statement must show what the data holds",
                )
            )


def _statement_blocks(
    statement: StatementInfo, tables: dict[str, pa.Table], manifest: BundleManifest, add: Any
) -> list[Block] | None:
    """The template's blocks, each table of the person's rows filled from its Parquet file;
    None (with a finding) where a template's table does not fit its data."""
    rules = manifest.match_rules
    own = manifest.subject.identifiers.get(IdentityKind.EMAIL, ())
    blocks = []
    for number, b in enumerate(statement.blocks, start=1):
        rows = list(b.rows)
        if b.table is not None:
            twin = tables.get(b.table)
            holes = sum(c is None for row in rows for c in row)
            cells = data_cells(twin) if twin is not None else []
            if twin is None or holes != len(cells):
                add(
                    Finding(
                        "report",
                        f"manifest.json statement block {number}",
                        f"its table of the person's rows does not fit data/{b.table}.parquet",
                    )
                )
                return None
            fill = iter(cells)
            rows = [tuple(next(fill) if c is None else c for c in row) for row in rows]
        elif any(c is None for row in rows for c in row):
            add(Finding("report", f"manifest.json statement block {number}", "an empty cell"))
            return None
        texts = [b.text, b.summary, *b.items, *b.header]
        texts += [c for row in b.rows for c in row if c is not None]
        for text in texts:
            for match in _EMAIL.finditer(_email_scan(text)):
                linked = any(match.group(0) in link for link in b.links)
                if not linked and _norm("email", match.group(0), rules) not in own:
                    add(
                        Finding(
                            "report",
                            f"manifest.json statement block {number}",
                            "an email address that is neither the person's nor the controller's",
                        )
                    )
        blocks.append(
            Block(
                BlockKind(b.kind),
                text=b.text,
                items=b.items,
                header=b.header,
                rows=tuple(tuple(str(c) for c in row) for row in rows),
                summary=b.summary,
                links=b.links,
                data=b.data,
                table=b.table or "",
            )
        )
    return blocks


def _read_manifest(path: Path, add: Any) -> BundleManifest | None:
    """The manifest through its model; each problem a finding at its JSON location."""
    text = path.read_bytes()
    try:
        return BundleManifest.model_validate_json(text)
    except ValidationError as exc:
        if _is_version_1(text):
            add(
                Finding(
                    "manifest",
                    "manifest.json format_version",
                    "format version 1, from an earlier workbench; this check reads version 2:"
                    " answer the request again to make a new bundle",
                )
            )
            return None
        for loc, message in manifest_problems(exc):
            add(Finding("manifest", f"manifest.json {loc}".rstrip(), message))
        return None


def _is_version_1(text: bytes) -> bool:
    try:
        data = json.loads(text)
    except ValueError:
        return False
    return (
        isinstance(data, dict)
        and data.get("format") == "privacy-workbench/access-bundle"
        and data.get("format_version") == 1
    )


def _check_files(
    root: Path,
    outputs: tuple[OutputFile, ...],
    tables: dict[str, TableInfo],
    result: Verification,
) -> None:
    add = result.findings.append
    listed = set()
    for entry in outputs:
        rel = entry.path
        listed.add(rel)
        path = root / rel
        if not path.is_file():
            add(Finding("checksum", rel, "listed in the manifest but missing"))
            continue
        result.checked_files += 1
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if digest != entry.sha256:
            add(Finding("checksum", rel, "SHA-256 differs from the manifest: the file changed"))
        elif path.stat().st_size != entry.bytes:
            add(Finding("checksum", rel, "size differs from the manifest"))
    unlisted = [
        rel
        for path in root.rglob("*")
        if path.is_file()
        and (rel := path.relative_to(root).as_posix()) != "manifest.json"
        and rel not in listed
    ]
    result.findings += unlisted_findings(unlisted, listed)
    for name in tables:
        if f"data/{name}.parquet" not in listed:
            add(Finding("checksum", f"data/{name}.parquet", "table in the manifest has no file"))


def _check_json_rows(path: Path, rows: int, add: Any) -> None:
    if not path.is_file():
        return
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        add(Finding("rows", path.name, "not valid JSON"))
        return
    if not isinstance(data, list) or len(data) != rows:
        add(Finding("rows", f"data/{path.name}", "JSON row count differs from the Parquet file"))


class _Text(NamedTuple):
    """One text value in a table: `where` is its column, or its path inside a nested one
    (`contact.phones[2]`, `attrs[0].value`); `name` the innermost field name or map key,
    used to decide which checks apply and never shown (a map key may be personal data)."""

    column: str
    where: str
    name: str
    row: int
    value: str


def _strings(table: pa.Table) -> Iterator[_Text]:
    """Every non-empty text value, nested values (struct, list, map) included."""
    for column in table.column_names:
        kind = table.schema.field(column).type
        if not (_is_text(kind) or pa.types.is_nested(kind)):
            continue
        for row, value in enumerate(table.column(column).to_pylist()):
            for where, name, text in _walk(value, kind, column, column):
                yield _Text(column, where, name, row, text)


def _is_text(kind: pa.DataType) -> bool:
    return bool(pa.types.is_string(kind) or pa.types.is_large_string(kind))


def _walk(value: Any, kind: pa.DataType, where: str, name: str) -> Iterator[tuple[str, str, str]]:
    if value is None:
        return
    if _is_text(kind):
        if value:
            yield where, name, value
    elif pa.types.is_struct(kind):
        for index in range(kind.num_fields):
            sub = kind.field(index)
            yield from _walk(value.get(sub.name), sub.type, f"{where}.{sub.name}", sub.name)
    elif pa.types.is_map(kind):
        for index, (key, item) in enumerate(value):
            yield from _walk(key, kind.key_type, f"{where}[{index}].key", "key")
            yield from _walk(item, kind.item_type, f"{where}[{index}].value", str(key))
    elif (
        pa.types.is_list(kind) or pa.types.is_large_list(kind) or pa.types.is_fixed_size_list(kind)
    ):
        for index, item in enumerate(value):
            yield from _walk(item, kind.value_type, f"{where}[{index}]", name)


def _check_links(
    name: str,
    table: pa.Table,
    info: TableInfo,
    ids: dict[str, set[str]],
    rules: MatchRulesInfo,
    add: Any,
) -> None:
    cols = {c: k.value for c, k in info.identity_columns.items() if c in table.column_names}
    data = {c: table.column(c).to_pylist() for c in cols}
    for i in range(table.num_rows):
        if not any(_norm(k, data[c][i], rules) in ids.get(k, set()) for c, k in cols.items()):
            add(
                Finding(
                    "linkage",
                    f"data/{name}.parquet row {i + 1}",
                    "no identity column holds one of the person's identifiers",
                )
            )


def _check_owned(root: Path, name: str, table: pa.Table, owned: OwnedInfo, add: Any) -> None:
    """Each row of an owned table points at a parent row that is in the bundle itself."""
    parent = root / "data" / f"{owned.parent_table}.parquet"
    keys: set[str] = set()
    if parent.is_file():
        column = pq.read_table(parent, columns=[owned.parent_column]).column(0)
        keys = {k for v in column.to_pylist() if v is not None for k in _key_readings(v)}
    values = table.column(owned.column).to_pylist() if owned.column in table.column_names else []
    for i, value in enumerate(values):
        if value is None or not _key_readings(value) & keys:
            add(
                Finding(
                    "linkage",
                    f"data/{name}.parquet row {i + 1}",
                    f"its {owned.parent_table} row is not in the bundle (owned through"
                    f" {owned.parent_table}.{owned.parent_column})",
                )
            )


def _key_readings(value: object) -> set[str]:
    """A key as the search may have read it: as written, and as the text it holds where the
    bundle wrote a JSON value as its text (`"1"`, `10.0`; `dsar.engine.ownership`)."""
    read = key_text(value, "JSON" if isinstance(value, str) else "")
    return {str(value)} | ({read} if read is not None else set())


def _check_secrets(name: str, table: pa.Table, info: TableInfo, add: Any) -> None:
    for col in info.secret_columns:
        if col not in table.column_names:
            continue
        for i, value in enumerate(table.column(col).to_pylist()):
            if value and not MASK.match(str(value)):
                add(
                    Finding(
                        "secrets",
                        f"data/{name}.parquet {col} row {i + 1}",
                        "a secret column holds a value that is not masked",
                    )
                )
    for text in _strings(table):
        for what, pattern in SECRET_PATTERNS.items():
            if pattern.search(text.value):
                add(
                    Finding(
                        "secrets",
                        f"data/{name}.parquet {text.where} row {text.row + 1}",
                        f"looks like a {what} in clear",
                    )
                )


NUMBER_NAMES = {"CREDIT_CARD": "payment card number", "IBAN_CODE": "bank account number (IBAN)"}
GOVERNMENT_ID_SCORE = 0.5  # shape with checksum, or shape with a context word


def _check_numbers(name: str, table: pa.Table, info: TableInfo, add: Any) -> None:
    """Card numbers and IBANs in every column that is not an identifier, government IDs in
    free text: never in clear. Overlaps are settled as the text engine settles them (a phone
    number with its cue is not an ID that happens to pass a checksum)."""
    free_text = set(info.free_text_columns)
    identity = set(info.identity_columns)
    for text in _strings(table):
        if text.column in identity:
            continue
        spans: list[Span] = [*cards(text.value), *ibans(text.value)]
        if text.column in free_text:
            spans += [s for s in government_ids(text.value) if s.score >= GOVERNMENT_ID_SCORE]
            spans += phones(text.value)
        found = {s.entity for s in resolve(spans) if s.entity in FINANCIAL_AND_GOVERNMENT}
        for entity in sorted(found):
            what = NUMBER_NAMES.get(entity, f"government ID ({entity})")
            what = f"an {what}" if what[0] in "aeiou" else f"a {what}"
            add(
                Finding(
                    "numbers",
                    f"data/{name}.parquet {text.where} row {text.row + 1}",
                    f"{what} in clear: it must be masked to its last four characters",
                )
            )


def _check_other_people(
    name: str,
    table: pa.Table,
    info: TableInfo,
    ids: dict[str, set[str]],
    rules: MatchRulesInfo,
    add: Any,
) -> None:
    own_emails, own_phones = ids.get("email", set()), ids.get("phone", set())
    # Phone-like digit runs are everywhere (versions in user agents, amounts); phones of
    # other people can only be where people write: free text (read with the text engine's
    # phone detector, so dates and order numbers are not phones here either), phone
    # columns, and nested fields named like a phone (`contact.mobile`, a JSON object kept
    # whole), where the whole value is the number.
    free_text = set(info.free_text_columns)
    phone_cols = {c for c, k in info.identity_columns.items() if k == "phone"}
    for item in _strings(table):
        where = f"data/{name}.parquet {item.where} row {item.row + 1}"
        for match in _EMAIL.finditer(_email_scan(item.value)):
            if _norm("email", match.group(0), rules) not in own_emails:
                add(Finding("other people", where, "an email address that is not the person's"))
        nested_phone = item.where != item.column and _PHONE_FIELD.search(item.name)
        if item.column in free_text and not nested_phone:
            numbers = [item.value[s.start : s.end] for s in phones(item.value)]
        elif item.column in phone_cols or nested_phone:
            numbers = [item.value] if 9 <= sum(c.isdigit() for c in item.value) <= 15 else []
        else:
            continue
        if any(_norm("phone", n, rules) not in own_phones and not _filler(n) for n in numbers):
            add(Finding("other people", where, "a phone number that is not the person's"))


def _check_csv_formulas(root: Path, outputs: tuple[OutputFile, ...], add: Any) -> None:
    for entry in outputs:
        path = root / entry.path
        if entry.path.endswith(".csv") and path.is_file():
            for finding in csv_formula_findings(path, entry.path):
                add(finding)


def csv_formula_findings(path: Path, name: str) -> list[Finding]:
    """Each cell of the CSV file `path` (named `name` in findings) a spreadsheet would run.

    The rule is `dsar.csvsafe`'s, the one every writer applies: a tab, CR or LF first, or
    `=`, `+`, `-`, `@` (or a fullwidth or other form of one) first after any whitespace; a
    written number such as `-5` is not a formula. Header cells are checked too.
    """
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.reader(handle))
    except (UnicodeDecodeError, csv.Error):
        return [Finding("formula", name, "not a readable UTF-8 CSV file")]
    return [
        Finding(
            "formula",
            f"{name} line {number} column {column}",
            "a cell a spreadsheet would run as a formula (prefix it with ')",
        )
        for number, row in enumerate(rows, start=1)
        for column, cell in enumerate(row, start=1)
        if unsafe_csv_cell(cell)
    ]


def _utf8_text(path: Path) -> str | None:
    """A file's text ("" when absent); None when it is not UTF-8 (the decoding error holds the
    file's bytes, which are the person's data, so it never leaves this function)."""
    if not path.is_file():
        return ""
    try:
        return path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        return None


def _check_report(root: Path, tables: dict[str, TableInfo], add: Any) -> None:
    md = root / "report.md"
    page = root / "report.html"
    text, markup = _utf8_text(md), _utf8_text(page)
    if text is None or markup is None:
        add(Finding("report", "report.md / report.html", "the statement is not UTF-8 text"))
        return
    if not text or not markup:
        add(Finding("report", "report.md / report.html", "the access statement is missing"))
        return
    for name in tables:
        if f"## {name}:" not in text or f"<h2>{name}:" not in markup:
            add(Finding("report", "report.md", f"table {name!r} has data but no section"))
