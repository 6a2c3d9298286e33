"""The tone classifier interface: every backend turns texts into `ToneResult`s the same way."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

LABELS: tuple[str, str, str] = ("negative", "neutral", "positive")


@dataclass(frozen=True)
class ToneResult:
    """One message's tone: the label, a score from -1 (negative) to 1 (positive), and the confidence."""

    label: str
    score: float
    confidence: float

    @classmethod
    def from_probabilities(cls, probabilities: Sequence[float]) -> ToneResult:
        negative, _neutral, positive = probabilities
        best = max(range(3), key=probabilities.__getitem__)
        return cls(
            label=LABELS[best],
            score=round(positive - negative, 4),
            confidence=round(probabilities[best], 4),
        )


class ToneClassifier(Protocol):
    """A backend: the default linear model, one that learned from a company's labels, a transformer …"""

    name: str

    def classify(self, texts: Sequence[str]) -> list[ToneResult]: ...


def softmax(logits: Sequence[float]) -> list[float]:
    top = max(logits)
    exps = [math.exp(value - top) for value in logits]
    total = sum(exps)
    return [value / total for value in exps]
