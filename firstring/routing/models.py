"""Agents' presence and the router's work: one task per conversation waiting for an agent, and the log of
every routing decision."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from firstring.accounts.models import Team
from firstring.conversations.models import Conversation


class AgentState(models.Model):
    """What the router knows of an agent: whether they take work, and since when they had none offered."""

    class Presence(models.TextChoices):
        AVAILABLE = "available", "Available"
        BUSY = "busy", "Busy"
        AWAY = "away", "Away"
        OFFLINE = "offline", "Offline"

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="routing")
    presence = models.CharField(max_length=16, choices=Presence.choices, default=Presence.OFFLINE)
    presence_changed_at = models.DateTimeField(default=timezone.now)
    # "Longest idle first": the agent offered work the longest time ago goes first (never offered: first).
    last_offered_at = models.DateTimeField(null=True, blank=True)
    # Offers declined or left to time out in a row; at the limit the agent is set away.
    missed_offers = models.PositiveSmallIntegerField(default=0)
    # When a screen of theirs last said it was open (websocket connect and pings); null: never tracked.
    # An available agent whose screens all closed is set away, so no offer rings where nobody is.
    last_seen_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["presence", "last_offered_at"], name="agentstate_idle")]

    def __str__(self) -> str:
        return f"{self.user} ({self.presence})"


class TeamRouting(models.Model):
    """A team's routing settings; a team without a row routes automatically with the default capacities."""

    team = models.OneToOneField(Team, on_delete=models.CASCADE, related_name="routing")
    auto_assign = models.BooleanField(
        default=True, help_text="Offer work to agents; off, agents pick conversations from the queue."
    )
    # Conversations an agent of this team handles at once, by channel kind; "default" for the rest.
    capacity = models.JSONField(default=dict, blank=True)

    def __str__(self) -> str:
        return f"Routing of {self.team}"

    def clean(self) -> None:
        # Edited as JSON in the admin: a wrong value must stop there, not in the router.
        if not isinstance(self.capacity, dict) or not all(
            isinstance(kind, str) and type(limit) is int and 0 <= limit <= 1000
            for kind, limit in self.capacity.items()
        ):
            raise ValidationError(
                {"capacity": 'Give whole numbers by channel kind, e.g. {"chat": 3, "default": 8}.'}
            )


class RoutingRule(models.Model):
    """Where new work goes: the first active rule, in position order, whose conditions all hold.

    Conditions left empty match anything; a list matches when the conversation has any of its values.
    Rules are applied once, when a conversation is queued, so no rule can send work round in a loop.
    """

    name = models.CharField(max_length=100)
    position = models.PositiveIntegerField(default=100)
    active = models.BooleanField(default=True)
    channel_kinds = models.JSONField(default=list, blank=True)
    languages = models.JSONField(default=list, blank=True)
    tones = models.JSONField(default=list, blank=True)
    tags = models.JSONField(default=list, blank=True)
    customer_tiers = models.JSONField(default=list, blank=True)
    # Any of these words in the subject or the customer's latest message.
    keywords = models.JSONField(default=list, blank=True)
    min_priority = models.PositiveSmallIntegerField(null=True, blank=True)
    # What a match does.
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    skills = models.ManyToManyField("accounts.Skill", blank=True, related_name="+")
    skill_level = models.PositiveSmallIntegerField(default=3)
    set_priority = models.PositiveSmallIntegerField(null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("position", "id")

    def __str__(self) -> str:
        return self.name


class RoutingTask(models.Model):
    """A conversation waiting for an agent, offered to one, or assigned through the router."""

    class Status(models.TextChoices):
        WAITING = "waiting", "Waiting"
        OFFERED = "offered", "Offered"
        ASSIGNED = "assigned", "Assigned"
        CANCELLED = "cancelled", "Cancelled"

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="routing_tasks")
    channel_kind = models.CharField(max_length=32)
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # What the task asks of its agent: [{"skill": id, "name": "es", "level": 3}]. The level is preferred;
    # while the task waits, any level and then no skill at all will do.
    needs = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.WAITING)
    enqueued_at = models.DateTimeField(default=timezone.now)
    # The score as a time: enqueued_at less the task's head start for priority and tone. Ordering by it is
    # ordering by score now and at any later moment, since every waiting task ages at the same rate; so
    # one index serves "highest score first", and an old task always overtakes newer urgent work.
    rank_at = models.DateTimeField(default=timezone.now)
    offered_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    offered_at = models.DateTimeField(null=True, blank=True)
    offer_expires_at = models.DateTimeField(null=True, blank=True)
    offers = models.PositiveIntegerField(default=0)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            # One live task per conversation: enqueueing twice is a no-op, whatever the race.
            models.UniqueConstraint(
                fields=["conversation"],
                condition=Q(status__in=["waiting", "offered"]),
                name="routingtask_one_live_per_conversation",
            ),
            models.CheckConstraint(
                condition=Q(status="offered", offered_to__isnull=False, offer_expires_at__isnull=False)
                | ~Q(status="offered"),
                name="routingtask_offer_has_agent",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "rank_at", "id"], name="routingtask_queue"),
            models.Index(fields=["status", "offer_expires_at"], name="routingtask_offers"),
            models.Index(fields=["offered_to", "status"], name="routingtask_agent"),
        ]

    def __str__(self) -> str:
        return f"Routing task {self.pk} ({self.status}) for conversation {self.conversation_id}"


class RoutingEvent(models.Model):
    """One routing decision or outcome, with the reason, so that "why did this go to Ana?" has an answer."""

    class Kind(models.TextChoices):
        QUEUED = "queued", "Queued"
        OFFERED = "offered", "Offered"
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Declined"
        TIMED_OUT = "timed_out", "Offer timed out"
        CANCELLED = "cancelled", "Cancelled"
        AWAY = "away", "Agent set away"

    task = models.ForeignKey(
        RoutingTask, null=True, blank=True, on_delete=models.CASCADE, related_name="events"
    )
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("created_at", "id")
        indexes = [models.Index(fields=["task", "created_at"], name="routingevent_task")]

    def __str__(self) -> str:
        return f"{self.kind} (task {self.task_id})"


class SlaAlert(models.Model):
    """A service-level target about to be missed, or missed: raised once per target and due time."""

    class Kind(models.TextChoices):
        WARNING = "warning", "At risk"
        BREACH = "breach", "Missed"

    class Target(models.TextChoices):
        FIRST_RESPONSE = "first_response", "First response"
        NEXT_RESPONSE = "next_response", "Next response"
        RESOLUTION = "resolution", "Resolution"

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="sla_alerts")
    target = models.CharField(max_length=16, choices=Target.choices)
    kind = models.CharField(max_length=8, choices=Kind.choices)
    due_at = models.DateTimeField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            # Several workers watch at once: the row, not a check, decides who raises the alert.
            models.UniqueConstraint(fields=["conversation", "target", "kind", "due_at"], name="slaalert_once")
        ]
        indexes = [models.Index(fields=["kind", "created_at"], name="slaalert_recent")]

    def __str__(self) -> str:
        return f"{self.get_target_display()} {self.get_kind_display().lower()} on #{self.conversation_id}"


# Where each target's due time is kept on a conversation.
SLA_DUE_FIELDS = {
    SlaAlert.Target.FIRST_RESPONSE: "first_response_due_at",
    SlaAlert.Target.NEXT_RESPONSE: "next_response_due_at",
    SlaAlert.Target.RESOLUTION: "resolution_due_at",
}


class Notification(models.Model):
    """Something a staff member should know at once: shown in the app, and sent by e-mail."""

    class Kind(models.TextChoices):
        SLA_WARNING = "sla_warning", "Service level at risk"
        SLA_BREACH = "sla_breach", "Service level missed"
        ESCALATION = "escalation", "Escalation"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    text = models.CharField(max_length=300)
    url = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at", "-id")
        indexes = [models.Index(fields=["user", "read_at", "-created_at"], name="notification_unread")]

    def __str__(self) -> str:
        return f"{self.kind} for {self.user_id}: {self.text}"
