"""Check a folder of published support requests (`anonymize publish`) from its files alone.

The reviewer trusts nothing but the folder: the typed manifest, the checksums, then the
published texts themselves, scanned again with the text engine. Every span the engine
finds there must lie where the review file lists a replacement (else it was never
replaced); an email must be at a reserved domain and an IP address in a documentation
range (what publishing writes); the review file must hold kinds and positions only, never
a value; the manifest's counts must add up. Given the input the folder was made from (or
the original values), no original (a full name, an email, a phone, a card, an IBAN, an
identifier) may be in any published text, and each published row is read against the
source row it came from (issue 24): no name of that row left in its unreplaced text or in a
kept column, no original where a replacement is listed.

Findings name files, rows, columns and positions, never values.
"""

from __future__ import annotations

import csv
import json
import re
import sys
import unicodedata
from collections import Counter
from collections.abc import Callable, Collection, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import pyarrow.parquet as pq
import regex
from pydantic import Field, ValidationError

from dsar.errors import UnreadableArtifactError
from dsar.io import sha256_file
from dsar.review.bundle import Finding, Verification, csv_formula_findings, unlisted_findings
from dsar.review.manifest import (
    ArtifactManifest,
    Count,
    check_mac,
    manifest_problems,
)

if TYPE_CHECKING:
    from dsar.keys import Keys
    from dsar.text import TextEngine

PUBLISHED = "published"
REVIEW_FILE = "review.jsonl"
THREAD_TOKEN = re.compile(r"t-[0-9a-f]{16}")
RESERVED_EMAIL = re.compile(r"@example\.(?:com|org|net)$", re.IGNORECASE)
HELD_BACK = "held_back"
RARE_TERM = "rare_term"
REVIEW_KEYS = frozenset({"row", "input_row", "kind", "reason", "start", "end"})
_IPV4_DOCS = ("192.0.2.", "198.51.100.", "203.0.113.")
_NAME_WORD = regex.compile(r"[\p{L}\p{M}][\p{L}\p{M}'\u2019-]*")
FINDABLE = (
    "PERSON",
    "EMAIL_ADDRESS",
    "PHONE_NUMBER",
    "CREDIT_CARD",
    "IBAN_CODE",
    "IP_ADDRESS",
    "SECRET",
    "GOVERNMENT_ID",
)


class PublishedManifest(ArtifactManifest):
    """The manifest of published support requests (`anonymize publish`)."""

    # a kind of its own, spelled here: `ArtifactKind` (dsar.review.manifest) may list it later
    kind: Literal["published"] = Field(description="always 'published'")  # type: ignore[assignment]
    format_version: Literal[1] = Field(description="version of the layout")
    name: str = Field(min_length=1, description="the publication's name (its folder)")
    column: str = Field(min_length=1, description="the column of texts replaced")
    thread: str | None = Field(
        description="the column grouping texts into threads, published as keyed tokens"
    )
    kept: tuple[str, ...] = Field(description="other columns published as they were")
    format: Literal["csv", "jsonl", "parquet"] = Field(description="the data file's format")
    rows_in: Count = Field(description="rows read")
    rows_out: Count = Field(description="rows published")
    held_back: Count = Field(description="rows held back for a reviewer (not published)")
    replaced: dict[str, Count] = Field(description="spans replaced by a surrogate, per kind")
    rare_terms: Count = Field(description="rare capitalised terms listed for a reviewer")
    rare_below: Count = Field(
        description="a term is rare when fewer than this many people use it (counted as"
        " `rare_counted_by` says)"
    )
    people: Count = Field(description="distinct people given a surrogate name")
    locales: dict[str, Count] = Field(description="people per Faker locale of their surrogate")
    review_file: str = Field(description="the review file: kinds and positions, no values")
    publication_id: str | None = Field(
        default=None,
        description="the random id the publication's own surrogate key is derived from (with"
        " the workbench key; never the key itself): its surrogates and thread tokens mean"
        " nothing outside it (absent: written before, or a series)",
    )
    series: str | None = Field(
        default=None,
        description="the series whose publications share surrogates and thread tokens (a"
        " person is the same surrogate in each, and a name learnt in one decodes the others)",
    )
    rare_counted_by: Literal["person", "thread", "text"] | None = Field(
        default=None,
        description="who a rare term's users are: the --person column's values, the --thread"
        " column's, or each text (absent: written before, texts)",
    )
    mac: str | None = Field(
        default=None,
        description="a keyed MAC (`manifest_mac`) of every other field (absent: written before"
        " it was recorded): `dsar verify` with the key finds an edited manifest (rows removed,"
        " a text changed, with its checksums and counts written again)",
    )


# a nested cell's text: its leaves joined by a blank line (red team s14 F9)
NESTED_JOIN = "\n\n"


def cell_leaves(value: object, object_keys: bool = True) -> list[object]:
    """The leaves of a nested cell (a JSON object or list; a Parquet struct, list or map), in
    order: every string and number, and, with `object_keys` (JSON, not a Parquet struct,
    whose field names are its schema), every object key before its value. Booleans and
    nulls are not text."""
    out: list[object] = []

    def walk(v: object) -> None:
        if isinstance(v, dict):
            for k, item in v.items():
                if object_keys:
                    out.append(k)
                walk(item)
        elif isinstance(v, list | tuple):
            for item in v:
                walk(item)
        elif isinstance(v, str | int | float) and not isinstance(v, bool):
            out.append(v)

    walk(value)
    return out


def cell_text(value: object, object_keys: bool = True) -> str | None:
    """A cell of the texts' column as the text publishing reads, replaces and positions the
    review file's spans in: a string as it is; a nested value (red team s14 F9) its leaves
    (`cell_leaves`) joined by a blank line; another value as `str` (None: empty)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, dict | list | tuple):
        return NESTED_JOIN.join(str(v) for v in cell_leaves(value, object_keys))
    return str(value)


def read_texts(path: Path, column: str) -> list[str | None]:
    """The values of `column` in a CSV, JSON Lines or Parquet file, as text (`cell_text`;
    None: empty)."""
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return [
            cell_text(v, object_keys=False)
            for v in pq.read_table(path, columns=[column])[column].to_pylist()
        ]
    if suffix == ".csv":
        csv.field_size_limit(sys.maxsize)
        with path.open(encoding="utf-8", newline="") as handle:
            return [row.get(column) for row in csv.DictReader(handle)]
    out: list[str | None] = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                out.append(cell_text(json.loads(line).get(column)))
    return out


def _read_column(path: Path, column: str) -> list[str | None]:
    return read_texts(path, column)


def normalised(entity: str, value: str) -> str:
    """The form two mentions of one value share (written again here, apart from the
    publisher's)."""
    if entity == "PERSON":
        return " ".join(w.casefold() for w in _NAME_WORD.findall(value))
    if entity in ("EMAIL_ADDRESS", "IP_ADDRESS", "SECRET", "URL_TOKEN", "COMPANY_ID"):
        return value.strip().casefold()
    return re.sub(r"[^0-9A-Za-z]", "", value).upper()


def verify_published(
    folder: str | Path,
    *,
    source: str | Path | None = None,
    originals: Collection[tuple[str, str]] | None = None,
    text_engine: TextEngine | None = None,
    keys: Keys | None = None,
    identifiers: Collection[str] = (),
) -> Verification:
    """Verify a published folder.

    Args:
        folder: the folder `anonymize publish` wrote.
        source: the input it was made from: no original value found in it may be published.
        originals: instead of `source`, the original values as (entity, `normalised` value).
        text_engine: the text engine to scan with (default: one that leaves alone the
            company names the manifest records).
        keys: the workbench key: the manifest's MAC must verify (a MAC that fails or is
            missing is a finding); without it, a notice says the manifest is not
            authenticated.
        identifiers: the company's identifiers (`catalog_identifiers`): none may be
            published, in any of the forms `other_forms` reads.
    """
    root = Path(folder)
    path = root / "manifest.json"
    if not path.is_file():
        raise UnreadableArtifactError(
            root, "no manifest.json", "give the folder anonymize publish wrote"
        )
    result = Verification(root)
    add = result.findings.append
    try:
        manifest = PublishedManifest.model_validate_json(path.read_text(encoding="utf-8"))
    except ValidationError as exc:
        for where, message in manifest_problems(exc):
            add(Finding("manifest", f"manifest.json {where}", message))
        return result
    check_mac(
        keys,
        manifest.mac,
        lambda: json.loads(path.read_text(encoding="utf-8")),
        result,
        on_trust="its row counts, checksums and counts are taken on trust (whoever removed rows"
        " or changed a text can write them again: only the key authenticates them)",
        unsigned="written without it, or its MAC removed",
    )
    _check_scope(manifest, result)
    listed = {o.path for o in manifest.outputs}
    extras = [p.name for p in root.iterdir() if p.name != "manifest.json"]
    result.findings += unlisted_findings([e for e in extras if e not in listed], listed)
    intact: set[str] = set()
    for out in manifest.outputs:
        file = root / out.path
        if not file.is_file():
            add(Finding("checksum", out.path, "listed in the manifest but missing"))
        elif file.stat().st_size != out.bytes or sha256_file(file) != out.sha256:
            add(Finding("checksum", out.path, "SHA-256 differs from the manifest"))
        else:
            intact.add(out.path)
            result.checked_files += 1
    data = next((o for o in manifest.outputs if o.path != manifest.review_file), None)
    if data is None or manifest.review_file not in listed:
        add(Finding("manifest", "manifest.json outputs", "the data or the review file is missing"))
        return result
    file = root / data.path
    if data.path not in intact:
        return result
    texts = _read_column(file, manifest.column)
    result.checked_rows += len(texts)
    if len(texts) != manifest.rows_out or data.rows != manifest.rows_out:
        add(Finding("rows", data.path, "row count differs from the manifest"))
    if manifest.rows_in != manifest.rows_out + manifest.held_back:
        add(Finding("counts", "manifest.json", "rows_in is not rows_out plus held_back"))
    if manifest.thread is not None:
        for row, token in enumerate(_read_column(file, manifest.thread)):
            if token is not None and not THREAD_TOKEN.fullmatch(token):
                add(Finding("thread", f"{data.path} row {row + 1}", "not a keyed thread token"))
                break
    if file.suffix == ".csv":
        for finding in csv_formula_findings(file, data.path):
            add(finding)
    listed_spans = _check_review(root, manifest, texts, intact, add)
    if listed_spans is None:
        return result
    engine = text_engine
    if engine is None:  # the company's own names the run left alone, as it recorded them
        from dsar.text import TextEngine, TextPolicy

        allow = manifest.parameters.get("allow")
        names = (
            frozenset(a for a in allow if isinstance(a, str))
            if isinstance(allow, list)
            else frozenset()
        )
        engine = TextEngine(policy=TextPolicy(allow=names))
    found = engine.analyze(texts, FINDABLE)
    _check_residual(data.path, texts, found, listed_spans, add)
    _check_encoded_emails(data.path, texts, add)
    skip = {manifest.column, *([manifest.thread] if manifest.thread else [])}
    others = _other_columns(file, skip)
    _check_other_columns(data.path, others, engine, add)
    if file.suffix == ".parquet":
        _check_statistics(file, data.path, add)
    if source is not None:
        source = Path(source)
        source_ref = next((i for i in manifest.inputs if i.role == "input"), None)
        if source_ref is None or source_ref.sha256 != sha256_file(source):
            add(Finding("source", source.name, "not the input this folder was made from"))
            return result
        source_texts = _read_column(source, manifest.column)
        source_found = engine.analyze(source_texts)
        originals = original_values(source_texts, lambda _: source_found)
        _check_source_rows(
            data.path,
            texts,
            listed_spans,
            source_texts,
            source_found,
            _surnames(originals),
            others,
            add,
        )
    if originals is not None or identifiers:
        known = set(originals or ()) | {("COMPANY_ID", i.casefold()) for i in identifiers}
        _check_originals(data.path, texts, found, known, add)
        _check_name_parts(data.path, texts, listed_spans, known, add)
        _check_other_forms(data.path, texts, known, add, listed=listed_spans)
        for column, values in others.items():
            cells = [v for cell in values for v in _leaves(cell)]
            _check_other_forms(f"{data.path} column {column!r}", cells, known, add, rows=False)
    return result


_PUBLICATION_ID = re.compile(r"[0-9a-f]{32}")
_SERIES = re.compile(r"[A-Za-z0-9._-]{1,100}")  # a plain name (`dsar.io.plain_name`)


def _check_scope(manifest: PublishedManifest, result: Verification) -> None:
    """The key its surrogates were chosen under (red team s14, F6): a publication's own (a
    random id) or a series' shared one, said as a notice; both or a malformed id is a
    finding."""
    pid, series = manifest.publication_id, manifest.series
    if pid is not None and series is not None:
        result.findings.append(
            Finding("manifest", "manifest.json", "both a publication id and a series are given")
        )
    elif pid is not None and not _PUBLICATION_ID.fullmatch(pid):
        result.findings.append(
            Finding("manifest", "manifest.json publication_id", "not 32 hexadecimal digits")
        )
    elif series is not None and not _SERIES.fullmatch(series):
        result.findings.append(Finding("manifest", "manifest.json series", "not a plain name"))
    elif series is not None:
        result.notices.append(
            f"surrogates shared by the series {series!r}: a person has the same surrogate and"
            " thread token in each of its publications (a name learnt in one decodes the others)"
        )
    elif pid is None:
        result.notices.append(
            "no publication id or series recorded (written before surrogates were per"
            " publication): its surrogates may be shared with every publication under the key"
        )


# -- the columns beside the texts (red team s13, F1) ----------------------------------------


def _other_columns(path: Path, skip: Collection[str]) -> dict[str, list[Any]]:
    """Every column of the published file but `skip`, its values as read."""
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        table = pq.read_table(path)
        return {n: table[n].to_pylist() for n in table.column_names if n not in skip}
    rows: list[dict[str, Any]] = []
    if suffix == ".csv":
        csv.field_size_limit(sys.maxsize)
        with path.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
    else:
        with path.open(encoding="utf-8") as handle:
            rows = [json.loads(line) for line in handle if line.strip()]
    names = list(dict.fromkeys(k for r in rows for k in r if k not in skip))
    return {n: [r.get(n) for r in rows] for n in names}


def _leaves(value: object) -> Iterable[str]:
    """A cell's strings: itself, or every key and leaf of a nested object or list."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _leaves(k)
            yield from _leaves(v)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from _leaves(v)
    elif isinstance(value, str):
        if value.strip():
            yield value
    elif value is not None and not isinstance(value, bool):
        yield str(value)


def _check_other_columns(
    name: str, columns: dict[str, list[Any]], engine: TextEngine, add: Callable[[Finding], None]
) -> None:
    """A kept column is published as it is: the engine must read nothing personal in it
    (nested values leaf by leaf). Kinds and counts, never a value."""
    for column, values in columns.items():
        strings = sorted({v for cell in values for v in _leaves(cell)})
        kinds: Counter[str] = Counter()
        for spans in engine.analyze(strings, FINDABLE):
            kinds.update({s.entity for s in spans})
        if kinds:
            said = ", ".join(f"{k} in {n} value(s)" for k, n in sorted(kinds.items()))
            add(Finding("personal data", f"{name} column {column!r}", f"a kept column: {said}"))


def _check_statistics(path: Path, name: str, add: Callable[[Finding], None]) -> None:
    """No column statistics: a column's min and max travel with the file, values too."""
    meta = pq.ParquetFile(path).metadata
    for group in range(meta.num_row_groups):
        for i in range(meta.num_columns):
            chunk = meta.row_group(group).column(i)
            stats = chunk.statistics
            if stats is not None and stats.has_min_max:
                add(
                    Finding(
                        "personal data",
                        f"{name} column {chunk.path_in_schema!r}",
                        "column statistics (min and max) are written",
                    )
                )
                return


# -- originals in other forms (red team s13, F2 and F4) --------------------------------------

_INVISIBLE = "\u00ad\u034f\u180e\u200b\u200c\u200d\u2060\ufeff"
_DROP = str.maketrans("", "", _INVISIBLE)
_SPACE = str.maketrans(dict.fromkeys(_INVISIBLE, " "))
_EMAIL = re.compile(r"[\w.%+'-]+@[\w-]+(?:\.[\w-]+)+")
_DIGIT_RUN = re.compile(r"\d[\d\s().\-/+]*\d")
_ALNUM_RUN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9]|[\s.\-/](?=[A-Za-z0-9]))*")
_ID_WORD = re.compile(r"(?<![A-Za-z0-9])[A-Za-z0-9]+(?![A-Za-z0-9])")
_ID_SPLIT = re.compile(r"^([A-Za-z]{1,8})[_.:-]?([A-Za-z0-9]*\d[A-Za-z0-9]*)$")
_TAIL = 9  # a phone's last nine digits: the same number with any prefix, trunk or country


def other_forms(text: str) -> list[tuple[str, str]]:
    """`text` as written and in the forms that hide a value from a plain match, each with
    its name: invisible characters dropped (inside a word) or read as a space (between
    two), and what `derived.decoded_forms` reads (percent-encoding, full-width and other
    compatibility forms, base64 and hex runs)."""
    from dsar.review.derived import decoded_forms

    out = [("", text)]
    if any(c in _INVISIBLE for c in text):
        out += [("invisible characters", text.translate(_DROP))]
        out += [("invisible characters", text.translate(_SPACE))]
    for _, form in list(out):
        out += [(how, decoded) for how, decoded in decoded_forms(form)]
    for _, form in list(out):  # red team 24 r3 F5: "name dot surname at provider dot com"
        spelled = spelled_out_emails(form)
        if spelled != form:
            out.append((SPELLED_OUT, spelled))
    return out


# -- addresses and numbers spelled out (red team 24 r3, F5 and F7) -------------------------

SPELLED_OUT = "spelled out"
_S_DOT = r"(?:\s*[\[({<]\s*dot\s*[\])}>]\s*|\s+dot\s+|\.)"
_S_AT = r"(?:\s*[\[({<]\s*at\s*[\])}>]\s*|\s+at\s+|\s*@\s*)"
_S_LOCAL = r"[\w%+'-]+"
_S_LABEL = r"[\w](?:[\w-]*[\w])?"
_S_EMAIL = regex.compile(
    rf"(?<![\w.%+'-])(?<!{_S_DOT})(?P<local>{_S_LOCAL}(?:{_S_DOT}{_S_LOCAL})*+)(?P<at>{_S_AT})"
    rf"(?P<domain>{_S_LABEL}(?:{_S_DOT}{_S_LABEL})*{_S_DOT}(?P<tld>[a-z]{{2,6}}))(?![\w@-]|\.\w)",
    regex.IGNORECASE,
)
_S_SPELLED = regex.compile(r"\s+dot\s+|[\[({<]\s*(?:dot|at)\s*[\])}>]", regex.IGNORECASE)
_S_TLDS = frozenset(
    re.findall(r"\w+", "com org net edu gov mil int info biz name pro mobi app dev io co me tv")
    + re.findall(r"\w+", "ai eu email mail online site tech cloud xyz")
)
_SPOKEN = {
    w: str(d)
    for d, w in enumerate(re.findall(r"\w+", "zero one two three four five six seven eight nine"))
}
_SPOKEN_RUN = regex.compile(
    rf"(?<!\w)(?:{'|'.join(_SPOKEN)}|\d+)(?:[\s,.-]{{1,3}}(?:{'|'.join(_SPOKEN)}|\d+))+(?!\w)",
    regex.IGNORECASE,
)


def spelled_out_emails(text: str) -> str:
    """`text` with each address written with its at sign or dots spelled out ("marta dot
    oyelaran at gmail dot com", "name[at]host[dot]nl", "name (at) host.com") written as an
    address: where one is published, its original is, or the address is outside the
    reserved domains. (Written again here, apart from the publisher's.)"""

    def address(m: regex.Match[str]) -> str:
        tld, local = m.group("tld").casefold(), m.group("local")
        spelled = _S_SPELLED.search(m.group())
        if (
            (tld not in _S_TLDS and not (len(tld) == 2 and tld.isascii()))
            or (not spelled and "@" in m.group("at"))
            or (not spelled and not regex.search(r"[._]", local))
            or not regex.match(r"[\w-]*[^\W\d_]", m.group("domain"))
        ):
            return m.group()
        parts = [regex.sub(_S_DOT, ".", m.group(k)) for k in ("local", "domain")]
        return f"{parts[0]}@{parts[1]}"

    return _S_EMAIL.sub(address, text)


def spoken_numbers(text: str) -> str:
    """`text` with each run of number words (and digits) holding a spelled-out one written
    as its digits ("zero six one two three ..." as "0612 3..."): a phone read aloud."""

    def digits(m: regex.Match[str]) -> str:
        words = regex.findall(r"[^\W\d_]+|\d+", m.group().casefold())
        if not any(w in _SPOKEN for w in words):
            return m.group()
        return "".join(_SPOKEN.get(w, w) for w in words)

    return _SPOKEN_RUN.sub(digits, text)


def _check_other_forms(
    name: str,
    texts: Iterable[str | None],
    originals: set[tuple[str, str]],
    add: Callable[[Finding], None],
    rows: bool = True,
    listed: dict[int, list[tuple[int, int, str]]] | None = None,
) -> None:
    """No original in any form of a published text: an email in any case or encoding; a
    phone by its digits (its last nine, with any prefix); a card or IBAN with any
    separators; a full name in either order and its surname alone, capitalised; a company
    id with its separator changed or left out, or its unique part alone where distinctive.
    A surname alone is looked for outside the `listed` replacements (a surrogate may share
    a common surname with someone of the corpus: that links no one)."""
    emails = {v for k, v in originals if k == "EMAIL_ADDRESS"}
    phones = {
        d[-_TAIL:]
        for k, v in originals
        if k == "PHONE_NUMBER" and len(d := re.sub(r"\D", "", v)) >= 7
    }
    numbers = {v for k, v in originals if k in ("CREDIT_CARD", "IBAN_CODE") and len(v) >= 12}
    lengths = sorted({len(v) for v in numbers})
    names = {v for k, v in originals if k == "PERSON" and " " in v}
    turned = {" ".join([v.split()[-1], *v.split()[:-1]]) for v in names}
    surnames = {
        v.split()[-1] for v in names if len(v.split()[-1]) >= 4 and not _everyday(v.split()[-1])
    }
    # an id as read in NFKC: one found written with its prefix in ASCII and the rest
    # full-width is that id, not its prefix alone (red team 24c F3)
    ids = {unicodedata.normalize("NFKC", v).casefold() for k, v in originals if k == "COMPANY_ID"}
    compact = {c for v in ids if len(c := re.sub(r"[^0-9a-z]", "", v)) >= 3}
    longest = max((len(v) for v in compact), default=0)
    unique = set()
    for v in ids:
        m = _ID_SPLIT.match(v)
        tail = m.group(2) if m else v
        if len(tail) >= 6 and any(c.isdigit() for c in tail):
            unique.add(tail)
    for row, text in enumerate(texts):
        if not text:
            continue
        where = f"{name} row {row + 1}" if rows else name
        said: set[tuple[str, str]] = set()
        masked = text
        for a, b, kind in (listed or {}).get(row, ()):
            if kind == "PERSON":
                masked = masked[:a] + " " * (b - a) + masked[b:]
        forms = other_forms(text)
        if phones and (spoken := spoken_numbers(text)) != text:
            forms.append(("in number words", spoken))
        for how, form in forms:
            kinds = _originals_in(form, emails, phones, numbers, lengths, names, turned)
            if ids and _holds_id(form, compact, unique, longest):
                kinds.append("identifier")
            for kind in kinds:
                if (kind, how) not in said:
                    said.add((kind, how))
                    written = f" ({how})" if how else ""
                    add(Finding("original", where, f"an original {kind} is published{written}"))
        if surnames and any(_holds_surname(f, surnames) for _, f in other_forms(masked)):
            said.add(("surname", ""))
            add(Finding("original", where, "an original surname is published alone"))
        if not rows and said:
            return


def _originals_in(
    form: str,
    emails: set[str],
    phones: set[str],
    numbers: set[str],
    lengths: list[int],
    names: set[str],
    turned: set[str],
) -> list[str]:
    """The kinds of original `form` holds: email, phone, card or IBAN, name."""
    kinds = []
    if any(m.group().strip(".'") in emails for m in _EMAIL.finditer(form.casefold())):
        kinds.append("email")
    for m in _DIGIT_RUN.finditer(form) if phones else ():
        digits = re.sub(r"\D", "", m.group())
        if len(digits) >= 7 and any(
            digits[i : i + _TAIL] in phones for i in range(max(len(digits) - _TAIL + 1, 1))
        ):
            kinds.append("phone")
            break
    if numbers and _holds_number(form, numbers, lengths):
        kinds.append("card or IBAN")
    if names and _holds_name(form, names, turned):
        kinds.append("name")
    return kinds


def _check_encoded_emails(
    name: str, texts: list[str | None], add: Callable[[Finding], None]
) -> None:
    """An address written encoded (percent, full-width, base64, hex, a character that does
    not render inside) must be at a reserved domain too: the engine reads only plain text."""
    for row, text in enumerate(texts):
        if not text:
            continue
        for how, form in other_forms(text)[1:]:
            if any(not RESERVED_EMAIL.search(m.group()) for m in _EMAIL.finditer(form)):
                add(
                    Finding(
                        "personal data",
                        f"{name} row {row + 1}",
                        f"an email outside the reserved domains ({how})",
                    )
                )
                break


def _everyday(word: str) -> bool:
    from dsar.text.lexicon import STOP_WORDS, WORD_NAMES

    return word in WORD_NAMES or word in STOP_WORDS


def _holds_number(form: str, numbers: set[str], lengths: list[int]) -> bool:
    for m in _ALNUM_RUN.finditer(form):
        run = re.sub(r"[^0-9A-Za-z]", "", m.group()).upper()
        if any(run[i : i + n] in numbers for n in lengths for i in range(len(run) - n + 1)):
            return True
    return False


def _holds_name(form: str, names: set[str], turned: set[str]) -> bool:
    folded = [m.group().casefold() for m in _NAME_WORD.finditer(form)]
    for n in (2, 3, 4):
        for i in range(len(folded) - n + 1):
            run = " ".join(folded[i : i + n])
            if run in names or run in turned:
                return True
    return False


def _holds_surname(form: str, surnames: set[str]) -> bool:
    return any(
        m.group().casefold() in surnames and m.group()[0].isupper()
        for m in _NAME_WORD.finditer(form)
    )


def _holds_id(form: str, compact: set[str], unique: set[str], longest: int) -> bool:
    """Whether `form` holds an id: a run of letters and digits, or runs joined across one
    to three separators, spaces or line breaks ("cus 3075e26a50", "u 0 0 0 0 0 0 1",
    "u000\n0001", "3075 e26a 50"; red team 24 r3 F7), that is an id without its
    separators or its distinctive unique part."""
    words = [(m.start(), m.end(), m.group().casefold()) for m in _ID_WORD.finditer(form)]
    for i in range(len(words)):
        joined = ""
        for j in range(i, len(words)):
            if j > i and not _ID_JOIN.fullmatch(form[words[j - 1][1] : words[j][0]]):
                break
            joined += words[j][2]
            if len(joined) > longest:
                break
            if joined in compact or joined in unique:
                return True
    return False


_ID_JOIN = re.compile(r"[\s_.:#/-]{1,3}")


def catalog_identifiers(catalog: Any) -> set[str]:
    """The company's identifiers in the export a catalog describes: the distinct values of
    its personal tables' identity columns of an account kind and primary keys, as text."""
    from dsar.engine import open_engine
    from dsar.engine.base import quote_identifier as q

    kinds = {"user_id", "customer_id", "device_id", "cookie_id", "oauth_subject", "username"}
    kinds.add("person_id")
    out: set[str] = set()
    with open_engine(catalog) as engine:
        for table_name, table in catalog.tables.items():
            if table_name not in engine.tables or not table.personal:
                continue
            for c, col in table.columns.items():
                if (col.identity is not None and col.identity.value in kinds) or (
                    c in table.primary_key
                ):
                    got = engine.query(
                        f"SELECT DISTINCT CAST({q(c)} AS VARCHAR) AS v FROM {q(table_name)}"
                    )
                    named = col.identity is not None and col.identity.value == "username"
                    out.update(
                        v
                        for v in got.column("v").to_pylist()
                        if v
                        and (
                            (
                                len(v) >= 3
                                and any(ch.isdigit() for ch in v)
                                and not (v.isdigit() and len(v) < 6)
                            )
                            or (named and username_value(v))
                        )
                    )
    return out


_USERNAME = re.compile(r"[A-Za-z][A-Za-z0-9._-]{4,63}")


def username_value(value: str) -> bool:
    """Whether a value of a column the catalog declares `identity: username` is looked for
    in texts although it holds no digit (red team 24 r3 F7: `mduke`): five characters or
    more, no everyday word, no given name or surname some locale lists (a username `london`
    or `anna` would be every text's word)."""
    from dsar.text.lexicon import is_name_word

    if not _USERNAME.fullmatch(value) or _everyday(value.casefold()):
        return False
    return not any(is_name_word(w) or _everyday(w) for w in re.split(r"[._-]", value.casefold()))


def original_values(
    texts: list[str | None], analyze: Callable[[list[str | None]], list[list[Any]]]
) -> set[tuple[str, str]]:
    """What the engine finds in the original texts, as (entity, `normalised` value); for
    names, full names only (a given name alone is no one's)."""
    out: set[tuple[str, str]] = set()
    for text in texts:  # an address spelled out (red team 24 r3 F5) is an original too
        if text and (spelled := spelled_out_emails(text)) != text:
            out.update(
                ("EMAIL_ADDRESS", m.group().strip(".'").casefold())
                for m in _EMAIL.finditer(spelled)
            )
    for text, spans in zip(texts, analyze(texts), strict=True):
        for s in spans:
            value = normalised(s.entity, text[s.start : s.end]) if text else ""
            if s.entity == "PERSON" and " " not in value:
                continue
            if value and s.score >= 0.5:
                out.add((s.entity, value))
    return out


def _check_review(
    root: Path,
    m: PublishedManifest,
    texts: list[str | None],
    intact: set[str],
    add: Callable[[Finding], None],
) -> dict[int, list[tuple[int, int, str]]] | None:
    """The review file: kinds and positions only, inside the texts, adding up to the
    manifest's counts. Returns the replacements per published row (0-based)."""
    if m.review_file not in intact:
        return None
    replaced: Counter[str] = Counter()
    rare = 0
    held: set[int] = set()
    spans: dict[int, list[tuple[int, int, str]]] = {}
    lines = (root / m.review_file).read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines, 1):
        where = f"{m.review_file} line {number}"
        try:
            entry = json.loads(line)
        except ValueError:
            add(Finding("review", where, "not JSON"))
            continue
        if not isinstance(entry, dict) or not set(entry) <= REVIEW_KEYS:
            add(Finding("review", where, "keys other than row, kind, reason and positions"))
            continue
        numbers = [entry.get(k) for k in ("row", "input_row", "start", "end") if k in entry]
        words = [entry.get(k) for k in ("kind", "reason") if k in entry]
        if not all(isinstance(v, int) for v in numbers) or not all(
            isinstance(v, str) and re.fullmatch(r"[A-Z_a-z]{1,40}", v) for v in words
        ):
            add(Finding("review", where, "holds something other than kinds and positions"))
            continue
        kind, start, end = entry.get("kind"), entry.get("start", 0), entry.get("end", 0)
        if kind == HELD_BACK:
            held.add(int(entry.get("input_row", 0)))
            continue
        row = int(entry.get("row", 0)) - 1
        text = texts[row] if 0 <= row < len(texts) else None
        if text is None or not 0 <= start < end <= len(text):
            add(Finding("review", where, "a position outside the published texts"))
            continue
        if kind == RARE_TERM:
            rare += 1
        else:
            replaced[str(kind)] += 1
            spans.setdefault(row, []).append((start, end, str(kind)))
    if dict(replaced) != {k: v for k, v in m.replaced.items() if v}:
        add(Finding("counts", m.review_file, "replacements differ from the manifest's counts"))
    if rare != m.rare_terms:
        add(Finding("counts", m.review_file, "rare terms differ from the manifest's count"))
    if len(held) != m.held_back:
        add(Finding("counts", m.review_file, "held-back rows differ from the manifest's count"))
    return spans


def _check_residual(
    name: str,
    texts: list[str | None],
    found: list[list[Any]],
    listed: dict[int, list[tuple[int, int, str]]],
    add: Callable[[Finding], None],
) -> None:
    """Every span the engine finds must be a listed replacement, of the shape publishing
    writes."""
    for row, (text, spans) in enumerate(zip(texts, found, strict=True)):
        for s in spans:
            where = f"{name} row {row + 1} chars {s.start}-{s.end}"
            value = text[s.start : s.end] if text else ""
            covered = any(a < s.end and s.start < b for a, b, _ in listed.get(row, ()))
            if not covered:
                add(Finding("personal data", where, f"{s.entity} not replaced"))
            elif s.entity == "EMAIL_ADDRESS" and not RESERVED_EMAIL.search(value):
                add(Finding("personal data", where, "an email outside the reserved domains"))
            elif s.entity == "IP_ADDRESS" and not _documentation_ip(value):
                add(Finding("personal data", where, "an IP address outside documentation ranges"))


def _documentation_ip(value: str) -> bool:
    text = value.strip().lower()
    return text.startswith(_IPV4_DOCS) or text.startswith("2001:db8:")


def _check_originals(
    name: str,
    texts: list[str | None],
    found: list[list[Any]],
    originals: set[tuple[str, str]],
    add: Callable[[Finding], None],
) -> None:
    """No original value in a published text: what the engine finds there, and every run
    of two to four words for the original full names (wherever they stand)."""
    names = {v for e, v in originals if e == "PERSON"}
    for row, (text, spans) in enumerate(zip(texts, found, strict=True)):
        if not text:
            continue
        for s in spans:
            if (s.entity, normalised(s.entity, text[s.start : s.end])) in originals:
                add(
                    Finding(
                        "original",
                        f"{name} row {row + 1} chars {s.start}-{s.end}",
                        f"an original {s.entity} is published",
                    )
                )
        words = [(m.start(), m.end(), m.group().casefold()) for m in _NAME_WORD.finditer(text)]
        for n in (2, 3, 4):
            for i in range(len(words) - n + 1):
                if " ".join(w for _, _, w in words[i : i + n]) in names:
                    add(
                        Finding(
                            "original",
                            f"{name} row {row + 1} chars {words[i][0]}-{words[i + n - 1][1]}",
                            "an original name is published",
                        )
                    )
        for token in _tokens(text):
            if ("COMPANY_ID", token.casefold()) in originals:
                add(
                    Finding(
                        "original", f"{name} row {row + 1}", "an original identifier is published"
                    )
                )


def _tokens(text: str) -> Iterable[str]:
    return re.findall(r"[A-Za-z0-9][A-Za-z0-9_.:-]*[A-Za-z0-9]", text)


# -- a part of an original name beside its surrogate (red team s13, F5) ----------------------

_PARTICLES = frozenset(
    [
        "de",
        "da",
        "das",
        "do",
        "dos",
        "di",
        "del",
        "der",
        "den",
        "van",
        "von",
        "zu",
        "ter",
        "ten",
        "le",
        "la",
        "du",
        "bin",
        "ibn",
        "al",
        "el",
    ]
)
_BEFORE = regex.compile(r"([\p{L}\p{M}][\p{L}\p{M}'\u2019-]*\.?)(?:,[ \t]?|[ \t\u00a0]{1,3})$")
_AFTER = regex.compile(r"^(?:,[ \t]?|[ \t\u00a0]{1,3})([\p{L}\p{M}][\p{L}\p{M}'\u2019-]*)")


def _fold(word: str) -> str:
    bare = unicodedata.normalize("NFKD", word.casefold().rstrip("."))
    return "".join(ch for ch in bare if not unicodedata.combining(ch)).replace("\u2019", "'")


def name_parts(originals: Iterable[tuple[str, str]]) -> frozenset[str]:
    """The words (folded, two letters or more, no particle) of the original full names."""
    return frozenset(
        _fold(w)
        for e, v in originals
        if e == "PERSON"
        for w in v.split()
        if len(w) >= 2 and w not in _PARTICLES
    )


def parts_beside(
    text: str, spans: Iterable[tuple[int, int, str]], parts: Collection[str]
) -> list[tuple[int, int]]:
    """Where a capitalised word of an original name stands beside a name's surrogate
    (`spans`: the replacements, start, end and kind), on one line ("Karl Neola" for "Karl
    Hale", "O'Neil, Luis" for "O'Neil, Shaun")."""
    spans = list(spans)
    out = []
    for a, b, kind in spans:
        if kind != "PERSON":
            continue
        found = []
        if m := _BEFORE.search(text, 0, a):
            found.append((m.start(1), m.end(1)))
        if m := _AFTER.match(text, b):
            found.append((m.start(1), m.end(1)))
        for s, e in found:
            word = text[s:e]
            inside = any(x < e and s < y for x, y, _ in spans)
            if not inside and word[:1].isupper() and _fold(word) in parts:
                out.append((s, e))
    return out


def _check_name_parts(
    name: str,
    texts: list[str | None],
    listed: dict[int, list[tuple[int, int, str]]],
    originals: Collection[tuple[str, str]],
    add: Callable[[Finding], None],
) -> None:
    parts = name_parts(originals)
    for row, text in enumerate(texts):
        for s, e in parts_beside(text or "", listed.get(row, ()), parts):
            where = f"{name} row {row + 1} chars {s}-{e}"
            add(Finding("original", where, "a part of an original name beside its surrogate"))


# -- the published rows against their source rows (issue 24, red team round 3) --------------
#
# A folder an older publish wrote, or one edited by hand, is read against the input: each
# published row is lined up with the source row it came from (its text outside the listed
# replacements is that row's, word for word), and no personal token of the source may
# survive: not in the row's unreplaced text, not where a replacement is listed, not in a
# kept column. Written again here, apart from the publisher's rules.

# words that introduce a name in scripts without capitals: the word after one is a name
# this check cannot rule out ("我是王伟", "أنا أحمد", "저는 김서연")
_NAME_CUES = (
    *("我是", "我叫", "名叫", "私は", "わたしは", "저는", "제 이름은", "이름은", "나는"),
    *("أنا", "انا", "اسمي", "שמי", "אני", "मैं", "नाम", "ผม", "ดิฉัน", "ฉัน", "ชื่อ"),
)
_CUE = "(?:" + "|".join(regex.escape(c) for c in sorted(_NAME_CUES, key=len, reverse=True)) + ")"
_CUED_WORD = regex.compile(rf"{_CUE}(?:[\s,:،]*{_CUE})*[\s,:،]*([\p{{L}}\p{{M}}]+)")
_CASELESS = frozenset(
    {"CJK", "HIRAGANA", "KATAKANA", "HANGUL", "ARABIC", "HEBREW", "DEVANAGARI", "THAI"}
)
_CASED = frozenset({"CYRILLIC", "GREEK", "ARMENIAN", "GEORGIAN"})
_SCRIPT_WORD = regex.compile(r"[\p{L}\p{M}]+(?:['\u2019-][\p{L}\p{M}]+)*")


def _script(word: str) -> str:
    """The Unicode script of a word's first letter ('LATIN', 'CYRILLIC', 'CJK', ...)."""
    for ch in word:
        if ch.isalpha():
            return unicodedata.name(ch, "LATIN").split(" ", 1)[0]
    return "LATIN"


def _unspaced(word: str) -> bool:
    """A word of a script written without spaces between words (Han, kana): matched as a
    run inside a longer one."""
    return _script(word) in ("CJK", "HIRAGANA", "KATAKANA")


def _personal_word(word: str) -> bool:
    """Whether a word of a name is kept as a personal token: two letters or more outside the
    Latin script, three inside it, no particle, greeting or label."""
    folded = _fold(word)
    if _script(word) != "LATIN":
        return len(word) >= 2 or _unspaced(word)
    return len(folded) >= 3 and folded not in _PARTICLES and not _everyday(folded)


def _name_words(name: str) -> set[str]:
    """The personal words of a name, folded."""
    return {_fold(w) for w in _SCRIPT_WORD.findall(name) if _personal_word(w)}


def _rare_word(folded: str) -> bool:
    """A Latin name word matched in any case (four letters or more, no everyday English
    word): "kowalski" in lower case is the surname, "rose" or "will" may be a word."""
    from dsar.text.lexicon import is_english_word

    return len(folded) >= 4 and not _everyday(folded) and not is_english_word(folded)


def _names_in(text: str, spans: Iterable[Any], captured: Iterable[str]) -> set[str]:
    """The personal tokens of one source text (folded): the words of the names the engine
    finds in it and of the originals its published row replaced as names (`captured`);
    a capitalised Cyrillic, Greek... word the name lists hold; a word of a script without
    capitals after a word that introduces a name."""
    from dsar.text.lexicon import is_name_word

    names = [text[s.start : s.end] for s in spans if s.entity == "PERSON" and s.score >= 0.5]
    out = {
        _fold(w)
        for name in [*names, *captured]
        for w in _SCRIPT_WORD.findall(name)
        if _personal_word(w)
    }
    for m in _SCRIPT_WORD.finditer(text):
        word = m.group()
        if _script(word) in _CASED and word[0].isupper() and is_name_word(word):
            out.add(_fold(word))
    for m in _CUED_WORD.finditer(text):
        if _script(m.group(1)) in _CASELESS:
            out.add(_fold(m.group(1)))
    return out


def _template(text: str, spans: list[tuple[int, int, str]]) -> tuple[list[str], list[str]]:
    """A published text as its unreplaced pieces and the kinds replaced between them."""
    pieces, kinds, at = [], [], 0
    for a, b, kind in _spans_in_order(spans):
        pieces.append(text[at:a])
        kinds.append(kind)
        at = b
    pieces.append(text[at:])
    return pieces, kinds


def _fit(text: str, pieces: list[str]) -> list[str] | None:
    """The texts between `pieces` where `text` is the pieces in order with at least one
    character between each two, each as short as it can be from the left (what the pattern
    of the pieces joined by lazy `(.+?)` groups gives), or None. A search that remembers
    where it failed: polynomial, where the nested lazy groups backtrack exponentially on a
    text with fewer separators than the pieces (review 16, finding 3)."""
    gaps = len(pieces) - 1
    if gaps == 0:
        return [] if text == pieces[0] else None
    if not (text.startswith(pieces[0]) and text.endswith(pieces[-1])):
        return None
    if len(text) < sum(map(len, pieces)) + gaps:
        return None
    last = len(text) - len(pieces[-1])  # where the last piece stands
    dead: set[tuple[int, int]] = set()  # (gap, where it starts) that cannot be completed
    # each frame: the gap, where it starts, where to look next for the piece that ends it
    frames = [[0, len(pieces[0]), len(pieces[0]) + 1]]
    while frames:
        gap, start, look = frames[-1]
        if gap == gaps - 1:
            if last > start:
                return [text[a : b - 1] for _, a, b in frames[:-1]] + [text[start:last]]
            dead.add((gap, start))
            frames.pop()
            continue
        piece = pieces[gap + 1]
        at = text.find(piece, look)
        if at < 0 or at + len(piece) >= last:
            dead.add((gap, start))
            frames.pop()
            continue
        frames[-1][2] = at + 1
        if (gap + 1, at + len(piece)) not in dead:
            frames.append([gap + 1, at + len(piece), at + len(piece) + 1])
    return None


class _Aligner:
    """The source rows a published text can come from: its unreplaced pieces in order, any
    text in each listed replacement's place. The source's order is keyed away, so rows are
    found by their text: two sorted lists, of the texts and of the texts reversed, narrow
    them by the first piece or the last, whichever is longer. A text that is wholly
    replacements narrows nothing (it may come from any row): it is looked up whole
    (`whole`), never fitted to every row."""

    def __init__(self, texts: list[str | None]) -> None:
        self.forward = sorted((t, i) for i, t in enumerate(texts) if t)
        self.backward = sorted((t[::-1], i) for i, t in enumerate(texts) if t)
        self.texts = texts
        self.whole = Counter(_fold(t) for t in texts if t)
        self.rows = sum(self.whole.values())
        self._holding: dict[str, set[int]] | None = None
        self._shared: dict[frozenset[str], bool] = {}

    def match(self, pieces: list[str]) -> list[tuple[int, list[str]]]:
        """(source row, the originals in the replacements' places) for each source row the
        pieces fit."""
        import bisect

        head, tail = pieces[0], pieces[-1][::-1]
        index, key = (self.forward, head) if len(head) >= len(tail) else (self.backward, tail)
        out: list[tuple[int, list[str]]] = []
        for written, row in index[bisect.bisect_left(index, (key, -1)) :]:
            if not written.startswith(key):
                break
            if (originals := _fit(self.texts[row] or "", pieces)) is not None:
                out.append((row, originals))
        return out

    def shared_by_all(self, words: frozenset[str]) -> bool:
        """Whether every source row holds one of these name words (folded)."""
        if not words:
            return False
        if words not in self._shared:
            if self._holding is None:
                self._holding = {}
                for row, t in enumerate(self.texts):
                    for w in _name_words(t or ""):
                        self._holding.setdefault(w, set()).add(row)
            sets = [self._holding.get(w, set()) for w in words]
            self._shared[words] = (
                sum(map(len, sets)) >= self.rows and len(set().union(*sets)) >= self.rows
            )
        return self._shared[words]


def _words_at(text: str) -> Iterable[tuple[int, int, str]]:
    for m in _SCRIPT_WORD.finditer(text):
        yield m.start(), m.end(), m.group()


def _survivors(text: str, tokens: Collection[str]) -> list[tuple[int, int, str]]:
    """Where a personal token stands in `text` (its replacements blanked out), with how it
    is written: a Latin word capitalised, or in any case where no everyday word; a word of
    another script in any form; a Han or kana token inside a longer run."""
    out: list[tuple[int, int, str]] = []
    for a, b, word in _words_at(text):
        folded, script = _fold(word), _script(word)
        if script == "LATIN":
            if folded in tokens and (word[0].isupper() or _rare_word(folded)):
                how = (
                    "in upper case"
                    if word.isupper() and len(word) > 1
                    else ("capitalised" if word[0].isupper() else "in lower case")
                )
                out.append((a, b, how))
        elif folded in tokens:
            out.append((a, b, "in a non-Latin script"))
        elif _unspaced(word):
            for t in tokens:
                if _unspaced(t) and (at := folded.find(t)) >= 0:
                    out.append((a + at, a + at + len(t), "in a non-Latin script"))
                    break
    return out


def _blank(text: str, spans: Iterable[tuple[int, int, str]]) -> str:
    for a, b, _ in spans:
        text = text[:a] + " " * (b - a) + text[b:]
    return text


def _check_source_rows(
    name: str,
    texts: list[str | None],
    listed: dict[int, list[tuple[int, int, str]]],
    source_texts: list[str | None],
    source_found: list[list[Any]],
    surnames: Collection[str],
    others: dict[str, list[Any]],
    add: Callable[[Finding], None],
) -> None:
    """Each published row against its source row (issue 24): the row must be a source row
    outside its listed replacements; no original may stand where a replacement is listed
    (nor, for a name, a word of it); no personal token of the source row may survive in
    the row's unreplaced text (a name the engine or the replacements show, a surname of the
    corpus's full names in any case, a name of another script); and no personal token of
    any source row in a kept column. Rows, positions and kinds, never a value."""
    aligner = _Aligner(source_texts)
    captured: dict[int, list[str]] = {}
    seen: dict[int, set[str]] = {}  # the source row's own tokens, read once

    def names_of(source_row: int) -> set[str]:
        if source_row not in seen:
            text = source_texts[source_row] or ""
            seen[source_row] = _names_in(text, source_found[source_row], ())
        return seen[source_row]

    for row, text in enumerate(texts):
        if text is None:
            continue
        spans = listed.get(row, [])
        pieces, kinds = _template(text, spans)
        where = f"{name} row {row + 1}"
        if not any(pieces):
            _check_whole(text, spans, where, aligner, add)
            continue
        matches = aligner.match(pieces)
        if not matches:
            add(
                Finding(
                    "source",
                    where,
                    "reads as no source row outside its listed replacements (edited, or not"
                    " made from this source)",
                )
            )
            continue
        tokens: set[str] = set(surnames)
        for source_row, originals in matches:
            names = [o for o, k in zip(originals, kinds, strict=True) if k == "PERSON"]
            captured.setdefault(source_row, []).extend(names)
            tokens |= names_of(source_row) | {w for n in names for w in _name_words(n)}
        for i, (a, b, kind) in enumerate(_spans_in_order(spans)):
            put = _fold(text[a:b])
            # the original itself, of any row the text can come from: a surrogate is never an
            # original value or full name of the corpus; a one-word name or a word of a name,
            # of every such row (a template many rows share, "Thanks, Anna", may give another
            # row's one-word name this surrogate)
            alone = kind == "PERSON" and len(_name_words(text[a:b])) < 2
            same = (all if alone else any)(put == _fold(o[i]) for _, o in matches)
            shared = kind == "PERSON" and all(
                _name_words(text[a:b]) & _name_words(originals[i]) for _, originals in matches
            )
            if same or shared:
                noun = "name" if kind == "PERSON" else kind
                what = f"the original {noun}" if same else "a word of the original name"
                add(
                    Finding(
                        "original",
                        f"{where} chars {a}-{b}",
                        f"{what} of its source row stands where a replacement is listed",
                    )
                )
        said: set[str] = set()
        for a, b, how in _survivors(_blank(text, spans), tokens):
            if how not in said:
                said.add(how)
                add(
                    Finding(
                        "original",
                        f"{where} chars {a}-{b}",
                        f"a name of its source row is published ({how})",
                    )
                )
    every: set[str] = set(surnames)
    for row, text in enumerate(source_texts):
        if text:
            every |= names_of(row) | {w for n in captured.get(row, []) for w in _name_words(n)}
    for column, values in others.items():
        hits: Counter[str] = Counter()
        for value in {v for cell in values for v in _leaves(cell)}:
            hows = {how for _, _, how in _survivors(value, every)}
            hits.update(hows)
        if hits:
            said_kinds = ", ".join(f"{n} value(s) {how}" for how, n in sorted(hits.items()))
            add(
                Finding(
                    "original",
                    f"{name} column {column!r}",
                    f"a kept column holds a name of the source's texts: {said_kinds}",
                )
            )


def _check_whole(
    text: str,
    spans: list[tuple[int, int, str]],
    where: str,
    aligner: _Aligner,
    add: Callable[[Finding], None],
) -> None:
    """A published text that is wholly replacements (a body that is just a name): it may
    come from any source row of at least as many characters as it has replacements, so no
    row's text is taken as its original (read as a name, every ticket's words would be
    names), and it is not fitted to every row, which made the work grow with rows squared
    (review 16, finding 3). A surrogate is still never a whole source text: of any row, or
    for a one-word name of every row; nor shares a word of a name with every row."""
    ordered = _spans_in_order(spans)
    if not any(len(t or "") >= len(ordered) for t in aligner.texts):
        add(
            Finding(
                "source",
                where,
                "reads as no source row outside its listed replacements (edited, or not"
                " made from this source)",
            )
        )
        return
    for a, b, kind in ordered:
        put = _fold(text[a:b])
        alone = kind == "PERSON" and len(_name_words(text[a:b])) < 2
        same = aligner.whole[put] == aligner.rows if alone else put in aligner.whole
        shared = kind == "PERSON" and aligner.shared_by_all(frozenset(_name_words(text[a:b])))
        if same or shared:
            noun = "name" if kind == "PERSON" else kind
            what = f"the original {noun}" if same else "a word of the original name"
            add(
                Finding(
                    "original",
                    f"{where} chars {a}-{b}",
                    f"{what} of its source row stands where a replacement is listed",
                )
            )


def _surnames(originals: Iterable[tuple[str, str]]) -> set[str]:
    """The surnames of the original full names (their last words, and a hyphenated one's
    parts; folded) that are no everyday word: matched in any case (red team round 3:
    "Maria Kowalski" in one text, "kowalski said" in another)."""
    out: set[str] = set()
    for entity, value in originals:
        words = value.split()
        if entity == "PERSON" and len(words) > 1:
            last = _fold(words[-1])
            out.update(p for p in {last, *last.split("-")} if _rare_word(p))
    return out


def _spans_in_order(spans: Iterable[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """The listed replacements in order, an entry overlapping an earlier one dropped (the
    text is cut at these)."""
    out: list[tuple[int, int, str]] = []
    at = 0
    for a, b, kind in sorted(spans):
        if a < at:
            continue
        out.append((a, b, kind))
        at = b
    return out
