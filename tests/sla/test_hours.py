"""Business-hours arithmetic: weekends, holidays, time zones and the days the clocks change."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from firstring.lib.errors import InvalidInput
from firstring.sla.hours import Hours, business_add, business_between, is_open, open_intervals, weekly_parse

BERLIN = ZoneInfo("Europe/Berlin")
OFFICE = {day: [["09:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}


def office(*holidays: date, zone: ZoneInfo = BERLIN, weekly: dict | None = None) -> Hours:
    return Hours(zone=zone, weekly=weekly_parse(weekly or OFFICE), holidays=frozenset(holidays))


def local(*args: int, zone: ZoneInfo = BERLIN) -> datetime:
    return datetime(*args, tzinfo=zone)


def test_time_inside_opening_hours_counts_as_it_passes():
    assert business_add(office(), local(2026, 11, 24, 10, 0), timedelta(hours=2)) == local(
        2026, 11, 24, 12, 0
    )


def test_a_target_runs_on_at_the_next_opening():
    # Tuesday 16:00 plus two working hours: one on Tuesday, one from Wednesday 09:00.
    assert business_add(office(), local(2026, 11, 24, 16, 0), timedelta(hours=2)) == local(
        2026, 11, 25, 10, 0
    )


def test_weekends_and_holidays_are_skipped():
    friday_evening = local(2026, 11, 27, 16, 30)
    # Monday is a holiday: the clock runs on from Tuesday 09:00.
    due = business_add(office(date(2026, 11, 30)), friday_evening, timedelta(hours=1))
    assert due == local(2026, 12, 1, 9, 30)


def test_open_or_closed_at_an_instant():
    hours = office(date(2026, 11, 26))
    assert is_open(hours, local(2026, 11, 24, 9, 0)) and is_open(hours, local(2026, 11, 24, 16, 59))
    assert not is_open(hours, local(2026, 11, 24, 17, 0))  # closing time is closed
    assert not is_open(hours, local(2026, 11, 24, 8, 59))
    assert not is_open(hours, local(2026, 11, 26, 12, 0))  # a holiday
    assert not is_open(hours, local(2026, 11, 28, 12, 0))  # a Saturday
    # The calendar's zone decides: 08:30 UTC is 09:30 in Berlin.
    assert is_open(hours, datetime(2026, 11, 24, 8, 30, tzinfo=UTC))
    # Open until midnight: the last minute counts, the next day's midnight does not.
    late = office(weekly={"tue": [["20:00", "24:00"]]})
    assert is_open(late, local(2026, 11, 24, 23, 59)) and not is_open(late, local(2026, 11, 25, 0, 0))


def test_a_message_at_night_is_due_from_the_morning():
    assert business_add(office(), local(2026, 11, 24, 23, 0), timedelta(minutes=30)) == local(
        2026, 11, 25, 9, 30
    )


def test_a_working_day_is_eight_real_hours_on_the_day_the_clocks_go_forward():
    # Europe/Berlin springs forward at 02:00 on 29 March 2026, a Sunday; open 00:00-06:00 that day.
    weekly = {"sun": [["00:00", "06:00"]]}
    hours = office(weekly=weekly)
    start = local(2026, 3, 29, 0, 0)
    # Six wall-clock hours, five real ones (02:00-03:00 does not exist).
    assert business_between(hours, start, local(2026, 3, 29, 6, 0)) == timedelta(hours=5)
    assert business_add(hours, start, timedelta(hours=5)) == local(2026, 3, 29, 6, 0)
    # And the instants are real UTC times: 06:00 CEST is 04:00 UTC.
    assert business_add(hours, start, timedelta(hours=5)).astimezone(UTC) == datetime(
        2026, 3, 29, 4, 0, tzinfo=UTC
    )


def test_the_repeated_hour_counts_twice_when_the_clocks_go_back():
    # Back at 03:00 on 25 October 2026: 00:00-06:00 holds seven real hours.
    hours = office(weekly={"sun": [["00:00", "06:00"]]})
    assert business_between(hours, local(2026, 10, 25, 0, 0), local(2026, 10, 25, 6, 0)) == timedelta(hours=7)


def test_the_calendar_time_zone_decides_when_the_day_starts():
    tokyo = office(zone=ZoneInfo("Asia/Tokyo"))
    # 01:00 UTC on a Tuesday is 10:00 in Tokyo: open.
    start = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)
    assert business_add(tokyo, start, timedelta(hours=1)) == datetime(2026, 11, 24, 2, 0, tzinfo=UTC)


@given(
    start=st.datetimes(
        min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
    ),
    minutes=st.integers(min_value=0, max_value=60 * 24 * 20),
)
def test_adding_and_measuring_agree(start, minutes):
    hours = office(date(2026, 12, 25), date(2027, 1, 1))
    due = business_add(hours, start, timedelta(minutes=minutes))
    assert due >= start
    assert business_between(hours, start, due) == timedelta(minutes=minutes)


@pytest.mark.parametrize(
    ("weekly", "message"),
    [
        ([], "map of weekdays"),
        ({"monday": [["09:00", "17:00"]]}, "unknown weekday"),
        ({"mon": "09:00-17:00"}, "list of"),
        ({"mon": [["9:00", "17:00"]]}, "HH:MM"),
        ({"mon": [["17:00", "09:00"]]}, "closes before it opens"),
        ({"mon": [["09:00", "13:00"], ["12:00", "17:00"]]}, "overlap"),
        ({"mon": []}, "open at some time"),
        ({"mon": [["09:00", "25:00"]]}, "HH:MM"),
    ],
)
def test_bad_opening_hours_are_refused_with_a_reason(weekly, message):
    with pytest.raises(InvalidInput, match=message):
        weekly_parse(weekly)


def test_open_intervals_show_the_week_the_clocks_change():
    hours = Hours(
        zone=ZoneInfo("Europe/Berlin"),
        weekly={day: ((9 * 60, 17 * 60),) for day in range(7)},
        holidays=frozenset({date(2027, 3, 27)}),
    )
    days = dict(open_intervals(hours, date(2027, 3, 26), 4))
    assert days[date(2027, 3, 26)] == [
        (datetime(2027, 3, 26, 8, 0, tzinfo=UTC), datetime(2027, 3, 26, 16, 0, tzinfo=UTC))
    ]
    assert days[date(2027, 3, 27)] == []  # a holiday
    # Summer time from Sunday 28 March: the same local hours are an hour earlier in UTC.
    assert days[date(2027, 3, 29)] == [
        (datetime(2027, 3, 29, 7, 0, tzinfo=UTC), datetime(2027, 3, 29, 15, 0, tzinfo=UTC))
    ]
