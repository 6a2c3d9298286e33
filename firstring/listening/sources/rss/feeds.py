"""Polling one feed: a conditional GET, feedparser, entries to article posts, backoff on failure."""

from __future__ import annotations

import calendar
import logging
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import feedparser
import httpx
from django.db import close_old_connections
from django.utils import timezone

from firstring.lib.sanitize import html_to_text
from firstring.listening.links import canonical_link
from firstring.listening.matching import Post
from firstring.listening.models import Source
from firstring.listening.pipeline import MAX_POST_CHARS, mentions_ingest
from firstring.listening.sources.http import USER_AGENT, retry_after_seconds

logger = logging.getLogger(__name__)

DEFAULT_POLL_SECONDS = 300
MAX_BACKOFF = timedelta(hours=6)
MAX_REDIRECTS = 5
MAX_FEED_BYTES = 5 * 1024 * 1024
TIMEOUT_SECONDS = 20


class FeedError(Exception):
    def __init__(self, reason: str, *, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


@dataclass
class PollReport:
    source: str
    status: str  # "stored", "not modified", "failed", "not due"
    entries: int = 0
    stored: int = 0
    error: str = ""

    def summary(self) -> str:
        detail = f", {self.error}" if self.error else ""
        return f"{self.source}: {self.status}, {self.entries} entries, {self.stored} new mentions{detail}"


def fetch(url: str, state: dict[str, Any]) -> tuple[int, bytes, dict[str, str]]:
    """GET the feed with the saved validators; (status, body, headers). Raises FeedError on failure."""
    headers = {
        "User-Agent": USER_AGENT,
        "Accept": "application/atom+xml, application/rss+xml, application/xml;q=0.9, */*;q=0.5",
    }
    if state.get("etag"):
        headers["If-None-Match"] = state["etag"]
    if state.get("last_modified"):
        headers["If-Modified-Since"] = state["last_modified"]
    try:
        with (
            httpx.Client(
                follow_redirects=True, max_redirects=MAX_REDIRECTS, timeout=TIMEOUT_SECONDS
            ) as client,
            client.stream("GET", url, headers=headers) as response,
        ):
            if response.status_code == 304:
                return 304, b"", dict(response.headers)
            if response.status_code == 429 or response.status_code >= 500:
                raise FeedError(
                    f"HTTP {response.status_code}",
                    retry_after=retry_after_seconds(response.headers.get("Retry-After")),
                )
            if response.status_code != 200:
                raise FeedError(f"HTTP {response.status_code}")
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > MAX_FEED_BYTES:
                    raise FeedError(f"the feed is larger than {MAX_FEED_BYTES // (1024 * 1024)} MB")
            return 200, bytes(body), dict(response.headers)
    except httpx.TooManyRedirects:
        raise FeedError(f"more than {MAX_REDIRECTS} redirects") from None
    except httpx.HTTPError as error:
        raise FeedError(f"{type(error).__name__}: {error}"[:300]) from None


def _entry_time(entry: Any) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        parsed = entry.get(key)
        if parsed:
            return datetime.fromtimestamp(calendar.timegm(parsed), tz=UTC)
    return None


def parse_feed(body: bytes, *, url: str, fetched_at: datetime) -> list[Post]:
    """The feed's entries as article posts. Raises FeedError when the body is not a feed."""
    feed = feedparser.parse(body)
    if feed.bozo and not feed.entries:
        raise FeedError(f"not a feed: {type(feed.get('bozo_exception')).__name__}")
    if not feed.entries and not feed.feed:
        raise FeedError("not a feed: no channel and no entries")
    host = httpx.URL(url).host
    posts = []
    for entry in feed.entries:
        link = canonical_link(entry.get("link", ""))
        entry_id = str(entry.get("id") or link or "")[:500]
        if not entry_id:
            continue
        title = html_to_text(entry.get("title", ""))
        summary = entry.get("summary", "")
        content = entry.get("content")
        if not summary and isinstance(content, list) and content:
            summary = content[0].get("value", "")
        text = "\n\n".join(part for part in (title, html_to_text(summary)) if part)[:MAX_POST_CHARS]
        if not text:
            continue
        posted = _entry_time(entry) or fetched_at
        posts.append(
            Post(
                network="web",
                external_id=entry_id,
                text=text,
                posted_at=min(posted, fetched_at),
                author_id=host,
                author_name=str(entry.get("author", ""))[:200],
                url=link or "",
                language=str(feed.feed.get("language", ""))[:16],
                kind="article",
                link=link,
            )
        )
    return posts


def feed_poll(*, source: Source, force: bool = False) -> PollReport:
    """Fetch and store one feed if it is due (or `force`); record success or failure with its backoff."""
    now = timezone.now()
    state = dict(source.state or {})
    next_at = state.get("next_poll_at")
    if not force and next_at and datetime.fromisoformat(next_at) > now:
        return PollReport(source.slug, "not due")
    poll_seconds = int((source.config or {}).get("poll_seconds", DEFAULT_POLL_SECONDS))
    url = str((source.config or {}).get("url", ""))
    report = PollReport(source.slug, "failed")
    try:
        if not url:
            raise FeedError("the source has no url in its config")
        status, body, headers = fetch(url, state)
        if status == 304:
            report.status = "not modified"
        else:
            posts = parse_feed(body, url=url, fetched_at=now)
            result = mentions_ingest(posts=posts, source=source)
            report.status, report.entries, report.stored = "stored", len(posts), result.stored
            state["etag"] = headers.get("etag", "")
            state["last_modified"] = headers.get("last-modified", "")
        state.update(failures=0, last_error="", last_success_at=now.isoformat())
        state["next_poll_at"] = (now + timedelta(seconds=poll_seconds)).isoformat()
    except FeedError as error:
        failures = int(state.get("failures", 0)) + 1
        delay = min(timedelta(seconds=poll_seconds * 2**failures), MAX_BACKOFF)
        if error.retry_after is not None:
            delay = max(delay, timedelta(seconds=min(error.retry_after, MAX_BACKOFF.total_seconds())))
        state.update(failures=failures, last_error=str(error)[:300], next_poll_at=(now + delay).isoformat())
        report.error = str(error)
        logger.warning("%s: feed failed (%s); retrying in %s", source.slug, error, delay)
    state["last_poll_at"] = now.isoformat()
    Source.objects.filter(pk=source.pk).update(state=state)
    source.state = state
    return report


def run(source: Source, stop: threading.Event) -> None:
    """Poll the feed whenever it is due until stopped."""
    while not stop.is_set():
        close_old_connections()
        try:
            feed_poll(source=source)
        except Exception:
            logger.exception("%s: polling failed", source.slug)
        next_at = (source.state or {}).get("next_poll_at")
        wait = 5.0
        if next_at:
            wait = max(0.5, min(60.0, (datetime.fromisoformat(next_at) - timezone.now()).total_seconds()))
        stop.wait(wait)
