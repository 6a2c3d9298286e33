"""Threads, answers, votes and accepted answers; each write keeps the thread's search entry current."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from firstring.accounts.models import User
from firstring.community.models import Category, Member, Post, Thread, ThreadSearchEntry, Vote
from firstring.community.services._checks import (
    Author,
    check_rate,
    clean_body,
    clean_title,
    require_member_or_staff,
)
from firstring.community.services.categories import category_check
from firstring.community.spam import fingerprint, spam_reason
from firstring.knowledge.models import HelpCenter
from firstring.knowledge.services import vocabulary_add
from firstring.lib.errors import Forbidden, InvalidInput, NotFound


def _post_new(*, thread: Thread, author: Author, member: Member | None, body: str, is_question: bool) -> Post:
    """Check and build a post (saved by the caller's transaction): rate, repeats, the spam filter."""
    body, html, text = clean_body(body)
    digest = fingerprint(text)
    held = ""
    if member is not None:
        locked = Member.objects.select_for_update().get(pk=member.pk)
        check_rate(locked)
        since = timezone.now() - timedelta(days=1)
        if Post.objects.filter(author_member=member, fingerprint=digest, created_at__gte=since).exists():
            raise InvalidInput("You posted the same text already.")
        held = spam_reason(
            body,
            max_links=settings.FIRSTRING_COMMUNITY_MAX_LINKS,
            banned_words=settings.FIRSTRING_COMMUNITY_BANNED_WORDS,
        )
    now = timezone.now()
    return Post(
        thread=thread,
        is_question=is_question,
        author_member=member,
        author_user=author if isinstance(author, User) else None,
        body=body,
        body_html=html,
        body_text=text,
        fingerprint=digest,
        hidden_at=now if held else None,
        hidden_reason=held,
        review_needed=bool(held),
        created_at=now,
    )


def _analyse_after_commit(post: Post) -> None:
    """Queue the post's tone and topic reading once it is stored (a negative question crosses at once)."""

    def queue() -> None:
        from firstring.community.tasks import posts_analysed

        posts_analysed.enqueue([post.pk])

    transaction.on_commit(queue)


def thread_create(
    *,
    help_center: HelpCenter,
    author: Author,
    title: str,
    body: str,
    language: str,
    kind: str = Thread.Kind.QUESTION,
    category: Category | None = None,
) -> Thread:
    """A new question (by a member or staff) or announcement (staff only), with its first post, in
    `category` (of the same help center; its default category when None)."""
    member = require_member_or_staff(author)
    if kind not in Thread.Kind.values:
        raise InvalidInput("A thread is a question or an announcement.")
    if kind == Thread.Kind.ANNOUNCEMENT and member is not None:
        raise Forbidden("Only staff post announcements.")
    if language not in help_center.all_languages:
        raise InvalidInput("This help center does not speak that language.")
    title = clean_title(title)
    category = category_check(help_center=help_center, category=category)
    with transaction.atomic():
        thread = Thread(
            help_center=help_center,
            category=category,
            kind=kind,
            language=language,
            title=title,
            author_member=member,
            author_user=author if isinstance(author, User) else None,
        )
        post = _post_new(thread=thread, author=author, member=member, body=body, is_question=True)
        thread.created_at = thread.last_activity_at = post.created_at
        # A question the spam filter holds keeps the whole thread out of sight until a moderator decides.
        thread.hidden_at = post.hidden_at
        thread.save()
        post.thread = thread
        post.save()
        thread_index_write(thread=thread)
        _analyse_after_commit(post)
    return thread


def answer_create(*, thread: Thread, author: Author, body: str) -> Post:
    """An answer to a visible thread; a locked thread takes answers from staff only."""
    member = require_member_or_staff(author)
    with transaction.atomic():
        thread = Thread.objects.select_for_update().get(pk=thread.pk)
        if thread.is_hidden:
            raise NotFound("no such thread")
        if thread.is_locked and member is not None:
            raise Forbidden("This thread is locked.")
        post = _post_new(thread=thread, author=author, member=member, body=body, is_question=False)
        post.save()
        if not post.is_hidden:
            thread.last_activity_at = post.created_at
            thread.save(update_fields=["last_activity_at"])
        thread_index_write(thread=thread)
        _analyse_after_commit(post)
    return post


def post_vote(*, post: Post, member: Member, value: int) -> Post:
    """A member's vote on a visible post: +1, -1, or 0 to take it back; one vote per member and post."""
    require_member_or_staff(member)
    if value not in (-1, 0, 1):
        raise InvalidInput("A vote is up, down or taken back.")
    with transaction.atomic():
        post = Post.objects.select_for_update().select_related("thread").get(pk=post.pk)
        if post.is_hidden or post.thread.is_hidden:
            raise NotFound("no such post")
        if post.author_member_id == member.pk:
            raise Forbidden("You cannot vote on your own post.")
        if value == 0:
            Vote.objects.filter(post=post, member=member).delete()
        else:
            Vote.objects.update_or_create(post=post, member=member, defaults={"value": value})
        post.score = Vote.objects.filter(post=post).aggregate(total=Sum("value"))["total"] or 0
        post.save(update_fields=["score"])
    return post


def answer_accept(*, thread: Thread, post: Post, actor: Author) -> Thread:
    """Mark the answer that solved the question: by whoever asked it, or by staff."""
    member = require_member_or_staff(actor)
    with transaction.atomic():
        thread = Thread.objects.select_for_update().get(pk=thread.pk)
        if thread.is_hidden:
            raise NotFound("no such thread")
        if thread.kind != Thread.Kind.QUESTION:
            raise InvalidInput("Only questions have accepted answers.")
        if member is not None and thread.author_member_id != member.pk:
            raise Forbidden("Only the person who asked, or staff, accept an answer.")
        answer = Post.objects.filter(
            pk=post.pk, thread=thread, is_question=False, hidden_at__isnull=True
        ).first()
        if answer is None:
            raise NotFound("no such answer")
        thread.accepted_post = answer
        thread.save(update_fields=["accepted_post"])
        thread_index_write(thread=thread)
    return thread


def thread_index_write(*, thread: Thread) -> None:
    """Recount the visible answers and rewrite the search entry (none for a hidden thread).

    Runs inside the caller's transaction, with the thread locked.
    """
    visible = list(
        Post.objects.filter(thread=thread, hidden_at__isnull=True)
        .order_by("created_at", "id")
        .values_list("is_question", "body_text")
    )
    answers = sum(1 for is_question, _ in visible if not is_question)
    question_visible = any(is_question for is_question, _ in visible)
    if (
        thread.accepted_post_id is not None
        and not Post.objects.filter(pk=thread.accepted_post_id, hidden_at__isnull=True).exists()
    ):
        thread.accepted_post = None
    thread.answer_count = answers
    thread.save(update_fields=["answer_count", "accepted_post"])
    if thread.is_hidden or not question_visible:
        ThreadSearchEntry.objects.filter(thread=thread).delete()
        return
    text = "\n\n".join(body for _, body in visible)
    ThreadSearchEntry.objects.update_or_create(
        thread=thread,
        defaults={
            "help_center_id": thread.help_center_id,
            "language": thread.language,
            "title": thread.title,
            "text": text,
            "answered": thread.accepted_post_id is not None,
        },
    )
    vocabulary_add(texts=[thread.title, visible[-1][1]])
