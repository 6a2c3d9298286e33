"""Service-level policies and the business calendars they are measured in.

This app sits below conversations: it knows priorities, channel kinds and customer tiers as plain
values, and the conversations app asks it for the due times of a conversation.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models

from firstring.lib.errors import InvalidInput
from firstring.sla.hours import weekly_parse, zone_parse

PRIORITIES = [(1, "Low"), (2, "Normal"), (3, "High"), (4, "Urgent")]


class BusinessCalendar(models.Model):
    """Opening hours in a time zone, and the holidays when nobody is in."""

    name = models.CharField(max_length=100, unique=True)
    time_zone = models.CharField(max_length=64, default="UTC", help_text="IANA name, e.g. Europe/Berlin.")
    # {"mon": [["09:00", "17:00"]], …}; a weekday left out is closed all day.
    hours = models.JSONField(default=dict)

    class Meta:
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        try:
            zone_parse(self.time_zone)
        except InvalidInput as error:
            raise ValidationError({"time_zone": str(error)}) from error
        try:
            weekly_parse(self.hours)
        except InvalidInput as error:
            raise ValidationError({"hours": str(error)}) from error


class Holiday(models.Model):
    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.CASCADE, related_name="holidays")
    date = models.DateField()
    name = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ("date",)
        constraints = [models.UniqueConstraint(fields=["calendar", "date"], name="holiday_unique_date")]

    def __str__(self) -> str:
        return f"{self.date} {self.name}".strip()


class SlaPolicy(models.Model):
    """Targets for conversations that match: the first policy in position order whose conditions all hold."""

    name = models.CharField(max_length=100)
    position = models.PositiveIntegerField(default=100, help_text="Policies are tried in this order.")
    active = models.BooleanField(default=True)
    # Conditions; empty means any.
    priority = models.PositiveSmallIntegerField(null=True, blank=True, choices=PRIORITIES)
    channel_kind = models.CharField(max_length=32, blank=True, help_text="e.g. email, chat, sms, phone.")
    customer_tier = models.CharField(max_length=32, blank=True, help_text="e.g. vip.")
    # Targets in minutes of the calendar's open hours (round the clock without a calendar); empty: none.
    first_response_minutes = models.PositiveIntegerField(null=True, blank=True)
    next_response_minutes = models.PositiveIntegerField(null=True, blank=True)
    resolution_minutes = models.PositiveIntegerField(null=True, blank=True)
    calendar = models.ForeignKey(
        BusinessCalendar, null=True, blank=True, on_delete=models.PROTECT, related_name="policies"
    )
    warn_minutes = models.PositiveIntegerField(
        default=15, help_text="Warn this many minutes (real time) before a target is missed."
    )
    # On a breach.
    raise_priority = models.BooleanField(default=True, help_text="Raise the priority one step on a breach.")
    notify_lead = models.BooleanField(default=True, help_text="Tell the team's managers on a breach.")
    reroute = models.BooleanField(
        default=True, help_text="Offer the conversation to another agent if its agent is not available."
    )

    class Meta:
        ordering = ("position", "id")
        verbose_name_plural = "SLA policies"

    def __str__(self) -> str:
        return self.name
