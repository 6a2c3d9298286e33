"""The bridges between the community and the team.

From the team: a resolved conversation's answer is published, anonymised, as a staff-answered
question (`thread_publish_from_conversation`).

To the team: a thread becomes a conversation, by one path, `thread_bridge`.

Two things bring a thread across: a question nobody answered in time (the worker's periodic job,
`threads_bridge_unanswered`), and a question, or the asker's own reply, whose tone reads negative
(`posts_analyse`, at once). Either way the post (a reply after its question) comes in through
`receive_messages` like any message, from the asker's e-mail identity on the bridge channel, so the
team's reply reaches the asker by e-mail. It is idempotent on the post's external id and threaded
by the thread's, so two workers, or both reasons at once, never make two conversations; a later
negative reply by the asker joins the thread's conversation.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from firstring.accounts.models import User
from firstring.channels.models import Channel
from firstring.community.models import Post, Thread
from firstring.community.selectors import publication_preview
from firstring.community.services._checks import require_moderator
from firstring.community.services.posts import answer_accept, answer_create, thread_create
from firstring.conversations.models import Conversation
from firstring.conversations.services import Inbound, receive_messages
from firstring.customers.identities import IdentityClaim
from firstring.customers.models import Identity
from firstring.customers.services import customer_resolve
from firstring.knowledge.models import HelpCenter
from firstring.lib.errors import Conflict

logger = logging.getLogger(__name__)
BATCH = 50


def bridge_channel() -> Channel | None:
    """The channel bridged questions arrive on: the one named in settings, else the first e-mail channel."""
    slug = settings.FIRSTRING_COMMUNITY_BRIDGE_CHANNEL
    channels = Channel.objects.filter(enabled=True)
    if slug:
        return channels.filter(slug=slug).first()
    return channels.filter(kind="email").order_by("id").first()


def thread_bridge(
    *, thread_id: int, why: str, post_id: int | None = None, skip_locked: bool = False
) -> Conversation | None:
    """Bring a visible question (or `post_id`, a reply by its asker) to the team; its conversation.

    None when there is no bridge channel, the thread is hidden, locked by another worker
    (`skip_locked`), not a member's question, or the asker has no e-mail identity. The question
    itself crosses once: a thread that has a conversation already only adds the asker's replies.
    """
    channel = bridge_channel()
    if channel is None:
        return None
    with transaction.atomic():
        locking = Thread.objects.select_for_update(skip_locked=skip_locked, of=("self",))
        thread = (
            locking.select_related("author_member__customer", "help_center")
            .filter(pk=thread_id, kind=Thread.Kind.QUESTION, hidden_at__isnull=True)
            .first()
        )
        if thread is None or thread.author_member is None:
            return None
        posts = Post.objects.filter(thread=thread, hidden_at__isnull=True)
        post = posts.filter(is_question=True).first() if post_id is None else posts.filter(pk=post_id).first()
        if post is None or (not post.is_question and post.author_member_id != thread.author_member_id):
            return None
        if post.is_question and thread.conversation_id is not None:
            return thread.conversation
        customer = customer_resolve(thread.author_member.customer)
        email = (
            Identity.objects.filter(customer=customer, kind=Identity.Kind.EMAIL)
            .order_by("-verified", "id")
            .values_list("value", flat=True)
            .first()
        )
        if email is None:
            logger.warning("community thread %s: the asker has no e-mail identity", thread.pk)
            return None
        path = reverse(
            "community:thread",
            kwargs={"prefix": thread.help_center.prefix, "lang": thread.language, "thread_id": thread.pk},
        )
        key = f"community-thread-{thread.pk}"
        # A reply crosses after its question, so the team reads what it answers.
        crossing = [post]
        if not post.is_question and thread.conversation_id is None:
            question = posts.filter(is_question=True).first()
            crossing = [question, post] if question is not None else crossing
        results = receive_messages(
            [
                Inbound(
                    channel=channel,
                    claims=[IdentityClaim(Identity.Kind.EMAIL, email)],
                    text=f"{item.body_text}\n\n({why if item is post else 'Asked in the community'}: "
                    f"{settings.SITE_URL}{path})",
                    subject=f"Community question: {thread.title}"[:255],
                    external_id=key if item.is_question else f"community-post-{item.pk}",
                    thread=key,
                    language=thread.language,
                    metadata={"community_thread": thread.pk, "community_post": item.pk},
                )
                for item in crossing
            ]
        )
        result = results[-1]
        if thread.conversation_id != result.conversation.pk:
            thread.conversation = result.conversation
            thread.save(update_fields=["conversation"])
        return result.conversation


def threads_bridge_unanswered(*, now: datetime | None = None) -> int:
    """Turn visible questions with no answer after FIRSTRING_COMMUNITY_UNANSWERED_HOURS into conversations."""
    hours = settings.FIRSTRING_COMMUNITY_UNANSWERED_HOURS
    if hours <= 0 or bridge_channel() is None:
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
    why = f"Asked in the community {hours} hours ago with no answer"
    for thread_id in list(due.values_list("pk", flat=True)):
        # An answer may have come since the list was read: look again under the thread's lock.
        with transaction.atomic():
            still_due = (
                Thread.objects.select_for_update(skip_locked=True)
                .filter(pk=thread_id, conversation__isnull=True, answer_count=0)
                .exists()
            )
            if still_due and thread_bridge(thread_id=thread_id, why=why, skip_locked=True):
                bridged += 1
    return bridged


def thread_publish_from_conversation(
    *,
    conversation: Conversation,
    actor: User,
    help_center: HelpCenter,
    language: str,
    title: str,
    question: str,
    answer: str,
) -> Thread:
    """Post a resolved conversation's question and answer as a staff question with its accepted answer.

    The agent edited the anonymised draft (`publication_draft`); whatever they kept, the customer's
    own names and identifiers are removed again here (`publication_preview`), so nothing of theirs is
    published. The thread keeps a link to the conversation for staff.
    """
    require_moderator(actor)
    with transaction.atomic():
        locked = Conversation.objects.select_for_update().get(pk=conversation.pk)
        if locked.status != Conversation.Status.RESOLVED:
            raise Conflict("Only a resolved conversation's answer goes to the community.")
        public = publication_preview(conversation=locked, title=title, question=question, answer=answer)
        thread = thread_create(
            help_center=help_center, author=actor, title=public.title, body=public.question, language=language
        )
        post = answer_create(thread=thread, author=actor, body=public.answer)
        thread = answer_accept(thread=thread, post=post, actor=actor)
        thread.conversation = locked
        thread.save(update_fields=["conversation"])
    return thread
