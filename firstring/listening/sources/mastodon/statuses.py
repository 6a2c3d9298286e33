"""Mastodon's wire formats: Server-Sent Events of the streaming API, and Status JSON to posts."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from firstring.lib.sanitize import html_to_text
from firstring.listening.matching import Post
from firstring.listening.pipeline import MAX_POST_CHARS
from firstring.listening.sources import MalformedEvent
from firstring.listening.sources.http import OVERSIZED

NETWORK = "mastodon"
# A status's HTML is at most a few times its text (500 characters on most instances); past this it is
# not a status anyone reads.
MAX_CONTENT_CHARS = 4 * MAX_POST_CHARS


@dataclass(frozen=True)
class Event:
    """One Server-Sent Event: `event` and `data`; a heartbeat (`:thump`) is Event("", "")."""

    event: str
    data: str


HEARTBEAT = Event("", "")
TOO_LARGE = Event("oversized", "")


def sse_events(lines: Iterable[bytes]) -> Iterator[Event]:
    """The events of a text/event-stream (WHATWG): `event:` and `data:` fields up to a blank line.

    Comments (Mastodon's `:thump` heartbeat) come out as HEARTBEAT, so a reader can store a pending
    batch while the stream is quiet; a line over the size limit spoils its event (TOO_LARGE).
    """
    event, spoilt = "", False
    data: list[str] = []
    for raw in lines:
        if raw is OVERSIZED or raw == OVERSIZED:
            spoilt = True
            continue
        line = raw.decode("utf-8", errors="replace")
        if not line:
            if spoilt:
                yield TOO_LARGE
            elif data:
                yield Event(event or "message", "\n".join(data))
            event, data, spoilt = "", [], False
            continue
        if line.startswith(":"):
            yield HEARTBEAT
            continue
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "event":
            event = value
        elif name == "data":
            data.append(value)


def _time(value: Any) -> datetime:
    if not isinstance(value, str):
        raise MalformedEvent("created_at missing")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise MalformedEvent(f"created_at is not a time: {value[:40]!r}") from None
    if parsed.tzinfo is None:
        raise MalformedEvent("created_at without a time zone")
    return parsed


def account_handle(account: dict[str, Any], instance_host: str) -> str:
    """The account's full handle, user@host (`acct` leaves the host out for local accounts)."""
    acct = account.get("acct")
    if not isinstance(acct, str) or not acct or len(acct) > 250:
        raise MalformedEvent("account without an acct")
    return (acct if "@" in acct else f"{acct}@{instance_host}").lower()


def parse_status(status: Any, *, instance_host: str) -> Post:
    """A Status entity as a post (a boost as a repost of the status it boosts). Raises MalformedEvent."""
    if not isinstance(status, dict):
        raise MalformedEvent("a status is not a JSON object")
    status_id, uri, account = status.get("id"), status.get("uri"), status.get("account")
    if not isinstance(status_id, str) or not status_id.isdigit() or len(status_id) > 30:
        raise MalformedEvent("status without a numeric id")
    if not isinstance(uri, str) or not uri.startswith(("https://", "http://")) or len(uri) > 500:
        raise MalformedEvent("status without a uri")
    if not isinstance(account, dict):
        raise MalformedEvent("status without an account")
    handle = account_handle(account, instance_host)
    posted_at = _time(status.get("created_at"))
    reblog = status.get("reblog")
    if reblog is not None:
        original = reblog.get("uri") if isinstance(reblog, dict) else None
        if not isinstance(original, str) or not original:
            raise MalformedEvent("boost without the status it boosts")
        return Post(
            network=NETWORK, external_id=uri, text="", posted_at=posted_at, author_id=handle, kind="repost",
            repost_of=original[:500],
        )  # fmt: skip
    content, spoiler = status.get("content"), status.get("spoiler_text") or ""
    if not isinstance(content, str) or not isinstance(spoiler, str):
        raise MalformedEvent("status without content")
    if len(content) + len(spoiler) > MAX_CONTENT_CHARS:
        raise MalformedEvent(f"status content longer than {MAX_CONTENT_CHARS} characters")
    # The content is HTML from another server: only its text is kept (tags dropped, entities decoded).
    text = "\n\n".join(part for part in (html_to_text(spoiler), html_to_text(content)) if part)
    if len(text) > MAX_POST_CHARS:
        raise MalformedEvent(f"status text longer than {MAX_POST_CHARS} characters")
    followers = account.get("followers_count")
    language = status.get("language")
    url = status.get("url")
    kind = "post"
    if status.get("in_reply_to_id"):
        kind = "reply"
    elif isinstance(status.get("quote"), dict):
        kind = "quote"
    return Post(
        network=NETWORK,
        external_id=uri,
        text=text,
        posted_at=posted_at,
        author_id=handle,
        author_handle=handle,
        author_name=html_to_text(str(account.get("display_name") or ""))[:200],
        followers=followers
        if isinstance(followers, int) and not isinstance(followers, bool) and followers >= 0
        else None,
        url=url if isinstance(url, str) and url.startswith(("https://", "http://")) else uri,
        language=language[:16] if isinstance(language, str) else "",
        kind=kind,
    )


def parse_update(data: str, *, instance_host: str) -> tuple[str, Post]:
    """An `update` event's payload: the status's id on the instance (the cursor) and its post."""
    try:
        status = json.loads(data)
    except ValueError as error:
        raise MalformedEvent(f"not JSON: {error}") from None
    post = parse_status(status, instance_host=instance_host)
    return status["id"], post
