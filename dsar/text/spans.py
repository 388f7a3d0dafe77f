"""What a detector reports: the entity types and `Span`, shared by every detector module."""

from __future__ import annotations

from dataclasses import dataclass

# Entity types, with Presidio's names where Presidio has the entity.
PERSON = "PERSON"
EMAIL = "EMAIL_ADDRESS"
PHONE = "PHONE_NUMBER"
CARD = "CREDIT_CARD"
IBAN = "IBAN_CODE"
IP = "IP_ADDRESS"
SECRET = "SECRET"  # noqa: S105 - an entity name, not a password
# national identifiers: the nine Presidio's recognizers find (its patterns, checksums and
# context words), those of many more countries with their official checksums, and passports,
# driving licences and other identity numbers named by a word (dsar/text/identifiers.py);
# reported together as government IDs
GOVERNMENT_IDS = (
    "US_SSN",
    "US_ITIN",
    "UK_NHS",
    "UK_NINO",
    "ES_NIF",
    "ES_NIE",
    "IT_FISCAL_CODE",
    "PL_PESEL",
    "FI_PERSONAL_IDENTITY_CODE",
    "BR_CPF",
    "BR_CNPJ",
    "IN_AADHAAR",
    "IN_PAN",
    "CN_RESIDENT_ID",
    "KR_RRN",
    "JP_MY_NUMBER",
    "TR_NATIONAL_ID",
    "SE_PERSONNUMMER",
    "NO_FODSELSNUMMER",
    "DK_CPR",
    "NL_BSN",
    "BE_NATIONAL_NUMBER",
    "FR_NIR",
    "DE_TAX_ID",
    "IE_PPS",
    "PT_NIF",
    "PT_CC",
    "CA_SIN",
    "AU_TFN",
    "SG_NRIC_FIN",
    "ZA_ID_NUMBER",
    "GR_AMKA",
    "MX_CURP",
    "CL_RUT",
    "IL_ID",
    "RU_INN",
    "RU_SNILS",
    "RO_CNP",
    "CZ_BIRTH_NUMBER",
    "TH_ID",
    "AE_EMIRATES_ID",
    "PK_CNIC",
    "ID_NIK",
    "PASSPORT",
    "DRIVER_LICENSE",
    "NATIONAL_ID",
)
PATTERN_ENTITIES = (EMAIL, PHONE, CARD, IBAN, IP, SECRET, *GOVERNMENT_IDS)
ENTITIES = (PERSON, *PATTERN_ENTITIES)
# masked to their last four characters in every bundle, even the person's own (CCPA
# regulations §7024(d): never disclose a financial account number or government ID)
FINANCIAL_AND_GOVERNMENT = frozenset({CARD, IBAN, *GOVERNMENT_IDS})


@dataclass(frozen=True, order=True)
class Span:
    """One detected entity: `text[start:end]` is of type `entity`, with a score in 0..1."""

    start: int
    end: int
    entity: str
    score: float = 1.0
    source: str = "pattern"

    def overlaps(self, other: Span) -> bool:
        return self.start < other.end and other.start < self.end
