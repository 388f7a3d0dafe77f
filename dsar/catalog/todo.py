"""The TODO marker a drafted catalog leaves where only a person can answer, and its check.

`dsar catalog draft` writes `TODO` for what the files cannot tell (purposes, legal basis,
retention period, recipients, descriptions); `read_catalog` reports every TODO left as a
problem naming the table and the field, so that no draft is used until a person fills it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from dsar.catalog.strict import Loc

TODO = "TODO"
"""The marker: a value that is exactly this word is a question left to a person."""

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
    "action": "choose what erasure does: delete, nullify or pseudonymize (with columns), or"
    " retain (with legal_basis, reason and retain_for)",
}


def todo_locations(data: Mapping[str, Any]) -> list[Loc]:
    """Every place in a catalog's mapping whose value is the TODO marker, in file order."""
    return list(_walk(data, ()))


def _walk(node: object, loc: Loc) -> Iterator[Loc]:
    if isinstance(node, str) and node.strip() == TODO:
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
    return _FIXES.get(field, f"replace TODO with the {field or 'value'} (the files cannot tell it)")


def dotted_field(loc: Loc) -> str:
    """The field a TODO stands for, without a list position (`purposes`, not `purposes.0`)."""
    return ".".join(str(p) for p in loc if isinstance(p, str))
