"""The bridge to the team: a question nobody answered in time becomes a conversation.

Run by the worker's periodic job. The conversation comes in through `receive_message` like any
message (idempotent on the thread's external id, so two workers never make two), from the asker's
e-mail identity on the bridge channel, so the team's reply reaches the asker by e-mail.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from firstring.channels.models import Channel
from firstring.community.models import Post, Thread
from firstring.conversations.services import Inbound, receive_message
from firstring.customers.identities import IdentityClaim
from firstring.customers.models import Identity
from firstring.customers.services import customer_resolve

logger = logging.getLogger(__name__)
BATCH = 50


def bridge_channel() -> Channel | None:
    """The channel bridged questions arrive on: the one named in settings, else the first e-mail channel."""
    slug = settings.FIRSTRING_COMMUNITY_BRIDGE_CHANNEL
    channels = Channel.objects.filter(enabled=True)
    if slug:
        return channels.filter(slug=slug).first()
    return channels.filter(kind="email").order_by("id").first()


def threads_bridge_unanswered(*, now: datetime | None = None) -> int:
    """Turn visible questions with no answer after FIRSTRING_COMMUNITY_UNANSWERED_HOURS into conversations."""
    hours = settings.FIRSTRING_COMMUNITY_UNANSWERED_HOURS
    channel = bridge_channel()
    if hours <= 0 or channel is None:
        return 0
    now = now or timezone.now()
    due = Thread.objects.filter(
        kind=Thread.Kind.QUESTION,
        answer_count=0,
        hidden_at__isnull=True,
        conversation__isnull=True,
        author_member__isnull=False,
        created_at__lte=now - timedelta(hours=hours),
    ).order_by("created_at")[:BATCH]
    bridged = 0
    for thread_id in list(due.values_list("pk", flat=True)):
        with transaction.atomic():
            thread = (
                Thread.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("author_member__customer", "help_center")
                .filter(pk=thread_id, conversation__isnull=True, answer_count=0)
                .first()
            )
            if thread is None or thread.author_member is None:
                continue
            customer = customer_resolve(thread.author_member.customer)
            email = (
                Identity.objects.filter(customer=customer, kind=Identity.Kind.EMAIL)
                .order_by("-verified", "id")
                .values_list("value", flat=True)
                .first()
            )
            if email is None:
                logger.warning("community thread %s: the asker has no e-mail identity", thread.pk)
                continue
            question = Post.objects.filter(thread=thread, is_question=True).first()
            path = reverse(
                "community:thread",
                kwargs={"prefix": thread.help_center.prefix, "lang": thread.language, "thread_id": thread.pk},
            )
            text = (
                f"{question.body_text if question else ''}\n\n"
                f"(Asked in the community {hours} hours ago with no answer: {settings.SITE_URL}{path})"
            )
            result = receive_message(
                Inbound(
                    channel=channel,
                    claims=[IdentityClaim(Identity.Kind.EMAIL, email)],
                    text=text,
                    subject=f"Community question: {thread.title}"[:255],
                    external_id=f"community-thread-{thread.pk}",
                    thread=f"community-thread-{thread.pk}",
                    language=thread.language,
                    metadata={"community_thread": thread.pk},
                )
            )
            thread.conversation = result.conversation
            thread.save(update_fields=["conversation"])
            bridged += 1
    return bridged
