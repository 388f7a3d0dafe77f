"""Who may be in an ad audience: one gate for a catalog table and for a list.

An audience is built from a spec naming a catalog table, or from a list (`AudienceList`,
`anonymize audience --input`); both pass the same gate, in this order:

1. **What the data may be used for.** A list read from a file the catalog describes (or a
   byte-for-byte copy of one) is that table, with its rules. A table received through a
   Google sign-in (`limited_use: true`) may never feed advertising (Google API Services User
   Data Policy, Limited Use), nor may one whose purposes do not include advertising (GDPR
   Art. 5(1)(b), purpose limitation): refused before a value is read, naming the rule.
2. **Consent, stated.** A spec names its consent column and its opt-out column:

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
from collections.abc import Collection, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import duckdb
from pydantic import Field

from anonymize.audience.build import (
    MEMORY_LIMIT,
    AudienceResult,
    Kind,
    _write_all,
    identifiers,
    read_list,
)
from anonymize.audience.fields import Field as FieldName
from anonymize.audience.people import (
    leave_out_ledger,
    leave_out_limited,
    leave_out_said_no,
    link_people,
    record_refs,
)
from anonymize.audience.platforms import Platform, platform
from anonymize.spec import Strict, checked_spec, unknown_table
from dsar.catalog import Catalog
from dsar.catalog.models import IdentityKind, LegalBasis
from dsar.catalog.strict import YamlDocument, suggest
from dsar.engine import Engine, scratch_connection
from dsar.engine.base import quote_identifier, sql_string
from dsar.engine.guards import guard_catalog
from dsar.errors import ConfigProblem, UsageError, UseNotAllowedError
from dsar.io import sha256_file
from dsar.records.ledger import Ledger
from dsar.records.sent import SentRecord
from dsar.review.manifest import AcceptedWarning, AudienceEligibility
from dsar.subjects.identity import STRONG, sql_normalize
from dsar.subjects.people import KINDS, PLAIN, node_sql, resolve_people

log = logging.getLogger(__name__)
ADVERTISING = ("advertis", "ad audience", "marketing audience")  # words of an ads purpose
NONE = "none"  # consent: none (with legal_basis), opted_out: none
MATCHING = (
    "the person: every email, phone and account id the export holds for them (+tags and"
    " Gmail dots folded); left out if the ledger holds any"
)
STATE_CONSENT = (
    "name the consent column and the opt-out column (consent: ads_personalization,"
    " opted_out: opted_out_at), or say consent: none with the legal basis in words"
    ' (legal_basis: "...")'
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


class Accounts(Strict):
    """Where closed accounts are recorded, to leave their people out."""

    table: str = Field(min_length=1, description="the accounts table")
    key: str = Field(min_length=1, description="the column both tables share (user_id)")
    status: str = Field(min_length=1, description="the account's status column")
    closed: list[str] = Field(default_factory=lambda: ["closed"], description="closed values")


class AudienceSpec(Strict):
    """An audience built from a catalog table."""

    version: Literal[1] = Field(description="spec format version; currently 1")
    name: str = Field(min_length=1, description="the audience's name")
    table: str = Field(min_length=1, description="the catalog table the people come from")
    email: str | None = Field(default=None, description="the email column hashed")
    phone: str | None = Field(default=None, description="the phone column hashed")
    consent: str | None = Field(
        default=None,
        description="the boolean column holding consent to ads (only true is consent), or"
        " 'none' with legal_basis; required",
    )
    opted_out: str | None = Field(
        default=None,
        description="a column whose any value means the person opted out, or 'none' where"
        " the table records opt-outs only in its consent column; required with a consent"
        " column",
    )
    legal_basis: str | None = Field(
        default=None,
        description="with consent: none, the legal basis in words (recorded in each manifest)",
    )
    accounts: Accounts | None = Field(default=None, description="closed accounts left out")
    fields: dict[FieldName, str] = Field(
        default_factory=dict,
        description="other columns sent where a platform matches on them (Google, Meta):"
        " {first_name: first_name, last_name: surname, postcode: zip, country: country}",
    )

    def consent_column(self) -> str | None:
        """The consent column, if consent is a column."""
        return None if self.consent in (None, NONE) else self.consent

    def opt_out_column(self) -> str | None:
        """The opt-out column, if there is one."""
        return None if self.opted_out in (None, NONE) else self.opted_out


class AudienceList(Strict):
    """A list of emails or phones (CSV, Parquet, JSON Lines) to build an audience from.

    A file the catalog describes is that table, with its rules; any other needs
    `consent_basis`: the legal basis for sending its people to ad platforms, in words.
    """

    path: Path = Field(description="the list's file")
    column: str = Field(min_length=1, description="the column of emails or phone numbers")
    kind: Literal["email", "phone"] = Field(default="email", description="email or phone")
    consent_basis: str | None = Field(
        default=None, description="the legal basis in words (recorded in each manifest)"
    )
    fields: dict[FieldName, str] = Field(
        default_factory=dict, description="other columns sent where a platform matches on them"
    )
    name: str | None = Field(default=None, description="the audience's name (default: file stem)")


def _problems(spec: AudienceSpec, catalog: Catalog, doc: YamlDocument) -> Iterable[ConfigProblem]:
    missing = unknown_table(catalog, spec.table, doc)
    if missing is not None:
        yield missing
        return
    table = catalog.tables[spec.table]
    if (spec.email is None) == (spec.phone is None):
        yield doc.problem(("email",), "name one column: email or phone", "add email: <column>")
    if not table.limited_use and _for_advertising(table.purposes):
        # (data that may not feed ads at all is refused by check_purposes, naming the rule)
        yield from _consent_problems(spec, catalog, doc)
    named: list[tuple[tuple[str, ...], str | None]] = [
        (("email",), spec.email),
        (("phone",), spec.phone),
        (("consent",), spec.consent_column()),
        (("opted_out",), spec.opt_out_column()),
    ]
    named += [(("fields", f), c) for f, c in spec.fields.items()]
    for loc, column in named:
        if column is not None and column not in table.columns:
            yield doc.problem(
                loc,
                f"{spec.table} has no column {column!r}",
                suggest(column, table.columns, "name a column of the table"),
            )
    if spec.accounts is not None:
        accounts = catalog.tables.get(spec.accounts.table)
        if accounts is None:
            yield doc.problem(("accounts", "table"), f"no table {spec.accounts.table!r}", "fix it")
        else:
            for field in ("key", "status"):
                column = getattr(spec.accounts, field)
                if column not in accounts.columns:
                    yield doc.problem(
                        ("accounts", field),
                        f"{spec.accounts.table} has no column {column!r}",
                        suggest(column, accounts.columns, "name a column"),
                    )
            if spec.accounts.key not in table.columns:
                yield doc.problem(
                    ("accounts", "key"),
                    f"{spec.table} has no column {spec.accounts.key!r}",
                    "name a column both tables have",
                )


def _consent_problems(
    spec: AudienceSpec, catalog: Catalog, doc: YamlDocument
) -> Iterable[ConfigProblem]:
    """Consent must be stated: a consent and an opt-out column, or none with the basis."""
    basis = (spec.legal_basis or "").strip()
    if spec.consent is None:
        yield doc.problem(
            ("consent",),
            "the spec does not say who agreed to be in an ad audience"
            + (f" (it names the opt-out column {spec.opted_out!r} only)" if spec.opted_out else ""),
            STATE_CONSENT,
        )
    elif spec.consent == NONE:
        if not basis:
            yield doc.problem(
                ("legal_basis",),
                "consent: none needs the legal basis the audience rests on, in words",
                'add legal_basis: "..." (recorded in each manifest), or name the consent column',
            )
        if catalog.tables[spec.table].legal_basis is LegalBasis.CONSENT:
            yield doc.problem(
                ("consent",),
                f"{spec.table} is processed on consent (the catalog's legal_basis), so"
                " consent: none cannot apply to it",
                "name the column that holds the consent, e.g. consent: ads_personalization",
            )
    else:
        if spec.opted_out is None:
            yield doc.problem(
                ("opted_out",),
                "the spec names the consent column but not the opt-out column",
                "add opted_out: <column> (any value is an opt-out), or opted_out: none where"
                " the table records opt-outs only in the consent column",
            )
        if basis:
            yield doc.problem(
                ("legal_basis",),
                "legal_basis is for consent: none; with a consent column the basis is consent",
                "remove legal_basis, or say consent: none",
            )


def load_audience_spec(path: str | Path, catalog: Catalog) -> AudienceSpec:
    """Read and check an audience spec against the catalog (`checked_spec`, as
    `build_audience` does): every problem at once."""
    return checked_spec(Path(path), AudienceSpec, catalog, _problems, what="audience spec")[0]


def check_purposes(spec: AudienceSpec, catalog: Catalog) -> None:
    """Refuse data that may not feed advertising, naming the rule: the spec's table, and the
    table it reads closed accounts from.

    Raises:
        UseNotAllowedError: a table came from a Google sign-in, or the spec's table's
            purposes do not include advertising.
    """
    if spec.accounts is not None and catalog.tables[spec.accounts.table].limited_use:
        _limited_use(spec.accounts.table, spec.accounts.status)
    check_table_use(catalog, spec.table, str(spec.email or spec.phone))


def check_table_use(catalog: Catalog, name: str, column: str) -> None:
    """Refuse a table's values in an audience where its source or purposes forbid it."""
    table = catalog.tables[name]
    if table.limited_use:
        _limited_use(name, column)
    if not _for_advertising(table.purposes):
        raise UseNotAllowedError(
            name,
            column,
            "advertising",
            f"was collected for {'; '.join(table.purposes)}, not for advertising: purpose"
            " limitation (GDPR Art. 5(1)(b)) forbids this use",
            "add advertising to the table's purposes only if the person was told and agreed",
        )


def _for_advertising(purposes: Iterable[str]) -> bool:
    return any(word in p.lower() for p in purposes for word in ADVERTISING)


def _limited_use(table: str, column: str) -> None:
    raise UseNotAllowedError(
        table,
        column,
        "advertising",
        "came from Google through a Google sign-in: Google's Limited Use rules (API"
        " Services User Data Policy) forbid using it for advertising",
        "build the audience from data the person gave you for advertising",
    )


def listed_table(path: Path, engine: Engine) -> str | None:
    """The catalog table `path` is a file of, or a byte-for-byte copy of one (None: none)."""
    resolved = path.resolve()
    size = resolved.stat().st_size
    digest: str | None = None
    for name in engine.catalog.tables:
        for file in engine.files(name):
            if file.resolve() == resolved:
                return name
    for name in engine.catalog.tables:
        for file in engine.files(name):
            if file.stat().st_size == size:
                digest = digest or sha256_file(resolved)
                if sha256_file(file) == digest:
                    return name
    return None


def _list_as_table(source: AudienceList, engine: Engine) -> AudienceSpec | None:
    """The spec of a list read from a catalog table's file (None: the catalog does not
    describe it); refused where the table may not feed ads or its consent is not stated."""
    if not source.path.is_file():
        return None  # read_list says so, naming the file
    name = listed_table(source.path, engine)
    basis = (source.consent_basis or "").strip()
    if name is None:
        if not basis:
            raise UsageError(
                "--consent-basis",
                f"{source.path.name} is no file of the catalog, so nothing says its people"
                " agreed to be sent to ad platforms",
                'state the legal basis in words with --consent-basis "..." (recorded in each'
                " manifest), or build the audience from a catalog table with --spec",
            )
        return None
    check_table_use(engine.catalog, name, source.column)
    table = engine.catalog.tables[name]
    if not basis or table.legal_basis is LegalBasis.CONSENT:
        raise UsageError(
            "--consent-basis",
            f"{source.path.name} is the catalog's table {name} (processed on"
            f" {table.legal_basis.value}): an audience from it must say who agreed",
            f"build it with --spec from a spec for table {name} that names the consent and"
            " opt-out columns (consent: <column>, opted_out: <column>)"
            + ("" if table.legal_basis is LegalBasis.CONSENT else ', or --consent-basis "..."'),
        )
    return AudienceSpec(
        version=1,
        name=source.name or source.path.stem,
        table=name,
        email=source.column if source.kind == "email" else None,
        phone=source.column if source.kind == "phone" else None,
        consent=NONE,
        legal_basis=basis,
        fields=source.fields,
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
    source, inputs = _checked_source(spec, engine)
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


def _checked_source(
    spec: AudienceSpec | AudienceList | str | Path, engine: Engine
) -> tuple[AudienceSpec | AudienceList, list[Path]]:
    """The gate's first two steps: a list of a catalog table's file becomes that table's
    spec; a spec is checked (consent stated among the problems) and its tables' use allowed.
    Returns the source and the input files each manifest names."""
    catalog = engine.catalog
    inputs = [p for p in (catalog.source,) if p is not None]
    if isinstance(spec, AudienceList):
        inputs.append(spec.path)
        as_table = _list_as_table(spec, engine)
        if as_table is None:
            return spec, inputs
        spec = as_table
    checked, path = checked_spec(spec, AudienceSpec, catalog, _problems, what="audience spec")
    check_purposes(checked, catalog)
    return checked, inputs + ([path] if path is not None else [])


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
