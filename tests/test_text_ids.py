"""Government IDs of many countries and secrets in free text (issue 24).

Per ID type: a valid number with its word is found; the same number with one digit changed
is not (the checksum is required); a shape specific enough is found alone, the others only
with a word. IDs without a checksum (passports, driving licences, NIN, CCCD) only right after
their word. Secrets: keys by their prefixes, passwords after their word in many languages,
labelled high-entropy tokens, and the look-alikes that are none.
"""

from __future__ import annotations

import pytest

from dsar.text.detectors import SECRET_PATTERNS, government_ids
from dsar.text.engine import TextEngine
from dsar.text.identifiers import NATIONAL_IDS
from dsar.text.secrets import secrets
from dsar.text.spans import GOVERNMENT_IDS

# entity: (a word naming it, a valid number as it is written)
# ruff: noqa: RUF001 - IDs written in Chinese, Japanese and Korean texts
VALID = {
    "BR_CPF": ("CPF", "390.533.447-05"),
    "BR_CNPJ": ("CNPJ", "11.222.333/0001-81"),
    "IN_AADHAAR": ("Aadhaar", "2345 6789 0124"),
    "IN_PAN": ("PAN", "ABCPE1234F"),
    "CN_RESIDENT_ID": ("身份证号码", "11010519491231002X"),
    "KR_RRN": ("주민등록번호", "850101-1087656"),
    "JP_MY_NUMBER": ("マイナンバー", "123456789018"),
    "TR_NATIONAL_ID": ("TC Kimlik No", "17291716060"),
    "SE_PERSONNUMMER": ("personnummer", "880320-0016"),
    "NO_FODSELSNUMMER": ("fødselsnummer", "15108695088"),
    "DK_CPR": ("CPR-nr.", "211062-5629"),
    "NL_BSN": ("BSN", "111222333"),
    "BE_NATIONAL_NUMBER": ("rijksregisternummer", "85.07.30-033.28"),
    "FR_NIR": ("numéro de sécurité sociale", "2 95 10 99 126 111 93"),
    "DE_TAX_ID": ("Steuer-IdNr.", "36 574 261 809"),
    "IE_PPS": ("PPS", "6433435F"),
    "PT_NIF": ("NIF", "501 964 843"),
    "PT_CC": ("cartão de cidadão", "00000000 0 ZZ4"),
    "CA_SIN": ("SIN", "130 692 544"),
    "AU_TFN": ("TFN", "123 456 782"),
    "SG_NRIC_FIN": ("NRIC", "S1234567D"),
    "ZA_ID_NUMBER": ("RSA ID", "7503305044089"),
    "GR_AMKA": ("AMKA", "01013099997"),
    "MX_CURP": ("CURP", "BOXW310820HNERXN09"),
    "CL_RUT": ("RUT", "76.086.428-5"),
    "IL_ID": ("teudat zehut", "039337423"),
    "RU_INN": ("ИНН", "7707083893"),
    "RU_SNILS": ("СНИЛС", "112-233-445 95"),
    "RO_CNP": ("CNP", "1850723123451"),
    "CZ_BIRTH_NUMBER": ("rodné číslo", "855315/1233"),
    "TH_ID": ("เลขประจำตัวประชาชน", "1-1017-00123-45-6"),
    "AE_EMIRATES_ID": ("Emirates ID", "784-1990-1234567-6"),
    "PK_CNIC": ("CNIC", "35202-1234567-1"),
    "ID_NIK": ("NIK", "3171012501900003"),
}
# found without a word: long, or written with their separators
ALONE = {
    "BR_CPF",
    "BR_CNPJ",
    "IN_AADHAAR",
    "IN_PAN",
    "CN_RESIDENT_ID",
    "KR_RRN",
    "BE_NATIONAL_NUMBER",
    "FR_NIR",
    "IE_PPS",
    "PT_CC",
    "SG_NRIC_FIN",
    "MX_CURP",
    "CL_RUT",
    "RU_SNILS",
    "TH_ID",
    "AE_EMIRATES_ID",
}
# no check digit to break: a birth date only (Denmark since 2007), or a shape (India's PAN)
NO_CHECK_DIGIT = {"DK_CPR", "IN_PAN", "PK_CNIC", "ID_NIK"}


def ids(text: str) -> list[tuple[str, str]]:
    """The IDs found at the engine's threshold (a bare 9 digits is an SSN shape at 0.05)."""
    return [(s.entity, text[s.start : s.end]) for s in government_ids(text) if s.score >= 0.5]


def values(text: str) -> set[str]:
    return {value for _, value in ids(text)}


def one_digit_changed(value: str) -> str:
    """The second digit of the number, one up."""
    at = [i for i, c in enumerate(value) if c.isdigit()][1]
    return value[:at] + str((int(value[at]) + 1) % 10) + value[at + 1 :]


def test_every_type_has_a_case_and_is_a_government_id() -> None:
    assert {spec.entity for spec in NATIONAL_IDS} == set(VALID)
    assert set(VALID) <= set(GOVERNMENT_IDS)
    assert {"PASSPORT", "DRIVER_LICENSE", "NATIONAL_ID"} <= set(GOVERNMENT_IDS)


@pytest.mark.parametrize("entity", sorted(VALID))
def test_a_valid_number_with_its_word_is_found(entity: str) -> None:
    word, number = VALID[entity]
    text = f"Customer record — {word}: {number}, updated today."
    assert (entity, number) in ids(text)


@pytest.mark.parametrize("entity", sorted(VALID.keys() - NO_CHECK_DIGIT))
def test_one_digit_changed_is_not_found_even_with_its_word(entity: str) -> None:
    word, number = VALID[entity]
    wrong = one_digit_changed(number)
    spec = next(s for s in NATIONAL_IDS if s.entity == entity)
    assert not spec.valid(wrong)
    text = f"Customer record — {word}: {wrong}, updated today."
    found = [e for e, v in ids(text) if v == wrong]
    # Korea's numbers issued since 2020 carry no check digit: with its word the date will do
    assert found == ([] if entity != "KR_RRN" else ["KR_RRN"])
    assert wrong not in values(f"Reference {wrong} attached.")


@pytest.mark.parametrize("entity", sorted(VALID))
def test_alone_only_when_the_shape_is_specific(entity: str) -> None:
    _, number = VALID[entity]
    found = entity in {e for e, v in ids(f"Reference {number} attached.") if v == number}
    assert found == (entity in ALONE)


def test_a_lower_case_or_non_personal_pan_needs_its_word() -> None:
    assert values("code abcpe1234f here") == set()
    assert values("code ABCFE1234F here") == set()  # a firm's PAN
    assert values("PAN abcpe1234f") == {"abcpe1234f"}
    assert values("code ABCQE1234F here") == set()  # no such holder type


@pytest.mark.parametrize(
    ("text", "entity", "value"),
    [
        ("passport no. X1234567, expires 2031", "PASSPORT", "X1234567"),
        ("Reisepass-Nr.: C01X00T47", "PASSPORT", "C01X00T47"),
        ("numéro de passeport : 12AB34567", "PASSPORT", "12AB34567"),
        ("pasaporte PAB123456", "PASSPORT", "PAB123456"),
        ("паспорт 4510 123456", "PASSPORT", "4510 123456"),
        ("护照号码：E12345678", "PASSPORT", "E12345678"),
        ("여권번호 M12345678 입니다", "PASSPORT", "M12345678"),
        ("パスポート番号はTK1234567です", "PASSPORT", "TK1234567"),
        ("driver's license: D123-4567-8901", "DRIVER_LICENSE", "D123-4567-8901"),
        ("Führerschein B072RRE2I55.", "DRIVER_LICENSE", "B072RRE2I55"),
        ("permis de conduire n° 12AA34567", "DRIVER_LICENSE", "12AA34567"),
        ("NIN: 12345678901", "NATIONAL_ID", "12345678901"),
        ("số CCCD 001234567890", "NATIONAL_ID", "001234567890"),
        ("Ausweisnummer L01X00T47", "NATIONAL_ID", "L01X00T47"),
    ],
)
def test_an_id_without_a_checksum_is_found_after_its_word(
    text: str, entity: str, value: str
) -> None:
    assert (entity, value) in ids(text)
    # the same number without the word is not an ID
    bare = text.replace(value, "").strip() + " ref " + value
    assert value not in values(f"ref {value} attached") or bare == ""


@pytest.mark.parametrize(
    "text",
    [
        "order ID 12345678901 shipped",  # a company's own ID
        "ticket ID no. 17291716060",
        "passport photo attached, expires 12/05/2031",  # a date, not a number
        "passport expires 2031-05-12",
        "my passport is valid until June",
        "call 17291716060 tomorrow",  # a valid T.C. number's digits, as a phone, no word
        "shipment 880320-0016 left",  # a date-based reference shaped as a personnummer
        "Meeting ID: 334 221 908",
        "SIN 130 692 545",  # one digit off
    ],
)
def test_look_alikes_are_no_ids(text: str) -> None:
    assert ids(text) == []


def test_an_id_with_its_word_beats_a_phone_number() -> None:
    """Through the engine: a labelled ID is reported as an ID, not as a phone number."""
    engine = TextEngine(nlp=None)
    text = "Please update NIN: 12345678901 and TC Kimlik No 17291716060."
    found = [(s.entity, text[s.start : s.end]) for s in engine.analyze([text])[0]]
    assert ("NATIONAL_ID", "12345678901") in found
    assert any(v == "17291716060" and e in GOVERNMENT_IDS for e, v in found)
    phone = "Call me on +44 20 7946 0958 today."
    assert [s.entity for s in engine.analyze([phone])[0]] == ["PHONE_NUMBER"]


# -- secrets ---------------------------------------------------------------------------------


def found_secrets(text: str) -> list[str]:
    return [text[s.start : s.end] for s in secrets(text)]


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("key AKIAIOSFODNN7EXAMPLE in the log", "AKIAIOSFODNN7EXAMPLE"),
        (
            "token ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789",
            "ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789",
        ),
        (
            "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz012345 in chat",
            "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz012345",
        ),
        ("slack xoxb-1234567890-abcdefghij ok", "xoxb-1234567890-abcdefghij"),
        ("stripe rk_live_51Habcdefgh12345 now", "rk_live_51Habcdefgh12345"),
        (
            "maps AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q ok",
            "AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q",
        ),
        ("glpat-aB3dE5fG7hJ9kL1mN3pQ in the MR", "glpat-aB3dE5fG7hJ9kL1mN3pQ"),
        ("Authorization: Bearer abcDEF123456ghiJKL789", "abcDEF123456ghiJKL789"),
        ("DATABASE_URL=postgres://app:Tr0ub4dor@db.internal:5432/main", "Tr0ub4dor"),
        (
            "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaA==\n-----END OPENSSH PRIVATE KEY-----",
            None,
        ),
        ("password: Summer2024!", "Summer2024!"),
        ("temporary password is Xk9#mp2q", "Xk9#mp2q"),
        ("pw hunter22", "hunter22"),
        ("Passwort: Sommer2024", "Sommer2024"),
        ("mot de passe : Azerty123!", "Azerty123!"),
        ("contraseña: Clave#2024", "Clave#2024"),
        ("senha: abc12345", "abc12345"),
        ("hasło: Zaq12wsx", "Zaq12wsx"),
        ("пароль: qwerty123", "qwerty123"),
        ("密码：abc12345", "abc12345"),
        ("密码是Abc12345请尽快修改", "Abc12345"),
        ("the password for the admin account is Gr8!pass", "Gr8!pass"),
        ("user: admin / pass: Xy12!ab", "Xy12!ab"),
        ("your PIN 4821 arrives by post", "4821"),
        ("PIN code: 4821", "4821"),
        ("export API_KEY=9f8e7d6c5b4a39281706f5e4d3c2b1a0", "9f8e7d6c5b4a39281706f5e4d3c2b1a0"),
        (
            "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        ),
        (
            "token: 3f2a9c1d4e5b6a7980c1d2e3f4a5b6c7d8e9f0a1",
            "3f2a9c1d4e5b6a7980c1d2e3f4a5b6c7d8e9f0a1",
        ),
    ],
)
def test_a_secret_is_found(text: str, secret: str | None) -> None:
    assert found_secrets(text) == [secret if secret is not None else text]


@pytest.mark.parametrize(
    "text",
    [
        "the password is incorrect",  # a plain word
        "wifi password: sunshine",  # a plain word, never a secret alone
        "password: ${DB_PASSWORD}",  # a placeholder
        "password: ********",
        "password reset link sent to anna@example.com",
        "password was changed on 2024-03-01",  # a date
        "Password expires in 90 days",
        "boarding pass: BP12345",
        "pin code 560001, Bengaluru",  # an Indian postal PIN code
        "pin 2024",  # a year
        "fixed in commit 3f2a9c1d4e5b6a7980c1d2e3f4a5b6c7d8e9f0a1",  # a commit hash
        "rotate the key, see commit 3f2a9c1d4e5b6a7980c1d2e3f4a5b6c7d8e9f0a1",  # labelled commit
        "see /orders/550e8400-e29b-41d4-a716-446655440000/items",  # a UUID in a URL path
        "the key point is 3f2a9c1d4e5b6a7980c1d2e3f4a5b6c7d8e9f0a1/docs/readme.md",  # a path
        "paid 1,250.00 EUR, password policy: see wiki",
        "eyJ is how a JSON object starts in base64; eyJhbGci.x.y",
    ],
)
def test_look_alikes_are_no_secrets(text: str) -> None:
    assert found_secrets(text) == []


def test_verify_searches_for_the_key_shapes() -> None:
    """`dsar verify` uses the same list: the new key shapes are among its patterns."""
    assert any(
        p.search("AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q") for p in SECRET_PATTERNS.values()
    )
    assert not any(p.search("the password is incorrect") for p in SECRET_PATTERNS.values())


def test_the_engine_masks_a_password_through_its_prefilter() -> None:
    engine = TextEngine(nlp=None)
    text = "Ticket 4412: new Passwort: Sommer2024, bitte ändern."
    [spans] = engine.analyze([text], ["SECRET"])
    assert [text[s.start : s.end] for s in spans] == ["Sommer2024"]
