"""One convention for every job of `anonymize`: the caller opens the engine and passes it, the
catalog is the engine's, and the spec (a YAML file or made in Python) goes through one
prologue (`anonymize.spec.checked_spec`) that reports every problem at once."""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel
from typer.testing import CliRunner

from anonymize import AggregateRun, Policy, build_audience, run_aggregates, run_extract
from anonymize.audience import AudienceSpec
from dsar import Keys, ReleaseLog, load_catalog, open_engine
from dsar.engine import Engine
from dsar.errors import ConfigError, EngineError

EXAMPLES = Path(__file__).parents[1] / "examples"
KEYS = Keys(b"p" * 40)
Job = Callable[[Any, Engine, Path], object]

JOBS: dict[str, tuple[Path, type[BaseModel], str, Job]] = {
    "extract": (
        EXAMPLES / "extract_accounts.yml",
        Policy,
        "policy",
        lambda spec, engine, out: run_extract(spec, engine, out, keys=KEYS),
    ),
    "aggregate": (
        EXAMPLES / "aggregate_accounts.yml",
        AggregateRun,
        "aggregate spec",
        lambda spec, engine, out: run_aggregates(
            spec, engine, out, release_log=ReleaseLog(out.parent / "releases.db", KEYS)
        ),
    ),
    "audience": (
        EXAMPLES / "audience_marketing.yml",
        AudienceSpec,
        "audience spec",
        lambda spec, engine, out: build_audience(spec, engine, ["google"], out),
    ),
}

# per job and case: edits to the example's text, and a pattern for each problem reported
BROKEN: dict[tuple[str, str], tuple[list[tuple[str, str]], list[str]]] = {
    ("extract", "unknown table"): (
        [("table: accounts", "table: acounts")],
        [r"no table 'acounts' in the catalog\s+fix: did you mean 'accounts'\?"],
    ),
    ("extract", "unknown columns"): (
        [
            ("  company: drop\n", "  company: drop\n  nickname: drop\n"),
            ("person: user_id", "person: userid"),
        ],
        [r"nickname", r"accounts has no column 'userid'"],
    ),
    ("extract", "unknown joined table"): (
        [("output:", "join:\n  - table: nowhere\n    columns: {x: keep}\noutput:")],
        [r"^join\.0\.table\b.*: no table 'nowhere' in the catalog"],
    ),
    ("aggregate", "unknown table"): (
        [("table: accounts", "table: acounts")],
        [r"no table 'acounts' in the catalog\s+fix: did you mean 'accounts'\?"],
    ),
    ("aggregate", "unknown columns"): (
        [
            ("group_by: [country, plan]", "group_by: [country, plann]"),
            ("person: user_id", "person: userid"),
        ],
        [r"accounts has no column 'plann'", r"accounts has no column 'userid'"],
    ),
    ("aggregate", "unknown joined table"): (
        [("output:", "join:\n  - {table: nowhere, columns: [x]}\noutput:")],
        [r"^join\.0\.table\b.*: no table 'nowhere' in the catalog"],
    ),
    ("audience", "unknown table"): (
        [("table: marketing_preferences", "table: marketing_prefs")],
        [r"no table 'marketing_prefs' in the catalog"],
    ),
    ("audience", "unknown columns"): (
        [("email: email", "email: e_mail"), ("consent: ads_personalization", "consent: ads")],
        [
            r"marketing_preferences has no column 'e_mail'",
            r"marketing_preferences has no column 'ads'",
        ],
    ),
    ("audience", "unknown joined table"): (
        [("accounts: {table: accounts,", "accounts: {table: nowhere,")],
        [r"^accounts\.table\b.*: no table 'nowhere'"],
    ),
}


def _broken(job: str, case: str, folder: Path) -> tuple[Path, list[str]]:
    path, *_ = JOBS[job]
    edits, expected = BROKEN[(job, case)]
    text = path.read_text()
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new)
    (broken := folder / f"{job}.yml").write_text(text)
    return broken, expected


@pytest.mark.parametrize("made_in", ["yaml", "python"])
@pytest.mark.parametrize(("job", "case"), list(BROKEN), ids=[" ".join(k) for k in BROKEN])
def test_every_job_reports_every_problem_of_its_spec_at_once(
    demo_export: Path, tmp_path: Path, job: str, case: str, made_in: str
) -> None:
    """An unknown table or column is a ConfigError listing each problem, from a file (with
    its line) or made in Python (with its path), never a KeyError, and nothing is written."""
    broken, expected = _broken(job, case, tmp_path)
    _, model, what, run = JOBS[job]
    spec: object = broken
    if made_in == "python":
        spec = model.model_validate(yaml.safe_load(broken.read_text()))
    out = tmp_path / "out"
    with pytest.raises(ConfigError) as raised, open_engine(load_catalog(demo_export)) as engine:
        run(spec, engine, out)
    error = raised.value
    source = f"<{what} given in Python>" if made_in == "python" else str(broken)
    assert error.what == what and error.source == source
    assert len(error.problems) == len(expected), str(error)
    for pattern in expected:
        assert any(re.search(pattern, str(p)) for p in error.problems), (pattern, str(error))
    if made_in == "yaml":
        assert all("(line " in str(p) for p in error.problems), str(error)
    assert not out.exists() or not any(out.iterdir())


@pytest.mark.parametrize("job", list(JOBS))
def test_a_job_takes_its_catalog_from_the_engine(
    demo_export: Path, tmp_path: Path, job: str
) -> None:
    path, *_, run = JOBS[job]
    with (
        open_engine() as engine,
        pytest.raises(EngineError, match=r"opened without a catalog: open it with open_engine"),
    ):
        run(path, engine, tmp_path / "out")
    catalog = load_catalog(demo_export)
    with open_engine(catalog) as engine:
        assert engine.catalog is catalog
        with pytest.raises(TypeError, match=r"or the path of its YAML file, not dict"):
            run({"version": 1}, engine, tmp_path / "out")


def test_the_extract_command_reads_within_its_memory_limit_and_spills_privately(
    demo_export: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What `run_extract` used to set on the engine it opened, the command line now sets on
    the engine it opens: DuckDB within --memory-limit, spilling into an owner-only folder
    beside the extract (rows not yet de-identified), removed after."""
    import dsar.engine
    from anonymize.cli import app

    opened: list[dict[str, Any]] = []
    real = dsar.engine.open_engine

    def spy(catalog: Any, kind: str = "duckdb", **options: Any) -> Engine:
        spill = Path(options["temp_directory"])
        opened.append({**options, "mode": stat.S_IMODE(spill.stat().st_mode)})
        return real(catalog, kind, **options)

    monkeypatch.setattr(dsar.engine, "open_engine", spy)
    monkeypatch.setenv("WORKBENCH_KEY", "p" * 40)
    out = tmp_path / "out"
    policy = tmp_path / "accounts.yml"  # 300 demo users: a bigger budget than the example's
    policy.write_text((EXAMPLES / "extract_accounts.yml").read_text().replace("0.10", "0.5"))
    args = ["extract", str(policy), "--catalog", str(demo_export)]
    result = CliRunner().invoke(app, [*args, "--out", str(out), "--memory-limit", "300MB"])
    assert result.exit_code == 0, result.output
    [options] = opened
    assert options["memory_limit"] == "300MB" and options["mode"] == 0o700
    assert Path(options["temp_directory"]).parent == out
    assert sorted(os.listdir(out)) == ["accounts-overview"]  # the spill folder is gone
