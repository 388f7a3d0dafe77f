"""Extracts that share a link name join on their keyed hashes: refused unless their authors
said so (red team, issue 22 round 4, F5).

A keyed hash is keyed by the extract's link name: its `link:`, else its `name:`. Two policies
given the same `name:` and no `link:` (one releasing country and plan, one signup method,
status and the year of creation, each k = 15) gave one person the same hashed user id in
both; joined on it, they were k = 1, 59 people alone. The release log now records each
extract's link name, whether the policy wrote `link:`, and the form of every column it
released (hashes included). A new extract is refused when an earlier extract in the log has
the same link name and released a different set of columns, unless both policies wrote that
`link:` explicitly (saying they are meant to join): then k over the union of the two
releases' columns, each person's rows linked through the shared hash, is computed on the
source and must reach the policy's k. The same policy run again releases the same columns
and is not refused here (the ledger differencing rule covers reruns).
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import TypeAdapter

from anonymize.operators import Context, operator_for
from anonymize.params import Drop, Hash, Operator, Pseudonym, Suppress
from anonymize.policy import Policy
from dsar.engine.base import Engine, quote_identifier
from dsar.errors import ReleaseConflictError
from dsar.records.releases import Release

_OPERATOR: TypeAdapter[Operator] = TypeAdapter(Operator)


def link_name(policy: Policy) -> str:
    """The name an extract's keyed hashes are keyed by: its `link:`, else its `name:`."""
    return policy.link or policy.name


def column_forms(policy: Policy) -> tuple[str, ...]:
    """Each released column's source and operator, keyed hashes and pseudonyms included
    (`table.column={operator as JSON}`), sorted."""
    sources = policy.sources()
    return tuple(
        sorted(
            f"{sources[c].table}.{sources[c].column}={op.model_dump_json()}"
            for c, op in policy.operators().items()
            if not isinstance(op, Drop)
        )
    )


def check_link(earlier: Sequence[Release], engine: Engine, policy: Policy) -> None:
    """Refuse an extract whose link name an earlier extract shares with other columns,
    unless both wrote that `link:` and k over their union holds (module docstring).

    Raises:
        ReleaseConflictError: naming the earlier release and the fix.
    """
    name, mine = link_name(policy), set(column_forms(policy))
    for release in earlier:
        if release.method != "extract" or (release.link or release.run) != name:
            continue
        theirs = set(release.columns)
        if release.columns and theirs == mine:
            continue  # the same release again
        stated = policy.link is not None and release.link_stated
        if not stated:
            raise ReleaseConflictError(
                policy.table,
                release.describe(),
                f"it has this extract's link name {name!r} (its name: no link: was written),"
                " so their keyed hashes are equal and join the two, but it released other"
                " columns: joined, each person's columns of both are one release whose k"
                " nobody checked",
                "give this policy another name: (its hashes then join nothing of that"
                " release); or, if the two are meant to join, write the same link: in both"
                " policies (then k over the columns of both is checked)",
            )
        k = _union_k(engine, policy, sorted(mine | theirs))
        if k is None:
            raise ReleaseConflictError(
                policy.table,
                release.describe(),
                f"both write link: {name!r}, so they join on their keyed hashes, but k over"
                " the columns of both cannot be computed here (a column of another table, or"
                " an operator computed outside SQL: redact, date_shift)",
                "give one of them another link:, or release the joined columns from one policy",
            )
        if k < policy.privacy.k:
            raise ReleaseConflictError(
                policy.table,
                release.describe(),
                f"both write link: {name!r}, so they join on their keyed hashes, and over the"
                f" columns of both k is {k}, below this policy's k = {policy.privacy.k}",
                "release fewer or coarser columns in one of them, or give one another link:",
            )


def _union_k(engine: Engine, policy: Policy, forms: list[str]) -> int | None:
    """k over the released columns of two linked extracts, computed on the source (no
    suppression: the conservative figure), each person's rows linked as an attacker
    grouping by the shared hash would: the multiset of their rows' values. None where a
    column is not computable from the base table in SQL."""
    table = policy.table
    types = engine.columns(table)
    ctx = Context(None, None, types, link=link_name(policy))
    person = policy.sources()[policy.person].column if policy.person is not None else None
    exprs: list[str] = []
    params: list[object] = []
    used: list[str] = []
    for i, form in enumerate(forms):
        source, _, spec = form.partition("=")
        src_table, _, column = source.partition(".")
        if src_table != table or column not in types:
            return None
        op = _OPERATOR.validate_json(spec)
        if isinstance(op, Suppress) or (column == person and isinstance(op, Hash | Pseudonym)):
            continue  # nothing, or the shared pseudonym the two join on
        col = quote_identifier(column)
        if isinstance(op, Hash | Pseudonym):
            sql = col  # one value, one hash: the same classes
        else:
            got = operator_for(op).sql(col, op, ctx)
            if got is None:
                return None
            sql, more = got
            params += more
        exprs.append(f"CAST({sql} AS VARCHAR) AS c{i}")
        used.append(f"coalesce(c{i}, chr(30))")
    if not exprs:  # the pseudonym alone beside the other's columns: one class
        exprs, used = ["'' AS c"], ["c"]
    who = f"CAST({quote_identifier(person)} AS VARCHAR)" if person else "CAST(NULL AS VARCHAR)"
    row = " || chr(31) || ".join(used)
    got = engine.query(
        f"WITH r AS (SELECT {', '.join(exprs)}, {who} AS p FROM {quote_identifier(table)}),"
        f" q AS (SELECT coalesce(p, CAST(row_number() OVER () AS VARCHAR)) AS p, {row} AS o"
        " FROM r), s AS (SELECT p, string_agg(DISTINCT o, chr(29) ORDER BY o) AS sig FROM q"
        " GROUP BY p), g AS (SELECT sig, count(*) AS n FROM s GROUP BY sig)"
        " SELECT min(n) AS k FROM g",
        params,
    ).to_pylist()
    k = got[0]["k"] if got else None
    return int(k) if k is not None else None


__all__ = ["check_link", "column_forms", "link_name"]
