"""The listening inbox: mentions triaged by monitor, tone, reach, source, topic and urgency; spike
alerts; and what agents do with a mention (assign, mark, turn into a conversation, reply)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from firstring.accounts.access import signed_in_user
from firstring.accounts.models import User
from firstring.api.paging import page
from firstring.insights.selectors import active_topics
from firstring.lib.cursor import SortKey
from firstring.listening import selectors, services
from firstring.listening.forms import AssignForm, MentionFilterForm, ReplyForm, StatusForm
from firstring.listening.models import Alert
from firstring.listening.selectors import REACH_LEVELS
from firstring.listening.sources import all_kinds
from firstring.web.errors import agent_view
from firstring.web.forms import valid

PAGE_SIZE = 50
ORDER = [SortKey("posted_at", descending=True), SortKey("id", descending=True)]


@require_GET
@agent_view
def inbox(request: HttpRequest) -> HttpResponse:
    form = MentionFilterForm(request.GET)
    data = valid(form)
    mentions = selectors.mentions_filtered(
        monitor_id=data["monitor"],
        tone=data["tone"] or None,
        status=data["status"] or None,
        source=data["source"] or None,
        min_reach=REACH_LEVELS.get(data["reach"] or "any", 0),
        topic_id=data["topic"],
        urgent={"1": True, "0": False}.get(data["urgent"]),
    ).prefetch_related("matches__monitor")
    rows, next_cursor = page(mentions, ORDER, data["cursor"] or None, PAGE_SIZE)
    query = request.GET.copy()
    query.pop("cursor", None)
    return render(
        request,
        "listening/inbox.html",
        {
            "form": form,
            "filters": data,
            "rows": rows,
            "next_query": f"{query.urlencode()}&cursor={next_cursor}" if next_cursor else "",
            "monitors": selectors.monitors_all(),
            "topics": active_topics(),
            "kinds": all_kinds(),
            # Source kinds whose mentions can be answered through their API (a reply form each).
            "repliable": [kind.kind for kind in all_kinds() if kind.reply is not None],
            "alerts": selectors.alerts_recent(limit=5),
            "users": User.objects.filter(is_active=True).order_by("name", "email"),
            "back": request.get_full_path(),
        },
    )


@require_GET
@agent_view
def alert_detail(request: HttpRequest, alert_id: int) -> HttpResponse:
    alert = get_object_or_404(Alert.objects.select_related("monitor"), pk=alert_id)
    samples = alert.samples.order_by("-reach", "-posted_at")
    return render(request, "listening/alert.html", {"alert": alert, "samples": samples})


def _back(request: HttpRequest) -> HttpResponse:
    target = request.POST.get("next", "")
    if not target.startswith("/listening/") or target.startswith("//"):
        target = reverse("listening:inbox")
    return redirect(target)


@require_POST
@agent_view
def assign(request: HttpRequest, mention_id: int) -> HttpResponse:
    data = valid(AssignForm(request.POST))
    services.mention_assign(actor=signed_in_user(request), mention_id=mention_id, assignee=data["assignee"])
    return _back(request)


@require_POST
@agent_view
def set_status(request: HttpRequest, mention_id: int) -> HttpResponse:
    data = valid(StatusForm(request.POST))
    services.mention_set_status(actor=signed_in_user(request), mention_id=mention_id, status=data["status"])
    return _back(request)


@require_POST
@agent_view
def convert(request: HttpRequest, mention_id: int) -> HttpResponse:
    mention = services.mention_convert(actor=signed_in_user(request), mention_id=mention_id)
    return redirect("web:conversation", mention.conversation_id)


@require_POST
@agent_view
def reply(request: HttpRequest, mention_id: int) -> HttpResponse:
    data = valid(ReplyForm(request.POST))
    message = services.mention_reply(
        actor=signed_in_user(request),
        mention_id=mention_id,
        text=data["text"],
        private=data["visibility"] == "private",
    )
    return redirect("web:conversation", message.conversation_id)
