"""Managers edit the service-level policies and the business calendars they are measured in."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from firstring.accounts.access import require_manager, signed_in_user
from firstring.accounts.models import User
from firstring.lib.errors import InvalidInput, NotFound
from firstring.sla.models import PRIORITIES, BusinessCalendar, Holiday, SlaPolicy
from firstring.sla.selectors import calendar_open_days
from firstring.sla.services import (
    REFUSAL,
    business_calendar_delete,
    business_calendar_save,
    holiday_add,
    holiday_remove,
    sla_policy_delete,
    sla_policy_save,
    sla_preview,
)
from firstring.web.errors import agent_view, is_htmx
from firstring.web.forms import form_errors, valid
from firstring.web.forms_sla import (
    BusinessCalendarForm,
    HolidayForm,
    OpenHoursForm,
    SlaPolicyForm,
    SlaPreviewForm,
)


def _manager(request: HttpRequest) -> User:
    return require_manager(signed_in_user(request), REFUSAL)


def _policy(policy_id: int) -> SlaPolicy:
    policy = SlaPolicy.objects.select_related("calendar").filter(pk=policy_id).first()
    if policy is None:
        raise NotFound(f"SLA policy {policy_id} not found")
    return policy


def _calendar(calendar_id: int) -> BusinessCalendar:
    calendar = BusinessCalendar.objects.prefetch_related("holidays").filter(pk=calendar_id).first()
    if calendar is None:
        raise NotFound(f"business calendar {calendar_id} not found")
    return calendar


def _saved(
    request: HttpRequest,
    form: forms.Form,
    save: Callable[[], Any],
    template: str,
    context: Callable[[], dict[str, Any]],
) -> HttpResponse | None:
    """Save through the service, or the page again with the form's errors (422); None when saved."""
    if form.is_valid():
        try:
            save()
            return None
        except InvalidInput as error:
            form.add_error(None, str(error))
    return render(request, template, {**context(), "form": form, "errors": form_errors(form)}, status=422)


def _policies() -> list[SlaPolicy]:
    return list(SlaPolicy.objects.select_related("calendar").order_by("position", "id"))


@require_http_methods(["GET", "POST"])
@agent_view
def policy_list(request: HttpRequest) -> HttpResponse:
    manager = _manager(request)
    context = {"policies": _policies(), "preview_form": SlaPreviewForm()}
    if request.method == "POST":
        form = SlaPolicyForm(request.POST)
        failed = _saved(
            request,
            form,
            lambda: sla_policy_save(actor=manager, **form.cleaned_data),
            "web/sla/policies.html",
            lambda: context,
        )
        return failed or redirect("web:sla")
    return render(request, "web/sla/policies.html", {**context, "form": SlaPolicyForm()})


@require_http_methods(["GET", "POST"])
@agent_view
def policy_edit(request: HttpRequest, policy_id: int) -> HttpResponse:
    manager = _manager(request)
    policy = _policy(policy_id)
    if request.method == "POST":
        form = SlaPolicyForm(request.POST)
        failed = _saved(
            request,
            form,
            lambda: sla_policy_save(actor=manager, policy=policy, **form.cleaned_data),
            "web/sla/policy.html",
            lambda: {"policy": policy},
        )
        return failed or redirect("web:sla")
    return render(
        request, "web/sla/policy.html", {"policy": policy, "form": SlaPolicyForm.for_policy(policy)}
    )


@require_POST
@agent_view
def policy_delete(request: HttpRequest, policy_id: int) -> HttpResponse:
    sla_policy_delete(actor=_manager(request), policy=_policy(policy_id))
    return redirect("web:sla")


@require_GET
@agent_view
def preview(request: HttpRequest) -> HttpResponse:
    """Which policy a conversation with these values would get, and when its targets fall due."""
    _manager(request)
    form = SlaPreviewForm(request.GET)
    data = valid(form)
    at = data["at"] or timezone.now()
    context: dict[str, Any] = {
        "preview_form": form,
        "preview_at": at,
        "preview_priority": dict(PRIORITIES)[data["priority"]].lower(),
        "preview": sla_preview(
            priority=data["priority"],
            channel_kind=data["channel_kind"],
            customer_tier=data["customer_tier"],
            at=at,
        ),
    }
    if is_htmx(request):
        return render(request, "web/sla/policies.html#preview", context)
    return render(
        request, "web/sla/policies.html", {**context, "policies": _policies(), "form": SlaPolicyForm()}
    )


@require_http_methods(["GET", "POST"])
@agent_view
def calendar_list(request: HttpRequest) -> HttpResponse:
    manager = _manager(request)
    calendars = BusinessCalendar.objects.prefetch_related("holidays", "policies").order_by("name")
    if request.method == "POST":
        form = BusinessCalendarForm(request.POST)
        created: list[BusinessCalendar] = []
        failed = _saved(
            request,
            form,
            lambda: created.append(business_calendar_save(actor=manager, **form.service_fields())),
            "web/sla/calendars.html",
            lambda: {"calendars": calendars},
        )
        return failed or redirect("web:sla-calendar", created[0].pk)
    return render(request, "web/sla/calendars.html", {"calendars": calendars, "form": BusinessCalendarForm()})


def _calendar_context(request: HttpRequest, calendar: BusinessCalendar) -> dict[str, Any]:
    # Changes to the holidays send the open-hours form along, so the days shown stay those chosen.
    hours_form = OpenHoursForm(request.POST if request.method == "POST" else request.GET)
    start = hours_form.cleaned_data["start"] if hours_form.is_valid() else None
    return {
        "calendar": calendar,
        "holiday_form": HolidayForm(),
        "hours_form": hours_form,
        "open_days": calendar_open_days(calendar, start=start),
    }


@require_http_methods(["GET", "POST"])
@agent_view
def calendar_edit(request: HttpRequest, calendar_id: int) -> HttpResponse:
    manager = _manager(request)
    calendar = _calendar(calendar_id)
    if request.method == "POST":
        form = BusinessCalendarForm(request.POST)
        failed = _saved(
            request,
            form,
            lambda: business_calendar_save(actor=manager, calendar=calendar, **form.service_fields()),
            "web/sla/calendar.html",
            lambda: _calendar_context(request, _calendar(calendar_id)),
        )
        return failed or redirect("web:sla-calendar", calendar.pk)
    context = _calendar_context(request, calendar)
    if is_htmx(request):
        return render(request, "web/sla/calendar.html#days", context)
    return render(
        request, "web/sla/calendar.html", {**context, "form": BusinessCalendarForm.for_calendar(calendar)}
    )


@require_POST
@agent_view
def calendar_delete(request: HttpRequest, calendar_id: int) -> HttpResponse:
    business_calendar_delete(actor=_manager(request), calendar=_calendar(calendar_id))
    return redirect("web:sla-calendars")


def _days(request: HttpRequest, calendar_id: int) -> HttpResponse:
    """The holidays and the open hours after a change: the fragment under HTMX, else the page."""
    if is_htmx(request):
        return render(
            request, "web/sla/calendar.html#days", _calendar_context(request, _calendar(calendar_id))
        )
    return redirect("web:sla-calendar", calendar_id)


@require_POST
@agent_view
def holiday_create(request: HttpRequest, calendar_id: int) -> HttpResponse:
    manager = _manager(request)
    calendar = _calendar(calendar_id)
    data = valid(HolidayForm(request.POST))
    holiday_add(actor=manager, calendar=calendar, day=data["date"], name=data["name"])
    return _days(request, calendar.pk)


@require_POST
@agent_view
def holiday_delete(request: HttpRequest, calendar_id: int, holiday_id: int) -> HttpResponse:
    manager = _manager(request)
    holiday = Holiday.objects.filter(pk=holiday_id, calendar=calendar_id).first()
    if holiday is None:
        raise NotFound(f"holiday {holiday_id} not found")
    holiday_remove(actor=manager, holiday=holiday)
    return _days(request, calendar_id)
