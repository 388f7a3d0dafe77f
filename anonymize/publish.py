"""Publish support requests: every person and identifier in a column of texts replaced by a
keyed, consistent, realistic surrogate (the privacy policy's "Published Support Requests").

A run reads one CSV, JSON Lines or Parquet file and writes, into a new folder that takes
its name only when complete and checked:

- the file again, in its format, with the texts' column replaced, the thread column (when
  given) as keyed tokens, and only the other columns named to keep; rows in a keyed order,
  a thread's texts together and in their order, so nothing of the input's order links a
  published row back to its source row;
- `review.jsonl`: each replacement's kind and position, the rare capitalised terms (a
  company, a small place, a job title: used by fewer than `rare_below` people of the corpus,
  however often each writes it) for a reviewer, and the texts held back: kinds, rows and
  positions, never a value;
- `manifest.json`: inputs with their hashes, outputs with SHA-256, the counts, under a
  keyed MAC (`dsar verify` with the key finds it edited).

A person keeps one surrogate in the whole corpus (chosen by a keyed HMAC of the name), and in
a thread their given name or surname alone becomes the surrogate's. The HMAC's key is the
publication's own (`surrogates.scoped_hasher`: the workbench key and a fresh random id the
manifest records), so a surrogate, a thread token or the row order means nothing in another
publication (red team s14 F6: an attacker who filed a ticket under a name learns its
surrogate in that publication only); a `series` shares them on purpose. A text the engine is
unsure about (a span declined by a close margin; a run of words the name lists know that was
not taken for a name) is held back, not published. The folder is checked by
`dsar.review.published.verify_published` before it takes its name, given the original
values: a folder with a finding is set aside as `<name>.REJECTED`.
"""

from __future__ import annotations

import json
import re
import secrets
import unicodedata
from collections import Counter
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from anonymize.publish_find import (
    CompanyIds,
    add_free,
    declined_names,
    full_names,
    given_names,
    name_tokens,
    publishing_engine,
    split_sure,
    terms,
    thread_mentions,
    url_tokens,
)
from anonymize.publish_forms import BASE64, Forms, Found, kept_findings, merge, rebase64
from anonymize.publish_io import (
    COARSE_UNITS,
    FORMATS,
    Frame,
    coarsened,
    format_of,
    is_nested,
    leaf_bounds,
    read_frame,
    with_leaves,
    write_frame,
)
from anonymize.publish_names import (
    PARTICLES,
    Layout,
    corpus_parts,
    extend_names,
    given_listed,
    layout,
    surname_listed,
    unsure_full_names,
)
from anonymize.surrogates import Name, Surrogates, fold, fold_name, scoped_hasher, script_of
from dsar._version import __version__
from dsar.csvsafe import is_formula
from dsar.engine import Engine
from dsar.engine.base import quote_identifier
from dsar.errors import (
    ExtractRejectedError,
    InputFileError,
    MissingFileError,
    OutputExistsError,
    UsageError,
    WorkbenchError,
)
from dsar.io import atomic_write_text, partial_folder, plain_name, set_aside, sha256_file
from dsar.keys import SCHEME, Keys, require_keys
from dsar.review.manifest import InputRef, OutputFile, ToolInfo, sign_manifest, write_manifest
from dsar.review.published import (
    FINDABLE,
    HELD_BACK,
    PUBLISHED,
    RARE_TERM,
    REVIEW_FILE,
    PublishedManifest,
    name_parts,
    parts_beside,
    read_texts,
    username_value,
    verify_published,
)
from dsar.text import Span, TextEngine, TextPolicy
from dsar.text.detectors import PERSON
from dsar.text.lexicon import STOP_WORDS, is_english_word, language_of, word_anywhere

RARE_BELOW = 3
LINK_ROWS = 50  # fewer threads or rows say nothing about a kept column's uniqueness
LINK_SHARE = 0.9  # of them alone on a value of a kept column: it links them back
MASKED_ALONE = 20  # a text with no replacement this long pairs two publications up too
REREAD = "REREAD"  # held back: the published text reads as holding a new identifier
NESTED = "NESTED"  # held back: a span across a nested cell's leaves, or in a number of it
CHUNK = 2000  # texts analysed between two progress reports
ProgressFn = Callable[[int], None]
IDENTIFIER_KINDS = (
    "user_id",
    "customer_id",
    "device_id",
    "cookie_id",
    "oauth_subject",
    "username",
    "person_id",
)


class PublishRejectedError(ExtractRejectedError):
    """A publication failed its own check: set aside as `<name>.REJECTED`, never published."""

    def __init__(self, folder: Path, findings: Sequence[str]) -> None:
        self.folder, self.findings = folder, tuple(findings)
        shown = "; ".join(self.findings[:5])
        more = f"; and {len(self.findings) - 5} more" if len(self.findings) > 5 else ""
        WorkbenchError.__init__(
            self,
            f"{folder}: the publication failed its own check, {len(self.findings)}"
            f" finding(s): {shown}{more}. It was set aside and must not be shared",
        )


@dataclass(frozen=True)
class Export:
    """What the catalog's export tells publishing: its people's names (case-folded), the
    company's identifiers, and its own names never replaced."""

    names: frozenset[str] = frozenset()
    ids: CompanyIds = field(default_factory=lambda: CompanyIds(frozenset()))
    allow: frozenset[str] = frozenset()

    @classmethod
    def of(cls, engine: Engine) -> Export:
        """Read from the export (distinct values of the name, identity and key columns)."""
        catalog = engine.catalog
        names: set[str] = set()
        id_columns: list[list[str]] = []
        usernames: set[str] = set()  # a declared username without a digit (`mduke`)
        for table_name, table in catalog.tables.items():
            if table_name not in engine.tables or not table.personal:
                continue
            t = quote_identifier(table_name)
            name_cols = [c for c, col in table.columns.items() if col.personal == "name"]
            parts = [f"CAST({quote_identifier(c)} AS VARCHAR)" for c in name_cols]
            if len(parts) > 1:  # given and family names apart: the full name too
                parts.append(f"concat_ws(' ', {', '.join(parts)})")
            for expr in parts:
                got = engine.query(f"SELECT DISTINCT {expr} AS v FROM {t}")
                names.update(_folded(v) for v in got.column("v").to_pylist() if v)
            ids = [
                c
                for c, col in table.columns.items()
                if (col.identity is not None and col.identity.value in IDENTIFIER_KINDS)
                or c in table.primary_key
            ]
            for c in ids:
                got = engine.query(
                    f"SELECT DISTINCT CAST({quote_identifier(c)} AS VARCHAR) AS v FROM {t}"
                )
                id_columns.append([v for v in got.column("v").to_pylist() if v])
                identity = table.columns[c].identity
                if identity is not None and identity.value == "username":  # red team 24c F7
                    usernames.update(v for v in id_columns[-1] if username_value(v))
        allow = frozenset({catalog.controller.name, *catalog.text_allow})
        company = CompanyIds.of(id_columns)
        company = CompanyIds(company.values | usernames, company.shapes)
        return cls(frozenset(names), company, allow)


def _folded(name: str) -> str:
    return " ".join(t.casefold() for t in name_tokens(name))


@dataclass(frozen=True)
class PublishResult:
    """A written publication: its folder, data file and manifest."""

    folder: Path
    file: Path
    manifest: PublishedManifest


@dataclass
class _Text:
    """One input text as publishing sees it."""

    index: int
    text: str | None
    spans: list[Span]
    unsure: list[Span]
    thread: str
    reread: bool = False  # its published text holds an identifier no replacement put there
    forms: dict[Span, Found] = field(default_factory=dict)  # spans of an original's other form
    cell: Any = None  # a nested cell (an object or a list) as read, its leaves in `text`
    offsets: list[tuple[int, int]] = field(default_factory=list)  # replaced: (end, shift)
    bounds: list[tuple[int, int, bool]] = field(default_factory=list)  # its leaves in `text`


def run_publish(
    source: str | Path,
    column: str,
    out: str | Path,
    *,
    keys: Keys,
    thread: str | None = None,
    engine: Engine | None = None,
    keep: Sequence[str] = (),
    coarse: Mapping[str, str] | None = None,
    earlier: Sequence[str | Path] = (),
    name: str | None = None,
    series: str | None = None,
    person: str | None = None,
    rare_below: int = RARE_BELOW,
    progress: ProgressFn | None = None,
    now: datetime | None = None,
    text_engine: TextEngine | None = None,
) -> PublishResult:
    """Publish the texts of `column` of the file `source` into `out/<name>/`.

    Args:
        source: a CSV, JSON Lines or Parquet file.
        column: the column of texts to publish.
        out: the folder the publication's folder is made in.
        keys: the secret key (required: unkeyed surrogates could be reversed by trying
            names).
        thread: a column grouping texts into threads (a ticket, a requester).
        engine: an engine over the catalog's export, to read its people's names (no
            surrogate is one of them) and its identifiers (replaced in the texts).
        keep: other columns published as they are (a status, a channel).
        coarse: kept columns of dates or times published cut to a unit (`COARSE_UNITS`: day,
            week, month, year), by column: a time to the second, or any value almost every
            row or thread holds alone, would link each published row back to its source row
            and to its copy in another publication (red team 24c F9), and is refused kept
            as it is.
        earlier: folders of earlier publications of overlapping texts: a text published
            in one under another key (not the same `series`) is refused (red team 24c F10:
            the same texts published twice pair up row by row by their masked text, and a
            surrogate learnt in one decodes the person in the other).
        name: the folder's name (default: the file's name without its suffix).
        series: a series whose publications share surrogates, thread tokens and order (a
            plain name). Default: none, the publication's own key from a fresh random id,
            so no surrogate means anything outside it, and a run again differs.
        person: a column naming who wrote each text (a requester's id), not published
            unless kept: rare terms are counted per person (default: per `thread`, else per
            text).
        rare_below: a capitalised term used by fewer people than this is listed for a
            reviewer (red team s14 F7: one person writing it in 20 texts is one person).
        progress: called with the texts of each chunk analysed.
        text_engine: the text engine (default: `publish_find.publishing_engine`).

    Raises:
        MissingFileError, InputFileError, UsageError: the input or a column is wrong.
        OutputExistsError: `out/<name>` exists.
        PublishRejectedError: the publication failed its own check.
    """
    keys = require_keys(keys, "run_publish")
    source, out = Path(source), Path(out)
    if series is not None:
        series = plain_name(series, "series name")
    publication_id = None if series is not None else secrets.token_hex(16)
    scope = f"series:{series}" if series is not None else f"publication:{publication_id}"
    if not source.is_file():
        raise MissingFileError(source, "the file to publish", "check --input")
    fmt = format_of(source)
    name = plain_name(name or source.stem, "publication name")
    folder = out / name
    if folder.exists():
        raise OutputExistsError(folder, "the publication", "remove it first, or give --name")
    coarse = dict(coarse or {})
    for col, unit in coarse.items():
        if unit not in COARSE_UNITS:
            raise UsageError(
                "--keep-coarse",
                f"{col!r} is to be cut to {unit!r}",
                f"give one of {', '.join(COARSE_UNITS)} (COLUMN=UNIT)",
            )
    keep = tuple(dict.fromkeys([*keep, *coarse]))
    before = [_earlier_texts(Path(e), series) for e in earlier]
    frame = read_frame(source)
    for wanted in (column, *([thread] if thread else []), *([person] if person else []), *keep):
        if wanted not in frame.columns:
            raise InputFileError(
                source, f"no column {wanted!r}", f"the columns are {', '.join(frame.names)}"
            )
    kept_values = {n: frame.columns[n] for n in keep}
    for col, unit in coarse.items():
        kept_values[col], bad = coarsened(frame.columns[col], unit)
        if bad:
            raise InputFileError(
                source,
                f"--keep-coarse {col!r}: {bad} value(s) are no date or time",
                "keep only a column of dates or times (text written YYYY-MM-DD, a time may"
                " follow, or YYYYMMDD) coarsened, or leave it out",
            )
    export = Export.of(engine) if engine is not None else Export()
    texts = frame.texts(column)
    threads: list[str | None] = frame.texts(thread) if thread else [None] * len(texts)
    items = _analyse(texts, threads, export, progress, text_engine)
    _other_forms(items, export)
    _nested_cells(items, frame, column)
    names = full_names(texts, [[s for s in t.spans if s not in t.forms] for t in items])
    values = {
        (s.entity, fold(s.entity, t.text[s.start : s.end]))
        for t in items
        if t.text
        for s in t.spans
        if s.entity != PERSON
    }
    surrogates = Surrogates(
        keys,
        forbidden=export.names | names,
        taken_ids=export.ids.values,
        originals=values,
        scope=scope,
    )
    originals = values | {(PERSON, n) for n in names}
    hasher = scoped_hasher(keys, scope)  # thread tokens and order: the publication's too
    by = person or thread
    writers: list[str | None] = frame.texts(by) if by else [None] * len(texts)
    rare = _rare(items, writers, export.allow, rare_below)
    check = TextEngine(policy=TextPolicy(allow=export.allow))  # the reviewer's engine
    spoken = [
        t.text[s.start : s.end] for t in items if t.text for s in t.spans if s.entity == PERSON
    ]
    _screen_kept(
        source,
        kept_values,
        {column, *([thread] if thread else [])},
        check,
        export,
        originals,
        _name_words([*spoken, *export.names]),
    )
    _screen_linking(source, kept_values, threads, {column, *([thread] if thread else [])}, coarse)
    for attempt in range(3):  # a text read anew is held back, and the rest written again
        published = [t for t in items if not t.unsure and not t.reread]
        order = sorted(published, key=lambda t: (hasher(f"order:{t.thread}"), t.index))
        replaced_texts, review, counts = _replace(order, surrogates, rare, fmt, export.allow)
        cells, broken = _rebuilt(order, replaced_texts, frame.object_keys)
        reread = _reread(check, order, replaced_texts, review)
        beside = _beside(order, replaced_texts, review, originals)
        if attempt == 2 or not (reread or beside or broken):
            break  # (a third reading is the self-check's, below)
    review += [
        {"input_row": t.index + 1, "kind": HELD_BACK, "reason": s.entity}
        | {"start": s.start, "end": s.end}
        for t in items
        for s in t.unsure
    ]
    review += [
        {"input_row": t.index + 1, "kind": HELD_BACK, "reason": REREAD}
        for t in items
        if t.reread and not t.unsure
    ]
    columns: dict[str, list[Any]] = {column: cells}
    if thread:
        tokens = [threads[t.index] for t in order]
        columns[thread] = [None if v is None else f"t-{hasher('thread:' + v)[:16]}" for v in tokens]
    for col in coarse:
        if col not in columns:
            columns[col] = [kept_values[col][t.index] for t in order]
    with partial_folder(out, name) as work:
        data = work / f"{name}{source.suffix.lower()}"
        write_frame(data, frame, [t.index for t in order], columns, keep)
        review_path = work / REVIEW_FILE
        atomic_write_text(review_path, "".join(_json_line(r) for r in review))
        review_path.chmod(0o600)
        _screen_earlier(before, _masked_texts(data, column, review_path))
        run = _Counts(counts, len(items) - len(published), rare_below, surrogates)
        manifest = _manifest(source, engine, (data, review_path), work, frame, run, export, coarse)
        manifest = manifest.model_copy(
            update={"column": column, "thread": thread, "kept": tuple(keep), "name": name}
            | {"publication_id": publication_id, "series": series}
            | {"rare_counted_by": "person" if person else "thread" if thread else "text"}
            | ({"created_at": now} if now is not None else {})
        )
        manifest = sign_manifest(manifest, keys)  # an edited manifest is found with the key
        write_manifest(manifest, work / "manifest.json")
        (work / "manifest.json").chmod(0o600)
        # the reviewer's check, given the original values, before the folder takes its name
        found = verify_published(
            work,
            originals=originals,
            text_engine=check,
            keys=keys,
            identifiers=export.ids.values,  # as `dsar verify --catalog` reads them
        ).findings
        findings = [str(f) for f in found]
        if findings:
            aside = set_aside(work, out, name, "publication name")
        else:
            work.rename(folder)
    if findings:
        raise PublishRejectedError(aside, findings)
    return PublishResult(folder, folder / data.name, manifest)


def _reread(
    engine: TextEngine,
    order: list[_Text],
    texts: list[str | None],
    review: list[dict[str, Any]],
) -> bool:
    """Mark the texts whose published form the engine reads an identifier in where no
    replacement stands (a word beside a surrogate now reads as a name, a number lost its
    checksum and the word before it became one): they are held back. True when any was."""
    placed: dict[int, list[tuple[int, int]]] = {}
    for entry in review:
        if entry["kind"] != RARE_TERM:
            placed.setdefault(entry["row"], []).append((entry["start"], entry["end"]))
    marked = False
    for row, (t, spans) in enumerate(zip(order, engine.analyze(texts), strict=True), 1):
        spots = placed.get(row, [])
        if any(not any(a < s.end and s.start < b for a, b in spots) for s in spans):
            t.reread, marked = True, True
    return marked


def _beside(
    order: list[_Text],
    texts: list[str | None],
    review: list[dict[str, Any]],
    originals: Collection[tuple[str, str]],
) -> bool:
    """Mark the texts where a word of an original name stands beside a name's surrogate
    (`parts_beside`, the self-check's rule; red team s13 F5): held back. True when any was."""
    parts = name_parts(originals)
    placed: dict[int, list[tuple[int, int, str]]] = {}
    for entry in review:
        if entry["kind"] != RARE_TERM:
            placed.setdefault(entry["row"], []).append(
                (entry["start"], entry["end"], entry["kind"])
            )
    marked = False
    for row, (t, text) in enumerate(zip(order, texts, strict=True), 1):
        if text and parts_beside(text, placed.get(row, ()), parts):
            t.reread, marked = True, True
    return marked


def _json_line(record: dict[str, Any]) -> str:
    return json.dumps(record, ensure_ascii=False) + "\n"


def _analyse(
    texts: list[str | None],
    threads: list[str | None],
    export: Export,
    progress: ProgressFn | None,
    text_engine: TextEngine | None,
) -> list[_Text]:
    """Every text's spans: the engine's, then the thread's and the corpus's names, the
    company's identifiers and URL tokens; and what makes it unsure."""
    known = _known_in(texts, export.names)
    engine = text_engine or publishing_engine(export.allow, known)
    found: list[list[Span]] = []
    for start in range(0, len(texts), CHUNK):
        chunk = texts[start : start + CHUNK]
        found += engine.analyze(chunk)
        if progress is not None:
            progress(len(chunk))
    split = [split_sure(spans) for spans in found]
    sure = [extend_names(t, s) if t else s for t, (s, _) in zip(texts, split, strict=True)]
    corpus, given = full_names(texts, sure), given_names(texts, sure)
    by_thread: dict[str, list[int]] = {}
    keys = []
    for i, value in enumerate(threads):
        key = f"row:{i}" if value is None else f"value:{value}"
        keys.append(key)
        by_thread.setdefault(key, []).append(i)
    for members in by_thread.values():
        mentioned = thread_mentions(
            [texts[i] for i in members], [sure[i] for i in members], corpus, given
        )
        for i, s in zip(members, mentioned, strict=True):
            sure[i] = s
    parts = corpus_parts(corpus)  # a name's words beside it are the name's (red team F5)
    items = []
    for i, text in enumerate(texts):
        spans, unsure = sure[i], list(split[i][1])
        if text:
            spans = add_free(extend_names(text, spans, parts), export.ids.find(text))
            spans = add_free(spans, url_tokens(text))
            unsure += declined_names(text, spans, export.allow)
            unsure += unsure_full_names(text, spans, export.allow, parts)
        items.append(_Text(i, text, spans, unsure, keys[i]))
    return items


def _known_in(texts: list[str | None], names: frozenset[str]) -> list[str]:
    """The export's people named in the texts (runs of two to four words), for the engine."""
    if not names:
        return []
    found: set[str] = set()
    for text in texts:
        if not text:
            continue
        words = [w.casefold() for w in name_tokens(text)]
        for n in (2, 3, 4):
            found.update(
                " ".join(words[i : i + n])
                for i in range(len(words) - n + 1)
                if " ".join(words[i : i + n]) in names
            )
    return sorted(found)


def _rare(
    items: list[_Text], writers: list[str | None], allow: Collection[str], below: int
) -> dict[int, list[tuple[int, int]]]:
    """Per text, the capitalised terms fewer than `below` people of the corpus use: each
    text's writer (`writers`, by input row; a text without one is a writer of its own),
    counted once however many of their texts hold the term (red team s14 F7)."""
    per_text: dict[int, list[tuple[int, int, str]]] = {}
    users: dict[str, set[str]] = {}
    for t in items:
        if not t.text:
            continue
        found = [
            (a, b, " ".join(t.text[a:b].split()).casefold())
            for a, b in terms(t.text, t.spans, allow)
        ]
        per_text[t.index] = found
        writer = writers[t.index]
        who = f"row:{t.index}" if writer is None else f"value:{writer}"
        for _, _, k in found:
            users.setdefault(k, set()).add(who)
    return {
        i: [(a, b) for a, b, k in found if len(users[k]) < below] for i, found in per_text.items()
    }


def _replace(
    order: list[_Text],
    surrogates: Surrogates,
    rare: dict[int, list[tuple[int, int]]],
    fmt: str,
    allow: Collection[str],
) -> tuple[list[str | None], list[dict[str, Any]], Counter[str]]:
    """The published texts, in `order`, the review entries, and the replacements per kind."""
    thread_people = _people_of(order, surrogates)
    texts: list[str | None] = []
    review: list[dict[str, Any]] = []
    counts: Counter[str] = Counter()
    for row, t in enumerate(order, 1):
        if t.text is None:
            texts.append(None)
            continue
        pieces, last, shift = [], 0, 0
        placed: list[tuple[int, int, str]] = []
        offsets: list[tuple[int, int]] = []  # (original end, shift after it)
        t.offsets = offsets
        language = language_of(t.text)
        people = thread_people[t.thread]
        for s in sorted(t.spans):
            value = t.text[s.start : s.end]
            form = t.forms.get(s)
            new = _surrogate(
                s.entity, form.original if form else value, language, surrogates, people
            )
            if form is not None:
                new = _in_form(form, value, new)
            pieces += [t.text[last : s.start], new]
            start = s.start + shift
            shift += len(new) - len(value)
            placed.append((start, start + len(new), s.entity))
            offsets.append((s.end, shift))
            last = s.end
        pieces.append(t.text[last:])
        text = "".join(pieces)
        lead = 1 if fmt == "csv" and is_formula(text) else 0  # the formula rule's quote
        for a, b, kind in placed:
            review.append({"row": row, "kind": kind, "start": a + lead, "end": b + lead})
            counts[kind] += 1
        for a, b in rare.get(t.index, ()):
            moved = next((sh for end, sh in reversed(offsets) if end <= a), 0)
            start = a + moved + lead
            review.append({"row": row, "kind": RARE_TERM, "start": start, "end": start + b - a})
        texts.append(text)
    return texts, review, counts


def _nested_cells(items: list[_Text], frame: Frame, column: str) -> None:
    """Note each nested cell (red team s14 F9: published in its shape, every string inside
    replaced) and where its leaves lie in its text; hold back one with a span across two
    leaves or in a number (replacing it would break the shape or change the leaf's type)."""
    for t in items:
        value = frame.columns[column][t.index]
        if t.text is None or not is_nested(value):
            continue
        t.cell, t.bounds = value, leaf_bounds(value, frame.object_keys)
        for s in t.spans:
            if not any(a <= s.start and s.end <= b and text for a, b, text in t.bounds):
                t.unsure.append(Span(s.start, s.end, NESTED, 0.0, "nested"))


def _rebuilt(
    order: list[_Text], texts: list[str | None], object_keys: bool
) -> tuple[list[Any], bool]:
    """The published cells: a text as replaced, a nested cell in its own shape with its
    leaves as replaced (`_replace`'s shifts). A cell that cannot be rebuilt (two object keys
    became one) is marked to be held back (True when any was) and published as its text."""
    cells: list[Any] = []
    broken = False
    for t, text in zip(order, texts, strict=True):
        if t.cell is None or text is None:
            cells.append(text)
            continue

        def moved(at: int, offsets: list[tuple[int, int]] = t.offsets) -> int:
            return at + next((sh for end, sh in reversed(offsets) if end <= at), 0)

        leaves = [text[moved(a) : moved(b)] for a, b, _ in t.bounds]
        cell = with_leaves(t.cell, leaves, object_keys)
        if cell is None:
            t.reread, broken = True, True
            cells.append(text)
        else:
            cells.append(cell)
    return cells, broken


def _in_form(form: Found, value: str, new: str) -> str:
    """A surrogate written as the original's other form stood: base64 again, a company id's
    written prefix and separator kept, a name in the case it was written in."""
    if form.encoding == BASE64:
        return rebase64(value, form.original, new)
    if form.tail:
        return value[: len(value) - form.tail] + new[len(new) - form.tail :]
    if form.span.entity == PERSON and value.isupper() and len(value) > 1:
        return new.upper()
    return new


def _other_forms(items: list[_Text], export: Export) -> None:
    """Add to each text the other forms of the originals found anywhere in the corpus
    (`publish_forms.Forms`), and the company's ids written otherwise."""
    forms = Forms.of([t.text for t in items], [t.spans for t in items], export.ids)
    for t in items:
        if not t.text:
            continue
        found = forms.find(t.text)
        found += [
            Found(span, value, tail=tail) for span, value, tail in export.ids.variants(t.text)
        ]
        if found:
            t.spans, t.forms = merge(t.spans, found)


def _screen_kept(
    source: Path,
    kept: Mapping[str, Sequence[Any]],
    replaced: set[str],
    engine: TextEngine,
    export: Export,
    originals: set[tuple[str, str]],
    name_words: frozenset[str],
) -> None:
    """Refuse a kept column that holds personal data (red team s13, F1): what the engine
    reads in its values (nested ones leaf by leaf), an original of the texts, an identifier
    or a person of the export, or a value that reads as a name (`_name_like`, red team 24c
    F4: a word of a name the texts replace, in any case, beside an initial; a lower-case
    name the engine misses). Names the column and the kinds with counts, never a value.

    Refused, not replaced: a kept column is published as it is, without review positions,
    so a reviewer who asked for it as harmless learns it is not, and publishes it as the
    `--column` of texts if it must go out."""
    from anonymize.publish_find import name_tokens as words

    def known_id(text: str) -> bool:
        return bool(export.ids.find(text) or export.ids.variants(text))

    def known_name(text: str) -> bool:
        return " ".join(w.casefold() for w in words(text)) in export.names

    def name_like(text: str) -> bool:
        return _name_like(text, name_words)

    problems = []
    for name, values in kept.items():
        if name in replaced:
            continue
        kinds = kept_findings(
            values,
            engine,
            FINDABLE,
            originals,
            (("COMPANY_ID", known_id), (PERSON, known_name), (PERSON, name_like)),
        )
        if kinds:
            said = ", ".join(f"{k} {n}" for k, n in sorted(kinds.items()))
            problems.append(f"{name!r} ({said} distinct value(s))")
    if problems:
        raise InputFileError(
            source,
            f"a kept column holds personal data: {'; '.join(problems)}",
            "leave it out of --keep (a kept column is published as it is), or publish it as"
            " the --column of texts",
        )


_KEPT_WORD = re.compile(r"[^\W\d_](?:[^\W\d_]|['\u2019-](?=[^\W\d_]))*\.?")
# words that join a name's parts, beside the lists' particles: "Siobhán Ó Súilleabháin"
_NAME_JOINS = PARTICLES | {"o", "o'", "ni", "nic", "mac", "mc", "los", "las", "y", "e"}


def _name_words(names: Collection[str]) -> frozenset[str]:
    """The words of the names the texts replace (and the export's people): folded
    (`fold_name`), a hyphenated word and its parts, no particle, stop word or everyday
    English word (a "Hope" or a "Will": `_name_like` reads those by the company they keep)."""
    out = set()
    for n in names:
        for w in name_tokens(n):
            for part in {w, *w.split("-")}:
                f = fold_name(part)
                if len(f) >= 2 and f not in _NAME_JOINS | STOP_WORDS and not is_english_word(f):
                    out.add(f)
    return frozenset(out)


def _unknown_word(word: str) -> bool:
    """A word of no language's word list (a surname: "Summerfield", "Súilleabháin")."""
    anywhere = word_anywhere(word)
    return not is_english_word(word.casefold()) if anywhere is None else not anywhere


def _name_like(text: str, name_words: Collection[str]) -> bool:
    """Whether a kept value reads as a person's name, in any case (red team 24c F4): a word
    of a name the texts replace ("OTTILIE B.", "brandvold"); a listed given name or surname
    no language uses as a word ("fergal"); or two name words together: a listed name beside
    a word of no language's list or an initial ("hope summerfield", "Maria K."), or name
    words joined by a name's particle ("siobhán ó súilleabháin"). Two everyday words ("will
    grant") or two words of no list alone ("webhook timeouts") are no name."""
    run: list[str] = []  # the current run's kinds: listed, unknown, initial, particle
    for token in [*_KEPT_WORD.findall(text), ""]:
        word = token.rstrip(".")
        folded = fold_name(word)
        if folded in name_words:
            return True
        initial = len(word) == 1 and token.endswith(".") and word.isupper()
        listed = len(word) > 1 and folded not in STOP_WORDS and _listed(word)
        unknown = len(word) > 1 and _unknown_word(word)
        if listed and unknown:
            return True
        if run and folded in _NAME_JOINS and not initial:
            run.append("particle")
            continue
        if initial or listed or unknown:
            run.append("initial" if initial else "listed" if listed else "unknown")
            continue
        kinds = set(run)
        named = [k for k in run if k != "particle"]
        if len(named) >= 2 and (
            ("listed" in kinds and kinds & {"unknown", "initial"}) or "particle" in kinds
        ):
            return True
        run = []
    return False


def _listed(word: str) -> bool:
    return given_listed(word) or surname_listed(word) or given_listed(word.capitalize())


def _screen_linking(
    source: Path,
    kept: Mapping[str, Sequence[Any]],
    threads: Sequence[str | None],
    replaced: set[str],
    coarse: Mapping[str, str],
) -> None:
    """Refuse a kept column that links published rows back (red team 24c F9): a time of day
    (a `created_at` to the second: whoever knows when a person wrote finds their thread, and
    two publications join row by row on it, per-publication keys or not), unless coarsened;
    or values that almost every thread (each row, without `--thread`) holds alone, as
    extracts refuse a column unique to almost every person. Names the column and counts."""
    problems = []
    for name, values in kept.items():
        if name in replaced:
            continue
        timed = sum(1 for v in values if _has_time(v))
        if timed and name not in coarse:
            problems.append(
                f"{name!r} holds {timed} time(s) of day: a time links each published row to its"
                f" source row and to its copy in any other publication (--keep-coarse"
                f" {name}=day, or week, month, year)"
            )
            continue
        holders: dict[str, set[str]] = {}
        owners: set[str] = set()
        for i, v in enumerate(values):
            if v is None or v == "":
                continue
            who = f"thread:{threads[i]}" if threads[i] is not None else f"row:{i}"
            owners.add(who)
            holders.setdefault(json.dumps(v, sort_keys=True, default=str), set()).add(who)
        alone = {next(iter(h)) for h in holders.values() if len(h) == 1}
        if len(owners) >= LINK_ROWS and len(alone) >= LINK_SHARE * len(owners):
            problems.append(
                f"{name!r} is unique to almost every thread or row: {len(alone)} of"
                f" {len(owners)} hold a value no other holds, which links each back to its"
                " source and across publications (coarsen it: --keep-coarse for a date or"
                " time, or leave it out)"
            )
    if problems:
        raise InputFileError(
            source,
            f"a kept column links published rows back: {'; '.join(problems)}",
            "leave it out of --keep, or coarsen it",
        )


def _masked_texts(data: Path, column: str, review: Path) -> Counter[str]:
    """A publication's texts with each listed replacement written as its kind (what an
    attacker holding two publications compares, red team 24c F10), spaces folded."""
    spans: dict[int, list[tuple[int, int, str]]] = {}
    for line in review.read_text(encoding="utf-8").splitlines():
        entry = json.loads(line)
        if "row" in entry and "start" in entry and entry.get("kind") not in (RARE_TERM,):
            spans.setdefault(entry["row"], []).append((entry["start"], entry["end"], entry["kind"]))
    out: Counter[str] = Counter()
    for row, text in enumerate(read_texts(data, column), 1):
        if not text:
            continue
        pieces, last = [], 0
        for a, b, kind in sorted(spans.get(row, ())):
            if a >= last:
                pieces += [text[last:a], f"<{kind}>"]
                last = b
        pieces.append(text[last:])
        masked = " ".join("".join(pieces).split())
        if "<" in masked or len(masked) >= MASKED_ALONE:
            out[masked] += 1
    return out


def _earlier_texts(folder: Path, series: str | None) -> tuple[str, Counter[str]]:
    """An earlier publication's name and masked texts (`_masked_texts`); none where it
    shares this one's series (consistent on purpose)."""
    path = folder / "manifest.json"
    if not path.is_file():
        raise UsageError(
            "--earlier", f"{folder} holds no manifest.json", "give a folder anonymize publish wrote"
        )
    manifest = PublishedManifest.model_validate_json(path.read_text(encoding="utf-8"))
    if series is not None and manifest.series == series:
        return manifest.name, Counter()
    data = next(
        (folder / o.path for o in manifest.outputs if Path(o.path).suffix.lower() in FORMATS),
        None,
    )
    if data is None or not data.is_file():
        raise UsageError(
            "--earlier",
            f"{folder} holds no published file",
            "give a folder anonymize publish wrote",
        )
    return manifest.name, _masked_texts(data, manifest.column, folder / REVIEW_FILE)


def _screen_earlier(before: Sequence[tuple[str, Counter[str]]], now: Counter[str]) -> None:
    """Refuse texts an earlier publication (another key) holds too, by their masked text:
    published again, the two pair up row by row. Names the publication and the count."""
    for name, texts in before:
        shared = sum(min(n, texts[t]) for t, n in now.items() if t in texts)
        if shared:
            raise UsageError(
                "--earlier",
                f"{shared} text(s) were published before in {name!r} under another key:"
                " published again they pair up row by row by their masked text, and a name's"
                " surrogate learnt in one decodes that person in the other",
                "publish overlapping texts in one --series, or leave out those already published",
            )


_TIME_OF_DAY = re.compile(r"^\s*\d{4}-?\d{2}-?\d{2}[T ]\d{1,2}:\d{2}")


def _has_time(value: object) -> bool:
    """A datetime or text written as one (ISO, with hours and minutes)."""
    if isinstance(value, datetime):
        return True
    return isinstance(value, str) and bool(_TIME_OF_DAY.match(value))


PersonMap = dict[str, tuple[Name, str] | None]  # a word's person and its role in the name


def _people_of(order: list[_Text], surrogates: Surrogates) -> dict[str, PersonMap]:
    """Per thread, the person each word of a full name stands for (its position in the
    name, given name first for "Surname, Given"), over the corpus's people (a word two
    people share is ambiguous: None); the thread's own people first. Keys are folded
    (case, accents: `fold_name`), so that every form of one name finds one person."""
    threads: dict[str, PersonMap] = {}
    corpus: PersonMap = {}
    for t in order:  # the full names first: a given name alone maps to its person
        people = threads.setdefault(t.thread, {})
        for s in t.spans:
            if s.entity == PERSON and t.text:
                value = _plain(t.text[s.start : s.end])
                words = layout(value).words
                if len(words) > 1 and any(ch.isspace() for ch in value):  # no handle
                    person = surrogates.person(words, language_of(t.text))
                    for position, word in ((0, words[0]), (-1, words[-1])):
                        key = f"{position}:{fold_name(word)}"
                        known = (person, _role(word, position))
                        for into in (people, corpus):
                            if key not in into:
                                into[key] = known
                            elif into[key] is not None and into[key] != known:
                                into[key] = None  # two people: ambiguous
    return {thread: corpus | people for thread, people in threads.items()}


def _plain(value: str) -> str:
    """A name as read: compatibility forms folded (full-width), invisible characters out."""
    folded = unicodedata.normalize("NFKC", value)
    return "".join(ch for ch in folded if unicodedata.category(ch) != "Cf")


def _role(word: str, position: int) -> str:
    """Whether a word of a full name is its given name or its surname: as the lists say
    where they say one only, else by its place (given-first; family first in Han, Hangul
    and kana names)."""
    listed = given_listed(word)
    if listed != surname_listed(word):
        return "given" if listed else "family"
    family_first = script_of(word) in ("CJK", "HANGUL", "HIRAGANA", "KATAKANA")
    return "given" if (position == 0) != family_first else "family"


def _cased(original: str, new: str) -> str:
    return Name((new,)).written(original)


def _name_surrogate(value: str, language: str, surrogates: Surrogates, people: PersonMap) -> str:
    """A name's surrogate written in the original's form: every word and initial replaced
    (red team F5: "M. Vandenbergh", "O'Neil, Shaun", "Michelle V."), one person one
    surrogate whatever the form (F8)."""
    lay = layout(value)
    words = lay.words
    roles = {r for _, _, r in lay.tokens}
    if len(words) == 1:
        word, initial = words[0], next((value[a] for a, _, r in lay.tokens if r < 0), "")
        positions = (-1, 0) if -1 in roles else (0, -1)
        person, role = None, "given"
        for position in positions:
            known = people.get(f"{position}:{fold_name(word)}")
            if known is not None:
                person, role = known
                break
        if person is None:
            if not initial:
                return _cased(value, surrogates.person(words, language).written(value))
            alone = surrogates.person(words, language).parts[0]
            letter = surrogates.initial(word, initial)
            return _render(value, lay, (alone, alone), (letter, letter))
        part, other = (
            (person.given, person.family) if role == "given" else (person.family, person.given)
        )
        other = other if len(person.parts) > 1 else ""
        letter = other[:1].upper() or surrogates.initial(word, initial)
        return _render(value, lay, (part, part), (letter, letter))
    person = surrogates.person(words, language)
    if not any(ch.isspace() for ch in value):  # a handle, a file name (red team 24c F11)
        first = people.get(f"0:{fold_name(words[0])}")
        person = first[0] if first is not None and first[1] == "given" else person
        given, family = (w.replace(" ", "") for w in (person.given, person.family))
        return _render(value, lay, (given, family or given), ("", ""))
    if lay.comma or any(r < 0 for r in roles):
        given, family = person.given, person.family
        return _render(value, lay, (given, family), (given[:1], family[:1]))
    tokens = name_tokens(value)
    head = value[: value.find(tokens[0])]
    tail = value[value.rfind(tokens[-1]) + len(tokens[-1]) :]
    return head + person.written(value) + tail


def _render(value: str, lay: Layout, words: tuple[str, str], initials: tuple[str, str]) -> str:
    """`value` with its first word (in given-first order) written as words[0], its last as
    words[1], middle words left out, and its initials as `initials` (given's, surname's)."""
    out, last = [], 0
    count = len(lay.words)
    for a, b, role in lay.tokens:
        original = value[a:b]
        if role < 0:
            new = initials[0 if role == -1 else 1][:1].upper() + "."
        elif role == 0:
            new = _cased(original, words[0])
        elif role == count - 1:
            new = _cased(original, words[1])
        else:
            new = ""
        out += [value[last:a], new]
        last = b
    out.append(value[last:])
    return re.sub(r"(?<=\S)[ \t]{2,}(?=\S)", " ", "".join(out)).strip(" ")


def _surrogate(
    entity: str,
    value: str,
    language: str,
    surrogates: Surrogates,
    people: PersonMap,
) -> str:
    if entity != PERSON:
        return surrogates.value(entity, value, fold(entity, value))
    if not name_tokens(value):
        return value
    return _name_surrogate(value, language, surrogates, people)


@dataclass(frozen=True)
class _Counts:
    """What a run counted, for its manifest."""

    replaced: Counter[str]
    held: int
    rare_below: int
    surrogates: Surrogates


def _manifest(
    source: Path,
    engine: Engine | None,
    files: tuple[Path, Path],
    work: Path,
    frame: Frame,
    run: _Counts,
    export: Export,
    coarse: Mapping[str, str],
) -> PublishedManifest:
    import faker

    data, review = files
    inputs = [InputRef(role="input", name=source.name, sha256=sha256_file(source))]
    if engine is not None and engine.catalog.source is not None:
        path = engine.catalog.source
        inputs.append(InputRef(role="catalog", name=path.name, sha256=sha256_file(path)))
    rows_out = frame.rows - run.held
    rare = sum(
        1 for line in review.read_text(encoding="utf-8").splitlines() if f'"{RARE_TERM}"' in line
    )
    return PublishedManifest(
        kind=PUBLISHED,
        format_version=1,
        tool=ToolInfo(name="privacy-workbench", version=__version__),
        created_at=datetime.now(UTC),
        inputs=tuple(inputs),
        outputs=(
            OutputFile.of(data, work, rows=rows_out),
            OutputFile.of(review, work, rows=None),
        ),
        parameters={
            "key_scheme": SCHEME,
            "faker": faker.VERSION,
            "allow": sorted(export.allow),
            "catalog_identifiers": len(export.ids.values),
            "export_names": len(export.names),
            **({"kept_coarse": dict(sorted(coarse.items()))} if coarse else {}),
        },
        name="-",
        column="-",
        thread=None,
        kept=(),
        format=frame.format,
        rows_in=frame.rows,
        rows_out=rows_out,
        held_back=run.held,
        replaced=dict(sorted(run.replaced.items())),
        rare_terms=rare,
        rare_below=run.rare_below,
        people=run.surrogates.people,
        locales=dict(sorted(run.surrogates.locales_used.items())),
        review_file=REVIEW_FILE,
    )
