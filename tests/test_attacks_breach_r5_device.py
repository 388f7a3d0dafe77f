"""Red team 26 round 5, finding 11: an advertising id (a UUID: IDFA, GAID) written in capitals
in one table and in lower case in another linked no one: the anonymous leaked line was 'not
linked' and its person never told. RFC 9562 reads a UUID's hex digits in either case; a device
id shaped as a UUID is now compared in lower case (`dsar.subjects.identity.normalize` and its
SQL twin), by access, erasure and breach scoping alike; other device ids are kept as written."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from dsar import SubjectRequest, load_catalog, open_engine, parse_key
from dsar.catalog.models import IdentityKind
from dsar.subjects.collect import collect
from dsar.subjects.identity import MatchRules, normalize, sql_normalize
from tests.test_attacks_breach import _run
from tests.test_attacks_breach_r4_device import DEVICE, _export


def _upper(root: Path) -> Path:
    catalog = _export(root, email_on_tickets=False)
    events = root / "events.csv"
    events.write_text(events.read_text().replace(DEVICE, DEVICE.upper()))
    return catalog


@pytest.mark.parametrize("for_match", [False, True])
@pytest.mark.parametrize(
    ("written", "kept"),
    [(DEVICE.upper(), DEVICE), (f" {DEVICE} ", DEVICE), ("DevA-Push-Token", "DevA-Push-Token")],
)
def test_a_uuid_device_id_is_read_in_lower_case(written: str, kept: str, for_match: bool) -> None:
    assert normalize(IdentityKind.DEVICE_ID, written, MatchRules()) == kept
    literal = "'" + written + "'"
    sql = sql_normalize(IdentityKind.DEVICE_ID, literal, MatchRules(), for_match=for_match)
    assert duckdb.execute(f"SELECT {sql}").fetchall() == [(kept,)]
    # a bundle's own check restates the rule apart from the engine's code: the same key
    from dsar.review.bundle import _norm
    from dsar.review.manifest import MatchRulesInfo

    info = MatchRulesInfo(gmail_dots=False, plus_addressing=False)
    assert _norm("device_id", written, info) == kept


def test_access_finds_the_ticket_through_the_device_in_either_case(tmp_path: Path) -> None:
    catalog = load_catalog(_upper(tmp_path / "x"))
    with open_engine(catalog) as engine:
        [bob] = collect(engine, catalog, [SubjectRequest("A", (parse_key("user_id=u2"),))])
    assert bob.tables["tickets"].column("ticket_id").to_pylist() == ["t7"]


def test_breach_scope_reaches_the_account_of_the_device_in_either_case(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = _upper(tmp_path / "x")
    code, out = _run(
        [
            "breach", "scope", "--catalog", str(catalog), "--table", "tickets",
            "--discovered", "2026-12-01T10:00Z", "--out", str(tmp_path / "scope"),
        ],
        monkeypatch,
    )  # fmt: skip
    assert code == 0, out
    assert "2 people (2 account holders" in out and "0 rows linked to no one" in out, out
