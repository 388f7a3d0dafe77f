"""Every notebook in a real browser: JupyterLab in headless Chromium, Run All, no error shown.

The test starts JupyterLab on a free local port, on copies of the notebooks with the smallest
demo parameters of test_notebooks.py injected after their parameters cell, all sharing one work
folder as an analyst's would. In Debian's Chromium driven by Playwright (never a browser
Playwright downloads) it opens each notebook from the file browser, clicks Run > Run All Cells
and waits until no cell is queued or running. It fails when an error rendered (a traceback, or a
Python warning), an image could not be shown, a cell was not run, or no Markdown summary
rendered. A screenshot per notebook (at its first error, else at its end), the server's log and
the browser's console go to work/test-artifacts/browser/ (or $BROWSER_ARTIFACTS).

Without Chromium or Playwright the test skips locally, saying why; CI sets
WORKBENCH_REQUIRE_BROWSER=1 (.ci/run), which turns that skip into a failure. $CHROMIUM names
another Chromium executable.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.test_notebooks import ALL, ROOT, SMALL

if TYPE_CHECKING:
    from playwright.sync_api import Page

ARTIFACTS = Path(
    os.environ.get("BROWSER_ARTIFACTS") or ROOT / "work" / "test-artifacts" / "browser"
)
REQUIRED = os.environ.get("WORKBENCH_REQUIRE_BROWSER") == "1"
# one notebook's Run All on the small demo takes seconds; the limit is generous for a loaded
# CI machine and short of hanging the run
RUN_ALL_S = 300
# a notebook made to fail, which the check must catch (the check bites)
BROKEN = "zz_broken.ipynb"

# JupyterLab's user settings for the test: every cell kept in the DOM (no windowing, so every
# output can be read), no news or update check
SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
}

PANEL = ".jp-NotebookPanel:not(.lm-mod-hidden)"
# The notebook NAME is the current one and its kernel connected and idle: the status bar says
# so ("Python 3 (ipykernel) | Idle"); the toolbar's indicator alone reads idle while the kernel
# is still starting, and Run All then asks which kernel to start.
READY_JS = """([panel, name]) => {
  const k = document.querySelector(panel + ' .jp-Notebook-ExecutionIndicator');
  const bar = [...document.querySelectorAll('#jp-main-statusbar .jp-StatusBar-TextItem')]
    .map(e => e.textContent.trim());
  return k !== null && k.dataset.status === 'idle' && bar.includes(name) &&
    bar.some(t => /^[^|]+\\| Idle$/.test(t));
}"""
# Run All has started: some cell is queued or running, or every cell already ran
STARTED_JS = """panel => {
  const p = [...document.querySelectorAll(panel + ' .jp-CodeCell .jp-InputPrompt')]
    .map(e => e.textContent.trim());
  return p.some(t => t.includes('*')) || (p.length > 0 && p.every(t => /\\[\\d+\\]/.test(t)));
}"""
# Run All has finished: no cell queued or running, the kernel idle
DONE_JS = """panel => {
  const p = [...document.querySelectorAll(panel + ' .jp-CodeCell .jp-InputPrompt')]
    .map(e => e.textContent.trim());
  const k = document.querySelector(panel + ' .jp-Notebook-ExecutionIndicator');
  return !p.some(t => t.includes('*')) && k !== null && k.dataset.status === 'idle';
}"""
RED = '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'
# What each code cell shows: its prompt, its red outputs (JupyterLab renders a traceback and
# anything written to stderr alike, with this MIME type), how many Markdown outputs, and how
# many images the browser could not show.
CELLS_JS = """([panel, red]) => [...document.querySelectorAll(panel + ' .jp-CodeCell')].map(c => ({
  prompt: (c.querySelector('.jp-InputPrompt') || {}).textContent || '',
  red: [...c.querySelectorAll(red)].map(e => e.innerText),
  markdown: c.querySelectorAll('.jp-OutputArea-output[data-mime-type="text/markdown"]').length,
  broken_images: [...c.querySelectorAll('.jp-OutputArea-output img')]
    .filter(i => !(i.complete && i.naturalWidth > 0)).length,
}))"""

# A red output is an error when it is a traceback (IPython's, or a bare exception line last)
# or a Python warning; other stderr text is a message the notebook means to show.
_TRACEBACK = re.compile(r"Traceback \(most recent call last\)|^\s*Cell In\[\d+\], line \d+", re.M)
_EXCEPTION_LAST = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Interrupt|Exit)\b")
_WARNING = re.compile(r"^\S+:\d+: \w*Warning: ", re.M)


def _chromium() -> str | None:
    return (
        os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    )


def _skip_or_fail(reason: str, required: bool = REQUIRED) -> None:
    if required:
        pytest.fail(f"{reason}; WORKBENCH_REQUIRE_BROWSER=1 (CI) does not allow skipping")
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Lab:
    url: str
    token: str
    page: Page

    def api(self, path: str, method: str = "GET") -> Any:
        return _api(self.url, self.token, path, method)

    def shut_kernels(self, name: str) -> None:
        """Shut down a notebook's kernel, so that the next one runs alone."""
        for session in self.api("sessions"):
            if session["path"] == name:
                self.api(f"sessions/{session['id']}", method="DELETE")


def _api(url: str, token: str, path: str, method: str = "GET") -> Any:
    req = urllib.request.Request(
        f"{url}/api/{path}", method=method, headers={"Authorization": f"token {token}"}
    )
    with urllib.request.urlopen(req, timeout=10) as resp:
        body = resp.read()
    return json.loads(body) if body else None


def _with_parameters(source: Path, dest: Path, parameters: dict[str, object]) -> None:
    """A copy of a notebook with a cell setting `parameters` after its parameters cell, tagged
    as papermill tags the one it injects."""
    nb = json.loads(source.read_text(encoding="utf-8"))
    at = next(
        i
        for i, c in enumerate(nb["cells"])
        if "parameters" in c.get("metadata", {}).get("tags", [])
    )
    nb["cells"].insert(
        at + 1,
        {
            "cell_type": "code",
            "execution_count": None,
            "id": "injected-parameters",
            "metadata": {"tags": ["injected-parameters"]},
            "outputs": [],
            "source": "\n".join(f"{k} = {v!r}" for k, v in parameters.items()),
        },
    )
    dest.write_text(json.dumps(nb, indent=1), encoding="utf-8")


def _broken(dest: Path) -> None:
    """A notebook with a message on stderr (fine), a warning, an image that cannot be shown
    and a traceback (errors), and a cell that Run All never reaches."""
    sources = [
        "import sys, warnings\nprint('fine')\nprint('a message', file=sys.stderr)",
        "warnings.warn('the check must see this warning')",
        "display({'image/png': 'bm90IGEgcG5n'}, raw=True)  # not a PNG",
        "raise ValueError('the check must see this error')",
        "print('never run')",
    ]
    cells: list[dict[str, object]] = [
        {"cell_type": "code", "execution_count": None, "id": f"c{i}", "metadata": {}, "outputs": []}
        | {"source": src}
        for i, src in enumerate(sources)
    ]
    kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb = {
        "cells": cells,
        "metadata": {"kernelspec": kernelspec},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    dest.write_text(json.dumps(nb), encoding="utf-8")


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """JupyterLab on the prepared notebooks, open in one Chromium page."""
    chromium = _chromium()
    if chromium is None:
        _skip_or_fail("Chromium is not installed (apt-get install chromium)")
    if importlib.util.find_spec("playwright") is None:
        _skip_or_fail("Playwright is not installed (pip install -e '.[dev]')")
    from playwright.sync_api import sync_playwright

    home = tmp_path_factory.mktemp("lab")
    folder = home / "notebooks"
    folder.mkdir()
    for path in ALL:
        params = {"work_dir": str(home / "work"), **SMALL.get(path.name, {})}
        _with_parameters(path, folder / path.name, params)
    _broken(folder / BROKEN)
    for name, value in SETTINGS.items():
        (home / "settings" / name).parent.mkdir(parents=True, exist_ok=True)
        (home / "settings" / name).write_text(json.dumps(value), encoding="utf-8")
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)

    env = {k: v for k, v in os.environ.items() if k != "WORKBENCH_KEY"}  # 02 makes its demo key
    env |= {
        "JUPYTERLAB_SETTINGS_DIR": str(home / "settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces"),
        "JUPYTER_CONFIG_DIR": str(home / "config"),
        "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
        "IPYTHONDIR": str(home / "ipython"),
    }
    url, token = f"http://127.0.0.1:{_free_port()}", secrets.token_hex(16)
    log = (ARTIFACTS / "jupyterlab.log").open("w", encoding="utf-8")
    port = url.rsplit(":", 1)[1]
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyterlab",
            "--no-browser",
            "--allow-root",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={port}",
            "--ServerApp.port_retries=0",
            f"--ServerApp.root_dir={folder}",
            f"--IdentityProvider.token={token}",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    console: list[str] = []
    try:
        deadline = time.monotonic() + 120
        while True:
            if server.poll() is not None:
                pytest.fail(f"JupyterLab exited with {server.returncode}: see {log.name}")
            try:
                _api(url, token, "status")
                break
            except (urllib.error.URLError, OSError):
                if time.monotonic() > deadline:
                    pytest.fail(f"JupyterLab did not answer within 120 s: see {log.name}")
                time.sleep(0.5)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium, headless=True)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
            page.on("pageerror", lambda e: console.append(f"page error: {e}"))
            try:
                page.goto(f"{url}/lab?token={token}&reset")
                page.locator(".jp-DirListing-itemText").get_by_text(BROKEN).wait_for(
                    timeout=120_000
                )
                yield Lab(url, token, page)
            finally:
                browser.close()
                (ARTIFACTS / "console.log").write_text("\n".join(console) + "\n", "utf-8")
    finally:
        try:
            _api(url, token, "shutdown", method="POST")
            server.wait(timeout=30)
        except (urllib.error.URLError, OSError, subprocess.TimeoutExpired):
            server.kill()
            server.wait()
        log.close()


def _click_run_all(page: Page, tries: int = 3) -> None:
    """Run > Run All Cells, until the cells start: on a loaded machine a click can land
    before the menu is ready (a CI run once waited 30 s for cells that never started)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    for attempt in range(tries):
        page.get_by_role("menuitem", name="Run", exact=True).click()
        page.locator('.lm-Menu li[data-command="runmenu:run-all"]').click()
        try:
            page.wait_for_function(STARTED_JS, arg=PANEL, timeout=30_000)
            return
        except PlaywrightTimeout:
            if attempt == tries - 1:
                raise
            page.keyboard.press("Escape")  # a menu left open, then try again


def _run_all(lab: Lab, name: str) -> list[dict[str, Any]]:
    """Open a notebook from the file browser, Run All from the Run menu, wait until it has
    finished; keep a screenshot (at the first error, else at the end) and return what
    each code cell shows."""
    page = lab.page
    shot = str(ARTIFACTS / f"{Path(name).stem}.png")
    try:
        page.locator(".jp-DirListing-itemText").get_by_text(name, exact=True).dblclick()
        page.wait_for_function(READY_JS, arg=[PANEL, name], timeout=120_000, polling=250)
        _click_run_all(page)
        page.wait_for_function(DONE_JS, arg=PANEL, timeout=RUN_ALL_S * 1000, polling=500)
        # outputs render asynchronously: read them until two readings agree
        cells: list[dict[str, Any]] = page.evaluate(CELLS_JS, [PANEL, RED])
        for _ in range(20):
            page.wait_for_timeout(250)
            again: list[dict[str, Any]] = page.evaluate(CELLS_JS, [PANEL, RED])
            if again == cells:
                break
            cells = again
        at = next((i for i, cell in enumerate(cells) if _problems([cell])), None)
        shown = page.locator(f"{PANEL} .jp-CodeCell").nth(at) if at is not None else None
        (shown or page.locator(f"{PANEL} .jp-Cell").last).scroll_into_view_if_needed()
        page.screenshot(path=shot)
        return cells
    except Exception:
        page.screenshot(path=shot)
        raise
    finally:
        lab.shut_kernels(name)


def _problems(cells: list[dict[str, Any]]) -> list[str]:
    """Each error shown (its last line, or a warning's), each image not shown, each cell not
    run."""
    found = []
    for i, cell in enumerate(cells):
        for text in cell["red"]:
            lines = [ln for ln in text.splitlines() if ln.strip("- ")]
            if not lines:
                continue
            if _TRACEBACK.search(text) or _EXCEPTION_LAST.match(lines[-1]):
                found.append(f"cell {i}: error: {lines[-1][:200]!r}")
            elif _WARNING.search(text):
                warning = next(ln for ln in lines if _WARNING.match(ln))
                found.append(f"cell {i}: warning: {warning[:200]!r}")
        if cell["broken_images"]:
            found.append(f"cell {i}: {cell['broken_images']} image(s) not shown")
        if not cell["prompt"].strip().strip("[]:").isdigit():
            found.append(f"cell {i}: not run ({cell['prompt'].strip()})")
    return found


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.parametrize("path", ALL, ids=lambda p: p.name)
def test_notebook_runs_in_jupyterlab(lab: Lab, path: Path) -> None:
    cells = _run_all(lab, path.name)
    nb = json.loads(path.read_text(encoding="utf-8"))
    # every code cell, and the injected parameters
    assert len(cells) == sum(c["cell_type"] == "code" for c in nb["cells"]) + 1
    assert _problems(cells) == [], f"see {ARTIFACTS / (path.stem + '.png')}"
    assert sum(c["markdown"] for c in cells[-2:]) > 0, "the summary rendered as Markdown"


@pytest.mark.slow
@pytest.mark.browser
def test_browser_check_sees_errors(lab: Lab) -> None:
    """The check bites: a warning, a broken image and a traceback in the browser, and the cell
    after them not run, are found; a message on stderr is not."""
    problems = _problems(_run_all(lab, BROKEN))
    assert len(problems) == 4, problems
    assert re.fullmatch(
        r"cell 1: warning: '\S+:1: UserWarning: the check must see this warning'", problems[0]
    )
    assert problems[1:] == [
        "cell 2: 1 image(s) not shown",
        "cell 3: error: 'ValueError: the check must see this error'",
        "cell 4: not run ([ ]:)",
    ]


def test_ci_never_skips_the_browser_test() -> None:
    """Locally a missing Chromium skips, saying why; with WORKBENCH_REQUIRE_BROWSER=1, which
    .ci/run sets, it fails."""
    with pytest.raises(pytest.skip.Exception, match="Chromium is not installed"):
        _skip_or_fail("Chromium is not installed", required=False)
    with pytest.raises(pytest.fail.Exception, match="does not allow skipping"):
        _skip_or_fail("Chromium is not installed", required=True)
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert re.search(r"^export WORKBENCH_REQUIRE_BROWSER=1$", ci, re.M)
    assert re.search(r"apt-get install .*\bchromium\b", ci)
