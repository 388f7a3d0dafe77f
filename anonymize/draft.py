"""A starting policy drafted from the catalog, for a person to edit: never the final word.

Identifiers are hashed (so extracts still join), other personal columns dropped, free text
redacted, secrets dropped, dates generalised to the month; columns that hold no personal
data are kept. Every column it releases is classified: the person's identifiers, hashed, are
their pseudonym; redacted free text is sensitive; every other released column is listed as
a quasi-identifier, ARX's default, for the data team to move to `insensitive:` with a reason
where nobody outside could know it. k stays 1 until they have.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dsar.catalog import Catalog
from dsar.catalog.models import Column, IdentityKind
from dsar.errors import UsageError

if TYPE_CHECKING:
    from dsar.engine import Engine

_PERSON_FIRST = (
    IdentityKind.USER_ID,
    IdentityKind.CUSTOMER_ID,
    IdentityKind.EMAIL,
    IdentityKind.OAUTH_SUBJECT,
    IdentityKind.PHONE,
    IdentityKind.DEVICE_ID,
    IdentityKind.COOKIE_ID,
    IdentityKind.IP_ADDRESS,
)
"""Which identity column names the person, when none is the table's key: a device or a
cookie may be one of several of a person's."""
_DATE_WORDS = ("_at", "date", "_on", "time", "ts", "day", "born")


def _operator(name: str, column: Column) -> tuple[str, str]:
    """The operator for one column and why, as YAML flow text."""
    if column.secret:
        return "drop", "a secret: never leaves"
    if column.identity in (IdentityKind.EMAIL, IdentityKind.PHONE):
        return "drop", f"contact details ({column.identity.value}): no analysis needs them"
    if column.identity is not None:
        return "hash", f"identifies a person ({column.identity.value}); hashed, extracts still join"
    if column.free_text:
        return "{op: redact}", "free text: names, contacts and numbers replaced"
    if column.personal is not None:
        return "drop", f"personal data ({column.personal.value})"
    kind = (column.type.value if column.type is not None else "").lower()
    if kind in ("date", "timestamp") or (not kind and name.lower().endswith(_DATE_WORDS)):
        return "{op: generalize, to: month}", "a date: the month is usually enough"
    if column.references is not None:
        return "hash", f"a reference ({column.references}); hashed so it still joins"
    return "keep", "holds no personal data according to the catalog: check it"


def _by_value(engine: Engine, table: str, name: str) -> tuple[str, str] | None:
    """Drop, and why, for a column the catalog gives no role whose sampled values are phone
    numbers or SSNs as digits (`31612345678` as an integer): the policy check refuses keep."""
    from anonymize.sampling import _Sample, contact_numbers

    if not engine.catalog.tables[table].personal:
        return None
    got = contact_numbers(_Sample(engine, table, name, None, {}))
    if got is None:
        return None
    what, found, sampled = got
    return "drop", (
        f"holds {what} by value ({found} of {sampled} sampled): declare it in the catalog"
    )


def _person_key(catalog: Catalog, table: str, engine: Engine | None) -> str | None:
    """A column that looks like the person's key of a table declaring no identity: with
    the export, one whose name says so and whose values repeat as people's do
    (`anonymize.sampling.person_keys`, a person-named one first); without it, the first
    whose name says a person's key (`patient_ref`), never the table's own single key."""
    from anonymize.sampling import KEY_NAME, PERSON_WORDS, person_keys

    if engine is not None:
        found = person_keys(engine, table)
        return found[0].column if found else None
    spec = catalog.tables[table]
    for name, column in spec.columns.items():
        folded = name.casefold()
        if column.secret or column.free_text or tuple(spec.primary_key) == (name,):
            continue
        if PERSON_WORDS.search(folded) and KEY_NAME.search(folded):
            return name
    return None


def draft_policy(
    catalog: Catalog, table: str, output: str | None = None, engine: Engine | None = None
) -> str:
    """YAML text of a starting policy for one catalog table. With the export's `engine`, a
    column the catalog gives no role is sampled too: one holding phone numbers (or SSNs) as
    numbers is dropped, not kept.

    Raises:
        UsageError: the catalog has no such table.
    """
    spec = catalog.tables.get(table)
    if spec is None:
        raise UsageError(
            "table",
            f"no table {table!r} in the catalog",
            f"choose one of: {', '.join(sorted(catalog.tables))}",
        )
    ids = [c for c, col in spec.columns.items() if col.identity is not None]
    person = next(
        (c for c in ids if c in spec.primary_key),
        min(ids, key=lambda c: _PERSON_FIRST.index(spec.columns[c].identity), default=None),
    )
    lines = [
        f"# A starting policy for {table}, drafted from the catalog: edit it before use.",
        "# Decide what an attacker could know (the classification below), k, l and t.",
        "version: 1",
        f"name: {table.replace('_', '-')}-extract",
        f"table: {table}",
    ]
    key = None  # a column that looks like the person's key, where no identity is declared
    if person is None and not ids and spec.owned_through is None:
        key = _person_key(catalog, table, engine)
        person = key
    if person is not None:
        lines.append(f"person: {person}" + ("   # looks like the person's key" if key else ""))
    lines.append("columns:")
    width = max(len(c) for c in spec.columns) + 2
    quasi: list[str] = []
    text: list[str] = []
    for name, column in spec.columns.items():
        op, why = _operator(name, column)
        if name == key:  # never kept: a person's key, hashed (drop it if no join needs it)
            op, why = "hash", "the person's key by its name and values: hashed, or drop it"
        elif op == "keep" and engine is not None:
            op, why = _by_value(engine, table, name) or (op, why)
        lines.append(f"  {(name + ':').ljust(width)} {op.ljust(30)} # {why}")
        if op == "drop" or (op == "hash" and (column.identity is not None or name == key)):
            continue  # withheld, or the person's pseudonym
        (text if column.free_text else quasi).append(name)
    lines += [
        "# Every released column is a quasi-identifier (an attacker could know it and link on",
        "# it) until you say why not: move it to insensitive with the reason nobody outside",
        "# could know it, or to sensitive (values that must stay diverse in a class: l, t).",
        f"quasi_identifiers: [{', '.join(quasi)}]",
        f"sensitive: [{', '.join(text)}]"
        + ("   # redacted free text: what people wrote" if text else ""),
        'insensitive: {}   # e.g. {status: "an account state, known to nobody outside"}',
        "privacy: {k: 1, max_suppression: 0.0}   # raise k (5, 10) once you have decided",
        f"output: {{path: {output or table + '.parquet'}}}",
    ]
    return "\n".join(lines) + "\n"
