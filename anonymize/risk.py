"""Re-identification risk of a table, measured in SQL over its quasi-identifiers.

An equivalence class is the set of rows sharing one combination of quasi-identifier values
(NULL is a value of its own). Where a table holds several rows per person and names the
person's column, a class's size is the number of distinct people in it, not its rows: 440
of 450 classes of a web log "k = 5" by rows held one user. A person whose rows fall in
several classes is as exposed as in their smallest. Measured here, all by DuckDB over the
file or relation:

- k-anonymity: the size (people) of the smallest class; and the distribution of sizes;
- uniqueness: the share of people alone in a class (in their smallest);
- l-diversity: the fewest distinct sensitive values in a class (distinct l), and the
  smallest exp(entropy) of a class's sensitive values (entropy l);
- t-closeness: the largest distance between a class's distribution of a sensitive value
  and the whole table's: the earth mover's distance with equal ground distance for text
  (half the L1 distance), and with ordered distance for numbers;
- re-identification risk, per person: prosecutor (the attacker knows the person is in the
  table): highest 1/smallest class, average over people of 1/(their smallest class), which
  is classes/rows when each row is a person; journalist (the attacker does not know):
  without a population table it cannot be lower than prosecutor risk, so the prosecutor
  figures bound it and are reported as such; marketer (re-identify as many as possible):
  the expected share of people re-identified, the same average.

Where the rows are linked per person in the release (the person's pseudonym is released,
`linked_by=`), an attacker groups the rows by pseudonym and matches each person's whole set
of rows against what they know: the person's quasi-identifier is then the multiset of their
rows' quasi-identifier values (and how many rows they have). `usage_events` with `user_id:
hash`, action and object type kept, measured k = 398 by single rows, while 699 of 994 people
had a combination of actions no one else had. So k, the class sizes, uniqueness and the
risks are then those of the linked view: GROUP BY person -> the sorted list of their rows'
quasi-identifier tuples -> GROUP BY that list (a class's size: its distinct people); rows
without a pseudonym stay in their single-row classes. `k_rows` keeps the single-row k.
"""

from __future__ import annotations

import itertools
import math
import secrets
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from decimal import Decimal
from fractions import Fraction
from typing import Any

import duckdb

from dsar.engine.base import quote_identifier, sql_string

SIZE_BUCKETS = (1, 2, 3, 5, 10, 20, 50, 100)  # class-size histogram: 1, 2, 3-4, 5-9, ...


@dataclass(frozen=True)
class RiskReport:
    """The risk of one table over its quasi-identifiers (and sensitive columns)."""

    rows: int
    classes: int
    k: int  # smallest class, in people (0 for an empty table)
    quasi_identifiers: tuple[str, ...]
    class_sizes: dict[str, int]  # "1", "2", "3-4", ... -> people in classes of that size
    people: int = 0  # distinct people (the rows, when each row is a person)
    unique: float = 0.0  # share of people alone in a class
    l_distinct: dict[str, int] = field(default_factory=dict)  # per sensitive column
    l_entropy: dict[str, float] = field(default_factory=dict)
    t_closeness: dict[str, float] = field(default_factory=dict)
    prosecutor_highest: float = 0.0
    prosecutor_average: float = 0.0
    journalist_highest: float = 0.0  # bounded above by the prosecutor figure (no population)
    marketer: float = 0.0
    linked_by: tuple[str, ...] = ()  # the released pseudonyms the rows are linked by
    k_rows: int | None = None  # the single-row k, where the figures above are linked
    text_unique: dict[str, float] = field(default_factory=dict)  # free text: unique share

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["quasi_identifiers"] = list(self.quasi_identifiers)
        out["linked_by"] = list(self.linked_by)
        return out


def _key(qis: Sequence[str]) -> str:
    return ", ".join(quote_identifier(q) for q in qis)


MAX_VALUES = 64
"""A sensitive column with at most this many distinct values is counted in the classes' own
pass, one count per value; one with more is counted in a pass of its own."""


def _alias(expr: str) -> str:
    return expr.rsplit(" AS ", 1)[1]


def _packed_counts(
    con: duckdb.DuckDBPyConnection, relation: str, values: dict[str, list[Any]]
) -> tuple[list[tuple[str, str]], list[str], list[object]]:
    """The classes' counts of each sensitive value, packed: a value's code j (0 for NULL)
    adds 1 to a field of B bits of a HUGEINT sum, B the bit length of the table's rows, so
    no field can carry into the next (a class holds at most every row) and one sum counts
    127 // B values. One sum per few values costs far less per row than one per value.

    Returns ((code column, packed sum) per sum, the unpacked counts `__c_{i}_{j}` as SQL
    over the sums, the code columns' parameters)."""
    if not values:
        return [], [], []
    got = con.execute(f"SELECT count(*) FROM {relation}").fetchone()
    bits = max(int(got[0]) if got else 0, 1).bit_length()
    per = 127 // bits
    mask = (1 << bits) - 1
    packed: list[tuple[str, str]] = []
    unpack: list[str] = []
    params: list[object] = []
    for i, (s, vals) in enumerate(values.items()):
        col = quote_identifier(s)
        known = [v for v in vals if v is not None]
        code = (
            f"CASE WHEN {col} IS NULL THEN 0 ELSE list_position(?, {col}) END AS __code_{i}"
            if known
            else f"0 AS __code_{i}"
        )
        if known:
            params.append(known)
        fields = len(known) + 1
        groups = -(-fields // per)
        for g in range(groups):
            one = f"CAST(1 AS HUGEINT) << ({bits} * (__code_{i} - {g * per}))"
            add = (
                one if groups == 1 else f"CASE WHEN __code_{i} // {per} = {g} THEN {one} ELSE 0 END"
            )
            packed.append((code if g == 0 else "", f"sum({add}) AS __h_{i}_{g}"))
            for r in range(min(per, fields - g * per)):
                unpack.append(
                    f"CAST((__h_{i}_{g} >> {bits * r}) & {mask} AS BIGINT) AS __c_{i}_{g * per + r}"
                )
    return packed, unpack, params


def measure(
    con: duckdb.DuckDBPyConnection,
    relation: str,
    quasi_identifiers: Sequence[str],
    sensitive: Sequence[str] = (),
    person: str | None = None,
    *,
    per_person: bool = True,
    linked_by: Sequence[str] = (),
) -> RiskReport:
    """Measure `relation` (a table name or a parenthesised SELECT) over its quasi-identifiers.

    `person`: the column naming whose row it is, when people have several rows (None: each
    row is a person); `per_person=False` leaves out the pass that finds each person's smallest
    class (people, unique and the average risks are then counted by class).
    `linked_by`: released columns linking a person's rows (their pseudonyms): k, the class
    sizes, people, uniqueness and the risks are then over each person's multiset of rows
    (`_linked`), the single-row k kept as `k_rows`.

    k, l and t come from one pass over the rows: an exact GROUP BY of the quasi-identifiers
    counting each class's rows, its distinct people and, per sensitive column of at most
    `MAX_VALUES` values, its rows of each value (the values are read first, from that column
    alone; their counts share a few packed sums, `_packed_counts`). Every measure is then
    computed from those counts, which are far fewer than the rows. A sensitive column of
    more values is counted by (class, value) in a pass of its own; the people's smallest
    classes take one more pass, joining the rows with their classes
    (`benchmarks/bench_risk.py` times both against an exact `count(DISTINCT person) ...
    GROUP BY` of the same columns).
    """
    qis = list(quasi_identifiers)
    tag = secrets.token_hex(4)
    created: list[str] = []
    try:
        values: dict[str, list[Any]] = {}
        for s in sensitive:
            col = quote_identifier(s)
            got = con.execute(
                f"SELECT {col} FROM {relation} GROUP BY ALL LIMIT {MAX_VALUES + 1}"
            ).fetchall()
            if len(got) <= MAX_VALUES:
                values[s] = [v for (v,) in got]
        classes = f"__classes_{tag}"
        lead = f"{_key(qis)}, " if qis else ""
        group = " GROUP BY ALL" if qis else ""
        packed, unpack, params = _packed_counts(con, relation, values)
        codes = [code for code, _ in packed if code]
        sums = [total for _, total in packed]
        rows = f"(SELECT *, {', '.join(codes)} FROM {relation})" if codes else relation
        if person is None:  # each row a person: one GROUP BY
            extra = "".join(f", {e}" for e in sums)
            body = f"SELECT {lead}count(*) AS __rows, count(*) AS __n{extra} FROM {rows}{group}"
        else:
            # a class's distinct people as two GROUP BYs, by (class, person) then by class:
            # as exact as count(DISTINCT), faster with the other counts beside it; rows of no
            # known person are one group in their class, so one person, as `class_size`
            who = quote_identifier(person)
            inner = "".join(f", {e}" for e in sums)
            outer = "".join(f", sum({_alias(e)}) AS {_alias(e)}" for e in sums)
            body = (
                f"SELECT {lead}sum(__r) AS __rows, count(*) AS __n{outer} FROM (SELECT {lead}"
                f"{who}, count(*) AS __r{inner} FROM {rows} GROUP BY ALL){group}"
            )
        numbered = len(values) < len(sensitive)  # a (class, value) pass joins by number
        number = ", row_number() OVER () AS __cid" if numbered else ""
        keep = "".join(f", {e}" for e in unpack)
        con.execute(
            f"CREATE TEMP TABLE {classes} AS SELECT {lead}__rows, __n{keep}{number} FROM ({body})",
            params,
        )
        created.append(classes)
        report = _report(con, classes, qis)
        for i, (s, vals) in enumerate(values.items()):
            report.l_distinct[s], report.l_entropy[s], report.t_closeness[s] = _in_classes(
                con, classes, i, vals
            )
        for s in sensitive:
            if s in values:
                continue
            name = f"__cv_{tag}_{len(created)}"
            con.execute(
                f"CREATE TEMP TABLE {name} AS SELECT c.__cid, v.__v, v.__n, c.__rows AS __t FROM"
                f" (SELECT {lead}{quote_identifier(s)} AS __v, count(*) AS __n FROM {relation}"
                f" GROUP BY ALL) v JOIN {classes} c ON {_same(qis, 'v', 'c')}"
            )
            created.append(name)
            report.l_distinct[s], report.l_entropy[s] = _l_diversity(con, name)
            report.t_closeness[s] = _t_closeness(con, name)
        if linked_by:
            links = (linked_by,) if isinstance(linked_by, str) else tuple(linked_by)
            return _linked(con, relation, qis, person, links, classes, report)
        if person is None or not per_person:
            return report
        return _per_person(con, relation, qis, person, classes, report)
    finally:
        for name in created:
            con.execute(f"DROP TABLE IF EXISTS {name}")


def _same(qis: Sequence[str], a: str, b: str) -> str:
    """SQL: the rows `a` and `b` have the same quasi-identifiers (NULL equal to NULL)."""
    on = [f"{a}.{quote_identifier(q)} IS NOT DISTINCT FROM {b}.{quote_identifier(q)}" for q in qis]
    return " AND ".join(on) or "TRUE"


def _in_classes(
    con: duckdb.DuckDBPyConnection, classes: str, i: int, vals: list[Any]
) -> tuple[int, float, float]:
    """Distinct l, entropy l and t-closeness of the sensitive column counted as `__c_{i}_*`
    in `classes` (code 0: NULL, code j: the j-th of `vals`' other values)."""
    known = [v for v in vals if v is not None]
    codes = list(range(1, len(known) + 1))
    if len(known) < len(vals):
        codes.append(0)  # NULL, a value of its own (last in order, as NULLS LAST)
    got = con.execute(
        "SELECT " + ", ".join(f"sum(__c_{i}_{j})" for j in codes) + f" FROM {classes}"
    ).fetchone()
    totals = [int(v or 0) for v in (got or ())]
    whole = sum(totals)
    if not whole:
        return 0, 0.0, 0.0
    c = [f"__c_{i}_{j}" for j in codes]
    p = [t / whole for t in totals]
    distinct = " + ".join(f"CAST({x} > 0 AS INTEGER)" for x in c)
    plogp = " + ".join(f"CASE WHEN {x} > 0 THEN {x} * ln({x}) ELSE 0 END" for x in c)
    entropy = f"ln(__rows) - ({plogp}) / __rows"
    numeric = bool(known) and all(
        isinstance(v, int | float | Decimal) and not isinstance(v, bool) for v in known
    )
    if not numeric:  # equal ground distance: half the L1 distance
        far = " + ".join(f"abs({x} / __rows - {q!r})" for x, q in zip(c, p, strict=True))
        distance = f"0.5 * ({far})"
    else:  # ordered distance over the values in order (NULL last), as _t_closeness
        order = sorted(range(len(known)), key=lambda j: known[j])
        ordered = [(c[j], p[j]) for j in order] + list(
            zip(c[len(known) :], p[len(known) :], strict=True)
        )
        steps = max(len(known) - 1, 1)
        running, terms = "0", []
        for x, q in ordered:
            running = f"({running} + {x} / __rows - {q!r})"
            terms.append(f"abs({running})")
        distance = f"({' + '.join(terms)}) / {steps}"
    got = con.execute(
        f"SELECT min({distinct}), min({entropy}), max({distance}) FROM {classes} WHERE __rows > 0"
    ).fetchone()
    if not got or got[0] is None:
        return 0, 0.0, 0.0
    return (
        int(got[0]),
        round(math.exp(max(float(got[1]), 0.0)), 6),
        round(float(got[2]), 6),
    )


def _report(con: duckdb.DuckDBPyConnection, classes: str, qis: list[str]) -> RiskReport:
    row = con.execute(
        f"SELECT coalesce(sum(__rows), 0), count(*) FILTER (WHERE __n > 0),"
        f" coalesce(min(__n) FILTER (WHERE __n > 0), 0), coalesce(sum(__n), 0),"
        f" coalesce(sum(__n) FILTER (WHERE __n = 1), 0) FROM {classes}"
    ).fetchone()
    assert row is not None
    rows, n_classes, k = int(row[0]), int(row[1]), int(row[2])
    people, alone = int(row[3]), int(row[4])
    bounds = [*SIZE_BUCKETS, None]
    labels: list[tuple[str, str]] = []
    for lo, hi in itertools.pairwise(bounds):
        assert lo is not None
        label = str(lo) if hi == lo + 1 else (f"{lo}-{hi - 1}" if hi else f"{lo}+")
        labels.append((label, f"__n >= {lo}" + (f" AND __n < {hi}" if hi else "")))
    sums = ", ".join(f"coalesce(sum(__n) FILTER (WHERE {cond}), 0)" for _, cond in labels)
    got = con.execute(f"SELECT {sums} FROM {classes}").fetchone()
    histogram = {label: int(v) for (label, _), v in zip(labels, got or (), strict=True)}
    return RiskReport(
        rows=rows,
        classes=n_classes,
        k=k,
        quasi_identifiers=tuple(qis),
        class_sizes=histogram,
        people=people,
        unique=alone / people if people else 0.0,
        prosecutor_highest=1 / k if k else 0.0,
        prosecutor_average=n_classes / people if people else 0.0,
        journalist_highest=1 / k if k else 0.0,
        marketer=n_classes / people if people else 0.0,
    )


def _per_person(
    con: duckdb.DuckDBPyConnection,
    relation: str,
    qis: list[str],
    person: str,
    classes: str,
    report: RiskReport,
) -> RiskReport:
    """The measures that follow people across classes: each person is as exposed as in their
    smallest class (its distinct people, from `classes`), and counted once."""
    who = quote_identifier(person)
    # rows of no known person count in their classes' sizes, and as no one among the people;
    # people per smallest class size, summed exactly (a float sum's order, which differs
    # between engines and threads, would change the last digits)
    sizes = con.execute(
        f"SELECT m, count(*) FROM (SELECT r.{who}, min(c.__n) AS m FROM {relation} r"
        f" JOIN {classes} c ON {_same(qis, 'r', 'c')} WHERE r.{who} IS NOT NULL"
        f" GROUP BY r.{who}) GROUP BY m"
    ).fetchall()
    people = sum(int(n) for _, n in sizes)
    alone = sum(int(n) for m, n in sizes if int(m) == 1)
    risk = sum((Fraction(int(n), int(m)) for m, n in sizes), Fraction(0))
    average = float(risk / people) if people else 0.0
    return replace(
        report,
        people=people,
        unique=alone / people if people else 0.0,
        prosecutor_average=average,
        marketer=average,
    )


def _histogram(sizes: list[tuple[int, int]]) -> dict[str, int]:
    """People per class-size bucket, from (class size, people) pairs."""
    bounds = [*SIZE_BUCKETS, None]
    out: dict[str, int] = {}
    for lo, hi in itertools.pairwise(bounds):
        assert lo is not None
        label = str(lo) if hi == lo + 1 else (f"{lo}-{hi - 1}" if hi else f"{lo}+")
        out[label] = sum(p for n, p in sizes if n >= lo and (hi is None or n < hi))
    return out


def _linked(
    con: duckdb.DuckDBPyConnection,
    relation: str,
    qis: list[str],
    person: str | None,
    linked_by: tuple[str, ...],
    classes: str,
    report: RiskReport,
) -> RiskReport:
    """The measures where a person's rows are linked by the released columns `linked_by`
    (pseudonyms): each value of one (a unit) is described by the sorted list of its rows'
    quasi-identifier tuples (with no quasi-identifier, by its number of rows), and a class is
    the units of that column sharing one such list, its size their distinct people. A person
    is as exposed as in the smallest class of any of their units, or the single-row class of
    a row no column links where that is smaller. `classes` counts the first column's classes;
    `class_sizes` the people per size of their smallest class."""
    who = quote_identifier(person) if person is not None else None
    row = (
        "struct_pack("
        + ", ".join(f"{quote_identifier(q)} := {quote_identifier(q)}" for q in qis)
        + ")"
        if qis
        else "0"
    )
    # a unit of no known person is a person of its own (`#`, the column, its pseudonym)
    tag = secrets.token_hex(4)
    tables: list[str] = []
    created: list[str] = []
    unlinked = " AND ".join(f"r.{quote_identifier(c)} IS NULL" for c in linked_by)
    try:
        for i, column in enumerate(linked_by):
            link = quote_identifier(column)
            who_of = f"coalesce(CAST(__p AS VARCHAR), '#{i}#' || CAST(__u AS VARCHAR))"
            units = f"__units_{tag}_{i}"
            con.execute(
                f"CREATE TEMP TABLE {units} AS SELECT {link} AS __u,"
                f" {f'any_value({who})' if who else 'NULL'} AS __p, list_sort(list({row})) AS"
                f" __sig FROM {relation} WHERE {link} IS NOT NULL GROUP BY {link}"
            )
            created.append(units)
            name = f"__linked_{tag}_{i}"
            con.execute(
                f"CREATE TEMP TABLE {name} AS SELECT {who_of} AS __p, u.__sig, c.__n FROM"
                f" {units} u JOIN (SELECT __sig, count(DISTINCT {who_of}) AS __n FROM {units}"
                f" GROUP BY __sig) c USING (__sig)"
            )
            created.append(name)
            tables.append(name)
        got = con.execute(f"SELECT count(DISTINCT __sig) FROM {tables[0]}").fetchone()
        n_classes = int(got[0]) if got else 0
        # rows no pseudonym links: their single-row classes (people, as `_per_person`)
        lone = con.execute(
            f"SELECT min(c.__n) FROM {relation} r JOIN {classes} c ON {_same(qis, 'r', 'c')}"
            f" WHERE {unlinked}"
        ).fetchone()
        parts = [f"SELECT __p AS p, __n AS m FROM {t}" for t in tables]
        if who is not None:
            parts.append(
                f"SELECT CAST(r.{who} AS VARCHAR), c.__n FROM {relation} r JOIN {classes} c"
                f" ON {_same(qis, 'r', 'c')} WHERE {unlinked} AND r.{who} IS NOT NULL"
            )
        exposure = con.execute(
            f"SELECT m, count(*) FROM (SELECT p, min(m) AS m FROM ({' UNION ALL '.join(parts)})"
            f" GROUP BY p) GROUP BY m"
        ).fetchall()
    finally:
        for name in created:
            con.execute(f"DROP TABLE IF EXISTS {name}")
    sizes = [(int(m), int(n)) for m, n in exposure]
    ks = [m for m, _ in sizes]
    if lone and lone[0] is not None:
        ks.append(int(lone[0]))
    k = min(ks) if ks else 0
    people = sum(n for _, n in sizes)
    alone = sum(n for m, n in sizes if m == 1)
    risk = sum((Fraction(n, m) for m, n in sizes), Fraction(0))
    average = float(risk / people) if people else 0.0
    return replace(
        report,
        classes=n_classes,
        k=k,
        class_sizes=_histogram(sizes),
        people=people,
        unique=alone / people if people else 0.0,
        prosecutor_highest=1 / k if k else 0.0,
        prosecutor_average=average,
        journalist_highest=1 / k if k else 0.0,
        marketer=average,
        linked_by=linked_by,
        k_rows=report.k,
    )


def normalised_text(column: str) -> str:
    """SQL: a text as compared for uniqueness: lower case, runs of white space as one."""
    col = quote_identifier(column)
    return f"trim(regexp_replace(lower(CAST({col} AS VARCHAR)), '\\s+', ' ', 'g'))"


def unique_texts(
    con: duckdb.DuckDBPyConnection, relation: str, columns: Sequence[str]
) -> dict[str, float]:
    """Per free-text column, the share of its non-empty released texts that no other row has
    (compared as `normalised_text`): each is a link from the row to its source text, for an
    attacker who has seen the text, that no k counts."""
    out: dict[str, float] = {}
    for column in columns:
        text = normalised_text(column)
        got = con.execute(
            f"SELECT coalesce(sum(n) FILTER (WHERE n = 1), 0), coalesce(sum(n), 0) FROM"
            f" (SELECT count(*) AS n FROM {relation} WHERE {text} <> '' GROUP BY {text})"
        ).fetchone()
        ones, total = (int(got[0]), int(got[1])) if got else (0, 0)
        out[column] = round(ones / total, 6) if total else 0.0
    return out


def _l_diversity(con: duckdb.DuckDBPyConnection, cv: str) -> tuple[int, float]:
    """Distinct l (the fewest values in a class) and entropy l (the smallest exp(H)), in one
    pass: H = ln(t) - sum(n ln n) / t over a class's value counts n, t their sum."""
    got = con.execute(
        f"SELECT min(d), min(h) FROM (SELECT count(*) AS d,"
        f" ln(any_value(__t)) - sum(__n * ln(__n)) / any_value(__t) AS h FROM {cv}"
        f" GROUP BY __cid)"
    ).fetchone()
    if not got or got[0] is None:
        return 0, 0.0
    return int(got[0]), round(math.exp(max(float(got[1]), 0.0)), 6)


def _t_closeness(con: duckdb.DuckDBPyConnection, cv: str) -> float:
    """Largest earth mover's distance between a class's distribution and the table's."""
    kind = con.execute(f"SELECT typeof(__v) FROM {cv} LIMIT 1").fetchone()
    numeric = kind is not None and any(
        t in str(kind[0]) for t in ("INT", "DOUBLE", "FLOAT", "DECIMAL", "REAL", "NUMERIC")
    )
    tot = f"tot AS (SELECT __v, sum(__n) / (SELECT sum(__n) FROM {cv}) AS p FROM {cv} GROUP BY __v)"
    if not numeric:
        # equal ground distance: half the L1 distance, over the class's values plus the
        # values it lacks (each contributes its whole table share p)
        sql = (
            f"WITH {tot} SELECT max(0.5 * (s + 1)) FROM (SELECT sum(abs(__n / __t - p) - p) AS s"
            f" FROM {cv} c JOIN tot ON c.__v IS NOT DISTINCT FROM tot.__v GROUP BY __cid)"
        )
    else:
        m = con.execute(f"SELECT count(DISTINCT __v) FROM {cv}").fetchone()
        steps = max(int(m[0]) - 1, 1) if m is not None else 1
        # ordered distance: the running sum of (class share - table share) over the values
        # in order, for every value of the table (a class lacking a value has share 0)
        sql = (
            f"WITH {tot}, keys AS (SELECT DISTINCT __cid FROM {cv}),"
            f" g AS (SELECT k.__cid, tot.__v, tot.p, coalesce(c.__n / c.__t, 0) AS q"
            f" FROM keys k CROSS JOIN tot LEFT JOIN {cv} c ON c.__cid = k.__cid"
            f" AND c.__v IS NOT DISTINCT FROM tot.__v),"
            f" r AS (SELECT __cid, abs(sum(q - p) OVER (PARTITION BY __cid ORDER BY __v NULLS LAST"
            f" ROWS UNBOUNDED PRECEDING)) AS d FROM g)"
            f" SELECT max(x) FROM (SELECT sum(d) / {steps} AS x FROM r GROUP BY __cid)"
        )
    got = con.execute(sql).fetchone()
    return round(float(got[0]), 6) if got and got[0] is not None else 0.0


def relation_of(path: str) -> str:
    """A DuckDB relation reading a file by its extension (parquet, csv, json, jsonl)."""
    literal = sql_string(path)
    lower = path.lower()
    if lower.endswith(".parquet"):
        return f"read_parquet({literal})"
    if lower.endswith((".csv", ".tsv")):
        return f"read_csv({literal})"
    return f"read_json({literal})"
