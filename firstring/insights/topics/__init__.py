"""Topics a company names, recognised in messages with no training: one interface, encoders by name.

    from firstring.insights.topics import TopicSpec, topic_classifier
    classifier = topic_classifier([TopicSpec(1, "delivery"), TopicSpec(2, "refund")])
    classifier.classify(["my parcel never came"])[0][0]
    # TopicScore(key=1, confidence=0.7…, similarity=0.4…)

A topic is its name, an optional description and a few example messages; every one of them, and every
message an agent tagged with it, is embedded and the topic's prototype is their weighted mean (messages
an agent untagged pull it away). A message's topics are ranked by cosine similarity to the prototypes
plus a small bonus when it uses a word of the topic's name; the confidence is a softmax over them.

Encoders (`FIRSTRING_TOPIC_BACKEND`): "default", static word-piece vectors shipped in
`models/topic-vectors.npz` (distilled from all-MiniLM-L6-v2, NumPy only, offline, ~2k messages a
second); "minilm", the sentence encoder itself (`minilm.py`, the `minilm` extra, NumPy, slower).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

__all__ = [
    "Encoder",
    "TopicClassifier",
    "TopicScore",
    "TopicSpec",
    "available_encoders",
    "get_encoder",
    "register_encoder",
    "topic_classifier",
]

# How much each source weighs in a topic's prototype, and how sharp the confidence is.
NAME_WEIGHT = 1.0
DESCRIPTION_WEIGHT = 0.7
EXAMPLES_WEIGHT = 1.0
TAUGHT_WEIGHT = 1.5
REJECTED_WEIGHT = 0.5
KEYWORD_BONUS = 0.08
TEMPERATURE = 20.0


class Encoder(Protocol):
    """Texts to unit-length vectors (a NumPy array, one row a text)."""

    name: str

    def encode(self, texts: Sequence[str]) -> Any: ...


@dataclass(frozen=True)
class TopicSpec:
    key: int | str
    name: str
    description: str = ""
    examples: tuple[str, ...] = ()
    # Messages agents tagged with this topic, and messages they said are not about it.
    taught: tuple[str, ...] = field(default=(), repr=False)
    rejected: tuple[str, ...] = field(default=(), repr=False)


@dataclass(frozen=True)
class TopicScore:
    key: int | str
    confidence: float
    similarity: float


_WORD = re.compile(r"[^\W\d_]{3,}")
_STOP = frozenset(
    [
        "and",
        "the",
        "for",
        "with",
        "about",
        "from",
        "not",
        "are",
        "was",
        "this",
        "that",
        "other",
        "your",
        "our",
        "their",
        "into",
        "out",
        "off",
        "any",
        "all",
        "its",
        "has",
        "have",
        "had",
        "can",
        "cannot",
        "how",
        "what",
        "when",
        "where",
        "why",
        "who",
        "problem",
        "problems",
        "issue",
        "issues",
        "question",
        "questions",
    ]
)


def _stems(text: str) -> set[str]:
    # A crude stem (the first five letters) is enough to let "delivered" meet "delivery".
    return {w[:5] for w in _WORD.findall(text.lower()) if w not in _STOP}


class TopicClassifier:
    """Ranks a company's topics for each message."""

    def __init__(self, encoder: Encoder, topics: Sequence[TopicSpec]) -> None:
        import numpy as np

        self.encoder = encoder
        self.topics = list(topics)
        self.keywords = [_stems(t.name) for t in self.topics]
        if not self.topics:
            self.prototypes = np.zeros((0, 1), dtype=np.float32)
            return
        texts: list[str] = []
        parts: list[list[tuple[int, int, float]]] = []  # per topic: (start, end, weight) into texts
        for topic in self.topics:
            spans = []
            for group, weight in (
                ([topic.name], NAME_WEIGHT),
                ([topic.description] if topic.description.strip() else [], DESCRIPTION_WEIGHT),
                (list(topic.examples), EXAMPLES_WEIGHT),
                (list(topic.taught), TAUGHT_WEIGHT),
                (list(topic.rejected), -REJECTED_WEIGHT),
            ):
                if group:
                    spans.append((len(texts), len(texts) + len(group), weight))
                    texts.extend(group)
            parts.append(spans)
        vectors = encoder.encode(texts)
        prototypes = np.zeros((len(self.topics), vectors.shape[1]), dtype=np.float32)
        for row, spans in enumerate(parts):
            for start, end, weight in spans:
                prototypes[row] += weight * vectors[start:end].mean(axis=0)
        norms = np.linalg.norm(prototypes, axis=1, keepdims=True)
        self.prototypes = prototypes / np.maximum(norms, 1e-9)

    def classify(self, texts: Sequence[str], *, vectors: Any = None) -> list[list[TopicScore]]:
        """Every topic for every text, best first (`vectors`: the texts already encoded by the encoder)."""
        if not texts:
            return []
        if not self.topics:
            return [[] for _ in texts]
        if vectors is None:
            vectors = self.encoder.encode(texts)
        similarities = vectors @ self.prototypes.T
        ranked = []
        for text, row in zip(texts, similarities.tolist(), strict=True):
            stems = _stems(text)
            scores = [
                s + (KEYWORD_BONUS if k & stems else 0.0) for s, k in zip(row, self.keywords, strict=True)
            ]
            top = max(scores)
            exps = [math.exp(TEMPERATURE * (s - top)) for s in scores]
            total = sum(exps)
            ranked.append(
                sorted(
                    (
                        TopicScore(t.key, round(e / total, 4), round(s, 4))
                        for t, e, s in zip(self.topics, exps, scores, strict=True)
                    ),
                    key=lambda score: -score.confidence,
                )
            )
        return ranked


_ENCODERS: dict[str, Callable[[], Encoder]] = {}


def register_encoder(name: str, factory: Callable[[], Encoder]) -> None:
    _ENCODERS[name] = factory


def available_encoders() -> list[str]:
    return sorted(_ENCODERS)


def get_encoder(name: str | None = None) -> Encoder:
    if name is None:
        from django.conf import settings

        name = settings.FIRSTRING_TOPIC_BACKEND
    try:
        factory = _ENCODERS[name]
    except KeyError:
        raise ValueError(
            f"unknown topic backend {name!r}; available: {', '.join(available_encoders())}"
        ) from None
    return factory()


def topic_classifier(topics: Sequence[TopicSpec], *, backend: str | None = None) -> TopicClassifier:
    return TopicClassifier(get_encoder(backend), topics)


def _default() -> Encoder:
    from firstring.insights.topics.vectors import static_encoder

    return static_encoder()


def _minilm() -> Encoder:
    from firstring.insights.topics.minilm import minilm_encoder

    return minilm_encoder()


register_encoder("default", _default)
register_encoder("minilm", _minilm)
