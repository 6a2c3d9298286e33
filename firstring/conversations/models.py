"""Conversations, their messages and attachments, and the audit trail of everything done to them."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from firstring.accounts.models import Tag, Team
from firstring.channels.models import Channel
from firstring.customers.models import Customer, Identity


class Tone(models.TextChoices):
    NEGATIVE = "negative", "Negative"
    NEUTRAL = "neutral", "Neutral"
    POSITIVE = "positive", "Positive"


_UNRESOLVED = ~Q(status="resolved")


class Conversation(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", "Open"
        PENDING = "pending", "Pending"
        SNOOZED = "snoozed", "Snoozed"
        RESOLVED = "resolved", "Resolved"

    class Priority(models.IntegerChoices):
        # Stored as numbers so that "sort by priority" is an index scan.
        LOW = 1, "Low"
        NORMAL = 2, "Normal"
        HIGH = 3, "High"
        URGENT = 4, "Urgent"

    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, related_name="conversations")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="conversations")
    # The identity the customer used here; replies go back to it.
    identity = models.ForeignKey(Identity, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # The channel's own thread key (e-mail thread root, chat session, tweet thread …).
    external_thread = models.CharField(max_length=255, blank=True, default="")
    subject = models.CharField(max_length=255, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    priority = models.PositiveSmallIntegerField(choices=Priority.choices, default=Priority.NORMAL)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="assigned"
    )
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="conversations"
    )
    tags = models.ManyToManyField(Tag, related_name="conversations", blank=True)
    language = models.CharField(max_length=16, blank=True)
    tone_first = models.CharField(max_length=8, choices=Tone.choices, blank=True)
    tone_latest = models.CharField(max_length=8, choices=Tone.choices, blank=True)

    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    first_response_at = models.DateTimeField(null=True, blank=True)
    last_customer_message_at = models.DateTimeField(null=True, blank=True)
    last_message_at = models.DateTimeField(default=timezone.now)
    # When the oldest unanswered customer message arrived; null while the customer waits for nothing.
    waiting_since = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    snoozed_until = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)

    # Service levels: the policy that applied when last measured, and when each target falls due (null:
    # no target, or met). Set by conversations.services.sla whenever what they depend on changes.
    sla_policy = models.ForeignKey(
        "sla.SlaPolicy", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    first_response_due_at = models.DateTimeField(null=True, blank=True)
    next_response_due_at = models.DateTimeField(null=True, blank=True)
    resolution_due_at = models.DateTimeField(null=True, blank=True)
    # The earliest of the three: what the inbox's "SLA due" sort orders by.
    sla_due_at = models.DateTimeField(null=True, blank=True)

    # Denormalised for the inbox list, which must not touch the messages table.
    last_message_excerpt = models.CharField(max_length=200, blank=True)
    message_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ("-last_message_at",)
        indexes = [
            models.Index(fields=["status", "-last_message_at"], name="conv_status_recent"),
            models.Index(fields=["assignee", "status", "-last_message_at"], name="conv_assignee_status"),
            models.Index(fields=["team", "status", "-last_message_at"], name="conv_team_status"),
            models.Index(fields=["status", "-priority", "-last_message_at"], name="conv_status_priority"),
            models.Index(fields=["status", "waiting_since"], name="conv_status_waiting"),
            models.Index(fields=["customer", "-last_message_at"], name="conv_customer_recent"),
            models.Index(fields=["channel", "external_thread"], name="conv_channel_thread"),
            models.Index(fields=["-last_message_at"], name="conv_recent"),
            # The inbox's default views list unresolved conversations, a small and busy part of a history
            # that grows forever: one partial index per sort, in the sort's exact order (ending in id, as
            # the cursor does), lets a page walk it and stop after one page of visible rows.
            models.Index(fields=["-last_message_at", "-id"], condition=_UNRESOLVED, name="conv_open_recent"),
            models.Index(
                fields=["-priority", "-last_message_at", "-id"],
                condition=_UNRESOLVED,
                name="conv_open_priority",
            ),
            models.Index(fields=["waiting_since", "id"], condition=_UNRESOLVED, name="conv_open_waiting"),
            models.Index(fields=["sla_due_at", "id"], condition=_UNRESOLVED, name="conv_open_sla_due"),
            models.Index(fields=["next_response_due_at"], condition=_UNRESOLVED, name="conv_open_next_due"),
            models.Index(
                fields=["resolution_due_at"], condition=_UNRESOLVED, name="conv_open_resolution_due"
            ),
        ]

    def __str__(self) -> str:
        return self.subject or f"Conversation #{self.pk}"


class InboxCount(models.Model):
    """A change in how many conversations share one team, assignee, status and escalation.

    The inbox shows how many conversations each view holds on every page; counting them there reads
    every unresolved (and every resolved) conversation each time. Instead, database triggers (migration
    0003) add a row of +1 or -1 here for every conversation created, deleted or moved to another such
    group, in the writer's own transaction and whatever the writer (services, bulk updates, COPY), and
    `inbox_counts` sums the rows of the groups a user may see. Rows are appended, never updated, so
    concurrent writers never wait for each other here; `inbox_counts_compact` (a periodic job) folds
    them into one row per group.
    """

    team_id = models.BigIntegerField(null=True)
    assignee_id = models.BigIntegerField(null=True)
    status = models.CharField(max_length=16)
    escalated = models.BooleanField()
    delta = models.IntegerField()

    def __str__(self) -> str:
        return f"{self.delta:+d} team={self.team_id} assignee={self.assignee_id} {self.status}"


class Message(models.Model):
    class Direction(models.TextChoices):
        INBOUND = "inbound", "Inbound"
        OUTBOUND = "outbound", "Outbound"
        NOTE = "note", "Internal note"

    class Delivery(models.TextChoices):
        NONE = "", "—"
        QUEUED = "queued", "Queued"
        SENT = "sent", "Sent"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages")
    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, related_name="+")
    direction = models.CharField(max_length=8, choices=Direction.choices)
    author_customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    author_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # For outbound messages: the customer identity the reply goes to.
    recipient = models.ForeignKey(
        Identity, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    text = models.TextField(blank=True)
    # Sanitised at write time; safe to render as it is.
    html = models.TextField(blank=True)
    # The channel's id for this message; (channel, external_id) is unique so a redelivery is stored once.
    # NULL rather than "" for messages without one, so the unique constraint ignores them.
    external_id = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001
    metadata = models.JSONField(default=dict, blank=True)
    tone = models.CharField(max_length=8, choices=Tone.choices, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    # The outbox: outbound messages are stored first and delivered by a background task.
    delivery_status = models.CharField(max_length=10, choices=Delivery.choices, blank=True, default="")
    delivery_error = models.TextField(blank=True)
    delivery_attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("created_at", "id")
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "external_id"],
                condition=Q(external_id__isnull=False),
                name="message_unique_channel_external_id",
            ),
            models.CheckConstraint(
                condition=Q(author_customer__isnull=True) | Q(author_user__isnull=True),
                name="message_one_author",
            ),
        ]
        indexes = [
            models.Index(fields=["conversation", "created_at"], name="msg_conversation_time"),
            models.Index(fields=["delivery_status", "next_attempt_at"], name="msg_outbox"),
        ]

    def __str__(self) -> str:
        return f"{self.get_direction_display()} #{self.pk}"


def attachment_path(instance: Attachment, filename: str) -> str:
    return f"attachments/{timezone.now():%Y/%m}/{instance.message_id}/{filename}"


class Attachment(models.Model):
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=attachment_path, max_length=500)
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=127, default="application/octet-stream")
    size = models.PositiveBigIntegerField(default=0)
    # Inline parts (e-mail images) are shown in the body, not listed as files.
    inline = models.BooleanField(default=False)

    def __str__(self) -> str:
        return self.filename


class ConversationEvent(models.Model):
    """One line of the audit trail: who did what to a conversation, and when."""

    class Kind(models.TextChoices):
        CREATED = "created", "Created"
        STATUS = "status", "Status changed"
        ASSIGNED = "assigned", "Assignment changed"
        TEAM = "team", "Team changed"
        PRIORITY = "priority", "Priority changed"
        TAGS = "tags", "Tags changed"
        MERGED = "merged", "Customers merged"
        SPLIT = "split", "Identity split off"
        ESCALATED = "escalated", "Escalated"
        DEESCALATED = "deescalated", "Escalation resolved"
        SLA_WARNING = "sla_warning", "Service level at risk"
        SLA_BREACHED = "sla_breached", "Service level missed"
        DELIVERY_FAILED = "delivery_failed", "Delivery failed"

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(max_length=24, choices=Kind.choices)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("created_at", "id")
        indexes = [models.Index(fields=["conversation", "created_at"], name="event_conversation_time")]

    def __str__(self) -> str:
        return f"{self.kind} on #{self.conversation_id}"
