"""What a column's sampled values look like: emails, phones, IPs, secrets, names, places, text.

Each finding carries its evidence in words (counts, percentages and the column's name,
never a value). Patterns decide contacts and secrets; the text engine (`dsar.text`) and its
name lexicon decide names and free text, on at most `TEXT_SAMPLE` distinct values a column.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
import statistics
import unicodedata
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from dsar.catalog.models import ColumnType, IdentityKind, PersonalKind
from dsar.draft.profile import (
    ColumnProfile,
    TableProfile,
    is_placeholder,
    leaf_name,
    nested_keys,
    nested_leaves,
)

if TYPE_CHECKING:
    from dsar.text.engine import TextEngine

TEXT_SAMPLE = 200  # distinct values a column given to the text engine
TEXT_BATCH = 2000  # texts given to the text engine in one call (several columns at once)
LEAF = "\x1f"  # between a nested column's name and a field's path, in the text facts' keys

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^\W\d_]{2,}$")
_PHONE_SHAPE = re.compile(r"^\+?[\d\s().\-/]{7,24}$")
_DATE_SHAPE = re.compile(r"^\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|^\d{1,2}[-/.]\d{1,2}[-/.]\d{4}$")
_HASH = re.compile(
    r"^\$(?:2[abxy]?|argon2(?:id|i|d)|pbkdf2[-\w]*|scrypt|[156])\$"
    # Django's algorithm$...; Werkzeug's method:params$salt$hash
    r"|^(?:pbkdf2_sha(?:1|256|512)|argon2|bcrypt(?:_sha256)?|scrypt|sha1|md5|unsalted_md5"
    r"|crypt)\$\S{8,}$|^(?:pbkdf2:sha(?:1|256|512)|scrypt)(?::\d+)*\$\S{8,}$"
)
# an ISO 8601 date and time written as text: no token, whatever its entropy
_ISO_TIME = re.compile(
    r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?)?(?:Z|[+-]\d{2}:?\d{2})?$"
)
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_TOKEN = re.compile(r"^[A-Za-z0-9+/_\-.~=:]{20,}$")
_SNAKE_WORDS = re.compile(r"^_*[a-z]+(?:_[a-z]+)+(?:_\d{1,3})?$")  # a field's name
_ID_LIKE = re.compile(r"^[\w\-.:|]{1,64}$")
_WORD = re.compile(r"^[^\W\d_]+(?:['\u2019-][^\W\d_]+)*[.,!?;:]?$")
_IP_CHARS = re.compile(r"^[0-9A-Fa-f:.]+(%\S+)?$")  # all an IP address can hold
_IPS_CHARS = re.compile(r"^[0-9A-Fa-f:.\[\],; ]+$")  # and a list of them, with ports
_IP_PORT = re.compile(r"^\[([0-9A-Fa-f:.]+)\]:\d{1,5}$|^(\d{1,3}(?:\.\d{1,3}){3}):\d{1,5}$")
_LETTERS = re.compile(r"[^\W\d_]{2,}")  # two letters in a row: what any name has
_REGIONS = ("US", "GB", "DE", "FR", "NL", "BR", "IN")

_NAME_HINT = re.compile(r"(?i)(^|_|[a-z])(name|first|last|given|family|surname|fullname)")
_ADDRESS_HINT = re.compile(
    r"(?i)address|street|addr(?!ess)|postal|adres|direcci|indirizzo|anschrift|endere[cç]o"
    r"|domicil|(^|_)(strasse|straße|rue|calle|via)(_|$)"
)
_PLACE_HINT = re.compile(r"(?i)city|town|locality|place|village")
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
    # a kind seen but left unmarked for want of a person in the table (a location): marked
    # once the draft finds the table's person through a link
    maybe: PersonalKind | None = None
    # special category data (GDPR Art. 9: religion, health...) or gender, which the catalog
    # has no kind for: said, and confirmed first
    sensitive: str | None = None


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
_PHONE_WORDS = frozenset(
    {"phone", "phones", "telephone", "tel", "tell", "telefoon", "telefon", "telefono",
     "telefone", "telephono", "telefonnummer", "telefoonnummer", "mobile", "mobil", "mobiel",
     "mobiele", "movil", "cellulare", "cell", "cellphone", "mobilephone", "msisdn", "gsm",
     "handy", "fax", "whatsapp", "portable", "sms", "puhelin", "telefonszam", "tlf"}
)  # fmt: skip
INTEGER_PHONE_SHARE = 0.9  # of a phone-named integer column's values, valid with a +


def phone_named(name: str) -> bool:
    """A column named as a phone number, word by word (phone, telefoon, tel_nr, msisdn,
    mobile_number, billingPhone), not a word that merely holds the letters (hotel, cancel)."""
    words = tokens(_ascii(name))
    joined = "".join(words)
    return bool(
        set(words) & _PHONE_WORDS
        or joined.endswith(("phone", "telefoon", "telefon", "telefono", "msisdn"))
        or any(w.startswith(("telefon", "telefoon", "phone")) for w in words)
    )


def _integer_phones(name: str, values: Sequence[object]) -> Finding | None:
    """Phones written as whole numbers (a spreadsheet drops the `+`: 31612345678) in a column
    named as a phone: `INTEGER_PHONE_SHARE` of the values a valid number once a `+` is put
    before them (the `phonenumbers` package decides). The catalog must read them as text
    (`type: string`, as every phone column): the draft proposes it."""
    import phonenumbers

    numbers = [v for v in values if isinstance(v, int) and not isinstance(v, bool) and v > 0]
    if not numbers:
        return None

    def read(digits: str, test: Callable[[Any], bool]) -> bool:
        try:
            return bool(test(phonenumbers.parse(f"+{digits}", None)))
        except phonenumbers.NumberParseException:
            return False

    n = len(numbers)
    counts = Counter(str(v) for v in numbers)
    need = INTEGER_PHONE_SHARE * n
    possible = _share(counts, lambda d: read(d, phonenumbers.is_possible_number), need)
    if possible < need:
        return None
    valid = _share(counts, lambda d: read(d, phonenumbers.is_valid_number))
    if valid < 0.5 * n:  # a country code and a number's length, but few numbers in use
        return None
    return Finding(
        identity=IdentityKind.PHONE,
        evidence=f"named {name}, and {_pct(possible, n)} of {n:,} sampled whole-number values"
        f" are phone numbers once a + is put before them ({_pct(valid, n)} numbers in use;"
        f" written as numbers, the + lost): {INTEGER_PHONE_PROPOSAL}",
    )


INTEGER_PHONE_PROPOSAL = (
    "type: string proposed (a phone is text: a number drops its + and leading zeros); the"
    " values hold no +, so the engine keys them by their digits as written: a request finds"
    " them by the number written the same way (country code first, no +), or once the export"
    " writes them with +"
)


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


def _one_ip(text: str) -> bool:
    if ("." not in text and ":" not in text) or not _IP_CHARS.match(text):
        return False
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def is_ip(value: str) -> bool:
    """An IP address, an address with its port (`203.0.113.9:443`, `[2001:db8::1]:443`), or
    a list of them (`203.0.113.9, 10.0.1.2`, as X-Forwarded-For holds them)."""
    text = value.strip()
    if _one_ip(text):
        return True
    if not _IPS_CHARS.match(text):
        return False
    parts = [p for p in re.split(r"[,;\s]+", text) if p]
    if len(parts) == 1:
        port = _IP_PORT.match(text)
        return port is not None and _one_ip(port.group(1) or port.group(2))
    if not 0 < len(parts) <= 16:
        return False
    for part in parts:
        port = _IP_PORT.match(part)
        if not (_one_ip(part) or (port is not None and _one_ip(port.group(1) or port.group(2)))):
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
    if _ISO_TIME.match(text) or _SNAKE_WORDS.match(text):
        return False  # a time; a field's name (default_payment_method)
    return entropy(text) >= MIN_ENTROPY


def is_id_like(value: str) -> bool:
    return bool(_ID_LIKE.match(value.strip()))


def is_ssn(value: str) -> bool:
    """A US social security number, 123-45-6789: no area 000, 666 or 9xx, no group 00, no
    serial 0000."""
    text = value.strip()
    if not _SSN.match(text):
        return False
    area, group, serial = text.split("-")
    return area not in ("000", "666") and area[0] != "9" and group != "00" and serial != "0000"


_IBAN = re.compile(r"^[A-Z]{2}\d{2}[A-Z0-9]{11,30}$")


def is_iban(value: str) -> bool:
    """An IBAN whose check digits hold (ISO 13616, mod 97), spaces allowed."""
    text = "".join(value.split()).upper()
    if not _IBAN.match(text):
        return False
    moved = text[4:] + text[:4]
    return int("".join(str(int(c, 36)) for c in moved)) % 97 == 1


def _digits(value: str) -> str:
    return "".join(value.split()).replace("-", "")


def is_card(value: str) -> bool:
    """A payment card number: 13 to 19 digits (spaces or dashes between groups allowed) whose
    Luhn check digit holds, not one digit repeated."""
    text = _digits(value.strip())
    if not (13 <= len(text) <= 19 and text.isdigit()) or len(set(text)) == 1:
        return False
    total = 0
    for i, c in enumerate(reversed(text)):
        d = int(c) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def is_bsn(value: str) -> bool:
    """A Dutch citizen service number (BSN): 9 digits (8 where a leading zero was lost as a
    number) passing the 11-proof, not all zeros."""
    text = _digits(value.strip())
    if not (8 <= len(text) <= 9 and text.isdigit()):
        return False
    text = text.zfill(9)
    if set(text) == {"0"}:
        return False
    total = sum(int(c) * w for c, w in zip(text[:8], range(9, 1, -1), strict=True))
    return (total - int(text[8])) % 11 == 0


_NINO = re.compile(
    r"^(?!BG|GB|NK|KN|TN|NT|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]\s?\d{2}\s?\d{2}\s?\d{2}\s?[A-D]$"
)


def is_nino(value: str) -> bool:
    """A UK National Insurance number, `AB 12 34 56 C` (spaces optional)."""
    return bool(_NINO.match(value.strip().upper()))


_GOVERNMENT_ID_WORDS = frozenset(
    {"passport", "passports", "reisepass", "paspoort", "passeport", "pasaporte", "passaporto",
     "bsn", "burgerservicenummer", "sofinummer", "nino", "personnummer", "ausweis",
     "personalausweis", "dni", "nie", "nif", "cpf", "aadhaar", "pesel", "ssn"}
)  # fmt: skip
_ID_VALUE = re.compile(r"^(?=.*\d)[A-Za-z0-9][A-Za-z0-9 \-/.]{3,23}$")


def government_id_named(name: str) -> bool:
    """A column named as a passport or national id number (passport_no, reisepass, bsn,
    national_id, id_card_number...)."""
    words = tokens(_ascii(name))
    joined = "".join(words)
    return bool(
        set(words) & _GOVERNMENT_ID_WORDS
        or joined in _GOVERNMENT_ID_WORDS
        or "passport" in joined
        or {"national", "id"} <= set(words)
        or {"id", "card"} <= set(words)
        or "idcard" in joined
    )


_SPECIAL_WORDS: tuple[tuple[str, frozenset[str]], ...] = (
    ("religion or belief", frozenset({"religion", "religious", "faith", "denomination",
     "konfession", "religionszugehorigkeit", "godsdienst", "belief", "beliefs"})),
    ("health", frozenset({"health", "diagnosis", "diagnoses", "medical", "disability",
     "disabilities", "allergy", "allergies", "medication", "medications", "illness",
     "condition", "pregnant", "pregnancy", "gezondheid", "gesundheit", "sante"})),
    ("racial or ethnic origin", frozenset({"ethnicity", "ethnic", "race", "ethnie"})),
    ("sex life or sexual orientation", frozenset({"orientation", "sexuality"})),
    ("political opinions", frozenset({"political", "politics", "party_affiliation"})),
    ("trade union membership", frozenset({"union", "trade_union"})),
    ("genetic or biometric data", frozenset({"genetic", "genome", "biometric", "fingerprint",
     "faceprint", "dna"})),
)  # fmt: skip
_GENDER_WORDS = frozenset({"gender", "sex", "geschlecht", "geslacht", "sexe", "sexo", "sesso"})
_GENDER_VALUES = frozenset(
    {"m", "f", "x", "d", "u", "male", "female", "man", "woman", "men", "women", "other",
     "diverse", "divers", "nonbinary", "non-binary", "non binary", "unknown", "männlich",
     "weiblich", "mannlich", "homme", "femme", "masculin", "feminin", "féminin", "hombre",
     "mujer", "masculino", "femenino", "maschio", "femmina", "vrouw", "mr", "mrs", "ms"}
)  # fmt: skip


def sensitive_named(name: str) -> str | None:
    """The special category of personal data (GDPR Art. 9) a column is named as, or gender
    (sensitive, though not Art. 9): religion, health, ethnicity..."""
    words = set(tokens(_ascii(name)))
    joined = "_".join(tokens(_ascii(name)))
    for what, vocabulary in _SPECIAL_WORDS:
        if words & vocabulary or any(v in joined for v in vocabulary if "_" in v):
            if what == "trade union membership" and "trade" not in words and "member" not in joined:
                continue  # "union" alone: a union of sets, a European Union
            if what == "sex life or sexual orientation" and "sexual" not in joined:
                continue
            return what
    if words & _GENDER_WORDS:
        return "gender"
    return None


def _sensitive(name: str, counts: Mapping[str, int], n: int, seen: str) -> Finding | None:
    what = sensitive_named(name)
    if what is None:
        return None
    if what == "gender":
        hits = _share(counts, lambda v: v.strip().casefold() in _GENDER_VALUES)
        if hits < 0.8 * n:
            return None
        return Finding(
            sensitive="gender",
            evidence=f"named {name}, and {_pct(hits, n)} {seen} are genders: sensitive"
            " (not GDPR Art. 9, but a person's own)",
        )
    return Finding(
        sensitive=f"special category: {what}",
        evidence=f"named {name}: {what}, a special category of personal data (GDPR Art. 9),"
        " which needs an Art. 9(2) condition besides a legal basis; the catalog has no kind"
        " for it: confirm, restrict who reads it, and mark the table personal",
    )


_LATLON = re.compile(
    r"^\(?\s*(-?\d{1,2}\.\d{3,})\s*[,; ]\s*(-?\d{1,3}\.\d{3,})\s*\)?$"
    r"|^POINT\s*\(\s*(-?\d{1,3}\.\d{3,})\s+(-?\d{1,2}\.\d{3,})\s*\)$",
    re.IGNORECASE,
)


def _geojson_point(text: str) -> bool:
    """A GeoJSON Point written as text, `{"type": "Point", "coordinates": [4.8952, 52.3702]}`."""
    import json

    try:
        point = json.loads(text)
    except ValueError:
        return False
    if not isinstance(point, dict) or point.get("type") != "Point":
        return False
    where = point.get("coordinates")
    if not isinstance(where, list) or len(where) < 2:
        return False
    lon, lat = where[0], where[1]
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in (lon, lat)):
        return False
    return bool(abs(lat) <= 90 and abs(lon) <= 180)


def is_lat_lon(value: str) -> bool:
    """A latitude and longitude pair (`52.3702, 4.8952`, WKT `POINT(lon lat)`, a GeoJSON
    Point as text), three decimals or more (a street's precision), each within its range."""
    text = value.strip()
    if text.startswith("{") and '"coordinates"' in text:
        return _geojson_point(text)
    m = _LATLON.match(text)
    if m is None:
        return False
    lat, lon = (m.group(1), m.group(2)) if m.group(1) else (m.group(4), m.group(3))
    return abs(float(lat)) <= 90 and abs(float(lon)) <= 180


_POSTCODE_WORDS = frozenset(
    {"postcode", "postalcode", "zip", "zipcode", "plz", "postleitzahl", "cp", "cap", "postnr",
     "postnummer", "eircode", "codepostal", "codigopostal", "codicepostale", "postcodes"}
)  # fmt: skip
_POSTCODE = re.compile(r"^(?=(?:\D*\d){2})[A-Za-z0-9][A-Za-z0-9 \-]{1,9}$")


def postcode_named(name: str) -> bool:
    """A column named as a postal code: postcode, zip, plz, code_postal..."""
    words = tokens(name)
    joined = "".join(words)
    return bool(
        set(words) & _POSTCODE_WORDS
        or any(joined.endswith(w) for w in ("postcode", "postalcode", "zipcode", "codepostal"))
        or joined in _POSTCODE_WORDS
    )


def is_postcode(value: str) -> bool:
    """A postal code's shape: 2 to 10 letters, digits, spaces or dashes, two digits or more
    (12345, 1234 AB, SW1A 1AA, 75001, 466-5342)."""
    return bool(_POSTCODE.match(value.strip()))


_PASSWORD_WORDS = frozenset(
    {"password", "passwd", "pwd", "pw", "pass", "passphrase", "wachtwoord", "wachtwoort",
     "passwort", "kennwort", "mdp", "motdepasse", "contrasena", "contraseña", "senha",
     "parola", "salasana", "losenord", "lösenord", "haslo", "hasło", "heslo", "jelszo",
     "jelszó", "sifre", "şifre", "пароль"}
)  # fmt: skip
_CREDENTIAL = re.compile(r"^\S{1,128}$")


def password_named(name: str) -> bool:
    """A column named as a password (password, passwd, pwd, wachtwoord, mot_de_passe...)."""
    words = tokens(_ascii(name)) or tokens(name)
    joined = "".join(words)
    return bool(
        set(words) & _PASSWORD_WORDS
        or joined in _PASSWORD_WORDS
        or any(joined.endswith(w) for w in ("password", "passwd", "motdepasse", "wachtwoord"))
    )


def secret_test(name: str) -> Callable[[str], bool]:
    """The secret test for a column named `name`: a hash or a high-entropy token; in a
    column named as a password, any single word too (a password in clear)."""
    if not password_named(name):
        return is_secret

    def test(value: str) -> bool:
        return is_secret(value) or bool(_CREDENTIAL.match(value.strip()))

    return test


_STREET_WORDS = frozenset(
    {"street", "st", "avenue", "ave", "av", "road", "rd", "lane", "ln", "drive", "dr",
     "boulevard", "blvd", "bd", "court", "ct", "square", "sq", "terrace", "crescent",
     "highway", "hwy", "suite", "apt", "flat", "unit", "parkway", "pkwy", "trace", "way",
     "rue", "allee", "allée", "chemin", "impasse", "quai", "route", "cours", "place",
     "straat", "laan", "weg", "plein", "gracht", "kade", "singel", "dreef", "steeg", "pad",
     "strasse", "straße", "str", "gasse", "platz", "ring", "via", "viale", "piazza",
     "corso", "vicolo", "calle", "avenida", "plaza", "paseo", "carrera", "rua",
     "travessa", "praça", "praca", "fazenda", "rodovia", "ulica", "ul", "utca"}
)  # fmt: skip
_STREET_SUFFIX = (
    "straat", "laan", "weg", "plein", "gracht", "kade", "singel", "dreef", "steeg", "pad",
    "strasse", "straße", "gasse", "platz", "allee", "gatan", "vägen", "vej", "gade",
)  # fmt: skip
_CJK_ADDRESS = re.compile(
    r"[都道府県].{0,12}[市区町村郡]|\d+丁目|\d+番地?|\d+号|[省市].{0,12}[区县路街]"
    r"|[区县].{0,12}[路街道]|[가-힣]+[시도]\s+[가-힣]+[시구군]"
)
_POSTAL_TOKEN = re.compile(
    r"\b\d{5}(?:-\d{3,4})?\b|\b\d{4}\s?[A-Z]{2}\b|\b[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2}\b"
    r"|\b\d{3}-\d{4}\b|\b\d{2}-\d{3}\b|\b\d{4}\b|\b\d{8}\b"
)


def is_address(value: str) -> bool:
    """A postal address in one of many locales: a house number with a street word (rue,
    Street, -straat, -allee, via...) or a postal code after a comma; or a Chinese, Japanese
    or Korean address (都道府県, 丁目, 号...)."""
    text = value.strip()
    if _CJK_ADDRESS.search(text):
        return True
    words = [w.strip(".,;:()/").casefold() for w in text.split()]
    words = [w for w in words if w]
    if not 3 <= len(words) <= 20 or not any(c.isdigit() for c in text):
        return False
    letters = [w for w in words if any(c.isalpha() for c in w)]
    if len(letters) < 2:
        return False
    street = any(
        w in _STREET_WORDS or (len(w) > 5 and w.endswith(_STREET_SUFFIX))
        for part in words
        for w in part.split("-")
    )
    return street or ("," in text and bool(_POSTAL_TOKEN.search(text)))


def _ascii(name: str) -> str:
    """A name folded to lower-case ASCII (accents dropped)."""
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


_BIRTH_NAME = re.compile(
    r"birth|(^|_)(dob|d_o_b|bday|b_day|born|born_on|born_at)(_|$)|geboorte|geburt|naissance"
    r"|nacimiento|nascit|nascimento|fodelse|syntyma|urodzenia|narozeni|rozhden"
)
_BIRTH_OTHER = re.compile(
    r"(birth|geboorte|geburts?|naissance|nacimiento|nascita|nascimento)_?(year|yr|month|mon|mth"
    r"|day|place|country|city|town|weight|name|order|rank|cert|sex|gender|nation|jaar|maand"
    r"|plaats|land|jahr|monat|ort|tag)|(year|month|day|place|country|city|town|lieu|anno"
    r"|ano|annee|mois|mes|mese)_?(of|de|di|du)?_?(birth|naissance|nacimiento|nascita)|(^|_)yob"
    r"|(^|_)born_in(_|$)"
)


def birth_named(name: str) -> bool:
    """A column named as a date of birth in one of several languages (dob, birth_date,
    geboortedatum, date_de_naissance, fecha_nacimiento...), not a year, month, day, place or
    weight of one."""
    folded = "_".join(tokens(_ascii(name)))
    return bool(_BIRTH_NAME.search(folded)) and not _BIRTH_OTHER.search(folded)


BIRTH_AGE = 14  # the youngest age a date of birth in most personal data has
BIRTH_SHARE = 0.9  # of the sampled dates, between 1900 and BIRTH_AGE years ago
BIRTH_SPREAD = 8.0  # years between the quartiles: people's births spread over decades
BIRTH_DATES = 20  # dates needed to judge a spread

_YMD = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$")
_DMY = re.compile(r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})$")


def as_date(value: object) -> dt.date | None:
    """A date from a date or timestamp, text as yyyy-mm-dd, dd-mm-yyyy (or mm/dd/yyyy where
    the day comes second), dd/mm/yyyy, dd.mm.yyyy, yyyymmdd, or a yyyymmdd integer."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        value = str(value)
    if not isinstance(value, str):
        return None
    text = value.strip()
    parts: tuple[int, int, int] | None = None
    if (m := _YMD.match(text)) is not None:
        parts = (int(m.group(1)), int(m.group(2)), int(m.group(3)))
    elif (m := _DMY.match(text)) is not None:
        day, month, year = int(m.group(1)), int(m.group(2)), int(m.group(3))
        parts = (year, month, day) if month <= 12 else (year, day, month)
    elif len(text) == 8 and text.isdigit():
        parts = (int(text[:4]), int(text[4:6]), int(text[6:]))
    if parts is None or not 1800 <= parts[0] <= 2200:
        return None
    try:
        return dt.date(*parts)
    except ValueError:
        return None


def _birth_cutoff() -> dt.date:
    today = dt.date.today()
    return dt.date(today.year - BIRTH_AGE, today.month, min(today.day, 28))


def _decades_back(table: TableProfile, name: str) -> bool:
    """Whether BIRTH_SHARE of a date or timestamp column's sampled values lie between 1900
    and BIRTH_AGE years ago, counted by Arrow."""
    import pyarrow as pa
    import pyarrow.compute as pc

    dates = pc.cast(pc.drop_null(table.sample.column(name)), pa.date32())
    if not len(dates):
        return False
    low = pa.scalar(dt.date(1900, 1, 1), pa.date32())
    high = pa.scalar(_birth_cutoff(), pa.date32())
    old = pc.sum(pc.and_(pc.greater_equal(dates, low), pc.less(dates, high))).as_py() or 0
    return bool(old >= BIRTH_SHARE * len(dates))


def _births(name: str, values: Sequence[object], what: str, *, named_only: bool) -> Finding | None:
    """Dates of birth: a date column named as one (`named_only`: whatever its values), or
    values nearly all dates between 1900 and BIRTH_AGE years ago whose name says birth or
    whose middle half spreads over BIRTH_SPREAD years (events cluster near today)."""
    named = birth_named(name)
    if named and named_only:
        return Finding(
            personal=PersonalKind.DATE_OF_BIRTH,
            evidence=f"a {what} column named {name}: a date of birth",
        )
    dates = [d for d in map(as_date, values) if d is not None]
    n = len(values)
    if not n or len(dates) < BIRTH_SHARE * n:
        return None
    cutoff = _birth_cutoff()
    old = sum(1 for d in dates if dt.date(1900, 1, 1) <= d < cutoff)
    if old < BIRTH_SHARE * len(dates):
        return None
    seen = f"{_pct(old, len(dates))} of {len(dates):,} sampled {what} values"
    if named:
        return Finding(
            personal=PersonalKind.DATE_OF_BIRTH,
            evidence=f"named {name}, and {seen} are dates between 1900 and {BIRTH_AGE} years"
            " ago: a date of birth",
        )
    if len(dates) < BIRTH_DATES:
        return None
    q1, _, q3 = statistics.quantiles([d.year + d.timetuple().tm_yday / 366 for d in dates], n=4)
    if q3 - q1 < BIRTH_SPREAD:
        return None
    return Finding(
        personal=PersonalKind.DATE_OF_BIRTH,
        evidence=f"{seen} are dates between 1900 and {BIRTH_AGE} years ago, their middle half"
        f" spread over {q3 - q1:.0f} years (events cluster near today): dates of birth by their"
        f" spread; its name ({name}) does not say so",
    )


def classify(table: TableProfile, column: ColumnProfile, text: TextEvidence) -> Finding | None:
    """What the sampled values of one column are, or None when nothing personal is seen.

    A finding may carry evidence and no role: a note (a nested value read and found
    holding nothing personal; coordinates in a table with no person)."""
    name = column.name
    if column.kind is None:
        return _nested(table, column, text)
    if column.kind in (ColumnType.DATE, ColumnType.TIMESTAMP):
        if not birth_named(name) and not _decades_back(table, name):
            return None  # recent dates (the common case), read without Python objects
        return _births(name, table.values(name), column.kind.value, named_only=True)
    if column.kind is ColumnType.INTEGER:
        low, high = column.low, column.high
        if phone_named(name) and high is not None and high >= 1_000_000:
            phones = _integer_phones(name, table.values(name))
            if phones is not None:
                return phones
        if high is not None and high >= 10_000_000:  # 8 digits or more: a card, a BSN?
            digits = [str(v) for v in table.values(name) if isinstance(v, int) and v > 0]
            if digits:
                seen = f"of {len(digits):,} sampled whole-number values"
                counts = Counter(digits)
                for test, what, kind in (
                    (is_card, "are payment card numbers whose Luhn check digit holds",
                     PersonalKind.FINANCIAL_ACCOUNT),
                ):  # fmt: skip
                    hits = _share(counts, test, 0.9 * len(digits))
                    if hits >= 0.9 * len(digits):
                        return Finding(
                            personal=kind, evidence=f"{_pct(hits, len(digits))} {seen} {what}"
                        )
                numbered = _numbers_finding(name, counts, len(digits), seen)
                if numbered is not None:
                    return numbered
        if low is not None and high is not None and (high < 18000101 or low > 22001231):
            return None  # no yyyymmdd dates (the common case), read without the values
        numbers = table.values(name)
        dated = sum(1 for v in numbers if isinstance(v, int) and 18000101 <= v <= 22001231)
        if not numbers or dated < BIRTH_SHARE * len(numbers):
            return None  # no yyyymmdd dates
        return _births(name, numbers, "whole-number", named_only=False)
    if column.kind in (ColumnType.FLOAT, ColumnType.DECIMAL):
        return _coordinate(table, name, text)
    if column.kind is not ColumnType.STRING:
        return None
    values = [str(v) for v in table.values(name)]
    n = len(values)
    if not n:
        return None
    found = text.shaped(name)
    if found is _NOT_SHAPED:
        found = _by_shape(name, Counter(values), n)
    if found is None:
        found = _textual(name, values, text.of(name), f"of {n:,} sampled values")
    if found is None and (as_date(values[0]) or as_date(values[-1])):
        found = _births(name, values, "text", named_only=False)
    keyed = None
    if found is None or not (found.identity or found.personal or found.secret):
        keyed = _key_value(table, name, found)
    found = _with_secrets(name, values, keyed or found, keyed is not None)
    if (
        found is not None
        and found.personal is PersonalKind.LOCATION
        and not _people_in(table, text)
    ):
        return _unmarked_location(found)
    return found


_EMBEDDED = re.compile(r"[A-Za-z0-9+/_\-]{32,}")  # a token's run inside a longer value


def holds_secret(value: str) -> bool:
    """A secret by shape that one value alone marks (`_strong_secret`), whole or inside a
    longer value: a run of 32 token characters or more (a session token in a PHP-serialized
    or JSON blob, a key in a config line); links are left out (a URL's path is no secret)."""
    text = value.strip()
    if _strong_secret(text):
        return True
    if "://" in text or len(text) < 40:
        return False
    return any(_strong_secret(run) for run in _EMBEDDED.findall(text))


_HEX = frozenset("0123456789abcdefABCDEF")


def _strong_secret(text: str) -> bool:
    """A secret no one writes by chance, which one value alone marks: a password hash, or a
    token of 32 characters or more (`is_secret`) that is hex with letters and digits or
    mixes upper case, lower case and digits (a handle, `anna.smith1025.1025`, or a slug
    has the entropy but not the make-up)."""
    if _HASH.match(text):
        return True
    if len(text) < 32 or not is_secret(text):
        return False
    digits = any(c.isdigit() for c in text)
    letters = any(c.isalpha() for c in text)
    if set(text) <= _HEX:
        return digits and letters
    return digits and any(c.islower() for c in text) and any(c.isupper() for c in text)


def _with_secrets(
    name: str, values: list[str], found: Finding | None, mixed: bool = False
) -> Finding | None:
    """A column where any sampled value is or holds a secret is `secret`, whatever their
    share: one live token is enough to leak (a bundle hands a secret column out masked).
    An identity column is left as found (an email column is matched on, not masked), unless
    `mixed`: a key-value table's value column, matched on and masked both."""
    if found is not None and (found.secret or (found.identity is not None and not mixed)):
        return found
    counts = Counter(values)
    held = _share(counts, holds_secret)
    if not held:
        return found
    whole = _share(counts, lambda v: _strong_secret(v.strip()))
    n = len(values)
    said = (
        f"{_pct(held, n)} of {n:,} sampled values ({held:,}) are or hold a secret by shape"
        f" ({whole:,} whole, {held - whole:,} inside a longer value: a serialized or JSON"
        " blob), too few to call the column secrets, but one live token is enough: marked"
        " secret (masked in every bundle); confirm"
    )
    if found is None:
        return Finding(secret=True, evidence=said)
    if found.identity is not None:  # mixed: a secret column is never an identity
        said += "; so no identity (a secret column is never used to find a person)"
    return Finding(
        None if mixed else found.identity,
        found.personal,
        True,
        found.free_text,
        f"{found.evidence}; {said}",
        found.maybe,
        found.sensitive,
    )


_KEY_WORDS = frozenset(
    {"key", "attribute", "attr", "field", "property", "prop", "param", "parameter", "option",
     "setting", "variable", "var", "trait"}
)  # fmt: skip
_VALUE_WORDS = frozenset({"value", "val", "values", "content", "data"})
_KEY_SHAPE = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-.: ]{0,63}$")
KEY_VALUE_KEYS = 0.5  # of a key column's present values, distinct at most (keys repeat)
KEY_VALUE_IDS = 500  # distinct field ids of a key-value table's key column, at most


def key_column(table: TableProfile, name: str) -> str | None:
    """The key column of a key-value (entity-attribute-value) table whose value column is
    `name`: the table stores one field a row (WordPress's meta_key and meta_value, a CRM's
    property and value), `name` named as the value and another column as the key, whose
    values repeat: field names (90% or more shaped as one), or the whole-number ids of the
    fields (Magento's `attribute_id` beside `value`), at most `KEY_VALUE_IDS` of them."""
    if not set(tokens(name)) & _VALUE_WORDS:
        return None
    for col, prof in table.columns.items():
        if col == name or prof.kind not in (ColumnType.STRING, ColumnType.INTEGER):
            continue
        words = set(tokens(col))
        if not words & _KEY_WORDS or (prof.kind is ColumnType.INTEGER and "id" not in words):
            continue
        keys = [str(v) for v in table.values(col)]
        distinct = set(keys)
        if len(distinct) < 2 or len(distinct) > KEY_VALUE_KEYS * len(keys):
            continue
        if prof.kind is ColumnType.INTEGER:
            if len(distinct) <= KEY_VALUE_IDS:
                return col
        elif sum(1 for k in keys if _KEY_SHAPE.match(k)) >= 0.9 * len(keys):
            return col
    return None


def _key_name_finding(key: str, values: list[str], seen: str) -> Finding | None:
    """A field of a key-value table named as a person's name (first_name, billing_last_name,
    display_name) whose values are one to four words of letters: a name."""
    if not _NAME_HINT.search(key) or _NOT_A_NAME_HINT.search(key):
        return None
    worded = sum(
        1 for v in values if 0 < len(v.split()) <= 4 and all(_WORD.match(w) for w in v.split())
    )
    if worded < 0.8 * len(values):
        return None
    return Finding(
        personal=PersonalKind.NAME,
        evidence=f"named {key}, and {_pct(worded, len(values))} {seen} are words: a name",
    )


def _key_value(table: TableProfile, name: str, found: Finding | None) -> Finding | None:
    """A key-value table's value column read per key, each key's values as a column of its
    own (`billing_email`'s values are emails, `_customer_ip_address`'s IPs), the column
    marked personal by the most telling key: pooled, the emails are a fifth of the values,
    too few to mark it, and the table was reference data that no request searched."""
    key = key_column(table, name)
    if key is None:
        return None
    by_key: dict[str, list[str]] = {}
    for k, v in zip(
        table.sample.column(key).to_pylist(), table.sample.column(name).to_pylist(), strict=True
    ):
        if v is None or is_placeholder(v):
            continue
        if not isinstance(k, int) and (k is None or not _KEY_SHAPE.match(str(k))):
            continue
        by_key.setdefault(f"{key} {k}" if isinstance(k, int) else str(k), []).append(str(v))
    roles: list[tuple[str, Finding]] = []
    for k, values in sorted(by_key.items()):
        seen = f"of {len(values):,} sampled values"
        counts = Counter(values)
        got = _by_shape(k, counts, len(values)) or _key_name_finding(k, values, seen)
        if got is None and len(values) >= 2:
            got = _textual(k, values, TextFacts(), seen)
        if got is not None and _leaf_role(got) is not None:
            roles.append((k, got))
    if not roles:
        return None
    order = [r for r, _ in _NESTED_KINDS]
    roles.sort(key=lambda item: order.index(_leaf_role(item[1]) or "free_text"))
    personal = [(k, f) for k, f in roles if _leaf_role(f) != "secret"]
    if not personal:
        return None  # secrets only: `_with_secrets` marks them
    first, best = personal[0]
    kind = dict(_NESTED_KINDS)[_leaf_role(best) or "free_text"]
    keys = "; ".join(f"{k}: {f.evidence}" for k, f in roles)
    emails = [k for k, f in personal if f.identity is IdentityKind.EMAIL]
    how = (
        f"; identity email: a request by email finds the rows of {', '.join(emails)} (the"
        " other keys' rows of the same entity are reached only through its parent: confirm)"
        if emails
        else "; no identity: no key holds emails a request can match"
    )
    return Finding(
        identity=IdentityKind.EMAIL if emails else None,
        personal=kind,
        free_text=found.free_text if found is not None else False,
        evidence=f"a key-value table: {name} holds the field {key} names, read per key"
        f" ({len(by_key)} keys in {table.sample.num_rows:,} sampled rows); {keys}; marked"
        f" personal {kind.value} by {first}{how}",
    )


UNMARKED_LOCATION = "not marked: no person in the table"


def _unmarked_location(found: Finding) -> Finding:
    return Finding(
        evidence=f"{found.evidence}; {UNMARKED_LOCATION} (no contact, name or"
        " identifier), so a place of the business, not of a person: mark it personal: location"
        " if it is a person's",
        maybe=PersonalKind.LOCATION,
    )


_NESTED_KINDS: tuple[tuple[str, PersonalKind], ...] = (
    ("secret", PersonalKind.FINANCIAL_ACCOUNT),
    ("financial_account", PersonalKind.FINANCIAL_ACCOUNT),
    ("government_id", PersonalKind.GOVERNMENT_ID),
    ("email", PersonalKind.EMAIL),
    ("phone", PersonalKind.PHONE),
    ("name", PersonalKind.NAME),
    ("address", PersonalKind.ADDRESS),
    ("date_of_birth", PersonalKind.DATE_OF_BIRTH),
    ("ip_address", PersonalKind.IP_ADDRESS),
    ("location", PersonalKind.LOCATION),
    ("identifier", PersonalKind.USERNAME),
    ("username", PersonalKind.USERNAME),
    ("free_text", PersonalKind.NAME),
)
"""What a nested column is marked, by the first of its fields' findings in this order: the
kinds every bundle masks first (a secret inside cannot be marked `secret: true`)."""
_ID_FIELD = re.compile(r"(?i)(^|_)(id|uid|key|ref)$|[a-z]Id$|user|customer|account|member")


def _leaf_role(found: Finding) -> str | None:
    if found.secret:
        return "secret"
    if found.identity is IdentityKind.EMAIL:
        return "email"
    if found.identity is IdentityKind.PHONE:
        return "phone"
    if found.identity is not None:
        return "identifier"
    if found.personal is not None:
        return found.personal.value
    return "free_text" if found.free_text else None


def _nested(table: TableProfile, column: ColumnProfile, text: TextEvidence) -> Finding:
    """A nested column (struct, list, map) read field by field, each as a column of its own
    would be. The catalog marks the column as a whole: personal, by the most telling of its
    fields, never an identity (a value inside a nested column finds no one: the engines
    match identity columns on top-level values), nor `secret` or `free_text` (the engines
    mask and redact top-level text): masked as a bank account where a field holds secrets."""
    name = column.name
    values = table.values(name)
    leaves = nested_leaves(name, values)
    found: list[tuple[str, Finding]] = []
    unsure: list[str] = []
    for path, leaf in leaves.items():
        field = leaf_name(path)
        texts = [v for v in leaf if isinstance(v, str)]
        got: Finding | None
        if texts and len(texts) >= 0.5 * len(leaf):
            key = f"{name}{LEAF}{path}"
            got = text.shaped(key)
            if got is _NOT_SHAPED:
                got = _by_shape(field, Counter(texts), len(texts))
            seen = f"of {len(texts):,} sampled values"
            got = (
                got
                or _textual(field, texts, text.of(key), seen)
                or _births(field, texts, "text", named_only=False)
            )
        elif any(isinstance(v, dt.date) for v in leaf):
            got = _births(field, leaf, "date", named_only=True)
        elif any(isinstance(v, float | Decimal) for v in leaf):
            got = _nested_coordinates(path, leaf, leaves)
        elif any(isinstance(v, int) and not isinstance(v, bool) for v in leaf):
            got = _births(field, leaf, "whole-number", named_only=False)
            if got is None and _ID_FIELD.search(field):
                unsure.append(path)  # a person's key, maybe: no shape tells
        else:
            got = None
        if got is not None and _leaf_role(got) is not None:
            found.append((path, got))
    keyed = _keys_finding(nested_keys(values))
    if keyed is not None:
        found.append((f"{name} (its keys)", keyed))
    shape = column.arrow_type.split("<", 1)[0]
    read = f"a nested value ({shape}): {len(leaves)} field(s) read in {len(values):,} sampled rows"
    if unsure:
        read += f"; {len(unsure)} of them whole numbers named as a key ({', '.join(unsure)})"
    if not found:
        return Finding(
            evidence=f"{read}, {len(leaves) - len(unsure)} of {len(leaves)} fields classified:"
            " none of a personal shape"
        )
    order = [r for r, _ in _NESTED_KINDS]
    found.sort(key=lambda item: order.index(_leaf_role(item[1]) or "free_text"))
    roles = {path: _leaf_role(f) for path, f in found}
    first, role = next(iter(roles.items()))
    kind = dict(_NESTED_KINDS)[role or "free_text"]
    fields = "; ".join(f"{path}: {f.evidence}" for path, f in found)
    note = (
        f"{read}, {len(leaves) - len(unsure)} of {len(leaves)} fields classified; {fields};"
        f" marked personal {kind.value} by {first}"
    )
    if role == "secret":
        note += (
            " (secrets inside: `secret: true` is not read on a nested value, and"
            " financial_account is the kind every bundle masks)"
        )
    if kind is PersonalKind.LOCATION and not _people_in(table, text):
        return _unmarked_location(Finding(evidence=note))
    if any(r in ("email", "phone", "identifier") for r in roles.values()):
        note += (
            "; not an identity: a value inside a nested column finds no one (the engines"
            " match identity columns on top-level values): give the table a top-level"
            " identity column or owned_through, or re-export the field as a column"
        )
    if "free_text" in roles.values():
        note += "; free text inside cannot be redacted (`free_text` is read on top-level text)"
    return Finding(personal=kind, evidence=note)


KEY_IDS = 5  # distinct keys, all identifiers, before a map's keys read as people's ids
_ID_KEY = re.compile(r"^\d{1,20}$")


def _keys_finding(keys: list[str]) -> Finding | None:
    """What a nested value's keys are (a JSON object's, a map's): a map keyed by people holds
    them there, `{"alice@example.com": 3}` or user ids, which its values never show. Contacts,
    IPs and the other shapes as a column's values would be; keys that are whole numbers or
    UUIDs, `KEY_IDS` distinct or more, as identifiers: a person's key, maybe."""
    if not keys:
        return None
    n = len(keys)
    seen = f"of {n:,} sampled keys"
    counts = Counter(keys)
    found = _by_shape("keys", counts, n)
    if found is not None and _leaf_role(found) is not None:
        return Finding(
            found.identity,
            found.personal,
            found.secret,
            evidence="its keys: " + found.evidence.replace("sampled values", "sampled keys"),
        )
    ids = _share(counts, lambda k: bool(_ID_KEY.match(k) or _UUID.match(k)), 0.9 * n)
    if ids >= 0.9 * n and len(counts) >= KEY_IDS:
        return Finding(
            identity=IdentityKind.USER_ID,
            evidence=f"its keys: {_pct(ids, n)} {seen} ({len(counts):,} distinct) are"
            " identifiers (whole numbers or UUIDs), a person's key maybe (a map keyed by"
            " user id): confirm whose",
        )
    return None


_LATITUDE = frozenset({"lat", "latitude", "breitengrad", "breedtegraad"})
_LONGITUDE = frozenset({"lon", "lng", "long", "longitude", "laengengrad", "lengtegraad"})


def _coordinate(table: TableProfile, name: str, text: TextEvidence) -> Finding | None:
    """A latitude or longitude column beside the other, values within range: a location."""
    words = set(tokens(name))
    mine, other = (
        (_LATITUDE, _LONGITUDE)
        if words & _LATITUDE
        else (_LONGITUDE, _LATITUDE)
        if words & _LONGITUDE
        else (None, None)
    )
    if mine is None or other is None:
        return None
    pair = next(
        (
            c
            for c, p in table.columns.items()
            if c != name
            and p.kind in (ColumnType.FLOAT, ColumnType.DECIMAL)
            and set(tokens(c)) & other
        ),
        None,
    )
    values = [float(v) for v in table.values(name) if isinstance(v, int | float | Decimal)]
    bound = 90 if mine is _LATITUDE else 180
    within = sum(1 for v in values if abs(v) <= bound)
    if pair is None or not values or within < 0.99 * len(values):
        return None
    found = Finding(
        personal=PersonalKind.LOCATION,
        evidence=f"named {name}, beside {pair}: {_pct(within, len(values))} of"
        f" {len(values):,} sampled values are {'latitudes' if bound == 90 else 'longitudes'}"
        " (with the other, a location)",
    )
    return found if _people_in(table, text) else _unmarked_location(found)


def _nested_coordinates(
    path: str, leaf: list[object], leaves: Mapping[str, list[object]]
) -> Finding | None:
    """Coordinates inside a nested value: a GeoJSON geometry's `coordinates` (a Point's
    `[lon, lat]`), or a latitude field beside a longitude one (`{"lat": .., "lng": ..}`),
    each within range and written to three decimals or more (a street's precision)."""
    numbers = [float(v) for v in leaf if isinstance(v, int | float | Decimal)]
    if not numbers:
        return None
    fine = sum(1 for v in numbers if abs(v) <= 180 and abs(v - round(v, 2)) > 1e-9)
    if fine < 0.8 * len(numbers):
        return None
    field = leaf_name(path)
    words = set(tokens(field))
    parent = path[: -len(field)] if path.endswith(field) else path
    if field.lower() == "coordinates":
        what = "GeoJSON coordinates"
    elif words & _LATITUDE and any(
        p.startswith(parent) and set(tokens(leaf_name(p))) & _LONGITUDE for p in leaves
    ):
        what = "latitudes, beside a longitude"
    elif words & _LONGITUDE and any(
        p.startswith(parent) and set(tokens(leaf_name(p))) & _LATITUDE for p in leaves
    ):
        what = "longitudes, beside a latitude"
    else:
        return None
    return Finding(
        personal=PersonalKind.LOCATION,
        evidence=f"{_pct(fine, len(numbers))} of {len(numbers):,} sampled values are {what}"
        " to three decimals or more (a precise location)",
    )


_PEOPLE_IDENTITY = (IdentityKind.EMAIL, IdentityKind.PHONE)
_PEOPLE_PERSONAL = (
    PersonalKind.GOVERNMENT_ID,
    PersonalKind.FINANCIAL_ACCOUNT,
    PersonalKind.NAME,
    PersonalKind.DATE_OF_BIRTH,
)


def _people_in(table: TableProfile, text: TextEvidence) -> bool:
    """Whether the table holds people: a column of contacts (emails, phones), names,
    government ids, bank accounts or dates of birth."""
    for col, prof in table.columns.items():
        if prof.kind in (ColumnType.DATE, ColumnType.TIMESTAMP):
            if birth_named(col):
                return True
            continue
        if prof.kind is not ColumnType.STRING:
            continue
        found = text.shaped(col)
        if found is _NOT_SHAPED:
            values = [str(v) for v in table.values(col)]
            found = _by_shape(col, Counter(values), len(values)) if values else None
        if found is not None and (
            found.identity in _PEOPLE_IDENTITY or found.personal in _PEOPLE_PERSONAL
        ):
            return True
        if _names(col, text.of(col)):
            return True
    return False


class _NotShaped(Finding):
    """`TextEvidence.shaped` of a column it did not look at."""


_NOT_SHAPED = _NotShaped()


_SHAPES: tuple[tuple[Callable[[str], bool], float, Finding, str], ...] = (
    (is_email, 0.9, Finding(identity=IdentityKind.EMAIL), "are emails"),
    (is_ip, 0.9, Finding(personal=PersonalKind.IP_ADDRESS), "are IP addresses"),
    (
        is_ssn,
        0.9,
        Finding(personal=PersonalKind.GOVERNMENT_ID),
        "are US social security numbers (a government id, not a phone)",
    ),
    (
        is_iban,
        0.9,
        Finding(personal=PersonalKind.FINANCIAL_ACCOUNT),
        "are IBANs whose check digits hold (bank accounts)",
    ),
    (
        is_card,
        0.9,
        Finding(personal=PersonalKind.FINANCIAL_ACCOUNT),
        "are payment card numbers whose Luhn check digit holds",
    ),
    (
        is_nino,
        0.9,
        Finding(personal=PersonalKind.GOVERNMENT_ID),
        "are UK National Insurance numbers (a government id)",
    ),
    (
        is_lat_lon,
        0.9,
        Finding(personal=PersonalKind.LOCATION),
        "are latitude and longitude pairs (a location)",
    ),
)
"""Shapes tested before phones, each with the share of values that decides it."""


def _by_shape(name: str, counts: Mapping[str, int], n: int) -> Finding | None:
    """Emails, IP addresses, government ids, bank accounts, coordinates, postal codes,
    phones, secrets (a password in clear too), device ids and subjects, by the values'
    shapes (each distinct value tested once); None: left to the text engine's facts."""
    seen = f"of {n:,} sampled values"
    words = tokens(name)
    mail_ids = _message_ids(name, counts, n, seen)
    if mail_ids is not None:
        return mail_ids
    ips = 0
    for test, threshold, finding, what in _SHAPES:
        if test is is_iban and "iban" in words:
            threshold = 0.5
        # the IP share is read whole when the name hints at IPs (0.5 is enough then)
        need = 0 if test is is_ip and _IP_HINT.search(name) else threshold * n
        hits = _share(counts, test, need)
        if test is is_ip:
            ips = hits
        if hits >= threshold * n:
            return Finding(
                finding.identity, finding.personal, evidence=f"{_pct(hits, n)} {seen} {what}"
            )
    numbered = _numbers_finding(name, counts, n, seen)
    if numbered is not None:
        return numbered
    sensitive = _sensitive(name, counts, n, seen)
    if sensitive is not None:
        return sensitive
    if postcode_named(name):
        codes = _share(counts, is_postcode, 0.8 * n)
        if codes >= 0.8 * n:
            return Finding(
                personal=PersonalKind.LOCATION,
                evidence=f"named {name}, and {_pct(codes, n)} {seen} have a postal code's"
                " shape (a location)",
            )
    else:
        phones = _share(counts, phone_test(name), 0.8 * n)
        if phones >= 0.8 * n:
            return Finding(
                identity=IdentityKind.PHONE, evidence=f"{_pct(phones, n)} {seen} are phone numbers"
            )
    if _IP_HINT.search(name) and ips >= 0.5 * n:
        return Finding(
            personal=PersonalKind.IP_ADDRESS,
            evidence=f"named {name}, and {_pct(ips, n)} {seen} are IP addresses",
        )
    password = password_named(name)
    need = 0 if password else (0.5 if _SECRET_HINT.search(name) else 0.8) * n
    secrets = _share(counts, is_secret, need)
    if secrets >= 0.8 * n or (_SECRET_HINT.search(name) and secrets >= 0.5 * n):
        return Finding(
            secret=True,
            evidence=f"{_pct(secrets, n)} {seen} are password hashes or high-entropy tokens",
        )
    if password:
        single = _share(counts, secret_test(name), 0.8 * n)
        if single >= 0.8 * n:
            return Finding(
                secret=True,
                evidence=f"named {name}, and {_pct(single, n)} {seen} are single words (no"
                f" spaces), {_pct(secrets, n)} hashes or tokens: passwords, in clear where not"
                " hashed (a credential in clear is the worst case)",
            )
    return _device_or_subject(name, counts, n, seen)


_MESSAGE_ID = re.compile(r"^<[^<>@\s]+@[^<>@\s]+>$")


def message_id_named(name: str) -> bool:
    """A column named as a mail's Message-ID (message_id, msgid, In-Reply-To, References)."""
    words = tokens(name)
    joined = "".join(words)
    return joined in ("messageid", "msgid", "mailid", "inreplyto", "internetmessageid") or (
        joined.endswith(("messageid", "msgid"))
    )


def _message_ids(name: str, counts: Mapping[str, int], n: int, seen: str) -> Finding | None:
    """Message-IDs (`<id@host>`, as the mail header writes them, or bare in a column named
    as one): shaped as addresses, but a mail's id, never a person's; no role."""
    bracketed = _share(counts, lambda v: bool(_MESSAGE_ID.match(v.strip())))
    if bracketed < 0.5 * n and not message_id_named(name):
        return None
    shaped = _share(
        counts, lambda v: bool(_MESSAGE_ID.match(v.strip())) or is_email(v.strip("<> "))
    )
    if shaped < 0.8 * n:
        return None
    return Finding(
        evidence=f"{_pct(shaped, n)} {seen} are Message-IDs (id@host, the mail header's form"
        f"{f', named {name}' if message_id_named(name) else ''}): a mail's id, not a person's"
        " address, so no identity"
    )


def _numbers_finding(name: str, counts: Mapping[str, int], n: int, seen: str) -> Finding | None:
    """Government ids and card numbers by their check digits or their column's name: Dutch
    BSNs (11-proof, 9 in 10 values, or named bsn), passport and national id numbers (named
    so, values of letters and digits)."""
    named = government_id_named(name)
    bsn = _share(counts, is_bsn, (0.8 if named else 0.9) * n)
    if bsn >= 0.9 * n or (named and bsn >= 0.8 * n):
        return Finding(
            personal=PersonalKind.GOVERNMENT_ID,
            evidence=f"{_pct(bsn, n)} {seen} are Dutch citizen service numbers (BSN, the"
            " 11-proof holds): a government id",
        )
    if named:
        ids = _share(counts, lambda v: bool(_ID_VALUE.match(v.strip())), 0.8 * n)
        if ids >= 0.8 * n:
            return Finding(
                personal=PersonalKind.GOVERNMENT_ID,
                evidence=f"named {name}, and {_pct(ids, n)} {seen} are letters and digits:"
                " a passport or national id number (a government id)",
            )
    return None


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
    known: int = 0  # of the `person` values, those with a word the name lexicon knows
    inside: int = 0  # values with personal data inside a longer text (not the whole value)


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
        """Read one table's string columns, and the text fields of its nested columns, by
        shape; keep those the engine must read."""
        for col, prof in table.columns.items():
            if prof.kind is None:  # nested: each field of text is read as a column
                for path, leaf in nested_leaves(col, table.values(col)).items():
                    texts = [v for v in leaf if isinstance(v, str)]
                    if texts and len(texts) >= 0.5 * len(leaf):
                        self._add(f"{table.name}\x00{col}{LEAF}{path}", leaf_name(path), texts)
                continue
            if prof.kind is ColumnType.STRING:
                self._add(f"{table.name}\x00{col}", col, [str(v) for v in table.values(col)])

    def _add(self, key: str, col: str, values: list[str]) -> None:
        from dsar.text.lexicon import is_name_word

        if not values:
            return
        self._shaped[key] = _by_shape(col, Counter(values), len(values))
        if self._shaped[key] is not None:
            return  # decided by shape: the text facts are not read
        distinct = sorted({v.strip() for v in values} - {""})
        texts = distinct[:TEXT_SAMPLE]
        if not texts or sum(map(is_email, texts)) > len(texts) // 2:
            return
        lexical = [_lexicon_name(t, is_name_word) for t in texts]
        if _needs_engine(col, values, texts, lexical):
            self._pending.append((key, texts))
            return
        person = sum(lexical)
        self._facts[key] = TextFacts(
            len(texts), person, 0, sum(1 for t in texts if t in self._places), person
        )

    def read(self, text_engine: TextEngine) -> None:
        """Run the text engine over the columns left for it so far."""
        from dsar.text.lexicon import is_name_word

        pending, self._pending = self._pending, []
        for key, texts, spans in _analyzed(pending, text_engine):
            person = known = inside = 0
            for t, found in zip(texts, spans, strict=True):
                lexical = _lexicon_name(t, is_name_word)
                if lexical or _whole_name(t, found):
                    person += 1
                    known += lexical or any(
                        is_name_word(w) for w in t.replace("-", " ").split() if _WORD.match(w)
                    )
                elif found and _inside(t, found):
                    inside += 1
            self._facts[key] = TextFacts(
                len(texts),
                person,
                sum(1 for found in spans if found),
                sum(1 for t in texts if t in self._places),
                known,
                inside,
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


def _inside(text: str, spans: Sequence[Any]) -> bool:
    """Personal data inside a longer text: a span that is not the whole value."""
    return any(int(s.end) - int(s.start) < 0.6 * len(text) for s in spans)


def _whole_name(text: str, spans: Sequence[Any]) -> bool:
    covered = sum(int(s.end) - int(s.start) for s in spans if s.entity == "PERSON")
    return bool(covered >= 0.6 * len(text))


def _lexicon_name(text: str, is_name_word: Callable[[str], bool]) -> bool:
    words = text.replace("-", " ").split()
    return 0 < len(words) <= 4 and all(_WORD.match(w) and is_name_word(w) for w in words)


_FREE_TEXT_HINT = re.compile(
    r"(?i)subject|message|(^|_)msg|comment|note|body|(^|_)text|remark|feedback|memo|reply"
    r"|review|chat|content|opmerking|bericht|commentaire|kommentar|nachricht|notiz"
)
_SENTENCE = re.compile(r"[.!?\u2026\u3002\uff01\uff1f]['\")\u201d\u2019]?$|[.!?]\s+\S")
_SENTENCE_WORDS = 8  # a value this long reads as a sentence, punctuated or not
_KNOWN_NAMES = 0.5  # of the values read as names, those with a word the name lexicon knows


def _names(name: str, facts: TextFacts, mean_words: float = 0.0) -> bool:
    """Whether the facts say the column holds people's names: most values whole names (0.8,
    or 0.6 when named as names), short, and half of them or more with a word the name lexicon
    knows (a product title the engine reads as a name, "Synergistic Granite Chair", has none)."""
    checked = facts.checked
    if not checked or _NOT_A_NAME_HINT.search(name) or mean_words > 4:
        return False
    need = 0.6 if _NAME_HINT.search(name) else 0.8
    return facts.person >= need * checked and facts.known >= _KNOWN_NAMES * facts.person


def _textual(name: str, values: list[str], facts: TextFacts, seen: str) -> Finding | None:
    """Names, addresses, places and free text, from the text engine's facts and the shape."""
    n, checked = len(values), facts.checked
    mean_words, alphabetic = _word_shape(values)
    distinct = len(set(values))
    among = f"of {checked:,} distinct sampled values"
    if _names(name, facts, mean_words):
        how = f"named {name}, and " if _NAME_HINT.search(name) else ""
        return Finding(
            personal=PersonalKind.NAME,
            evidence=f"{how}{_pct(facts.person, checked)} {among} are people's names"
            " (text engine and name lexicon)",
        )
    hinted = _ADDRESS_HINT.search(name) and "email" not in name.lower()
    if hinted:
        with_number = sum(
            1
            for v in values
            if (any(c.isdigit() for c in v) and len(v.split()) > 1) or is_address(v)
        )
        if with_number >= 0.5 * n:
            return Finding(
                personal=PersonalKind.ADDRESS,
                evidence=f"named {name}, and {_pct(with_number, n)} {seen} are words with a"
                " house number",
            )
    elif mean_words >= 2 and _share(Counter(values), is_address, 0.6 * n) >= 0.6 * n:
        addresses = _share(Counter(values), is_address)
        return Finding(
            personal=PersonalKind.ADDRESS,
            evidence=f"{_pct(addresses, n)} {seen} are postal addresses (a house number with"
            " a street, or a postal code after a comma, in one of several locales)",
        )
    if _PLACE_HINT.search(name) and alphabetic >= 0.8:
        return Finding(
            personal=PersonalKind.LOCATION,
            evidence=f"named {name}; {_pct(facts.places, checked)} {among} are known place"
            " names, the rest words",
        )
    sentences = sum(
        k
        for v, k in Counter(values).items()
        if _SENTENCE.search(v.strip()) or len(v.split()) >= _SENTENCE_WORDS
    )
    inside = facts.inside >= max(2, 0.05 * checked)
    named = bool(_FREE_TEXT_HINT.search(name)) and distinct >= 10
    if (
        alphabetic >= 0.7
        and mean_words >= 2.5
        and (sentences >= 0.3 * n or inside or named or mean_words >= _SENTENCE_WORDS)
    ):
        why = (
            f"{_pct(sentences, n)} of them sentences"
            if sentences >= 0.3 * n or mean_words >= _SENTENCE_WORDS
            else f"personal data inside {_pct(facts.inside, checked)} {among}"
            if inside
            else f"named {name}"
        )
        return Finding(
            free_text=True,
            evidence=f"{distinct:,} different texts {seen}, {mean_words:.1f} words on average,"
            f" {why}; the text engine finds personal data in {_pct(facts.mentions, checked)}"
            f" {among}",
        )
    return None
