"""Earlier uploads of people who may no longer be in an audience: what `anonymize withdraw`
removes beside the ledger's people, and what a new build warns about.

The suppression ledger is not the only place a person says no. Someone uploaded while
consenting may later opt out, withdraw consent or close their account in the company's own
export (the spec's consent or opt-out column, any table that records a no to ads,
`consent.signals`). The sent record holds the keyed references of every identifier of
each person uploaded (`people.record_refs`) and the hash the platform received; here the
current export is read again, through the same gate as a build (`eligible.run_gate`), and
compared with it:

- **the person** (every audience of the platform): everyone who now said no in any table
  (`said_no_people`, and the rows of the spec's table left out as `opted_out` or
  `said_no_elsewhere`) or whose account is closed (`closed_people`), matched to the record
  under every identifier that is theirs alone (`people_members`, never one the export holds
  for several people: a team inbox or a family's landline names none of them), as given
  and folded (the record's loose references);
- **the audience's table** (with its spec): each upload of that audience whose row the gate
  now leaves out (no consent, opted out, closed, Limited Use, in the ledger, said no
  elsewhere) and no eligible row would upload again, and each upload no row of the table
  gives any more (`not_in_table`: a consent row deleted, an address changed);
- **the ledger**: the uploads recorded under an identifier it holds (`SentRecord.in_ledger`),
  and every upload of a person it holds under any identifier the export holds for them now
  (`people.ledger_persons`): an objection under a login address changed since the upload
  finds the person recorded then under their account id.

Only hashes the record holds as sent to the platform and not yet withdrawn are returned.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import TYPE_CHECKING

import pyarrow as pa

from anonymize.audience.build import Kind, _phone_table, identifiers
from anonymize.audience.people import _LOOSE, _own, ledger_persons
from anonymize.audience.platforms import Platform
from dsar.keys import Purpose
from dsar.records.ledger import Ledger
from dsar.records.sent import WITHDRAW_REASONS, SentRecord

if TYPE_CHECKING:
    import duckdb

    from dsar.engine import Engine

# why an earlier upload must leave, as `anonymize withdraw` says it
STALE_REASONS = {
    "in_ledger": "in the suppression ledger: erased, objected, opted out or restricted",
    "said_no": "said no to ads in the export since (opted out, consent withdrawn)",
    "closed_account": "account closed",
    "no_consent": "no consent in the audience's table now",
    "opted_out": "opted out in the audience's table",
    "said_no_elsewhere": "said no to marketing elsewhere in the export",
    "limited_use": "a value from a Google sign-in (Limited Use)",
    "purpose_limitation": "a value held for other purposes than advertising",
    "not_in_table": "no longer in the audience's table (its row deleted or changed)",
}
# rows of a spec's table whose answer is the person's, whatever audience sent them
_PERSON_NO = ("opted_out", "said_no_elsewhere")


def stale_uploads(
    con: duckdb.DuckDBPyConnection,
    record: SentRecord,
    p: Platform,
    *,
    kind: Kind | None = None,
    region: str | None = None,
    audience: str | None = None,
    ledger: Ledger | None = None,
    engine: Engine | None = None,
) -> dict[str, str]:
    """Each hash `p` received (and still holds) of someone the gate in `con` now leaves
    out, with the first reason (`STALE_REASONS`). `con` holds `people_*`, `said_no_people`
    and `closed_people` and, from a spec's gate (`kind`, `audience`: its name), `cand`.

    With `ledger`, the hashes whose recorded references the ledger holds (`in_ledger`); with
    `engine` too, every upload of a person the ledger holds under any identifier of theirs
    the export holds now (`people.ledger_persons`), recorded at the upload or not."""
    withdrawn = record.withdrawn(p.name)
    rows = record.sent_rows(p.name)
    if not rows:
        return {}
    found: dict[str, str] = {}
    if ledger is not None:
        found |= dict.fromkeys(record.in_ledger(p.name, ledger), "in_ledger")
    con.register(
        "stale_sent_arrow",
        pa.table(
            {
                "ref": pa.array([r[0] for r in rows], pa.string()),
                "loose": pa.array([r[1] for r in rows], pa.string()),
                "uploaded": pa.array([r[2] for r in rows], pa.string()),
                "audience": pa.array([r[3] for r in rows], pa.string()),
            }
        ),
    )
    try:
        con.execute("CREATE OR REPLACE TEMP TABLE stale_sent AS SELECT * FROM stale_sent_arrow")
    finally:
        con.unregister("stale_sent_arrow")
    ref_sql, ref_params = record.keys.sql_keyed_hash(Purpose.LEDGER_REF, "kind || '=' || value")
    loose_sql, loose_params = record.keys.sql_keyed_hash(Purpose.LEDGER_REF, "loose")
    # each upload's people: every identifier that is theirs alone, keyed as the record keys
    # it (as given and folded), met with the references the upload was recorded under
    con.execute(
        "CREATE OR REPLACE TEMP TABLE stale_members AS SELECT person, "
        f"{ref_sql} AS ref, {loose_sql} AS loose FROM (SELECT DISTINCT m.person, m.kind,"
        f" m.value, {_LOOSE} AS loose FROM people_members m WHERE {_own('m')})",
        [*ref_params, *loose_params],
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE stale_people AS "
        + " UNION ".join(
            f"SELECT s.uploaded, h.person FROM stale_sent s JOIN stale_members h ON s.{a} = h.{b}"
            for a, b in (("ref", "ref"), ("loose", "loose"), ("ref", "loose"), ("loose", "ref"))
        )
    )
    spec_no = ""
    if kind is not None:
        said = ", ".join(f"'{w}'" for w in _PERSON_NO)
        spec_no = (
            " UNION SELECT person, 'said_no' FROM cand_people WHERE strong AND i IN"
            f" (SELECT i FROM cand WHERE why IN ({said}))"
        )
    in_ledger = ""
    if ledger is not None and engine is not None:
        # the ledger, through the person: an objection under an identifier gained after the
        # upload (a new login address) finds them under their account id recorded then
        ledger_persons(
            engine, con, ledger, "SELECT DISTINCT person FROM stale_people", "stale_held"
        )
        in_ledger = " UNION SELECT person, 'in_ledger' FROM stale_held"
    person = dict(
        con.execute(
            "WITH no AS (SELECT person, why, CASE why WHEN 'in_ledger' THEN 0 WHEN"
            " 'closed_account' THEN 1 ELSE 2 END AS rank FROM (SELECT person, 'closed_account'"
            " AS why FROM closed_people UNION SELECT person, 'said_no' FROM"
            f" said_no_people{spec_no}{in_ledger}))"
            " SELECT s.uploaded, arg_min(no.why, no.rank) FROM stale_people s JOIN no"
            " USING (person) GROUP BY 1"
        ).fetchall()
    )
    # the person's objection first (whatever their rows say now), then the table's own reason
    found |= {str(h): "in_ledger" for h, w in person.items() if w == "in_ledger"}
    if kind is not None and audience is not None:
        for h, w in _table_uploads(con, p, kind, region, audience).items():
            found.setdefault(h, w)
    for uploaded, why in person.items():
        found.setdefault(str(uploaded), str(why))
    for scratch in ("stale_sent", "stale_members", "stale_people", "stale_held"):
        con.execute(f"DROP TABLE IF EXISTS {scratch}")
    return {h: w for h, w in sorted(found.items()) if h not in withdrawn}


def unmatched_entries(record: SentRecord, p: Platform, ledger: Ledger) -> tuple[int, int]:
    """How many of the ledger's entries (erased, objected, opted out, restricted) match no
    reference the record holds for `p`'s uploads, of how many: without the export, a person
    uploaded under identifiers the entry does not give (an address gained since, an account
    id the objection did not name) cannot be found, and a reader says so with this count."""
    entries = ledger.entry_refs(WITHDRAW_REASONS)
    held: set[str] = set()
    for ref, loose, _, _ in record.sent_rows(p.name):
        held.add(ref)
        if loose is not None:
            held.add(loose)
    return sum(1 for refs in entries.values() if not refs & held), len(entries)


def _table_uploads(
    con: duckdb.DuckDBPyConnection, p: Platform, kind: Kind, region: str | None, audience: str
) -> dict[str, str]:
    """The uploads of `audience` (from its spec's `cand`) that no eligible row gives now:
    the first reason a row that gives it is left out, else `not_in_table`."""
    con.execute("CREATE OR REPLACE TEMP TABLE src AS SELECT i, v FROM cand")
    try:
        if kind == "phone":
            _phone_table(con, region)
        normalised, base = identifiers(p, kind)
        con.execute(
            "CREATE OR REPLACE TEMP TABLE stale_hashes AS SELECT DISTINCT i,"
            f" {p.hash_sql(normalised)} AS h FROM {base} WHERE {normalised} IS NOT NULL"
        )
        rows = con.execute(
            "WITH now AS (SELECT h, c.why FROM stale_hashes JOIN cand c USING (i)),"
            " eligible AS (SELECT h FROM now WHERE why IS NULL)"
            " SELECT s.uploaded, coalesce(min(n.why), 'not_in_table') FROM (SELECT DISTINCT"
            " uploaded FROM stale_sent WHERE audience = ?) s LEFT JOIN now n ON n.h = s.uploaded"
            " WHERE s.uploaded NOT IN (SELECT h FROM eligible) GROUP BY 1",
            [audience],
        ).fetchall()
    finally:
        con.execute("DROP TABLE IF EXISTS src")
        con.execute("DROP TABLE IF EXISTS stale_hashes")
    return {str(h): str(w) for h, w in rows}


def reasons_count(found: Mapping[str, str]) -> dict[str, int]:
    """How many uploads leave for each reason."""
    return dict(Counter(found.values()))
