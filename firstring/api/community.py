"""The community: threads and their answers, read by anyone (no token: what the help center shows),
written and moderated by staff with a token.

Without a token, hidden and merged threads and hidden posts do not exist (404), and authors are their
public names only; `include_hidden=true` with a staff token shows everything, with why it is hidden.
A customer's address, customer record or conversation is never part of an answer.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from django.http import HttpRequest
from django.urls import reverse
from ninja import Field, Path, Query, Router, Schema

from firstring.api.auth import READ_AUTH, current_user, staff_user
from firstring.api.paging import page
from firstring.api.schemas import MAX_ID, BodyIn, CheckedIn, Cursor, Id, Limit, Out, errors
from firstring.community import selectors
from firstring.community.models import Category, Post, Thread
from firstring.community.search import search_threads
from firstring.community.services import (
    answer_create,
    post_hide,
    post_restore,
    thread_create,
    thread_lock,
    thread_move,
    thread_unlock,
)
from firstring.knowledge.models import HelpCenter
from firstring.lib.cursor import SortKey
from firstring.lib.errors import Forbidden, InvalidInput, NotFound

router = Router()

ORDER = [SortKey("last_activity_at", descending=True), SortKey("id", descending=True)]
ThreadId = Path(..., ge=1, le=MAX_ID)
PostId = Path(..., ge=1, le=MAX_ID)
Kind = Literal["question", "announcement"]


class AuthorOut(Out):
    staff: bool
    name: str
    # Staff only: the member to ban or the user; never a customer's address or record.
    member_id: int | None = None
    user_id: int | None = None


class CategoryOut(Out):
    id: int
    help_center_id: int
    slug: str
    name: str
    description: str
    position: int


class ThreadOut(Out):
    id: int
    help_center_id: int
    category: CategoryOut
    kind: Kind
    language: str
    title: str
    author: AuthorOut | None
    answer_count: int
    accepted_post_id: int | None
    locked: bool
    hidden: bool
    merged_into_id: int | None
    url: str
    created_at: datetime
    last_activity_at: datetime


class PostOut(Out):
    id: int
    is_question: bool
    author: AuthorOut | None
    body: str
    body_html: str
    score: int
    accepted: bool
    hidden: bool
    hidden_reason: str | None
    created_at: datetime


class ThreadDetailOut(ThreadOut):
    posts: list[PostOut]


class ThreadPage(Schema):
    items: list[ThreadOut]
    next_cursor: str | None


class ListQuery(CheckedIn):
    help_center_id: Id | None = None
    category: str | None = Field(None, max_length=80, pattern=r"^[-a-zA-Z0-9_]+$")
    q: str | None = Field(None, min_length=1, max_length=200)
    unanswered: bool = False
    include_hidden: bool = False
    cursor: Cursor | None = None
    limit: Limit = 30


class ReadQuery(CheckedIn):
    include_hidden: bool = False


class ThreadIn(BodyIn):
    help_center_id: Id
    category_id: Id | None = None
    kind: Kind = "question"
    language: str = Field(..., min_length=2, max_length=16)
    title: str = Field(..., min_length=1, max_length=200)
    body: str = Field(..., min_length=1, max_length=20_000)


class AnswerIn(BodyIn):
    body: str = Field(..., min_length=1, max_length=20_000)


class ReasonIn(BodyIn):
    reason: str = Field("", max_length=200)


class MoveIn(BodyIn):
    category_id: Id


def _include_hidden(request: HttpRequest, asked: bool) -> bool:
    if asked and staff_user(request) is None:
        raise Forbidden("hidden threads and posts are for staff tokens only")
    return asked


def _author(post_or_thread: Thread | Post, staff: bool) -> AuthorOut | None:
    member, user = post_or_thread.author_member, post_or_thread.author_user
    if user is not None:
        return AuthorOut(staff=True, name=user.name or "Staff", user_id=user.pk if staff else None)
    if member is not None:
        return AuthorOut(staff=False, name=member.display_name, member_id=member.pk if staff else None)
    return None


def _category_out(category: Category) -> CategoryOut:
    return CategoryOut(
        id=category.pk,
        help_center_id=category.help_center_id,
        slug=category.slug,
        name=category.name,
        description=category.description,
        position=category.position,
    )


def _thread_fields(thread: Thread, staff: bool) -> dict[str, object]:
    prefix = thread.help_center.prefix
    return {
        "id": thread.pk,
        "help_center_id": thread.help_center_id,
        "category": _category_out(thread.category),
        "kind": thread.kind,
        "language": thread.language,
        "title": thread.title,
        "author": _author(thread, staff),
        "answer_count": thread.answer_count,
        "accepted_post_id": thread.accepted_post_id,
        "locked": thread.is_locked,
        "hidden": thread.is_hidden,
        "merged_into_id": thread.merged_into_id,
        "url": reverse(
            "community:thread", kwargs={"prefix": prefix, "lang": thread.language, "thread_id": thread.pk}
        ),
        "created_at": thread.created_at,
        "last_activity_at": thread.last_activity_at,
    }


def _post_out(post: Post, thread: Thread, staff: bool) -> PostOut:
    return PostOut(
        id=post.pk,
        is_question=post.is_question,
        author=_author(post, staff),
        body=post.body,
        body_html=post.body_html,
        score=post.score,
        accepted=post.pk == thread.accepted_post_id,
        hidden=post.is_hidden,
        hidden_reason=post.hidden_reason if staff else None,
        created_at=post.created_at,
    )


def _detail(request: HttpRequest, thread_id: int, include_hidden: bool) -> ThreadDetailOut:
    staff = _include_hidden(request, include_hidden)
    thread = selectors.thread_for_reader(thread_id=thread_id, include_hidden=staff)
    posts = selectors.posts_for_staff(thread=thread) if staff else selectors.posts_for_visitor(thread=thread)
    return ThreadDetailOut(
        **_thread_fields(thread, staff),  # type: ignore[arg-type]
        posts=[_post_out(p, thread, staff) for p in posts],
    )


def _help_center(help_center_id: int | None) -> HelpCenter | None:
    if help_center_id is None:
        return None
    center = HelpCenter.objects.filter(pk=help_center_id).first()
    if center is None:
        raise NotFound("no such help center")
    return center


@router.get(
    "/categories",
    auth=READ_AUTH,
    response={200: list[CategoryOut], **errors(404)},
    summary="A help center's categories",
)
def category_list(request: HttpRequest, help_center_id: Id) -> list[CategoryOut]:
    center = _help_center(help_center_id)
    assert center is not None
    return [_category_out(c) for c in selectors.categories(help_center=center)]


@router.get(
    "/threads",
    auth=READ_AUTH,
    response={200: ThreadPage, **errors(403, 404)},
    summary="List threads, newest activity first, or search them (q)",
)
def thread_list(request: HttpRequest, filters: Query[ListQuery]) -> ThreadPage:
    """With `q`, the help center's forgiving search over visible threads, best first (one page)."""
    staff = _include_hidden(request, filters.include_hidden)
    center = _help_center(filters.help_center_id)
    category = None
    if filters.category:
        if center is None:
            raise InvalidInput("a category is chosen within a help center: give help_center_id")
        category = selectors.category_get(help_center=center, slug=filters.category)
    rows = selectors.thread_rows(
        help_center=center, category=category, unanswered=filters.unanswered, include_hidden=staff
    )
    if filters.q:
        hits = search_threads(query=filters.q, help_center=center, languages=None, limit=filters.limit)
        found = {t.pk: t for t in rows.filter(pk__in=[h.thread_id for h in hits])}
        items = [found[h.thread_id] for h in hits if h.thread_id in found]
        return ThreadPage(items=[ThreadOut(**_thread_fields(t, staff)) for t in items], next_cursor=None)  # type: ignore[arg-type]
    items, next_cursor = page(rows.order_by(), ORDER, filters.cursor, filters.limit)
    return ThreadPage(
        items=[ThreadOut(**_thread_fields(t, staff)) for t in items],  # type: ignore[arg-type]
        next_cursor=next_cursor,
    )


@router.get(
    "/threads/{thread_id}",
    auth=READ_AUTH,
    response={200: ThreadDetailOut, **errors(403, 404)},
    summary="A thread with its answers",
)
def thread_get(request: HttpRequest, query: Query[ReadQuery], thread_id: int = ThreadId) -> ThreadDetailOut:
    return _detail(request, thread_id, query.include_hidden)


@router.post(
    "/threads",
    response={201: ThreadDetailOut, **errors(400, 403, 404, 413)},
    summary="Post a question or an announcement as staff",
)
def thread_post(request: HttpRequest, payload: ThreadIn) -> tuple[int, ThreadDetailOut]:
    center = _help_center(payload.help_center_id)
    assert center is not None
    category = None
    if payload.category_id is not None:
        category = Category.objects.filter(pk=payload.category_id).first()
        if category is None:
            raise InvalidInput(f"category {payload.category_id} does not exist")
    thread = thread_create(
        help_center=center,
        author=current_user(request),
        title=payload.title,
        body=payload.body,
        language=payload.language,
        kind=payload.kind,
        category=category,
    )
    return 201, _detail(request, thread.pk, include_hidden=True)


@router.post(
    "/threads/{thread_id}/answers",
    response={201: PostOut, **errors(400, 403, 404, 413)},
    summary="Answer a thread as staff (marked as a staff answer; locked threads too)",
)
def answer_post(request: HttpRequest, payload: AnswerIn, thread_id: int = ThreadId) -> tuple[int, PostOut]:
    thread = selectors.thread_for_staff(thread_id=thread_id)
    post = answer_create(thread=thread, author=current_user(request), body=payload.body)
    return 201, _post_out(post, thread, staff=True)


def _moderated(request: HttpRequest, thread: Thread) -> ThreadDetailOut:
    return _detail(request, thread.pk, include_hidden=True)


@router.post(
    "/threads/{thread_id}/hide",
    response={200: ThreadDetailOut, **errors(400, 403, 404, 413)},
    summary="Hide a thread (its question) from the public",
)
def thread_hide(request: HttpRequest, payload: ReasonIn, thread_id: int = ThreadId) -> ThreadDetailOut:
    thread = selectors.thread_for_staff(thread_id=thread_id)
    question = selectors.posts_for_staff(thread=thread).filter(is_question=True).first()
    if question is None:
        raise NotFound("this thread has no question")
    post_hide(post=question, actor=current_user(request), reason=payload.reason)
    return _moderated(request, thread)


@router.post(
    "/posts/{post_id}/hide",
    response={200: PostOut, **errors(400, 403, 404, 413)},
    summary="Hide a post (a question hides its thread)",
)
def post_hide_endpoint(request: HttpRequest, payload: ReasonIn, post_id: int = PostId) -> PostOut:
    post = post_hide(
        post=selectors.post_for_staff(post_id=post_id), actor=current_user(request), reason=payload.reason
    )
    return _post_out(post, selectors.thread_for_staff(thread_id=post.thread_id), staff=True)


@router.post(
    "/posts/{post_id}/restore",
    response={200: PostOut, **errors(400, 403, 404, 413)},
    summary="Show a hidden post again and dismiss its flags",
)
def post_restore_endpoint(request: HttpRequest, post_id: int = PostId) -> PostOut:
    post = post_restore(post=selectors.post_for_staff(post_id=post_id), actor=current_user(request))
    return _post_out(post, selectors.thread_for_staff(thread_id=post.thread_id), staff=True)


@router.post(
    "/threads/{thread_id}/lock",
    response={200: ThreadDetailOut, **errors(400, 403, 404, 413)},
    summary="Lock a thread (only staff answer it)",
)
def thread_lock_endpoint(request: HttpRequest, thread_id: int = ThreadId) -> ThreadDetailOut:
    thread = thread_lock(thread=selectors.thread_for_staff(thread_id=thread_id), actor=current_user(request))
    return _moderated(request, thread)


@router.post(
    "/threads/{thread_id}/unlock",
    response={200: ThreadDetailOut, **errors(400, 403, 404, 413)},
    summary="Unlock",
)
def thread_unlock_endpoint(request: HttpRequest, thread_id: int = ThreadId) -> ThreadDetailOut:
    thread = thread_unlock(
        thread=selectors.thread_for_staff(thread_id=thread_id), actor=current_user(request)
    )
    return _moderated(request, thread)


@router.post(
    "/threads/{thread_id}/move",
    response={200: ThreadDetailOut, **errors(400, 403, 404, 413)},
    summary="Move a thread to another category of its help center",
)
def thread_move_endpoint(request: HttpRequest, payload: MoveIn, thread_id: int = ThreadId) -> ThreadDetailOut:
    category = Category.objects.filter(pk=payload.category_id).first()
    if category is None:
        raise InvalidInput(f"category {payload.category_id} does not exist")
    thread = thread_move(
        thread=selectors.thread_for_staff(thread_id=thread_id), category=category, actor=current_user(request)
    )
    return _moderated(request, thread)
