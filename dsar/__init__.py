"""Privacy Workbench, data-subject side: the data map, the engine, and subject rights.

Map of the package (the flow of a request, left to right):

- `dsar.catalog`: the data map (catalog.yml): models and the strict YAML loader.
- `dsar.engine`: SQL over the export files (DuckDB embedded); compare the catalog with them.
- `dsar.subjects`: who the person is (identifiers, match rules) and which rows are theirs.
- `dsar.text`: the one free-text engine (detectors, names, operators) and bundle redaction.
- `dsar.access`: access and portability bundles with the Art. 15 statement.
- `dsar.rights`: erasure, correction and the retention sweep: plan, then apply.
- `dsar.records`: the request register, legal deadlines, the audit log, the ledger.
- `dsar.review`: independent checks of an artifact before it leaves.
- `dsar.csvsafe`: the one rule for spreadsheet formulas in every CSV that leaves.
- `dsar.demo`: a realistic demo export with its catalog.
- `dsar.lock`: one change at a time per export (exclusive for changes, shared for readers).
- `dsar.faults`: named kill points in every write, for the kill tests (inert otherwise).
- `dsar.errors`: `WorkbenchError` and its typed subclasses.
- `dsar.cli`: the `dsar` command line over the same API.

Every name in `__all__` can be imported from `dsar` directly; notebooks and scripts use only
these. They load on first use, so `import dsar` (and `dsar --help`) stays light.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from dsar._version import __version__

if TYPE_CHECKING:
    from dsar.access import AccessBundle, answer_access_requests, new_label, read_batch_requests
    from dsar.catalog import Catalog, IdentityKind, load_catalog
    from dsar.csvsafe import defuse_formulas, is_formula
    from dsar.demo import generate as generate_demo
    from dsar.demo import generate_shop as generate_shop_demo
    from dsar.engine import (
        CatalogWarning,
        CollisionProneCatalogError,
        Engine,
        check_against_files,
        check_catalog,
        guard_catalog,
        inventory,
        inventory_frame,
        open_engine,
    )
    from dsar.errors import (
        AmbiguousIdentifierError,
        CatalogError,
        ChangeInterruptedError,
        ConfigError,
        ConfigProblem,
        DeadlineError,
        DiskFullError,
        EngineError,
        ExportBusyError,
        ExportDataError,
        ExportPathError,
        ExportReadError,
        IdentifierError,
        InputFileError,
        InternalError,
        KeySchemeError,
        ManifestError,
        MissingDependencyError,
        MissingFileError,
        MissingKeyError,
        NoMatchError,
        OutputExistsError,
        OverMatchError,
        PrivacyTargetError,
        RecordTamperedError,
        RequestNotFoundError,
        RequestStateError,
        UnreadableArtifactError,
        UnsafeNameError,
        UnusableFileError,
        UsageError,
        UseNotAllowedError,
        WorkbenchError,
    )
    from dsar.keys import Keys, Purpose, load_key, load_keys
    from dsar.lock import export_lock
    from dsar.records import (
        AuditEntry,
        AuditLog,
        DenialReason,
        Jurisdiction,
        Ledger,
        Reason,
        Register,
        RequestType,
        State,
        Status,
        verify_audit_log,
        verify_register,
    )
    from dsar.review import (
        ArtifactKind,
        ArtifactManifest,
        BundleManifest,
        read_manifest,
        verify_bundle,
        verify_derived,
    )
    from dsar.rights import (
        ApplyResult,
        CorrectionPlan,
        ErasurePlan,
        FileChange,
        Job,
        Plan,
        Recovery,
        RetentionPlan,
        TableAction,
        apply_plan,
        confirm_erasure,
        plan_correction,
        plan_erasure,
        plan_retention,
        recover,
        replay_erasures,
    )
    from dsar.subjects import (
        IdentityIndex,
        MatchRules,
        SubjectKey,
        SubjectRequest,
        make_key,
        parse_key,
    )
    from dsar.text import EntityRule, NlpSettings, Operator, TextEngine, TextPolicy

# public name -> the subpackage that defines it
_EXPORTS: dict[str, str] = {
    **dict.fromkeys(
        ["AccessBundle", "answer_access_requests", "new_label", "read_batch_requests"],
        "dsar.access",
    ),
    **dict.fromkeys(["Catalog", "IdentityKind", "load_catalog"], "dsar.catalog"),
    **dict.fromkeys(["defuse_formulas", "is_formula"], "dsar.csvsafe"),
    **dict.fromkeys(["Engine", "check_against_files", "inventory", "open_engine"], "dsar.engine"),
    **dict.fromkeys(
        ["CatalogWarning", "CollisionProneCatalogError", "guard_catalog"], "dsar.engine"
    ),
    **dict.fromkeys(
        [
            "AmbiguousIdentifierError",
            "CatalogError",
            "ChangeInterruptedError",
            "ConfigError",
            "ConfigProblem",
            "DeadlineError",
            "DiskFullError",
            "EngineError",
            "ExportBusyError",
            "ExportDataError",
            "ExportPathError",
            "ExportReadError",
            "IdentifierError",
            "InputFileError",
            "InternalError",
            "KeySchemeError",
            "ManifestError",
            "MissingDependencyError",
            "MissingFileError",
            "MissingKeyError",
            "NoMatchError",
            "OutputExistsError",
            "OverMatchError",
            "PrivacyTargetError",
            "RecordTamperedError",
            "RequestNotFoundError",
            "RequestStateError",
            "UnreadableArtifactError",
            "UnsafeNameError",
            "UnusableFileError",
            "UsageError",
            "UseNotAllowedError",
            "WorkbenchError",
        ],
        "dsar.errors",
    ),
    "export_lock": "dsar.lock",
    **dict.fromkeys(
        [
            "AuditEntry",
            "AuditLog",
            "DenialReason",
            "Jurisdiction",
            "Ledger",
            "Reason",
            "Register",
            "RequestType",
            "State",
            "Status",
            "verify_audit_log",
            "verify_register",
        ],
        "dsar.records",
    ),
    **dict.fromkeys(
        [
            "ArtifactKind",
            "ArtifactManifest",
            "BundleManifest",
            "read_manifest",
            "verify_bundle",
            "verify_derived",
        ],
        "dsar.review",
    ),
    **dict.fromkeys(
        [
            "ApplyResult",
            "CorrectionPlan",
            "ErasurePlan",
            "FileChange",
            "Job",
            "Plan",
            "RetentionPlan",
            "TableAction",
            "apply_plan",
            "confirm_erasure",
            "plan_correction",
            "plan_erasure",
            "plan_retention",
            "recover",
            "Recovery",
            "replay_erasures",
        ],
        "dsar.rights",
    ),
    **dict.fromkeys(
        ["IdentityIndex", "MatchRules", "SubjectKey", "SubjectRequest", "make_key", "parse_key"],
        "dsar.subjects",
    ),
    **dict.fromkeys(
        ["EntityRule", "NlpSettings", "Operator", "TextEngine", "TextPolicy"], "dsar.text"
    ),
    **dict.fromkeys(["Keys", "Purpose", "load_key", "load_keys"], "dsar.keys"),
    "generate_demo": "dsar.demo:generate",
    "generate_shop_demo": "dsar.demo:generate_shop",
    "inventory_frame": "dsar.engine",
    "check_catalog": "dsar.engine",
}

__all__ = [
    "AccessBundle",
    "AmbiguousIdentifierError",
    "ApplyResult",
    "ArtifactKind",
    "ArtifactManifest",
    "AuditEntry",
    "AuditLog",
    "BundleManifest",
    "Catalog",
    "CatalogError",
    "CatalogWarning",
    "ChangeInterruptedError",
    "CollisionProneCatalogError",
    "ConfigError",
    "ConfigProblem",
    "CorrectionPlan",
    "DeadlineError",
    "DenialReason",
    "DiskFullError",
    "Engine",
    "EngineError",
    "EntityRule",
    "ErasurePlan",
    "ExportBusyError",
    "ExportDataError",
    "ExportPathError",
    "ExportReadError",
    "FileChange",
    "IdentifierError",
    "IdentityIndex",
    "IdentityKind",
    "InputFileError",
    "InternalError",
    "Job",
    "Jurisdiction",
    "KeySchemeError",
    "Keys",
    "Ledger",
    "ManifestError",
    "MatchRules",
    "MissingDependencyError",
    "MissingFileError",
    "MissingKeyError",
    "NlpSettings",
    "NoMatchError",
    "Operator",
    "OutputExistsError",
    "OverMatchError",
    "Plan",
    "PrivacyTargetError",
    "Purpose",
    "Reason",
    "RecordTamperedError",
    "Recovery",
    "Register",
    "RequestNotFoundError",
    "RequestStateError",
    "RequestType",
    "RetentionPlan",
    "State",
    "Status",
    "SubjectKey",
    "SubjectRequest",
    "TableAction",
    "TextEngine",
    "TextPolicy",
    "UnreadableArtifactError",
    "UnsafeNameError",
    "UnusableFileError",
    "UsageError",
    "UseNotAllowedError",
    "WorkbenchError",
    "__version__",
    "answer_access_requests",
    "apply_plan",
    "check_against_files",
    "check_catalog",
    "confirm_erasure",
    "defuse_formulas",
    "export_lock",
    "generate_demo",
    "generate_shop_demo",
    "guard_catalog",
    "inventory",
    "inventory_frame",
    "is_formula",
    "load_catalog",
    "load_key",
    "load_keys",
    "make_key",
    "new_label",
    "open_engine",
    "parse_key",
    "plan_correction",
    "plan_erasure",
    "plan_retention",
    "read_batch_requests",
    "read_manifest",
    "recover",
    "replay_erasures",
    "verify_audit_log",
    "verify_bundle",
    "verify_derived",
    "verify_register",
]


def __getattr__(name: str) -> Any:
    """Import a public name's subpackage on first use (PEP 562)."""
    where = _EXPORTS.get(name)
    if where is None:
        raise AttributeError(f"module 'dsar' has no attribute {name!r}")
    module, _, attribute = where.partition(":")  # "module:attribute" when the name differs
    value = getattr(importlib.import_module(module), attribute or name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
