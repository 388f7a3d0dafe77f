"""What only the data shows a policy would release, sampled through the engine before an
extract reads anything (and by `anonymize policy check`): every problem at once, with the fix.

- a mask that keeps more than a third of a name or an identifier (`keep_last: 4` left 36 of
  245 given names whole), or a prefix that keeps one whole;
- a column the catalog gives no role whose values are another identity column's values
  (`usage_events.object_id` holds user ids), released by any operator that leaves them
  recognisable: keep, redact (it finds names and contacts, not ids), top and bottom coding,
  search levels (level 0 is the value), a hierarchy that carries them, and a mask or prefix
  keeping more than a third of one;
- a text column whose released values (after keep, redact, a mask, a prefix or a hierarchy,
  measured on the operator's own output over a sample) are unique to almost every person, like
  a URL or an id (`picture_url`: a prefix of 40 characters or the last 30 are as unique as the
  URL);
- a date column the catalog gives no role whose values look like dates of birth (nearly all
  between 1900 and 14 years ago, spread over decades, not clustered near today as the time
  of an event is), released finer than the year;
- `to:` on text that holds no dates in a format understood, or DD/MM/YYYY dates (or
  MM/DD/YYYY) generalised finer than the year, where the two differ;
- a table with several rows per person whose policy names no `person:`;
- two or more released columns derived from names, identifiers or contacts, unique per person
  together (a billing name's first 4 letters beside the account name's last 2 and length);
- a `sensitive:` column that is no attribute of a few values (most people hold a value fewer
  than k, or 20, people hold: a company), which would take an identifying column out of k;
- births at any age by value (children's: all in the past, spread over a decade and more,
  not clustered in recent years as events are); an age column whose values exceed 150 (days);
- bins, bands or top and bottom coding on a column the data holds as text.

A column found holding identity values is refused until the catalog declares it (an
`identity:`, `references:` or `personal:` role), after which the policy's rules for that
role apply. Reference tables (`personal: false`) hold nobody's values and are not sampled.
Samples are the first rows the engine reads (`SAMPLE`): what is unique in a sample of a large
table may repeat in the whole, which is why uniqueness also asks for nearly as many distinct
values as people.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from anonymize.joins import joined_relation, resolve_links
from anonymize.leaks import (
    age_unit,
    carried_by_hierarchy,
    coarser_than_a_year,
    identifying,
    is_birth_date,
    year_or_coarser,
)
from anonymize.operators import Context, MaskOp, is_text_type, operator_for, parsed_date_sql
from anonymize.params import (
    TEXT_DATES,
    Coarsening,
    DateShift,
    Drop,
    Generalize,
    Hash,
    Keep,
    Mask,
    Pseudonym,
    Redact,
    Suppress,
    TopBottom,
)
from anonymize.policy import Policy
from dsar.catalog.models import Origin
from dsar.engine import scratch_connection
from dsar.engine.base import quote_identifier, sql_in
from dsar.errors import ConfigProblem
from dsar.review.derived import number_column
from dsar.review.nested import is_nested_kind, leaf_columns
from dsar.text.detectors import cards, emails, ibans, phones

if TYPE_CHECKING:
    from dsar.catalog.models import Column
    from dsar.engine import Engine

SAMPLE = 10_000  # values read per column for the sampled checks
LOOKALIKE_LENGTH = 5  # shorter values (1, 'NL', 200) match identity columns by chance
LOOKALIKE_SHARE = 0.01  # of the sampled values, found in an identity column
UNIQUE_SHARE = 0.9  # of the sampled people, alone on their value: an identifier or a URL
UNIQUE_ROWS = 50  # fewer sampled people (or values) say nothing about uniqueness
GAPS_SHARE = 0.3  # sampled people alone on the gaps between their shifted times
BIRTH_SHARE = 0.9  # of the sampled dates, between 1900 and BIRTH_AGE years ago
BIRTH_AGE = 14  # the youngest age a date of birth in a personal data set usually has
BIRTH_SPREAD = 8  # years between the quartiles: people's births spread over decades
YOUNG_SPREAD = 6  # years between the quartiles of births at any age (children's)
YOUNG_RANGE = 11  # years between the 5th and 95th percentiles of those: no recent events
AGE_NAME = re.compile(r"(^|_)(age|ages|leeftijd|edad|alter|eta|idade)(_|$)")
OLDEST = 150  # years: an age column whose values are higher counts days, weeks or months
RARE_PEOPLE = 20  # a sensitive value fewer people hold (or fewer than k, or 5% of them) is rare
RARE_SHARE = (
    0.5  # of the sampled people, on a rare sensitive value: an identifier, not an attribute
)
REVERSIBLE = (Keep, Redact, TopBottom)
"""Operators that leave a value as it is (redact finds names and contacts, not ids): on a
column holding identity values, refused."""


def sampled_problems(policy: Policy, engine: Engine) -> list[ConfigProblem]:
    """What the data shows the policy would release (see the module's docstring), sampled
    through the engine: every problem at once."""
    catalog = engine.catalog
    found: list[ConfigProblem] = []
    found += _person_problems(policy, engine)
    identity = [
        (t, c)
        for t, spec in catalog.tables.items()
        for c, col in spec.columns.items()
        if col.identity is not None and t in engine.tables
    ]
    sources = policy.sources()
    person = sources.get(policy.person) if policy.person is not None else None
    kinds: dict[str, dict[str, str]] = {}  # table -> column -> Arrow type, read once
    for column, op in policy.operators().items():
        source = sources[column]
        spec = catalog.tables[source.table].columns[source.column]
        where = f"columns.{column}" if source.table == policy.table else f"join.{column}"
        owner = person.column if person is not None and person.table == source.table else None
        sample = _Sample(engine, source.table, source.column, owner, kinds)
        problem = _sampled(sample, spec, op, identity)
        if problem is not None:
            found.append(ConfigProblem(where, *problem))
    found += _together_problems(policy, engine)
    found += _sensitive_problems(policy, engine)
    return found


def _joined_sample(policy: Policy, engine: Engine, columns: list[str]) -> pa.Table | None:
    """The first `SAMPLE` rows of the extract's relation (the base table and its joins) with
    a value in one of `columns`: each column as the operator releases it (its own SQL where it
    has one without a key; the value itself for keep, redact, hash, pseudonym and date_shift,
    which keep as many distinct values), as text, and p the row's person (NULL where the
    policy names none). None where the joins do not resolve (refused by the policy check)."""
    catalog = engine.catalog
    links, problems = resolve_links(catalog, policy.table, policy.join)
    if problems or not columns:
        return None
    sources = policy.sources()
    tables = {policy.table: engine.columns(policy.table)}
    tables.update({link.table: engine.columns(link.table) for link in links})
    types = {out: tables[src.table].get(src.column, "") for out, src in sources.items()}
    ctx = Context(None, None, types)
    ops = policy.operators()
    exprs: list[str] = []
    params: list[object] = []
    for i, name in enumerate(columns):
        col = quote_identifier(name)
        op = ops[name]
        sql: str | None = None
        numbers = _needs_numbers(op)
        if numbers and not types.get(name, "").startswith(NUMBER_KINDS):
            pass  # refused by _numbers_problem: the value, not a database error
        elif isinstance(op, Mask | TopBottom) or (isinstance(op, Generalize) and not op.levels):
            got = operator_for(op).sql(col, op, ctx)
            if got is not None:
                sql, more = got
                params += more
        exprs.append(f"CAST({sql or col} AS VARCHAR) AS c{i}")
    person = (
        f"CAST({quote_identifier(policy.person)} AS VARCHAR)"
        if policy.person is not None
        else "CAST(NULL AS VARCHAR)"
    )
    relation = (
        joined_relation(policy.table, links, sources) + " AS __src"
        if links
        else quote_identifier(policy.table)
    )
    anything = " OR ".join(f"{quote_identifier(c)} IS NOT NULL" for c in columns)
    return engine.query(
        f"SELECT {', '.join(exprs)}, {person} AS p FROM {relation} WHERE {anything} LIMIT {SAMPLE}",
        params,
    )


def _measure(rows: pa.Table, sql: str) -> dict[str, Any]:
    """One row of `sql` over `rows` as table `s`, with a person for every row."""
    con = scratch_connection()
    try:
        con.register("raw", rows)
        con.execute(
            "CREATE TEMP VIEW s AS SELECT * EXCLUDE (p), coalesce(p, '#' ||"
            " CAST(row_number() OVER () AS VARCHAR)) AS p FROM raw"
        )
        got = con.execute(sql).fetchall()
        names = [d[0] for d in con.description or []]
    finally:
        con.close()
    return dict(zip(names, got[0], strict=True)) if got else {}


def _together_problems(policy: Policy, engine: Engine) -> list[ConfigProblem]:
    """Two or more released columns derived from names, identifiers or contacts (a prefix of
    the billing name beside the last letters of the account's full name), unique per person
    together over the sample as one column would be: refused as one would be. Each operator
    alone keeps too little of its own column; together they rebuild the name."""
    catalog = engine.catalog
    sources = policy.sources()
    derived = [
        c
        for c, op in policy.operators().items()
        if _released_sql(op) is not None
        and catalog.tables[sources[c].table].personal
        and identifying(catalog.tables[sources[c].table].columns[sources[c].column])
    ]
    if len(derived) < 2:
        return []
    rows = _joined_sample(policy, engine, derived)
    if rows is None:
        return []
    combo = " || chr(31) || ".join(f"coalesce(c{i}, chr(30))" for i in range(len(derived)))
    got = _measure(
        rows,
        f"WITH o AS (SELECT {combo} AS o, p FROM s), g AS (SELECT o, count(DISTINCT p) AS n"
        " FROM o GROUP BY o) SELECT (SELECT count(DISTINCT p) FROM o) AS people, (SELECT"
        " count(*) FROM g) AS distinct_values, (SELECT count(DISTINCT p) FROM o JOIN g"
        " USING (o) WHERE g.n = 1) AS alone",
    )
    people, distinct, alone = (int(got[k] or 0) for k in ("people", "distinct_values", "alone"))
    if people < UNIQUE_ROWS or alone < UNIQUE_SHARE * people or distinct < UNIQUE_SHARE * people:
        return []
    named = ", ".join(derived)
    return [
        ConfigProblem(
            "columns",
            f"{named} are each derived from a name, an identifier or a contact, and together"
            f" are unique to almost every person: {alone} of {people} sampled people"
            f" ({alone / people:.0%}) hold a combination no other holds ({distinct} distinct),"
            " which rebuilds who they are",
            "release one of them at most (drop the others), or hash or shorten them until the"
            " combination repeats",
        )
    ]


def _sensitive_problems(policy: Policy, engine: Engine) -> list[ConfigProblem]:
    """A `sensitive:` column is attribute data that must stay diverse (a diagnosis: a few
    values), not left out of k: one whose released values are rare per person (more than
    half of the sampled people hold a value fewer than k, or RARE_PEOPLE, people hold) is
    refused. Free text the catalog marks (redacted) is content, read by the text checks."""
    catalog = engine.catalog
    sources = policy.sources()
    ops = policy.operators()
    columns = [
        c
        for c in policy.sensitive
        if c in ops
        and not isinstance(ops[c], Drop | Suppress)
        and sources[c].table in catalog.tables
        and catalog.tables[sources[c].table].personal
        and not catalog.tables[sources[c].table].columns[sources[c].column].free_text
    ]
    rows = _joined_sample(policy, engine, columns)
    if rows is None:
        return []
    found: list[ConfigProblem] = []
    for i, column in enumerate(columns):
        people = int(
            _measure(rows, f"SELECT count(DISTINCT p) AS n FROM s WHERE c{i} IS NOT NULL")["n"] or 0
        )
        rare = max(policy.privacy.k, min(RARE_PEOPLE, people // 20), 2)
        got = _measure(
            rows,
            f"WITH o AS (SELECT c{i} AS o, p FROM s WHERE c{i} IS NOT NULL), g AS (SELECT o,"
            " count(DISTINCT p) AS n FROM o GROUP BY o) SELECT (SELECT count(*) FROM g) AS"
            " distinct_values, (SELECT count(DISTINCT p) FROM o JOIN g USING (o) WHERE g.n <"
            f" {rare}) AS rare",
        )
        distinct, few = (int(got[k] or 0) for k in ("distinct_values", "rare"))
        if people < UNIQUE_ROWS or few <= RARE_SHARE * people:
            continue
        found.append(
            ConfigProblem(
                f"sensitive.{column}",
                f"{column} is listed sensitive, which takes it out of k, but it is no attribute"
                f" of a few values: {few} of {people} sampled people ({few / people:.0%}) hold"
                f" a value fewer than {rare} people hold ({distinct} distinct values), so it"
                " singles people out beside the quasi-identifiers",
                "list it as a quasi-identifier (take it out of sensitive:), or drop or"
                " generalise it until its values are shared",
            )
        )
    return found


class _Sample:
    """The first `SAMPLE` non-null values of one column (with their person, where the table
    has the policy's person column), read once through the engine when a check needs them."""

    def __init__(
        self,
        engine: Engine,
        table: str,
        column: str,
        person: str | None,
        kinds: dict[str, dict[str, str]],
    ) -> None:
        self.engine, self.table, self.column, self.person = engine, table, column, person
        self._kinds = kinds
        self._rows: pa.Table | None = None

    @property
    def kind(self) -> str:
        """The column's Arrow type, as text."""
        if self.table not in self._kinds:
            self._kinds[self.table] = self.engine.columns(self.table)
        return self._kinds[self.table].get(self.column, "")

    def texts(self) -> list[str]:
        """The distinct sampled values, as text (as SQL casts them)."""
        con = scratch_connection()
        try:
            con.register("raw", self.rows())
            got = con.execute("SELECT DISTINCT CAST(v AS VARCHAR) FROM raw").fetchall()
        finally:
            con.close()
        return [str(r[0]) for r in got]

    def rows(self) -> pa.Table:
        """Columns v (the value, in its own type) and p (its person, as text; a row of its
        own where the table names none)."""
        if self._rows is None:
            col = quote_identifier(self.column)
            person = (
                f"CAST({quote_identifier(self.person)} AS VARCHAR)"
                if self.person is not None
                else "CAST(NULL AS VARCHAR)"
            )
            self._rows = self.engine.query(
                f"SELECT {col} AS v, {person} AS p FROM {quote_identifier(self.table)}"
                f" WHERE {col} IS NOT NULL LIMIT {SAMPLE}"
            )
        return self._rows

    def measure(self, sql: str, params: list[object] | None = None) -> dict[str, Any]:
        """One row of `sql` over the sample, as table `s` with a person for every row."""
        con = scratch_connection()
        try:
            con.register("raw", self.rows())
            con.execute(
                "CREATE TEMP VIEW s AS SELECT v, coalesce(p, '#' || CAST(row_number() OVER ()"
                " AS VARCHAR)) AS p FROM raw"
            )
            got = con.execute(sql, params or []).fetchall()
            names = [d[0] for d in con.description or []]
        finally:
            con.close()
        return dict(zip(names, got[0], strict=True)) if got else {}


def _sampled(
    sample: _Sample, spec: Column, op: Any, identity: list[tuple[str, str]]
) -> tuple[str, str] | None:
    if spec.identity is not None or spec.secret or spec.free_text:
        return None  # the policy's rules for these refuse what would leak
    if is_nested_kind(sample.kind):
        return _nested_problem(sample, op, identity)
    if isinstance(op, REVERSIBLE) and is_text_type(sample.kind):
        problem = _nested_problem(sample, op, identity)  # JSON objects or arrays as text
        if problem is not None:
            return problem
    if isinstance(op, Hash) and spec.references is None and spec.personal is None:
        # another table's ids under the same key are that person's own pseudonym: a hashed
        # `object_id` holding user ids published who invited whom (1,164 of 1,170 values)
        return _lookalike(sample, op, identity)
    if isinstance(op, Drop | Suppress | Hash | Pseudonym):
        return None
    if spec.personal is None and spec.references is None:
        problem = _contact_numbers(sample, op)
        if problem is not None:
            return problem
    problem = _numbers_problem(sample, op)
    if problem is not None:
        return problem
    problem = _dates_problem(sample, spec, op) or _age_problem(sample, op)
    if problem is not None:
        return problem
    if identifying(spec):
        problem = _kept_too_much(sample, op)
    elif spec.references is None and spec.personal is None:
        problem = _lookalike(sample, op, identity)
    return problem or _unique_problem(sample, op)


class _Leaf(_Sample):
    """The leaves of one path of a nested column's sampled values (`sponsor.member`), as
    text, each with the person of the row it came from."""

    def __init__(self, parent: _Sample, label: str, rows: pa.Table) -> None:
        super().__init__(parent.engine, parent.table, label, parent.person, {})
        self._rows = rows

    @property
    def kind(self) -> str:
        return "string"


def _leaves(sample: _Sample) -> list[_Leaf]:
    """The sampled values' leaves (`dsar.review.nested`), one sample per path."""
    got = sample.rows()
    people = got.column("p").to_pylist()
    found = leaf_columns(sample.column, got.column("v").to_pylist())
    return [
        _Leaf(sample, label, pa.table({"v": texts, "p": [people[r] for r in rows]}))
        for label, (rows, texts) in found.items()
    ]


NESTED_FIX = (
    "drop, suppress or hash it (a nested value's leaves have no catalog role of their own),"
    " or flatten it in the source into columns the catalog can declare"
)


def _nested_problem(
    sample: _Sample, op: Any, identity: list[tuple[str, str]]
) -> tuple[str, str] | None:
    """A nested column (a struct, list or map; JSON objects or arrays as text) is released
    only dropped, suppressed or hashed, or kept when each of its leaves passes the checks a
    flat column would (another identity column's values, phones by value, unique values)
    and holds no email, phone, card or bank number: a struct holding a sponsor's member id,
    email and phone was released whole by keep (issue 22, round 4, F1)."""
    if isinstance(op, Drop | Suppress | Hash):
        return None
    nested = is_nested_kind(sample.kind)
    if nested and not isinstance(op, Keep):
        return (
            f"{sample.column} holds nested values ({sample.kind.split('<')[0]}): {op.op}"
            " works on one value and would leave its leaves unchecked",
            NESTED_FIX + "; or keep it, when every leaf passes the checks",
        )
    leaves = _leaves(sample)
    if not nested and not leaves:
        return None  # text that holds no JSON object or array
    for leaf in leaves:
        problem = (
            _contact_numbers(leaf, op)
            or _lookalike(leaf, op, identity)
            or _detected(leaf, op)
            or _unique_problem(leaf, op)
        )
        if problem is not None:
            return f"{sample.column} holds nested values, and {problem[0]}", NESTED_FIX
    return None


def _detected(sample: _Sample, op: Any) -> tuple[str, str] | None:
    """Leaves holding emails, phones, card or bank numbers (the text detectors) in at least
    3 sampled values and 1% of them."""
    texts = sample.texts()
    hits = Counter(
        d.__name__
        for t in texts
        for d in (emails, phones, cards, ibans)
        if next(iter(d(t)), None) is not None
    )
    if not hits:
        return None
    what, count = hits.most_common(1)[0]
    if count < 3 or count < LOOKALIKE_SHARE * len(texts):
        return None
    return (
        f"{sample.column} holds {what}: {count} of {len(texts)} distinct sampled values, and"
        f" {op.op} releases them",
        NESTED_FIX,
    )


def _lookalike(sample: _Sample, op: Any, identity: list[tuple[str, str]]) -> tuple[str, str] | None:
    """A column the catalog gives no role, holding another identity column's values, released
    by an operator that leaves them recognisable."""
    engine, table, column = sample.engine, sample.table, sample.column
    if not engine.catalog.tables[table].personal:
        return None  # reference data (a track list): nobody's values
    if sample.kind.startswith(("date", "timestamp")):
        return None  # identity values are ids and names, not times
    values = [v for v in sample.texts() if len(v) >= LOOKALIKE_LENGTH]
    keeps = _keeps_identity(op, values)
    if not values or keeps is None:
        return None
    for other_table, other in identity:
        params: list[object] = []
        other_text = f"CAST({quote_identifier(other)} AS VARCHAR)"
        inside = sql_in(other_text, values, params)
        got = _row(
            engine,
            f"SELECT count(DISTINCT {other_text}) AS n FROM {quote_identifier(other_table)}"
            f" WHERE {inside}",
            params,
        )
        matched = int(got["n"] or 0)
        if matched < 3 and not isinstance(op, Hash) and all(v.isdigit() for v in values):
            matched = _numbers_matched(sample, other_table, other, values)
        if matched >= 3 and matched >= LOOKALIKE_SHARE * len(values):
            kind = engine.catalog.tables[other_table].columns[other].identity
            what = kind.value if kind is not None else "identifier"
            return (
                f"{column} holds {other_table}.{other} values ({what}): {matched} of"
                f" {len(values)} sampled values are found there, and {op.op} {keeps}",
                f"{'drop or suppress' if isinstance(op, Hash) else 'use hash, suppress or drop'};"
                f" or declare it in the catalog (references: {other_table}.{other}, or"
                " identity:) so its rules apply",
            )
    return None


def contact_numbers(sample: _Sample) -> tuple[str, int, int] | None:
    """(what, found, sampled) when the column's sampled values are phone numbers or US
    social security numbers read as digits (`31612345678`, a mobile as an integer with its
    country code), judged as a column the way `dsar verify` judges a released one
    (`dsar.review.derived.number_column`: random ids and counters are not); else None."""
    if not sample.kind.startswith(NUMBER_KINDS) and not is_text_type(sample.kind):
        return None
    texts = [t[:-2] if t.endswith(".0") else t for t in sample.texts()]  # a double's digits
    found = number_column(sample.column, texts)
    if not found:
        return None
    kind, count = Counter(found.values()).most_common(1)[0]
    what = "phone numbers" if kind == "phones" else "US social security numbers"
    return what, count, len(texts)


def _contact_numbers(sample: _Sample, op: Any) -> tuple[str, str] | None:
    """A column the catalog gives no role that holds phone numbers (or SSNs) as numbers,
    released by anything but drop, suppress, hash or pseudonym: refused as the catalog's
    phone column would be."""
    if not sample.engine.catalog.tables[sample.table].personal:
        return None  # reference data: nobody's numbers
    got = contact_numbers(sample)
    if got is None:
        return None
    what, count, sampled = got
    return (
        f"{sample.column} holds {what} by value: {count} of {sampled} distinct sampled values"
        f" are valid {what} read as digits (with their country code where they have one),"
        f" and {op.op} releases them",
        "drop or hash it, and declare it in the catalog (identity: phone, or personal:"
        " contact) so its rules apply",
    )


# an identifier's number: the digits after a fixed prefix (`CUS-0048213`: 48213), or a
# phone's digits (`+31 6 1234 5678`: 31612345678)
_PREFIXED_NUMBER = re.compile(r"[^0-9]*?0*([1-9][0-9]{4,})")
_PHONE_DIGITS = re.compile(r"\+?[0-9][0-9 ().\-/]{8,}")
IDENTITY_NUMBERS = 100_000  # distinct identity values read for their numbers
COUNTER_SPREAD = 4  # numbers spanning fewer than this many per value run as a counter


def _number_of(text: str) -> str | None:
    text = text.strip()
    m = _PREFIXED_NUMBER.fullmatch(text)
    if m is not None:
        return m.group(1)
    if _PHONE_DIGITS.fullmatch(text):
        digits = re.sub(r"[^0-9]", "", text).lstrip("0")
        return digits if len(digits) >= 9 else None
    return None


def _numbers_matched(sample: _Sample, table: str, column: str, values: list[str]) -> int:
    """How many sampled numbers are an identity column's numbers (`cust_no` 48213 beside
    `customer_id` `CUS-0048213`): in the same table, row by row (the row's own id, whatever
    the ids are); in another, by value where the identity's numbers are spread (a counter's
    numbers, 1 to n, match any column of numbers in range by chance)."""
    wanted = {v.lstrip("0") for v in values}
    engine = sample.engine
    ident, own = quote_identifier(column), quote_identifier(sample.column)
    if table == sample.table:
        rows = engine.query(
            f"SELECT CAST({ident} AS VARCHAR) AS i, CAST({own} AS VARCHAR) AS v FROM"
            f" {quote_identifier(table)} WHERE {own} IS NOT NULL AND {ident} IS NOT NULL"
            f" LIMIT {SAMPLE}"
        ).to_pylist()
        same = {
            str(r["v"]).lstrip("0")
            for r in rows
            if _number_of(str(r["i"])) == str(r["v"]).strip().lstrip("0")
        }
        if len(same) >= 3 and len(same) >= 0.5 * len(rows):
            return len(same)
    got = engine.query(
        f"SELECT DISTINCT CAST({ident} AS VARCHAR) AS i FROM {quote_identifier(table)}"
        f" WHERE {ident} IS NOT NULL LIMIT {IDENTITY_NUMBERS}"
    ).column("i")
    numbers = {n for t in got.to_pylist() if (n := _number_of(str(t))) is not None}
    if len(numbers) < 3:
        return 0
    spread = max(map(int, numbers)) - min(map(int, numbers))
    if spread < COUNTER_SPREAD * len(numbers):
        return 0
    return len(wanted & numbers)


def _keeps_identity(op: Any, values: list[str]) -> str | None:
    """How `op` would leave sampled identity values recognisable (None: it destroys them): a
    mask or prefix keeping more than a third of the shortest, search levels (level 0 is the
    value itself), a hierarchy whose group carries one, or an operator that keeps them."""
    shortest = min((len(v) for v in values), default=0)
    if isinstance(op, REVERSIBLE):
        return "releases them as they are"
    if isinstance(op, Hash):
        return "gives each the keyed hash that column's own values get: the link is published"
    if isinstance(op, Mask):
        if 3 * op.keep_last > shortest:
            return (
                f"keeps {op.keep_last} characters, more than a third of a {shortest}-character one"
            )
        return None
    if isinstance(op, Generalize):
        if op.levels:
            return "with levels may release them as they are (the search's level 0)"
        if op.prefix is not None and 3 * op.prefix > shortest:
            return f"keeps {op.prefix} characters, more than a third of the shortest ({shortest})"
        if carried_by_hierarchy(op):
            return "maps some to a group that still carries them"
    return None


def _kept_too_much(sample: _Sample, op: Any) -> tuple[str, str] | None:
    """A mask keeping more than a third of a sampled value, or a prefix keeping one whole."""
    column = sample.column
    if isinstance(op, Mask) and op.keep_last:
        keep, over = op.keep_last, f"3 * {op.keep_last} > length(v)"
    elif isinstance(op, Generalize) and _prefix(op):
        keep, over = _prefix(op), f"length(v) <= {_prefix(op)}"
    else:
        return None
    got = sample.measure(
        f"SELECT count(*) AS n, sum(CASE WHEN {over} THEN 1 ELSE 0 END) AS over,"
        f" min(length(v)) AS shortest FROM (SELECT DISTINCT CAST(v AS VARCHAR) AS v FROM s)"
    )
    found = int(got["over"] or 0)
    if not found:
        return None
    shortest = int(got["shortest"] or 0)
    if isinstance(op, Mask):
        return (
            f"{column} names or identifies a person: the mask keeps {keep} characters, more"
            f" than a third of {found} of {got['n']} sampled values (all of those of"
            f" {keep} characters or fewer)",
            f"keep_last: {shortest // 3} at most (a third of the shortest value), or use"
            " pseudonym, hash or drop",
        )
    return (
        f"{column} names or identifies a person: a prefix of {keep} keeps {found} of"
        f" {got['n']} sampled values whole",
        f"a prefix shorter than {shortest} (the shortest value), or use pseudonym, hash or drop",
    )


def _prefix(op: Generalize) -> int:
    levels = [op.level(i) for i in range(len(op.levels or [op]))]
    return max((lv.prefix or 0 for lv in levels if isinstance(lv, Coarsening)), default=0)


def _released_sql(op: Any) -> tuple[str, list[object], str] | None:
    """SQL of what `op` releases of text value `v` (the operator's own SQL where it has one),
    its parameters, and how to say it; None for operators this check leaves to others."""
    if isinstance(op, Keep | Redact):
        return "v", [], op.op  # redact finds names and contacts: an id or a URL stays
    if isinstance(op, Mask):
        sql, params = MaskOp().sql("v", op, Context(None, None, {"v": "string"}))
        return sql, params, f"mask keep_last: {op.keep_last}"
    if isinstance(op, Generalize) and not op.levels:  # levels: the search enforces k
        if op.prefix is not None:
            return f"left(v, {op.prefix})", [], f"prefix: {op.prefix}"
        if op.hierarchy is not None:
            whens, params = [], list[object]()
            for value, group in op.hierarchy.items():
                whens.append("WHEN ? THEN ?")
                params += [value, group]
            return f"CASE v {' '.join(whens)} ELSE NULL END", params, "the hierarchy"
    return None


def _unique_problem(sample: _Sample, op: Any) -> tuple[str, str] | None:
    """Text whose released values are unique to almost every person, measured on the
    operator's output over the sample: the share of people alone on a value, and distinct
    values against people (both high, or a sample of a large table would look unique)."""
    if not sample.engine.catalog.tables[sample.table].personal:
        return None  # reference data (a track list) holds nobody's values
    if isinstance(op, DateShift):
        return _gaps_problem(sample, op)
    released = _released_sql(op)
    if released is None:
        return None
    sql, params, how = released  # text, numbers and times alike: `insensitive:` can't hide it
    got = sample.measure(
        f"WITH o AS (SELECT {sql} AS o, p FROM (SELECT CAST(v AS VARCHAR)"
        " AS v, p FROM s)), g AS (SELECT o, count(DISTINCT p) AS n FROM o WHERE o IS NOT NULL"
        " GROUP BY o) SELECT (SELECT count(DISTINCT p) FROM o) AS people, (SELECT count(*)"
        " FROM g) AS distinct_values, (SELECT count(DISTINCT p) FROM o JOIN g USING (o) WHERE"
        " g.n = 1) AS alone",
        params,
    )
    people, distinct, alone = (int(got[k] or 0) for k in ("people", "distinct_values", "alone"))
    if people < UNIQUE_ROWS or alone < UNIQUE_SHARE * people or distinct < UNIQUE_SHARE * people:
        return None
    what = f"{alone} of {people} sampled people ({alone / people:.0%}) hold a value no other holds"
    if not is_text_type(sample.kind):  # a number or a time: k counts it, insensitive or not
        return (
            f"{sample.column} is unique to almost every person after {how}: {what}"
            f" ({distinct} distinct values), so whoever knows one value finds its person",
            "generalise it (to: month or year, bins, bands) or drop it; `insensitive:` does not"
            " make a value nobody else holds safe",
        )
    return (
        f"{sample.column} is unique to almost every person after {how}: {what} ({distinct}"
        " distinct values), like an identifier or a URL",
        "use hash (joins survive) or drop; a mask or prefix short enough that values repeat;"
        " or declare its role in the catalog (free_text: true for text to redact)",
    )


def _gaps_problem(sample: _Sample, op: DateShift) -> tuple[str, str] | None:
    """A shift moves all of one person's times by one offset: one time alone is hidden in
    the window, but the gaps between a person's times survive, and a sequence of gaps nobody
    else has finds them (a red team found 348 of 400 customers by the gaps between their
    orders). Measured on the sample: people whose gaps (in seconds, or days when truncated)
    no other person shares."""
    at = "TRY_CAST(v AS TIMESTAMP)"
    unit = f"date_trunc('day', {at})" if op.truncate else at
    got = sample.measure(
        f"WITH t AS (SELECT DISTINCT p, epoch({unit}) AS e FROM s), d AS (SELECT p, e - lag(e)"
        " OVER (PARTITION BY p ORDER BY e) AS d, e FROM t WHERE e IS NOT NULL), g AS (SELECT"
        " p, string_agg(CAST(d AS VARCHAR), ',' ORDER BY e) AS gaps FROM d WHERE d IS NOT NULL"
        " GROUP BY p), u AS (SELECT gaps, count(*) AS n FROM g GROUP BY gaps)"
        " SELECT (SELECT count(DISTINCT p) FROM t WHERE e IS NOT NULL) AS people,"
        " (SELECT count(*) FROM g) AS several, (SELECT count(*) FROM g JOIN u USING (gaps)"
        " WHERE u.n = 1) AS alone"
    )
    people, several, alone = (int(got[k] or 0) for k in ("people", "several", "alone"))
    if alone < UNIQUE_ROWS or alone < GAPS_SHARE * people:
        return None
    return (
        f"{sample.column} under date_shift keeps the gaps between one person's times: {several}"
        f" of {people} sampled people have several, and {alone} of them a sequence of gaps no"
        " other has, which finds them in the source",
        "generalise it (to: month or year) as a quasi-identifier, or drop it; `insensitive:`"
        " does not hide a sequence",
    )


def _dates_problem(sample: _Sample, spec: Column, op: Any) -> tuple[str, str] | None:
    """Text under `to:` that the operator cannot read, and dates of birth found by value."""
    kind = sample.kind
    text = is_text_type(kind)
    units = _units(op)
    if units and text:
        problem = _text_dates(sample, units)
        if problem is not None:
            return problem
    elif units and not (kind.startswith(("date", "timestamp")) or kind == "null"):
        return (
            f"{sample.column} holds {kind}: to: {units[0]} needs dates, timestamps or text"
            f" holding dates ({TEXT_DATES})",
            "pick an operator for its type (bin or bands for numbers)",
        )
    table = sample.engine.catalog.tables[sample.table]
    if is_birth_date(sample.column, spec) or spec.personal is not None:
        return None  # refused by the policy check already, or another role the catalog gave
    if (spec.origin or table.origin) is Origin.OBSERVED or not table.personal:
        return None  # a time the system recorded, or reference data: nobody's birth
    if not (text or kind.startswith(("date", "timestamp"))):
        return None
    if year_or_coarser(op) and not (isinstance(op, Generalize) and op.levels):
        return None  # a year at most
    return _births(sample, op)


NUMBER_KINDS = ("int", "uint", "float", "double", "halffloat", "decimal", "null")


def _needs_numbers(op: Any) -> str | None:
    """How an operator computes on numbers (None: it does not)."""
    if isinstance(op, TopBottom):
        return "top and bottom coding"
    if isinstance(op, Generalize) and any(
        isinstance(lv, Coarsening) and (lv.bin is not None or lv.bands)
        for lv in (op.level(i) for i in range(len(op.levels or [op])))
    ):
        return "bin and bands"
    return None


def _numbers_problem(sample: _Sample, op: Any) -> tuple[str, str] | None:
    """Bins, bands or top and bottom coding on a column the data holds as something else
    than numbers (the catalog gives no type): refused before the run, not a database error."""
    how = _needs_numbers(op)
    if how is None:
        return None
    kind = sample.kind
    if not kind or kind.startswith(NUMBER_KINDS):
        return None
    return (
        f"{sample.column} holds {kind}: {how} need a number column",
        "pick an operator for its type (a prefix, a hierarchy, to: for dates), or give it a"
        " number type in the catalog and convert it",
    )


def _age_problem(sample: _Sample, op: Any) -> tuple[str, str] | None:
    """An age column (by name) whose sampled values are mostly over OLDEST: an age in days,
    weeks or months, which with the extract's date gives the date of birth."""
    if not AGE_NAME.search(sample.column.casefold()) or age_unit(sample.column) is not None:
        return None  # an age in days by name is refused by the policy check
    if not sample.kind.startswith(("int", "uint", "double", "float", "decimal")):
        return None
    if coarser_than_a_year(op, 365):
        return None
    got = sample.measure(
        "SELECT count(*) AS n, count(*) FILTER (WHERE CAST(v AS DOUBLE) > ?) AS over FROM s",
        [OLDEST],
    )
    n, over = int(got["n"] or 0), int(got["over"] or 0)
    if n < UNIQUE_ROWS or over <= n / 2:
        return None
    return (
        f"{sample.column} is an age finer than a year: {over} of {n} sampled values exceed"
        f" {OLDEST} (days, weeks or months); {op.op} releases it, and with the extract's date"
        " it gives the date of birth",
        "convert it to years, or use {op: generalize, bin: 365} (for days), or drop",
    )


def _units(op: Any) -> list[str]:
    if not isinstance(op, Generalize):
        return []
    levels = [op.level(i) for i in range(len(op.levels or [op]))]
    return [lv.to for lv in levels if isinstance(lv, Coarsening) and lv.to is not None]


def _text_dates(sample: _Sample, units: list[str]) -> tuple[str, str] | None:
    finer = [u for u in units if u != "year"]
    got = sample.measure(
        f"SELECT count(*) AS n, count(*) FILTER (WHERE {parsed_date_sql('v', 'year')} IS NULL)"
        f" AS unread, count(*) FILTER (WHERE {parsed_date_sql('v', 'day')} IS NULL) AS"
        " year_only FROM (SELECT CAST(v AS VARCHAR) AS v FROM s)"
    )
    n, unread, year_only = (int(got[k] or 0) for k in ("n", "unread", "year_only"))
    if unread:
        return (
            f"{sample.column} is text, and {unread} of {n} sampled values are no date in a"
            f" format understood ({TEXT_DATES})",
            "give the column a date or timestamp type in the catalog, convert it, or choose"
            " another operator",
        )
    if finer and year_only:
        return (
            f"{sample.column} holds {year_only} of {n} sampled dates as DD/MM/YYYY or"
            f" MM/DD/YYYY, which differ in the day and the month: to: {finer[0]} cannot"
            " read them",
            "use to: year, or convert the column to YYYY-MM-DD (or give it a date type)",
        )
    return None


def _births(sample: _Sample, op: Any) -> tuple[str, str] | None:
    """Dates of birth by value: nearly all between 1900 and BIRTH_AGE years ago, their
    quartiles years apart, and finer than the year in the data."""
    date = (
        parsed_date_sql("CAST(v AS VARCHAR)", "year")
        if is_text_type(sample.kind)
        else "CAST(v AS TIMESTAMP)"
    )
    day = parsed_date_sql("CAST(v AS VARCHAR)", "day") if is_text_type(sample.kind) else date
    got = sample.measure(
        f"SELECT count(*) AS rows, count(d) AS n, count(*) FILTER (WHERE d >= TIMESTAMP"
        f" '1900-01-01' AND d <"
        f" current_date - INTERVAL {BIRTH_AGE} YEAR) AS births, count(*) FILTER (WHERE d >="
        " TIMESTAMP '1900-01-01' AND d <= current_date) AS past, quantile_cont(year(d), 0.75)"
        " - quantile_cont(year(d), 0.25) AS spread, quantile_cont(year(d), 0.95) -"
        " quantile_cont(year(d), 0.05) AS range, count(*) FILTER (WHERE d IS NOT NULL AND"
        " (e IS NULL OR month(e) <> 1 OR day(e) <> 1)) AS finer"
        f" FROM (SELECT {date} AS d, {day} AS e FROM s)"
    )
    rows, n, births, past, finer = (
        int(got[k] or 0) for k in ("rows", "n", "births", "past", "finer")
    )
    spread, years = float(got["spread"] or 0), float(got["range"] or 0)
    dates = n >= BIRTH_SHARE * rows  # text: nearly all of it dates
    if n < UNIQUE_ROWS or not dates:
        return None
    adults = births >= BIRTH_SHARE * n and spread >= BIRTH_SPREAD
    # births at any age (children's): spread evenly over a decade and more, where the times
    # of events cluster in the recent years a system has run
    young = past >= BIRTH_SHARE * n and spread >= YOUNG_SPREAD and years >= YOUNG_RANGE
    if not (adults or young):
        return None
    if not finer and not isinstance(op, Generalize):
        return None  # years only in the data: nothing finer to release
    how = (
        "with levels may release them as they are (the search's level 0)"
        if isinstance(op, Generalize) and op.levels
        else "releases them finer than the year"
    )
    where = (
        f"between 1900 and {BIRTH_AGE} years ago"
        if adults
        else f"between 1900 and today, 90% of them over {years:.0f} years"
    )
    return (
        f"{sample.column} looks like a date of birth: {births if adults else past} of {n}"
        f" sampled dates fall {where}, their middle half spread over {spread:.0f} years;"
        f" {op.op} {how}, which identifies nearly everyone",
        "use {op: generalize, to: year} or drop, and mark it personal: date_of_birth in the"
        " catalog (a time the system recorded: origin: observed)",
    )


def _row(engine: Engine, sql: str, params: list[object] | None = None) -> dict[str, Any]:
    rows = engine.query(sql, params or []).to_pylist()
    return rows[0] if rows else {}


# a column that looks like a person's key where the catalog declares none (`patient_ref` in
# a catalog of `subject_requests: false`): named for a person, or a key by its name, and
# repeating with many values (a ward or a country repeats with few)
PERSON_WORDS = re.compile(
    r"(^|_)(patient|member|customer|client|user|person|people|subject|account|employee"
    r"|staff|student|pupil|owner|holder|resident|participant|respondent|donor|citizen|guest"
    r"|visitor|buyer|shopper|player|learner|applicant|beneficiary|insured|policyholder"
    r"|taxpayer|voter|caller|sender|recipient|author|contact)s?(_|$)"
)
KEY_NAME = re.compile(r"(^|_)(id|ref|key|no|nr|num|number|code|uid|pid|uuid)$")
PERSON_KEY_VALUES = 50  # distinct values from which a repeating key may be people's
PERSON_KEY_SHARE = 0.2  # or this share of the rows
# a key found by its values alone (`kunde`, `mrn`: red team r5 F2): repeating, with at
# least this many distinct values and this share of the rows, all of one identifier's shape
SHAPED_KEY_VALUES = 20
SHAPED_KEY_SHARE = 0.1
SHAPED_KEY_SAMPLE = 2000  # distinct values read to judge the shape
# names of ordinary quasi-identifiers, never taken for a key by their values
QUASI_WORDS = re.compile(
    r"(^|_)(zip|zipcode|post|postal|postcode|plz|cap|date|time|day|month|year|dob|birth"
    r"|born|age|city|town|country|region|state|district|county|municipality|ward|gender"
    r"|sex|height|weight|income|salary|price|amount|score|count|phone|tel)s?(_|$)"
)
_DATE_SHAPE = re.compile(r"^(9999[-/.]99[-/.]99|99[-/.]99[-/.]9999)([ T].*)?$")


@dataclass(frozen=True)
class PersonKey:
    """A column that looks like a person's key: its rows, distinct values, whether its
    name says it is a person's (`patient_ref`) rather than any key's (`batch_id`), and
    whether its values have an identifier's shape (`K0042`, `100042`)."""

    column: str
    rows: int
    distinct: int
    named: bool
    shaped: bool = False


def _shape(value: str) -> str:
    return re.sub(r"[A-Za-z]", "A", re.sub(r"[0-9]", "9", value))


def identifier_shaped(engine: Engine, table: str, column: str) -> bool:
    """The column's values look like one identifier's: text values all of one shape (the
    same length, letters and digits in the same places, some digits; not a date), or
    integers not a small number (an age, a year, a category's code)."""
    col = quote_identifier(column)
    sql = (
        f"SELECT DISTINCT {col} AS v FROM {quote_identifier(table)} WHERE {col} IS NOT NULL"
        f" LIMIT {SHAPED_KEY_SAMPLE}"
    )
    values: list[Any] = engine.query(sql).column("v").to_pylist()
    if not values or isinstance(values[0], float | bool):
        return False
    if all(isinstance(v, int) for v in values):
        small = all(0 <= v <= 150 for v in values)
        years = all(1800 <= v <= 2200 for v in values)
        return not (small or years)
    if not all(isinstance(v, str) for v in values):
        return False
    shapes = {_shape(v.strip()) for v in values}
    if len(shapes) != 1:
        return False
    (shape,) = shapes
    if "9" not in shape or " " in shape or _DATE_SHAPE.match(shape):
        return False
    # all digits: a text number of one width (a postcode by its name is left out above)
    return len(shape) >= 4


def person_keys(engine: Engine, table: str) -> list[PersonKey]:
    """The columns of a table the catalog gives no identity that look like a person's key
    (`PERSON_WORDS`, `KEY_NAME`) and repeat with many values, or, whatever their name,
    repeat with many values all of an identifier's shape (`identifier_shaped`); person-named
    ones first."""
    spec = engine.catalog.tables[table]
    found = []
    for name, col in spec.columns.items():
        if col.identity is not None or col.secret or col.free_text:
            continue
        folded = name.casefold()
        named = PERSON_WORDS.search(folded) is not None
        by_name = named or KEY_NAME.search(folded) is not None
        if not by_name and (col.personal is not None or QUASI_WORDS.search(folded)):
            continue  # a date, a postcode, an age: a quasi-identifier, not a key
        got = repeated(engine, table, name)
        if got is None:
            continue
        rows, distinct = got
        many = distinct >= PERSON_KEY_VALUES or distinct >= PERSON_KEY_SHARE * rows
        some = distinct >= SHAPED_KEY_VALUES and distinct >= SHAPED_KEY_SHARE * rows
        if not (many if by_name else some):
            continue  # a category (a ward, a country), not people
        shaped = some and identifier_shaped(engine, table, name)
        if by_name or shaped:
            found.append(PersonKey(name, rows, distinct, named, shaped))
    return sorted(found, key=lambda k: (not k.named, not k.shaped))


def _person_problems(policy: Policy, engine: Engine) -> Iterable[ConfigProblem]:
    """A table with several rows per person needs `person:`, so k counts people; where the
    catalog declares no identity in the table, a column that looks like a person's key and
    repeats needs `person:` too, or `person: {none: ...}` with a reason (red team, issue 22
    round 4, F3: visits counted as people, 164 'people' for 60 patients); a column the
    catalog gives no role named as `person:` must repeat as a person's key does."""
    table = engine.catalog.tables[policy.table]
    if policy.person is not None:
        yield from _unroled_person(policy, engine)
        return
    for name, spec in table.columns.items():
        if spec.identity is None:
            continue
        repeats = repeated(engine, policy.table, name)
        if repeats is not None:
            rows, people = repeats
            yield ConfigProblem(
                "person",
                f"{policy.table} has several rows per person ({rows} rows with {name} hold"
                f" {people} distinct values): k must count people, not rows",
                f"add person: {name} (suppression then removes people, with all their rows)",
            )
            return
    owned = table.owned_through
    if owned is None and all(c.identity is None for c in table.columns.values()):
        keys = person_keys(engine, policy.table)
        if policy.person_none is not None:
            # a person's key, or a key of an identifier's shape, contradicts it
            keys = [k for k in keys if k.named or k.shaped]
        if keys:
            key = keys[0]
            said = (
                "person: none says each row is a different person, but"
                if policy.person_none is not None
                else f"{policy.table} has no column the catalog declares as its people's"
                " identity, and"
            )
            yield ConfigProblem(
                "person",
                f"{said} {key.column} looks like a person's key: {key.rows} rows hold"
                f" {key.distinct} distinct values, so k and the people counted would be rows,"
                " not people",
                f"add person: {key.column} (k then counts its distinct values, and"
                " suppression removes people with all their rows); where each row truly is a"
                ' different person, person: {none: "<why>"}',
            )
            return
    if owned is not None and repeated(engine, policy.table, owned.column) is not None:
        parent = owned.parent.partition(".")[0]
        yield ConfigProblem(
            "person",
            f"{policy.table} has several rows per {parent} row ({owned.column} repeats), and"
            f" its rows belong to the {parent} row's owner: k must count people, not rows",
            f"join {parent} (join: [{{table: {parent}, columns: {{<its person column>: hash}}}}])"
            " and name that column as person:",
        )


def _unroled_person(policy: Policy, engine: Engine) -> Iterable[ConfigProblem]:
    """`person:` on a column the catalog gives no role (allowed where the table declares no
    identity): its values must be people's, many and repeating or unique, not a category."""
    assert policy.person is not None
    source = policy.sources()[policy.person]
    spec = engine.catalog.tables[source.table].columns[source.column]
    if spec.identity is not None or spec.references is not None:
        return
    col = quote_identifier(source.column)
    got = _row(
        engine,
        f"SELECT count({col}) AS n, count(DISTINCT {col}) AS d FROM"
        f" {quote_identifier(source.table)}",
    )
    rows, distinct = int(got["n"] or 0), int(got["d"] or 0)
    if distinct >= PERSON_KEY_VALUES or distinct >= PERSON_KEY_SHARE * rows:
        return
    some = distinct >= SHAPED_KEY_VALUES and distinct >= SHAPED_KEY_SHARE * rows
    if some and identifier_shaped(engine, source.table, source.column):
        return  # a key by its values, as `person_keys` finds one
    yield ConfigProblem(
        "person",
        f"person: {policy.person} holds {distinct} distinct values in {rows} rows: a category,"
        " not a person's key; k would count its values",
        "name the column of the person's key (or give it identity: in the catalog)",
    )


def repeated(engine: Engine, table: str, column: str) -> tuple[int, int] | None:
    """(rows with a value, distinct values) when a column repeats a value, else None."""
    col = quote_identifier(column)
    got = _row(
        engine,
        f"SELECT count({col}) AS n, count(DISTINCT {col}) AS d FROM {quote_identifier(table)}",
    )
    rows, distinct = int(got["n"] or 0), int(got["d"] or 0)
    return (rows, distinct) if distinct < rows else None
