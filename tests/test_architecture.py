"""The seams between modules: no import circles, one public facade, notebooks use only it."""

from __future__ import annotations

import ast
import importlib
import json
import re
from pathlib import Path

import pytest

import anonymize
import dsar
import dsar.text

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("dsar", "anonymize")
FACADES = {"dsar", "anonymize"}  # re-export only; nothing inside imports them


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports() -> dict[str, set[str]]:
    """Module -> the project modules it imports anywhere (TYPE_CHECKING and lazy included)."""
    modules = {_module_name(p): p for pkg in PACKAGES for p in sorted((ROOT / pkg).rglob("*.py"))}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        found: set[str] = set()
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1])
                    base = f"{base}.{node.module}" if node.module else base
                # `from pkg import submodule` imports the submodule; `from pkg import name`, pkg
                subs = [f"{base}.{a.name}" for a in node.names]
                targets = [s for s in subs if s in modules]
                if len(targets) < len(subs):
                    targets.append(base)
            for target in targets:
                if target in modules:
                    found.add(target)
        found.discard(name)
        graph[name] = found
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle, as a path, or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_no_module_imports_another_in_a_circle() -> None:
    graph = {m: deps for m, deps in _imports().items() if m not in FACADES}
    assert _cycle(graph) is None


def test_no_circle_between_areas() -> None:
    """dsar.catalog, dsar.engine, dsar.subjects, ...: the areas form a one-way flow."""
    areas: dict[str, set[str]] = {}
    for module, deps in _imports().items():
        if module in FACADES:
            continue
        area = ".".join(module.split(".")[:2])
        areas.setdefault(area, set()).update(
            ".".join(d.split(".")[:2]) for d in deps if d not in FACADES
        )
    for area, deps in areas.items():
        deps.discard(area)
    assert _cycle(areas) is None


def test_nothing_inside_imports_the_facades_or_dsar_imports_anonymize() -> None:
    for module, deps in _imports().items():
        if module in FACADES:
            continue
        assert not deps & FACADES, f"{module} imports a facade; import the defining module"
        if module.startswith("dsar"):
            assert not any(d.startswith("anonymize") for d in deps), module


@pytest.mark.parametrize("package", [dsar, anonymize])
def test_every_public_name_resolves(package: object) -> None:
    for name in package.__all__:  # type: ignore[attr-defined]
        assert getattr(package, name) is not None, name


@pytest.mark.parametrize(
    "package",
    [
        "dsar.catalog",
        "dsar.engine",
        "dsar.subjects",
        "dsar.text",
        "dsar.access",
        "dsar.rights",
        "dsar.records",
        "dsar.review",
        "dsar.demo",
    ],
)
def test_each_area_has_a_documented_facade(package: str) -> None:
    module = importlib.import_module(package)
    assert module.__doc__ and module.__all__
    for name in module.__all__:
        assert hasattr(module, name), f"{package}.{name}"


def _imports_in(code: str) -> list[tuple[str, str | None]]:
    """(module, name) for every import in `code`; name None for `import module`."""
    found: list[tuple[str, str | None]] = []
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.ImportFrom) and node.module:
            found += [(node.module, a.name) for a in node.names]
        elif isinstance(node, ast.Import):
            found += [(a.name, None) for a in node.names]
    return found


def _notebook_code(path: Path) -> str:
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")


def _readme_code() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return "\n".join(block.split("```")[0] for block in text.split("```python\n")[1:])


def _check_public(imports: list[tuple[str, str | None]]) -> None:
    ours = [(m, n) for m, n in imports if m.split(".")[0] in PACKAGES]
    assert ours, "the workbench is imported"
    for module, name in ours:
        assert module in PACKAGES, f"internal module imported: {module}"
        package = dsar if module == "dsar" else anonymize
        assert name is None or name in package.__all__, f"{module}.{name} is not public"


@pytest.mark.parametrize("notebook", sorted((ROOT / "notebooks").glob("*.ipynb")), ids=str)
def test_notebooks_import_only_public_names(notebook: Path) -> None:
    _check_public(_imports_in(_notebook_code(notebook)))


def test_the_readme_imports_only_public_names() -> None:
    _check_public(_imports_in(_readme_code()))


def test_the_facade_lists_what_it_loads() -> None:
    exports = set(dsar._EXPORTS)
    assert set(dsar.__all__) == exports | {"__version__"}


def test_no_database_connection_is_opened_outside_the_engine_package() -> None:
    """Exports are read through an engine (which holds the export's lock); other DuckDB work
    on data already read goes through `dsar.engine.scratch_connection`."""
    offenders = []
    for pkg in PACKAGES:
        for path in sorted((ROOT / pkg).rglob("*.py")):
            if path.is_relative_to(ROOT / "dsar" / "engine"):
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "connect"
                    and isinstance(node.func.value, ast.Name)
                    and node.func.value.id == "duckdb"
                ):
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []


def _public_functions(path: Path) -> list[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]]:
    """The module's public functions and the public methods (and `__init__`) of its public
    classes, with their qualified names."""
    found: list[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]] = []
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            found.append((node.name, node))
        elif isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
            found += [
                (f"{node.name}.{sub.name}", sub)
                for sub in node.body
                if isinstance(sub, ast.FunctionDef | ast.AsyncFunctionDef)
            ]
    return [
        (name, fn) for name, fn in found if not fn.name.startswith("_") or fn.name == "__init__"
    ]


ENGINE_ANNOTATION = re.compile(r"(Engine|None \| Engine)( \| None)?")


def test_a_job_is_given_an_engine_never_an_engine_name() -> None:
    """One convention at the package boundary: a parameter called `engine` is an `Engine` the
    caller opened (`open_engine(catalog, kind, **options)`), never the name of one to open
    (a string) with `engine_options` beside it. Command lines take the kind as `engine_kind`
    and open the engine there."""
    offenders = []
    for pkg in PACKAGES:
        for path in sorted((ROOT / pkg).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if any(p.startswith("_") and p != "__init__" for p in parts):
                continue
            for name, fn in _public_functions(path):
                args = fn.args
                for arg in [*args.posonlyargs, *args.args, *args.kwonlyargs]:
                    note = ast.unparse(arg.annotation).strip("'\"") if arg.annotation else ""
                    if arg.arg == "engine_options" or (
                        arg.arg == "engine" and not ENGINE_ANNOTATION.fullmatch(note)
                    ):
                        where = f"{path.relative_to(ROOT)}:{fn.lineno}"
                        offenders.append(f"{where} {name}({arg.arg}: {note or '?'})")
    assert offenders == []


def test_no_module_raises_the_bare_root_error() -> None:
    """Every error raised on purpose is a typed subclass of `WorkbenchError` that carries its
    data (what, where, the fix); the root is only caught (`except WorkbenchError`) and
    subclassed, never raised itself."""
    offenders = []
    for pkg in PACKAGES:
        for path in sorted((ROOT / pkg).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not isinstance(node, ast.Raise) or node.exc is None:
                    continue
                raised = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
                name = raised.attr if isinstance(raised, ast.Attribute) else None
                name = raised.id if isinstance(raised, ast.Name) else name
                if name == "WorkbenchError":
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == [], "raise a typed subclass from dsar.errors instead"


KEY_NAMES = re.compile(r"(key|keys|master|secret)|\w+_(key|keys|secret)")


def test_the_secret_key_crosses_the_package_boundary_only_as_keys() -> None:
    """One key type: a public function or method takes the workbench's secret as `keys: Keys`
    (from `dsar.load_keys`), never as raw bytes and never as either. `Keys(master)` is the one
    place raw key bytes go in; `load_key` reads them for it."""
    offenders = []
    for pkg in PACKAGES:
        for path in sorted((ROOT / pkg).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if any(p.startswith("_") and p != "__init__" for p in parts):
                continue
            for name, fn in _public_functions(path):
                if parts == ("dsar", "keys") and name == "Keys.__init__":
                    continue
                args = fn.args
                for arg in [*args.posonlyargs, *args.args, *args.kwonlyargs]:
                    note = ast.unparse(arg.annotation).strip("'\"") if arg.annotation else ""
                    types = set(re.findall(r"\w+", note))
                    if "bytes" in types and (KEY_NAMES.fullmatch(arg.arg) or "Keys" in types):
                        where = f"{path.relative_to(ROOT)}:{fn.lineno}"
                        offenders.append(f"{where} {name}({arg.arg}: {note})")
    assert offenders == [], "take `keys: Keys` (dsar.load_keys), not the key's bytes"


def test_the_facade_loads_from_a_zipped_copy(tmp_path: Path) -> None:
    """Spark ships a package to its executors as a zip (--py-files): the facade's list of
    public names is read through the loader, so it loads there as from an install."""
    import subprocess
    import sys
    import zipfile

    archive = tmp_path / "dsar.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for path in sorted((ROOT / "dsar").rglob("*.py")):
            zipped.write(path, path.relative_to(ROOT).as_posix())
    code = f"import sys; sys.path.insert(0, {str(archive)!r}); import dsar; print(dsar.__file__, len(dsar.__all__), dsar.Keys.__name__)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=tmp_path
    )
    where, count, name = out.stdout.split()
    assert where.startswith(str(archive)) and int(count) == len(dsar.__all__) and name == "Keys"


def test_a_facade_s_written_list_must_name_its_imports() -> None:
    """dsar.text and anonymize write their `__all__` out for the API docs (which read the
    source); the facade refuses a list that differs from the imports it loads."""
    from dsar._lazy import facade

    with pytest.raises(ImportError, match="differ: TextEngine"):
        facade("dsar.text", listed=[n for n in dsar.text.__all__ if n != "TextEngine"])
    assert facade("dsar.text", listed=list(dsar.text.__all__))[1] == list(dsar.text.__all__)
