"""Writes about topics: a company names its topics; agents tag messages with them, or untag them.

What agents tag and untag is what the classifier learns from: each process rebuilds its topic
classifier when a topic or a tag changed (`current_topic_classifier`), with the tagged messages in
the topics' prototypes. No training run, no model file.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import Count, Max
from django.utils import timezone

from firstring.accounts.models import User
from firstring.conversations.access import conversation_get_for_user
from firstring.conversations.models import Message
from firstring.insights.models import MessageTopic, Topic
from firstring.insights.topics import TopicClassifier, TopicSpec, topic_classifier
from firstring.lib.errors import Conflict, Forbidden, InvalidInput, NotFound

MAX_EXAMPLES = 20
# The newest agent tags per topic that teach it (older ones have had their say).
TAUGHT_PER_TOPIC = 200


def _require_manager(user: User) -> None:
    if not user.sees_everything:
        raise Forbidden("only managers and admins name topics")


def _clean(name: str, description: str, examples: list[str]) -> tuple[str, str, list[str]]:
    name = " ".join(name.split())
    if not name:
        raise InvalidInput("a topic needs a name")
    if len(name) > 80:
        raise InvalidInput("a topic's name has at most 80 characters")
    description = " ".join(description.split())
    if len(description) > 300:
        raise InvalidInput("a topic's description has at most 300 characters")
    cleaned = [" ".join(e.split())[:500] for e in examples if e.strip()]
    if len(cleaned) > MAX_EXAMPLES:
        raise InvalidInput(f"a topic has at most {MAX_EXAMPLES} example messages")
    return name, description, cleaned


def topic_create(*, user: User, name: str, description: str = "", examples: list[str] | None = None) -> Topic:
    _require_manager(user)
    name, description, cleaned = _clean(name, description, examples or [])
    with transaction.atomic():
        if Topic.objects.filter(name__iexact=name).exists():
            raise Conflict(f"a topic named {name!r} exists already")
        return Topic.objects.create(name=name, description=description, examples=cleaned)


def topic_create_from_emerging(*, user: User, name: str, key: int, days: int | None = None) -> Topic:
    """A manager names an emerging topic: a topic whose examples are the cluster's nearest messages.

    The cluster's messages are classified again after commit, so they count under the new topic.
    """
    from firstring.insights.emerging import emerging_topic_get
    from firstring.insights.tasks import messages_reanalyse

    _require_manager(user)
    cluster = emerging_topic_get(key=key, days=days)
    with transaction.atomic():
        topic = topic_create(user=user, name=name, examples=[s.text for s in cluster.samples])
        transaction.on_commit(lambda: messages_reanalyse.enqueue(cluster.message_ids))
    return topic


def topic_update(
    *,
    user: User,
    topic_id: int,
    name: str,
    description: str = "",
    examples: list[str] | None = None,
    active: bool = True,
) -> Topic:
    _require_manager(user)
    name, description, cleaned = _clean(name, description, examples or [])
    with transaction.atomic():
        topic = Topic.objects.select_for_update().filter(pk=topic_id).first()
        if topic is None:
            raise NotFound(f"topic {topic_id} not found")
        if Topic.objects.filter(name__iexact=name).exclude(pk=topic_id).exists():
            raise Conflict(f"a topic named {name!r} exists already")
        topic.name, topic.description, topic.examples, topic.active = name, description, cleaned, active
        topic.updated_at = timezone.now()
        topic.save(update_fields=["name", "description", "examples", "active", "updated_at"])
    return topic


def _tag_target(user: User, message_id: int, topic_id: int) -> tuple[int, Topic]:
    conversation_id = (
        Message.objects.filter(pk=message_id, direction=Message.Direction.INBOUND)
        .values_list("conversation_id", flat=True)
        .first()
    )
    if conversation_id is None:
        raise NotFound(f"message {message_id} not found")
    topic = Topic.objects.filter(pk=topic_id, active=True).first()
    if topic is None:
        raise NotFound(f"topic {topic_id} not found")
    return conversation_id, topic


def message_topic_tag(*, user: User, message_id: int, topic_id: int) -> MessageTopic:
    """An agent says a customer's message is about a topic: it becomes the message's main topic."""
    from firstring.insights.analysis import conversation_insight_refresh
    from firstring.insights.rollup import rollup_mark_stale

    conversation_id, topic = _tag_target(user, message_id, topic_id)
    with transaction.atomic():
        conversation = conversation_get_for_user(user, conversation_id, for_update=True)
        MessageTopic.objects.filter(message_id=message_id).exclude(topic=topic).update(primary=False)
        tag, _ = MessageTopic.objects.update_or_create(
            message_id=message_id,
            topic=topic,
            defaults={
                "confidence": 1.0,
                "source": MessageTopic.Source.AGENT,
                "rejected": False,
                "primary": True,
                "actor": user,
                "created_at": timezone.now(),
            },
        )
        conversation_insight_refresh(conversation=conversation)
        day = Message.objects.values_list("created_at", flat=True).get(pk=message_id)
        rollup_mark_stale(days={timezone.localdate(day)})
    return tag


def message_topic_untag(*, user: User, message_id: int, topic_id: int) -> MessageTopic:
    """An agent says a message is not about a topic; the rejection is kept (and teaches)."""
    from firstring.insights.analysis import conversation_insight_refresh
    from firstring.insights.rollup import rollup_mark_stale

    conversation_id, topic = _tag_target(user, message_id, topic_id)
    with transaction.atomic():
        conversation = conversation_get_for_user(user, conversation_id, for_update=True)
        tag, _ = MessageTopic.objects.update_or_create(
            message_id=message_id,
            topic=topic,
            defaults={
                "confidence": 0.0,
                "source": MessageTopic.Source.AGENT,
                "rejected": True,
                "primary": False,
                "actor": user,
                "created_at": timezone.now(),
            },
        )
        conversation_insight_refresh(conversation=conversation)
        day = Message.objects.values_list("created_at", flat=True).get(pk=message_id)
        rollup_mark_stale(days={timezone.localdate(day)})
    return tag


_CLASSIFIER: dict[tuple[object, ...], TopicClassifier] = {}


def current_topic_classifier() -> TopicClassifier:
    """The active topics with what agents taught them; rebuilt in this process when either changed."""
    topics = list(Topic.objects.filter(active=True).order_by("pk"))
    agent_tags = MessageTopic.objects.filter(source=MessageTopic.Source.AGENT)
    tags = agent_tags.aggregate(last=Max("id"), count=Count("id"))
    key = (tuple((t.pk, t.updated_at.isoformat()) for t in topics), tags["last"], tags["count"])
    if key not in _CLASSIFIER:
        taught: dict[int, list[str]] = {t.pk: [] for t in topics}
        rejected: dict[int, list[str]] = {t.pk: [] for t in topics}
        rows = (
            agent_tags.filter(topic_id__in=taught)
            .order_by("-id")
            .values_list("topic_id", "rejected", "message__text")
        )
        for topic_id, was_rejected, text in rows:
            bucket = rejected if was_rejected else taught
            if text and len(bucket[topic_id]) < TAUGHT_PER_TOPIC:
                bucket[topic_id].append(text)
        specs = [
            TopicSpec(
                key=t.pk,
                name=t.name,
                description=t.description,
                examples=tuple(t.examples),
                taught=tuple(taught[t.pk]),
                rejected=tuple(rejected[t.pk]),
            )
            for t in topics
        ]
        _CLASSIFIER.clear()
        _CLASSIFIER[key] = topic_classifier(specs)
    return _CLASSIFIER[key]
