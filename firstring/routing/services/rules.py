"""Routing rules: which team, skills and priority new work gets, edited by managers in the app."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import transaction
from django.utils import timezone

from firstring.accounts.access import require_manager
from firstring.accounts.models import Skill, Team, User
from firstring.conversations.models import Conversation
from firstring.conversations.services import conversation_set_priority, conversation_set_team
from firstring.lib.errors import InvalidInput
from firstring.routing.models import RoutingRule

LIST_FIELDS = ("channel_kinds", "languages", "tones", "tags", "customer_tiers", "keywords")
MAX_VALUES = 50


def rules_load() -> list[RoutingRule]:
    return list(RoutingRule.objects.filter(active=True).prefetch_related("skills").order_by("position", "id"))


def rule_for(conversation: Conversation, rules: Sequence[RoutingRule]) -> RoutingRule | None:
    """The first rule whose conditions all hold for the conversation."""
    tags: set[str] | None = None
    for rule in rules:
        if rule.channel_kinds and conversation.channel.kind not in rule.channel_kinds:
            continue
        if rule.languages and conversation.language.lower() not in rule.languages:
            continue
        if rule.tones and conversation.tone_latest not in rule.tones:
            continue
        if rule.customer_tiers and conversation.customer.tier.lower() not in rule.customer_tiers:
            continue
        if rule.min_priority is not None and conversation.priority < rule.min_priority:
            continue
        if rule.keywords:
            words = f"{conversation.subject} {conversation.last_message_excerpt}".lower()
            if not any(keyword in words for keyword in rule.keywords):
                continue
        if rule.tags:
            if tags is None:
                tags = set(conversation.tags.values_list("name", flat=True))
            if not tags & set(rule.tags):
                continue
        return rule
    return None


def rule_apply(rule: RoutingRule, conversation: Conversation) -> Conversation:
    """Move the conversation to the rule's team and set its priority, as Firstring (no actor)."""
    if rule.team_id is not None and conversation.team_id != rule.team_id:
        conversation = conversation_set_team(
            conversation=conversation, team=rule.team, actor=None, rule=rule.name
        )
    if rule.set_priority is not None and conversation.priority != rule.set_priority:
        conversation = conversation_set_priority(
            conversation=conversation, priority=rule.set_priority, actor=None
        )
    return conversation


def rule_needs(rule: RoutingRule) -> list[dict[str, Any]]:
    return [{"skill": s.pk, "name": s.name, "level": rule.skill_level} for s in rule.skills.all()]


def routing_rule_save(
    *,
    actor: User,
    rule: RoutingRule | None = None,
    name: str,
    position: int = 100,
    active: bool = True,
    team: Team | None = None,
    skills: Sequence[Skill] = (),
    skill_level: int = 3,
    set_priority: int | None = None,
    min_priority: int | None = None,
    **lists: Sequence[str],
) -> RoutingRule:
    """Create (no rule given) or change a rule. Lists are normalised: trimmed, lower case, unique."""
    require_manager(actor, "only managers edit routing rules")
    if not name.strip():
        raise InvalidInput("a rule needs a name")
    if not 1 <= skill_level <= 5:
        raise InvalidInput("the skill level is 1 to 5")
    for priority in (set_priority, min_priority):
        if priority is not None and priority not in Conversation.Priority.values:
            raise InvalidInput("unknown priority")
    unknown = set(lists) - set(LIST_FIELDS)
    if unknown:
        raise InvalidInput(f"unknown conditions: {', '.join(sorted(unknown))}")
    with transaction.atomic():
        rule = rule or RoutingRule()
        rule.name = name.strip()[:100]
        rule.position = position
        rule.active = active
        rule.team = team
        rule.skill_level = skill_level
        rule.set_priority = set_priority
        rule.min_priority = min_priority
        for field in LIST_FIELDS:
            values = sorted({str(v).strip().lower() for v in lists.get(field, ()) if str(v).strip()})
            if len(values) > MAX_VALUES or any(len(v) > 100 for v in values):
                raise InvalidInput(f"{field}: at most {MAX_VALUES} values of up to 100 characters")
            setattr(rule, field, values)
        rule.updated_at = timezone.now()
        rule.save()
        rule.skills.set(skills)
    return rule


def routing_rule_delete(*, actor: User, rule: RoutingRule) -> None:
    require_manager(actor, "only managers edit routing rules")
    rule.delete()
