"""Writes of the insights app: classify a received message's tone, let an agent correct it, learn."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from firstring.accounts.models import User
from firstring.conversations.access import conversation_get_for_user
from firstring.conversations.models import Conversation, Message, Tone
from firstring.insights.classifiers import DefaultToneClassifier, default_classifier, get_classifier
from firstring.insights.classifiers.learning import LearningToneClassifier
from firstring.insights.models import LearnedToneModel, MessageTone, ToneCorrection
from firstring.lib.errors import InvalidInput, NotFound

# Below this many corrections the learning backend would mostly learn noise.
LEARN_MIN_ROWS = 50


def message_tone_classify(*, message_id: int) -> MessageTone | None:
    """The pipeline step: store the tone of an inbound message and refresh its conversation's tone.

    Classifying happens before the transaction (it needs no lock); a tone an agent corrected is kept.
    """
    message = Message.objects.filter(pk=message_id, direction=Message.Direction.INBOUND).first()
    if message is None or not message.text.strip():
        return None
    classifier = get_classifier()
    result = classifier.classify([message.text])[0]
    with transaction.atomic():
        conversation = Conversation.objects.select_for_update().get(pk=message.conversation_id)
        tone = MessageTone.objects.select_for_update().filter(message_id=message_id).first()
        now = timezone.now()
        if tone is None:
            tone = MessageTone.objects.create(
                message_id=message_id,
                label=result.label,
                predicted_label=result.label,
                score=result.score,
                confidence=result.confidence,
                backend=classifier.name,
                created_at=now,
                updated_at=now,
            )
        else:
            tone.predicted_label, tone.score, tone.confidence = result.label, result.score, result.confidence
            tone.backend, tone.updated_at = classifier.name, now
            fields = ["predicted_label", "score", "confidence", "backend", "updated_at"]
            if not tone.corrected:
                tone.label = result.label
                fields.append("label")
            tone.save(update_fields=fields)
        _store_tone(message_id=message_id, label=tone.label, conversation=conversation)
    return tone


def tone_correct(*, user: User, message_id: int, label: str) -> MessageTone:
    """An agent sets a message's tone; the correction is recorded and the conversation's tone follows."""
    if label not in Tone.values:
        raise InvalidInput(f"tone must be one of {', '.join(Tone.values)}")
    conversation_id = (
        Message.objects.filter(pk=message_id, direction=Message.Direction.INBOUND)
        .values_list("conversation_id", flat=True)
        .first()
    )
    if conversation_id is None:
        raise NotFound(f"message {message_id} not found")
    with transaction.atomic():
        conversation = conversation_get_for_user(user, conversation_id, for_update=True)
        tone = MessageTone.objects.select_for_update().filter(message_id=message_id).first()
        now = timezone.now()
        if tone is None:
            # Corrected before the classifier got to it: the agent's word stands and the classifier's
            # own label, filled when it runs, is kept beside it.
            tone = MessageTone.objects.create(
                message_id=message_id,
                label=label,
                predicted_label=label,
                score={"negative": -1.0, "neutral": 0.0, "positive": 1.0}[label],
                confidence=1.0,
                backend="agent",
                corrected=True,
                created_at=now,
                updated_at=now,
            )
            previous = ""
        else:
            previous = tone.label
            tone.label, tone.corrected, tone.updated_at = label, True, now
            tone.save(update_fields=["label", "corrected", "updated_at"])
        ToneCorrection.objects.create(
            message_id=message_id, previous_label=previous, label=label, actor=user, created_at=now
        )
        _store_tone(message_id=message_id, label=label, conversation=conversation)
    return tone


def _store_tone(*, message_id: int, label: str, conversation: Conversation) -> None:
    """Copy a message's tone onto it and recompute the conversation's first and latest customer tone.

    Recomputed from the stored tones rather than from this message alone, since background steps may
    finish out of order. The caller holds the conversation's lock.
    """
    Message.objects.filter(pk=message_id).update(tone=label)
    toned = MessageTone.objects.filter(
        message__conversation_id=conversation.pk, message__direction=Message.Direction.INBOUND
    ).order_by("message__created_at", "message_id")
    first = toned.values_list("label", flat=True).first() or ""
    latest = toned.reverse().values_list("label", flat=True).first() or ""
    if (conversation.tone_first, conversation.tone_latest) != (first, latest):
        conversation.tone_first, conversation.tone_latest = first, latest
        conversation.save(update_fields=["tone_first", "tone_latest"])


def tone_model_learn(*, min_rows: int = LEARN_MIN_ROWS) -> LearnedToneModel:
    """Learn from every message whose tone an agent set, for the "learning" backend."""
    rows = list(
        MessageTone.objects.filter(corrected=True)
        .exclude(Q(message__text="") | Q(message__text__isnull=True))
        .values_list("message__text", "label")
    )
    if len(rows) < min_rows:
        raise InvalidInput(f"{len(rows)} corrected messages; learning needs at least {min_rows}")
    base = default_classifier()
    learner = LearningToneClassifier.fit(base.model, [t for t, _ in rows], [y for _, y in rows])
    return LearnedToneModel.objects.create(rows=len(rows), data=learner.to_dict())


_LEARNED: dict[tuple[int, str], LearningToneClassifier] = {}


def learned_classifier() -> LearningToneClassifier | DefaultToneClassifier:
    """The newest learned model, or the default while nothing was learned yet.

    Building one merges the correction into the default's weights, so each process keeps the newest.
    """
    newest = LearnedToneModel.objects.values_list("pk", "created_at").first()
    base = default_classifier()
    if newest is None:
        return base
    key = (newest[0], newest[1].isoformat())
    if key not in _LEARNED:
        data = LearnedToneModel.objects.get(pk=newest[0]).data
        _LEARNED.clear()
        _LEARNED[key] = LearningToneClassifier.from_dict(base.model, data)
    return _LEARNED[key]
