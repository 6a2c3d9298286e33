"""Knowledge base articles: every staff user reads (internal and draft ones too); managers and admins
write, publish and restore. An "article" here is one language of an article (`article_id` groups
the translations of one piece of knowledge)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from django.http import HttpRequest
from ninja import Field, Path, Query, Router, Schema

from firstring.api.auth import current_user
from firstring.api.paging import page
from firstring.api.schemas import MAX_ID, BodyIn, CheckedIn, Cursor, Id, Limit, Out, errors
from firstring.knowledge import selectors
from firstring.knowledge.models import ArticleTranslation, HelpCenter, Section
from firstring.knowledge.search import search_articles
from firstring.knowledge.services import (
    article_create,
    article_set_visibility,
    translation_add,
    translation_publish,
    translation_restore,
    translation_save,
    translation_submit,
    translation_unpublish,
)
from firstring.lib.cursor import SortKey
from firstring.lib.errors import InvalidInput, NotFound

router = Router()

ORDER = [SortKey("id")]
ArticleId = Path(..., ge=1, le=MAX_ID)
StateName = Literal["draft", "review", "published"]
VisibilityName = Literal["public", "internal"]
Language = Field(..., min_length=2, max_length=16, pattern=r"^[a-z]{2,3}(-[a-z0-9]{2,8})?$")


class ArticleOut(Out):
    id: int
    article_id: int
    help_center_id: int
    section_id: int
    language: str
    visibility: VisibilityName
    state: StateName
    draft_title: str
    draft_body: str
    live: bool
    title: str
    body_html: str
    published_at: datetime | None
    published_version: int | None
    updated_at: datetime


class ArticlePage(Schema):
    items: list[ArticleOut]
    next_cursor: str | None


class VersionOut(Out):
    number: int
    title: str
    body: str
    action: str
    note: str
    author_id: int | None
    created_at: datetime


class HitOut(Out):
    id: int
    article_id: int
    language: str
    title: str
    excerpt: str
    internal: bool


class SearchOut(Out):
    items: list[HitOut]
    corrections: dict[str, list[str]]
    any_term: bool


class ListQuery(CheckedIn):
    help_center_id: Id | None = None
    state: StateName | Literal["live"] | None = None
    language: str | None = Field(None, max_length=16)
    q: str | None = Field(None, max_length=200)
    cursor: Cursor | None = None
    limit: Limit = 50


class SearchQuery(CheckedIn):
    q: str = Field(..., min_length=1, max_length=200)
    help_center_id: Id | None = None
    language: str | None = Field(None, max_length=16)
    limit: int = Field(10, ge=1, le=50)


class ArticleIn(BodyIn):
    section_id: Id
    language: str = Language
    title: str = Field(..., min_length=1, max_length=200)
    body: str = Field("", max_length=200_000)
    visibility: VisibilityName = "public"


class DraftIn(BodyIn):
    title: str = Field(..., min_length=1, max_length=200)
    body: str = Field("", max_length=200_000)
    note: str = Field("", max_length=200)


class TranslationIn(BodyIn):
    language: str = Language
    title: str = Field(..., min_length=1, max_length=200)
    body: str = Field("", max_length=200_000)


class VisibilityIn(BodyIn):
    visibility: VisibilityName


def article_out(t: ArticleTranslation) -> ArticleOut:
    article = t.article
    return ArticleOut(
        id=t.pk,
        article_id=article.pk,
        help_center_id=article.help_center_id,
        section_id=article.section_id,
        language=t.language,
        visibility=article.visibility,  # type: ignore[arg-type]
        state=t.state,  # type: ignore[arg-type]
        draft_title=t.draft_title,
        draft_body=t.draft_body,
        live=t.is_live,
        title=t.title,
        body_html=t.body_html,
        published_at=t.published_at,
        published_version=t.published_version,
        updated_at=t.updated_at,
    )


def _get(request: HttpRequest, translation_id: int) -> ArticleTranslation:
    return selectors.translation_for_staff(user=current_user(request), translation_id=translation_id)


@router.get("", response={200: ArticlePage, **errors()}, summary="List articles (every language, state)")
def article_list(request: HttpRequest, filters: Query[ListQuery]) -> ArticlePage:
    center = HelpCenter.objects.filter(pk=filters.help_center_id).first() if filters.help_center_id else None
    rows = selectors.staff_translations(
        help_center=center, state=filters.state or "", language=filters.language or "", query=filters.q or ""
    ).select_related("article")
    if filters.help_center_id and center is None:
        rows = rows.none()
    items, next_cursor = page(rows.order_by(), ORDER, filters.cursor, filters.limit)
    return ArticlePage(items=[article_out(t) for t in items], next_cursor=next_cursor)


@router.get("/search", response={200: SearchOut, **errors()}, summary="Search live articles (internal too)")
def article_search(request: HttpRequest, filters: Query[SearchQuery]) -> SearchOut:
    center = HelpCenter.objects.filter(pk=filters.help_center_id).first() if filters.help_center_id else None
    if filters.help_center_id and center is None:
        return SearchOut(items=[], corrections={}, any_term=False)
    result = search_articles(
        query=filters.q,
        help_center=center,
        languages=[filters.language] if filters.language else None,
        include_internal=True,
        limit=filters.limit,
    )
    return SearchOut(
        items=[
            HitOut(
                id=h.translation_id,
                article_id=h.article_id,
                language=h.language,
                title=h.title,
                excerpt=h.excerpt,
                internal=h.internal,
            )
            for h in result.hits
        ],
        corrections=result.corrections,
        any_term=result.any_term,
    )


@router.post(
    "", response={201: ArticleOut, **errors(400, 403, 409, 413)}, summary="Write a new article (a draft)"
)
def article_post(request: HttpRequest, payload: ArticleIn) -> tuple[int, ArticleOut]:
    section = Section.objects.select_related("category").filter(pk=payload.section_id).first()
    if section is None:
        raise InvalidInput(f"section {payload.section_id} does not exist")
    t = article_create(
        actor=current_user(request),
        section=section,
        language=payload.language,
        title=payload.title,
        body=payload.body,
        visibility=payload.visibility,
    )
    return 201, article_out(_get(request, t.pk))


@router.get("/{translation_id}", response={200: ArticleOut, **errors(404)}, summary="Get an article")
def article_get(request: HttpRequest, translation_id: int = ArticleId) -> ArticleOut:
    return article_out(_get(request, translation_id))


@router.put(
    "/{translation_id}", response={200: ArticleOut, **errors(400, 403, 404, 413)}, summary="Save the draft"
)
def article_put(request: HttpRequest, payload: DraftIn, translation_id: int = ArticleId) -> ArticleOut:
    t = translation_save(
        actor=current_user(request),
        translation=_get(request, translation_id),
        title=payload.title,
        body=payload.body,
        note=payload.note,
    )
    return article_out(_get(request, t.pk))


@router.post(
    "/{translation_id}/submit",
    response={200: ArticleOut, **errors(400, 403, 404, 409, 413)},
    summary="Submit for review",
)
def article_submit(request: HttpRequest, translation_id: int = ArticleId) -> ArticleOut:
    t = translation_submit(actor=current_user(request), translation=_get(request, translation_id))
    return article_out(_get(request, t.pk))


@router.post(
    "/{translation_id}/publish",
    response={200: ArticleOut, **errors(400, 403, 404, 413)},
    summary="Publish the draft",
)
def article_publish(request: HttpRequest, translation_id: int = ArticleId) -> ArticleOut:
    t = translation_publish(actor=current_user(request), translation=_get(request, translation_id))
    return article_out(_get(request, t.pk))


@router.post(
    "/{translation_id}/unpublish",
    response={200: ArticleOut, **errors(400, 403, 404, 413)},
    summary="Take it offline",
)
def article_unpublish(request: HttpRequest, translation_id: int = ArticleId) -> ArticleOut:
    t = translation_unpublish(actor=current_user(request), translation=_get(request, translation_id))
    return article_out(_get(request, t.pk))


@router.put(
    "/{translation_id}/visibility",
    response={200: ArticleOut, **errors(400, 403, 404, 413)},
    summary="Make the article (every language) public or internal",
)
def article_visibility(
    request: HttpRequest, payload: VisibilityIn, translation_id: int = ArticleId
) -> ArticleOut:
    t = _get(request, translation_id)
    article_set_visibility(actor=current_user(request), article=t.article, visibility=payload.visibility)
    return article_out(_get(request, t.pk))


@router.post(
    "/{translation_id}/translations",
    response={201: ArticleOut, **errors(400, 403, 404, 409, 413)},
    summary="Add another language to the article",
)
def article_translate(
    request: HttpRequest, payload: TranslationIn, translation_id: int = ArticleId
) -> tuple[int, ArticleOut]:
    t = translation_add(
        actor=current_user(request),
        article=_get(request, translation_id).article,
        language=payload.language,
        title=payload.title,
        body=payload.body,
    )
    return 201, article_out(_get(request, t.pk))


@router.get(
    "/{translation_id}/versions", response={200: list[VersionOut], **errors(404)}, summary="Version history"
)
def article_versions(request: HttpRequest, translation_id: int = ArticleId) -> list[VersionOut]:
    return [
        VersionOut(
            number=v.number,
            title=v.title,
            body=v.body,
            action=v.action,
            note=v.note,
            author_id=v.author_id,
            created_at=v.created_at,
        )
        for v in _get(request, translation_id).versions.all()
    ]


@router.post(
    "/{translation_id}/versions/{number}/restore",
    response={200: ArticleOut, **errors(400, 403, 404, 413)},
    summary="Bring a version back as the draft",
)
def article_restore(
    request: HttpRequest, translation_id: int = ArticleId, number: int = Path(..., ge=1, le=2**31 - 1)
) -> ArticleOut:
    t = _get(request, translation_id)
    if not t.versions.filter(number=number).exists():
        raise NotFound(f"version {number} not found")
    translation_restore(actor=current_user(request), translation=t, number=number)
    return article_out(_get(request, t.pk))
