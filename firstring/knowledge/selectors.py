"""Reads of the knowledge base, for visitors (live, public only) and for staff.

A visitor reaches an article only through `article_for_visitor`, which raises NotFound for a draft, an
internal article or one that does not exist alike.
"""

from __future__ import annotations

import datetime
import difflib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils.translation.trans_real import parse_accept_lang_header

from firstring.accounts.models import User
from firstring.knowledge.models import (
    Article,
    ArticleAttachment,
    ArticleTranslation,
    Category,
    HelpCenter,
    SearchMiss,
    Section,
)
from firstring.lib.errors import NotFound
from firstring.lib.sanitize import first_sentences

MAX_ID = 2**63 - 1


def _check_id(value: int, what: str) -> None:
    """An id from a URL beyond 64 bits is a 404 here, not an overflow in the database driver."""
    if not 0 < value <= MAX_ID:
        raise NotFound(f"no such {what}")


def help_center_get(*, prefix: str) -> HelpCenter:
    center = HelpCenter.objects.filter(prefix=prefix).first()
    if center is None:
        raise NotFound("no such help center")
    return center


def visitor_language(*, help_center: HelpCenter, requested: str = "", accept_language: str = "") -> str:
    """The visitor's language among the help center's: asked for, else the browser's, else the default."""
    offered = help_center.all_languages
    if requested in offered:
        return requested
    for code, _ in parse_accept_lang_header(accept_language[:500]):
        code = code.lower()
        if code in offered:
            return code
        if code.split("-")[0] in offered:
            return code.split("-")[0]
    return help_center.default_language


def languages_for(help_center: HelpCenter, language: str) -> list[str]:
    """The visitor's language, then the help center's default as the fallback."""
    return list(dict.fromkeys([language, help_center.default_language]))


def _live_public() -> Q:
    return Q(published_at__isnull=False, article__visibility=Article.Visibility.PUBLIC)


def help_center_of_channel(*, channel_id: int) -> HelpCenter | None:
    """The help center whose contact page offers this channel (the first by name if several do)."""
    return HelpCenter.objects.filter(contact_channels=channel_id).order_by("name", "pk").first()


def live_public_translation(*, help_center: HelpCenter, translation_id: int) -> ArticleTranslation:
    """A translation the public may read in this help center; a draft, internal or foreign one: NotFound."""
    _check_id(translation_id, "article")
    row = ArticleTranslation.objects.filter(
        _live_public(), pk=translation_id, article__help_center=help_center
    ).first()
    if row is None:
        raise NotFound("no such article")
    return row


def live_public_article_ids() -> set[int]:
    """Articles live to the public in some language: what a phone menu may read out."""
    return set(ArticleTranslation.objects.filter(_live_public()).values_list("article_id", flat=True))


def article_short_answer(*, article_id: int, language: str = "") -> str:
    """The opening sentences of a live public article, in `language` or else its help center's default:
    what an agent inserts into a reply and what the phone menu reads out. NotFound when it is not live."""
    _check_id(article_id, "article")
    rows = ArticleTranslation.objects.filter(_live_public(), article_id=article_id).values_list(
        "language", "body_text", "article__help_center__default_language"
    )
    live = {row_language: text for row_language, text, _ in rows}
    if not live:
        raise NotFound(f"article {article_id} is not published")
    default = rows[0][2]
    return first_sentences(live.get(language) or live.get(default) or next(iter(live.values())))


@dataclass
class VisitorArticle:
    translation: ArticleTranslation
    # The article is not live in the visitor's language; this is the fallback language's copy.
    fallback: bool
    # Language → slug of every live translation, for hreflang links.
    languages: dict[str, str]


def article_for_visitor(*, help_center: HelpCenter, article_id: int, language: str) -> VisitorArticle:
    _check_id(article_id, "article")
    live = list(
        ArticleTranslation.objects.filter(
            _live_public(), article_id=article_id, article__help_center=help_center
        )
        .select_related("article__section__category")
        .defer("draft_body", "body_text")
    )
    by_language = {t.language: t for t in live}
    for candidate in languages_for(help_center, language):
        if candidate in by_language:
            return VisitorArticle(
                translation=by_language[candidate],
                fallback=candidate != language,
                languages={lang: by_language[lang].slug for lang in sorted(by_language)},
            )
    raise NotFound("no such article")


@dataclass
class ArticleLink:
    article_id: int
    language: str
    title: str
    slug: str


def _links(articles: QuerySet[Article, Any], languages: list[str]) -> dict[int, ArticleLink]:
    """One live title per public article, in the first of `languages` it has."""
    rank = {language: i for i, language in enumerate(languages)}
    found: dict[int, ArticleLink] = {}
    rows = (
        ArticleTranslation.objects.filter(_live_public(), article__in=articles, language__in=languages)
        .values_list("article_id", "language", "title", "slug")
        .order_by()
    )
    for article_id, language, title, slug in rows:
        kept = found.get(article_id)
        if kept is None or rank[language] < rank[kept.language]:
            found[article_id] = ArticleLink(article_id, language, title, slug)
    return found


@dataclass
class SectionView:
    section: Section
    name: str
    articles: list[ArticleLink]


@dataclass
class CategoryView:
    category: Category
    name: str
    sections: list[SectionView]

    @property
    def article_count(self) -> int:
        return sum(len(s.articles) for s in self.sections)


def categories_for_visitor(
    *, help_center: HelpCenter, language: str, category_slug: str | None = None
) -> list[CategoryView]:
    """Categories with their sections and live public articles; empty ones are left out."""
    languages = languages_for(help_center, language)
    categories = help_center.categories.prefetch_related(
        Prefetch("sections", queryset=Section.objects.order_by("position", "name"))
    )
    if category_slug is not None:
        categories = categories.filter(slug=category_slug)
    categories_list = list(categories)
    articles = Article.objects.filter(
        help_center=help_center, visibility=Article.Visibility.PUBLIC, section__category__in=categories_list
    )
    links = _links(articles, languages)
    by_section: dict[int, list[ArticleLink]] = {}
    for article_id, section_id in articles.order_by("position", "id").values_list("pk", "section_id"):
        if article_id in links:
            by_section.setdefault(section_id, []).append(links[article_id])
    views = []
    for category in categories_list:
        sections = [
            SectionView(section, section.name_in(language), by_section[section.pk])
            for section in category.sections.all()
            if section.pk in by_section
        ]
        if sections:
            views.append(CategoryView(category, category.name_in(language), sections))
    return views


@dataclass(frozen=True)
class SitemapEntry:
    """A public page another app adds to the help center's sitemap: its path and when it last changed."""

    path: str
    lastmod: datetime.datetime | None


SitemapSource = Callable[[HelpCenter], list[SitemapEntry]]
_SITEMAP_SOURCES: list[SitemapSource] = []


def sitemap_source_register(source: SitemapSource) -> None:
    """Let an app below the help center (the community) list its public pages in the sitemap."""
    if source not in _SITEMAP_SOURCES:
        _SITEMAP_SOURCES.append(source)


def sitemap_more(*, help_center: HelpCenter) -> list[SitemapEntry]:
    return [entry for source in _SITEMAP_SOURCES for entry in source(help_center)]


def sitemap_entries(*, help_center: HelpCenter) -> list[tuple[str, ArticleTranslation]]:
    rows = (
        ArticleTranslation.objects.filter(_live_public(), article__help_center=help_center)
        .only("article_id", "language", "slug", "updated_at")
        .order_by("article_id", "language")
    )
    return [(t.language, t) for t in rows]


def translation_slugs(*, translation_ids: list[int]) -> dict[int, str]:
    if not translation_ids:
        return {}
    return dict(ArticleTranslation.objects.filter(pk__in=translation_ids).values_list("pk", "slug"))


# Staff


def translation_for_staff(*, user: User, translation_id: int) -> ArticleTranslation:
    """Every active staff user reads every article, drafts and internal ones included."""
    _check_id(translation_id, "article")
    if not user.is_active:
        raise NotFound("no such article")
    row = (
        ArticleTranslation.objects.select_related("article__section__category__help_center", "updated_by")
        .filter(pk=translation_id)
        .first()
    )
    if row is None:
        raise NotFound("no such article")
    return row


def article_for_staff(*, user: User, article_id: int) -> Article:
    _check_id(article_id, "article")
    if not user.is_active:
        raise NotFound("no such article")
    row = Article.objects.select_related("section__category", "help_center").filter(pk=article_id).first()
    if row is None:
        raise NotFound("no such article")
    return row


def staff_translations(
    *, help_center: HelpCenter | None, state: str = "", language: str = "", query: str = ""
) -> QuerySet[ArticleTranslation, Any]:
    rows = ArticleTranslation.objects.select_related("article__section__category", "updated_by").order_by(
        "-updated_at"
    )
    if help_center is not None:
        rows = rows.filter(article__help_center=help_center)
    if state == "live":
        rows = rows.filter(published_at__isnull=False)
    elif state:
        rows = rows.filter(state=state)
    if language:
        rows = rows.filter(language=language)
    if query:
        rows = rows.filter(Q(draft_title__icontains=query) | Q(title__icontains=query))
    return rows.defer("draft_body", "body_html", "body_text")


@dataclass
class MissingTranslation:
    article: Article
    title: str
    missing: list[str]
    # Languages present but not live yet.
    unpublished: list[str]


def missing_translations(*, help_center: HelpCenter) -> list[MissingTranslation]:
    """Articles lacking a live translation in some language of the help center."""
    wanted = help_center.all_languages
    articles = Article.objects.filter(help_center=help_center).prefetch_related(
        Prefetch(
            "translations",
            queryset=ArticleTranslation.objects.only("article_id", "language", "draft_title", "published_at"),
        )
    )
    found = []
    for article in articles:
        translations = {t.language: t for t in article.translations.all()}
        missing = [lang for lang in wanted if lang not in translations]
        unpublished = [lang for lang in wanted if lang in translations and not translations[lang].is_live]
        if missing or unpublished:
            first = translations.get(help_center.default_language) or next(iter(translations.values()), None)
            found.append(
                MissingTranslation(article, first.draft_title if first else "?", missing, unpublished)
            )
    return found


@dataclass
class DiffLine:
    kind: str  # "add", "del", "same", "hunk"
    text: str


def version_diff(*, translation: ArticleTranslation, old: int, new: int) -> list[DiffLine]:
    versions = {v.number: v for v in translation.versions.filter(number__in=[old, new])}
    if old not in versions or new not in versions:
        raise NotFound("no such version")
    a, b = versions[old], versions[new]
    left = [f"# {a.title}", "", *a.body.splitlines()]
    right = [f"# {b.title}", "", *b.body.splitlines()]
    lines = []
    for line in difflib.unified_diff(left, right, f"v{old}", f"v{new}", lineterm="", n=3):
        if line.startswith(("---", "+++")):
            continue
        kind = {"+": "add", "-": "del", "@": "hunk"}.get(line[:1], "same")
        lines.append(DiffLine(kind, line))
    return lines


def attachment_for_viewer(
    *, attachment_id: int, help_center: HelpCenter | None, user: Any
) -> ArticleAttachment:
    """Staff get any file; a visitor only those of public articles with a live translation."""
    _check_id(attachment_id, "file")
    row = ArticleAttachment.objects.select_related("article").filter(pk=attachment_id).first()
    if row is None:
        raise NotFound("no such file")
    if isinstance(user, User) and user.is_active:
        return row
    article = row.article
    if (
        help_center is None
        or article.help_center_id != help_center.pk
        or article.is_internal
        or not article.translations.filter(published_at__isnull=False).exists()
    ):
        raise NotFound("no such file")
    return row


def feedback_summary(*, help_center: HelpCenter, limit: int = 50) -> list[ArticleTranslation]:
    return list(
        ArticleTranslation.objects.filter(article__help_center=help_center)
        .annotate(
            helpful=Count("feedback", filter=Q(feedback__helpful=True)),
            unhelpful=Count("feedback", filter=Q(feedback__helpful=False)),
        )
        .filter(Q(helpful__gt=0) | Q(unhelpful__gt=0))
        .order_by("-unhelpful", "-helpful")
        .defer("draft_body", "body_html", "body_text")[:limit]
    )


def search_misses(*, help_center: HelpCenter, limit: int = 100) -> list[SearchMiss]:
    return list(help_center.search_misses.all()[:limit])
