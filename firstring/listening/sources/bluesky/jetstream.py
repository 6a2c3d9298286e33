"""Reading Jetstream: parse its events into posts, and run a source over its websocket."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlencode, urlsplit, urlunsplit

from django.db import close_old_connections
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI
from websockets.sync.client import connect

from firstring.listening.matching import Post
from firstring.listening.models import Source
from firstring.listening.pipeline import MAX_POST_CHARS, mentions_ingest
from firstring.listening.sources import MalformedEvent

logger = logging.getLogger(__name__)

DEFAULT_URL = "wss://jetstream2.us-east.bsky.network/subscribe"
POST = "app.bsky.feed.post"
REPOST = "app.bsky.feed.repost"
MAX_EVENT_BYTES = 1 << 20
MAX_BACKOFF_SECONDS = 60.0


@dataclass
class Handles:
    """DID → handle, learnt from identity events (Jetstream's posts carry only the DID)."""

    limit: int = 100_000
    known: OrderedDict[str, str] = field(default_factory=OrderedDict)

    def set(self, did: str, handle: str) -> None:
        self.known[did] = handle
        self.known.move_to_end(did)
        while len(self.known) > self.limit:
            self.known.popitem(last=False)

    def get(self, did: str) -> str:
        return self.known.get(did, "")


def _time(time_us: int) -> datetime:
    return datetime.fromtimestamp(time_us / 1_000_000, tz=UTC)


def parse_event(raw: str | bytes, handles: Handles) -> tuple[int, Post | None]:
    """One Jetstream event: its `time_us` (the cursor) and the post it carries, if any.

    Raises MalformedEvent for what is not a Jetstream event; deletes, updates, other collections and
    account events give no post.
    """
    if len(raw) > MAX_EVENT_BYTES:
        raise MalformedEvent("event larger than 1 MiB")
    try:
        event = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as error:
        raise MalformedEvent(f"not JSON: {error}") from None
    if not isinstance(event, dict):
        raise MalformedEvent("not a JSON object")
    time_us, did, kind = event.get("time_us"), event.get("did"), event.get("kind")
    if not isinstance(time_us, int) or isinstance(time_us, bool) or time_us <= 0:
        raise MalformedEvent("time_us missing or not a positive integer")
    if not isinstance(did, str) or not did.startswith("did:") or len(did) > 255:
        raise MalformedEvent("did missing or not a DID")
    if kind == "identity":
        identity = event.get("identity")
        if isinstance(identity, dict) and isinstance(identity.get("handle"), str):
            handles.set(did, identity["handle"][:255])
        return time_us, None
    if kind != "commit":
        return time_us, None
    commit = event.get("commit")
    if not isinstance(commit, dict):
        raise MalformedEvent("commit event without a commit")
    if commit.get("operation") != "create" or commit.get("collection") not in (POST, REPOST):
        return time_us, None
    record, rkey = commit.get("record"), commit.get("rkey")
    if not isinstance(record, dict) or not isinstance(rkey, str) or not rkey or len(rkey) > 100:
        raise MalformedEvent("create without a record or rkey")
    uri = f"at://{did}/{commit['collection']}/{rkey}"
    posted_at = _time(time_us)
    if commit["collection"] == REPOST:
        subject = record.get("subject")
        original = subject.get("uri") if isinstance(subject, dict) else None
        if not isinstance(original, str):
            raise MalformedEvent("repost without a subject uri")
        return time_us, Post(
            network="bluesky", external_id=uri, text="", posted_at=posted_at, author_id=did, kind="repost",
            repost_of=original[:500],
        )  # fmt: skip
    text = record.get("text")
    if not isinstance(text, str):
        raise MalformedEvent("post without text")
    if len(text) > MAX_POST_CHARS:
        raise MalformedEvent(f"post text longer than {MAX_POST_CHARS} characters")
    langs = record.get("langs")
    language = langs[0] if isinstance(langs, list) and langs and isinstance(langs[0], str) else ""
    embed = record.get("embed")
    kind_of = "post"
    if isinstance(record.get("reply"), dict):
        kind_of = "reply"
    elif isinstance(embed, dict) and str(embed.get("$type", "")).startswith("app.bsky.embed.record"):
        kind_of = "quote"
    handle = handles.get(did)
    return time_us, Post(
        network="bluesky",
        external_id=uri,
        text=text,
        posted_at=posted_at,
        author_id=did,
        author_handle=handle,
        url=f"https://bsky.app/profile/{handle or did}/post/{rkey}",
        language=language[:16],
        kind=kind_of,
    )


def subscribe_url(base: str, cursor: str) -> str:
    parts = urlsplit(base)
    query = [("wantedCollections", POST), ("wantedCollections", REPOST)]
    if cursor:
        query.append(("cursor", cursor))
    extra = f"&{parts.query}" if parts.query else ""
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query) + extra, ""))


@dataclass
class ReadStats:
    events: int = 0
    malformed: int = 0
    batches: int = 0
    reconnects: int = 0


def read(
    source: Source,
    stop: threading.Event,
    *,
    max_events: int | None = None,
    stats: ReadStats | None = None,
) -> ReadStats:
    """Read the source until `stop` is set (or `max_events` were read), storing a batch at a time.

    Reconnects from the saved cursor after any drop, with backoff; never raises for what the peer does.
    """
    stats = stats or ReadStats()
    config = source.config or {}
    base = str(config.get("url") or DEFAULT_URL)
    batch_size = int(config.get("batch_size", 500))
    batch_seconds = float(config.get("batch_seconds", 1.0))
    handles = Handles()
    backoff = 1.0
    while not stop.is_set() and (max_events is None or stats.events < max_events):
        try:
            url = subscribe_url(base, source.cursor)
            with connect(url, open_timeout=10, max_size=MAX_EVENT_BYTES, close_timeout=2) as socket:
                logger.info("%s: connected to %s", source.slug, url)
                backoff = 1.0
                batch: list[Post] = []
                last_cursor = ""
                started = time.monotonic()
                while not stop.is_set() and (max_events is None or stats.events < max_events):
                    try:
                        raw = socket.recv(timeout=max(0.05, batch_seconds - (time.monotonic() - started)))
                    except TimeoutError:
                        raw = None
                    if raw is not None:
                        stats.events += 1
                        try:
                            time_us, post = parse_event(raw, handles)
                        except MalformedEvent as error:
                            stats.malformed += 1
                            logger.warning("%s: skipped a malformed event: %s", source.slug, error)
                        else:
                            last_cursor = str(time_us)
                            if post is not None:
                                batch.append(post)
                    due = time.monotonic() - started >= batch_seconds or len(batch) >= batch_size
                    if last_cursor and (due or (max_events is not None and stats.events >= max_events)):
                        _store(source, batch, last_cursor, stats)
                        batch, last_cursor, started = [], "", time.monotonic()
                    elif due:
                        started = time.monotonic()
                if last_cursor:
                    _store(source, batch, last_cursor, stats)
        except (ConnectionClosed, InvalidHandshake, InvalidURI, OSError, TimeoutError) as error:
            # What was read since the last stored batch is read again from the cursor.
            stats.reconnects += 1
            logger.warning(
                "%s: connection lost (%s: %s); reconnecting in %.0f s from cursor %s",
                source.slug, type(error).__name__, error, backoff, source.cursor or "(live)",
            )  # fmt: skip
            stop.wait(backoff)
            backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
    return stats


def _store(source: Source, batch: list[Post], cursor: str, stats: ReadStats) -> None:
    close_old_connections()
    mentions_ingest(posts=batch, source=source, cursor=cursor)
    stats.batches += 1


def run(source: Source, stop: threading.Event) -> None:
    """Run until stopped; an error storing a batch (the database away) restarts from the saved cursor."""
    backoff = 1.0
    while not stop.is_set():
        try:
            read(source, stop)
        except Exception:
            logger.exception(
                "%s: reading failed; restarting in %.0f s from the saved cursor", source.slug, backoff
            )
            stop.wait(backoff)
            backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
            close_old_connections()
            source.refresh_from_db(fields=["cursor", "config"])
