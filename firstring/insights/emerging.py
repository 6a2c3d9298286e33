"""Emerging topics: recent negative customer messages that fit none of the company's topics, clustered.

A manager names a cluster and it becomes a topic (`topic_services.topic_create_from_emerging`).

- **Which messages.** Negative inbound messages of the last `FIRSTRING_EMERGING_DAYS` days, newest
  first, at most `FIRSTRING_EMERGING_SAMPLE` of them, one per conversation (a customer repeating
  themselves is not a trend), leaving out messages an agent tagged with a topic (they said what it is).
- **Fit no topic.** Each is scored against the active topics by the topic classifier itself; it fits
  none when its best cosine similarity (with the name-word bonus) is under `FIT_SIMILARITY`. The
  classifier's confidence is a softmax among the topics, high for the least bad of several poor fits,
  so it cannot say "none of these".
- **Cluster.** The misfits' vectors (the topic encoder's, already loaded: no new model) are linked
  when their cosine similarity is at least `LINK_SIMILARITY`; the message with the most links that
  are still free leads a cluster of itself and its free neighbours, until no message has
  `FIRSTRING_EMERGING_MIN_SIZE - 1` free neighbours. Ties go to the newest message, so the result is
  the same for the same rows. O(n²) over at most a thousand vectors: a few milliseconds.
- **Shown** with its size, the words most of its messages use, the messages nearest its centre and
  the existing topic it comes closest to. A cluster is known by its leading message's id.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils import timezone

from firstring.conversations.models import Tone
from firstring.insights.models import MessageSignal, MessageTopic
from firstring.insights.topic_services import current_topic_classifier
from firstring.lib.errors import NotFound
from firstring.lib.sanitize import excerpt
from firstring.lib.terms import top_terms

# Under this best similarity to every topic a message fits none (fitting messages score 0.5-0.8).
FIT_SIMILARITY = 0.45
# Two messages about the same thing are at least this similar (unrelated ones are 0.2-0.45).
LINK_SIMILARITY = 0.6
SAMPLES = 5
TERMS = 6


@dataclass(frozen=True)
class EmergingSample:
    message_id: int
    conversation_id: int
    text: str


@dataclass(frozen=True)
class EmergingTopic:
    key: int  # the id of the message that leads the cluster
    size: int
    terms: list[str]
    samples: list[EmergingSample]
    message_ids: list[int]
    first_seen: dt.datetime
    last_seen: dt.datetime
    closest_topic: str
    closest_similarity: float


def _candidates(*, since: dt.datetime, sample: int) -> list[tuple[int, int, str, dt.datetime]]:
    """Newest negative messages since `since`, one per conversation, none an agent gave a topic."""
    tagged = MessageTopic.objects.filter(source=MessageTopic.Source.AGENT, rejected=False).values(
        "message_id"
    )
    rows = (
        MessageSignal.objects.filter(received_at__gte=since, message__tone_analysis__label=Tone.NEGATIVE)
        .exclude(message_id__in=tagged)
        .order_by("-received_at", "-message_id")
        .values_list("message_id", "message__conversation_id", "message__text", "received_at")
    )
    found: list[tuple[int, int, str, dt.datetime]] = []
    conversations: set[int] = set()
    # Read a bounded window of rows; conversations with several negatives take one place each.
    for message_id, conversation_id, text, received_at in rows[: sample * 3]:
        if conversation_id in conversations or not text.strip():
            continue
        conversations.add(conversation_id)
        found.append((message_id, conversation_id, text, received_at))
        if len(found) == sample:
            break
    return found


def emerging_topics(
    *,
    days: int | None = None,
    now: dt.datetime | None = None,
    sample: int | None = None,
    min_size: int | None = None,
) -> list[EmergingTopic]:
    """Clusters of recent negative messages that fit no topic, the largest first."""
    import numpy as np

    days = days or settings.FIRSTRING_EMERGING_DAYS
    sample = sample or settings.FIRSTRING_EMERGING_SAMPLE
    min_size = max(2, min_size or settings.FIRSTRING_EMERGING_MIN_SIZE)
    now = now or timezone.now()
    rows = _candidates(since=now - dt.timedelta(days=days), sample=sample)
    if len(rows) < min_size:
        return []
    classifier = current_topic_classifier()
    texts = [text for _, _, text, _ in rows]
    vectors = classifier.encoder.encode(texts)
    ranked = classifier.classify(texts, vectors=vectors)
    names = {t.key: t.name for t in classifier.topics}
    misfits = [
        i
        for i, scores in enumerate(ranked)
        if (not scores or scores[0].similarity < FIT_SIMILARITY) and float(np.abs(vectors[i]).sum()) > 0
    ]
    if len(misfits) < min_size:
        return []
    points = vectors[misfits]
    links = (points @ points.T) >= LINK_SIMILARITY
    free = np.ones(len(misfits), dtype=bool)
    degrees = links.sum(axis=1)
    clusters: list[EmergingTopic] = []
    while True:
        # argmax takes the first maximum: the newest message among the best linked.
        candidates = np.where(free, degrees, -1)
        leader = int(np.argmax(candidates))
        if candidates[leader] < min_size:
            break
        members = np.flatnonzero(links[leader] & free)
        free[members] = False
        degrees -= links[:, members].sum(axis=1)
        clusters.append(_cluster(members, leader, misfits, rows, points, ranked, names))
    clusters.sort(key=lambda c: (-c.size, -c.key))
    return clusters


def _cluster(
    members: Any,
    leader: int,
    misfits: list[int],
    rows: list[tuple[int, int, str, dt.datetime]],
    points: Any,
    ranked: list[list[Any]],
    names: dict[int | str, str],
) -> EmergingTopic:
    import numpy as np

    centre = points[members].mean(axis=0)
    closeness = points[members] @ centre
    order = [int(members[i]) for i in np.argsort(-closeness, kind="stable")]
    picked = [rows[misfits[m]] for m in order]
    best: dict[int | str, float] = {}
    for m in order:
        scores = ranked[misfits[m]]
        if scores:
            best[scores[0].key] = max(best.get(scores[0].key, -1.0), scores[0].similarity)
    closest = max(best, key=lambda k: best[k]) if best else None
    return EmergingTopic(
        key=rows[misfits[leader]][0],
        size=len(order),
        terms=top_terms((text for _, _, text, _ in picked), limit=TERMS),
        samples=[
            EmergingSample(message_id=mid, conversation_id=cid, text=excerpt(text, 300))
            for mid, cid, text, _ in picked[:SAMPLES]
        ],
        message_ids=sorted(mid for mid, _, _, _ in picked),
        first_seen=min(at for _, _, _, at in picked),
        last_seen=max(at for _, _, _, at in picked),
        closest_topic=names.get(closest, "") if closest is not None else "",
        closest_similarity=round(best[closest], 2) if closest is not None else 0.0,
    )


def emerging_topic_get(*, key: int, days: int | None = None, now: dt.datetime | None = None) -> EmergingTopic:
    """One cluster by its leading message, as it is now (gone once a topic covers it)."""
    for cluster in emerging_topics(days=days, now=now):
        if cluster.key == key:
            return cluster
    raise NotFound("this emerging topic is no longer there: its messages changed or a topic covers them")
