"""What an extract gives away to later releases of the same data, and what earlier releases
mean for a new extract: the release log's side for extracts (`anonymize.history` is the
aggregates').

An extract's rows give the count of every combination of the columns it releases: to an
attacker it is a table
grouped by those columns, with a cell for each combination the data holds, published where
every person of the data holding it is in the extract and hidden where the extract suppressed
some or all of them; and its total (its manifest's rows in and out). A released column is
judged by the partition it makes of the data's values, not by its operator's name: one whose
values are a one-to-one function of its source's on this data (`keep`, a searched column at
its original level, and any hierarchy, bin, mask or prefix that happens to keep every value
present apart: a relabel) is that source column, its cells the source's cells; one that
merges values (of at most `MAX_GROUPED` distinct ones) is a derived column ("table.column~id")
whose every cell is the sum of its source values' cells, each value's group kept in the log
under a keyed reference (`Released.groups`, never the value). It is recorded in the
release log as that table beside its total (`Released.tables`), with the data's content
fingerprints (`anonymize.history.content_versions`, so a renamed or reordered copy is the
same data set), the form of each released column, its k and keyed references of the people
the suppression ledger left out. Then:

- an aggregate run with suppression takes it into its complementary suppression as it takes an
  earlier table, and is refused when a cell it suppresses as small is given back by the
  earlier releases alone, an extract among them (`refuse_given_back`);
- a noisy aggregate table whose group columns an earlier extract releases one-to-one (or with
  a value alone in its group: that cell's count is exact), or a noisy total (every extract
  gives its count), is refused (`refuse_noisy_after`): the exact count is out, and noise
  beside it protects nothing;
- a new extract is refused when, together with it, a cell an earlier suppression run or
  extract hid (or that it hides) is recomputable from what they published, and no one of them
  gives it alone; when an earlier noisy table's group columns are all among its kept columns;
  and when an earlier extract or suppression run of the same data released a column in the
  same form or over the same source column, and the people the ledger left out differ between
  the two by fewer than k (or the run's `min_count`): the two differ by those people's rows
  alone, which comparing them isolates (`check_extract`); its data sets are every table it
  reads (base and joins), as an aggregate run's: an earlier extract or suppression run that
  read one of them as it is now but counted another base table's people, or read a table
  changed since, is refused (`anonymize.history.comparable`);
- an aggregate run with suppression is refused the same way against an earlier extract or
  suppression run (`refuse_differencing`), in either order. Noisy runs are not compared: each
  is charged against the budget, which bounds what two of them tell about one person.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import duckdb
import pyarrow as pa

from anonymize.disclosure import View, recomputable
from anonymize.history import atoms, comparable, earlier_views, joins_with
from anonymize.joins import Join
from anonymize.operators import Context, coarsen_sql, operator_for
from anonymize.params import (
    Coarsening,
    DateShift,
    Drop,
    Generalize,
    Hash,
    Keep,
    Pseudonym,
    Redact,
    Suppress,
)
from anonymize.policy import Policy
from anonymize.search import SearchResult
from dsar.engine.base import Engine, quote_identifier
from dsar.errors import ReleaseConflictError
from dsar.keys import Keys, Purpose
from dsar.records.releases import PublishedTable, Release

Key = tuple[str | None, ...]
KEPT = "[kept]"  # the extract's table of its kept columns, in the log: "<name>[kept]"
TOTAL = "[total]"
MAX_GROUPED = 1000  # a merging column of more distinct source values is not modelled
MAX_PARTITIONED = 50_000  # a column of more distinct source values is not partitioned at all
DERIVED = "~"  # "table.column~<id>": a column whose cells are sums of its source's cells
_UNKNOWN = "\x00?"  # a value a recorded grouping does not list (its group unknown)
_NOT_MODELLED = (Drop, Hash, Pseudonym, Suppress, DateShift, Redact)


@dataclass(frozen=True)
class Released:
    """What an extract's rows give away, as the release log records it."""

    kept: dict[str, str]  # output column -> the dimension it releases ("table.column[~id]")
    published: tuple[Key, ...]  # combinations of the kept columns released whole
    hidden: tuple[Key, ...]  # combinations some or all of whose people were suppressed
    forms: tuple[str, ...]  # each released column's source and operator
    left_out: tuple[str, ...]  # keyed references of the people the ledger left out
    # per derived column's id, each source value's group (keyed reference -> group)
    groups: dict[str, dict[str, str]] = field(default_factory=dict)

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


def group_forms(sources: Sequence[str]) -> tuple[str, ...]:
    """An aggregate's group columns as an extract's forms: each released as it is."""
    keep = Keep(op="keep").model_dump_json()
    return tuple(sorted({f"{s}={keep}" for s in sources}))


def left_out_refs(keys: Keys, people: Sequence[str], rows: int = 0) -> tuple[str, ...]:
    """Keyed references of the people the ledger left out (their digests); without `person:`,
    one reference per row left out (only their number can be compared)."""
    refs = [keys.keyed_hash(Purpose.RELEASE_REF, f"left-out|{p}")[:16] for p in people]
    refs += [keys.keyed_hash(Purpose.RELEASE_REF, f"left-out-row|{i}")[:16] for i in range(rows)]
    return tuple(sorted(set(refs)))


def _value_ref(keys: Keys, value: str) -> str:
    return keys.keyed_hash(Purpose.RELEASE_REF, f"group-value|{value}")[:16]


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _partition(
    con: duckdb.DuckDBPyConnection,
    engine: Engine,
    source: tuple[str, list[object]],
    column: str,
    op: Any,
    ctx: Context,
) -> list[tuple[str | None, str | None, str | None]] | None:
    """Each distinct source value of an output column (as the data's atoms write it, and its
    text in the engine) with its released value, the operator (or the chosen level) applied to
    it; None where it cannot be applied here (a value withheld whole, an IP level, more than
    `MAX_PARTITIONED` values)."""
    if isinstance(op, str):
        return None  # '*': one group, no more than the other columns' counts
    q = quote_identifier(column)
    got = engine.query(
        f"SELECT DISTINCT {q} AS __v, CAST({q} AS VARCHAR) AS __t FROM {source[0]}"
        f" LIMIT {MAX_PARTITIONED + 1}",
        source[1],
    )
    if got.num_rows > MAX_PARTITIONED:
        return None  # too many values to map here (such a column rarely meets k one-to-one)
    values, texts = got.column("__v"), got.column("__t").to_pylist()
    level = isinstance(op, Coarsening) and not isinstance(op, Generalize)
    sql = coarsen_sql(q, op, ctx) if level else operator_for(op).sql(q, op, ctx)
    if sql is None:
        if level:
            return None
        ctx.column = column
        out = operator_for(op).python(values.combine_chunks(), op, ctx).to_pylist()
    else:
        name = "__partition_values"
        con.register(name, pa.table({column: values}))
        try:
            out = [r[0] for r in con.execute(f"SELECT {sql[0]} FROM {name}", sql[1]).fetchall()]
        finally:
            con.unregister(name)
    raw = values.to_pylist()
    return [(_text(v), t, _text(o)) for v, t, o in zip(raw, texts, out, strict=True)]


def gives_away(
    con: duckdb.DuckDBPyConnection,
    final: str,
    engine: Engine,
    source: tuple[str, list[object]],
    policy: Policy,
    found: SearchResult | None,
    ctx: Context,
    keys: Keys,
    *,
    person: str | None,
    who_sql: str | None,
    left_out: tuple[str, ...],
) -> Released:
    """What an extract's rows (`final`, on `con`) give away, judged against the data
    (`source`: the rows read, the ledger's people left out, on the engine): every released
    column by the partition it makes of its source's values (module docstring), and the
    combinations of those columns released whole or hidden, each one's people (rows, without
    `person:`) in the extract against the data."""
    sources = policy.sources()
    levels = found.levels() if found is not None else {}
    searched = policy.searched()
    kept: dict[str, str] = {}
    back: dict[str, dict[str | None, str | None]] = {}  # relabelled: released -> source
    merged: dict[str, list[tuple[str | None, str | None]]] = {}  # engine text -> group
    groups: dict[str, dict[str, str]] = {}
    for column, op in policy.operators().items():
        if isinstance(op, _NOT_MODELLED):
            continue
        src = f"{sources[column].table}.{sources[column].column}"
        level = levels.get(column)
        if isinstance(op, Keep) or level == 0:
            kept[column] = src
            continue
        chosen: Any = op if level is None else searched[column].level(level - 1)
        pairs = _partition(con, engine, source, column, chosen, ctx)
        if pairs is None:
            continue
        members: dict[str | None, set[str | None]] = {}
        for value, _, group in pairs:
            members.setdefault(group, set()).add(value)
        if all(len(m) == 1 for m in members.values()):  # one-to-one: the source column
            kept[column] = src
            back[column] = {g: next(iter(m)) for g, m in members.items()}
        elif len(members) > 1 and len(pairs) <= MAX_GROUPED:
            mapping = {_value_ref(keys, v): str(g) for v, _, g in pairs if v is not None}
            text = "|".join(f"{r}={g}" for r, g in sorted(mapping.items()))
            ident = keys.keyed_hash(Purpose.RELEASE_REF, f"grouping|{src}|{text}")[:12]
            kept[column] = f"{src}{DERIVED}{ident}"
            groups[ident] = mapping
            merged[column] = [(t, g) for _, t, g in pairs if t is not None]
    if not kept:
        return Released(kept, (), (), forms(policy), left_out, groups)
    mine = f"count(DISTINCT {quote_identifier(person)})" if person else "count(*)"
    cols = ", ".join(quote_identifier(c) for c in kept)
    out = con.execute(f"SELECT {cols}, {mine} AS __n FROM {final} GROUP BY ALL").fetchall()
    picks: list[str] = []
    params: list[object] = []
    for column in kept:
        q = quote_identifier(column)
        if column in merged:
            whens = " ".join("WHEN ? THEN ?" for _ in merged[column])
            picks.append(f"(CASE CAST({q} AS VARCHAR) {whens} END) AS {q}")
            params += [x for pair in merged[column] for x in pair]
        else:
            picks.append(f"{q} AS {q}")
    theirs = f"count(DISTINCT {who_sql})" if who_sql else "count(*)"
    rows = engine.query(
        f"SELECT {', '.join(picks)}, {theirs} AS __n FROM {source[0]} GROUP BY ALL",
        [*params, *source[1]],
    ).to_pylist()

    def released_key(values: Sequence[object]) -> Key:
        key: list[str | None] = []
        for column, v in zip(kept, values, strict=True):
            text = _text(v)
            key.append(back[column].get(text, _UNKNOWN) if column in back else text)
        return tuple(key)

    given: Counter[Key] = Counter()
    for r in out:
        given[released_key(r[:-1])] += int(r[-1])
    counts = {tuple(_text(r[c]) for c in kept): int(r["__n"]) for r in rows}
    order = sorted(counts, key=lambda k: tuple(str(v) for v in k))
    whole = tuple(k for k in order if given.get(k) == counts[k])
    hidden = tuple(k for k in order if given.get(k) != counts[k])
    return Released(kept, whole, hidden, forms(policy), left_out, groups)


def data_atoms(
    engine: Engine,
    table: str,
    joins: list[Join],
    columns: Sequence[str],
    keys: Keys,
    groups: dict[str, dict[str, str]],
    where: tuple[str, Sequence[object]] = ("TRUE", ()),
) -> list[Key]:
    """The data's atoms over `columns` (`anonymize.history.atoms`), a derived column's value
    being its source value's group (`groups`, by the derived column's id)."""
    bases = sorted({c.split(DERIVED, 1)[0] for c in columns})
    if len(bases) == len(columns) and set(bases) == set(columns):
        return atoms(engine, engine.catalog, table, joins, columns, where)
    raw = atoms(engine, engine.catalog, table, joins, bases, where)
    at = {b: i for i, b in enumerate(bases)}
    refs: dict[str, str] = {}
    found: dict[Key, None] = {}
    for atom in raw:
        row: list[str | None] = []
        for c in columns:
            base, _, ident = c.partition(DERIVED)
            value = atom[at[base]]
            if ident and value is not None:
                if value not in refs:
                    refs[value] = _value_ref(keys, value)
                value = groups.get(ident, {}).get(refs[value], _UNKNOWN)
            row.append(value)
        found[tuple(row)] = None
    return list(found)


def groups_of(
    releases: Sequence[Release], *more: dict[str, dict[str, str]]
) -> dict[str, dict[str, str]]:
    """Every recorded grouping of derived columns, by id."""
    found: dict[str, dict[str, str]] = {}
    for release in releases:
        found.update(release.groups)
    for g in more:
        found.update(g)
    return found


def exact_dims(tables: Sequence[PublishedTable], groups: dict[str, dict[str, str]]) -> set[str]:
    """The source columns some of whose cells these tables give exactly: those released
    one-to-one, and those released merged where a value is alone in its group."""
    found: set[str] = set()
    for t in tables:
        for d in t.dims:
            base, _, ident = d.partition(DERIVED)
            if not ident:
                found.add(d)
            elif any(n == 1 for n in Counter(groups.get(ident, {}).values()).values()):
                found.add(base)
    return found


def _shown(dim: str) -> str:
    return dim.split(".", 1)[-1].split(DERIVED, 1)[0]


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
    # every table the extract reads is one of its data sets, as an aggregate run's: an
    # earlier extract or suppression run that read one of them but counted another base
    # table's people (or read a table changed since) cannot be checked with it, and is
    # refused (red team r5 F1: two such releases differenced gave an objector's row)
    comparable(earlier, engine, keys, table, contents, ("suppression", "extract"))
    kinds = ("suppression", "differential_privacy", "extract")
    same = comparable(earlier, engine, keys, table, contents, kinds, strict=False)
    exact = exact_dims(mine.tables(policy.name), mine.groups)
    names = ", ".join(mine.kept) or "no column"
    for release in same:
        if release.method != "differential_privacy":
            continue
        for t in release.tables:
            if set(t.dims) <= exact:
                by = ", ".join(_shown(d) for d in t.dims) or "nothing (its total)"
                raise ReleaseConflictError(
                    table,
                    release.describe(),
                    f"its noisy table {t.name} grouped by {by}: this extract's rows give the"
                    " exact count of each of its cells, or of some (every extract gives its"
                    " total; a column renamed value for value, or with a value alone in its"
                    " group, gives that value's count)",
                    "release those columns coarser (no value alone in its group) or drop one"
                    " of them; a noisy total and an extract of the same data cannot both be"
                    " published",
                )
    dims = {d.split(DERIVED, 1)[0] for t in mine.tables(policy.name) for d in t.dims}
    refuse_differencing(
        same, table, dims, mine.forms, mine.left_out, policy.privacy.k, "this extract"
    )
    frozen = [r for r in same if r.method in ("suppression", "extract")]
    if not frozen:
        return
    new = [_view(t) for t in mine.tables(policy.name)]
    before = earlier_views(frozen)
    owners = [r for r in frozen for _ in r.tables]
    columns = sorted({d for t in [*new, *before] for d in t.group_by})
    joins = joins_with(table, policy.join, frozen)
    found = data_atoms(engine, table, joins, columns, keys, groups_of(frozen, mine.groups))

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
            " counts; a column renamed value for value counts as released as it is, and a"
            " coarser one as the sum of its values' cells)",
            f"release {names} coarser or drop one of them (an extract gives the count of every"
            " combination of the columns it releases, whatever their labels)",
        )


def refuse_differencing(
    same: Sequence[Release],
    table: str,
    dims: set[str],
    released: Sequence[str],
    left_out: Sequence[str],
    bar: int,
    what: str,
) -> None:
    """An earlier extract or suppression run of the same data releasing a column in the same
    form or over one of the same source columns (`dims`), whose ledger left out other people,
    fewer than k (or `min_count`) of them different: the two releases differ by those
    people's rows alone.

    Raises:
        ReleaseConflictError: naming the earlier release and the fix.
    """
    for release in same:
        if release.method not in ("extract", "suppression") or not release.released:
            continue  # noisy runs are charged instead; entries from before record no ledger
        theirs = {d.split(DERIVED, 1)[0] for t in release.tables for d in t.dims}
        common = (set(release.released) & set(released)) | (theirs & dims)
        if not common:
            continue
        changed = len(set(release.left_out) ^ set(left_out))
        need = max(bar, release.k or 0)
        if 0 < changed < need:
            shared = sorted({c.split("=", 1)[0] for c in common})
            raise ReleaseConflictError(
                table,
                release.describe(),
                f"it released {len(shared)} of the columns of {what} from the same data, and"
                f" {changed} person(s) were left out of one and not the other by the"
                " suppression ledger: the two releases differ by those people's rows alone,"
                f" which comparing them isolates (fewer than k = {need})",
                f"release it again once {need} or more people have been left out since that"
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
        kept = sorted({_shown(d) for r in extracts for t in r.tables for d in t.dims})
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
    and whether it has margins) an earlier extract of the same data gives exactly (a column
    released one-to-one, or merged with a value alone in its group, counts as given).

    Raises:
        ReleaseConflictError: naming the extract and the fix.
    """
    extracts = comparable(earlier, engine, keys, table, contents, ("extract",), strict=False)
    for release in extracts:
        kept = exact_dims(release.tables, release.groups)
        for name, (dims, margins) in tables.items():
            if dims <= kept or margins:
                what = "its total" if margins and not dims <= kept else "each of its cells"
                raise ReleaseConflictError(
                    table,
                    release.describe(),
                    f"that extract of the same data gives the exact count of {what} of noisy"
                    f" table {name}: noise beside it protects nothing (a column renamed value"
                    " for value, or with a value alone in its group, gives that value's count)",
                    "group by columns that extract does not release (or releases with no"
                    " value alone in its group)"
                    + (", without margins" if margins else "")
                    + ", or publish from data that extract did not read",
                )


__all__ = [
    "DERIVED",
    "MAX_GROUPED",
    "Released",
    "check_extract",
    "data_atoms",
    "exact_dims",
    "forms",
    "gives_away",
    "group_forms",
    "groups_of",
    "kept_columns",
    "left_out_refs",
    "refuse_differencing",
    "refuse_given_back",
    "refuse_noisy_after",
]
