"""Community threads in the help center's search: the knowledge search over the threads' own index."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse
from django.utils.translation import gettext as _

from firstring.knowledge.models import HelpCenter
from firstring.knowledge.search import (
    FullTextIndex,
    OtherHit,
    OtherResults,
    other_source_register,
    search_index,
)
from firstring.lib.sanitize import excerpt

# Made by migration 0002 the way knowledge's migration 0002 makes the articles' index.
THREADS = FullTextIndex(
    table="community_threadsearchentry",
    fts="community_search_fts",
    key="thread_id",
    columns=("e.language", "e.title", "substr(e.text, 1, 300)", "e.answered"),
)
MAX_RESULTS = 10


@dataclass(frozen=True)
class ThreadHit:
    thread_id: int
    language: str
    title: str
    excerpt: str
    answered: bool


def search_threads(
    *, query: str, help_center: HelpCenter | None, languages: list[str] | None, limit: int = MAX_RESULTS
) -> list[ThreadHit]:
    """Visible threads matching `query`, best first (hidden threads have no search entry)."""
    found = search_index(
        index=THREADS, query=query, help_center=help_center, languages=languages, limit=limit
    )
    return [ThreadHit(int(r[0]), r[1], r[2], r[3], bool(r[4])) for r in found.rows]


def _help_center_results(query: str, help_center: HelpCenter, language: str) -> OtherResults:
    hits = search_threads(query=query, help_center=help_center, languages=None)
    return OtherResults(
        heading=_("From the community"),
        hits=[
            OtherHit(
                url=reverse(
                    "community:thread",
                    kwargs={"prefix": help_center.prefix, "lang": language, "thread_id": hit.thread_id},
                ),
                title=hit.title,
                excerpt=excerpt(hit.excerpt, 200),
                note=_("Answered") if hit.answered else "",
            )
            for hit in hits
        ],
    )


def register() -> None:
    other_source_register(_help_center_results)
