"""Service levels: policies, business calendars and their holidays, for managers' tokens only.

The same services as the managers' pages under /sla/: a change measures the open conversations it
affects again, and a target a conversation already missed stays missed.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Field, Path, Query, Router, Schema

from firstring.accounts.access import require_manager
from firstring.accounts.models import User
from firstring.api.auth import current_user
from firstring.api.schemas import MAX_ID, BodyIn, CheckedIn, Id, errors
from firstring.lib.errors import NotFound
from firstring.sla import services
from firstring.sla.models import BusinessCalendar, Holiday, SlaPolicy
from firstring.sla.selectors import MAX_DAYS, calendar_open_days

router = Router()

Minutes = Annotated[int, Field(ge=1, le=services.MAX_TARGET_MINUTES)]
Clock = Annotated[str, Field(min_length=1, max_length=5)]
Interval = Annotated[list[Clock], Field(min_length=2, max_length=2)]
Weekly = dict[Annotated[str, Field(max_length=3)], Annotated[list[Interval], Field(max_length=48)]]


def _manager(request: HttpRequest) -> User:
    return require_manager(current_user(request), services.REFUSAL)


class PolicyIn(BodyIn):
    name: str = Field(..., min_length=1, max_length=100)
    position: int = Field(
        100, ge=0, le=100_000, description="Policies are tried in this order, lowest first."
    )
    active: bool = True
    priority: int | None = Field(None, ge=1, le=4, description="1 low … 4 urgent; null: any.")
    channel_kind: str = Field("", max_length=32, description="e.g. email, chat; empty: any.")
    customer_tier: str = Field("", max_length=32, description="e.g. vip; empty: any.")
    first_response_minutes: Minutes | None = None
    next_response_minutes: Minutes | None = None
    resolution_minutes: Minutes | None = None
    calendar_id: Id | None = Field(
        None, description="Count the calendar's open hours; null: round the clock."
    )
    warn_minutes: int = Field(15, ge=0, le=services.MAX_WARN_MINUTES)
    raise_priority: bool = True
    notify_lead: bool = True
    reroute: bool = True


class PolicyOut(Schema):
    id: int
    name: str
    position: int
    active: bool
    priority: int | None
    channel_kind: str
    customer_tier: str
    first_response_minutes: int | None
    next_response_minutes: int | None
    resolution_minutes: int | None
    calendar_id: int | None
    warn_minutes: int
    raise_priority: bool
    notify_lead: bool
    reroute: bool


class PolicyList(Schema):
    items: list[PolicyOut]


class HolidayIn(BodyIn):
    date: date
    name: str = Field("", max_length=100)


class HolidayOut(Schema):
    id: int
    date: date
    name: str


class CalendarIn(BodyIn):
    name: str = Field(..., min_length=1, max_length=100)
    time_zone: str = Field(..., min_length=1, max_length=64, description="IANA name, e.g. Europe/Berlin.")
    hours: Weekly = Field(
        ...,
        description='Open intervals per weekday, e.g. {"mon": [["09:00", "17:00"]]}; a day left out: closed.',
    )


class CalendarOut(Schema):
    id: int
    name: str
    time_zone: str
    hours: dict[str, list[list[str]]]
    holidays: list[HolidayOut]
    policy_ids: list[int]


class CalendarList(Schema):
    items: list[CalendarOut]


class PreviewIn(BodyIn):
    priority: int = Field(2, ge=1, le=4)
    channel_kind: str = Field("", max_length=32)
    customer_tier: str = Field("", max_length=32)
    at: datetime | None = Field(None, description="When the conversation starts; now when left out.")


class PassedOver(Schema):
    policy_id: int
    name: str
    reason: str


class PreviewOut(Schema):
    policy: PolicyOut | None
    passed_over: list[PassedOver]
    first_response_due_at: datetime | None
    next_response_due_at: datetime | None = Field(
        description="For a customer's message at the same moment, after a first answer."
    )
    resolution_due_at: datetime | None


class OpenHoursQuery(CheckedIn):
    start: date | None = Field(None, description="The calendar's today when left out.")
    days: int = Field(14, ge=1, le=MAX_DAYS)


class IntervalOut(Schema):
    opens_at: datetime
    closes_at: datetime


class OpenDayOut(Schema):
    date: date
    holiday: str
    intervals: list[IntervalOut]
    utc_offset: str
    clocks_change: bool


def policy_out(policy: SlaPolicy) -> PolicyOut:
    return PolicyOut(
        id=policy.pk,
        name=policy.name,
        position=policy.position,
        active=policy.active,
        priority=policy.priority,
        channel_kind=policy.channel_kind,
        customer_tier=policy.customer_tier,
        first_response_minutes=policy.first_response_minutes,
        next_response_minutes=policy.next_response_minutes,
        resolution_minutes=policy.resolution_minutes,
        calendar_id=policy.calendar_id,
        warn_minutes=policy.warn_minutes,
        raise_priority=policy.raise_priority,
        notify_lead=policy.notify_lead,
        reroute=policy.reroute,
    )


def holiday_out(holiday: Holiday) -> HolidayOut:
    return HolidayOut(id=holiday.pk, date=holiday.date, name=holiday.name)


def calendar_out(calendar: BusinessCalendar) -> CalendarOut:
    return CalendarOut(
        id=calendar.pk,
        name=calendar.name,
        time_zone=calendar.time_zone,
        hours={day: [list(i) for i in intervals] for day, intervals in calendar.hours.items()},
        holidays=[holiday_out(h) for h in calendar.holidays.all()],
        policy_ids=[p.pk for p in calendar.policies.all()],
    )


def _policy(policy_id: int) -> SlaPolicy:
    policy = SlaPolicy.objects.filter(pk=policy_id).first()
    if policy is None:
        raise NotFound(f"SLA policy {policy_id} not found")
    return policy


def _calendar(calendar_id: int) -> BusinessCalendar:
    calendar = (
        BusinessCalendar.objects.prefetch_related("holidays", "policies").filter(pk=calendar_id).first()
    )
    if calendar is None:
        raise NotFound(f"business calendar {calendar_id} not found")
    return calendar


def _policy_fields(payload: PolicyIn) -> dict[str, Any]:
    fields = payload.dict(exclude={"calendar_id"})
    fields["calendar"] = None if payload.calendar_id is None else _calendar(payload.calendar_id)
    return fields


PolicyId = Path(..., ge=1, le=MAX_ID)
CalendarId = Path(..., ge=1, le=MAX_ID)


@router.get("/policies", response={200: PolicyList, **errors(403)}, summary="List SLA policies (managers)")
def policy_list(request: HttpRequest) -> PolicyList:
    _manager(request)
    return PolicyList(items=[policy_out(p) for p in SlaPolicy.objects.order_by("position", "id")])


@router.post(
    "/policies",
    response={201: PolicyOut, **errors(400, 403, 404, 413)},
    summary="Create an SLA policy (managers)",
)
def policy_post(request: HttpRequest, payload: PolicyIn) -> tuple[int, PolicyOut]:
    policy = services.sla_policy_save(actor=_manager(request), **_policy_fields(payload))
    return 201, policy_out(policy)


@router.get(
    "/policies/{policy_id}", response={200: PolicyOut, **errors(403, 404)}, summary="Get an SLA policy"
)
def policy_get(request: HttpRequest, policy_id: int = PolicyId) -> PolicyOut:
    _manager(request)
    return policy_out(_policy(policy_id))


@router.put(
    "/policies/{policy_id}",
    response={200: PolicyOut, **errors(400, 403, 404, 413)},
    summary="Replace an SLA policy (managers); open conversations are measured again",
)
def policy_put(request: HttpRequest, payload: PolicyIn, policy_id: int = PolicyId) -> PolicyOut:
    manager = _manager(request)
    policy = services.sla_policy_save(actor=manager, policy=_policy(policy_id), **_policy_fields(payload))
    return policy_out(policy)


@router.delete(
    "/policies/{policy_id}",
    response={204: None, **errors(403, 404)},
    summary="Delete an SLA policy (managers)",
)
def policy_delete(request: HttpRequest, policy_id: int = PolicyId) -> tuple[int, None]:
    services.sla_policy_delete(actor=_manager(request), policy=_policy(policy_id))
    return 204, None


@router.post(
    "/preview",
    response={200: PreviewOut, **errors(400, 403, 413)},
    summary="Which policy a conversation with these values would get, and when it would fall due",
)
def preview(request: HttpRequest, payload: PreviewIn) -> PreviewOut:
    _manager(request)
    found = services.sla_preview(
        priority=payload.priority,
        channel_kind=payload.channel_kind,
        customer_tier=payload.customer_tier,
        at=payload.at or datetime.now().astimezone(),
    )
    return PreviewOut(
        policy=None if found.policy is None else policy_out(found.policy),
        passed_over=[PassedOver(policy_id=p.pk, name=p.name, reason=why) for p, why in found.passed_over],
        first_response_due_at=found.first_response,
        next_response_due_at=found.next_response,
        resolution_due_at=found.resolution,
    )


@router.get(
    "/calendars", response={200: CalendarList, **errors(403)}, summary="List business calendars (managers)"
)
def calendar_list(request: HttpRequest) -> CalendarList:
    _manager(request)
    calendars = BusinessCalendar.objects.prefetch_related("holidays", "policies").order_by("name")
    return CalendarList(items=[calendar_out(c) for c in calendars])


@router.post(
    "/calendars",
    response={201: CalendarOut, **errors(400, 403, 409, 413)},
    summary="Create a business calendar (managers)",
)
def calendar_post(request: HttpRequest, payload: CalendarIn) -> tuple[int, CalendarOut]:
    calendar = services.business_calendar_save(actor=_manager(request), **payload.dict())
    return 201, calendar_out(_calendar(calendar.pk))


@router.get(
    "/calendars/{calendar_id}",
    response={200: CalendarOut, **errors(403, 404)},
    summary="Get a business calendar",
)
def calendar_get(request: HttpRequest, calendar_id: int = CalendarId) -> CalendarOut:
    _manager(request)
    return calendar_out(_calendar(calendar_id))


@router.put(
    "/calendars/{calendar_id}",
    response={200: CalendarOut, **errors(400, 403, 404, 409, 413)},
    summary="Replace a calendar (managers); open conversations are measured again",
)
def calendar_put(request: HttpRequest, payload: CalendarIn, calendar_id: int = CalendarId) -> CalendarOut:
    manager = _manager(request)
    services.business_calendar_save(actor=manager, calendar=_calendar(calendar_id), **payload.dict())
    return calendar_out(_calendar(calendar_id))


@router.delete(
    "/calendars/{calendar_id}",
    response={204: None, **errors(403, 404, 409)},
    summary="Delete a business calendar no policy uses (managers)",
)
def calendar_delete(request: HttpRequest, calendar_id: int = CalendarId) -> tuple[int, None]:
    services.business_calendar_delete(actor=_manager(request), calendar=_calendar(calendar_id))
    return 204, None


@router.post(
    "/calendars/{calendar_id}/holidays",
    response={201: HolidayOut, **errors(400, 403, 404, 409, 413)},
    summary="Add a holiday (managers)",
)
def holiday_post(
    request: HttpRequest, payload: HolidayIn, calendar_id: int = CalendarId
) -> tuple[int, HolidayOut]:
    manager = _manager(request)
    holiday = services.holiday_add(
        actor=manager, calendar=_calendar(calendar_id), day=payload.date, name=payload.name
    )
    return 201, holiday_out(holiday)


@router.delete(
    "/calendars/{calendar_id}/holidays/{holiday_id}",
    response={204: None, **errors(403, 404)},
    summary="Remove a holiday (managers)",
)
def holiday_delete(
    request: HttpRequest, calendar_id: int = CalendarId, holiday_id: int = Path(..., ge=1, le=MAX_ID)
) -> tuple[int, None]:
    manager = _manager(request)
    holiday = Holiday.objects.filter(pk=holiday_id, calendar=calendar_id).first()
    if holiday is None:
        raise NotFound(f"holiday {holiday_id} not found")
    services.holiday_remove(actor=manager, holiday=holiday)
    return 204, None


@router.get(
    "/calendars/{calendar_id}/open-hours",
    response={200: list[OpenDayOut], **errors(403, 404)},
    summary="The calendar's open hours day by day (check the weeks the clocks change)",
)
def open_hours(
    request: HttpRequest, query: Query[OpenHoursQuery], calendar_id: int = CalendarId
) -> list[OpenDayOut]:
    _manager(request)
    days = calendar_open_days(_calendar(calendar_id), start=query.start, days=query.days)
    return [
        OpenDayOut(
            date=d.day,
            holiday=d.holiday,
            intervals=[IntervalOut(opens_at=a, closes_at=b) for a, b in d.intervals],
            utc_offset=d.utc_offset,
            clocks_change=d.clocks_change,
        )
        for d in days
    ]
