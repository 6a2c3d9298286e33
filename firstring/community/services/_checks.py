"""What every community write checks first: who writes, whether they may, and how much they wrote."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from firstring.accounts.models import User
from firstring.community.models import Member, Post
from firstring.knowledge.markdown import markdown_to_text, render_markdown
from firstring.lib.errors import Forbidden, InvalidInput, RateLimited

Author = Member | User
MAX_TITLE = 200
MAX_BODY = 20_000


def require_member_or_staff(author: Author) -> Member | None:
    """The member writing (None for staff); a banned member or an inactive user may not write."""
    if isinstance(author, User):
        if not author.is_active:
            raise Forbidden("this account is inactive")
        return None
    if author.is_banned:
        raise Forbidden("You are banned from the community.")
    return author


def require_moderator(actor: User) -> None:
    if not actor.is_active:
        raise Forbidden("this account is inactive")


def clean_body(body: str) -> tuple[str, str, str]:
    """Markdown as written, its sanitised HTML and its plain text; an empty or huge body is refused."""
    body = body.strip()
    if not body:
        raise InvalidInput("Write something first.")
    if len(body) > MAX_BODY:
        raise InvalidInput(f"A post is at most {MAX_BODY} characters.")
    html, text = render_markdown(body), markdown_to_text(body)
    if not text.strip():
        raise InvalidInput("Write something first.")
    return body, html, text


def clean_title(title: str) -> str:
    title = " ".join(title.split())
    if len(title) < 5:
        raise InvalidInput("A title needs at least 5 characters.")
    if len(title) > MAX_TITLE:
        raise InvalidInput(f"A title is at most {MAX_TITLE} characters.")
    return title


def check_rate(member: Member) -> None:
    """Refuse a member's post beyond the per-minute burst or the hourly limit. Run with `member` locked."""
    now = timezone.now()
    posts = Post.objects.filter(author_member=member)
    if posts.filter(created_at__gte=now - timedelta(minutes=1)).count() >= (
        settings.FIRSTRING_COMMUNITY_POSTS_PER_MINUTE
    ):
        raise RateLimited("You are posting too fast. Wait a minute and try again.")
    if (
        posts.filter(created_at__gte=now - timedelta(hours=1)).count()
        >= settings.FIRSTRING_COMMUNITY_POSTS_PER_HOUR
    ):
        raise RateLimited("You have posted a lot this hour. Try again later.")
