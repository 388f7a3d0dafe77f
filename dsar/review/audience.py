"""Check an audience folder before it leaves for an ad platform, from its files alone and,
given them, the sent record and the suppression ledger.

For each platform's manifest (`<platform>.manifest.json`, an `AudienceManifest`):

- checksums: every file it lists is there with its SHA-256, size and rows; no file in the
  folder that no manifest lists;
- shapes: the header line is the platform's upload header; every identifier, and every field
  the platform takes hashed, is a SHA-256 in the platform's encoding (lower-case hex, 64
  characters; UID2: base64 of the 32 digest bytes, 44 characters); a field sent in clear is
  no spreadsheet formula;
- no hash twice, across the platform's files (numbered parts too); no hash of the empty string
  or of whitespace (a value that normalised to nothing: it matches nobody, and says a check
  failed upstream);
- with the key: the manifest's MAC (`dsar.review.manifest.manifest_mac`): an edited count or
  platform is found; a manifest without one that states `recorded` (every manifest the command
  line writes) is a finding too (a MAC removed reads the same); an older one, a notice;
- counts: rows read = the eligible rows + each reason a row was left out; the eligible rows =
  empty + invalid + duplicates + written; written = the rows in the files; no field missing
  for more people than were written;
- with the sent record (`SentRecord`): every hash was recorded as sent to the platform (a
  hash that was not can never be withdrawn) and none was withdrawn from it before; with the
  ledger too: nobody the ledger holds (erased, objected to direct marketing, opted out of sale
  or sharing, restricted) is in the file, found through the sent record's keyed references
  (the ledger's references and the platform's hashes cannot be compared otherwise); the write
  the manifest names (`sent`) must be that upload's; a manifest that says no sent record was
  kept (`recorded: false`) is a finding. Without the sent record, a notice says what could
  not be checked.

The platforms' upload formats are written again here on purpose, from their published pages
(`anonymize.audience.platforms` cites them): the check does not trust the code that made the
file, and `dsar` never imports `anonymize`. Findings name files, lines and columns, never a
hash.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from dsar.csvsafe import unsafe_csv_cell
from dsar.errors import UnreadableArtifactError, UsageError
from dsar.io import sha256_file
from dsar.keys import Keys
from dsar.records.ledger import Ledger
from dsar.records.sent import SentRecord
from dsar.review.bundle import Finding, Verification, unlisted_findings
from dsar.review.manifest import AudienceManifest, manifest_mac_matches

SHAPES = {
    "hex": (re.compile(r"[0-9a-f]{64}"), "a SHA-256 as 64 lower-case hex characters"),
    # 32 bytes: 43 characters, the last of them carrying 4 bits (so one of 16), and one '='
    "base64": (
        re.compile(r"[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]="),
        "a SHA-256 as the base64 of its 32 bytes (44 characters)",
    ),
}
_BLANKS = ["", *(c * n for c in " \t\n\r\x0b\x0c" for n in (1, 2, 3, 4))]
EMPTY_HASHES = {  # what a value that normalised to nothing hashes to, in either encoding
    f(hashlib.sha256(blank.encode()).digest())
    for blank in _BLANKS
    for f in (bytes.hex, lambda d: base64.b64encode(d).decode("ascii"))
}
STAGES = ("rows_read", "rows_in", "empty", "invalid", "duplicates", "written")
SHOWN = 5  # lines named per finding; the rest are counted
# counts a manifest states beside its reasons, never a reason a row was left out: fields
# emptied, and rows left out through an identifier several people share (already counted
# under their reason)
STATED = ("fields_limited_use", "shared_unattributed")
NOT_AUTHENTICATED = (
    "NOT AUTHENTICATED: without the key no manifest's MAC was checked, so its counts and"
    " checksums, and the rows of the files, are not authenticated: a row added, edited or"
    " deleted by hand with its manifest edited to match is not found; give the key"
    " (--key-file or $WORKBENCH_KEY)"
)


@dataclass(frozen=True)
class UploadFormat:
    """One platform's upload file, as its published page describes it.

    Attributes:
        email, phone: the identifier column's header per kind (None: not taken).
        encoding: "hex" or "base64".
        header: whether the file starts with a header line.
        hashed: per field (first_name, ...) sent hashed, its header.
        clear: per field sent in clear, its header.
    """

    email: str | None
    phone: str | None
    encoding: str = "hex"
    header: bool = True
    hashed: dict[str, str] = field(default_factory=dict)
    clear: dict[str, str] = field(default_factory=dict)


UPLOAD_FORMATS = {
    # Customer Match template: Email, Phone, First Name, Last Name (hashed), Country, Zip
    "google": UploadFormat(
        "Email",
        "Phone",
        hashed={"first_name": "First Name", "last_name": "Last Name"},
        clear={"country": "Country", "postcode": "Zip"},
    ),
    "google_ec": UploadFormat("hashed_email", "hashed_phone_number"),
    # customer-information parameters: em, ph, fn, ln, zp, country, all hashed
    "meta": UploadFormat(
        "email",
        "phone",
        hashed={"first_name": "fn", "last_name": "ln", "postcode": "zip", "country": "country"},
    ),
    "tiktok": UploadFormat("Email_SHA256", "Phone_SHA256"),
    "linkedin": UploadFormat("email", None),  # SHA256_EMAIL: hex, 64 characters
    "snap": UploadFormat("EMAIL_SHA256", "PHONE_SHA256"),
    "x": UploadFormat("email", None, header=False),  # one hash per line
    "amazon": UploadFormat("email", "phone"),
    "uid2": UploadFormat("email_hash", "phone_hash", encoding="base64"),
}


def verify_audience(
    path: str | Path,
    *,
    sent: SentRecord | None = None,
    ledger: Ledger | None = None,
    keys: Keys | None = None,
) -> Verification:
    """Verify an audience folder (every `<platform>.manifest.json` in it), or one platform's
    manifest file.

    Args:
        path: the folder `anonymize audience` wrote, or one manifest in it.
        sent: the record of sent audiences (read-only is enough): every hash recorded, none
            withdrawn before.
        ledger: the suppression ledger: nobody in it is in the files (needs `sent`).
        keys: the workbench's keys: each manifest's MAC is checked, and a manifest without
            one is a finding (without keys: a notice that nothing is authenticated,
            `NOT_AUTHENTICATED`; `dsar verify` then exits 3).

    Raises:
        UnreadableArtifactError: no audience manifest there.
        UsageError: a ledger without the sent record.

    Examples:
        >>> result = verify_audience("audiences", sent=record, ledger=ledger)  # doctest: +SKIP
        >>> [str(f) for f in result.findings]  # doctest: +SKIP
        []
    """
    target = Path(path)
    if ledger is not None and sent is None:
        raise UsageError(
            "ledger",
            "the ledger holds keyed references and the audience platform hashes: only the"
            " sent record links them",
            "give the sent record too (--sent-record)",
        )
    root = target.parent if target.is_file() else target
    manifests = [target] if target.is_file() else sorted(root.glob("*.manifest.json"))
    if not manifests:
        raise UnreadableArtifactError(
            target,
            "no <platform>.manifest.json",
            "give the audience folder `anonymize audience` wrote, or one of its manifests",
        )
    result = Verification(root)
    if keys is None:
        result.notices.append(NOT_AUTHENTICATED)
    listed = {m.name for m in manifests}
    for path_ in manifests:
        manifest = _read(path_, result.findings.append)
        if manifest is None:
            continue
        result.note_accepted(manifest)
        listed |= {o.path for o in manifest.outputs}
        _seal(path_.name, manifest, keys, result)
        _PlatformCheck(root, path_.name, manifest, result, sent, ledger).run()
    if target.is_dir():
        result.findings += unlisted_findings(_unlisted(root, listed), listed, "any manifest")
    return result


def _unlisted(root: Path, listed: set[str]) -> list[str]:
    """Every file (or link, or other entry that is not a folder) anywhere under `root`,
    hidden and in subfolders too, that no manifest lists: an upload file put in
    `audience/more/` is as much a file to upload as one beside the manifests."""
    found: list[str] = []
    for path in root.rglob("*"):
        if path.is_dir() and not path.is_symlink():
            continue
        name = path.relative_to(root).as_posix()
        if name not in listed:
            found.append(name)
    return sorted(found)


def _seal(name: str, manifest: AudienceManifest, keys: Keys | None, result: Verification) -> None:
    """The manifest's MAC, checked with the key; without it, a notice."""
    if keys is None:
        result.unauthenticated = True
        if manifest.mac is not None:
            result.notices.append(f"{name}: sealed with a key; give the key to check its MAC")
        return
    if manifest.mac is None and manifest.recorded is None:
        result.unauthenticated = True  # nothing to check: NOT AUTHENTICATED, never signed off
        # written before manifests were sealed (or by `build_audience` from Python, which
        # does not seal yet): nothing to check it against
        result.notices.append(
            f"{name}: not sealed (no MAC, written before manifests were): its counts cannot"
            " be checked against the key"
        )
    elif manifest.mac is None:
        result.findings.append(
            Finding(
                "manifest",
                name,
                "no MAC: built without a key, or its MAC removed; its counts cannot be trusted"
                " (build it again with the key)",
            )
        )
    elif not manifest_mac_matches(keys, manifest.model_dump(mode="json")):
        result.findings.append(
            Finding(
                "manifest",
                name,
                "its MAC does not match: edited after it was written (or another key)",
            )
        )


def _read(path: Path, add: Callable[[Finding], None]) -> AudienceManifest | None:
    try:
        kind = json.loads(path.read_text(encoding="utf-8")).get("kind")
    except (OSError, ValueError, AttributeError):
        add(Finding("manifest", path.name, "not a JSON object"))
        return None
    if kind != "audience":
        add(Finding("manifest", path.name, f"a manifest of kind {kind!r}, not an audience"))
        return None
    try:
        return AudienceManifest.model_validate_json(path.read_text(encoding="utf-8"))
    except ValidationError as exc:
        for err in exc.errors():
            where = ".".join(str(p) for p in err["loc"])
            add(Finding("manifest", f"{path.name} {where}", err["msg"]))
        return None


def _lines(lines: list[int]) -> str:
    shown = ", ".join(map(str, lines[:SHOWN]))
    more = f" and {len(lines) - SHOWN} more" if len(lines) > SHOWN else ""
    return f"line{'s' if len(lines) > 1 else ''} {shown}{more}"


class _PlatformCheck:
    """The checks of one platform's manifest and files."""

    def __init__(
        self,
        root: Path,
        name: str,
        manifest: AudienceManifest,
        result: Verification,
        sent: SentRecord | None,
        ledger: Ledger | None,
    ) -> None:
        self.root, self.name, self.m, self.result = root, name, manifest, result
        self.sent, self.ledger = sent, ledger
        self.add = result.findings.append
        self.seen: dict[str, str] = {}  # each identifier hash -> where it first is
        self.rows = 0

    def run(self) -> None:
        m = self.m
        if self.name != f"{m.platform}.manifest.json":
            self.add(Finding("manifest", self.name, f"names another platform ({m.platform})"))
        upload = UPLOAD_FORMATS.get(m.platform)
        kind = str(m.parameters.get("kind", "email"))
        columns = self._columns(upload, kind)
        for out in m.outputs:
            file = self.root / out.path
            if not file.is_file():
                self.add(Finding("checksum", out.path, "listed in the manifest but missing"))
                continue
            if file.stat().st_size != out.bytes or sha256_file(file) != out.sha256:
                self.add(Finding("checksum", out.path, "SHA-256 differs from the manifest"))
            if upload is None or columns is None:
                continue
            rows = self._file(file, out.path, upload, columns)
            self.result.checked_files += 1
            self.result.checked_rows += rows
            self.rows += rows
            if out.rows is not None and rows != out.rows:
                self.add(Finding("rows", out.path, f"{rows} rows, the manifest says {out.rows}"))
        self._counts(upload is not None and columns is not None)
        if self.sent is not None:
            self._against_records(self.sent)
        elif m.recorded is False:
            self.result.notices.append(
                f"{self.name}: built without a sent record (--record): nothing lets `anonymize"
                " withdraw` find these people after an objection or erasure"
            )
        else:
            self.result.notices.append(
                f"{self.name}: not checked against the sent record (give --sent-record): that"
                " every hash is recorded, so it can be withdrawn, cannot be checked"
            )

    def _columns(self, upload: UploadFormat | None, kind: str) -> list[str] | None:
        """The header the files must have (None: unknown, findings added)."""
        m = self.m
        if upload is None:
            self.add(Finding("shape", self.name, f"no upload format is known for {m.platform!r}"))
            return None
        if m.encoding != upload.encoding:
            self.add(
                Finding(
                    "shape",
                    f"{self.name} encoding",
                    f"{m.encoding}: {m.platform} takes {upload.encoding}",
                )
            )
        identifier = upload.email if kind == "email" else upload.phone if kind == "phone" else None
        if identifier is None:
            self.add(Finding("shape", self.name, f"{m.platform} takes no {kind} list"))
            return None
        fields = m.parameters.get("fields") or []
        known = {**upload.hashed, **upload.clear}
        columns = [identifier]
        for f in fields if isinstance(fields, list) else []:
            if str(f) not in known:
                self.add(Finding("shape", self.name, f"{m.platform} takes no field {f!r}"))
                continue
            columns.append(known[str(f)])
        return columns

    def _file(self, file: Path, name: str, upload: UploadFormat, columns: list[str]) -> int:
        """Check one file's header, shapes and duplicates; its data rows."""
        pattern, shape = SHAPES.get(self.m.encoding, SHAPES[upload.encoding])
        hashed = {columns[0], *upload.hashed.values()}
        bad: dict[str, list[int]] = {}
        blank: dict[str, list[int]] = {}
        wide: list[int] = []
        duplicates: list[tuple[int, str]] = []
        rows = 0
        for line, row in self._reader(file, name, upload, columns):
            rows += 1
            if len(row) != len(columns):
                wide.append(line)
                continue
            for column, cell in zip(columns, row, strict=True):
                if column in hashed:
                    if (cell or column == columns[0]) and not pattern.fullmatch(cell):
                        bad.setdefault(column, []).append(line)
                    elif cell in EMPTY_HASHES:
                        blank.setdefault(column, []).append(line)
                elif unsafe_csv_cell(cell):
                    bad.setdefault(column, []).append(line)
            first = row[0]
            if pattern.fullmatch(first) and first not in EMPTY_HASHES:
                if first in self.seen:
                    duplicates.append((line, self.seen[first]))
                else:
                    self.seen[first] = f"{name} line {line}"
        if wide:
            self.add(Finding("shape", f"{name} {_lines(wide)}", f"not {len(columns)} column(s)"))
        for column, lines in bad.items():
            what = shape if column in hashed else "a spreadsheet formula in a field sent in clear"
            message = f"not {what}" if column in hashed else what
            self.add(Finding("shape", f"{name} {column} {_lines(lines)}", message))
        for column, lines in blank.items():
            self.add(
                Finding(
                    "shape",
                    f"{name} {column} {_lines(lines)}",
                    "the hash of an empty value (or of whitespace): it matches nobody, and says"
                    " a value was lost before hashing",
                )
            )
        for line, first in duplicates[:SHOWN]:
            self.add(Finding("duplicate", f"{name} line {line}", f"the same hash as {first}"))
        if len(duplicates) > SHOWN:
            self.add(
                Finding("duplicate", name, f"{len(duplicates) - SHOWN} more hashes seen twice")
            )
        return rows

    def _reader(
        self, file: Path, name: str, upload: UploadFormat, columns: list[str]
    ) -> Iterator[tuple[int, list[str]]]:
        """(line number, cells) of each data row; the header line checked."""
        try:
            with file.open(newline="", encoding="utf-8") as handle:
                reader = csv.reader(handle)
                if upload.header:
                    header = next(reader, None)
                    if header != columns:
                        self.add(
                            Finding(
                                "header",
                                f"{name} line 1",
                                f"not {self.m.platform}'s upload header ({', '.join(columns)})",
                            )
                        )
                for row in reader:
                    yield reader.line_num, row
        except (UnicodeDecodeError, csv.Error):
            self.add(Finding("shape", name, "not a readable UTF-8 CSV file"))

    def _counts(self, counted: bool) -> None:
        """The manifest's counts add up, and match the rows the files hold."""
        c = self.m.counts
        where = f"{self.name} counts"
        missing = [s for s in STAGES[1:] if s not in c]
        if missing:
            self.add(Finding("counts", where, f"missing: {', '.join(missing)}"))
            return
        reasons = {
            k: v
            for k, v in c.items()
            if k not in STAGES and k not in STATED and not k.startswith("without_")
        }
        if "rows_read" in c and c["rows_read"] != c["rows_in"] + sum(reasons.values()):
            left = ", ".join(f"{k} {v}" for k, v in reasons.items()) or "none"
            self.add(
                Finding(
                    "counts",
                    where,
                    f"rows_read {c['rows_read']} is not rows_in {c['rows_in']} + the rows left"
                    f" out ({left})",
                )
            )
        parts = c["empty"] + c["invalid"] + c["duplicates"] + c["written"]
        if c["rows_in"] != parts:
            self.add(
                Finding(
                    "counts",
                    where,
                    f"rows_in {c['rows_in']} is not empty {c['empty']} + invalid {c['invalid']}"
                    f" + duplicates {c['duplicates']} + written {c['written']}",
                )
            )
        if counted and c["written"] != self.rows:
            self.add(
                Finding("counts", where, f"written {c['written']}, the files hold {self.rows} rows")
            )
        for key, value in c.items():
            if key.startswith("without_") and value > c["written"]:
                self.add(
                    Finding("counts", where, f"{key} {value} is more than written {c['written']}")
                )

    def _against_records(self, sent: SentRecord) -> None:
        """Every hash recorded as sent, none withdrawn before, nobody in the ledger; the
        write the manifest names is this upload's."""
        platform = self.m.platform
        self._recorded_write(sent)
        recorded = sent.uploaded(platform)
        unknown = [where for h, where in self.seen.items() if h not in recorded]
        if unknown:
            self.add(
                Finding(
                    "sent record",
                    self.name,
                    f"{len(unknown)} hash(es) the sent record does not hold for {platform} (first"
                    f" at {unknown[0]}): sent without being recorded, they could never be"
                    " withdrawn",
                )
            )
        withdrawn = sent.withdrawn(platform)
        for h, where in self.seen.items():
            if h in withdrawn:
                self.add(
                    Finding("sent record", where, f"withdrawn from {platform} before: sent again")
                )
        if self.ledger is None:
            return
        held = sent.in_ledger(platform, self.ledger)
        for h, where in self.seen.items():
            if h in held:
                self.add(
                    Finding(
                        "ledger",
                        where,
                        "a person in the suppression ledger (erased, objected, opted out or"
                        " restricted)",
                    )
                )

    def _recorded_write(self, sent: SentRecord) -> None:
        """The manifest says a sent record holds its upload: that write is it."""
        m = self.m
        if m.recorded is False:
            self.add(
                Finding(
                    "sent record",
                    self.name,
                    "built without a sent record (--record): its upload is not recorded, and"
                    " nobody in it could be withdrawn",
                )
            )
            return
        if m.sent is None:
            return  # written before manifests named their write: the hashes are checked
        if m.sent.record != sent.path.name:
            self.add(
                Finding(
                    "sent record",
                    self.name,
                    f"recorded in {m.sent.record}, not in the record given ({sent.path.name})",
                )
            )
            return
        write = sent.sent_write(m.sent.write)
        if write != ("sent", m.platform, m.sent.audience, m.sent.run):
            self.add(
                Finding(
                    "sent record",
                    self.name,
                    f"the sent record's write {m.sent.write} is not this upload (audience"
                    f" {m.sent.audience}, run {m.sent.run}): not recorded as sent",
                )
            )


__all__ = ["EMPTY_HASHES", "NOT_AUTHENTICATED", "UPLOAD_FORMATS", "UploadFormat", "verify_audience"]
