"""Reading Mastodon: a streaming timeline (with a backfill after each reconnect), or notifications."""

from __future__ import annotations

import logging
import threading
from typing import Any
from urllib.parse import quote

import httpx

from firstring.listening.matching import Post
from firstring.listening.models import Source
from firstring.listening.pipeline import mentions_ingest
from firstring.listening.sources import MalformedEvent
from firstring.listening.sources.http import (
    Batcher,
    PeerError,
    check,
    client,
    get_json,
    id_after,
    lines,
    run_with_backoff,
)
from firstring.listening.sources.mastodon.statuses import (
    HEARTBEAT,
    TOO_LARGE,
    parse_status,
    parse_update,
    sse_events,
)

logger = logging.getLogger(__name__)

TIMELINES = ("public", "local", "hashtag", "notifications")
PAGE = 40  # the REST API's largest page
DEFAULT_POLL_SECONDS = 60


def instance(source: Source) -> str:
    url = str((source.config or {}).get("instance") or "").rstrip("/")
    if not url.startswith(("https://", "http://")):
        raise PeerError("the source has no instance URL in its config (https://mastodon.example)")
    return url


def auth_headers(source: Source) -> dict[str, str]:
    token = str((source.secrets or {}).get("access_token") or "")
    return {"Authorization": f"Bearer {token}"} if token else {}


def _timeline(source: Source) -> tuple[str, str, dict[str, str]]:
    """(streaming path, REST timeline path, their parameters) of the source's timeline."""
    config = source.config or {}
    timeline = str(config.get("timeline") or "public")
    if timeline == "hashtag":
        tag = str(config.get("tag") or "").lstrip("#")
        if not tag or len(tag) > 100:
            raise PeerError("a hashtag timeline needs its tag in the config")
        return "/api/v1/streaming/hashtag", f"/api/v1/timelines/tag/{quote(tag)}", {"tag": tag}
    if timeline == "local":
        return "/api/v1/streaming/public/local", "/api/v1/timelines/public", {"local": "true"}
    if timeline == "public":
        return "/api/v1/streaming/public", "/api/v1/timelines/public", {}
    raise PeerError(f"unknown timeline {timeline[:40]!r}; one of {', '.join(TIMELINES)}")


def _posts(items: Any, source: Source, host: str, what: str) -> tuple[list[Post], str]:
    """Posts from a page of statuses (or of notifications' statuses), and the newest id among them."""
    if not isinstance(items, list):
        raise PeerError(f"{what} answered something that is not a list")
    posts, newest = [], ""
    for item in items:
        item_id = item.get("id") if isinstance(item, dict) else None
        if not isinstance(item_id, str) or not item_id.isdigit():
            logger.warning("%s: skipped an item of %s without an id", source.slug, what)
            continue
        if id_after(item_id, newest):
            newest = item_id
        status = item.get("status") if what == "notifications" else item
        if what == "notifications" and item.get("type") != "mention":
            continue
        try:
            posts.append(parse_status(status, instance_host=host))
        except MalformedEvent as error:
            logger.warning("%s: skipped a malformed status: %s", source.slug, error)
    return posts, newest


def _catch_up(source: Source, http: httpx.Client, path: str, params: dict[str, str], what: str) -> None:
    """Page forward from the cursor (`min_id`) and store each page with its newest id as the cursor."""
    base, host = instance(source), httpx.URL(instance(source)).host
    pages = int((source.config or {}).get("backfill_pages", 5))
    for _ in range(max(1, pages)):
        query: list[tuple[str, str]] = [*params.items(), ("limit", str(PAGE))]
        if what == "notifications":
            query.append(("types[]", "mention"))
        if source.cursor:
            query.append(("min_id", source.cursor))
        page = get_json(http, base + path, what, params=query, headers=auth_headers(source))
        posts, newest = _posts(page, source, host, what)
        if not newest or not id_after(newest, source.cursor):
            return
        first = not source.cursor
        mentions_ingest(posts=posts, source=source, cursor=newest)
        if first or len(page) < PAGE:
            return  # the first poll starts from the latest page; a short page is the end


def stream_once(source: Source, stop: threading.Event) -> float:
    """One connection to the streaming API: backfill what was missed since the cursor, then read."""
    config = source.config or {}
    base, host = instance(source), httpx.URL(instance(source)).host
    stream_path, rest_path, params = _timeline(source)
    batcher = Batcher(
        source, size=int(config.get("batch_size", 200)), seconds=float(config.get("batch_seconds", 1.0))
    )
    read_timeout = float(config.get("read_timeout", 90.0))  # heartbeats come every 10 seconds or so
    events = 0
    with (
        client(read_timeout=read_timeout) as http,
        http.stream(
            "GET",
            base + stream_path,
            params=params,
            headers={**auth_headers(source), "Accept": "text/event-stream"},
        ) as response,
    ):
        check(response, "the streaming API")
        logger.info("%s: connected to %s", source.slug, response.url)
        if source.cursor:
            # Connected first, then caught up: what arrives meanwhile waits in the stream.
            _catch_up(source, http, rest_path, params, "the timeline")
        try:
            for event in sse_events(lines(response)):
                if stop.is_set():
                    break
                if event is HEARTBEAT:
                    batcher.tick()
                    continue
                events += 1
                if event is TOO_LARGE:
                    logger.warning("%s: skipped an event larger than the limit", source.slug)
                    continue
                if event.event != "update":
                    continue  # delete, status.update, notification …
                try:
                    status_id, post = parse_update(event.data, instance_host=host)
                except MalformedEvent as error:
                    logger.warning("%s: skipped a malformed event: %s", source.slug, error)
                    continue
                newest = batcher.cursor if batcher.cursor is not None else source.cursor
                batcher.add(post, cursor=status_id if id_after(status_id, newest) else None)
        finally:
            batcher.flush()
    if stop.is_set():
        return 0.0
    raise PeerError("the stream ended", connected=events > 0)


def notifications_once(source: Source, stop: threading.Event) -> float:
    """One poll of the brand account's mentions, oldest first from the cursor (`since_id` ← `min_id`)."""
    if not auth_headers(source):
        raise PeerError("notifications need the account's access_token in the source's secrets")
    with client() as http:
        _catch_up(source, http, "/api/v1/notifications", {}, "notifications")
    return float((source.config or {}).get("poll_seconds", DEFAULT_POLL_SECONDS))


def run(source: Source, stop: threading.Event) -> None:
    timeline = str((source.config or {}).get("timeline") or "public")
    run_with_backoff(source, stop, notifications_once if timeline == "notifications" else stream_once)
