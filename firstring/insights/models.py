"""What the insights engine knows about messages: their tone, and the corrections agents made to it."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from firstring.accounts.models import Team
from firstring.channels.models import Channel
from firstring.conversations.models import Conversation, Message, Tone


class MessageTone(models.Model):
    """The tone of one inbound message: what the classifier said and, once corrected, what an agent said."""

    message = models.OneToOneField(Message, on_delete=models.CASCADE, related_name="tone_analysis")
    label = models.CharField(max_length=8, choices=Tone.choices)
    # From -1 (negative) to 1 (positive): P(positive) - P(negative) as the classifier saw it.
    score = models.FloatField()
    confidence = models.FloatField()
    # The classifier's own label, kept when an agent corrects `label`.
    predicted_label = models.CharField(max_length=8, choices=Tone.choices)
    backend = models.CharField(max_length=32)
    corrected = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["label", "created_at"], name="tone_label_time")]

    def __str__(self) -> str:
        return f"{self.label} for message #{self.message_id}"


class ToneCorrection(models.Model):
    """An agent said a message's tone was something else; every correction is kept (and is training data)."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="tone_corrections")
    previous_label = models.CharField(max_length=8, choices=Tone.choices)
    label = models.CharField(max_length=8, choices=Tone.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("created_at", "id")
        indexes = [models.Index(fields=["created_at"], name="tone_correction_time")]

    def __str__(self) -> str:
        return f"{self.previous_label} -> {self.label} on message #{self.message_id}"


class LearnedToneModel(models.Model):
    """What the learning backend learned from this company's labelled messages (the newest one is used)."""

    rows = models.PositiveIntegerField()
    data = models.JSONField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("-created_at", "-id")

    def __str__(self) -> str:
        return f"Tone model learned from {self.rows} messages"


class Topic(models.Model):
    """A subject this company's customers write about, named by the company; classified with no training.

    The name, the description and the example messages are all the classifier needs to start; what
    agents tag (and untag) afterwards teaches it.
    """

    name = models.CharField(max_length=80, unique=True)
    description = models.CharField(max_length=300, blank=True)
    # A few example messages, as a company would write them down (a list of strings).
    examples = models.JSONField(default=list, blank=True)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name


class MessageTopic(models.Model):
    """A topic of one inbound message: what the classifier said, or what an agent said.

    An agent's tag (`source="agent"`) is training data; so is a rejected model tag (`rejected=True`):
    the message stays tagged against, not with, the topic.
    """

    class Source(models.TextChoices):
        MODEL = "model", "Classifier"
        AGENT = "agent", "Agent"

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="topic_tags")
    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="message_tags")
    confidence = models.FloatField()
    source = models.CharField(max_length=8, choices=Source.choices, default=Source.MODEL)
    rejected = models.BooleanField(default=False)
    # The best topic of its message (what dashboards count the message under).
    primary = models.BooleanField(default=False)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["message", "topic"], name="message_topic_unique")]
        indexes = [
            models.Index(fields=["topic", "created_at"], name="message_topic_time"),
            models.Index(fields=["source", "topic"], name="message_topic_source"),
        ]

    def __str__(self) -> str:
        return f"{self.topic_id} on message #{self.message_id}"


class MessageSignal(models.Model):
    """What else the engine read in an inbound message: its language and the urgency cues it holds."""

    message = models.OneToOneField(Message, on_delete=models.CASCADE, related_name="signal")
    language = models.CharField(max_length=16, blank=True)
    language_confidence = models.FloatField(default=0.0)
    # Urgency cues found: "churn", "legal", "safety", "outage", "repeat" (see insights/signals.py).
    urgency = models.JSONField(default=list, blank=True)
    urgent = models.BooleanField(default=False)
    # The message's own time, copied: the dashboards' rollup reads one day of messages by it.
    received_at = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["received_at"], name="message_signal_received")]

    def __str__(self) -> str:
        return f"{self.language or '?'} {'urgent' if self.urgent else ''} #{self.message_id}"


class ConversationInsight(models.Model):
    """One conversation as the engine sees it: language, urgency, main topic, and its tone lift.

    Routing reads `language` and `urgent` (`selectors.conversation_signals`). Tone lift is the customer's
    last tone score less their first one (from -2 to 2), known once they wrote twice.
    """

    conversation = models.OneToOneField(Conversation, on_delete=models.CASCADE, related_name="insight")
    # Copied from the conversation so that reports filter without joining it.
    started_at = models.DateTimeField()
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="+")
    language = models.CharField(max_length=16, blank=True)
    urgent = models.BooleanField(default=False)
    urgency = models.JSONField(default=list, blank=True)
    topic = models.ForeignKey(Topic, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    customer_messages = models.PositiveIntegerField(default=0)
    tone_first_score = models.FloatField(null=True, blank=True)
    tone_last_score = models.FloatField(null=True, blank=True)
    tone_lift = models.FloatField(null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["started_at"], name="conv_insight_started"),
            models.Index(fields=["urgent", "started_at"], name="conv_insight_urgent"),
        ]

    def __str__(self) -> str:
        return f"Insight on conversation #{self.conversation_id}"


class DailyInsight(models.Model):
    """The dashboards' rollup: one row per day, channel, team and main topic.

    Message columns count the customer messages received that day; lift and service columns count the
    conversations started that day; call columns count the ended calls that started that day. Rebuilt
    one day at a time from the stored rows (`rollup.rollup_refresh`), so a row is always a count of
    what is stored, never a running total.
    """

    day = models.DateField()
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="+")
    team = models.ForeignKey(Team, null=True, on_delete=models.CASCADE, related_name="+")
    topic = models.ForeignKey(Topic, null=True, on_delete=models.CASCADE, related_name="+")
    messages = models.PositiveIntegerField(default=0)
    negative = models.PositiveIntegerField(default=0)
    neutral = models.PositiveIntegerField(default=0)
    positive = models.PositiveIntegerField(default=0)
    score_sum = models.FloatField(default=0.0)
    urgent = models.PositiveIntegerField(default=0)
    conversations = models.PositiveIntegerField(default=0)
    lifted = models.PositiveIntegerField(default=0)
    lift_sum = models.FloatField(default=0.0)
    improved = models.PositiveIntegerField(default=0)
    worsened = models.PositiveIntegerField(default=0)
    # Service levels of the conversations started that day: seconds from the start to the first reply
    # and to resolution, and the service-level targets met and missed (routing's definitions).
    responded = models.PositiveIntegerField(default=0)
    response_seconds = models.FloatField(default=0.0)
    resolved = models.PositiveIntegerField(default=0)
    resolution_seconds = models.FloatField(default=0.0)
    first_response_met = models.PositiveIntegerField(default=0)
    first_response_missed = models.PositiveIntegerField(default=0)
    resolution_met = models.PositiveIntegerField(default=0)
    resolution_missed = models.PositiveIntegerField(default=0)
    # Calls (voice's definitions): offered = queued for a person; answered within
    # FIRSTRING_CALL_TARGET_SECONDS; answer_seconds sums the waits of the answered ones.
    calls_offered = models.PositiveIntegerField(default=0)
    calls_answered = models.PositiveIntegerField(default=0)
    calls_abandoned = models.PositiveIntegerField(default=0)
    calls_in_target = models.PositiveIntegerField(default=0)
    answer_seconds = models.PositiveBigIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["day"], name="daily_insight_day")]

    def __str__(self) -> str:
        return f"{self.day} channel {self.channel_id}"


class RollupDay(models.Model):
    """A lock per day: refreshing a day's `DailyInsight` rows holds it, so two refreshes never interleave.

    `stale`: something of that day was stored or changed since its rows were last rebuilt.
    """

    day = models.DateField(primary_key=True)
    refreshed_at = models.DateTimeField(default=timezone.now)
    stale = models.BooleanField(default=False)

    def __str__(self) -> str:
        return str(self.day)


class DailyAgentLift(models.Model):
    """The rollup of tone lift per agent: conversations started that day, by who holds them now.

    Apart from `DailyInsight` since it multiplies its rows by the agents; refreshed with it, so an
    assignment made after a conversation's last message shows after the next refresh of its day.
    """

    day = models.DateField()
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="+")
    team = models.ForeignKey(Team, null=True, on_delete=models.CASCADE, related_name="+")
    topic = models.ForeignKey(Topic, null=True, on_delete=models.CASCADE, related_name="+")
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.CASCADE, related_name="+"
    )
    lifted = models.PositiveIntegerField(default=0)
    lift_sum = models.FloatField(default=0.0)
    improved = models.PositiveIntegerField(default=0)
    worsened = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["day"], name="daily_agent_lift_day")]

    def __str__(self) -> str:
        return f"{self.day} agent {self.assignee_id}"
