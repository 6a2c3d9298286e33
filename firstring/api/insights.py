"""Insights: the company's topics, agents' topic tags and tone corrections, what the engine read.

Managers and admins name topics; every agent may tag a message they can see with a topic, untag one
(kept as a rejection, which teaches the classifier) and correct a message's tone.
"""

from __future__ import annotations

from typing import Literal

from django.http import HttpRequest
from ninja import Field, Path, Router, Schema

from firstring.api.auth import current_user
from firstring.api.schemas import MAX_ID, BodyIn, Id, errors
from firstring.conversations.access import conversation_get_for_user
from firstring.insights import selectors, services, topic_services
from firstring.insights.models import MessageSignal, MessageTopic, Topic

router = Router()


class TopicOut(Schema):
    id: int
    name: str
    description: str
    examples: list[str]
    active: bool


class TopicIn(BodyIn):
    name: str = Field(..., min_length=1, max_length=80)
    description: str = Field("", max_length=300)
    examples: list[str] = Field(default_factory=list, max_length=topic_services.MAX_EXAMPLES)
    active: bool = True


class TagIn(BodyIn):
    topic_id: Id


class ToneIn(BodyIn):
    label: Literal["negative", "neutral", "positive"]


class MessageTopicOut(Schema):
    message_id: int
    topic_id: int
    topic: str
    confidence: float
    source: str
    rejected: bool
    primary: bool


class MessageInsightOut(Schema):
    message_id: int
    language: str
    urgency: list[str]
    topics: list[MessageTopicOut]


class ConversationInsightOut(Schema):
    conversation_id: int
    language: str
    urgent: bool
    urgency: list[str]
    topic_id: int | None
    tone_lift: float | None
    messages: list[MessageInsightOut]


def topic_out(topic: Topic) -> TopicOut:
    return TopicOut(
        id=topic.pk,
        name=topic.name,
        description=topic.description,
        examples=topic.examples,
        active=topic.active,
    )


def tag_out(tag: MessageTopic) -> MessageTopicOut:
    return MessageTopicOut(
        message_id=tag.message_id,
        topic_id=tag.topic_id,
        topic=tag.topic.name,
        confidence=tag.confidence,
        source=tag.source,
        rejected=tag.rejected,
        primary=tag.primary,
    )


@router.get("/topics", response={200: list[TopicOut], **errors()}, summary="List the company's topics")
def topic_list(request: HttpRequest) -> list[TopicOut]:
    return [topic_out(t) for t in Topic.objects.order_by("name")]


@router.post(
    "/topics", response={201: TopicOut, **errors(400, 403, 409, 413)}, summary="Name a topic (managers)"
)
def topic_post(request: HttpRequest, payload: TopicIn) -> tuple[int, TopicOut]:
    topic = topic_services.topic_create(
        user=current_user(request),
        name=payload.name,
        description=payload.description,
        examples=payload.examples,
    )
    return 201, topic_out(topic)


@router.put(
    "/topics/{topic_id}",
    response={200: TopicOut, **errors(400, 403, 404, 409, 413)},
    summary="Change a topic",
)
def topic_put(request: HttpRequest, payload: TopicIn, topic_id: int = Path(..., ge=1, le=MAX_ID)) -> TopicOut:
    topic = topic_services.topic_update(
        user=current_user(request),
        topic_id=topic_id,
        name=payload.name,
        description=payload.description,
        examples=payload.examples,
        active=payload.active,
    )
    return topic_out(topic)


@router.post(
    "/messages/{message_id}/topics",
    response={200: MessageTopicOut, **errors(400, 404, 413)},
    summary="Tag a customer's message with a topic",
)
def message_tag(
    request: HttpRequest, payload: TagIn, message_id: int = Path(..., ge=1, le=MAX_ID)
) -> MessageTopicOut:
    tag = topic_services.message_topic_tag(
        user=current_user(request), message_id=message_id, topic_id=payload.topic_id
    )
    return tag_out(tag)


@router.delete(
    "/messages/{message_id}/topics/{topic_id}",
    response={200: MessageTopicOut, **errors(404)},
    summary="Say a message is not about a topic",
)
def message_untag(
    request: HttpRequest,
    message_id: int = Path(..., ge=1, le=MAX_ID),
    topic_id: int = Path(..., ge=1, le=MAX_ID),
) -> MessageTopicOut:
    tag = topic_services.message_topic_untag(
        user=current_user(request), message_id=message_id, topic_id=topic_id
    )
    return tag_out(tag)


@router.put(
    "/messages/{message_id}/tone",
    response={200: dict[str, str], **errors(400, 404, 413)},
    summary="Correct a customer's message's tone",
)
def message_tone(
    request: HttpRequest, payload: ToneIn, message_id: int = Path(..., ge=1, le=MAX_ID)
) -> dict[str, str]:
    tone = services.tone_correct(user=current_user(request), message_id=message_id, label=payload.label)
    return {"label": tone.label, "predicted_label": tone.predicted_label}


@router.get(
    "/conversations/{conversation_id}",
    response={200: ConversationInsightOut, **errors(404)},
    summary="What the engine read in a conversation: language, urgency, topics, tone lift",
)
def conversation_insight(
    request: HttpRequest, conversation_id: int = Path(..., ge=1, le=MAX_ID)
) -> ConversationInsightOut:
    conversation = conversation_get_for_user(current_user(request), conversation_id)
    signals = selectors.conversation_signals([conversation.pk]).get(conversation.pk)
    messages: dict[int, MessageInsightOut] = {}
    for signal in MessageSignal.objects.filter(message__conversation=conversation).order_by("message_id"):
        messages[signal.message_id] = MessageInsightOut(
            message_id=signal.message_id, language=signal.language, urgency=signal.urgency, topics=[]
        )
    for tag in (
        MessageTopic.objects.filter(message__conversation=conversation)
        .select_related("topic")
        .order_by("message_id", "-confidence")
    ):
        if tag.message_id in messages:
            messages[tag.message_id].topics.append(tag_out(tag))
    return ConversationInsightOut(
        conversation_id=conversation.pk,
        language=signals.language if signals else "",
        urgent=signals.urgent if signals else False,
        urgency=list(signals.urgency) if signals else [],
        topic_id=signals.topic_id if signals else None,
        tone_lift=signals.tone_lift if signals else None,
        messages=list(messages.values()),
    )
