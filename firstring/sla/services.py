"""Which policy applies, and when each target falls due, from plain values of a conversation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from firstring.sla.hours import Hours, business_add, weekly_parse, zone_parse
from firstring.sla.models import BusinessCalendar, SlaPolicy


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
        for policy in self.policies:
            if (
                (policy.priority is None or policy.priority == priority)
                and policy.channel_kind in ("", channel_kind)
                and policy.customer_tier in ("", customer_tier)
            ):
                return policy
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
