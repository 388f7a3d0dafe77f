"""The extract policy: which table, what happens to each column, and the privacy targets.

A policy is YAML, read with the catalog's strict loader: an unknown key, a wrong value, a
column of the table the policy does not mention, an identifier or free text kept in clear:
every problem at once, with its line and the fix.

```yaml
version: 1
name: tickets-for-analytics
table: support_tickets            # a table of the catalog
person: user_id                   # whose rows they are: k counts people, not rows
columns:
  ticket_id: drop                 # an operator name, or a mapping with its parameters
  user_id: hash                   # the person's pseudonym (keyed)
  requester_email: drop
  body: {op: redact}
  created_at: {op: generalize, to: month}
  channel: keep
  status: keep
sensitive: [status, body]
insensitive: {channel: "how the ticket came in: known to nobody outside"}
privacy: {k: 5, l: 2, max_suppression: 0.05}
output: {path: tickets.parquet}
```

Every column the extract releases (other than the person's pseudonym) is a quasi-identifier
unless it is listed under `sensitive:` or under `insensitive:` with a reason
(`anonymize.classify`); `quasi_identifiers:` may still name some of them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from anonymize.classify import classify
from anonymize.joins import Join, Source, name_clashes, output_name, resolve_links, sources
from anonymize.leaks import birth_part_problems, identifying, kept_whole
from anonymize.params import (
    TEXT_DATES,
    Coarsening,
    DateShift,
    Drop,
    Generalize,
    Hash,
    Mask,
    Operator,
    Pseudonym,
    Redact,
    Suppress,
    TopBottom,
)
from anonymize.spec import Strict, checked_spec, unknown_table
from dsar.catalog import Catalog
from dsar.catalog.strict import Loc, YamlDocument, suggest
from dsar.errors import ConfigProblem


class Privacy(Strict):
    """The targets the extract must meet over its quasi-identifiers."""

    k: int = Field(default=1, ge=1, description="every class of quasi-identifiers holds k people")
    l: int | None = Field(  # noqa: E741 - the name the literature uses
        default=None, ge=1, description="distinct sensitive values in every class"
    )
    t: float | None = Field(
        default=None, gt=0, le=1, description="largest distance of a class's sensitive values"
    )
    max_suppression: float = Field(
        default=0.0,
        ge=0,
        le=1,
        description="the share of people (rows, where each row is a person) that may be"
        " suppressed to meet k and l (0.05 = 5%)",
    )


_EXTENSIONS = {".parquet": "parquet", ".csv": "csv", ".jsonl": "jsonl", ".json": "jsonl"}


class Output(Strict):
    """Where the extract goes, relative to the output folder."""

    path: str = Field(min_length=1, description="file name of the extract, e.g. tickets.parquet")
    format: Literal["parquet", "csv", "jsonl"] = Field(
        default="parquet",
        description="format; by default the one the file name's extension names (.parquet,"
        " .csv, .jsonl), else parquet",
    )

    @model_validator(mode="before")
    @classmethod
    def _format_of_the_name(cls, data: Any) -> Any:
        """The format the extension names; a format that contradicts it is refused (a
        Parquet file called accounts.csv is read back as CSV by every tool)."""
        if not isinstance(data, dict) or not isinstance(data.get("path"), str):
            return data
        named = _EXTENSIONS.get(Path(data["path"]).suffix.lower())
        given = data.get("format")
        if given is None and named is not None:
            return {**data, "format": named}
        if named is not None and given != named:
            raise ValueError(
                f"the file name {data['path']!r} says {named} but format says {given!r}:"
                f" name the file for its format, or drop format"
            )
        return data


def _shorthand_ops(value: Any) -> Any:
    """`status: keep` is `status: {op: keep}`."""
    if isinstance(value, dict):
        return {k: {"op": v} if isinstance(v, str) else v for k, v in value.items()}
    return value


class ExtractJoin(Join):
    """A table the base rows point at, and what happens to each of its columns taken."""

    columns: dict[str, Operator] = Field(
        min_length=1,
        description="the columns taken from the joined table, each with its operator (the"
        " others are not read)",
    )

    _shorthand = field_validator("columns", mode="before")(_shorthand_ops)


class Policy(Strict):
    """One de-identified extract of one catalog table (and columns of the tables it points
    at, under `join:`)."""

    version: Literal[1] = Field(description="policy format version; currently 1")
    name: str = Field(min_length=1, description="the extract's name, for its manifest")
    link: str | None = Field(
        default=None,
        min_length=1,
        description="extracts sharing a link name give a value the same keyed hash, so they"
        " join on it; by default an extract's name is its link, and two extracts of different"
        " names cannot be joined on their hashes (joined, two releases of k = 10 and 15 were"
        " k = 1)",
    )
    table: str = Field(min_length=1, description="the catalog table the extract is made from")
    person: str | None = Field(
        default=None,
        description="the column naming whose row it is: k counts its distinct values, and"
        " date shifts follow it (required where a person has several rows); or"
        ' {none: "why each row is a different person"} for a table without one',
    )
    person_none: str | None = Field(
        default=None,
        description="the reason each row is a different person, where the table names no"
        ' person (written person: {none: "one row per patient: a register"}); a column'
        " that looks like a person's key and repeats contradicts it",
    )
    columns: dict[str, Operator] = Field(
        min_length=1, description="every column of the table with its operator"
    )
    join: list[ExtractJoin] = Field(
        default_factory=list,
        description="tables the rows point at (along the catalog's links), with the columns"
        " taken from each",
    )
    quasi_identifiers: list[str] = Field(
        default_factory=list,
        description="output columns an attacker could know and link on; every released column"
        " not listed under sensitive or insensitive is one anyway (ARX's default)",
    )
    sensitive: list[str] = Field(
        default_factory=list, description="output columns whose values must stay diverse (l, t)"
    )
    insensitive: dict[str, str] = Field(
        default_factory=dict,
        description="output columns nobody outside could know, each with the reason: they are"
        ' not quasi-identifiers (insensitive: {status: "an account state, known to nobody'
        ' outside"})',
    )
    privacy: Privacy = Field(default_factory=Privacy, description="k, l, t and the budget")
    exclude_ledger: bool = Field(
        default=True,
        description="leave out the people in the suppression ledger (objection, restriction,"
        " erasure) when a ledger is given",
    )
    output: Output = Field(description="where the extract is written")

    _shorthand = field_validator("columns", mode="before")(_shorthand_ops)

    @model_validator(mode="before")
    @classmethod
    def _person_none(cls, data: Any) -> Any:
        """`person: {none: "reason"}`: no person column, each row a different person, said
        with a reason in words (checked against the data before the extract runs)."""
        if not isinstance(data, dict) or not isinstance(data.get("person"), dict):
            return data
        given = data["person"]
        why = given.get("none") if set(given) == {"none"} else None
        if not isinstance(why, str) or not is_a_reason(why):
            raise ValueError(
                'person: {none: "<reason>"} says each row is a different person: give the'
                f" reason in words (at least {REASON_WORDS} distinct words and"
                f' {REASON_LETTERS} letters): person: {{none: "one row per patient: the'
                " table is a register of patients\"}; else name the column of the person's"
                " key: person: patient_ref"
            )
        return {**{k: v for k, v in data.items() if k != "person"}, "person_none": why}

    @field_validator("insensitive")
    @classmethod
    def _reasons(cls, value: dict[str, str]) -> dict[str, str]:
        unreasoned = [c for c, why in value.items() if not is_a_reason(why)]
        if unreasoned:
            raise ValueError(
                f"give, in words, the reason nobody outside could know {', '.join(unreasoned)}"
                f" (at least {REASON_WORDS} distinct words, {REASON_REAL_WORDS} of them English"
                f" words, and {REASON_LETTERS} letters, not a"
                ' placeholder): insensitive: {status: "an account state, known to nobody'
                ' outside"}'
            )
        return value

    def operators(self) -> dict[str, Operator]:
        """Every output column (the base table's, then each join's) with its operator."""
        ops: dict[str, Operator] = dict(self.columns)
        for join in self.join:
            ops.update({output_name(join, c): op for c, op in join.columns.items()})
        return ops

    def sources(self) -> dict[str, Source]:
        """Where each output column comes from."""
        return sources(self.table, self.columns, [(j, j.columns) for j in self.join])

    def searched(self) -> dict[str, Generalize]:
        """The columns given generalisation levels, for the search to choose among."""
        return {
            c: op for c, op in self.operators().items() if isinstance(op, Generalize) and op.levels
        }

    def kept(self) -> list[str]:
        """Columns of the extract, in policy order."""
        return [c for c, op in self.operators().items() if not isinstance(op, Drop)]


REASON_WORDS = 3  # distinct words
REASON_REAL_WORDS = 2  # of them, English words (Faker's list)
REASON_LETTERS = 12
PLACEHOLDERS = frozenset(
    {
        "x",
        "xx",
        "xxx",
        "n/a",
        "na",
        "n.a.",
        "todo",
        "tbd",
        "fixme",
        "-",
        "--",
        "none",
        "ok",
        "okay",
        "yes",
        "no",
        "test",
        "a test",
        "reason",
        "insensitive",
        "null",
        "nil",
        "?",
        "...",
    }
)


def is_a_reason(why: str) -> bool:
    """A reason in words: at least three distinct words, two of them English words, and
    twelve letters, and not a placeholder ("x", "n/a", "todo", "ok"; "zzzz zzzz zzzz
    zzzz"), which says nothing of why nobody outside could know it."""
    from dsar.text.lexicon import is_english_word

    text = " ".join(why.split()).casefold()
    words = re.findall(r"[^\W\d_]+", text)
    letters = sum(len(w) for w in words)
    distinct = set(words)
    return (
        text.strip(" .!") not in PLACEHOLDERS
        and len(distinct) >= REASON_WORDS
        and sum(is_english_word(w) for w in distinct) >= REASON_REAL_WORDS
        and letters >= REASON_LETTERS
    )


def policy_problems(policy: Policy, catalog: Catalog, doc: YamlDocument) -> Iterable[ConfigProblem]:
    """What the policy gets wrong about the catalog: every one, with its fix."""
    missing = unknown_table(catalog, policy.table, doc)
    if missing is not None:
        yield missing
        return
    table = catalog.tables[policy.table]
    for column in table.columns:
        if column not in policy.columns:
            yield doc.problem(
                ("columns",),
                f"column {column!r} of {policy.table} is not in the policy",
                f"add '{column}:' with an operator (drop, hash, keep, ...): a column the"
                " policy does not mention is never kept silently",
            )
    yield from _column_problems(catalog, policy.table, policy.columns, ("columns",), doc)
    _, problems = resolve_links(catalog, policy.table, policy.join)
    yield from (doc.problem(("join", *loc), message, fix) for loc, message, fix in problems)
    for i, join in enumerate(policy.join):
        if join.table in catalog.tables:
            at = ("join", i, "columns")
            yield from _column_problems(catalog, join.table, join.columns, at, doc)
    clashes = name_clashes(table.columns, [(j, j.columns) for j in policy.join])
    yield from (doc.problem(("join", *loc), message, fix) for loc, message, fix in clashes)
    yield from _classification_problems(policy, catalog, doc)
    released = {
        c: op for c, op in policy.operators().items() if not isinstance(op, Drop | Suppress)
    }
    for column, message, fix in birth_part_problems(released):
        here: Loc = ("columns", column) if column in policy.columns else ("join",)
        yield doc.problem(here, message, fix)
    if policy.searched() and policy.privacy.k <= 1 and not policy.privacy.l:
        yield doc.problem(
            ("privacy",),
            "generalisation levels need a target to search for",
            "set privacy: {k: 5} (and l if you like)",
        )
    shifts = [c for c, op in policy.operators().items() if isinstance(op, DateShift)]
    if shifts and policy.person is None:
        yield doc.problem(
            ("columns", shifts[0]),
            f"date_shift ({', '.join(shifts)}) needs the column naming whose row it is",
            "add person: <column>, e.g. person: user_id",
        )
    if policy.person is not None and policy.person not in policy.sources():
        yield doc.problem(
            ("person",),
            f"{policy.table} has no column {policy.person!r}",
            suggest(policy.person, policy.sources(), "name the column of the person's id"),
        )
    elif policy.person is not None:
        problem = person_problem(
            catalog, policy.table, policy.person, policy.sources(), unroled=True
        )
        if problem is not None:
            yield doc.problem(("person",), *problem)


def _classification_problems(
    policy: Policy, catalog: Catalog, doc: YamlDocument
) -> Iterable[ConfigProblem]:
    """Columns classified twice or not released, and targets the classification cannot
    serve (`anonymize.classify`)."""
    released = {c for c, op in policy.operators().items() if not isinstance(op, Drop | Suppress)}
    lists = {
        "quasi_identifiers": list(policy.quasi_identifiers),
        "sensitive": list(policy.sensitive),
        "insensitive": list(policy.insensitive),
    }
    seen: dict[str, str] = {}
    for field, columns in lists.items():
        for i, column in enumerate(columns):
            at: Loc = (field, i) if field != "insensitive" else (field, column)
            if column not in released:
                yield doc.problem(
                    at,
                    f"{column!r} is not a column of the extract"
                    + (" (it is dropped or suppressed)" if column in policy.operators() else ""),
                    suggest(column, released, "name a column the policy releases"),
                )
            elif column in seen:
                yield doc.problem(
                    at,
                    f"{column} is listed under both {seen[column]} and {field}",
                    "list it under one of them",
                )
            elif field == "sensitive" and _names_someone(policy, catalog, column):
                yield doc.problem(
                    at,
                    f"{column} is derived from a name, an identifier or a contact: it points at"
                    " a person and is never a sensitive attribute (listed sensitive, it is left"
                    " out of k, and beside another copy of the name it rebuilds it)",
                    f"take {column} out of sensitive: (it is then a quasi-identifier), or drop it",
                )
            seen.setdefault(column, field)
    if (policy.privacy.l or policy.privacy.t) and not policy.sensitive:
        yield doc.problem(("privacy",), "l or t needs sensitive columns", "list them in sensitive:")
    classified = classify(policy, catalog)
    quasi = set(classified.quasi_identifiers)
    if policy.privacy.k > 1 and not quasi:
        yield doc.problem(
            ("privacy", "k"),
            "k over no quasi-identifier counts the whole extract: every released column is"
            " sensitive, insensitive or the person's pseudonym",
            "take a column out of insensitive: (an attacker could know it), or set k: 1",
        )
    searched = [
        c for c, op in policy.operators().items() if isinstance(op, Generalize) and op.levels
    ]
    for column in searched:
        if column not in quasi:
            yield doc.problem(
                ("columns", column),
                f"{column} has generalisation levels but is {classified.roles[column].value}"
                " (the search generalises quasi-identifiers only)",
                f"take {column} out of sensitive or insensitive, or give it one way to generalise",
            )


def _names_someone(policy: Policy, catalog: Catalog, column: str) -> bool:
    """The output column comes from a name, an identifier or a contact column."""
    source = policy.sources().get(column)
    table = catalog.tables.get(source.table) if source is not None else None
    spec = table.columns.get(source.column) if table is not None and source is not None else None
    return spec is not None and identifying(spec)


def _column_problems(
    catalog: Catalog, table_name: str, columns: dict[str, Operator], at: Loc, doc: YamlDocument
) -> Iterable[ConfigProblem]:
    """Columns a table does not have, and operators that would leak or not fit the type."""
    table = catalog.tables[table_name]
    for column, op in columns.items():
        spec = table.columns.get(column)
        if spec is None:
            yield doc.problem(
                (*at, column),
                f"{table_name} has no column {column!r}",
                suggest(column, table.columns, "remove it"),
            )
            continue
        problem = _unsafe(column, spec, op, points_at_a_person(catalog, table_name, column))
        problem = kept_whole(column, spec, op) or problem
        if problem is not None:
            message, fix = problem
            yield doc.problem((*at, column, "op"), message, fix)
        wrong_type = _wrong_type(spec, op)
        if wrong_type is not None:
            yield doc.problem(
                (*at, column, "op"), f"{column} {wrong_type}", "pick an operator for its type"
            )


SAFE_FOR_IDENTIFIERS = (Drop, Hash, Pseudonym, Suppress)
SAFE_FOR_TEXT = (Drop, Redact, Suppress)
MAX_MASK_KEEP = 4  # characters a mask may leave of personal data


def points_at_a_person(catalog: Catalog, table: str, column: str) -> bool:
    """The column references an identity column, or holds the key of the row's owner."""
    spec = catalog.tables[table].columns[column]
    if spec.references:
        ref_table, _, ref_column = spec.references.partition(".")
        target = catalog.tables.get(ref_table)
        ref = target.columns.get(ref_column) if target else None
        if ref is not None and ref.identity is not None:
            return True
    owned = catalog.tables[table].owned_through
    return owned is not None and owned.column == column


def names_a_person(catalog: Catalog, table: str, column: str) -> bool:
    """The column is an identity of the table's people: an identity column, one referencing
    one, or the key of the row's owner."""
    spec = catalog.tables[table].columns[column]
    return spec.identity is not None or points_at_a_person(catalog, table, column)


def person_problem(
    catalog: Catalog,
    table: str,
    person: str,
    available: Mapping[str, Source],
    *,
    unroled: bool = False,
) -> tuple[str, str] | None:
    """Why `person` cannot say whose rows they are (None: it can). `available` maps the
    names a spec may give to their `Source` (table and column). With `unroled` (an
    extract, whose sampled checks then verify the column repeats as a person's key does:
    `anonymize.sampling`), a column the catalog gives no role may name the person where no
    column available names one (`patient_ref` in a catalog of `subject_requests: false`)."""
    src = available[person]
    if names_a_person(catalog, src.table, src.column):
        return None
    candidates = [
        name
        for name, s in available.items()
        if s.table in catalog.tables
        and s.column in catalog.tables[s.table].columns
        and names_a_person(catalog, s.table, s.column)
    ]
    spec = catalog.tables[src.table].columns.get(src.column)
    plain = spec is not None and spec.personal is None and not (spec.secret or spec.free_text)
    if unroled and not candidates and plain:
        return None
    fix = (
        f"name one of {', '.join(candidates)}"
        if candidates
        else "name a column the catalog marks as a person's identity (identity:, or"
        " references: to one), or join the table that has one"
    )
    return (
        f"person: {person} is no identity of {table}'s people in the catalog: k, people"
        " counts and contributions would count its values (rows), not people",
        fix,
    )


def _unsafe(column: str, spec: Any, op: Any, points: bool) -> tuple[str, str] | None:
    """Why an operator would let personal data out of this column (None: it would not)."""
    if spec.secret:
        if not isinstance(op, Drop | Suppress):
            return (
                f"{column} is a secret (credentials): it never leaves, not even transformed",
                "use op: drop",
            )
        return None
    if spec.identity is not None or points:
        if not isinstance(op, SAFE_FOR_IDENTIFIERS):
            what = spec.identity.value if spec.identity is not None else "a reference to one"
            return (
                f"{column} identifies a person ({what}): with {op.op} it is not de-identified",
                "use hash (joins across extracts), pseudonym, suppress or drop",
            )
        return None
    if spec.free_text:
        if not isinstance(op, SAFE_FOR_TEXT):
            return (
                f"{column} is free text that can name people: {op.op} does not remove them",
                "use op: redact, or drop",
            )
        return None
    if spec.personal is not None:
        if isinstance(op, Mask) and op.keep_last <= MAX_MASK_KEEP:
            return None
        if isinstance(op, Generalize) and all(
            _coarse(op.level(i)) for i in range(len(op.levels or [op]))
        ):
            return None
        if isinstance(op, SAFE_FOR_IDENTIFIERS):
            return None
        return (
            f"{column} is personal data ({spec.personal.value}): {op.op} as written keeps it",
            f"use pseudonym, hash, generalize, a mask or prefix of at most {MAX_MASK_KEEP}"
            " characters, or drop",
        )
    return None


def _coarse(level: Coarsening | str) -> bool:
    """Coarser than the value by construction (a prefix only when short)."""
    if isinstance(level, str):
        return True  # '*'
    if level.prefix is not None:
        return level.prefix <= MAX_MASK_KEEP
    return True


def _wrong_type(spec: Any, op: Any) -> str | None:
    """An operator that cannot work on the column's declared type."""
    kind = spec.type.value if spec.type is not None else None
    if kind is None:
        return None
    if isinstance(op, Generalize):
        for i in range(len(op.levels or [op])):
            level = op.level(i)
            wrong = _wrong_level(kind, level) if isinstance(level, Coarsening) else None
            if wrong:
                return wrong
    if isinstance(op, DateShift) and kind not in ("date", "timestamp"):
        return f"is {kind}: date_shift needs a date or timestamp"
    if isinstance(op, TopBottom) and kind not in NUMERIC:
        return f"is {kind}: top and bottom coding need numbers"
    return None


NUMERIC = ("integer", "float", "decimal")


def _wrong_level(kind: str, level: Coarsening) -> str | None:
    if level.to and kind not in ("date", "timestamp", "string"):
        return (
            f"is {kind}: generalize to a {level.to} needs a date or timestamp (or text"
            f" holding dates: {TEXT_DATES})"
        )
    if (level.bands or level.bin) and kind not in NUMERIC:
        return f"is {kind}: bands and bins need numbers"
    return None


def load_policy(path: str | Path, catalog: Catalog) -> Policy:
    """Read and check a policy against the catalog (`checked_spec`, as `run_extract` does).

    Raises:
        ConfigError: every problem at once, each with its line and fix.
    """
    return checked_spec(Path(path), Policy, catalog, policy_problems, what="policy")[0]
