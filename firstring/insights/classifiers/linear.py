"""A linear model over sparse features, in pure Python: loading, scoring, and saving.

The file is gzipped JSON: {"format": "firstring-tone-linear/1", "labels": [...], "intercept": [3 floats],
"weights": {feature: [3 floats]}, "lexicon": {word: valence}, "about": {...}}. Dense features (lexicon
sums, cues) are scaled at training time; the scale is folded into their weights when the file is written,
so scoring is a plain dot product.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Mapping, Sequence
from itertools import repeat
from pathlib import Path
from typing import Any

from firstring.insights.classifiers.base import LABELS, ToneResult, softmax
from firstring.insights.classifiers.features import char_grams, extract, featurize

FORMAT = "firstring-tone-linear/1"
WORD_CACHE_SIZE = 100_000


class LinearModel:
    def __init__(
        self,
        *,
        intercept: Sequence[float],
        weights: Mapping[str, Sequence[float]],
        lexicon: Mapping[str, float],
        about: Mapping[str, Any] | None = None,
    ) -> None:
        self.intercept = tuple(float(v) for v in intercept)
        self.weights: dict[str, tuple[float, float, float]] = {
            key: (float(w[0]), float(w[1]), float(w[2])) for key, w in weights.items()
        }
        self.lexicon = dict(lexicon)
        self.about = dict(about or {})
        # Softmax only sees differences between logits, so neutral's can be 0: the other two, relative to
        # it, travel as one complex number per feature, and scoring is a single C-level sum over look-ups.
        self._relative = {key: complex(w[0] - w[1], w[2] - w[1]) for key, w in self.weights.items()}
        # A word's character n-grams always weigh the same: their sum is kept per word (bounded).
        self._word_cache: dict[str, complex] = {}

    @classmethod
    def load(cls, path: Path) -> LinearModel:
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            data = json.load(handle)
        if data.get("format") != FORMAT or list(data["labels"]) != list(LABELS):
            raise ValueError(f"{path} is not a {FORMAT} model with labels {LABELS}")
        return cls(
            intercept=data["intercept"], weights=data["weights"], lexicon=data["lexicon"], about=data["about"]
        )

    def save(self, path: Path) -> None:
        data = {
            "format": FORMAT,
            "labels": list(LABELS),
            "about": self.about,
            "intercept": [round(v, 4) for v in self.intercept],
            "lexicon": self.lexicon,
            "weights": {k: [round(v, 4) for v in w] for k, w in sorted(self.weights.items())},
        }
        # mtime=0: the same weights always give the same bytes.
        with gzip.GzipFile(path, "wb", compresslevel=9, mtime=0) as handle:
            handle.write(json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))

    def features(self, text: str) -> dict[str, float]:
        return featurize(text, self.lexicon)

    def logits(self, features: Mapping[str, float]) -> list[float]:
        a, b, c = self.intercept
        weights = self.weights
        for key, value in features.items():
            w = weights.get(key)
            if w is not None:
                a += w[0] * value
                b += w[1] * value
                c += w[2] * value
        return [a, b, c]

    def fast_logits(self, text: str) -> list[float]:
        """Logits relative to neutral's (same probabilities), without building the feature mapping."""
        present, padded, valued = extract(text, self.lexicon)
        relative = self._relative
        # A binary feature present twice counts once, as in training; an unknown one weighs nothing.
        total = sum(map(relative.get, dict.fromkeys(present), repeat(0j)))
        cache = self._word_cache
        for word in padded:
            share = cache.get(word)
            if share is None:
                share = sum(map(relative.get, char_grams(word), repeat(0j)))
                if len(cache) >= WORD_CACHE_SIZE:
                    cache.clear()
                cache[word] = share
            total += share
        for key, value in valued.items():
            total += relative.get(key, 0j) * value
        a, b, c = self.intercept
        return [total.real + a - b, 0.0, total.imag + c - b]

    def classify(self, texts: Sequence[str]) -> list[ToneResult]:
        return [ToneResult.from_probabilities(softmax(self.fast_logits(t))) for t in texts]
