"""Red team 26 round 5, finding 18: a person with rows in two places (a German address on
the account, a Colorado one in the address book) was placed in Germany alone, silently, and
Colorado's deadline was lost. Every place a person's rows hold now counts them (once per
place a rule names: two EU countries are one place, two US states two), each place's
deadlines apply, and the console says how many people have several places."""

from __future__ import annotations

from pathlib import Path

import pytest

from dsar.breach.deadlines import places_of
from dsar.breach.places import read_residence
from dsar.breach.scope import AffectedPerson
from tests.test_attacks_breach import _lab, _rules, _scope

ADDRESSES = """\
  addresses:
    path: addresses.csv
    format: csv
    description: Address book.
    category: contact
    origin: provided
    purposes: [deliveries]
    legal_basis: contract
    source: the person
    retention: {criteria: while the account is open}
    erasure: {action: delete}
    columns:
      address_id: {type: string}
      user_id: {identity: user_id, type: string, references: accounts.user_id}
      country: {type: string, category: location}
      state: {type: string, category: location}
"""


def _two_places(root: Path, book: list[tuple[str, str, str]]) -> Path:
    catalog = _lab(root, [("DE", ""), ("US", "FL")])
    lines = ["address_id,user_id,country,state"]
    lines += [f"a{i},{user},{country},{state}" for i, (user, country, state) in enumerate(book)]
    (root / "addresses.csv").write_text("\n".join(lines) + "\n")
    catalog.write_text(catalog.read_text() + ADDRESSES)
    return catalog


@pytest.mark.parametrize("search", ["set", "per-person"])
def test_a_second_address_in_colorado_brings_colorados_deadline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, search: str
) -> None:
    if search == "per-person":  # the search the set search stands in for, on the same data
        monkeypatch.setattr("dsar.breach.scope.supported", lambda *_: False)
    catalog = _two_places(tmp_path / "lab", [("u1", "US", "CO"), ("u1", "DE", "")])
    out = tmp_path / "S"
    code, output = _scope(catalog, out, monkeypatch)
    assert code == 0, output
    rules = _rules(out)
    assert "us-co" in rules and "us-fl" in rules, sorted(rules)
    assert "gdpr-authority" in rules
    assert "1 person(s) have rows in more than one country or US state" in output


def test_one_place_each_is_counted_as_before(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = _two_places(tmp_path / "lab", [("u1", "DE", ""), ("u2", "US", "FL")])
    out = tmp_path / "S"
    code, output = _scope(catalog, out, monkeypatch)
    assert code == 0, output
    assert "us-co" not in _rules(out)
    assert "more than one country" not in output


def test_places_are_counted_once_per_place_a_rule_names() -> None:
    person = AffectedPerson(
        number=1,
        keys=frozenset(),
        account_holder=True,
        country="Deutschland",
        state=None,
        elsewhere=(("FR", None), ("US", "CO"), ("US", "Colorado"), ("n/a", None), ("US", "TX")),
    )
    read = read_residence([person], "EU/EEA")
    assert places_of(person) == [("DE", None), ("US", "CO"), ("US", "TX")]
    assert read.several == 1
    # the first row's country says nothing: the person is placed where another row says
    unknown = AffectedPerson(
        number=2, keys=frozenset(), account_holder=True, country="", elsewhere=(("NL", None),)
    )
    read_residence([unknown], "EU/EEA")
    assert (unknown.country, unknown.elsewhere) == ("NL", ())


def test_an_unreadable_second_place_is_dropped() -> None:
    person = AffectedPerson(
        number=1, keys=frozenset(), account_holder=True, country="DE", elsewhere=(("n/a", None),)
    )
    read_residence([person], "EU/EEA")
    assert person.elsewhere == () and places_of(person) == [("DE", None)]
