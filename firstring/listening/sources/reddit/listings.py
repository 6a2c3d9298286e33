"""Reddit's JSON listings (`data.children[].data`, `after`) to posts, polled from the saved cursor."""

from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import httpx

from firstring.lib.sanitize import html_to_text
from firstring.listening.links import canonical_link
from firstring.listening.matching import Post
from firstring.listening.models import Source
from firstring.listening.pipeline import MAX_POST_CHARS, mentions_ingest
from firstring.listening.sources import MalformedEvent
from firstring.listening.sources.http import PeerError, client, get_json, read_json, run_with_backoff

logger = logging.getLogger(__name__)

NETWORK = "reddit"
LISTINGS = ("new", "comments", "search")
PAGE = 100  # Reddit's largest listing page
DEFAULT_POLL_SECONDS = 60
PUBLIC_API = "https://www.reddit.com"
OAUTH_API = "https://oauth.reddit.com"
# Application-only tokens, by source: (token, monotonic expiry).
_TOKENS: dict[int, tuple[str, float]] = {}
_TOKENS_LOCK = threading.Lock()


def _credentials(source: Source) -> tuple[str, str] | None:
    secrets = source.secrets or {}
    client_id, secret = str(secrets.get("client_id") or ""), str(secrets.get("client_secret") or "")
    return (client_id, secret) if client_id and secret else None


def _token(source: Source, http: httpx.Client) -> str:
    """An application-only OAuth token (client credentials grant), kept until shortly before it expires."""
    credentials = _credentials(source)
    assert credentials is not None
    with _TOKENS_LOCK:
        cached = _TOKENS.get(source.pk)
        if cached and cached[1] > time.monotonic():
            return cached[0]
    auth_url = str((source.config or {}).get("auth_url") or PUBLIC_API).rstrip("/")
    try:
        with http.stream(
            "POST",
            f"{auth_url}/api/v1/access_token",
            auth=credentials,
            data={"grant_type": "client_credentials"},
        ) as response:
            answer = read_json(response, "Reddit's token endpoint")
    except httpx.HTTPError as error:
        raise PeerError(f"Reddit's token endpoint: {type(error).__name__}") from None
    token = answer.get("access_token") if isinstance(answer, dict) else None
    if not isinstance(token, str) or not token:
        raise PeerError("Reddit's token endpoint gave no access_token")
    expires = answer.get("expires_in")
    lifetime = float(expires) if isinstance(expires, (int, float)) and expires > 0 else 3600.0
    with _TOKENS_LOCK:
        _TOKENS[source.pk] = (token, time.monotonic() + lifetime * 0.9)
    return token


def forget_token(source: Source) -> None:
    with _TOKENS_LOCK:
        _TOKENS.pop(source.pk, None)


def listing_path(source: Source) -> tuple[str, dict[str, str]]:
    config = source.config or {}
    listing = str(config.get("listing") or "new")
    subreddit = str(config.get("subreddit") or "").removeprefix("r/").strip("/")
    if subreddit and not subreddit.replace("_", "").replace("+", "").isalnum():
        raise PeerError(f"not a subreddit name: {subreddit[:40]!r}")
    prefix = f"/r/{quote(subreddit, safe='+')}" if subreddit else ""
    if listing == "search":
        query = str(config.get("query") or "").strip()
        if not query:
            raise PeerError("a search source needs its query in the config")
        params = {"q": query, "sort": "new"}
        if subreddit:
            params["restrict_sr"] = "1"
        return f"{prefix}/search.json", params
    if listing not in LISTINGS:
        raise PeerError(f"unknown listing {listing[:40]!r}; one of {', '.join(LISTINGS)}")
    if not subreddit:
        raise PeerError(f"the {listing} listing needs a subreddit in the config")
    return f"{prefix}/{listing}.json", {}


def parse_thing(thing: Any) -> tuple[float, str, Post]:
    """One child of a listing (t3 submission, t1 comment): its time, fullname and post."""
    if not isinstance(thing, dict) or thing.get("kind") not in ("t1", "t3"):
        raise MalformedEvent("not a submission or a comment")
    data = thing.get("data")
    if not isinstance(data, dict):
        raise MalformedEvent("a thing without data")
    name, created, author = data.get("name"), data.get("created_utc"), data.get("author")
    if not isinstance(name, str) or not name.startswith(("t1_", "t3_")) or len(name) > 40:
        raise MalformedEvent("a thing without a fullname")
    if not isinstance(created, (int, float)) or isinstance(created, bool) or created <= 0:
        raise MalformedEvent("a thing without created_utc")
    if not isinstance(author, str) or not author:
        raise MalformedEvent("a thing without an author")
    permalink = data.get("permalink")
    url = (
        f"https://www.reddit.com{permalink}"
        if isinstance(permalink, str) and permalink.startswith("/")
        else ""
    )
    posted_at = datetime.fromtimestamp(float(created), tz=UTC)
    author_id = str(data.get("author_fullname") or author)[:255]
    crossposted = data.get("crosspost_parent")
    if isinstance(crossposted, str) and crossposted.startswith("t3_"):
        return float(created), name, Post(
            network=NETWORK, external_id=name, text="", posted_at=posted_at, author_id=author_id,
            kind="repost", repost_of=crossposted,
        )  # fmt: skip
    if thing["kind"] == "t1":
        parts, kind, link = [data.get("body")], "reply", ""
    else:
        parts, kind = [data.get("title"), data.get("selftext")], "post"
        target = data.get("url")
        link = canonical_link(target) if not data.get("is_self") and isinstance(target, str) else ""
        if "reddit.com" in link or "redd.it" in link:
            link = ""  # a link to Reddit itself (a gallery, another thread) is not an article
    if not all(isinstance(part, str) for part in parts):
        raise MalformedEvent("a thing without its text")
    # raw_json=1 gives the text unescaped; a stray entity or tag is still reduced to text.
    text = "\n\n".join(
        html_to_text(part) if "<" in part or "&" in part else part.strip() for part in parts if part
    )
    if len(text) > MAX_POST_CHARS:
        raise MalformedEvent(f"text longer than {MAX_POST_CHARS} characters")
    return (
        float(created),
        name,
        Post(
            network=NETWORK,
            external_id=name,
            text=text,
            posted_at=posted_at,
            author_id=author_id,
            author_handle=author[:255],
            url=url,
            kind=kind,
            link=link,
        ),
    )


def _cursor(created: float, name: str) -> str:
    return f"{int(created)}:{name}"


def _parse_cursor(cursor: str) -> tuple[float, str]:
    created, _, name = cursor.partition(":")
    return (float(created), name) if created.isdigit() else (0.0, "")


def listing_poll(*, source: Source) -> int:
    """Fetch what is newer than the cursor (paging back with `after` until it is reached) and store it.

    The cursor is the newest thing stored, as `created_utc:fullname`: a listing is newest first, and
    the time still finds the place when the cursor's own thing was deleted. Returns the posts read.
    """
    config = source.config or {}
    path, params = listing_path(source)
    since, seen_name = _parse_cursor(source.cursor)
    max_pages = int(config.get("max_pages", 5)) if source.cursor else 1
    headers: dict[str, str] = {}
    with client() as http:
        base = str(config.get("api_url") or "").rstrip("/")
        if _credentials(source) is not None:
            headers["Authorization"] = f"bearer {_token(source, http)}"
            base = base or OAUTH_API
        base = base or PUBLIC_API
        fresh: list[tuple[float, str, Post]] = []
        after = ""
        for _ in range(max_pages):
            query = {**params, "limit": str(PAGE), "raw_json": "1", **({"after": after} if after else {})}
            try:
                page = get_json(http, base + path, "the listing", params=query, headers=headers)
            except PeerError as error:
                if "HTTP 401" in str(error):
                    forget_token(source)  # expired or revoked: a new one next time
                raise
            data = page.get("data") if isinstance(page, dict) else None
            children = data.get("children") if isinstance(data, dict) else None
            if not isinstance(children, list):
                raise PeerError("the listing answered something that is not a Listing")
            reached = False
            for child in children:
                try:
                    created, name, post = parse_thing(child)
                except MalformedEvent as error:
                    logger.warning("%s: skipped a malformed thing: %s", source.slug, error)
                    continue
                if name == seen_name or created < since:
                    reached = True
                    break
                fresh.append((created, name, post))
            after = str(data.get("after") or "") if isinstance(data, dict) else ""
            if reached or not after or not children:
                break
    if fresh:
        newest = max(fresh, key=lambda item: item[0])
        mentions_ingest(
            posts=[post for _, _, post in reversed(fresh)],
            source=source,
            cursor=_cursor(newest[0], newest[1]),
        )
    return len(fresh)


def poll_once(source: Source, stop: threading.Event) -> float:
    listing_poll(source=source)
    return float((source.config or {}).get("poll_seconds", DEFAULT_POLL_SECONDS))


def run(source: Source, stop: threading.Event) -> None:
    run_with_backoff(source, stop, poll_once)
