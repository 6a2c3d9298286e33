"""Telling staff what needs them now: a notification in the app, an e-mail, and the team's webhook."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction
from django.utils import timezone

from firstring.accounts.models import User
from firstring.conversations import live
from firstring.lib.errors import NotFound
from firstring.routing.models import Notification


def staff_notify(*, users: Sequence[User], kind: str, text: str, url: str = "", details: str = "") -> None:
    """Notify each user in the app at once and by e-mail, and post to the alert webhook, after commit.

    `details` is added to the e-mail (a context pack), not to the short in-app line.
    """
    users = [user for user in users if user.is_active]
    if not users:
        return
    now = timezone.now()
    Notification.objects.bulk_create(
        Notification(user=user, kind=kind, text=text[:300], url=url, created_at=now) for user in users
    )
    user_ids = [user.pk for user in users]
    emails = [user.email for user in users]

    def after_commit() -> None:
        from firstring.ops.tasks import email_send
        from firstring.routing.tasks import alert_webhook_post

        live.publish_notice(user_ids=user_ids, kind="notification")
        body = "\n\n".join(part for part in (text, url, details) if part)
        email_send.enqueue(emails, f"[Firstring] {text[:120]}", body)
        alert_webhook_post.enqueue(f"{text} {url}".strip())

    transaction.on_commit(after_commit)


def notification_read(*, user: User, notification_id: int) -> Notification:
    """Mark one of the user's notifications read; another user's is not found."""
    notification = Notification.objects.filter(pk=notification_id, user=user).first()
    if notification is None:
        raise NotFound(f"notification {notification_id} not found")
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return notification


def notifications_read_all(*, user: User) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).update(read_at=timezone.now())
