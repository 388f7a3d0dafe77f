"""Notebooks run top to bottom on the demo export, with papermill, and produce what they say.

Each is committed clean (no outputs, one cell tagged `parameters`) and ends with its next
step; `make demo` installs everything it imports; run, it writes only under its work folder,
shows numbers as people read them (no raw floats, dicts or reprs), and a second run gives the
same result without adding requests.
"""

from __future__ import annotations

import ast
import json
import re
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).parents[1]
NOTEBOOKS = ROOT / "notebooks"
ALL = sorted(NOTEBOOKS.glob("*.ipynb"))
# The smallest demo each notebook is tested on, besides its work_dir (here and in
# tests/test_notebooks_browser.py, which runs every notebook in JupyterLab).
SMALL: dict[str, dict[str, object]] = {
    "00_data_map.ipynb": {"demo_users": 200, "demo_seed": 3},
    "02_erasure_and_correction.ipynb": {"received": "2026-11-20", "apply": True},
    "03_deidentified_extract.ipynb": {"demo_users": 400, "k": 5, "max_suppression": 0.3},
    "04_ad_audience.ipynb": {"demo_users": 400},
    "06_breach.ipynb": {"demo_users": 300},
}


def _code_cells(path: Path) -> list[dict[str, Any]]:
    nb = json.loads(path.read_text(encoding="utf-8"))
    return [c for c in nb["cells"] if c["cell_type"] == "code"]


def _source(cell: dict[str, Any]) -> str:
    src = cell["source"]
    return src if isinstance(src, str) else "".join(src)


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.name)
def test_notebook_is_committed_clean(path: Path) -> None:
    nb = json.loads(path.read_text(encoding="utf-8"))
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert not any(c.get("outputs") for c in code), "clear outputs before committing"
    assert all(c.get("execution_count") is None for c in code), "clear execution counts"
    tagged = [c for c in code if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1, "one cell tagged 'parameters'"
    assert tagged[0] is code[0], "the parameters cell is the first code cell"
    params = _source(tagged[0])
    # every notebook writes under one work folder, the repository's gitignored work/
    assert re.search(r'^work_dir = "\.\./work"', params, re.M), "a work_dir parameter: ../work"
    last = nb["cells"][-1]
    assert last["cell_type"] == "markdown" and _source(last).startswith("## Next step"), (
        "the notebook ends with its next step"
    )


def test_work_folder_is_ignored_and_make_demo_writes_only_there() -> None:
    ignored = (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert "/work/" in ignored or "work/" in ignored
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    dry = subprocess.run(
        ["make", "-n", "-B", "demo"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    written = re.findall(r"--out (\S+)", dry) + re.findall(r"rm -rf ((?:\S+ ?)+)", dry)
    written = [w for ws in written for w in ws.split()]
    assert written, dry
    assert all(w.startswith("work/") for w in written), written


def _extras(makefile: str, stamp: str) -> set[str]:
    """The extras a stamp rule of the Makefile installs (`pip install -e '.[a,b]'`)."""
    rule = re.search(rf"^\$\(VENV\)/{re.escape(stamp)}:.*\n((?:\t.*\n)+)", makefile, re.M)
    assert rule, f"no {stamp} rule in the Makefile"
    found = re.search(r"-e '\.\[([\w,-]+)\]'", rule.group(1))
    assert found, rule.group(1)
    return set(found.group(1).split(","))


def _installed_by(extras: set[str]) -> set[str]:
    """The distributions `pip install .[extras]` brings in (read from the installed metadata)."""
    seen: set[tuple[str, str]] = set()
    names: set[str] = set()
    todo = [("privacy-workbench", extra) for extra in {"", *extras}]
    while todo:
        name, extra = todo.pop()
        if (canonicalize_name(name), extra) in seen:
            continue
        seen.add((canonicalize_name(name), extra))
        names.add(canonicalize_name(name))
        try:
            requires = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue
        for line in requires:
            req = Requirement(line)
            if req.marker is None or req.marker.evaluate({"extra": extra}):
                todo += [(req.name, e) for e in {"", *req.extras}]
    return names


def _needed_modules(path: Path) -> set[str]:
    """Top-level modules a notebook imports, and those it loads by name: the spaCy model of its
    parameters, OpenDP for differentially private aggregates."""
    modules: set[str] = set()
    for cell in _code_cells(path):
        src = _source(cell)
        for node in ast.walk(ast.parse(src)):
            if isinstance(node, ast.Import):
                modules |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                modules.add(node.module.split(".")[0])
        modules |= set(re.findall(r'spacy_model = "(\w+)"', src))
        if "differential_privacy" in src:
            modules.add("opendp")
    return modules - set(sys.stdlib_module_names) - {"dsar", "anonymize"}


def _missing_for_demo(makefile: str) -> dict[str, set[str]]:
    installed = _installed_by(_extras(makefile, ".installed-run"))
    providers = metadata.packages_distributions()
    missing: dict[str, set[str]] = {}
    for path in ALL:
        for module in _needed_modules(path):
            dists = {canonicalize_name(d) for d in providers.get(module, [module])}
            if not dists & installed:
                missing.setdefault(path.name, set()).add(module)
    return missing


def test_make_demo_installs_what_every_notebook_needs() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert _missing_for_demo(makefile) == {}
    # the check bites: without the dp extra, notebook 03's noisy aggregates cannot run
    without_dp = makefile.replace("'.[ner,lab,dp]'", "'.[ner,lab]'")
    assert without_dp != makefile
    assert "opendp" in _missing_for_demo(without_dp).get("03_deidentified_extract.ipynb", set())


# What a person should never have to read in a notebook's output.
_RAW = [
    (re.compile(r"(?<![\w:.])\d+\.\d{5,}"), "a float printed raw"),
    (re.compile(r"^\s*[\[{(]\(?'[^']*'[:,]", re.M), "a dict, list or tuple printed raw"),
    (re.compile(r"<[\w.]+ object at 0x|<IPython\.core\.display\.\w+ object>"), "an object's repr"),
    (re.compile(r"\b\w+='[^']*' \w+=['\w]"), "a model's repr"),
]


def _readable_failures(executed: dict[str, Any]) -> list[str]:
    """What a person would see raw: each output as it renders (Markdown, else HTML, else text;
    a figure's text stand-in is never shown)."""
    bad = []
    for i, cell in enumerate(executed["cells"]):
        for out in cell.get("outputs", []):
            if out["output_type"] == "stream":
                shown = out["text"]
            elif out["output_type"] in ("display_data", "execute_result"):
                data = out.get("data", {})
                if "image/png" in data:
                    continue
                shown = data.get("text/markdown") or data.get("text/html") or data.get("text/plain")
            else:
                continue
            text = shown if isinstance(shown, str) else "".join(shown)
            bad += [
                f"cell {i}: {what}: {m.group(0)!r}" for rx, what in _RAW for m in rx.finditer(text)
            ]
    return bad


def _execute(name: str, tmp_path: Path, parameters: dict[str, object]) -> dict[str, Any]:
    """Run a notebook with papermill in `tmp_path`; return the executed notebook as JSON.

    Every run must write only under its work folder, show nothing raw, and end with a
    summary."""
    import papermill as pm

    executed = tmp_path / f"executed-{name}"
    pm.execute_notebook(
        str(NOTEBOOKS / name),
        str(executed),
        parameters=parameters,
        kernel_name="python3",
        progress_bar=False,
        cwd=str(tmp_path),
    )
    result: dict[str, Any] = json.loads(executed.read_text(encoding="utf-8"))
    work = Path(str(parameters["work_dir"]))
    strays = {
        p.name for p in tmp_path.iterdir() if p != work and not p.name.startswith("executed-")
    }
    assert not strays, f"{name} wrote outside its work folder: {sorted(strays)}"
    assert _readable_failures(result) == []
    assert _summary(result), "the summary is shown before the next step"
    return result


def _summary(executed: dict[str, Any]) -> str:
    """The Markdown the notebook's summary cell shows."""
    return "".join(
        "".join(o["data"]["text/markdown"])
        for c in executed["cells"][-3:]
        for o in c.get("outputs", [])
        if "text/markdown" in o.get("data", {})
    )


def _stderr(executed: dict[str, Any]) -> list[str]:
    """What the notebook wrote to stderr, which JupyterLab draws in red like an error: its
    notices are shown as Markdown or plain lines instead."""
    return [
        f"cell {i}: {''.join(o['text'])[:200]}"
        for i, c in enumerate(executed["cells"])
        for o in c.get("outputs", [])
        if o["output_type"] == "stream" and o.get("name") == "stderr"
    ]


def _markdown(executed: dict[str, Any]) -> str:
    """Every Markdown output, joined."""
    return "\n".join(
        "".join(o["data"]["text/markdown"])
        for c in executed["cells"]
        for o in c.get("outputs", [])
        if "text/markdown" in o.get("data", {})
    )


def _images(executed: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        o
        for c in executed["cells"]
        for o in c.get("outputs", [])
        if "image/png" in o.get("data", {})
    ]


def _shown(executed: dict[str, Any]) -> list[str]:
    """Every text output, as shown: what a second run must repeat."""
    return [
        "".join(o["text"])
        if o["output_type"] == "stream"
        else json.dumps(o["data"].get("text/plain"))
        for c in executed["cells"]
        for o in c.get("outputs", [])
        if o["output_type"] == "stream" or "text/plain" in o.get("data", {})
    ]


def test_readable_failures_find_raw_output() -> None:
    def nb(text: str) -> dict[str, Any]:
        out = {"output_type": "execute_result", "data": {"text/plain": text}}
        return {"cells": [{"outputs": [out]}]}

    assert _readable_failures(nb("k 31.000000")) != []
    assert _readable_failures(nb("{'primary': 0, 'complementary': 0}")) != []
    assert _readable_failures(nb("[('google', 'ads-lookalike')]")) != []
    assert _readable_failures(nb("<pandas.io.formats.style.Styler object at 0x7f>")) != []
    assert _readable_failures(nb("source='table' table='marketing_preferences'")) != []
    assert _readable_failures(nb("k = 31; 1,943 of 2,000 people (97.2%) at 12:00:01.123456")) == []


@pytest.mark.slow
def test_data_map_notebook(tmp_path: Path) -> None:
    work = tmp_path / "work"
    executed = _execute(
        "00_data_map.ipynb", tmp_path, {"work_dir": str(work), **SMALL["00_data_map.ipynb"]}
    )
    inv = pd.read_csv(work / "00-data-map" / "inventory.csv").set_index("name")
    assert len(inv) == 10
    assert inv.loc["accounts", "rows"] == 200
    assert inv.loc["app_end_users", "role"] == "processor"
    assert (work / "demo-export" / "catalog.yml").is_file()  # the one `make demo` writes
    assert _images(executed), "the rows-per-table chart was drawn"


@pytest.mark.slow
def test_access_request_notebook(tmp_path: Path) -> None:
    from dsar.demo import generate
    from tests.conftest import AS_OF

    work = tmp_path / "work"
    generate(work / "demo-export", users=200, seed=3, as_of=AS_OF)  # as `make demo` leaves it
    out = work / "01-access"
    first = _execute("01_access_request.ipynb", tmp_path, {"work_dir": str(work)})
    summary = json.loads((out / "AR-DEMO.summary.json").read_text())
    assert summary["verified"] is True
    assert summary["rows"] > 10
    assert summary["tables"]["accounts"] == 1
    assert (out / "AR-DEMO.zip").is_file()
    # the demo runs again: its bundle is replaced, the answer the same
    again = _execute("01_access_request.ipynb", tmp_path, {"work_dir": str(work)})
    assert json.loads((out / "AR-DEMO.summary.json").read_text()) == summary
    assert sorted(p.name for p in out.iterdir()) == [
        "AR-DEMO",
        "AR-DEMO.summary.json",
        "AR-DEMO.zip",
    ]
    assert _summary(again) == _summary(first)
    assert _stderr(first) == [] and _stderr(again) == []
    assert "Notice**: bundle AR-DEMO holds" in _markdown(first)  # shown, not lost


@pytest.mark.slow
def test_erasure_notebook(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from dsar import Register, load_keys

    monkeypatch.delenv("WORKBENCH_KEY", raising=False)  # the notebook makes its demo key
    work = tmp_path / "work"
    params = {"work_dir": str(work), **SMALL["02_erasure_and_correction.ipynb"]}
    _execute("02_erasure_and_correction.ipynb", tmp_path, params)
    scratch = work / "02-erasure"
    summary = json.loads((scratch / "summary.json").read_text())
    assert summary["applied"] is True and summary["changes"] > 0
    assert summary["audit_intact"] is True
    assert summary["ledger_entries"] > 0
    assert set(summary["statuses"].values()) == {"completed"}
    assert len(summary["statuses"]) == 2
    assert summary["corrected_rows"] == 1
    assert Path(summary["certificate"]).is_file()
    key = (work / "demo-secrets" / "key").read_text()
    assert (work / "demo-secrets" / "key").stat().st_mode & 0o077 == 0
    # Run All again: the same key, the same two requests, the same result
    _execute("02_erasure_and_correction.ipynb", tmp_path, params)
    assert (work / "demo-secrets" / "key").read_text() == key
    again = json.loads((scratch / "summary.json").read_text())
    assert {k: v for k, v in again.items() if k != "certificate"} == {
        k: v for k, v in summary.items() if k != "certificate"
    }
    register = Register(scratch / "requests.db", load_keys(work / "demo-secrets" / "key"))
    assert len(register.list(include_closed=True)) == 2
    # a register of one's own keeps its requests: a third run names it and adds none
    own = tmp_path / "work" / "records" / "requests.db"
    for _ in range(2):
        _execute(
            "02_erasure_and_correction.ipynb",
            tmp_path,
            {"work_dir": str(work), "received": "2026-11-20", "register_path": str(own)},
        )
    assert (
        len(Register(own, load_keys(work / "demo-secrets" / "key")).list(include_closed=True)) == 2
    )


@pytest.mark.slow
def test_deidentified_extract_notebook(tmp_path: Path) -> None:
    work = tmp_path / "work"
    executed = _execute(
        "03_deidentified_extract.ipynb",
        tmp_path,
        {"work_dir": str(work), **SMALL["03_deidentified_extract.ipynb"]},
    )
    out = work / "03-extract"
    extract = pd.read_parquet(out / "accounts-extract" / "accounts.parquet")
    manifest = json.loads((out / "accounts-extract" / "manifest.json").read_text())
    qis = manifest["risk"]["quasi_identifiers"]
    assert qis == ["country", "plan", "signup_method", "status", "created_at", "last_login_at"]
    assert extract.groupby(qis, dropna=False)["user_id"].nunique().min() == manifest["risk"]["k"]
    assert manifest["risk"]["k"] >= 5
    for gone in ("email", "password_hash", "company", "closed_at"):
        assert gone not in extract.columns
    assert manifest["classification"]["status"].startswith("quasi-identifier")  # not hidden
    assert manifest["generalisation"]["created_at"] in ("to: month", "to: year", "*")
    assert 0 < manifest["information_loss"]["precision_loss"] <= 1
    u = manifest["uniqueness"]
    assert u["source"] == 1.0 and u["released"] == 0.0 and set(u["without"]) == set(qis)
    from dsar import verify_derived

    assert verify_derived(out / "accounts-extract").ok  # dsar verify passes the extract
    aggregates = pd.read_csv(out / "accounts-aggregates" / "by_country_plan.csv")
    assert (aggregates["count"].dropna() >= 10).all()
    noisy = json.loads((out / "accounts-aggregates-dp" / "manifest.json").read_text())
    assert noisy["differential_privacy"]["epsilon"] == 1.0
    assert noisy["release"]["entry"] == 2 and noisy["release"]["epsilon_spent"] == 1.0
    assert _images(executed), "the class-size chart is drawn"


@pytest.mark.slow
def test_ad_audience_notebook(tmp_path: Path) -> None:
    work = tmp_path / "work"
    params: dict[str, object] = {"work_dir": str(work), **SMALL["04_ad_audience.ipynb"]}
    first = _execute("04_ad_audience.ipynb", tmp_path, params)
    out = work / "04-audience"
    written = pd.read_csv(out / "first" / "meta.csv")
    assert len(written) > 0
    removals = sorted((out / "withdrawals").glob("*.csv"))
    assert len(removals) == 3  # one per platform, each holding the person who objected
    assert all(p.read_text().count("\n") == 2 for p in removals)
    assert _images(first), "the funnel is drawn"
    funnel = json.loads((out / "first" / "meta.manifest.json").read_text())["counts"]
    assert funnel["in_ledger"] == 0  # nobody had objected before the first build
    # Run All again: the same funnel, the same files, the same text
    again = _execute("04_ad_audience.ipynb", tmp_path, params)
    assert json.loads((out / "first" / "meta.manifest.json").read_text())["counts"] == funnel
    assert _shown(again) == _shown(first)
    assert _stderr(first) == [] and _stderr(again) == []
    assert "rows left out: values of google_profiles (limited_use)" in _markdown(first)


@pytest.mark.slow
def test_review_notebook(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from dsar import Register, load_keys
    from dsar.demo import generate
    from tests.conftest import AS_OF

    monkeypatch.delenv("WORKBENCH_KEY", raising=False)  # the notebook uses the demo key
    work = tmp_path / "work"
    generate(work / "demo-export", users=200, seed=3, as_of=AS_OF)  # as `make demo` leaves it
    params: dict[str, object] = {"work_dir": str(work)}
    first = _execute("05_review_before_delivery.ipynb", tmp_path, params)
    scratch = work / "05-review"
    summary = json.loads((scratch / "summary.json").read_text())
    assert summary["findings"] == 0 and summary["third_party_items"] > 0
    assert summary["undecided"] == 0
    assert summary["reviewed"] is True and summary["approved"] is True
    assert summary["status"] == "approved" and summary["audit_intact"] is True
    register = Register(scratch / "requests.db", load_keys(work / "demo-secrets" / "key"))
    actions = [e.action for e in register.audit.entries()]
    assert actions.count("artifact.reviewed") == 1 and actions.count("artifact.approved") == 1
    register.close()
    # Run All again: a fresh demo, the same result, one request
    again = _execute("05_review_before_delivery.ipynb", tmp_path, params)
    assert json.loads((scratch / "summary.json").read_text()) == summary
    assert _summary(again) == _summary(first)
    register = Register(scratch / "requests.db", load_keys(work / "demo-secrets" / "key"))
    assert len(register.list(include_closed=True)) == 1
    register.close()
    # the same person as reviewer and approver: the approval is refused, and says so
    _execute(
        "05_review_before_delivery.ipynb",
        tmp_path,
        {**params, "approver": " ann  REVIEWER"},
    )
    refused = json.loads((scratch / "summary.json").read_text())
    assert refused["reviewed"] is True and refused["approved"] is False
    assert refused["status"] == "reviewed"


@pytest.mark.slow
def test_review_notebook_checks_a_certificate_with_the_key(tmp_path: Path) -> None:
    """A certificate whose MAC fails is a finding the notebook shows (checked with the key,
    as the sign-off checks it), and nobody signs it."""
    from dsar import Keys, load_catalog, open_engine
    from dsar.rights import apply_plan, plan_erasure
    from dsar.subjects.identity import SubjectRequest, parse_key
    from tests.access_fixture import write_access_fixture

    work = tmp_path / "work"
    key = work / "key"
    key.parent.mkdir()
    key.write_text("c" * 40)
    keys = Keys(("c" * 40).encode())
    catalog = load_catalog(write_access_fixture(work / "traps"))
    request = SubjectRequest("ER-1", (parse_key("email=ann@example.com"),))
    with open_engine(catalog) as engine:
        plan = plan_erasure(catalog, engine, request, keys=keys)
        done = apply_plan(plan, catalog, engine, out=work / "certs", keys=keys, dry_run=False)
    assert done.certificate is not None
    data = json.loads(done.certificate.read_text())
    data["mac"] = data["mac"][:-1] + ("0" if data["mac"][-1] != "0" else "1")
    done.certificate.write_text(json.dumps(data, indent=2))
    params: dict[str, object] = {
        "work_dir": str(work),
        "artifact_path": str(done.certificate),
        "key_file": str(key),
        "register_path": str(work / "requests.db"),
    }
    executed = _execute("05_review_before_delivery.ipynb", tmp_path, params)
    summary = json.loads((work / "05-review" / "summary.json").read_text())
    assert summary["findings"] == 1 and summary["reviewed"] is False
    assert "its MAC fails" in json.dumps(executed)
