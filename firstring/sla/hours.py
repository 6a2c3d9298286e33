"""Business hours: adding working time to a moment, in a calendar's time zone, past its holidays.

Pure functions over plain values, so that the arithmetic is tested apart from the database. All sums
are done in UTC: an interval of local opening hours is turned into two UTC instants first, so a day
on which the clocks change has as many working minutes as the wall clock says it has (09:00-17:00 is
eight hours either way, 01:00-04:00 is two or four).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from firstring.lib.errors import InvalidInput

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$|^24:00$")
# Adding working time walks forward day by day; a calendar open a few minutes a year still ends.
_MAX_DAYS = 3 * 366


@dataclass(frozen=True)
class Hours:
    """When a calendar is open: intervals per weekday (minutes from local midnight) and closed dates."""

    zone: ZoneInfo
    weekly: Mapping[int, tuple[tuple[int, int], ...]]
    holidays: frozenset[date] = frozenset()

    @classmethod
    def always(cls) -> Hours:
        return cls(zone=ZoneInfo("UTC"), weekly={day: ((0, 24 * 60),) for day in range(7)})


def zone_parse(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise InvalidInput(f"unknown time zone {name!r}; use an IANA name such as Europe/Berlin") from error


def weekly_parse(raw: Any) -> dict[int, tuple[tuple[int, int], ...]]:
    """{"mon": [["09:00", "17:00"]], …} → {0: ((540, 1020),), …}; a clear error for anything else."""
    example = 'e.g. {"mon": [["09:00", "17:00"]], "sat": [["10:00", "14:00"]]}'
    if not isinstance(raw, dict):
        raise InvalidInput(f"opening hours are a map of weekdays to intervals, {example}")
    weekly: dict[int, tuple[tuple[int, int], ...]] = {}
    for day, intervals in raw.items():
        if day not in WEEKDAYS:
            raise InvalidInput(f"unknown weekday {day!r}; use {', '.join(WEEKDAYS)}")
        if not isinstance(intervals, list):
            raise InvalidInput(f"{day}: give a list of [opens, closes] pairs, {example}")
        parsed = []
        for interval in intervals:
            if (
                not isinstance(interval, list | tuple)
                or len(interval) != 2
                or not all(isinstance(c, str) and _CLOCK.match(c) for c in interval)
            ):
                raise InvalidInput(f"{day}: {interval!r} is not a pair of HH:MM times, {example}")
            opens, closes = (_minutes(c) for c in interval)
            if opens >= closes:
                raise InvalidInput(f"{day}: {interval[0]}-{interval[1]} closes before it opens")
            parsed.append((opens, closes))
        parsed.sort()
        if any(a[1] > b[0] for a, b in pairwise(parsed)):
            raise InvalidInput(f"{day}: the intervals overlap")
        weekly[WEEKDAYS.index(day)] = tuple(parsed)
    if not any(weekly.values()):
        raise InvalidInput("a calendar must be open at some time of the week")
    return weekly


def _minutes(clock: str) -> int:
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)


def _instant(day: date, minutes: int, zone: ZoneInfo) -> datetime:
    """Local `day` at `minutes` past midnight, as a UTC instant (24:00 is the next midnight)."""
    if minutes >= 24 * 60:
        day, minutes = day + timedelta(days=1), minutes - 24 * 60
    local = datetime.combine(day, time(minutes // 60, minutes % 60), tzinfo=zone)
    return local.astimezone(UTC)


def business_add(hours: Hours, start: datetime, working: timedelta) -> datetime:
    """The moment `working` time of open hours after `start` has passed."""
    remaining = working
    day = start.astimezone(hours.zone).date()
    for _ in range(_MAX_DAYS):
        if day not in hours.holidays:
            for opens, closes in hours.weekly.get(day.weekday(), ()):
                begin, end = _instant(day, opens, hours.zone), _instant(day, closes, hours.zone)
                if end <= start:
                    continue
                begin = max(begin, start)
                if remaining <= end - begin:
                    return begin + remaining
                remaining -= end - begin
        day += timedelta(days=1)
    raise InvalidInput("the calendar is open too little to reach this target within three years")


def is_open(hours: Hours, at: datetime) -> bool:
    """Whether the calendar is open at the instant `at`."""
    day = at.astimezone(hours.zone).date()
    # An interval may run past local midnight only as 24:00, so the day before never reaches into `at`.
    if day in hours.holidays:
        return False
    return any(
        _instant(day, opens, hours.zone) <= at < _instant(day, closes, hours.zone)
        for opens, closes in hours.weekly.get(day.weekday(), ())
    )


def business_between(hours: Hours, start: datetime, end: datetime) -> timedelta:
    """Open time between two instants (what a report counts as time taken in business hours)."""
    total = timedelta(0)
    if end <= start:
        return total
    day = start.astimezone(hours.zone).date()
    last = end.astimezone(hours.zone).date()
    while day <= last:
        if day not in hours.holidays:
            for opens, closes in hours.weekly.get(day.weekday(), ()):
                begin = max(_instant(day, opens, hours.zone), start)
                finish = min(_instant(day, closes, hours.zone), end)
                if finish > begin:
                    total += finish - begin
        day += timedelta(days=1)
    return total


def open_intervals(
    hours: Hours, start: date, days: int
) -> list[tuple[date, list[tuple[datetime, datetime]]]]:
    """Each local day from `start` with its open intervals as UTC instants (a holiday has none)."""
    found = []
    for offset in range(days):
        day = start + timedelta(days=offset)
        intervals = (
            []
            if day in hours.holidays
            else [
                (_instant(day, opens, hours.zone), _instant(day, closes, hours.zone))
                for opens, closes in hours.weekly.get(day.weekday(), ())
            ]
        )
        found.append((day, intervals))
    return found
