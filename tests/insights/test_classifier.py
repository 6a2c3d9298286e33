"""The tone classifier through its public interface: obvious messages per class, the backends."""

from __future__ import annotations

import pytest

from firstring.insights.classifiers import available_backends, classify_tone

OBVIOUS = {
    "negative": [
        "I hate this, worst service ever",
        "@AcmeHelp still waiting for my refund, 3 weeks now. Absolutely ridiculous.",
        "My order never arrived and nobody answers the phone. Terrible.",
        "This app keeps crashing and I lost all my data, so angry",
    ],
    "neutral": [
        "@AcmeHelp what time does the Leeds store open on Sunday?",
        "How do I change the e-mail address on my account?",
        "Is the new model available in blue?",
    ],
    "positive": [
        "Thank you so much, the agent sorted it in two minutes. Brilliant service!",
        "Love the new update, works perfectly 😍",
        "@AcmeHelp thanks, you guys are awesome!",
    ],
}


def test_obvious_messages_get_their_tone():
    texts = [text for texts in OBVIOUS.values() for text in texts]
    results = classify_tone(texts, backend="default")
    labels = [r.label for r in results]
    assert labels == [label for label, texts in OBVIOUS.items() for _ in texts]
    for result in results:
        assert -1.0 <= result.score <= 1.0
        assert 1 / 3 <= result.confidence <= 1.0
    # The score goes the tone's way.
    assert results[0].score < -0.5 and results[-1].score > 0.5


def test_both_backends_are_registered_and_unknown_ones_refused():
    assert {"default", "learning"} <= set(available_backends())
    with pytest.raises(ValueError, match="unknown tone backend"):
        classify_tone(["hello"], backend="nope")
