"""What an extract gives away to later releases of the same data, and what earlier releases
mean for a new extract: the release log's side for extracts (`anonymize.history` is the
aggregates').

An extract's rows give the count of every combination of the columns it releases as they are
(`keep`, or a searched column left at its original level): to an attacker it is a table
grouped by those columns, with a cell for each combination the data holds, published where
every person of the data holding it is in the extract and hidden where the extract suppressed
some or all of them; and its total (its manifest's rows in and out). It is recorded in the
release log as that table beside its total (`Released.tables`), with the data's content
fingerprints (`anonymize.history.content_versions`, so a renamed or reordered copy is the
same data set), the form of each released column, its k and keyed references of the people
the suppression ledger left out. Then:

- an aggregate run with suppression takes it into its complementary suppression as it takes an
  earlier table, and is refused when a cell it suppresses as small is given back by the
  earlier releases alone, an extract among them (`refuse_given_back`);
- a noisy aggregate table whose group columns an earlier extract releases as they are, or a
  noisy total (every extract gives its count), is refused (`refuse_noisy_after`): the exact
  count is out, and noise beside it protects nothing;
- a new extract is refused when, together with it, a cell an earlier suppression run or
  extract hid (or that it hides) is recomputable from what they published, and no one of them
  gives it alone; when an earlier noisy table's group columns are all among its kept columns;
  and when an earlier extract of the same data released a column in the same form, and the
  people the ledger left out differ between the two by fewer than k: the two differ by those
  people's rows alone, which comparing them isolates (`check_extract`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import duckdb

from anonymize.disclosure import View, recomputable
from anonymize.history import atoms, comparable, earlier_views, joins_with
from anonymize.params import Drop, Hash, Pseudonym, Suppress
from anonymize.policy import Policy
from anonymize.search import SearchResult
from dsar.engine.base import Engine, quote_identifier
from dsar.errors import ReleaseConflictError
from dsar.keys import Keys, Purpose
from dsar.records.releases import PublishedTable, Release

Key = tuple[str | None, ...]
KEPT = "[kept]"  # the extract's table of its kept columns, in the log: "<name>[kept]"
TOTAL = "[total]"


@dataclass(frozen=True)
class Released:
    """What an extract's rows give away, as the release log records it."""

    kept: dict[str, str]  # output column -> its source ("table.column"), released as it is
    published: tuple[Key, ...]  # combinations of the kept columns released whole
    hidden: tuple[Key, ...]  # combinations some or all of whose people were suppressed
    forms: tuple[str, ...]  # each released column's source and operator
    left_out: tuple[str, ...]  # keyed references of the people the ledger left out

    def tables(self, name: str) -> tuple[PublishedTable, ...]:
        """The extract as published tables: its kept columns' cells, and its total."""
        total = PublishedTable(name + TOTAL, (), ((),), ())
        if not self.kept:
            return (total,)
        dims = tuple(self.kept.values())
        return (PublishedTable(name + KEPT, dims, self.published, self.hidden), total)


def kept_columns(policy: Policy, found: SearchResult | None) -> dict[str, str]:
    """The output columns released as their source holds them: `keep`, and a searched
    column whose chosen level is the original (0)."""
    sources = policy.sources()
    levels = found.levels() if found is not None else {}
    return {
        c: f"{sources[c].table}.{sources[c].column}"
        for c, op in policy.operators().items()
        if op.op == "keep" or levels.get(c) == 0
    }


def forms(policy: Policy) -> tuple[str, ...]:
    """Each released column's source and operator; keyed hashes and pseudonyms are left out
    (keyed by the extract's link, they compare with nothing of another release)."""
    sources = policy.sources()
    return tuple(
        sorted(
            f"{sources[c].table}.{sources[c].column}={op.model_dump_json()}"
            for c, op in policy.operators().items()
            if not isinstance(op, Drop | Hash | Pseudonym | Suppress)
        )
    )


def left_out_refs(keys: Keys, people: Sequence[str], rows: int = 0) -> tuple[str, ...]:
    """Keyed references of the people the ledger left out (their digests); without `person:`,
    one reference per row left out (only their number can be compared)."""
    refs = [keys.keyed_hash(Purpose.RELEASE_REF, f"left-out|{p}")[:16] for p in people]
    refs += [keys.keyed_hash(Purpose.RELEASE_REF, f"left-out-row|{i}")[:16] for i in range(rows)]
    return tuple(sorted(set(refs)))


def released(
    con: duckdb.DuckDBPyConnection,
    final: str,
    engine: Engine,
    source: tuple[str, list[object]],
    kept: dict[str, str],
    *,
    person: str | None,
    who_sql: str | None,
) -> tuple[tuple[Key, ...], tuple[Key, ...]]:
    """The combinations of the kept columns released whole and those hidden: each one's
    people (rows, without `person:`) in the extract (`final`, on `con`) against the data
    (`source`: the rows read, the ledger's people left out, on the engine)."""
    if not kept:
        return (), ()
    cols = ", ".join(quote_identifier(c) for c in kept)
    mine = f"count(DISTINCT {quote_identifier(person)})" if person else "count(*)"
    out = con.execute(f"SELECT {cols}, {mine} AS __n FROM {final} GROUP BY ALL").fetchall()
    theirs = f"count(DISTINCT {who_sql})" if who_sql else "count(*)"
    rows = engine.query(
        f"SELECT {cols}, {theirs} AS __n FROM {source[0]} GROUP BY ALL", source[1]
    ).to_pylist()

    def key(values: Sequence[object]) -> Key:
        return tuple(None if v is None else str(v) for v in values)

    given = {key(r[:-1]): int(r[-1]) for r in out}
    counts = {key([r[c] for c in kept]): int(r["__n"]) for r in rows}
    order = sorted(counts, key=lambda k: tuple(str(v) for v in k))
    whole = tuple(k for k in order if given.get(k) == counts[k])
    return whole, tuple(k for k in order if given.get(k) != counts[k])


def check_extract(
    earlier: Sequence[Release],
    engine: Engine,
    keys: Keys,
    policy: Policy,
    mine: Released,
    contents: dict[str, str],
) -> None:
    """Refuse an extract that, with the releases before it from the same data, gives away
    what one of them protected (module docstring).

    Raises:
        ReleaseConflictError: naming the earlier release, what the two give back, the fix.
    """
    table = policy.table
    kinds = ("suppression", "differential_privacy", "extract")
    same = comparable(earlier, engine, keys, table, contents, kinds, strict=False)
    kept = set(mine.kept.values())
    names = ", ".join(mine.kept) or "no column"
    for release in same:
        if release.method != "differential_privacy":
            continue
        for t in release.tables:
            if set(t.dims) <= kept:
                by = ", ".join(d.split(".", 1)[1] for d in t.dims) or "nothing (its total)"
                raise ReleaseConflictError(
                    table,
                    release.describe(),
                    f"its noisy table {t.name} grouped by {by}: this extract's rows give the"
                    " exact count of each of its cells (every extract gives its total)",
                    "release those columns coarser or drop one of them; a noisy total and an"
                    " extract of the same data cannot both be published",
                )
    _differencing(same, mine, policy)
    frozen = [r for r in same if r.method in ("suppression", "extract")]
    if not frozen:
        return
    new = [_view(t) for t in mine.tables(policy.name)]
    before = earlier_views(frozen)
    owners = [r for r in frozen for _ in r.tables]
    columns = sorted({d for t in [*new, *before] for d in t.group_by})
    joins = joins_with(table, policy.join, frozen)
    found = atoms(engine, engine.catalog, table, joins, columns)

    def given(tables: Sequence[View], first: int) -> set[tuple[int, Key]]:
        got, _ = recomputable(tables, columns, found)
        return {(first + row.table, row.key) for row, _ in got}

    together = given([*new, *before], 0)
    alone = given(new, 0) | given(before, len(new))
    exposed = together - alone
    if exposed:
        whose = sorted(
            {owners[i - len(new)].describe() for i, _ in exposed if i >= len(new)}
            or {r.describe() for r in frozen}
        )
        raise ReleaseConflictError(
            table,
            ", ".join(whose),
            f"with this extract's rows (the count of every combination of {names}, and its"
            f" total), {len(exposed)} cell(s) that release or this extract suppressed could be"
            " recomputed from the cells published (a published total minus this extract's"
            " counts)",
            f"release {names} coarser or drop one of them (an extract gives the count of every"
            " combination of the columns it releases as they are)",
        )


def _differencing(same: Sequence[Release], mine: Released, policy: Policy) -> None:
    """An earlier extract of the same data releasing a column in the same form, whose ledger
    left out other people, fewer than k of them different: the two releases differ by those
    people's rows alone."""
    for release in same:
        common = set(release.released) & set(mine.forms)
        if release.method != "extract" or not common:
            continue
        changed = len(set(release.left_out) ^ set(mine.left_out))
        bar = max(policy.privacy.k, release.k or 0)
        if 0 < changed < bar:
            raise ReleaseConflictError(
                policy.table,
                release.describe(),
                f"it released {len(common)} of this extract's columns in the same form from the"
                f" same data, and {changed} person(s) were left out of one and not the other by"
                " the suppression ledger: the two releases differ by those people's rows alone,"
                f" which comparing them isolates (fewer than k = {bar})",
                f"release it again once {bar} or more people have been left out since that"
                " release (the difference is then a group of at least k), or from a new export"
                " of the data; release other columns in the meantime",
            )


def _view(t: PublishedTable) -> View:
    counts = dict.fromkeys([*t.published, *t.suppressed], 0)
    return View(t.dims, counts, dict.fromkeys(t.suppressed, "extract"))


def refuse_given_back(
    mine: Sequence[View],
    same: Sequence[Release],
    columns: Sequence[str],
    found: Sequence[Key],
    table: str,
    min_count: int,
) -> None:
    """Refuse an aggregate run whose cell, suppressed as small, the earlier releases give back
    on their own with an extract among them (hiding more in this run cannot help).

    Raises:
        ReleaseConflictError: naming the extracts and the fix.
    """
    extracts = [r for r in same if r.method == "extract"]
    if not extracts:
        return
    hidden = [View(t.group_by, t.counts, dict.fromkeys(t.counts, "")) for t in mine]
    small = {
        (i, k) for i, t in enumerate(mine) for k, why in t.suppressed.items() if why == "primary"
    }

    def given(earlier: Sequence[Release]) -> set[tuple[int, Key]]:
        got, _ = recomputable([*hidden, *earlier_views(earlier)], columns, found)
        return {(row.table, row.key) for row, _ in got if row.table < len(hidden)} & small

    exposed = given(same)
    if exposed:
        exposed -= given([r for r in same if r.method != "extract"])
    if exposed:
        kept = sorted({d.split(".", 1)[1] for r in extracts for t in r.tables for d in t.dims})
        raise ReleaseConflictError(
            table,
            ", ".join(r.describe() for r in extracts),
            f"{len(exposed)} cell(s) this run suppresses (fewer than {min_count} people) are"
            f" given back by that extract of the same data (its counts by"
            f" {', '.join(kept) or 'its total'}), with what else was published before:"
            " suppressing them here hides nothing",
            "group by columns that extract does not release as they are (or coarser ones),"
            " or publish this table from data that extract did not read",
        )


def refuse_noisy_after(
    earlier: Sequence[Release],
    engine: Engine,
    keys: Keys,
    table: str,
    contents: dict[str, str],
    tables: dict[str, tuple[set[str], bool]],
) -> None:
    """Refuse a noisy aggregate whose table (`tables`: per name, its group columns as sources
    and whether it has margins) an earlier extract of the same data gives exactly.

    Raises:
        ReleaseConflictError: naming the extract and the fix.
    """
    extracts = comparable(earlier, engine, keys, table, contents, ("extract",), strict=False)
    for release in extracts:
        kept = {d for t in release.tables for d in t.dims}
        for name, (dims, margins) in tables.items():
            if dims <= kept or margins:
                what = "its total" if margins and not dims <= kept else "each of its cells"
                raise ReleaseConflictError(
                    table,
                    release.describe(),
                    f"that extract of the same data gives the exact count of {what} of noisy"
                    f" table {name}: noise beside it protects nothing",
                    "group by columns that extract does not release as they are"
                    + (", without margins" if margins else "")
                    + ", or publish from data that extract did not read",
                )


__all__ = [
    "Released",
    "check_extract",
    "forms",
    "kept_columns",
    "left_out_refs",
    "refuse_given_back",
    "refuse_noisy_after",
    "released",
]
