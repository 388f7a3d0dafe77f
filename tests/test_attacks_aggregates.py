"""Aggregates attacked across runs, as issue 22 tried them: differencing two runs, averaging
forty noisy runs, editing the release log by hand, counting rows instead of people.

Each attack is carried out for real on the demo export (1,000 users, seed 7): the attacker
solves the published numbers and compares what comes out with the truth from the source.
"""

from __future__ import annotations

import itertools
import json
import re
import shutil
import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st
from typer.testing import CliRunner

from anonymize import run_aggregates
from anonymize.cli import app as anonymize_app
from dsar import (
    BudgetExceededError,
    ConfigError,
    ExportDataError,
    IdentityKind,
    Keys,
    Ledger,
    Reason,
    RecordTamperedError,
    ReleaseConflictError,
    ReleaseLog,
    SubjectKey,
    load_catalog,
    open_engine,
    verify_derived,
    verify_release_log,
)
from dsar.cli import app as dsar_app
from dsar.demo import generate

KEYS = Keys(b"a" * 40)
EXAMPLES = Path(__file__).parents[1] / "examples"
FINE = ["country", "plan", "signup_method"]
COARSE = ["country", "plan"]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The issue's demo export: 1,000 users, seed 7; the catalog's path."""
    return generate(tmp_path_factory.mktemp("demo1000"), users=1000, seed=7).catalog_path


def _spec(
    folder: Path, name: str, groups: list[str], *, table: str = "accounts", **more: str
) -> Path:
    lines = [f"version: 1\nname: {name}\ntable: {table}\nmin_count: 10\n"]
    lines += [f"{k}: {v}\n" for k, v in more.items()]
    lines.append(f"aggregates:\n  - {{name: t, group_by: [{', '.join(groups)}]}}\n")
    path = folder / f"{name}.yml"
    path.write_text("".join(lines))
    return path


def _run(catalog: Path, spec: Path, out: Path, log: ReleaseLog) -> pd.DataFrame:
    with open_engine(load_catalog(catalog)) as engine:
        result = run_aggregates(spec, engine, out, release_log=log)
    assert verify_derived(result.folder).ok  # the reviewer's check finds nothing false
    return pd.read_csv(result.files["t"], dtype=str, keep_default_na=False, na_values=[""])


def _truth(catalog: Path, groups: list[str]) -> dict[tuple[str, ...], int]:
    source = catalog.parent / "accounts.csv"
    cols = ", ".join(groups)
    rows = duckdb.execute(
        f"SELECT {cols}, count(DISTINCT user_id) FROM read_csv('{source}', all_varchar=true)"
        f" GROUP BY ALL"
    ).fetchall()
    return {tuple(r[:-1]): int(r[-1]) for r in rows}


def _solve(fine: pd.DataFrame, coarse: pd.DataFrame) -> dict[tuple[str, ...], float]:
    """The attacker: every fine cell an unknown; each published fine cell and each published
    coarse cell (the sum of its fine cells) an equation; a suppressed fine cell is recovered
    when the equations determine it (it lies in their row space), and its value read off."""
    cells = [tuple(r[g] for g in FINE) for _, r in fine.iterrows()]
    index = {c: i for i, c in enumerate(cells)}
    rows, values = [], []
    for c, (_, r) in zip(cells, fine.iterrows(), strict=True):
        if pd.isna(r["suppressed"]):
            row = np.zeros(len(cells))
            row[index[c]] = 1
            rows.append(row)
            values.append(float(r["count"]))
    for _, r in coarse.iterrows():
        if pd.isna(r["suppressed"]):
            row = np.zeros(len(cells))
            for c in cells:
                if c[:2] == (r["country"], r["plan"]):
                    row[index[c]] = 1
            rows.append(row)
            values.append(float(r["count"]))
    a, b = np.array(rows), np.array(values)
    solution = np.linalg.lstsq(a, b, rcond=None)[0]
    basis = np.linalg.svd(a)[2][: np.linalg.matrix_rank(a)]
    found = {}
    for c, (_, r) in zip(cells, fine.iterrows(), strict=True):
        if pd.isna(r["suppressed"]):
            continue
        e = np.zeros(len(cells))
        e[index[c]] = 1
        if np.linalg.norm(e - basis.T @ (basis @ e)) < 1e-6:  # determined by the equations
            found[c] = float(solution[index[c]])
    return found


@pytest.mark.parametrize("order", ["fine first", "coarse first"])
def test_differencing_two_runs_recovers_no_suppressed_cell(
    demo: Path, tmp_path: Path, order: str
) -> None:
    log = ReleaseLog(tmp_path / "releases.db", KEYS)
    specs = {
        "fine": _spec(tmp_path, "fine", FINE, person="user_id"),
        "coarse": _spec(tmp_path, "coarse", COARSE, person="user_id"),
    }
    runs = ["fine", "coarse"] if order == "fine first" else ["coarse", "fine"]
    tables = {name: _run(demo, specs[name], tmp_path / "out", log) for name in runs}
    fine, coarse = tables["fine"], tables["coarse"]
    truth = _truth(demo, FINE)
    hidden = fine[fine["suppressed"].notna()]
    assert len(hidden) >= 7  # the 7 suppressed cells, and what protects them
    recovered = {c: v for c, v in _solve(fine, coarse).items() if round(v) == truth[c]}
    assert recovered == {}
    for _, row in pd.concat([fine, coarse]).iterrows():  # and nothing small is shown
        assert pd.isna(row["suppressed"]) != pd.isna(row["count"])
        if pd.isna(row["suppressed"]):
            assert int(row["count"]) >= 10


def test_differencing_works_when_the_runs_do_not_share_a_release_log(
    demo: Path, tmp_path: Path
) -> None:
    """The attack as the issue made it, still possible across two logs: why the log must be
    shared by every run of a data set (and why the CLI's default is the working folder's)."""
    one, other = ReleaseLog(tmp_path / "one.db", KEYS), ReleaseLog(tmp_path / "other.db", KEYS)
    fine = _run(demo, _spec(tmp_path, "fine", FINE, person="user_id"), tmp_path / "a", one)
    coarse = _run(demo, _spec(tmp_path, "coarse", COARSE, person="user_id"), tmp_path / "b", other)
    truth = _truth(demo, FINE)
    recovered = {c for c, v in _solve(fine, coarse).items() if round(v) == truth[c]}
    assert len(recovered) == 7 == fine["suppressed"].notna().sum()


def test_the_same_dp_spec_forty_times_gives_one_answer_and_spends_once(
    demo: Path, tmp_path: Path
) -> None:
    log = ReleaseLog(tmp_path / "releases.db", KEYS)
    text = (EXAMPLES / "aggregate_accounts_dp.yml").read_text()
    answers = []
    with open_engine(load_catalog(demo)) as engine:
        for i in range(40):  # another name, another folder, another floor: the same query
            spec = tmp_path / f"dp{i}.yml"
            spec.write_text(
                text.replace("name: accounts-aggregates-dp", f"name: dp{i}").replace(
                    "min_count: 10", f"min_count: {10 + i % 3}"
                )
            )
            result = run_aggregates(spec, engine, tmp_path / "out", release_log=log)
            frame = pd.read_csv(result.files["by_plan"], dtype=str).set_index("plan")
            answers.append(frame["people"].astype(int))
            info = result.manifest.release
            assert info is not None and info.epsilon_spent == 1.0
            assert info.data_version == {}  # whether the data changed is not published either
            assert info.epsilon_charged == (1.0 if i == 0 else 0.0)
    table = pd.concat(answers, axis=1)
    assert (table.nunique(axis=1) == 1).all()  # averaging forty runs gives the first run
    truth = _truth(demo, ["plan"])
    noisy = table.iloc[:, 0]
    assert any(noisy[p] != truth[(p,)] for p in noisy.index)  # the noise is there


def test_a_new_query_beyond_the_budget_is_refused_naming_who_spent_it(
    demo: Path, tmp_path: Path
) -> None:
    log = ReleaseLog(tmp_path / "releases.db", KEYS)
    text = (EXAMPLES / "aggregate_accounts_dp.yml").read_text()
    first = tmp_path / "first.yml"
    first.write_text(text)
    again = tmp_path / "again.yml"  # one digit of epsilon less: a new query, fresh noise
    again.write_text(text.replace("epsilon: 1.0 ", "epsilon: 0.9 ").replace("-dp", "-dp2"))
    with open_engine(load_catalog(demo)) as engine:
        run_aggregates(first, engine, tmp_path / "out", release_log=log)
        message = (
            r"data set accounts: this run needs epsilon 0.9 more, but 1.0 of its budget of 1.0"
            r" is spent \(by #1 accounts-aggregates-dp \(\d{4}-\d\d-\d\d\): epsilon 1.0\);"
        )
        with pytest.raises(BudgetExceededError, match=message):
            run_aggregates(again, engine, tmp_path / "out", release_log=log)
    assert not (tmp_path / "out" / "accounts-aggregates-dp2").exists()
    assert len(log.releases("accounts")) == 1


def test_a_release_log_edited_by_hand_is_found_and_nothing_runs_against_it(
    demo: Path, tmp_path: Path
) -> None:
    path = tmp_path / "releases.db"
    log = ReleaseLog(path, KEYS)
    _run(demo, _spec(tmp_path, "fine", FINE, person="user_id"), tmp_path / "out", log)
    log.close()
    assert verify_release_log(path, KEYS) == []
    assert path.stat().st_mode & 0o777 == 0o600  # the owner's only
    db = sqlite3.connect(path)  # forget the suppressed cells, so the next run would not hide
    db.execute("UPDATE releases SET run = 'edited', body = replace(body, 'suppressed', 'x')")
    db.commit()
    db.close()
    assert verify_release_log(path, KEYS) == [
        "table releases, row 1: edited or added outside the workbench"
    ]
    with pytest.raises(RecordTamperedError, match="row 1: edited or added outside"):
        ReleaseLog(path, KEYS)


def test_the_command_lines_read_and_check_the_release_log(
    demo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WORKBENCH_KEY", "a" * 40)
    path = tmp_path / "releases.db"
    log = ReleaseLog(path, KEYS)
    _run(demo, _spec(tmp_path, "fine", FINE, person="user_id"), tmp_path / "out", log)
    with open_engine(load_catalog(demo)) as engine:
        for _ in range(2):
            dp = run_aggregates(
                EXAMPLES / "aggregate_accounts_dp.yml", engine, tmp_path / "o", release_log=log
            )
            shutil.rmtree(dp.folder)
    log.close()
    runner = CliRunner()
    listed = runner.invoke(anonymize_app, ["releases", "--release-log", str(path)])
    assert listed.exit_code == 0, listed.output
    lines = listed.output.splitlines()
    assert lines[0].startswith("#1 fine (") and "suppression, 1 table(s), 30 cells (" in lines[0]
    assert lines[1].endswith("epsilon 1.0 charged") and lines[2].endswith("0.0 charged (a repeat)")
    assert (
        lines[3] == "data set accounts: epsilon 1.0 spent of a budget of 1.0 (one run's worth:"
        " none stated)"
    )
    db = sqlite3.connect(path)
    db.execute("UPDATE releases SET folder = 'elsewhere' WHERE seq = 2")
    db.commit()
    db.close()
    refused = runner.invoke(anonymize_app, ["releases", "--release-log", str(path)])
    assert isinstance(refused.exception, RecordTamperedError)
    checked = runner.invoke(
        dsar_app,
        ["audit", "verify", "--log", str(tmp_path / "none.jsonl"), "--release-log", str(path)],
    )
    assert checked.exit_code == 1
    assert f"{path}: table releases, row 2: edited or added outside the workbench" in (
        checked.output
    )


def test_a_release_row_deleted_by_hand_is_found(demo: Path, tmp_path: Path) -> None:
    path = tmp_path / "releases.db"
    log = ReleaseLog(path, KEYS)
    _run(demo, _spec(tmp_path, "fine", FINE, person="user_id"), tmp_path / "out", log)
    log.close()
    db = sqlite3.connect(path)
    db.execute("DELETE FROM releases")
    db.commit()
    db.close()
    assert any("rows were deleted" in p for p in verify_release_log(path, KEYS))
    with pytest.raises(RecordTamperedError):
        ReleaseLog(path, KEYS)


def test_web_logs_count_people_not_rows(demo: Path, tmp_path: Path) -> None:
    """Without person:, 36 of 145 published user-agent cells held fewer than 10 people."""
    log = ReleaseLog(tmp_path / "releases.db", KEYS)
    rows = _spec(tmp_path, "agents", ["user_agent"], table="web_logs")
    with (
        open_engine(load_catalog(demo)) as engine,
        pytest.raises(
            ExportDataError,
            match=r"web_logs\.user_id repeats: \d+ rows hold \d+ distinct values \(device_id too\),"
            r" so one person has several rows .*; add person: user_id to the spec",
        ),
    ):
        run_aggregates(rows, engine, tmp_path / "out", release_log=log)
    people = _spec(tmp_path, "people", ["user_agent"], table="web_logs", person="user_id")
    table = _run(demo, people, tmp_path / "out", log)
    source = demo.parent / "web_logs.csv"
    truth = dict(
        duckdb.execute(
            f"SELECT user_agent, count(DISTINCT user_id) FROM read_csv('{source}',"
            " all_varchar=true) GROUP BY ALL"
        ).fetchall()
    )
    shown = table[table["suppressed"].isna()]
    assert len(shown) > 0
    assert all(truth[a] >= 10 for a in shown["user_agent"])  # every cell: 10 people or more
    assert all(int(n) == truth[a] for a, n in zip(shown["user_agent"], shown["count"], strict=True))


def test_the_command_line_names_the_earlier_release_and_the_budget(
    demo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WORKBENCH_KEY", "c" * 40)
    runner = CliRunner()
    at = ["--catalog", str(demo), "--out", str(tmp_path / "out")]
    log = ["--release-log", str(tmp_path / "records" / "releases.db")]
    fine = _spec(tmp_path, "fine", FINE, person="user_id")
    coarse = _spec(tmp_path, "coarse", COARSE, person="user_id")
    first = runner.invoke(anonymize_app, ["aggregate", str(fine), *at, *log])
    assert first.exit_code == 0, first.output
    second = runner.invoke(anonymize_app, ["aggregate", str(coarse), *at, *log])
    assert second.exit_code == 0, second.output
    assert "release log: " in second.output and "entry 2 (data set accounts)" in second.output
    assert "hidden to stay consistent with earlier release(s) #1 fine (" in second.output
    dp = EXAMPLES / "aggregate_accounts_dp.yml"
    for _ in range(2):
        noisy = runner.invoke(anonymize_app, ["aggregate", str(dp), *at, *log])
        assert noisy.exit_code == 0, noisy.output
        shutil.rmtree(tmp_path / "out" / "accounts-aggregates-dp")
    assert "budget of data set accounts: 1.0 of 1.0 spent, 0.0 by this run" in noisy.output
    assert "every query a repeat" in noisy.output
    key_beside = tmp_path / "records" / "key"
    key_beside.write_text("c" * 40)
    refused = runner.invoke(
        anonymize_app, ["aggregate", str(dp), *at, *log, "--key-file", str(key_beside)]
    )
    assert refused.exit_code != 0 and "sits beside the release log" in str(refused.exception)


SHOP = """\
version: 1
controller: {name: Shop, contact: dpo@shop.example, supervisory_authority: CNIL}
tables:
  people:
    path: people.csv
    format: csv
    description: People.
    category: account
    origin: provided
    purposes: [sell]
    legal_basis: contract
    source: the customer
    retention: {criteria: ten years}
    erasure: {action: delete}
    columns:
      person_id: {identity: customer_id, type: string}
      a: {type: string}
      b: {type: string}
      c: {type: string}
"""


def _published_equations(
    folder: Path,
    columns: list[str],
    atoms: Sequence[tuple[str, ...]],
    rare: dict[str, set[str]] | None = None,
) -> tuple[list[np.ndarray], list[tuple[str, np.ndarray]]]:
    """Every published cell of a run folder as a row over the atoms; every suppressed one too
    (a row whose group value is withheld stands for each cell of a `rare` value there)."""
    known, hidden = [], []
    for path in sorted(folder.glob("*.csv")):
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
        dims = [g for g in columns if g in frame.columns]
        for _, row in frame.iterrows():
            fixed = {g: row[g] for g in dims if row[g] != "(total)"}
            withheld = [g for g, v in fixed.items() if v == "(withheld)"]
            choices = [sorted((rare or {}).get(g, ())) for g in withheld]
            for picked in itertools.product(*choices):
                cell = {**fixed, **dict(zip(withheld, picked, strict=True))}
                vector = np.array(
                    [all(atom[columns.index(g)] == v for g, v in cell.items()) for atom in atoms],
                    dtype=float,
                )
                if pd.isna(row["suppressed"]):
                    assert not withheld  # only a suppressed cell's value is withheld
                    known.append(vector)
                elif vector.any():  # a rare value's cell that exists in this line
                    hidden.append((f"{path.name} {cell}", vector))
    return known, hidden


def _determines(rows: list[np.ndarray]) -> Callable[[np.ndarray], bool]:
    """Whether a cell's row lies in the row space of `rows` (its count follows from theirs)."""
    if not rows:
        return lambda v: False
    a = np.array(rows)
    basis = np.linalg.svd(a)[2][: np.linalg.matrix_rank(a)]
    return lambda v: bool(np.linalg.norm(v - basis.T @ (basis @ v)) < 1e-6)


@settings(max_examples=15, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    runs=st.lists(
        st.tuples(
            st.lists(st.sampled_from(["a", "b", "c"]), min_size=1, max_size=3, unique=True),
            st.booleans(),
        ),
        min_size=2,
        max_size=4,
    ),
)
def test_no_sequence_of_runs_gives_a_suppressed_cell_back(
    seed: int, runs: list[tuple[list[str], bool]]
) -> None:
    """Random tables, random runs of random group-bys (margins or not), one release log: the
    attacker's linear algebra over every published cell of every run determines no cell that
    a run suppressed (unless the runs before it had published it already)."""
    import random
    import tempfile

    rng = random.Random(seed)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        rows = [
            {
                "person_id": f"p{i}",
                "a": rng.choices("VWXYZ", weights=[30, 10, 4, 2, 1])[0],
                "b": rng.choices("KLMN", weights=[20, 6, 2, 1])[0],
                "c": rng.choices("QRS", weights=[10, 3, 1])[0],
            }
            for i in range(rng.randint(60, 250))
        ]
        pd.DataFrame(rows).to_csv(root / "people.csv", index=False)
        (root / "catalog.yml").write_text(SHOP)
        log = ReleaseLog(root / "releases.db", KEYS)
        with open_engine(load_catalog(root / "catalog.yml")) as engine:
            for i, (groups, margins) in enumerate(runs):
                spec = root / f"r{i}.yml"
                spec.write_text(
                    f"version: 1\nname: r{i}\ntable: people\nperson: person_id\nmin_count: 5\n"
                    f"aggregates:\n  - {{name: t, group_by: [{', '.join(groups)}],"
                    f" margins: {str(margins).lower()}}}\n"
                )
                run_aggregates(spec, engine, root / "out", release_log=log)
        columns = ["a", "b", "c"]
        atoms = sorted({(r["a"], r["b"], r["c"]) for r in rows})
        held = [pd.DataFrame(rows)[c].value_counts() for c in columns]
        rare = {
            c: {str(v) for v, n in h.items() if n < 5} for c, h in zip(columns, held, strict=True)
        }
        published = [
            _published_equations(root / "out" / f"r{i}", columns, atoms, rare)
            for i in range(len(runs))
        ]
        # the attacker knows which atoms are empty too: a cell a table does not list is 0
        everything = _determines([v for known, _ in published for v in known])
        given_back = []
        for i, (_, hidden) in enumerate(published):
            before = _determines([v for known, _ in published[:i] for v in known])
            given_back += [
                f"r{i} {name}" for name, v in hidden if everything(v) and not before(v)
            ]  # a cell public before a run hid it is no secret of that run
        assert given_back == []


def _copy_export(demo: Path, to: Path, *, reverse: bool = False, rename: str = "") -> Path:
    """A copy of the export: accounts.csv's data rows reversed (the same content, other
    bytes), and/or the catalog's accounts table renamed; the copy's catalog path."""
    shutil.copytree(demo.parent, to)
    if reverse:
        lines = (to / "accounts.csv").read_text().splitlines(keepends=True)
        (to / "accounts.csv").write_text(lines[0] + "".join(reversed(lines[1:])))
    if rename:
        text = (to / "catalog.yml").read_text()
        text = text.replace("\n  accounts:\n", f"\n  {rename}:\n")
        (to / "catalog.yml").write_text(
            text.replace("references: accounts.", f"references: {rename}.")
        )
    return to / "catalog.yml"


@pytest.mark.parametrize("copy", ["rows reversed", "table renamed"])
def test_a_reordered_or_renamed_copy_is_the_same_data_set(
    demo: Path, tmp_path: Path, copy: str
) -> None:
    """Issue 1 (a), (b): the same data, its rows reversed or its table renamed, was a new data
    set: a coarser table run on the copy was not compared with the finer one run on the
    original, and subtraction gave the suppressed cells back (as across two logs)."""
    log = ReleaseLog(tmp_path / "releases.db", KEYS)
    fine = _run(demo, _spec(tmp_path, "fine", FINE, person="user_id"), tmp_path / "out", log)
    name = "accounts2" if copy == "table renamed" else "accounts"
    other = _copy_export(
        demo,
        tmp_path / "copy",
        reverse=copy == "rows reversed",
        rename=name if name != "accounts" else "",
    )
    spec = _spec(tmp_path, "coarse", COARSE, table=name, person="user_id")
    with open_engine(load_catalog(other)) as engine:
        result = run_aggregates(spec, engine, tmp_path / "out", release_log=log)
    coarse = pd.read_csv(result.files["t"], dtype=str, keep_default_na=False, na_values=[""])
    info = result.manifest.release
    assert info is not None and info.compared_with == (1,)
    assert info.suppressed_for_earlier > 0
    truth = _truth(demo, FINE)
    assert fine["suppressed"].notna().sum() >= 7
    assert {c for c, v in _solve(fine, coarse).items() if round(v) == truth[c]} == set()


def test_renamed_copies_ask_the_same_noisy_query_on_the_same_budget(
    demo: Path, tmp_path: Path
) -> None:
    """Issue 1 (b): each renamed copy got a fresh budget and fresh noise: averaging twenty
    gave the truth back. Now a renamed or reordered copy gets the same answer, free, and a new
    query on it is charged to the same budget."""
    log = ReleaseLog(tmp_path / "releases.db", KEYS)
    text = (EXAMPLES / "aggregate_accounts_dp.yml").read_text()
    answers = []
    for i in range(4):
        name = "accounts" if i == 0 else f"accounts{i}"
        catalog = (
            demo if i == 0 else _copy_export(demo, tmp_path / f"c{i}", reverse=i == 3, rename=name)
        )
        spec = tmp_path / f"dp{i}.yml"
        spec.write_text(
            text.replace("table: accounts", f"table: {name}").replace("-dp\n", f"-dp{i}\n")
        )
        with open_engine(load_catalog(catalog)) as engine:
            result = run_aggregates(spec, engine, tmp_path / "out", release_log=log)
        answers.append(pd.read_csv(result.files["by_plan"], dtype=str).set_index("plan")["people"])
        info = result.manifest.release
        assert info is not None and info.epsilon_charged == (1.0 if i == 0 else 0.0)
    assert all(a.equals(answers[0]) for a in answers)
    again = tmp_path / "again.yml"
    again.write_text(
        text.replace("table: accounts", "table: accounts1")
        .replace("epsilon: 1.0 ", "epsilon: 0.9 ")
        .replace("-dp\n", "-dp-new\n")
    )
    with (
        open_engine(load_catalog(tmp_path / "c1" / "catalog.yml")) as engine,
        pytest.raises(BudgetExceededError, match=r"budget of 1\.0 is spent"),
    ):
        run_aggregates(again, engine, tmp_path / "out", release_log=log)


def test_a_run_killed_before_its_folder_takes_its_name_is_recorded_first(
    demo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 2: the folder took its name before the log committed; killed between, a complete
    folder was published unrecorded. Now the log commits first: killed between, no folder,
    and the release is still counted (the next run is checked against it)."""
    import anonymize.aggregate as aggregate

    log = ReleaseLog(tmp_path / "releases.db", KEYS)

    def killed(name: str) -> None:
        if name == "aggregate.publish":
            raise KeyboardInterrupt("killed")

    monkeypatch.setattr(aggregate, "point", killed)
    with (
        open_engine(load_catalog(demo)) as engine,
        pytest.raises(KeyboardInterrupt),
    ):
        run_aggregates(
            _spec(tmp_path, "fine", FINE, person="user_id"),
            engine,
            tmp_path / "out",
            release_log=log,
        )
    assert [r.run for r in log.releases()] == ["fine"]
    assert not (tmp_path / "out" / "fine").exists()
    assert [p.name for p in (tmp_path / "out").iterdir()] == []
    monkeypatch.undo()
    coarse = _spec(tmp_path, "coarse", COARSE, person="user_id")
    with open_engine(load_catalog(demo)) as engine:
        result = run_aggregates(coarse, engine, tmp_path / "out", release_log=log)
    assert result.manifest.release is not None
    assert result.manifest.release.compared_with == (1,)


def test_a_later_spec_cannot_raise_the_default_budget(demo: Path, tmp_path: Path) -> None:
    """Issue 4: the first run set one run's worth (1.0); a later spec stating budget: 10 raised
    it. The budget in force holds: a statement can lower it, never raise it."""
    log = ReleaseLog(tmp_path / "releases.db", KEYS)
    text = (EXAMPLES / "aggregate_accounts_dp.yml").read_text()
    raised = tmp_path / "raised.yml"
    raised.write_text(
        text.replace("epsilon: 1.0 ", "epsilon: 0.9 ")
        .replace("-dp\n", "-dp-raised\n")
        .replace("  delta: 1.0e-6", "  budget: 10\n  delta: 1.0e-6")
    )
    with open_engine(load_catalog(demo)) as engine:
        run_aggregates(
            EXAMPLES / "aggregate_accounts_dp.yml", engine, tmp_path / "o", release_log=log
        )
        with pytest.raises(BudgetExceededError, match=r"budget of 1\.0 is spent"):
            run_aggregates(raised, engine, tmp_path / "o", release_log=log)
    assert len(log.releases()) == 1


def test_a_release_log_verified_alone_is_intact(
    demo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 3: `dsar audit verify --release-log releases.db` with no register (or a fresh
    one) reported a missing audit log and 'a record was changed' on an untouched log."""
    monkeypatch.setenv("WORKBENCH_KEY", "a" * 40)
    monkeypatch.chdir(tmp_path)
    log = ReleaseLog(tmp_path / "releases.db", KEYS)
    _run(demo, _spec(tmp_path, "fine", FINE, person="user_id"), tmp_path / "out", log)
    log.close()
    runner = CliRunner()
    checked = runner.invoke(dsar_app, ["audit", "verify", "--release-log", "releases.db"])
    assert checked.exit_code == 0, checked.output
    assert "intact" in checked.output and "releases.db" in checked.output
    assert "no audit log" not in checked.output
    fresh = runner.invoke(dsar_app, ["requests", "list"])  # a register, never used
    assert fresh.exit_code == 0, fresh.output
    again = runner.invoke(dsar_app, ["audit", "verify", "--release-log", "releases.db"])
    assert again.exit_code == 0, again.output


JOINED_COARSE = (
    "join: [{table: accounts, columns: [country, plan]}]\n"
    "aggregates:\n  - {name: t, group_by: [country, plan]}\n"
)


def _joined_spec(folder: Path, name: str) -> Path:
    """The red team's second run: another table joining accounts' columns, counting people."""
    path = folder / f"{name}.yml"
    path.write_text(
        f"version: 1\nname: {name}\ntable: marketing_preferences\nperson: user_id\n"
        f"min_count: 10\n{JOINED_COARSE}"
    )
    return path


@pytest.mark.parametrize("order", ["accounts first", "joined first"])
def test_a_run_based_on_another_table_joining_the_data_is_refused(
    demo: Path, tmp_path: Path, order: str
) -> None:
    """Issue 22, red team 1: a coarse run based on marketing_preferences joining accounts'
    country and plan was a new data set (for_earlier_releases 0), and its totals minus the
    fine run's cells gave the suppressed cells back. Every table a run reads is now part of
    its data sets: a release that read accounts as it is now relates to this run; counting
    another table's people, the two cannot be checked together, so the later run is refused,
    naming the earlier release and the fix."""
    log = ReleaseLog(tmp_path / "releases.db", KEYS)
    fine = _spec(tmp_path, "fine", FINE, person="user_id")
    joined = _joined_spec(tmp_path, "joined")
    first, second = (fine, joined) if order == "accounts first" else (joined, fine)
    with open_engine(load_catalog(demo)) as engine:
        run_aggregates(first, engine, tmp_path / "out", release_log=log)
        with pytest.raises(ReleaseConflictError) as refused:
            run_aggregates(second, engine, tmp_path / "out", release_log=log)
    text = str(refused.value)
    assert "#1 " in text and "accounts" in text and "marketing_preferences" in text
    assert "base this run on" in text
    assert len(log.releases()) == 1
    assert not (tmp_path / "out" / second.stem).exists()


def test_a_noisy_run_joining_the_data_is_charged_to_its_budget(demo: Path, tmp_path: Path) -> None:
    """Issue 22, red team 2: the DP example spent 1.0 of 1.0 on accounts; a copy based on
    marketing_preferences joining accounts' country and plan was charged to a new budget and
    drew fresh noise. A run is now charged to every data set it reads."""
    log = ReleaseLog(tmp_path / "releases.db", KEYS)
    text = (EXAMPLES / "aggregate_accounts_dp.yml").read_text()
    copy = tmp_path / "joined-dp.yml"
    copy.write_text(
        text.replace("table: accounts", "table: marketing_preferences")
        .replace(
            "person: user_id",
            "person: user_id\njoin: [{table: accounts, columns: [country, plan]}]",
        )
        .replace("-dp\n", "-dp-joined\n")
    )
    with open_engine(load_catalog(demo)) as engine:
        run_aggregates(
            EXAMPLES / "aggregate_accounts_dp.yml", engine, tmp_path / "o", release_log=log
        )
        with pytest.raises(BudgetExceededError, match=r"accounts.*budget of 1\.0 is spent"):
            run_aggregates(copy, engine, tmp_path / "o", release_log=log)
    assert len(log.releases()) == 1


def _ledger_with_two(demo: Path, tmp_path: Path) -> tuple[Path, set[str]]:
    """A suppression ledger holding an objector and an erased user of the demo; their ids."""
    source = demo.parent / "accounts.csv"
    rows = duckdb.execute(
        f"SELECT user_id, email FROM read_csv('{source}', all_varchar=true)"
        " ORDER BY user_id LIMIT 2"
    ).fetchall()
    path = tmp_path / "ledger.db"
    book = Ledger(path, KEYS)
    book.add([SubjectKey(IdentityKind.USER_ID, rows[0][0])], Reason.OBJECTED_DIRECT_MARKETING, "r1")
    book.add([SubjectKey(IdentityKind.EMAIL, rows[1][1])], Reason.ERASED, "r2")
    book.close()
    return path, {rows[0][0], rows[1][0]}


@pytest.mark.parametrize("noisy", [False, True])
def test_the_ledger_leaves_its_people_out_of_aggregates(
    demo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, noisy: bool
) -> None:
    """Issue 22, red team 3: `anonymize aggregate` had no --ledger and ignored
    $WORKBENCH_LEDGER: an objector and an erased user were still counted. The ledger (the
    option, or the variable as the other commands read it) now removes its people from the
    counted relation, and the manifest says how many (not under noise: an exact count)."""
    ledger, gone = _ledger_with_two(demo, tmp_path)
    monkeypatch.setenv("WORKBENCH_KEY", "a" * 40)
    monkeypatch.setenv("WORKBENCH_LEDGER", str(ledger))
    monkeypatch.chdir(tmp_path)
    spec = (
        EXAMPLES / "aggregate_accounts_dp.yml"
        if noisy
        else _spec(tmp_path, "by-plan", ["plan"], person="user_id")
    )
    got = CliRunner().invoke(
        anonymize_app, ["aggregate", str(spec), "--catalog", str(demo), "--out", "out"]
    )
    assert got.exit_code == 0, got.output
    assert "suppression ledger applied" in got.output
    folder = next((tmp_path / "out").iterdir())
    assert verify_derived(folder).ok
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["parameters"]["ledger"]["applied"] is True
    if noisy:
        assert manifest["parameters"]["ledger"]["people_left_out"] is None
        # the same query without the ledger is another query: its own answer, charged anew
        with open_engine(load_catalog(demo)) as engine:
            log = ReleaseLog(tmp_path / "releases.db", KEYS)
            with pytest.raises(BudgetExceededError):
                run_aggregates(spec, engine, tmp_path / "o2", release_log=log)
            log.close()
        return
    assert manifest["parameters"]["ledger"]["people_left_out"] == 2
    published = pd.read_csv(folder / "t.csv", dtype={"count": int}).set_index("plan")["count"]
    kept = duckdb.execute(
        f"SELECT plan, count(DISTINCT user_id) FROM read_csv('{demo.parent / 'accounts.csv'}',"
        " all_varchar=true) WHERE user_id NOT IN (SELECT unnest(?)) GROUP BY ALL",
        [sorted(gone)],
    ).fetchall()
    assert published.to_dict() == dict(kept)  # every plan's count, without the two


def test_a_missing_ledger_is_refused_not_ignored(demo: Path, tmp_path: Path) -> None:
    """--ledger with a path that holds nothing: refused (an empty ledger leaves nobody out)."""
    spec = _spec(tmp_path, "by-plan", ["plan"], person="user_id")
    got = CliRunner().invoke(
        anonymize_app,
        [
            "aggregate",
            str(spec),
            "--catalog",
            str(demo),
            "--out",
            str(tmp_path / "out"),
            "--release-log",
            str(tmp_path / "releases.db"),
            "--ledger",
            str(tmp_path / "nope.db"),
        ],
        env={"WORKBENCH_KEY": "a" * 40},
    )
    assert got.exit_code != 0
    assert "the suppression ledger" in str(got.exception or got.output)
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_the_ledger_leaves_its_people_out_of_a_joined_run(demo: Path, tmp_path: Path) -> None:
    """Issue 22, red team 3, through the library: the red team's joined run (marketing
    preferences joining accounts' country and plan) with the ledger counts neither the
    objector nor the erased user, and the manifest counts who it left out."""
    ledger_path, gone = _ledger_with_two(demo, tmp_path)
    log = ReleaseLog(tmp_path / "releases.db", KEYS)
    ledger = Ledger(ledger_path, KEYS)
    with open_engine(load_catalog(demo)) as engine:
        result = run_aggregates(
            _joined_spec(tmp_path, "joined"),
            engine,
            tmp_path / "out",
            release_log=log,
            ledger=ledger,
        )
    ledger.close()
    source = demo.parent / "marketing_preferences.json"
    present = {
        r[0]
        for r in duckdb.execute(
            f"SELECT DISTINCT user_id FROM read_json_auto('{source}')"
        ).fetchall()
    }
    left = result.manifest.parameters["ledger"]
    assert isinstance(left, dict) and left["people_left_out"] == len(gone & present) > 0
    published = pd.read_csv(result.files["t"], dtype=str, keep_default_na=False, na_values=[""])
    accounts = demo.parent / "accounts.csv"
    truth = {
        (r[0], r[1]): r[2]
        for r in duckdb.execute(
            f"SELECT a.country, a.plan, count(DISTINCT m.user_id)"
            f" FROM read_json_auto('{source}') m"
            f" JOIN read_csv('{accounts}', all_varchar=true) a ON a.user_id = m.user_id"
            " WHERE m.user_id NOT IN (SELECT unnest(?)) GROUP BY ALL",
            [sorted(gone)],
        ).fetchall()
    }
    shown = published[published["suppressed"].isna()]
    assert len(shown) > 0
    for _, row in shown.iterrows():  # every published cell counts the people left
        assert int(row["count"]) == truth[(row["country"], row["plan"])]


# --- issue 22, third red team, finding 1: a group column unique per person ------------------
#
# Grouping by a column one person holds each (a phone stored as an integer, a date of birth,
# postcode + date of birth, a sequential member number, a sign-up time) wrote one suppressed
# row per person, carrying that person's value; `dsar verify --catalog` said OK.

SHOP_CATALOG = """version: 1
controller:
  name: Shop B.V.
  contact: privacy@shop.example
  supervisory_authority: Autoriteit Persoonsgegevens (Netherlands)
tables:
  customers:
    path: customers.csv
    format: csv
    description: Customers.
    category: account
    origin: provided
    purposes: [sales]
    legal_basis: contract
    source: the person
    retention: {criteria: while the account is open}
    erasure: {action: delete}
    primary_key: [customer_id]
    columns:
      customer_id: {identity: customer_id, type: string}
      email: {identity: email, type: string, category: contact}
      ref: {type: integer}
      tag: {type: string}
      member_no: {type: integer}
      segment: {type: string}
      country: {type: string}
      company: {type: string}
      signup_at: {type: timestamp, origin: observed}
      d1: {type: date}
      birth_date: {type: date}
      referrer: {type: string}
      mailbox: {type: string}
      birth_year: {type: integer}
      birth_month: {type: integer}
      age_days: {type: integer}
"""
SHOP_PEOPLE = 400


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small shop export of made-up people with identifiers in disguise: a phone as an
    integer (ref), postcode + date of birth (tag), a sequential member number, a date of birth
    under a neutral name (d1) and under its own (birth_date), another customer's id
    (referrer), a few shared mailboxes, and companies most of them rare. The catalog's path."""
    import datetime as dt
    import random

    rng = random.Random(22)
    folder = tmp_path_factory.mktemp("shop")
    rows = []
    companies = [f"Company {i}" for i in range(40)]
    for i in range(SHOP_PEOPLE):
        dob = dt.date(1950, 1, 1) + dt.timedelta(days=rng.randint(0, 20000))
        signup = dt.datetime(2020, 1, 1) + dt.timedelta(seconds=rng.randint(0, 5 * 365 * 86400))
        rows.append(
            {
                "customer_id": f"C{100000 + i}",
                "email": f"person{i}@example.org",
                "ref": 31600000000 + rng.randint(0, 99999999),
                "tag": f"{rng.randint(1000, 9999)}{rng.choice('ABCDEFGH')}{dob:%Y%m%d}",
                "member_no": i + 1,
                "segment": rng.choice(["retail", "retail", "retail", "trade"]),
                "country": rng.choice(["NL", "NL", "BE"]),
                # ten big employers, thirty small ones (a name few people share)
                "company": companies[rng.randint(0, 9)]
                if rng.random() < 0.8
                else rng.choice(companies[10:]),
                "signup_at": signup.strftime("%Y-%m-%d %H:%M:%S"),
                "d1": dob.isoformat(),
                "birth_date": dob.isoformat(),
                "referrer": f"C{100000 + rng.randint(0, 29)}",
                "mailbox": f"team{rng.randint(0, 4)}@shop.example",  # shared, not personal
                "birth_year": dob.year,
                "birth_month": dob.month,
                "age_days": (dt.date(2026, 1, 1) - dob).days,
            }
        )
    pd.DataFrame(rows).to_csv(folder / "customers.csv", index=False)
    (folder / "catalog.yml").write_text(SHOP_CATALOG)
    return folder / "catalog.yml"


def _shop_spec(folder: Path, column: str, name: str = "") -> Path:
    path = folder / f"{name or column}.yml"
    path.write_text(
        f"version: 1\nname: by-{name or column}\ntable: customers\nperson: customer_id\n"
        f"min_count: 10\naggregates:\n  - {{name: t, group_by: [{column}]}}\n"
    )
    return path


def _source_values(catalog: Path) -> set[str]:
    """Every value of the shop's source, as text: none may be printed."""
    frame = pd.read_csv(catalog.parent / "customers.csv", dtype=str)
    values = {str(v) for c in frame.columns for v in frame[c].dropna()}
    return {v for v in values if len(v) >= 6}


@pytest.mark.parametrize(
    ("column", "why"),
    [
        ("ref", "unique to almost every person"),  # a phone stored as an integer
        ("member_no", "unique to almost every person"),  # sequential: signup order
        ("tag", "unique to almost every person"),  # postcode + date of birth
        ("signup_at", "unique to almost every person"),  # a time the system recorded
        ("d1", "looks like a date of birth"),  # found by its values
        ("birth_date", "a date of birth by its name"),
        ("referrer", "holds customers.customer_id values"),  # another table's identity
        ("mailbox", "shaped as identifiers (emails)"),
    ],
)
def test_a_group_column_that_singles_people_out_is_refused_before_anything_is_written(
    shop: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, column: str, why: str
) -> None:
    monkeypatch.setenv("WORKBENCH_KEY", "a" * 40)
    spec = _shop_spec(tmp_path, column)
    got = CliRunner().invoke(
        anonymize_app,
        [
            "aggregate",
            str(spec),
            "--catalog",
            str(shop),
            "--out",
            str(tmp_path / "out"),
            "--release-log",
            str(tmp_path / "releases.db"),
        ],
    )
    assert isinstance(got.exception, ConfigError), got.output
    text = str(got.exception)  # as the command line prints it
    assert f"aggregates.0.group_by.0: a cell per value of {column}" in text or (
        f"{column} is a date of birth" in text
    ), text
    assert why in text and "fix: group by a coarser column" in text
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
    assert (
        not (tmp_path / "releases.db").exists()
        or not ReleaseLog(tmp_path / "releases.db", KEYS).releases()
    )
    printed = set(re.split(r"[\s,;:()]+", text))
    assert not printed & _source_values(shop)  # counts and names only


def test_a_suppressed_cell_names_no_value_fewer_than_min_count_people_hold(
    shop: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Companies: ten big ones, thirty held by a few people each. A suppressed cell of a small
    company is written as (withheld), once, so the file names no company fewer than ten
    people work at; the reviewer's check, with the source, agrees."""
    monkeypatch.setenv("WORKBENCH_KEY", "a" * 40)
    spec = tmp_path / "company.yml"
    spec.write_text(
        "version: 1\nname: by-company\ntable: customers\nperson: customer_id\nmin_count: 10\n"
        "aggregates:\n  - {name: t, group_by: [company, country], margins: true}\n"
    )
    log = ReleaseLog(tmp_path / "releases.db", KEYS)
    with open_engine(load_catalog(shop)) as engine:
        result = run_aggregates(spec, engine, tmp_path / "out", release_log=log)
    log.close()
    frame = pd.read_csv(result.files["t"], dtype=str, keep_default_na=False, na_values=[""])
    source = pd.read_csv(shop.parent / "customers.csv", dtype=str)
    held = source.groupby("company")["customer_id"].nunique()
    rare = set(held[held < 10].index)
    assert len(rare) >= 20  # the attack has something to find
    named = set(frame["company"]) - {"(total)", "(withheld)"}
    assert named and not named & rare
    withheld = frame[frame["company"] == "(withheld)"]
    assert len(withheld) and withheld["count"].isna().all()
    assert set(withheld["suppressed"]) <= {"primary", "complementary"}
    # one row per line of withheld cells: per country, and the margin over every country
    assert len(withheld) == len(withheld.drop_duplicates(["company", "country"]))
    withheld_cells = result.manifest.parameters["withheld_group_values"]
    assert isinstance(withheld_cells, int) and withheld_cells >= len(rare)
    assert result.manifest.cells["t"] == len(frame)
    checked = CliRunner().invoke(dsar_app, ["verify", str(result.folder), "--catalog", str(shop)])
    assert checked.exit_code == 0, checked.output
    again = [str(spec), "--catalog", str(shop), "--out", str(tmp_path / "cli")]
    said = CliRunner().invoke(
        anonymize_app, ["aggregate", *again, "--release-log", str(tmp_path / "cli.db")]
    )
    assert said.exit_code == 0, said.output
    assert f"{withheld_cells} suppressed cell(s) written with (withheld) for a group value" in (
        said.output
    )


def test_a_birth_month_beside_its_year_or_an_age_in_days_is_refused(
    shop: Path, tmp_path: Path
) -> None:
    """Each alone shares its values; the month beside the year, or an age in days, is a date
    of birth finer than the year."""
    spec = tmp_path / "births.yml"
    spec.write_text(
        "version: 1\nname: births\ntable: customers\nperson: customer_id\n"
        "aggregates:\n  - {name: t, group_by: [birth_year, birth_month]}\n"
        "  - {name: u, group_by: [age_days]}\n"
    )
    log = ReleaseLog(tmp_path / "releases.db", KEYS)
    with open_engine(load_catalog(shop)) as engine, pytest.raises(ConfigError) as got:
        run_aggregates(spec, engine, tmp_path / "out", release_log=log)
    log.close()
    text = str(got.value)
    assert "aggregates.0.group_by.1: birth_month is the month or day of a birth" in text
    assert "aggregates.1.group_by.0: a cell per value of age_days" in text
    assert "an age in days, weeks or months" in text
    assert not (tmp_path / "out").exists()


def _old_run(shop: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, column: str) -> Path:
    """A run as the workbench wrote it before the fix: no check of its group column, every
    suppressed cell with its value (the red team's folder)."""
    import anonymize.aggregate as aggregate

    monkeypatch.setattr(aggregate, "group_problems", lambda run, engine: [])
    monkeypatch.setattr(aggregate, "_rare_values", lambda engine, relation, params, run: {})
    log = ReleaseLog(tmp_path / f"{column}.db", KEYS)
    with open_engine(load_catalog(shop)) as engine:
        result = run_aggregates(
            _shop_spec(tmp_path, column), engine, tmp_path / "old", release_log=log
        )
    log.close()
    monkeypatch.undo()
    monkeypatch.setenv("WORKBENCH_KEY", "a" * 40)
    return result.folder


@pytest.mark.parametrize("column", ["ref", "member_no", "d1", "signup_at"])
def test_verify_finds_a_published_group_column_unique_per_person(
    shop: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, column: str
) -> None:
    folder = _old_run(shop, tmp_path, monkeypatch, column)
    published = pd.read_csv(folder / "t.csv", dtype=str)
    assert len(published) > 0.9 * SHOP_PEOPLE  # the attack: one row per person
    for more in ([], ["--catalog", str(shop)]):
        got = CliRunner().invoke(dsar_app, ["verify", str(folder), *more])
        assert got.exit_code == 1, got.output
        assert f"[group values] t.csv {column}: " in got.output
        assert "held by fewer than 10 people" in got.output
        assert not set(re.split(r"[\s,;:()]+", got.output)) & _source_values(shop)


def test_verify_finds_a_published_group_column_shaped_as_identifiers(
    shop: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Shared mailboxes, each held by about eighty people: no count finds them, their shape
    does (a row per mailbox, never the address)."""
    folder = _old_run(shop, tmp_path, monkeypatch, "mailbox")
    got = CliRunner().invoke(dsar_app, ["verify", str(folder)])
    assert got.exit_code == 1, got.output
    assert "[personal data] t.csv mailbox row 1: emails in clear" in got.output
    assert "@shop.example" not in got.output


def test_verify_with_the_source_finds_group_values_few_people_hold(
    shop: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Thirty rare companies among forty: too few values for the file alone to tell (no more
    than 400 rows could hold at 10 each), the source does, by count."""
    folder = _old_run(shop, tmp_path, monkeypatch, "company")
    alone = CliRunner().invoke(dsar_app, ["verify", str(folder)])
    assert alone.exit_code == 0, alone.output
    got = CliRunner().invoke(dsar_app, ["verify", str(folder), "--catalog", str(shop)])
    assert got.exit_code == 1, got.output
    assert re.search(
        r"\[group values\] t\.csv company: \d+ of \d+ published values are held by fewer than"
        r" 10 people in the source",
        got.output,
    ), got.output
    assert "Company 1" not in got.output


@pytest.mark.parametrize("example", sorted(EXAMPLES.glob("aggregate_*.yml")), ids=str)
def test_the_shipped_aggregate_examples_run_and_verify_clean(
    demo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, example: Path
) -> None:
    monkeypatch.setenv("WORKBENCH_KEY", "a" * 40)
    out = tmp_path / "out"
    got = CliRunner().invoke(
        anonymize_app,
        [
            "aggregate",
            str(example),
            "--catalog",
            str(demo),
            "--out",
            str(out),
            "--release-log",
            str(tmp_path / "releases.db"),
        ],
    )
    assert got.exit_code == 0, got.output
    (folder,) = out.iterdir()
    checked = CliRunner().invoke(dsar_app, ["verify", str(folder), "--catalog", str(demo)])
    assert checked.exit_code == 0, checked.output
    assert f"{folder}: OK (" in checked.output
