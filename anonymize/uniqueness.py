"""The risk in words a person can read: how many people the released columns single out,
before the operators, after them and in the written extract, and which column does it most.

A person is unique when they are alone in a class of the quasi-identifiers (in any class,
when their rows fall in several). The share is measured three times: on the source values of
the columns the extract releases (what the raw columns would give an attacker), after the
operators and the search, and on the written extract. After the operators, the people in a
class smaller than k are those suppression has to remove; for each quasi-identifier, that
share with the column left out says which column, dropped or coarsened, would help most. The
distinct values of each column in the source and in the extract say what the operators took.
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb

from dsar.engine.base import quote_identifier
from dsar.review.manifest import UniquenessInfo


def share_below(
    con: duckdb.DuckDBPyConnection,
    relation: str,
    columns: Sequence[str],
    person: str | None,
    size: int = 2,
) -> tuple[float, int]:
    """(share of people in a class of `columns` with fewer than `size` people, people) in
    `relation` (size 2: the people alone in a class); `person`: the column naming whose rows
    they are (None: each row is a person)."""
    key = ", ".join(quote_identifier(c) for c in columns)
    if person is None:
        group = f" GROUP BY {key}" if key else ""
        got = con.execute(
            f"SELECT coalesce(sum(n) FILTER (WHERE n < {int(size)}), 0), coalesce(sum(n), 0)"
            f" FROM (SELECT count(*) AS n FROM {relation}{group})"
        ).fetchone()
    else:
        who = quote_identifier(person)
        lead = f"{key}, " if key else ""
        window = f"PARTITION BY {key}" if key else ""
        got = con.execute(
            f"SELECT count(*) FILTER (WHERE m < {int(size)}), count(*) FROM (SELECT {who},"
            f" min(p) AS m FROM (SELECT {who}, count(*) OVER ({window}) AS p FROM (SELECT"
            f" DISTINCT {lead}{who} FROM {relation})) WHERE {who} IS NOT NULL GROUP BY {who})"
        ).fetchone()
    alone, people = (int(got[0]), int(got[1])) if got else (0, 0)
    return (round(alone / people, 6) if people else 0.0), people


def distinct_values(
    con: duckdb.DuckDBPyConnection, relation: str, columns: Sequence[str]
) -> list[int]:
    """Distinct values of each column (a NULL counted as one)."""
    if not columns:
        return []
    items = ", ".join(
        f"count(DISTINCT {quote_identifier(c)}) + max(CASE WHEN {quote_identifier(c)} IS NULL"
        " THEN 1 ELSE 0 END)"
        for c in columns
    )
    got = con.execute(f"SELECT {items} FROM {relation}").fetchone()
    return [int(v or 0) for v in got] if got else [0] * len(columns)


def uniqueness(
    con: duckdb.DuckDBPyConnection,
    *,
    source: str,
    transformed: str,
    released: str,
    quasi_identifiers: Sequence[str],
    person: str | None,
    k: int,
) -> UniquenessInfo:
    """Measure the three relations (each with the quasi-identifiers, and `person` when
    people have several rows) over the quasi-identifiers."""
    qis = list(quasi_identifiers)
    before, people = share_below(con, source, qis, person)
    after_operators, _ = share_below(con, transformed, qis, person)
    written, _ = share_below(con, released, qis, person)
    size = max(k, 2)
    below, _ = share_below(con, transformed, qis, person, size)
    without = {
        q: share_below(con, transformed, [c for c in qis if c != q], person, size)[0] for q in qis
    }
    counted = zip(
        distinct_values(con, source, qis), distinct_values(con, released, qis), strict=True
    )
    return UniquenessInfo(
        people=people,
        source=before,
        transformed=after_operators,
        released=written,
        below_k=below,
        without=without,
        distinct={q: (a, b) for q, (a, b) in zip(qis, counted, strict=True)},
    )


def driver(info: UniquenessInfo) -> str | None:
    """The quasi-identifier whose leaving out would leave the fewest people in classes
    smaller than k (None when leaving out no one column helps)."""
    if not info.without:
        return None
    column = min(info.without, key=lambda c: (info.without[c], c))
    return column if info.without[column] < info.below_k else None
