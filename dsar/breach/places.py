"""Where affected people live: a country or US state cell read into a code the rules name.

A country column holds what the export holds: `DE`, `DEU`, `Germany`, `Deutschland`, `U.S.`,
`United Kingdom`, `uk`. `country_code` reads each into its ISO 3166 alpha-2 code (UK and GB
are one, `GB`) from alpha-2 and alpha-3 codes, English names and the names in each country's
official languages (`country_names`, generated from CLDR), and a few common abbreviations
and constituent countries (`U.S.A.`, `America`, `Great Britain`, `England`, `Holland`). A
value it cannot read is never a country: the person counts as residence unknown, and only
counts leave this module (never the cell, which may hold anything: an email, a name).
`us_state_code` reads a US state or territory's name or postal code (`California`, `ca`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

from dsar.breach.country_names import ALPHA2, ALPHA3, NAMES
from dsar.subjects.identity import PLACEHOLDERS

_EXTRA = {
    "uk": "GB",
    "great britain": "GB",
    "britain": "GB",
    "england": "GB",
    "scotland": "GB",
    "wales": "GB",
    "northern ireland": "GB",
    "united kingdom of great britain and northern ireland": "GB",
    "usa": "US",
    "us": "US",
    "america": "US",
    "united states of america": "US",
    "us of a": "US",
    "holland": "NL",
    "republic of ireland": "IE",
    "czech republic": "CZ",
    "the czech republic": "CZ",
    "korea": "KR",
    "south korea": "KR",
    "republic of korea": "KR",
    "russian federation": "RU",
    "turkey": "TR",
    "ivory coast": "CI",
    "uae": "AE",
    "swaziland": "SZ",
    "macedonia": "MK",
    "burma": "MM",
    # ISO 3166's English short names, written "name, qualifier" (folded: no comma)
    "korea republic of": "KR",
    "korea democratic peoples republic of": "KP",
    "iran islamic republic of": "IR",
    "moldova republic of": "MD",
    "tanzania united republic of": "TZ",
    "venezuela bolivarian republic of": "VE",
    "bolivia plurinational state of": "BO",
    "taiwan province of china": "TW",
    "congo the democratic republic of the": "CD",
    "micronesia federated states of": "FM",
    "virgin islands british": "VG",
    "virgin islands us": "VI",
    "palestine state of": "PS",
    "lao peoples democratic republic": "LA",
    "syrian arab republic": "SY",
    "holy see vatican city state": "VA",
    "saint martin french part": "MF",
    "sint maarten dutch part": "SX",
    "macedonia the former yugoslav republic of": "MK",
    # common short forms of CLDR names that carry a qualifier ("Hong Kong SAR China")
    "hong kong": "HK",
    "hong kong sar": "HK",
    "hongkong": "HK",
    "macau": "MO",
    "macao": "MO",
    "macau sar": "MO",
    "macao sar": "MO",
    "palestine": "PS",
    "state of palestine": "PS",
    "vatican": "VA",
    "holy see": "VA",
    "vatican city state": "VA",
    "svalbard": "SJ",
    "jan mayen": "SJ",
    # EU territory without a code of its own (outermost regions, Art. 349 TFEU)
    "guyane": "GF",
    "guyane francaise": "GF",
    "canary islands": "ES",
    "canarias": "ES",
    "islas canarias": "ES",
    "ceuta": "ES",
    "melilla": "ES",
    "madeira": "PT",
    "azores": "PT",
    "acores": "PT",
}
_CODES = {"EL": "GR", "IC": "ES", "EA": "ES"}
"""Two-letter codes outside ISO 3166's assigned ones: the EU's code for Greece (EL), and
the codes ISO reserves for the Canary Islands (IC) and Ceuta and Melilla (EA)."""

US_STATES: dict[str, str] = {
    "AL": "Alabama",
    "AK": "Alaska",
    "AZ": "Arizona",
    "AR": "Arkansas",
    "CA": "California",
    "CO": "Colorado",
    "CT": "Connecticut",
    "DE": "Delaware",
    "DC": "District of Columbia",
    "FL": "Florida",
    "GA": "Georgia",
    "HI": "Hawaii",
    "ID": "Idaho",
    "IL": "Illinois",
    "IN": "Indiana",
    "IA": "Iowa",
    "KS": "Kansas",
    "KY": "Kentucky",
    "LA": "Louisiana",
    "ME": "Maine",
    "MD": "Maryland",
    "MA": "Massachusetts",
    "MI": "Michigan",
    "MN": "Minnesota",
    "MS": "Mississippi",
    "MO": "Missouri",
    "MT": "Montana",
    "NE": "Nebraska",
    "NV": "Nevada",
    "NH": "New Hampshire",
    "NJ": "New Jersey",
    "NM": "New Mexico",
    "NY": "New York",
    "NC": "North Carolina",
    "ND": "North Dakota",
    "OH": "Ohio",
    "OK": "Oklahoma",
    "OR": "Oregon",
    "PA": "Pennsylvania",
    "RI": "Rhode Island",
    "SC": "South Carolina",
    "SD": "South Dakota",
    "TN": "Tennessee",
    "TX": "Texas",
    "UT": "Utah",
    "VT": "Vermont",
    "VA": "Virginia",
    "WA": "Washington",
    "WV": "West Virginia",
    "WI": "Wisconsin",
    "WY": "Wyoming",
    "AS": "American Samoa",
    "GU": "Guam",
    "MP": "Northern Mariana Islands",
    "PR": "Puerto Rico",
    "VI": "U.S. Virgin Islands",
}
"""The 50 states, DC and the inhabited territories by postal code (each has a breach law)."""

_STATE_NAMES = {
    **{re.sub(r"[^a-z ]", "", name.casefold()).strip(): code for code, name in US_STATES.items()},
    "washington dc": "DC",
    "washington district of columbia": "DC",
    "virgin islands": "VI",
    "us virgin islands": "VI",
}


def fold(value: str) -> str:
    """A name folded for lookup: case, accents, dots, apostrophes, punctuation, 'the'."""
    text = unicodedata.normalize("NFKD", value)
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = text.casefold().replace("&", " and ")
    text = re.sub("[.'`\u2019]", "", text)
    text = re.sub(r"[\s,\-_/()]+", " ", text).strip()
    return text[4:] if text.startswith("the ") else text


_FOLDED = frozenset(
    fold(p) for p in (*PLACEHOLDERS, "not applicable", "not available", "n.v.t.", "k.A.")
)
"""Cells that say there is no value (`dsar.subjects.identity.PLACEHOLDERS`: `n/a`, `none`,
`keine`, `-`...), folded as a cell is (`n/a` reads `n a`, `N.A.` `na`), with the words a
form writes (`not applicable`, Dutch `n.v.t.`, German `k.A.`)."""


def placeholder(value: object) -> bool:
    """Whether a country or state cell says there is no value (`n/a`, `N.A.`, `NA`, `none`,
    `keine`, `-`): never a place. `NA` is Namibia's code too, but written in a country
    column it is far more often 'not available': read as residence unknown and said."""
    if value is None:
        return False
    text = str(value).strip()
    return bool(text) and (text.casefold() in PLACEHOLDERS or fold(text) in _FOLDED)


def country_code(value: object) -> str | None:
    """The ISO alpha-2 code a country cell names (UK and GB: GB), or None when unreadable.

    Examples:
        >>> [country_code(v) for v in ("Deutschland", "NLD", "U.S.", "uk", "Ireland")]
        ['DE', 'NL', 'US', 'GB', 'IE']
        >>> country_code("dave@example.com") is None
        True
    """
    if value is None:
        return None
    text = str(value).strip()
    if not text or len(text) > 80:
        return None
    if placeholder(text) and text != "NA":  # n/a, N.A., na: no country (NA: `read_residence`)
        return None
    key = fold(text)
    upper = key.upper().replace(" ", "")
    if len(upper) == 2 and upper in ALPHA2:
        return upper
    if len(upper) == 2 and upper in _CODES:
        return _CODES[upper]
    if len(upper) == 3 and upper in ALPHA3:
        return ALPHA3[upper]
    return _EXTRA.get(key) or NAMES.get(key)


def us_state_code(value: object) -> str | None:
    """The postal code of a US state or territory cell (`California`, `ca`), else None."""
    if value is None:
        return None
    text = str(value).strip()
    if not text or len(text) > 60:
        return None
    key = fold(text)
    code = key.upper().replace(" ", "")
    if len(code) == 2 and code in US_STATES:
        return code
    return _STATE_NAMES.get(re.sub(r"[^a-z ]", "", key).strip())


class _Resident(Protocol):
    country: str | None
    state: str | None


@dataclass
class Residence:
    """How the people's country and state cells were read: counts, never a cell."""

    unreadable_country: int = 0  # a country cell that names no country: residence unknown
    unreadable_state: int = 0  # a US resident whose state cell names no state: state unknown
    several: int = 0  # people with rows in more than one place (counted in each)
    no_country: int = 0  # no country in the data (no column, or an empty cell)
    state_only: int = 0  # an empty country cell beside a US state's: read as the US
    placeholder_country: int = 0  # n/a, NA, none...: residence unknown (no_country too)
    notes: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, int]:
        """The counts for scope.json."""
        return {
            "unreadable_country": self.unreadable_country,
            "unreadable_state": self.unreadable_state,
            "no_country": self.no_country,
            "us_from_state": self.state_only,
            "placeholder_country": self.placeholder_country,
        }


COUNTRY_COLUMN = re.compile(
    r"^(.*country(?:[_ ]?(?:code|name|iso[23]?|iso_?code|of[_ ]?residence))?"
    r"|residence[_ ]?country|nation|land|landcode|land_?code|pays|code_?pays"
    r"|pa[ií]s|paese|nazione|kraj|strana)$",
    re.IGNORECASE,
)
"""A column whose name says it holds the person's country, written snake_case or camelCase
(`country_code`, `countryCode`, `CountryCode`, `billingCountry`, `country_of_residence`,
`nation`), in English or in the languages of the exports it meets (Dutch, German and
Scandinavian `land`, French `pays`, Spanish and Portuguese `país`, Italian
`paese`/`nazione`, Polish `kraj`, Czech `strana`); not a nationality or a country of birth,
which say nothing of where one lives. A country column missed makes its people's country
empty, and a state code beside it (Alagoas `AL`, Western Australia `WA`) reads as a US
state's: `read_residence` warns where no one has a country."""
STATE_COLUMN = re.compile(
    r"^(state|state_?code|us_?state|region|province|state_?province)$", re.IGNORECASE
)
"""A column whose name says it holds the person's state or region."""


def _coded(country: str | None, state: str | None) -> tuple[str | None, str | None]:
    """One (country, state) pair read into (ISO code or None, US state code or None): a
    placeholder is no country; `Georgia` beside a US state is the US state; an empty
    country cell beside a US state is the US. `read_residence` counts what it met."""
    country = None if placeholder(country) else country
    code = country_code(country)
    if code == "GE" and fold(str(country)) == "georgia" and us_state_code(state):
        code = "US"
    if code is None and not (country is not None and str(country).strip()):
        code = "US" if us_state_code(state) is not None else None
    return code, us_state_code(state) if code == "US" else None


def read_residence(people: Iterable[_Resident], unknown: str) -> Residence:
    """Read each person's country and state cells into codes, in place.

    A person's `country` becomes an ISO alpha-2 code or None (residence unknown: counted
    where the company states, `unknown`), `state` a US postal code or None (a US resident of
    an unknown state); a cell that cannot be read is dropped, counted, never kept or shown.
    """
    out = Residence()
    anyone = False  # someone has a country cell: the data has a country column
    for person in people:
        raw_country, raw_state = person.country, person.state
        others: list[tuple[str | None, str | None]] = []
        for pair in getattr(person, "elsewhere", ()):  # other places, read alike, unknown out
            coded = _coded(*pair)
            if coded[0] is not None and coded not in others:
                others.append(coded)
        code, state = _coded(raw_country, raw_state)
        if code is None and others:
            # the first row's country says nothing, another row's does: placed there
            person.country, person.state = others.pop(0)
            setattr(person, "elsewhere", tuple(others))  # noqa: B010 (optional attribute)
            anyone = True
            out.several += bool(others)
            continue
        if placeholder(raw_country):  # n/a, NA, none: no country given, as an empty cell
            out.placeholder_country += 1
            raw_country = None
        given = raw_country is not None and bool(str(raw_country).strip())
        anyone = anyone or given
        if code is None:
            if given:
                out.unreadable_country += 1
            else:
                out.no_country += 1
        elif not given:  # no country, a US state: the US (`_coded`)
            out.state_only += 1
        if code == "US" and state is None and raw_state is not None and str(raw_state).strip():
            out.unreadable_state += 1
        person.country, person.state = code, state
        others = [o for o in others if o != (code, state)]
        if hasattr(person, "elsewhere"):  # read into codes, unreadable ones dropped
            setattr(person, "elsewhere", tuple(others))  # noqa: B010 (optional attribute)
        out.several += bool(others)
    if out.several:
        out.notes.append(
            f"NOTICE: {out.several} person(s) have rows in more than one country or US state"
            " (a second address): each is counted in every place, and every place's"
            " deadlines apply to them"
        )
    if out.unreadable_country:
        out.notes.append(
            f"WARNING: {out.unreadable_country} person(s) have a country cell that names no"
            f" country (values not shown): counted as residence unknown ({unknown});"
            " check the country column"
        )
    if out.placeholder_country:
        out.notes.append(
            f"WARNING: {out.placeholder_country} person(s) have a placeholder for a country"
            f" (n/a, NA, none, -...): counted as residence unknown ({unknown}); NA is read as"
            " 'not available', not as Namibia: write NAM or Namibia for a Namibian resident"
        )
    if out.state_only and not anyone:
        out.notes.append(
            f"WARNING: no one in scope has a country (no country column this tool recognises,"
            f" or every cell empty) but {out.state_only} person(s) have a US state's code or"
            " name in a state column: read as US residents of that state, though AL, PA, SC,"
            " MA or WA are also states of Brazil or Australia; if the export has a country"
            " column under another name, name it country (or country_code) in the catalog"
        )
    elif out.state_only:
        out.notes.append(
            f"NOTICE: {out.state_only} person(s) have an empty country cell beside a US state's:"
            " read as US residents of that state"
        )
    if out.no_country and not anyone:
        out.notes.append(
            f"WARNING: no one in scope has a country (no country column this tool recognises,"
            f" or every cell empty): {out.no_country} person(s) counted as residence unknown"
            f" ({unknown}), so no US state's or other country's deadline is listed for them;"
            " name the country column country (or country_code) in the catalog, or give"
            " --residence-unknown"
        )
    if out.unreadable_state:
        out.notes.append(
            f"WARNING: {out.unreadable_state} US resident(s) have a state cell that names no US"
            " state (values not shown): their state is unknown, state laws are listed as"
            " 'possibly'"
        )
    return out


_AUTHORITIES = {
    "ico": "GB",
    "information commissioner": "GB",
    "information commissioners office": "GB",
    "dpc": "IE",
    "data protection commission": "IE",
    "cnil": "FR",
    "autoriteit persoonsgegevens": "NL",
    "aepd": "ES",
    "garante": "IT",
    "garante per la protezione dei dati personali": "IT",
    "bfdi": "DE",
    "imy": "SE",
    "cnpd": "PT",
    "apd": "BE",
    "gba": "BE",
    "uodo": "PL",
}


_NOT_EEA_AUTHORITIES = (
    # Switzerland's federal commissioner (EDÖB / PFPDT / FDPIC) and cantonal officers
    (re.compile(r"\b(?:eidgenossisch|edob|pfpdt|fdpic|incaricato federale|prepose federal)"), "CH"),
)
_EEA_AUTHORITIES = (
    # words of the EU/EEA authorities' names in their own languages (folded: no accents)
    (re.compile(r"\bdatenschutzbehorde\b"), "AT"),
    (re.compile(r"\bdatenschutzstelle\b"), "LI"),
    # Germany's federal and state commissioners (BfDI, "Berliner Beauftragte für
    # Datenschutz", "Landesbeauftragte", BayLDA, ULD)
    (
        re.compile(
            r"\b(?:landes)?beauftragte\w* fur (?:den )?datenschutz|\bdatenschutzaufsicht"
            r"|\blandesbeauftragte|\bunabhangiges landeszentrum fur datenschutz"
        ),
        "DE",
    ),
    (re.compile(r"\bdatatilsynet\b"), "DK"),  # Denmark's and Norway's: the EEA either way
    (re.compile(r"\b(?:integritetsskyddsmyndigheten|datainspektionen)\b"), "SE"),
    (re.compile(r"\btietosuojavaltuutet"), "FI"),
    (re.compile(r"\bpersonuvernd\b"), "IS"),
    (re.compile(r"\burzad ochrony danych"), "PL"),
    (re.compile(r"\burad pro ochranu osobnich udaju|\buoou\b"), "CZ"),
    (re.compile(r"\burad na ochranu osobnych udajov"), "SK"),
    (re.compile(r"\bnemzeti adatvedelmi|\bnaih\b"), "HU"),
    (re.compile(r"\bhellenic data protection|\bhdpa\b"), "GR"),
    (re.compile(r"\bagencia espanola de proteccion de datos"), "ES"),
    (re.compile(r"\bgegevensbeschermingsautoriteit|\bautorite de protection des donnees"), "BE"),
    (
        re.compile(r"\bcommission nationale (?:de l informatique|pour la protection des donnees)"),
        "FR",
    ),
    (re.compile(r"\bandmekaitse inspektsioon"), "EE"),
    (re.compile(r"\bduomenu apsaugos inspekcija"), "LT"),
    (re.compile(r"\bdatu valsts inspekcija"), "LV"),
    (re.compile(r"\binformacijski pooblascenec"), "SI"),
    (re.compile(r"\bautoritatea nationala de supraveghere|\banspdcp\b"), "RO"),
    (re.compile(r"\bkomisia za zashtita na lichnite danni|\bcpdp\b"), "BG"),
    (re.compile(r"\bagencija za zastitu osobnih podataka|\bazop\b"), "HR"),
    (re.compile(r"\bcommissioner for personal data protection"), "CY"),
    (re.compile(r"\binformation and data protection commissioner|\bidpc\b"), "MT"),
)
_WEB = re.compile(r"(?:https?://)?(?:[a-z0-9-]+\.)+([a-z]{2})(?:[/:?#]\S*)?", re.IGNORECASE)


def _country_named(folded: str) -> str | None:
    """The first country whose name (one to four words; a single word of four letters at
    least, not a bare code) the folded text holds: "cayman islands" in "information
    commissioner cayman islands ombudsman"."""
    words = folded.split()
    for start in range(len(words)):
        for size in range(min(4, len(words) - start), 0, -1):
            gram = " ".join(words[start : start + size])
            if size == 1 and len(gram) < 4:
                continue
            code = _EXTRA.get(gram) or NAMES.get(gram)
            if code is not None:
                return code
    return None


def authority_country(text: str) -> str | None:
    """The country a supervisory authority's description names, if any.

    Read from the catalog's `supervisory_authority`: a country in brackets or between commas
    (`Autoriteit Persoonsgegevens (Netherlands)`), a well-known authority's name or acronym
    (ICO, DPC, CNIL), words of an EU/EEA authority's name in its own language (`Berliner
    Beauftragte für Datenschutz und Informationsfreiheit`, `Datatilsynet`: Denmark's and
    Norway's, read as DK, in the EEA either way), or its web address's country domain
    (`dataprotection.ie`, `ico.org.uk`).

    Examples:
        >>> authority_country("Autoriteit Persoonsgegevens (Netherlands), ap.nl")
        'NL'
        >>> authority_country("ICO"), authority_country("the authority")
        ('GB', None)
        >>> authority_country("https://www.dataprotection.ie"), authority_country("Datatilsynet")
        ('IE', 'DK')
    """
    pieces = [p for p in re.split(r"[(),;]", text) if p.strip()]
    # a country the text names wins over an authority's words, which several jurisdictions
    # share: "Information Commissioner (Bermuda)", "... (Cayman Islands Ombudsman)" are not
    # the UK's ICO
    for piece in pieces:
        code = country_code(piece)
        if code is not None and len(fold(piece)) > 2:  # a bare "de" or "it" is no sign
            return code
    folded = fold(text)
    named = _country_named(folded)
    if named is not None:
        return named
    for piece in pieces:
        code = _AUTHORITIES.get(fold(piece))
        if code is not None:
            return code
    for pattern, code in (*_NOT_EEA_AUTHORITIES, *_EEA_AUTHORITIES):
        if pattern.search(folded):
            return code
    for word in text.split():
        web = _WEB.fullmatch(word.strip(".,;()<>"))
        if web is not None:
            tld = web[1].upper()
            code = "GB" if tld == "UK" else tld if tld in ALPHA2 else None
            if code is not None:
                return code
    return None
