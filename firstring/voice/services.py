"""Every write of the voice app: gateways report what happens in a call here, and CallEvents are recorded.

Each service locks the call, is safe to call twice with the same news (providers redeliver webhooks),
and leaves routing to the routing app: a call that needs a person becomes a RoutingTask of kind "phone".
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from firstring.accounts.models import Skill, Team, User
from firstring.channels.models import Channel
from firstring.conversations.services import (
    Inbound,
    conversation_assign,
    conversation_set_team,
    receive_message,
)
from firstring.customers.identities import IdentityClaim, InvalidIdentity, normalize_phone
from firstring.escalations.models import Escalation
from firstring.insights.rollup import rollup_mark_stale
from firstring.knowledge.selectors import article_short_answer, live_public_article_ids
from firstring.lib.errors import Forbidden, InvalidInput, NotFound
from firstring.routing.models import RoutingTask
from firstring.routing.services import route_waiting, task_cancel, task_enqueue
from firstring.routing.services.queue import language_skill
from firstring.sla.hours import is_open
from firstring.sla.models import BusinessCalendar
from firstring.sla.services import calendar_hours
from firstring.voice.gateway import GatewayError, gateway_for
from firstring.voice.menu import DEFAULT_MENU, Queue, Step, menu_next, menu_start, menu_validate
from firstring.voice.models import AgentLine, Call, CallEvent, PhoneMenu

logger = logging.getLogger(__name__)

LIVE = (
    Call.Status.MENU,
    Call.Status.QUEUED,
    Call.Status.CALLBACK,
    Call.Status.CONNECTING,
    Call.Status.IN_PROGRESS,
)
# Where a call waits for its agent: on the line, or hung up to be called back.
WAITING = (Call.Status.QUEUED, Call.Status.CALLBACK)


def _event(call: Call, kind: str, at: datetime, **data: Any) -> None:
    CallEvent.objects.create(call=call, kind=kind, data=data, at=at)


def _locked(call: Call) -> Call:
    # The call's row only: without `of`, PostgreSQL would lock the joined conversation and the number's
    # channel row too, which every call of the number shares; concurrent calls then queued behind one
    # another and deadlocked with the inserts that take a key-share lock on that row.
    return (
        Call.objects.select_for_update(of=("self",)).select_related("conversation", "channel").get(pk=call.pk)
    )


def phone_menu_set(*, channel: Channel, definition: object) -> PhoneMenu:
    """Store a number's menu after validating it against the teams and skills that exist (422 if not)."""
    if channel.kind != "phone":
        raise InvalidInput(f"channel {channel.slug} is not a phone number")
    menu = menu_validate(
        definition,
        teams=set(Team.objects.values_list("slug", flat=True)),
        skills={name.lower() for name in Skill.objects.values_list("name", flat=True)},
        calendars=set(BusinessCalendar.objects.values_list("name", flat=True)),
        articles=live_public_article_ids(),
    )
    with transaction.atomic():
        stored, _ = PhoneMenu.objects.select_for_update().get_or_create(channel=channel)
        stored.definition = menu
        stored.updated_at = timezone.now()
        stored.save(update_fields=["definition", "updated_at"])
    channel.phone_menu = stored  # what phone_menu_for reads from this instance from now on
    return stored


def phone_menu_for(channel: Channel) -> dict[str, Any]:
    """The number's menu, or the default; read once per Channel instance (a webhook asks several times)."""
    try:
        return channel.phone_menu.definition or DEFAULT_MENU
    except PhoneMenu.DoesNotExist:
        return DEFAULT_MENU


def _caller_claim(caller: str, external_id: str) -> IdentityClaim:
    try:
        return IdentityClaim("phone", normalize_phone(caller))
    except InvalidIdentity:
        # Withheld numbers ("anonymous", "+266696687") are still answered, as a caller of their own.
        return IdentityClaim("external", f"call-{external_id}"[:200], "phone")


def call_incoming(
    *, channel: Channel, provider: str, external_id: str, caller: str, called: str, at: datetime | None = None
) -> tuple[Call, Step | None]:
    """A call rings: it becomes a conversation (through receive_message) and enters the menu.

    Returns the call and its first menu step. A redelivered "incoming" stores nothing and returns the
    stored call, with the greeting again while the caller has not answered yet, else None.
    """
    if not external_id or len(external_id) > 64:
        raise InvalidInput("the call needs an id of at most 64 characters")
    at = at or timezone.now()
    stored = Call.objects.filter(channel=channel, external_id=external_id).first()
    if stored is not None:
        return stored, _replayed_start(stored)
    claim = _caller_claim(caller, external_id)
    received = receive_message(
        Inbound(
            channel=channel,
            claims=[claim],
            text=f"Incoming call from {caller or 'an unknown number'} to {called}.",
            external_id=f"call:{external_id}",
            thread=f"call:{external_id}",
            subject=f"Call from {caller or 'an unknown number'}",
            metadata={"call": external_id, "provider": provider},
            received_at=at,
        )
    )
    step = menu_start(phone_menu_for(channel))
    try:
        with transaction.atomic():
            call = Call.objects.create(
                conversation=received.conversation,
                channel=channel,
                provider=provider,
                external_id=external_id,
                caller=claim.value if claim.kind == "phone" else (caller[:32] or "unknown"),
                number_called=called[:32],
                menu_state=step.state,
                started_at=at,
            )
            _event(call, CallEvent.Kind.INCOMING, at, caller=call.caller, called=call.number_called)
    except IntegrityError:
        stored = Call.objects.get(channel=channel, external_id=external_id)
        return stored, _replayed_start(stored)
    menu = phone_menu_for(channel)
    if _closed(menu, at):
        # Nobody is in: the caller hears why and leaves a message, which becomes their conversation.
        call = call_voicemail(call=call, reason="outside business hours")
        return call, Step(state=call.menu_state, say=[menu["greeting"], menu["closed_message"]])
    return call, step


def _closed(menu: dict[str, Any], at: datetime) -> bool:
    """Whether the menu's business calendar is closed at `at` (no calendar: always open)."""
    if not menu.get("calendar"):
        return False
    calendar = BusinessCalendar.objects.prefetch_related("holidays").filter(name=menu["calendar"]).first()
    if calendar is None:
        logger.warning("the phone menu's calendar %r no longer exists; answering as open", menu["calendar"])
        return False
    return not is_open(calendar_hours(calendar), at)


def _replayed_start(call: Call) -> Step | None:
    start = menu_start(phone_menu_for(call.channel))
    return start if call.status == Call.Status.MENU and call.menu_state == start.state else None


def call_menu_input(*, call: Call, step: int, digits: str = "", speech: str = "") -> Step:
    """The caller answered the menu's prompt number `step` (or let it time out: both empty).

    A replayed answer (its step is past) changes nothing and returns where the call is now.
    """
    now = timezone.now()
    menu = phone_menu_for(call.channel)  # from the caller's Channel, which may hold it already
    with transaction.atomic():
        call = _locked(call)
        current = int(call.menu_state.get("step", 0))
        if call.status != Call.Status.MENU or step != current:
            return Step(state=call.menu_state)
        result = menu_next(menu, call.menu_state, digits=digits, speech=speech)
        call.menu_state = result.state
        call.menu_path = [
            *call.menu_path,
            {
                "stage": "language" if result.language else "menu",
                "input": digits or speech[:100],
                "chose": result.chose,
            },
        ]
        fields = ["menu_state", "menu_path"]
        if result.language:
            call.language = result.language
            fields.append("language")
        call.save(update_fields=fields)
        _event(
            call,
            CallEvent.Kind.MENU_INPUT,
            now,
            digits=digits[:20],
            speech=speech[:200],
            chose=result.chose,
            timeout=not digits and not speech,
        )
        if result.queue is not None:
            _queue(call, result.queue, now)
    if result.article is not None:
        result = replace(result, say=[_article_answer(result.article, call.language)])
    return result


def _article_answer(article_id: int, language: str) -> str:
    """What the menu reads out for an article: its short answer, in the caller's language if written."""
    try:
        return article_short_answer(article_id=article_id, language=language)
    except NotFound:
        # Unpublished since the menu was saved: the caller still hears something, and can ask for a person.
        logger.warning("the phone menu's article %s is not published", article_id)
        return "Sorry, that answer is not available right now."


def _needs(call: Call, queue: Queue) -> list[dict[str, Any]]:
    needs: list[dict[str, Any]] = []
    if call.language:
        language = language_skill(call.language)
        if language is not None:
            needs.append({"skill": language.pk, "name": language.name, "level": 3, "language": True})
    for name in queue.skills:
        skill = Skill.objects.filter(name__iexact=name).order_by("pk").first()
        if skill is not None and skill.pk not in {need["skill"] for need in needs}:
            needs.append({"skill": skill.pk, "name": skill.name, "level": 1})
    return needs


def _queue(call: Call, queue: Queue, now: datetime) -> None:
    """Inside the caller's transaction: the call waits for a person, as a routing task of kind phone."""
    conversation = call.conversation
    if queue.team:
        team = Team.objects.filter(slug=queue.team).first()
        if team is not None:
            conversation = conversation_set_team(
                conversation=conversation, team=team, actor=None, rule=f"phone menu: {queue.label}"
            )
    if conversation.assignee_id is not None:
        conversation = conversation_assign(conversation=conversation, assignee=None, actor=None)
    task = task_enqueue(conversation=conversation, needs=_needs(call, queue))
    if task is None:
        task = RoutingTask.objects.filter(
            conversation=conversation, status__in=[RoutingTask.Status.WAITING, RoutingTask.Status.OFFERED]
        ).first()
    call.status = Call.Status.QUEUED
    call.queue = queue.label[:100]
    call.queued_at = call.queued_at or now
    call.routing_task = task
    call.save(update_fields=["status", "queue", "queued_at", "routing_task"])
    _event(call, CallEvent.Kind.QUEUED, now, queue=queue.label, team=queue.team, skills=list(queue.skills))
    team_id = conversation.team_id
    transaction.on_commit(lambda: _route(team_id))


def _route(team_id: int | None) -> None:
    try:
        route_waiting(team_ids=[team_id], max_offers=5)
    except Exception:
        # The call waits in the queue; the workers' periodic pass offers it.
        logger.exception("routing a queued call failed")


def call_queue_for_agent(*, call: Call) -> Call:
    """Straight to the human queue (the caller asked for one outside the menu, or the menu has none)."""
    from firstring.voice.menu import human_queue

    with transaction.atomic():
        call = _locked(call)
        if call.status == Call.Status.MENU:
            _queue(call, human_queue(phone_menu_for(call.channel)), timezone.now())
    return call


def on_routing(event: str, task_id: int) -> None:
    """The routing app's hook for phone tasks: an offer rings, or an agent accepted: bridge the call."""
    call = Call.objects.filter(routing_task_id=task_id, status__in=LIVE).order_by("-pk").first()
    if call is None:
        return
    task = RoutingTask.objects.filter(pk=task_id).select_related("offered_to").first()
    if task is None:
        return
    now = timezone.now()
    if event == "offered" and task.offered_to_id is not None:
        with transaction.atomic():
            call = _locked(call)
            if call.status in WAITING:
                _event(call, CallEvent.Kind.OFFERED, now, agent=task.offered_to_id)
        return
    if event == "accepted" and task.status == RoutingTask.Status.ASSIGNED:
        agent = User.objects.get(pk=task.conversation.assignee_id) if task.conversation.assignee_id else None
        if agent is None:
            return
        call_bridge(call=call, agent=agent)


def call_bridge(*, call: Call, agent: User) -> Call:
    """The agent took the call: ask the gateway to ring their line. A failure puts the caller back in line.

    A caller waiting for a callback is rung back: the agent's line first, then the caller's.
    """
    now = timezone.now()
    with transaction.atomic():
        call = _locked(call)
        if call.status not in WAITING:
            return call
        callback = call.status == Call.Status.CALLBACK
        call.status = Call.Status.CONNECTING
        call.agent = agent
        call.save(update_fields=["status", "agent"])
    line = AgentLine.objects.filter(user=agent).first()
    extra: dict[str, Any] = {}
    try:
        if line is None or not (line.number or line.client or line.sip_uri):
            raise GatewayError(f"{agent.email} has no phone line to ring")
        gateway = gateway_for(call.provider)
        if callback:
            extra = {"callback": True, "leg": gateway.call_back(call=call, agent=agent, line=line)}
        else:
            gateway.bridge(call=call, agent=agent, line=line)
    except GatewayError as error:
        logger.warning("bridging call %s to %s failed: %s", call.external_id, agent.email, error)
        return call_requeue(call=call, reason=str(error))
    with transaction.atomic():
        call = _locked(call)
        _event(call, CallEvent.Kind.TRANSFERRED, now, to="agent", agent=agent.pk, **extra)
    return call


def call_ring_caller(*, call: Call) -> Call:
    """The agent answered a callback's call to their line: the caller's number is dialled next."""
    now = timezone.now()
    with transaction.atomic():
        call = _locked(call)
        if call.status != Call.Status.CONNECTING or call.callback_requested_at is None:
            return call
        last = call.events.order_by("-at", "-id").values_list("kind", "data").first()
        if last is not None and last[0] == CallEvent.Kind.TRANSFERRED and last[1].get("to") == "caller":
            return call  # a redelivered webhook
        _event(call, CallEvent.Kind.TRANSFERRED, now, to="caller", number=call.caller)
    return call


def call_callback_request(*, call: Call) -> Call:
    """The waiting caller asked to be called back: they hang up, and their routing task keeps its place.

    Only a caller with a number can be rung back; otherwise, and when the call has moved on, nothing changes.
    """
    now = timezone.now()
    with transaction.atomic():
        call = _locked(call)
        if call.status != Call.Status.QUEUED or not call.caller.startswith("+"):
            return call
        call.status = Call.Status.CALLBACK
        call.callback_requested_at = now
        call.wait_seconds = _seconds(call.queued_at, now)
        call.save(update_fields=["status", "callback_requested_at", "wait_seconds"])
        _event(call, CallEvent.Kind.CALLBACK, now, number=call.caller, wait_seconds=call.wait_seconds)
    return call


def on_escalation(escalation_id: int) -> None:
    """The registry's hook, after an escalation of a phone conversation is stored: a call being talked
    now brings the manager in (one click for the agent: the escalation they raise does both)."""
    escalation = Escalation.objects.select_related("manager").filter(pk=escalation_id).first()
    if escalation is None or escalation.manager is None:
        return
    call = Call.objects.filter(
        conversation_id=escalation.conversation_id, status=Call.Status.IN_PROGRESS
    ).first()
    if call is not None:
        call_conference_manager(call=call, escalation=escalation)


def call_conference_manager(*, call: Call, escalation: Escalation) -> Call:
    """Move the live call into a conference and ring the escalation's manager into it (the gateway's
    `conference`). A manager without a line, or a provider that refuses, leaves the call as it was and
    the escalation standing; the ESCALATED event says why."""
    manager = escalation.manager
    assert manager is not None
    now = timezone.now()
    line = AgentLine.objects.filter(user=manager).first()
    with transaction.atomic():
        call = _locked(call)
        if call.status != Call.Status.IN_PROGRESS:
            return call
        leg = _answered_leg(call)
        problem = ""
        if call.conference:
            problem = "the call is in a conference already"
        elif not leg:
            problem = "the gateway did not say which leg answered"
        elif line is None or not (line.number or line.client or line.sip_uri):
            problem = f"{manager.email} has no phone line to ring"
        else:
            # Stored before the gateway moves the legs: the provider asks what comes next at once.
            call.conference = f"firstring-call-{call.pk}"
            call.save(update_fields=["conference"])
    if not problem:
        assert line is not None
        try:
            gateway_for(call.provider).conference(call=call, leg=leg, manager=manager, line=line)
        except GatewayError as error:
            problem = str(error)
            Call.objects.filter(pk=call.pk).update(conference="")
    with transaction.atomic():
        call = _locked(call)
        data: dict[str, Any] = {"manager": manager.pk, "escalation": escalation.pk}
        if problem:
            logger.warning("bringing %s into call %s failed: %s", manager.email, call.external_id, problem)
            data["failed"] = problem[:200]
        else:
            data["conference"] = call.conference
        _event(call, CallEvent.Kind.ESCALATED, now, **data)
    return call


def _answered_leg(call: Call) -> str:
    """The provider's id of the leg dialled when the call was answered (the agent's, or the caller's)."""
    data = call.events.filter(kind=CallEvent.Kind.ANSWERED).order_by("-at", "-id").values("data").first()
    return str(data["data"].get("leg", "")) if data else ""


def call_requeue(*, call: Call, reason: str) -> Call:
    """The agent's line did not take the call: it waits again, in the place it had, for the next agent
    (a callback too: it is rung back when the next agent accepts)."""
    now = timezone.now()
    with transaction.atomic():
        call = _locked(call)
        if call.status not in (Call.Status.CONNECTING, *WAITING):
            return call
        _event(call, CallEvent.Kind.QUEUED, now, again=True, reason=reason[:200])
        call.status = Call.Status.CALLBACK if call.callback_requested_at else Call.Status.QUEUED
        call.agent = None
        call.save(update_fields=["status", "agent"])
        conversation = call.conversation
        if conversation.assignee_id is not None:
            conversation = conversation_assign(conversation=conversation, assignee=None, actor=None)
        # Where it stood, needing what it needed.
        previous = call.routing_task
        task = task_enqueue(
            conversation=conversation,
            needs=previous.needs if previous is not None else _needs(call, Queue(label=call.queue)),
            rank_at=previous.rank_at if previous is not None else None,
        )
        if task is not None:
            call.routing_task = task
            call.save(update_fields=["routing_task"])
        team_id = conversation.team_id
        transaction.on_commit(lambda: _route(team_id))
    return call


def call_answered(*, call: Call, at: datetime | None = None, leg: str = "") -> Call:
    """The dialled line picked up (the agent's; on a callback, the caller's): the talk begins.

    `leg` is the provider's id of that line, which an escalation moves into a conference. A callback's
    wait is the time the caller held before hanging up, measured when they asked.
    """
    at = at or timezone.now()
    with transaction.atomic():
        call = _locked(call)
        if call.status != Call.Status.CONNECTING:
            return call
        call.status = Call.Status.IN_PROGRESS
        call.answered_at = at
        if call.callback_requested_at is None:
            call.wait_seconds = _seconds(call.queued_at, at)
        call.save(update_fields=["status", "answered_at", "wait_seconds"])
        _event(
            call,
            CallEvent.Kind.ANSWERED,
            at,
            agent=call.agent_id,
            wait_seconds=call.wait_seconds,
            leg=leg[:64],
        )
    return call


def call_held(*, call: Call, seconds: int, at: datetime | None = None) -> Call:
    """The agent held the caller for `seconds` (reported when the hold ends)."""
    at = at or timezone.now()
    with transaction.atomic():
        call = _locked(call)
        call.hold_seconds += max(0, seconds)
        call.save(update_fields=["hold_seconds"])
        _event(call, CallEvent.Kind.HELD, at, seconds=seconds)
    return call


def call_voicemail(*, call: Call, reason: str) -> Call:
    """Nobody can take the call: the caller leaves a message instead of waiting."""
    now = timezone.now()
    with transaction.atomic():
        call = _locked(call)
        if call.status not in (Call.Status.MENU, Call.Status.QUEUED):
            return call
        if call.routing_task is not None:
            task_cancel(task=call.routing_task, why="the caller left a voicemail")
        call.status = Call.Status.VOICEMAIL
        call.wait_seconds = _seconds(call.queued_at, now)
        call.save(update_fields=["status", "wait_seconds"])
        _event(call, CallEvent.Kind.VOICEMAIL, now, reason=reason)
    return call


def call_ended(
    *, call: Call, reason: str, talk_seconds: int | None = None, at: datetime | None = None
) -> Call:
    """The call is over (hung up, failed, completed). A caller who hangs up waiting has abandoned the call."""
    at = at or timezone.now()
    with transaction.atomic():
        call = _locked(call)
        if call.status == Call.Status.ENDED:
            return call
        previous = call.status
        if previous == Call.Status.CALLBACK:
            return call  # the caller hung up to be called back: the call goes on as a callback
        if previous == Call.Status.CONNECTING and call.callback_requested_at is not None:
            # Rung back, the caller did not pick up: the callback was not kept.
            call.outcome = Call.Outcome.FAILED
        elif previous == Call.Status.IN_PROGRESS:
            call.outcome = Call.Outcome.COMPLETED
            call.talk_seconds = talk_seconds if talk_seconds is not None else _seconds(call.answered_at, at)
        elif previous in (Call.Status.QUEUED, Call.Status.CONNECTING):
            call.outcome = Call.Outcome.ABANDONED
            call.wait_seconds = _seconds(call.queued_at, at)
            if call.routing_task is not None:
                task_cancel(task=call.routing_task, why=f"the caller hung up after {call.wait_seconds} s")
        elif previous == Call.Status.VOICEMAIL:
            call.outcome = Call.Outcome.VOICEMAIL
        else:
            call.outcome = Call.Outcome.SELF_SERVICE if reason == "completed" else Call.Outcome.FAILED
        call.status = Call.Status.ENDED
        call.end_reason = reason[:64]
        call.ended_at = at
        call.save(
            update_fields=["status", "outcome", "end_reason", "ended_at", "talk_seconds", "wait_seconds"]
        )
        _event(call, CallEvent.Kind.ENDED, at, reason=reason[:64], was=previous)
        rollup_mark_stale(days={timezone.localdate(call.started_at)})
        if call.outcome == Call.Outcome.COMPLETED:
            _event(call, CallEvent.Kind.COMPLETED, at, talk_seconds=call.talk_seconds)
        elif call.outcome == Call.Outcome.ABANDONED:
            _event(call, CallEvent.Kind.ABANDONED, at, wait_seconds=call.wait_seconds)
    return call


def call_recording(*, call: Call, url: str, recording_id: str, seconds: int) -> Call:
    now = timezone.now()
    with transaction.atomic():
        call = _locked(call)
        if call.recording_url == url:
            return call
        call.recording_url = url[:500]
        call.save(update_fields=["recording_url"])
        _event(call, CallEvent.Kind.RECORDING, now, recording=recording_id[:64], seconds=seconds)
    return call


def call_transcript(*, call: Call, text: str, transcription_id: str) -> Call:
    """A recording's transcript arrived; a voicemail's becomes the customer's message in the conversation."""
    text = text.strip()
    with transaction.atomic():
        call = _locked(call)
        call.transcript = text
        call.save(update_fields=["transcript"])
    if call.outcome == Call.Outcome.VOICEMAIL or call.status == Call.Status.VOICEMAIL:
        receive_message(
            Inbound(
                channel=call.channel,
                claims=[_caller_claim(call.caller, call.external_id)],
                text=f"Voicemail: {text}" if text else "Voicemail (no transcript).",
                external_id=f"voicemail:{transcription_id}",
                thread=f"call:{call.external_id}",
                metadata={"call": call.external_id, "voicemail": True, "recording": call.recording_url},
            )
        )
    return call


def call_note(*, call: Call, actor: User, notes: str, disposition: str) -> Call:
    if len(notes) > 20_000 or len(disposition) > 64:
        raise InvalidInput("notes are limited to 20,000 characters and a disposition to 64")
    if call.agent_id not in (None, actor.pk) and not actor.sees_everything:
        raise Forbidden("only the agent who took the call, or a manager, writes its notes")
    with transaction.atomic():
        call = _locked(call)
        call.notes = notes
        call.disposition = disposition
        call.save(update_fields=["notes", "disposition"])
    return call


def _seconds(start: datetime | None, end: datetime) -> int:
    return max(0, round((end - start).total_seconds())) if start is not None else 0
