"""The gate decides on what each platform hashes: every value as the platform normalises it.

A platform does more to a value than the ledger's rules (trim, lower case): Google and TikTok
remove spaces inside an address, Amazon every character but letters, digits and `._@-`,
TikTok every `+tag`, the Gmail rules dots; a phone goes through the phone library, which
reads an extension, full-width and Arabic-Indic digits. `JOHN DOE@x.com`, `john!doe@x.com`
or `+44 7700 900123 ext. 45` matched nobody in the export, and were hashed to the real
person's hash. So, before anyone is matched:

- `add_platform_forms`: each candidate's value is normalised by each chosen platform's own
  normaliser (`Platform.email_relation`, `to_e164`: the functions that write the file) and
  added to its identifiers (`cand_ids`) where it differs from the value as given: the person
  is then found, and the ledger, the opt-outs, Limited Use and the sent record checked, on
  what is uploaded, and on its folded form (`node_sql`);
- `add_idn_forms`: an address is also its person's under its other forms: an
  internationalised domain in Unicode and in IDNA ASCII (`müller.de`, `xn--mller-kva.de`),
  full-width letters NFKC-normalised; the platform still hashes what it would hash;
- `add_export_forms`: an address of the export that a platform writes otherwise (a quote or a
  space inside it) is also its person's under that form, so a list holding the form the
  platform uploads finds them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pyarrow as pa

from anonymize.audience.platforms import Platform, to_e164
from dsar.catalog.models import IdentityKind
from dsar.subjects.people import identity_sql, idn_forms, node_sql

if TYPE_CHECKING:
    import duckdb

_EMAIL = IdentityKind.EMAIL
_PHONE = IdentityKind.PHONE
_PLAIN_CHARS = "[^a-z0-9._@+-]"  # an address of only these is written alike by every platform


def add_platform_forms(
    con: duckdb.DuckDBPyConnection, chosen: list[Platform], kind: str, region: str | None
) -> int:
    """Add to `cand_ids` each candidate's value as each chosen platform uploads it, where it
    differs from the value as given; returns how many were added."""
    before = _count(con, "cand_ids")
    if kind == "phone":
        values = [
            r[0] for r in con.execute("SELECT DISTINCT v FROM cand WHERE v IS NOT NULL").fetchall()
        ]
        table = pa.table(
            {"v": pa.array(values, pa.string()), "e164": [to_e164(v, region) for v in values]}
        )
        con.register("cand_e164_arrow", table)
        # every platform uploads this E.164 number (with or without its '+')
        value = identity_sql(_PHONE, "e.e164")
        con.execute(
            f"INSERT INTO cand_ids SELECT DISTINCT c.i, 'phone', {value},"
            f" {node_sql(_PHONE, value)}, false FROM cand c JOIN cand_e164_arrow e USING (v)"
            f" WHERE {value} IS NOT NULL"
            f" AND {value} IS DISTINCT FROM {identity_sql(_PHONE, 'c.v')}"
        )
        con.unregister("cand_e164_arrow")
    else:
        # a plain address (no +tag, no Gmail, nothing but letters, digits and ._-) is written
        # alike by every platform: only the others are normalised again (a tenth of the time)
        con.execute(
            "CREATE OR REPLACE TEMP TABLE cand_unusual AS SELECT i, v FROM cand WHERE NOT"
            " regexp_full_match(v, '[a-z0-9._-]+@[a-z0-9-]+(\\.[a-z0-9-]+)+')"
            " OR contains(v, 'gmail.com') OR contains(v, 'googlemail.com')"
        )
        plain = identity_sql(_EMAIL, "v")
        for p in chosen:
            con.execute(
                f"INSERT INTO cand_ids SELECT i, 'email', __email, {node_sql(_EMAIL, '__email')},"
                f" true FROM {p.email_relation('cand_unusual', 'v')}"
                f" WHERE __email IS NOT NULL AND __email IS DISTINCT FROM {plain}"
            )
        con.execute("DROP TABLE cand_unusual")
    added = _count(con, "cand_ids") - before
    if added:  # two platforms may write a value alike: each identifier once
        con.execute("CREATE OR REPLACE TEMP TABLE cand_ids AS SELECT DISTINCT * FROM cand_ids")
    return added


def add_export_forms(con: duckdb.DuckDBPyConnection, chosen: list[Platform]) -> int:
    """Add to `people_nodes` and `people_members` each export address as a platform that
    removes characters (spaces, quotes) writes it, where that differs; returns how many."""
    cutting = [p for p in chosen if p.strip_spaces or p.email_chars is not None]
    if not cutting:
        return 0
    before = _count(con, "people_members")
    for p in cutting:
        unusual = (
            "(SELECT person, value FROM people_members WHERE kind = 'email'"
            f" AND regexp_matches(value, '{_PLAIN_CHARS}'))"
        )
        con.execute(
            "CREATE OR REPLACE TEMP TABLE export_forms AS SELECT DISTINCT person, value,"
            f" __email AS form FROM {p.email_relation(unusual, 'value')}"
            " WHERE __email IS NOT NULL AND __email <> value"
        )
        con.execute(
            "INSERT INTO people_members SELECT DISTINCT person, 'email', form FROM export_forms"
            " WHERE (person, form) NOT IN (SELECT (person, value) FROM people_members"
            " WHERE kind = 'email')"
        )
        con.execute(
            f"INSERT INTO people_nodes SELECT DISTINCT {node_sql(_EMAIL, 'f.form')}, f.person,"
            f" n.marked_by, n.only_marked_by FROM export_forms f JOIN people_nodes n"
            f" ON n.node = {node_sql(_EMAIL, 'f.value')} AND n.person = f.person"
        )
    con.execute("DROP TABLE IF EXISTS export_forms")
    return _count(con, "people_members") - before


_IDN = "(strlen(value) <> length(value) OR contains(value, 'xn--'))"


def add_idn_forms(con: duckdb.DuckDBPyConnection) -> int:
    """Add to `cand_ids`, and to the export's people (`people_members`, `people_nodes`,
    `people_held`), each address's other forms (`idn_forms`: an internationalised domain in
    Unicode and in ASCII, full-width letters): `anna@müller.de` is the person the export or
    the ledger holds as `anna@xn--mller-kva.de`. Only the addresses not in plain ASCII, or
    with an `xn--` label, are read into Python (rare). Returns the forms added."""
    added = 0
    for table, key in (("cand_ids", "i"), ("people_members", "person")):
        rows = con.execute(
            f"SELECT DISTINCT {key}, value FROM {table} WHERE kind = 'email' AND {_IDN}"
        ).fetchall()
        pairs = [(k, v, f) for k, v in rows for f in idn_forms(str(v))]
        if not pairs:
            continue
        added += len(pairs)
        con.register(
            "idn_arrow",
            pa.table(
                {
                    "k": pa.array([k for k, _, _ in pairs], pa.int64()),
                    "value": pa.array([v for _, v, _ in pairs], pa.string()),
                    "form": pa.array([f for _, _, f in pairs], pa.string()),
                }
            ),
        )
        if table == "cand_ids":
            con.execute(
                f"INSERT INTO cand_ids SELECT DISTINCT c.i, 'email', a.form,"
                f" {node_sql(_EMAIL, 'a.form')}, c.strong FROM cand_ids c JOIN idn_arrow a"
                " ON a.k = c.i AND a.value = c.value WHERE c.kind = 'email'"
            )
        else:
            con.execute(
                "INSERT INTO people_members SELECT DISTINCT k, 'email', form FROM idn_arrow"
            )
            con.execute(
                f"INSERT INTO people_nodes SELECT DISTINCT {node_sql(_EMAIL, 'a.form')},"
                " n.person, n.marked_by, n.only_marked_by FROM idn_arrow a JOIN people_nodes n"
                f" ON n.node = {node_sql(_EMAIL, 'a.value')} AND n.person = a.k"
            )
            con.execute(
                "INSERT INTO people_held SELECT DISTINCT 'email', a.form, h.marked_by,"
                " h.only_marked_by FROM idn_arrow a JOIN people_held h"
                " ON h.kind = 'email' AND h.value = a.value"
            )
        con.unregister("idn_arrow")
    if added:
        for table in ("cand_ids", "people_members", "people_nodes", "people_held"):
            con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT DISTINCT * FROM {table}")
    return added


def _count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    # fetchall: a result left unfinished blocks register() on this connection
    return int(con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0])
