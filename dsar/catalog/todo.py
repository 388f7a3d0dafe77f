"""The TODO marker a drafted catalog leaves where only a person can answer, and its check.

`dsar catalog draft` writes `TODO` for what the files cannot tell (purposes, legal basis,
retention period, recipients, descriptions); `read_catalog` reports every TODO left as a
problem naming the table and the field, so that no draft is used until a person fills it.

A TODO is left in more ways than the exact word: in every field the draft writes `TODO`, a
value that is empty or blank, or whose text (NFKC-folded, invisible characters removed,
case-folded) starts with the word todo (`todo`, `TODO.`, `TODO: describe`, a full-width TODO,
`TO\u200bDO`) or is a placeholder (`tbd`, `...`, `xxx`, `fixme`, `?`), is refused too.
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
_NESTED = {"retention": frozenset({"period", "criteria"}), "erasure": frozenset({"action"})}
_CONTROLLER_FIELDS = frozenset({"name", "contact", "supervisory_authority"})

_LEFT = re.compile(r"^(?:todo|t0do|fixme|tbd|xxx+)(?![^\W\d_])")  # a word, not 'todos'
_PLACEHOLDERS = frozenset({"tbd", "tba", "fixme", "xxx", "?", "??", "???", "...", "\u2026"})

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


def is_left_todo(value: str) -> bool:
    """Whether a legal field's text is a TODO left in place: empty, blank, starting with the
    word todo (or fixme, tbd, xxx), or only a placeholder (`...`, `?`)."""
    text = folded(value)
    if not text or text.strip(".?!-_*/\u2026 ") == "":
        return True
    return bool(_LEFT.match(text)) or text.rstrip(".:!") in _PLACEHOLDERS


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
