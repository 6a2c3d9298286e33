"""Social listening: monitors (saved queries), sources (firehoses, feeds), mentions, matches, alerts."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from firstring.conversations.models import Conversation
from firstring.insights.models import Topic


class Monitor(models.Model):
    """A saved query per brand or product. Editing it applies to what arrives from then on."""

    name = models.CharField(max_length=100)
    # The query language of `listening/query.py`: terms, "phrases", #tags, @handles, AND/OR/NOT, ( ).
    query = models.TextField()
    # ISO 639-1 codes; empty means every language (and posts whose language is unknown).
    languages = models.JSONField(default=list, blank=True)
    # Source kinds ("bluesky", "rss" …); empty means every source.
    source_kinds = models.JSONField(default=list, blank=True)
    enabled = models.BooleanField(default=True)
    # Where spike alerts go besides the app: a Slack-compatible webhook and e-mail addresses.
    alert_webhook_url = models.URLField(max_length=500, blank=True)
    alert_emails = models.JSONField(default=list, blank=True)
    # Raised by every edit: running listeners reload the monitors whose version changed.
    version = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("name", "id")

    def __str__(self) -> str:
        return self.name


class Source(models.Model):
    """One place mentions come from: a Jetstream endpoint, a feed, a Mastodon timeline …; a plug-in a kind."""

    kind = models.CharField(max_length=32, help_text="A registered source kind: bluesky, rss …")
    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=100)
    # What the plug-in reads: the endpoint or feed URL and its options.
    config = models.JSONField(default=dict, blank=True)
    # Where to resume: saved in the transaction that stores the mentions read up to it.
    cursor = models.CharField(max_length=200, blank=True)
    # Credentials (API tokens, OAuth client secrets): kept server-side, never rendered back in full.
    secrets = models.JSONField(default=dict, blank=True)
    # What the plug-in keeps between runs: validators (ETag, Last-Modified), failures, backoff, last error.
    state = models.JSONField(default=dict, blank=True, editable=False)
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name


class Author(models.Model):
    """Someone who posted on a network, with their reach (followers) when the source tells it."""

    network = models.CharField(max_length=32)
    # The network's stable id (a DID on Bluesky, a feed's host for articles).
    external_id = models.CharField(max_length=255)
    handle = models.CharField(max_length=255, blank=True)
    name = models.CharField(max_length=200, blank=True)
    followers = models.PositiveIntegerField(null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["network", "external_id"], name="listening_author_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.network}:{self.handle or self.external_id}"


class Mention(models.Model):
    """One public post or article that matched at least one monitor, stored once."""

    class Status(models.TextChoices):
        NEW = "new", "New"
        HANDLED = "handled", "Handled"
        IGNORED = "ignored", "Ignored"
        CONVERTED = "converted", "Turned into a conversation"

    class Kind(models.TextChoices):
        POST = "post", "Post"
        REPLY = "reply", "Reply"
        QUOTE = "quote", "Quote"
        ARTICLE = "article", "Article"

    source = models.ForeignKey(Source, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    network = models.CharField(max_length=32)
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.POST)
    # The network's id of the post (an at:// URI, a feed entry's id).
    external_id = models.CharField(max_length=500)
    # What makes two mentions the same: the post, or for articles their canonical link.
    dedupe_key = models.CharField(max_length=600, unique=True)
    url = models.URLField(max_length=1000, blank=True)
    author = models.ForeignKey(
        Author, null=True, blank=True, on_delete=models.SET_NULL, related_name="mentions"
    )
    author_handle = models.CharField(max_length=255, blank=True)
    text = models.TextField()
    language = models.CharField(max_length=16, blank=True)
    posted_at = models.DateTimeField()
    received_at = models.DateTimeField(default=timezone.now)
    tone = models.CharField(max_length=8, blank=True)
    tone_score = models.FloatField(default=0.0)
    # Read as inbound messages are (insights): the best of the company's topics, and urgency cue kinds
    # (churn, legal, safety, outage, repeat). The language is the source's, or detected when it gives none.
    topic = models.ForeignKey(Topic, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    urgency = models.JSONField(default=list, blank=True)
    urgent = models.BooleanField(default=False)
    # The author's followers when the mention was stored (0 when the source does not say).
    reach = models.PositiveIntegerField(default=0)
    reposts = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.NEW)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    conversation = models.ForeignKey(
        Conversation, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    handled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-posted_at", "-id")
        indexes = [
            models.Index(fields=["status", "-posted_at"], name="listening_mention_status"),
            models.Index(fields=["-posted_at", "-id"], name="listening_mention_time"),
        ]

    def __str__(self) -> str:
        return f"{self.network} mention #{self.pk}"


class Repost(models.Model):
    """Someone repeated a stored mention; kept by the repost's own id so a redelivery counts once."""

    mention = models.ForeignKey(Mention, on_delete=models.CASCADE, related_name="repost_events")
    external_id = models.CharField(max_length=500, unique=True)
    author_id = models.CharField(max_length=255, blank=True)
    posted_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"repost of mention #{self.mention_id}"


class MonitorMatch(models.Model):
    """A mention matched a monitor (the monitor's version at the time is kept)."""

    monitor = models.ForeignKey(Monitor, on_delete=models.CASCADE, related_name="matches")
    mention = models.ForeignKey(Mention, on_delete=models.CASCADE, related_name="matches")
    monitor_version = models.PositiveIntegerField()
    # Copied from the mention so that the spike rule counts negatives per monitor from one index.
    posted_at = models.DateTimeField()
    negative = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["monitor", "mention"], name="listening_match_unique"),
        ]
        indexes = [models.Index(fields=["monitor", "negative", "posted_at"], name="listening_match_time")]

    def __str__(self) -> str:
        return f"mention #{self.mention_id} for monitor #{self.monitor_id}"


class SpikeState(models.Model):
    """A monitor's rolling baseline of negative mentions per minute (see `listening/spikes.py`)."""

    monitor = models.OneToOneField(Monitor, on_delete=models.CASCADE, related_name="spike_state")
    # When the monitor began listening (the time of the first batch it saw): its warm-up starts here.
    started_at = models.DateTimeField()
    # The minute being counted, and its count so far; folded into the baseline when a later one starts.
    bucket_start = models.DateTimeField(null=True, blank=True)
    bucket_count = models.PositiveIntegerField(default=0)
    # EWMA of negative mentions per minute over the closed minutes, and how many minutes it has folded
    # (to correct its start from zero, see spikes.baseline_estimate).
    baseline = models.FloatField(default=0.0)
    minutes = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"spike state of monitor #{self.monitor_id}"


class Alert(models.Model):
    """Negative mentions of a monitor rose above its baseline; open until the rate returns."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        CLOSED = "closed", "Closed"

    monitor = models.ForeignKey(Monitor, on_delete=models.CASCADE, related_name="alerts")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    # Event time (the posts' time): when the rule fired, and when the rate was back.
    opened_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    # Negative mentions in the window that fired, the baseline per window then, and the z-score.
    count = models.PositiveIntegerField()
    baseline = models.FloatField()
    z_score = models.FloatField()
    peak_count = models.PositiveIntegerField()
    top_terms = models.JSONField(default=list, blank=True)
    samples = models.ManyToManyField(Mention, related_name="+", blank=True)
    # Delivery of the notifications: "", "sent", or the last error; attempts for the backoff.
    webhook_status = models.CharField(max_length=300, blank=True)
    email_status = models.CharField(max_length=300, blank=True)
    notify_attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("-opened_at", "-id")
        constraints = [
            models.UniqueConstraint(
                fields=["monitor"], condition=Q(status="open"), name="listening_one_open_alert"
            ),
        ]

    def __str__(self) -> str:
        return f"alert #{self.pk} on {self.monitor}"
