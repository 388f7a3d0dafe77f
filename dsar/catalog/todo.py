"""The TODO marker a drafted catalog leaves where only a person can answer, and its check.

`dsar catalog draft` writes `TODO` for what the files cannot tell (purposes, legal basis,
retention period, recipients, descriptions); `read_catalog` reports every TODO left as a
problem naming the table and the field, so that no draft is used until a person fills it.

A TODO is left in more ways than the exact word: in every field the draft writes `TODO` (and
an erasure's reason, legal basis and retain_for, written after `action: TODO` is replaced), a
value is refused when, compared folded (NFKC, invisible characters removed, case-folded,
look-alike letters of other scripts read as Latin, `0` in a word read as `o`, letters spelt
out one by one joined: `T.O.D.O.`), it is empty or holds no letter or digit (`-`, `~`); it
holds the word todo anywhere (`[TODO]`, `# TODO`, `@todo`, `check with legal TODO`), or
fixme, tbd, tbc or tba; it starts with a placeholder word or a question mark (`TBD: legal`,
`To do`, `???: legal`); or the whole of it is a placeholder (`n/a`, `none`, `unknown`,
`pending`, `placeholder`, `xx`, `see above`, `later`, `lorem ipsum`, `0`, `description`, one
letter alone). A real answer that holds such a word among others (`we share it with none of
our partners`, `Todos los pedidos`) passes.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Mapping
from typing import Any

from dsar.catalog.strict import Loc

TODO = "TODO"
"""The marker: a value that is exactly this word is a question left to a person."""

# The fields the draft writes TODO in (`dsar.draft.write`): a table's, and the controller's.
_TABLE_FIELDS = frozenset(
    {
        "description",
        "category",
        "origin",
        "purposes",
        "legal_basis",
        "recipients",
        "source",
        "retention",
        "erasure",
    }
)
_NESTED = {
    "retention": frozenset({"period", "criteria"}),
    "erasure": frozenset({"action", "reason", "legal_basis", "retain_for"}),
}
_CONTROLLER_FIELDS = frozenset({"name", "contact", "supervisory_authority"})

# look-alike letters of other scripts (Cyrillic, Greek) read as the Latin letter they show
_CONFUSABLE = str.maketrans(
    "\u0430\u0432\u0435\u043a\u043c\u043d\u043e\u0440\u0441\u0442\u0443\u0445\u0456\u0458\u0455\u0501"
    "\u04cf\u03b1\u03b2\u03b5\u03b9\u03ba\u03bd\u03bf\u03c1\u03c4\u03c5\u03c7\u0131\u0261",
    "abekmhopctyxijsdlabeiknoptuxig",
)
_WORD = re.compile(r"[^\W_]+")
# a word that marks the value unfinished wherever it stands
_ANYWHERE = frozenset({"todo", "fixme", "tbd", "tbc", "tba"})
# a word that, first, marks the value unfinished (`TBD: legal`, `WIP - ask legal`)
_FIRST = _ANYWHERE | {"xx", "xxx", "xxxx", "tk", "wip", "placeholder"}
# the whole value (its letters and digits only) a placeholder
_WHOLE = frozenset(
    {
        "na", "none", "null", "nil", "nothing", "unknown", "pending", "placeholder",
        "tk", "wip", "later", "x", "xx", "xxx", "todo", "tbd", "tbc", "tba", "fixme",
        "fillin", "fillme", "fillmein", "fillthisin", "tobedecided", "tobeconfirmed",
        "tobedetermined", "tobedone", "tobeadded", "todecide", "toconfirm", "seeabove",
        "sameasabove", "asabove", "ditto", "seebelow", "loremipsum", "description",
        "purpose", "purposes", "source", "test", "asdf", "blah", "example", "dummy",
    }
)  # fmt: skip
_LOREM = re.compile(r"^lorem\W+ipsum")
_TO_DO = re.compile(r"^to[\s\-_.]*do(?:$|[\s]*[:;.!?(\-\u2013\u2014])")
_QUESTION_FIRST = re.compile(r"^[\W_]*[?\uff1f]")
_FIXES = {
    "purposes": "write why the data is processed, e.g. purposes: [provide the service]",
    "legal_basis": "choose the GDPR Art. 6(1) basis: consent, contract, legal_obligation,"
    " vital_interests, public_task or legitimate_interests",
    "period": "write how long rows are kept, e.g. period: 2 years; or replace the block with"
    " retention: {criteria: 'while the account is open'}",
    "criteria": "write the retention criteria in words, e.g. criteria: while the account is open",
    "recipients": "list the ids of the recipients (defined under the top-level recipients:)"
    " who receive the table, or write recipients: [] for none",
    "description": "describe the table in words the person understands",
    "category": "choose one of: account, contact, billing, credentials, usage, logs, location,"
    " communications, third_party_profile, marketing_preferences",
    "origin": "choose provided, observed or inferred",
    "source": "say where the data comes from, e.g. source: the person",
    "personal": "the draft could not read this table (the comment above it says why): look"
    " at the file, then write personal: true or false",
    "columns": "the draft could not read this table (the comment above it says why):"
    " re-export the file in a form the engine reads and draft again, or describe every"
    " column",
    "reason": "write the obligation that keeps the rows in words, e.g. reason: tax law",
    "retain_for": "write how long the obligation keeps the rows, e.g. retain_for: 10 years",
    "action": "choose what erasure does: delete, nullify or pseudonymize (with columns), or"
    " retain (with legal_basis, reason and retain_for)",
}
_CONTROLLER_FIXES = {
    "name": "write the controller's legal name",
    "contact": "write where data-subject requests go (an address or a page)",
    "supervisory_authority": "name the supervisory authority the person can complain to",
}


def folded(text: str) -> str:
    """`text` as compared for a TODO: NFKC-folded (full-width letters become plain),
    invisible characters (zero-width spaces, joiners, marks of direction) removed,
    case-folded, and stripped."""
    text = unicodedata.normalize("NFKC", text)
    text = "".join(ch for ch in text if unicodedata.category(ch) not in ("Cf", "Cc", "Zl", "Zp"))
    return text.casefold().strip()


def _compared(text: str) -> str:
    """`folded` text with look-alike letters read as Latin."""
    return folded(text).translate(_CONFUSABLE)


def _words(text: str) -> list[str]:
    """The words of compared text: `0` inside a word read as `o` (`T0DO`), and letters
    spelt out one at a time joined into one word (`t.o.d.o.`, `T B D`)."""
    out: list[str] = []
    run = ""
    for word in _WORD.findall(text):
        if len(word) == 1 and word.isalpha():
            run += word
            continue
        if run:
            out.append(run)
            run = ""
        out.append(re.sub(r"(?<=[a-z])0|0(?=[a-z])", "o", word))
    if run:
        out.append(run)
    return out


def is_left_todo(value: str) -> bool:
    """Whether a legal field's text is a TODO left in place: empty or without a letter or
    digit; the word todo (or fixme, tbd, tbc, tba) anywhere; a placeholder word or a question
    mark first; or the whole value a placeholder (`n/a`, `none`, `see above`, `0`)."""
    text = _compared(value)
    words = _words(text)
    if not words:
        return True
    whole = "".join(words)
    if whole in _WHOLE or len(whole) < 2 or set(whole) <= {"0"} or _LOREM.match(text):
        return True
    if any(w in _ANYWHERE for w in words) or words[0] in _FIRST:
        return True
    return bool(_TO_DO.match(text.lstrip("\"'([{<\u00ab#/@!*_ ")) or _QUESTION_FIRST.match(text))


def todo_locations(data: Mapping[str, Any]) -> list[Loc]:
    """Every place in a catalog's mapping whose value is the TODO marker, or, in a field the
    draft writes TODO in, empty, blank or a placeholder (`is_left_todo`), in file order."""
    return list(_walk(data, ()))


def _legal(loc: Loc) -> bool:
    """Whether `loc` (list positions included) is a field the draft writes TODO in."""
    names = [p for p in loc if isinstance(p, str)]
    if len(names) == 2 and names[0] == "controller":
        return names[1] in _CONTROLLER_FIELDS
    if len(names) < 3 or names[0] != "tables":
        return False
    field, rest = names[2], names[3:]
    if field not in _TABLE_FIELDS:
        return False
    if field in _NESTED:
        return len(rest) == 1 and rest[0] in _NESTED[field]
    return not rest


def _walk(node: object, loc: Loc) -> Iterator[Loc]:
    if isinstance(node, str):
        if node.strip() == TODO or (_legal(loc) and is_left_todo(node)):
            yield loc
    elif isinstance(node, Mapping):
        for key, value in node.items():
            yield from _walk(value, (*loc, str(key)))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _walk(value, (*loc, i))


def todo_fix(loc: Loc) -> str:
    """What a person writes instead of the TODO at `loc`."""
    field = next((str(p) for p in reversed(loc) if isinstance(p, str)), "")
    if len(loc) == 2 and loc[0] == "controller" and field in _CONTROLLER_FIXES:
        return _CONTROLLER_FIXES[field]
    return _FIXES.get(field, f"replace TODO with the {field or 'value'} (the files cannot tell it)")


def dotted_field(loc: Loc) -> str:
    """The field a TODO stands for, without a list position (`purposes`, not `purposes.0`)."""
    return ".".join(str(p) for p in loc if isinstance(p, str))
