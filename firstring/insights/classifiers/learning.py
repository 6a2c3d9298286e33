"""The learning backend: the default model, adapted to one company's own labelled messages.

Given rows (corrections by agents, survey answers …), it learns a correction on top of the default
model: logits = default logits + delta · features + delta intercept, trained by stochastic gradient
descent on the same sparse features, with an L2 penalty that keeps delta small where the company's rows
say little. The default stays the prior, so a few rows cannot make it forget what it knew, and many rows
(a thousand and more) move it to the company's own words, products and idea of "negative".
Pure Python, like the default: learning from a thousand rows takes a second or two.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from firstring.insights.classifiers.base import LABELS, ToneResult, softmax
from firstring.insights.classifiers.linear import LinearModel

FORMAT = "firstring-tone-learned/1"
# Candidate step sizes for SGD (how far a row may move the weights), chosen between by cross-validation.
STRENGTHS = (0.3, 1.0, 3.0)
FOLDS = 3
EPOCHS = 8
L2 = 0.01


class _Row:
    __slots__ = ("features", "norm", "prior", "target")

    def __init__(self, base: LinearModel, text: str, target: int) -> None:
        self.features = base.features(text)
        self.norm = sum(v * v for v in self.features.values())
        self.prior = base.logits(self.features)
        self.target = target


def _argmax(values: Sequence[float]) -> int:
    return max(range(len(values)), key=values.__getitem__)


def _logits(row: _Row, delta: Mapping[str, Sequence[float]], bias: Sequence[float]) -> list[float]:
    logits = [p + b for p, b in zip(row.prior, bias, strict=True)]
    for key, value in row.features.items():
        w = delta.get(key)
        if w is not None:
            logits[0] += w[0] * value
            logits[1] += w[1] * value
            logits[2] += w[2] * value
    return logits


def _sgd(rows: Sequence[_Row], strength: float, seed: int) -> tuple[dict[str, list[float]], list[float]]:
    """SGD on the cross-entropy of (default logits + correction), each step scaled by the row's norm."""
    # Classes weighted towards balance (square root of the inverse frequency): macro-F1 counts a rare
    # class as much as a common one, but fully balancing over-predicts the rare class.
    counts = Counter(row.target for row in rows)
    class_weight = {c: math.sqrt(len(rows) / (len(LABELS) * n)) for c, n in counts.items()}
    delta: dict[str, list[float]] = {}
    bias = [0.0, 0.0, 0.0]
    order = list(range(len(rows)))
    rng = random.Random(seed)
    step = 0
    for _ in range(EPOCHS):
        rng.shuffle(order)
        for i in order:
            row = rows[i]
            step += 1
            rate = strength / (1.0 + step / len(order))
            decay = 1.0 - rate * L2
            probabilities = softmax(_logits(row, delta, bias))
            weight = class_weight[row.target] * rate
            gradient = [(probabilities[c] - (c == row.target)) * weight for c in range(len(LABELS))]
            for c in range(len(LABELS)):
                bias[c] -= 0.1 * gradient[c]
            g0, g1, g2 = (g / row.norm for g in gradient)
            for key, value in row.features.items():
                w = delta.setdefault(key, [0.0, 0.0, 0.0])
                w[0] = w[0] * decay - g0 * value
                w[1] = w[1] * decay - g1 * value
                w[2] = w[2] * decay - g2 * value
    return delta, bias


def _macro_f1(gold: Sequence[int], predicted: Sequence[int]) -> float:
    total = 0.0
    for c in range(len(LABELS)):
        tp = sum(g == p == c for g, p in zip(gold, predicted, strict=True))
        wrong = sum((g == c) != (p == c) for g, p in zip(gold, predicted, strict=True))
        total += 2 * tp / (2 * tp + wrong) if tp else 0.0
    return total / len(LABELS)


class LearningToneClassifier:
    name = "learning"

    def __init__(
        self,
        base: LinearModel,
        *,
        delta: Mapping[str, Sequence[float]] | None = None,
        intercept: Sequence[float] = (0.0, 0.0, 0.0),
        rows: int = 0,
    ) -> None:
        self.base = base
        self.delta: dict[str, list[float]] = {k: [float(x) for x in v] for k, v in (delta or {}).items()}
        self.intercept = [float(v) for v in intercept]
        self.rows = rows
        # The learned correction is linear in the same features, so base + delta is one linear model,
        # scored as fast as the default.
        weights = dict(base.weights)
        for key, w in self.delta.items():
            b = weights.get(key, (0.0, 0.0, 0.0))
            weights[key] = (b[0] + w[0], b[1] + w[1], b[2] + w[2])
        self.model = LinearModel(
            intercept=[b + d for b, d in zip(base.intercept, self.intercept, strict=True)],
            weights=weights,
            lexicon=base.lexicon,
            about={"base": base.about, "rows": rows},
        )

    @classmethod
    def fit(
        cls,
        base: LinearModel,
        texts: Sequence[str],
        labels: Sequence[str],
        *,
        seed: int = 0,
        strengths: Sequence[float] = STRENGTHS,
    ) -> LearningToneClassifier:
        """Learn the correction; how far to move from the default is chosen by cross-validation.

        Each candidate step size (0 keeps the default as it is) is scored by macro-F1 over three folds
        of the rows; the best is then learned from all of them. So a company whose labels agree with the
        default keeps it, and one whose labels differ moves as far as its rows justify.
        """
        if len(texts) != len(labels):
            raise ValueError("texts and labels differ in length")
        unknown = set(labels) - set(LABELS)
        if unknown:
            raise ValueError(f"unknown tone labels: {sorted(unknown)}")
        rows = [_Row(base, text, LABELS.index(label)) for text, label in zip(texts, labels, strict=True)]
        if len(rows) < FOLDS * 2:
            return cls(base, rows=len(rows))
        order = list(range(len(rows)))
        random.Random(seed).shuffle(order)
        folds = [order[k::FOLDS] for k in range(FOLDS)]
        best, best_score = 0.0, _macro_f1([r.target for r in rows], [_argmax(r.prior) for r in rows])
        for strength in strengths:
            gold: list[int] = []
            predicted: list[int] = []
            for k, held in enumerate(folds):
                learn = [rows[i] for j, fold in enumerate(folds) if j != k for i in fold]
                delta, bias = _sgd(learn, strength, seed)
                for i in held:
                    gold.append(rows[i].target)
                    predicted.append(_argmax(_logits(rows[i], delta, bias)))
            result = _macro_f1(gold, predicted)
            if result > best_score + 0.005:
                best, best_score = strength, result
        if not best:
            return cls(base, rows=len(rows))
        delta, bias = _sgd(rows, best, seed)
        kept = {k: w for k, w in delta.items() if max(abs(w[0]), abs(w[1]), abs(w[2])) >= 1e-4}
        return cls(base, delta=kept, intercept=bias, rows=len(rows))

    def classify(self, texts: Sequence[str]) -> list[ToneResult]:
        return self.model.classify(texts)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "rows": self.rows,
            "intercept": [round(v, 5) for v in self.intercept],
            "delta": {k: [round(v, 5) for v in w] for k, w in self.delta.items()},
        }

    @classmethod
    def from_dict(cls, base: LinearModel, data: Mapping[str, Any]) -> LearningToneClassifier:
        if data.get("format") != FORMAT:
            raise ValueError(f"not a {FORMAT} model")
        return cls(base, delta=data["delta"], intercept=data["intercept"], rows=int(data["rows"]))
