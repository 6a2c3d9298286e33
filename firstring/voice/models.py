"""Calls and what happened in them, channel-neutral: every gateway (Twilio, SIP …) records the same events."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from firstring.channels.models import Channel
from firstring.conversations.models import Conversation


class PhoneMenu(models.Model):
    """The self-service menu of one phone number (a channel of kind "phone"); see voice/menu.py."""

    channel = models.OneToOneField(Channel, on_delete=models.CASCADE, related_name="phone_menu")
    definition = models.JSONField(default=dict)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Menu of {self.channel}"


class AgentLine(models.Model):
    """Where an agent's calls ring: a number or softphone identity (Twilio), or a SIP URI (SIP endpoint)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="phone_line")
    number = models.CharField(max_length=32, blank=True, help_text="E.164, e.g. +12025550123")
    client = models.CharField(max_length=100, blank=True, help_text="A softphone (Twilio Client) identity")
    sip_uri = models.CharField(
        max_length=200,
        blank=True,
        help_text="Where the SIP endpoint rings the agent, e.g. sip:ann@10.0.0.5:5060",
    )

    def __str__(self) -> str:
        return f"{self.user}: {self.number or self.client or self.sip_uri}"


class Call(models.Model):
    """One phone call, part of a conversation like any other message."""

    class Direction(models.TextChoices):
        INBOUND = "inbound", "Inbound"
        OUTBOUND = "outbound", "Outbound"

    class Status(models.TextChoices):
        MENU = "menu", "In the menu"
        QUEUED = "queued", "Waiting for an agent"
        CONNECTING = "connecting", "Ringing an agent"
        IN_PROGRESS = "in_progress", "Talking"
        VOICEMAIL = "voicemail", "Leaving a message"
        # The caller hung up asking to be called back; their routing task keeps its place in line.
        CALLBACK = "callback", "Waiting to be called back"
        ENDED = "ended", "Ended"

    class Outcome(models.TextChoices):
        COMPLETED = "completed", "Answered"
        ABANDONED = "abandoned", "Abandoned in the queue"
        SELF_SERVICE = "self_service", "Ended in the menu"
        VOICEMAIL = "voicemail", "Voicemail"
        FAILED = "failed", "Failed"

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="calls")
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="calls")
    provider = models.CharField(max_length=16)
    # The gateway's id of the call (Twilio's CallSid): a replayed "incoming" finds the stored call.
    external_id = models.CharField(max_length=64)
    direction = models.CharField(max_length=8, choices=Direction.choices, default=Direction.INBOUND)
    number_called = models.CharField(max_length=32)
    caller = models.CharField(max_length=32)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.MENU)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, blank=True)
    end_reason = models.CharField(max_length=64, blank=True)
    # What the caller chose, in order: [{"stage": "language", "input": "2", "chose": "es"}, …].
    menu_path = models.JSONField(default=list, blank=True)
    # Where the caller is in the menu: {"stage": "language"|"main", "step": n, "misses": n}.
    menu_state = models.JSONField(default=dict, blank=True)
    language = models.CharField(max_length=16, blank=True)
    queue = models.CharField(max_length=100, blank=True, help_text="The menu option that queued the call")
    routing_task = models.ForeignKey(
        "routing.RoutingTask", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="calls"
    )
    started_at = models.DateTimeField(default=timezone.now)
    queued_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    wait_seconds = models.PositiveIntegerField(default=0)
    talk_seconds = models.PositiveIntegerField(default=0)
    hold_seconds = models.PositiveIntegerField(default=0)
    recording_url = models.URLField(max_length=500, blank=True)
    transcript = models.TextField(blank=True)
    notes = models.TextField(blank=True)
    disposition = models.CharField(max_length=64, blank=True)
    # Set when the caller asked to be called back: the call is then rung back, agent first.
    callback_requested_at = models.DateTimeField(null=True, blank=True)
    # The conference the call moved into when a manager was brought in (escalation); empty before.
    conference = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ("-started_at", "-id")
        constraints = [
            models.UniqueConstraint(fields=["channel", "external_id"], name="call_once_per_channel"),
        ]
        indexes = [
            models.Index(fields=["started_at"], name="call_started"),
            models.Index(fields=["status"], name="call_live", condition=~Q(status="ended")),
            # The measured handling time (selectors.handling_seconds), read by every turn of a queue's wait.
            models.Index(fields=["outcome", "-ended_at"], name="call_outcome_recent"),
        ]

    def __str__(self) -> str:
        return f"Call {self.external_id} from {self.caller}"


class CallEvent(models.Model):
    """One timestamped thing that happened in a call; the call log and its metrics are built from these."""

    class Kind(models.TextChoices):
        INCOMING = "incoming", "Incoming"
        MENU_INPUT = "menu_input", "Menu input"
        QUEUED = "queued", "Queued"
        OFFERED = "offered", "Offered to an agent"
        ANSWERED = "answered", "Answered"
        HELD = "held", "Held"
        RESUMED = "resumed", "Resumed"
        ESCALATED = "escalated", "Escalated"
        TRANSFERRED = "transferred", "Transferred"
        VOICEMAIL = "voicemail", "Voicemail"
        CALLBACK = "callback", "Callback requested"
        RECORDING = "recording", "Recording"
        ENDED = "ended", "Ended"
        COMPLETED = "completed", "Completed"
        ABANDONED = "abandoned", "Abandoned"

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    data = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("at", "id")
        indexes = [
            models.Index(fields=["call", "at"], name="callevent_call"),
            models.Index(fields=["kind", "at"], name="callevent_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} in call {self.call_id}"
