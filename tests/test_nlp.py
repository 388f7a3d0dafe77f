"""The offline analyzer: NER when the model is installed, patterns and a notice otherwise,
and never a download attempt."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest

from dsar.text.nlp import DEFAULT_MODEL, NlpSettings, build_analyzer, model_available

TEXT = "Please ask Maria Lopez (maria.lopez@acme-corp.com, +1 415 555 0134) about the invoice."


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Fail the test if anything tries to open a network connection or download a model."""

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    import spacy.cli

    monkeypatch.setattr(spacy.cli, "download", refuse)
    yield


def _entities(settings: NlpSettings) -> tuple[set[str], Any]:
    analyzer, info = build_analyzer(settings)
    found = {r.entity_type for r in analyzer.analyze(TEXT, language="en", score_threshold=0.5)}
    return found, info


@pytest.mark.skipif(not model_available(DEFAULT_MODEL), reason="the ner extra is not installed")
def test_installed_model_adds_names() -> None:
    found, info = _entities(NlpSettings(model=DEFAULT_MODEL))
    assert info.ner and info.model == DEFAULT_MODEL and info.notice is None
    assert {"PERSON", "EMAIL_ADDRESS"} <= found


def test_missing_model_falls_back_to_patterns_with_a_notice(
    caplog: pytest.LogCaptureFixture,
) -> None:
    found, info = _entities(NlpSettings(model="en_core_web_missing_model"))
    assert not info.ner and info.model is None
    assert info.notice is not None
    assert "'en_core_web_missing_model' is not installed" in info.notice
    assert "pip install '.[ner]'" in info.notice
    assert "EMAIL_ADDRESS" in found
    assert "PERSON" not in found
    assert info.notice in caplog.text


def test_model_setting_comes_from_the_environment_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKBENCH_SPACY_MODEL", "company_model")
    assert NlpSettings().model == DEFAULT_MODEL  # the library never reads the environment
    assert NlpSettings.from_env({"WORKBENCH_SPACY_MODEL": "company_model"}).model == (
        "company_model"
    )
    assert NlpSettings.from_env({}).model == DEFAULT_MODEL


@pytest.mark.parametrize(
    ("name", "expected"), [("", False), ("no_such_model_x", False), ("json", True)]
)
def test_model_available(name: str, expected: bool) -> None:
    assert model_available(name) is expected


def test_saved_pipeline_folder_is_a_model(tmp_path: Any) -> None:
    import spacy

    spacy.blank("en").to_disk(tmp_path / "pipeline")
    _, info = build_analyzer(NlpSettings(model=str(tmp_path / "pipeline")))
    assert info.model == str(tmp_path / "pipeline")
