"""Red team 26 round 5, finding 14: `--regime pecr` (or `nis2`) named by a company whose
affected people live elsewhere (three US residents) added no row at all, silently, while
scope.json listed the regime as covered. PECR's and NIS2's duties follow the service the
company provides in the UK or the EU, not where the people live: their rows are now listed
as 'possibly', saying why, never dropped unsaid."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from dsar.breach.deadlines import Applies, compute_deadlines
from tests.test_attacks_breach import _lab, _rules, _scope

DISCOVERED = datetime(2026, 11, 20, 10, tzinfo=UTC)


@pytest.mark.parametrize(
    ("regime", "rules"),
    [("pecr", ["uk-pecr"]), ("nis2", ["nis2-early-warning", "nis2-notification", "nis2-final"])],
)
@pytest.mark.parametrize("established", ["none", "auto"])
def test_a_regime_named_with_no_one_living_there_is_listed_as_possibly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, regime: str, rules: list[str], established: str
) -> None:
    catalog = _lab(tmp_path / "lab", [("US", "CO")] * 3)
    out = tmp_path / "BR"
    extra = ["--regime", regime] + (["--established", "none"] if established == "none" else [])
    code, output = _scope(catalog, out, monkeypatch, *extra)
    assert code == 0, output
    found = _rules(out)
    for rule in rules:
        assert rule in found, (rule, sorted(found))
        assert found[rule]["applies"] == "possibly"
        assert found[rule]["people"] == 3
        assert "follows its service" in str(found[rule]["when"])


def test_a_regime_where_its_people_live_stays_yes() -> None:
    found = {
        d.rule: d
        for d in compute_deadlines(DISCOVERED, {"GB": 2, "EU/EEA": 1}, regimes={"pecr", "nis2"})
    }
    assert found["uk-pecr"].applies is Applies.YES and found["uk-pecr"].people == 2
    assert found["nis2-early-warning"].applies is Applies.YES
    assert found["uk-pecr"].due == DISCOVERED + timedelta(hours=24)
    assert "possibly" not in found["uk-pecr"].when


def test_a_regime_not_named_adds_no_row() -> None:
    found = {d.rule for d in compute_deadlines(DISCOVERED, {"US": 3, "US-CO": 3})}
    assert not {r for r in found if r.startswith(("uk-pecr", "nis2"))}
