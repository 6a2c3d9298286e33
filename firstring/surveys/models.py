"""Surveys: what a customer was asked after a conversation (CSAT) or on a schedule (NPS), and their answer."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from firstring.accounts.models import Team
from firstring.channels.models import Channel
from firstring.conversations.models import Conversation, Message
from firstring.customers.models import Customer
from firstring.insights.models import Topic


class Kind(models.TextChoices):
    CSAT = "csat", "CSAT (1-5)"
    NPS = "nps", "NPS (0-10)"


# The scores each kind takes.
SCALES = {Kind.CSAT: range(1, 6), Kind.NPS: range(0, 11)}


class SurveyRequest(models.Model):
    """One survey sent to a customer: about one conversation, through its channel, answered at most once.

    Agent, team and topic are those of the conversation when it was asked, copied so that the
    dashboards group answers without joining conversations.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Being sent"
        SENT = "sent", "Sent"
        ANSWERED = "answered", "Answered"
        SKIPPED = "skipped", "Not sent"

    kind = models.CharField(max_length=8, choices=Kind.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="survey_requests")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="survey_requests")
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="+")
    topic = models.ForeignKey(Topic, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # Random and unique; the public link carries it signed (`links.survey_url`).
    token = models.CharField(max_length=64, unique=True)
    # The invitation, an outbound message of the conversation delivered by the outbox.
    message = models.ForeignKey(Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    skipped_reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField()

    class Meta:
        constraints = [
            # A conversation is asked about once, however often it is resolved.
            models.UniqueConstraint(
                fields=["conversation"], condition=Q(kind="csat"), name="survey_one_csat_per_conversation"
            ),
        ]
        indexes = [
            models.Index(fields=["customer", "kind", "-created_at"], name="survey_customer_recent"),
            models.Index(fields=["channel", "customer", "status"], name="survey_channel_customer"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} on conversation #{self.conversation_id}"


class SurveyAnswer(models.Model):
    """A customer's answer: a score and an optional comment (plain text, shown escaped)."""

    class Via(models.TextChoices):
        PAGE = "page", "Survey page"
        REPLY = "reply", "Reply"

    request = models.OneToOneField(SurveyRequest, on_delete=models.CASCADE, related_name="answer")
    # Copied from the request for the dashboards, which read answers only.
    kind = models.CharField(max_length=8, choices=Kind.choices)
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="+")
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    topic = models.ForeignKey(Topic, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    score = models.PositiveSmallIntegerField()
    comment = models.TextField(blank=True)
    via = models.CharField(max_length=8, choices=Via.choices)
    # The channel's id of a texted answer, so that a redelivered webhook is taken once.
    external_id = models.CharField(max_length=255, null=True, blank=True, unique=True)
    # The conversation a low score opened for the team.
    follow_up = models.ForeignKey(
        Conversation, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    answered_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["kind", "answered_at"], name="survey_answer_kind_time")]

    def __str__(self) -> str:
        return f"{self.kind} {self.score} on request #{self.request_id}"
