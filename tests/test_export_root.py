"""Inside the export root only: table paths that lead out (`../`, absolute paths, globs,
symbolic links to files and folders) are refused by `catalog check`, by every command that
loads the catalog, and at run time by `Catalog.files`; no rewrite writes outside the root.

The tiny export of tests/conftest.py lives in `export/`; `outside/` beside it holds a copy
of its users file, the file a hostile or careless catalog would reach.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dsar import load_catalog, open_engine
from dsar.catalog.paths import resolve_files
from dsar.cli import app
from dsar.engine import check_catalog
from dsar.errors import CatalogError, ExportPathError, WorkbenchError
from dsar.keys import Keys
from dsar.lock import LOCK_NAME
from dsar.rights import apply_plan
from dsar.rights.erasure import JOURNAL, plan_erasure, recover
from dsar.subjects.identity import SubjectRequest, parse_key
from tests.conftest import VALID_CATALOG

KEY = b"k" * 40
KEYS = Keys(KEY)
USERS = "    path: users.csv\n"  # line 10 of VALID_CATALOG
OUTSIDE_FIX = (
    "keep the table's files inside the export root, or name a folder that holds them all"
    " at the top of the catalog: export_root: ../exports (relative to the catalog file)"
)
LINK_FIX = (
    "replace the link with the file or folder itself, or allow links that stay inside the"
    " export root at the top of the catalog: allow_symlinks: true"
)


@pytest.fixture
def export(tiny_catalog: Path) -> Path:
    """The tiny export's folder, with `outside/users.csv` beside it (a copy of its users)."""
    root = tiny_catalog.parent
    outside = root.parent / "outside"
    outside.mkdir()
    shutil.copy(root / "users.csv", outside / "users.csv")
    return root


def _catalog(root: Path, path: str, top: str = "") -> Path:
    """The tiny catalog with the users table at `path`, and `top` lines added at the top."""
    text = VALID_CATALOG.replace(USERS, f"    path: {json.dumps(path)}\n")
    catalog = root / "catalog.yml"
    catalog.write_text(top + text, encoding="utf-8")
    return catalog


def _tree(folder: Path) -> dict[str, str]:
    """Every entry under `folder` (links not followed): its bytes' hash or its link target."""
    out = {}
    for path in sorted(folder.rglob("*")):
        rel = str(path.relative_to(folder))
        if path.name == LOCK_NAME:  # there while an engine holds the export
            continue
        if path.is_symlink():
            out[rel] = "-> " + os.readlink(path)
        elif path.is_file():
            out[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def _move_users(root: Path, into: str) -> None:
    (root / into).mkdir(parents=True, exist_ok=True)
    (root / "users.csv").replace(root / into / "users.csv")


# each case: how the export is arranged (from the export folder), the users path the catalog
# gives, the problem `catalog check` reports at tables.users.path (a regex), and its fix
@dataclass(frozen=True)
class Escape:
    id: str
    arrange: Callable[[Path], None]
    path: Callable[[Path], str]
    problem: Callable[[Path], str]
    fix: str = OUTSIDE_FIX


def _out(root: Path) -> Path:
    return root.parent / "outside"


def _resolves(what: str, real: Callable[[Path], Path]) -> Callable[[Path], str]:
    return lambda root: (
        f"{what.format(root=root)} resolves to {real(root)}, outside the export root {root}"
    )


def _nothing(root: Path) -> None:
    pass


def _link_users_out(root: Path) -> None:
    (root / "users.csv").unlink()
    (root / "users.csv").symlink_to(_out(root) / "users.csv")


def _link_folder_out(root: Path) -> None:
    (root / "sub").symlink_to(_out(root), target_is_directory=True)


def _link_users_inside(root: Path) -> None:
    _move_users(root, "real")
    (root / "users.csv").symlink_to("real/users.csv")


def _link_folder_inside(root: Path) -> None:
    _move_users(root, "real")
    (root / "data").symlink_to("real")


ESCAPES = [
    Escape(
        "dot-dot",
        _nothing,
        lambda root: "../outside/users.csv",
        _resolves("the path '../outside/users.csv'", lambda r: _out(r) / "users.csv"),
    ),
    Escape(
        "absolute-outside",
        _nothing,
        lambda root: str(_out(root) / "users.csv"),
        lambda root: (
            f"the path '{_out(root) / 'users.csv'}' resolves to {_out(root) / 'users.csv'},"
            f" outside the export root {root}"
        ),
    ),
    Escape(
        "glob-outside",
        _nothing,
        lambda root: "../outside/*.csv",
        _resolves("the path '../outside/*.csv'", _out),
    ),
    Escape(
        "glob-through-a-linked-folder",
        _link_folder_out,
        lambda root: "*/users.csv",
        _resolves("the file {root}/sub/users.csv", lambda r: _out(r) / "users.csv"),
    ),
    Escape(
        "file-linked-outside",
        _link_users_out,
        lambda root: "users.csv",
        _resolves("the path 'users.csv'", lambda r: _out(r) / "users.csv"),
    ),
    Escape(
        "folder-linked-outside",
        _link_folder_out,
        lambda root: "sub/users.csv",
        _resolves("the path 'sub/users.csv'", lambda r: _out(r) / "users.csv"),
    ),
    Escape(
        "file-linked-inside",
        _link_users_inside,
        lambda root: "users.csv",
        lambda root: f"the file {root}/users.csv is a symbolic link",
        LINK_FIX,
    ),
    Escape(
        "folder-linked-inside",
        _link_folder_inside,
        lambda root: "data/users.csv",
        lambda root: (
            f"the file {root}/data/users.csv lies in a linked folder ({root}/data is a"
            " symbolic link)"
        ),
        LINK_FIX,
    ),
]


@pytest.mark.parametrize("case", ESCAPES, ids=[c.id for c in ESCAPES])
def test_a_path_that_leads_out_is_a_catalog_problem(export: Path, case: Escape) -> None:
    """`catalog check` and every command's load report it at the table's path, with the fix."""
    case.arrange(export)
    catalog = _catalog(export, case.path(export))
    expected = (
        rf"1 problem\(s\) in catalog {re.escape(str(catalog))}:\n"
        rf"  - tables\.users\.path \(line 10\): {re.escape(case.problem(export))}\n"
        rf"    fix: {re.escape(case.fix)}$"
    )
    with pytest.raises(CatalogError, match=expected):
        load_catalog(catalog)
    with open_engine(kind="duckdb") as engine, pytest.raises(CatalogError, match=expected):
        check_catalog(catalog, engine)


def test_every_path_problem_is_reported_at_once(export: Path) -> None:
    _link_users_out(export)
    text = VALID_CATALOG.replace("path: prefs.json", "path: ../outside/prefs.json")
    (export / "catalog.yml").write_text(text, encoding="utf-8")
    with pytest.raises(CatalogError, match=r"^2 problem\(s\)") as info:
        load_catalog(export / "catalog.yml")
    assert [p.location for p in info.value.problems] == [
        "tables.users.path (line 10)",
        "tables.prefs.path (line 60)",
    ]


def test_catalog_check_command_exits_1_with_the_fix(export: Path) -> None:
    catalog = _catalog(export, "../outside/users.csv")
    result = CliRunner().invoke(app, ["catalog", "check", str(catalog)])
    assert result.exit_code == 1
    assert isinstance(result.exception, CatalogError)
    assert f"fix: {OUTSIDE_FIX}" in str(result.exception)


@pytest.mark.parametrize(
    "path",
    [
        pytest.param(lambda root: str(root / "users.csv"), id="absolute-inside"),
        pytest.param(lambda root: "real/../users.csv", id="dot-dot-back-inside"),
        pytest.param(lambda root: "*.csv", id="glob-inside"),
    ],
)
def test_paths_inside_the_root_still_load(export: Path, path: Callable[[Path], str]) -> None:
    (export / "real").mkdir()
    catalog = load_catalog(_catalog(export, path(export)))
    assert [f.resolve() for f in catalog.files("users")] == [export / "users.csv"]


def test_links_allowed_by_the_catalog_are_followed_inside_the_root(export: Path) -> None:
    _move_users(export, "real")
    (export / "users.csv").symlink_to("real/users.csv")
    (export / "data").symlink_to("real")
    catalog = load_catalog(_catalog(export, "users.csv", "allow_symlinks: true\n"))
    assert catalog.files("users") == [export / "users.csv"]
    through = resolve_files(export, "data/users.csv", "users", allow_symlinks=True)
    assert through == [export / "data" / "users.csv"]
    with open_engine(catalog) as engine:
        assert engine.count_rows("users") == 3


def test_links_allowed_by_the_catalog_must_still_resolve_inside(export: Path) -> None:
    _link_users_out(export)
    catalog = _catalog(export, "users.csv", "allow_symlinks: true\n")
    problem = (
        f"the path 'users.csv' resolves to {_out(export) / 'users.csv'}, outside the export"
        f" root {export}"
    )
    with pytest.raises(CatalogError, match=re.escape(problem)):
        load_catalog(catalog)


def test_a_named_export_root_holds_the_files(export: Path) -> None:
    """export_root: .. takes in `outside/`; the catalog file's folder no longer bounds it."""
    catalog = load_catalog(_catalog(export, "../outside/users.csv", "export_root: ..\n"))
    assert catalog.boundary == export.parent
    assert catalog.files("users") == [export / ".." / "outside" / "users.csv"]
    with open_engine(catalog) as engine:
        assert engine.count_rows("users") == 3


def test_an_export_root_that_is_not_a_folder_is_a_problem(export: Path) -> None:
    catalog = _catalog(export, "users.csv", "export_root: ../nowhere\n")
    expected = (
        r"  - export_root \(line 1\): the export root '\.\./nowhere' is not a folder"
        rf" \(looked for {re.escape(str(export.parent / 'nowhere'))}\)\n"
        r"    fix: name the folder that holds the table files, relative to the catalog file,"
    )
    with pytest.raises(CatalogError, match=expected):
        load_catalog(catalog)


# ---- at run time: a glob's files can appear after the catalog was loaded ------------------


@pytest.mark.parametrize(
    ("arrange", "problem", "fix"),
    [
        pytest.param(
            lambda root: (root / "users" / "2.csv").symlink_to(_out(root) / "users.csv"),
            lambda root: (
                f"the file {root}/users/2.csv resolves to {_out(root)}/users.csv, outside the"
                f" export root {root}"
            ),
            OUTSIDE_FIX,
            id="link-to-outside",
        ),
        pytest.param(
            lambda root: (root / "users" / "2.csv").symlink_to("1.csv"),
            lambda root: f"the file {root}/users/2.csv is a symbolic link",
            LINK_FIX,
            id="link-inside",
        ),
    ],
)
def test_files_refuses_a_link_that_appears_later(
    export: Path,
    arrange: Callable[[Path], None],
    problem: Callable[[Path], str],
    fix: str,
) -> None:
    _move_users(export, "users")
    (export / "users" / "users.csv").rename(export / "users" / "1.csv")
    catalog = load_catalog(_catalog(export, "users/*.csv"))
    assert catalog.files("users") == [export / "users" / "1.csv"]
    arrange(export)
    expected = f"table 'users': {problem(export)}; {fix}"
    with pytest.raises(ExportPathError, match=f"^{re.escape(expected)}$"):
        catalog.files("users")
    with pytest.raises(ExportPathError, match=re.escape(expected)):
        open_engine(catalog).close()


def test_resolve_files_names_no_table_when_given_none(export: Path) -> None:
    expected = (
        f"the path '../outside/users.csv' resolves to {_out(export)}/users.csv, outside the"
        f" export root {export}; {OUTSIDE_FIX}"
    )
    with pytest.raises(ExportPathError, match=f"^{re.escape(expected)}$"):
        resolve_files(export, "../outside/users.csv")


# ---- erasure: nothing outside the root changes ---------------------------------------------


def _ann() -> SubjectRequest:
    return SubjectRequest("R-1", (parse_key("email=ann@example.com"),))


def test_erasure_refuses_a_catalog_with_a_linked_table(export: Path, tmp_path: Path) -> None:
    """The attack of issue 20: users.csv is a link to a file in another folder."""
    _link_users_out(export)
    before, inside = _tree(_out(export)), _tree(export)
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app,
        [
            "erase", "apply", "--catalog", str(export / "catalog.yml"),
            "--email", "ann@example.com", "--out", str(out),
            "--register", str(tmp_path / "requests.db"),
        ],
        env={"WORKBENCH_KEY": KEY.decode()},
    )  # fmt: skip
    assert result.exit_code == 1
    assert isinstance(result.exception, CatalogError)
    assert "tables.users.path (line 10): the path 'users.csv' resolves to" in str(result.exception)
    assert _tree(_out(export)) == before and _tree(export) == inside
    assert not list(out.glob("**/*certificate*"))


def test_an_erasure_refuses_a_file_linked_after_the_catalog_loaded(export: Path) -> None:
    """The run-time check: planned on the real file, applied after it became a link."""
    catalog = load_catalog(export / "catalog.yml")
    with open_engine(catalog) as engine:
        plan = plan_erasure(catalog, engine, _ann(), keys=KEYS)
        _link_users_out(export)
        before, inside = _tree(_out(export)), _tree(export)
        expected = (
            f"table 'users': the path 'users.csv' resolves to {_out(export)}/users.csv,"
            f" outside the export root {export}; {OUTSIDE_FIX}"
        )
        with pytest.raises(ExportPathError, match=f"^{re.escape(expected)}$"):
            apply_plan(plan, catalog, engine, out=export.parent / "certs", keys=KEYS, dry_run=False)
    assert _tree(_out(export)) == before and _tree(export) == inside
    assert not (export.parent / "certs").exists() or not list((export.parent / "certs").iterdir())


def test_an_erasure_through_an_allowed_link_rewrites_the_file_inside(export: Path) -> None:
    _move_users(export, "real")
    (export / "users.csv").symlink_to("real/users.csv")
    catalog = load_catalog(_catalog(export, "users.csv", "allow_symlinks: true\n"))
    outside = _tree(_out(export))
    with open_engine(catalog) as engine:
        plan = plan_erasure(catalog, engine, _ann(), keys=KEYS)
        apply_plan(plan, catalog, engine, out=export.parent / "certs", keys=KEYS, dry_run=False)
    rows = (export / "real" / "users.csv").read_text(encoding="utf-8").splitlines()
    assert [r.split(",")[0] for r in rows] == ["user_id", "u2", "u3"]
    assert (export / "real" / "users.csv.before-R-1").is_file()
    assert _tree(_out(export)) == outside


def test_recover_refuses_a_journal_that_moves_a_file_outside(export: Path) -> None:
    """A journal shaped like the workbench's own, but whose target is outside the root."""
    victim = _out(export) / "users.csv"
    new = victim.with_name(".users.csv.R-1.workbench-new")
    new.write_text("user_id,email\n", encoding="utf-8")
    journal = {
        "label": "R-1",
        "moves": [
            {"target": str(victim), "new": str(new), "backup": f"{victim}.before-R-1"},
        ],
        "artifacts": [],
        "audit": None,
    }
    (export / JOURNAL).write_text(json.dumps(journal), encoding="utf-8")
    before = _tree(_out(export))
    expected = (
        f"{export / JOURNAL}: a move it lists replaces {victim}, outside the export root"
        f" {export}; nothing moved"
    )
    with pytest.raises(WorkbenchError, match=f"^{re.escape(expected)}$"):
        recover(export, KEYS)
    result = CliRunner().invoke(app, ["erase", "recover", "--catalog", str(export / "catalog.yml")])
    assert result.exit_code == 1 and str(result.exception) == expected
    assert _tree(_out(export)) == before
