"""How each ad platform wants emails and phone numbers normalised, hashed and uploaded.

Every platform: trim, lower-case, UTF-8, SHA-256, no salt. They differ where it matters for
matching (gmail dots, `+tags`, a leading `+` on phones, hex or base64 output), so each
platform is one `Platform` with its rules, its upload headers and limits, and the page its
rules come from. Emails are normalised in SQL (vectorised, DuckDB) with a Python twin used on
small inputs and in the tests; phones go through `phonenumbers` to E.164 once per distinct
value, then to the platform's form.

Bump `NORMALIZER_VERSION` whenever a rule changes: manifests record it, so a reviewer can tell
which audiences were made under which rules.
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

NORMALIZER_VERSION = "2026-11-29.1"
_VALID_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_GMAIL = ("gmail.com", "googlemail.com")


@dataclass(frozen=True)
class Platform:
    """One ad platform's matching rules and upload format.

    Attributes:
        name: the platform's id on the command line.
        title: its name for people.
        source: where its rules are published.
        gmail_dots: remove dots from the local part of gmail.com and googlemail.com emails.
        plus_tags: remove a `+tag` from the local part: "gmail" (gmail.com and
            googlemail.com only), "all" (every domain) or "none".
        strip_spaces: remove every space inside the address, not only around it.
        phone_plus: phones as E.164 with their `+` (else digits only, country code first).
        encoding: "hex" (lower-case hex of the digest) or "base64" (of the 32 raw bytes).
        email_header, phone_header: the upload file's column headers (None: no such column).
        header: whether the upload file has a header line.
        max_rows: the most rows in one upload file (0: no limit): larger audiences are split.
        min_audience: the smallest audience the platform serves (a warning below it).
    """

    name: str
    title: str
    source: str
    gmail_dots: bool = False
    plus_tags: Literal["none", "gmail", "all"] = "none"
    strip_spaces: bool = False
    phone_plus: bool = True
    encoding: Literal["hex", "base64"] = "hex"
    email_header: str | None = "email"
    phone_header: str | None = "phone"
    header: bool = True
    max_rows: int = 0
    min_audience: int = 0

    # -- emails --------------------------------------------------------------------------

    def email(self, value: str | None) -> str | None:
        """The normalised email, or None when it is not a valid address."""
        if value is None:
            return None
        e = value.strip().lower()
        if self.strip_spaces:
            e = e.replace(" ", "")
        if not _VALID_EMAIL.match(e):
            return None
        local, _, domain = e.rpartition("@")
        is_gmail = domain in _GMAIL
        if self.plus_tags == "all" or (self.plus_tags == "gmail" and is_gmail):
            local = local.split("+", 1)[0]
        if self.gmail_dots and is_gmail:
            local = local.replace(".", "")
        return f"{local}@{domain}" if local else None

    def email_sql(self, column: str) -> str:
        """SQL twin of `email` for a VARCHAR expression (NULL when invalid)."""
        e = f"lower(trim({column}))"
        if self.strip_spaces:
            e = f"replace({e}, ' ', '')"
        local = f"regexp_extract({e}, '^(.*)@[^@]*$', 1)"
        domain = f"regexp_extract({e}, '@([^@]*)$', 1)"
        gmail = f"{domain} IN ('gmail.com', 'googlemail.com')"
        if self.plus_tags == "all":
            local = f"split_part({local}, '+', 1)"
        elif self.plus_tags == "gmail":
            local = f"CASE WHEN {gmail} THEN split_part({local}, '+', 1) ELSE {local} END"
        if self.gmail_dots:
            local = f"CASE WHEN {gmail} THEN replace({local}, '.', '') ELSE {local} END"
        valid = f"regexp_full_match({e}, '[^@\\s]+@[^@\\s]+\\.[^@\\s]+')"
        return f"CASE WHEN {valid} AND {local} <> '' THEN {local} || '@' || {domain} END"

    # -- phones --------------------------------------------------------------------------

    def phone(self, value: str | None, region: str | None = None) -> str | None:
        """The normalised phone, or None when the phone library finds no possible number.

        A number without a country code is read in `region` (ISO 3166 alpha-2).
        """
        e164 = to_e164(value, region)
        if e164 is None:
            return None
        return e164 if self.phone_plus else e164[1:]

    # -- hashing -------------------------------------------------------------------------

    def hash(self, normalised: str) -> str:
        digest = hashlib.sha256(normalised.encode("utf-8"))
        if self.encoding == "base64":
            return base64.b64encode(digest.digest()).decode("ascii")
        return digest.hexdigest()

    def hash_sql(self, expr: str) -> str:
        """SQL hashing a VARCHAR expression as the platform wants (NULL stays NULL)."""
        if self.encoding == "base64":
            return f"to_base64(unhex(sha256({expr})))"
        return f"sha256({expr})"


@cache
def _phonenumbers() -> Any:
    import phonenumbers

    return phonenumbers


def to_e164(value: str | None, region: str | None = None) -> str | None:
    """A phone number as E.164 (`+` and digits), or None when it cannot be one."""
    if not value or not value.strip():
        return None
    pn = _phonenumbers()
    text = value.strip()
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        parsed = pn.parse(text, None if text.startswith("+") else (region or None))
    except pn.NumberParseException:
        return None
    if not pn.is_possible_number(parsed):
        return None
    return str(pn.format_number(parsed, pn.PhoneNumberFormat.E164))


PLATFORMS: dict[str, Platform] = {
    p.name: p
    for p in (
        Platform(
            name="google",
            title="Google Ads Customer Match",
            source="https://support.google.com/google-ads/answer/7659867 (Customer Match"
            " data formatting guidelines)",
            email_header="Email",
            phone_header="Phone",
            min_audience=1000,
        ),
        Platform(
            name="google_ec",
            title="Google enhanced conversions",
            source="https://developers.google.com/google-ads/api/docs/conversions/"
            "enhanced-conversions/web (normalize and hash user-provided data)",
            gmail_dots=True,
            email_header="hashed_email",
            phone_header="hashed_phone_number",
        ),
        Platform(
            name="meta",
            title="Meta custom audiences",
            source="https://developers.facebook.com/docs/marketing-api/audiences/guides/"
            "custom-audiences (hashing and normalization)",
            phone_plus=False,
            min_audience=100,
        ),
        Platform(
            name="tiktok",
            title="TikTok custom audiences",
            source="https://ads.tiktok.com/help/article/custom-audience-file-upload",
            plus_tags="all",
            strip_spaces=True,
            phone_plus=True,
            email_header="Email_SHA256",
            phone_header="Phone_SHA256",
            min_audience=1000,
        ),
        Platform(
            name="linkedin",
            title="LinkedIn matched audiences",
            source="https://www.linkedin.com/help/lms/answer/a420380 (contact list formatting)",
            phone_header=None,
            min_audience=300,
        ),
        Platform(
            name="snap",
            title="Snap audience match",
            source="https://businesshelp.snapchat.com/s/article/customer-list-audience",
            phone_plus=False,
            email_header="EMAIL_SHA256",
            phone_header="PHONE_SHA256",
            min_audience=1000,
        ),
        Platform(
            name="x",
            title="X custom audiences",
            source="https://business.x.com/en/help/campaign-setup/campaign-targeting/"
            "custom-audiences/lists",
            phone_header=None,
            header=False,
            min_audience=100,
        ),
        Platform(
            name="amazon",
            title="Amazon Ads audiences",
            source="https://advertising.amazon.com/API/docs/en-us/guides/amazon-marketing-"
            "stream/hashed-pii (hashed identifiers)",
            phone_plus=False,
        ),
        Platform(
            name="uid2",
            title="Unified ID 2.0",
            source="https://unifiedid.com/docs/getting-started/gs-normalization-encoding",
            gmail_dots=True,
            plus_tags="gmail",
            encoding="base64",
            email_header="email_hash",
            phone_header="phone_hash",
        ),
    )
}


def platform(name: str) -> Platform:
    """A platform by name, or a clear error naming the known ones."""
    found = PLATFORMS.get(name.strip().lower())
    if found is None:
        from dsar.errors import WorkbenchError

        raise WorkbenchError(f"unknown ad platform {name!r}: one of {', '.join(sorted(PLATFORMS))}")
    return found
