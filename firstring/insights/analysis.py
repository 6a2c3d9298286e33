"""The insights pipeline step: read a received batch once — tone, topics, language, urgency — and store it.

Every classifier sees the whole batch in one call (a mailbox poll of a hundred messages is one pass of
each model, not a hundred); the results are written in one transaction that locks the batch's
conversations in id order, then the dashboards' rollup is refreshed for the days the batch touched.
What an agent said (a corrected tone, a topic tagged or untagged) is never overwritten.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from firstring.conversations.models import Conversation, Message
from firstring.insights.classifiers import get_classifier
from firstring.insights.models import ConversationInsight, MessageSignal, MessageTone, MessageTopic
from firstring.insights.rollup import rollup_mark_stale
from firstring.insights.signals import (
    REPEAT_MIN_OTHER_CONVERSATIONS,
    REPEAT_WINDOW,
    URGENCY_KINDS,
    read_signals,
)
from firstring.insights.topic_services import current_topic_classifier

# A message gets every topic at least this confident (at most MAX_TOPICS), and always its best one.
MIN_TOPIC_CONFIDENCE = 0.3
MAX_TOPICS = 3


def messages_analyse(*, message_ids: Sequence[int]) -> list[int]:
    """Classify the inbound messages among `message_ids` and store what was found; their ids."""
    messages = list(
        Message.objects.filter(pk__in=message_ids, direction=Message.Direction.INBOUND)
        .exclude(text="")
        .select_related("conversation")
        .order_by("pk")
    )
    messages = [m for m in messages if m.text.strip()]
    if not messages:
        return []
    texts = [m.text for m in messages]
    tone_classifier = get_classifier()
    tones = tone_classifier.classify(texts)
    topics = current_topic_classifier().classify(texts)
    signals = read_signals(texts)
    repeat = _repeat_customers(messages)
    now = timezone.now()

    with transaction.atomic():
        conversation_ids = sorted({m.conversation_id for m in messages})
        conversations = {
            c.pk: c
            for c in Conversation.objects.select_for_update().filter(pk__in=conversation_ids).order_by("pk")
        }
        ids = [m.pk for m in messages]
        stored = {t.message_id: t for t in MessageTone.objects.select_for_update().filter(message_id__in=ids)}
        agent_topics = set(
            MessageTopic.objects.filter(message_id__in=ids)
            .filter(Q(source=MessageTopic.Source.AGENT) | Q(rejected=True))
            .values_list("message_id", "topic_id")
        )
        tagged_by_agent = {message_id for message_id, _ in agent_topics}
        MessageTopic.objects.filter(
            message_id__in=ids, source=MessageTopic.Source.MODEL, rejected=False
        ).delete()
        MessageSignal.objects.filter(message_id__in=ids).delete()
        new_tones, new_topics, new_signals = [], [], []
        for message, tone, ranked, signal in zip(messages, tones, topics, signals, strict=True):
            current = stored.get(message.pk)
            if current is None:
                new_tones.append(
                    MessageTone(
                        message_id=message.pk,
                        label=tone.label,
                        predicted_label=tone.label,
                        score=tone.score,
                        confidence=tone.confidence,
                        backend=tone_classifier.name,
                        created_at=now,
                        updated_at=now,
                    )
                )
            else:
                current.predicted_label, current.score, current.confidence = (
                    tone.label,
                    tone.score,
                    tone.confidence,
                )
                current.backend, current.updated_at = tone_classifier.name, now
                fields = ["predicted_label", "score", "confidence", "backend", "updated_at"]
                if not current.corrected:
                    current.label = tone.label
                    fields.append("label")
                current.save(update_fields=fields)
            for rank, score in enumerate(ranked[:MAX_TOPICS]):
                if rank and score.confidence < MIN_TOPIC_CONFIDENCE:
                    break
                if (message.pk, score.key) in agent_topics:
                    continue
                new_topics.append(
                    MessageTopic(
                        message_id=message.pk,
                        topic_id=int(score.key),
                        confidence=score.confidence,
                        primary=rank == 0 and message.pk not in tagged_by_agent,
                        created_at=message.created_at,
                    )
                )
            urgency = list(signal.urgency)
            if message.conversation.customer_id in repeat and "repeat" not in urgency:
                urgency.append("repeat")
            urgency.sort(key=URGENCY_KINDS.index)
            new_signals.append(
                MessageSignal(
                    message_id=message.pk,
                    language=signal.language,
                    language_confidence=signal.language_confidence,
                    urgency=urgency,
                    urgent=bool(urgency),
                    received_at=message.created_at,
                    created_at=now,
                )
            )
        MessageTone.objects.bulk_create(new_tones)
        MessageTopic.objects.bulk_create(new_topics)
        MessageSignal.objects.bulk_create(new_signals)
        for message_id, label in MessageTone.objects.filter(message_id__in=ids).values_list(
            "message_id", "label"
        ):
            Message.objects.filter(pk=message_id).exclude(tone=label).update(tone=label)
        for conversation in conversations.values():
            conversation_insight_refresh(conversation=conversation)
        rollup_mark_stale(days=_days(messages))
    return ids


def classifiers_warm_up() -> None:
    """Load every model the step uses (the first message after a start would wait about a second)."""
    texts = ["Hello, my parcel has not arrived yet."]
    get_classifier().classify(texts)
    current_topic_classifier().classify(texts)
    read_signals(texts)


def _days(messages: Iterable[Message]) -> set[date]:
    days = set()
    for message in messages:
        days.add(timezone.localdate(message.created_at))
        days.add(timezone.localdate(message.conversation.created_at))
    return days


def _repeat_customers(messages: Sequence[Message]) -> set[int]:
    """Customers of the batch who opened other conversations within the repeat window."""
    customers = {m.conversation.customer_id for m in messages}
    since = timezone.now() - REPEAT_WINDOW
    own = {m.conversation_id for m in messages}
    counts = (
        Conversation.objects.filter(customer_id__in=customers, created_at__gte=since)
        .exclude(pk__in=own)
        .values("customer_id")
        .annotate(n=Count("id"))
    )
    return {row["customer_id"] for row in counts if row["n"] >= REPEAT_MIN_OTHER_CONVERSATIONS}


def conversation_insight_refresh(*, conversation: Conversation) -> ConversationInsight:
    """Recompute a conversation's tone, language, urgency and main topic from its stored messages.

    From the stored rows rather than from the newest message, since background steps may finish out of
    order. The caller holds the conversation's lock.
    """
    inbound = Q(message__conversation_id=conversation.pk, message__direction=Message.Direction.INBOUND)
    toned = list(
        MessageTone.objects.filter(inbound)
        .order_by("message__created_at", "message_id")
        .values_list("label", "score", "corrected")
    )
    first_label = toned[0][0] if toned else ""
    latest_label = toned[-1][0] if toned else ""
    if (conversation.tone_first, conversation.tone_latest) != (first_label, latest_label):
        conversation.tone_first, conversation.tone_latest = first_label, latest_label
        conversation.save(update_fields=["tone_first", "tone_latest"])

    def score(row: tuple[str, float, bool]) -> float:
        # An agent's correction says the label; its score is the label's end of the scale.
        label, value, corrected = row
        return {"negative": -1.0, "neutral": 0.0, "positive": 1.0}[label] if corrected else value

    signals = list(
        MessageSignal.objects.filter(inbound)
        .order_by("message__created_at")
        .values_list("language", "urgency")
    )
    language = next((lang for lang, _ in signals if lang), "")
    urgency = sorted({kind for _, kinds in signals for kind in kinds}, key=URGENCY_KINDS.index)
    weights: dict[int, float] = defaultdict(float)
    for topic_id, confidence, source in MessageTopic.objects.filter(inbound, rejected=False).values_list(
        "topic_id", "confidence", "source"
    ):
        weights[topic_id] += 1.0 if source == MessageTopic.Source.AGENT else confidence
    main_topic = max(weights, key=lambda t: (weights[t], -t)) if weights else None
    first = score(toned[0]) if toned else None
    last = score(toned[-1]) if toned else None
    insight, _ = ConversationInsight.objects.update_or_create(
        conversation=conversation,
        defaults={
            "started_at": conversation.created_at,
            "channel_id": conversation.channel_id,
            "language": language,
            "urgent": bool(urgency),
            "urgency": urgency,
            "topic_id": main_topic,
            "customer_messages": len(toned),
            "tone_first_score": first,
            "tone_last_score": last,
            "tone_lift": round(last - first, 4)
            if first is not None and last is not None and len(toned) > 1
            else None,
            "updated_at": timezone.now(),
        },
    )
    if language and not conversation.language:
        conversation.language = language
        conversation.save(update_fields=["language"])
    return insight
