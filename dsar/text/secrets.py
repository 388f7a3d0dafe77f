"""Secrets in free text: keys by their prefixes, passwords after their word, labelled tokens.

Three kinds, from the most to the least certain:

- `KEY_PATTERNS`: credentials whose shape says what they are, wherever they stand: provider
  prefixes and shapes after gitleaks' and detect-secrets' public rules (AWS `AKIA...`, GitHub
  `ghp_`/`github_pat_`, Slack `xox?-`, Stripe `sk_live_`, Google `AIza...`, OpenAI and
  Anthropic `sk-...`, SendGrid, npm, PyPI, Hugging Face, Telegram bots...), JSON Web Tokens,
  private key blocks, bcrypt hashes, `Bearer` and `Basic` authorizations and the password
  of a URL (`user:pass@host`). `dsar verify` searches bundles with the same list.
- a password, passphrase or PIN right after its word, in many languages ("password: X",
  "pw X", "Passwort: X", "mot de passe : X", "contraseña: X", "senha: X", "hasło: X",
  "пароль: X", "密码：X", "temporary password is X", "PIN code 4821"). The value must look
  like one: never a plain word ("password: incorrect"), a placeholder (`${DB_PASS}`,
  `****`), a date, an amount, a phone number, an address or a link.
- a high-entropy token (20 characters or more, letters and digits, Shannon entropy of at
  least 3.5 bits a character) only after a word that labels it within a few words: key,
  token, secret, api, bearer, pass, auth, credential (also inside a name: `API_KEY=`,
  `"clientSecret":`). Without such a word a token is not a secret: a git commit hash in a
  commit message ("fixed in 3f2a9c1...") is not one, nor is a hash after "commit", "sha",
  "checksum" or "id" even near a key word, nor a UUID or token in a URL's path
  (`/orders/550e8400-e29b-...`); a labelled one is ("token: 3f2a9c1...").

`secrets` returns non-overlapping spans; it never logs or raises with the text it reads.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterator

from dsar.text.spans import SECRET, Span

__all__ = ["KEY_PATTERNS", "KEY_PREFILTER", "PREFILTER", "secrets"]

# -- keys by their shape (also used by `dsar verify`) ---------------------------------------

# a pattern with a group named "secret" marks only that part (the token after "Bearer")
KEY_PATTERNS: dict[str, re.Pattern[str]] = {
    "Stripe-style live key": re.compile(r"\b[rs]k_(?:live|test)_[A-Za-z0-9]{8,}"),
    "Slack token": re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{8,}"),
    "Slack webhook": re.compile(
        r"https://hooks\.slack\.com/(?:services|workflows)/(?P<secret>[A-Za-z0-9+/_-]{20,})"
    ),
    "Google OAuth token": re.compile(r"\bya29\.[A-Za-z0-9_-]{8,}"),
    "Google API key": re.compile(r"\bAIza[0-9A-Za-z_-]{35}(?![0-9A-Za-z_-])"),
    "Shopify token": re.compile(r"\bshp(?:at|ss|ca|pa)_[a-fA-F0-9]{8,}"),
    "HubSpot token": re.compile(r"\bpat-[a-z0-9]+-[a-f0-9-]{8,}"),
    "GitHub token": re.compile(r"\bgh[pousr]_[A-Za-z0-9]{30,}"),
    "GitHub fine-grained token": re.compile(r"\bgithub_pat_[A-Za-z0-9_]{22,}"),
    "GitLab token": re.compile(r"\bgl(?:pat|dt|ptt|rt|cbt|soat|ft|imt)-[A-Za-z0-9_-]{20,}"),
    "bcrypt hash": re.compile(r"\$2[aby]\$\d\d\$[./A-Za-z0-9]{20,}"),
    "AWS access key": re.compile(r"\b(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}\b"),
    "Azure storage key": re.compile(r"AccountKey=(?P<secret>[A-Za-z0-9+/]{80,}={0,2})"),
    "OpenAI key": re.compile(
        r"\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{16,}T3BlbkFJ[A-Za-z0-9_-]{16,}"
        r"|\bsk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{32,}"
    ),
    "Anthropic key": re.compile(r"\bsk-ant-(?:api|admin)\d\d-[A-Za-z0-9_-]{32,}"),
    "API key (sk-)": re.compile(r"\bsk-[A-Za-z0-9]{32,}\b"),
    "SendGrid key": re.compile(r"\bSG\.[A-Za-z0-9_-]{16,32}\.[A-Za-z0-9_-]{16,64}"),
    "Twilio key": re.compile(r"\bSK[0-9a-f]{32}\b"),
    "Mailgun key": re.compile(r"\bkey-[0-9a-f]{32}\b"),
    "Mailchimp key": re.compile(r"\b[0-9a-f]{32}-us\d{1,2}\b"),
    "npm token": re.compile(r"\bnpm_[A-Za-z0-9]{36}\b"),
    "PyPI token": re.compile(r"\bpypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,}"),
    "Hugging Face token": re.compile(r"\bhf_[A-Za-z0-9]{34,}\b"),
    "DigitalOcean token": re.compile(r"\bdo[opr]_v1_[a-f0-9]{64}\b"),
    "Telegram bot token": re.compile(r"\b\d{8,10}:AA[A-Za-z0-9_-]{32,33}\b"),
    "Square token": re.compile(r"\b(?:sq0atp|sq0csp)-[A-Za-z0-9_-]{22,}"),
    "Atlassian token": re.compile(r"\bATATT3[A-Za-z0-9_=-]{100,}"),
    "Postman key": re.compile(r"\bPMAK-[a-f0-9]{24}-[a-f0-9]{34}\b"),
    "Databricks token": re.compile(r"\bdapi[a-f0-9]{32}(?:-\d)?\b"),
    "Vault token": re.compile(r"\bhv[sb]\.[A-Za-z0-9_-]{24,}"),
    "Grafana token": re.compile(r"\bgl(?:c|sa)_[A-Za-z0-9_+/=-]{32,}"),
    "Linear key": re.compile(r"\blin_api_[A-Za-z0-9]{40}\b"),
    "New Relic key": re.compile(r"\bNRAK-[A-Z0-9]{27}\b"),
    # a JSON Web Token: base64url header and payload, each a JSON object ("eyJ" is '{"'),
    # then the signature (empty for alg none)
    "JSON Web Token": re.compile(r"\beyJ[A-Za-z0-9_-]{4,}\.eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*"),
    # the whole block, so that masking it leaves nothing of the key
    "private key": re.compile(
        r"-----BEGIN [A-Z ]*PRIVATE KEY(?: BLOCK)?-----(?:[\s\S]*?-----END [A-Z ]*PRIVATE"
        r" KEY(?: BLOCK)?-----|[A-Za-z0-9+/=\s]*)"
    ),
    "bearer token": re.compile(r"(?i)\bbearer\s+(?P<secret>[A-Za-z0-9\-._~+/]{16,}=*)"),
    "basic authorization": re.compile(r"(?i)\bbasic\s+(?P<secret>[A-Za-z0-9+/]{12,}={0,2})(?!\w)"),
    # the password of a URL's user information: scheme://user:PASSWORD@host
    "password in a URL": re.compile(
        r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s:/@]+:(?P<secret>[^\s:/@]{3,})@[\w.-]+"
    ),
}

# -- passwords and PINs after their word -----------------------------------------------------

_PASSWORD_WORDS = (
    r"passwords?|passwort|passwd|pass-?word|pwd|pw|passcode|passphrase|pass-?phrase|kennwort"
    r"|mot de passe|mdp|contraseña|contrasena|senha|hasło|haslo|parol[aă]|wachtwoord"
    r"|lösenord|losenord|adgangskode|passord|salasana|heslo|jelszó|şifre|sifre|şifresi"
    r"|пароль|пароля|parool|κωδικός|κωδικό|mật khẩu|كلمة المرور|كلمة السر|סיסמה|סיסמא"
    r"|login:? ?[\w.@-]+ ?/ ?pass(?:word)?"
)
_CJK_PASSWORD_WORDS = r"密码|密碼|口令|パスワード|暗証番号|비밀번호|암호"
_PIN_WORDS = (
    r"pin(?:[\s-]?(?:code|number|no\.?|nummer|numéro))?|pincode|code pin|code secret|geheimzahl"
    r"|otp|one[\s-]time (?:code|password|pin)|verification code|2fa code|security code"
    r"|passcode|código pin|codice pin|kod pin"
)
# "pass" alone is a password only as a field ("user: ann / pass: X"), not a boarding pass
_PASS_FIELD = r"(?<![\w-])pass(?=\s*[:=])"

_CONNECT = (
    r"(?:\s*(?:[:=：]+|-+>|=>)\s*"
    r"|\s+(?:(?:is|was|now|is now|set to|changed to|reset to|will be|should be|ist|lautet"
    r"|est|es|é|è|jest|to|är|er|on|este|wordt|ni|için)\s+)*"
    r"|\s*(?:是|为|為|は|는|은|:)\s*)"
)
_SKIP_WORDS = r"(?:\s+[^\s:=：]{1,20}){1,5}?\s*(?:[:=：]|\s(?:is|ist|est|es|é|jest|är|er)\s)\s*"
_VALUE = (
    r"(?:(?P<q>[\"'“‘`«„])(?P<quoted>[^\"'“”‘’`»\n]{1,64})[\"'”’`»“]"
    r"|(?P<bare>[^\s\"'“”‘’„`<>,;，。、；：「」（）()\[\]\u3000-\u9fff\uac00-\ud7af]{1,128}))"
)
_PASSWORD_CUE = (
    rf"(?P<cue>(?<![\w-])(?:{_PASSWORD_WORDS})(?![\w])|{_CJK_PASSWORD_WORDS}|{_PASS_FIELD})"
)
# "password: X", and "the password for the admin account is X"
_PASSWORD = (
    re.compile(rf"(?i){_PASSWORD_CUE}{_CONNECT}{_VALUE}"),
    re.compile(rf"(?i){_PASSWORD_CUE}{_SKIP_WORDS}{_VALUE}"),
)
# a pass that opens a door, not an account
_NOT_A_PASSWORD_BEFORE = re.compile(
    r"(?i)(?:boarding|bus|day|season|hall|visitor|guest|gate|access|press|travel|ski|rail"
    r"|train|transit|weekly|monthly|annual|backstage|parking|park|mountain|free|hard|first"
    r"|second|final)\s*$"
)
_PIN = re.compile(
    rf"(?i)(?<![\w-])(?P<word>{_PIN_WORDS})(?![\w]){_CONNECT}(?P<digits>\d{{4,8}})(?![\w.,/:-]\d|\w)"
)

_PLACEHOLDER = re.compile(
    r"(?i)^(?:\$\{?\w+\}?|\{\{.*\}\}|%\w+%?|<.*>|\[.*\]|\*+|•+|x{3,}|\.{3,}|…+|\?+|-+|_+"
    r"|redacted|hidden|removed|none|null|n/?a|tbd|same|unchanged|changed|sent|below|above)$"
)
_DATE_OR_TIME = re.compile(r"^\d{1,4}[./-]\d{1,2}(?:[./-]\d{1,4})?$|^\d{1,2}:\d{2}(?::\d{2})?$")
_AMOUNT = re.compile(r"^[$€£¥₹]?\d{1,3}(?:[.,\s]\d{3})*(?:[.,]\d{1,2})?[$€£¥₹%]?$")
_PHONE = re.compile(r"^\+?[\d().\s-]{9,}$")
_EMAIL_OR_LINK = re.compile(r"(?i)^[^@\s]+@[^@\s]+\.[a-z]{2,}$|://|^www\.")
_TRAILING = ".,;:)]}>'\"”’»"


def _looks_like_password(value: str, quoted: bool) -> bool:
    """A password, not a plain word, placeholder, date, amount, phone, address or link."""
    if not 4 <= len(value) <= 128 or _PLACEHOLDER.match(value) or _EMAIL_OR_LINK.search(value):
        return False
    if _DATE_OR_TIME.match(value) or _PHONE.match(value) or len(set(value)) == 1:
        return False
    if value.isdigit():
        return 6 <= len(value) <= 12
    if _AMOUNT.match(value):
        return False
    if quoted and len(value) >= 6:
        return True
    has_digit = any(c.isdigit() for c in value)
    has_symbol = any(not c.isalnum() for c in value)
    inner_capital = any(c.isupper() for c in value[1:]) and any(c.islower() for c in value)
    return has_digit or has_symbol or inner_capital


def _passwords(text: str) -> Iterator[tuple[int, int]]:
    for m in (m for pattern in _PASSWORD for m in pattern.finditer(text)):
        if m.group("cue").lower() == "pass" and _NOT_A_PASSWORD_BEFORE.search(
            text[max(0, m.start() - 12) : m.start()]
        ):
            continue
        if m.group("quoted") is not None:
            start, end, quoted = m.start("quoted"), m.end("quoted"), True
        else:
            start, end, quoted = m.start("bare"), m.end("bare"), False
            while end > start and text[end - 1] in _TRAILING:
                end -= 1
        if end > start and _looks_like_password(text[start:end], quoted):
            yield start, end
    for m in _PIN.finditer(text):
        digits = m.group("digits")
        if "code" in m.group("word").lower().replace("codice", "") and len(digits) == 6:
            continue  # an Indian postal PIN code ("PIN code 560001") is an address
        if not _DATE_OR_TIME.match(digits) and not re.fullmatch(r"(?:19|20)\d\d", digits):
            yield m.start("digits"), m.end("digits")


# -- high-entropy tokens after a word that labels them -----------------------------------------

_TOKEN = re.compile(r"(?<![\w+/.~-])[A-Za-z0-9+/_\-.~]{20,}={0,2}")
_TOKEN_CUE = re.compile(
    r"(?i)(?:api|key|token|secret|bearer|pass|pwd|auth|credential|signature|private"
    r"|clé|chave|clave|schlüssel|schluessel|klucz|ключ|токен|секрет|密钥|密鑰|令牌|秘钥"
    r"|キー|トークン|토큰|키)"
)
# a hash after one of these words is a commit, a checksum or an ID, not a secret
_NOT_SECRET_BEFORE = re.compile(
    r"(?i)(?:commit|sha\d*|hash|revision|rev|changeset|merge|cherry-pick|build|version"
    r"|checksum|digest|md5|etag|uuid|guid|id|request[\s_-]?id|trace[\s_-]?id)\W{0,3}$"
)
MIN_ENTROPY = 3.5  # bits a character: random base64 scores 4 and more, words and paths less
_CUE_WINDOW = 40


def entropy(value: str) -> float:
    """Shannon entropy in bits per character."""
    counts = Counter(value)
    return -sum(n / len(value) * math.log2(n / len(value)) for n in counts.values())


def _tokens(text: str) -> Iterator[tuple[int, int]]:
    for m in _TOKEN.finditer(text):
        start, end = m.start(), m.end()
        while end > start and text[end - 1] in ".-~":
            end -= 1
        value = text[start:end]
        if len(value) < 20 or not any(c.isdigit() for c in value):
            continue
        if not any(c.isalpha() for c in value) or entropy(value) < MIN_ENTROPY:
            continue
        if "." in value and "/" in value:  # a path or a host, not a key
            continue
        before = text[max(0, start - _CUE_WINDOW) : start]
        line = before.rsplit("\n", 1)[-1]
        if start > 0 and text[start - 1] == "/" and "?" not in line.rsplit(" ", 1)[-1]:
            continue  # in a URL's path (an order's UUID), not its query ("?token=")
        if _NOT_SECRET_BEFORE.search(line):
            continue
        if _TOKEN_CUE.search(line):
            yield start, end


# -- all together ------------------------------------------------------------------------

# which texts can hold a secret, as one RE2 expression (the engine's vectorised prefilter)
PREFILTER = (
    r"(?i)_live_|_test_|xox|ya29\.|shp(?:at|ss|ca|pa)_|pat-|gh[pousr]_|\$2[aby]\$|akia|asia"
    r"|a3t|abia|acca|private key|eyj|aiza|sk-|sg\.|npm_|pypi-|hf_|_v1_|:aa|sq0|atatt|pmak"
    r"|dapi|hv[sb]\.|glc_|glsa_|lin_api|nrak|sk[0-9a-f]|key|token|secret|bearer|basic"
    r"|pass|pw|pin|otp|code|auth|cred|sig|private|://[^/\s:@]+:[^/\s@]+@|kennwort|mot de"
    r"|mdp|contrase|senha|clave|has[łl]o|parol|wachtwoord|l[öo]senord|adgangskode|salasana"
    r"|heslo|jelsz|[şs]ifre|пароль|密码|密碼|口令|パスワード|暗証|비밀번호|암호|كلمة|סיסמ"
    r"|mật khẩu|κωδικ|clé|chave|schl[üu]ssel|klucz|ключ|токен|секрет|密钥|密鑰|令牌|秘钥"
    r"|キー|トークン|토큰|키"
)


# which texts can hold a key of `KEY_PATTERNS` (RE2, the engine's vectorised test): a part
# of each pattern that every match of it holds, as that pattern compares it; "basic" in any
# case, and with the Turkish i's that Python's case folding equates with i
KEY_PREFILTER = (
    r"[rs]k_(?:live|test)_|xox[abposr]-|https://hooks\.slack\.com/|ya29\.|AIza"
    r"|shp(?:at|ss|ca|pa)_|pat-|gh[pousr]_|github_pat_|gl(?:pat|dt|ptt|rt|cbt|soat|ft|imt)-"
    r"|\$2[aby]\$|A3T|AKIA|ASIA|ABIA|ACCA|AccountKey=|sk-|SG\.|SK[0-9a-f]|key-|-us\p{Nd}"
    r"|npm_|pypi-|hf_|do[opr]_v1_|:AA|sq0atp|sq0csp|ATATT3|PMAK-|dapi|hv[sb]\.|gl(?:c|sa)_"
    r"|lin_api_|NRAK-|eyJ|PRIVATE KEY|(?i:bearer)|(?i:bas[i\x{131}\x{130}]c)|://"
)


def secrets(text: str, keys: bool = True) -> Iterator[Span]:
    """The secrets in one text, without overlaps: a key's shape first, then a password
    after its word, then a labelled token; of two that overlap the first found stays.
    `keys=False`: the text holds no part of any key (`KEY_PREFILTER` said so)."""
    found: list[tuple[int, int]] = []
    for pattern in KEY_PATTERNS.values() if keys else ():
        for m in pattern.finditer(text):
            part = "secret" if "secret" in pattern.groupindex else 0
            found.append((m.start(part), m.end(part)))
    found += _passwords(text)
    found += _tokens(text)
    taken: list[tuple[int, int]] = []
    for start, end in found:
        if start < end and not any(start < b and a < end for a, b in taken):
            taken.append((start, end))
    for start, end in sorted(taken):
        yield Span(start, end, SECRET)
