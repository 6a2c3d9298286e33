"""A configured channel: one mailbox, chat widget, phone number, social account or API source."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from firstring.accounts.models import Team


class Channel(models.Model):
    kind = models.CharField(max_length=32, help_text="A registered channel kind: api, email, chat, sms …")
    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=100)
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="channels")
    # Settings the plug-in reads (addresses, numbers, callback URLs). Secrets go in `secrets`.
    config = models.JSONField(default=dict, blank=True)
    # Credentials: kept server-side, never rendered back in full.
    secrets = models.JSONField(default=dict, blank=True)
    # What the plug-in keeps between runs (a mailbox's last fetched UID, a poll's last error); not edited.
    state = models.JSONField(default=dict, blank=True, editable=False)
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name
