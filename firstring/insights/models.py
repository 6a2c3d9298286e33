"""What the insights engine knows about messages: their tone, and the corrections agents made to it."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from firstring.conversations.models import Message, Tone


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
