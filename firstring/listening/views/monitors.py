"""The managers' monitor editor: list, create, edit, pause, and the preview of what a query would match."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from firstring.accounts.access import require_manager, signed_in_user
from firstring.accounts.models import User
from firstring.lib.errors import NotFound
from firstring.listening import selectors, services
from firstring.listening.forms import MonitorForm, PauseForm, PreviewForm
from firstring.listening.models import Monitor
from firstring.web.errors import agent_view, error_response, is_htmx
from firstring.web.forms import form_errors, valid

# A monitor's changes apply to what arrives from then on (services.monitor_update).
PREVIEW_SHOWN = 50


def _manager(request: HttpRequest) -> User:
    return require_manager(signed_in_user(request), "only managers and admins edit monitors")


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
