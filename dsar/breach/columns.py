"""What a breached column holds, read from the catalog, its name and its values.

The categories a severity assessment counts (`dsar.breach.assess`), and the columns the
catalog flags nothing on whose name or values say they hold government ID, card or bank
account numbers or secrets. Apart from the assessment so that the scope (which reads a
sample of such a column's values) and the assessment both use it without importing each
other.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence

from dsar.catalog.models import Catalog, ColumnType

CONTACT = "contact"
BILLING = "billing"
CREDENTIALS = "credentials"
FREE_TEXT = "free_text"
GOVERNMENT_ID = "government_id"
SPECIAL = "special_categories"


def special_named(column: str) -> str | None:
    """The special category of data (Art. 9) a column's name says it holds (`diagnosis`,
    `religion`, `ethnicity`, `health_notes` ...: the words `dsar catalog draft` flags a
    column SENSITIVE by; and a condition or a criminal record by name: `hiv_status`,
    `cancer_stage`, `criminal_record`), else None. The catalog has no kind for such data,
    so a leaked column named so counts as special categories (DPC 4) until a person decides
    otherwise: its values are read by no word list (`Muslim`, `type 2 diabetes`)."""
    from dsar.draft.shapes import sensitive_named, tokens

    what = sensitive_named(column)
    if what in (None, "gender"):
        words = set(tokens(column))
        if words & _HEALTH_NAMES:
            return "health"
        if words & _CRIMINAL_NAMES:
            return "criminal convictions and offences (Art. 10)"
        return None
    return what


_HEALTH_NAMES = frozenset(
    {"hiv", "cancer", "tumor", "tumour", "diabetes", "diabetic", "hepatitis", "psychiatric",
     "disease", "diseases", "chemotherapy", "dementia", "epilepsy", "pregnancy", "pregnant",
     "prescription", "prescriptions", "vaccination", "vaccine", "bloodtype", "icd10", "icd"}
)  # fmt: skip
"""Words of a column name, beside the draft's, that name a health condition (Art. 9)."""
_CRIMINAL_NAMES = frozenset({"criminal", "conviction", "convictions", "offence", "offences"})
"""Words of a column name that name criminal convictions and offences (Art. 10)."""
_CARD_WORDS = frozenset({"card", "cc", "creditcard", "debitcard", "pan"})
_NUMBER_WORDS = frozenset({"number", "no", "num", "nr", "nbr"})
_SECRET_NAMES = frozenset(
    {"api_key", "apikey", "secret", "client_secret", "secret_key", "private_key",
     "access_token", "refresh_token", "auth_token", "bearer_token", "session_token",
     "otp_secret", "totp_secret", "cvv", "cvc", "card_security_code"}
)  # fmt: skip
_UNTYPED_OR_TEXT = frozenset({None, ColumnType.STRING, ColumnType.INTEGER, ColumnType.DECIMAL})


def unflagged(catalog: Catalog, table: str, column: str) -> bool:
    """Whether the catalog flags nothing on a column (no `personal`, `secret`, `identity`
    or free text) and types it as text or a number, or not at all: a column that could
    hold ID, card or bank account numbers or secrets unsaid."""
    spec = catalog.tables[table].columns[column]
    return not (
        spec.personal is not None
        or spec.secret
        or spec.identity is not None
        or spec.free_text
        or spec.type not in _UNTYPED_OR_TEXT
    )


VALUE_SAMPLE = 5000
"""Values read per column by `read_from_values`: the first non-blank ones in scope."""
VALUE_SHARE = 0.5
"""The share of a column's sampled values that must be of a kind for it to count as one."""
READ_WORDS = {
    GOVERNMENT_ID: "government ID numbers",
    BILLING: "card or bank account numbers",
    CREDENTIALS: "passwords or secrets",
}


_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")
_ID_HEX_LENGTHS = frozenset({32, 40, 64})  # a dashless UUID or an MD5; a SHA-1; a SHA-256
_SECRET_WORDS = frozenset({"password", "passwd", "pwd", "hash", "hashed", "secret", "token", "key"})


def ids_or_checksums(sample: Sequence[str], column: str = "") -> bool:
    """Whether a column's sampled values are ids or checksums, not secrets: every one pure
    hex of one length, 32, 40 or 64 digits (a dashless UUID, an MD5, SHA-1 or SHA-256 hex
    digest), in a column whose name does not say password, hash, secret, token or key.

    Examples:
        >>> md5s = ["9f86d081884c7d659a2feaa0c55ad015", "0cc175b9c0f1b6a831c399e269772661"]
        >>> ids_or_checksums(md5s), ids_or_checksums(md5s, "pw_hash")
        (True, False)
        >>> ids_or_checksums([md5s[0], md5s[1][:30]])
        False
    """
    from dsar.draft.shapes import password_named, tokens

    if password_named(column) or set(tokens(column)) & _SECRET_WORDS:
        return False
    lengths = {len(v) for v in sample}
    return (
        len(lengths) == 1
        and lengths <= _ID_HEX_LENGTHS
        and all(set(v) <= _HEX_DIGITS for v in sample)
    )


def value_category(values: Sequence[object], column: str = "") -> str | None:
    """The category a column's values say it holds (at least `VALUE_SHARE` of the first
    `VALUE_SAMPLE` non-blank values): government ID numbers (a US SSN, a UK NINO), card
    numbers whose Luhn digit holds or IBANs whose check digits hold (billing), or secrets
    (a password hash, a long token: `dsar.draft.shapes.holds_secret`), unless the values
    are ids or checksums (`ids_or_checksums`: hex of one length in a column `column` whose
    name says no secret); else None.

    Examples:
        >>> value_category(["4111 1111 1111 1111", "5500005555555559", ""])
        'billing'
        >>> value_category(["123-45-6789", "call back"]), value_category(["refund", "12"])
        ('government_id', None)
    """
    from dsar.draft.shapes import holds_secret, is_card, is_iban, is_nino, is_ssn

    sample: list[str] = []
    for value in values:
        text = "" if value is None else str(value).strip()
        if text:
            sample.append(text)
            if len(sample) >= VALUE_SAMPLE:
                break
    counts = Counter(sample)
    tests: tuple[tuple[str, tuple[Callable[[str], bool], ...]], ...] = (
        (GOVERNMENT_ID, (is_ssn, is_nino)),
        (BILLING, (is_card, is_iban)),
        (CREDENTIALS, (holds_secret,)),
    )
    if ids_or_checksums(sample, column):
        tests = tests[:-1]
    for category, kinds in tests:
        hits = sum(k for v, k in counts.items() if any(test(v) for test in kinds))
        if sample and hits >= VALUE_SHARE * len(sample):
            return category
    return None


def read_from_values(
    catalog: Catalog, table: str, columns: Mapping[str, Sequence[object]]
) -> dict[str, str]:
    """Of a table's leaked columns (`columns`: each column's values in the rows in scope),
    those the catalog does not flag (`unflagged`) and whose name says nothing
    (`undeclared_named`) whose values are ID, card or bank account numbers or secrets
    (`value_category`): column -> category. Values are read, never kept or said."""
    out = {}
    for column, values in columns.items():
        if not unflagged(catalog, table, column) or undeclared_named(catalog, table, column):
            continue
        if (category := value_category(values, column)) is not None:
            out[column] = category
    return out


def undeclared_named(catalog: Catalog, table: str, column: str) -> tuple[str, str] | None:
    """(category, what) a column's name says it holds where the catalog does not flag it:
    a government ID number (`ssn`, `passport_no`, `national_id`, `social_security_number`),
    a card or bank account number (`card_number`, `iban`, `bank_account`) or a secret
    (`password`, `api_key`, `cvv`); None for a column the catalog flags (`personal`,
    `secret`, `identity`, free text: counted as flagged) or types as a date, time, flag or
    float (`password_changed_at` is no password)."""
    from dsar.draft.shapes import government_id_named, password_named, tokens

    if not unflagged(catalog, table, column):
        return None
    words = tokens(column)
    joined = "_".join(words)
    if (
        government_id_named(column)
        or {"social", "security"} <= set(words)
        or {"tax", "id"} <= set(words)
        or joined in {"tin", "sin", "nhs_number", "national_insurance_number", "id_number"}
    ):
        return GOVERNMENT_ID, "a government ID number"
    named = set(words)
    card = named & {"creditcard", "debitcard"} or (
        named & _CARD_WORDS and named & (_NUMBER_WORDS | {"credit", "debit"})
    )
    bank = "iban" in named or ("bank" in named and named & (_NUMBER_WORDS | {"account"}))
    if card or bank:
        return BILLING, "a card or bank account number"
    if password_named(column) or joined in _SECRET_NAMES or "secret" in words:
        return CREDENTIALS, "a password or secret"
    return None
