"""`firstring bench search` at a tiny size, in a database of its own: it loads, searches and serves pages."""

from __future__ import annotations

from firstring.bench import search as search_bench
from tests.test_bench import own_database  # noqa: F401 (the fixture)


def test_search_bench_loads_searches_and_serves_pages(own_database):  # noqa: F811
    result = search_bench.main(["--articles", "60", "--posts", "80", "--queries", "24", "--pages", "5"])
    assert (result["articles"], result["posts"], result["searches"], result["article_pages"]) == (
        60,
        80,
        24,
        5,
    )
    # Threads of one to eight posts; hidden threads are never searchable.
    assert 10 <= result["threads"] <= 80 and 0 < result["searchable_threads"] <= result["threads"]
    assert 0 < result["searches_finding_threads"] < 24 and result["community_core_p95_ms"] > 0
    # Every article in English, a tenth in German too; drafts are never live.
    assert result["translations"] == 66 and result["live_translations"] <= 66
    assert 0 < result["searches_with_results"] < 24
    # Every live translation was embedded for search by meaning.
    assert result["vectors"] == result["live_translations"]
    # The nonsense queries (one in eight) found nothing and were recorded for editors.
    assert result["zero_result_queries_recorded"] >= 3
    assert result["p95_ms"] > 0 and result["article_p95_ms"] > 0 and result["vocabulary_words"] > 10
