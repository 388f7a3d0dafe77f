"""People named by a text's structure: chat speakers, mail headers, form fields, table columns,
user names and file names, titles in many languages, and names in scripts without capitals.

Each finder takes a text and returns PERSON spans (`Span`, source "shape") for the places
where the layout, not the word, says a person is named: the speaker of a chat line, the
value of a `Name:` field or of a `first_name` column, the display name in a `From:` header,
a `jsmith` after `user=` or `@`, `Brennan_Niamh` in a file name, the word after "Herr" or
before "さん". The words themselves are checked against the name lists of many countries
(`dsar.text.lexicon`) where the position alone is not enough, and words that are labels,
greetings or roles (`STOP_WORDS`) are never taken.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import pairwise

import regex

from dsar.text.detectors import PERSON, Span
from dsar.text.lexicon import (
    STOP_WORDS,
    TITLE_WORDS,
    is_english_word,
    is_name_word,
    name_lexicon,
)

# a word of a name in any script: letters, marks, inner apostrophes, hyphens and dots
_W = r"[\p{L}\p{M}][\p{L}\p{M}'\u2019.\-]*"
_NAME = rf"{_W}(?:,?[^\S\n]{_W}){{0,3}}"
_TIME = r"\d{1,2}[:.]\d{2}(?:[:.]\d{2})?(?:[^\S\n]?[AaPp]\.?[Mm]\.?)?"
_SPEAKER_LINES = [
    regex.compile(p, regex.MULTILINE)
    for p in (
        # [09:14] Name:   09:14 Name:   [2026-03-02 09:14] Name:   (09:14) - Name:
        # [3/14 10:02] Name: (Teams)
        rf"^[^\S\n]*[\[(]?(?:\d{{4}}-\d{{2}}-\d{{2}}[ T]|\d{{1,2}}[/.]\d{{1,2}}[^\S\n]+)?{_TIME}"
        rf"[\])]?[^\S\n]*(?:[-–|][^\S\n]*)?"
        rf"(?P<name>{_NAME})[^\S\n]*:",
        # 12/03/2026, 08:41 - Name:   [12.03.26, 08:41:10] Name:
        rf"^[^\S\n]*\[?\d{{1,2}}[/.-]\d{{1,2}}[/.-]\d{{2,4}},?[^\S\n]+{_TIME}\]?[^\S\n]*"
        rf"(?:[-–][^\S\n]*)?(?P<name>{_NAME})[^\S\n]*:",
        # IRC: <nick> message
        r"^[^\S\n]*<(?P<name>[\w.\-]{2,30})>[^\S\n]",
        # Slack, Teams, Discord: "Name  10:02 AM", "Name — Today at 11:32", "Name 9:03 AM:"
        rf"^[^\S\n]*(?P<name>(?![\p{{Ll}}\d]){_NAME})[^\S\n]+(?:[—–-][^\S\n]*(?:Today|Yesterday|\d)|{_TIME}"
        rf"[^\S\n]*(?::|$))",
    )
]
# "Name: message" with no time: a speaker only when several lines speak
_PLAIN_SPEAKER = regex.compile(
    rf"^[^\S\n]*(?P<bullet>[-*•>][^\S\n]*)?(?P<name>{_NAME})[^\S\n]*:[^\S\n]+\S", regex.MULTILINE
)
_BOT_WORDS = frozenset(
    """bot jenkins github gitlab sentry slackbot zendesk system alerts alert monitor reminder
    pagerduty datadog grafana jira confluence deploybot deploy build ci cron webhook
    automation workflow notification notifications reception security support""".split()  # noqa: SIM905
)

_HEADER = regex.compile(
    r"^[^\S\n]*(?:>[^\S\n]*)*(?P<key>From|To|Cc|CC|Bcc|BCC|Reply-To|Sender|Von|An|De|À|A|Para"
    r"|Van|Aan|Od|Do|Da|Från|Till|Fra|Til|От|Кому|Копия|Organi[sz]er|Attendees|Participants"
    r"|Required|Optional|Teilnehmer|Participants)[^\S\n]*:[^\S\n]*(?P<value>[^\n]+)$",
    regex.MULTILINE,
)
_CN = regex.compile(r"(?:ORGANIZER|ATTENDEE)[^:\n]*?;CN=\"?(?P<value>[^\";:\n]+)")
_ADDRESS = regex.compile(r"<[^<>\n]*>|\(?mailto:\S+|\S+@\S+|\[[^\]\n]*\]|\"")

# form fields whose value is a person's name ("Caller: Robert Fitzgerald")
_PERSON_FIELDS = regex.compile(
    r"(?:^|[\n|;]|[.!][^\S\n]+)[^\S\n]*(?P<label>(?:[\p{L}]+[^\S\n]+){0,6}?(?:name|names)|caller|contact"
    r"|contact person|assignee|assigned to|account owner|owner|requester|requestor|reporter"
    r"|agent|signed|signed by|signatory|delivered to|received by|witness|patient|passenger"
    r"|employee|line manager|manager|cover|covering|organi[sz]er|attendees|participants"
    r"|approver|approved by|cardholder|account holder|holder|guest|client|customer|tenant"
    r"|applicant|beneficiary|emergency contact|next of kin|doctor|gp|vorname|nachname"
    r"|ansprechpartner|nombre|apellidos?|prénom|prenom|nom|nome|cognome|imię|imie|nazwisko"
    r"|voornaam|achternaam|naam|förnamn|efternamn|ad|soyad|soyadı|имя|фамилия|όνομα|επώνυμο"
    r"|الاسم|اسم|שם|שם מלא|नाम|姓名|氏名|名前|이름|ชื่อ|ชื่อ-นามสกุล"
    r"|present|apologies|absent|follow up|follow-up|action|cover|handled by|escalated to"
    r"|driver|fahrer|chair|chaired by|host|facilitator|on duty|on call|minute taker|scribe"
    r"|visitor|visitor name|besucher|visiteur|visitante"
    r"|from|by)[^\S\n]*[:=\uff1a][^\S\n]*(?P<value>[^\n:\uff1a]+?)[^\S\n]*$",
    regex.IGNORECASE | regex.MULTILINE,
)
_NOT_PERSON_FIELD = frozenset(
    """company business product file project user brand trading display host domain team
    account app store shop street place city legal registered plan package server field
    column table workspace integration channel bucket database db event tag role group branch
    repo repository service device network folder variable key queue topic bank organisation
    organization org venue hotel cluster environment region merchant payee vendor supplier
    site instance pipeline job task model room building hospital station school university
    ship bill""".split()  # noqa: SIM905
)
_NAME_HEADERS = frozenset(
    [
        "name",
        "full name",
        "fullname",
        "first name",
        "firstname",
        "first",
        "last name",
        "lastname",
        "last",
        "surname",
        "forename",
        "given name",
        "given",
        "family name",
        "family",
        "middle name",
        "customer name",
        "contact name",
        "requester",
        "agent",
        "assignee",
        "owner",
        "contact",
        "employee",
        "passenger",
        "patient",
        "attendee",
        "reporter",
        "author",
        "manager",
        "vorname",
        "nachname",
        "nombre",
        "apellido",
        "apellidos",
        "nom",
        "prénom",
        "prenom",
        "cognome",
        "nome",
        "imię",
        "imie",
        "nazwisko",
        "voornaam",
        "achternaam",
        "naam",
        "förnamn",
        "efternamn",
        "ad",
        "soyad",
        "person",
        "cardholder",
        "holder",
        "driver",
        "technician",
        "engineer",
        "recipient",
        "sender",
        "customer",
        "client",
        "user",
    ]
)
_HEADER_WORDS = frozenset(" ".join(_NAME_HEADERS).split())

# titles before a name, in many languages (any case: "dr hussain" in a handover note)
_TITLE = regex.compile(
    r"(?<![\p{L}\p{N}])(?P<title>mr|mrs|ms|mx|miss|dr|prof|herr|frau|mme|mlle|monsieur|madame"
    r"|sr|sra|srta|señor|señora|don|doña|signor|signora|sig|sig\.ra|dott|pan|pani|panem|panią"
    r"|panu|panie|pana|meneer|mevrouw|mevr|dhr|sheikh|sheikha|inspector|sergeant|sgt|officer"
    r"|detective|constable|nurse|auntie|aunty|uncle|professor|doctor|sayın|κύριος|κυρία|κύριε"
    r"|κυρ|господин|госпожа|г-н|г-жа)\.?[^\S\n]+(?P<name>(?:[\p{L}\p{M}'\u2019\-]+[^\S\n]?)"
    r"{1,3})",
    regex.IGNORECASE,
)
_AFTER_TITLE = regex.compile(
    r"(?<![\p{L}\p{N}])(?P<name>\p{Lu}[\p{Ll}\p{M}]+)[^\S\n]+(?:Bey|Hanım|Hanim|Efendi|Sahib"
    r"|Sahab|ji|Ji|san|sama)(?![\p{L}])"
)
_PARTICLES = frozenset(
    """van von de der den du le la di da del della dos das ten ter bin binti bint ibn al el
    ní nic ó ui uí mac mc o' st y i""".split()  # noqa: SIM905 - a word list reads better as text
)

# user names: after @, user=, for X from (sshd), --author=, /home/
_HANDLE = regex.compile(
    r"(?:(?<![\w.@])@|\b(?:cc|ping|pinged)[^\S\n]+(?=[a-z]+\.?[a-z]+\b)|\b(?:user|username|login|actor|author|uid|assignee|owner|member|by)"
    r"[^\S\n]*[=:][^\S\n]*\"?|\bfor[^\S\n]+(?:invalid[^\S\n]+user[^\S\n]+)?(?=[\w.\-]+[^\S\n]+from\b)"
    r"|/home/|/Users/|\buseradd[^\S\n]+|\busermod\b[^\n]*?[^\S\n](?=[a-z][\w.\-]*(?:;|$|\s)))"
    r"(?P<name>[A-Za-z][\w.\-]{1,40}[A-Za-z0-9])",
    regex.MULTILINE,
)
_FILE = regex.compile(
    r"(?<![\w.\-])(?P<stem>[\w\-.]+)\.(?:pdf|jpe?g|png|heic|tiff?|docx?|xlsx?|csv|txt|zip|odt)"
    r"\b",
    regex.IGNORECASE,
)
_FILE_EXTENSION = regex.compile(  # what every match of `_FILE` ends with
    r"\.(?:pdf|jpe?g|png|heic|tiff?|docx?|xlsx?|csv|txt|zip|odt)\b", regex.IGNORECASE
)
_SEGMENT = regex.compile(r"[^\W_\d]+")

# scripts written without capitals, and names in them
_CASELESS_WORD = regex.compile(
    r"(?<![\p{L}\p{M}])[\p{Arabic}\p{Hebrew}\p{Devanagari}\p{Bengali}\p{Tamil}\p{Thai}"
    r"\p{Georgian}\p{Armenian}\p{Gujarati}\p{Gurmukhi}][\p{L}\p{M}]*"
)
_CYRILLIC_GREEK = regex.compile(r"(?<![\p{L}\p{M}])[\p{Cyrillic}\p{Greek}][\p{L}\p{M}]+")
_HAN_HONORIFIC = regex.compile(  # not after お/ご, which make a noun polite (お客様: a customer)
    r"(?<![おご])(?P<name>[\p{Han}\p{Katakana}ー]{1,4}?)(?:さん|様|さま|氏|くん|君|ちゃん|先生|殿|女士"
    r"|小姐|经理|經理|老师|老師|同学|總|总)"
)
_HANGUL_NAME = regex.compile(r"(?<!\p{Hangul})(?P<name>\p{Hangul}{2,4}?)[^\S\n]?(?:님|씨|선생님)")
# nouns of roles that take 님 as people's names do ("고객님": the customer)
_HANGUL_ROLES = frozenset(
    "고객 회원 사장 부장 과장 차장 팀장 대리 선생 교수 원장 실장 기사 담당자 이용자".split()  # noqa: SIM905
)
# greetings in scripts without capitals: never a name, nor part of the next one ("שלום דני")
_SCRIPT_GREETINGS = frozenset(
    """שלום היי בברכה תודה مرحبا مرحباً أهلا اهلا السلام سلام شكرا عزيزي عزيزتي नमस्ते नमस्कार
    धन्यवाद प्रिय สวัสดี ขอบคุณ 안녕하세요 감사합니다""".split()  # noqa: SIM905
)
# given names that are everyday words in their script (hope, love, faith, light, peace):
# a name only inside a sentence (a capital there), or after a greeting where there is none
_SCRIPT_WORDS = frozenset(
    """Надежда Любовь Вера Слава Мир Роза Лилия Заря Ελπίδα Αγάπη Ειρήνη Χαρά Δόξα Νίκη
    आशा प्रेम ज्योति शांति किरण पूजा दीपक सूरज विजय आनंद أمل نور سعيد كريم جميل هدى رجاء
    فرح حياة سلام אור טוב חן שמחה ברכה תקווה אושר""".split()  # noqa: SIM905
)
_GREETED_BEFORE = regex.compile(
    r"(?:שלום|היי|مرحبا|مرحباً|أهلا|اهلا|عزيزي|عزيزتي|يا|नमस्ते|नमस्कार|प्रिय|सुश्री|श्रीमती|श्री)"
    r"[^\S\n]*[,،]?[^\S\n]*$"
)
# titles and honorifics of scripts without capitals: the word after them is a name, listed
# or not ("السيد عبدالولي", "श्रीमती कलावती", "מר אבינועם"); Thai writes "คุณ" (Khun) joined to
# the name, which ends at a space, a polite particle or a stop ("คุณวุฒิชัย ส่งของ")
_SCRIPT_TITLE = regex.compile(
    r"(?<![\p{L}\p{M}])(?:السيد|السيدة|الأستاذ|الأستاذة|الدكتور|الدكتورة|الشيخ|الحاج|الحاجة"
    r"|श्रीमती|श्री|सुश्री|कुमारी|डॉ\.?|מר|גברת|ד\"ר|ד״ר)[^\S\n]+"
    r"(?P<name>[\p{Arabic}\p{Hebrew}\p{Devanagari}][\p{L}\p{M}]+)"
)
# words after an Arabic, Hindi or Hebrew title that address, not name ("السيد المحترم": dear sir)
_SCRIPT_TITLE_NOT_NAME = frozenset(
    """المحترم المحترمة الفاضل الفاضلة الكريم الكريمة العزيز العزيزة المدير المديرة الرئيس
    الموظف العميل المسؤول महोदय महोदया जी""".split()  # noqa: SIM905
)
_THAI_KHUN = regex.compile(
    r"(?<!ขอบ)(?:คุณ|นางสาว|นาย|นาง)(?P<name>\p{Thai}{2,12}?)(?:ครับ|ค่ะ|คะ|นะ|จ้ะ|จ้า)?"
    r"(?=[^\S\n]|[,.!?:;)]|$)"
)
# what follows "คุณ" in words that are no name: quality, property, value, merit, benefit
_THAI_KHUN_WORDS = regex.compile(r"ภาพ|สมบัติ|ค่า|ลักษณะ|ธรรม|ประโยชน์|งาม|ความดี|วุฒิ$")
_SENTENCE_OPENS = regex.compile(r"(?:^|[.!?:\n])[^\S\n]*$")
_HAN_RUN = regex.compile(r"\p{Han}{2,}")
_HANGUL_WORD = regex.compile(r"(?<!\p{Hangul})\p{Hangul}{2,4}")


# patterns compiled once (a string pattern is looked up in regex's cache at every call)
_SPLIT_WORDS = regex.compile(r"[\s,/]+")
_SPLIT_PARTS = regex.compile(r"[\s,/_\-]+")
_LATIN = regex.compile(r"\p{Latin}")
_SPLIT_SPEAKER = regex.compile(r"[\s,_.\-]+")
_HEADER_PART = regex.compile(r"[^;]+")
_INVERTED_HEADER = regex.compile(
    rf"[^\S\n]*({_W}(?:[^\S\n]{_W})*),[^\S\n]*({_W}"
    rf"(?:[^\S\n]{_W}){{0,2}})[^\S\n]*"
)
_SPLIT_COMMA = regex.compile(r"[\s,]+")
_PARENTHESIS_TAIL = regex.compile(r"\s*\(.*$")
_INVERTED_FIELD = regex.compile(rf"{_W}(?:[^\S\n]{_W})*,[^\S\n]*{_W}(?:[^\S\n]{_W})*")
_UNDERSCORES = regex.compile(r"[_\-]+")
_TITLED_WORD = regex.compile(r"[\p{L}\p{M}'\u2019\-]+")
_POSSESSIVE = regex.compile(r"['\u2019]s$")
_SPLIT_HANDLE = regex.compile(r"[._\-\d]+")
_LETTER_GAP = regex.compile(r"[^\S\n]{2,}")


def _span(start: int, end: int, score: float = 0.7) -> Span:
    return Span(start, end, PERSON, score, "shape")


def _stop(value: str) -> bool:
    """True when every word of the value is a label, greeting, title or role word."""
    words = [w.strip(".,'\u2019-").casefold() for w in _SPLIT_WORDS.split(value)]
    words = [w for w in words if w]
    return not words or all(w in STOP_WORDS or w in _BOT_WORDS for w in words)


def _lexicon_hit(value: str) -> bool:
    return any(is_name_word(w.strip(".,'\u2019")) for w in _SPLIT_PARTS.split(value))


def _name_like(value: str) -> bool:
    """Letters and name punctuation only, one to five words, not only labels or roles."""
    if not value or any(ch.isdigit() or ch in "@#=<>[]{}|\\:;!?" for ch in value):
        return False
    words = value.replace(",", " ").split()
    return 0 < len(words) <= 5 and not _stop(value)


def speakers(text: str) -> Iterator[Span]:
    """Who speaks on a chat line: after a time, an IRC nick, a Slack or WhatsApp header."""
    for pattern in _SPEAKER_LINES:
        for m in pattern.finditer(text):
            name = m.group("name").strip()
            if _speaker(name):
                yield _span(m.start("name"), m.start("name") + len(name), 0.8)
    plain = [m for m in _PLAIN_SPEAKER.finditer(text) if len(m.group("name").split()) <= 3]
    if len(plain) < 2 and not any(m.group("bullet") for m in plain):
        return
    names = [m.group("name").strip() for m in plain]
    for m, name in zip(plain, names, strict=True):
        repeated = names.count(name) > 1
        # a form's labels ("Тема:", "الموضوع:", "제목:") are as many lines: a line that
        # speaks once is a speaker only when a name list knows its words, in any script
        if _speaker(name) and (repeated or _lexicon_hit(name) or _script_name(name)):
            yield _span(m.start("name"), m.start("name") + len(name), 0.75)


def _script_name(value: str) -> bool:
    """True when a value in a script other than Latin holds a name the lists know: a word of
    them (Cyrillic and Greek declined), or a surname and a given name run together in Han or
    Hangul. Position alone (a line's start before a colon, a sign-off's line) says nothing
    there: labels, departments and greetings stand there as often as names."""
    if _latin(value):
        return False
    firsts, lasts = name_lexicon()
    for word in _SPLIT_WORDS.split(value):
        word = word.strip(".,'\u2019-")
        if not word or word.casefold() in STOP_WORDS or word in _SCRIPT_GREETINGS:
            continue
        if word in _SCRIPT_WORDS:
            continue
        if is_name_word(word) or (
            _CYRILLIC_GREEK.fullmatch(word) and _declined(word, firsts, lasts)
        ):
            return True
        if _HAN_RUN.fullmatch(word) and _han_names(word, 0, firsts, lasts):
            return True
        if _HANGUL_WORD.fullmatch(word) and word[0] in lasts and word[1:] in firsts:
            return True
    return False


def _latin(value: str) -> bool:
    return all(not ch.isalpha() or _LATIN.match(ch) for ch in value)


def _speaker(name: str) -> bool:
    folded = name.casefold()
    words = _SPLIT_SPEAKER.split(folded)
    if any(w in _BOT_WORDS or w.endswith("bot") for w in words):
        return False
    return not _stop(name) and not any(ch.isdigit() for ch in name)


def headers(text: str) -> Iterator[Span]:
    """Display names in mail and calendar headers: `From: Lindqvist, Erik <erik@...>`."""
    for m in _HEADER.finditer(text):
        yield from _header_names(text, m.start("value"), m.group("value"))
    for m in _CN.finditer(text):
        yield from _header_names(text, m.start("value"), m.group("value"))


def _header_names(text: str, start: int, value: str) -> Iterator[Span]:
    cleaned = _ADDRESS.sub(lambda x: " " * len(x.group()), value)
    for part in _HEADER_PART.finditer(cleaned):
        piece = part.group()
        inverted = _INVERTED_HEADER.fullmatch(piece)  # fmt: skip
        names = [piece] if inverted else piece.split(",")
        offset = start + part.start()
        for name in names:
            stripped = name.strip(" \t\"'")
            # `cleaned` keeps every position of `value` (an address became as many spaces),
            # so the name's place in the text is its place in the piece, not a search: a
            # name with an address inside it is not a substring of the text
            at = offset + name.index(stripped) if stripped else offset
            offset += len(name) + 1
            # "Priya Natarajan (Legal)": the role in brackets is no part of the name
            stripped = _PARENTHESIS_TAIL.sub("", stripped).rstrip(" \t\"'")
            if not stripped:
                continue
            if not _name_like(stripped) or not _header_person(stripped):
                continue
            yield _span(at, at + len(stripped), 0.75)


def _header_person(value: str) -> bool:
    words = [w for w in _SPLIT_COMMA.split(value) if w]
    if any(w.casefold() in STOP_WORDS for w in words if w.casefold() not in _PARTICLES):
        return False  # "Service Desk", "Events Team", "IT Support"
    if _lexicon_hit(value):
        return True
    capitalised = [w for w in words if w[:1].isupper() or not w[:1].isalpha()]
    return len(words) >= 2 and len(capitalised) == len(words)


def fields(text: str) -> Iterator[Span]:
    """Values of form fields that hold a person: `Caller: ...`, `Vorname: ...`."""
    if ":" not in text and "=" not in text and "\uff1a" not in text:
        return  # no field's colon or equals sign (half of all texts): nothing to search
    for m in _PERSON_FIELDS.finditer(text):
        label = m.group("label").casefold().split()
        if any(w in _NOT_PERSON_FIELD for w in label[:-1]) or label[0] in _NOT_PERSON_FIELD:
            continue
        value = _PARENTHESIS_TAIL.sub("", m.group("value")).strip(" \t\"'")
        if not value:
            continue
        start = text.index(value, m.start("value"))
        weak = label[-1] in ("from", "by", "client", "customer", "guest", "cover", "covering")
        # a role ("Patient: Stable", "Owner: Finance") holds a name only when it looks like one
        role = not (label[-1] in _NAME_LABELS or " ".join(label) in _NAME_LABELS)
        inverted = _INVERTED_FIELD.fullmatch(value)
        parts = [value] if inverted or "," not in value else value.split(",")
        offset = start
        for part in parts:
            name = part.strip()
            at = text.index(name, offset) if name else offset
            offset += len(part) + 1
            if not _name_like(name):
                continue
            if name.casefold() in ("unassigned", "n/a", "none", "nobody", "tbd", "tba"):
                continue
            if weak and not _lexicon_hit(name):
                continue
            if role and not (_lexicon_hit(name) or _all_capitalised(name) or not _latin(name)):
                continue
            if not (_lexicon_hit(name) or name[:1].isupper() or not name.isascii()):
                continue
            if len(parts) > 1 and not _lexicon_hit(name) and not _all_capitalised(name):
                continue  # "Head of Sales" among attendees
            if name.isupper() and len(name) <= 4 and not _lexicon_hit(name):
                continue  # "CFO"
            yield _span(at, at + len(name), 0.7)


_NAME_LABELS = frozenset(
    """name names vorname nachname nombre apellido apellidos prénom prenom nom nome cognome
    imię imie nazwisko voornaam achternaam naam förnamn efternamn ad soyad soyadı имя
    фамилия όνομα επώνυμο الاسم اسم שם नाम 姓名 氏名 名前 이름 ชื่อ ชื่อ-นามสกุล caller signed
    signatory witness cardholder ansprechpartner
    contact person signed by account holder""".split()  # noqa: SIM905 - reads better as text
) | {"contact person", "signed by", "account holder", "received by", "delivered to"}


def _all_capitalised(value: str) -> bool:
    words = value.split()
    return len(words) >= 2 and all(w[:1].isupper() or w.casefold() in _PARTICLES for w in words)


def tables(text: str) -> Iterator[Span]:
    """Cells of columns headed as names (`first_name`, `Vorname`, `requester`) in pasted
    CSV, semicolon or tab-separated rows."""
    lines = text.split("\n")
    for sep in ("\t", ";", ",", "|"):
        rows = [(i, line) for i, line in enumerate(lines) if line.count(sep) >= 1]
        if len(rows) < 2:
            continue
        head_i, head = rows[0]
        cells = [_cell(c) for c in _split(head, sep)]
        wanted = [j for j, c in enumerate(cells) if _name_header(c)]
        if not wanted:
            continue
        starts = _line_starts(lines)
        for i, line in rows[1:]:
            if i <= head_i:
                continue
            pos = starts[i]
            for j, cell in enumerate(_split(line, sep)):
                value = _cell(cell)
                if j in wanted and value and _name_like(value):
                    named = "name" in cells[j] or cells[j] in _HEADER_WORDS
                    if named or _lexicon_hit(value):
                        at = text.index(value, pos)
                        yield _span(at, at + len(value), 0.75)
                pos += len(cell) + len(sep)
        return


def _split(line: str, sep: str) -> list[str]:
    """Cells of a row, a quoted cell keeping its separators."""
    out, cur, quoted = [], "", False
    for ch in line:
        if ch == '"':
            quoted = not quoted
        if ch == sep and not quoted:
            out.append(cur)
            cur = ""
        else:
            cur += ch
    return [*out, cur]


def _cell(cell: str) -> str:
    return cell.strip().strip('"').strip()


def _name_header(cell: str) -> bool:
    folded = _UNDERSCORES.sub(" ", cell.casefold()).strip()
    if folded in _NAME_HEADERS:
        return True
    words = folded.split()
    return bool(words) and words[-1] == "name" and not _NOT_PERSON_FIELD & set(words)


def _line_starts(lines: list[str]) -> list[int]:
    starts, at = [], 0
    for line in lines:
        starts.append(at)
        at += len(line) + 1
    return starts


def titled(text: str) -> Iterator[Span]:
    """The name after a title in many languages, in any case ("Herr Brandt", "dr hussain"),
    and before the Turkish and Hindi ones ("Emre Bey", "Sharma ji")."""
    for m in _TITLE.finditer(text, overlapped=True):  # "Prof. A and Dr B": both titles
        title = m.group("title")
        lower_title = title.islower() and not text[m.start("name") :].islower()
        if lower_title and title in ("sr", "don", "pan", "sig", "ms", "mr", "dr", "miss"):
            continue  # lower-case title words before a capitalised word: ordinary words
        words = list(_TITLED_WORD.finditer(m.group("name")))
        kept: list[tuple[int, int]] = []
        for w in words:
            word = w.group()
            folded = word.casefold()
            if not kept and folded in TITLE_WORDS:
                continue  # a title after a title: "Frau Rechtsanwältin Oberhuber"
            if folded in STOP_WORDS and folded not in _PARTICLES:
                if kept and not _lexicon_hit(m.group("name")[: w.start()]):
                    kept = []  # "Sr. Product Manager": a rank before a job title
                break
            if not kept and (folded in _PARTICLES and word[:1].islower()):
                break
            lower = word[:1].islower() and folded not in _PARTICLES and not text.islower()
            if lower and (not is_name_word(word) or (kept and is_english_word(folded))):
                break  # "Sergeant Dunmore will visit": the verb is no name
            end = m.start("name") + w.end()
            if _POSSESSIVE.search(word):
                end -= 2  # "Mrs Adeyemi's daughter": the name without its possessive
            kept.append((m.start("name") + w.start(), end))
            if not word[:1].isupper() and folded not in _PARTICLES:
                break  # a lower-case name is one word
        while kept and text[kept[-1][0] : kept[-1][1]].casefold() in _PARTICLES:
            kept.pop()
        if kept:
            yield _span(kept[0][0], kept[-1][1], 0.7)
    for m in _AFTER_TITLE.finditer(text):
        if not _stop(m.group("name")):
            yield _span(m.start("name"), m.end("name"), 0.7)


def handles(text: str) -> Iterator[Span]:
    """User names built from a person's name: `@lena.fischer`, `user=mgarcia`, `jsmith`."""
    for m in _HANDLE.finditer(text):
        name = m.group("name").rstrip(".-")
        if person_handle(name):
            yield _span(m.start("name"), m.start("name") + len(name), 0.7)


def person_handle(handle: str) -> bool:
    """True when a user name is built from a name: a known first name or surname as a part
    (`lena.fischer`, `ravi`), or an initial and a surname (`jsmith`, `s.okeke`)."""
    parts = [p for p in _SPLIT_HANDLE.split(handle.casefold()) if p]
    if not parts or any(p in STOP_WORDS or p in _BOT_WORDS for p in parts):
        return False
    lasts = name_lexicon()[1]
    if any(len(p) >= 3 and is_name_word(p) for p in parts):
        return True
    whole = parts[-1]
    if len(parts) == 1 and len(whole) >= 5:
        rest = whole[1:].capitalize()
        return rest in lasts or whole[2:].capitalize() in lasts
    return len(parts) == 2 and len(parts[0]) == 1 and parts[1].capitalize() in lasts


def file_names(text: str) -> Iterator[Span]:
    """Two name segments side by side in a file name: `Brennan_Niamh_passport.pdf`."""
    if not _FILE_EXTENSION.search(text):
        return  # `_FILE` tries a stem at every word; the extension it ends with is rare
    for m in _FILE.finditer(text):
        segments = list(_SEGMENT.finditer(m.group("stem")))
        for a, b in pairwise(segments):
            if is_name_word(a.group()) and is_name_word(b.group()):
                start = m.start("stem") + a.start()
                yield _span(start, m.start("stem") + b.end(), 0.7)
                break


def scripts(text: str) -> Iterator[Span]:
    """Names in Cyrillic, Greek, Arabic, Hebrew, Indic, Han and Hangul: words of the name
    lists (Cyrillic and Greek declined: "Дмитрию" from "Дмитрий"), a surname and a given
    name run together in Han or Hangul, and whatever precedes an honorific (さん, 先生, 님)."""
    if text.isascii():
        return
    firsts, lasts = name_lexicon()
    out: list[tuple[int, int]] = []
    for m in _CASELESS_WORD.finditer(text):
        word = m.group()
        if word in _SCRIPT_GREETINGS or not (word in firsts or word in lasts):
            continue
        if word in _SCRIPT_WORDS and not _GREETED_BEFORE.search(
            text, max(0, m.start() - 16), m.start()
        ):
            continue  # "आशा है", "نور": hope, light; a name after a greeting ("नमस्ते आशा")
        out.append((m.start(), m.end()))
    for m in _CYRILLIC_GREEK.finditer(text):
        word = m.group()
        opens = _SENTENCE_OPENS.search(text, 0, m.start())
        if word in _SCRIPT_WORDS and opens:
            continue  # "Надежда на ...", "Ελπίδα μας": hope, at a sentence's start
        if (
            word[:1].isupper()
            and _declined(word, firsts, lasts)
            and (word in firsts or word in lasts or not opens)
        ):  # a declined form at a sentence's start is capitalised for the sentence ("Машина")
            out.append((m.start(), m.end()))
    for m in _HAN_HONORIFIC.finditer(text):
        out.append((m.start("name"), m.end("name")))
    for m in _SCRIPT_TITLE.finditer(text):
        name = m.group("name")
        if not (name in STOP_WORDS or name in _SCRIPT_GREETINGS or name in _SCRIPT_TITLE_NOT_NAME):
            out.append((m.start("name"), m.end("name")))
    for m in _THAI_KHUN.finditer(text):
        if not _THAI_KHUN_WORDS.match(m.group("name")) and m.group("name") not in STOP_WORDS:
            out.append((m.start("name"), m.end("name")))
    for m in _HANGUL_NAME.finditer(text):
        if m.group("name") not in _HANGUL_ROLES:
            out.append((m.start("name"), m.end("name")))
    for m in _HANGUL_WORD.finditer(text):
        word = m.group()
        if word[0] in lasts and word[1:] in firsts:
            out.append((m.start(), m.end()))
    for m in _HAN_RUN.finditer(text):
        out += _han_names(m.group(), m.start(), firsts, lasts)
    # a surname beside a given name (across a space) is one name
    out.sort()
    merged: list[tuple[int, int]] = []
    for s, e in out:
        if merged and s <= merged[-1][1] + 1 and text[merged[-1][1] : s].strip() == "":
            merged[-1] = (merged[-1][0], max(e, merged[-1][1]))
        elif not merged or s >= merged[-1][1]:
            merged.append((s, e))
    for s, e in merged:
        yield _span(s, e, 0.7)


def _declined(word: str, firsts: frozenset[str], lasts: frozenset[str]) -> bool:
    if word in firsts or word in lasts:
        return True
    for cut in (1, 2):  # "Андрею", "Сергеем"; three letters off read "Версия" as "Вера"  # noqa: RUF003
        stem = word[:-cut]
        if len(stem) < 3:
            break
        for end in ("", "а", "я", "й", "ь", "ος", "ς", "α", "η", "ий", "ей"):
            if stem + end in firsts or stem + end in lasts:
                return True
    return False


def _han_names(
    run: str, start: int, firsts: frozenset[str], lasts: frozenset[str]
) -> list[tuple[int, int]]:
    out, i = [], 0
    while i < len(run):
        hit = 0
        for sl in (2, 1):
            surname = run[i : i + sl]
            if len(surname) < sl or surname not in lasts:
                continue
            if sl == 2 and i + sl <= len(run):
                hit = sl  # a two-character surname stands alone (田中, 鈴木)
            for gl in (2, 1):
                given = run[i + sl : i + sl + gl]
                if len(given) == gl and given in firsts:
                    hit = sl + gl
                    break
            if hit:
                break
        if hit:
            out.append((start + i, start + i + hit))
            i += hit
        else:
            i += 1
    return out


_CLOSING = (
    r"regards|kind regards|best regards|warm regards|best|cheers|thanks|thank you|many thanks"
    r"|thx|ty|sincerely|yours sincerely|yours truly|yours|take care|br|rgds|regds|mfg|lg|vg"
    r"|mit freundlichen grüßen|freundliche grüße|viele grüße|liebe grüße|beste grüße|grüße"
    r"|gruß|cordialement|bien à vous|bien cordialement|amicalement|merci|saludos|un saludo"
    r"|atentamente|abrazo|abrazos|abraço|abraços|atenciosamente|obrigad[oa]|cumprimentos"
    r"|grazie|cordiali saluti|distinti saluti|saluti|groeten|met vriendelijke groet|groet|mvg"
    r"|pozdrawiam|pozdrawiam serdecznie|z poważaniem|hälsningar|mvh|med vänlig hälsning"
    r"|hilsen|iyi çalışmalar|saygılarımla|с уважением|спасибо|всего доброго|με εκτίμηση"
    r"|ευχαριστώ|감사합니다|よろしくお願いします|谢谢|شكرا|مع التحية|תודה|בברכה|dhanyavaad"
    r"|shukriya|love|xoxo|x"
)
_SIGNOFF = regex.compile(
    rf"(?:^|[.!?][^\S\n]+)(?:{_CLOSING})[^\S\n]*[,.!]?(?:[^\S\n]*\n[^\S\n]*|[^\S\n]+)"
    rf"(?P<name>{_W}(?:[^\S\n]{_W}){{0,3}})[^\S\n]*(?:$|\n)",
    regex.IGNORECASE | regex.MULTILINE,
)
_DASHES = regex.compile(
    rf"(?:^|[^\S\n])--[^\S\n]*(?P<name>{_W}(?:[^\S\n]{_W}){{0,2}})[^\S\n]*$", regex.MULTILINE
)


# a signature block: "--" alone on its line, the name on the next ("--\nMarco | Support")
_DASH_BLOCK = regex.compile(
    rf"^[^\S\n]*--[^\S\n]*\n[^\S\n]*(?P<name>{_W}(?:[^\S\n]{_W}){{0,2}})[^\S\n]*(?:$|[|,(])",
    regex.MULTILINE,
)
# a greeting and a capitalised name alone ("Hi Hope,", "Dear Will!"): the word is a name here
_GREETED = regex.compile(
    r"(?:^|[.!?][^\S\n]+)(?i:hi|hello|hey|hiya|dear|morning|thanks|thank you)[^\S\n]+"
    r"(?P<name>\p{Lu}\p{Ll}+)[^\S\n]*(?:[,!:\n]|$)",
    regex.MULTILINE,
)


def greeted(text: str) -> Iterator[Span]:
    """A known given name greeted on its own, even one that is also a word ("Hi Hope,")."""
    for m in _GREETED.finditer(text):
        name = m.group("name")
        if is_name_word(name) and not _stop(name):
            yield _span(m.start("name"), m.end("name"), 0.7)


def signoffs(text: str) -> Iterator[Span]:
    """The name after a closing ("Groet, Joost", "Kind regards\nAdebayo Ogunleye", "-- Nina",
    "--" alone on a line and the name below it) and a last line that is only a known name."""
    for pattern in (_SIGNOFF, _DASHES, _DASH_BLOCK):
        for m in pattern.finditer(text):
            name = m.group("name").rstrip(".")
            if _name_like(name) and _signed(name):
                yield _span(m.start("name"), m.start("name") + len(name), 0.7)
    lines = text.rstrip().split("\n")
    last = lines[-1].strip().rstrip(".")
    alone = len(lines) >= 3 and _name_like(last) and len(last.split()) <= 3
    if (
        alone
        and _lexicon_hit(last)
        and not any(w.casefold() in STOP_WORDS for w in last.split())  # "Equipe Loja Verde"
        and all(is_name_word(w) or w[:1].isupper() for w in last.split())
    ):
        at = text.rindex(last)
        yield _span(at, at + len(last), 0.65)


_WORD_ENDING = regex.compile(
    r"\p{Ll}{3}(?:ing|ly|ment|ments|tion|sion|ness|ance|ence|ship|ity|ics|ops|ware)$"
)


def _signed(name: str) -> bool:
    words = name.split()
    if any(w.casefold().strip(".,") in STOP_WORDS for w in words):
        return False
    if _lexicon_hit(name):
        return True
    if not _latin(name):  # "Служба поддержки", "צוות התמיכה", "תודה רבה": no name list's word
        return _script_name(name)
    if len(words) == 1 and (is_english_word(name.casefold()) or _WORD_ENDING.search(name)):
        return False  # "Onboarding", "Faithfully", "Billing": a word under a closing
    return all(w[:1].isupper() for w in words) or not name.isascii()


_SPACED = regex.compile(
    r"(?<![\p{L}\p{N}])\p{Lu}(?:[^\S\n]\p{Lu}){2,}(?:[^\S\n]{2,4}\p{Lu}(?:[^\S\n]\p{Lu}){1,})*"
    r"(?![\p{L}\p{N}])"
)


def letter_spaced(text: str) -> Iterator[Span]:
    """A name a scanner spaced out letter by letter: "J O H N   S M I T H"."""
    for m in _SPACED.finditer(text):
        words = [w.replace(" ", "") for w in _LETTER_GAP.split(m.group())]
        if any(is_name_word(w) for w in words) and not _stop(" ".join(words)):
            yield _span(m.start(), m.end(), 0.7)


FINDERS = (
    speakers,
    headers,
    fields,
    tables,
    titled,
    handles,
    file_names,
    scripts,
    signoffs,
    greeted,
    letter_spaced,
)


def structural(text: str) -> list[Span]:
    """Every name the text's structure points to."""
    return [s for finder in FINDERS for s in finder(text)]
