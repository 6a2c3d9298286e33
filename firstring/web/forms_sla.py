"""Forms of the service-level editor: policies, calendars (one field of intervals per weekday), holidays,
and the preview. They check types and shapes; the sla services decide what is allowed."""

from __future__ import annotations

from typing import Any

from django import forms

from firstring.sla.hours import WEEKDAYS
from firstring.sla.models import PRIORITIES, BusinessCalendar, SlaPolicy

DAY_NAMES = dict(
    zip(WEEKDAYS, ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"), strict=True)
)


def _minutes(label: str) -> forms.IntegerField:
    return forms.IntegerField(
        min_value=1,
        max_value=366 * 24 * 60,
        required=False,
        label=label,
        help_text="Minutes; blank: no target.",
    )


class SlaPolicyForm(forms.Form):
    name = forms.CharField(max_length=100)
    position = forms.IntegerField(
        min_value=0, max_value=100_000, initial=100, help_text="Lower is tried first."
    )
    active = forms.BooleanField(required=False, initial=True)
    priority = forms.TypedChoiceField(
        choices=[("", "Any"), *PRIORITIES], coerce=int, empty_value=None, required=False
    )
    channel_kind = forms.CharField(
        max_length=32, required=False, help_text="e.g. email, chat, sms; blank: any."
    )
    customer_tier = forms.CharField(max_length=32, required=False, help_text="e.g. vip; blank: any.")
    first_response_minutes = _minutes("First response")
    next_response_minutes = _minutes("Next response")
    resolution_minutes = _minutes("Resolution")
    calendar = forms.ModelChoiceField(
        queryset=BusinessCalendar.objects.all(),
        required=False,
        empty_label="Round the clock",
        help_text="Targets count the calendar's open hours only.",
    )
    warn_minutes = forms.IntegerField(min_value=0, max_value=7 * 24 * 60, initial=15)
    raise_priority = forms.BooleanField(required=False, initial=True, label="On a miss, raise the priority")
    notify_lead = forms.BooleanField(
        required=False, initial=True, label="On a miss, tell the team's managers"
    )
    reroute = forms.BooleanField(
        required=False, initial=True, label="On a miss, re-route if the agent is away"
    )

    @classmethod
    def for_policy(cls, policy: SlaPolicy) -> SlaPolicyForm:
        return cls(
            initial={name: getattr(policy, name) for name in cls.base_fields}
            | {"calendar": policy.calendar_id}
        )


def _intervals(text: str) -> list[list[str]]:
    """ "09:00-12:00, 13:00-17:00" → [["09:00", "12:00"], ["13:00", "17:00"]]; blank: closed."""
    found = []
    for part in text.replace(";", ",").split(","):
        if not part.strip():
            continue
        bounds = [bound.strip() for bound in part.replace("\u2013", "-").split("-")]
        if len(bounds) != 2:
            raise forms.ValidationError(f"{part.strip()!r} is not an interval such as 09:00-17:00")
        found.append(bounds)
    return found


class BusinessCalendarForm(forms.Form):
    name = forms.CharField(max_length=100)
    time_zone = forms.CharField(max_length=64, initial="UTC", help_text="IANA name, e.g. Europe/Berlin.")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for day, label in DAY_NAMES.items():
            self.fields[day] = forms.CharField(
                max_length=200,
                required=False,
                label=label,
                help_text="e.g. 09:00-12:00, 13:00-17:00; blank: closed.",
            )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        hours = {}
        for day in WEEKDAYS:
            try:
                intervals = _intervals(data.get(day) or "")
            except forms.ValidationError as error:
                self.add_error(day, error)
                continue
            if intervals:
                hours[day] = intervals
        data["hours"] = hours
        return data

    def service_fields(self) -> dict[str, Any]:
        return {key: self.cleaned_data[key] for key in ("name", "time_zone", "hours")}

    @classmethod
    def for_calendar(cls, calendar: BusinessCalendar) -> BusinessCalendarForm:
        hours = calendar.hours if isinstance(calendar.hours, dict) else {}
        days = {day: ", ".join(f"{a}-{b}" for a, b in hours.get(day, [])) for day in WEEKDAYS}
        return cls(initial={"name": calendar.name, "time_zone": calendar.time_zone, **days})


class HolidayForm(forms.Form):
    date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    name = forms.CharField(max_length=100, required=False)


class OpenHoursForm(forms.Form):
    start = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}), label="From")


class SlaPreviewForm(forms.Form):
    priority = forms.TypedChoiceField(choices=PRIORITIES, coerce=int, initial=2)
    channel_kind = forms.CharField(max_length=32, required=False, initial="email")
    customer_tier = forms.CharField(max_length=32, required=False)
    at = forms.DateTimeField(
        required=False,
        label="Arriving at",
        help_text="Blank: now.",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
