"""Extracts and aggregates of the same data, attacked together (issue 22, point 5, red team F6).

An extract's rows give the count of every combination of the columns it keeps: a k = 10 extract
by country and status beside the shipped `examples/aggregate_accounts.yml` gave back all 6
cells the aggregate suppressed; a plan-only extract gave the exact counts of the noisy plan
cells; the same extract run before and after one person's objection differed by exactly that
person's row. Each attack is carried out on the demo export (1,000 users, seed 7) by an
attacker who solves every published number as a linear system, then run again with the release
log, which now records extracts too.
"""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from anonymize import run_aggregates
from anonymize.cli import app as anonymize_app
from anonymize.extract import run_extract
from dsar import (
    IdentityKind,
    Keys,
    Ledger,
    Reason,
    ReleaseConflictError,
    ReleaseLog,
    SubjectKey,
    load_catalog,
    open_engine,
)
from dsar.demo import generate

KEYS = Keys(b"release-log-attacks-key-0123456789abcdef")
EXAMPLES = Path(__file__).parents[1] / "examples"
COLUMNS = [
    "customer_id",
    "email",
    "full_name",
    "phone",
    "company",
    "city",
    "signup_method",
    "password_hash",
    "account_manager_id",
    "created_at",
    "closed_at",
    "last_login_at",
    "plan",
    "country",
    "status",
]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The issue's demo export: 1,000 users, seed 7; the catalog's path."""
    return generate(tmp_path_factory.mktemp("demo1000"), users=1000, seed=7).catalog_path


def _policy(folder: Path, name: str, kept: list[str], k: int = 10) -> Path:
    columns: dict[str, object] = dict.fromkeys(COLUMNS, "drop")
    columns.update({"user_id": "hash", **dict.fromkeys(kept, "keep")})
    policy = {
        "version": 1,
        "name": name,
        "table": "accounts",
        "person": "user_id",
        "columns": columns,
        "quasi_identifiers": kept,
        "privacy": {"k": k, "max_suppression": 0.5},
        "output": {"path": "accounts.parquet"},
    }
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.yml"
    path.write_text(yaml.safe_dump(policy, sort_keys=False))
    return path


def _extract(
    catalog: Path, policy: Path, out: Path, log: ReleaseLog | None, ledger: Ledger | None = None
) -> pd.DataFrame:
    with open_engine(load_catalog(catalog)) as engine:
        result = run_extract(policy, engine, out, keys=KEYS, release_log=log, ledger=ledger)
    return pd.read_parquet(result.file)


def _aggregate(catalog: Path, spec: Path, out: Path, log: ReleaseLog) -> dict[str, pd.DataFrame]:
    with open_engine(load_catalog(catalog)) as engine:
        result = run_aggregates(spec, engine, out, release_log=log)
    return {n: pd.read_csv(p, dtype=str, keep_default_na=False) for n, p in result.files.items()}


def _accounts(catalog: Path) -> pd.DataFrame:
    return pd.read_csv(catalog.parent / "accounts.csv", dtype=str, keep_default_na=False)


def _recover(
    source: pd.DataFrame, extract: pd.DataFrame, tables: dict[str, pd.DataFrame]
) -> tuple[int, int]:
    """The attacker: every (country, plan, status) combination of the data an unknown; each
    published aggregate cell (margins included) an equation, and each (country, status) class
    of the extract, taken as exact, and its total; a suppressed by_country_status cell is
    recovered when the equations determine it and give its true count. Returns (recovered,
    suppressed)."""
    atoms = sorted({tuple(r) for r in source[["country", "plan", "status"]].to_numpy()})
    rows: list[list[int]] = []
    values: list[float] = []

    def equation(match: dict[str, str], value: float) -> None:
        names = ["country", "plan", "status"]
        rows.append([int(all(a[names.index(c)] == v for c, v in match.items())) for a in atoms])
        values.append(value)

    for _, r in tables["by_country_plan"].iterrows():
        if r["people"] != "":
            match = {c: r[c] for c in ("country", "plan") if r[c] != "(total)"}
            equation(match, float(r["people"]))
    hidden = []
    for _, r in tables["by_country_status"].iterrows():
        if r["people"] != "":
            equation({"country": r["country"], "status": r["status"]}, float(r["people"]))
        else:
            hidden.append((r["country"], r["status"]))
    for (country, status), n in Counter(
        zip(extract["country"], extract["status"], strict=True)
    ).items():
        equation({"country": country, "status": status}, float(n))
    equation({}, float(len(source)))  # the extract's manifest: rows in
    a, b = np.array(rows, dtype=float), np.array(values)
    x = np.linalg.lstsq(a, b, rcond=None)[0]
    truth = Counter(zip(source["country"], source["status"], strict=True))
    recovered = 0
    for country, status in hidden:
        h = np.array([float(at[0] == country and at[2] == status) for at in atoms])
        inside = np.linalg.lstsq(a.T, h, rcond=None)[0]
        if (
            np.allclose(a.T @ inside, h, atol=1e-6)
            and round(float(h @ x)) == truth[(country, status)]
        ):
            recovered += 1
    return recovered, len(hidden)


def test_an_extract_and_an_aggregate_give_back_no_suppressed_cell(
    demo: Path, tmp_path: Path
) -> None:
    policy = _policy(tmp_path, "by-country-status", ["country", "status"])
    spec = EXAMPLES / "aggregate_accounts.yml"
    source = _accounts(demo)
    # the attack, with no release log for the extract: every suppressed cell comes back
    log = ReleaseLog(tmp_path / "plain.db", KEYS)
    extract = _extract(demo, policy, tmp_path / "a", None)
    recovered, hidden = _recover(source, extract, _aggregate(demo, spec, tmp_path / "a", log))
    assert (recovered, hidden) == (6, 6)
    # the extract recorded: the aggregate hides what the two would give back together
    log = ReleaseLog(tmp_path / "releases.db", KEYS)
    extract = _extract(demo, policy, tmp_path / "b", log)
    tables = _aggregate(demo, spec, tmp_path / "b", log)
    recovered, hidden = _recover(source, extract, tables)
    assert hidden >= 3 and recovered == 0
    assert [r.method for r in log.releases("accounts")] == ["extract", "suppression"]
    # the other order: the aggregate first, then the extract is refused with the fix
    log = ReleaseLog(tmp_path / "other.db", KEYS)
    _aggregate(demo, spec, tmp_path / "c", log)
    with pytest.raises(ReleaseConflictError, match=r"could be recomputed.*release country"):
        _extract(demo, policy, tmp_path / "c", log)
    assert not (tmp_path / "c" / "by-country-status").exists()
    assert len(log.releases()) == 1
    # an extract that keeps nothing the aggregate groups by is published beside it
    other = _policy(tmp_path, "by-method", ["signup_method"])
    _extract(demo, other, tmp_path / "c", log)
    assert [r.method for r in log.releases()] == ["suppression", "extract"]


def test_an_aggregate_cell_an_extract_publishes_is_refused(demo: Path, tmp_path: Path) -> None:
    """An extract at k = 2 publishes classes of 2 to 9 people: an aggregate suppressing the
    same cells as small hides nothing, and is refused."""
    log = ReleaseLog(tmp_path / "releases.db", KEYS)
    policy = _policy(tmp_path, "by-country-status-k2", ["country", "status"], k=2)
    _extract(demo, policy, tmp_path, log)
    spec = tmp_path / "by-status.yml"
    spec.write_text(
        "version: 1\nname: by-status\ntable: accounts\nperson: user_id\nmin_count: 10\n"
        "aggregates:\n  - {name: t, group_by: [country, status]}\n"
    )
    with pytest.raises(ReleaseConflictError, match=r"suppresses \(fewer than 10 people\)"):
        _aggregate(demo, spec, tmp_path, log)


def test_the_command_line_records_an_extract_and_checks_the_aggregate(
    demo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WORKBENCH_KEY", "release-log-attacks-key-0123456789abcdef")
    runner = CliRunner()
    log = ["--release-log", str(tmp_path / "records" / "releases.db")]
    common = ["--catalog", str(demo), "--out", str(tmp_path / "out"), *log]
    spec = str(EXAMPLES / "aggregate_accounts.yml")
    done = runner.invoke(anonymize_app, ["aggregate", spec, *common])
    assert done.exit_code == 0, done.output
    policy = _policy(tmp_path, "by-country-status", ["country", "status"])
    refused = runner.invoke(anonymize_app, ["extract", str(policy), *common])
    message = str(refused.exception)
    assert refused.exit_code != 0 and isinstance(refused.exception, ReleaseConflictError)
    assert "could be recomputed" in message and "release country" in message
    assert not (tmp_path / "out" / "by-country-status").exists()
    # the other order, through the command line too: recorded, then checked
    log = ["--release-log", str(tmp_path / "records" / "second.db")]
    common = ["--catalog", str(demo), "--out", str(tmp_path / "out2"), *log]
    done = runner.invoke(anonymize_app, ["extract", str(policy), *common])
    assert done.exit_code == 0, done.output
    assert "release log:" in done.output
    done = runner.invoke(anonymize_app, ["aggregate", spec, *common])
    assert done.exit_code == 0, done.output
    extract = pd.read_parquet(tmp_path / "out2" / "by-country-status" / "accounts.parquet")
    tables = {
        n: pd.read_csv(
            tmp_path / "out2" / "accounts-aggregates" / f"{n}.csv",
            dtype=str,
            keep_default_na=False,
        )
        for n in ("by_country_plan", "by_country_status")
    }
    assert _recover(_accounts(demo), extract, tables)[0] == 0
    listed = runner.invoke(anonymize_app, ["releases", *log])
    assert "extract" in listed.output and "suppression" in listed.output


def test_an_extract_gives_no_exact_count_of_a_noisy_cell(demo: Path, tmp_path: Path) -> None:
    spec = tmp_path / "by-plan-dp.yml"
    spec.write_text(
        "version: 1\nname: by-plan-dp\ntable: accounts\nperson: user_id\n"
        "differential_privacy: {epsilon: 0.2, max_groups_per_person: 1,"
        " keys: {plan: [free, team, business, enterprise]}}\n"
        "aggregates:\n  - name: by_plan\n    group_by: [plan]\n"
        "    measures: [{name: people, op: count}]\n"
    )
    policy = _policy(tmp_path, "plans", ["plan"])
    truth = Counter(_accounts(demo)["plan"])
    # the attack: the plan-only extract's counts are the noisy cells' exact counts
    noisy = _aggregate(demo, spec, tmp_path / "a", ReleaseLog(tmp_path / "a.db", KEYS))
    extract = _extract(demo, policy, tmp_path / "a", None)
    exact = Counter(extract["plan"])
    assert exact == truth
    assert any(int(r["people"]) != truth[r["plan"]] for _, r in noisy["by_plan"].iterrows())
    # recorded: the extract after the noisy table is refused, and the other way round
    log = ReleaseLog(tmp_path / "releases.db", KEYS)
    _aggregate(demo, spec, tmp_path / "b", log)
    with pytest.raises(ReleaseConflictError, match=r"exact count of each of its cells"):
        _extract(demo, policy, tmp_path / "b", log)
    log = ReleaseLog(tmp_path / "second.db", KEYS)
    _extract(demo, policy, tmp_path / "c", log)
    with pytest.raises(ReleaseConflictError, match=r"noise beside it protects nothing"):
        _aggregate(demo, spec, tmp_path / "c", log)
    # the shipped noisy example, by plan and by country
    with pytest.raises(ReleaseConflictError, match=r"of noisy table by_plan: noise beside"):
        _aggregate(demo, EXAMPLES / "aggregate_accounts_dp.yml", tmp_path / "c", log)


def _objector(catalog: Path, ledger: Ledger, n: int, start: int = 0) -> list[str]:
    users = _accounts(catalog)["user_id"].tolist()[start : start + n]
    for i, user in enumerate(users):
        ledger.add(
            [SubjectKey(IdentityKind.USER_ID, user)], Reason.OBJECTED_DIRECT_MARKETING, f"r{i}"
        )
    return users


def test_an_extract_before_and_after_an_objection_is_not_differenced(
    demo: Path, tmp_path: Path
) -> None:
    kept = ["country", "plan", "status", "signup_method"]
    policy = _policy(tmp_path, "accounts-rows", kept, k=2)
    # the attack: the same policy before and after one objection differs by that row alone
    before = _extract(demo, policy, tmp_path / "before", None)
    ledger = Ledger(tmp_path / "ledger.db", KEYS)
    (user,) = _objector(demo, ledger, 1)
    after = _extract(demo, policy, tmp_path / "after", None, ledger)
    gone = Counter(map(tuple, before[kept].to_numpy())) - Counter(
        map(tuple, after[kept].to_numpy())
    )
    source = _accounts(demo).set_index("user_id")
    assert list(gone.elements()) == [tuple(source.loc[user, kept])]
    # recorded: the second run is refused, naming the first and the fix
    log = ReleaseLog(tmp_path / "releases.db", KEYS)
    _extract(demo, policy, tmp_path / "b1", log)
    with pytest.raises(ReleaseConflictError, match=r"1 person\(s\) were left out.*once 2 or more"):
        _extract(demo, policy, tmp_path / "b2", log, ledger)
    assert not (tmp_path / "b2" / "accounts-rows").exists()
    # renamed, the same columns in the same form: the same rows, refused too
    renamed = tmp_path / "renamed" / "accounts-rows-2.yml"
    renamed.parent.mkdir()
    renamed.write_text(policy.read_text().replace("name: accounts-rows", "name: accounts-rows-2"))
    with pytest.raises(ReleaseConflictError, match=r"isolates"):
        _extract(demo, renamed, tmp_path / "b3", log, ledger)


def test_legitimate_reruns_still_pass(demo: Path, tmp_path: Path) -> None:
    kept = ["country", "plan", "status", "signup_method"]
    policy = _policy(tmp_path, "accounts-rows", kept, k=2)
    log = ReleaseLog(tmp_path / "releases.db", KEYS)
    ledger = Ledger(tmp_path / "ledger.db", KEYS)
    _objector(demo, ledger, 1)
    first = _extract(demo, policy, tmp_path / "r1", log, ledger)
    # the same policy on the same data and ledger: the same rows, nothing more given away
    again = _extract(demo, policy, tmp_path / "r2", log, ledger)
    pd.testing.assert_frame_equal(first, again)
    # enough people left out since (k of them): the difference is a group of k
    _objector(demo, ledger, 2, start=1)
    _extract(demo, policy, tmp_path / "r3", log, ledger)
    # genuinely new data (a new export): another data set, not compared
    root = tmp_path / "next-export"
    shutil.copytree(demo.parent, root)
    accounts = _accounts(demo)
    accounts.iloc[:-40].to_csv(root / "accounts.csv", index=False)
    _extract(root / "catalog.yml", policy, tmp_path / "r4", log, ledger)
    assert [r.method for r in log.releases()] == ["extract"] * 4


# round 4 (red team F2, F4): a column renamed value for value, and aggregates differenced

RELABEL = {
    "country": {"DE": "Germany", "FR": "France", "GB": "UK", "NL": "Netherlands", "US": "USA"},
    "status": {"active": "open", "closed": "ended"},
}


def _grouped_policy(folder: Path, name: str, hierarchies: dict[str, dict[str, str]]) -> Path:
    """A policy releasing columns through hierarchies (one-to-one or merging)."""
    path = _policy(folder, name, list(hierarchies))
    policy = yaml.safe_load(path.read_text())
    for column, mapping in hierarchies.items():
        policy["columns"][column] = {"op": "generalize", "hierarchy": mapping}
    path.write_text(yaml.safe_dump(policy, sort_keys=False))
    return path


def test_a_relabelled_column_counts_as_released_as_it_is(demo: Path, tmp_path: Path) -> None:
    spec = EXAMPLES / "aggregate_accounts.yml"
    source = _accounts(demo)
    relabel = _grouped_policy(tmp_path, "relabel", RELABEL)
    # the attack: a relabel is keep under other names; mapped back, all 6 cells come back
    log = ReleaseLog(tmp_path / "plain.db", KEYS)
    extract = _extract(demo, relabel, tmp_path / "a", None)
    back = {c: {v: k for k, v in m.items()} for c, m in RELABEL.items()}
    extract = extract.assign(**{c: extract[c].map(back[c]) for c in back})
    tables = _aggregate(demo, spec, tmp_path / "a", log)
    assert _recover(source, extract, tables) == (6, 6)
    # recorded: the relabel is refused as keep is
    with pytest.raises(ReleaseConflictError, match=r"could be recomputed"):
        _extract(demo, relabel, tmp_path / "b", log)
    # a merging hierarchy that leaves DE alone in its group gives DE's cells: refused too
    alone = {"DE": "DE", "FR": "rest", "GB": "rest", "NL": "rest", "US": "rest"}
    merged = _grouped_policy(tmp_path, "de-alone", {"country": alone, "status": RELABEL["status"]})
    with pytest.raises(ReleaseConflictError, match=r"could be recomputed"):
        _extract(demo, merged, tmp_path / "b", log)
    # groups that are unions of suppressed cells only give their sum: published beside it
    eu = {"DE": "EU", "FR": "EU", "NL": "EU", "GB": "other", "US": "other"}
    honest = _grouped_policy(tmp_path, "eu", {"country": eu, "status": RELABEL["status"]})
    _extract(demo, honest, tmp_path / "b", log)
    entry = log.releases()[-1]
    assert entry.method == "extract" and entry.groups
    # the log keeps each source value's group under a keyed reference, never the value
    refs = [r for g in entry.groups.values() for r in g]
    assert refs and all(len(r) == 16 and r not in eu for r in refs)
    # a group holding one suppressed cell and published ones: its count minus theirs gives it
    pairs = {"DE": "A", "GB": "A", "FR": "B", "NL": "B", "US": "B"}
    paired = _grouped_policy(tmp_path, "pairs", {"country": pairs, "status": RELABEL["status"]})
    with pytest.raises(ReleaseConflictError, match=r"could be recomputed"):
        _extract(demo, paired, tmp_path / "b", log)  # after the aggregate: refused
    truth = Counter(zip(source["country"], source["status"], strict=True))

    def recovered(extract: pd.DataFrame, tables: dict[str, pd.DataFrame]) -> int:
        """Cells alone hidden in their group: the group's count minus the published ones."""
        cells = tables["by_country_status"]
        found = 0
        groups = Counter(zip(extract.country, extract.status, strict=True))
        for (group, status), n in groups.items():
            inside = cells[cells.country.map(pairs).eq(group) & cells.status.eq(status)]
            hidden = inside[inside.people == ""]
            if len(hidden) == 1:
                rest = inside[inside.people != ""].people.astype(int).sum()
                row = hidden.iloc[0]
                found += int(n - rest == truth[(row.country, row.status)])
        return found

    # the attack in the other order, with no log for the extract: DE closed comes back
    extract = _extract(demo, paired, tmp_path / "c", None)
    extract = extract.assign(status=extract.status.map(back["status"]))
    tables = _aggregate(demo, spec, tmp_path / "c", ReleaseLog(tmp_path / "c.db", KEYS))
    assert recovered(extract, tables) >= 1
    # recorded: the aggregate after the extract hides another cell of the group
    log = ReleaseLog(tmp_path / "other.db", KEYS)
    extract = _extract(demo, paired, tmp_path / "d", log)
    extract = extract.assign(status=extract.status.map(back["status"]))
    assert recovered(extract, _aggregate(demo, spec, tmp_path / "d", log)) == 0


def test_a_noisy_cell_is_not_given_by_a_relabel(demo: Path, tmp_path: Path) -> None:
    spec = tmp_path / "by-plan-dp.yml"
    spec.write_text(
        "version: 1\nname: by-plan-dp\ntable: accounts\nperson: user_id\n"
        "differential_privacy: {epsilon: 0.2, max_groups_per_person: 1,"
        " keys: {plan: [free, team, business, enterprise]}}\n"
        "aggregates:\n  - name: by_plan\n    group_by: [plan]\n"
        "    measures: [{name: people, op: count}]\n"
    )
    tiers = {"free": "free-tier", "team": "paid", "business": "paid"}
    policy = _grouped_policy(tmp_path, "tiers", {"plan": tiers})
    # the attack: free alone in its group, its exact count beside the noisy one
    extract = _extract(demo, policy, tmp_path / "a", None)
    assert (extract["plan"] == "free-tier").sum() == (_accounts(demo)["plan"] == "free").sum()
    log = ReleaseLog(tmp_path / "releases.db", KEYS)
    _aggregate(demo, spec, tmp_path / "b", log)
    with pytest.raises(ReleaseConflictError, match=r"exact count"):
        _extract(demo, policy, tmp_path / "b", log)
    log = ReleaseLog(tmp_path / "second.db", KEYS)
    _extract(demo, policy, tmp_path / "c", log)
    with pytest.raises(ReleaseConflictError, match=r"noise beside it protects nothing"):
        _aggregate(demo, spec, tmp_path / "c", log)


def _aggregate_with(
    catalog: Path, spec: Path, out: Path, log: ReleaseLog, ledger: Ledger | None
) -> dict[str, pd.DataFrame]:
    with open_engine(load_catalog(catalog)) as engine:
        result = run_aggregates(spec, engine, out, release_log=log, ledger=ledger)
    return {n: pd.read_csv(p, dtype=str, keep_default_na=False) for n, p in result.files.items()}


def test_aggregates_before_and_after_an_objection_are_not_differenced(
    demo: Path, tmp_path: Path
) -> None:
    spec = EXAMPLES / "aggregate_accounts.yml"
    ledger = Ledger(tmp_path / "ledger.db", KEYS)
    (user,) = _objector(demo, ledger, 1, start=1)
    source = _accounts(demo).set_index("user_id")
    # the attack: two logs, so neither run knows the other; the difference places the objector
    before = _aggregate_with(
        demo, spec, tmp_path / "a1", ReleaseLog(tmp_path / "a1.db", KEYS), None
    )
    after = _aggregate_with(
        demo, spec, tmp_path / "a2", ReleaseLog(tmp_path / "a2.db", KEYS), ledger
    )
    b, a = before["by_country_plan"], after["by_country_plan"]
    moved = b[(b.people != a.people) & (b.country != "(total)") & (b.plan != "(total)")]
    assert [tuple(r) for r in moved[["country", "plan"]].to_numpy()] == [
        (source.loc[user, "country"], source.loc[user, "plan"])
    ]
    # one log: aggregate then aggregate, refused with the fix
    log = ReleaseLog(tmp_path / "releases.db", KEYS)
    _aggregate_with(demo, spec, tmp_path / "b1", log, None)
    with pytest.raises(ReleaseConflictError, match=r"1 person\(s\) were left out.*once 10 or more"):
        _aggregate_with(demo, spec, tmp_path / "b2", log, ledger)
    # an extract of the same cells with the ledger, after the aggregate without: refused
    policy = _policy(tmp_path, "by-country-plan", ["country", "plan"])
    with pytest.raises(ReleaseConflictError, match=r"isolates"):
        _extract(demo, policy, tmp_path / "b3", log, ledger)
    # the other order: an extract without the ledger, then the aggregate with it
    log = ReleaseLog(tmp_path / "second.db", KEYS)
    _extract(demo, policy, tmp_path / "c1", log)
    with pytest.raises(ReleaseConflictError, match=r"isolates"):
        _aggregate_with(demo, spec, tmp_path / "c2", log, ledger)
    # legitimate reruns: the same ledger again, then min_count more people left out
    log = ReleaseLog(tmp_path / "third.db", KEYS)
    first = _aggregate_with(demo, spec, tmp_path / "d1", log, ledger)
    again = _aggregate_with(demo, spec, tmp_path / "d2", log, ledger)
    assert first["by_country_plan"].equals(again["by_country_plan"])
    _objector(demo, ledger, 10, start=2)
    _aggregate_with(demo, spec, tmp_path / "d3", log, ledger)
    assert [r.method for r in log.releases()] == ["suppression"] * 3


# round 5 (red team F1): an extract on another base table joining the same columns

PREFS = [
    "email",
    "newsletter",
    "product_updates",
    "ads_personalization",
    "consent_source",
    "opted_out_at",
    "updated_at",
]


def _prefs_policy(folder: Path) -> Path:
    """Based on marketing_preferences, joining accounts' country (renamed) and status."""
    renamed = {"op": "generalize", "hierarchy": {c: c[0] for c in RELABEL["country"]}}
    policy = {
        "version": 1,
        "name": "prefs-rows",
        "table": "marketing_preferences",
        "person": "user_id",
        "columns": {"user_id": "drop", **dict.fromkeys(PREFS, "drop")},
        "join": [{"table": "accounts", "columns": {"country": renamed, "status": "keep"}}],
        "privacy": {"k": 2, "max_suppression": 0.5},
        "output": {"path": "prefs.parquet"},
    }
    path = folder / "prefs-rows.yml"
    path.write_text(yaml.safe_dump(policy, sort_keys=False))
    return path


def test_an_extract_on_another_base_table_is_not_differenced(demo: Path, tmp_path: Path) -> None:
    accounts = _policy(tmp_path, "accounts-cs", ["country", "status"], k=2)
    prefs = _prefs_policy(tmp_path)
    ledger = Ledger(tmp_path / "ledger.db", KEYS)
    log = ReleaseLog(tmp_path / "releases.db", KEYS)
    _extract(demo, accounts, tmp_path / "a1", log)
    _objector(demo, ledger, 1)
    # the attack: accounts' columns joined to another base table, after the objection
    with pytest.raises(ReleaseConflictError, match=r"counted the people of accounts"):
        _extract(demo, prefs, tmp_path / "a2", log, ledger)
    assert not (tmp_path / "a2" / "prefs-rows").exists()
    # the other order: the joined extract first, then the accounts one
    log = ReleaseLog(tmp_path / "second.db", KEYS)
    _extract(demo, prefs, tmp_path / "b1", log)
    with pytest.raises(ReleaseConflictError, match=r"counted the people of marketing_pref"):
        _extract(demo, accounts, tmp_path / "b2", log, ledger)
