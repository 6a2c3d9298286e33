"""The only way to load conversations on behalf of a user: what they may not see raises NotFound."""

from __future__ import annotations

from collections.abc import Collection

from django.db.models import Q, QuerySet

from firstring.accounts.models import Team, User
from firstring.conversations.models import Conversation, Message
from firstring.customers.models import Customer
from firstring.customers.services import customer_resolve
from firstring.lib.errors import NotFound


def conversations_visible_to(user: User) -> QuerySet[Conversation]:
    """Managers and admins see everything; agents see their teams', their own and team-less work."""
    conversations = Conversation.objects.all()
    if user.sees_everything:
        return conversations
    return conversations.filter(Q(team__isnull=True) | Q(team_id__in=_team_ids(user)) | Q(assignee=user))


def conversation_visible(
    user: User, *, team_ids: Collection[int], team_id: int | None, assignee_id: int | None
) -> bool:
    """The rule of `conversations_visible_to` for a conversation whose team and assignee are known.

    For checks that must cost no query, such as a live update reaching hundreds of open screens;
    `team_ids` are the user's teams (`user_team_ids`).
    """
    return user.sees_everything or team_id is None or team_id in team_ids or assignee_id == user.pk


def _team_ids(user: User, *, fresh: bool = False) -> list[int]:
    cached: list[int] | None = None if fresh else getattr(user, "_firstring_team_ids", None)
    if cached is None:
        cached = list(user.teams.values_list("id", flat=True))
        user._firstring_team_ids = cached  # type: ignore[attr-defined]
    return cached


def conversation_get_for_user(user: User, conversation_id: int, *, for_update: bool = False) -> Conversation:
    conversations = conversations_visible_to(user)
    if for_update:
        conversations = conversations.select_for_update()
    conversation = conversations.filter(pk=conversation_id).first()
    if conversation is None:
        raise NotFound(f"conversation {conversation_id} not found")
    return conversation


def teams_assignable_by(user: User) -> QuerySet[Team]:
    """Teams a user may move conversations to."""
    if user.sees_everything:
        return Team.objects.all()
    return Team.objects.filter(pk__in=_team_ids(user))


def user_team_ids(user: User, *, fresh: bool = False) -> list[int]:
    """The user's teams, read once per user object unless `fresh` (a long-lived websocket)."""
    return _team_ids(user, fresh=fresh)


def conversations_of_customer(customer: Customer) -> QuerySet[Conversation]:
    """A signed-in customer's own conversations (merges followed), and nobody else's."""
    return Conversation.objects.filter(customer=customer_resolve(customer))


def conversation_get_for_customer(customer: Customer, conversation_id: int) -> Conversation:
    """One of the customer's own conversations; anybody else's is not found, as a missing one is."""
    conversation = conversations_of_customer(customer).filter(pk=conversation_id).first()
    if conversation is None:
        raise NotFound(f"conversation {conversation_id} not found")
    return conversation


def messages_shown_to_customer(conversation: Conversation) -> QuerySet[Message]:
    """What the customer may read of their conversation: their messages and replies, never notes."""
    return conversation.messages.exclude(direction=Message.Direction.NOTE).order_by("created_at", "id")
