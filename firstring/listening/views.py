"""The listening inbox: mentions to triage by monitor, tone, reach and source, and the spike alerts."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from firstring.accounts.access import require_manager
from firstring.accounts.models import User
from firstring.api.paging import page
from firstring.insights.selectors import active_topics
from firstring.lib.cursor import SortKey
from firstring.lib.errors import NotFound
from firstring.listening import selectors, services
from firstring.listening.forms import (
    AnalyticsForm,
    AssignForm,
    MentionFilterForm,
    MonitorForm,
    PauseForm,
    PreviewForm,
    ReplyForm,
    StatusForm,
)
from firstring.listening.models import Alert, Monitor
from firstring.listening.selectors import REACH_LEVELS
from firstring.listening.sources import all_kinds
from firstring.web.errors import agent_view, error_response, is_htmx
from firstring.web.forms import form_errors, valid

PAGE_SIZE = 50
ORDER = [SortKey("posted_at", descending=True), SortKey("id", descending=True)]


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


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
    services.mention_assign(actor=_user(request), mention_id=mention_id, assignee=data["assignee"])
    return _back(request)


@require_POST
@agent_view
def set_status(request: HttpRequest, mention_id: int) -> HttpResponse:
    data = valid(StatusForm(request.POST))
    services.mention_set_status(actor=_user(request), mention_id=mention_id, status=data["status"])
    return _back(request)


@require_POST
@agent_view
def convert(request: HttpRequest, mention_id: int) -> HttpResponse:
    mention = services.mention_convert(actor=_user(request), mention_id=mention_id)
    return redirect("web:conversation", mention.conversation_id)


@require_POST
@agent_view
def reply(request: HttpRequest, mention_id: int) -> HttpResponse:
    data = valid(ReplyForm(request.POST))
    message = services.mention_reply(
        actor=_user(request),
        mention_id=mention_id,
        text=data["text"],
        private=data["visibility"] == "private",
    )
    return redirect("web:conversation", message.conversation_id)


@require_GET
@agent_view
def analytics(request: HttpRequest) -> HttpResponse:
    data = valid(AnalyticsForm(request.GET))
    until = timezone.now()
    since = until - timedelta(days=data["days"] or 7)
    chosen = data["monitor"] or list(
        selectors.monitors_all().filter(enabled=True).values_list("pk", flat=True)[:20]
    )
    stats = selectors.listening_analytics(
        monitor_ids=chosen, since=since, until=until, bucket="hour" if (data["days"] or 7) <= 2 else "day"
    )
    return render(
        request,
        "listening/analytics.html",
        {
            "stats": stats,
            "since": since,
            "until": until,
            "monitors": selectors.monitors_all(),
            "chosen": chosen,
            "days": data["days"] or 7,
        },
    )


# The monitor editor (managers): a monitor's changes apply to what arrives from then on.

PREVIEW_SHOWN = 50


def _manager(request: HttpRequest) -> User:
    return require_manager(_user(request), "only managers and admins edit monitors")


def _monitor(monitor_id: int) -> Monitor:
    monitor = Monitor.objects.filter(pk=monitor_id).first()
    if monitor is None:
        raise NotFound(f"monitor {monitor_id} not found")
    return monitor


@require_GET
@agent_view
def monitor_list(request: HttpRequest) -> HttpResponse:
    _manager(request)
    return render(request, "listening/monitors.html", {"monitors": selectors.monitors_with_counts()})


def _editor(
    request: HttpRequest, form: MonitorForm, monitor: Monitor | None, status: int = 200, **extra: Any
) -> HttpResponse:
    return render(
        request, "listening/monitor.html", {"form": form, "monitor": monitor, **extra}, status=status
    )


def _service_fields(data: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": data["name"],
        "query": data["query"],
        "languages": data["languages"],
        "source_kinds": data["source_kinds"],
        "enabled": data["enabled"],
        "alert_webhook_url": data["alert_webhook_url"],
        "alert_emails": data["alert_emails"],
    }


@require_http_methods(["GET", "POST"])
@agent_view
def monitor_new(request: HttpRequest) -> HttpResponse:
    manager = _manager(request)
    if request.method != "POST":
        return _editor(request, MonitorForm(initial={"enabled": True}), None)
    form = MonitorForm(request.POST)
    if not form.is_valid():
        return _editor(request, form, None, status=422)
    monitor = services.monitor_create(actor=manager, **_service_fields(form.cleaned_data))
    return redirect("listening:monitor", monitor.pk)


@require_http_methods(["GET", "POST"])
@agent_view
def monitor_edit(request: HttpRequest, monitor_id: int) -> HttpResponse:
    _manager(request)
    monitor = _monitor(monitor_id)
    if request.method != "POST":
        return _editor(request, MonitorForm.for_monitor(monitor), monitor, saved="saved" in request.GET)
    form = MonitorForm(request.POST)
    if not form.is_valid():
        return _editor(request, form, monitor, status=422)
    services.monitor_update(monitor_id=monitor.pk, **_service_fields(form.cleaned_data))
    return redirect(reverse("listening:monitor", args=[monitor.pk]) + "?saved=1")


@require_POST
@agent_view
def monitor_pause(request: HttpRequest, monitor_id: int) -> HttpResponse:
    _manager(request)
    data = valid(PauseForm(request.POST))
    services.monitor_update(monitor_id=_monitor(monitor_id).pk, enabled=data["enabled"])
    return redirect("listening:monitors")


@require_POST
@agent_view
def monitor_preview(request: HttpRequest, monitor_id: int | None = None) -> HttpResponse:
    """What the query in the editor would have matched among the last stored mentions (HTMX or not)."""
    _manager(request)
    monitor = _monitor(monitor_id) if monitor_id is not None else None
    form = PreviewForm(request.POST)
    if not form.is_valid():
        if is_htmx(request):
            return error_response(request, 422, form_errors(form))
        return _editor(request, form, monitor, status=422)
    data = form.cleaned_data
    preview = services.monitor_preview(
        query=data["query"],
        languages=data["languages"],
        source_kinds=data["source_kinds"],
        monitor_id=monitor.pk if monitor else None,
    )
    context: dict[str, Any] = {"preview": preview, "shown": preview.matched[:PREVIEW_SHOWN]}
    if is_htmx(request):
        return render(request, "listening/monitor.html#preview", {**context, "monitor": monitor})
    return _editor(request, form, monitor, **context)
