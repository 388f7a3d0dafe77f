"""Names, postcodes and countries beside the email or phone, where a platform matches on them.

Only Google Customer Match and Meta take these fields in a customer list; the other platforms
are sent the email or phone alone. Each rule is the platform's own, quoted where it is
written; a value that does not normalise (a country that is not an ISO 3166 code) is left
empty and counted, never guessed.

- Google Customer Match (https://support.google.com/google-ads/answer/7475964, the template
  at https://g.co/wudy8r, and the Google Ads API's OfflineUserAddressInfo): headers
  "First Name", "Last Name", "Country", "Zip"; "Lowercase all characters and remove all extra
  spaces before after or in between email addresses and names"; names hashed with SHA-256;
  the country ("2-letter country code in ISO-3166-1 alpha-2") and the postcode are sent in
  clear (the template's rows: `john,smith,us,94016` and `zoë,pérez,sg,WC2H 8LG`).
- Meta (https://developers.facebook.com/docs/marketing-api/conversions-api/parameters/
  customer-information-parameters, and Meta's own business SDK `normalize.py`): fn and ln
  "Lowercase only with no punctuation. If using special characters, the text must be encoded
  in UTF-8" (Valéry -> valéry, accents kept); zip lower-cased, spaces removed, the part
  before a '-' (94303-5300 -> 94303); country lower-cased ISO 3166-1 alpha-2; all hashed.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Literal

Field = Literal["first_name", "last_name", "postcode", "country"]
FIELDS: tuple[Field, ...] = ("first_name", "last_name", "postcode", "country")


@dataclass(frozen=True)
class FieldRule:
    """How one platform wants one field: its header, its normaliser, hashed or in clear."""

    header: str
    normalize: Callable[[str], str | None]
    hashed: bool


@cache
def _countries() -> frozenset[str]:
    """ISO 3166-1 alpha-2 codes, as the phone library knows them (plus the UK's 'uk')."""
    import phonenumbers

    return frozenset(r.lower() for r in phonenumbers.SUPPORTED_REGIONS if r != "001")


def country(value: str) -> str | None:
    """'IE', ' ie ', 'I.E.' -> 'ie'; anything that is not a known two-letter code -> None."""
    code = "".join(c for c in value.lower() if "a" <= c <= "z")
    return code if code in _countries() else None


def google_name(value: str) -> str | None:
    """Lower-cased, every space removed (inside too): 'Mary Ann ' -> 'maryann'."""
    name = "".join(unicodedata.normalize("NFC", value).lower().split())
    return name or None


def google_postcode(value: str) -> str | None:
    """Trimmed, otherwise as written (the template keeps 'WC2H 8LG')."""
    return value.strip() or None


def meta_name(value: str) -> str | None:
    """Lower-cased, punctuation removed, accents kept: "O'Brien-Smith" -> 'obriensmith'."""
    text = unicodedata.normalize("NFC", value).strip().lower()
    name = "".join(c for c in text if not unicodedata.category(c).startswith("P"))
    return name.strip() or None


def meta_postcode(value: str) -> str | None:
    """Lower-cased, spaces removed, the part before a dash: 'SW1A 1AA' -> 'sw1a1aa'."""
    code = "".join(value.lower().split()).split("-")[0]
    return code or None


GOOGLE: dict[Field, FieldRule] = {
    "first_name": FieldRule("First Name", google_name, hashed=True),
    "last_name": FieldRule("Last Name", google_name, hashed=True),
    "country": FieldRule("Country", country, hashed=False),
    "postcode": FieldRule("Zip", google_postcode, hashed=False),
}
META: dict[Field, FieldRule] = {
    "first_name": FieldRule("fn", meta_name, hashed=True),
    "last_name": FieldRule("ln", meta_name, hashed=True),
    "country": FieldRule("country", country, hashed=True),
    "postcode": FieldRule("zip", meta_postcode, hashed=True),
}
