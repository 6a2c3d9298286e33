"""The learning backend: a model of one company's own labelled messages, stacked on the default.

Given rows (agents' corrections, survey answers …) it trains a multinomial logistic regression whose
inputs are the message's features (the default's, scaled to unit length) and the default model's two
logits (negative and positive, relative to neutral). It starts as the default (the logits' weights
at one, everything else at zero) and learns, by stochastic gradient descent with an L2 penalty on the
feature weights and classes weighted to balance, how far to trust the default and what the
company's own words mean. Measured on hand-labelled support tweets (docs/benchmarks.md), this beat
both the default alone and a model trained on the company's rows alone. Pure Python, like the
default: learning from a thousand rows takes a few seconds.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from firstring.insights.classifiers.base import LABELS, ToneResult, softmax
from firstring.insights.classifiers.linear import LinearModel

FORMAT = "firstring-tone-learned/2"
EPOCHS = 15
# As scikit-learn's C: the inverse strength of the L2 penalty on the feature weights, for all rows.
C = 10.0
LEARNING_RATE = 0.5


def _inputs(base: LinearModel, text: str) -> tuple[dict[str, float], tuple[float, float]]:
    """A message's unit-length features and the default's logits relative to neutral."""
    features = base.features(text)
    norm = math.sqrt(sum(v * v for v in features.values())) or 1.0
    logits = base.logits(features)
    return {k: v / norm for k, v in features.items()}, (logits[0] - logits[1], logits[2] - logits[1])


class LearningToneClassifier:
    name = "learning"

    def __init__(
        self,
        base: LinearModel,
        *,
        weights: Mapping[str, Sequence[float]] | None = None,
        mix: Sequence[Sequence[float]] = ((1.0, 0.0), (0.0, 0.0), (0.0, 1.0)),
        intercept: Sequence[float] = (0.0, 0.0, 0.0),
        rows: int = 0,
    ) -> None:
        self.base = base
        self.weights: dict[str, list[float]] = {k: [float(x) for x in w] for k, w in (weights or {}).items()}
        self.mix = [[float(x) for x in row] for row in mix]
        self.intercept = [float(v) for v in intercept]
        self.rows = rows

    @classmethod
    def fit(
        cls, base: LinearModel, texts: Sequence[str], labels: Sequence[str], *, seed: int = 0
    ) -> LearningToneClassifier:
        if len(texts) != len(labels):
            raise ValueError("texts and labels differ in length")
        unknown = set(labels) - set(LABELS)
        if unknown:
            raise ValueError(f"unknown tone labels: {sorted(unknown)}")
        learner = cls(base, rows=len(texts))
        if not texts:
            return learner
        inputs = [_inputs(base, text) for text in texts]
        targets = [LABELS.index(label) for label in labels]
        counts = Counter(targets)
        class_weight = {c: len(targets) / (len(LABELS) * n) for c, n in counts.items()}
        penalty = 1.0 / (C * len(texts))
        weights, mix, bias = learner.weights, learner.mix, learner.intercept
        order = list(range(len(texts)))
        rng = random.Random(seed)
        step = 0
        for _ in range(EPOCHS):
            rng.shuffle(order)
            for i in order:
                step += 1
                rate = LEARNING_RATE / (1.0 + step / len(order))
                features, default = inputs[i]
                logits = learner._logits(features, default)
                probabilities = softmax(logits)
                target = targets[i]
                scale = class_weight[target] * rate
                g = [(probabilities[c] - (c == target)) * scale for c in range(3)]
                for c in range(3):
                    bias[c] -= g[c]
                    # The default's logits are large next to unit-length features: smaller steps.
                    mix[c][0] -= 0.1 * g[c] * default[0]
                    mix[c][1] -= 0.1 * g[c] * default[1]
                decay = 1.0 - rate * penalty
                for key, value in features.items():
                    w = weights.get(key)
                    if w is None:
                        w = weights[key] = [0.0, 0.0, 0.0]
                    w[0] = w[0] * decay - g[0] * value
                    w[1] = w[1] * decay - g[1] * value
                    w[2] = w[2] * decay - g[2] * value
        learner.weights = {k: w for k, w in weights.items() if max(abs(w[0]), abs(w[1]), abs(w[2])) >= 1e-4}
        return learner

    def _logits(self, features: Mapping[str, float], default: tuple[float, float]) -> list[float]:
        mix = self.mix
        logits = [self.intercept[c] + mix[c][0] * default[0] + mix[c][1] * default[1] for c in range(3)]
        weights = self.weights
        for key, value in features.items():
            w = weights.get(key)
            if w is not None:
                logits[0] += w[0] * value
                logits[1] += w[1] * value
                logits[2] += w[2] * value
        return logits

    def classify(self, texts: Sequence[str]) -> list[ToneResult]:
        results = []
        for text in texts:
            features, default = _inputs(self.base, text)
            results.append(ToneResult.from_probabilities(softmax(self._logits(features, default))))
        return results

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "rows": self.rows,
            "intercept": [round(v, 5) for v in self.intercept],
            "mix": [[round(v, 5) for v in row] for row in self.mix],
            "weights": {k: [round(v, 5) for v in w] for k, w in self.weights.items()},
        }

    @classmethod
    def from_dict(cls, base: LinearModel, data: Mapping[str, Any]) -> LearningToneClassifier:
        if data.get("format") != FORMAT:
            raise ValueError(f"not a {FORMAT} model")
        return cls(
            base,
            weights=data["weights"],
            mix=data["mix"],
            intercept=data["intercept"],
            rows=int(data["rows"]),
        )
