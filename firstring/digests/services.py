"""Sending the weekly digest: once per week per installation, whatever the number of workers.

The worker's periodic job calls `digest_send_due` at every beat. From Monday FIRSTRING_DIGEST_HOUR
(local time) the week that ended on Sunday is due; the worker that inserts its `DigestWeek` row (unique
per week) renders it and queues the e-mail after commit, through the staff e-mail task; any other
worker's insert fails and it sends nothing. A week with no manager to tell is not recorded, so it goes
out once one is added.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone

from firstring.digests.models import DigestWeek
from firstring.digests.selectors import WeeklyDigest, week_start, weekly_digest
from firstring.escalations.selectors import managers


def digest_week_due(*, now: dt.datetime) -> dt.date | None:
    """The Monday of the last full week once its digest may go (Monday at the set hour), else None."""
    local = timezone.localtime(now)
    monday = week_start(local.date())
    if local.date() == monday and local.hour < settings.FIRSTRING_DIGEST_HOUR:
        return None
    return monday - dt.timedelta(days=7)


def digest_render(*, digest: WeeklyDigest) -> tuple[str, str, str]:
    """Subject, plain text and HTML (customers' words escaped by the template) of a digest."""
    context = {"d": digest, "site": settings.SITE_URL.rstrip("/")}
    s = digest.summary
    negative = round(s["negative_share"] * 100)
    subject = f"[Firstring] Week of {digest.since:%Y-%m-%d}: " + (
        f"{s['messages']} customer messages, {negative}% negative"
    )
    text = render_to_string("digests/weekly.txt", context)
    html = render_to_string("digests/weekly.html", context)
    return subject, text, html


def digest_send_due(*, now: dt.datetime | None = None) -> DigestWeek | None:
    """Send the week's digest to managers and admins if it is due and no worker sent it; its row."""
    if not settings.FIRSTRING_DIGEST_ENABLED:
        return None
    now = now or timezone.now()
    week = digest_week_due(now=now)
    if week is None or DigestWeek.objects.filter(week_start=week).exists():
        return None
    recipients = [email for email in managers().values_list("email", flat=True) if email]
    if not recipients:
        return None
    digest = weekly_digest(week=week)
    subject, text, html = digest_render(digest=digest)
    from firstring.ops.tasks import email_send

    try:
        with transaction.atomic():
            # An empty week is recorded as done, with nobody told: an e-mail of zeros is noise.
            told = [] if digest.empty else recipients
            row = DigestWeek.objects.create(week_start=week, recipients=len(told), sent_at=now)
            if told:
                transaction.on_commit(lambda: email_send.enqueue(told, subject, text, html))
    except IntegrityError:
        return None  # another worker recorded it first: that one sends it
    return row
