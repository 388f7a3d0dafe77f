"""Fuzzing: the catalog loader and the identifier normalisers on arbitrary input.

Whatever a user (or an attacker) writes, the loader raises nothing but `ConfigError`
(`CatalogError` for a catalog), and the normalisers nothing but `IdentifierError`; a
traceback of any other kind is a bug. Normalising is idempotent.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings, strategies as st

from dsar.catalog import IdentityKind, load_catalog
from dsar.errors import CatalogError, ConfigError, IdentifierError
from dsar.subjects.identity import MatchRules, make_key, normalize, parse_key
from tests.conftest import VALID_CATALOG

FUZZ = settings(
    derandomize=True,
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# pieces of YAML, so that generated text gets past the first character more often
_YAML_PIECES = st.sampled_from(
    [
        *("version: 1\n", "controller:\n", "tables:\n", "  users:\n", "    path: ", "columns:"),
        *("format: csv", "- ", ": ", "\n", "  ", "\t", "{", "}", "[", "]", ",", "'", '"', "#"),
        *("&a ", "*a", "<<: *a", "!!str ", "!!python/object:os.system ", "? ", "---\n", "...\n"),
        *("users.csv", "*.csv", "../../etc/passwd", "/", "null", "~", "true", "7", "1e400"),
        *("\ufeff", "\x85", "\u2028", "\x00", "\x07", "\ud800", "%YAML 1.1\n", "|\n", ">-\n"),
    ]
)
_YAMLISH = st.one_of(
    st.lists(_YAML_PIECES, max_size=30).map("".join),
    st.text(max_size=200),
)

_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True),
    st.text(max_size=20),
    st.sampled_from(["csv", "jsonl", "users.csv", "7 years", "email", "users.user_id", "*"]),
)
_KEYS = st.one_of(
    st.sampled_from(
        [
            *("version", "controller", "tables", "recipients", "path", "format", "columns"),
            *("csv", "encoding", "identity", "references", "retention", "erasure", "period"),
        ]
    ),
    st.text(max_size=10),
)
_NESTED: st.SearchStrategy[Any] = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(_KEYS, inner, max_size=5)),
    max_leaves=25,
)
_BASE = yaml.safe_load(VALID_CATALOG)


def _load(tmp_path: Path, text: str) -> None:
    path = tmp_path / "catalog.yml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    with contextlib.suppress(CatalogError):  # the only error allowed
        load_catalog(path)


@FUZZ
@given(text=_YAMLISH)
def test_the_loader_raises_only_catalog_errors_on_any_text(
    tmp_path_factory: pytest.TempPathFactory, text: str
) -> None:
    _load(tmp_path_factory.mktemp("fuzz"), text)


@FUZZ
@given(data=st.dictionaries(_KEYS, _NESTED, max_size=6))
def test_the_loader_raises_only_catalog_errors_on_any_mapping(
    tmp_path_factory: pytest.TempPathFactory, data: dict[str, Any]
) -> None:
    _load(tmp_path_factory.mktemp("fuzz"), yaml.safe_dump(data, allow_unicode=True))


def _replace(tree: Any, path: list[int], value: Any) -> Any:
    """`tree` with the node that `path` picks (indexes into keys or items) replaced."""
    if not path or not isinstance(tree, dict | list) or not tree:
        return value
    if isinstance(tree, dict):
        key = list(tree)[path[0] % len(tree)]
        return {**tree, key: _replace(tree[key], path[1:], value)}
    i = path[0] % len(tree)
    return [*tree[:i], _replace(tree[i], path[1:], value), *tree[i + 1 :]]


@FUZZ
@given(
    edits=st.lists(
        st.tuples(st.lists(st.integers(0, 20), max_size=6), _NESTED), min_size=1, max_size=3
    )
)
def test_the_loader_raises_only_catalog_errors_on_a_damaged_catalog(
    tmp_path_factory: pytest.TempPathFactory, edits: list[tuple[list[int], Any]]
) -> None:
    """A valid catalog with parts replaced by anything: deep into tables and columns."""
    tree = _BASE
    for path, value in edits:
        tree = _replace(tree, path, value)
    root = tmp_path_factory.mktemp("fuzz")
    (root / "users.csv").write_text("user_id,email,phone,full_name,signup_at\n", "utf-8")
    _load(root, yaml.safe_dump(tree, allow_unicode=True))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a: " + "[" * 5000 + "]" * 5000, "the file nests lists or mappings too deeply"),
        ("a: " + "{b: " * 3000 + "1" + "}" * 3000, "the file nests lists or mappings too deeply"),
        ("a: \x00", "not valid YAML: unacceptable character #x0000"),
        ("!!python/object:os.system x", "could not determine a constructor"),
    ],
    ids=["deep-lists", "deep-mappings", "nul", "python-tag"],
)
def test_hostile_yaml_is_a_catalog_error(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "catalog.yml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CatalogError, match=message):
        load_catalog(path)


_TEXT = st.one_of(
    st.text(max_size=40),
    st.lists(
        st.sampled_from(
            ["email", "EMAIL ", "phone", "user_id", "=", "@", "+", ".", " ", "\u200b", "İ", "x"]
        ),
        max_size=10,
    ).map("".join),
)
_RULES = st.builds(MatchRules, gmail_dots=st.booleans(), plus_addressing=st.booleans())


@settings(derandomize=True, max_examples=500, deadline=None)
@given(text=_TEXT, rules=_RULES)
def test_parse_key_raises_only_identifier_errors(text: str, rules: MatchRules) -> None:
    try:
        key = parse_key(text, rules)
    except IdentifierError:
        return
    assert key.value and normalize(key.kind, key.value, rules) == key.value


@settings(derandomize=True, max_examples=500, deadline=None)
@given(kind=st.sampled_from(list(IdentityKind)), text=_TEXT, rules=_RULES)
def test_make_key_and_normalize_on_any_text(
    kind: IdentityKind, text: str, rules: MatchRules
) -> None:
    normal = normalize(kind, text, rules)
    assert normal is None or normalize(kind, normal, rules) == normal  # idempotent
    try:
        key = make_key(kind, text, rules)
    except IdentifierError:
        assert normal is None
        return
    assert key.value == normal


def test_configerror_is_the_root_of_catalog_errors() -> None:
    assert issubclass(CatalogError, ConfigError)
