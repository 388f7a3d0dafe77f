"""Who may be in an ad audience: one gate for a catalog table and for a list.

An audience is built from a spec naming a catalog table, or from a list (`AudienceList`,
`anonymize audience --input`); both pass the same gate, in this order:

1. **What the data may be used for** (`sources`). A list read from a file the catalog
   describes (or a byte-for-byte copy of one) is that table, with its rules. A table
   received through a Google sign-in (`limited_use: true`) may never feed advertising
   (Google API Services User Data Policy, Limited Use), nor may one whose purposes do not
   include advertising (GDPR Art. 5(1)(b), purpose limitation): refused before a value is
   read, naming the rule.
2. **Consent, stated** (`sources`). A spec names its consent column and its opt-out column:

   ```yaml
   consent: ads_personalization      # a boolean: only true is consent
   opted_out: opted_out_at           # any value here is an opt-out
   ```

   or says `consent: none` with the legal basis in words (`legal_basis: "..."`), recorded
   in every manifest; never for a table the catalog says is processed on consent. A list
   the catalog does not describe needs its basis stated the same way (`consent_basis`). A
   spec or a list that states nothing is refused, with the fix.
3. **The person, not the string.** Every row is matched to its person through the whole
   export (`dsar.subjects.people`: all their emails, phones and account ids, `+tags` and
   Gmail dots folded); a person the suppression ledger holds under ANY identifier is left
   out (erased, objected to direct marketing, opted out of sale or sharing, restricted), and
   so is a row whose person said no in another row. A list's value the export holds only
   from a Google sign-in is left out (`limited_use`). What is sent is recorded per person
   (`anonymize.audience.people.record_refs`), so a withdrawal finds them from any identifier.

Each platform's manifest counts the rows read and each row left out under its first reason
(`no_consent`, `opted_out`, `closed_account`, `limited_use`, `in_ledger`, `said_no_elsewhere`)
and records the basis (`eligibility`).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Collection
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from anonymize.audience.build import (
    MEMORY_LIMIT,
    AudienceResult,
    Kind,
    _write_all,
    identifiers,
    read_list,
)
from anonymize.audience.people import (
    leave_out_ledger,
    leave_out_limited,
    leave_out_said_no,
    link_people,
    record_refs,
)
from anonymize.audience.platforms import Platform, platform
from anonymize.audience.sources import (
    AudienceList,
    AudienceSpec,
    checked_source,
)
from dsar.catalog.models import IdentityKind
from dsar.engine import Engine, scratch_connection
from dsar.engine.base import quote_identifier, sql_string
from dsar.engine.guards import guard_catalog
from dsar.records.ledger import Ledger
from dsar.records.sent import SentRecord
from dsar.review.manifest import AcceptedWarning, AudienceEligibility
from dsar.subjects.identity import STRONG, sql_normalize
from dsar.subjects.people import KINDS, PLAIN, node_sql, resolve_people

log = logging.getLogger(__name__)
MATCHING = (
    "the person: every email, phone and account id the export holds for them (+tags and"
    " Gmail dots folded); left out if the ledger holds any"
)
# the reasons a row is left out, in the order each manifest counts them
REASONS = (
    "no_consent",
    "opted_out",
    "closed_account",
    "limited_use",
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
    catalog = engine.catalog
    source, inputs = checked_source(spec, engine)
    chosen = [platform(p) for p in platforms]
    accepted = guard_catalog(catalog, engine, accept_catalog_warnings)
    con = scratch_connection(memory_limit=MEMORY_LIMIT)
    try:
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
            applies = {"limited_use"}
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
        resolve_people(engine, con)
        link_people(con)
        if "limited_use" in applies:
            leave_out_limited(con)
        if ledger is not None:
            applies.add("in_ledger")
            leave_out_ledger(con, ledger)
        if applies & {"no_consent", "opted_out"}:
            applies.add("said_no_elsewhere")
            leave_out_said_no(con)
        counted = con.execute(
            "SELECT count(*) FILTER (WHERE why IS NULL), count(*) FROM cand"
        ).fetchone()
        read = int(counted[1]) if counted else 0
        left = dict(con.execute("SELECT why, count(*) FROM cand GROUP BY ALL").fetchall())
        before = {"rows_read": read, **{r: int(left.get(r, 0)) for r in REASONS if r in applies}}
        f_cols = "".join(f", {quote_identifier('f_' + f)}" for f in fields)
        con.execute(f"CREATE TEMP TABLE src AS SELECT i, v{f_cols} FROM cand WHERE why IS NULL")
        result = _write_all(
            con,
            chosen,
            Path(out),
            kind,
            region,
            inputs,
            now,
            before=before,
            fields=fields,
            engine=engine.name,
            accepted=tuple(map(AcceptedWarning.of, accepted)),
            eligibility=eligibility,
        )
        if record is not None:
            _record(con, record, chosen, kind, name, now)
        return result
    finally:
        con.close()


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
    if (consent := spec.consent_column()) is not None:
        reasons["no_consent"] = f"coalesce({quote_identifier(consent)}, false) IS NOT TRUE"
    if (opted := spec.opt_out_column()) is not None:
        reasons["opted_out"] = f"{quote_identifier(opted)} IS NOT NULL"
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
        f", {sql_normalize(k, quote_identifier(c), PLAIN)} AS __id{j}"
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


def _list_candidates(con: duckdb.DuckDBPyConnection, source: AudienceList) -> None:
    """`cand` and `cand_ids` from a list the catalog does not describe."""
    kind = IdentityKind(source.kind)
    read_list(
        con,
        source.path,
        source.column,
        source.fields,
        "list_rows",
        f", CAST(NULL AS VARCHAR) AS why, {sql_normalize(kind, 'v', PLAIN)} AS __id0",
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
    record_refs(con, record.keys)
    run = f"{(now or datetime.now(UTC)).strftime('%Y%m%dT%H%M%SZ')}-{secrets.token_hex(3)}"
    identity = IdentityKind.EMAIL if kind == "email" else IdentityKind.PHONE
    for p in chosen:
        normalised, base = identifiers(p, kind)
        rows = con.execute(
            f"SELECT DISTINCT r.ref, r.loose, {p.hash_sql(normalised)} AS h FROM {base}"
            f" JOIN cand_refs r USING (i) WHERE {normalised} IS NOT NULL ORDER BY r.ref, h"
        ).fetchall()
        record.record_refs(p.name, name, run, rows, identity)
