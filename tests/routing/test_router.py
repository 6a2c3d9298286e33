"""The router: who gets offered what, in which order, within which capacity, and what happens next."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from firstring.accounts.models import Skill, Team, User, UserSkill
from firstring.channels.models import Channel
from firstring.conversations.models import Conversation, ConversationEvent
from firstring.conversations.services import (
    conversation_assign,
    conversation_set_priority,
    conversation_set_status,
)
from firstring.lib.errors import Conflict
from firstring.routing.models import AgentState, RoutingEvent, RoutingTask, TeamRouting
from firstring.routing.services import (
    offer_accept,
    offer_decline,
    offers_expire,
    presence_set,
    route_every_queue,
    route_waiting,
    task_enqueue,
    tasks_for_messages,
    tasks_sweep,
)
from firstring.routing.services.queue import SWEEP_GRACE

pytestmark = pytest.mark.django_db


@pytest.fixture
def make_agent(support_team):
    def _make(name: str, *, team: Team | None = support_team, available: bool = True, **skills: int) -> User:
        user = User.objects.create_user(email=f"{name}@example.com", password="pw-agent-123", name=name)
        if team is not None:
            team.members.add(user)
        for skill_name, level in skills.items():
            skill, _ = Skill.objects.get_or_create(kind=Skill.Kind.LANGUAGE, name=skill_name)
            UserSkill.objects.create(user=user, skill=skill, level=level)
        if available:
            presence_set(user=user, presence=AgentState.Presence.AVAILABLE)
        return user

    return _make


@pytest.fixture
def waiting(receive, email_channel):
    """A conversation queued for an agent: waiting(email, priority=…, ago=timedelta, language=…)."""

    def _waiting(
        email: str, *, priority: int | None = None, ago: timedelta = timedelta(0), **fields
    ) -> RoutingTask:
        result = receive(email=email, channel=email_channel, **fields)
        conversation = result.conversation
        if priority is not None:
            conversation_set_priority(conversation=conversation, priority=priority, actor=None)
            conversation.refresh_from_db()
        task = task_enqueue(conversation=conversation)
        assert task is not None
        if ago:
            RoutingTask.objects.filter(pk=task.pk).update(
                enqueued_at=task.enqueued_at - ago, rank_at=task.rank_at - ago
            )
            task.refresh_from_db()
        return task

    return _waiting


def _offered_to(task: RoutingTask) -> str | None:
    task.refresh_from_db()
    return task.offered_to.name if task.offered_to else None


def test_a_received_message_is_queued_and_offered_at_once(receive, email_channel, make_agent):
    ana = make_agent("ana")
    result = receive(email="carla@example.com", channel=email_channel)
    tasks_for_messages([result.message.pk])
    task = RoutingTask.objects.get(conversation=result.conversation)
    assert task.status == "offered" and task.offered_to == ana
    # A second message in the same conversation does not queue it twice.
    again = receive(email="carla@example.com", channel=email_channel)
    tasks_for_messages([again.message.pk])
    assert RoutingTask.objects.filter(conversation=result.conversation).count() == 1


def test_higher_score_first_and_aging_lets_old_work_overtake_new_urgent_work(waiting, make_agent):
    normal_old = waiting("old@example.com", ago=timedelta(minutes=45))
    urgent_new = waiting("urgent@example.com", priority=Conversation.Priority.URGENT)
    high = waiting("high@example.com", priority=Conversation.Priority.HIGH, ago=timedelta(minutes=5))
    normal_new = waiting("new@example.com", ago=timedelta(minutes=1))
    order = list(RoutingTask.objects.filter(status="waiting").order_by("rank_at", "id"))
    # Urgent is a 30-minute head start: 45 minutes of waiting beat it; high (10 + 5) beats a normal 1.
    assert order == [normal_old, urgent_new, high, normal_new]
    ana = make_agent("ana")
    offered = []
    for _ in range(4):
        (offer,) = route_waiting()
        offered.append(offer.task.pk)
        offer_accept(task=offer.task, agent=ana)
    assert offered == [normal_old.pk, urgent_new.pk, high.pk, normal_new.pk]


def test_one_offer_rings_at_a_time_and_work_spreads_across_free_agents(waiting, make_agent):
    ana, bo = make_agent("ana"), make_agent("bo")
    first, second, third = (waiting(f"s{n}@example.com") for n in range(3))
    assert [(o.task.pk, o.agent_id) for o in route_waiting()] == [(first.pk, ana.pk), (second.pk, bo.pk)]
    assert route_waiting() == []  # both have an offer ringing
    offer_accept(task=first, agent=ana)
    assert [(o.task.pk, o.agent_id) for o in route_waiting()] == [(third.pk, ana.pk)]


def test_the_longest_idle_agent_with_room_gets_the_offer(waiting, make_agent):
    ana, bo = make_agent("ana"), make_agent("bo")
    AgentState.objects.filter(user=ana).update(last_offered_at=timezone.now())
    AgentState.objects.filter(user=bo).update(last_offered_at=timezone.now() - timedelta(hours=1))
    first = waiting("a@example.com")
    route_waiting()
    assert _offered_to(first) == "bo"
    second = waiting("b@example.com")
    route_waiting()
    assert _offered_to(second) == "ana"  # bo was offered work just now


def test_no_agent_is_offered_more_than_their_capacity(waiting, make_agent, support_team):
    TeamRouting.objects.create(team=support_team, capacity={"email": 2})
    ana = make_agent("ana")
    tasks = [waiting(f"c{n}@example.com") for n in range(4)]
    for _ in range(2):
        (offer,) = route_waiting()
        offer_accept(task=offer.task, agent=ana)
    assert route_waiting() == []  # two e-mails assigned: full
    assert [t.status for t in RoutingTask.objects.filter(pk__in=[t.pk for t in tasks]).order_by("pk")] == [
        "assigned",
        "assigned",
        "waiting",
        "waiting",
    ]


def test_a_ringing_call_blocks_new_work(waiting, make_agent, receive, support_team):
    from firstring.channels.models import Channel

    ana = make_agent("ana")
    phone = Channel.objects.create(kind="phone", slug="phone", name="Phone", team=support_team)
    call = task_enqueue(conversation=receive(phone="+12025550143", channel=phone, text="(call)").conversation)
    assert [o.task.pk for o in route_waiting()] == [call.pk]
    task = waiting("d@example.com")
    assert route_waiting() == []
    # Taken, the call no longer rings; an open phone conversation is a call log, not a call.
    offer_accept(task=call, agent=ana)
    assert [o.task.pk for o in route_waiting()] == [task.pk]
    # One call at a time: another call is not offered while she holds an open one.
    second = task_enqueue(
        conversation=receive(phone="+12025550144", channel=phone, text="(call)").conversation
    )
    assert route_waiting() == []
    second.refresh_from_db()
    assert second.status == "waiting"


def test_requirements_relax_while_a_task_waits(waiting, make_agent, settings):
    settings.FIRSTRING_ROUTING_RELAX_SECONDS = [60, 180, 600]
    make_agent("novice", es=1)
    make_agent("plain")
    task = waiting("e@example.com", language="es")  # prefers Spanish at level 3
    assert route_waiting() == []
    RoutingTask.objects.filter(pk=task.pk).update(enqueued_at=timezone.now() - timedelta(seconds=90))
    assert [(o.task.pk, o.step) for o in route_waiting()] == [(task.pk, 1)]
    assert _offered_to(task) == "novice"
    event = RoutingEvent.objects.filter(task=task, kind="offered").get()
    assert event.data["why"] == "longest idle available agent with the skill at any level"


def test_after_a_long_wait_anyone_available_is_offered_the_work(waiting, make_agent, billing_team, settings):
    settings.FIRSTRING_ROUTING_RELAX_SECONDS = [60, 180, 600]
    outsider = make_agent("outsider", team=billing_team)
    task = waiting("f@example.com")
    assert route_waiting() == []
    RoutingTask.objects.filter(pk=task.pk).update(enqueued_at=timezone.now() - timedelta(seconds=700))
    assert route_waiting()[0].step == 3
    offer_accept(task=task, agent=outsider)
    conversation = Conversation.objects.get(pk=task.conversation_id)
    assert conversation.assignee == outsider
    event = conversation.events.get(kind=ConversationEvent.Kind.ASSIGNED)
    assert event.data == {"from": None, "to": "outsider@example.com", "routed": True}


def test_accepting_assigns_and_declining_offers_it_to_the_next_agent(waiting, make_agent):
    ana, bo = make_agent("ana"), make_agent("bo")
    AgentState.objects.filter(user=bo).update(last_offered_at=timezone.now())
    task = waiting("g@example.com")
    route_waiting()
    assert _offered_to(task) == "ana"
    with pytest.raises(Conflict):
        offer_accept(task=task, agent=bo)
    offer_decline(task=task, agent=ana)
    route_waiting()
    assert _offered_to(task) == "bo"
    offer_accept(task=task, agent=bo)
    task.refresh_from_db()
    assert task.status == "assigned"
    assert Conversation.objects.get(pk=task.conversation_id).assignee == bo
    kinds = list(RoutingEvent.objects.filter(task=task).values_list("kind", "agent__name"))
    assert kinds == [
        ("queued", None),
        ("offered", "ana"),
        ("declined", "ana"),
        ("offered", "bo"),
        ("accepted", "bo"),
    ]


def test_unanswered_offers_time_out_and_repeated_misses_set_the_agent_away(waiting, make_agent, settings):
    settings.FIRSTRING_ROUTING_MISSES_BEFORE_AWAY = 2
    ana = make_agent("ana")
    tasks = [waiting(f"h{n}@example.com") for n in range(2)]
    later = timezone.now() + timedelta(seconds=settings.FIRSTRING_ROUTING_OFFER_SECONDS + 1)
    for n in range(2):
        assert len(route_waiting()) == 1
        assert offers_expire() == 0
        assert offers_expire(now=later + timedelta(seconds=n)) == 1
    assert {t.status for t in RoutingTask.objects.filter(pk__in=[t.pk for t in tasks])} == {"waiting"}
    state = AgentState.objects.get(user=ana)
    assert state.presence == "away" and state.missed_offers == 2
    assert route_waiting() == []  # nobody is available now
    with pytest.raises(Conflict):
        offer_accept(task=tasks[0], agent=ana)


def test_an_expired_offer_cannot_be_accepted(waiting, make_agent):
    ana = make_agent("ana")
    task = waiting("i@example.com")
    route_waiting()
    RoutingTask.objects.filter(pk=task.pk).update(offer_expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(Conflict, match="expired"):
        offer_accept(task=task, agent=ana)


def test_work_assigned_by_hand_meanwhile_is_taken_off_the_queue(waiting, make_agent, agent):
    task = waiting("j@example.com")
    conversation_assign(conversation=task.conversation, assignee=agent, actor=agent)
    make_agent("cy")
    assert route_waiting() == []
    task.refresh_from_db()
    assert task.status == "cancelled"


def test_teams_without_auto_assignment_are_left_to_pick_from_the_queue(waiting, make_agent, support_team):
    TeamRouting.objects.create(team=support_team, auto_assign=False)
    make_agent("ana")
    task = waiting("k@example.com")
    assert route_waiting() == []
    TeamRouting.objects.filter(team=support_team).update(auto_assign=True)
    assert [o.task.pk for o in route_waiting()] == [task.pk]


def test_work_nobody_can_take_yet_does_not_hold_up_the_work_behind_it(waiting, make_agent, billing_team):
    make_agent("ana")  # in support only
    stuck = []
    for n in range(3):
        task = waiting(f"stuck{n}@example.com", priority=Conversation.Priority.URGENT)
        RoutingTask.objects.filter(pk=task.pk).update(team=billing_team)  # nobody of billing is here
        stuck.append(task)
    behind = waiting("behind@example.com")
    offers = route_waiting(max_offers=1)
    assert [o.task.pk for o in offers] == [behind.pk]
    assert {t.status for t in RoutingTask.objects.filter(pk__in=[t.pk for t in stuck])} == {"waiting"}


def test_a_pass_considers_no_more_than_it_may(waiting, make_agent, billing_team):
    make_agent("ana")
    for n in range(3):
        task = waiting(f"far{n}@example.com")
        RoutingTask.objects.filter(pk=task.pk).update(team=billing_team)
    waiting("last@example.com")
    assert route_waiting(scan=3) == []
    assert len(route_waiting(scan=4)) == 1


def test_new_work_routes_through_its_own_team_queue_past_another_team_backlog(
    receive, email_channel, make_agent, billing_team, support_team
):
    make_agent("ana")  # in support only
    for n in range(3):
        backlog = task_enqueue(
            conversation=receive(email=f"b{n}@example.com", channel=email_channel).conversation
        )
        assert backlog is not None
        RoutingTask.objects.filter(pk=backlog.pk).update(team=billing_team)
    new = receive(email="new@example.com", channel=email_channel).conversation
    assert task_enqueue(conversation=new) is not None
    assert route_waiting(scan=2) == []  # the whole queue: the backlog comes first
    offers = route_waiting(scan=2, team_ids=[support_team.pk])
    assert [o.task.conversation_id for o in offers] == [new.pk]


def test_a_decline_rings_the_next_agent_at_once(waiting, make_agent, django_capture_on_commit_callbacks):
    ana, bo = make_agent("ana"), make_agent("bo")
    AgentState.objects.filter(user=bo).update(last_offered_at=timezone.now())
    task = waiting("decline@example.com")
    route_waiting()
    assert _offered_to(task) == "ana"
    with django_capture_on_commit_callbacks(execute=True):
        offer_decline(task=task, agent=ana)
    assert _offered_to(task) == "bo"


def test_the_periodic_pass_reaches_a_team_behind_another_teams_backlog(
    receive, email_channel, make_agent, billing_team
):
    # Billing's agent is away: its three older tasks fill the whole-queue pass's scan.
    make_agent("bea", team=billing_team, available=False)
    billing_channel = Channel.objects.create(kind="email", slug="billing", name="Billing", team=billing_team)
    for n in range(3):
        assert task_enqueue(
            conversation=receive(email=f"b{n}@example.com", channel=billing_channel).conversation
        )
    make_agent("ana")
    task = task_enqueue(conversation=receive(email="late@example.com", channel=email_channel).conversation)
    assert task is not None
    assert route_waiting(scan=3) == []
    offers = route_every_queue(scan=3, team_scan=3)
    assert [offer.task.pk for offer in offers] == [task.pk] and _offered_to(task) == "ana"


def test_the_pipeline_routes_work_another_pass_queued_first(receive, email_channel, make_agent):
    # The sweep (or a retried step) may queue the conversation before the pipeline's routing step runs:
    # the step must still route it, since no other pass routes its team's queue at once.
    make_agent("ana")
    result = receive(email="early@example.com", channel=email_channel)
    task = task_enqueue(conversation=result.conversation)
    assert task is not None and _offered_to(task) is None
    tasks_for_messages([result.message.pk])
    assert _offered_to(task) == "ana"


def test_the_sweep_queues_waiting_customers_nobody_has(receive, email_channel, agent):
    waiting_customer = receive(email="l@example.com", channel=email_channel).conversation
    assigned = receive(email="m@example.com", channel=email_channel).conversation
    conversation_assign(conversation=assigned, assignee=agent, actor=agent)
    resolved = receive(email="n@example.com", channel=email_channel).conversation
    conversation_set_status(conversation=resolved, status="resolved", actor=agent)
    # New work is the pipeline's for a while: swept at once, it would be queued before its analysis.
    assert tasks_sweep() == 0
    later = timezone.now() + SWEEP_GRACE
    assert tasks_sweep(now=later) == 1
    assert list(RoutingTask.objects.values_list("conversation_id", flat=True)) == [waiting_customer.pk]
    assert tasks_sweep(now=later) == 0  # queued once
    # Unassigned again while the customer waits: back in the queue.
    conversation_assign(conversation=assigned, assignee=None, actor=agent)
    assert tasks_sweep(now=later) == 1


@pytest.mark.parametrize(
    "capacity", [{"chat": "3"}, {"chat": -1}, {"chat": True}, ["chat", 3], {"chat": 2.5}]
)
def test_a_team_capacity_that_is_not_whole_numbers_is_refused(support_team, capacity):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="whole numbers"):
        TeamRouting(team=support_team, capacity=capacity).full_clean()
    TeamRouting(team=support_team, capacity={"chat": 2, "default": 5}).full_clean()


def test_customer_value_moves_a_task_up(waiting, settings):
    from firstring.customers.models import Customer

    settings.FIRSTRING_ROUTING_TIER_HEAD_START = {"vip": 15}
    regular = waiting("regular@example.com", ago=timedelta(minutes=10))
    vip_conversation = waiting("vip@example.com").conversation
    Customer.objects.filter(pk=vip_conversation.customer_id).update(tier="VIP")
    RoutingTask.objects.filter(conversation=vip_conversation).delete()
    vip_conversation.refresh_from_db()
    vip = task_enqueue(conversation=vip_conversation)
    assert vip is not None and vip.rank_at < regular.rank_at  # 15 minutes of value beat 10 of waiting
    assert RoutingEvent.objects.get(task=vip, kind="queued").data["tier"] == "VIP"


def test_a_language_skill_matches_by_code_or_by_name(waiting, make_agent):
    from firstring.routing.services.queue import language_skill

    spanish = Skill.objects.create(kind=Skill.Kind.LANGUAGE, name="Spanish")
    assert language_skill("es") == spanish and language_skill("ES") == spanish
    assert language_skill("xx") is None
    # Nobody on the team speaks Spanish: asking for it would only make the customer wait.
    assert waiting("nadie@example.com", language="es").needs == []
    make_agent("sol", Spanish=2)
    task = waiting("hola@example.com", language="es")
    assert task.needs == [{"skill": spanish.pk, "name": "Spanish", "level": 3}]


def test_a_message_read_as_urgent_moves_its_task_up_and_says_why(receive, email_channel):
    from firstring.conversations import pipeline

    calm = receive(email="calm@example.com", channel=email_channel, text="Where is my parcel?")
    leaving = receive(
        email="leaving@example.com",
        channel=email_channel,
        text="Third time asking. I will cancel my account and switch to your competitor.",
    )
    pipeline.messages_received.call([calm.message.pk, leaving.message.pk])
    calm_task = RoutingTask.objects.get(conversation=calm.conversation)
    urgent_task = RoutingTask.objects.get(conversation=leaving.conversation)
    assert urgent_task.rank_at < calm_task.rank_at - timedelta(minutes=9)
    queued = RoutingEvent.objects.get(task=urgent_task, kind="queued")
    assert "churn" in queued.data["urgency"]
    assert "urgency" not in RoutingEvent.objects.get(task=calm_task, kind="queued").data
