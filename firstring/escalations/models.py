"""Bringing a manager into a conversation, and what the managers learned from it."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from firstring.conversations.models import Conversation


class Escalation(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", "Waiting for a manager"
        ACKNOWLEDGED = "acknowledged", "A manager is on it"
        RESOLVED = "resolved", "Resolved"

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="escalations")
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.TextField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    # The manager it is with: asked (open), on it (acknowledged), or who resolved it.
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Managers asked so far, in order; an unanswered escalation climbs to one not asked yet.
    asked = models.JSONField(default=list, blank=True)
    asked_at = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(default=timezone.now)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    outcome = models.TextField(blank=True)

    class Meta:
        ordering = ("-created_at", "-id")
        constraints = [
            models.UniqueConstraint(
                fields=["conversation"],
                condition=Q(status__in=["open", "acknowledged"]),
                name="escalation_one_live_per_conversation",
            )
        ]
        indexes = [
            models.Index(fields=["status", "asked_at"], name="escalation_status"),
            models.Index(fields=["manager", "status"], name="escalation_manager"),
        ]

    def __str__(self) -> str:
        return f"Escalation of #{self.conversation_id} ({self.status})"


class Lesson(models.Model):
    """What a manager learned from an escalation (or any conversation), for everyone to find later."""

    title = models.CharField(max_length=200)
    text = models.TextField()
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    escalation = models.ForeignKey(
        Escalation, null=True, blank=True, on_delete=models.SET_NULL, related_name="lessons"
    )
    conversation = models.ForeignKey(
        Conversation, null=True, blank=True, on_delete=models.SET_NULL, related_name="lessons"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("-created_at", "-id")

    def __str__(self) -> str:
        return self.title
