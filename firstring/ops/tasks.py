"""Background e-mail that no channel carries: staff alerts, digests, customers' sign-in links.

Sent by the queue, retried by it, never in a request. Conversations' e-mail goes through the outbox.
"""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django_tasks import task


@task()
def email_send(recipients: list[str], subject: str, body: str, html: str = "") -> None:
    """Plain text, with an HTML alternative when `html` is given (escaped by whoever rendered it)."""
    # One message per person: recipients' addresses are not shown to each other.
    for recipient in recipients:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [recipient], html_message=html or None)
