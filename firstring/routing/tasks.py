"""The staff alerts' webhook, posted by the queue, never in a request (their e-mail: ops.tasks)."""

from __future__ import annotations

import logging

import httpx
from django.conf import settings
from django_tasks import task

logger = logging.getLogger(__name__)


@task()
def alert_webhook_post(text: str) -> None:
    """POST {"text": …} (what Slack's and Mattermost's incoming webhooks take) to the alert webhook."""
    url = settings.FIRSTRING_ALERT_WEBHOOK_URL
    if not url:
        return
    # Slack reads <…> as links and mentions (<!channel>): customers' words must not become either.
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    response = httpx.post(url, json={"text": escaped}, timeout=10)
    if response.status_code >= 400:
        logger.warning("the alert webhook answered %s: %s", response.status_code, response.text[:200])
        response.raise_for_status()
