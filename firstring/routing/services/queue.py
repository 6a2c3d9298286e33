"""Putting conversations in the queue: one live routing task per conversation that needs an agent."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import get_language_info

from firstring.accounts.models import Skill, UserSkill
from firstring.channels.registry import kinds_routing_themselves
from firstring.conversations.models import Conversation, Message, Tone
from firstring.insights.selectors import conversation_signals
from firstring.routing.models import RoutingEvent, RoutingRule, RoutingTask
from firstring.routing.services.rules import rule_apply, rule_for, rule_needs, rules_load

# The score, as a head start in time: an urgent task ranks as if it had waited 30 minutes more. Every
# waiting task ages at the same rate, so a normal task that has waited longer than that overtakes it.
PRIORITY_HEAD_START = {
    Conversation.Priority.URGENT: timedelta(minutes=30),
    Conversation.Priority.HIGH: timedelta(minutes=10),
    Conversation.Priority.NORMAL: timedelta(0),
    Conversation.Priority.LOW: timedelta(minutes=-10),
}
# An angry customer moves up.
NEGATIVE_TONE_HEAD_START = timedelta(minutes=5)
# A message the insights engine read as urgent (a threat to leave, legal, safety, an outage) moves up more.
URGENT_SIGNAL_HEAD_START = timedelta(minutes=10)
# The skill level a task prefers for the conversation's language, while it has not waited long.
PREFERRED_LANGUAGE_LEVEL = 3


def tasks_for_messages(message_ids: Sequence[int]) -> None:
    """Pipeline step: queue the conversations of newly received messages that have nobody on them."""
    conversation_ids = set(
        Message.objects.filter(pk__in=message_ids, direction=Message.Direction.INBOUND).values_list(
            "conversation_id", flat=True
        )
    )
    waiting = (
        Conversation.objects.filter(
            pk__in=conversation_ids, assignee__isnull=True, status=Conversation.Status.OPEN
        )
        .exclude(channel__kind__in=kinds_routing_themselves())
        .select_related("channel", "customer")
    )
    rules = rules_load()
    # The insights step ran first and read the messages: threats to leave, legal, safety, outages.
    signals = conversation_signals(conversation_ids)
    for conversation in waiting:
        task_enqueue(
            conversation=conversation,
            rules=rules,
            urgency=signals[conversation.pk].urgency if conversation.pk in signals else (),
        )
    # Route the teams of every waiting conversation, also those whose task was queued before this step
    # ran (the worker's sweep may have queued it first): nothing else routes a team's queue at once.
    team_ids = set(
        RoutingTask.objects.filter(
            conversation_id__in=conversation_ids, status=RoutingTask.Status.WAITING
        ).values_list("team_id", flat=True)
    )
    if team_ids:
        from firstring.routing.services.router import route_waiting

        route_waiting(team_ids=team_ids)


# New work belongs to the pipeline for this long: queued by the sweep first, it would be ranked and
# matched to rules before the insights step read its tone, language and urgency.
SWEEP_GRACE = timedelta(seconds=30)


def tasks_sweep(*, limit: int = 500, now: datetime | None = None) -> int:
    """Queue customers' waiting conversations that have nobody on them and no task yet.

    New messages queue their conversation at once; this catches the rest: conversations from before
    routing was on, those an agent unassigned while the customer still waits, and those whose pipeline
    task failed. Oldest wait first.
    """
    now = now or timezone.now()
    live = RoutingTask.objects.filter(
        conversation=OuterRef("pk"), status__in=[RoutingTask.Status.WAITING, RoutingTask.Status.OFFERED]
    )
    unattended = (
        Conversation.objects.filter(
            status=Conversation.Status.OPEN, assignee__isnull=True, waiting_since__lte=now - SWEEP_GRACE
        )
        .exclude(Exists(live))
        .exclude(channel__kind__in=kinds_routing_themselves())
        .select_related("channel", "customer")
        .order_by("waiting_since", "id")[:limit]
    )
    rules = rules_load()
    return sum(1 for conversation in unattended if task_enqueue(conversation=conversation, rules=rules))


def describe_needs(needs: list[dict[str, Any]]) -> list[str]:
    return [f"{need['name']} ≥ {need['level']}" for need in needs]


def task_rank_at(conversation: Conversation, enqueued_at: datetime, *, urgent: bool = False) -> datetime:
    head_start = PRIORITY_HEAD_START.get(Conversation.Priority(conversation.priority), timedelta(0))
    if urgent:
        head_start += URGENT_SIGNAL_HEAD_START
    if conversation.tone_latest == Tone.NEGATIVE:
        head_start += NEGATIVE_TONE_HEAD_START
    tier = conversation.customer.tier.lower()
    head_start += (
        timedelta(minutes=settings.FIRSTRING_ROUTING_TIER_HEAD_START.get(tier, 0)) if tier else timedelta(0)
    )
    return enqueued_at - head_start


def language_skill(code: str) -> Skill | None:
    """The language skill for a conversation's language: named by its code ("es") or its name ("Spanish")."""
    names = [code]
    # A code Django does not know: only a skill named by the code itself matches.
    with contextlib.suppress(KeyError):
        names.append(get_language_info(code.lower())["name"])
    matches = Q()
    for name in names:
        matches |= Q(name__iexact=name)
    return Skill.objects.filter(matches, kind=Skill.Kind.LANGUAGE).order_by("pk").first()


def _team_has_skill(team_id: int | None, skill: Skill) -> bool:
    """Whether anyone on the team (anyone at all, for work of no team) has the skill at some level.

    A language nobody on the team speaks would only keep the customer waiting through two relaxation
    steps for an agent who does not exist; the task asks for what the team can give.
    """
    holders = UserSkill.objects.filter(skill=skill, user__is_active=True)
    if team_id is not None:
        holders = holders.filter(user__teams=team_id)
    return holders.exists()


def task_enqueue(
    *,
    conversation: Conversation,
    rules: Sequence[RoutingRule] | None = None,
    needs: Sequence[dict[str, Any]] = (),
    urgency: Sequence[str] = (),
    rank_at: datetime | None = None,
) -> RoutingTask | None:
    """Queue the conversation for an agent; None when it already has a live task.

    The first routing rule that matches moves it to its team, sets its priority and adds the skills
    it needs, before the task is ranked. `needs` are skills the channel collected itself (a phone
    menu's choice), as {"skill": id, "name": name, "level": level}; they come first, and a need marked
    "language": true stands for the conversation's language. `rank_at` keeps the place of a task the
    conversation had (a call whose agent's line did not answer goes back where it stood).
    """
    rule = rule_for(conversation, rules if rules is not None else rules_load())
    if rule is not None:
        conversation = rule_apply(rule, conversation)
    now = timezone.now()
    chosen_language = any(need.get("language") for need in needs)
    needs = [{key: value for key, value in need.items() if key != "language"} for need in needs]
    if conversation.language and not chosen_language:
        language = language_skill(conversation.language)
        if (
            language is not None
            and language.pk not in {need["skill"] for need in needs}
            and _team_has_skill(conversation.team_id, language)
        ):
            needs.append({"skill": language.pk, "name": language.name, "level": PREFERRED_LANGUAGE_LEVEL})
    if rule is not None:
        needs += [need for need in rule_needs(rule) if need["skill"] not in {n["skill"] for n in needs}]
    try:
        with transaction.atomic():
            task = RoutingTask.objects.create(
                conversation=conversation,
                channel_kind=conversation.channel.kind,
                team_id=conversation.team_id,
                enqueued_at=now,
                rank_at=rank_at or task_rank_at(conversation, now, urgent=bool(urgency)),
                needs=needs,
            )
            RoutingEvent.objects.create(
                task=task,
                kind=RoutingEvent.Kind.QUEUED,
                data={
                    "priority": Conversation.Priority(conversation.priority).label.lower(),
                    "tone": conversation.tone_latest,
                    **({"tier": conversation.customer.tier} if conversation.customer.tier else {}),
                    "head_start_seconds": int((now - task.rank_at).total_seconds()),
                    "needs": describe_needs(needs),
                    **({"rule": rule.name} if rule is not None else {}),
                    **({"urgency": list(urgency)} if urgency else {}),
                },
                created_at=now,
            )
    except IntegrityError:
        return None  # the conversation has a live task already (the unique constraint says so)
    return task


def task_cancel(*, task: RoutingTask, why: str) -> bool:
    """Take a live task out of the queue (the caller hung up while waiting); False when it was not live."""
    from firstring.routing.services.router import notify_agent

    now = timezone.now()
    with transaction.atomic():
        task = RoutingTask.objects.select_for_update(of=("self",)).get(pk=task.pk)
        if task.status not in (RoutingTask.Status.WAITING, RoutingTask.Status.OFFERED):
            return False
        if task.offered_to_id is not None:
            notify_agent(task.offered_to_id)  # the offer stops ringing
        task.status = RoutingTask.Status.CANCELLED
        task.offered_to = None
        task.offered_at = None
        task.offer_expires_at = None
        task.finished_at = now
        task.save(update_fields=["status", "offered_to", "offered_at", "offer_expires_at", "finished_at"])
        RoutingEvent.objects.create(
            task=task, kind=RoutingEvent.Kind.CANCELLED, data={"why": why}, created_at=now
        )
    return True
