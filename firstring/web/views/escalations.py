"""Escalations to management and the lessons learned: raise from a conversation, handle, search."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from firstring.accounts.access import require_manager, signed_in_user
from firstring.accounts.models import User
from firstring.conversations.access import conversation_get_for_user
from firstring.escalations.selectors import (
    context_pack,
    escalation_get_for_manager,
    escalations_live,
    lessons_search,
)
from firstring.escalations.services import (
    escalation_acknowledge,
    escalation_raise,
    escalation_resolve,
    escalation_take,
    lesson_record,
)
from firstring.lib.errors import InvalidInput
from firstring.web.errors import agent_view
from firstring.web.forms import EscalateForm, EscalationResolveForm, LessonForm, LessonSearchForm, valid


def _manager(request: HttpRequest) -> User:
    return require_manager(signed_in_user(request), "only managers handle escalations")


@require_POST
@agent_view
def escalate(request: HttpRequest, conversation_id: int) -> HttpResponse:
    conversation = conversation_get_for_user(signed_in_user(request), conversation_id)
    data = valid(EscalateForm(request.POST))
    manager = None
    if data["manager"]:
        manager = User.objects.filter(pk=data["manager"], is_active=True).first()
        if manager is None:
            raise InvalidInput("no such manager")
    escalation_raise(
        conversation=conversation, raised_by=signed_in_user(request), reason=data["reason"], manager=manager
    )
    return redirect("web:conversation", conversation.pk)


@require_GET
@agent_view
def escalation_list(request: HttpRequest) -> HttpResponse:
    _manager(request)
    return render(request, "web/escalations.html", {"escalations": list(escalations_live())})


@require_GET
@agent_view
def escalation_detail(request: HttpRequest, escalation_id: int) -> HttpResponse:
    escalation = escalation_get_for_manager(user=signed_in_user(request), escalation_id=escalation_id)
    return render(request, "web/escalation.html", {"pack": context_pack(escalation=escalation)})


@require_POST
@agent_view
def escalation_action(request: HttpRequest, escalation_id: int, action: str) -> HttpResponse:
    manager = _manager(request)
    escalation = escalation_get_for_manager(user=manager, escalation_id=escalation_id)
    if action == "acknowledge":
        escalation_acknowledge(escalation=escalation, manager=manager)
    elif action == "take":
        escalation_take(escalation=escalation, manager=manager)
        return redirect("web:conversation", escalation.conversation_id)
    else:
        data = valid(EscalationResolveForm(request.POST))
        escalation_resolve(
            escalation=escalation,
            manager=manager,
            outcome=data["outcome"],
            lesson_title=data["lesson_title"],
            lesson_text=data["lesson_text"],
        )
    return redirect("web:escalation", escalation.pk)


@require_http_methods(["GET", "POST"])
@agent_view
def lessons(request: HttpRequest) -> HttpResponse:
    """Every staff member searches the lessons; managers write them."""
    if request.method == "POST":
        data = valid(LessonForm(request.POST))
        lesson_record(author=signed_in_user(request), title=data["title"], text=data["text"])
        return redirect("web:lessons")
    query = valid(LessonSearchForm(request.GET))["q"]
    return render(request, "web/lessons.html", {"lessons": lessons_search(query=query), "q": query})
