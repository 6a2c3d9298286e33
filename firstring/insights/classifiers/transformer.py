"""The "transformers" tone backend: a sequence-classification model a company has, loaded by name.

`FIRSTRING_TONE_MODEL` names a directory saved by `save_pretrained`, or a Hugging Face model id already
in the local cache: nothing is downloaded at run time (`local_files_only`). The model's own label names
say which output is negative, neutral or positive, so a fine-tuned RoBERTa with any label order works.
Needs the `transformers` extra (PyTorch); nothing here is imported unless this backend is chosen.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

from django.core.exceptions import ImproperlyConfigured

from firstring.insights.classifiers.base import LABELS, ToneResult

# What models call the three tones (lower case); generic names (LABEL_0 …) say nothing and are refused.
_LABEL_NAMES = {
    "negative": {"negative", "neg"},
    "neutral": {"neutral", "neu"},
    "positive": {"positive", "pos"},
}
BATCH_SIZE = 32
MAX_TOKENS = 256


def label_order(id2label: Mapping[Any, str]) -> list[int | None]:
    """For negative, neutral and positive, the index of the model's output that means it.

    Neutral may be missing (a two-class model never calls a message neutral); negative and positive
    may not, and no name may stand for two tones.
    """
    found: dict[str, int] = {}
    for index, name in id2label.items():
        tone = next((tone for tone, names in _LABEL_NAMES.items() if str(name).lower() in names), None)
        if tone is None:
            continue
        if tone in found:
            raise ImproperlyConfigured(
                f"the model has two outputs for {tone}: its labels are {dict(id2label)}"
            )
        found[tone] = int(index)
    if "negative" not in found or "positive" not in found:
        raise ImproperlyConfigured(
            "the model's labels do not say which output is negative and which positive "
            f"({dict(id2label)}); set id2label in its config.json to negative, neutral, positive"
        )
    return [found.get(tone) for tone in LABELS]


class TransformerToneClassifier:
    name = "transformers"

    def __init__(self, model_name: str) -> None:
        try:
            import torch
            from transformers import AutoModelForSequenceClassification, AutoTokenizer
        except ImportError:
            raise ImproperlyConfigured(
                "the transformers tone backend needs PyTorch and transformers: "
                "pip install 'firstring[transformers]' (with a CPU build of torch first, see docs/deploy.md)"
            ) from None
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(model_name, local_files_only=True)
            self.model = AutoModelForSequenceClassification.from_pretrained(model_name, local_files_only=True)
        except OSError as error:
            raise ImproperlyConfigured(f"cannot load the tone model {model_name!r}: {error}") from None
        self.model.eval()
        self.order = label_order(self.model.config.id2label)
        self._torch = torch

    def classify(self, texts: Sequence[str]) -> list[ToneResult]:
        results: list[ToneResult] = []
        for start in range(0, len(texts), BATCH_SIZE):
            batch = list(texts[start : start + BATCH_SIZE])
            encoded = self.tokenizer(
                batch, padding=True, truncation=True, max_length=MAX_TOKENS, return_tensors="pt"
            )
            with self._torch.inference_mode():
                probabilities = self._torch.softmax(self.model(**encoded).logits, dim=-1).tolist()
            for row in probabilities:
                tones = [row[index] if index is not None else 0.0 for index in self.order]
                results.append(ToneResult.from_probabilities(tones))
        return results


@cache
def transformer_classifier(model_name: str) -> TransformerToneClassifier:
    return TransformerToneClassifier(model_name)
