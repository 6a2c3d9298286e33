"""Tone classification with pluggable backends.

    from firstring.insights.classifiers import classify_tone
    classify_tone(["I hate this, worst service ever"])
    # [ToneResult(label="negative", score=-0.99, confidence=0.99)]

Backends register a factory under a name; `FIRSTRING_TONE_BACKEND` picks the one the pipeline uses
("default" unless set). Shipped: "default", the linear model in `models/tone-default.json.gz` (pure
Python, offline, no download); "learning" (`learning.py`), which adapts the default to a company's own
labelled messages; "transformers" (`transformer.py`), a sequence-classification model a company has,
named by `FIRSTRING_TONE_MODEL`, which imports PyTorch inside its factory, so that the default install
never needs it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cache
from pathlib import Path

from firstring.insights.classifiers.base import LABELS, ToneClassifier, ToneResult
from firstring.insights.classifiers.linear import LinearModel

__all__ = [
    "LABELS",
    "DefaultToneClassifier",
    "ToneClassifier",
    "ToneResult",
    "available_backends",
    "classify_tone",
    "get_classifier",
    "register_backend",
]

DEFAULT_MODEL = Path(__file__).with_name("models") / "tone-default.json.gz"

_FACTORIES: dict[str, Callable[[], ToneClassifier]] = {}


class DefaultToneClassifier:
    """The shipped model: word and character n-grams, a lexicon and support cues, one dot product."""

    name = "default"

    def __init__(self, model: LinearModel) -> None:
        self.model = model

    def classify(self, texts: Sequence[str]) -> list[ToneResult]:
        return self.model.classify(texts)


@cache
def default_classifier() -> DefaultToneClassifier:
    return DefaultToneClassifier(LinearModel.load(DEFAULT_MODEL))


def register_backend(name: str, factory: Callable[[], ToneClassifier]) -> None:
    _FACTORIES[name] = factory


def available_backends() -> list[str]:
    return sorted(_FACTORIES)


def get_classifier(name: str | None = None) -> ToneClassifier:
    if name is None:
        from django.conf import settings

        name = settings.FIRSTRING_TONE_BACKEND
    try:
        factory = _FACTORIES[name]
    except KeyError:
        raise ValueError(
            f"unknown tone backend {name!r}; available: {', '.join(available_backends())}"
        ) from None
    return factory()


def classify_tone(texts: Sequence[str], *, backend: str | None = None) -> list[ToneResult]:
    return get_classifier(backend).classify(texts)


register_backend("default", default_classifier)


def _learning() -> ToneClassifier:
    # The learned weights live in the database; only this backend reads them.
    from firstring.insights.services import learned_classifier

    return learned_classifier()


register_backend("learning", _learning)


def _transformers() -> ToneClassifier:
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured

    from firstring.insights.classifiers.transformer import transformer_classifier

    if not settings.FIRSTRING_TONE_MODEL:
        raise ImproperlyConfigured(
            "the transformers tone backend needs FIRSTRING_TONE_MODEL: a saved model's directory or the "
            "id of a model in the local Hugging Face cache"
        )
    return transformer_classifier(settings.FIRSTRING_TONE_MODEL)


register_backend("transformers", _transformers)
