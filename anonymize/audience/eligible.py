"""Who may be in an ad audience: consent, opt-outs, the suppression ledger, closed accounts,
and the purposes the data was collected for.

An audience spec names the catalog table and columns to build from:

```yaml
version: 1
name: ads-lookalike
table: marketing_preferences
email: email                      # the identity column hashed
consent: ads_personalization      # a boolean: only true is consent
opted_out: opted_out_at           # any value here is an opt-out
accounts: {table: accounts, key: user_id, status: status, closed: [closed]}
```

Before a single value is read, the purposes are checked: a table received through a Google
sign-in (`limited_use: true`) may never feed advertising (Google API Services User Data
Policy, Limited Use), and a table whose purposes do not include advertising may not either
(GDPR Art. 5(1)(b), purpose limitation). The run stops with an error naming the rule.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Collection, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from pydantic import Field

from anonymize.audience.build import MEMORY_LIMIT, AudienceResult, Kind, _write_all, identifiers
from anonymize.audience.fields import Field as FieldName
from anonymize.audience.platforms import platform
from anonymize.spec import Strict, checked_spec, unknown_table
from dsar.catalog import Catalog
from dsar.catalog.models import IdentityKind
from dsar.catalog.strict import YamlDocument, suggest
from dsar.engine import Engine, scratch_connection
from dsar.engine.base import quote_identifier, sql_string
from dsar.engine.guards import guard_catalog
from dsar.errors import ConfigProblem, UseNotAllowedError
from dsar.records.ledger import Ledger, Reason
from dsar.records.sent import SentRecord
from dsar.review.manifest import AcceptedWarning

log = logging.getLogger(__name__)
ADVERTISING = ("advertis", "ad audience", "marketing audience")  # words of an ads purpose
LEDGER_REASONS = (
    Reason.ERASED,
    Reason.OBJECTED_DIRECT_MARKETING,
    Reason.OPTED_OUT_SALE_SHARING,
    Reason.RESTRICTED,
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
        default=None, description="a boolean column: only rows where it is true are used"
    )
    opted_out: str | None = Field(
        default=None, description="a column whose any value means the person opted out"
    )
    accounts: Accounts | None = Field(default=None, description="closed accounts left out")
    fields: dict[FieldName, str] = Field(
        default_factory=dict,
        description="other columns sent where a platform matches on them (Google, Meta):"
        " {first_name: first_name, last_name: surname, postcode: zip, country: country}",
    )


def _problems(spec: AudienceSpec, catalog: Catalog, doc: YamlDocument) -> Iterable[ConfigProblem]:
    missing = unknown_table(catalog, spec.table, doc)
    if missing is not None:
        yield missing
        return
    table = catalog.tables[spec.table]
    if (spec.email is None) == (spec.phone is None):
        yield doc.problem(("email",), "name one column: email or phone", "add email: <column>")
    named: list[tuple[tuple[str, ...], str | None]] = [
        ((f,), getattr(spec, f)) for f in ("email", "phone", "consent", "opted_out")
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


def load_audience_spec(path: str | Path, catalog: Catalog) -> AudienceSpec:
    """Read and check an audience spec against the catalog (`checked_spec`, as
    `build_audience` does): every problem at once."""
    return checked_spec(Path(path), AudienceSpec, catalog, _problems, what="audience spec")[0]


def check_purposes(spec: AudienceSpec, catalog: Catalog) -> None:
    """Refuse data that may not feed advertising, naming the rule.

    Raises:
        UseNotAllowedError: the table came from a Google sign-in, or its purposes do not
            include advertising.
    """
    table = catalog.tables[spec.table]
    column = spec.email or spec.phone
    if table.limited_use:
        raise UseNotAllowedError(
            spec.table,
            str(column),
            "advertising",
            "came from Google through a Google sign-in: Google's Limited Use rules (API"
            " Services User Data Policy) forbid using it for advertising",
            "build the audience from data the person gave you for advertising",
        )
    if not any(word in p.lower() for p in table.purposes for word in ADVERTISING):
        raise UseNotAllowedError(
            spec.table,
            str(column),
            "advertising",
            f"was collected for {'; '.join(table.purposes)}, not for advertising: purpose"
            " limitation (GDPR Art. 5(1)(b)) forbids this use",
            "add advertising to the table's purposes only if the person was told and agreed",
        )


def build_audience(
    spec: AudienceSpec | str | Path,
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
    """The audience a spec describes, for each platform: only people who may be in it.

    With `record`, everyone uploaded is recorded per platform (keyed references and the
    uploaded hashes, never emails) and the audit log gets one entry per platform, so that a
    later objection or erasure can be withdrawn (`SentRecord.write_withdrawal`).

    Counts by reason go in each platform's manifest: rows read, no consent, opted out, in the
    ledger, closed account, then empty, invalid and duplicate values.

    `engine` (`dsar.open_engine(catalog, ...)`, DuckDB or Spark; the caller opens and closes
    it) reads the table of its catalog and decides who is eligible; the addresses are then
    normalised and hashed here, the same on both.

    A catalog that can give one person's rows to another (`dsar.engine.guards`) is refused
    (`CollisionProneCatalogError`) unless `accept_catalog_warnings` (True, or the codes
    accepted); each manifest records them.
    """
    catalog = engine.catalog
    spec, spec_path = checked_spec(spec, AudienceSpec, catalog, _problems, what="audience spec")
    check_purposes(spec, catalog)
    chosen = [platform(p) for p in platforms]
    table = catalog.tables[spec.table]
    column = spec.email or spec.phone
    assert column is not None
    kind: Kind = "email" if spec.email else "phone"
    if kind == "email" and table.columns[column].identity not in (IdentityKind.EMAIL, None):
        log.warning("%s.%s is not declared an email column", spec.table, column)
    t = quote_identifier(spec.table)
    reasons: dict[str, str] = {}
    if spec.consent is not None:
        reasons["no_consent"] = f"coalesce({quote_identifier(spec.consent)}, false) IS NOT TRUE"
    if spec.opted_out is not None:
        reasons["opted_out"] = f"{quote_identifier(spec.opted_out)} IS NOT NULL"
    params: list[object] = []
    if ledger is not None:
        keep, params = ledger.sql_excluding(table, LEDGER_REASONS, catalog=catalog)
        reasons["in_ledger"] = f"NOT ({keep})"
    if spec.accounts is not None:
        a = spec.accounts
        closed = ", ".join(sql_string(c) for c in a.closed)
        reasons["closed_account"] = (
            f"{quote_identifier(a.key)} IN (SELECT {quote_identifier(a.key)} FROM"
            f" {quote_identifier(a.table)} WHERE CAST({quote_identifier(a.status)} AS VARCHAR)"
            f" IN ({closed}))"
        )
    # each row's first reason to leave, in this order; NULL: eligible
    why = " ".join(f"WHEN {cond} THEN '{name}'" for name, cond in reasons.items())
    reason_sql = f"CASE {why} END" if why else "NULL"
    accepted = guard_catalog(catalog, engine, accept_catalog_warnings)
    extra = "".join(
        f", CAST({quote_identifier(c)} AS VARCHAR) AS {quote_identifier('f_' + f)}"
        for f, c in spec.fields.items()
    )
    rows = engine.query(
        f"SELECT CAST({quote_identifier(column)} AS VARCHAR) AS v{extra}, {reason_sql} AS why"
        f" FROM {t}",
        params,
    )
    con = scratch_connection(memory_limit=MEMORY_LIMIT)
    try:
        con.register("rows_arrow", rows)
        left = dict(
            con.execute(
                "SELECT why, count(*) FROM rows_arrow WHERE why IS NOT NULL GROUP BY ALL"
            ).fetchall()
        )
        con.execute(
            "CREATE TEMP TABLE src AS SELECT * EXCLUDE (why) FROM rows_arrow WHERE why IS NULL"
        )
        eligibility = {name: int(left.get(name, 0)) for name in reasons}
        inputs = [p for p in (catalog.source, spec_path) if p is not None]
        result = _write_all(
            con,
            chosen,
            Path(out),
            kind,
            region,
            inputs,
            now,
            before={"rows_read": rows.num_rows, **eligibility},
            fields=list(spec.fields),
            engine=engine.name,
            accepted=tuple(map(AcceptedWarning.of, accepted)),
        )
        if record is not None:
            run = f"{(now or datetime.now(UTC)).strftime('%Y%m%dT%H%M%SZ')}-{secrets.token_hex(3)}"
            identity = IdentityKind.EMAIL if kind == "email" else IdentityKind.PHONE
            for p in chosen:
                normalised, base = identifiers(p, kind)
                pairs = con.execute(
                    f"SELECT DISTINCT v, {p.hash_sql(normalised)} FROM {base}"
                    f" WHERE {normalised} IS NOT NULL"
                ).fetchall()
                record.record(p.name, spec.name, run, pairs, identity)
        return result
    finally:
        con.close()
