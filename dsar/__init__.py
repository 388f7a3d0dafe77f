"""Privacy Workbench, data-subject side: the data map, the engine, and subject rights.

Map of the package (the flow of a request, left to right):

- `dsar.catalog`: the data map (catalog.yml): models and the strict YAML loader.
- `dsar.engine`: SQL over the export files (DuckDB embedded); compare the catalog with them.
- `dsar.subjects`: who the person is (identifiers, match rules) and which rows are theirs.
- `dsar.text`: the one free-text engine (detectors, names, operators) and bundle redaction.
- `dsar.access`: access and portability bundles with the Art. 15 statement.
- `dsar.rights`: erasure, correction and the retention sweep: plan, then apply.
- `dsar.breach`: breach scoping: the people a breach reached, deadlines, severity, notices.
- `dsar.records`: the request register, legal deadlines, the audit log, the ledger.
- `dsar.review`: independent checks of an artifact before it leaves.
- `dsar.csvsafe`: the one rule for spreadsheet formulas in every CSV that leaves.
- `dsar.demo`: a realistic demo export with its catalog.
- `dsar.draft`: a first data map drafted from an export's files (`dsar catalog draft`).
- `dsar.lock`: one change at a time per export (exclusive for changes, shared for readers).
- `dsar.faults`: named kill points in every write, for the kill tests (inert otherwise).
- `dsar.errors`: `WorkbenchError` and its typed subclasses.
- `dsar.cli`: the `dsar` command line over the same API.

Every name in `__all__` can be imported from `dsar` directly; notebooks and scripts use only
these. They load on first use, so `import dsar` (and `dsar --help`) stays light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dsar._lazy import facade
from dsar._version import __version__ as __version__

if TYPE_CHECKING:
    from dsar.access import (
        AccessBundle as AccessBundle,
        answer_access_requests as answer_access_requests,
        new_label as new_label,
        read_batch_requests as read_batch_requests,
    )
    from dsar.breach import (
        BreachManifest as BreachManifest,
        Circumstances as Circumstances,
        Incident as Incident,
        ScopeSpec as ScopeSpec,
        Window as Window,
        breach_scope as breach_scope,
        confirm_breach as confirm_breach,
        parse_where as parse_where,
        scope_breach as scope_breach,
    )
    from dsar.catalog import (
        Catalog as Catalog,
        IdentityKind as IdentityKind,
        load_catalog as load_catalog,
    )
    from dsar.csvsafe import (
        defuse_formulas as defuse_formulas,
        is_formula as is_formula,
    )
    from dsar.demo import (
        generate_demo as generate_demo,
        generate_shop_demo as generate_shop_demo,
    )
    from dsar.draft import (
        Draft as Draft,
        draft_catalog as draft_catalog,
    )
    from dsar.engine import (
        CatalogWarning as CatalogWarning,
        CollisionProneCatalogError as CollisionProneCatalogError,
        Engine as Engine,
        check_against_files as check_against_files,
        check_catalog as check_catalog,
        guard_catalog as guard_catalog,
        inventory as inventory,
        inventory_frame as inventory_frame,
        open_engine as open_engine,
    )
    from dsar.engine.spark import (
        SparkSettings as SparkSettings,
    )
    from dsar.errors import (
        AmbiguousIdentifierError as AmbiguousIdentifierError,
        BudgetExceededError as BudgetExceededError,
        CatalogError as CatalogError,
        ChangeInterruptedError as ChangeInterruptedError,
        ConfigError as ConfigError,
        ConfigProblem as ConfigProblem,
        DeadlineError as DeadlineError,
        DiskFullError as DiskFullError,
        EngineError as EngineError,
        ExportBusyError as ExportBusyError,
        ExportDataError as ExportDataError,
        ExportPathError as ExportPathError,
        ExportReadError as ExportReadError,
        ExtractRejectedError as ExtractRejectedError,
        IdentifierError as IdentifierError,
        InputFileError as InputFileError,
        InternalError as InternalError,
        KeySchemeError as KeySchemeError,
        ManifestError as ManifestError,
        MissingDependencyError as MissingDependencyError,
        MissingFileError as MissingFileError,
        MissingKeyError as MissingKeyError,
        NoMatchError as NoMatchError,
        OutputExistsError as OutputExistsError,
        OverMatchError as OverMatchError,
        PrivacyTargetError as PrivacyTargetError,
        RecordTamperedError as RecordTamperedError,
        ReleaseConflictError as ReleaseConflictError,
        RequestNotFoundError as RequestNotFoundError,
        RequestStateError as RequestStateError,
        SignOffRefusedError as SignOffRefusedError,
        UnlistedValueError as UnlistedValueError,
        UnreadableArtifactError as UnreadableArtifactError,
        UnsafeNameError as UnsafeNameError,
        UnusableFileError as UnusableFileError,
        UsageError as UsageError,
        UseNotAllowedError as UseNotAllowedError,
        WorkbenchError as WorkbenchError,
    )
    from dsar.keys import (
        Keys as Keys,
        Purpose as Purpose,
        load_key as load_key,
        load_keys as load_keys,
    )
    from dsar.lock import (
        export_lock as export_lock,
    )
    from dsar.records import (
        AuditEntry as AuditEntry,
        AuditLog as AuditLog,
        DenialReason as DenialReason,
        Jurisdiction as Jurisdiction,
        Ledger as Ledger,
        Reason as Reason,
        Register as Register,
        ReleaseLog as ReleaseLog,
        RequestType as RequestType,
        State as State,
        Status as Status,
        verify_audit_log as verify_audit_log,
        verify_register as verify_register,
        verify_release_log as verify_release_log,
    )
    from dsar.review import (
        ArtifactKind as ArtifactKind,
        ArtifactManifest as ArtifactManifest,
        BundleManifest as BundleManifest,
        DisclosureDecision as DisclosureDecision,
        SignOff as SignOff,
        SignOffRole as SignOffRole,
        ThirdPartyConsent as ThirdPartyConsent,
        ThirdPartyDecision as ThirdPartyDecision,
        ThirdPartyItem as ThirdPartyItem,
        artifact_digest as artifact_digest,
        load_decisions as load_decisions,
        read_manifest as read_manifest,
        sign_off as sign_off,
        third_party_items as third_party_items,
        verify_artifact as verify_artifact,
        verify_audience as verify_audience,
        verify_bundle as verify_bundle,
        verify_certificate as verify_certificate,
        verify_derived as verify_derived,
    )
    from dsar.rights import (
        ApplyResult as ApplyResult,
        CorrectionPlan as CorrectionPlan,
        ErasurePlan as ErasurePlan,
        FileChange as FileChange,
        Job as Job,
        Plan as Plan,
        Recovery as Recovery,
        RetentionPlan as RetentionPlan,
        TableAction as TableAction,
        apply_plan as apply_plan,
        confirm_erasure as confirm_erasure,
        plan_correction as plan_correction,
        plan_erasure as plan_erasure,
        plan_retention as plan_retention,
        recover as recover,
        replay_erasures as replay_erasures,
    )
    from dsar.subjects import (
        IdentityIndex as IdentityIndex,
        MatchRules as MatchRules,
        SubjectKey as SubjectKey,
        SubjectRequest as SubjectRequest,
        make_key as make_key,
        parse_key as parse_key,
    )
    from dsar.text import (
        EntityRule as EntityRule,
        NlpSettings as NlpSettings,
        Operator as Operator,
        TextEngine as TextEngine,
        TextPolicy as TextPolicy,
    )


# the names above, each imported from its module on first use (the one list)
_EXPORTS, __all__, __getattr__, __dir__ = facade(__name__, ("__version__",))
