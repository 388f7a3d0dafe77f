"""Messages a person reads (issue 25, point 6): the audience summary in lines, the noise the
DP manifest names, and the key an extract asks for."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from anonymize.cli import app as anonymize_app
from dsar.demo import generate
from dsar.errors import MissingKeyError
from dsar.review.manifest import AudienceManifest

KEY = "m" * 40
EXAMPLES = Path(__file__).parents[1] / "examples"
runner = CliRunner()


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate(tmp_path_factory.mktemp("messages"), users=300, seed=7).catalog_path


def test_the_audience_summary_is_lines_that_add_up(demo: Path, tmp_path: Path) -> None:
    out = tmp_path / "aud"
    args = ["audience", "--catalog", str(demo), "--out", str(out)]
    args += ["--spec", str(EXAMPLES / "audience_marketing.yml"), "--platform", "meta"]
    result = runner.invoke(anonymize_app, args, env={"WORKBENCH_KEY": KEY})
    assert result.exit_code == 0, result.output
    counts = AudienceManifest.model_validate_json((out / "meta.manifest.json").read_text()).counts
    stdout = result.stdout
    assert "{" not in stdout and "rows_read" not in stdout and "rows_in" not in stdout
    head = re.search(
        r"^meta: ([\d,]+) of ([\d,]+) row\(s\) read written to meta\.csv$", stdout, re.M
    )
    assert head, stdout
    written, read = (int(g.replace(",", "")) for g in head.groups())
    assert (written, read) == (counts["written"], counts["rows_read"])
    left = re.search(r"^  left out: ([\d,]+) row\(s\)", stdout, re.M)
    assert left, stdout
    reasons = [
        (int(n.replace(",", "")), key)
        for n, key in re.findall(r"^    ([\d,]+) [^\n]+ \((\w+)\)$", stdout, re.M)
    ]
    assert reasons, "the demo leaves people out (no consent, opted out...)"
    assert all(counts[key] == n for n, key in reasons)
    total = int(left.group(1).replace(",", ""))
    assert total == sum(n for n, _ in reasons) == read - written


def test_the_dp_mechanism_names_the_noise_and_the_opendp_release(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import importlib.metadata

    import opendp.prelude  # noqa: F401 - imported as a run with noise has it

    from anonymize.noise import mechanism

    installed = importlib.metadata.version("opendp")
    named = mechanism()
    assert "keyed discrete Laplace noise, built in" in named
    assert f"OpenDP {installed}" in named and "?" not in named

    def no_metadata(name: str) -> str:
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "version", no_metadata)
    unknown = mechanism()
    assert "?" not in unknown and "built in" in unknown
    assert "OpenDP (release not recorded" in unknown or re.search(r"OpenDP \d", unknown)


def test_an_extract_without_a_key_names_the_variable_and_the_option(
    demo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("WORKBENCH_KEY", raising=False)
    args = ["extract", str(EXAMPLES / "extract_accounts.yml"), "--catalog", str(demo)]
    result = runner.invoke(anonymize_app, [*args, "--out", str(tmp_path / "x")])
    assert isinstance(result.exception, MissingKeyError)
    message = str(result.exception)
    assert "WORKBENCH_KEY" in message and "--key-file" in message


def test_the_licence_is_an_spdx_expression_with_its_text() -> None:
    """PEP 639: `license` an SPDX string, the text in `license-files`, and a build backend
    that reads both (setuptools 77 or later); a table or a classifier makes pip warn."""
    import tomllib

    root = Path(__file__).parents[1]
    data = tomllib.loads((root / "pyproject.toml").read_text())
    project = data["project"]
    assert project["license"] == "Apache-2.0"
    assert not any(c.startswith("License ::") for c in project.get("classifiers", []))
    files = [root / f for f in project["license-files"]]
    assert files and all(f.is_file() for f in files)
    assert " ".join(files[0].read_text().split()[:4]) == "Apache License Version 2.0,"
    [backend] = [r for r in data["build-system"]["requires"] if r.startswith("setuptools")]
    found = re.fullmatch(r"setuptools>=(\d+)(?:\.\d+)*", backend)
    assert found and int(found.group(1)) >= 77
