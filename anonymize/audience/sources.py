"""What an audience is built from, and what it may use: the first two steps of the gate.

- `AudienceSpec`: a catalog table, its email or phone column, and its consent stated: the
  consent column and the opt-out column (`opted_out: none` where the table keeps opt-outs
  only in the consent column), or `consent: none` with the legal basis in words
  (`legal_basis`), never for a table the catalog says is processed on consent. A spec that
  states nothing is refused with the fix (`_consent_problems`).
- `AudienceList`: a list of emails or phones. A file the catalog describes (or a
  byte-for-byte copy of one: `listed_table`) is that table, with its rules; any other needs
  `consent_basis`, the legal basis in words (`consent.basis_problem`: no placeholder). Its
  values are then judged one by one (`eligible`): a value a restricted table holds is left
  out, and a list most of whose values come from one is refused.
- A consent column is a boolean, or a consent date of marketing preferences
  (`consent.consent_column_problem`): `consent: plan` is refused.
- `check_shared_files`: two catalog entries over one file (or byte-for-byte copies) with
  different rules are a catalog error: a second entry cannot relabel Google's file.
- `check_purposes` / `check_table_use`: a table received through a Google sign-in
  (`limited_use: true`) may never feed advertising (Google API Services User Data Policy,
  Limited Use), as the spec's table or as the table it reads closed accounts from, nor may a
  table whose purposes do not include advertising (GDPR Art. 5(1)(b), purpose limitation):
  refused before a value is read, naming the rule.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Literal

from pydantic import Field

from anonymize.audience.consent import basis_problem, consent_column_problem
from anonymize.audience.fields import Field as FieldName
from anonymize.spec import Strict, checked_spec, unknown_table
from dsar.catalog import Catalog
from dsar.catalog.models import LegalBasis, Role
from dsar.catalog.shared import (
    for_advertising as _for_advertising,
    shared_file_problems,
)
from dsar.catalog.strict import YamlDocument, suggest
from dsar.engine import Engine
from dsar.errors import CatalogError, ConfigProblem, UsageError, UseNotAllowedError
from dsar.io import sha256_file

NONE = "none"  # consent: none (with legal_basis), opted_out: none
STATE_CONSENT = (
    "name the consent column and the opt-out column (consent: ads_personalization,"
    " opted_out: opted_out_at), or say consent: none with the legal basis in words"
    ' (legal_basis: "...")'
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
        elif (wrong := basis_problem(basis)) is not None:
            yield doc.problem(
                ("legal_basis",),
                wrong,
                'write the basis and why it applies, e.g. legal_basis: "legitimate interests:'
                ' existing customers, told at sign-up (privacy policy s.4)"',
            )
        if catalog.tables[spec.table].legal_basis is LegalBasis.CONSENT:
            yield doc.problem(
                ("consent",),
                f"{spec.table} is processed on consent (the catalog's legal_basis), so"
                " consent: none cannot apply to it",
                "name the column that holds the consent, e.g. consent: ads_personalization",
            )
    else:
        table = catalog.tables[spec.table]
        wrong = consent_column_problem(table, spec.consent, spec.opt_out_column())
        if wrong is not None:
            yield doc.problem(
                ("consent",),
                wrong,
                "name the boolean column that holds consent to ads (consent:"
                " ads_personalization), or declare the column's type in the catalog",
            )
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


def _limited_use(table: str, column: str) -> None:
    raise limited_use_error(table, column)


def limited_use_error(table: str, column: str, also: str = "") -> UseNotAllowedError:
    """The refusal of a Limited Use table's values in an audience, naming the rule."""
    return UseNotAllowedError(
        table,
        column,
        "advertising",
        f"came from Google through a Google sign-in{also}: Google's Limited Use rules (API"
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
    if basis and (wrong := basis_problem(basis)) is not None:
        raise UsageError(
            "--consent-basis",
            wrong,
            'write the basis and why it applies, e.g. --consent-basis "legitimate interests:'
            ' existing customers, told at sign-up (privacy policy s.4)"',
        )
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


def checked_source(
    spec: AudienceSpec | AudienceList | str | Path, engine: Engine
) -> tuple[AudienceSpec | AudienceList, list[Path]]:
    """The gate's first two steps: a list of a catalog table's file becomes that table's
    spec; a spec is checked (consent stated among the problems) and its tables' use allowed.
    Returns the source and the input files each manifest names."""
    catalog = engine.catalog
    check_shared_files(engine)
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


def check_shared_files(engine: Engine) -> None:
    """Refuse a catalog in which one file (or byte-for-byte copies of one) is read by two
    entries under different rules (Limited Use, role, an advertising purpose, legal basis):
    a second entry with `limited_use: false` would relabel Google's data as ordinary. The
    check is `dsar.catalog.shared`'s, which `dsar catalog check` reports too.

    Raises:
        CatalogError: naming both entries, for each such file.
    """
    catalog = engine.catalog
    problems = shared_file_problems(catalog, {n: engine.files(n) for n in catalog.tables})
    if problems:
        raise CatalogError(str(catalog.source or "catalog"), problems)


def restricted_tables(catalog: Catalog) -> tuple[list[str], list[str], list[str]]:
    """The tables whose values may not feed an audience, whatever list they were copied
    into: those under Google's Limited Use rules; those that may not feed ads otherwise
    (held for customers as a processor, or purposes without advertising); and of those, the
    processor tables (read apart: they join nobody)."""
    limited, restricted, processor = [], [], []
    for name, table in catalog.tables.items():
        if not table.personal:
            continue
        if table.limited_use:
            limited.append(name)
        elif table.role is Role.PROCESSOR or not _for_advertising(table.purposes):
            restricted.append(name)
        if table.role is Role.PROCESSOR:
            processor.append(name)
    return limited, restricted, processor
