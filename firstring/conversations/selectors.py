"""Reads behind the inbox, in the web app and the API alike."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q, QuerySet, Sum

from firstring.accounts.models import User
from firstring.conversations.access import conversations_visible_to, user_team_ids
from firstring.conversations.models import Conversation, InboxCount
from firstring.lib.cursor import SortKey, paginate
from firstring.lib.errors import InvalidInput

VIEWS = {
    "mine": "Mine",
    "unassigned": "Unassigned",
    "my_teams": "My teams",
    "all_open": "All open",
    "escalated": "Escalated",
    "resolved": "Resolved",
}

SORTS: dict[str, list[SortKey]] = {
    "recent": [SortKey("last_message_at", descending=True), SortKey("id", descending=True)],
    "priority": [
        SortKey("priority", descending=True),
        SortKey("last_message_at", descending=True),
        SortKey("id", descending=True),
    ],
    "waiting": [SortKey("waiting_since", nullable=True), SortKey("id")],
    "sla": [SortKey("sla_due_at", nullable=True), SortKey("id")],
}


@dataclass(frozen=True)
class InboxFilter:
    view: str = "all_open"
    channel: str = ""  # a channel kind ("email") or slug ("support-email")
    status: str = ""
    priority: int | None = None
    tone: str = ""
    tag: str = ""
    language: str = ""
    team: int | None = None
    customer: int | None = None
    q: str = ""
    sort: str = "recent"

    def validate(self) -> None:
        if self.view not in VIEWS:
            raise InvalidInput(f"unknown view {self.view!r}; use one of {', '.join(VIEWS)}")
        if self.sort not in SORTS:
            raise InvalidInput(f"unknown sort {self.sort!r}; use one of {', '.join(SORTS)}")
        if self.status and self.status not in Conversation.Status.values:
            raise InvalidInput(f"unknown status {self.status!r}")
        if self.priority is not None and self.priority not in Conversation.Priority.values:
            raise InvalidInput("unknown priority")


def _view(conversations: QuerySet[Conversation], view: str, user: User) -> QuerySet[Conversation]:
    unresolved = ~Q(status=Conversation.Status.RESOLVED)
    if view == "mine":
        return conversations.filter(unresolved, assignee=user)
    if view == "unassigned":
        return conversations.filter(unresolved, assignee__isnull=True)
    if view == "my_teams":
        return conversations.filter(unresolved, team_id__in=user_team_ids(user))
    if view == "escalated":
        return conversations.filter(unresolved, escalated_at__isnull=False)
    if view == "resolved":
        return conversations.filter(status=Conversation.Status.RESOLVED)
    return conversations.filter(unresolved)


def inbox_queryset(*, user: User, filters: InboxFilter) -> QuerySet[Conversation]:
    filters.validate()
    conversations = _view(conversations_visible_to(user), filters.view, user)
    if filters.channel:
        conversations = conversations.filter(
            Q(channel__kind=filters.channel) | Q(channel__slug=filters.channel)
        )
    if filters.status:
        conversations = conversations.filter(status=filters.status)
    if filters.priority is not None:
        conversations = conversations.filter(priority=filters.priority)
    if filters.tone:
        conversations = conversations.filter(tone_latest=filters.tone)
    if filters.tag:
        conversations = conversations.filter(tags__name=filters.tag.strip().lower())
    if filters.language:
        conversations = conversations.filter(language=filters.language)
    if filters.team is not None:
        conversations = conversations.filter(team_id=filters.team)
    if filters.customer is not None:
        conversations = conversations.filter(customer_id=filters.customer)
    if filters.q.strip():
        from firstring.conversations.search import conversations_matching

        conversations = conversations.filter(conversations_matching(filters.q))
    return conversations


def inbox_page(
    *, user: User, filters: InboxFilter, cursor: str | None = None, limit: int = 50
) -> tuple[list[Conversation], str | None]:
    """One page of the inbox with what the list shows, and the next page's cursor."""
    if not 1 <= limit <= 200:
        raise InvalidInput("limit must be between 1 and 200")
    conversations = inbox_queryset(user=user, filters=filters).select_related(
        "customer", "channel", "assignee", "team"
    )
    return paginate(conversations, SORTS[filters.sort], cursor, limit)


def conversation_tag_names(*, conversations: list[Conversation]) -> dict[int, list[str]]:
    """Each conversation's tag names, by name, in one query (a page of the API list shows them)."""
    names: dict[int, list[str]] = {c.pk: [] for c in conversations}
    through = Conversation.tags.through.objects.filter(conversation_id__in=list(names))
    for conversation_id, name in through.order_by("tag__name").values_list("conversation_id", "tag__name"):
        names[conversation_id].append(name)
    return names


def inbox_counts(*, user: User) -> dict[str, int]:
    """How many conversations each view holds for this user.

    Sums the change rows that triggers keep in `InboxCount` (a few hundred rows) instead of counting
    conversations; what is summed here must stay what `conversations_visible_to` and `_view` select.
    """
    team_ids = set(user_team_ids(user))
    groups = InboxCount.objects.all()
    if not user.sees_everything:
        groups = groups.filter(Q(team_id__isnull=True) | Q(team_id__in=team_ids) | Q(assignee_id=user.pk))
    counts = dict.fromkeys(VIEWS, 0)
    rows = groups.values_list("team_id", "assignee_id", "status", "escalated").annotate(n=Sum("delta"))
    for team_id, assignee_id, status, escalated, n in rows:
        if status == Conversation.Status.RESOLVED:
            counts["resolved"] += n
            continue
        counts["all_open"] += n
        counts["mine"] += n if assignee_id == user.pk else 0
        counts["unassigned"] += n if assignee_id is None else 0
        counts["my_teams"] += n if team_id in team_ids else 0
        counts["escalated"] += n if escalated else 0
    return counts
