"""The monitor query language and the matcher, on plain posts (no database)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from firstring.listening.matching import Matcher, Post, compile_monitor
from firstring.listening.query import And, Not, Or, QueryError, Term, parse_query

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def post(text: str, **fields: object) -> Post:
    return Post(network="bluesky", external_id=text[:20], text=text, posted_at=NOW, **fields)  # type: ignore[arg-type]


def test_parses_terms_phrases_tags_handles_and_operators():
    query = parse_query('(Acme OR "Acme  Bank") AND #AcmeFail -careers NOT @acmejobs')
    assert query.root == And(
        (
            Or((Term("acme"), Term("acme bank"))),
            Term("#acmefail"),
            Not(Term("careers")),
            Not(Term("@acmejobs")),
        )
    )
    assert query.terms == {"acme", "acme bank", "#acmefail", "careers", "@acmejobs"}
    # A post must contain one of these to match: the smallest required set of the AND.
    assert query.required == {"#acmefail"}


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("", "the query is empty"),
        ("   ", "the query is empty"),
        ('acme "bank', "unclosed quote at position 6"),
        ("(acme OR bank", "the parenthesis at position 1 is never closed"),
        ("acme)", "unexpected ')' at position 5"),
        ("acme OR", "the query ends where a term was expected"),
        ("AND acme", "a term was expected at position 1, not 'AND'"),
        ("NOT acme", "the query needs a term that a post must contain"),
        ("acme OR -bank", "the query needs a term that a post must contain"),
        ('""', "empty phrase at position 1"),
        ("acme OR ***", "'***' at position 9 is not a word"),
        ("x" * 2001, "longer than 2000 characters"),
    ],
)
def test_bad_queries_say_what_and_where(query, message):
    with pytest.raises(QueryError) as raised:
        parse_query(query)
    assert message in str(raised.value)
    assert raised.value.status_code == 422


def test_matches_whole_words_hashtags_handles_and_phrases():
    monitors = [
        compile_monitor(id=1, version=1, query="acme"),
        compile_monitor(id=2, version=1, query='"acme bank" OR #acmefail'),
        compile_monitor(id=3, version=1, query="@acme AND refund"),
        compile_monitor(id=4, version=1, query="acme -careers"),
    ]
    matcher = Matcher(monitors)

    def ids(text: str, **fields: object) -> list[int]:
        return sorted(m.id for m in matcher.match(post(text, **fields), "bluesky"))

    assert ids("I love ACME, really") == [1, 4]
    assert ids("Acmeville is a town and myacme a site") == []
    assert ids("Never using Acme\n  Bank again #AcmeFail") == [1, 2, 4]
    assert ids("@acme where is my refund?") == [1, 3, 4]
    assert ids("acme careers fair") == [1]
    # A handle term also matches the post's author.
    assert ids("still waiting for my refund", author_handle="acme") == [3]


def test_language_and_source_filters():
    matcher = Matcher(
        [
            compile_monitor(id=1, version=1, query="acme", languages=["de"]),
            compile_monitor(id=2, version=1, query="acme", source_kinds=["rss"]),
        ]
    )
    assert [m.id for m in matcher.match(post("acme ist toll", language="de"), "bluesky")] == [1]
    assert [m.id for m in matcher.match(post("acme is great", language="en"), "bluesky")] == []
    # Unknown language passes the language filter.
    assert sorted(m.id for m in matcher.match(post("acme", language=""), "rss")) == [1, 2]
