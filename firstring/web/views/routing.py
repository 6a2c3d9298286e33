"""The agent's side of routing: their presence, and the offers that ring for them (accept, decline)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from firstring.accounts.access import signed_in_user
from firstring.routing.selectors import offer_get_for_agent
from firstring.routing.services import (
    notification_read,
    notifications_read_all,
    offer_accept,
    offer_decline,
    presence_set,
)
from firstring.web import selectors
from firstring.web.errors import agent_view, is_htmx
from firstring.web.forms import PresenceForm, valid

TEMPLATE = "web/routing_bar.html"


def _bar(request: HttpRequest, part: str = "bar") -> HttpResponse:
    if not is_htmx(request):
        return redirect("web:inbox")
    user = signed_in_user(request)
    # The offers alone ring on the path from a customer's message to the agent's screen.
    context = selectors.routing_offers(user=user) if part == "offers" else selectors.routing_bar(user=user)
    return render(request, f"{TEMPLATE}#{part}", context)


@require_GET
@agent_view
def offers(request: HttpRequest) -> HttpResponse:
    return _bar(request, "offers")


@require_POST
@agent_view
def set_presence(request: HttpRequest) -> HttpResponse:
    data = valid(PresenceForm(request.POST))
    presence_set(user=signed_in_user(request), presence=data["presence"])
    return _bar(request)


@require_POST
@agent_view
def accept(request: HttpRequest, task_id: int) -> HttpResponse:
    task = offer_get_for_agent(user=signed_in_user(request), task_id=task_id)
    offer_accept(task=task, agent=signed_in_user(request))
    url = reverse("web:conversation", args=[task.conversation_id])
    if is_htmx(request):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


@require_POST
@agent_view
def decline(request: HttpRequest, task_id: int) -> HttpResponse:
    task = offer_get_for_agent(user=signed_in_user(request), task_id=task_id)
    offer_decline(task=task, agent=signed_in_user(request))
    return _bar(request, "offers")


@require_GET
@agent_view
def notifications(request: HttpRequest) -> HttpResponse:
    return _bar(request, "notifications")


@require_POST
@agent_view
def notification_open(request: HttpRequest, notification_id: int) -> HttpResponse:
    """Mark it read and go where it points (only our own paths: a notification's url is ours)."""
    notification = notification_read(user=signed_in_user(request), notification_id=notification_id)
    url = (
        notification.url if notification.url.startswith("/") and not notification.url.startswith("//") else ""
    )
    return redirect(url or "web:inbox")


@require_POST
@agent_view
def notifications_clear(request: HttpRequest) -> HttpResponse:
    notifications_read_all(user=signed_in_user(request))
    return _bar(request, "notifications")
