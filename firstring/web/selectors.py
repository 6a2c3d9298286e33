"""Read-only lookups behind the agents' pages that the domain selectors do not cover.

Conversations are still loaded only through `conversations.access`; customers are visible to an agent
when at least one of their conversations is (managers and admins see every customer).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet

from firstring.accounts.models import Team, User
from firstring.channels.models import Channel
from firstring.channels.registry import reply_blocked
from firstring.conversations.access import conversations_visible_to, teams_assignable_by, user_team_ids
from firstring.conversations.models import Conversation, ConversationEvent, Message
from firstring.customers.models import Customer, Identity
from firstring.customers.services import customer_resolve
from firstring.lib.errors import InvalidInput, NotFound
from firstring.routing.models import AgentState, RoutingTask
from firstring.routing.selectors import agent_presence, notifications_unread, offers_for_agent
from firstring.voice.models import Call
from firstring.voice.selectors import calls_for_tasks

CUSTOMER_SEARCH_LIMIT = 50

# Which channel kinds can reach an identity of each kind. The generic API channel hands the identity to
# the system behind it, so it can reach any of them.
_REACHABLE_BY: dict[str, set[str]] = {
    Identity.Kind.EMAIL: {"email", "api"},
    Identity.Kind.PHONE: {"sms", "whatsapp", "phone", "api"},
    Identity.Kind.HANDLE: {"social", "community", "api"},
    Identity.Kind.VISITOR: {"chat", "api"},
    Identity.Kind.EXTERNAL: {"api"},
}


@dataclass(frozen=True)
class TimelineItem:
    kind: Literal["message", "event"]
    at: datetime
    message: Message | None = None
    event: ConversationEvent | None = None


def conversation_timeline(*, conversation: Conversation) -> list[TimelineItem]:
    """Messages and events of one conversation, oldest first, in two queries plus attachments."""
    messages = (
        Message.objects.filter(conversation=conversation)
        .select_related("channel", "author_user", "author_customer", "recipient")
        .prefetch_related("attachments")
    )
    events = ConversationEvent.objects.filter(conversation=conversation).select_related("actor")
    items = [TimelineItem("message", m.created_at, message=m) for m in messages]
    items += [TimelineItem("event", e.created_at, event=e) for e in events if e.kind != "created"]
    # Stable: at the same instant a message comes before the event it caused.
    items.sort(key=lambda item: (item.at, item.kind != "message"))
    return items


def customers_visible_to(user: User) -> QuerySet[Customer]:
    customers = Customer.objects.filter(merged_into__isnull=True)
    if user.sees_everything:
        return customers
    visible = conversations_visible_to(user).filter(customer_id=OuterRef("pk"))
    return customers.filter(Exists(visible))


def customer_get_for_user(*, user: User, customer_id: int) -> Customer:
    """The customer (followed through merges) if the user may see them, else NotFound."""
    customer = Customer.objects.filter(pk=customer_id).first()
    if customer is not None:
        customer = customer_resolve(customer)
    if customer is None or not customers_visible_to(user).filter(pk=customer.pk).exists():
        raise NotFound(f"customer {customer_id} not found")
    return customer


def customer_search(*, user: User, q: str) -> list[Customer]:
    customers = customers_visible_to(user)
    terms = q.strip()[:200]
    if terms:
        customers = customers.filter(
            Q(name__icontains=terms)
            | Q(company__icontains=terms)
            | Q(pk__in=Identity.objects.filter(value__icontains=terms.lower()).values("customer_id"))
        )
    return list(
        customers.order_by("-updated_at", "-pk").prefetch_related("identities")[:CUSTOMER_SEARCH_LIMIT]
    )


def customer_conversations_for_user(*, user: User, customer: Customer) -> list[Conversation]:
    """Every conversation of this customer on any channel that the user may see, newest first."""
    return list(
        conversations_visible_to(user)
        .filter(customer=customer)
        .select_related("channel", "assignee", "team")
        .order_by("-last_message_at", "-pk")
    )


def customer_with_identities(*, customer: Customer) -> Customer:
    return Customer.objects.prefetch_related(
        Prefetch("identities", queryset=Identity.objects.order_by("kind", "value")), "tags"
    ).get(pk=customer.pk)


@dataclass(frozen=True)
class ReplyTarget:
    channel: Channel
    identity: Identity

    @property
    def value(self) -> str:
        return f"{self.channel.pk}:{self.identity.pk}"

    @property
    def blocked(self) -> str:
        """Why the channel refuses replies to this identity now (an opted-out number …), or ""."""
        return reply_blocked(self.channel, self.identity)


def reply_targets(*, user: User, conversation: Conversation) -> list[ReplyTarget]:
    """Channel and identity pairs an agent may answer this customer through; the conversation's own first."""
    identities = list(Identity.objects.filter(customer_id=conversation.customer_id).order_by("kind", "value"))
    channels = Channel.objects.filter(enabled=True).order_by("name")
    if not user.sees_everything:
        channels = channels.filter(
            Q(team__isnull=True) | Q(team_id__in=user_team_ids(user)) | Q(pk=conversation.channel_id)
        )
    targets = [
        ReplyTarget(channel, identity)
        for identity in identities
        for channel in channels
        if channel.kind in _REACHABLE_BY.get(identity.kind, set())
        or (channel.pk == conversation.channel_id and identity.pk == conversation.identity_id)
    ]
    targets.sort(
        key=lambda t: (
            not (t.channel.pk == conversation.channel_id and t.identity.pk == conversation.identity_id),
            t.channel.pk != conversation.channel_id,
        )
    )
    return targets


def reply_target_get(*, user: User, conversation: Conversation, value: str) -> ReplyTarget | None:
    """The target an agent chose in the reply box; blank means the conversation's own."""
    if not value:
        return None
    for target in reply_targets(user=user, conversation=conversation):
        if target.value == value:
            return target
    raise InvalidInput("choose one of the offered channels to reply through")


def assignable_users(*, conversation: Conversation) -> QuerySet[User]:
    """Active staff who would see the conversation once assigned (mirrors conversation_assign's check)."""
    users = User.objects.filter(is_active=True)
    if conversation.team_id is None:
        return users
    return users.filter(
        Q(teams=conversation.team_id)
        | Q(role__in=[User.Role.MANAGER, User.Role.ADMIN])
        | Q(is_superuser=True)
    ).distinct()


def team_choices(*, user: User) -> QuerySet[Team]:
    return teams_assignable_by(user)


def team_get(*, team_id: int) -> Team:
    team = Team.objects.filter(pk=team_id).first()
    if team is None:
        raise NotFound(f"team {team_id} not found")
    return team


def filter_choices(*, user: User) -> dict[str, list[tuple[str, str]]]:
    """Options for the inbox filter bar: the channels and teams this user can filter on."""
    channels = Channel.objects.order_by("name")
    if not user.sees_everything:
        channels = channels.filter(Q(team__isnull=True) | Q(team_id__in=user_team_ids(user)))
    teams = Team.objects.order_by("name")
    if not user.sees_everything:
        teams = teams.filter(pk__in=user_team_ids(user))
    return {
        "channels": [(c.slug, c.name) for c in channels],
        "teams": [(str(t.pk), t.name) for t in teams],
    }


def routing_bar(*, user: User) -> dict[str, Any]:
    """What the routing bar shows: rendered into every page, and again after each change.

    `offers` are (task, screen pop or None) pairs: a call rings with what the agent needs to pick it up.
    """
    return {
        "presence": agent_presence(user=user),
        "presences": AgentState.Presence.choices,
        **routing_offers(user=user),
        **notifications(user=user),
    }


def routing_offers(*, user: User) -> dict[str, Any]:
    """The bar's offers alone: what a page fetches when an offer rings or stops."""
    offers = list(offers_for_agent(user=user))
    pops = screen_pops(user=user, tasks=offers)
    return {"offers": [(task, pops.get(task.pk)) for task in offers]}


SCREEN_POP_HISTORY = 5


@dataclass(frozen=True)
class ScreenPop:
    """What an agent sees of a call ringing for them: the caller, their last conversations, the menu path."""

    call: Call
    new_customer: bool  # nobody with the caller's number was known before the call
    history: list[Conversation]  # the customer's latest other conversations the agent may see


def screen_pops(*, user: User, tasks: list[RoutingTask]) -> dict[int, ScreenPop]:
    calls = calls_for_tasks([task.pk for task in tasks if task.channel_kind == "phone"])
    pops: dict[int, ScreenPop] = {}
    for task in tasks:
        call = calls.get(task.pk)
        if call is None:
            continue
        customer = task.conversation.customer
        history = (
            conversations_visible_to(user)
            .filter(customer=customer)
            .exclude(pk=task.conversation_id)
            .select_related("channel")
            .order_by("-last_message_at", "-pk")
        )
        pops[task.pk] = ScreenPop(
            call=call,
            new_customer=customer.created_at >= call.started_at,
            history=list(history[:SCREEN_POP_HISTORY]),
        )
    return pops


def notifications(*, user: User) -> dict[str, Any]:
    latest, unread = notifications_unread(user=user)
    return {"notifications": latest, "unread": unread}
