"""The weekly digests sent: one row per week, so that several workers never send the same week twice."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class DigestWeek(models.Model):
    """The digest of the week starting on `week_start` (a Monday) was sent to `recipients` people."""

    week_start = models.DateField(unique=True)
    recipients = models.PositiveIntegerField(default=0)
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("-week_start",)

    def __str__(self) -> str:
        return f"Digest of the week of {self.week_start}"
