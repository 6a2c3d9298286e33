"""Search that forgives: full text over published articles, with synonyms and typo tolerance.

Only `SearchEntry` rows are searched, and those exist only for live translations, so a draft can
never be found; internal articles are found only when the caller says the searcher is staff.

1. The query is cut into terms as conversation search does (`conversations.search.search_terms`);
   nothing of it reaches a query parser unquoted.
2. Each term gets alternatives: the editors' synonyms and, when the term is not a word of any
   published article, the vocabulary words within a small edit distance (found through their
   trigrams, then measured exactly: one edit for words up to six letters, two beyond).
3. Every term (one of its alternatives) must match; terms of four letters or more, and the last
   term of the query (typing), also match as prefixes. If that finds nothing and the query has
   several terms, any two of them may match together, then any one, as whole words (ranked, so
   results with more terms come first).
4. SQLite ranks with FTS5's bm25 (title ten times the body), PostgreSQL with ts_rank on a stored,
   weighted tsvector (migration 0002).
5. Articles are also ranked by meaning (`meaning.py`: the query's vector against the articles'
   vectors, above a similarity floor), and the two rankings are fused (reciprocal rank fusion), so
   "money back" finds the refund article. Articles that match every word stay ahead of those that
   only mean the same; a query whose words found nothing, or only some of them, mixes both freely.

The same search runs over any `FullTextIndex` built that way (`search_index`): the community's
threads are one. Apps below the help center add their results to its search page through
`other_source_register`.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

from django.db import connection
from django.db.models import Count

from firstring.conversations.search import search_terms
from firstring.knowledge.meaning import meaning_ranked
from firstring.knowledge.models import HelpCenter, SynonymSet, VocabularyTrigram, VocabularyWord
from firstring.knowledge.services.index import trigrams

# Reciprocal rank fusion's constant (the usual one): how little the first places outweigh the next.
RRF_K = 60
MIN_PREFIX_CHARS = 4
# The last term is being typed: it matches as a prefix from three letters (two match most of a library).
MIN_TYPING_PREFIX = 3
_TOKEN_RE = re.compile(r"[^\W\d_]{3,40}", re.UNICODE)
MIN_CORRECTABLE = 4
MAX_CORRECTIONS = 3
# Up to this many terms, a query that finds nothing with all its terms tries any two of them first.
MAX_PAIRED_TERMS = 6
# Words too common to say anything about a customer's message (suggestions search their words).
STOP_WORDS = frozenset(
    [
        "the",
        "and",
        "for",
        "you",
        "your",
        "with",
        "this",
        "that",
        "have",
        "has",
        "had",
        "not",
        "but",
        "are",
        "was",
        "were",
        "will",
        "would",
        "can",
        "could",
        "what",
        "when",
        "where",
        "how",
        "why",
        "who",
        "which",
        "there",
        "their",
        "they",
        "them",
        "from",
        "about",
        "into",
        "just",
        "been",
        "being",
        "our",
        "der",
        "die",
        "das",
        "und",
        "ist",
        "nicht",
        "ein",
        "eine",
        "mit",
        "von",
        "für",
        "auf",
        "ich",
        "sie",
        "wir",
        "ihr",
        "den",
        "dem",
        "des",
        "mein",
        "meine",
        "hello",
        "thanks",
        "thank",
        "please",
        "help",
        "hallo",
        "danke",
        "bitte",
    ]
)


@dataclass
class Hit:
    translation_id: int
    article_id: int
    language: str
    title: str
    excerpt: str
    internal: bool


@dataclass
class SearchResult:
    hits: list[Hit]
    # term → the words it was corrected to, for "showing results for …"
    corrections: dict[str, list[str]] = field(default_factory=dict)
    any_term: bool = False


def edit_distance(a: str, b: str, limit: int) -> int:
    """Optimal string alignment distance (a swap of neighbours is one edit), or limit + 1 beyond it."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[-1]


def corrections_for(term: str) -> list[str]:
    """Vocabulary words that `term` is probably a misspelling of (none if it is a known word)."""
    word = term.lower()
    if len(word) < MIN_CORRECTABLE or not word.isalpha() or len(word) > 40:
        return []
    if VocabularyWord.objects.filter(word=word).exists():
        return []
    limit = 1 if len(word) <= 6 else 2
    grams = trigrams(word)
    # A word within `limit` edits shares at least len(grams) - 3 * limit of them.
    needed = max(1, len(grams) - 3 * limit)
    candidates = (
        VocabularyTrigram.objects.filter(trigram__in=grams)
        .values("word_id")
        .annotate(shared=Count("id"))
        .filter(shared__gte=needed)
        .order_by("-shared")
        .values_list("word__word", flat=True)[:200]
    )
    scored = []
    for candidate in candidates:
        distance = edit_distance(word, candidate, limit)
        if distance <= limit:
            scored.append((distance, abs(len(candidate) - len(word)), candidate))
    return [candidate for *_, candidate in sorted(scored)[:MAX_CORRECTIONS]]


def synonyms_for(help_center: HelpCenter | None, terms: list[str]) -> dict[str, list[str]]:
    sets = SynonymSet.objects.all() if help_center is None else help_center.synonym_sets.all()
    wanted = {t.lower() for t in terms}
    found: dict[str, list[str]] = {}
    for words in sets.values_list("words", flat=True):
        for term in wanted.intersection(words):
            found.setdefault(term, []).extend(w for w in words if w != term)
    return found


Group = list[tuple[str, bool]]  # one term's alternatives: (text, match as a prefix)


def _fts5(clauses: list[list[Group]]) -> str:
    """An FTS5 expression: any clause, each clause all its groups, each group any alternative."""
    return " OR ".join(
        "("
        + " AND ".join(
            "(" + " OR ".join('"' + t.replace('"', '""') + '"' + ("*" if p else "") for t, p in group) + ")"
            for group in clause
        )
        + ")"
        for clause in clauses
    )


def _tsquery(clauses: list[list[Group]]) -> str:
    """The same as a to_tsquery() expression: each alternative a quoted lexeme."""
    return " | ".join(
        "("
        + " & ".join(
            "("
            + " | ".join(
                "'" + t.replace("\\", "\\\\").replace("'", "''") + "'" + (":*" if p else "") for t, p in group
            )
            + ")"
            for group in clause
        )
        + ")"
        for clause in clauses
    )


@dataclass(frozen=True)
class FullTextIndex:
    """A table search reads, with its full-text index (made as knowledge's migration 0002 makes one).

    `table` has the key column, `help_center_id`, `language`, `title`, `text` and, on PostgreSQL, a
    weighted `search_vector`; `fts` is the SQLite FTS5 table over (title, text) keyed by `key`.
    `columns` are what each hit returns after the key (SQL over the table's alias `e`).
    """

    table: str
    fts: str
    key: str
    columns: tuple[str, ...]


ARTICLES = FullTextIndex(
    table="knowledge_searchentry",
    fts="knowledge_search_fts",
    key="translation_id",
    columns=("e.article_id", "e.language", "e.title", "substr(e.text, 1, 300)", "e.internal"),
)

# (SQL over alias `e` with %s placeholders, its parameters): fixed strings from this package only.
Filter = tuple[str, list[Any]]


def _run(clauses: list[list[Group]], *, index: FullTextIndex, filters: list[Filter], limit: int) -> list[Any]:
    where = "".join(f" AND {sql}" for sql, _ in filters)
    params = [value for _, values in filters for value in values]
    key, table, fts = index.key, index.table, index.fts
    # The best ids first (reading only what ranking needs), then the text of those few for excerpts.
    if connection.vendor == "postgresql":
        query = _tsquery(clauses)
        # Filters, tables and columns are fixed strings; the query and values travel as parameters.
        ranked = (
            f"SELECT e.{key}, ts_rank(e.search_vector, q) AS score "  # noqa: S608
            f"FROM {table} e, to_tsquery('simple'::regconfig, %s) q "
            f"WHERE e.search_vector @@ q{where} ORDER BY score DESC, e.{key} DESC LIMIT %s"
        )
        order = f"r.score DESC, r.{key} DESC"
    elif connection.vendor == "sqlite":
        query = _fts5(clauses)
        ranked = (
            f"SELECT e.{key}, bm25({fts}, 10.0, 1.0) AS score "  # noqa: S608
            f"FROM {fts} f JOIN {table} e ON e.{key} = f.rowid "
            f"WHERE {fts} MATCH %s{where} ORDER BY score, e.{key} DESC LIMIT %s"
        )
        order = f"r.score, r.{key} DESC"
    else:
        raise NotImplementedError(f"knowledge search is not available on {connection.vendor}")
    sql = (
        f"SELECT e.{key}, {', '.join(index.columns)} "  # noqa: S608
        f"FROM ({ranked}) r JOIN {table} e ON e.{key} = r.{key} "
        f"ORDER BY {order}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [query, *params, limit])
        return cursor.fetchall()


def _one_per_article(hits: list[Hit], languages: list[str] | None, limit: int) -> list[Hit]:
    """Each article once, in the first of `languages` it has (the visitor's, then the fallback)."""
    order = {language: i for i, language in enumerate(languages or [])}
    best: dict[int, Hit] = {}
    rank: dict[int, int] = {}
    for position, hit in enumerate(hits):
        kept = best.get(hit.article_id)
        if kept is None:
            best[hit.article_id], rank[hit.article_id] = hit, position
        elif order.get(hit.language, 99) < order.get(kept.language, 99):
            best[hit.article_id] = hit
    return sorted(best.values(), key=lambda h: rank[h.article_id])[:limit]


def _where(
    filters: Sequence[Filter], help_center: HelpCenter | None, languages: list[str] | None
) -> list[Filter]:
    where = list(filters)
    if help_center is not None:
        where.append(("e.help_center_id = %s", [help_center.pk]))
    if languages:
        where.append(("e.language IN (" + ", ".join(["%s"] * len(languages)) + ")", list(languages)))
    return where


def _entries(keys: list[int], *, index: FullTextIndex, filters: list[Filter]) -> list[Any]:
    """The rows of `index` with these keys that pass `filters` (as `_run` returns them, in no order)."""
    if not keys:
        return []
    where = "".join(f" AND {sql}" for sql, _ in filters)
    params = [value for _, values in filters for value in values]
    # Tables, columns and filters are fixed strings; keys and values travel as parameters.
    sql = (
        f"SELECT e.{index.key}, {', '.join(index.columns)} FROM {index.table} e "  # noqa: S608
        f"WHERE e.{index.key} IN ({', '.join(['%s'] * len(keys))}){where}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*keys, *params])
        return cursor.fetchall()


@dataclass
class RowsFound:
    rows: list[Any]
    corrections: dict[str, list[str]]
    any_term: bool


def search_index(
    *,
    index: FullTextIndex,
    query: str,
    help_center: HelpCenter | None,
    languages: list[str] | None,
    filters: Sequence[Filter] = (),
    limit: int = 10,
    any_term: bool = False,
) -> RowsFound:
    """The rows of `index` matching `query`, best first: the forgiving search every index shares.

    `languages`: only entries in these (None: every language). `filters`: more conditions on `e`.
    `any_term`: match any term from the start (suggestions).
    """
    terms = [t.lower() for t in search_terms(query)]
    if any_term:
        terms = [t for t in terms if t not in STOP_WORDS and len(t) > 2] or terms
    terms = list(dict.fromkeys(terms))
    if not terms:
        return RowsFound(rows=[], corrections={}, any_term=False)
    synonyms = synonyms_for(help_center, terms)
    corrections: dict[str, list[str]] = {}
    groups: list[list[tuple[str, bool]]] = []
    for position, term in enumerate(terms):
        prefix = len(term) >= MIN_PREFIX_CHARS or (
            position == len(terms) - 1 and len(term) >= MIN_TYPING_PREFIX
        )
        group = [(term, prefix)]
        group += [(s, " " not in s and len(s) >= MIN_PREFIX_CHARS) for s in synonyms.get(term, [])]
        fixed = corrections_for(term)
        if fixed:
            corrections[term] = fixed
            group += [(word, False) for word in fixed]
        groups.append(group)
    where = _where(filters, help_center, languages)
    options: dict[str, Any] = {"index": index, "filters": where, "limit": limit}
    if any_term:
        return RowsFound(rows=_run([[g] for g in groups], **options), corrections=corrections, any_term=True)
    rows = _run([groups], **options)
    used_any = False
    if not rows and len(groups) > 1:
        # Looser now, each term as a whole word (the last one still a prefix): prefixes of every term
        # would match most of a big library and make ranking it slow. First any two of the terms
        # together (few matches, cheap to rank), then any one.
        loose = [[(text, False) for text, _ in group] for group in groups[:-1]] + groups[-1:]
        if 3 <= len(loose) <= MAX_PAIRED_TERMS:
            rows = _run([list(pair) for pair in combinations(loose, 2)], **options)
        if not rows:
            rows = _run([[g] for g in loose], **options)
        used_any = True
    return RowsFound(rows=rows, corrections=corrections, any_term=used_any)


def search_articles(
    *,
    query: str,
    help_center: HelpCenter | None,
    languages: list[str] | None,
    include_internal: bool,
    limit: int = 10,
    any_term: bool = False,
) -> SearchResult:
    """Published articles matching `query`, best first, at most one translation per article.

    `languages`: the searcher's languages in order of preference (None: every language).
    `include_internal`: only for staff. `any_term`: match any term from the start (suggestions).
    """
    filters: list[Filter] = [] if include_internal else [("e.internal = %s", [False])]
    wanted = limit * max(1, len(languages or [])) + limit
    found = search_index(
        index=ARTICLES,
        query=query,
        help_center=help_center,
        languages=languages,
        filters=filters,
        limit=wanted,
        any_term=any_term,
    )
    close = meaning_ranked(
        query=query,
        help_center_id=help_center.pk if help_center else None,
        languages=languages,
        include_internal=include_internal,
        limit=wanted,
    )
    rows = _fused(
        found.rows,
        [key for key, _ in close],
        # Meaning only proposes: what it found is read through the same filters as full text.
        _entries([key for key, _ in close], index=ARTICLES, filters=_where(filters, help_center, languages)),
        words_first=not found.any_term,
    )
    hits = [Hit(int(r[0]), int(r[1]), r[2], r[3], r[4], bool(r[5])) for r in rows]
    return SearchResult(
        hits=_one_per_article(hits, languages, limit), corrections=found.corrections, any_term=found.any_term
    )


def _fused(
    word_rows: list[Any], meaning_keys: list[int], meaning_rows: list[Any], *, words_first: bool
) -> list[Any]:
    """Full-text and meaning rankings merged by reciprocal rank fusion: a row's score is the sum over
    both rankings of 1 / (RRF_K + its rank there). When every word of the query matched
    (`words_first`), those rows stay ahead of rows that only mean the same: the fusion orders each part.
    """
    rows = {row[0]: row for row in meaning_rows}
    rows.update((row[0], row) for row in word_rows)
    score = dict.fromkeys(rows, 0.0)
    for ranking in ([row[0] for row in word_rows], [key for key in meaning_keys if key in rows]):
        for rank, key in enumerate(ranking, 1):
            score[key] += 1.0 / (RRF_K + rank)
    matched = {row[0] for row in word_rows} if words_first else set(rows)
    words = {row[0] for row in word_rows}
    return sorted(rows.values(), key=lambda row: (row[0] not in matched, -score[row[0]], row[0] not in words))


@dataclass(frozen=True)
class OtherHit:
    url: str
    title: str
    excerpt: str
    note: str = ""


@dataclass(frozen=True)
class OtherResults:
    """What another part of the help center (the community) found for a search, under its heading."""

    heading: str
    hits: list[OtherHit]


OtherSource = Callable[[str, HelpCenter, str], OtherResults]
_OTHER_SOURCES: list[OtherSource] = []


def other_source_register(source: OtherSource) -> None:
    """Let an app below the help center add its results to the search page (query, center, language)."""
    if source not in _OTHER_SOURCES:
        _OTHER_SOURCES.append(source)


def other_results(*, query: str, help_center: HelpCenter, language: str) -> list[OtherResults]:
    return [source(query, help_center, language) for source in _OTHER_SOURCES]


def top_words(text: str, count: int = 8) -> str:
    """The most telling words of a longer text (a customer's message), as a query."""
    found = Counter(
        w for w in (m.lower() for m in _TOKEN_RE.findall(text)) if w not in STOP_WORDS and len(w) > 3
    )
    ranked = sorted(found, key=lambda w: (-found[w], -len(w), w))
    return " ".join(ranked[:count])
