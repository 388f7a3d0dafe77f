"""How sure the draft is of each decision: a number in [0, 1] and a one-line reason.

Not a model: each confidence is the product of a few factors read from the evidence the draft
already has, each named in the reason.

- A share of sampled values (emails, phones, identifiers, secrets, keys found in a parent) is
  counted by its lower bound (Wilson, 95%): 200 of 200 gives 0.98, 5 of 5 gives 0.57 (few
  values tell little), 100 of 200 gives 0.43.
- The column's name: agreeing (`email` for emails) keeps the share; silent gives 0.9 of it.
- A link: the share of its distinct values found in the parent's key, then its name (the key's
  name 1, a shared word 0.9, none 0.7), then 1 / (1 + other keys the values fit equally).
- A decision built on another carries the other's confidence (a column's identity by link: the
  link's and the parent key's).

`Draft.confirm_first()` lists the decisions from the least sure. Reasons hold counts, shares
and column names, never a value.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Sequence

from dsar.catalog.models import ColumnType, IdentityKind, PersonalKind
from dsar.draft.keys import id_named, name_score, person_named
from dsar.draft.model import Confidence, Draft, Link, TableDraft
from dsar.draft.shapes import (
    is_address,
    is_email,
    is_iban,
    is_id_like,
    is_ip,
    is_lat_lon,
    is_postcode,
    is_secret,
    is_ssn,
    password_named,
    phone_test,
    postcode_named,
    secret_test,
    tokens,
)

_Z = 1.96  # the 95% normal quantile of the share's lower bound
_NAME_SILENT = 0.9  # the name does not say what the values are
_PARTIAL = 0.1  # share of an unmarked column's values of a personal shape worth a decision
_NAMES = {  # the words of a column name that agree with a finding
    "email": re.compile(r"(?i)e-?mail|mail"),
    "phone": re.compile(r"(?i)phone|mobile|tel|fax|msisdn|cell"),
    "ip": re.compile(r"(?i)(^|_|\b)ip($|_|\b|addr)|ip_?addr|remote_?addr|client_?addr"),
    "secret": re.compile(r"(?i)pass|token|secret|key|hash|credential|salt|otp"),
    "name": re.compile(r"(?i)name|first|last|given|family|surname"),
}
_STATED = re.compile(r"(\d+)% of ([\d,]+) distinct sampled values are people's names")
_PLACES_STATED = re.compile(r"(\d+)% of ([\d,]+) distinct sampled values are known place names")


def share_floor(hits: int, n: int) -> float:
    """The lower bound (Wilson, 95%) of a share `hits / n`: what a sample of `n` can vouch for."""
    if n <= 0:
        return 0.0
    p = min(1.0, max(0.0, hits / n))
    z2 = _Z * _Z
    centre = p + z2 / (2 * n)
    margin = _Z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    return max(0.0, (centre - margin) / (1 + z2 / n))


def _count(values: Sequence[str], test: Callable[[str], bool]) -> int:
    """How many of `values` pass `test` (each distinct value tested once)."""
    return sum(n for value, n in Counter(values).items() if test(value))


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.0f}%" if whole else "0%"


def _clip(value: float) -> float:
    return min(1.0, max(0.0, value))


def _named(column: str, what: str) -> tuple[float, str]:
    """The name factor and its words: agreeing keeps the share, silent gives 0.9 of it."""
    if _NAMES[what].search(column):
        return 1.0, f"named {column}"
    return _NAME_SILENT, f"its name ({column}) does not say so"


def link_confidence(link: Link, tables: dict[str, TableDraft]) -> Confidence:
    """How sure a link is: its values found in the parent's key, its name, its rivals."""
    found = share_floor(link.found, link.distinct)
    share = (
        f"all {link.distinct:,} distinct values found in {link.target}"
        if link.found == link.distinct
        else f"{link.found:,} of {link.distinct:,} distinct values"
        f" ({100 * link.found / link.distinct:.1f}%) found in {link.target}"
    )
    score = name_score(link.column, link.parent, link.key)
    named, said = {
        2: (1.0, "its name is the key's"),
        1: (0.9, f"its name shares a word with {link.parent}.{link.key}"),
        0: (0.7, f"its name does not point to {link.parent}"),
    }[score]
    if score == 0 and person_named(link.column) and tables[link.parent].people is not None:
        named, said = 0.85, f"its name ({link.column}) names a person's role"
    rivals = 1 / (1 + len(link.also))
    reason = f"{share}; {said}"
    if link.also:
        reason += f"; the values fit {', '.join(link.also)} as well: which one?"
    if link.distinct < 20:
        reason += f"; only {link.distinct:,} distinct values to tell"
    return Confidence(_clip(found * named * rivals), reason)


def _shape(
    values: Sequence[str], test: Callable[[str], bool], what: str, factor: tuple[float, str]
) -> Confidence:
    n = len(values)
    hits = _count(values, test)
    name_factor, said = factor
    return Confidence(
        _clip(share_floor(hits, n) * name_factor),
        f"{_pct(hits, n)} of {n:,} sampled values {what}; {said}",
    )


def _stated(notes: Sequence[str], pattern: re.Pattern[str]) -> tuple[int, int] | None:
    """(hits, of) from a finding's evidence note ("80% of 150 distinct sampled values ...")."""
    for note in notes:
        if m := pattern.search(note):
            of = int(m.group(2).replace(",", ""))
            return round(int(m.group(1)) * of / 100), of
    return None


def _words(values: Sequence[str]) -> tuple[float, int]:
    counts = [len(v.split()) for v in values]
    return (sum(counts) / len(counts) if counts else 0.0), len(set(values))


def column_confidences(table: TableDraft) -> None:
    """The confidence of each role found from a column's values (left as set where a later
    step decided it: a people key's kind, an identity by link)."""
    for name, col in table.columns.items():
        if col.kind is None:
            _nested(col.confidence, col.personal, col.notes)
            continue
        if col.kind is not ColumnType.STRING and col.personal not in (
            PersonalKind.DATE_OF_BIRTH,
            PersonalKind.LOCATION,
        ):
            continue
        values = [str(v) for v in table.profile.values(name)]
        found = col.confidence
        if col.identity is not None and "identity" not in found:
            if col.identity is IdentityKind.EMAIL:
                found["identity"] = _shape(values, is_email, "are emails", _named(name, "email"))
            elif col.identity is IdentityKind.PHONE:
                found["identity"] = _shape(
                    values, phone_test(name), "are phone numbers", _named(name, "phone")
                )
            elif col.identity in (
                IdentityKind.DEVICE_ID,
                IdentityKind.COOKIE_ID,
                IdentityKind.OAUTH_SUBJECT,
            ):
                found["identity"] = _named_kind(name, values)
        if col.personal is not None and "personal" not in found:
            found["personal"] = _personal(name, col.personal, col.notes, values)
        if col.secret and "secret" not in found:
            plain = password_named(name) and any(
                "in clear where not hashed" in n for n in col.notes
            )
            found["secret"] = _shape(
                values,
                secret_test(name) if plain else is_secret,
                "are passwords (single words, in clear), hashes or tokens"
                if plain
                else "are password hashes or high-entropy tokens",
                _named(name, "secret"),
            )
        if col.free_text and "free_text" not in found:
            found["free_text"] = _free_text(values)
        owner = table.owned_through.column if table.owned_through is not None else None
        company = "company_contact" in found  # decided from the same values, with its own
        if not col.has_role and col.references is None and owner != name and not company:
            partial = _partial(name, values)
            if partial is not None:
                found["no_role"] = partial


def _personal(
    name: str, kind: PersonalKind, notes: Sequence[str], values: Sequence[str]
) -> Confidence:
    if kind is PersonalKind.IP_ADDRESS:
        return _shape(values, is_ip, "are IP addresses", _named(name, "ip"))
    if kind is PersonalKind.NAME:
        stated = _stated(notes, _STATED)
        if stated is None:
            return Confidence(0.6, "people's names by the text engine (no share stated)")
        hits, of = stated
        factor, said = _named(name, "name")
        return Confidence(
            _clip(share_floor(hits, of) * factor),
            f"{_pct(hits, of)} of {of:,} distinct sampled values are people's names; {said}",
        )
    if kind is PersonalKind.ADDRESS:
        if any("are postal addresses" in n for n in notes):
            return _shape(
                values,
                is_address,
                "are postal addresses",
                (_NAME_SILENT, f"its name ({name}) does not say so"),
            )
        return _shape(
            values,
            lambda v: any(c.isdigit() for c in v) and len(v.split()) > 1,
            "are words with a house number",
            (1.0, f"named {name}"),
        )
    if kind is PersonalKind.LOCATION and postcode_named(name):
        return _shape(values, is_postcode, "have a postal code's shape", _said(name))
    if kind is PersonalKind.LOCATION and any("latitude and longitude" in n for n in notes):
        return _shape(values, is_lat_lon, "are latitude and longitude pairs", _said(name))
    if kind is PersonalKind.LOCATION and any("beside" in n and "itudes" in n for n in notes):
        return Confidence(0.8, f"named {name}, beside the other coordinate; values in range")
    if kind is PersonalKind.LOCATION:
        places = _stated(notes, _PLACES_STATED) or (0, 0)
        hits, of = places
        return Confidence(
            _clip(0.6 + 0.4 * share_floor(hits, of)),
            f"named {name}; {_pct(hits, of)} of {of:,} distinct sampled values are known place"
            " names (the name decided it)",
        )
    if kind is PersonalKind.DATE_OF_BIRTH:
        spread = _stated(notes, _SPREAD_STATED)
        if spread is not None and any("by their spread" in n for n in notes):
            hits, of = spread
            return Confidence(
                _clip(share_floor(hits, of) * _NAME_SILENT * 0.9),
                f"{_pct(hits, of)} of {of:,} sampled dates lie decades back, spread as births"
                f" are; its name ({name}) does not say so",
            )
        if spread is not None:
            hits, of = spread
            return Confidence(
                _clip(share_floor(hits, of)),
                f"named {name}; {_pct(hits, of)} of {of:,} sampled values are dates decades back",
            )
        return Confidence(0.7, f"a date column named {name}: decided by its name alone")
    if kind is PersonalKind.FINANCIAL_ACCOUNT:
        return _shape(values, is_iban, "are IBANs", (1.0, f"checksums hold; named {name}"))
    if kind is PersonalKind.GOVERNMENT_ID:
        return _shape(values, is_ssn, "are US social security numbers", _said(name))
    return Confidence(0.6, f"{kind.value} decided from its name and values (no share to count)")


_SPREAD_STATED = re.compile(r"(\d+)% of ([\d,]+) sampled \S+ values are dates between 1900")
_NESTED_STATED = re.compile(r"(\d+)% of ([\d,]+) (?:distinct )?sampled")
_NESTED_READ = re.compile(r"(\d+) of (\d+) fields classified")


def _said(name: str) -> tuple[float, str]:
    return 1.0, f"named {name}"


def _nested(found: dict[str, Confidence], kind: PersonalKind | None, notes: Sequence[str]) -> None:
    """A nested column (struct, list, map): at most half as sure as a column of its own,
    whose values are marked as a whole and reach no one (no identity inside): a person
    confirms it first. Unmarked, as sure as its fields were all classified, at most 0.6."""
    note = next((n for n in notes if n.startswith("a nested value")), "")
    read = _NESTED_READ.search(note)
    classified, fields = (int(read.group(1)), int(read.group(2))) if read else (0, 1)
    if kind is not None and "personal" not in found:
        share = _NESTED_STATED.search(note)
        hits, of = (int(share.group(1)), int(share.group(2).replace(",", ""))) if share else (0, 0)
        found["personal"] = Confidence(
            _clip(0.5 * share_floor(round(hits * of / 100), of)),
            f"a nested value, marked {kind.value} as a whole by a field where {hits}% of"
            f" {of:,} sampled values are of its shape; no identity inside: how do requests"
            " reach it?",
        )
    elif kind is None and "no_role" not in found:
        found["no_role"] = Confidence(
            0.6 if classified == fields else 0.3,
            f"a nested value: {classified} of {fields} fields classified, none personal:"
            " confirm it holds nothing personal",
        )


def _opaque(value: str) -> bool:
    """An identifier no one would write as a word: 8 characters or more, with a digit, or 16
    or more (a UUID, a numeric subject, a random token)."""
    text = value.strip()
    return is_id_like(text) and (
        (len(text) >= 8 and any(c.isdigit() for c in text)) or len(text) >= 16
    )


def _named_kind(name: str, values: Sequence[str]) -> Confidence:
    """A device, cookie or OAuth id whose kind its name gave: as sure as its values look like
    opaque identifiers; words (`Call`, `Email` in a column named Subject) leave the name alone
    to say it, at 0.3 at most: confirm."""
    shaped = _shape(
        values,
        is_id_like,
        "are identifiers (no spaces)",
        (0.9, f"the kind read from its name ({name}) alone"),
    )
    distinct = sorted(set(values))
    if not distinct:
        return shaped
    opaque = sum(1 for v in distinct if _opaque(v))
    share = share_floor(opaque, len(distinct))
    said = (
        f"{_pct(opaque, len(distinct))} of {len(distinct):,} distinct sampled values look like"
        " opaque identifiers (8+ characters with a digit, or 16+)"
    )
    if opaque < 0.5 * len(distinct):
        return Confidence(
            min(shaped.value, 0.3),
            f"{said}: the kind read from its name ({name}) alone, not its values: confirm",
        )
    named = _shape(values, is_id_like, "are identifiers (no spaces)", (0.9, f"named {name}"))
    return Confidence(_clip(shaped.value * share), f"{named.reason}; {said}")


def _free_text(values: Sequence[str]) -> Confidence:
    """Longer, more varied texts are surer free text: 2.5 words on average gives 0.5, 8 words
    0.84; repeated texts (labels) halve it at most; few values lower it."""
    n = len(values)
    mean, distinct = _words(values)
    if not n or mean <= 0:
        return Confidence(0.0, "no sampled text")
    length = _clip(1 - 1.25 / mean)
    varied = 0.5 + 0.5 * distinct / n
    few = share_floor(n, n)
    return Confidence(
        _clip(length * varied * few),
        f"{mean:.1f} words on average; {distinct:,} different texts of {n:,} sampled values",
    )


def _partial(name: str, values: Sequence[str]) -> Confidence | None:
    """An unmarked text column where some values have a personal shape (below the share that
    marks it) or whose name says personal data: how sure 'nothing personal' is."""
    n = len(values)
    if not n:
        return None
    shares = [
        (_count(values, test), what)
        for test, what in (
            (is_email, "emails"),
            (phone_test(name), "phone numbers"),
            (is_ip, "IP addresses"),
            (is_secret, "secrets"),
        )
    ]
    hits, what = max(shares)
    words = set(tokens(name))
    hinted = next(
        (
            w
            for w in ("email", "mail", "phone", "mobile", "address", "password", "ip", "token")
            if w in words
        ),
        None,
    )
    if hits >= _PARTIAL * n:
        return Confidence(
            _clip(1 - hits / n),
            f"{_pct(hits, n)} of {n:,} sampled values are {what}, too few to mark it: does it"
            " hold personal data?",
        )
    if hinted is not None:
        return Confidence(
            0.5,
            f"its name says {hinted}, but {_pct(hits, n)} of {n:,} sampled values are"
            f" {what}: confirm it holds nothing personal",
        )
    return None


def _key_confidence(table: TableDraft) -> Confidence | None:
    key = table.primary_key
    if key is None:
        return None
    rows = table.profile.rows
    unique = share_floor(rows, rows)
    named = 1.0 if id_named(key) else 0.8
    rivals = [k for k in table.keys if k != key and id_named(k)]
    rival = 0.7 if rivals else 1.0
    held = table.profile.columns[key].placeholders
    reason = f"unique and non-null in all {rows:,} rows"
    if held:  # the rows with a placeholder are not told apart by it: confirmed first
        unique = share_floor(rows - held, rows)
        reason = f"unique in its {rows - held:,} values; {held:,} rows hold a placeholder"
    reason += "; named as an identifier" if named == 1.0 else "; not named as an identifier"
    if rivals:
        reason += f"; {', '.join(rivals)} is unique too: which is the key?"
    if rows < 20:
        reason += "; few rows to tell"
    return Confidence(_clip(unique * named * rival), reason)


def _verdict(table: TableDraft) -> Confidence:
    """A table's verdict where the people step gave it none: personal by its identity columns,
    owned, unreachable, or reference data."""
    if table.owned_through is not None and "owned_through" in table.confidence:
        own = table.confidence["owned_through"]
        return Confidence(own.value, f"its owner link: {own.reason}")
    ids = [
        (c, d.confidence["identity"])
        for c, d in table.columns.items()
        if d.identity is not None and "identity" in d.confidence
    ]
    if table.personal and ids:
        col, best = max(ids, key=lambda item: item[1].value)
        return Confidence(best.value, f"its surest identity column is {col} ({best.value:.2f})")
    if table.personal:
        roles = [c for c, d in table.columns.items() if d.has_role]
        fits = [c for c, d in table.columns.items() if "unlinked" in d.confidence]
        said = f"personal columns ({', '.join(roles)})" if roles else ""
        if fits:
            said += f"{'; ' if said else ''}{', '.join(fits)} may hold a person's key"
        return Confidence(
            0.2,
            f"{said} but no identity and no link to one: give it an identity or owned_through",
        )
    rows = table.profile.sample.num_rows
    partial = [
        (c, d.confidence[role])
        for c, d in table.columns.items()
        for role in ("no_role", "company_contact")
        if role in d.confidence
    ]
    seen = share_floor(rows, rows)
    reason = f"no identity, personal column or link to a person in {rows:,} sampled rows"
    if partial:
        col, least = min(partial, key=lambda item: item[1].value)
        reason += f"; but {col} is unsure ({least.value:.2f})"
        seen *= least.value
    if rows < 20:
        reason += ": few rows to tell"
    return Confidence(_clip(seen), reason)


def assess(draft: Draft) -> None:
    """Give every decision of `draft` its confidence (those the people step has not given)."""
    for table in draft.tables.values():
        column_confidences(table)
        key = _key_confidence(table)
        if key is not None:
            table.confidence.setdefault("primary_key", key)
        for col in table.columns.values():
            link = next(
                (
                    lk
                    for lk in draft.links
                    if lk.child == table.name and lk.column == col.name and col.references
                ),
                None,
            )
            if link is not None:
                col.confidence.setdefault("references", link_confidence(link, draft.tables))
    for table in draft.tables.values():
        table.confidence.setdefault("verdict", _verdict(table))
