"""Matching posts against every enabled monitor at once.

One Aho-Corasick automaton holds the terms of all monitors; one pass over a post's lower-cased text
finds every term it contains (whole words only), then only the monitors with one of their required
terms among them evaluate their boolean expression. A post costs one automaton pass whatever the number
of monitors.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import ahocorasick

from firstring.listening.query import Query, evaluate, parse_query

_SPACE_RE = re.compile(r"\s+")


@dataclass(frozen=True)
class Post:
    """What a source knows about one public post or article, normalised."""

    network: str  # "bluesky", "rss" …
    external_id: str  # the network's id of the post (an at:// URI, a feed entry's id)
    text: str
    posted_at: datetime
    author_id: str = ""  # the network's stable id of the author (a DID …)
    author_handle: str = ""
    author_name: str = ""
    followers: int | None = None
    url: str = ""
    language: str = ""
    kind: str = "post"  # post, reply, quote, article, repost
    # Articles: their canonical link, which makes the same article from two feeds one mention.
    link: str = ""
    # Reposts carry no text: the post they repeat.
    repost_of: str = ""

    @property
    def dedupe_key(self) -> str:
        if self.link:
            return f"link:{self.link}"[:600]
        return f"{self.network}:{self.external_id}"[:600]


@dataclass(frozen=True)
class CompiledMonitor:
    id: int
    version: int
    query: Query
    languages: frozenset[str] = frozenset()
    source_kinds: frozenset[str] = frozenset()

    def admits(self, post: Post, source_kind: str) -> bool:
        if self.source_kinds and source_kind not in self.source_kinds:
            return False
        # A language filter keeps posts in its languages and those whose language the source does not say.
        language = post.language.split("-")[0].lower()
        return not (self.languages and language and language not in self.languages)


def compile_monitor(
    *,
    id: int,
    version: int,
    query: str,
    languages: Iterable[str] = (),
    source_kinds: Iterable[str] = (),
) -> CompiledMonitor:
    return CompiledMonitor(
        id=id,
        version=version,
        query=parse_query(query),
        languages=frozenset(lang.lower() for lang in languages),
        source_kinds=frozenset(source_kinds),
    )


def _is_word_char(char: str) -> bool:
    return char.isalnum() or char == "_"


@dataclass
class Matcher:
    monitors: Sequence[CompiledMonitor]
    automaton: ahocorasick.Automaton = field(init=False)
    # Term -> the monitors for which it is a required term (a post must contain one to match).
    candidates: dict[str, list[CompiledMonitor]] = field(init=False)

    def __post_init__(self) -> None:
        self.automaton = ahocorasick.Automaton()
        self.candidates = {}
        for monitor in self.monitors:
            for term in monitor.query.terms:
                if term not in self.automaton:
                    self.automaton.add_word(term, term)
            for term in monitor.query.required:
                self.candidates.setdefault(term, []).append(monitor)
        if len(self.automaton):
            self.automaton.make_automaton()

    def terms_in(self, post: Post) -> set[str]:
        """The monitors' terms the post contains as whole words (a handle also as its author)."""
        found: set[str] = set()
        if not len(self.automaton):
            return found
        text = _SPACE_RE.sub(" ", post.text.lower())
        length = len(text)
        for end, term in self.automaton.iter(text):
            start = end - len(term) + 1
            # Whole words: "acme" matches "acme," "#acme" and "@acme", not "acmeville" or "myacme".
            if start > 0 and _is_word_char(text[start - 1]):
                continue
            if end + 1 < length and _is_word_char(text[end + 1]):
                continue
            found.add(term)
        if post.author_handle:
            handle = "@" + post.author_handle.lower()
            if handle in self.automaton:
                found.add(handle)
        return found

    def match(self, post: Post, source_kind: str) -> list[CompiledMonitor]:
        found = self.terms_in(post)
        if not found:
            return []
        matched: list[CompiledMonitor] = []
        seen: set[int] = set()
        for term in found:
            for monitor in self.candidates.get(term, ()):
                if monitor.id in seen:
                    continue
                seen.add(monitor.id)
                if monitor.admits(post, source_kind) and evaluate(monitor.query.root, found):
                    matched.append(monitor)
        return matched
