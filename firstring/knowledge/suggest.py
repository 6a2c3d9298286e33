"""Articles to suggest for a customer's message: the same search, any of the message's telling words."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse

from firstring.knowledge.models import ArticleTranslation
from firstring.knowledge.search import Hit, search_articles, top_words


@dataclass
class Suggestion:
    hit: Hit
    # Where a customer can read it (empty for internal articles, which only agents may read).
    public_path: str


def article_suggestions(*, text: str, limit: int = 5) -> list[Suggestion]:
    query = top_words(text)
    if not query:
        return []
    result = search_articles(
        query=query, help_center=None, languages=None, include_internal=True, limit=limit, any_term=True
    )
    rows = {
        pk: (slug, prefix)
        for pk, slug, prefix in ArticleTranslation.objects.filter(
            pk__in=[h.translation_id for h in result.hits]
        ).values_list("pk", "slug", "article__help_center__prefix")
    }
    suggestions = []
    for hit in result.hits:
        slug, prefix = rows.get(hit.translation_id, ("", ""))
        path = ""
        if not hit.internal and prefix:
            path = reverse(
                "help:article",
                kwargs={"prefix": prefix, "lang": hit.language, "article_id": hit.article_id, "slug": slug},
            )
        suggestions.append(Suggestion(hit=hit, public_path=path))
    return suggestions
