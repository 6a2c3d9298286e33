"""X's API v2: the filtered stream and a user's mentions read into posts; replies and direct messages."""

from __future__ import annotations

import json
import logging
import threading
from datetime import datetime
from typing import Any

from firstring.channels.registry import DeliveryError
from firstring.listening.matching import Post
from firstring.listening.models import Mention, Source
from firstring.listening.pipeline import MAX_POST_CHARS, mentions_ingest
from firstring.listening.sources import MalformedEvent
from firstring.listening.sources.http import (
    OVERSIZED,
    Batcher,
    PeerError,
    check,
    client,
    get_json,
    id_after,
    lines,
    request_for_reply,
    run_with_backoff,
)

logger = logging.getLogger(__name__)

NETWORK = "x"
DEFAULT_API = "https://api.x.com"
DEFAULT_POLL_SECONDS = 60
# What every read asks for besides a tweet's id and text.
FIELDS = {
    "tweet.fields": "created_at,lang,author_id,referenced_tweets,conversation_id",
    "expansions": "author_id",
    "user.fields": "username,name,public_metrics",
}


def _api(source: Source) -> str:
    return str((source.config or {}).get("api_url") or DEFAULT_API).rstrip("/")


def _bearer(source: Source, name: str = "bearer_token") -> dict[str, str]:
    token = str((source.secrets or {}).get(name) or "")
    if not token:
        raise PeerError(f"the source has no {name} in its secrets")
    return {"Authorization": f"Bearer {token}"}


def _users(includes: Any) -> dict[str, dict[str, Any]]:
    users = includes.get("users") if isinstance(includes, dict) else None
    return {
        user["id"]: user for user in users or [] if isinstance(user, dict) and isinstance(user.get("id"), str)
    }


def parse_tweet(tweet: Any, users: dict[str, dict[str, Any]]) -> Post:
    """A Tweet object (with its author from `includes.users`) as a post. Raises MalformedEvent."""
    if not isinstance(tweet, dict):
        raise MalformedEvent("a tweet is not a JSON object")
    tweet_id, text, author_id = tweet.get("id"), tweet.get("text"), tweet.get("author_id")
    if not isinstance(tweet_id, str) or not tweet_id.isdigit() or len(tweet_id) > 30:
        raise MalformedEvent("tweet without a numeric id")
    if not isinstance(text, str):
        raise MalformedEvent("tweet without text")
    if len(text) > MAX_POST_CHARS:
        raise MalformedEvent(f"tweet text longer than {MAX_POST_CHARS} characters")
    if not isinstance(author_id, str) or not author_id.isdigit():
        raise MalformedEvent("tweet without an author_id")
    created = tweet.get("created_at")
    try:
        posted_at = datetime.fromisoformat(str(created).replace("Z", "+00:00"))
    except ValueError:
        raise MalformedEvent("tweet without a created_at time") from None
    if posted_at.tzinfo is None:
        raise MalformedEvent("created_at without a time zone")
    referenced = {
        str(ref.get("type")): str(ref.get("id"))
        for ref in tweet.get("referenced_tweets") or []
        if isinstance(ref, dict)
    }
    if "retweeted" in referenced:
        return Post(
            network=NETWORK, external_id=tweet_id, text="", posted_at=posted_at, author_id=author_id,
            kind="repost", repost_of=referenced["retweeted"][:500],
        )  # fmt: skip
    user = users.get(author_id, {})
    username = str(user.get("username") or "")[:255]
    metrics = user.get("public_metrics")
    followers = metrics.get("followers_count") if isinstance(metrics, dict) else None
    language = tweet.get("lang")
    return Post(
        network=NETWORK,
        external_id=tweet_id,
        text=text,
        posted_at=posted_at,
        author_id=author_id,
        author_handle=username,
        author_name=str(user.get("name") or "")[:200],
        followers=followers if isinstance(followers, int) and not isinstance(followers, bool) else None,
        url=f"https://x.com/{username or 'i/web'}/status/{tweet_id}",
        language=language if isinstance(language, str) and language != "und" else "",
        kind="reply" if "replied_to" in referenced else "quote" if "quoted" in referenced else "post",
    )


def parse_line(raw: bytes) -> Post | None:
    """One line of the filtered stream: a post, or None for a keep-alive. Raises MalformedEvent."""
    if raw is OVERSIZED or raw == OVERSIZED:
        raise MalformedEvent("an event larger than the limit")
    if not raw.strip():
        return None
    try:
        event = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as error:
        raise MalformedEvent(f"not JSON: {error}") from None
    if not isinstance(event, dict):
        raise MalformedEvent("not a JSON object")
    if "data" not in event and "errors" in event:
        # An operational message (the stream is about to close, a rule failed): logged, not a tweet.
        logger.warning("X stream says: %s", json.dumps(event["errors"])[:500])
        return None
    return parse_tweet(event.get("data"), _users(event.get("includes")))


def stream_once(source: Source, stop: threading.Event) -> float:
    """One connection to the filtered stream; the rules are kept on X (`POST …/stream/rules`)."""
    config = source.config or {}
    params = dict(FIELDS)
    if config.get("backfill_minutes"):
        params["backfill_minutes"] = str(min(5, max(1, int(config["backfill_minutes"]))))
    batcher = Batcher(
        source, size=int(config.get("batch_size", 200)), seconds=float(config.get("batch_seconds", 1.0))
    )
    events = 0
    # X sends a keep-alive every 20 seconds: a longer silence is a stalled connection.
    with client(read_timeout=float(config.get("read_timeout", 30.0))) as http, http.stream(
        "GET", f"{_api(source)}/2/tweets/search/stream", params=params, headers=_bearer(source)
    ) as response:  # fmt: skip
        check(response, "the filtered stream")
        logger.info("%s: connected to %s", source.slug, response.url)
        try:
            for raw in lines(response):
                if stop.is_set():
                    break
                try:
                    post = parse_line(raw)
                except MalformedEvent as error:
                    events += 1
                    logger.warning("%s: skipped a malformed event: %s", source.slug, error)
                    continue
                if post is None:
                    batcher.tick()
                    continue
                events += 1
                newest = batcher.cursor if batcher.cursor is not None else source.cursor
                batcher.add(post, cursor=post.external_id if id_after(post.external_id, newest) else None)
        finally:
            batcher.flush()
    if stop.is_set():
        return 0.0
    raise PeerError("the stream ended", connected=events > 0)


def mentions_poll(*, source: Source) -> int:
    """Read the user's mentions newer than the cursor (`since_id`), page by page, and store them."""
    config = source.config or {}
    user_id = str(config.get("user_id") or "")
    if not user_id.isdigit():
        raise PeerError("the mentions source needs the brand account's numeric user_id in its config")
    params: dict[str, str] = {**FIELDS, "max_results": "100"}
    if source.cursor:
        params["since_id"] = source.cursor
    posts: list[Post] = []
    newest = ""
    with client() as http:
        for _ in range(int(config.get("max_pages", 5)) if source.cursor else 1):
            page = get_json(
                http, f"{_api(source)}/2/users/{user_id}/mentions", "the mentions API", params=params,
                headers=_bearer(source),
            )  # fmt: skip
            if not isinstance(page, dict):
                raise PeerError("the mentions API answered something that is not an object")
            meta = page.get("meta")
            meta = meta if isinstance(meta, dict) else {}
            # The newest id X says it sent moves the cursor past a malformed tweet too.
            said = meta.get("newest_id")
            if isinstance(said, str) and said.isdigit() and id_after(said, newest):
                newest = said
            users = _users(page.get("includes"))
            for tweet in page.get("data") or []:
                try:
                    post = parse_tweet(tweet, users)
                except MalformedEvent as error:
                    logger.warning("%s: skipped a malformed tweet: %s", source.slug, error)
                    continue
                posts.append(post)
                if id_after(post.external_id, newest):
                    newest = post.external_id
            token = meta.get("next_token")
            if not isinstance(token, str) or not token:
                break
            params["pagination_token"] = token
    if newest and id_after(newest, source.cursor):
        # Oldest first; the cursor (the next since_id) is saved with them.
        mentions_ingest(posts=list(reversed(posts)), source=source, cursor=newest)
    return len(posts)


def mentions_once(source: Source, stop: threading.Event) -> float:
    mentions_poll(source=source)
    return float((source.config or {}).get("poll_seconds", DEFAULT_POLL_SECONDS))


def run(source: Source, stop: threading.Event) -> None:
    mentions = str((source.config or {}).get("stream") or "filtered") == "mentions"
    run_with_backoff(source, stop, mentions_once if mentions else stream_once)


def reply(*, source: Source, mention: Mention, text: str, private: bool, key: str) -> str:
    """In public, a tweet in reply (`POST /2/tweets`); in private, a direct message to the author.

    Both need a user-context token of the brand's account (`user_access_token`); X takes no
    idempotency key, so `key` is unused.
    """
    token = str((source.secrets or {}).get("user_access_token") or "")
    if not token:
        raise DeliveryError(f"source {source.slug} has no user_access_token to post with", permanent=True)
    headers = {"Authorization": f"Bearer {token}"}
    with client() as http:
        if private:
            author = mention.author.external_id if mention.author else ""
            if not author.isdigit():
                raise DeliveryError("the mention's author has no X user id to message", permanent=True)
            created = request_for_reply(
                http, "POST", f"{_api(source)}/2/dm_conversations/with/{author}/messages",
                "the direct messages API", headers=headers, json={"text": text},
            )  # fmt: skip
            data = created.get("data") if isinstance(created, dict) else None
            answer_id = data.get("dm_event_id") if isinstance(data, dict) else None
        else:
            created = request_for_reply(
                http, "POST", f"{_api(source)}/2/tweets", "the tweets API", headers=headers,
                json={"text": text, "reply": {"in_reply_to_tweet_id": mention.external_id}},
            )  # fmt: skip
            data = created.get("data") if isinstance(created, dict) else None
            answer_id = data.get("id") if isinstance(data, dict) else None
    if not isinstance(answer_id, str) or not answer_id:
        raise DeliveryError("X did not say what it created")
    return answer_id
