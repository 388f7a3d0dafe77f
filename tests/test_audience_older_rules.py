"""An audience leaves out the person a ledger entry written under an older normal form names.

The ledger holds keyed references of normalised identifiers, never values, so an entry
written before a normal form changed keeps its old form (`identity.LEGACY_FORMS`): a phone
keyed with its extension's digits (before b9ec3fb), a UUID device id as written, in capitals
(before 05fefaf), an IP address as written (before 72241a4). An audience matched people on
today's forms only, so such an objector was uploaded again from an export that holds the
same value. Now each value the audience matches people on (the export's cells, a device or
address seen with a person, the candidate's own value as written) is also compared under its
older forms, where they differ: the person is left out, and nobody else is.

Each entry is written as the old code wrote it (as `tests/test_ledger_older_rules.py` does):
the old form by hand, hashed through the ledger's own reference (`Ledger.add(as_found=True)`).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import pytest

from anonymize.audience import AudienceList, build_audience, platform
from dsar import load_catalog, open_engine
from dsar.catalog import IdentityKind
from dsar.records.ledger import Ledger, Reason
from dsar.subjects.identity import SubjectKey
from tests.test_ledger import KEYS

PHONE, DEVICE, IP = IdentityKind.PHONE, IdentityKind.DEVICE_ID, IdentityKind.IP_ADDRESS

CATALOG = """\
version: 1
controller: {name: Shop Ltd, contact: privacy@shop.example, supervisory_authority: DPC}
tables:
  prefs:
    path: prefs.csv
    format: csv
    description: Advertising choices.
    category: marketing_preferences
    origin: provided
    purposes: [advertising audiences]
    legal_basis: consent
    source: the person
    retention: {criteria: while consent lasts}
    erasure: {action: delete}
    primary_key: [user_id]
    columns:
      user_id: {identity: user_id, type: string}
      email: {identity: email, type: string}
      phone: {identity: phone, type: string}
      ads: {type: boolean}
      opted_out_at: {type: timestamp}
  events:
    path: events.csv
    format: csv
    description: App events.
    category: usage
    origin: observed
    purposes: [service]
    legal_basis: contract
    source: the app
    retention: {criteria: while open}
    erasure: {action: delete}
    primary_key: [event_id]
    columns:
      event_id: {type: string}
      user_id: {identity: user_id, type: string}
      device_id: {identity: device_id, type: string}
      ip_address: {identity: ip_address, type: string}
"""
SPEC = """\
version: 1
name: shop-{column}
table: prefs
{column}: {column}
consent: ads
opted_out: opted_out_at
"""
# u1's number has an extension; their iPhone writes its advertising id in capitals, from an
# IPv6 address written out (or IPv4-mapped); u2 and u3 have other numbers, devices, addresses
PREFS = """\
user_id,email,phone,ads,opted_out_at
u1,ann@example.com,+1 303 555 0101 x12,true,
u2,bob@example.com,+1 720 555 0199,true,
u3,cy@example.com,+1 415 555 0123 ext. 7,true,
"""
EVENTS = """\
event_id,user_id,device_id,ip_address
e1,u1,6F9619FF-8B86-D011-B42D-00CF4FC964FF,2001:DB8:0:0:0:0:0:1
e2,u1,6F9619FF-8B86-D011-B42D-00CF4FC964FF,::FFFF:192.0.2.1
e3,u2,0f8fad5b-d9cb-469f-a165-70867728950e,2001:db8::2
e4,u3,A1B2C3D4-0000-4000-8000-00000000BEEF,198.51.100.7
"""
EMAILS = {"u1": "ann@example.com", "u2": "bob@example.com", "u3": "cy@example.com"}
PHONES = {"u1": "+1 303 555 0101 x12", "u2": "+1 720 555 0199", "u3": "+1 415 555 0123 ext. 7"}


@dataclass(frozen=True)
class Old:
    """One entry the old code wrote: the kind, the old form, and the commit retiring it."""

    kind: IdentityKind
    old: str  # by hand, as the old normalise read u1's cell
    retired_by: str


OLD = [
    # phone_key before b9ec3fb: every ASCII digit and '+', the extension's '12' glued on
    Old(PHONE, "+1303555010112", "b9ec3fb"),
    # normalize before 05fefaf: a device id trimmed, as written
    Old(DEVICE, "6F9619FF-8B86-D011-B42D-00CF4FC964FF", "05fefaf"),
    # normalize before 72241a4: an address lower-cased, as written
    Old(IP, "2001:db8:0:0:0:0:0:1", "72241a4"),
    Old(IP, "::ffff:192.0.2.1", "72241a4"),
]
IDS = [f"{o.kind.value}-{o.retired_by}-{o.old}" for o in OLD]


def _export(root: Path) -> Path:
    root.mkdir()
    (root / "prefs.csv").write_text(PREFS)
    (root / "events.csv").write_text(EVENTS)
    (root / "catalog.yml").write_text(CATALOG)
    for column in ("email", "phone"):
        (root / f"spec-{column}.yml").write_text(SPEC.format(column=column))
    return root / "catalog.yml"


def _old_entry(path: Path, kind: IdentityKind, old: str) -> None:
    """The entry as the old code wrote it: the identifier as it then normalised it."""
    book = Ledger(path, KEYS)
    try:
        book.add([SubjectKey(kind, old)], Reason.OBJECTED_DIRECT_MARKETING, "OB-OLD", as_found=True)
    finally:
        book.close()


def _hash(value: str, kind: str) -> str:
    p = platform("meta")
    normalised = p.email(value) if kind == "email" else p.phone(value)
    assert normalised is not None
    return p.hash(normalised)


def _audience(
    catalog_path: Path, source: Path | AudienceList, ledger: Path, out: Path
) -> tuple[set[str], int]:
    """The hashes written for meta, and the rows left out as in the ledger."""
    book = Ledger(ledger, KEYS)
    try:
        with open_engine(load_catalog(catalog_path)) as engine:
            result = build_audience(source, engine, ["meta"], out, ledger=book)
    finally:
        book.close()
    written: set[str] = set()
    for file in result.files["meta"]:
        written |= {r[0] for r in list(csv.reader(file.open()))[1:]}
    return written, result.manifests["meta"].counts["in_ledger"]


@pytest.mark.parametrize("kind", ["email", "phone"])
@pytest.mark.parametrize("old", OLD, ids=IDS)
def test_an_audience_leaves_out_the_objector_recorded_under_an_older_form(
    tmp_path: Path, old: Old, kind: str
) -> None:
    """u1 is left out of the email and the phone audience (the entry names their phone, or
    a device or address seen with them in the events); u2 and u3 are not."""
    catalog = _export(tmp_path / "export")
    _old_entry(tmp_path / "ledger.db", old.kind, old.old)
    written, in_ledger = _audience(
        catalog, catalog.parent / f"spec-{kind}.yml", tmp_path / "ledger.db", tmp_path / "out"
    )
    values = EMAILS if kind == "email" else PHONES
    assert written == {_hash(values[u], kind) for u in ("u2", "u3")}
    assert in_ledger == 1


def test_a_list_s_number_as_written_meets_its_older_key(tmp_path: Path) -> None:
    """A list's value the export does not hold (a stranger): its extension, cut off as the
    list is read, is read from the value as written, so the old key of the number with that
    extension leaves it out; the same number with another extension, and u2, stay."""
    catalog = _export(tmp_path / "export")
    _old_entry(tmp_path / "ledger.db", PHONE, "+1212555014299")
    given = ["+1 212 555 0142 x99", "+1 212 555 0143 x99", PHONES["u2"]]
    (tmp_path / "list.csv").write_text("phone\n" + "\n".join(given) + "\n")
    source = AudienceList(
        path=tmp_path / "list.csv",
        column="phone",
        kind="phone",
        consent_basis="legitimate interests: existing customers, told at sign-up",
    )
    written, in_ledger = _audience(catalog, source, tmp_path / "ledger.db", tmp_path / "out")
    assert written == {_hash(v, "phone") for v in given[1:]}
    assert in_ledger == 1


def test_an_entry_under_an_older_form_of_another_value_leaves_nobody_out(
    tmp_path: Path,
) -> None:
    """Old forms of values the export does not hold (u1's number with another extension,
    another device in capitals, another address written out) reach nobody."""
    catalog = _export(tmp_path / "export")
    book = Ledger(tmp_path / "ledger.db", KEYS)
    try:
        book.add(
            [
                SubjectKey(PHONE, "+1303555010113"),
                SubjectKey(DEVICE, "0F8FAD5B-D9CB-469F-A165-70867728950F"),
                SubjectKey(IP, "2001:db8:0:0:0:0:0:3"),
            ],
            Reason.OBJECTED_DIRECT_MARKETING,
            "OB-2",
            as_found=True,
        )
    finally:
        book.close()
    for kind, values in (("email", EMAILS), ("phone", PHONES)):
        written, in_ledger = _audience(
            catalog, catalog.parent / f"spec-{kind}.yml", tmp_path / "ledger.db", tmp_path / kind
        )
        assert written == {_hash(v, kind) for v in values.values()}
        assert in_ledger == 0


@pytest.mark.parametrize("specs", [(), ("spec-email.yml",)], ids=["no spec", "spec"])
@pytest.mark.parametrize("old", OLD, ids=IDS)
def test_withdraw_finds_an_upload_of_the_objector_recorded_under_an_older_form(
    tmp_path: Path, old: Old, specs: tuple[str, ...]
) -> None:
    """Uploaded before the entry was written (or by a build that did not know the old form):
    `anonymize withdraw --catalog` (`ineligible_uploads`, through the person) names u1's
    upload, with or without the audience's spec, and nobody else's."""
    from anonymize.audience.recheck import ineligible_uploads
    from dsar.records.sent import SentRecord

    catalog_path = _export(tmp_path / "export")
    catalog = load_catalog(catalog_path)
    record = SentRecord(tmp_path / "sent.db", KEYS)
    try:
        with open_engine(catalog) as engine:
            build_audience(
                catalog_path.parent / "spec-email.yml",
                engine,
                ["meta"],
                tmp_path / "out",
                record=record,
            )
        _old_entry(tmp_path / "ledger.db", old.kind, old.old)
        book = Ledger(tmp_path / "ledger.db", KEYS)
        try:
            with open_engine(catalog) as engine:
                found = ineligible_uploads(
                    engine,
                    record,
                    platform("meta"),
                    [catalog_path.parent / s for s in specs],
                    ledger=book,
                )
        finally:
            book.close()
    finally:
        record.close()
    assert found.hashes == {_hash(EMAILS["u1"], "email"): "in_ledger"}
