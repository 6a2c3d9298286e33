"""Articles to suggest for a customer's message: the same search, any of the message's telling words.

Agents get internal articles too (`article_suggestions`); a visitor typing in the chat widget gets
live public articles of one help center and its community threads (`visitor_suggestions`).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse

from firstring.knowledge.models import ArticleTranslation, HelpCenter
from firstring.knowledge.search import Hit, other_results, search_articles, top_words
from firstring.knowledge.selectors import languages_for
from firstring.lib.sanitize import first_sentences


@dataclass
class Suggestion:
    hit: Hit
    # Where a customer can read it (empty for internal articles, which only agents may read).
    public_path: str
    # Its opening sentences, to put into a reply (empty for internal articles: not for customers' eyes).
    snippet: str = ""


def article_suggestions(*, text: str, limit: int = 5) -> list[Suggestion]:
    query = top_words(text)
    if not query:
        return []
    result = search_articles(
        query=query, help_center=None, languages=None, include_internal=True, limit=limit, any_term=True
    )
    rows = {
        pk: (slug, prefix, text)
        for pk, slug, prefix, text in ArticleTranslation.objects.filter(
            pk__in=[h.translation_id for h in result.hits]
        ).values_list("pk", "slug", "article__help_center__prefix", "body_text")
    }
    suggestions = []
    for hit in result.hits:
        slug, prefix, text = rows.get(hit.translation_id, ("", "", ""))
        if hit.internal or not prefix:
            suggestions.append(Suggestion(hit=hit, public_path=""))
            continue
        path = reverse(
            "help:article",
            kwargs={"prefix": prefix, "lang": hit.language, "article_id": hit.article_id, "slug": slug},
        )
        suggestions.append(Suggestion(hit=hit, public_path=path, snippet=first_sentences(text)))
    return suggestions


@dataclass(frozen=True)
class VisitorSuggestion:
    kind: str  # "article" or "thread"
    # The article's translation id (what an opened suggestion is counted by); 0 for a thread.
    id: int
    title: str
    path: str
    snippet: str


def visitor_suggestions(
    *, help_center: HelpCenter, text: str, language: str, limit: int = 3, threads: int = 2
) -> list[VisitorSuggestion]:
    """Up to `limit` live public articles for what a visitor is typing, then up to `threads` threads."""
    query = top_words(text)
    if not query:
        return []
    result = search_articles(
        query=query,
        help_center=help_center,
        languages=languages_for(help_center, language),
        include_internal=False,
        limit=limit,
        any_term=True,
    )
    rows = {
        pk: (slug, body)
        for pk, slug, body in ArticleTranslation.objects.filter(
            pk__in=[h.translation_id for h in result.hits]
        ).values_list("pk", "slug", "body_text")
    }
    found = [
        VisitorSuggestion(
            kind="article",
            id=hit.translation_id,
            title=hit.title,
            path=reverse(
                "help:article",
                kwargs={
                    "prefix": help_center.prefix,
                    "lang": hit.language,
                    "article_id": hit.article_id,
                    "slug": rows[hit.translation_id][0],
                },
            ),
            snippet=first_sentences(rows[hit.translation_id][1], 160),
        )
        for hit in result.hits
        if hit.translation_id in rows and not hit.internal
    ]
    for other in other_results(query=query, help_center=help_center, language=language):
        found += [
            VisitorSuggestion(kind="thread", id=0, title=h.title, path=h.url, snippet=h.excerpt)
            for h in other.hits[:threads]
        ]
    return found
