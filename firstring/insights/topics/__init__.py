"""Topics a company names, recognised in messages with no training: one interface, encoders by name.

    from firstring.insights.topics import TopicSpec, topic_classifier
    classifier = topic_classifier([TopicSpec(1, "delivery"), TopicSpec(2, "refund")])
    classifier.classify(["my parcel never came"])[0][0]
    # TopicScore(key=1, confidence=0.7…, similarity=0.4…)

A topic is its name, an optional description and a few example messages; every one of them, and every
message an agent tagged with it, is embedded and the topic's prototype is their weighted mean (messages
an agent untagged pull it away). A message's topics are ranked by cosine similarity to the prototypes
plus a small bonus when it uses a word of the topic's name; an encoder with word vectors (the default)
adds how well the message's words match the name's words (each name word's best match, averaged):
a message is often about its topic in one or two words among many others, which a mean dilutes. The
confidence is a softmax over the scores.

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
# The word match's weight against the prototype similarity (both cosines); chosen on the plateau
# 1.0-2.0 where both the support tweets and BANKING77 gained (docs/benchmarks.md).
WORD_MATCH_WEIGHT = 1.5
TEMPERATURE = 20.0


class Encoder(Protocol):
    """Texts to unit-length vectors (a NumPy array, one row a text)."""

    name: str

    def encode(self, texts: Sequence[str]) -> Any: ...

    def known_words(self, text: str) -> list[str]:
        """The words of `text` the encoder reads as words (a short query of none means nothing to it)."""
        ...


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


def _words(text: str) -> list[str]:
    return [w for w in _WORD.findall(text.lower()) if w not in _STOP]


def _stems(text: str) -> set[str]:
    # A crude stem (the first five letters) is enough to let "delivered" meet "delivery".
    return {w[:5] for w in _words(text)}


class TopicClassifier:
    """Ranks a company's topics for each message."""

    def __init__(self, encoder: Encoder, topics: Sequence[TopicSpec]) -> None:
        import numpy as np

        self.encoder = encoder
        self.topics = list(topics)
        self.keywords = [_stems(t.name) for t in self.topics]
        self.word_vectors = getattr(encoder, "word_vectors", None)
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
        if self.word_vectors is not None:
            # All topics' name words as rows, and per topic the share each of its words has in the mean.
            named = [self.word_vectors(" ".join(_words(t.name))) for t in self.topics]
            self.name_words = np.concatenate(named) if named else np.zeros((0, prototypes.shape[1]))
            self.name_shares = np.zeros((len(self.name_words), len(self.topics)), dtype=np.float32)
            self.unnamed = np.array([len(rows) == 0 for rows in named])
            start = 0
            for column, rows in enumerate(named):
                self.name_shares[start : start + len(rows), column] = 1.0 / max(len(rows), 1)
                start += len(rows)

    def classify(self, texts: Sequence[str], *, vectors: Any = None) -> list[list[TopicScore]]:
        """Every topic for every text, best first (`vectors`: the texts already encoded by the encoder)."""
        if not texts:
            return []
        if not self.topics:
            return [[] for _ in texts]
        if vectors is None:
            vectors = self.encoder.encode(texts)
        similarities = vectors @ self.prototypes.T
        matches = similarities if self.word_vectors is None else self._word_matches(texts, similarities)
        ranked = []
        for text, row, match in zip(texts, similarities.tolist(), matches.tolist(), strict=True):
            stems = _stems(text)
            similarity = [
                s + (KEYWORD_BONUS if k & stems else 0.0) for s, k in zip(row, self.keywords, strict=True)
            ]
            scores = [
                (s + WORD_MATCH_WEIGHT * m) / (1 + WORD_MATCH_WEIGHT)
                for s, m in zip(similarity, match, strict=True)
            ]
            top = max(scores)
            exps = [math.exp(TEMPERATURE * (s - top)) for s in scores]
            total = sum(exps)
            ranked.append(
                sorted(
                    (
                        TopicScore(t.key, round(e / total, 4), round(s, 4))
                        for t, e, s in zip(self.topics, exps, similarity, strict=True)
                    ),
                    key=lambda score: -score.confidence,
                )
            )
        return ranked

    def _word_matches(self, texts: Sequence[str], similarities: Any) -> Any:
        """Per text and topic, the name words' best cosine with a word of the text, averaged; one matrix
        product for the whole batch. A topic whose name has no word with a vector, or a text without
        one, keeps its prototype similarity."""
        import numpy as np

        per_text = [self.word_vectors(text) for text in texts]  # type: ignore[misc]
        counts = np.array([len(rows) for rows in per_text])
        if not len(self.name_words) or not counts.any():
            return similarities
        products = np.concatenate(per_text) @ self.name_words.T
        starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
        worded = counts > 0
        matched = np.array(similarities)
        matched[worded] = np.maximum.reduceat(products, starts[worded], axis=0) @ self.name_shares
        return np.where(self.unnamed[None, :], similarities, matched)


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
