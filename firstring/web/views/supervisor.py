"""The supervisors' live view: queues, agents, service level and escalations, refreshed as they change."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from firstring.accounts.access import require_manager
from firstring.accounts.models import User
from firstring.escalations.selectors import escalations_summary
from firstring.routing.selectors import supervisor_snapshot
from firstring.web.errors import agent_view, is_htmx


@require_GET
@agent_view
def supervisor(request: HttpRequest) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)
    require_manager(user, "the live view is for managers")
    context = {"snapshot": supervisor_snapshot(), "escalations": escalations_summary()}
    template = "web/supervisor.html#board" if is_htmx(request) else "web/supervisor.html"
    return render(request, template, context)
