"""The data map as pydantic models: tables, columns, identity roles, purposes, erasure rules."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    PrivateAttr,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from dsar.catalog.paths import resolve_files
from dsar.errors import UsageError

if TYPE_CHECKING:
    import pandas as pd


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=False)


class FileFormat(StrEnum):
    """How an export file is encoded."""

    CSV = "csv"
    PARQUET = "parquet"
    JSON = "json"
    JSONL = "jsonl"


class IdentityKind(StrEnum):
    """What kind of identifier of a person a column holds."""

    EMAIL = "email"
    USER_ID = "user_id"
    CUSTOMER_ID = "customer_id"
    PHONE = "phone"
    DEVICE_ID = "device_id"
    COOKIE_ID = "cookie_id"
    OAUTH_SUBJECT = "oauth_subject"
    IP_ADDRESS = "ip_address"
    USERNAME = "username"  # an account's handle, where people are known by it (a forum)
    PERSON_ID = "person_id"  # the key of a third people table (leads beside users, customers)


ACCOUNT_KINDS = (
    IdentityKind.USER_ID,
    IdentityKind.CUSTOMER_ID,
    IdentityKind.PERSON_ID,
    IdentityKind.USERNAME,
)
"""The kinds that name an account: two values of one kind in one person's search are two
accounts joined by a shared value (a bookkeeper's address), which erasure and access stop on."""


def joined_accounts(identifiers: Mapping[IdentityKind, Collection[str]]) -> dict[str, int]:
    """Per account kind found more than once among a person's identifiers, how many."""
    return {
        kind.value: len(values)
        for kind in ACCOUNT_KINDS
        if len(values := identifiers.get(kind, ())) > 1
    }


class PersonalKind(StrEnum):
    """Personal data a column holds that is not a lookup key (used to recognise known people)."""

    NAME = "name"
    EMAIL = "email"
    PHONE = "phone"
    USERNAME = "username"
    ADDRESS = "address"
    IP_ADDRESS = "ip_address"
    DATE_OF_BIRTH = "date_of_birth"
    LOCATION = "location"
    # masked to their last four characters in every bundle, even the person's own
    FINANCIAL_ACCOUNT = "financial_account"  # a full card number, IBAN or account number
    GOVERNMENT_ID = "government_id"  # a passport, national ID or social security number


class DataCategory(StrEnum):
    """The category of personal data, as an access statement names it."""

    ACCOUNT = "account"
    CONTACT = "contact"
    BILLING = "billing"
    CREDENTIALS = "credentials"
    USAGE = "usage"
    LOGS = "logs"
    LOCATION = "location"
    COMMUNICATIONS = "communications"
    THIRD_PARTY_PROFILE = "third_party_profile"
    MARKETING_PREFERENCES = "marketing_preferences"
    REFERENCE = "reference"  # not personal data: a table declared personal: false


class Origin(StrEnum):
    """How the data was obtained; portability covers provided (and observed activity) data."""

    PROVIDED = "provided"
    OBSERVED = "observed"
    INFERRED = "inferred"


class LegalBasis(StrEnum):
    """GDPR Art. 6(1) legal bases."""

    CONSENT = "consent"
    CONTRACT = "contract"
    LEGAL_OBLIGATION = "legal_obligation"
    VITAL_INTERESTS = "vital_interests"
    PUBLIC_TASK = "public_task"
    LEGITIMATE_INTERESTS = "legitimate_interests"


class Role(StrEnum):
    """Whether the company decides about the data (controller) or holds it for a customer."""

    CONTROLLER = "controller"
    PROCESSOR = "processor"


class RecipientKind(StrEnum):
    """Who receives data: a processor acting for us, or an independent third party."""

    PROCESSOR = "processor"
    THIRD_PARTY = "third_party"
    AD_PLATFORM = "ad_platform"


class ErasureAction(StrEnum):
    """What erasure does to a table's rows of the person."""

    DELETE = "delete"
    NULLIFY = "nullify"
    PSEUDONYMIZE = "pseudonymize"
    RETAIN = "retain"


class ColumnType(StrEnum):
    """Logical column types; declared types are enforced when reading CSV and JSON."""

    STRING = "string"
    INTEGER = "integer"
    FLOAT = "float"
    BOOLEAN = "boolean"
    DATE = "date"
    TIMESTAMP = "timestamp"
    DECIMAL = "decimal"


_DURATION = re.compile(r"^\s*(\d+)\s*(day|days|week|weeks|month|months|year|years)\s*$")
_UNIT_DAYS = {"day": 1, "week": 7, "month": 30, "year": 365}


class Duration(_Strict):
    """A period such as '30 days' or '7 years'."""

    amount: int = Field(ge=0, description="How many units.")
    unit: Literal["day", "week", "month", "year"] = Field(description="The unit, singular.")

    @classmethod
    def parse(cls, text: str) -> Duration:
        """Parse '30 days', '1 week', '7 years'."""
        match = _DURATION.match(text)
        if match is None:
            raise ValueError(
                f"period {text!r} is not '<number> <unit>'; write e.g. '30 days', '18 months'"
                " or '7 years' (units: days, weeks, months, years)"
            )
        return cls(amount=int(match[1]), unit=match[2].removesuffix("s"))

    @property
    def approx_days(self) -> int:
        """The period in days, months as 30 and years as 365 (for ordering, not for deadlines)."""
        return self.amount * _UNIT_DAYS[self.unit]

    def __str__(self) -> str:
        return f"{self.amount} {self.unit}{'' if self.amount == 1 else 's'}"


def _parse_period(value: object) -> object:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        raise ValueError(
            f"period {value!r} has no unit; write e.g. '{value} days', '{value} months'"
            f" or '{value} years'"
        )
    if isinstance(value, str):
        return Duration.parse(value)
    return value


Period = Annotated[
    Duration,
    BeforeValidator(_parse_period),
    PlainSerializer(str),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": _DURATION.pattern,
            "examples": ["30 days", "18 months", "7 years"],
        }
    ),
]


class Controller(_Strict):
    """Who is responsible for the data and whom the person can contact."""

    name: str = Field(description="The company's legal name.")
    contact: str = Field(description="Where data-subject requests go (email or web form).")
    dpo: str | None = Field(default=None, description="Data protection officer's contact.")
    supervisory_authority: str = Field(
        description="The lead supervisory authority a person can complain to."
    )
    automated_decisions: str = Field(
        default="No decisions with legal or similarly significant effects are made solely by"
        " automated means.",
        description="Statement on automated decision-making and profiling (Art. 15(1)(h)).",
    )

    @field_validator("contact", "dpo", "supervisory_authority")
    @classmethod
    def _no_script_address(cls, value: str | None) -> str | None:
        """A contact shown in every letter is an email, a web address or words: never a
        `javascript:`, `data:`, `vbscript:` or `file:` address (red team 26 r5, F6)."""
        if value is not None and _SCRIPT_SCHEME.search(value):
            raise ValueError(
                "a contact cannot be a javascript:, data:, vbscript: or file: address; give"
                " an email address or an https:// web address"
            )
        return value


_SCRIPT_SCHEME = re.compile(
    r"(?i)(?<![a-z0-9+.-])(?:(?:javascript|vbscript)\s*:|data:\s*(?:[a-z]+/|,|;)|file:/)"
)


class Recipient(_Strict):
    """A processor or third party that receives data."""

    name: str = Field(description="The recipient's name, as shown to the person.")
    kind: RecipientKind = Field(description="processor, third_party or ad_platform.")
    purpose: str = Field(description="Why they receive the data.")
    country: str | None = Field(default=None, description="Where they process it (ISO code).")
    transfer_safeguard: str | None = Field(
        default=None,
        description="Safeguard for transfers outside the EU/EEA, e.g. 'Standard Contractual"
        " Clauses' or 'EU-US Data Privacy Framework'.",
    )


class Retention(_Strict):
    """How long rows are kept, counted from a date column; or the criteria when no period."""

    period: Period | None = Field(default=None, description="How long, e.g. '30 days'.")
    after: str | None = Field(
        default=None, description="The date or timestamp column the period counts from."
    )
    criteria: str | None = Field(
        default=None, description="The criteria, in words, when there is no fixed period."
    )

    @model_validator(mode="after")
    def _period_or_criteria(self) -> Retention:
        if self.period is None and self.criteria is None:
            raise ValueError(
                "retention needs a period or criteria; write e.g."
                " retention: {period: 30 days, after: ts}"
            )
        if self.period is not None and self.after is None:
            raise ValueError(
                f"retention period {self.period} needs 'after', the date column it counts from;"
                " write e.g. retention: {period: 30 days, after: ts}"
            )
        return self


class Ownership(_Strict):
    """A table whose rows carry no person identifier: each belongs to its parent row's owner.

    An invoice line belongs to whoever owns its invoice; a comment on a ticket, to whoever
    owns the ticket. To any depth: the parent may itself be owned through its own parent.
    """

    column: str = Field(description="The column of this table that holds the parent's key.")
    parent: str = Field(
        description="The parent's key as `table.column`: the parent table's primary key."
    )

    @field_validator("parent")
    @classmethod
    def _table_dot_column(cls, value: str) -> str:
        if value.count(".") != 1 or not all(value.split(".")):
            raise ValueError(
                f"{value!r} is not table.column; write e.g. owned_through:"
                " {column: invoice_id, parent: invoices.invoice_id}"
            )
        return value

    @property
    def parent_table(self) -> str:
        """The parent table's name."""
        return self.parent.split(".")[0]

    @property
    def parent_column(self) -> str:
        """The parent table's key column."""
        return self.parent.split(".")[1]


class Erasure(_Strict):
    """What erasure does to the person's rows in this table."""

    action: ErasureAction = Field(description="delete, nullify, pseudonymize or retain.")
    columns: tuple[str, ...] = Field(
        default=(), description="For nullify and pseudonymize: the columns to change."
    )
    legal_basis: LegalBasis | None = Field(
        default=None, description="For retain: why the rows must be kept."
    )
    reason: str | None = Field(default=None, description="For retain: the obligation in words.")
    retain_for: Period | None = Field(
        default=None, description="For retain: how long, counted from the retention column."
    )
    even_if_parent_retained: bool = Field(
        default=False,
        description="For a table owned through a parent: apply the action even to rows whose"
        " parent rows erasure retains (an invoice kept for tax). By default such rows are"
        " kept with their parent, for as long as it is kept; `dsar catalog check` warns"
        " about this setting.",
    )

    @model_validator(mode="after")
    def _consistent(self) -> Erasure:
        if self.action in (ErasureAction.NULLIFY, ErasureAction.PSEUDONYMIZE) and not self.columns:
            raise ValueError(
                f"erasure action {self.action.value!r} needs the columns to change; write e.g."
                f" erasure: {{action: {self.action.value}, columns: [email, full_name]}}"
            )
        if self.action is ErasureAction.RETAIN and (
            self.legal_basis is None or self.reason is None
        ):
            raise ValueError(
                "erasure action 'retain' needs legal_basis and reason; write e.g. erasure:"
                " {action: retain, legal_basis: legal_obligation, reason: 'tax law',"
                " retain_for: 10 years}"
            )
        return self


class Column(_Strict):
    """One column: what it is, whose it is, how sensitive."""

    description: str | None = Field(default=None, description="What the column holds.")
    type: ColumnType | None = Field(
        default=None, description="Logical type; enforced when reading CSV and JSON."
    )
    identity: IdentityKind | None = Field(
        default=None,
        description="This column identifies the person the row belongs to, as this kind of"
        " identifier. Identity columns are how one request reaches every row of a person.",
    )
    personal: PersonalKind | None = Field(
        default=None,
        description="Personal data that is not a lookup key (a name, an address): used to"
        " recognise known people in free text.",
    )
    references: str | None = Field(
        default=None,
        description="Foreign key as 'table.column'. An identity column that references"
        " another table's identity column lets a request follow the link.",
    )
    category: DataCategory | None = Field(
        default=None, description="Overrides the table's data category."
    )
    origin: Origin | None = Field(default=None, description="Overrides the table's origin.")
    secret: bool = Field(
        default=False,
        description="A credential (token, API key, password hash): never exported in clear.",
    )
    free_text: bool = Field(
        default=False,
        description="Free text that may mention other people: redacted before export.",
    )

    @field_validator("references")
    @classmethod
    def _table_dot_column(cls, value: str | None) -> str | None:
        if value is not None and value.count(".") != 1:
            raise ValueError(
                f"references {value!r} must be 'table.column'; write e.g."
                " references: accounts.user_id"
            )
        return value


class CsvOptions(_Strict):
    """Options for CSV exports."""

    delimiter: str = Field(default=",", description="Field separator.")
    header: bool = Field(default=True, description="Whether the first line names the columns.")
    quote: str = Field(default='"', description="Quote character.")
    null: str = Field(default="", description="The text that stands for a missing value.")
    date_format: str | None = Field(
        default=None,
        description="Layout of dates where the reader cannot tell it, e.g. %d/%m/%Y"
        " (strftime codes); by default it is detected.",
    )
    timestamp_format: str | None = Field(
        default=None,
        description="Layout of timestamps where the reader cannot tell it, e.g."
        " %d/%m/%Y %H:%M (strftime codes); by default it is detected.",
    )
    encoding: Literal["utf-8", "utf-16", "latin-1"] = Field(
        default="utf-8",
        description="The files' text encoding: utf-8 (with or without a byte-order mark),"
        " utf-16 (little-endian) or latin-1. A rewrite keeps it.",
    )
    max_line_bytes: int | None = Field(
        default=None,
        ge=1,
        description="The longest line the reader accepts, in bytes (default 2000000); raise"
        " it for files with very large values, e.g. 20000000 for a 10 MB cell.",
    )


# What a reference table (personal: false) is given for the keys only personal data needs:
# never shown to anyone (no request reaches it), only so the model stays one shape.
_REFERENCE_FILL = {
    "category": "reference",
    "origin": "provided",
    "purposes": ["reference data, no personal data"],
    "legal_basis": "legitimate_interests",
    "source": "the company",
    "retention": {"criteria": "not personal data"},
    "erasure": {"action": "delete"},
}


class Table(_Strict):
    """One exported table: where it is, what it holds, why, and what erasure does."""

    path: str = Field(
        description="File path or glob, relative to the catalog file, e.g. logs/*.csv."
    )
    format: FileFormat = Field(description="csv, parquet, json (an array) or jsonl.")
    csv: CsvOptions | None = Field(default=None, description="CSV options (csv format only).")
    description: str = Field(description="What the table is, in words a person understands.")
    role: Role = Field(
        default=Role.CONTROLLER,
        description="controller, or processor for data held on behalf of customers.",
    )
    held_for: str | None = Field(
        default=None,
        description="For processor tables: the column naming the customer the data is held for.",
    )
    category: DataCategory = Field(description="The data category of the table's columns.")
    origin: Origin = Field(description="provided, observed or inferred.")
    purposes: tuple[str, ...] = Field(min_length=1, description="Why the data is processed.")
    legal_basis: LegalBasis = Field(description="The GDPR Art. 6 legal basis.")
    recipients: tuple[str, ...] = Field(
        default=(), description="Ids of recipients (defined under 'recipients') who receive it."
    )
    source: str = Field(description="Where the data comes from, e.g. 'the person', 'Google'.")
    limited_use: bool = Field(
        default=False,
        description="Obtained through Google APIs (e.g. Google sign-in): bound by Google's"
        " Limited Use rules, never used or transferred for advertising.",
    )
    retention: Retention = Field(description="How long rows are kept.")
    erasure: Erasure = Field(description="What erasure does to the person's rows.")
    primary_key: tuple[str, ...] = Field(
        default=(), description="Columns that identify a row (for corrections and diffs)."
    )
    columns: dict[str, Column] = Field(
        min_length=1, description="Every column of the export, by name."
    )
    personal: bool = Field(
        default=True,
        description="false for reference data with no personal data (a product catalogue, a"
        " price list): no purposes, legal basis, retention or erasure to give; never searched.",
    )
    owned_through: Ownership | None = Field(
        default=None,
        description="For a table whose rows carry no person identifier (order lines,"
        " attachments): the column holding the parent row's key; a row belongs to whoever"
        " owns its parent row.",
    )

    @model_validator(mode="before")
    @classmethod
    def _reference_table(cls, data: object) -> object:
        if not isinstance(data, dict) or data.get("personal") is not False:
            return data
        given = sorted(k for k in _REFERENCE_FILL if k in data)
        if given:
            raise ValueError(
                f"a reference table (personal: false) has no {', '.join(given)}; remove"
                f" {'it' if len(given) == 1 else 'them'}, or remove personal: false if it"
                " holds personal data"
            )
        return {**_REFERENCE_FILL, **data}

    @model_validator(mode="after")
    def _no_people_in_reference_data(self) -> Table:
        if self.personal:
            return self
        people = [
            c
            for c, col in self.columns.items()
            if col.identity or col.personal or col.free_text or col.secret
        ]
        if people or self.owned_through is not None:
            raise ValueError(
                f"a reference table (personal: false) holds no personal data, but"
                f" {', '.join(people) or 'owned_through'} says it does; remove personal: false"
            )
        return self

    @model_validator(mode="after")
    def _kept_with_parent_needs_a_parent(self) -> Table:
        if self.erasure.even_if_parent_retained and self.owned_through is None:
            raise ValueError(
                "erasure.even_if_parent_retained is for a table owned through a parent; remove"
                " it, or say whose rows these are with owned_through: {column: ..., parent:"
                " table.key}"
            )
        return self

    @model_validator(mode="after")
    def _format_options(self) -> Table:
        if self.csv is not None and self.format is not FileFormat.CSV:
            raise ValueError(
                f"csv options given for a {self.format.value} table; remove the 'csv:' block"
            )
        return self

    def identity_columns(self) -> dict[str, IdentityKind]:
        """The table's identity columns and their kinds."""
        return {n: c.identity for n, c in self.columns.items() if c.identity is not None}

    def column_category(self, name: str) -> DataCategory:
        """A column's data category, falling back to the table's."""
        return self.columns[name].category or self.category


class Catalog(_Strict):
    """The data map: every exported table and what the law needs to know about it."""

    version: Literal[1] = Field(description="Catalog format version; currently 1.")
    controller: Controller = Field(description="Who is responsible for the data.")
    recipients: dict[str, Recipient] = Field(
        default_factory=dict, description="Processors and third parties, by id."
    )
    tables: dict[str, Table] = Field(min_length=1, description="The exported tables, by name.")
    text_allow: list[str] = Field(
        default_factory=list,
        description="The company's own names in free text (products, offices, teams) that"
        " redaction never touches; the controller's name is always among them.",
    )
    export_root: str | None = Field(
        default=None,
        description="The folder every table file must lie in, relative to the catalog file,"
        " e.g. ../exports (default: the catalog file's folder). A table path that leads"
        " outside it, after following symbolic links, is refused by every command.",
    )
    allow_symlinks: bool = Field(
        default=False,
        description="Accept table files and folders that are symbolic links; each must still"
        " resolve inside the export root. By default a link is refused.",
    )
    phone_region: str | None = Field(
        default=None,
        description="The company's region for phone numbers written without a country code"
        " (an ISO 3166 code, e.g. DE): '030 123456' is then read as +49 30 123456 and meets"
        " its international writing. Without it a national number has no country: it meets"
        " only the same national writing, never an international one. The command line's"
        " --phone-region overrides it.",
    )
    subject_requests: bool = Field(
        default=True,
        description="false for exports that are only ever de-identified or aggregated, where"
        " no column identifies a person: no identity column is then needed, and every"
        " subject request (access, erasure, correction) refuses the catalog, since no one"
        " could be found in it and 'we hold nothing about you' would be untrue.",
    )

    _root: Path | None = PrivateAttr(default=None)
    _source: Path | None = PrivateAttr(default=None)

    @field_validator("phone_region")
    @classmethod
    def _a_phone_region(cls, value: str | None) -> str | None:
        if value is None:
            return None
        from phonenumbers.phonemetadata import PhoneMetadata

        code = value.strip().upper()
        if not code.isalpha() or PhoneMetadata.metadata_for_region(code) is None:
            raise ValueError(
                "phone_region names no region phonenumbers knows; write the company's"
                " country as an ISO 3166 code, e.g. phone_region: DE"
            )
        return code

    @field_validator("export_root")
    @classmethod
    def _a_folder_name(cls, value: str | None) -> str | None:
        if value is not None and "\x00" in value:
            raise ValueError(
                "export_root holds a NUL character, which no folder name can; write e.g."
                " export_root: ../exports"
            )
        return value

    @property
    def source(self) -> Path | None:
        """The catalog file this was loaded from, if any."""
        return self._source

    @property
    def root(self) -> Path:
        """The folder table paths are relative to (the catalog file's folder).

        Raises:
            UsageError: the catalog was built in code, not loaded from a file, and was
                given no folder (`located_in`).
        """
        if self._root is None:
            raise UsageError(
                "catalog",
                "this catalog was not loaded from a file, so its table paths are relative to"
                " nothing",
                "load it with load_catalog(path), or give it a folder with"
                " catalog.located_in(folder)",
            )
        return self._root

    def located_in(self, folder: str | Path) -> Catalog:
        """Make table paths relative to `folder` (for a catalog built in code); returns self."""
        self._root = Path(folder).resolve()
        return self

    @property
    def boundary(self) -> Path:
        """The export root: the folder every table file must resolve inside (`export_root`
        taken from the catalog's folder, or that folder itself)."""
        if self.export_root is None:
            return self.root
        return (self.root / self.export_root).resolve()

    def files(self, table: str) -> list[Path]:
        """The files of a table, sorted, with its path or glob resolved against the root.

        Raises:
            ExportPathError: a file lies outside the export root, or is a symbolic link
                (or in a linked folder) and the catalog does not allow links.
        """
        return resolve_files(
            self.root,
            self.tables[table].path,
            table,
            boundary=self.boundary,
            allow_symlinks=self.allow_symlinks,
        )

    def to_frame(self) -> pd.DataFrame:
        """The record of processing as a dataframe: per table, why, on what basis, to whom,
        for how long, what erasure does, and whether Google's Limited Use rules apply."""
        import pandas as pd

        rows = [
            {
                "table": name,
                "category": t.category.value,
                "purposes": "; ".join(t.purposes),
                "legal basis": t.legal_basis.value,
                "recipients": ", ".join(self.recipients[r].name for r in t.recipients) or "-",
                "retention": str(t.retention.period or t.retention.criteria),
                "erasure": t.erasure.action.value,
                "role": t.role.value,
                "Google Limited Use": "yes" if t.limited_use else "",
            }
            if t.personal
            else {"table": name, "category": "reference data (no personal data)"}
            for name, t in self.tables.items()
        ]
        return pd.DataFrame(rows).set_index("table").fillna("-")
