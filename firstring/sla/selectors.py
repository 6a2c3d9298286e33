"""Reads for the service-level editor."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.utils import timezone

from firstring.sla.hours import open_intervals
from firstring.sla.models import BusinessCalendar
from firstring.sla.services import calendar_hours, moment_check

MAX_DAYS = 62


@dataclass(frozen=True)
class OpenDay:
    day: date
    holiday: str
    # Open intervals as instants; the page shows them in the calendar's zone and in UTC.
    intervals: list[tuple[datetime, datetime]]
    utc_offset: str
    # The clocks change during this local day: the week a manager should look at twice.
    clocks_change: bool


def _offset(moment: datetime) -> str:
    offset = moment.utcoffset() or timedelta(0)
    sign = "-" if offset < timedelta(0) else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    return f"UTC{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def calendar_open_days(
    calendar: BusinessCalendar, *, start: date | None = None, days: int = 14
) -> list[OpenDay]:
    """The calendar's open hours day by day from `start` (its today by default)."""
    hours = calendar_hours(calendar)
    if start is None:
        start = timezone.now().astimezone(hours.zone).date()
    else:
        moment_check(datetime.combine(start, time(12)))
    names = {h.date: h.name or "Holiday" for h in calendar.holidays.all()}
    found = []
    for day, intervals in open_intervals(hours, start, min(days, MAX_DAYS)):
        midnight = datetime.combine(day, time(0), tzinfo=hours.zone)
        next_midnight = datetime.combine(day + timedelta(days=1), time(0), tzinfo=hours.zone)
        found.append(
            OpenDay(
                day=day,
                holiday=names.get(day, ""),
                intervals=intervals,
                utc_offset=_offset(datetime.combine(day, time(12), tzinfo=hours.zone)),
                clocks_change=midnight.utcoffset() != next_midnight.utcoffset(),
            )
        )
    return found
