"""One conversation: its timeline, the customer beside it, and the agent's actions as HTMX posts.

Each action validates its form, calls one service and answers with the fragments it changed; without
JavaScript the same forms post normally and redirect back to the page.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from firstring.accounts.access import signed_in_user
from firstring.accounts.models import User
from firstring.conversations.access import conversation_get_for_user
from firstring.conversations.attachments import attachments_from_uploads
from firstring.conversations.models import Conversation, Message, Tone
from firstring.conversations.services import (
    conversation_assign,
    conversation_set_priority,
    conversation_set_status,
    conversation_set_tags,
    conversation_set_team,
    note_add,
    reply_send,
)
from firstring.conversations.services.actions import user_get_assignable
from firstring.escalations.selectors import escalation_live_for, managers
from firstring.insights.selectors import active_topics, message_insights
from firstring.insights.services import tone_correct
from firstring.insights.topic_services import message_topic_tag, message_topic_untag
from firstring.lib.errors import NotFound
from firstring.routing.selectors import routing_log
from firstring.surveys.selectors import conversation_surveys
from firstring.web import selectors
from firstring.web.errors import agent_view, is_htmx
from firstring.web.forms import (
    AssignForm,
    NoteForm,
    PriorityForm,
    ReplyForm,
    StatusForm,
    TagsForm,
    TeamForm,
    valid,
)

TEMPLATE = "web/conversation.html"


class ToneCorrectForm(forms.Form):
    label = forms.ChoiceField(choices=Tone.choices)


class TopicTagForm(forms.Form):
    topic = forms.IntegerField(min_value=1)
    action = forms.ChoiceField(choices=[("tag", "tag"), ("untag", "untag")])


def _load(request: HttpRequest, conversation_id: int) -> Conversation:
    return conversation_get_for_user(signed_in_user(request), conversation_id)


def _timeline_context(conversation: Conversation) -> dict[str, Any]:
    """What the timeline and the summary show: all that a reply, a note or a live update redraws."""
    conversation = (
        Conversation.objects.select_related("customer", "channel", "assignee", "team", "identity")
        .prefetch_related("tags")
        .get(pk=conversation.pk)
    )
    timeline = selectors.conversation_timeline(conversation=conversation)
    inbound = [i.message for i in timeline if i.message and i.message.direction == "inbound"]
    found = message_insights(m.pk for m in inbound)
    for message in inbound:
        message.insight = found.get(message.pk)  # type: ignore[attr-defined]
    return {
        "conversation": conversation,
        "timeline": timeline,
        "topic_choices": active_topics(),
        "tones": Tone.choices,
    }


def _context(user: User, conversation: Conversation) -> dict[str, Any]:
    context = _timeline_context(conversation)
    conversation = context["conversation"]
    customer = selectors.customer_with_identities(customer=conversation.customer)
    return {
        **context,
        "customer": customer,
        "customer_conversations": selectors.customer_conversations_for_user(user=user, customer=customer),
        "reply_targets": selectors.reply_targets(user=user, conversation=conversation),
        "assignable": selectors.assignable_users(conversation=conversation),
        "teams": selectors.team_choices(user=user),
        "statuses": Conversation.Status.choices,
        "priorities": Conversation.Priority.choices,
        "tag_names": ", ".join(tag.name for tag in conversation.tags.all()),
        "escalation": escalation_live_for(conversation=conversation),
        "managers": managers(),
        "routing_log": routing_log(conversation=conversation),
        "surveys": conversation_surveys(conversation_id=conversation.pk),
    }


@require_GET
@agent_view
def conversation_detail(request: HttpRequest, conversation_id: int) -> HttpResponse:
    conversation = _load(request, conversation_id)
    return render(request, TEMPLATE, _context(signed_in_user(request), conversation))


@require_GET
@agent_view
def conversation_timeline(request: HttpRequest, conversation_id: int) -> HttpResponse:
    conversation = _load(request, conversation_id)
    return render(request, f"{TEMPLATE}#timeline-response", _timeline_context(conversation))


def _after(request: HttpRequest, conversation_id: int, fragment: str) -> HttpResponse:
    """Answer an action: the changed fragments under HTMX, else back to the page."""
    url = reverse("web:conversation", args=[conversation_id])
    try:
        conversation = _load(request, conversation_id)
    except NotFound:
        # The action moved it out of the agent's sight (another team): back to the inbox.
        inbox = reverse("web:inbox")
        if is_htmx(request):
            response = HttpResponse(status=204)
            response["HX-Redirect"] = inbox
            return response
        return redirect(inbox)
    if not is_htmx(request):
        return redirect(url)
    # The timeline alone needs a fraction of the page's queries: a reply's answer is on the path from
    # the agent to the customer's chat window.
    context = (
        _timeline_context(conversation)
        if fragment == "timeline-response"
        else _context(signed_in_user(request), conversation)
    )
    return render(request, f"{TEMPLATE}#{fragment}", context)


@require_POST
@agent_view
def reply(request: HttpRequest, conversation_id: int) -> HttpResponse:
    conversation = _load(request, conversation_id)
    data = valid(ReplyForm(request.POST, request.FILES))
    target = selectors.reply_target_get(
        user=signed_in_user(request), conversation=conversation, value=data["target"]
    )
    reply_send(
        conversation=conversation,
        author=signed_in_user(request),
        text=data["text"],
        channel=target.channel if target else None,
        recipient=target.identity if target else None,
        attachments=attachments_from_uploads(request.FILES.getlist("files")),
    )
    return _after(request, conversation_id, "timeline-response")


@require_POST
@agent_view
def note(request: HttpRequest, conversation_id: int) -> HttpResponse:
    conversation = _load(request, conversation_id)
    data = valid(NoteForm(request.POST))
    note_add(conversation=conversation, author=signed_in_user(request), text=data["text"])
    return _after(request, conversation_id, "timeline-response")


@require_POST
@agent_view
def assign(request: HttpRequest, conversation_id: int) -> HttpResponse:
    conversation = _load(request, conversation_id)
    data = valid(AssignForm(request.POST))
    assignee = user_get_assignable(data["assignee"]) if data["assignee"] else None
    conversation_assign(conversation=conversation, assignee=assignee, actor=signed_in_user(request))
    return _after(request, conversation_id, "actions-response")


@require_POST
@agent_view
def set_team(request: HttpRequest, conversation_id: int) -> HttpResponse:
    conversation = _load(request, conversation_id)
    data = valid(TeamForm(request.POST))
    team = selectors.team_get(team_id=data["team"]) if data["team"] else None
    conversation_set_team(conversation=conversation, team=team, actor=signed_in_user(request))
    return _after(request, conversation_id, "actions-response")


@require_POST
@agent_view
def set_status(request: HttpRequest, conversation_id: int) -> HttpResponse:
    conversation = _load(request, conversation_id)
    data = valid(StatusForm(request.POST))
    conversation_set_status(
        conversation=conversation,
        status=data["status"],
        actor=signed_in_user(request),
        snoozed_until=data["snoozed_until"] if data["status"] == Conversation.Status.SNOOZED else None,
    )
    return _after(request, conversation_id, "actions-response")


@require_POST
@agent_view
def set_priority(request: HttpRequest, conversation_id: int) -> HttpResponse:
    conversation = _load(request, conversation_id)
    data = valid(PriorityForm(request.POST))
    conversation_set_priority(
        conversation=conversation, priority=data["priority"], actor=signed_in_user(request)
    )
    return _after(request, conversation_id, "actions-response")


@require_POST
@agent_view
def set_tags(request: HttpRequest, conversation_id: int) -> HttpResponse:
    conversation = _load(request, conversation_id)
    form = TagsForm(request.POST)
    valid(form)
    conversation_set_tags(conversation=conversation, names=form.names(), actor=signed_in_user(request))
    return _after(request, conversation_id, "actions-response")


@require_POST
@agent_view
def message_tone(request: HttpRequest, conversation_id: int, message_id: int) -> HttpResponse:
    """One click: an agent says what the customer's tone really was (the correction is kept)."""
    _load(request, conversation_id)
    data = valid(ToneCorrectForm(request.POST))
    tone_correct(
        user=signed_in_user(request),
        message_id=_own_message(conversation_id, message_id),
        label=data["label"],
    )
    return _after(request, conversation_id, "timeline-response")


@require_POST
@agent_view
def message_topic(request: HttpRequest, conversation_id: int, message_id: int) -> HttpResponse:
    """An agent tags a customer's message with a topic, or says it is not about one (both teach)."""
    _load(request, conversation_id)
    data = valid(TopicTagForm(request.POST))
    change = message_topic_tag if data["action"] == "tag" else message_topic_untag
    change(
        user=signed_in_user(request),
        message_id=_own_message(conversation_id, message_id),
        topic_id=data["topic"],
    )
    return _after(request, conversation_id, "timeline-response")


def _own_message(conversation_id: int, message_id: int) -> int:
    if not Message.objects.filter(pk=message_id, conversation_id=conversation_id).exists():
        raise NotFound(f"message {message_id} not found")
    return message_id
