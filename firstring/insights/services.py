"""Writes of the insights app: classify a received message's tone, let an agent correct it, learn."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from firstring.accounts.models import User
from firstring.conversations.access import conversation_get_for_user
from firstring.conversations.models import Message, Tone
from firstring.insights.analysis import conversation_insight_refresh
from firstring.insights.classifiers import DefaultToneClassifier, default_classifier
from firstring.insights.classifiers.learning import LearningToneClassifier
from firstring.insights.models import LearnedToneModel, MessageTone, ToneCorrection
from firstring.insights.rollup import rollup_mark_stale
from firstring.lib.errors import InvalidInput, NotFound

# Below this many corrections the learning backend would mostly learn noise.
LEARN_MIN_ROWS = 50


def message_tone_classify(*, message_id: int) -> MessageTone | None:
    """Classify one inbound message (tone, topics, signals) as the pipeline step does for a batch.

    A tone an agent corrected is kept.
    """
    from firstring.insights.analysis import messages_analyse

    if not messages_analyse(message_ids=[message_id]):
        return None
    return MessageTone.objects.get(message_id=message_id)


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
        Message.objects.filter(pk=message_id).update(tone=label)
        conversation_insight_refresh(conversation=conversation)
        day = timezone.localdate(Message.objects.values_list("created_at", flat=True).get(pk=message_id))
        rollup_mark_stale(days={day})
    return tone


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
