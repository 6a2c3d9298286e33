"""Articles to suggest for a customer's message: the same search, any of the message's telling words."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse

from firstring.knowledge.models import ArticleTranslation
from firstring.knowledge.search import Hit, search_articles, top_words
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
