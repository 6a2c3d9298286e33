"""Reads for the community: what the public may see (never a hidden thread or post) and the queue."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Case, Count, IntegerField, Q, QuerySet, Sum, Value, When
from django.db.models.functions import TruncDate
from django.urls import reverse
from django.utils import timezone

from firstring.community.models import Category, Member, Post, PostInsight, Thread, Vote
from firstring.conversations.models import Conversation, Message
from firstring.customers.models import Identity
from firstring.customers.services import customer_resolve
from firstring.knowledge.markdown import render_markdown
from firstring.knowledge.models import HelpCenter
from firstring.knowledge.selectors import SitemapEntry
from firstring.lib.anonymise import anonymise, scrub
from firstring.lib.errors import NotFound

MAX_ID = 2**63 - 1
PAGE = 30


def _check_id(value: int, what: str) -> None:
    if not 0 < value <= MAX_ID:
        raise NotFound(f"no such {what}")


def categories(*, help_center: HelpCenter) -> list[Category]:
    """The help center's community categories in their order, with their visible threads counted."""
    return list(
        Category.objects.filter(help_center=help_center)
        .annotate(thread_count=Count("threads", filter=Q(threads__hidden_at__isnull=True)))
        .order_by("position", "name", "id")
    )


def category_get(*, help_center: HelpCenter, slug: str) -> Category:
    category = Category.objects.filter(help_center=help_center, slug=slug).first()
    if category is None:
        raise NotFound("no such category")
    return category


def thread_rows(
    *,
    help_center: HelpCenter | None,
    category: Category | None = None,
    unanswered: bool = False,
    include_hidden: bool = False,
) -> QuerySet[Thread]:
    """Threads to list, unordered; hidden (and merged) ones only when `include_hidden` (staff)."""
    threads = Thread.objects.select_related("help_center", "author_member", "author_user", "category")
    if help_center is not None:
        threads = threads.filter(help_center=help_center)
    if not include_hidden:
        threads = threads.filter(hidden_at__isnull=True)
    if category is not None:
        threads = threads.filter(category=category)
    if unanswered:
        threads = threads.filter(kind=Thread.Kind.QUESTION, answer_count=0)
    return threads


def threads_for_visitor(
    *,
    help_center: HelpCenter,
    category: Category | None = None,
    unanswered: bool = False,
    limit: int = PAGE,
) -> list[Thread]:
    threads = thread_rows(help_center=help_center, category=category, unanswered=unanswered)
    return list(threads.order_by("-last_activity_at", "-id")[:limit])


def thread_for_reader(*, thread_id: int, include_hidden: bool) -> Thread:
    """A thread of any help center for the API: a hidden one only for staff who ask for it."""
    _check_id(thread_id, "thread")
    rows = Thread.objects.select_related("help_center", "category", "author_member", "author_user")
    if not include_hidden:
        rows = rows.filter(hidden_at__isnull=True)
    thread = rows.filter(pk=thread_id).first()
    if thread is None:
        raise NotFound("no such thread")
    return thread


# A sitemap holds at most 50,000 addresses; the articles and the most recently active threads share them.
SITEMAP_THREADS = 40_000


def sitemap_threads(help_center: HelpCenter) -> list[SitemapEntry]:
    """The help center's visible threads for its sitemap (never a hidden or merged one), newest first."""
    rows = (
        Thread.objects.filter(help_center=help_center, hidden_at__isnull=True, merged_into__isnull=True)
        .order_by("-last_activity_at", "-id")
        .values_list("pk", "language", "last_activity_at")[:SITEMAP_THREADS]
    )
    return [
        SitemapEntry(
            path=reverse(
                "community:thread",
                kwargs={"prefix": help_center.prefix, "lang": language, "thread_id": pk},
            ),
            lastmod=at,
        )
        for pk, language, at in rows
    ]


def thread_for_visitor(*, help_center: HelpCenter, thread_id: int) -> Thread:
    """A visible thread of this help center; a hidden or another center's thread is not found."""
    _check_id(thread_id, "thread")
    thread = (
        Thread.objects.select_related("category")
        .filter(pk=thread_id, help_center=help_center, hidden_at__isnull=True)
        .first()
    )
    if thread is None:
        raise NotFound("no such thread")
    return thread


def thread_merged_into(*, help_center: HelpCenter, thread_id: int) -> Thread | None:
    """The visible thread a merged duplicate now lives in, or None."""
    _check_id(thread_id, "thread")
    return Thread.objects.filter(
        merged_from__pk=thread_id, help_center=help_center, hidden_at__isnull=True
    ).first()


def posts_for_visitor(*, thread: Thread) -> list[Post]:
    """The question, then the accepted answer, then the others by score and age; hidden ones never."""
    accepted = thread.accepted_post_id or 0
    return list(
        Post.objects.filter(thread=thread, hidden_at__isnull=True)
        .select_related("author_member", "author_user")
        .annotate(
            place=Case(
                When(is_question=True, then=Value(0)),
                When(pk=accepted, then=Value(1)),
                default=Value(2),
                output_field=IntegerField(),
            )
        )
        .order_by("place", "-score", "created_at", "id")
    )


def post_for_visitor(*, help_center: HelpCenter, post_id: int) -> Post:
    """A visible post in a visible thread of this help center."""
    _check_id(post_id, "post")
    post = (
        Post.objects.select_related("thread")
        .filter(
            pk=post_id,
            thread__help_center=help_center,
            hidden_at__isnull=True,
            thread__hidden_at__isnull=True,
        )
        .first()
    )
    if post is None:
        raise NotFound("no such post")
    return post


def member_votes(*, member: Member | None, posts: list[Post]) -> dict[int, int]:
    if member is None or not posts:
        return {}
    return dict(
        Vote.objects.filter(member=member, post__in=[p.pk for p in posts]).values_list("post_id", "value")
    )


@dataclass(frozen=True)
class QueueItem:
    post: Post
    flag_reasons: list[str]


def moderation_queue(*, limit: int = 100) -> list[QueueItem]:
    """Posts waiting for a moderator (held by the spam filter, or flagged), oldest first."""
    posts = list(
        Post.objects.filter(review_needed=True)
        .select_related("thread", "thread__help_center", "author_member", "author_user")
        .prefetch_related("flags")
        .order_by("created_at", "id")[:limit]
    )
    return [
        QueueItem(post=p, flag_reasons=[f.reason or "—" for f in p.flags.all() if f.settled_at is None])
        for p in posts
    ]


def thread_for_staff(*, thread_id: int) -> Thread:
    _check_id(thread_id, "thread")
    thread = (
        Thread.objects.select_related("help_center", "conversation", "category").filter(pk=thread_id).first()
    )
    if thread is None:
        raise NotFound("no such thread")
    return thread


def posts_for_staff(*, thread: Thread) -> QuerySet[Post]:
    """Every post of the thread, hidden ones too, in the order written, with its tone and topic."""
    return (
        Post.objects.filter(thread=thread)
        .select_related("author_member", "author_user", "insight", "insight__topic")
        .order_by("created_at", "id")
    )


def post_for_staff(*, post_id: int) -> Post:
    _check_id(post_id, "post")
    post = Post.objects.select_related("thread").filter(pk=post_id).first()
    if post is None:
        raise NotFound("no such post")
    return post


def member_for_staff(*, member_id: int) -> Member:
    _check_id(member_id, "member")
    member = Member.objects.select_related("customer").filter(pk=member_id).first()
    if member is None:
        raise NotFound("no such member")
    return member


def recent_threads_for_staff(*, limit: int = 50) -> list[Thread]:
    return list(
        Thread.objects.select_related("help_center", "author_member", "author_user").order_by(
            "-created_at", "-id"
        )[:limit]
    )


@dataclass(frozen=True)
class Publication:
    """A resolved conversation as the community would read it: the customer taken out."""

    title: str
    question: str
    answer: str

    @property
    def question_html(self) -> str:
        return render_markdown(self.question)

    @property
    def answer_html(self) -> str:
        return render_markdown(self.answer)


def _customer_words(conversation: Conversation) -> tuple[list[str], list[str]]:
    """The customer's names and identifiers (addresses, numbers, handles): never to be published."""
    customer = customer_resolve(conversation.customer)
    customers = {conversation.customer_id, customer.pk}
    names = [customer.name, conversation.customer.name]
    identifiers = list(Identity.objects.filter(customer_id__in=customers).values_list("value", flat=True))
    return [n for n in names if n], identifiers


def publication_draft(*, conversation: Conversation) -> Publication:
    """The first words of the customer and the last reply of the team, anonymised, for an agent to edit."""
    messages = Message.objects.filter(conversation=conversation).exclude(text="")
    question = messages.filter(direction=Message.Direction.INBOUND).order_by("created_at", "id").first()
    answer = messages.filter(direction=Message.Direction.OUTBOUND).order_by("-created_at", "-id").first()
    names, identifiers = _customer_words(conversation)

    def clean(text: str) -> str:
        return anonymise(text, names=names, identifiers=identifiers)

    return Publication(
        title=clean(conversation.subject)[:200],
        question=clean(question.text if question else ""),
        answer=clean(answer.text if answer else ""),
    )


def publication_preview(*, conversation: Conversation, title: str, question: str, answer: str) -> Publication:
    """What an agent's edited text becomes: the customer's own names and identifiers always removed."""
    names, identifiers = _customer_words(conversation)

    def clean(text: str) -> str:
        return scrub(text, names=names, identifiers=identifiers)

    return Publication(title=clean(title), question=clean(question), answer=clean(answer))


def _customer_posts(*, start: dt.datetime, end: dt.datetime, topic_id: int | None) -> QuerySet[PostInsight]:
    """Members' visible posts in a range, as the Voice of the Customer counts them (not staff's, not spam)."""
    rows = PostInsight.objects.filter(
        posted_at__gte=start,
        posted_at__lt=end,
        post__author_member__isnull=False,
        post__hidden_at__isnull=True,
    )
    return rows.filter(topic_id=topic_id) if topic_id else rows


def post_tone_by_day(
    *, start: dt.datetime, end: dt.datetime, topic_id: int | None = None
) -> list[dict[str, Any]]:
    """Per day: members' posts, their tone counts and mean tone score (the dashboard's community line)."""
    rows = (
        _customer_posts(start=start, end=end, topic_id=topic_id)
        .annotate(day=TruncDate("posted_at", tzinfo=timezone.get_current_timezone()))
        .values("day")
        .annotate(
            posts=Count("pk"),
            negative=Count("pk", filter=Q(tone="negative")),
            neutral=Count("pk", filter=Q(tone="neutral")),
            positive=Count("pk", filter=Q(tone="positive")),
            score=Sum("score"),
        )
        .order_by("day")
    )
    return [
        {**r, "mean_tone": round((r["score"] or 0.0) / r["posts"], 4) if r["posts"] else 0.0} for r in rows
    ]


def post_topics(*, start: dt.datetime, end: dt.datetime, limit: int = 10) -> list[dict[str, Any]]:
    """The topics members post about most in a range, with their negative share."""
    rows = (
        _customer_posts(start=start, end=end, topic_id=None)
        .filter(topic__isnull=False)
        .values("topic_id", "topic__name")
        .annotate(posts=Count("pk"), negative=Count("pk", filter=Q(tone="negative")))
        .order_by("-posts", "topic__name")[:limit]
    )
    return [
        {"topic_id": r["topic_id"], "topic": r["topic__name"], "posts": r["posts"],
         "negative_share": round(r["negative"] / r["posts"], 4)}
        for r in rows
    ]  # fmt: skip
