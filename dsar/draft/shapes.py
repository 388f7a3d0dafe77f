"""What a column's sampled values look like: emails, phones, IPs, secrets, names, places, text.

Each finding carries its evidence in words (counts, percentages and the column's name,
never a value). Patterns decide contacts and secrets; the text engine (`dsar.text`) and its
name lexicon decide names and free text, on at most `TEXT_SAMPLE` distinct values a column.
"""

from __future__ import annotations

import ipaddress
import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dsar.catalog.models import ColumnType, IdentityKind, PersonalKind
from dsar.draft.profile import ColumnProfile, TableProfile

if TYPE_CHECKING:
    from dsar.text.engine import TextEngine

TEXT_SAMPLE = 200  # distinct values a column given to the text engine
TEXT_BATCH = 2000  # texts given to the text engine in one call (several columns at once)

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^\W\d_]{2,}$")
_PHONE_SHAPE = re.compile(r"^\+?[\d\s().\-/]{7,24}$")
_DATE_SHAPE = re.compile(r"^\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|^\d{1,2}[-/.]\d{1,2}[-/.]\d{4}$")
_HASH = re.compile(r"^\$(?:2[abxy]?|argon2(?:id|i|d)|pbkdf2[-\w]*|scrypt|[156])\$")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_TOKEN = re.compile(r"^[A-Za-z0-9+/_\-.~=:]{20,}$")
_ID_LIKE = re.compile(r"^[\w\-.:|]{1,64}$")
_WORD = re.compile(r"^[^\W\d_]+(?:['\u2019-][^\W\d_]+)*[.,!?;:]?$")
_IP_CHARS = re.compile(r"^[0-9A-Fa-f:.]+(%\S+)?$")  # all an IP address can hold
_LETTERS = re.compile(r"[^\W\d_]{2,}")  # two letters in a row: what any name has
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


def _share(counts: Mapping[str, int], test: Callable[[str], bool], need: float = 0) -> int:
    """How many sampled values pass `test`, each distinct value tested once; given `need`,
    the count stops (short of the true one) once the values left cannot reach it."""
    hits, left = 0, sum(counts.values())
    for value, k in counts.items():
        if test(value):
            hits += k
        left -= k
        if hits + left < need:
            return hits
    return hits


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


_PHONE_NAME = re.compile(r"(?i)phone|tel|mobile|cell|fax|msisdn|gsm|handy|whatsapp")
_SSN = re.compile(r"^\d{3}-\d{2}-\d{4}$")


def phone_test(name: str) -> Callable[[str], bool]:
    """The phone test for a column named `name`: exports write phones with a + or
    separators, so bare digit strings (user ids, account numbers) and US social security
    numbers (123-45-6789) are phones only in a column named as one (phone, tel, mobile)."""
    if _PHONE_NAME.search(name):
        return is_phone

    def test(value: str) -> bool:
        text = value.strip()
        return not text.isdigit() and not _SSN.match(text) and is_phone(text)

    return test


def is_ip(value: str) -> bool:
    text = value.strip()
    if not _IP_CHARS.match(text):
        return False
    try:
        ipaddress.ip_address(text)
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
    found = text.shaped(name)
    if found is _NOT_SHAPED:
        found = _by_shape(name, Counter(values), n)
    if found is not None:
        return found
    return _textual(name, values, text.of(name), seen)


class _NotShaped(Finding):
    """`TextEvidence.shaped` of a column it did not look at."""


_NOT_SHAPED = _NotShaped()


def _by_shape(name: str, counts: Mapping[str, int], n: int) -> Finding | None:
    """Emails, IP addresses, phones, secrets, device ids and subjects, by the values' shapes
    (each distinct value tested once); None: left to the text engine's facts."""
    seen = f"of {n:,} sampled values"
    hits: dict[str, int] = {}
    for test, threshold, finding, what in (
        (is_email, 0.9, Finding(identity=IdentityKind.EMAIL), "are emails"),
        (is_ip, 0.9, Finding(personal=PersonalKind.IP_ADDRESS), "are IP addresses"),
        (phone_test(name), 0.8, Finding(identity=IdentityKind.PHONE), "are phone numbers"),
    ):
        # the IP share is read whole when the name hints at IPs (0.5 is enough then)
        need = 0 if test is is_ip and _IP_HINT.search(name) else threshold * n
        hits[what] = _share(counts, test, need)
        if hits[what] >= threshold * n:
            return Finding(
                finding.identity,
                finding.personal,
                evidence=f"{_pct(hits[what], n)} {seen} {what}",
            )
    if _IP_HINT.search(name) and hits["are IP addresses"] >= 0.5 * n:
        return Finding(
            personal=PersonalKind.IP_ADDRESS,
            evidence=f"named {name}, and {_pct(hits['are IP addresses'], n)} {seen} are IP"
            " addresses",
        )
    secrets = _share(counts, is_secret, (0.5 if _SECRET_HINT.search(name) else 0.8) * n)
    if secrets >= 0.8 * n or (_SECRET_HINT.search(name) and secrets >= 0.5 * n):
        return Finding(
            secret=True,
            evidence=f"{_pct(secrets, n)} {seen} are password hashes or high-entropy tokens",
        )
    return _device_or_subject(name, counts, n, seen)


def _device_or_subject(name: str, counts: Mapping[str, int], n: int, seen: str) -> Finding | None:
    words = set(tokens(name))
    kind = None
    if words & {"device", "devices", "idfa", "gaid"}:
        kind = IdentityKind.DEVICE_ID
    elif words & {"cookie", "cookies", "anonymous", "anon", "visitor"}:
        kind = IdentityKind.COOKIE_ID
    elif words & {"sub", "oauth", "openid", "subject", "google", "auth0", "okta", "sso"}:
        kind = IdentityKind.OAUTH_SUBJECT
    if kind is None:
        return None
    ids = _share(counts, is_id_like, 0.95 * n)
    if ids < 0.95 * n:
        return None
    return Finding(
        identity=kind,
        evidence=f"named {name}, and {_pct(ids, n)} {seen} are identifiers (no spaces)",
    )


@dataclass(frozen=True)
class TextFacts:
    """What the text engine and the name lexicon found in one column's distinct values."""

    checked: int = 0
    person: int = 0  # values that are a person's name (whole)
    mentions: int = 0  # values holding any personal data (a name, contact, number)
    places: int = 0  # values that are a known place name


class TextEvidence:
    """The text engine run once over the distinct sampled values of the text columns whose
    verdict its facts can change, several columns a call; and each text column's finding by
    its values' shapes, found on the way (a column decided by shape needs no text engine)."""

    def __init__(
        self, facts: dict[str, TextFacts], shaped: dict[str, Finding | None] | None = None
    ) -> None:
        self._facts = facts
        self._shaped = shaped or {}

    def of(self, column: str) -> TextFacts:
        return self._facts.get(column, TextFacts())

    def shaped(self, column: str) -> Finding | None:
        """The column's finding by shape (None: none), `_NOT_SHAPED` if not looked at."""
        return self._shaped.get(column, _NOT_SHAPED)

    @classmethod
    def gather(cls, tables: Sequence[TableProfile], text_engine: TextEngine) -> TextEvidence:
        """Run the text engine over the string columns' sampled values it can tell about:
        not those decided by shape, nor those whose facts cannot change the verdict (no
        name possible, no free text possible); several columns to a call."""
        return TextReading(tables).evidence(text_engine)

    def table(self, table: str) -> TextEvidence:
        """The facts of one table's columns, by column name."""
        prefix = f"{table}\x00"
        return TextEvidence(
            {k.removeprefix(prefix): v for k, v in self._facts.items() if k.startswith(prefix)},
            {k.removeprefix(prefix): v for k, v in self._shaped.items() if k.startswith(prefix)},
        )


class TextReading:
    """`TextEvidence.gather` a table at a time: every string column's finding by shape,
    the facts of the columns the engine cannot change, and the columns left for it (`read`
    runs it on those so far, `evidence` on the rest), so that the tables can be read
    meanwhile."""

    def __init__(self, tables: Sequence[TableProfile] = ()) -> None:
        from dsar.text.lexicon import place_names

        self._places = place_names()
        self._facts: dict[str, TextFacts] = {}
        self._shaped: dict[str, Finding | None] = {}
        self._pending: list[tuple[str, list[str]]] = []
        for table in tables:
            self.add(table)

    def add(self, table: TableProfile) -> None:
        """Read one table's string columns by shape; keep those the engine must read."""
        from dsar.text.lexicon import is_name_word

        for col, prof in table.columns.items():
            if prof.kind is not ColumnType.STRING:
                continue
            key = f"{table.name}\x00{col}"
            values = [str(v) for v in table.values(col)]
            if not values:
                continue
            self._shaped[key] = _by_shape(col, Counter(values), len(values))
            if self._shaped[key] is not None:
                continue  # decided by shape: the text facts are not read
            distinct = sorted({v.strip() for v in values} - {""})
            texts = distinct[:TEXT_SAMPLE]
            if not texts or sum(map(is_email, texts)) > len(texts) // 2:
                continue
            lexical = [_lexicon_name(t, is_name_word) for t in texts]
            if _needs_engine(col, values, texts, lexical):
                self._pending.append((key, texts))
                continue
            self._facts[key] = TextFacts(
                len(texts), sum(lexical), 0, sum(1 for t in texts if t in self._places)
            )

    def read(self, text_engine: TextEngine) -> None:
        """Run the text engine over the columns left for it so far."""
        from dsar.text.lexicon import is_name_word

        pending, self._pending = self._pending, []
        for key, texts, spans in _analyzed(pending, text_engine):
            person = sum(
                1
                for t, found in zip(texts, spans, strict=True)
                if _whole_name(t, found) or _lexicon_name(t, is_name_word)
            )
            self._facts[key] = TextFacts(
                len(texts),
                person,
                sum(1 for found in spans if found),
                sum(1 for t in texts if t in self._places),
            )

    def shaped(self, table: str, column: str) -> Finding | None:
        """A column's finding by shape (None: none, or not a text column)."""
        found = self._shaped.get(f"{table}\x00{column}")
        return None if found is _NOT_SHAPED else found

    def evidence(self, text_engine: TextEngine) -> TextEvidence:
        """The facts of every column read, the text engine run over those left for it."""
        self.read(text_engine)
        return TextEvidence(dict(self._facts), dict(self._shaped))


def _needs_engine(name: str, values: list[str], texts: list[str], lexical: list[bool]) -> bool:
    """Whether the text engine's facts can change `_textual`'s verdict or its evidence: a
    name is possible (short values, enough of them lexicon names or with letters to name
    someone), or free text is (sentence-like values of 2.5 words or more)."""
    mean_words, alphabetic = _word_shape(values)
    if alphabetic >= 0.7 and mean_words >= 2.5:
        return True  # free text possible: its evidence counts what the engine finds
    if _NOT_A_NAME_HINT.search(name) or mean_words > 4:
        return False
    need = (0.6 if _NAME_HINT.search(name) else 0.8) * len(texts)
    possible = sum(1 for t, lex in zip(texts, lexical, strict=True) if lex or _LETTERS.search(t))
    return possible >= need


def _analyzed(
    pending: list[tuple[str, list[str]]], text_engine: TextEngine
) -> list[tuple[str, list[str], list[list[Any]]]]:
    """The text engine's spans for each pending column, `TEXT_BATCH` texts a call."""
    out: list[tuple[str, list[str], list[list[Any]]]] = []
    i = 0
    while i < len(pending):
        group = [pending[i]]
        size = len(pending[i][1])
        i += 1
        while i < len(pending) and size + len(pending[i][1]) <= TEXT_BATCH:
            group.append(pending[i])
            size += len(pending[i][1])
            i += 1
        spans = text_engine.analyze([t for _, texts in group for t in texts])
        at = 0
        for key, texts in group:
            out.append((key, texts, spans[at : at + len(texts)]))
            at += len(texts)
    return out


def _word_shape(values: list[str]) -> tuple[float, float]:
    """Mean words per value, and the share of words that are words of letters."""
    words = [v.split() for v in values]
    count = sum(map(len, words))
    alphabetic = sum(1 for w in words for t in w if _WORD.match(t)) / max(1, count)
    return count / len(values), alphabetic


def _whole_name(text: str, spans: Sequence[Any]) -> bool:
    covered = sum(int(s.end) - int(s.start) for s in spans if s.entity == "PERSON")
    return bool(covered >= 0.6 * len(text))


def _lexicon_name(text: str, is_name_word: Callable[[str], bool]) -> bool:
    words = text.replace("-", " ").split()
    return 0 < len(words) <= 4 and all(_WORD.match(w) and is_name_word(w) for w in words)


def _textual(name: str, values: list[str], facts: TextFacts, seen: str) -> Finding | None:
    """Names, addresses, places and free text, from the text engine's facts and the shape."""
    n, checked = len(values), facts.checked
    mean_words, alphabetic = _word_shape(values)
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
