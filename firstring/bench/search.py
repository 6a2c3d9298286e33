"""`firstring bench search`: knowledge base search and help-center article pages with a big library.

Loads `--articles` articles (bulk inserts, not the services; bodies rendered by the real Markdown
renderer) into a database of its own: 85% English, 10% more as German translations of them, 5%
internal, 3% drafts that search must never find. The text is customer-written support text
(`../shared/data/twcs_threads_dev.csv`, or generated words), so the vocabulary is messy as real
text is. Then it times, through Django's whole stack, the help center's search page
(`GET /<prefix>/<lang>/search/?q=…`) over a mix of queries (one word, two and three words, a
misspelt word, a synonym, a phrase in other words than the articles', a prefix being typed, a phrase
that finds nothing) and the article pages. The articles are embedded for search by meaning after the
load (`embed_seconds`); the first search, which loads their vectors, is timed apart (`first_search_ms`).

Then `--posts` community posts (questions and answers by customers, a few by staff) in threads of
one to eight posts, with the threads' search entries, 2% of threads and 3% of answers hidden (never
found), a third of the questions with an accepted answer. The help center's search page lists
community threads beside articles, so every timed search page searches both; `community_core_p95_ms`
times the community search alone.
"""

from __future__ import annotations

import argparse
import random
import re
import time
from datetime import timedelta
from typing import Any

from django.db import connection
from django.utils import timezone
from django.utils.text import slugify

from firstring.bench._corpus import support_texts
from firstring.bench._database import bench_database, percentile
from firstring.bench.inbox import bulk_load

_WORD = re.compile(r"[^\W\d_]{4,}", re.UNICODE)


def _typo(word: str, rng: random.Random) -> str:
    i = rng.randrange(1, len(word) - 1)
    if rng.random() < 0.5:
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]  # swap two neighbours
    return word[:i] + word[i + 1 :]  # drop one letter


def load(*, articles: int, posts: int, seed: int) -> dict[str, Any]:
    from firstring.accounts.models import User
    from firstring.knowledge.markdown import markdown_to_text, render_markdown
    from firstring.knowledge.models import (
        Article,
        ArticleTranslation,
        Category,
        HelpCenter,
        SearchEntry,
        Section,
        SynonymSet,
    )
    from firstring.knowledge.services import entry_vectors_rebuild, vocabulary_rebuild

    rng = random.Random(seed)
    texts, source = support_texts(seed)
    texts = [re.sub(r"@\w+", "", t).strip() for t in texts if len(t) > 30]
    now = timezone.now()
    editor = User.objects.create_user(email="editor@example.com", password=None, role=User.Role.MANAGER)
    center = HelpCenter.objects.create(
        name="Bench Help", prefix="help", default_language="en", languages=["de"]
    )
    sections = []
    for c in range(10):
        category = Category.objects.create(help_center=center, slug=f"category-{c}", name=f"Category {c}")
        for s in range(5):
            sections.append(
                Section.objects.create(category=category, slug=f"section-{s}", name=f"Section {c}.{s}").pk
            )
    SynonymSet.objects.bulk_create(
        [
            SynonymSet(help_center=center, words=words)
            for words in (
                ["refund", "reimbursement", "money back"],
                ["login", "sign in", "log in"],
                ["parcel", "package", "delivery"],
                ["cancel", "terminate", "end"],
                ["invoice", "bill", "receipt"],
            )
        ]
    )
    article_rows: list[tuple[Any, ...]] = []
    for article_id in range(1, articles + 1):
        visibility = "internal" if rng.random() < 0.05 else "public"
        article_rows.append((article_id, center.pk, rng.choice(sections), visibility, 0, editor.pk, now))
    # Every article in English, a tenth of them in German too.
    languages = [(a, "en") for a in range(1, articles + 1)]
    languages += [(a, "de") for a in sorted(rng.sample(range(1, articles + 1), articles // 10))]
    translations: list[tuple[Any, ...]] = []
    entry_rows: list[tuple[Any, ...]] = []
    pages: list[tuple[int, str]] = []
    vocabulary: set[str] = set()
    for translation_id, (article_id, language) in enumerate(languages, 1):
        parts = rng.sample(texts, rng.randint(6, 12))
        title = " ".join((_WORD.findall(parts[0]) or ["Article"])[:7]).capitalize()[:200]
        body = f"## {title}\n\n" + "\n\n".join(parts[:-3]) + "\n\n" + "\n".join(f"- {p}" for p in parts[-3:])
        draft = rng.random() < 0.03
        internal = article_rows[article_id - 1][3] == "internal"
        slug = slugify(title) or "article"
        if draft:
            translations.append(
                (translation_id, article_id, language, title, body, "draft", "", "", "", "", None, None, now)
            )
            continue
        html, text = render_markdown(body), markdown_to_text(body)
        translations.append(
            (
                translation_id,
                article_id,
                language,
                title,
                body,
                "published",
                title,
                slug,
                html,
                text,
                now,
                1,
                now,
            )
        )
        entry_rows.append((translation_id, center.pk, article_id, language, internal, title, text, now))
        if language == "en" and not internal:
            pages.append((article_id, slug))
            vocabulary.update(w.lower() for w in _WORD.findall(text))
    bulk_load(
        Article,
        ["id", "help_center_id", "section_id", "visibility", "position", "created_by_id", "created_at"],
        article_rows,
    )
    bulk_load(
        ArticleTranslation,
        [
            "id", "article_id", "language", "draft_title", "draft_body", "state", "title", "slug",
            "body_html", "body_text", "published_at", "published_version", "updated_at",
        ],
        translations,
    )  # fmt: skip
    bulk_load(
        SearchEntry,
        [
            "translation_id",
            "help_center_id",
            "article_id",
            "language",
            "internal",
            "title",
            "text",
            "published_at",
        ],
        entry_rows,
    )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for table in ("knowledge_article", "knowledge_articletranslation"):
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"  # noqa: S608
                )
    community = load_posts(center=center, posts=posts, texts=texts, seed=seed)
    words = vocabulary_rebuild()
    began = time.perf_counter()
    vectors = entry_vectors_rebuild()
    embed_seconds = time.perf_counter() - began
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    return {
        "center": center,
        "articles": articles,
        "translations": len(translations),
        "live": SearchEntry.objects.count(),
        "vocabulary": words,
        "vectors": vectors,
        "embed_seconds": embed_seconds,
        "words": sorted(vocabulary),
        "pages": pages,
        "source": source,
        **community,
    }


def load_posts(*, center: Any, posts: int, texts: list[str], seed: int) -> dict[str, Any]:
    """Members, threads, posts and the visible threads' search entries, by bulk inserts."""
    from firstring.accounts.models import User
    from firstring.community.models import Member, Post, Thread, ThreadSearchEntry
    from firstring.community.services import category_default
    from firstring.community.spam import fingerprint
    from firstring.customers.models import Customer
    from firstring.knowledge.markdown import markdown_to_text, render_markdown

    rng = random.Random(seed + 1)
    now = timezone.now()
    staff = User.objects.create_user(email="moderator@example.com", password=None, role=User.Role.AGENT)
    people = max(10, posts // 50)
    customers = Customer.objects.bulk_create(
        [Customer(name=f"Customer {i}", created_at=now) for i in range(people)], batch_size=2000
    )
    members = Member.objects.bulk_create(
        [Member(customer=c, display_name=f"Member {i}", created_at=now) for i, c in enumerate(customers)],
        batch_size=2000,
    )
    member_ids = [m.pk for m in members]
    category = category_default(help_center=center)
    thread_rows: list[tuple[Any, ...]] = []
    post_rows: list[tuple[Any, ...]] = []
    entry_rows: list[tuple[Any, ...]] = []
    accepted: list[tuple[int, int]] = []
    thread_id = post_id = 0
    while post_id < posts:
        thread_id += 1
        size = min(rng.randint(1, 8), posts - post_id)
        created = now - timedelta(minutes=rng.randint(60, 60 * 24 * 365))
        asker = rng.choice(member_ids)
        parts = rng.sample(texts, size)
        title = " ".join((_WORD.findall(parts[0]) or ["Question"])[:9]).capitalize()[:200]
        hidden_thread = rng.random() < 0.02
        visible_text: list[str] = []
        answers: list[int] = []
        for position, part in enumerate(parts):
            post_id += 1
            is_question = position == 0
            by_staff = not is_question and rng.random() < 0.05
            hidden = not is_question and rng.random() < 0.03
            html, text = render_markdown(part), markdown_to_text(part)
            author = None if by_staff else (asker if is_question else rng.choice(member_ids))
            post_rows.append(
                (
                    post_id, thread_id, is_question, author, staff.pk if by_staff else None, part, html, text,
                    fingerprint(text), rng.randint(-1, 5), 0, now if hidden else None,
                    "moderator" if hidden else "", False, created + timedelta(minutes=position * 7),
                )
            )  # fmt: skip
            if not hidden:
                visible_text.append(text)
                if not is_question:
                    answers.append(post_id)
        if answers and rng.random() < 0.33:
            accepted.append((thread_id, answers[0]))
        thread_rows.append(
            (
                thread_id, center.pk, category.pk, "question", "en", title, asker, None, len(answers),
                now if hidden_thread else None, created, created + timedelta(minutes=len(parts) * 7),
            )
        )  # fmt: skip
        if not hidden_thread:
            answered = bool(accepted and accepted[-1][0] == thread_id)
            entry_rows.append((thread_id, center.pk, "en", title, "\n\n".join(visible_text), answered))
    bulk_load(
        Thread,
        [
            "id", "help_center_id", "category_id", "kind", "language", "title", "author_member_id",
            "author_user_id",
            "answer_count", "hidden_at", "created_at", "last_activity_at",
        ],
        thread_rows,
    )  # fmt: skip
    bulk_load(
        Post,
        [
            "id", "thread_id", "is_question", "author_member_id", "author_user_id", "body", "body_html",
            "body_text", "fingerprint", "score", "flag_count", "hidden_at", "hidden_reason", "review_needed",
            "created_at",
        ],
        post_rows,
    )  # fmt: skip
    Thread.objects.bulk_update(
        [Thread(pk=t, accepted_post_id=p) for t, p in accepted], ["accepted_post"], batch_size=2000
    )
    bulk_load(
        ThreadSearchEntry,
        ["thread_id", "help_center_id", "language", "title", "text", "answered"],
        entry_rows,
    )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for table in ("community_thread", "community_post"):
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"  # noqa: S608
                )
    return {"posts": len(post_rows), "threads": len(thread_rows), "searchable_threads": len(entry_rows)}


def queries(words: list[str], count: int, rng: random.Random) -> list[tuple[str, str]]:
    """(kind, query) pairs: what visitors type, including typos, synonyms and nonsense."""
    common = words[: max(1, len(words))]
    kinds = [
        ("one word", lambda: rng.choice(common)),
        ("two words", lambda: f"{rng.choice(common)} {rng.choice(common)}"),
        ("three words", lambda: " ".join(rng.choice(common) for _ in range(3))),
        ("typo", lambda: _typo(rng.choice([w for w in common if len(w) >= 6] or common), rng)),
        ("synonym", lambda: rng.choice(["reimbursement", "package", "sign in", "terminate", "bill"])),
        # Said in other words than the articles use, for search by meaning.
        (
            "meaning",
            lambda: rng.choice(
                ["get my money back", "my parcel never came", "cannot get into my account", "charged twice"]
            ),
        ),
        ("typing", lambda: rng.choice(common)[:3]),
        ("nothing", lambda: f"zq{rng.randint(0, 9999)}xv wqk"),
    ]
    found = []
    for i in range(count):
        kind, make = kinds[i % len(kinds)]
        found.append((kind, make()))
    return found


def _timed(client: Any, path: str, params: dict[str, str] | None = None) -> float:
    began = time.perf_counter()
    response = client.get(path, params or {})
    elapsed = (time.perf_counter() - began) * 1000
    if response.status_code != 200:
        raise SystemExit(f"GET {path} {params} answered {response.status_code}")
    return elapsed


def main(argv: list[str]) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="firstring bench search", description=__doc__)
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--posts", type=int, default=100_000, help="Community posts.")
    parser.add_argument("--queries", type=int, default=700, help="Timed searches.")
    parser.add_argument("--pages", type=int, default=500, help="Timed article pages.")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    if args.articles < 20 or args.posts < 0 or args.queries < 1 or args.pages < 1:
        parser.error("need at least 20 articles, no negative posts, one query and one page")

    from django.test import Client

    from firstring.community.search import search_threads
    from firstring.knowledge.models import SearchMiss
    from firstring.knowledge.search import search_articles

    rng = random.Random(args.seed)
    with bench_database("search") as vendor:
        began = time.perf_counter()
        data = load(articles=args.articles, posts=args.posts, seed=args.seed)
        load_seconds = time.perf_counter() - began
        center = data["center"]
        mix = queries(data["words"], args.queries, rng)
        client = Client()
        client.get("/help/en/")
        # The first search loads the articles' vectors into this process (again after any change).
        began = time.perf_counter()
        client.get("/help/en/search/", {"q": "warm up"})
        meaning_load_ms = (time.perf_counter() - began) * 1000
        search_ms: dict[str, list[float]] = {}
        core_ms: list[float] = []
        community_ms: list[float] = []
        found = found_threads = 0
        for kind, query in mix:
            search_ms.setdefault(kind, []).append(_timed(client, "/help/en/search/", {"q": query}))
            began = time.perf_counter()
            result = search_articles(
                query=query, help_center=center, languages=["en"], include_internal=False, limit=20
            )
            core_ms.append((time.perf_counter() - began) * 1000)
            found += bool(result.hits)
            began = time.perf_counter()
            threads = search_threads(query=query, help_center=center, languages=None)
            community_ms.append((time.perf_counter() - began) * 1000)
            found_threads += bool(threads)
        pages = rng.sample(data["pages"], min(args.pages, len(data["pages"])))
        page_ms = [_timed(client, f"/help/en/articles/{a}-{slug}/") for a, slug in pages]
        misses = SearchMiss.objects.count()

    every = [ms for timings in search_ms.values() for ms in timings]
    return {
        "benchmark": "search",
        "database": vendor,
        "articles": data["articles"],
        "translations": data["translations"],
        "live_translations": data["live"],
        "posts": data["posts"],
        "threads": data["threads"],
        "searchable_threads": data["searchable_threads"],
        "vocabulary_words": data["vocabulary"],
        "vectors": data["vectors"],
        "load_seconds": round(load_seconds, 1),
        "embed_seconds": round(data["embed_seconds"], 1),
        "first_search_ms": round(meaning_load_ms, 1),
        "searches": len(every),
        "searches_with_results": found,
        "zero_result_queries_recorded": misses,
        "p95_ms": round(percentile(every, 0.95), 1),
        "p50_ms": round(percentile(every, 0.5), 1),
        "search_core_p95_ms": round(percentile(core_ms, 0.95), 1),
        "searches_finding_threads": found_threads,
        "community_core_p95_ms": round(percentile(community_ms, 0.95), 1) if community_ms else 0.0,
        "p95_ms_by_kind": {kind: round(percentile(ms, 0.95), 1) for kind, ms in sorted(search_ms.items())},
        "article_pages": len(page_ms),
        "article_p95_ms": round(percentile(page_ms, 0.95), 1),
        "article_p50_ms": round(percentile(page_ms, 0.5), 1),
        "text_source": data["source"],
    }
