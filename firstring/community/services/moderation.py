"""Moderation: members flag posts; staff hide and restore posts, lock and merge threads, ban members."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone

from firstring.accounts.access import require_manager
from firstring.accounts.models import User
from firstring.community.models import Flag, Member, Post, Thread
from firstring.community.services._checks import require_member_or_staff, require_moderator
from firstring.community.services.posts import thread_index_write
from firstring.lib.errors import Conflict, InvalidInput, NotFound

# Open flags from this many members hide a post until a moderator looks at it.
FLAGS_TO_HIDE = 3


def post_flag(*, post: Post, member: Member, reason: str = "") -> Post:
    """A member reports a visible post; it goes to the moderation queue (hidden at FLAGS_TO_HIDE)."""
    require_member_or_staff(member)
    reason = " ".join(reason.split())[:200]
    try:
        with transaction.atomic():
            post = Post.objects.select_for_update().select_related("thread").get(pk=post.pk)
            if post.is_hidden or post.thread.is_hidden:
                raise NotFound("no such post")
            if post.author_member_id == member.pk:
                raise InvalidInput("You cannot flag your own post.")
            Flag.objects.create(post=post, member=member, reason=reason)
            post.flag_count = Flag.objects.filter(post=post, settled_at__isnull=True).count()
            post.review_needed = True
            fields = ["flag_count", "review_needed"]
            if post.flag_count >= FLAGS_TO_HIDE:
                post.hidden_at, post.hidden_reason = timezone.now(), "flags"
                fields += ["hidden_at", "hidden_reason"]
            post.save(update_fields=fields)
            if post.is_hidden:
                _hidden_changed(post)
    except IntegrityError:
        raise Conflict("You flagged this post already.") from None
    return post


def _settle(post: Post) -> None:
    Flag.objects.filter(post=post, settled_at__isnull=True).update(settled_at=timezone.now())
    post.flag_count = 0
    post.review_needed = False


def _hidden_changed(post: Post) -> None:
    """A question's visibility is its thread's; either way the thread's counts and index follow."""
    thread = Thread.objects.select_for_update().get(pk=post.thread_id)
    if post.is_question:
        thread.hidden_at = post.hidden_at
        thread.save(update_fields=["hidden_at"])
    thread_index_write(thread=thread)


def post_hide(*, post: Post, actor: User, reason: str = "moderator") -> Post:
    """Hide a post from the public (a question hides its thread); settles its flags."""
    require_moderator(actor)
    with transaction.atomic():
        post = Post.objects.select_for_update().get(pk=post.pk)
        _settle(post)
        post.hidden_at = post.hidden_at or timezone.now()
        post.hidden_reason = " ".join(reason.split())[:200] or "moderator"
        post.save(update_fields=["hidden_at", "hidden_reason", "flag_count", "review_needed"])
        _hidden_changed(post)
    return post


def post_restore(*, post: Post, actor: User) -> Post:
    """Show a post again (or keep it shown) and dismiss its flags: the moderator found it fine."""
    require_moderator(actor)
    with transaction.atomic():
        post = Post.objects.select_for_update().get(pk=post.pk)
        _settle(post)
        post.hidden_at, post.hidden_reason = None, ""
        post.save(update_fields=["hidden_at", "hidden_reason", "flag_count", "review_needed"])
        _hidden_changed(post)
    return post


def thread_lock(*, thread: Thread, actor: User) -> Thread:
    """No more answers from members (staff may still answer)."""
    require_moderator(actor)
    with transaction.atomic():
        thread = Thread.objects.select_for_update().get(pk=thread.pk)
        if thread.locked_at is None:
            thread.locked_at = timezone.now()
            thread.save(update_fields=["locked_at"])
    return thread


def thread_unlock(*, thread: Thread, actor: User) -> Thread:
    require_moderator(actor)
    with transaction.atomic():
        thread = Thread.objects.select_for_update().get(pk=thread.pk)
        if thread.locked_at is not None:
            thread.locked_at = None
            thread.save(update_fields=["locked_at"])
    return thread


def thread_merge(*, thread: Thread, into: Thread, actor: User) -> Thread:
    """Merge a duplicate into another visible thread of the same help center; the thread merged into.

    The duplicate's answers (with their votes and flags) move; the duplicate is hidden, keeps its
    question for staff, and its public address redirects (301) to `into`. Threads merged into the
    duplicate before now point to `into`, so a redirect never chains.
    """
    require_moderator(actor)
    if thread.pk == into.pk:
        raise InvalidInput("A thread cannot be merged into itself.")
    with transaction.atomic():
        locked = {
            t.pk: t
            for t in Thread.objects.select_for_update().filter(pk__in=[thread.pk, into.pk]).order_by("pk")
        }
        thread, into = locked[thread.pk], locked[into.pk]
        if thread.merged_into_id is not None:
            raise Conflict("This thread was merged already.")
        if into.is_hidden or into.merged_into_id is not None:
            raise InvalidInput("Merge into a visible thread.")
        if into.help_center_id != thread.help_center_id:
            raise InvalidInput("Merge into a thread of the same help center.")
        moved = Post.objects.filter(thread=thread, is_question=False)
        last = (
            moved.filter(hidden_at__isnull=True)
            .order_by("-created_at")
            .values_list("created_at", flat=True)
            .first()
        )
        moved.update(thread=into)
        Thread.objects.filter(merged_into=thread).update(merged_into=into)
        thread.merged_into, thread.accepted_post = into, None
        thread.hidden_at = thread.hidden_at or timezone.now()
        thread.save(update_fields=["merged_into", "accepted_post", "hidden_at"])
        thread_index_write(thread=thread)
        if last is not None and last > into.last_activity_at:
            into.last_activity_at = last
            into.save(update_fields=["last_activity_at"])
        thread_index_write(thread=into)
    return into


def member_ban(*, member: Member, actor: User, reason: str) -> Member:
    """A banned member may still sign in and read their conversations, but no longer posts, votes or flags.

    Agents hide and lock; banning a person is for managers and admins.
    """
    require_manager(actor, "Only managers ban members.")
    reason = " ".join(reason.split())[:200]
    if not reason:
        raise InvalidInput("Say why the member is banned.")
    with transaction.atomic():
        member = Member.objects.select_for_update().get(pk=member.pk)
        member.banned_at, member.ban_reason, member.banned_by = timezone.now(), reason, actor
        member.save(update_fields=["banned_at", "ban_reason", "banned_by"])
    return member


def member_unban(*, member: Member, actor: User) -> Member:
    require_manager(actor, "Only managers lift bans.")
    with transaction.atomic():
        member = Member.objects.select_for_update().get(pk=member.pk)
        member.banned_at, member.ban_reason, member.banned_by = None, "", None
        member.save(update_fields=["banned_at", "ban_reason", "banned_by"])
    return member
