"""Roles a nested column (a struct, a list or a map in the files) cannot take.

The engines compare an identity column's whole value with a request's identifiers, as a
scalar: a struct `{email, name}`, a list of emails or a map never equals an email, so a
request would find none of the rows found only through it and answer "we hold nothing",
verified. Such a catalog is refused where its files are compared with it (`dsar catalog
check`, and every job when it registers the table), with the way out: export the field as a
column of its own. So is an erasure that pseudonymizes a nested column (a pseudonym is a
text; the column cannot hold it). Secrets and free text in a nested column are handled
where a person's data leaves (`dsar.text.redact`): a secret is masked whole, free text is
redacted string by string (struct fields, list elements, map keys and values).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from dsar.catalog.models import ErasureAction, PersonalKind, Table
from dsar.catalog.strict import Loc
from dsar.errors import CatalogProblem

__all__ = ["nested_column_problems"]

_PERSONAL = {k.value for k in PersonalKind}  # identity kinds that are `personal:` kinds too


def nested_column_problems(
    name: str,
    table: Table,
    nested: Mapping[str, str],
    where: Callable[[Loc], str],
) -> list[CatalogProblem]:
    """What table `name` asks of its nested columns that the engines cannot do.

    Args:
        name: The table's name in the catalog.
        table: Its catalog entry.
        nested: Each column the files hold as a nested value, with its kind in words
            ("a struct", "a list", "a map").
        where: Locates a catalog path in messages (its line where the caller knows it).
    """
    problems = []
    if table.erasure.action is ErasureAction.PSEUDONYMIZE:
        for column in table.erasure.columns:
            if column in nested:
                problems.append(
                    CatalogProblem(
                        where(("tables", name, "erasure", "columns")),
                        f"erasure pseudonymizes {column!r}, which the files hold as"
                        f" {nested[column]} (table {name!r}): a pseudonym is a text, and a"
                        " nested column cannot hold it in place of the value",
                        f"erase {column!r} by emptying it (erasure: {{action: nullify,"
                        f" columns: [{column}]}}) or by deleting the row, or export the"
                        " field to pseudonymize as a column of its own",
                    )
                )
    for column, kind in nested.items():
        spec = table.columns.get(column)
        if spec is None or spec.identity is None:
            continue
        kind_word = spec.identity.value
        personal = kind_word if kind_word in _PERSONAL else PersonalKind.NAME.value
        problems.append(
            CatalogProblem(
                where(("tables", name, "columns", column, "identity")),
                f"identity: {spec.identity.value} on {column!r}, which the files hold as"
                f" {kind} (table {name!r}): the engines compare an identity column's whole"
                " value with a request's identifiers, so a nested value never matches and"
                " every row found only through it would be missed",
                f"{_export(column, kind, kind_word)}, and mark {column!r} personal:"
                f" {personal} (or the kind of data it holds) instead of identity",
            )
        )
    return problems


def _export(column: str, kind: str, identity: str) -> str:
    """How to export what identifies the person so that the engines compare it."""
    if kind == "a struct":
        return (
            "export the field that identifies the person as a column of its own (e.g."
            f" {column}_{identity}: {{identity: {identity}}})"
        )
    return (
        "export its values one per row, in a table of their own beside the row's key (e.g."
        f" {identity}: {{identity: {identity}}} there, with the key as a reference to this table)"
    )
