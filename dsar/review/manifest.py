"""The typed manifest every artifact carries: what made it, from what, and each file in it.

One pydantic model, `ArtifactManifest`, is shared by access bundles, extracts, aggregates
audience files and certificates: its kind and format version,
the tool, when it was made, its inputs with their hashes, its outputs with SHA-256, bytes and
rows, and the parameters used. A kind adds its own typed parts by subclassing (`BundleManifest`).
Writers build the model and `write_manifest` it; reviewers parse `manifest.json` through the
same model, so a tampered or truncated manifest is a list of located problems, not a KeyError.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime
from enum import StrEnum
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Annotated, Literal, Protocol, TypeVar

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    StrictBool,
    StrictInt,
    ValidationError,
    model_validator,
)

from dsar.catalog.models import IdentityKind
from dsar.errors import ManifestError
from dsar.io import atomic_write_text, fsync_file, sha256_file
from dsar.keys import Keys, Purpose
from dsar.review.findings import Finding

if TYPE_CHECKING:
    from dsar.engine.guards import CatalogWarning

BUNDLE_FORMAT_VERSION = 2


class ArtifactKind(StrEnum):
    """What an artifact is; the manifest's `kind`."""

    ACCESS_BUNDLE = "access_bundle"
    ERASURE_CERTIFICATE = "erasure_certificate"
    CORRECTION_CERTIFICATE = "correction_certificate"
    RETENTION_CERTIFICATE = "retention_certificate"
    EXTRACT = "extract"
    AGGREGATE = "aggregate"
    AUDIENCE = "audience"

    def __repr__(self) -> str:
        # pydantic quotes the repr of a Literal enum member in its error text; the file's
        # spelling ('access_bundle') is what a reviewer can act on, not <ArtifactKind...>.
        return repr(self.value)


def _utc_seconds(value: datetime) -> datetime:
    # Manifests record instants to the second, in UTC, written with a Z.
    return value.astimezone(UTC).replace(microsecond=0)


Sha256 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$", description="hex SHA-256, lower case")]
UtcTime = Annotated[AwareDatetime, AfterValidator(_utc_seconds)]
Count = Annotated[StrictInt, Field(ge=0, description="a count, 0 or more")]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ToolInfo(_Model):
    """The program that made the artifact."""

    name: str = Field(min_length=1, description="the tool's name, e.g. 'privacy-workbench'")
    version: str = Field(min_length=1, description="the tool's version (dsar.__version__)")
    engine: str | None = Field(
        default=None,
        description="where the tables were read: 'duckdb' or 'spark' (the same data either way)",
    )


class InputRef(_Model):
    """One input the artifact was made from (the catalog; later a policy, a source file)."""

    role: str = Field(min_length=1, description="what the input is for: 'catalog', 'policy'")
    name: str | None = Field(
        description="the input's file name, without folders (an artifact must not reveal"
        " the local layout), or None when it was not read from a file"
    )
    sha256: Sha256 | None = Field(
        description="SHA-256 of the input file as read, or None when it was not a file"
    )


def _safe_relative(value: str) -> str:
    path = PurePosixPath(value)
    if not value or "\\" in value or path.is_absolute() or ".." in path.parts:
        raise ValueError("must be a relative POSIX path inside the artifact, without '..'")
    return value


class OutputFile(_Model):
    """One file of the artifact, with what a reviewer needs to check it without the tool."""

    path: Annotated[str, AfterValidator(_safe_relative)] = Field(
        description="path relative to the artifact's root folder, POSIX style, no '..'"
    )
    sha256: Sha256 = Field(description="SHA-256 of the file as written")
    bytes: Count = Field(description="the file's size in bytes")
    rows: Count | None = Field(description="rows the file holds, None for documents")
    table: str | None = Field(description="the catalog table the rows come from, if any")
    categories: tuple[str, ...] = Field(description="data categories of the file's columns")

    @classmethod
    def of(
        cls,
        path: Path,
        root: Path,
        *,
        rows: int | None = None,
        table: str | None = None,
        categories: Sequence[str] = (),
    ) -> OutputFile:
        """Describe a written file: flush it to disk, then hash and measure it.

        Args:
            path: the file, inside `root`.
            root: the artifact's root folder; the entry's path is relative to it.
            rows: rows the file holds (None for a document).
            table: the catalog table the rows come from.
            categories: data categories of its columns.

        Examples:
            >>> entry = OutputFile.of(out / "data/accounts.parquet", out, rows=1)  # doctest: +SKIP
        """
        fsync_file(path)  # hash what is on disk, not what a crash could still lose
        return cls(
            path=path.relative_to(root).as_posix(),
            sha256=sha256_file(path),
            bytes=path.stat().st_size,
            rows=rows,
            table=table,
            categories=tuple(categories),
        )


class AcceptedWarning(_Model):
    """A catalog warning that was accepted when the artifact was made (the catalog was
    collision-prone: `dsar.engine.guards`), recorded so that a reviewer sees it."""

    code: str = Field(min_length=1, description="the warning's code, e.g. 'identity-coverage'")
    warning: str = Field(min_length=1, description="the warning on one line (names, no values)")

    @classmethod
    def of(cls, warning: CatalogWarning) -> AcceptedWarning:
        """The record of one accepted warning."""
        return cls(code=str(warning.code), warning=warning.line)


class ArtifactManifest(_Model):
    """What every artifact's manifest.json holds. A kind subclasses it and narrows `kind`.

    Subclasses narrow `kind` to a `Literal`, so a union of them with
    `Field(discriminator="kind")` reads any artifact's manifest.
    """

    kind: ArtifactKind = Field(description="what the artifact is")
    format_version: StrictInt = Field(ge=1, description="version of this kind's JSON layout")
    tool: ToolInfo = Field(description="the program that made the artifact")
    created_at: UtcTime = Field(description="when it was made, UTC, to the second")
    inputs: tuple[InputRef, ...] = Field(description="what it was made from, with hashes")
    outputs: tuple[OutputFile, ...] = Field(
        description="every file of the artifact except manifest.json itself"
    )
    parameters: dict[str, JsonValue] = Field(description="settings that shaped the output")
    accepted_catalog_warnings: tuple[AcceptedWarning, ...] = Field(
        default=(),
        description="collision-prone catalog warnings accepted to make it"
        " (--accept-catalog-warnings); empty when the catalog had none",
    )

    @model_validator(mode="after")
    def _each_output_once(self) -> ArtifactManifest:
        paths = [o.path for o in self.outputs]
        if len(set(paths)) != len(paths):
            raise ValueError("an output path is listed more than once")
        return self


# BundleManifest subclasses rather than nests the generic part: every kind then has the same
# top-level keys (kind, outputs, ...), so generic code (checksums, a discriminated union on
# `kind`) works on any ArtifactManifest without knowing where a kind keeps the common part.


class RequestInfo(_Model):
    """The request a bundle answers."""

    label: str = Field(min_length=1, description="the request's reference, e.g. 'AR-20261129-4f'")
    type: Literal["access"] = Field(description="the right exercised")
    identifiers_given: tuple[str, ...] = Field(description="identifiers as the person gave them")
    created_at: UtcTime = Field(description="when the bundle answering it was made, UTC")


class SubjectInfo(_Model):
    """The person: every identifier used, and how each was found."""

    identifiers: dict[IdentityKind, tuple[str, ...]] = Field(
        description="normalised identifiers by kind, given or found in linked rows"
    )
    provenance: tuple[str, ...] = Field(description="one line per identifier: how it was found")


class MatchRulesInfo(_Model):
    """The identifier normalisation the bundle was collected with (a reviewer re-applies it)."""

    gmail_dots: StrictBool = Field(description="dots ignored in Gmail local parts")
    plus_addressing: StrictBool = Field(description="'+tag' ignored in email local parts")
    phone_digits_compared: StrictInt | None = Field(
        default=None,
        ge=7,
        description="trailing digits of a phone number compared (bundles made before phones"
        " were compared whole); none: the whole number, its country calling code and national"
        " number",
    )
    phone_region: str | None = Field(
        default=None,
        description="the region a phone written nationally was read in (ISO 3166 code); none:"
        " a national number has no country",
    )


class OwnedInfo(_Model):
    """How a table without identity columns belongs to the person: through a parent row."""

    column: str = Field(description="the column holding the parent row's key")
    parent_table: str = Field(description="the parent table, also in the bundle")
    parent_column: str = Field(description="the parent table's key column")


class TableInfo(_Model):
    """One table of the bundle, as the catalog describes it."""

    rows: Count = Field(description="rows of the person's in data/<table>.parquet")
    description: str = Field(description="the catalog's description of the table")
    identity_columns: dict[str, IdentityKind] = Field(
        description="columns that identify a person, with the kind of identifier"
    )
    secret_columns: tuple[str, ...] = Field(description="columns whose values must be masked")
    free_text_columns: tuple[str, ...] = Field(description="columns of free text (redacted)")
    owned_through: OwnedInfo | None = Field(
        default=None, description="for a table without identity columns: its parent link"
    )


class StatementBlock(_Model):
    """One block of the access statement as it was rendered (`dsar.access.render.Block`),
    its data cells left out: in a table of the person's rows (`table` set) each cell from
    the data is null, filled again by `dsar verify` from data/<table>.parquet (its first
    rows the statement shows, row by row) before the statement is rendered and compared."""

    kind: Literal["h1", "h2", "h3", "p", "ul", "table"] = Field(description="the HTML element")
    text: str = Field(default="", description="a heading's or paragraph's text")
    items: tuple[str, ...] = Field(default=(), description="a list's items")
    header: tuple[str, ...] = Field(default=(), description="a table's header")
    rows: tuple[tuple[str | None, ...], ...] = Field(
        default=(), description="a table's rows; null: a cell of the person's data"
    )
    summary: str = Field(default="", description="the line the block folds under")
    links: tuple[str, ...] = Field(default=(), description="the controller's addresses, linked")
    data: StrictBool = Field(default=False, description="escaped as data in Markdown")
    table: str | None = Field(
        default=None, description="the bundle table whose rows fill the null cells"
    )


class StatementInfo(_Model):
    """The access statement (report.md, report.html) without the person's data: what
    `dsar verify` renders again with the data of the bundle's Parquet files and compares,
    byte for byte, with the two files."""

    title: str = Field(description="the HTML page's title")
    blocks: tuple[StatementBlock, ...] = Field(description="the statement's blocks, in order")


class BundleManifest(ArtifactManifest):
    """manifest.json of an access bundle (format version 2).

    Version 1 was an untyped dict with `"format": "privacy-workbench/access-bundle"` and
    `files`; version 2 has `kind` and `outputs`, and the catalog's hash under `inputs`.
    """

    kind: Literal[ArtifactKind.ACCESS_BUNDLE] = Field(description="always 'access_bundle'")
    format_version: Literal[2] = Field(description="version of the bundle's JSON layout")
    request: RequestInfo = Field(description="the request the bundle answers")
    subject: SubjectInfo = Field(description="the person's identifiers and their provenance")
    match_rules: MatchRulesInfo = Field(description="how identifiers were compared")
    controller: str = Field(description="the controller named in the catalog")
    tables: dict[str, TableInfo] = Field(description="each table with the person's rows")
    secrets_masked: dict[str, Count] = Field(description="values masked per 'table.column'")
    redacted: dict[str, dict[str, Count]] = Field(
        description="per 'table.column', spans redacted per entity type"
    )
    numbers_masked: dict[str, dict[str, Count]] = Field(
        default_factory=dict,
        description="per 'table.column', card, bank and government ID numbers masked to"
        " their last four characters, per entity type",
    )
    held_as_processor: dict[str, Count] = Field(
        description="rows held for customers as a processor, per table (not in the bundle)"
    )
    set_aside_for_review: dict[str, Count] = Field(
        description="rows that may be the person's but link to no one alone, per table"
    )
    nlp_notice: str | None = Field(description="why free text was handled without NER, if so")
    accepted_joined_accounts: StrictBool = Field(
        default=False,
        description="the search joined two or more accounts of one kind (user, customer or"
        " person ids, usernames) and the analyst accepted them as one person's (--joined-ok);"
        " without it such a bundle fails verification",
    )
    statement: StatementInfo | None = Field(
        default=None,
        description="the statement without the person's data, to render again from the"
        " Parquet files and compare (absent: written before it was recorded; verify then"
        " reports that the statement cannot be checked)",
    )
    mac: str | None = Field(
        default=None,
        description="a keyed MAC (`manifest_mac`) of every other field as written (absent:"
        " made without a key): `dsar verify` with the key finds an edited manifest (rows"
        " removed or added with their checksums and counts written again, a statement"
        " edited)",
    )


Manifest = TypeVar("Manifest", bound=ArtifactManifest)


def manifest_problems(error: ValidationError) -> list[tuple[str, str]]:
    """Each problem of a rejected manifest as (location, message), quoting no values.

    The location is the dotted path into the JSON (`tables.accounts.rows`, `outputs.3.sha256`);
    an invalid dict key shows as `[key]`, since the key is itself a value.
    """
    problems = []
    for err in error.errors(include_url=False, include_input=False):
        loc = list(err["loc"])
        parts = [
            "[key]" if i + 1 < len(loc) and loc[i + 1] == "[key]" else str(p)
            for i, p in enumerate(loc)
            if p != "[key]"
        ]
        problems.append((".".join(parts), str(err["msg"])))
    return problems


class TableNoiseInfo(_Model):
    """The noise of one published table."""

    epsilon: float = Field(gt=0, description="the share of the run's epsilon this table spent")
    count_scale: float = Field(gt=0, description="scale of the counts' discrete Laplace noise")
    sum_scales: dict[str, float] = Field(description="scale of each sum's or mean's noise")
    release_threshold: float | None = Field(
        description="noisy count a cell needed to be released (None: cells were declared)"
    )


class NoiseInfo(_Model):
    """Differential privacy of an aggregate run."""

    epsilon: float = Field(gt=0, description="the privacy loss of the whole run")
    delta: float | None = Field(
        description="None when every cell was declared (pure epsilon); split evenly over the"
        " tables whose cells come from the data"
    )
    mechanism: str = Field(
        description="the noise: its sampler (built in, keyed) and the OpenDP release that"
        " checked its calibration"
    )
    max_groups_per_person: Count = Field(description="cells of a table one person counts in")
    tables: dict[str, TableNoiseInfo] = Field(description="per published table")


class ReleaseInfo(_Model):
    """Where an aggregate run is recorded in the release log, and what the log says of its
    data set (`dsar.records.releases`)."""

    log: str = Field(min_length=1, description="the release log's file name")
    entry: Count = Field(description="this run's entry in the log")
    dataset: str = Field(min_length=1, description="the data set: the base table")
    data_version: dict[str, str] = Field(
        description="per source table, a keyed fingerprint of its files (no checksum anyone"
        " could test a guess of the data against); empty under differential privacy, where"
        " even whether the data changed between two runs is not published"
    )
    compared_with: tuple[Count, ...] = Field(
        description="earlier entries of the same data whose tables took part in this run's"
        " suppression"
    )
    suppressed_for_earlier: Count = Field(
        description="cells hidden so that, with those releases, no suppressed cell can be"
        " recomputed"
    )
    epsilon_budget: float | None = Field(
        default=None, description="differential privacy: the data set's budget across runs"
    )
    epsilon_spent: float | None = Field(
        default=None, description="differential privacy: spent on the data set, this run included"
    )
    epsilon_charged: float | None = Field(
        default=None, description="what this run added (0: every query a repeat)"
    )


class RiskInfo(_Model):
    """Re-identification risk of an extract over its quasi-identifiers, as measured: a class's
    size is its distinct people (its rows, when each row is a person)."""

    rows: Count = Field(description="rows measured")
    classes: Count = Field(description="equivalence classes of the quasi-identifiers")
    k: Count = Field(description="the smallest class, in people (k-anonymity achieved)")
    quasi_identifiers: tuple[str, ...] = Field(
        description="the columns the classes are over: every released column but those"
        " classified sensitive, insensitive or the person's pseudonym (none: the whole"
        " extract is one class, and k is its people)"
    )
    class_sizes: dict[str, Count] = Field(description="people per class-size bucket")
    people: Count = Field(default=0, description="distinct people measured")
    unique: float = Field(default=0.0, ge=0, le=1, description="share of people alone in a class")
    l_distinct: dict[str, Count] = Field(description="per sensitive column: distinct l")
    l_entropy: dict[str, float] = Field(description="per sensitive column: entropy l")
    t_closeness: dict[str, float] = Field(description="per sensitive column: largest EMD")
    prosecutor_highest: float = Field(ge=0, le=1, description="1 / the smallest class")
    prosecutor_average: float = Field(
        ge=0, le=1, description="average over people of 1 / their smallest class"
    )
    journalist_highest: float = Field(
        ge=0, le=1, description="bounded by the prosecutor figure (no population table)"
    )
    marketer: float = Field(
        ge=0, le=1, description="expected share of people re-identified (the same average)"
    )
    linked_by: tuple[str, ...] = Field(
        default=(),
        description="the released pseudonyms that link a person's rows: k, class sizes,"
        " people, unique and the risks above are then over each person's multiset of rows"
        " (the sorted list of their rows' quasi-identifier values), as an attacker who groups"
        " the rows by one matches them; classes are the first pseudonym's",
    )
    k_rows: Count | None = Field(
        default=None, description="the smallest class of single rows, where k is linked"
    )
    text_unique: dict[str, float] = Field(
        default_factory=dict,
        description="per released free-text column: the share of its non-empty texts no other"
        " row has (lower case, white space normalised): each links its row to the source text"
        " for whoever has seen it, a linkage risk k does not cover",
    )


class UniquenessInfo(_Model):
    """How many people the released columns single out, before and after, and which column
    does it most: the risk in words a person can read."""

    people: Count = Field(description="people in the rows read (after the ledger)")
    source: float = Field(
        ge=0, le=1, description="share of people unique on the source values of the columns"
    )
    transformed: float = Field(
        ge=0, le=1, description="share unique after the operators, before suppression"
    )
    released: float = Field(ge=0, le=1, description="share unique in the written extract")
    below_k: float = Field(
        ge=0,
        le=1,
        description="share in a class smaller than k after the operators (unique, for k 1):"
        " the people suppression has to remove",
    )
    without: dict[str, float] = Field(
        description="per quasi-identifier: below_k with that column left out (the lowest"
        " names the column that drives the risk)"
    )
    distinct: dict[str, tuple[Count, Count]] = Field(
        description="per quasi-identifier: distinct values in the source and in the extract"
        " (the information the operators took)"
    )


class ExtractManifest(ArtifactManifest):
    """The manifest of a de-identified extract."""

    kind: Literal[ArtifactKind.EXTRACT] = Field(description="always 'extract'")
    format_version: Literal[1] = Field(description="version of the extract's JSON layout")
    name: str = Field(min_length=1, description="the policy's name")
    table: str = Field(min_length=1, description="the catalog table extracted")
    rows_in: Count = Field(description="rows read from the source")
    rows_out: Count = Field(description="rows written")
    suppressed: dict[str, Count] = Field(
        description="rows left out, by reason: 'ledger' (objection, restriction, erasure),"
        " 'k' (a class smaller than k), 'l' (a class with fewer than l sensitive values)"
    )
    targets: dict[str, float | None] = Field(description="k, l, t and max_suppression asked")
    risk: RiskInfo = Field(description="the risk of the written extract")
    columns: dict[str, str] = Field(description="each source column and its operator")
    classification: dict[str, str] = Field(
        default_factory=dict,
        description="each released column's role: quasi-identifier (declared or by default),"
        " sensitive, 'insensitive: <reason>', or pseudonym of the person",
    )
    person: str | None = Field(
        default=None, description="the policy's column naming whose rows they are"
    )
    people_in: Count | None = Field(default=None, description="people in the rows read")
    people_out: Count | None = Field(default=None, description="people in the rows written")
    suppressed_people: dict[str, Count] = Field(
        default_factory=dict,
        description="people left out with all their rows, by reason: 'k', 'l'",
    )
    uniqueness: UniquenessInfo | None = Field(
        default=None, description="people singled out, before and after, and by which column"
    )
    generalisation: dict[str, str] = Field(
        default_factory=dict,
        description="the level the search chose for each column given levels ('original',"
        " 'to: month', 'hierarchy: 41 values into 6 groups')",
    )
    information_loss: dict[str, float] = Field(
        default_factory=dict,
        description="what the chosen generalisation cost: precision_loss (ARX's Prec, 0-1: per"
        " column the level over the highest, averaged; the loss the search minimises),"
        " discernibility, non_uniform_entropy (ARX's, bits), average_class_size (C_avg),"
        " lattice_nodes, nodes_evaluated",
    )
    mac: str | None = Field(
        default=None,
        description="a keyed MAC (HMAC-SHA256 under the workbench key) of every other field,"
        " classification included (absent: made without a key): `dsar verify` with the key"
        " finds an edited manifest",
    )


class AggregateManifest(ArtifactManifest):
    """The manifest of a run of aggregate tables."""

    kind: Literal[ArtifactKind.AGGREGATE] = Field(description="always 'aggregate'")
    format_version: Literal[1] = Field(description="version of the aggregate's JSON layout")
    name: str = Field(min_length=1, description="the spec's name")
    table: str = Field(min_length=1, description="the catalog table aggregated")
    rows_in: Count | None = Field(
        description="rows of the source (None under differential privacy: an exact count is"
        " not noise-protected)"
    )
    min_count: Count = Field(description="the smallest count published in a cell")
    counts_people: StrictBool = Field(description="counts are distinct people, not rows")
    cells: dict[str, Count] = Field(description="cells (margins included) per published table")
    group_by: dict[str, tuple[str, ...]] = Field(description="per table, the columns of a cell")
    measures: dict[str, dict[str, str]] = Field(
        description="per table, each published measure and its operation (count, sum, mean)"
    )
    suppressed: dict[str, Count] = Field(
        description="cells suppressed: 'primary' (under min_count), 'complementary' (so that"
        " no suppressed cell can be recomputed from the run's published cells),"
        " 'for_earlier_releases' (nor from them with the releases before)"
    )
    differential_privacy: NoiseInfo | None = Field(
        default=None, description="with noise instead of suppression: what noise, how much"
    )
    release: ReleaseInfo | None = Field(
        default=None, description="the run's entry in the release log (None: written before it)"
    )
    mac: str | None = Field(
        default=None,
        description="a keyed MAC (HMAC-SHA256 under the workbench key) of every other field,"
        " classification included (absent: made without a key): `dsar verify` with the key"
        " finds an edited manifest",
    )


class AudienceEligibility(_Model):
    """Who could be in an audience, and on what basis: the promise its manifest makes."""

    source: Literal["table", "list"] = Field(
        description="a catalog table (from a spec, or a list read from the table's file), or"
        " a list the catalog does not describe"
    )
    table: str | None = Field(description="the catalog table the people came from")
    consent: str | None = Field(description="the consent column (only true is consent)")
    opted_out: str | None = Field(description="the opt-out column (any value is an opt-out)")
    legal_basis: str | None = Field(
        description="the legal basis, in the words given, where consent is not a column"
    )
    ledger: StrictBool = Field(description="whether the suppression ledger was applied")
    matching: str = Field(
        min_length=1, description="how a row was matched to a person for the ledger"
    )


class AudienceRecording(_Model):
    """Where an audience's upload is recorded: the write of the sent record that holds it."""

    record: str = Field(min_length=1, description="the sent record's file name (no folders)")
    write: StrictInt = Field(ge=1, description="the number of the record's write that holds it")
    audience: str = Field(min_length=1, description="the audience's name in the record")
    run: str = Field(min_length=1, description="the run's id in the record")


class AudienceManifest(ArtifactManifest):
    """The manifest of one platform's audience file(s)."""

    kind: Literal[ArtifactKind.AUDIENCE] = Field(description="always 'audience'")
    format_version: Literal[1] = Field(description="version of the audience's JSON layout")
    platform: str = Field(min_length=1, description="the ad platform the files are for")
    normalizer_version: str = Field(min_length=1, description="the normalisation rules used")
    encoding: Literal["hex", "base64"] = Field(description="how each SHA-256 is written")
    counts: dict[str, Count] = Field(
        description="rows_read and the rows left out, each under its first reason (no_consent,"
        " opted_out, closed_account, limited_use, in_ledger, said_no_elsewhere); then rows_in"
        " (the eligible values), empty, invalid, duplicates (after normalisation), written"
    )
    below_minimum: StrictBool = Field(
        description="fewer people than the platform's minimum audience size"
    )
    eligibility: AudienceEligibility | None = Field(
        default=None,
        description="the source, the consent stated and the ledger applied (absent: a list"
        " hashed with no eligibility check, or written before it was recorded)",
    )
    recorded: StrictBool | None = Field(
        default=None,
        description="whether who was sent is in a sent record (false: nothing lets `anonymize"
        " withdraw` find these people later; absent: written before it was stated)",
    )
    sent: AudienceRecording | None = Field(
        default=None, description="the sent record's write that holds this upload"
    )
    mac: str | None = Field(
        default=None,
        description="a keyed MAC of every other field (absent: built without a key): an"
        " edited manifest is found by `dsar verify` with the key",
    )


def _plain_name(value: str) -> str:
    if not value or value in (".", "..") or "/" in value or "\\" in value:
        raise ValueError("must be a file's name, without folders")
    return value


class FileChangeInfo(_Model):
    """One export file a change replaced: its rows and checksums before and after."""

    table: str = Field(min_length=1, description="the catalog table the file belongs to")
    file: Annotated[str, AfterValidator(_plain_name)] = Field(
        description="the file's name (no folders)"
    )
    rows_before: Count = Field(description="rows before the change")
    rows_after: Count = Field(description="rows after it")
    sha256_before: Sha256 = Field(description="SHA-256 of the original (kept until confirm)")
    sha256_after: Sha256 = Field(description="SHA-256 of the file put in place")


class TableAccountInfo(_Model):
    """One table a change rewrote, accounted: rows before = rows after + rows removed."""

    rows_before: Count = Field(description="rows of the table's files before the change")
    rows_after: Count = Field(description="rows of the files put in place")
    rows_removed: Count = Field(description="rows the plan removed (deleted, or past retention)")
    rows_changed: Count = Field(
        description="rows the plan kept but changed (emptied, pseudonymized, corrected, unlinked)"
    )


class PlanInfo(_Model):
    """The plan a change executed: its dry run's checksum and the rows it changes per table."""

    sha256: Sha256 = Field(
        description="SHA-256 of the plan's dry run as `plan` prints it (counts and names only)"
    )
    changes: dict[str, Count] = Field(description="rows the plan changes or removes, per table")


JobPart = JsonValue | None


class CertificateManifest(ArtifactManifest):
    """An erasure, correction or retention certificate. The JSON file is its own manifest;
    its one output is the Markdown twin. The job's own part (what was erased, retained,
    corrected or swept) is in the fields that job fills; the others are absent."""

    kind: Literal[
        ArtifactKind.ERASURE_CERTIFICATE,
        ArtifactKind.CORRECTION_CERTIFICATE,
        ArtifactKind.RETENTION_CERTIFICATE,
    ] = Field(description="which job's certificate")
    format_version: Literal[1, 2] = Field(
        description="version of the certificate's JSON layout: 2 adds the plan, the per-table"
        " accounting and the MAC (1 is still read, and checked for what it holds)"
    )
    scheme: str = Field(min_length=1, description="how the keyed reference was made")
    job: Literal["erasure", "correction", "retention"] = Field(description="the job applied")
    request: str = Field(min_length=1, description="the request or sweep it carried out")
    subject: str | None = Field(description="the person's keyed reference, never an identifier")
    applied_at: UtcTime = Field(description="when the files were put in place, UTC")
    as_of: date = Field(description="the day retention and the plan were judged on")
    files_replaced: tuple[FileChangeInfo, ...] = Field(description="every export file replaced")
    recipients_to_notify: tuple[str, ...] = Field(description="whom to tell (GDPR Art. 19)")
    erased: JobPart = Field(default=None, description="erasure: the tables erased")
    retained: JobPart = Field(default=None, description="erasure: the tables kept by law")
    kept_with_parent: JobPart = Field(
        default=None, description="erasure: rows kept with a retained parent"
    )
    held_for_customers: JobPart = Field(
        default=None, description="erasure: rows held for customers, forwarded"
    )
    set_aside_for_review: JobPart = Field(
        default=None, description="erasure: rows on a shared device, left for review"
    )
    mentioned_in_others_records: JobPart = Field(
        default=None, description="erasure: other people's rows naming the person"
    )
    corrected: JobPart = Field(default=None, description="correction: the cells corrected")
    tables: JobPart = Field(default=None, description="retention: each table swept")
    plan: PlanInfo | None = Field(
        default=None, description="the plan it executed (absent: format 1, written before)"
    )
    accounting: dict[str, TableAccountInfo] | None = Field(
        default=None,
        description="per table rewritten, rows before, after, removed and changed (absent:"
        " format 1)",
    )
    mac: str | None = Field(
        default=None,
        description="a keyed MAC (`manifest_mac`) of every other field as written (absent:"
        " written without a key, or format 1): `dsar verify` with the key finds an edited"
        " certificate",
    )

    @model_validator(mode="after")
    def _version_parts(self) -> CertificateManifest:
        if self.format_version >= 2 and (self.plan is None or self.accounting is None):
            raise ValueError("a format 2 certificate names its plan and its accounting")
        return self


CERTIFICATE_KINDS = {
    "erasure": ArtifactKind.ERASURE_CERTIFICATE,
    "correction": ArtifactKind.CORRECTION_CERTIFICATE,
    "retention": ArtifactKind.RETENTION_CERTIFICATE,
}


MAC_FIELD = "mac"


def manifest_mac(keys: Keys, data: Mapping[str, object]) -> str:
    """The keyed MAC of a manifest's JSON (every field but `mac`): canonical JSON (sorted
    keys, no spaces) under the records' MAC key (`Purpose.RECORD_MAC`, prefixed `manifest|`
    so that it is never a row's or a journal's MAC)."""
    body = {k: v for k, v in data.items() if k != MAC_FIELD}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return keys.keyed_hash(Purpose.RECORD_MAC, f"manifest|{canonical}")


def sign_manifest(manifest: Manifest, keys: Keys | None) -> Manifest:
    """The manifest with its `mac` set (unchanged without a key): what `write_manifest`
    writes is what the MAC covers, so a classification moved by hand is found."""
    if keys is None:
        return manifest
    if MAC_FIELD not in type(manifest).model_fields:
        raise TypeError(f"a {type(manifest).__name__} has no {MAC_FIELD} field")
    mac = manifest_mac(keys, manifest.model_dump(mode="json"))
    return manifest.model_copy(update={MAC_FIELD: mac})


def manifest_mac_matches(keys: Keys, data: Mapping[str, object]) -> bool:
    """Whether a manifest read as JSON carries the MAC of its content under `keys`."""
    mac = data.get(MAC_FIELD)
    return isinstance(mac, str) and hmac.compare_digest(mac, manifest_mac(keys, data))


MAC_FAILS = (
    "its MAC fails under the key given: edited after it was written (or written under another key)"
)


def mac_problem(
    keys: Keys, mac: str | None, data: Callable[[], object], unsigned: str, fails: str = MAC_FAILS
) -> str | None:
    """With the key, why a manifest's MAC does not vouch for it: `unsigned` when it carries
    none, `fails` when it does not verify over `data()` (the manifest as JSON, read only
    then); None when it verifies."""
    if mac is None:
        return unsigned
    body = data()
    return None if isinstance(body, Mapping) and manifest_mac_matches(keys, body) else fails


class MacChecked(Protocol):
    """Where `check_mac` reports (`dsar.review.bundle.Verification`)."""

    findings: list[Finding]
    notices: list[str]
    unauthenticated: bool


def check_mac(
    keys: Keys | None,
    mac: str | None,
    data: Callable[[], object],
    result: MacChecked,
    *,
    on_trust: str,
    unsigned: str,
    name: str = "manifest.json",
    where: str = "manifest.json",
) -> bool:
    """Whether a manifest is authenticated. Without the key it is not: a notice says that
    `name` is not authenticated and what is `on_trust`. With the key its MAC must verify,
    else a finding at `where` (`unsigned` says why one without a MAC could be so)."""
    if keys is None:
        result.unauthenticated = True
        state = "carries a MAC, but no key was given" if mac else "carries no MAC"
        result.notices.append(
            f"{name} is not authenticated ({state}): {on_trust}; give the key (--key-file or"
            " $WORKBENCH_KEY) to check it"
        )
        return False
    unsigned = f"no MAC although a key was given: {unsigned}"
    problem = mac_problem(keys, mac, data, unsigned)
    if problem is not None:
        result.findings.append(Finding("manifest", where, problem))
    return problem is None


def write_manifest(manifest: ArtifactManifest, path: Path) -> None:
    """Write a manifest atomically as pretty JSON with a trailing newline.

    Examples:
        >>> write_manifest(manifest, out / "manifest.json")  # doctest: +SKIP
    """
    data = manifest.model_dump(mode="json")
    atomic_write_text(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def read_manifest(path: Path, model: type[Manifest]) -> Manifest:
    """Read and validate a manifest.json as `model`.

    Raises:
        ManifestError: invalid JSON, or a missing, mistyped or unknown key; with every
            problem's location.

    Examples:
        >>> bundle = read_manifest(folder / "manifest.json", BundleManifest)  # doctest: +SKIP
    """
    try:
        return model.model_validate_json(path.read_bytes())
    except ValidationError as exc:
        raise ManifestError(path, manifest_problems(exc)) from None
