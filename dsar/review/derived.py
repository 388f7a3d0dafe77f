"""Check a de-identified extract or an aggregate run before it leaves, from its files alone.

Like the bundle check, it trusts nothing but the folder: the typed manifest, the checksums,
then the privacy claims recomputed from the data (k and l over every released column but
those the manifest classifies as sensitive, insensitive with a reason, or the person's
pseudonym, counted in people where the person's pseudonym is released; every published
count at least the minimum; no suppressed cell recomputable from the published totals), a
scan of every cell as it is written (a CSV cell as text, so `07395114462` keeps its zero and
`+447395114462` its plus; an integer as its digits) with the text engine's detectors for what
must not be there (emails, phones, card and bank numbers, IP addresses, secrets and JSON Web
Tokens), an address with a quoted or odd local part (`"john doe"@example.com`), and a cell that
is a bare number shaped like a phone of a plausible region (a valid North American number; a
mobile of a few regions written without its trunk zero) or a US social security number, and
of every CSV cell for a formula a spreadsheet would run (the bundle's check). Each cell is
also read in the forms it may hide an identifier in (`decoded_forms`): percent-decoded (a
web-log path's `?email=jbrowne%40gmail.com`), in NFKC (a full-width at sign), and each run
that is base64 or hex of printable UTF-8; the finding names the encoding. With the source's
identity values (`source_identities`: `dsar verify --catalog`, and always when an extract
checks itself), a cell that equals one (a 9-digit account number, a user id in another
column), decoded or not, is a finding too, matched in memory, never printed; so is a cell
that is an unkeyed digest of one (MD5, SHA-1, SHA-256, SHA-512 in hex, whole or cut, or in
base64), which anyone with a list of ids reverses. A keyed hash is checked as a hash (hex of
one length), never scanned: `be73645c...` read as a Belgian IBAN failed notebook 03's own
extract; its digest bytes decode to no text. A count, a sum or a mean of an aggregate is
not read as a phone.

The manifest's classification (which columns are quasi-identifiers) decides the k recomputed,
so it is authenticated: an extract or aggregate run with a key carries a keyed MAC of its
manifest (`dsar.review.manifest.sign_manifest`). With the key, a MAC that fails or is missing
is a finding; without it, a notice says the classification, the row counts and the checksums
are taken on trust (rows deleted or duplicated and the manifest written again are not seen)
and gives k over every released column beside the manifest's (the conservative figure).

An extract runs these checks itself before it takes its name. Findings name files, columns
and rows, never values.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, unquote_plus

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
from pydantic import ValidationError

from dsar.engine import scratch_connection
from dsar.engine.base import quote_identifier
from dsar.errors import UnreadableArtifactError
from dsar.io import sha256_file
from dsar.review.bundle import Finding, Verification, csv_formula_findings, unlisted_findings
from dsar.review.manifest import AggregateManifest, ExtractManifest, check_mac
from dsar.review.nested import leaf_columns
from dsar.review.snapshot import odd_entries
from dsar.text.detectors import SECRET_PATTERNS, cards, emails, ibans, ip_addresses, phones
from dsar.text.spans import EMAIL, Span

if TYPE_CHECKING:
    import duckdb
    import pandas as pd

    from dsar.engine import Engine
    from dsar.keys import Keys

TOTAL = "(total)"
WITHHELD = "(withheld)"  # a suppressed cell's group value held by fewer than min_count people


def verify_derived(
    folder: str | Path,
    *,
    keys: Keys | None = None,
    identities: SourceIdentities | None = None,
    source: Engine | None = None,
) -> Verification:
    """Verify an extract or an aggregate folder (the kind is read from its manifest).

    Args:
        folder: the extract's or aggregate run's folder.
        keys: the workbench key: the manifest's MAC is checked (a MAC that fails, or none,
            is a finding). Without it the classification is not authenticated: a notice
            says so, with k over every released column.
        identities: the source's identity values (`source_identities`): a released cell
            equal to one is a finding.
        source: the source's engine (`dsar verify --catalog`): an aggregate's group value
            that fewer than its minimum count of people hold there is a finding.
    """
    root = Path(folder)
    path = root / "manifest.json"
    if not path.is_file():
        raise UnreadableArtifactError(
            root, "no manifest.json", "give the extract or aggregate folder the workbench wrote"
        )
    result = Verification(root)
    add = result.findings.append
    try:
        kind = json.loads(path.read_text(encoding="utf-8")).get("kind")
    except (json.JSONDecodeError, AttributeError):
        add(Finding("manifest", "manifest.json", "not a JSON object"))
        return result
    models: dict[str, type[ExtractManifest] | type[AggregateManifest]] = {
        "extract": ExtractManifest,
        "aggregate": AggregateManifest,
    }
    model = models.get(str(kind))
    if model is None:
        raise UnreadableArtifactError(
            root,
            f"a manifest of kind {kind!r} is not an extract or aggregate",
            "check a bundle with verify_bundle (dsar verify)",
        )
    try:
        manifest: ExtractManifest | AggregateManifest = model.model_validate_json(
            path.read_text(encoding="utf-8")
        )
    except ValidationError as exc:
        for err in exc.errors():
            where = ".".join(str(p) for p in err["loc"])
            add(Finding("manifest", f"manifest.json {where}", err["msg"]))
        return result
    result.note_accepted(manifest)
    authenticated = check_mac(
        keys,
        manifest.mac,
        lambda: json.loads(path.read_text(encoding="utf-8")),
        result,
        on_trust="its classification of the columns (quasi-identifier, sensitive, insensitive)"
        " is taken on trust, and so are its row counts and checksums (whoever edited, deleted"
        " or duplicated rows can write them again: only the key authenticates them)",
        unsigned="written without the key, or its MAC removed; its classification cannot be"
        " trusted",
    )
    if identities is not None and identities.digests_capped:
        result.notices.append(
            f"the source has more identity values than {MAX_DIGESTS:,} digests allow: cells"
            " were checked for unkeyed hashes of the first ones only"
        )
    listed = {o.path for o in manifest.outputs}
    extras = [p.name for p in root.iterdir() if p.is_file() and p.name != "manifest.json"]
    result.findings += unlisted_findings([e for e in extras if e not in listed], listed)
    result.findings += odd_entries(root, listed)
    tables: dict[str, pa.Table] = {}
    for out in manifest.outputs:
        file = root / out.path
        if not file.is_file():
            add(Finding("checksum", out.path, "listed in the manifest but missing"))
            continue
        if file.stat().st_size != out.bytes or sha256_file(file) != out.sha256:
            add(Finding("checksum", out.path, "SHA-256 differs from the manifest"))
            continue
        try:
            table = _read(file)
            written = _as_written(file, table)
        except (pa.ArrowException, OSError, ValueError) as exc:  # never its message: values
            add(Finding("format", out.path, unreadable(file, exc)))
            continue
        result.checked_files += 1
        result.checked_rows += table.num_rows
        if out.rows is not None and table.num_rows != out.rows:
            add(Finding("rows", out.path, "row count differs from the manifest"))
        tables[out.path] = table
        _scan(out.path, written, manifest, add, identities)
        if file.suffix == ".csv":
            for finding in csv_formula_findings(file, out.path):
                add(finding)
    if isinstance(manifest, ExtractManifest):
        for name, table in tables.items():
            _check_extract(name, table, manifest, add)
            if not authenticated:
                result.notices.append(_unauthenticated_k(name, table, manifest))
    else:
        _check_aggregates(tables, manifest, add)
        _check_group_values(tables, manifest, add, source)
    return result


def unreadable(path: Path, exc: Exception) -> str:
    """Why a file cannot be read, by position only (a reader's own message quotes the line
    it stopped at, a person's values): a CSV's first line whose fields do not match its
    header, a JSON line that is not JSON, a Parquet file cut or damaged."""
    import csv

    kind = type(exc).__name__
    if path.suffix == ".csv":
        try:
            with path.open(encoding="utf-8", newline="") as handle:
                rows = csv.reader(handle)
                header = next(rows, [])
                for row in rows:
                    if len(row) != len(header):
                        return (
                            f"cannot be read as CSV: line {rows.line_num} has {len(row)}"
                            f" field(s), the header {len(header)}; not checked"
                        )
        except (UnicodeDecodeError, csv.Error) as problem:
            return f"cannot be read as CSV ({type(problem).__name__}): not checked"
        return f"cannot be read as CSV ({kind}): not checked"
    if path.suffix == ".parquet":
        return f"not a whole Parquet file (cut or damaged: {kind}): not checked"
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError:
        return "not UTF-8 text: not checked"
    for number, line in enumerate(lines, 1):
        try:
            json.loads(line or "null")
        except ValueError:
            return f"line {number} is not JSON: not checked"
    return f"cannot be read ({kind}): not checked"


def _read(path: Path) -> pa.Table:
    if path.suffix == ".csv":
        return pcsv.read_csv(path, convert_options=pcsv.ConvertOptions(strings_can_be_null=True))
    if path.suffix == ".parquet":
        return pq.read_table(path)
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    return pa.Table.from_pylist(rows)


def _as_written(path: Path, table: pa.Table) -> pa.Table:
    """The cells as the file holds them, for the scan: a CSV read again with every column as
    text (its reader made `07395114462` the integer 7395114462 and `+447395114462` a float,
    which no text detector saw), an integer column as its digits."""
    if path.suffix == ".csv":
        names = table.column_names
        options = pcsv.ConvertOptions(
            column_types=dict.fromkeys(names, pa.string()), strings_can_be_null=True
        )
        return pcsv.read_csv(path, convert_options=options)
    columns = [pc.cast(c, pa.string()) if pa.types.is_integer(c.type) else c for c in table.columns]
    return pa.Table.from_arrays(columns, names=table.column_names)


# an address however its local part is written: quoted ("john doe"@), or with characters the
# text engine's pattern stops at (john+@, a+b=c@); a domain of labels and a top-level name
_ADDRESS = re.compile(
    r"(?:\"[^\"\r\n]+\"|[^\s@\"<>()\[\],;:]+)@(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+"
    r"[A-Za-z]{2,}(?![A-Za-z0-9-])"
)
_BARE_NUMBER = re.compile(r"(\+|00)?(\d{9,15})")
# regions whose mobiles are written without their trunk zero in a number column (a German
# 17x mobile is not here: 1,700,000,000 is also a Unix time)
MOBILE_REGIONS = ("GB", "FR", "ES", "IT", "NL", "IE", "AU", "IN")


@cache
def _phonenumbers() -> Any:
    import phonenumbers

    return phonenumbers


def ssn_shaped(digits: str) -> bool:
    """Nine digits a US social security number could be: area 001-899 but 666, group
    01-99, serial 0001-9999."""
    area, group, serial = digits[:3], digits[3:5], digits[5:]
    return (
        len(digits) == 9
        and digits.isdigit()
        and area not in ("000", "666")
        and area[0] != "9"
        and group != "00"
        and serial != "0000"
    )


def bare_number(text: str) -> str | None:
    """What a cell that is only a number (9 to 15 digits, perhaps with + or 00) is, if it is
    an identifier: "phones" (an international number the phone library rates valid; ten
    digits a valid North American number; a mobile of `MOBILE_REGIONS` without its trunk
    zero) or "US SSN" (nine digits of its shape). None for anything else: a year, a count, a
    date, a Unix time."""
    m = _BARE_NUMBER.fullmatch(text.strip())
    if m is None:
        return None
    international, digits = m.groups()
    pn = _phonenumbers()

    def valid(number: str, region: str | None, mobile: bool = False) -> bool:
        try:
            parsed = pn.parse(number, region)
        except pn.NumberParseException:
            return False
        if not pn.is_valid_number(parsed):
            return False
        kinds = (pn.PhoneNumberType.MOBILE, pn.PhoneNumberType.FIXED_LINE_OR_MOBILE)
        return not mobile or pn.number_type(parsed) in kinds

    if international:
        return "phones" if valid("+" + digits, None) else None
    if len(digits) == 9 and ssn_shaped(digits):
        return "US SSN"
    if len(digits) == 10 and valid(digits, "US"):
        return "phones"
    if len(digits) in (9, 10) and any(valid(digits, r, mobile=True) for r in MOBILE_REGIONS):
        return "phones"
    return None


def _valid_international(digits: str) -> bool:
    """Digits that are a valid phone number read with their country code (`31612345678`)."""
    pn = _phonenumbers()
    try:
        return bool(pn.is_valid_number(pn.parse("+" + digits, None)))
    except pn.NumberParseException:
        return False


def number_shape(text: str) -> str | None:
    """`bare_number`, and a number of 11 to 15 digits without + that is a valid phone
    number read with its country code (`31612345678`, `14155550123` as integers): what one
    value of a column of numbers may be. Alone it proves little (a fifth of random 11-digit
    numbers pass): `number_column` judges a column."""
    got = bare_number(text)
    if got is not None:
        return got
    m = _BARE_NUMBER.fullmatch(text.strip())
    if m is None or m.group(1):
        return None
    digits = m.group(2)
    if len(digits) >= 11 and digits[0] != "0" and _valid_international(digits):
        return "phones"
    return None


# A column of bare numbers is judged as a column, not a cell at a time: 306 of 400 random
# 10-digit ids are valid North American numbers and almost every 9-digit one is shaped as an
# SSN, so a cell's shape alone says little. A column holds phones or SSNs when nearly all of
# its distinct numbers are shaped so, far more than numbers drawn at random would be (the
# chance of it by the Chernoff bound against the share of random numbers of the same lengths
# shaped so), and they are not a run of consecutive numbers (a counter); a name that says so
# (`mobile`, `ssn`) is supporting evidence: half of them shaped is then enough. With fewer
# distinct numbers than NUMBER_JUDGED there is nothing to judge a column by: each is judged
# alone, as before (the safe side).
NUMBER_JUDGED = 20
_ANY_NUMBER = re.compile(r"(?:\+|00)?\d+")
NUMBER_SHARE = 0.9
NUMBER_NAMED_SHARE = 0.5
NUMBER_CHANCE = 1e-6
NUMBER_SAMPLE = 2_000  # distinct numbers the judgement reads (every cell is then classified)
_COUNTER_SPREAD = 4  # a counter's numbers span fewer than this many per distinct value
_NUMBER_NAME = re.compile(
    r"phone|mobile|msisdn|whatsapp|telefo|(?:^|[^a-z])(?:tel|tlf|fax|cell|gsm|handy|ssn|sin"
    r"|social_security|socsec)(?:[^a-z]|$)",
    re.IGNORECASE,
)


@cache
def _chance_shaped(prefix: str, length: int, zero: bool) -> float:
    """The share of random numbers of `length` digits (after `prefix`: "", "+" or "00";
    starting with 0 where `zero`) that `number_shape` rates an identifier: what a column
    of random ids of that form shows by chance. Measured once, on a fixed seed."""
    import random

    rng = random.Random(length * 4 + len(prefix) + zero)  # noqa: S311 (a measure, no secret)
    tries = 600
    found = 0
    for _ in range(tries):
        first = "0" if zero else str(rng.randrange(1, 10))
        rest = "".join(str(rng.randrange(10)) for _ in range(length - 1))
        found += number_shape(prefix + first + rest) is not None
    return min(1.0, found / tries + 0.02)  # a margin for the measure's own error


def _chance(hits: int, n: int, p: float) -> float:
    """An upper bound of the chance that `hits` or more of `n` values are shaped when each
    is with probability `p` (Chernoff: exp(-n KL(hits/n || p)))."""
    q = hits / n
    if q <= p:
        return 1.0
    if p <= 0.0:
        return 0.0
    kl = q * math.log(q / p) + (0.0 if q >= 1.0 else (1 - q) * math.log((1 - q) / (1 - p)))
    return math.exp(-n * kl)


def number_column(column: str, cells: Iterable[str | None]) -> dict[int, str]:
    """The rows of a column of cells (as written) to report as phones or US SSNs in clear,
    each with its kind, judged as a column (see NUMBER_JUDGED): empty when the column's
    numbers are no more shaped as identifiers than random numbers are."""
    bare: dict[int, str] = {}  # rows of numbers (of any length: an 8-digit one counts)
    for row, cell in enumerate(cells):
        if cell and _ANY_NUMBER.fullmatch(cell.strip()):
            bare[row] = cell.strip()
    if not bare:
        return {}
    distinct = list(dict.fromkeys(bare.values()))
    judged = distinct[:NUMBER_SAMPLE]
    shapes = {v: number_shape(v) for v in judged}
    hits = [v for v in judged if shapes[v] is not None]
    if not hits:
        return {}
    named = _NUMBER_NAME.search(column) is not None
    if len(distinct) < NUMBER_JUDGED and not named:
        # too few numbers to judge a column by: each alone, by the stricter cell rule
        alone = {v: bare_number(v) for v in distinct}
        return {r: k for r, v in bare.items() if (k := alone[v]) is not None}
    if not (named and len(hits) >= NUMBER_NAMED_SHARE * len(judged)):
        if len(hits) < NUMBER_SHARE * len(judged) or _counter(hits):
            return {}
        expected = sum(_chance_of(v) for v in judged) / len(judged)
        if _chance(len(hits), len(judged), expected) > NUMBER_CHANCE:
            return {}
    for v in distinct[NUMBER_SAMPLE:]:
        shapes[v] = number_shape(v)
    return {r: k for r, v in bare.items() if (k := shapes[v]) is not None}


def _chance_of(value: str) -> float:
    m = _BARE_NUMBER.fullmatch(value)
    if m is None:
        return 0.0  # too short or too long to be shaped
    prefix, digits = m.group(1) or "", m.group(2)
    return _chance_shaped(prefix, len(digits), digits[0] == "0")


def _counter(values: list[str]) -> bool:
    """Numbers that run consecutively (a counter, a sequence of ids): their span is a few
    times their count at most."""
    numbers = [int(v.lstrip("+")) for v in values]
    return max(numbers) - min(numbers) < _COUNTER_SPREAD * len(numbers)


def _addresses(text: str) -> Iterator[Span]:
    for m in _ADDRESS.finditer(text):
        yield Span(m.start(), m.end(), EMAIL)


# a run that may be base64 (standard or URL-safe) or hex of some bytes: long enough to hold an
# identifier, bounded so that a huge cell costs nothing
_BASE64_RUN = re.compile(r"[A-Za-z0-9+/_-]{12,4096}={0,2}")
_HEX_RUN = re.compile(r"(?<![0-9A-Fa-f])(?:[0-9A-Fa-f]{2}){6,2048}(?![0-9A-Fa-f])")
PERCENT = "percent-encoded"
COMPATIBILITY = "in full-width or other compatibility forms"
BASE64 = "in base64"
HEX = "in hex"


def _printable(data: bytes) -> str | None:
    """The bytes as text when they are printable UTF-8 of 6 characters or more (what an
    identifier decodes to), else None: a keyed hash's digest bytes never are."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return text if len(text) >= 6 and text.isprintable() else None


def _unbase64(run: str) -> bytes | None:
    body = run.rstrip("=").replace("-", "+").replace("_", "/")
    if len(body) % 4 == 1:
        return None
    try:
        return base64.b64decode(body + "=" * (-len(body) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None


def decoded_forms(value: str) -> Iterator[tuple[str, str]]:
    """The other forms a cell may hide an identifier in, each with its encoding: the cell
    percent-decoded (`jbrowne%40gmail.com`, `+` as a space), in NFKC (a full-width at sign,
    U+FF20), and each run of it that is base64 or hex of printable UTF-8
    (`amJyb3duZUBnbWFpbC5jb20=`).
    A hex digest of a keyed hash decodes to bytes that are not text, and yields nothing."""
    if len(value) < 12 and value.isascii() and "%" not in value and "+" not in value:
        return  # too short for a run, nothing to decode: most cells
    seen = {value}
    texts = [value]
    if "%" in value or "+" in value:
        for decoded in (unquote_plus(value), unquote(value)):
            if decoded not in seen:
                seen.add(decoded)
                texts.append(decoded)
                yield PERCENT, decoded
    for text in list(texts):
        if not text.isascii():
            folded = unicodedata.normalize("NFKC", text)
            if folded not in seen:
                seen.add(folded)
                texts.append(folded)
                yield COMPATIBILITY, folded
    for text in texts:
        for m in _HEX_RUN.finditer(text):
            got = _printable(bytes.fromhex(m.group()))
            if got is not None and got not in seen:
                seen.add(got)
                yield HEX, got
        for m in _BASE64_RUN.finditer(text):
            run = m.group()
            # a run in a path ("/u/amJy...") is tried whole and part by part
            parts = [run, *(p for p in run.split("/") if len(p) >= 12)] if "/" in run else [run]
            for part in parts:
                data = _unbase64(part)
                got = _printable(data) if data is not None else None
                if got is not None and got not in seen:
                    seen.add(got)
                    yield BASE64, got


def identifier_shape(text: str) -> str | None:
    """What identifier `text` is shaped as, by every detector a released cell goes through
    ("emails", "phones", "cards", "ibans", "ip_addresses", "secrets", "US SSN"), else None."""
    return _detect(text, [emails, _addresses, phones, cards, ibans, ip_addresses])


def _detect(
    text: str, detectors: list[Callable[[str], Iterator[Span]]], bare: bool = True
) -> str | None:
    """What the first detector that finds something in `text` finds, else None; a bare
    number by its shape alone where `bare` (a released column's numbers are judged as a
    column instead: `number_column`)."""
    what = next((d.__name__ for d in detectors if any(True for _ in d(text))), None)
    what = "emails" if what == "_addresses" else what
    if what is None and any(p.search(text) for p in SECRET_PATTERNS.values()):
        what = "secrets"
    return what if what is not None or not bare else bare_number(text)


def _scan(
    name: str,
    table: pa.Table,
    manifest: Any,
    add: Any,
    identities: SourceIdentities | None = None,
) -> None:
    """Every cell as written, through the detectors of what must never be in derived data;
    a keyed hash column is checked as a hash instead, and an aggregate's measures (counts,
    sums, means) are not read as phones."""
    generalized: set[str] = set()
    hashed: set[str] = set()
    measures: set[str] = set()
    if isinstance(manifest, ExtractManifest):
        generalized = {c for c, op in manifest.columns.items() if op == "generalize"}
        hashed = {c for c, op in manifest.columns.items() if op == "hash"}
    elif isinstance(manifest, AggregateManifest):
        measures = {c for m in manifest.measures.values() for c in m}
    scanned: list[tuple[str, pa.ChunkedArray, list[int] | None, bool]] = []
    # each column's decoded forms (row, text, encoding), for the identity values below
    decoded: dict[str, tuple[list[int], list[str], list[str]]] = {}
    for column, values, at, top in _scan_columns(table, measures | hashed):
        if column in measures:
            continue
        if identities is not None:
            _check_unkeyed_hashes(name, column, values.to_pylist(), identities, add, at)
        if column in hashed:
            _check_hashes(name, column, values.to_pylist(), add)
            continue
        ip = top not in generalized
        scanned.append((column, values, at, ip))
        detectors: list[Callable[[str], Iterator[Span]]] = [emails, _addresses, phones]
        detectors += [cards, ibans]
        if ip:
            detectors.append(ip_addresses)

        rows, texts, hows = decoded.setdefault(column, ([], [], []))
        cells = values.to_pylist()
        numbers = number_column(column, cells)  # phones and SSNs as bare numbers
        for row, value in enumerate(cells):
            if not value:
                continue
            where = f"{name} {column} row {(at[row] if at else row) + 1}"
            what = _detect(value, detectors, bare=False) or numbers.get(row)
            if what is not None:
                add(Finding("personal data", where, f"{what} in clear"))
                continue
            for how, text in decoded_forms(value):
                rows.append(row)
                texts.append(text)
                hows.append(how)
                what = _detect(text, detectors)
                if what is not None:
                    add(Finding("personal data", where, f"{what} {how}"))
                    break
    if identities is not None:
        for column, values, at, ip in scanned:
            found = identities.first_match(values, ip=ip)
            how = "in clear"
            rows, texts, hows = decoded.get(column, ([], [], []))
            if found is None and texts:
                got = identities.first_match(
                    pa.chunked_array([pa.array(texts, pa.string())]), ip=ip
                )
                if got is not None:
                    found, how = (rows[got[0]], got[1]), hows[got[0]]
            if found is not None:
                row, source = found
                row = at[row] if at else row
                add(
                    Finding(
                        "personal data",
                        f"{name} {column} row {row + 1}",
                        f"a value of the source's {source} {how}",
                    )
                )


def _scan_columns(
    table: pa.Table, whole: set[str]
) -> Iterator[tuple[str, pa.ChunkedArray, list[int] | None, str]]:
    """The columns the scan reads, as text: each text column as it is, and the leaves of
    every nested value (a struct, list or map column's; a JSON object or array in a text
    cell) as columns of their own (`sponsor.member`, `household[]`, `dsar.review.nested`),
    each with the row of every leaf; with the column each came from. A column in `whole`
    (keyed hashes, an aggregate's measures) is not read through."""
    for column in table.column_names:
        values = table.column(column)
        text = pa.types.is_string(values.type) or pa.types.is_large_string(values.type)
        if text:
            yield column, values, None, column
        nested = pa.types.is_nested(values.type)
        if column in whole or not (text or nested):
            continue
        for label, (rows, texts) in leaf_columns(column, values.to_pylist()).items():
            yield label, pa.chunked_array([pa.array(texts, pa.string())]), rows, column


# an identity value is compared when it could identify: 6 characters or more, with a digit or
# an "@" (not "unknown", not a country); a phone-like value also by its digits alone
_MIN_IDENTITY = 6
_PHONE_LIKE = r"^\+?[0-9][0-9 ().\-/]*$"


def _normalised(values: pa.Array | pa.ChunkedArray) -> tuple[pa.Array, pa.Array]:
    """Each value trimmed and in lower case, and its digits alone where it is phone-like
    and holds 9 digits or more (else null): the one normalisation both sides go through."""
    text = pc.cast(values, pa.string())
    plain = pc.utf8_lower(pc.utf8_trim_whitespace(text))
    digits = pc.replace_substring_regex(plain, r"[^0-9]", "")
    phone_like = pc.and_(
        pc.match_substring_regex(plain, _PHONE_LIKE),
        pc.greater_equal(pc.utf8_length(digits), 9),
    )
    no_digits = pa.nulls(len(plain), pa.string())
    chunked = isinstance(plain, pa.ChunkedArray)
    plain_array = plain.combine_chunks() if chunked else plain
    digits_array = pc.if_else(phone_like, digits, no_digits)
    if isinstance(digits_array, pa.ChunkedArray):
        digits_array = digits_array.combine_chunks()
    return plain_array, digits_array


# unkeyed digests of the identity values: what a column "hashed" without the key holds (plain
# SHA-256 of the user ids, cut to 16 hex characters; MD5 of the e-mails), reversed by anyone
# with a list of ids. Hex in full and cut to the common lengths, base64 of the full digest.
DIGESTS = ("md5", "sha1", "sha256", "sha512")
_DIGEST_FUNCTIONS = (hashlib.md5, hashlib.sha1, hashlib.sha256, hashlib.sha512)
HEX_PREFIXES = (8, 10, 12, 16, 20, 32, 40)
_FULL_BYTES = {hashlib.new(a).digest_size: a for a in DIGESTS}  # 16, 20, 32, 64
_HEX_LENGTHS = frozenset([*HEX_PREFIXES, *(2 * n for n in _FULL_BYTES)])
_BASE64_DIGEST = re.compile(r"[A-Za-z0-9+/_-]{22,88}={0,2}")
_HEXDIGEST = re.compile(r"[0-9a-f]+")
# memory is bounded: each digest is kept once, as its bytes, under its first 4 bytes (a set
# lookup per cell, about 300 bytes a digest); past this many the rest are not computed and
# verify says so (4 digests for each form of each value: 1,000,000, or 250,000 ids of one
# form, measured at 290 MB and under 7 s to build)
MAX_DIGESTS = 1_000_000


@dataclass(frozen=True)
class SourceIdentities:
    """The source's identity values, normalised (`_normalised`), each with the catalog
    column it came from, and their unkeyed digests (`DIGESTS`): kept in memory to match
    released cells against, never printed.

    Build it with `source_identities(engine)`.
    """

    values: pa.Table  # value (normalised), source ("table.column (kind)"), ip (bool)
    # first 4 bytes of a digest -> (digest, index into `digest_sources`)
    digests: dict[bytes, list[tuple[bytes, int]]] = field(default_factory=dict)
    digest_sources: tuple[str, ...] = ()
    digests_capped: bool = False  # more identity values than MAX_DIGESTS allows

    def unkeyed_hash(self, cell: str) -> str | None:
        """What `cell` is, when it is an unkeyed digest of an identity value ("sha256 of
        the source's accounts.user_id (user_id)"), else None: hex of a full digest or of a
        `HEX_PREFIXES` length, or base64 of a full digest."""
        if not self.digests:
            return None
        text = cell.strip()
        exact = True
        got: bytes | None = None
        if len(text) in _HEX_LENGTHS and _HEXDIGEST.fullmatch(text.lower()):
            got = bytes.fromhex(text)
            exact = False
        elif _BASE64_DIGEST.fullmatch(text):
            got = _unbase64(text)
            if got is not None and len(got) not in _FULL_BYTES:
                got = None
        if got is None:
            return None
        for digest, source in self.digests.get(got[:4], ()):
            if digest == got or (not exact and digest.startswith(got)):
                return self.digest_sources[source]
        return None

    def first_match(self, cells: pa.ChunkedArray, *, ip: bool = True) -> tuple[int, str] | None:
        """The first row whose cell, or a word of it, equals an identity value, and that
        value's column; IP addresses left out where the column is generalised (a /24
        network may equal an address that ends in .0)."""
        if not self.values.num_rows or not len(cells):
            return None
        plain, digits = _normalised(cells)
        rows = pa.array(range(len(plain)), pa.int64())
        # and each word of a text ("my account is u0000123."), its trailing dot left out, and
        # each part of a path or query ("/users?id=u0000123")
        row_parts, value_parts = [rows, rows], [plain, digits]
        for separators in (r"[\s,;:()<>\[\]{}\"'!?|]+", r"[\s,;:()<>\[\]{}\"'!?|=&/]+"):
            words = pc.split_pattern_regex(plain, separators)
            row_parts.append(pc.list_parent_indices(words).cast(pa.int64()))
            value_parts.append(pc.utf8_rtrim(pc.list_flatten(words), "."))
        both = pa.table(
            {"row": pa.concat_arrays(row_parts), "value": pa.concat_arrays(value_parts)}
        )
        con = scratch_connection()
        try:
            con.register("cells", both)
            con.register("ids", self.values)
            where = "" if ip else " WHERE NOT ids.ip"
            got = con.execute(
                "SELECT cells.row, ids.source FROM cells JOIN ids ON cells.value = ids.value"
                f"{where} ORDER BY cells.row, ids.source LIMIT 1"
            ).fetchone()
        finally:
            con.close()
        return (int(got[0]), str(got[1])) if got else None


def source_identities(engine: Engine, tables: Iterable[str] | None = None) -> SourceIdentities:
    """The identity values of `tables` (every table of the engine's catalog by default),
    for `verify_derived` to match released cells against."""
    catalog = engine.catalog
    parts: list[pa.Table] = []
    digests: dict[bytes, list[tuple[bytes, int]]] = {}
    sources: list[str] = []
    count = 0
    capped = False
    for name in tables if tables is not None else catalog.tables:
        for column, kind in catalog.tables[name].identity_columns().items():
            col = quote_identifier(column)
            got = engine.query(
                f"SELECT DISTINCT {col} AS v FROM {quote_identifier(name)} WHERE {col} IS NOT NULL"
            )
            label = f"{name}.{column} ({kind})"
            first = len(sources)
            sources += [f"{a} of the source's {label}" for a in DIGESTS]
            for raw in got.column("v").to_pylist():
                text = str(raw)
                lowered = text.strip().lower()
                if len(lowered) < _MIN_IDENTITY or not re.search(r"[0-9@]", lowered):
                    continue
                for form in {text, text.strip(), lowered}:
                    if count >= MAX_DIGESTS:
                        capped = True
                        break
                    data = form.encode("utf-8")
                    for i, algorithm in enumerate(_DIGEST_FUNCTIONS):
                        digest = algorithm(data).digest()
                        digests.setdefault(digest[:4], []).append((digest, first + i))
                        count += 1
            plain, digits = _normalised(got.column("v"))
            for values in (plain, digits):
                keep = pc.and_(
                    pc.greater_equal(pc.utf8_length(values), _MIN_IDENTITY),
                    pc.match_substring_regex(values, r"[0-9@]"),
                )
                values = pc.filter(values, pc.fill_null(keep, False))
                parts.append(
                    pa.table(
                        {
                            "value": values,
                            "source": pa.array(
                                [f"{name}.{column} ({kind})"] * len(values), pa.string()
                            ),
                            "ip": pa.array([str(kind) == "ip_address"] * len(values), pa.bool_()),
                        }
                    )
                )
    schema = pa.schema([("value", pa.string()), ("source", pa.string()), ("ip", pa.bool_())])
    table = pa.concat_tables(parts) if parts else schema.empty_table()
    return SourceIdentities(table.cast(schema), digests, tuple(sources), capped)


def _check_unkeyed_hashes(
    name: str,
    column: str,
    values: list[Any],
    identities: SourceIdentities,
    add: Any,
    at: list[int] | None = None,
) -> None:
    """A released column holding unkeyed digests of identity values: the first row, once.

    A digest cut to fewer than 16 hex characters (32 to 48 bits) can equal a keyed hash of
    that length by chance (a million digests against 8 characters: one cell in 4,000), so
    such matches count only when they are at least half of the column's cells, as a column
    replaced by digests is; 16 characters or more, and base64 of a whole digest, count at
    once."""
    found: tuple[int, str] | None = None
    first_short: tuple[int, str] | None = None
    short = cells = 0
    for row, value in enumerate(values):
        if not value:
            continue
        cells += 1
        what = identities.unkeyed_hash(value)
        if what is None:
            continue
        if len(value.strip()) >= 16:
            found = (row, what)
            break
        short += 1
        first_short = first_short or (row, what)
    if found is None and short and 2 * short >= cells:
        found = first_short
    if found is None:
        return
    row, what = found
    row = at[row] if at else row
    add(
        Finding(
            "personal data",
            f"{name} {column} row {row + 1}",
            f"an unkeyed hash of an identity value ({what}): reversible with a list of ids",
        )
    )


HASH = re.compile(r"[0-9a-f]{8,64}")


def _check_hashes(name: str, column: str, values: list[Any], add: Any) -> None:
    """A keyed hash is lower-case hex, every value of one length (8 to 64)."""
    lengths = set()
    for row, value in enumerate(values):
        if value is None:
            continue
        if not HASH.fullmatch(value):
            add(Finding("personal data", f"{name} {column} row {row + 1}", "not a keyed hash"))
            return
        lengths.add(len(value))
    if len(lengths) > 1:
        add(Finding("personal data", f"{name} {column}", "hashes of different lengths"))


PSEUDONYM = "pseudonym of the person"
INSENSITIVE = "insensitive: "


def quasi_identifiers_of(columns: list[str], m: ExtractManifest) -> list[str]:
    """The reviewer's own quasi-identifiers: every column of the file but a suppressed one
    and those the manifest classifies as sensitive, insensitive with a reason, or the
    person's pseudonym (written by hash or pseudonym). A manifest without classification
    (older ones) leaves out only the columns it measured l over."""
    found = []
    for c in columns:
        role = m.classification.get(c, "")
        if m.columns.get(c) == "suppress":
            continue
        if role == "sensitive" or (role.startswith(INSENSITIVE) and role[len(INSENSITIVE) :]):
            continue
        if role == PSEUDONYM and m.columns.get(c) in ("hash", "pseudonym"):
            continue
        if not m.classification and c in m.risk.l_distinct:
            continue
        found.append(c)
    return found


def _min_class(con: duckdb.DuckDBPyConnection, columns: list[str], who: str | None) -> int:
    """The smallest class over `columns` of the registered table `t`, in people (distinct
    `who`) where `who` is given, else in rows."""
    group = f" GROUP BY {', '.join(quote_identifier(c) for c in columns)}" if columns else ""
    size = (
        f"count(DISTINCT {quote_identifier(who)})"
        f" + max(CASE WHEN {quote_identifier(who)} IS NULL THEN 1 ELSE 0 END)"
        if who
        else "count(*)"
    )
    got = con.execute(f"SELECT min(n) FROM (SELECT {size} AS n FROM t{group})")
    return int((got.fetchone() or (0,))[0] or 0)


def _linked_min_class(con: duckdb.DuckDBPyConnection, columns: list[str], who: str) -> int:
    """The smallest class of people linked by `who` (their pseudonym) over `columns`: a
    person's quasi-identifier is the sorted list of their rows' values (with no column, their
    number of rows); a class's size is the pseudonyms sharing one (0 when none is set)."""
    row = (
        "struct_pack("
        + ", ".join(f"{quote_identifier(c)} := {quote_identifier(c)}" for c in columns)
        + ")"
        if columns
        else "0"
    )
    w = quote_identifier(who)
    got = con.execute(
        f"SELECT min(n) FROM (SELECT count(*) AS n FROM (SELECT list_sort(list({row})) AS s"
        f" FROM t WHERE {w} IS NOT NULL GROUP BY {w}) GROUP BY s)"
    )
    return int((got.fetchone() or (0,))[0] or 0)


def _most_rows(con: duckdb.DuckDBPyConnection, column: str) -> int:
    """The most rows of `t` one value of `column` holds (NULL aside)."""
    col = quote_identifier(column)
    got = con.execute(
        f"SELECT max(n) FROM (SELECT count(*) AS n FROM t WHERE {col} IS NOT NULL GROUP BY {col})"
    ).fetchone()
    return int((got or (0,))[0] or 0)


def _check_texts(
    con: duckdb.DuckDBPyConnection,
    name: str,
    table: pa.Table,
    m: ExtractManifest,
    who: str | None,
    add: Any,
) -> None:
    """Released free text (redacted): its share of unique texts recomputed against the
    manifest's; beside a released pseudonym that links several rows (`who`), any unique
    text is refused (it links the person's every row to the source)."""
    for column, op in m.columns.items():
        if op != "redact" or column not in table.column_names:
            continue
        text = (
            f"trim(regexp_replace(lower(CAST({quote_identifier(column)} AS VARCHAR)),"
            " '\\s+', ' ', 'g'))"
        )
        got = con.execute(
            f"SELECT coalesce(sum(n) FILTER (WHERE n = 1), 0), coalesce(sum(n), 0) FROM"
            f" (SELECT count(*) AS n FROM t WHERE {text} <> '' GROUP BY {text})"
        ).fetchone()
        ones, total = (int(got[0]), int(got[1])) if got else (0, 0)
        share = round(ones / total, 6) if total else 0.0
        claimed = m.risk.text_unique.get(column)
        if claimed is not None and abs(claimed - share) > 1e-6:
            add(
                Finding(
                    "risk",
                    f"{name} {column}",
                    f"unique texts recomputed {share:.1%}, the manifest says {claimed:.1%}",
                )
            )
        if who is not None and ones:
            add(
                Finding(
                    "risk",
                    f"{name} {column}",
                    f"{ones} of {total} redacted texts are unique, and the released pseudonym"
                    f" {who} links each to the other rows of its person: whoever has seen the text"
                    f" finds the person; drop the pseudonym ({who}: drop) or the text"
                    f" ({column}: drop)",
                )
            )


def _unauthenticated_k(name: str, table: pa.Table, m: ExtractManifest) -> str:
    """The conservative figure where the classification is not authenticated: k over every
    released column but the suppressed ones and the person's keyed hash (by which people
    are counted), beside the manifest's."""
    person = m.person or ""
    who = person if person in table.column_names and m.columns.get(person) == "hash" else None
    every = [
        c for c in table.column_names if c != who and m.columns.get(c) not in ("suppress", "drop")
    ]
    k, together = 0, ""
    if table.num_rows:
        con = scratch_connection()
        try:
            con.register("t", table)
            k = _min_class(con, every, who)
            if who is not None and _most_rows(con, who) > 1:  # rows the pseudonym links
                together = ", each person's rows together,"
                k = min(k, _linked_min_class(con, every, who))
        finally:
            con.close()
    return (
        f"{name}: k over all {len(every)} released columns{together} is {k} (the manifest says"
        f" k = {m.risk.k} over {len(m.risk.quasi_identifiers)} quasi-identifier(s))"
    )


def _check_extract(name: str, table: pa.Table, m: ExtractManifest, add: Any) -> None:
    kept = {c for c, op in m.columns.items() if op != "drop"}
    for column in table.column_names:
        if column not in kept:
            add(Finding("columns", f"{name} {column}", "a column the policy does not keep"))
    qis = quasi_identifiers_of(table.column_names, m)
    uncounted = [q for q in qis if q not in m.risk.quasi_identifiers]
    if uncounted:
        add(
            Finding(
                "risk",
                name,
                f"released column(s) not counted as quasi-identifiers: {', '.join(uncounted)}",
            )
        )
    missing = [q for q in m.risk.quasi_identifiers if q not in table.column_names]
    if missing:
        add(Finding("risk", name, f"quasi-identifier column(s) missing: {', '.join(missing)}"))
        return
    target = m.targets.get("k") or 1
    if not qis and target > 1:
        add(Finding("risk", name, f"a k target of {target:g} without quasi-identifiers"))
    if not table.num_rows:
        return
    # the person's pseudonym, where it is released, counts people; else each row counts
    who = m.person if m.person and m.classification.get(m.person) == PSEUDONYM else None
    who = who if who in table.column_names else None
    qis_sql = ", ".join(quote_identifier(q) for q in qis) if qis else None
    con = scratch_connection()
    try:
        con.register("t", table)
        for column, op in m.columns.items():
            if op == "suppress" and column in table.column_names:
                got = con.execute(f"SELECT count({quote_identifier(column)}) FROM t").fetchone()
                if got and got[0]:
                    add(Finding("columns", f"{name} {column}", "suppressed, but holds values"))
        group = f" GROUP BY {qis_sql}" if qis_sql else ""
        k = k_rows = _min_class(con, qis, who)
        # rows linked by a released pseudonym (the person's, a device's): each one's multiset
        linked = [
            c
            for c in table.column_names
            if m.classification.get(c) == PSEUDONYM and m.columns.get(c) in ("hash", "pseudonym")
        ]
        by = ", ".join(linked)
        for column in linked:
            k = min(k, _linked_min_class(con, qis, column))
        if who is not None or linked or not m.person:
            if k != m.risk.k:
                add(Finding("risk", name, f"k recomputed is {k}, the manifest says {m.risk.k}"))
        elif k < m.risk.k:  # rows: at least as many as people
            add(Finding("risk", name, f"k in rows is {k}, below the manifest's {m.risk.k}"))
        if k < target <= k_rows:
            add(
                Finding(
                    "risk",
                    name,
                    f"k over each person's combination of rows (linked by the released"
                    f" pseudonym {by}) is {k}, below the target {target:g} (single rows: k ="
                    f" {k_rows}): drop the pseudonym ({by}: drop), or release one row per"
                    " person, or coarsen the quasi-identifiers",
                )
            )
        elif k < target:
            add(Finding("risk", name, f"k is {k}, below the target {target:g}"))
        # a unique text beside a pseudonym of several rows links them all to the source
        several = [c for c in linked if _most_rows(con, c) > 1]
        _check_texts(con, name, table, m, ", ".join(several) or None, add)
        l_target = m.targets.get("l")
        for s in m.risk.l_distinct:
            if l_target and s in table.column_names:
                col = quote_identifier(s)
                got = con.execute(
                    f"SELECT min(d) FROM (SELECT count(DISTINCT {col}) + max(CASE WHEN {col}"
                    f" IS NULL THEN 1 ELSE 0 END) AS d FROM t{group})"
                )
                distinct = int((got.fetchone() or (0,))[0] or 0)
                if distinct < l_target:
                    add(Finding("risk", f"{name} {s}", f"l is {distinct}, below {l_target:g}"))
    finally:
        con.close()
    t_target = m.targets.get("t")
    frame = table.to_pandas() if t_target is not None and m.risk.t_closeness else None
    for s, claimed in m.risk.t_closeness.items():
        if frame is None or s not in table.column_names:
            continue
        t = t_closeness(frame, qis, s)
        if abs(t - claimed) > 1e-4:
            add(
                Finding(
                    "risk", f"{name} {s}", f"t recomputed is {t:.4f}, the manifest says {claimed}"
                )
            )
        if t_target is not None and t > t_target + 1e-9:
            add(Finding("risk", f"{name} {s}", f"t is {t:.4f}, above {t_target:g}"))


def t_closeness(frame: pd.DataFrame, qis: list[str], column: str) -> float:
    """The largest earth mover's distance between a class's values of `column` and the whole
    table's: half the L1 distance for text, the ordered distance for numbers (written again
    here, apart from the extract's SQL)."""
    import pandas as pd

    values = frame[column]
    whole = values.value_counts(normalize=True, dropna=False)
    numeric = pd.api.types.is_numeric_dtype(values)
    if numeric:
        whole = whole.sort_index(na_position="last")
    steps = max(len(whole) - 1, 1)
    classes = frame.groupby(qis, dropna=False)[column] if qis else [(None, values)]
    worst = 0.0
    for _, group in classes:
        share = group.value_counts(normalize=True, dropna=False).reindex(whole.index, fill_value=0)
        gap = share - whole
        distance = gap.cumsum().abs().sum() / steps if numeric else gap.abs().sum() / 2
        worst = max(worst, float(distance))
    return worst


def recoverable_cells(tables: dict[str, list[dict[str, Any]]], measure: str) -> list[str]:
    """What an attacker with every published table of a run can recompute: a suppressed cell
    that is a published total minus the other, published, cells of its line.

    Each table is rows of group columns (a margin holds `(total)`) and `measure` (None when
    suppressed). Returns a description of each recoverable cell (group values only).
    """
    published: dict[frozenset[tuple[str, str]], float] = {}
    hidden: set[frozenset[tuple[str, str]]] = set()
    for rows in tables.values():
        for row in rows:
            key = frozenset(
                (c, str(v))
                for c, v in row.items()
                if c not in (measure, "suppressed") and v != TOTAL
            )
            if row.get(measure) is None:
                hidden.add(key)
            else:
                published[key] = float(row[measure])
    everything = published.keys() | hidden
    dims_of = {k: frozenset(d for d, _ in k) for k in everything}
    found = []
    for cell in hidden - published.keys():
        if any(v == WITHHELD for _, v in cell):
            continue  # one or more cells of rare values, together: no one cell's count
        for total_key in published:
            if not total_key < cell:
                continue
            free = dims_of[cell] - dims_of[total_key]
            line = [
                k for k in everything if total_key < k and dims_of[k] - dims_of[total_key] == free
            ]
            if all(k in published for k in line if k != cell):
                found.append(", ".join(f"{d}={v}" for d, v in sorted(cell)))
                break
    return sorted(found)


def _check_aggregates(tables: dict[str, pa.Table], m: AggregateManifest, add: Any) -> None:
    by_measure: dict[str, dict[str, list[dict[str, Any]]]] = defaultdict(dict)
    for name, table in tables.items():
        stem = Path(name).stem
        groups = list(m.group_by.get(stem, ()))
        measures = m.measures.get(stem, {})
        if not groups or any(c not in table.column_names for c in [*groups, *measures]):
            add(
                Finding(
                    "columns", name, "its columns differ from the manifest's groups and measures"
                )
            )
            continue
        rows = table.to_pylist()
        for row_no, row in enumerate(rows):
            for c, op in measures.items():
                value = row[c]
                if op == "count" and value is not None and float(value) < m.min_count:
                    add(
                        Finding(
                            "small cell", f"{name} row {row_no + 1}", f"{c} below {m.min_count}"
                        )
                    )
        for c, op in measures.items():
            if op == "count":
                by_measure[c][name] = [{**{g: str(r[g]) for g in groups}, c: r[c]} for r in rows]
    for measure, published in by_measure.items():
        for cell in recoverable_cells(published, measure):
            add(Finding("recomputable", cell, f"a suppressed {measure} follows from the totals"))


def _check_group_values(
    tables: dict[str, pa.Table], m: AggregateManifest, add: Any, source: Engine | None
) -> None:
    """A group value is published only when at least `min_count` people hold it (a suppressed
    cell's rarer values are written WITHHELD): more distinct values in a group column than
    the source's rows can hold at `min_count` each, or (with the source) values fewer people
    hold there, are findings, by count. Under noise, declared values may be rare: not read."""
    if m.differential_privacy is not None:
        return
    for name, table in tables.items():
        groups = [g for g in m.group_by.get(Path(name).stem, ()) if g in table.column_names]
        for g in groups:
            values = {str(v) for v in table.column(g).to_pylist() if v is not None} - {
                TOTAL,
                WITHHELD,
            }
            where = f"{name} {g}"
            if m.rows_in is not None and len(values) * m.min_count > m.rows_in:
                add(
                    Finding(
                        "group values",
                        where,
                        f"{len(values)} distinct values published from {m.rows_in} rows: some"
                        f" are held by fewer than {m.min_count} people (one each, for an"
                        " identifier), group by a coarser column",
                    )
                )
                continue
            rare = _rare_in_source(source, m, g, values) if source is not None else 0
            if rare:
                add(
                    Finding(
                        "group values",
                        where,
                        f"{rare} of {len(values)} published values are held by fewer than"
                        f" {m.min_count} people in the source",
                    )
                )


def _rare_in_source(source: Engine, m: AggregateManifest, column: str, values: set[str]) -> int:
    """How many of `values` fewer than `min_count` people (rows, where the catalog names no
    identity column) hold in the source table's `column` (0 where it has no such column)."""
    spec = source.catalog.tables.get(m.table)
    if spec is None or m.table not in source.tables or column not in source.columns(m.table):
        return 0
    ids = list(spec.identity_columns())
    who = f"count(DISTINCT {quote_identifier(ids[0])})" if ids else "count(*)"
    col = quote_identifier(column)
    got = source.query(
        f"SELECT {col} AS v, {who} AS n FROM {quote_identifier(m.table)} WHERE {col} IS NOT NULL"
        " GROUP BY ALL"
    ).to_pylist()
    held = {str(r["v"]): int(r["n"]) for r in got}
    return sum(1 for v in values if v in held and held[v] < m.min_count)
