"""Access and portability: answer one or many requests in one pass, a bundle for each.

The search (`dsar.subjects.collect`) serves every request of a batch in one pass; the
analyzer loads beside it; each person's rows are redacted and written by the bundle writer
(`dsar.access.bundle`), which verifies each bundle before it takes its name.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Collection, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from dsar.access.bundle import AccessBundle, write_bundle
from dsar.catalog.models import Catalog
from dsar.engine import Engine, open_engine
from dsar.engine.guards import CatalogWarning, guard_catalog
from dsar.errors import OutputExistsError, UsageError
from dsar.io import output_path, remove_partials
from dsar.records.audit import subject_ref
from dsar.records.ledger import State
from dsar.records.register import Register
from dsar.subjects.collect import ProgressFn, SubjectData, collect
from dsar.subjects.identity import MatchRules, SubjectKey, SubjectRequest, with_catalog_rules
from dsar.text.nlp import NlpSettings
from dsar.text.redact import Redactor

if TYPE_CHECKING:
    from dsar.keys import Keys
    from dsar.records.ledger import Ledger
    from dsar.subjects.index import IdentityIndex

log = logging.getLogger(__name__)


def answer_access_requests(
    catalog: Catalog,
    requests: Sequence[SubjectRequest],
    out: str | Path,
    *,
    engine: Engine | None = None,
    rules: MatchRules | None = None,
    nlp: NlpSettings | None = None,
    passphrase: str | None = None,
    now: datetime | None = None,
    register: Register | None = None,
    progress: ProgressFn | None = None,
    ledger: Ledger | None = None,
    index: IdentityIndex | None = None,
    accept_catalog_warnings: bool | Collection[str] = False,
    keys: Keys | None = None,
    accept_joined: bool = False,
) -> list[AccessBundle]:
    """Answer one or many access requests in one pass over the data, a bundle for each.

    `progress`, when given, is called with a short line before each step (each table read,
    the redaction, each bundle written), for a command line or a notebook to show.

    With the suppression `ledger`, a person who was erased before is found again in what
    was kept under a legal obligation, through the identifiers recorded at that erasure
    (an invoice kept for the tax office may carry only a customer id whose account is
    gone), and the statement says so.

    With the identity `index` (`dsar index build`), only the records it names are read from
    files unchanged since it was built (the others are read whole), and the engine opened
    here reuses the schemas it kept instead of sniffing the files: the same bundle, sooner.

    A catalog that can hand one person's rows to another (`dsar.engine.guards`) is refused
    before anything is read for a person, unless `accept_catalog_warnings` (True, or the
    codes accepted); each bundle's manifest and statement then record what was accepted.

    With `keys` (default: the `register`'s), each manifest carries a keyed MAC, so that
    `dsar verify` with the key finds one edited after it was written.

    A search that joined two or more accounts of one kind (`ACCOUNT_KINDS`: a bookkeeper's
    address on two customers' invoices) may hold another person's data: its bundle is
    written for the analyst to read the provenance but rejected by its own check (set
    aside, never zipped), unless `accept_joined` after checking that every account is the
    person's; the manifest then records the acceptance.

    Examples:
        >>> from dsar import load_catalog
        >>> from dsar.subjects.identity import SubjectRequest, make_key
        >>> from dsar.catalog import IdentityKind
        >>> catalog = load_catalog("demo-export/catalog.yml")  # doctest: +SKIP
        >>> request = SubjectRequest("AR-1", (make_key(IdentityKind.EMAIL, "ann@example.com"),))
        >>> [bundle] = answer_access_requests(catalog, [request], "bundles")  # doctest: +SKIP
    """
    out = Path(out)
    labels = [r.label for r in requests]
    if len(set(labels)) != len(labels):
        raise UsageError(
            "requests", "two requests share a label", "give each request its own reference"
        )
    for label in labels:
        for suffix in ("", ".zip"):
            if output_path(out, label, "request label", suffix).exists():
                raise OutputExistsError(
                    f"{out / label}{suffix}", "a bundle", "choose another --out"
                )
    # refused before anything is written or the language model starts loading
    accepted = () if engine is None else guard_catalog(catalog, engine, accept_catalog_warnings)
    say = progress or (lambda _line: None)
    if removed := remove_partials(out) + _remove_old_zips(out):
        line = f"removed {removed} leftover(s) of an interrupted access run from {out}"
        if progress:
            say(line)
        else:
            log.warning(line)
    rules = with_catalog_rules(rules, catalog)  # the catalog's phone_region unless given
    if keys is None and register is not None:
        keys = register.keys
    redactor = Redactor(catalog, nlp, rules)
    with ExitStack() as stack:
        # Loading Presidio and a spaCy model takes two to three seconds of mostly Python
        # work: it starts first and overlaps with sniffing the files and the scans, during
        # which DuckDB releases the GIL.
        pool = stack.enter_context(ThreadPoolExecutor(max_workers=1))
        loading = pool.submit(redactor.warm_up) if _has_free_text(catalog) else None
        if engine is None:
            say(f"opening {len(catalog.tables)} tables (reading each file's layout)")
            kept = index.readers(catalog) if index is not None else {}
            engine = stack.enter_context(open_engine(catalog, readers=kept))
            accepted = guard_catalog(catalog, engine, accept_catalog_warnings)
        indexed = None
        if index is not None:
            indexed = index.files_for(catalog, engine)
            stack.callback(indexed.close)
        earlier: dict[str, dict[str, set[SubjectKey]]] = {}
        states: dict[str, tuple[State, date]] = {}
        given = {r.label: set(r.keys) for r in requests}
        if ledger is not None:
            say("looking in the suppression ledger for earlier erasures")
            earlier = {
                r.label: ledger.erased_before(r.keys, catalog, engine, rules) for r in requests
            }
            states = ledger.states({label for found in earlier.values() for label in found})
            requests = [_with_recorded(r, earlier[r.label]) for r in requests]
        subjects = collect(engine, catalog, requests, rules, say, indexed)
        for subject in subjects:
            label = subject.identity.request.label
            _note_recorded(subject, earlier.get(label, {}), given[label], states)
        say("looking up the people named in free text")
        redactor.prepare(engine, [s.tables for s in subjects])
        if loading is not None:
            if not loading.done():
                say("waiting for the language model to load")
            loading.result()
        bundles = []
        for subject in subjects:
            say(f"redacting and writing {subject.identity.request.label}")
            bundles.append(
                _answer_one(
                    out,
                    catalog,
                    subject,
                    redactor,
                    rules,
                    passphrase,
                    now,
                    register,
                    engine.name,
                    accepted,
                    keys,
                    accept_joined,
                )
            )
        return bundles


def _answer_one(
    out: Path,
    catalog: Catalog,
    subject: SubjectData,
    redactor: Redactor,
    rules: MatchRules,
    passphrase: str | None,
    now: datetime | None,
    register: Register | None,
    engine_name: str,
    accepted: Sequence[CatalogWarning] = (),
    keys: Keys | None = None,
    accept_joined: bool = False,
) -> AccessBundle:
    """Redact one person's rows, write the bundle, and record it in the audit log."""
    tables, record = redactor.apply(subject.identity, subject.tables)
    notice = redactor.notice if _has_free_text(catalog) else None
    bundle = write_bundle(
        out,
        catalog,
        subject,
        tables,
        record,
        rules,
        notice,
        passphrase,
        now or datetime.now(UTC),
        engine_name=engine_name,
        accepted=accepted,
        keys=keys,
        accept_joined=accept_joined,
    )
    if register is not None:
        first = subject.identity.request.keys[0]
        register.audit.append(
            "access.bundle_rejected" if bundle.rejected else "access.bundle_written",
            request=subject.identity.request.label,
            subject=subject_ref(register.keys, first),
            tables={n: t.num_rows for n, t in tables.items() if t.num_rows},
            details={
                "rows": subject.rows,
                "set_aside": sum(subject.set_aside.values()),
                "held_as_processor": sum(
                    sum(c.values()) for c in subject.held_as_processor.values()
                ),
                "identifiers": len(subject.identity.keys),
                **({"findings": len(bundle.findings)} if bundle.rejected else {}),
                **({"accepted_catalog_warnings": [w.code for w in accepted]} if accepted else {}),
            },
        )
        _void_sign_offs(register, subject.identity.request.label)
    label = subject.identity.request.label
    if bundle.rejected:
        log.warning(
            "bundle %s failed its own verification (%d finding(s)); set aside as %s, not zipped",
            label,
            len(bundle.findings),
            bundle.path.name,
        )
    else:
        log.info("bundle %s: %d rows in %d tables", label, subject.rows, len(tables))
    if past := [h.action for h in bundle.past_retention if h.action.expired]:
        # counts and table names only: the statement tells the person, the analyst acts
        log.warning(
            "bundle %s holds %d row(s) past the retention the catalog states (%s); its"
            " statement tells the person they are being deleted: run `dsar retention plan`,"
            " then `dsar retention apply`",
            label,
            sum(a.expired for a in past),
            ", ".join(f"{a.table}: {a.expired}" for a in past),
        )
    return bundle


def _void_sign_offs(register: Register, label: str) -> None:
    """A bundle written for a request whose earlier bundle is reviewed or approved: that
    sign-off no longer answers it (the log's sign-offs count only after the latest bundle
    written, `dsar.records.signoffs.current_since`); the request goes back to in_progress."""
    from dsar.errors import RequestNotFoundError
    from dsar.records.register import SIGN_OFF_STATES, Status

    try:
        record = register.get(label)
    except RequestNotFoundError:
        return
    if record.status in SIGN_OFF_STATES:
        register.update(label, status=Status.IN_PROGRESS)


def _has_free_text(catalog: Catalog) -> bool:
    return any(c.free_text for t in catalog.tables.values() for c in t.columns.values())


def _with_recorded(request: SubjectRequest, recorded: dict[str, set[SubjectKey]]) -> SubjectRequest:
    """The request with the identifiers recorded at the person's earlier erasures."""
    extra = sorted(set().union(*recorded.values()) - set(request.keys)) if recorded else []
    return replace(request, keys=(*request.keys, *extra)) if extra else request


def _note_recorded(
    subject: SubjectData,
    recorded: dict[str, set[SubjectKey]],
    given: set[SubjectKey],
    states: dict[str, tuple[State, date]],
) -> None:
    """Say how the recorded identifiers were reached, and remember the erasures: those
    done, and those requested whose change is not committed (pending)."""
    for label, keys in sorted(recorded.items()):
        erased = states.get(label, (State.DONE,))[0] is State.DONE
        when = "your data was erased" if erased else "you asked us to erase your data"
        for key in keys - given:
            prov = subject.identity.provenance.get(key)
            if prov is not None and prov.table is None:
                subject.identity.provenance[key] = replace(
                    prov, note=f"recorded when {when} (request {label})"
                )
    done = [label for label in recorded if states.get(label, (State.DONE,))[0] is State.DONE]
    subject.erased_before = tuple(sorted(done))
    subject.erasure_pending = tuple(
        (label, states[label][1]) for label in sorted(recorded) if label not in done
    )


_OLD_ZIP = re.compile(r"\.[A-Za-z0-9][A-Za-z0-9._-]*\.zip\.[0-9a-f]{8}\.tmp")


def _remove_old_zips(out: Path) -> int:
    """Remove the temporary zips (`.<label>.zip.<8 hex>.tmp`) that versions before the one
    partial-folder writer left beside `out` when killed: a bundle's unencrypted copy. This
    version writes its zip inside the partial folder, never under that name."""
    removed = 0
    for entry in sorted(out.iterdir()) if out.is_dir() else ():
        if _OLD_ZIP.fullmatch(entry.name) and entry.is_file() and not entry.is_symlink():
            entry.unlink(missing_ok=True)
            removed += 1
    return removed
