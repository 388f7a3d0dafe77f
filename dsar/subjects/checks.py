"""Checks of what the identity columns' values show, for `dsar catalog check`: they read
values as the identity rules do (`dsar.subjects.identity`), so they live beside them, above
the engines, which never import the subjects."""

from __future__ import annotations

from dsar.catalog.models import Catalog, IdentityKind, Role
from dsar.engine.base import Engine, quote_identifier
from dsar.engine.guards import SAMPLE_ROWS, CatalogWarning, WarningCode
from dsar.subjects.identity import STRONG, MatchRules, sql_normalize, sql_placeholder


def identity_value_warnings(
    catalog: Catalog, engine: Engine, rows: int | None = SAMPLE_ROWS
) -> list[CatalogWarning]:
    """What the identity columns' values show, for `dsar catalog check` (counts only; the
    first `rows` rows of each table, or every row with None):

    - placeholders ('none', '0', 'N/A', a phone of zeros): never a match (a guest ticket's
      `user_id = none` is no one's), but the rows that hold them are found through their
      other identifiers only;
    - a strong value held beside more than one account key (user, customer or person id,
      OAuth subject, username: an email on the invoices of two customer ids): a request that
      reaches it joins those accounts (a bookkeeper's or a team's inbox, a placeholder not
      recognised).
    """
    rules = MatchRules(phone_region=catalog.phone_region)
    out = []
    for name, table in catalog.tables.items():
        cols = table.identity_columns()
        if name not in engine.tables or not cols or table.role is not Role.CONTROLLER:
            continue
        limit = f" LIMIT {rows}" if rows else ""
        placeholders = [
            f"sum(CASE WHEN {sql_placeholder(k, quote_identifier(c), rules)} THEN 1 ELSE 0 END)"
            f" AS p{i}"
            for i, (c, k) in enumerate(cols.items())
        ]
        norm = {c: sql_normalize(k, quote_identifier(c), rules) for c, k in cols.items()}
        pairs = [
            (a, b)
            for a, ka in cols.items()
            for b, kb in cols.items()
            if ka in STRONG and kb in STRONG and ka is not kb and kb is not IdentityKind.EMAIL
        ]
        shared = [
            f"(SELECT count(*) FROM (SELECT {norm[a]} AS x FROM s WHERE {norm[a]} IS NOT NULL"
            f" GROUP BY x HAVING count(DISTINCT {norm[b]}) > 1)) AS s{j}"
            for j, (a, b) in enumerate(pairs)
        ]
        [found] = engine.query(
            f"WITH s AS (SELECT * FROM {quote_identifier(name)}{limit})"
            f" SELECT {', '.join([*placeholders, *shared])} FROM s"
        ).to_pylist()
        sampled = f" (in its first {rows:,} rows)" if rows else ""
        for i, (column, kind) in enumerate(cols.items()):
            if count := int(found[f"p{i}"] or 0):
                out.append(
                    CatalogWarning(
                        f"tables.{name}.columns.{column}",
                        f"{count} row(s){sampled} hold a placeholder for a {kind.value} ('none',"
                        " '0', 'N/A' or alike): it never matches anyone, so those rows are"
                        " found through their other identifiers only",
                        "write an empty value where there is no identifier",
                        WarningCode.IDENTITY_PLACEHOLDER,
                    )
                )
        for j, (a, b) in enumerate(pairs):
            if count := int(found[f"s{j}"] or 0):
                out.append(
                    CatalogWarning(
                        f"tables.{name}.columns.{a}",
                        f"{count} value(s){sampled} are each held beside more than one"
                        f" {cols[b].value} in {b}: a request reaching one joins those accounts",
                        "check that each names one person (a team inbox, a placeholder"
                        " the workbench does not know); if not, empty it in those rows",
                        WarningCode.IDENTITY_SHARED_VALUE,
                    )
                )
    return out


__all__ = ["identity_value_warnings"]
