"""Telling people about an alert: a Slack-compatible webhook and e-mail, sent by the worker after commit.

A failed delivery is recorded on the alert and retried with exponential backoff (`alerts_notify_due`,
run by the listener's loop) up to `MAX_ATTEMPTS` times; one that worked is not sent again.
"""

from __future__ import annotations

import logging
from datetime import timedelta

import httpx
from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone
from django_tasks import task

from firstring.lib.sanitize import excerpt
from firstring.listening.models import Alert

logger = logging.getLogger(__name__)

SENT = "sent"
MAX_ATTEMPTS = 6
BACKOFF_SECONDS = 30
WEBHOOK_TIMEOUT_SECONDS = 10


def alert_queue_notifications(*, alert_id: int) -> None:
    """Queue the notifications of a new alert once the transaction that opened it commits."""
    transaction.on_commit(lambda: alert_notify.enqueue(alert_id))


def _slack_escape(text: str) -> str:
    # Slack's mrkdwn reads &, < and > as markup (links, mentions): post text must not inject any.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def alert_link(alert: Alert) -> str:
    return f"{settings.SITE_URL.rstrip('/')}/listening/alerts/{alert.pk}/"


def alert_payload(alert: Alert) -> dict[str, object]:
    """The webhook body: Slack's incoming-webhook format (`text` plus blocks), which most chat tools take."""
    monitor = _slack_escape(alert.monitor.name)
    headline = (
        f"Spike of negative mentions for {monitor}: {alert.count} in a minute "
        f"(baseline {alert.baseline:.1f}, z = {alert.z_score:.1f})"
    )
    samples = [
        f"• @{_slack_escape(m.author_handle or 'unknown')}: {_slack_escape(excerpt(m.text, 200))}"
        for m in alert.samples.order_by("-reach", "-posted_at")
    ]
    terms = ", ".join(_slack_escape(t) for t in alert.top_terms) or "none"
    blocks: list[dict[str, object]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": f"*{headline}*"}},
        {"type": "section", "text": {"type": "mrkdwn", "text": f"Top terms: {terms}"}},
    ]
    if samples:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(samples)}})
    blocks.append(
        {"type": "section", "text": {"type": "mrkdwn", "text": f"<{alert_link(alert)}|Open in Firstring>"}}
    )
    return {"text": headline, "blocks": blocks}


def _send_webhook(alert: Alert) -> str:
    try:
        response = httpx.post(
            alert.monitor.alert_webhook_url, json=alert_payload(alert), timeout=WEBHOOK_TIMEOUT_SECONDS
        )
    except httpx.HTTPError as error:
        return f"failed: {type(error).__name__}"[:300]
    if response.status_code >= 300:
        return f"failed: HTTP {response.status_code}"
    return SENT


def _send_email(alert: Alert) -> str:
    payload = alert_payload(alert)
    lines = [str(payload["text"]), "", f"Top terms: {', '.join(alert.top_terms) or 'none'}", ""]
    for mention in alert.samples.order_by("-reach", "-posted_at"):
        lines.append(f"- @{mention.author_handle or 'unknown'}: {excerpt(mention.text, 300)}")
    lines += ["", alert_link(alert)]
    try:
        send_mail(
            subject=f"[Firstring] Spike of negative mentions: {alert.monitor.name}"[:200],
            message="\n".join(lines),
            from_email=None,
            recipient_list=list(alert.monitor.alert_emails),
        )
    except Exception as error:  # SMTP errors have no common base; any of them is worth a retry
        return f"failed: {type(error).__name__}"[:300]
    return SENT


def alert_notifications_send(*, alert_id: int) -> Alert | None:
    """Send what is still unsent of an alert's notifications and record how it went."""
    alert = Alert.objects.select_related("monitor").filter(pk=alert_id).first()
    if alert is None:
        return None
    fields = ["notify_attempts"]
    if alert.monitor.alert_webhook_url and alert.webhook_status != SENT:
        alert.webhook_status = _send_webhook(alert)
        fields.append("webhook_status")
    if alert.monitor.alert_emails and alert.email_status != SENT:
        alert.email_status = _send_email(alert)
        fields.append("email_status")
    if len(fields) == 1:
        return alert
    alert.notify_attempts += 1
    alert.save(update_fields=fields)
    if any(status.startswith("failed") for status in (alert.webhook_status, alert.email_status)):
        logger.warning(
            "alert %s: webhook %s, e-mail %s",
            alert.pk,
            alert.webhook_status or "-",
            alert.email_status or "-",
        )
    return alert


@task()
def alert_notify(alert_id: int) -> None:
    alert_notifications_send(alert_id=alert_id)


def alerts_notify_due() -> int:
    """Retry failed notifications whose backoff has passed; returns how many alerts were retried."""
    now = timezone.now()
    retried = 0
    failing = Alert.objects.filter(notify_attempts__gt=0, notify_attempts__lt=MAX_ATTEMPTS).filter(
        webhook_status__startswith="failed"
    ) | Alert.objects.filter(notify_attempts__gt=0, notify_attempts__lt=MAX_ATTEMPTS).filter(
        email_status__startswith="failed"
    )
    for alert in failing.distinct():
        due = alert.created_at + timedelta(seconds=BACKOFF_SECONDS * 2 ** (alert.notify_attempts - 1))
        if due <= now:
            alert_notifications_send(alert_id=alert.pk)
            retried += 1
    return retried
