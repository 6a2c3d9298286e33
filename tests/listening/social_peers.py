"""What the local servers of the Mastodon, Reddit and X tests answer, in each service's documented format."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator, Sequence
from typing import Any

from tests.http_peer import Recorded

JSON = {"Content-Type": "application/json"}


def sse(event: str, payload: Any) -> bytes:
    """One Server-Sent Event as Mastodon's streaming API writes it."""
    data = payload if isinstance(payload, str) else json.dumps(payload)
    return f"event: {event}\ndata: {data}\n\n".encode()


def held_open(
    chunks: Sequence[bytes], until: threading.Event, *, beat: bytes, every: float = 0.1
) -> Iterator[bytes]:
    """Send `chunks`, then a keep-alive (`beat`) every `every` seconds until `until` is set."""
    yield from chunks
    while not until.is_set():
        yield beat
        time.sleep(every)


def newer_page(
    items: Sequence[dict[str, Any]], request: Recorded, *, limit: int = 40
) -> list[dict[str, Any]]:
    """Mastodon's paging of a timeline or the notifications: `min_id` gives the items just after it,
    `since_id` the newest after it, neither the newest; newest first either way, at most `limit`."""
    query = request.query
    limit = min(int(query.get("limit", [str(limit)])[0]), 40)
    by_id = sorted(items, key=lambda item: int(item["id"]))
    if "min_id" in query:
        after = int(query["min_id"][0])
        chosen = [item for item in by_id if int(item["id"]) > after][:limit]
    else:
        after = int(query.get("since_id", ["0"])[0])
        chosen = [item for item in by_id if int(item["id"]) > after][-limit:]
    return list(reversed(chosen))


def reddit_listing(things: Sequence[dict[str, Any]], request: Recorded) -> bytes:
    """A Listing page as Reddit answers it: newest first, `limit` things after the `after` fullname."""
    query = request.query
    limit = min(int(query.get("limit", ["25"])[0]), 100)
    start = 0
    if "after" in query:
        names = [thing["data"]["name"] for thing in things]
        start = names.index(query["after"][0]) + 1
    page = list(things[start : start + limit])
    after = page[-1]["data"]["name"] if page and start + limit < len(things) else None
    body = {"kind": "Listing", "data": {"after": after, "before": None, "dist": len(page), "children": page}}
    return json.dumps(body).encode()


def x_mentions(events: Sequence[dict[str, Any]], request: Recorded, *, page_size: int = 20) -> bytes:
    """`GET /2/users/:id/mentions` as X answers it: newest first, `since_id`, pages by `next_token`."""
    query = request.query
    since = int(query.get("since_id", ["0"])[0])
    newer = sorted(
        (e for e in events if int(e["data"]["id"]) > since), key=lambda e: int(e["data"]["id"]), reverse=True
    )
    start = int(query.get("pagination_token", ["0"])[0])
    page = newer[start : start + min(page_size, int(query.get("max_results", ["10"])[0]))]
    if not page:
        return json.dumps({"meta": {"result_count": 0}}).encode()
    meta: dict[str, Any] = {
        "result_count": len(page), "newest_id": page[0]["data"]["id"], "oldest_id": page[-1]["data"]["id"],
    }  # fmt: skip
    if start + len(page) < len(newer):
        meta["next_token"] = str(start + len(page))
    users = {u["id"]: u for e in page for u in e["includes"]["users"]}
    body = {"data": [e["data"] for e in page], "includes": {"users": list(users.values())}, "meta": meta}
    return json.dumps(body).encode()
