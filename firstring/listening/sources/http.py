"""What the HTTP sources (Mastodon, Reddit, X) share: answers checked, bounded reads, backoff, the loop.

A source's peer is untrusted: its answers are read up to a size limit, a 429 or 5xx waits for its
`Retry-After` (or the backoff, whichever is longer), a line or event larger than the limit is skipped,
and whatever goes wrong is logged and retried while the listener keeps running.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
from django.db import close_old_connections
from django.utils import timezone

from firstring.channels.registry import DeliveryError
from firstring.listening.matching import Post
from firstring.listening.models import Source
from firstring.listening.pipeline import mentions_ingest

logger = logging.getLogger(__name__)

USER_AGENT = "Firstring-listening/1 (+https://github.com/firstring)"
MAX_BODY_BYTES = 5 * 1024 * 1024
MAX_LINE_BYTES = 1 << 20
MAX_BACKOFF_SECONDS = 60.0
# Rate limits can ask for longer than a dropped connection: honoured up to this.
MAX_RETRY_AFTER_SECONDS = 15 * 60.0


class PeerError(Exception):
    """The peer refused or failed a request. `retry_after`: what it asked us to wait, in seconds."""

    def __init__(self, reason: str, *, retry_after: float | None = None, connected: bool = False) -> None:
        super().__init__(reason)
        self.retry_after = retry_after
        # A stream that worked before it dropped: the backoff starts again from its first step.
        self.connected = connected


def retry_after_seconds(value: str | None) -> float | None:
    """A `Retry-After` header (seconds or an HTTP date) in seconds from now; None when absent or bad."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - timezone.now()).total_seconds())


def rate_limit_wait(headers: httpx.Headers) -> float | None:
    """How long a 429 asks to wait: `Retry-After`, or X's and Reddit's reset headers."""
    wait = retry_after_seconds(headers.get("retry-after"))
    if wait is not None:
        return wait
    reset = headers.get("x-rate-limit-reset")  # X: the epoch second the window resets
    if reset and reset.isdigit():
        return max(0.0, int(reset) - timezone.now().timestamp())
    reset = headers.get("x-ratelimit-reset")  # Reddit: seconds until the window resets
    try:
        return max(0.0, float(reset)) if reset else None
    except ValueError:
        return None


def check(response: httpx.Response, what: str) -> None:
    """Raise PeerError unless the answer is a 2xx (a 429 or 5xx with how long it asks us to wait)."""
    status = response.status_code
    if 200 <= status < 300:
        return
    wait = rate_limit_wait(response.headers) if status == 429 or status >= 500 else None
    raise PeerError(f"{what} answered HTTP {status}", retry_after=wait)


def read_json(response: httpx.Response, what: str, *, max_bytes: int = MAX_BODY_BYTES) -> Any:
    """The JSON body of a streamed answer, read up to `max_bytes`. Raises PeerError."""
    check(response, what)
    body = bytearray()
    for chunk in response.iter_bytes():
        body += chunk
        if len(body) > max_bytes:
            raise PeerError(f"{what} answered more than {max_bytes // (1024 * 1024)} MB")
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise PeerError(f"{what} answered something that is not JSON") from None


def get_json(
    client: httpx.Client, url: str, what: str, *, params: Any = None, headers: dict[str, str] | None = None
) -> Any:
    try:
        with client.stream("GET", url, params=params, headers=headers) as response:
            return read_json(response, what)
    except httpx.HTTPError as error:
        raise PeerError(f"{what}: {type(error).__name__}: {error}"[:300]) from None


def client(*, timeout: float = 20.0, read_timeout: float | None = None) -> httpx.Client:
    return httpx.Client(
        timeout=httpx.Timeout(timeout, read=read_timeout if read_timeout is not None else timeout),
        headers={"User-Agent": USER_AGENT},
        follow_redirects=True,
        max_redirects=5,
    )


def request_for_reply(http: httpx.Client, method: str, url: str, what: str, **kwargs: Any) -> Any:
    """A request that sends a reply: 4xx answers are permanent DeliveryErrors (retrying cannot help),
    429, 5xx and network errors transient ones that the outbox retries."""
    try:
        with http.stream(method, url, **kwargs) as response:
            if 400 <= response.status_code < 500 and response.status_code != 429:
                response.read()
                detail = ""
                with contextlib.suppress(ValueError, AttributeError):
                    # Mastodon says {"error": …}; X {"detail": …, "title": …}.
                    body = response.json()
                    detail = str(body.get("error") or body.get("detail") or body.get("title") or "")[:300]
                raise DeliveryError(
                    f"{what} answered HTTP {response.status_code} {detail}".strip(), permanent=True
                )
            return read_json(response, what)
    except PeerError as error:
        raise DeliveryError(str(error)) from None
    except httpx.HTTPError as error:
        raise DeliveryError(f"{what} unreachable: {type(error).__name__}") from None


OVERSIZED = b"\x00oversized"


def lines(response: httpx.Response, *, max_bytes: int = MAX_LINE_BYTES) -> Iterator[bytes]:
    """The lines of a streamed answer without their ending; a line over `max_bytes` comes as OVERSIZED."""
    pending = bytearray()
    skipping = False
    for chunk in response.iter_bytes():
        pending += chunk
        while True:
            end = pending.find(b"\n")
            if end < 0:
                break
            line = bytes(pending[:end]).rstrip(b"\r")
            del pending[: end + 1]
            if skipping:
                skipping = False  # the rest of an oversized line
                continue
            yield OVERSIZED if len(line) > max_bytes else line
        if len(pending) > max_bytes:
            if not skipping:
                yield OVERSIZED
            skipping = True
            pending.clear()
    if pending and not skipping:
        yield bytes(pending).rstrip(b"\r")


def id_after(a: str, b: str) -> bool:
    """Whether numeric id `a` is newer than `b` (Mastodon's and X's ids are decimal, time-ordered)."""
    if not b:
        return True
    return (len(a), a) > (len(b), b)


def run_with_backoff(
    source: Source, stop: threading.Event, once: Callable[[Source, threading.Event], float]
) -> None:
    """Call `once` (one connection, or one poll that returns the seconds until the next) until stopped.

    A PeerError, a network error or anything unexpected (the database away) is logged and retried after
    an exponential backoff (1 s doubling to 60 s), or the peer's Retry-After when longer; a success
    resets it. The source is reloaded before a retry, so a cursor saved meanwhile is where it resumes.
    """
    backoff = 1.0
    while not stop.is_set():
        close_old_connections()
        try:
            wait = once(source, stop)
        except PeerError as error:
            if error.connected:
                backoff = 1.0
            wait = max(backoff, min(error.retry_after or 0.0, MAX_RETRY_AFTER_SECONDS))
            logger.warning("%s: %s; retrying in %.0f s", source.slug, error, wait)
            backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
        except httpx.HTTPError as error:
            wait = backoff
            logger.warning(
                "%s: connection lost (%s: %s); retrying in %.0f s from cursor %s",
                source.slug, type(error).__name__, error, wait, source.cursor or "(live)",
            )  # fmt: skip
            backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
        except Exception:
            wait = backoff
            logger.exception(
                "%s: reading failed; restarting in %.0f s from the saved cursor", source.slug, wait
            )
            backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
        else:
            backoff = 1.0
        if stop.wait(wait):
            break
        close_old_connections()
        try:
            source.refresh_from_db(fields=["cursor", "config", "secrets", "state"])
        except Exception:
            logger.exception("%s: reloading the source failed", source.slug)


class Batcher:
    """Posts read from a stream, stored a batch at a time with the cursor after the last of them."""

    def __init__(self, source: Source, *, size: int, seconds: float) -> None:
        self.source, self.size, self.seconds = source, size, seconds
        self.posts: list[Post] = []
        self.cursor: str | None = None
        self.started = time.monotonic()
        self.batches = 0

    def add(self, post: Post | None, *, cursor: str | None = None) -> None:
        if post is not None:
            self.posts.append(post)
        if cursor is not None:
            self.cursor = cursor
        self.tick()

    def tick(self) -> None:
        """Store what is pending when the batch is full or old enough (called on heartbeats too)."""
        if len(self.posts) >= self.size or time.monotonic() - self.started >= self.seconds:
            self.flush()

    def flush(self) -> None:
        if self.posts or self.cursor is not None:
            close_old_connections()
            mentions_ingest(posts=self.posts, source=self.source, cursor=self.cursor)
            self.batches += 1
        self.posts, self.cursor, self.started = [], None, time.monotonic()
