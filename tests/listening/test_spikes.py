"""Spike alerts: the rule, alerts in the app, the webhook (a real local HTTP peer) and e-mail."""

from __future__ import annotations

from datetime import timedelta

from django.core import mail
from django.utils import timezone

from firstring.listening.models import Alert
from firstring.listening.notify import alerts_notify_due
from firstring.listening.pipeline import mentions_ingest
from firstring.listening.spikes import WARMUP, should_close, should_open
from tests.http_peer import http_peer
from tests.listening.conftest import make_post

ANGRY = [
    "acme charged me twice and support is ignoring me, this is a scam",
    "acme app crashed again and deleted my order, absolutely furious",
    "worst customer service ever from acme, still no refund after weeks",
    "acme lost my parcel again, terrible, never ordering again",
]


def test_the_rule_needs_warm_up_a_minimum_count_and_a_high_z_score():
    warm = WARMUP
    assert should_open(count=8, baseline=0.5, listened=warm)
    assert not should_open(count=8, baseline=0.5, listened=warm - timedelta(seconds=1))
    assert not should_open(count=7, baseline=0.0, listened=warm)  # below the minimum count
    assert not should_open(count=20, baseline=10.0, listened=warm)  # z = 3.2: a busy brand's normal
    assert should_open(count=27, baseline=10.0, listened=warm)  # z = 5.4
    assert should_close(count=5, baseline=1.0) and not should_close(count=12, baseline=1.0)


def _steady(minutes: range, *, start: int) -> list:
    # One complaint and two happy posts a minute.
    posts = []
    for minute in minutes:
        base = minute * 60
        posts.append(make_post(ANGRY[minute % 4] + f" #{minute}", n=start + 3 * minute, seconds=base + 5))
        posts.append(
            make_post(
                f"thanks acme, lovely service today {minute}", n=start + 3 * minute + 1, seconds=base + 20
            )
        )
        posts.append(
            make_post(
                f"acme support was great, thank you {minute}", n=start + 3 * minute + 2, seconds=base + 40
            )
        )
    return posts


def test_a_wave_of_complaints_raises_one_alert_that_closes_when_the_rate_returns(
    monitor, bluesky_source, run_tasks, django_capture_on_commit_callbacks
):
    with http_peer() as peer:
        acme = monitor("acme", alert_webhook_url=peer.url, alert_emails=["brand@example.com"])
        mentions_ingest(posts=_steady(range(30), start=0), source=bluesky_source)
        assert not Alert.objects.exists()

        # Minute 30: twelve complaints in 36 seconds, one with markup in it.
        wave = [
            make_post(ANGRY[i % 4] + (" <!channel> <script>x</script>" if i == 0 else f" wave {i}"),
                      n=1000 + i, seconds=30 * 60 + 3 * i, followers=100 * (12 - i))
            for i in range(12)
        ]  # fmt: skip
        with django_capture_on_commit_callbacks(execute=True):
            result = mentions_ingest(posts=wave, source=bluesky_source)
        assert len(result.alerts_opened) == 1
        alert = Alert.objects.get()
        assert alert.monitor == acme and alert.status == Alert.Status.OPEN
        # Opened within the wave's first minute, when eight complaints fell within 60 seconds.
        assert alert.opened_at - wave[0].posted_at <= timedelta(seconds=60)
        assert alert.count >= 8 and alert.z_score >= 5
        assert alert.samples.count() == 5
        assert "acme" not in alert.top_terms and alert.top_terms

        run_tasks()
        alert.refresh_from_db()
        assert (alert.webhook_status, alert.email_status) == ("sent", "sent")
        [hook] = peer.requests
        body = hook.json()
        assert body["text"].startswith("Spike of negative mentions for Acme")
        flat = str(body["blocks"])
        assert "&lt;!channel&gt;" in flat and "<!channel>" not in flat and "<script>" not in flat
        [message] = mail.outbox
        assert message.to == ["brand@example.com"] and "Acme" in message.subject

        # More of the same wave a minute later: the same alert, with its peak.
        more = [
            make_post(ANGRY[i % 4] + f" more {i}", n=2000 + i, seconds=31 * 60 + 2 * i) for i in range(15)
        ]
        with django_capture_on_commit_callbacks(execute=True):
            mentions_ingest(posts=more, source=bluesky_source)
        assert Alert.objects.count() == 1
        alert.refresh_from_db()
        assert alert.peak_count >= 15

        # Back to one complaint a minute: after five quiet minutes the alert closes.
        mentions_ingest(posts=_steady(range(32, 39), start=3000), source=bluesky_source)
        alert.refresh_from_db()
        assert alert.status == Alert.Status.CLOSED and alert.closed_at is not None
        assert len(peer.requests) == 1


def test_a_failed_webhook_is_retried_with_backoff(
    monitor, bluesky_source, run_tasks, django_capture_on_commit_callbacks
):
    with http_peer() as peer:
        peer.statuses = [500, 200]
        monitor("acme", alert_webhook_url=peer.url)
        mentions_ingest(posts=_steady(range(20), start=0), source=bluesky_source)
        wave = [make_post(ANGRY[i % 4] + f" {i}", n=500 + i, seconds=20 * 60 + i) for i in range(10)]
        with django_capture_on_commit_callbacks(execute=True):
            mentions_ingest(posts=wave, source=bluesky_source)
        run_tasks()
        alert = Alert.objects.get()
        assert alert.webhook_status == "failed: HTTP 500" and alert.notify_attempts == 1
        assert alerts_notify_due() == 0  # not yet: the backoff has not passed
        Alert.objects.filter(pk=alert.pk).update(created_at=timezone.now() - timedelta(minutes=1))
        assert alerts_notify_due() == 1
        alert.refresh_from_db()
        assert alert.webhook_status == "sent" and len(peer.requests) == 2
