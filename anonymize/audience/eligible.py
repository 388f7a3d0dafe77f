"""Who may be in an ad audience: one gate for a catalog table and for a list.

An audience is built from a spec naming a catalog table, or from a list (`AudienceList`,
`anonymize audience --input`); both pass the same gate, in this order:

1. **What the data may be used for** (`sources`). A list read from a file the catalog
   describes (or a byte-for-byte copy of one) is that table, with its rules. A table
   received through a Google sign-in (`limited_use: true`) may never feed advertising
   (Google API Services User Data Policy, Limited Use), nor may one whose purposes do not
   include advertising (GDPR Art. 5(1)(b), purpose limitation): refused before a value is
   read, naming the rule. Two catalog entries over one file with different rules are a
   catalog error; a spec's table whose values are a Limited Use table's (nine in ten both
   ways: a copy, re-serialised or renamed) is refused as that table, and each of its values
   the export holds only from a Limited Use table (a partial copy) is left out
   (`limited_use`). A list is judged value
   by value (`people.leave_out_restricted`): a value a Limited Use table holds, or that only
   tables which may not feed ads hold, is left out under the rule's name, and a list most of
   whose values are such is refused, naming the table.
2. **Consent, stated** (`sources`). A spec names its consent column and its opt-out column:

   ```yaml
   consent: ads_personalization      # a boolean: only true is consent
   opted_out: opted_out_at           # any value here is an opt-out
   ```

   or says `consent: none` with the legal basis in words (`legal_basis: "..."`), recorded
   in every manifest; never for a table the catalog says is processed on consent. A list
   the catalog does not describe needs its basis stated the same way (`consent_basis`). A
   spec or a list that states nothing is refused, with the fix.
3. **The person, not the string.** Every value is first normalised as each chosen platform
   will upload it (`forms`: the platform's own normaliser, the one that writes the file),
   then matched to its person through the whole export (`dsar.subjects.people`: all their
   emails, phones and account ids, `+tags` and Gmail dots folded), on the value as given
   and as uploaded; a person the suppression ledger holds under ANY identifier (a device or
   cookie id too) is left out (erased, objected to direct marketing, opted out of sale or
   sharing, restricted), and so is a row whose person said no anywhere in the export
   (`consent`: every column the catalog files under marketing preferences that records a
   consent or an opt-out), whatever basis the spec or the list states. A row left out for
   one platform's form is left out for every platform of the run. What is sent is recorded
   per person (`anonymize.audience.people.record_refs`), so a withdrawal finds them from any
   identifier, and from the form uploaded.

Each platform's manifest counts the rows read and each row left out under its first reason
(`no_consent`, `opted_out`, `closed_account`, `limited_use`, `purpose_limitation`,
`in_ledger`, `said_no_elsewhere`) and records the basis (`eligibility`).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa

from anonymize.audience.build import (
    MEMORY_LIMIT,
    AudienceResult,
    Kind,
    _write_all,
    identifiers,
    read_list,
)
from anonymize.audience.consent import (
    DATES,
    closed_people,
    said_no_people,
    said_no_sql,
    signals,
)
from anonymize.audience.fields import Field
from anonymize.audience.forms import add_export_forms, add_idn_forms, add_platform_forms
from anonymize.audience.people import (
    leave_out_ledger,
    leave_out_restricted,
    leave_out_said_no,
    link_people,
    record_refs,
    shared_unattributed,
)
from anonymize.audience.platforms import Platform, platform
from anonymize.audience.sources import (
    AudienceList,
    AudienceSpec,
    checked_source,
    limited_use_error,
    restricted_tables,
)
from anonymize.audience.stale import reasons_count, stale_uploads
from dsar.catalog.models import DataCategory, IdentityKind, Role
from dsar.engine import Engine, scratch_connection
from dsar.engine.base import quote_identifier, sql_string
from dsar.engine.guards import guard_catalog
from dsar.errors import IdentifierError, UseNotAllowedError
from dsar.records.ledger import Ledger
from dsar.records.sent import SentRecord
from dsar.review.manifest import AcceptedWarning, AudienceEligibility
from dsar.subjects.identity import STRONG, canonical_identifier
from dsar.subjects.people import KINDS, fold_sql, identity_sql, node_sql, resolve_people

log = logging.getLogger(__name__)
MATCHING = (
    "the value as each platform uploads it, and as given; the person: every email, phone"
    " and account id the export holds for them (+tags and Gmail dots folded); left out if"
    " the ledger holds any (a device or cookie id too), or they said no in any table"
)
LOCATION = DataCategory.LOCATION
WRITTEN = "__written"  # a list's value as written, beside `v` (read as a record reads it)
COPY_SHARE = 0.9  # a spec's table with this share of a Limited Use table's values, both ways
# the reasons a row is left out, in the order each manifest counts them
REASONS = (
    "no_consent",
    "opted_out",
    "closed_account",
    "limited_use",
    "purpose_limitation",
    "in_ledger",
    "said_no_elsewhere",
)


def build_audience(
    spec: AudienceSpec | AudienceList | str | Path,
    engine: Engine,
    platforms: list[str],
    out: str | Path,
    *,
    ledger: Ledger | None = None,
    record: SentRecord | None = None,
    region: str | None = None,
    now: datetime | None = None,
    accept_catalog_warnings: bool | Collection[str] = False,
) -> AudienceResult:
    """The audience a spec or a list describes, for each platform: only people who may be
    in it (see the module's gate).

    With `ledger`, every person it holds under any identifier is left out. With `record`,
    everyone uploaded is recorded per platform under every identifier of theirs (keyed
    references and the uploaded hashes, never emails) and the audit log gets one entry per
    platform, so that a later objection or erasure can be withdrawn
    (`SentRecord.write_withdrawal`).

    `engine` (`dsar.open_engine(catalog, ...)`, DuckDB or Spark; the caller opens and closes
    it) reads the export: the table, and everyone's identifiers to match people; the
    addresses are then normalised and hashed here, the same on both.

    A catalog that can give one person's rows to another (`dsar.engine.guards`) is refused
    (`CollisionProneCatalogError`) unless `accept_catalog_warnings` (True, or the codes
    accepted); each manifest records them.

    Raises:
        UseNotAllowedError: Limited Use or purpose limitation, naming the rule.
        ConfigError: the spec's problems, consent not stated among them.
        UsageError: a list whose consent is not stated.
    """
    con = scratch_connection(memory_limit=MEMORY_LIMIT)
    try:
        gate = run_gate(
            con,
            spec,
            engine,
            platforms,
            ledger=ledger,
            region=region,
            accept_catalog_warnings=accept_catalog_warnings,
        )
        source, kind, fields, applies = gate.source, gate.kind, gate.fields, gate.applies
        chosen, name, limited = gate.chosen, gate.name, gate.limited
        # earlier uploads of people the gate now leaves out: named, for `anonymize withdraw`
        earlier: dict[str, dict[str, int]] = {}
        for p in chosen if record is not None else []:
            assert record is not None
            stale = stale_uploads(
                con,
                record,
                p,
                kind=kind,
                region=region,
                audience=name,
                ledger=ledger,
                engine=engine,
            )
            earlier[p.name] = reasons_count(stale)
        counted = con.execute(
            "SELECT count(*) FILTER (WHERE why IS NULL), count(*) FROM cand"
        ).fetchone()
        read = int(counted[1]) if counted else 0
        left = dict(con.execute("SELECT why, count(*) FROM cand GROUP BY ALL").fetchall())
        before = {"rows_read": read, **{r: int(left.get(r, 0)) for r in REASONS if r in applies}}
        # of those left out for a person's no, the rows it reached only through an
        # identifier several people share (a team inbox, a family phone): stated, not a reason
        before["shared_unattributed"] = shared_unattributed(con)
        if fields and limited:
            before["fields_limited_use"] = _blank_limited_fields(
                con,
                engine,
                fields,
                limited,
                None if isinstance(source, AudienceList) else source.table,
            )
        f_cols = "".join(f", {quote_identifier('f_' + f)}" for f in fields)
        con.execute(f"CREATE TEMP TABLE src AS SELECT i, v{f_cols} FROM cand WHERE why IS NULL")
        result = _write_all(
            con,
            chosen,
            Path(out),
            kind,
            region,
            gate.inputs,
            now,
            before=before,
            fields=fields,
            engine=engine.name,
            accepted=gate.accepted,
            eligibility=gate.eligibility,
        )
        if record is not None:
            _record(con, record, chosen, kind, name, now)
        return replace(result, earlier={p: n for p, n in earlier.items() if n})
    finally:
        con.close()


@dataclass(frozen=True)
class Gate:
    """What the gate decided, beside the scratch connection it left `cand` in."""

    source: AudienceSpec | AudienceList
    inputs: list[Path]
    chosen: list[Platform]
    kind: Kind
    fields: list[Field]
    name: str
    eligibility: AudienceEligibility
    applies: set[str]
    limited: list[str]
    accepted: tuple[AcceptedWarning, ...]


def run_gate(
    con: duckdb.DuckDBPyConnection,
    spec: AudienceSpec | AudienceList | str | Path,
    engine: Engine,
    platforms: list[str],
    *,
    ledger: Ledger | None = None,
    region: str | None = None,
    accept_catalog_warnings: bool | Collection[str] = False,
) -> Gate:
    """The module's gate, in `con`: `cand` (each row read, `why` its first reason to leave,
    NULL while eligible), the people of the export (`people_*`), `said_no_people` and
    `closed_people`. `build_audience` writes what it leaves eligible; `anonymize withdraw`
    (`recheck.ineligible_uploads`) compares it with what was sent."""
    catalog = engine.catalog
    source, inputs = checked_source(spec, engine)
    chosen = [platform(p) for p in platforms]
    accepted = guard_catalog(catalog, engine, accept_catalog_warnings)
    if isinstance(source, AudienceList):
        kind: Kind = source.kind
        fields = list(source.fields)
        _list_candidates(con, source)
        name = source.name or source.path.stem
        eligibility = AudienceEligibility(
            source="list",
            table=None,
            consent=None,
            opted_out=None,
            legal_basis=(source.consent_basis or "").strip(),
            ledger=ledger is not None,
            matching=MATCHING,
        )
        applies = {"limited_use", "purpose_limitation"}
    else:
        kind = "email" if source.email else "phone"
        fields = list(source.fields)
        applies = _table_candidates(con, source, engine)
        name = source.name
        eligibility = AudienceEligibility(
            source="table",
            table=source.table,
            consent=source.consent_column(),
            opted_out=source.opt_out_column(),
            legal_basis=source.legal_basis.strip() if source.legal_basis else None,
            ledger=ledger is not None,
            matching=MATCHING,
        )
    add_platform_forms(con, chosen, kind, region)
    limited, restricted, processor = restricted_tables(catalog)
    if isinstance(source, AudienceList):
        resolve_people(engine, con, marked=limited + restricted, also_read=processor, older=True)
    else:
        # tables that hold a value without tying it to an account vouch for nothing:
        # a value they and a Limited Use table alone hold is Google's
        loose = [
            n
            for n, t in catalog.tables.items()
            if n not in (*limited, source.table)
            and len([k for k in t.identity_columns().values() if k in KINDS]) == 1
        ]
        resolve_people(engine, con, marked=[*limited, source.table, *loose], older=True)
    add_export_forms(con, chosen)
    add_idn_forms(con)
    link_people(con)
    if isinstance(source, AudienceList):
        _leave_out_restricted(con, source, limited)
    else:
        _refuse_a_copy(con, source, kind, limited)
        # value by value too: a partial copy of a Limited Use table, under another name
        for _, table, n in leave_out_restricted(con, limited, purposes=False):
            log.warning("%d rows left out: values of %s (limited_use)", n, table)
        applies.add("limited_use")
    # a closed account, wherever the export records it, on every path
    closed_people(engine, con)
    applies.add("closed_account")
    con.execute(
        "UPDATE cand SET why = 'closed_account' WHERE why IS NULL AND i IN (SELECT i FROM"
        " cand_theirs JOIN closed_people USING (person))"
    )
    if ledger is not None:
        applies.add("in_ledger")
        # a list's value as written (its extension: `v` is read as a record reads it); a
        # spec table's `v` is its cell as written
        written = WRITTEN if isinstance(source, AudienceList) else "v"
        leave_out_ledger(con, ledger, engine, kind, written=written)
    said_no_people(engine, con, None if isinstance(source, AudienceList) else source.table)
    applies.add("said_no_elsewhere")
    leave_out_said_no(con)

    return Gate(
        source=source,
        inputs=inputs,
        chosen=chosen,
        kind=kind,
        fields=fields,
        name=name,
        eligibility=eligibility,
        applies=applies,
        limited=limited,
        accepted=tuple(map(AcceptedWarning.of, accepted)),
    )


def _table_candidates(
    con: duckdb.DuckDBPyConnection, spec: AudienceSpec, engine: Engine
) -> set[str]:
    """`cand` and `cand_ids` from the spec's table, each row's first reason to leave by its
    own columns; the reasons that apply."""
    table = engine.catalog.tables[spec.table]
    column = spec.email or spec.phone
    assert column is not None
    kind = IdentityKind.EMAIL if spec.email else IdentityKind.PHONE
    if table.columns[column].identity not in (kind, None):
        log.warning("%s.%s is not declared an %s column", spec.table, column, kind.value)
    reasons: dict[str, str] = {}
    consent, opted = spec.consent_column(), spec.opt_out_column()
    # the answers the catalog records in this table beyond those the spec names: a stated
    # basis never overrides a person's no
    theirs = [s for s in signals(table) if s.column not in (consent, opted)]
    no_consent = [said_no_sql([s]) for s in theirs if s.kind == "consent"]
    opted_out = [said_no_sql([s]) for s in theirs if s.kind == "opt_out"]
    if consent is not None:
        quoted = quote_identifier(consent)
        no_consent.insert(
            0,
            f"{quoted} IS NULL"
            if table.columns[consent].type in DATES
            else f"coalesce({quoted}, false) IS NOT TRUE",
        )
    if opted is not None:
        opted_out.insert(0, f"{quote_identifier(opted)} IS NOT NULL")
    if no_consent:
        reasons["no_consent"] = " OR ".join(f"({c})" for c in no_consent if c)
    if opted_out:
        reasons["opted_out"] = " OR ".join(f"({c})" for c in opted_out if c)
    if spec.accounts is not None:
        a = spec.accounts
        closed = ", ".join(sql_string(c) for c in a.closed)
        reasons["closed_account"] = (
            f"{quote_identifier(a.key)} IN (SELECT {quote_identifier(a.key)} FROM"
            f" {quote_identifier(a.table)} WHERE CAST({quote_identifier(a.status)} AS VARCHAR)"
            f" IN ({closed}))"
        )
    why = " ".join(f"WHEN {cond} THEN '{r}'" for r, cond in reasons.items())
    ids = {c: k for c, k in table.identity_columns().items() if k in KINDS}
    ids.setdefault(column, kind)  # hashed, so matched, even where not declared
    extra = "".join(
        f", CAST({quote_identifier(c)} AS VARCHAR) AS {quote_identifier('f_' + f)}"
        for f, c in spec.fields.items()
    )
    picks = "".join(
        f", {identity_sql(k, quote_identifier(c))} AS __id{j}"
        for j, (c, k) in enumerate(ids.items())
    )
    rows = engine.query(
        f"SELECT CAST({quote_identifier(column)} AS VARCHAR) AS v{extra},"
        f" {f'CASE {why} END' if why else 'CAST(NULL AS VARCHAR)'} AS why{picks}"
        f" FROM {quote_identifier(spec.table)}"
    )
    con.register("rows_arrow", rows)
    con.execute("CREATE TEMP TABLE cand AS SELECT row_number() OVER () AS i, * FROM rows_arrow")
    con.unregister("rows_arrow")
    _candidate_ids(con, list(ids.values()))
    return set(reasons)


def _leave_out_restricted(
    con: duckdb.DuckDBPyConnection, source: AudienceList, limited: list[str]
) -> None:
    """A list's values from tables that may not feed ads are left out, each under its rule;
    a list more than half of whose rows are such came from those tables: refused."""
    found = leave_out_restricted(con, limited)
    if not found:
        return
    # fetchall: a result left unfinished blocks register() on this connection
    identified = int(con.execute("SELECT count(DISTINCT i) FROM cand_ids").fetchall()[0][0])
    if 2 * sum(n for _, _, n in found) <= identified:
        for rule, table, n in found:
            log.warning("%d rows of the list left out: values of %s (%s)", n, table, rule)
        return
    rule, table, _ = found[0]
    if rule == "limited_use":
        raise limited_use_error(table, source.column)
    raise UseNotAllowedError(
        table,
        source.column,
        "advertising",
        f"holds most of the list's values ({sum(n for _, _, n in found)} of {identified}"
        " rows): data held for a customer, or collected for other purposes than advertising;"
        " purpose limitation (GDPR Art. 5(1)(b)) forbids this use",
        "build the audience from data the person gave you for advertising (a spec on that"
        " table), or from a list of people who agreed",
    )


def _refuse_a_copy(
    con: duckdb.DuckDBPyConnection, spec: AudienceSpec, kind: str, limited: list[str]
) -> None:
    """A spec's table whose values are a Limited Use table's, nine in ten both ways, is that
    table under another name (a copy, re-serialised, its columns renamed): refused.

    Compared as people are matched, never as exact strings: each value of the spec's column
    read as a record reads it (`canonical_identifier`: `<...>`, `mailto:`, quotes, invisible
    characters), normalised and folded (`identity_sql`, `node_sql`: case, padding, `+tags`,
    Gmail dots, googlemail.com), against the Limited Use table's values folded alike; and a
    value that is a SHA-256 (hex) of one of them, as held or folded, is that value: a
    hashed copy is the same data."""
    if not limited:
        return
    identity = IdentityKind(kind)
    raw = [r[0] for r in con.execute("SELECT DISTINCT v FROM cand WHERE v IS NOT NULL").fetchall()]
    canonical: list[str | None] = []
    for value in raw:
        try:
            canonical.append(canonical_identifier(identity, str(value)))
        except IdentifierError:
            canonical.append(None)  # not one address: compared as a hash only
    con.register(
        "copy_values_arrow",
        pa.table({"v": pa.array(raw, pa.string()), "c": pa.array(canonical, pa.string())}),
    )
    held = ", ".join(f"'{n}'" for n in limited)
    folded = fold_sql("value") if identity is IdentityKind.EMAIL else "value"
    try:
        rows = con.execute(
            "WITH mine AS (SELECT DISTINCT lower(trim(v)) AS raw,"
            f" {node_sql(identity, identity_sql(identity, 'c'))} AS node FROM copy_values_arrow),"
            " theirs AS (SELECT DISTINCT marked_by, node, h FROM (SELECT marked_by,"
            f" {node_sql(identity, 'value')} AS node, value, {folded} AS folded"
            f" FROM people_held WHERE marked_by IN ({held}) AND kind = '{kind}'),"
            " LATERAL (SELECT unnest(list_distinct([sha256(value),"
            " sha256(coalesce(folded, value)), sha256(node)])) AS h)),"
            " matched AS (SELECT DISTINCT t.marked_by, t.node, m.raw FROM theirs t JOIN mine m"
            " ON m.node = t.node OR m.raw = t.h)"
            " SELECT t.marked_by, count(DISTINCT t.node), (SELECT count(*) FROM mine),"
            " count(DISTINCT x.raw), count(DISTINCT x.node) FROM theirs t LEFT JOIN matched x"
            " USING (marked_by, node) GROUP BY 1"
        ).fetchall()
    finally:
        con.unregister("copy_values_arrow")
    for table, in_theirs, in_mine, mine_shared, theirs_shared in rows:
        if (
            mine_shared
            and mine_shared >= COPY_SHARE * in_mine
            and theirs_shared >= COPY_SHARE * in_theirs
        ):
            raise limited_use_error(
                str(table),
                str(spec.email or spec.phone),
                also=f" ({spec.table} holds its values: a copy is the same data)",
            )


def _field_sql(value_sql: str) -> str:
    return f"lower(nfc_normalize(trim(CAST({value_sql} AS VARCHAR))))"


def _blank_limited_fields(
    con: duckdb.DuckDBPyConnection,
    engine: Engine,
    fields: Sequence[str],
    limited: list[str],
    source_table: str | None,
) -> int:
    """Empty each field of an eligible row (a name, a postcode) whose value, for that row's
    person, a Limited Use table holds and no other table but the source holds (as the whole
    value or one word of it, lower-cased): a name that came from a Google sign-in is not
    sent beside an address that may be. Returns the fields emptied."""
    con.execute("CREATE OR REPLACE TEMP TABLE field_held (node VARCHAR, w VARCHAR, lu BOOLEAN)")
    for name, table in engine.catalog.tables.items():
        lu = name in limited
        if name == source_table or not table.personal or table.role is not Role.CONTROLLER:
            continue
        ids = {c: k for c, k in table.identity_columns().items() if k in STRONG}
        # a Limited Use table: every other column; any other: names and locations
        values = [
            c
            for c, col in table.columns.items()
            if c not in table.identity_columns()
            and (lu or col.personal is not None or table.column_category(c) is LOCATION)
        ]
        if not ids or not values:
            continue
        picks = ", ".join(
            [
                f"{identity_sql(k, quote_identifier(c))} AS i{j}"
                for j, (c, k) in enumerate(ids.items())
            ]
            + [f"{_field_sql(quote_identifier(c))} AS f{j}" for j, c in enumerate(values)]
        )
        rows = engine.query(f"SELECT DISTINCT {picks} FROM {quote_identifier(name)}")
        con.register("field_rows", rows)
        for j, k in enumerate(ids.values()):
            for m in range(len(values)):
                con.execute(
                    f"INSERT INTO field_held SELECT DISTINCT {node_sql(k, f'i{j}')}, w, {lu}"
                    f" FROM (SELECT i{j}, unnest(list_distinct([f{m}] || string_split(f{m}, ' ')))"
                    f" AS w FROM field_rows WHERE i{j} IS NOT NULL AND f{m} <> '') WHERE w <> ''"
                )
        con.unregister("field_rows")
    con.execute(
        "CREATE OR REPLACE TEMP TABLE field_people AS SELECT DISTINCT n.person, f.w,"
        " bool_or(f.lu) AS lu, bool_or(NOT f.lu) AS other FROM field_held f"
        " JOIN people_nodes n USING (node) GROUP BY ALL"
    )
    blanked = 0
    for f in fields:
        col = quote_identifier("f_" + f)
        con.execute(
            "CREATE OR REPLACE TEMP TABLE field_blank AS SELECT DISTINCT c.i FROM cand c"
            " JOIN cand_people p ON p.i = c.i AND p.strong"
            f" JOIN (SELECT person, w, bool_or(lu) AS lu, bool_or(other) AS other FROM"
            f" field_people GROUP BY ALL) h ON h.person = p.person AND h.w = {_field_sql(col)}"
            f" WHERE c.why IS NULL AND {col} IS NOT NULL GROUP BY c.i"
            " HAVING bool_or(h.lu) AND NOT bool_or(h.other)"
        )
        blanked += int(con.execute("SELECT count(*) FROM field_blank").fetchall()[0][0])
        con.execute(f"UPDATE cand SET {col} = NULL WHERE i IN (SELECT i FROM field_blank)")
    for scratch in ("field_held", "field_people", "field_blank"):
        con.execute(f"DROP TABLE IF EXISTS {scratch}")
    return blanked


def _list_candidates(con: duckdb.DuckDBPyConnection, source: AudienceList) -> None:
    """`cand` and `cand_ids` from a list the catalog does not describe."""
    kind = IdentityKind(source.kind)
    read_list(
        con,
        source.path,
        source.column,
        source.fields,
        "list_rows",
        f", CAST(NULL AS VARCHAR) AS why, {identity_sql(kind, 'v')} AS __id0",
        kind=source.kind,
        written=WRITTEN,
    )
    con.execute("CREATE TEMP TABLE cand AS SELECT row_number() OVER () AS i, * FROM list_rows")
    _candidate_ids(con, [kind])


def _candidate_ids(con: duckdb.DuckDBPyConnection, kinds: list[IdentityKind]) -> None:
    """`cand_ids(i, kind, value, node, strong)` from `cand`'s `__id<j>` columns."""
    con.execute(
        "CREATE TEMP TABLE cand_ids (i BIGINT, kind VARCHAR, value VARCHAR, node VARCHAR,"
        " strong BOOLEAN)"
    )
    for j, kind in enumerate(kinds):
        con.execute(
            f"INSERT INTO cand_ids SELECT i, '{kind.value}', __id{j},"
            f" {node_sql(kind, f'__id{j}')}, {kind in STRONG} FROM cand WHERE __id{j} IS NOT NULL"
        )


def _record(
    con: duckdb.DuckDBPyConnection,
    record: SentRecord,
    chosen: list[Platform],
    kind: Kind,
    name: str,
    now: datetime | None,
) -> None:
    """Record, per platform, each uploaded hash under every identifier of its person."""
    record_refs(con, record.keys, kind)
    run = f"{(now or datetime.now(UTC)).strftime('%Y%m%dT%H%M%SZ')}-{secrets.token_hex(3)}"
    identity = IdentityKind.EMAIL if kind == "email" else IdentityKind.PHONE
    for p in chosen:
        normalised, base = identifiers(p, kind)
        rows = con.execute(
            f"SELECT DISTINCT r.ref, r.loose, {p.hash_sql(normalised)} AS h FROM {base}"
            f" JOIN cand_refs r USING (i) WHERE {normalised} IS NOT NULL ORDER BY r.ref, h"
        ).fetchall()
        record.record_refs(p.name, name, run, rows, identity)
