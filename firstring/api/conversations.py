"""Conversations: the inbox, one conversation, the actions on it and its audit trail.

Every conversation is loaded through conversations.access, so what an agent may not see is a 404.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.db.models import prefetch_related_objects
from django.http import HttpRequest
from ninja import Field, Path, Query, Router, Schema
from pydantic import AwareDatetime, field_validator

from firstring.accounts.models import Team
from firstring.api.auth import current_user
from firstring.api.paging import check_cursor, page
from firstring.api.schemas import (
    MAX_ID,
    BodyIn,
    CheckedIn,
    Cursor,
    Id,
    Limit,
    Out,
    TagName,
    TeamRef,
    UserRef,
    check_future,
    errors,
    team_ref,
    user_ref,
)
from firstring.conversations.access import conversation_get_for_user
from firstring.conversations.models import Conversation, ConversationEvent
from firstring.conversations.selectors import (
    SORTS,
    InboxFilter,
    conversation_tag_names,
    inbox_counts,
    inbox_page,
)
from firstring.conversations.services import (
    conversation_assign,
    conversation_set_priority,
    conversation_set_status,
    conversation_set_tags,
    conversation_set_team,
)
from firstring.conversations.services.actions import MAX_TAGS, user_get_assignable
from firstring.lib.cursor import SortKey
from firstring.lib.errors import NotFound

router = Router()

PriorityName = Literal["urgent", "high", "normal", "low"]
PRIORITIES: dict[str, int] = {p.label.lower(): p.value for p in Conversation.Priority}
StatusName = Literal["open", "pending", "snoozed", "resolved"]
ViewName = Literal["mine", "unassigned", "my_teams", "all_open", "escalated", "resolved"]
SortName = Literal["recent", "priority", "waiting", "sla"]
EVENT_ORDER = [SortKey("created_at"), SortKey("id")]

ConversationId = Path(..., ge=1, le=MAX_ID)


def priority_name(value: int) -> PriorityName:
    name = Conversation.Priority(value).label.lower()
    assert name in PRIORITIES
    return name  # type: ignore[return-value]


class ChannelRef(Out):
    id: int
    slug: str
    kind: str
    name: str


class CustomerRef(Out):
    id: int
    name: str


class ConversationOut(Out):
    id: int
    subject: str
    status: StatusName
    priority: PriorityName
    channel: ChannelRef
    customer: CustomerRef
    identity_id: int | None = Field(description="The identity the customer wrote from; replies go there.")
    assignee: UserRef | None
    team: TeamRef | None
    tags: list[str]
    language: str
    tone_first: str
    tone_latest: str
    last_message_excerpt: str
    message_count: int
    created_at: datetime
    updated_at: datetime
    last_message_at: datetime
    last_customer_message_at: datetime | None
    first_response_at: datetime | None
    waiting_since: datetime | None
    resolved_at: datetime | None
    snoozed_until: datetime | None
    escalated_at: datetime | None
    first_response_due_at: datetime | None
    next_response_due_at: datetime | None
    resolution_due_at: datetime | None
    sla_due_at: datetime | None


class ConversationPage(Out):
    items: list[ConversationOut]
    next_cursor: str | None


class CountsOut(Schema):
    mine: int
    unassigned: int
    my_teams: int
    all_open: int
    escalated: int
    resolved: int


class EventOut(Schema):
    id: int
    kind: str
    actor: UserRef | None
    data: dict[str, Any]
    created_at: datetime


class EventPage(Schema):
    items: list[EventOut]
    next_cursor: str | None


class ConversationQuery(CheckedIn):
    view: ViewName = "all_open"
    channel: str = Field("", max_length=64, description="A channel kind (email) or slug (support-email).")
    status: StatusName | None = None
    priority: PriorityName | None = None
    tone: Literal["negative", "neutral", "positive"] | None = None
    tag: str = Field("", max_length=64)
    language: str = Field("", max_length=16)
    team: Id | None = None
    customer: Id | None = None
    q: str = Field("", max_length=200, description="Search message text, subjects and customers.")
    sort: SortName = "recent"
    cursor: Cursor | None = None
    limit: Limit = 50

    def inbox_filter(self) -> InboxFilter:
        return InboxFilter(
            view=self.view,
            channel=self.channel,
            status=self.status or "",
            priority=PRIORITIES[self.priority] if self.priority else None,
            tone=self.tone or "",
            tag=self.tag,
            language=self.language,
            team=self.team,
            customer=self.customer,
            q=self.q,
            sort=self.sort,
        )


class PageQuery(CheckedIn):
    cursor: Cursor | None = None
    limit: Limit = 50


class StatusIn(BodyIn):
    status: StatusName
    snoozed_until: AwareDatetime | None = Field(None, description="Required when snoozing; in the future.")

    @field_validator("snoozed_until", mode="before")
    @classmethod
    def _iso_text(cls, value: object) -> object:
        # Pydantic would also take a number of seconds; the documented format is an ISO 8601 string.
        if value is not None and not isinstance(value, str):
            raise ValueError("give the time as an ISO 8601 string with a time zone")
        return value

    @field_validator("snoozed_until")
    @classmethod
    def _snooze_in_range(cls, value: datetime | None) -> datetime | None:
        return None if value is None else check_future(value)


class PriorityIn(BodyIn):
    priority: PriorityName


class AssigneeIn(BodyIn):
    user_id: Id | None = Field(..., description="The staff user to assign, or null to unassign.")


class TeamIn(BodyIn):
    team_id: Id | None = Field(..., description="The team to move the conversation to, or null for none.")


class TagsIn(BodyIn):
    tags: list[TagName] = Field(..., max_length=MAX_TAGS)


def conversation_out(conversation: Conversation, tags: list[str] | None = None) -> ConversationOut:
    """The conversation as the API shows it; `tags` are its tag names if already fetched."""
    channel, customer = conversation.channel, conversation.customer
    return ConversationOut(
        id=conversation.pk,
        subject=conversation.subject,
        status=conversation.status,  # type: ignore[arg-type]
        priority=priority_name(conversation.priority),
        channel=ChannelRef(id=channel.pk, slug=channel.slug, kind=channel.kind, name=channel.name),
        customer=CustomerRef(id=customer.pk, name=customer.name),
        identity_id=conversation.identity_id,
        assignee=user_ref(conversation.assignee),
        team=team_ref(conversation.team),
        tags=[tag.name for tag in conversation.tags.all()] if tags is None else tags,
        language=conversation.language,
        tone_first=conversation.tone_first,
        tone_latest=conversation.tone_latest,
        last_message_excerpt=conversation.last_message_excerpt,
        message_count=conversation.message_count,
        created_at=conversation.created_at,
        updated_at=conversation.updated_at,
        last_message_at=conversation.last_message_at,
        last_customer_message_at=conversation.last_customer_message_at,
        first_response_at=conversation.first_response_at,
        waiting_since=conversation.waiting_since,
        resolved_at=conversation.resolved_at,
        snoozed_until=conversation.snoozed_until,
        escalated_at=conversation.escalated_at,
        first_response_due_at=conversation.first_response_due_at,
        next_response_due_at=conversation.next_response_due_at,
        resolution_due_at=conversation.resolution_due_at,
        sla_due_at=conversation.sla_due_at,
    )


def _detail(request: HttpRequest, conversation_id: int) -> ConversationOut:
    """Re-read after a write, with everything the response shows, as the caller may see it."""
    conversation = conversation_get_for_user(current_user(request), conversation_id)
    prefetch_related_objects([conversation], "channel", "customer", "assignee", "team", "tags")
    return conversation_out(conversation)


@router.get("", response={200: ConversationPage, **errors()}, summary="The inbox: list conversations")
def conversation_list(request: HttpRequest, filters: Query[ConversationQuery]) -> ConversationPage:
    check_cursor(filters.cursor, Conversation, SORTS[filters.sort])
    rows, next_cursor = inbox_page(
        user=current_user(request), filters=filters.inbox_filter(), cursor=filters.cursor, limit=filters.limit
    )
    tags = conversation_tag_names(conversations=rows)
    return ConversationPage(items=[conversation_out(c, tags[c.pk]) for c in rows], next_cursor=next_cursor)


@router.get(
    "/counts", response={200: CountsOut, **errors()}, summary="How many conversations each view holds"
)
def conversation_counts(request: HttpRequest) -> dict[str, int]:
    return inbox_counts(user=current_user(request))


@router.get(
    "/{conversation_id}", response={200: ConversationOut, **errors(404)}, summary="Get a conversation"
)
def conversation_get(request: HttpRequest, conversation_id: int = ConversationId) -> ConversationOut:
    return _detail(request, conversation_id)


@router.post(
    "/{conversation_id}/status",
    response={200: ConversationOut, **errors(400, 413, 404)},
    summary="Open, set pending, snooze or resolve a conversation",
)
def conversation_status(
    request: HttpRequest, payload: StatusIn, conversation_id: int = ConversationId
) -> ConversationOut:
    conversation = conversation_get_for_user(current_user(request), conversation_id)
    conversation_set_status(
        conversation=conversation,
        status=payload.status,
        actor=current_user(request),
        snoozed_until=payload.snoozed_until,
    )
    return _detail(request, conversation_id)


@router.post(
    "/{conversation_id}/priority",
    response={200: ConversationOut, **errors(400, 413, 404)},
    summary="Set a conversation's priority",
)
def conversation_priority(
    request: HttpRequest, payload: PriorityIn, conversation_id: int = ConversationId
) -> ConversationOut:
    conversation = conversation_get_for_user(current_user(request), conversation_id)
    conversation_set_priority(
        conversation=conversation, priority=PRIORITIES[payload.priority], actor=current_user(request)
    )
    return _detail(request, conversation_id)


@router.post(
    "/{conversation_id}/assignee",
    response={200: ConversationOut, **errors(400, 413, 404)},
    summary="Assign a conversation to a staff user, or unassign it",
)
def conversation_assignee(
    request: HttpRequest, payload: AssigneeIn, conversation_id: int = ConversationId
) -> ConversationOut:
    user = current_user(request)
    conversation = conversation_get_for_user(user, conversation_id)
    assignee = None if payload.user_id is None else user_get_assignable(payload.user_id)
    conversation_assign(conversation=conversation, assignee=assignee, actor=user)
    return _detail(request, conversation_id)


@router.post(
    "/{conversation_id}/team",
    response={200: ConversationOut, **errors(400, 413, 403, 404)},
    summary="Move a conversation to a team the caller may use, or to no team",
)
def conversation_team(
    request: HttpRequest, payload: TeamIn, conversation_id: int = ConversationId
) -> ConversationOut:
    user = current_user(request)
    conversation = conversation_get_for_user(user, conversation_id)
    team = None
    if payload.team_id is not None:
        team = Team.objects.filter(pk=payload.team_id).first()
        if team is None:
            raise NotFound(f"team {payload.team_id} not found")
    # Agents can only move work into their own teams (or none), so they still see it afterwards.
    conversation_set_team(conversation=conversation, team=team, actor=user)
    return _detail(request, conversation_id)


@router.put(
    "/{conversation_id}/tags",
    response={200: ConversationOut, **errors(400, 413, 404)},
    summary="Replace a conversation's tags",
)
def conversation_tags(
    request: HttpRequest, payload: TagsIn, conversation_id: int = ConversationId
) -> ConversationOut:
    conversation = conversation_get_for_user(current_user(request), conversation_id)
    conversation_set_tags(conversation=conversation, names=payload.tags, actor=current_user(request))
    return _detail(request, conversation_id)


@router.get(
    "/{conversation_id}/events",
    response={200: EventPage, **errors(404)},
    summary="The audit trail: who did what, oldest first",
)
def conversation_events(
    request: HttpRequest, paging: Query[PageQuery], conversation_id: int = ConversationId
) -> EventPage:
    conversation = conversation_get_for_user(current_user(request), conversation_id)
    events = ConversationEvent.objects.filter(conversation=conversation).select_related("actor")
    rows, next_cursor = page(events, EVENT_ORDER, paging.cursor, paging.limit)
    return EventPage(
        items=[
            EventOut(id=e.pk, kind=e.kind, actor=user_ref(e.actor), data=e.data, created_at=e.created_at)
            for e in rows
        ],
        next_cursor=next_cursor,
    )
