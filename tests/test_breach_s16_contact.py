"""One rule for a person's contact channel (red team 26 r5 F1), `contact_channel`, used by
both searches, the split of joined accounts and the people of identity-less tables.

Where the places disagreed: a row with two addresses of its own person, someone without an
account (a ticket's requester and cc), was written to at its first address (column order)
when the searches described the person, but at the smallest address when the split of
joined accounts made that person (red team 26 r5 F7: the row's address is also one that two
accounts' tickets name). The first address is kept everywhere, as an account holder's is
the first one on their account row."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from dsar import load_catalog, open_engine
from dsar.breach import ScopeSpec, Window, scope_breach
from dsar.breach.people import contact_channel
from dsar.catalog.models import IdentityKind
from dsar.subjects.identity import SubjectKey
from tests.test_attacks_breach_r5_contact import CATALOG as BASE

CATALOG = BASE.replace(
    "      requester_phone: {identity: phone, type: string, category: contact}\n",
    "      requester_phone: {identity: phone, type: string, category: contact}\n"
    "      cc_email: {identity: email, type: string, category: contact}\n",
)

ZED, AMY = "zed@example.com", "amy@example.com"  # AMY sorts first; ZED is the first column


def _export(root: Path, *, shared: bool) -> Path:
    root.mkdir(parents=True)
    with (root / "users.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["user_id", "email", "phone", "country"])
        w.writerow(["u1", "ann@example.com", "", "NL"])
        w.writerow(["u2", "bob@example.com", "", "NL"])
    with (root / "tickets.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(
            ["ticket_id", "user_id", "requester_email", "requester_phone", "cc_email", "created_at"]
        )
        if shared:  # two accounts' tickets name ZED: one joined person, split per account
            w.writerow(["t1", "u1", ZED, "", "", "2026-11-05T10:00:00Z"])
            w.writerow(["t2", "u2", ZED, "", "", "2026-11-05T10:00:00Z"])
        w.writerow(["t3", "", ZED, "", AMY, "2026-11-05T10:00:00Z"])  # no account's
    (root / "catalog.yml").write_text(CATALOG)
    return root / "catalog.yml"


@pytest.mark.parametrize("shared", [False, True])
def test_a_rows_own_person_without_account_is_written_to_at_its_first_address(
    tmp_path: Path, shared: bool
) -> None:
    catalog = _export(tmp_path / "x", shared=shared)
    spec = ScopeSpec(("tickets",), window=Window.parse("2026-11-01", "2026-11-30"))
    with open_engine(load_catalog(catalog)) as engine:
        for method in ("per-person", "set"):
            scope = scope_breach(engine, spec, method=method)
            others = [p for p in scope.people if not p.account_holder]
            assert len(others) == 1, method
            assert others[0].contact == SubjectKey(IdentityKind.EMAIL, ZED), method
            assert scope.account_holders == (2 if shared else 0), method


def _email(value: str) -> SubjectKey:
    return SubjectKey(IdentityKind.EMAIL, value)


def _phone(value: str) -> SubjectKey:
    return SubjectKey(IdentityKind.PHONE, value)


OWN, OTHER = _phone("+13035550199"), _phone("+13035550101")  # OTHER sorts first

CASES = [
    # (keys, holder, address, own phones, contact)
    ({_email(AMY), OTHER}, True, _email(ZED), set(), _email(ZED)),  # the address read first
    ({_email(AMY), OWN, OTHER}, True, None, {OWN}, OWN),  # a holder: never another's row's
    ({_email(AMY), OTHER}, True, None, set(), None),  # a holder with nothing of their own
    ({_email(ZED), _email(AMY), OTHER}, False, None, set(), _email(AMY)),  # no account
    ({OWN, OTHER}, False, None, set(), OTHER),
    (set(), False, None, set(), None),
]


@pytest.mark.parametrize(("keys", "holder", "address", "own", "expected"), CASES)
def test_the_contact_channel_rule(
    keys: set[SubjectKey],
    holder: bool,
    address: SubjectKey | None,
    own: set[SubjectKey],
    expected: SubjectKey | None,
) -> None:
    assert contact_channel(keys, holder=holder, address=address, own_phones=own) == expected
