"""Articles and their translations: create, save a draft, submit, publish, unpublish, restore."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.text import slugify

from firstring.accounts.models import User
from firstring.knowledge.markdown import markdown_to_text, render_markdown
from firstring.knowledge.models import (
    LANGUAGE_RE,
    Article,
    ArticleTranslation,
    ArticleVersion,
    EntryVector,
    SearchEntry,
    Section,
)
from firstring.knowledge.services._checks import clean_text, require_editor
from firstring.knowledge.services.index import search_entry_write, vocabulary_add
from firstring.lib.errors import Conflict, InvalidInput

MAX_BODY_CHARS = 200_000


def _language(language: str) -> str:
    language = language.strip().lower()
    if not LANGUAGE_RE.match(language):
        raise InvalidInput(f"{language!r} is not a language code such as en or pt-br")
    return language


def _locked(translation: ArticleTranslation) -> ArticleTranslation:
    return ArticleTranslation.objects.select_for_update().select_related("article").get(pk=translation.pk)


def _add_version(
    *, translation: ArticleTranslation, author: User, action: str, note: str = ""
) -> ArticleVersion:
    last = translation.versions.aggregate(n=Max("number"))["n"] or 0
    return ArticleVersion.objects.create(
        translation=translation,
        number=last + 1,
        title=translation.draft_title,
        body=translation.draft_body,
        action=action,
        note=note,
        author=author,
    )


def article_create(
    *,
    actor: User,
    section: Section,
    language: str,
    title: str,
    body: str = "",
    visibility: str = Article.Visibility.PUBLIC,
) -> ArticleTranslation:
    """A new article in `section` with its first translation as a draft (version 1)."""
    require_editor(actor)
    if visibility not in Article.Visibility.values:
        raise InvalidInput(f"visibility must be one of {', '.join(Article.Visibility.values)}")
    with transaction.atomic():
        article = Article.objects.create(
            help_center_id=section.category.help_center_id,
            section=section,
            visibility=visibility,
            created_by=actor,
        )
        return translation_add(actor=actor, article=article, language=language, title=title, body=body)


def translation_add(
    *, actor: User, article: Article, language: str, title: str, body: str = ""
) -> ArticleTranslation:
    """A new language for `article`, as a draft."""
    require_editor(actor)
    title = clean_text(title, field="title", max_length=200, required=True)
    body = clean_text(body, field="body", max_length=MAX_BODY_CHARS)
    language = _language(language)
    offered = article.help_center.all_languages
    if language not in offered:
        raise InvalidInput(
            f"the help center offers {', '.join(offered)}, not {language} (an admin adds languages)"
        )
    try:
        with transaction.atomic():
            translation = ArticleTranslation.objects.create(
                article=article,
                language=language,
                draft_title=title,
                draft_body=body,
                updated_by=actor,
            )
            _add_version(translation=translation, author=actor, action=ArticleVersion.Action.SAVED)
    except IntegrityError:
        raise Conflict(f"the article already has a {language} translation") from None
    return translation


def translation_save(
    *, actor: User, translation: ArticleTranslation, title: str, body: str, note: str = ""
) -> ArticleTranslation:
    """Save the working copy; a change is a new version and makes the translation a draft again.

    The live copy stays as it is until the translation is published again.
    """
    require_editor(actor)
    title = clean_text(title, field="title", max_length=200, required=True)
    body = clean_text(body, field="body", max_length=MAX_BODY_CHARS)
    note = clean_text(note, field="note", max_length=200)
    with transaction.atomic():
        row = _locked(translation)
        if row.draft_title == title and row.draft_body == body:
            return row
        row.draft_title, row.draft_body = title, body
        row.state = ArticleTranslation.State.DRAFT
        row.updated_at, row.updated_by = timezone.now(), actor
        row.save(update_fields=["draft_title", "draft_body", "state", "updated_at", "updated_by"])
        _add_version(translation=row, author=actor, action=ArticleVersion.Action.SAVED, note=note)
    return row


def translation_submit(*, actor: User, translation: ArticleTranslation) -> ArticleTranslation:
    """Ask for review of the working copy."""
    require_editor(actor)
    with transaction.atomic():
        row = _locked(translation)
        if row.state != ArticleTranslation.State.DRAFT:
            raise Conflict("only a draft can be submitted for review")
        row.state = ArticleTranslation.State.REVIEW
        row.updated_at, row.updated_by = timezone.now(), actor
        row.save(update_fields=["state", "updated_at", "updated_by"])
    return row


def translation_publish(*, actor: User, translation: ArticleTranslation) -> ArticleTranslation:
    """Make the working copy live: rendered, sanitised, searchable."""
    require_editor(actor)
    with transaction.atomic():
        row = _locked(translation)
        if row.state == ArticleTranslation.State.PUBLISHED and row.is_live:
            return row
        now = timezone.now()
        row.title = row.draft_title
        row.slug = (slugify(row.draft_title) or slugify(row.draft_title, allow_unicode=True))[
            :120
        ] or "article"
        row.body_html = render_markdown(row.draft_body)
        row.body_text = markdown_to_text(row.draft_body)
        row.published_at = row.published_at or now
        row.published_version = row.versions.aggregate(n=Max("number"))["n"]
        row.state = ArticleTranslation.State.PUBLISHED
        row.updated_at, row.updated_by = now, actor
        row.save(
            update_fields=[
                "title", "slug", "body_html", "body_text", "published_at", "published_version", "state",
                "updated_at", "updated_by",
            ]
        )  # fmt: skip
        search_entry_write(translation=row)
        vocabulary_add(texts=[row.title, row.body_text])
    return row


def translation_unpublish(*, actor: User, translation: ArticleTranslation) -> ArticleTranslation:
    """Take the live copy down (the working copy stays, as a draft)."""
    require_editor(actor)
    with transaction.atomic():
        row = _locked(translation)
        row.title, row.slug, row.body_html, row.body_text = "", "", "", ""
        row.published_at, row.published_version = None, None
        row.state = ArticleTranslation.State.DRAFT
        row.updated_at, row.updated_by = timezone.now(), actor
        row.save(
            update_fields=[
                "title", "slug", "body_html", "body_text", "published_at", "published_version", "state",
                "updated_at", "updated_by",
            ]
        )  # fmt: skip
        search_entry_write(translation=row)
    return row


def translation_restore(*, actor: User, translation: ArticleTranslation, number: int) -> ArticleTranslation:
    """Bring an earlier version back as the working copy (a new version; publish to make it live)."""
    require_editor(actor)
    with transaction.atomic():
        row = _locked(translation)
        version = row.versions.filter(number=number).first()
        if version is None:
            raise InvalidInput(f"there is no version {number}")
        row.draft_title, row.draft_body = version.title, version.body
        row.state = ArticleTranslation.State.DRAFT
        row.updated_at, row.updated_by = timezone.now(), actor
        row.save(update_fields=["draft_title", "draft_body", "state", "updated_at", "updated_by"])
        _add_version(
            translation=row,
            author=actor,
            action=ArticleVersion.Action.RESTORED,
            note=f"from version {number}",
        )
    return row


def article_set_visibility(*, actor: User, article: Article, visibility: str) -> Article:
    """Public or internal; the search entries of its live translations follow at once."""
    require_editor(actor)
    if visibility not in Article.Visibility.values:
        raise InvalidInput(f"visibility must be one of {', '.join(Article.Visibility.values)}")
    with transaction.atomic():
        row = Article.objects.select_for_update().get(pk=article.pk)
        row.visibility = visibility
        row.save(update_fields=["visibility"])
        SearchEntry.objects.filter(article=row).update(internal=row.is_internal)
        # Processes keep each vector's internal flag beside it; a newer stamp makes them reload.
        EntryVector.objects.filter(entry__article=row).update(updated_at=timezone.now())
    return row
