"""Which policy applies, and when each target falls due, from plain values of a conversation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.db import transaction

from firstring.accounts.access import require_manager
from firstring.accounts.models import User
from firstring.lib.errors import Conflict, InvalidInput
from firstring.sla import hooks
from firstring.sla.hours import Hours, business_add, weekly_parse, zone_parse
from firstring.sla.models import PRIORITIES, BusinessCalendar, Holiday, SlaPolicy


@dataclass(frozen=True)
class Due:
    first_response: datetime | None = None
    next_response: datetime | None = None
    resolution: datetime | None = None


class SlaBook:
    """The active policies and their calendars, loaded once (per received batch, per action)."""

    def __init__(self) -> None:
        self.policies = list(SlaPolicy.objects.filter(active=True).order_by("position", "id"))
        calendar_ids = {p.calendar_id for p in self.policies if p.calendar_id is not None}
        self.hours: dict[int, Hours] = {}
        for calendar in BusinessCalendar.objects.filter(pk__in=calendar_ids).prefetch_related("holidays"):
            self.hours[calendar.pk] = calendar_hours(calendar)

    def policy_for(self, *, priority: int, channel_kind: str, customer_tier: str) -> SlaPolicy | None:
        """The first active policy, in position order, whose conditions all hold."""
        for policy in self.policies:
            if (
                self.mismatch(
                    policy, priority=priority, channel_kind=channel_kind, customer_tier=customer_tier
                )
                is None
            ):
                return policy
        return None

    @staticmethod
    def mismatch(policy: SlaPolicy, *, priority: int, channel_kind: str, customer_tier: str) -> str | None:
        """The first of the policy's conditions that does not hold, in words; None when all hold."""
        if policy.priority is not None and policy.priority != priority:
            return f"priority is not {policy.get_priority_display().lower()}"
        # Compared in lower case: the editor stores them so, the Django admin may not have.
        if policy.channel_kind.lower() not in ("", channel_kind.lower()):
            return f"channel is not {policy.channel_kind}"
        if policy.customer_tier.lower() not in ("", customer_tier.lower()):
            return f"customer tier is not {policy.customer_tier}"
        return None

    def due(
        self,
        policy: SlaPolicy | None,
        *,
        created_at: datetime,
        first_response_at: datetime | None,
        waiting_since: datetime | None,
        resolved: bool,
    ) -> Due:
        """First response is due from the start until it is given; the next response while the customer
        waits after that; resolution from the start until resolved."""
        if policy is None:
            return Due()
        hours = self.hours[policy.calendar_id] if policy.calendar_id is not None else Hours.always()

        def after(start: datetime, minutes: int | None) -> datetime | None:
            return None if minutes is None else business_add(hours, start, timedelta(minutes=minutes))

        return Due(
            first_response=after(created_at, policy.first_response_minutes)
            if first_response_at is None and not resolved
            else None,
            next_response=after(waiting_since, policy.next_response_minutes)
            if first_response_at is not None and waiting_since is not None and not resolved
            else None,
            resolution=None if resolved else after(created_at, policy.resolution_minutes),
        )


def calendar_hours(calendar: BusinessCalendar) -> Hours:
    return Hours(
        zone=zone_parse(calendar.time_zone),
        weekly=weekly_parse(calendar.hours),
        holidays=frozenset(h.date for h in calendar.holidays.all()),
    )


# Edits by managers. Each one tells the hooks after commit, so that open conversations are measured again.

MAX_TARGET_MINUTES = 366 * 24 * 60
MAX_WARN_MINUTES = 7 * 24 * 60
REFUSAL = "only managers edit service levels"


def _changed(calendar_id: int | None) -> None:
    transaction.on_commit(lambda: hooks.settings_changed(calendar_id=calendar_id))


def _word(value: str, what: str) -> str:
    value = value.strip().lower()
    if len(value) > 32:
        raise InvalidInput(f"the {what} is at most 32 characters")
    return value


def sla_policy_save(
    *,
    actor: User,
    policy: SlaPolicy | None = None,
    name: str,
    position: int = 100,
    active: bool = True,
    priority: int | None = None,
    channel_kind: str = "",
    customer_tier: str = "",
    first_response_minutes: int | None = None,
    next_response_minutes: int | None = None,
    resolution_minutes: int | None = None,
    calendar: BusinessCalendar | None = None,
    warn_minutes: int = 15,
    raise_priority: bool = True,
    notify_lead: bool = True,
    reroute: bool = True,
) -> SlaPolicy:
    """Create (no policy given) or change a policy. Conditions are trimmed and lower case."""
    require_manager(actor, REFUSAL)
    if not name.strip():
        raise InvalidInput("a policy needs a name")
    if priority is not None and priority not in dict(PRIORITIES):
        raise InvalidInput("unknown priority; use 1 (low) to 4 (urgent), or none for any")
    targets = (first_response_minutes, next_response_minutes, resolution_minutes)
    if all(t is None for t in targets):
        raise InvalidInput("give at least one target (first response, next response or resolution)")
    if any(t is not None and not 1 <= t <= MAX_TARGET_MINUTES for t in targets):
        raise InvalidInput(f"targets are 1 to {MAX_TARGET_MINUTES} minutes")
    if not 0 <= warn_minutes <= MAX_WARN_MINUTES:
        raise InvalidInput(f"the warning comes 0 to {MAX_WARN_MINUTES} minutes before a target")
    if position < 0:
        raise InvalidInput("the position is 0 or more")
    with transaction.atomic():
        policy = policy or SlaPolicy()
        policy.name = name.strip()[:100]
        policy.position = position
        policy.active = active
        policy.priority = priority
        policy.channel_kind = _word(channel_kind, "channel kind")
        policy.customer_tier = _word(customer_tier, "customer tier")
        policy.first_response_minutes = first_response_minutes
        policy.next_response_minutes = next_response_minutes
        policy.resolution_minutes = resolution_minutes
        policy.calendar = calendar
        policy.warn_minutes = warn_minutes
        policy.raise_priority = raise_priority
        policy.notify_lead = notify_lead
        policy.reroute = reroute
        policy.save()
        _changed(None)
    return policy


def sla_policy_delete(*, actor: User, policy: SlaPolicy) -> None:
    """Conversations it applied to fall to the next policy that fits (their recorded misses stay)."""
    require_manager(actor, REFUSAL)
    with transaction.atomic():
        policy.delete()
        _changed(None)


def business_calendar_save(
    *,
    actor: User,
    calendar: BusinessCalendar | None = None,
    name: str,
    time_zone: str,
    hours: dict[str, Any],
) -> BusinessCalendar:
    """Create or change a calendar: a valid IANA zone, and per weekday intervals that close after they
    open and do not overlap."""
    require_manager(actor, REFUSAL)
    name = name.strip()[:100]
    if not name:
        raise InvalidInput("a calendar needs a name")
    zone_parse(time_zone.strip())
    weekly_parse(hours)
    with transaction.atomic():
        same_name = BusinessCalendar.objects.filter(name=name)
        if calendar is not None:
            same_name = same_name.exclude(pk=calendar.pk)
        if same_name.exists():
            raise Conflict(f"there is a calendar named {name!r} already")
        calendar = calendar or BusinessCalendar()
        calendar.name = name
        calendar.time_zone = time_zone.strip()
        calendar.hours = hours
        calendar.save()
        _changed(calendar.pk)
    return calendar


def business_calendar_delete(*, actor: User, calendar: BusinessCalendar) -> None:
    require_manager(actor, REFUSAL)
    with transaction.atomic():
        users = list(SlaPolicy.objects.filter(calendar=calendar).values_list("name", flat=True))
        if users:
            raise Conflict(f"policies measure in this calendar ({', '.join(users)}): give them another first")
        calendar.delete()


def holiday_add(*, actor: User, calendar: BusinessCalendar, day: date, name: str = "") -> Holiday:
    require_manager(actor, REFUSAL)
    with transaction.atomic():
        if calendar.holidays.filter(date=day).exists():
            raise Conflict(f"{day.isoformat()} is a holiday already")
        holiday = Holiday.objects.create(calendar=calendar, date=day, name=name.strip()[:100])
        _changed(calendar.pk)
    return holiday


def holiday_remove(*, actor: User, holiday: Holiday) -> None:
    require_manager(actor, REFUSAL)
    with transaction.atomic():
        holiday.delete()
        _changed(holiday.calendar_id)


@dataclass(frozen=True)
class Preview:
    """What a new conversation with these values would get, and why."""

    policy: SlaPolicy | None
    # The active policies tried before it, each with the condition that did not hold.
    passed_over: list[tuple[SlaPolicy, str]]
    first_response: datetime | None
    resolution: datetime | None
    # When a reply the customer sends at the same moment, after a first answer, is due.
    next_response: datetime | None


def moment_check(at: datetime) -> datetime:
    """A moment a preview or a view of open hours can start from: aware, and within reach of the
    calendar arithmetic (whose dates must not run past the year 9999)."""
    at = at if at.tzinfo is not None else at.replace(tzinfo=UTC)
    if not 2000 <= at.year <= datetime.now(UTC).year + 10:
        raise InvalidInput("choose a time between the year 2000 and ten years from now")
    return at


def sla_preview(*, priority: int, channel_kind: str, customer_tier: str, at: datetime) -> Preview:
    at = moment_check(at)
    book = SlaBook()
    passed_over: list[tuple[SlaPolicy, str]] = []
    for policy in book.policies:
        reason = book.mismatch(
            policy, priority=priority, channel_kind=channel_kind, customer_tier=customer_tier
        )
        if reason is None:
            new = book.due(policy, created_at=at, first_response_at=None, waiting_since=None, resolved=False)
            answered = book.due(policy, created_at=at, first_response_at=at, waiting_since=at, resolved=False)
            return Preview(policy, passed_over, new.first_response, new.resolution, answered.next_response)
        passed_over.append((policy, reason))
    return Preview(None, passed_over, None, None, None)
