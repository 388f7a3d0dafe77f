"""The strict YAML loader on a model that is not the catalog: a small made-up extract policy."""

from __future__ import annotations

import re
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Literal

import pytest
from pydantic import BaseModel, ConfigDict, Field, field_validator

from dsar.catalog import YamlDocument, load_yaml_model, read_yaml, suggest, validate_model
from dsar.errors import ConfigError, ConfigProblem, WorkbenchError


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Audience(StrEnum):
    INTERNAL = "internal"
    PARTNER = "partner"
    PUBLIC = "public"


class Hash(_Strict):
    name: Literal["hash"] = Field(description="The operator.")
    key_env: str = Field(description="The environment variable holding the key.")


class Mask(_Strict):
    name: Literal["mask"] = Field(description="The operator.")
    keep_last: int = Field(default=0, ge=0, description="How many trailing characters stay.")


class Rule(_Strict):
    column: str = Field(description="The column the operator applies to.")
    operator: Annotated[Hash | Mask, Field(discriminator="name", description="What to do.")]


class Risk(_Strict):
    k: int = Field(ge=2, description="The smallest equivalence class allowed, at least 2.")
    quasi_identifiers: list[str] = Field(description="Columns an attacker may know.")

    @field_validator("quasi_identifiers")
    @classmethod
    def _not_empty(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError(
                "no quasi-identifier given; name the columns an attacker may know,"
                " e.g. [zip_code, birth_year]"
            )
        return value


class Policy(_Strict):
    version: Literal[1] = Field(description="Policy format version; currently 1.")
    audience: Audience = Field(description="Who receives the extract.")
    rules: list[Rule] = Field(min_length=1, description="One rule per column to transform.")
    risk: Risk = Field(description="The re-identification check.")


VALID_POLICY = """\
version: 1
audience: partner
rules:
  - column: email
    operator: {name: hash, key_env: POLICY_KEY}
  - column: phone
    operator:
      name: mask
      keep_last: 4
risk:
  k: 5
  quasi_identifiers: [zip_code, birth_year]
"""

TABLE_COLUMNS = {"email", "phone", "zip_code", "birth_year", "country"}


def exact(text: str) -> str:
    """A `match=` pattern for exactly `text`."""
    return "^" + re.escape(text) + r"\Z"


def message(path: Path, *problems: str) -> str:
    return "\n".join(
        [f"{len(problems)} problem(s) in policy {path}:", *(f"  - {p}" for p in problems)]
    )


@pytest.fixture
def policy_file(tmp_path: Path) -> Path:
    path = tmp_path / "policy.yml"
    path.write_text(VALID_POLICY, encoding="utf-8")
    return path


def test_valid_policy_loads(policy_file: Path) -> None:
    policy = load_yaml_model(policy_file, Policy, what="policy")
    assert policy.audience is Audience.PARTNER
    assert policy.rules[0].operator == Hash(name="hash", key_env="POLICY_KEY")
    assert policy.rules[1].operator == Mask(name="mask", keep_last=4)
    assert policy.risk.quasi_identifiers == ["zip_code", "birth_year"]


# (case, text to replace, replacement, the exact problem reported)
BROKEN = [
    (
        "unknown key in a nested model, with did-you-mean",
        "keep_last: 4",
        "keep_lsat: 4",
        "rules.1.operator.keep_lsat (line 9): unknown key 'keep_lsat'\n"
        "    fix: did you mean 'keep_last'? (allowed keys: keep_last, name)",
    ),
    (
        "unknown top-level key, nothing close",
        "risk:\n",
        "notes: reviewed\nrisk:\n",
        "notes (line 10): unknown key 'notes'\n"
        "    fix: remove it (allowed keys: audience, risk, rules, version)",
    ),
    (
        "wrong enum value",
        "audience: partner",
        "audience: partners",
        "audience (line 2): 'partners' is not allowed here\n"
        "    fix: did you mean 'partner'? (one of: internal, partner, public)",
    ),
    (
        "wrong enum value, nothing close",
        "audience: partner",
        "audience: everyone",
        "audience (line 2): 'everyone' is not allowed here\n"
        "    fix: use one of: internal, partner, public",
    ),
    (
        "wrong literal",
        "version: 1",
        "version: 2",
        "version (line 1): '2' is not allowed here\n    fix: use one of: 1",
    ),
    (
        "unknown operator (a discriminated union's tag)",
        "name: mask",
        "name: masc",
        "rules.1.operator.name (line 8): 'masc' is not allowed here\n"
        "    fix: did you mean 'mask'? (one of: hash, mask)",
    ),
    (
        "missing required key in a nested model",
        ", key_env: POLICY_KEY}",
        "}",
        "rules.0.operator.key_env (line 5): missing required key 'key_env'\n"
        "    fix: add 'key_env:' (The environment variable holding the key)",
    ),
    (
        "missing required top-level key, with its allowed values",
        "audience: partner\n",
        "",
        "audience: missing required key 'audience'\n"
        "    fix: add 'audience:' (Who receives the extract), one of: internal, partner, public",
    ),
    (
        "missing operator name",
        "{name: hash, key_env",
        "{key_env",
        "rules.0.operator (line 5): missing required key 'name'\n"
        "    fix: add 'name:', one of: hash, mask",
    ),
    (
        "type error: not an integer",
        "k: 5",
        "k: many",
        "risk.k (line 11): Input should be a valid integer, unable to parse string as an integer\n"
        "    fix: expected The smallest equivalence class allowed, at least 2.",
    ),
    (
        "type error: below the minimum",
        "k: 5",
        "k: 1",
        "risk.k (line 11): Input should be greater than or equal to 2\n"
        "    fix: expected The smallest equivalence class allowed, at least 2.",
    ),
    (
        "type error: not a list",
        "[zip_code, birth_year]",
        "zip_code",
        "risk.quasi_identifiers (line 12): Input should be a valid list\n"
        "    fix: expected Columns an attacker may know.",
    ),
    (
        "type error: a list item",
        "[zip_code, birth_year]",
        "[zip_code, {year: birth}]",
        "risk.quasi_identifiers.1 (line 12): Input should be a valid string\n"
        "    fix: expected Columns an attacker may know.",
    ),
    (
        "an empty list",
        "rules:\n  - column: email\n    operator: {name: hash, key_env: POLICY_KEY}\n"
        "  - column: phone\n    operator:\n      name: mask\n      keep_last: 4\n",
        "rules: []\n",
        "rules (line 3): List should have at least 1 item after validation, not 0\n"
        "    fix: expected One rule per column to transform.",
    ),
    (
        "a validator's message and fix",
        "[zip_code, birth_year]",
        "[]",
        "risk.quasi_identifiers (line 12): no quasi-identifier given\n"
        "    fix: name the columns an attacker may know, e.g. [zip_code, birth_year]",
    ),
    (
        "a key given twice",
        "  k: 5\n",
        "  k: 5\n  k: 6\n",
        "risk.k (line 12): key 'k' is given twice (first on line 11)\n"
        "    fix: keep one of them; YAML would silently use the last",
    ),
]


@pytest.mark.parametrize(
    ("old", "new", "expected"), [c[1:] for c in BROKEN], ids=[c[0] for c in BROKEN]
)
def test_broken_policy_reports_exact_problem(
    policy_file: Path, old: str, new: str, expected: str
) -> None:
    assert old in VALID_POLICY
    policy_file.write_text(VALID_POLICY.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(ConfigError, match=exact(message(policy_file, expected))) as info:
        load_yaml_model(policy_file, Policy, what="policy")
    assert info.value.source == str(policy_file)
    assert info.value.what == "policy"
    assert [str(p) for p in info.value.problems] == [expected]


def test_every_problem_is_reported_at_once(policy_file: Path) -> None:
    text = VALID_POLICY
    for _case, old, new, _ in (BROKEN[0], BROKEN[2], BROKEN[6], BROKEN[9]):
        text = text.replace(old, new, 1)
    policy_file.write_text(text, encoding="utf-8")
    expected = [BROKEN[i][3] for i in (2, 6, 0, 9)]  # in the order of the file
    with pytest.raises(ConfigError, match=exact(message(policy_file, *expected))) as info:
        load_yaml_model(policy_file, Policy, what="policy")
    assert isinstance(info.value, WorkbenchError)
    assert len(info.value.problems) == 4


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            "version: 1\nrules:\n  - column: [email\n",
            "line 4: not valid YAML: expected ',' or ']', but got '<stream end>'\n"
            "    fix: fix the YAML syntax (indentation, a missing ':' or quote)",
        ),
        (
            "version: 1\naudience: partner\n  rules: []\n",
            "line 3: not valid YAML: mapping values are not allowed here\n"
            "    fix: fix the YAML syntax (indentation, a missing ':' or quote)",
        ),
        (
            "",
            "policy: the file is empty\n"
            "    fix: write a mapping that starts with the keys 'version', 'audience', 'rules',"
            " 'risk'",
        ),
        (
            "# only a comment\n",
            "policy: the file is empty\n"
            "    fix: write a mapping that starts with the keys 'version', 'audience', 'rules',"
            " 'risk'",
        ),
        (
            "- version: 1\n- audience: partner\n",
            "policy: the file is not a YAML mapping\n"
            "    fix: write a mapping that starts with the keys 'version', 'audience', 'rules',"
            " 'risk'",
        ),
        (
            "partner\n",
            "policy: the file is not a YAML mapping\n"
            "    fix: write a mapping that starts with the keys 'version', 'audience', 'rules',"
            " 'risk'",
        ),
    ],
    ids=[
        "syntax: unclosed list",
        "syntax: bad indentation",
        "empty",
        "comment only",
        "list",
        "scalar",
    ],
)
def test_unreadable_policy(policy_file: Path, text: str, problem: str) -> None:
    policy_file.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=exact(message(policy_file, problem))):
        load_yaml_model(policy_file, Policy, what="policy")


def test_missing_policy_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.yml"
    problem = f"policy: file {path} does not exist\n    fix: pass the path of your policy"
    with pytest.raises(ConfigError, match=exact(message(path, problem))):
        load_yaml_model(path, Policy, what="policy")


def test_the_default_name_is_config(policy_file: Path) -> None:
    policy_file.write_text("[]\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"^1 problem\(s\) in config .*\n  - config: the file"):
        load_yaml_model(policy_file, Policy)


def _known_columns(policy: Policy, doc: YamlDocument) -> Iterator[ConfigProblem]:
    """A caller's own check: every column named must exist in the table."""
    for i, rule in enumerate(policy.rules):
        if rule.column not in TABLE_COLUMNS:
            yield doc.problem(
                ("rules", i, "column"),
                f"unknown column {rule.column!r}",
                suggest(rule.column, TABLE_COLUMNS, "name a column of the table"),
            )
    for i, name in enumerate(policy.risk.quasi_identifiers):
        if name not in TABLE_COLUMNS:
            yield doc.problem(
                ("risk", "quasi_identifiers", i),
                f"unknown column {name!r}",
                suggest(name, TABLE_COLUMNS, "name a column of the table"),
            )


def test_a_callers_checks_report_with_lines(policy_file: Path) -> None:
    text = VALID_POLICY.replace("column: phone", "column: phnoe").replace("birth_year]", "age]")
    policy_file.write_text(text, encoding="utf-8")
    expected = [
        "rules.1.column (line 6): unknown column 'phnoe'\n    fix: did you mean 'phone'?",
        "risk.quasi_identifiers.1 (line 12): unknown column 'age'\n"
        "    fix: name a column of the table",
    ]
    with pytest.raises(ConfigError, match=exact(message(policy_file, *expected))):
        load_yaml_model(policy_file, Policy, what="policy", checks=_known_columns)


def test_a_callers_checks_run_only_on_a_valid_model(policy_file: Path) -> None:
    text = VALID_POLICY.replace("column: phone", "column: phnoe").replace("k: 5", "k: 1")
    policy_file.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_yaml_model(policy_file, Policy, what="policy", checks=_known_columns)
    assert [p.location for p in info.value.problems] == ["risk.k (line 11)"]


def test_building_blocks(policy_file: Path) -> None:
    """A loader can read, validate and add its own problems step by step."""
    doc = read_yaml(policy_file, what="policy")
    assert doc.data["audience"] == "partner"
    assert doc.line(("rules", 1, "operator", "keep_last")) == 9
    assert doc.line(("rules", 1, "operator", "not_there")) == 7  # the deepest key present
    assert doc.where(()) == "policy"
    assert doc.problem(("risk", "k"), "too small", "raise it") == ConfigProblem(
        "risk.k (line 11)", "too small", "raise it"
    )
    policy, problems = validate_model(doc, Policy)
    assert policy is not None
    assert problems == []


def test_a_bare_null_key_is_explained(tmp_path: Path) -> None:
    """`csv: {null: NULL}`: YAML 1.1 reads the key as nothing; say how to quote it."""
    from dsar import load_catalog
    from dsar.errors import CatalogError
    from tests.conftest import write_tiny_export

    catalog = write_tiny_export(tmp_path)
    text = catalog.read_text()
    catalog.write_text(
        text.replace("    path: users.csv\n", "    path: users.csv\n    csv: {null: 'NULL'}\n", 1)
    )
    with pytest.raises(CatalogError) as caught:
        load_catalog(catalog)
    assert "tables.users.csv (line 11)" in str(caught.value)
    assert "{'null': 'NULL'}" in str(caught.value)
    catalog.write_text(
        text.replace("    path: users.csv\n", "    path: users.csv\n    csv: {'null': 'NULL'}\n", 1)
    )
    assert load_catalog(catalog).tables["users"].csv is not None
