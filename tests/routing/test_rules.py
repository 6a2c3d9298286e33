"""Routing rules: the first that matches sends new work to its team, with its skills and priority."""

from __future__ import annotations

import pytest

from firstring.accounts.models import Skill
from firstring.conversations.models import Conversation, ConversationEvent
from firstring.customers.models import Customer
from firstring.lib.errors import Forbidden, InvalidInput
from firstring.routing.models import RoutingEvent, RoutingRule
from firstring.routing.services import task_enqueue
from firstring.routing.services.rules import routing_rule_save

pytestmark = pytest.mark.django_db


@pytest.fixture
def refunds(manager, billing_team) -> RoutingRule:
    skill = Skill.objects.create(kind=Skill.Kind.TOPIC, name="refunds")
    return routing_rule_save(
        actor=manager,
        name="Refunds to billing",
        position=10,
        keywords=["Refund", " money back "],
        team=billing_team,
        skills=[skill],
        skill_level=2,
        set_priority=Conversation.Priority.HIGH,
    )


def test_the_first_matching_rule_moves_the_work_and_explains_itself(
    refunds, receive, email_channel, billing_team
):
    conversation = receive(
        email="r@example.com", channel=email_channel, text="I want my money back!"
    ).conversation
    task = task_enqueue(conversation=conversation)
    assert task is not None
    conversation.refresh_from_db()
    assert conversation.team == billing_team and conversation.priority == Conversation.Priority.HIGH
    assert task.team_id == billing_team.pk
    assert task.needs == [{"skill": refunds.skills.get().pk, "name": "refunds", "level": 2}]
    queued = RoutingEvent.objects.get(task=task, kind="queued")
    assert queued.data["rule"] == "Refunds to billing" and queued.data["priority"] == "high"
    moved = ConversationEvent.objects.get(conversation=conversation, kind="team")
    assert moved.actor is None and moved.data["rule"] == "Refunds to billing"


def test_rules_that_match_nothing_or_are_off_change_nothing(
    refunds, receive, email_channel, support_team, manager
):
    routing_rule_save(actor=manager, rule=refunds, name=refunds.name, active=False, keywords=["refund"])
    conversation = receive(email="s@example.com", channel=email_channel, text="A refund please").conversation
    task_enqueue(conversation=conversation)
    conversation.refresh_from_db()
    assert conversation.team == support_team and conversation.priority == Conversation.Priority.NORMAL


def test_conditions_on_tone_tier_channel_and_position_order(
    manager, billing_team, receive, email_channel, api_channel
):
    routing_rule_save(
        actor=manager,
        name="VIP e-mail",
        position=2,
        customer_tiers=["VIP"],
        channel_kinds=["email"],
        set_priority=4,
    )
    routing_rule_save(actor=manager, name="Angry anywhere", position=1, tones=["negative"], team=billing_team)
    vip = receive(email="v@example.com", channel=email_channel).conversation
    Customer.objects.filter(pk=vip.customer_id).update(tier="vip")
    vip.refresh_from_db()
    task_enqueue(conversation=vip)
    vip.refresh_from_db()
    assert vip.priority == 4 and vip.team_id != billing_team.pk
    angry_vip = receive(email="angry@example.com", channel=email_channel).conversation
    Customer.objects.filter(pk=angry_vip.customer_id).update(tier="vip")
    Conversation.objects.filter(pk=angry_vip.pk).update(tone_latest="negative")
    angry_vip.refresh_from_db()
    task_enqueue(conversation=angry_vip)
    angry_vip.refresh_from_db()
    # Both rules match; the one first in position wins, and only it.
    assert angry_vip.team == billing_team and angry_vip.priority == Conversation.Priority.NORMAL
    api = receive(email="v@example.com", channel=api_channel).conversation
    api.refresh_from_db()
    task_enqueue(conversation=api)
    api.refresh_from_db()
    assert api.priority == Conversation.Priority.NORMAL  # not e-mail


def test_only_managers_edit_rules_and_bad_values_are_refused(agent, manager):
    with pytest.raises(Forbidden):
        routing_rule_save(actor=agent, name="x")
    with pytest.raises(InvalidInput):
        routing_rule_save(actor=manager, name=" ")
    with pytest.raises(InvalidInput):
        routing_rule_save(actor=manager, name="x", skill_level=9)
    with pytest.raises(InvalidInput):
        routing_rule_save(actor=manager, name="x", keywords=[str(n) for n in range(51)])
    assert not RoutingRule.objects.exists()
