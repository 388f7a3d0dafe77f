"""What only the data shows an aggregate spec's group columns would publish, sampled through
the engine before a run reads anything: every problem at once, with the fix.

A group column's values are written as they are, one cell per value, so every check the
extract makes of a column it keeps applies to each of them (the same functions,
`anonymize.sampling` and `anonymize.leaks`, with `keep` as the operator):

- a date of birth by its role or name, or by its values (nearly all between 1900 and 14 years
  ago, spread over decades), finer than the year; an age in days, weeks or months; the month
  or day of a birth beside its year;
- values of another table's identity column (`usage_events.object_id` holding user ids);
- values held by one person each for almost every person, as written (as text: a phone stored
  as an integer, a sequential member number, a timestamp, a postcode beside a date of birth);
- values shaped as identifiers (emails, phones, card and bank numbers, IP addresses, secrets,
  a bare number shaped as a phone or a US social security number: `dsar.review.derived`).

Each is refused with the column and the fix: group by a coarser column (a year, a band, a
prefix, derived in the source) or leave the column out. Reference tables (`personal: false`)
hold nobody's values and are not sampled. Findings name columns and counts, never values.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from anonymize.aggregate_spec import AggregateRun
from anonymize.leaks import age_unit, birth_part_problems, is_birth_date
from anonymize.params import Keep
from anonymize.sampling import (
    LOOKALIKE_SHARE,
    _age_problem,
    _dates_problem,
    _lookalike,
    _Sample,
    _unique_problem,
)
from dsar.errors import ConfigProblem
from dsar.review.derived import identifier_shape

if TYPE_CHECKING:
    from dsar.catalog.models import Column
    from dsar.engine import Engine

KEEP = Keep(op="keep")  # a group value is published as it is
SHAPED = 3  # sampled values shaped as identifiers (and LOOKALIKE_SHARE of them) to refuse
FIX = (
    "group by a coarser column derived in the source (a year for a date, a band for a"
    " number, a prefix for a code), or leave the column out of group_by"
)


def group_problems(run: AggregateRun, engine: Engine) -> list[ConfigProblem]:
    """What the data shows each group column would publish (see the module's docstring):
    every problem at once, each located at the group column's first place in the spec."""
    catalog = engine.catalog
    identity = [
        (t, c)
        for t, spec in catalog.tables.items()
        for c, col in spec.columns.items()
        if col.identity is not None and t in engine.tables
    ]
    sources = run.sources(catalog)
    person = sources.get(run.person) if run.person is not None else None
    found: list[ConfigProblem] = []
    seen: set[str] = set()
    for i, agg in enumerate(run.aggregates):
        for column, message, fix in birth_part_problems(dict.fromkeys(agg.group_by)):
            j = agg.group_by.index(column)
            found.append(ConfigProblem(f"aggregates.{i}.group_by.{j}", message, fix))
        for j, column in enumerate(agg.group_by):
            if column in seen or column not in sources:
                continue
            seen.add(column)
            src = sources[column]
            table = catalog.tables[src.table]
            if not table.personal:
                continue  # reference data (a track list): nobody's values
            owner = person.column if person is not None and person.table == src.table else None
            problem = _problem(
                engine, src.table, src.column, table.columns[src.column], owner, identity
            )
            if problem is not None:
                message, fix = problem
                found.append(
                    ConfigProblem(
                        f"aggregates.{i}.group_by.{j}",
                        f"a cell per value of {column} publishes its values as they are: {message}",
                        fix,
                    )
                )
    return found


def _problem(
    engine: Engine,
    table: str,
    column: str,
    spec: Column,
    owner: str | None,
    identity: list[tuple[str, str]],
) -> tuple[str, str] | None:
    """Why one group column's values must not be published as they are (None: they may)."""
    if spec.identity is not None or spec.secret or spec.free_text or spec.personal:
        return None  # refused by the spec's check already
    if is_birth_date(column, spec):
        return f"{column} is a date of birth by its name, finer than the year", FIX
    if age_unit(column) is not None:
        return f"{column} is an age in days, weeks or months: with a date, the birth", FIX
    sample = _Sample(engine, table, column, owner, {})
    # the same rows, read as text: a cell holds the value as written, whatever its type
    written = _Sample(engine, table, column, owner, {table: {column: "string"}})
    if spec.references is None:
        problem = _lookalike(sample, KEEP, identity)
        if problem is not None:
            return problem[0], FIX + "; or declare it in the catalog (references:)"
    problem = _dates_problem(sample, spec, KEEP) or _age_problem(sample, KEEP)
    if problem is not None:
        return problem[0], FIX
    problem = _unique_problem(written, KEEP)
    if problem is not None:
        return problem[0], FIX
    values = written.texts()
    shapes = [s for s in map(identifier_shape, values) if s is not None]
    if len(shapes) >= SHAPED and len(shapes) >= LOOKALIKE_SHARE * len(values):
        kinds = ", ".join(sorted(set(shapes)))
        return (
            f"{len(shapes)} of {len(values)} sampled values are shaped as identifiers ({kinds})",
            FIX,
        )
    return None
