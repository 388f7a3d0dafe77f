"""The typed errors: each carries its data as attributes, and its one-line message names it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import dsar
from dsar.errors import (
    ExportDataError,
    InputFileError,
    MissingDependencyError,
    MissingFileError,
    OutputExistsError,
    RequestStateError,
    SignOffRefusedError,
    UnreadableArtifactError,
    UnusableFileError,
    UsageError,
    UseNotAllowedError,
    WorkbenchError,
)

CASES: list[tuple[type[WorkbenchError], dict[str, Any]]] = [
    (
        SignOffRefusedError,
        {"artifact": Path("out/AR-1"), "problem": "the approver reviewed it", "fix": "ask another"},
    ),
    (
        OutputExistsError,
        {"path": Path("out/AR-1"), "what": "a bundle", "fix": "choose another --out"},
    ),
    (
        MissingFileError,
        {
            "path": Path("records/sent.db"),
            "what": "the record of sent audiences",
            "fix": "check --sent-record",
        },
    ),
    (
        UnusableFileError,
        {
            "path": Path("export/.workbench.lock"),
            "problem": "not the workbench's lock file (a link, a folder or a device)",
            "fix": "remove it, then run this again; nothing was done",
        },
    ),
    (
        UnreadableArtifactError,
        {"path": Path("AR-1.zip"), "problem": "it is encrypted", "fix": "give its passphrase"},
    ),
    (
        InputFileError,
        {
            "path": Path("batch.csv"),
            "problem": "no identifier given",
            "fix": "give each request at least one identifier of the person",
            "line": 7,
        },
    ),
    (
        RequestStateError,
        {
            "request_id": "R-2026-0001",
            "status": "denied",
            "problem": "is denied",
            "fix": "reopen it first with --status open",
        },
    ),
    (
        UsageError,
        {
            "argument": "--users",
            "problem": "--users must be at least 10 (got 3)",
            "fix": "give 10 or more",
        },
    ),
    (
        UseNotAllowedError,
        {
            "table": "accounts",
            "column": "email",
            "use": "advertising",
            "problem": "was collected for billing, not for advertising",
            "fix": "add advertising to the table's purposes only if the person agreed",
        },
    ),
    (
        ExportDataError,
        {
            "table": "tracks",
            "column": "TrackId",
            "problem": "is not unique for the values of invoice_lines.TrackId",
            "fix": "fix the export",
        },
    ),
    (ExportDataError, {"table": None, "column": "born", "problem": "holds string", "fix": "x"}),
    (
        MissingDependencyError,
        {"library": "OpenDP", "feature": "differential privacy", "extra": "dp"},
    ),
    (
        MissingDependencyError,
        {
            "library": "spaCy model 'en_core_web_lg'",
            "feature": "finding names in free text",
            "extra": "ner",
            "broken": "E050",
            "fix": "reinstall it",
        },
    ),
]


# (class, attribute, when given): what a message leaves out; MissingDependencyError names
# its install extra only when no fix is given in its stead
UNSHOWN = {(MissingDependencyError, "extra", "fix")}


@pytest.mark.parametrize(
    ("cls", "data"), CASES, ids=[f"{c.__name__}-{i}" for i, (c, _) in enumerate(CASES)]
)
def test_a_typed_error_carries_its_data_and_names_it(
    cls: type[WorkbenchError], data: dict[str, Any]
) -> None:
    error = cls(**data)
    text = str(error)
    assert isinstance(error, WorkbenchError) and cls.__doc__
    assert "\n" not in text  # the command lines print it as one line: "error: ..."
    for name, value in data.items():
        assert getattr(error, name) == value, name
        unshown = any(c is cls and n == name and w in data for c, n, w in UNSHOWN)
        if value is not None and not unshown:
            assert str(value) in text, name
    assert cls.__name__ in dsar.__all__


def test_the_fix_is_in_the_message_by_default() -> None:
    error = MissingDependencyError("OpenDP", "differential privacy", "dp")
    assert error.fix == "pip install '.[dp]'" and error.broken is None
    assert str(error) == "differential privacy needs OpenDP: pip install '.[dp]'"
