"""Each candidate of an audience to its person: the ledger checked under every identifier the
person has, and the sent record given every one of them.

The gate (`eligible.build_audience`) leaves its candidates in a scratch DuckDB connection:
`cand(i, v, f_*, why)` (one row per row read, `why` the first reason it is left out, NULL
while eligible) and `cand_ids(i, kind, value, node, strong)` (each identifier of the row,
normalised as the ledger keeps it, with its node, `dsar.subjects.people.node_sql`, and the
value as each chosen platform uploads it, `forms.add_platform_forms`).
`dsar.subjects.people.resolve_people` has joined the whole export into people in the same
connection. Here, set-wise in SQL, never one person at a time:

- `link_people`: each candidate's people (`cand_people`): the person of each identifier,
  or the identifier alone when the export does not hold it (a list's stranger);
- `leave_out_restricted`: a value (a list's, or a spec table's: a partial copy of Google's
  data catalogued as ordinary is still Google's) that a Limited Use table holds (whatever else holds
  it: the list cannot show it did not come from Google) is left out (`limited_use`), and
  one the export holds only in tables that may not feed ads (processor tables, purposes
  without advertising) too (`purpose_limitation`);
- `leave_out_ledger`: a candidate whose person has ANY identifier in the ledger, under any
  form it may have been recorded in (`forms_sql`; and under an older normal form, an entry
  written before the form changed: `_OLD_FORMS`), is left out (`in_ledger`): the person who
  objected under their account email leaves with their `name+news@` marketing row, and the
  one who objected under a device or cookie id (`ledger_people`) with every row of theirs;
- `leave_out_said_no`: a row whose person said no in another row of the source, or in any
  table of the export that records a no (`consent.said_no_people`), is left out
  (`said_no_elsewhere`);
- `record_refs`: for each candidate written, the keyed reference of every identifier of
  their person, for the sent record, so that a withdrawal finds the upload from any of them.

An identifier the export holds for several people (`people_shared`: a family's landline)
joins none of them and is nobody's alone: a candidate with a strong identifier (an email,
an account id) is matched through their own people only, never through the landline to
the person who shares it, and the landline in the ledger (given with an objection) leaves
out only the rows that would upload the landline itself, never another person's email
row; an upload is never recorded under it unless it is the value uploaded. The objector
still leaves under every identifier that is theirs alone. Where the landline is the value
uploaded (a phone audience), it reaches every person it is shared by: it leaves if any of
them is in the ledger, and its upload is recorded under each one's own identifiers (so any
of them withdraws it). A candidate with no strong identifier (a list's bare phone) may be
any of the people seen with it: it leaves if any of them is in the ledger.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pyarrow as pa

from dsar.catalog.models import IdentityKind, Role
from dsar.engine.base import quote_identifier
from dsar.keys import Keys, Purpose
from dsar.records.ledger import Ledger, Reason
from dsar.subjects.identity import sql_legacy_forms, sql_phone_suffix
from dsar.subjects.people import KINDS, PLAIN, fold_sql, forms_sql, identity_sql, node_sql

if TYPE_CHECKING:
    import duckdb

    from dsar.engine import Engine

LEDGER_REASONS = (
    Reason.ERASED,
    Reason.OBJECTED_DIRECT_MARKETING,
    Reason.OPTED_OUT_SALE_SHARING,
    Reason.RESTRICTED,
)
SAID_NO = ("no_consent", "opted_out")  # a person's answer, whichever of their rows holds it
# identifiers that name a device or a browser: an objection under one is the person's
DEVICES = (IdentityKind.DEVICE_ID, IdentityKind.COOKIE_ID, IdentityKind.IP_ADDRESS)
MAX_RECORDED = 100  # a person with more identifiers (a shared address joining many) is
# recorded under their own row's identifiers only: the record stays proportionate

_FORMS = (
    f"CASE WHEN kind = 'email' THEN {forms_sql(IdentityKind.EMAIL, 'value')}"
    " ELSE [kind || '=' || value] END"
)
_LOOSE = (
    f"CASE WHEN kind = 'email' THEN 'email=' || {fold_sql('value')} ELSE kind || '=' || value END"
)
# the 'kind=value' strings a record written under an older normal form (`old`: an older key,
# `dsar.subjects.identity.LEGACY_FORMS`) may hold: that key, an email's folded forms too, a
# phone's last nine digits (the ledger's `folded` table, and its key before whole numbers)
_OLD_FORMS = (
    f"CASE kind WHEN 'email' THEN {forms_sql(IdentityKind.EMAIL, 'old')}"
    f" WHEN 'phone' THEN ['phone=' || old, 'phone=' || {sql_phone_suffix('old')}]"
    " ELSE [kind || '=' || old] END"
)
_OLDER = "people_older"  # (kind, value, old): `resolve_people(older=True)`, and candidates'


def link_people(con: duckdb.DuckDBPyConnection) -> None:
    """`cand_people(i, person, strong)`: each candidate's people, through each identifier
    (`strong`: through a strong one; a phone may lead to several people)."""
    # an identifier the export does not hold is a person of its own (numbered below zero)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE cand_people AS SELECT DISTINCT c.i,"
        " coalesce(n.person, -u.k) AS person, c.strong AND c.node NOT IN (SELECT node FROM"
        " people_shared) AS strong FROM cand_ids c"
        " LEFT JOIN people_nodes n USING (node) LEFT JOIN (SELECT node, dense_rank() OVER"
        " (ORDER BY node) AS k FROM (SELECT DISTINCT node FROM cand_ids)) u USING (node)"
        " WHERE c.node IS NOT NULL"
    )
    # their own people: through a strong identifier where the row has one, never through a
    # shared phone to someone else; a row with none may be anyone its phone was seen with
    con.execute(
        "CREATE OR REPLACE TEMP TABLE cand_theirs AS SELECT DISTINCT i, person FROM cand_people"
        " WHERE strong UNION SELECT i, person FROM cand_people WHERE i NOT IN (SELECT i FROM"
        " cand_people WHERE strong)"
    )


def leave_out_restricted(
    con: duckdb.DuckDBPyConnection, limited: list[str], *, purposes: bool = True
) -> list[tuple[str, str, int]]:
    """Leave out a list's candidates with a value a Limited Use table holds, as given, as a
    platform uploads it, or folded as people are matched (`node_sql`: `+tags`, Gmail dots,
    googlemail.com, case, and the IDN/NFKC forms, `forms.add_idn_forms`) (`limited_use`):
    the value, not the person, so a person's ordinary address stays usable beside their
    Google one, but `jsmith@gmail.com` or `name+news@` is Google's `j.smith@googlemail.com`
    or `name@`; and those whose address, folded, only tables marked as restricted hold
    (`purpose_limitation`). Returns (rule, table, rows) for each table
    the rows left out came from, most rows first.

    `purposes=False` (a spec's table, whose purposes were checked; `resolve_people` marked
    the Limited Use tables, then the spec's own table and every table holding one
    identifier a row, which ties a value to no account): Limited Use only, on the same
    values, where no table but the Limited Use ones and the spec's own holds the value, as
    written or folded (an address the person also gave at sign-up is theirs to use; one the
    export holds only from Google is not, whatever table it was copied into or however
    its dots were written)."""
    held = ", ".join(f"'{n}'" for n in limited) or "NULL"
    only = "" if purposes else " AND h.only_marked_by IS NOT NULL"
    # folded as people are matched (`node_sql`: +tags, Gmail dots, googlemail.com, case; the
    # IDN/NFKC forms and each platform's own form are nodes too, `forms`): `jsmith@gmail.com`
    # is Google's `j.smith@googlemail.com`, the hash google_ec and uid2 upload for it
    folded = (
        " UNION ALL SELECT c.i, 'limited_use', 0, n.marked_by FROM cand_ids c"
        f" JOIN people_nodes n USING (node) WHERE n.marked_by IN ({held})"
        + ("" if purposes else " AND n.only_marked_by IS NOT NULL")
    )
    also = (
        " UNION ALL SELECT c.i, 'purpose_limitation', 1, n.only_marked_by FROM cand_ids c"
        " JOIN people_nodes n USING (node) WHERE n.only_marked_by IS NOT NULL"
        if purposes
        else ""
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE cand_restricted AS SELECT i,"
        " arg_min(rule, rank) AS rule, arg_min(tbl, rank) AS tbl FROM ("
        " SELECT c.i, 'limited_use' AS rule, 0 AS rank, h.marked_by AS tbl FROM cand_ids c"
        f" JOIN people_held h USING (kind, value) WHERE h.marked_by IN ({held}){only}{folded}"
        f"{also})"
        " GROUP BY i"
    )
    con.execute(
        "UPDATE cand SET why = r.rule FROM cand_restricted r WHERE cand.i = r.i"
        " AND cand.why IS NULL"
    )
    found = con.execute(
        "SELECT rule, tbl, count(*) FROM cand_restricted GROUP BY ALL ORDER BY 3 DESC, 1, 2"
    ).fetchall()
    return [(str(r), str(t), int(n)) for r, t, n in found]


_OPEN_PEOPLE = (
    "SELECT DISTINCT person FROM cand_people WHERE i IN (SELECT i FROM cand WHERE why IS NULL)"
)


def ledger_people(
    engine: Engine,
    con: duckdb.DuckDBPyConnection,
    ledger: Ledger,
    *,
    people: str = _OPEN_PEOPLE,
    refs: str = "ledger_refs",
    out: str = "ledger_nodes",
) -> int:
    """`ledger_nodes(node)` (`out`): the identifiers of the people still in whom the ledger
    holds under a device, cookie or IP address id (`DEVICES`). Each table that holds such an
    id beside a person's identifiers is read once (its distinct pairs); only the devices seen
    with a person of `people` (SQL of a `person` column: by default the candidates still in)
    are hashed and compared with the references in `refs` (a table of `ref`). Returns the
    devices found."""
    con.execute(
        "CREATE OR REPLACE TEMP TABLE device_rows (kind VARCHAR, value VARCHAR, node VARCHAR)"
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE device_older (kind VARCHAR, value VARCHAR, old VARCHAR)"
    )
    for name, table in engine.catalog.tables.items():
        if table.role is not Role.CONTROLLER or not table.personal:
            continue
        columns = table.identity_columns()
        devices = {c: k for c, k in columns.items() if k in DEVICES}
        theirs = {c: k for c, k in columns.items() if k in KINDS}
        if not devices or not theirs:
            continue
        named = [*devices.items(), *theirs.items()]
        raw = ", ".join(quote_identifier(c) for c, _ in named)
        picks = ", ".join(
            f"{identity_sql(k, quote_identifier(c))} AS i{j}" for j, (c, k) in enumerate(named)
        )
        # a device's older keys (a UUID in capitals, an address as written: NULL wherever
        # they cannot differ from today's, so only such values pay)
        olds: list[tuple[int, int, IdentityKind]] = []
        for j, (c, k) in enumerate(devices.items()):
            for n, form in enumerate(sql_legacy_forms(k, quote_identifier(c), PLAIN)):
                picks += f", {form} AS o{j}_{n}"
                olds.append((j, n, k))
        some = " OR ".join(f"i{j} IS NOT NULL" for j in range(len(devices)))
        # the rows' distinct values first, then normalised: a log repeats them (half the time)
        rows = engine.query(
            f"SELECT DISTINCT * FROM (SELECT {picks} FROM (SELECT DISTINCT {raw} FROM"
            f" {quote_identifier(name)})) WHERE {some}"
        )
        con.register("device_read", rows)
        for j, n, k in olds:
            con.execute(
                f"INSERT INTO device_older SELECT DISTINCT '{k.value}', i{j}, o{j}_{n}"
                f" FROM device_read WHERE o{j}_{n} IS NOT NULL AND o{j}_{n} <> i{j}"
            )
        for j, device in enumerate(devices.values()):
            for m, kind in enumerate(theirs.values(), start=len(devices)):
                con.execute(
                    f"INSERT INTO device_rows SELECT '{device.value}', i{j},"
                    f" {node_sql(kind, f'i{m}')} FROM device_read"
                    f" WHERE i{j} IS NOT NULL AND i{m} IS NOT NULL"
                )
        con.unregister("device_read")
    ref_sql, params = ledger.sql_ref("form")
    seen = f"{out}_devices"
    # each device under its form today and its older ones (an entry written before a
    # normal form changed: the same device)
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {seen} AS"
        f" WITH open AS ({people}),"
        " theirs AS (SELECT DISTINCT d.kind, d.value FROM device_rows d JOIN people_nodes n"
        " USING (node) WHERE n.person IN (SELECT person FROM open)),"
        " forms AS (SELECT kind, value, kind || '=' || value AS form FROM theirs"
        " UNION SELECT t.kind, t.value, t.kind || '=' || o.old FROM theirs t"
        " JOIN device_older o USING (kind, value))"
        f" SELECT DISTINCT kind, value FROM forms WHERE {ref_sql} IN (SELECT ref FROM {refs})",
        params,
    )
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {out} AS SELECT DISTINCT node FROM device_rows"
        f" JOIN {seen} USING (kind, value)"
    )
    found = con.execute(f"SELECT count(*) FROM {seen}").fetchall()[0][0]
    con.execute("DROP TABLE device_rows")
    con.execute("DROP TABLE device_older")
    return int(found)


def ledger_persons(
    engine: Engine,
    con: duckdb.DuckDBPyConnection,
    ledger: Ledger,
    people: str,
    out: str = "held_people",
) -> int:
    """`out(person)`: of the people `people` (SQL of a `person` column, from
    `resolve_people`'s `people_members`), those the ledger holds (erased, objected, opted out,
    restricted) under any identifier that is theirs alone, under each form a record may have
    hashed it (`forms_sql`; the ledger's folded references too), or under a device, cookie or
    IP address id seen with them (`ledger_people`): the person, not the string, so an
    objection under an address gained after an upload finds the person recorded then under
    their account id. A shared identifier (`people_shared`) names none of them. Returns how
    many people."""
    refs = ledger.refs(LEDGER_REASONS, folded=True)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {out} AS SELECT person FROM people_members LIMIT 0")
    if not refs:
        return 0
    table = f"{out}_refs"
    con.register(f"{table}_arrow", pa.table({"ref": pa.array(refs, pa.string())}))
    con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT ref FROM {table}_arrow")
    con.unregister(f"{table}_arrow")
    ref_sql, params = ledger.sql_ref("form")
    _older_table(con)
    con.execute(
        f"INSERT INTO {out} WITH tested AS (SELECT DISTINCT m.person, m.kind, m.value FROM"
        f" people_members m WHERE m.person IN ({people}) AND {_own('m')}),"
        f" forms AS (SELECT person, unnest({_FORMS}) AS form FROM tested UNION ALL"
        f" SELECT t.person, unnest({_OLD_FORMS}) AS form FROM tested t"
        f" JOIN {_OLDER} USING (kind, value)),"
        " held AS (SELECT form FROM (SELECT DISTINCT form FROM forms)"
        f" WHERE {ref_sql} IN (SELECT ref FROM {table}))"
        " SELECT DISTINCT person FROM forms JOIN held USING (form)",
        params,
    )
    nodes = f"{out}_nodes"
    ledger_people(engine, con, ledger, people=people, refs=table, out=nodes)
    con.execute(
        f"INSERT INTO {out} SELECT DISTINCT n.person FROM people_nodes n JOIN {nodes}"
        " USING (node) WHERE node NOT IN (SELECT node FROM people_shared)"
        f" AND n.person NOT IN (SELECT person FROM {out})"
    )
    for t in (table, nodes, f"{nodes}_devices"):
        con.execute(f"DROP TABLE IF EXISTS {t}")
    return int(con.execute(f"SELECT count(*) FROM {out}").fetchall()[0][0])


def _own(alias: str, kind: str | None = None) -> str:
    """SQL: the identifier `alias`.kind/value is no shared one (`people_shared`), or is of
    `kind` (the kind uploaded: the value itself is withheld)."""
    upload = f"{alias}.kind = '{kind}' OR " if kind else ""
    return (
        f"({upload}NOT EXISTS (SELECT 1 FROM people_shared s WHERE s.kind = {alias}.kind"
        f" AND s.value = {alias}.value))"
    )


def _sharers(kind: str) -> str:
    """SQL `(i, kind, value)`: for each candidate whose uploaded value (`kind`) is a shared
    identifier, the identifiers that are theirs alone of every person it is shared by (the
    number reaches each of them)."""
    return (
        "SELECT c.i, m2.kind, m2.value FROM cand_ids c JOIN people_shared s USING (kind, value)"
        " JOIN people_members m1 ON m1.kind = c.kind AND m1.value = c.value"
        f" JOIN people_members m2 ON m2.person = m1.person WHERE c.kind = '{kind}'"
        f" AND {_own('m2')}"
    )


def _older_table(con: duckdb.DuckDBPyConnection) -> None:
    """`people_older`, empty where `resolve_people` was not asked for it."""
    con.execute(
        f"CREATE TEMP TABLE IF NOT EXISTS {_OLDER} (kind VARCHAR, value VARCHAR, old VARCHAR)"
    )


def leave_out_ledger(
    con: duckdb.DuckDBPyConnection,
    ledger: Ledger,
    engine: Engine,
    kind: str = "email",
    *,
    written: str = "v",
) -> None:
    """Leave out every candidate still in whose person the ledger holds under any identifier
    (erased, objected to direct marketing, opted out of sale or sharing, restricted), as given
    or folded. The ledger holds keyed hashes only: each identifier of those people is hashed
    in SQL, under each form a record may have hashed it (`forms_sql`), and compared; and
    under its older normal forms (`dsar.subjects.identity.LEGACY_FORMS`: an entry written
    before a form changed, a phone keyed with its extension, a device id in capitals), read
    from the export's cells (`people_older`, devices in `ledger_people`) and from each
    candidate's value as written (`written`, a column of `cand`), only where they differ.

    Their own people (`cand_theirs`), under identifiers that are theirs alone: a landline
    the export holds for several people (`people_shared`) in the ledger leaves out only the
    rows whose uploaded value (`kind`) it is."""
    refs = ledger.refs(LEDGER_REASONS, folded=True)
    if not refs:
        return
    con.register("ledger_refs_arrow", pa.table({"ref": pa.array(refs, pa.string())}))
    con.execute("CREATE OR REPLACE TEMP TABLE ledger_refs AS SELECT ref FROM ledger_refs_arrow")
    con.unregister("ledger_refs_arrow")
    ledger_people(engine, con, ledger)
    con.execute(
        "UPDATE cand SET why = 'in_ledger' WHERE why IS NULL AND i IN (SELECT p.i FROM"
        " cand_theirs p JOIN people_nodes n USING (person) JOIN ledger_nodes USING (node)"
        " WHERE node NOT IN (SELECT node FROM people_shared))"
    )
    _older_table(con)
    # each candidate's value as written, under its older forms (NULL wherever they cannot
    # differ from today's), given to the candidate's identifiers of its kind (`cand_ids`)
    column = quote_identifier(written)
    con.execute("CREATE OR REPLACE TEMP TABLE cand_older (i BIGINT, kind VARCHAR, old VARCHAR)")
    for old in sql_legacy_forms(IdentityKind(kind), column, PLAIN):
        con.execute(
            f"INSERT INTO cand_older SELECT i, '{kind}', old FROM (SELECT i, {old} AS old"
            " FROM cand WHERE why IS NULL) WHERE old IS NOT NULL"
        )
    ref_sql, params = ledger.sql_ref("form")
    con.execute(
        "CREATE OR REPLACE TEMP TABLE held_values AS"
        " WITH open AS (SELECT i FROM cand WHERE why IS NULL),"
        " tested AS (SELECT kind, value FROM people_members WHERE person IN (SELECT person"
        " FROM cand_people WHERE i IN (SELECT i FROM open)) UNION SELECT kind, value FROM"
        " cand_ids WHERE i IN (SELECT i FROM open)),"
        f" older AS (SELECT kind, value, old FROM {_OLDER} UNION SELECT c.kind, c.value,"
        " o.old FROM cand_older o JOIN cand_ids c USING (i, kind)),"
        f" forms AS (SELECT kind, value, unnest({_FORMS}) AS form FROM tested UNION ALL"
        f" SELECT t.kind, t.value, unnest({_OLD_FORMS}) AS form FROM tested t"
        " JOIN older USING (kind, value)),"
        f" held AS (SELECT form FROM (SELECT DISTINCT form FROM forms)"
        f" WHERE {ref_sql} IN (SELECT ref FROM ledger_refs))"
        " SELECT DISTINCT kind, value FROM forms JOIN held USING (form)",
        params,
    )
    con.execute(
        "UPDATE cand SET why = 'in_ledger' WHERE why IS NULL"
        " AND i IN (SELECT p.i FROM cand_theirs p JOIN people_members m USING (person)"
        f" JOIN held_values h USING (kind, value) WHERE {_own('m')}"
        f" UNION SELECT c.i FROM cand_ids c JOIN held_values h USING (kind, value)"
        f" WHERE {_own('c', kind)}"
        f" UNION SELECT x.i FROM ({_sharers(kind)}) x JOIN held_values h USING (kind, value))"
    )


def leave_out_said_no(con: duckdb.DuckDBPyConnection) -> None:
    """Leave out the rows whose person said no in another row of the source (no consent, an
    opt-out: joined through strong identifiers only, a shared phone is no one's answer), or
    in any table of the export (`said_no_people`, from `consent.said_no_people`), through
    the row's own people (`cand_theirs`: a row with a strong identifier is not another
    person's for sharing their landline; a bare phone may be anyone seen with it)."""
    said = ", ".join(f"'{w}'" for w in SAID_NO)
    con.execute(
        "UPDATE cand SET why = 'said_no_elsewhere' WHERE why IS NULL AND i IN (SELECT a.i FROM"
        " cand_people a JOIN cand_people b ON a.person = b.person AND a.strong AND b.strong"
        f" JOIN cand c ON c.i = b.i WHERE c.why IN ({said})"
        " UNION SELECT i FROM cand_theirs JOIN said_no_people USING (person))"
    )


def record_refs(con: duckdb.DuckDBPyConnection, keys: Keys, kind: str = "email") -> None:
    """`cand_refs(i, ref, loose)` for the eligible candidates: the sent record's keyed
    reference (the ledger's, `dsar.records.sent.person_ref`) of every identifier of their
    person, as the ledger keeps it, and with +tags and Gmail dots folded (the ledger keeps
    each email folded too, so any way of writing an address meets one of the two).

    Their people through strong identifiers (a shared phone's other people are not theirs),
    or through any when they have none; a person over `MAX_RECORDED` identifiers is recorded
    under the candidate's own identifiers only. An identifier several people share
    (`people_shared`) is recorded only as the value uploaded (`kind`): an objection under a
    family's landline never withdraws the other person's email upload."""
    ref_sql, ref_params = keys.sql_keyed_hash(Purpose.LEDGER_REF, "kind || '=' || value")
    loose_sql, loose_params = keys.sql_keyed_hash(Purpose.LEDGER_REF, "loose")
    con.execute(
        "CREATE OR REPLACE TEMP TABLE cand_refs AS"
        " WITH eligible AS (SELECT i FROM cand WHERE why IS NULL),"
        " sized AS (SELECT person FROM people_members GROUP BY person"
        f" HAVING count(*) <= {MAX_RECORDED}),"
        " ids AS (SELECT c.i, c.kind, c.value FROM cand_ids c WHERE c.i IN (SELECT i FROM"
        f" eligible) AND {_own('c', kind)}"
        " UNION SELECT t.i, m.kind, m.value FROM cand_theirs t JOIN people_members m"
        " USING (person) WHERE t.i IN (SELECT i FROM eligible)"
        f" AND t.person IN (SELECT person FROM sized) AND {_own('m')}"
        f" UNION SELECT x.i, x.kind, x.value FROM ({_sharers(kind)}) x"
        " WHERE x.i IN (SELECT i FROM eligible)),"
        " hashed AS (SELECT kind, value, "
        f"{ref_sql} AS ref, {loose_sql} AS loose FROM (SELECT kind, value, {_LOOSE} AS loose"
        " FROM (SELECT DISTINCT kind, value FROM ids)))"
        " SELECT DISTINCT i, ref, loose FROM ids JOIN hashed USING (kind, value)",
        [*ref_params, *loose_params],
    )


def shared_unattributed(con: duckdb.DuckDBPyConnection) -> int:
    """The rows left out for a person's no (`in_ledger`, `said_no_elsewhere`,
    `closed_account`) that no person of their own accounts for: the no reached them only
    through an identifier the export holds for several people (`people_shared`: a team
    inbox, a family's phone), which could not be attributed to one of them. Stated in each
    manifest (`shared_unattributed`), a count only."""
    con.execute("CREATE TEMP TABLE IF NOT EXISTS held_values (kind VARCHAR, value VARCHAR)")
    con.execute("CREATE TEMP TABLE IF NOT EXISTS ledger_nodes (node VARCHAR)")
    said = ", ".join(f"'{w}'" for w in SAID_NO)
    own_no = (
        "SELECT person FROM closed_people UNION SELECT person FROM said_no_people"
        " UNION SELECT m.person FROM people_members m JOIN held_values h USING (kind, value)"
        f" WHERE {_own('m')}"
        " UNION SELECT n.person FROM people_nodes n JOIN ledger_nodes USING (node)"
        " WHERE node NOT IN (SELECT node FROM people_shared)"
        " UNION SELECT person FROM cand_people WHERE strong AND i IN (SELECT i FROM cand"
        f" WHERE why IN ({said}))"
    )
    found = con.execute(
        "SELECT count(*) FROM cand WHERE why IN ('in_ledger', 'said_no_elsewhere',"
        " 'closed_account')"
        f" AND i NOT IN (SELECT i FROM cand_people WHERE strong AND person IN ({own_no}))"
        " AND i NOT IN (SELECT c.i FROM cand_ids c JOIN held_values h USING (kind, value)"
        f" WHERE {_own('c')})"
        " AND i IN (SELECT i FROM cand_ids JOIN people_shared USING (kind, value))"
    ).fetchall()
    return int(found[0][0])
