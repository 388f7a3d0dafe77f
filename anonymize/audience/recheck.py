"""Uploads to take back after the export changed (`anonymize withdraw --catalog`): the people
a platform still holds whom the current export, read through each audience's own gate
(`anonymize.audience.eligible.run_gate`), now leaves out. Apart from `anonymize.audience.stale`,
which the gate itself uses to warn a new build about earlier uploads."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from anonymize.audience.build import MEMORY_LIMIT
from anonymize.audience.eligible import run_gate
from anonymize.audience.platforms import Platform
from anonymize.audience.stale import stale_uploads
from dsar.engine import scratch_connection
from dsar.records.ledger import Ledger
from dsar.records.sent import SentRecord

if TYPE_CHECKING:
    from anonymize.audience.sources import AudienceList, AudienceSpec
    from dsar.engine import Engine


@dataclass
class Ineligible:
    """What `ineligible_uploads` found for one platform: each hash to remove and why, and
    what was not checked (said in words: never a silent nothing to remove)."""

    hashes: dict[str, str] = field(default_factory=dict)
    not_checked: list[str] = field(default_factory=list)


def ineligible_uploads(
    engine: Engine,
    record: SentRecord,
    p: Platform,
    specs: Sequence[AudienceSpec | AudienceList | str | Path] = (),
    *,
    ledger: Ledger | None = None,
    region: str | None = None,
    accept_catalog_warnings: bool | Collection[str] = False,
) -> Ineligible:
    """The uploads `p` still holds of people the current export (`engine`) leaves out: the
    person's no anywhere in it, and each spec's table as its gate reads it now. Audiences
    the record holds for `p` that no spec names are checked for the person's no only, and
    said so in `not_checked`."""
    from anonymize.audience.consent import closed_people, said_no_people
    from dsar.engine.guards import guard_catalog
    from dsar.subjects.people import resolve_people

    result = Ineligible()
    named: set[str] = set()
    for spec in specs:
        con = scratch_connection(memory_limit=MEMORY_LIMIT)
        try:
            gate = run_gate(
                con,
                spec,
                engine,
                [p.name],
                ledger=ledger,
                region=region,
                accept_catalog_warnings=accept_catalog_warnings,
            )
            named.add(gate.name)
            found = stale_uploads(
                con,
                record,
                p,
                kind=gate.kind,
                region=region,
                audience=gate.name,
                ledger=ledger,
                engine=engine,
            )
        finally:
            con.close()
        result.hashes |= {h: w for h, w in found.items() if h not in result.hashes}
    if not specs:
        guard_catalog(engine.catalog, engine, accept_catalog_warnings)
        con = scratch_connection(memory_limit=MEMORY_LIMIT)
        try:
            resolve_people(engine, con, older=True)
            closed_people(engine, con)
            said_no_people(engine, con, None)
            found = stale_uploads(con, record, p, ledger=ledger, engine=engine)
        finally:
            con.close()
        result.hashes |= found
    others = sorted(record.audiences(p.name) - named)
    if others:
        result.not_checked.append(
            f"the consent and opt-out columns of the table of {', '.join(others)} (sent to"
            f" {p.name}) were not read again: give its spec (--spec); only a no recorded"
            " elsewhere in the export, a closed account and the ledger (under every identifier"
            " the export holds for the person) were checked for them"
        )
    return result
