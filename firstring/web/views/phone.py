"""The managers' phone page: the call log and the call-centre figures, with Erlang C staffing advice."""

from __future__ import annotations

from datetime import timedelta

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from firstring.accounts.access import require_manager, signed_in_user
from firstring.accounts.models import User
from firstring.conversations.access import conversation_get_for_user
from firstring.lib.errors import InvalidInput, NotFound
from firstring.voice.models import Call
from firstring.voice.phone.sip.recordings import recording_path
from firstring.voice.selectors import call_log, call_metrics
from firstring.web.errors import agent_view

PERIODS = {"1": 1, "24": 24, "168": 168}


def _number(request: HttpRequest, name: str, default: int, low: int, high: int) -> int:
    raw = request.GET.get(name, "") or str(default)
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise InvalidInput(f"{name} must be a whole number from {low} to {high}")
    return int(raw)


@require_GET
@agent_view
def phone(request: HttpRequest) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)
    require_manager(user, "the phone figures are for managers")
    hours = _number(request, "hours", 24, 1, 24 * 31)
    target = _number(request, "target", 20, 1, 3600)
    level = _number(request, "level", 80, 1, 99)
    since = timezone.now() - timedelta(hours=hours)
    context = {
        "metrics": call_metrics(since=since, target_seconds=target, target_level=level / 100),
        "calls": call_log(since=since, limit=100),
        "hours": hours,
        "target": target,
        "level": level,
    }
    return render(request, "web/phone.html", context)


@require_GET
@agent_view
def call_recording(request: HttpRequest, call_id: int) -> HttpResponse:
    """A voicemail the SIP endpoint recorded, for staff who may see the call's conversation."""
    conversation_id = Call.objects.filter(pk=call_id).values_list("conversation_id", flat=True).first()
    if conversation_id is None:
        raise NotFound("no such call")
    conversation_get_for_user(signed_in_user(request), conversation_id)
    path = recording_path(call_id)
    if not path.exists():
        raise NotFound("the call has no recording here")
    return HttpResponse(path.read_bytes(), content_type="audio/wav")  # at most 120 s: about 1 MB
