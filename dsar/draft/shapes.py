"""What a column's sampled values look like: emails, phones, IPs, secrets, names, places, text.

Each finding carries its evidence in words (counts, percentages and the column's name,
never a value). Patterns decide contacts and secrets; the text engine (`dsar.text`) and its
name lexicon decide names and free text, on at most `TEXT_SAMPLE` distinct values a column.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dsar.catalog.models import ColumnType, IdentityKind, PersonalKind
from dsar.draft.profile import ColumnProfile, TableProfile

if TYPE_CHECKING:
    from dsar.text.engine import TextEngine

TEXT_SAMPLE = 200  # distinct values a column given to the text engine

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^\W\d_]{2,}$")
_PHONE_SHAPE = re.compile(r"^\+?[\d\s().\-/]{7,24}$")
_DATE_SHAPE = re.compile(r"^\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|^\d{1,2}[-/.]\d{1,2}[-/.]\d{4}$")
_HASH = re.compile(r"^\$(?:2[abxy]?|argon2(?:id|i|d)|pbkdf2[-\w]*|scrypt|[156])\$")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_TOKEN = re.compile(r"^[A-Za-z0-9+/_\-.~=:]{20,}$")
_ID_LIKE = re.compile(r"^[\w\-.:|]{1,64}$")
_WORD = re.compile(r"^[^\W\d_]+(?:['\u2019-][^\W\d_]+)*[.,!?;:]?$")
_REGIONS = ("US", "GB", "DE", "FR", "NL", "BR", "IN")

_NAME_HINT = re.compile(r"(?i)(^|_|[a-z])(name|first|last|given|family|surname|fullname)")
_ADDRESS_HINT = re.compile(r"(?i)address|street|addr(?!ess)|postal")
_PLACE_HINT = re.compile(r"(?i)city|town|locality|place|village")
_BIRTH_HINT = re.compile(r"(?i)birth|(^|_)dob($|_)|born")
_SECRET_HINT = re.compile(r"(?i)pass(word|wd)?|token|secret|api_?key|hash|private_?key|credential")
_IP_HINT = re.compile(r"(?i)(^|_)ip(_|$)|ip_?addr")
_NOT_A_NAME_HINT = re.compile(r"(?i)user_?name|file|host|domain|company|product|app|track|genre")


@dataclass(frozen=True)
class Finding:
    """What a column was found to be, and why."""

    identity: IdentityKind | None = None
    personal: PersonalKind | None = None
    secret: bool = False
    free_text: bool = False
    evidence: str = ""


def tokens(name: str) -> list[str]:
    """A column name's words: `billingEmail` and `billing_email` give billing, email."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name)
    return [t.lower() for t in re.split(r"[^A-Za-z0-9]+", spaced) if t]


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.0f}%" if whole else "0%"


def _share(values: Sequence[str], test: Callable[[str], bool]) -> int:
    return sum(1 for v in values if test(v))


def is_email(value: str) -> bool:
    return bool(_EMAIL.match(value.strip()))


def is_phone(value: str) -> bool:
    """A phone number in some common region (the `phonenumbers` package decides)."""
    import phonenumbers

    text = value.strip()
    if not _PHONE_SHAPE.match(text) or _DATE_SHAPE.match(text) or is_ip(text):
        return False
    if sum(c.isdigit() for c in text) < 7:
        return False
    for region in (None,) if text.startswith("+") else _REGIONS:
        try:
            number = phonenumbers.parse(text, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_possible_number(number):
            return True
    return False


def is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value.strip())
    except ValueError:
        return False
    return True


def is_secret(value: str) -> bool:
    """A password hash, or a long high-entropy token (not a UUID, not a link)."""
    from dsar.text.secrets import MIN_ENTROPY, entropy

    text = value.strip()
    if _HASH.match(text):
        return True
    if "://" in text or _UUID.match(text) or not _TOKEN.match(text) or text.isdigit():
        return False
    return entropy(text) >= MIN_ENTROPY


def is_id_like(value: str) -> bool:
    return bool(_ID_LIKE.match(value.strip()))


def classify(table: TableProfile, column: ColumnProfile, text: TextEvidence) -> Finding | None:
    """What the sampled values of one column are, or None when nothing personal is seen."""
    name = column.name
    if column.kind in (ColumnType.DATE, ColumnType.TIMESTAMP):
        if _BIRTH_HINT.search(name):
            return Finding(
                personal=PersonalKind.DATE_OF_BIRTH,
                evidence=f"a {column.kind.value} column named {name}: a date of birth",
            )
        return None
    if column.kind is not ColumnType.STRING:
        return None
    values = [str(v) for v in table.values(name)]
    n = len(values)
    if not n:
        return None
    seen = f"of {n:,} sampled values"
    for test, threshold, finding, what in (
        (is_email, 0.9, Finding(identity=IdentityKind.EMAIL), "are emails"),
        (is_ip, 0.9, Finding(personal=PersonalKind.IP_ADDRESS), "are IP addresses"),
        (is_phone, 0.8, Finding(identity=IdentityKind.PHONE), "are phone numbers"),
    ):
        hits = _share(values, test)
        if hits >= threshold * n:
            return Finding(
                finding.identity, finding.personal, evidence=f"{_pct(hits, n)} {seen} {what}"
            )
    if _IP_HINT.search(name) and _share(values, is_ip) >= 0.5 * n:
        hits = _share(values, is_ip)
        return Finding(
            personal=PersonalKind.IP_ADDRESS,
            evidence=f"named {name}, and {_pct(hits, n)} {seen} are IP addresses",
        )
    secrets = _share(values, is_secret)
    if secrets >= 0.8 * n or (_SECRET_HINT.search(name) and secrets >= 0.5 * n):
        return Finding(
            secret=True,
            evidence=f"{_pct(secrets, n)} {seen} are password hashes or high-entropy tokens",
        )
    if (found := _device_or_subject(name, values, seen)) is not None:
        return found
    return _textual(name, values, text.of(name), seen)


def _device_or_subject(name: str, values: list[str], seen: str) -> Finding | None:
    words = set(tokens(name))
    ids = _share(values, is_id_like)
    if ids < 0.95 * len(values):
        return None
    kind = None
    if words & {"device", "devices", "idfa", "gaid"}:
        kind = IdentityKind.DEVICE_ID
    elif words & {"cookie", "cookies", "anonymous", "anon", "visitor"}:
        kind = IdentityKind.COOKIE_ID
    elif words & {"sub", "oauth", "openid", "subject"}:
        kind = IdentityKind.OAUTH_SUBJECT
    if kind is None:
        return None
    return Finding(
        identity=kind,
        evidence=f"named {name}, and {_pct(ids, len(values))} {seen} are identifiers (no spaces)",
    )


@dataclass(frozen=True)
class TextFacts:
    """What the text engine and the name lexicon found in one column's distinct values."""

    checked: int = 0
    person: int = 0  # values that are a person's name (whole)
    mentions: int = 0  # values holding any personal data (a name, contact, number)
    places: int = 0  # values that are a known place name


class TextEvidence:
    """The text engine run once over the distinct sampled values of every text column."""

    def __init__(self, facts: dict[str, TextFacts]) -> None:
        self._facts = facts

    def of(self, column: str) -> TextFacts:
        return self._facts.get(column, TextFacts())

    @classmethod
    def gather(cls, tables: Sequence[TableProfile], text_engine: TextEngine) -> TextEvidence:
        """Run the text engine once over every string column's sampled values."""
        from dsar.text.lexicon import is_name_word, place_names

        places = place_names()
        facts: dict[str, TextFacts] = {}
        for table in tables:
            for col, prof in table.columns.items():
                if prof.kind is not ColumnType.STRING:
                    continue
                distinct = sorted({str(v).strip() for v in table.values(col)} - {""})
                texts = distinct[:TEXT_SAMPLE]
                if not texts or sum(map(is_email, texts)) > len(texts) // 2:
                    continue
                spans = text_engine.analyze(texts)
                person = sum(
                    1
                    for t, found in zip(texts, spans, strict=True)
                    if _whole_name(t, found) or _lexicon_name(t, is_name_word)
                )
                facts[f"{table.name}\x00{col}"] = TextFacts(
                    len(texts),
                    person,
                    sum(1 for found in spans if found),
                    sum(1 for t in texts if t in places),
                )
        return cls(facts)

    def table(self, table: str) -> TextEvidence:
        """The facts of one table's columns, by column name."""
        prefix = f"{table}\x00"
        return TextEvidence(
            {k.removeprefix(prefix): v for k, v in self._facts.items() if k.startswith(prefix)}
        )


def _whole_name(text: str, spans: Sequence[Any]) -> bool:
    covered = sum(int(s.end) - int(s.start) for s in spans if s.entity == "PERSON")
    return bool(covered >= 0.6 * len(text))


def _lexicon_name(text: str, is_name_word: Callable[[str], bool]) -> bool:
    words = text.replace("-", " ").split()
    return 0 < len(words) <= 4 and all(_WORD.match(w) and is_name_word(w) for w in words)


def _textual(name: str, values: list[str], facts: TextFacts, seen: str) -> Finding | None:
    """Names, addresses, places and free text, from the text engine's facts and the shape."""
    n, checked = len(values), facts.checked
    words = [v.split() for v in values]
    mean_words = sum(map(len, words)) / n
    alphabetic = sum(1 for w in words for t in w if _WORD.match(t)) / max(1, sum(map(len, words)))
    distinct = len(set(values))
    among = f"of {checked:,} distinct sampled values"
    if checked and not _NOT_A_NAME_HINT.search(name):
        hinted = bool(_NAME_HINT.search(name))
        if facts.person >= (0.6 if hinted else 0.8) * checked and mean_words <= 4:
            how = f"named {name}, and " if hinted else ""
            return Finding(
                personal=PersonalKind.NAME,
                evidence=f"{how}{_pct(facts.person, checked)} {among} are people's names"
                " (text engine and name lexicon)",
            )
    if _ADDRESS_HINT.search(name) and "email" not in name.lower():
        with_number = sum(1 for v in values if any(c.isdigit() for c in v) and len(v.split()) > 1)
        if with_number >= 0.5 * n:
            return Finding(
                personal=PersonalKind.ADDRESS,
                evidence=f"named {name}, and {_pct(with_number, n)} {seen} are words with a"
                " house number",
            )
    if _PLACE_HINT.search(name) and alphabetic >= 0.8:
        return Finding(
            personal=PersonalKind.LOCATION,
            evidence=f"named {name}; {_pct(facts.places, checked)} {among} are known place"
            " names, the rest words",
        )
    sentence_like = alphabetic >= 0.7
    mentions = facts.mentions >= max(1, 0.02 * checked)
    if sentence_like and (
        mean_words >= 4 or (mean_words >= 2.5 and distinct >= 10) or (mentions and mean_words >= 3)
    ):
        return Finding(
            free_text=True,
            evidence=f"{distinct:,} different texts {seen}, {mean_words:.1f} words on average;"
            f" the text engine finds personal data in {_pct(facts.mentions, checked)} {among}",
        )
    return None
