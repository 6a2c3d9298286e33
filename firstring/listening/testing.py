"""Replay firehoses for tests and `firstring bench listen`, written at run time from shared data.

A replay is a list of Jetstream events (the JSON Bluesky's Jetstream sends), in time order: real
customer-support tweets to 40 brands (`../shared/data/twcs_threads_dev.csv`) as posts that mention
them, mixed with unrelated chatter (TweetEval's general tweets when present, else generated
sentences), reposts and identity events. Brands beyond the 40 real ones get made-up names, and a
real support tweet is re-addressed to them. Nothing here is copied into the repository; without the
shared files the replay is generated text and says so.
"""

from __future__ import annotations

import csv
import json
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from html import escape as html_escape
from pathlib import Path
from typing import Any

from django.conf import settings

_SYLLABLES = ["zor", "vex", "qua", "tri", "lum", "nax", "bel", "dro", "kip", "sen", "mar", "fyn", "ora"]
_CHATTER_WORDS = [
    "the", "a", "my", "our", "we", "just", "went", "to", "see", "watch", "new", "old", "game", "music",
    "movie", "sunny", "rainy", "weekend", "coffee", "friends", "family", "today", "tomorrow", "tonight",
    "morning", "lovely", "awful", "great", "fun", "long", "walk", "park", "city", "train", "dinner",
    "cat", "dog", "book", "read", "write", "song", "love", "hate", "think", "feel", "really", "so",
    "very", "first", "last", "time", "again", "home", "work",
]  # fmt: skip


def shared_data() -> Path:
    return Path(settings.PROJECT_DIR).parent / "shared" / "data"


@dataclass(frozen=True)
class Brand:
    handle: str  # without "@", lower case
    query: str
    texts: tuple[str, ...]  # customer posts that mention it


@dataclass
class Replay:
    events: list[str]
    brands: list[Brand]
    start: datetime
    source: str  # where the text came from
    spike_start: datetime | None = None
    spike_brand: int | None = None
    # How many events of each kind were written.
    counts: dict[str, int] = field(default_factory=dict)


def _support_tweets() -> tuple[dict[str, list[str]], str]:
    path = shared_data() / "twcs_threads_dev.csv"
    by_brand: dict[str, list[str]] = {}
    if not path.is_file():
        return by_brand, "generated (twcs_threads_dev.csv not found)"
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    brands = {row["author_id"].lower() for row in rows if row["inbound"] == "False"}
    for row in rows:
        if row["inbound"] != "True":
            continue
        for word in row["text"].split():
            handle_name = word.lstrip("@").rstrip(".,:;!?").lower()
            if word.startswith("@") and handle_name in brands:
                by_brand.setdefault(handle_name, []).append(row["text"])
                break
    return by_brand, f"twcs:{path.name}"


def _chatter(rng: random.Random) -> tuple[list[str], str]:
    path = shared_data() / "tweeteval_sentiment" / "test_text.txt"
    if path.is_file():
        lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        if lines:
            return lines, f"tweeteval:{path.name}"
    return [
        " ".join(rng.choice(_CHATTER_WORDS) for _ in range(rng.randint(6, 24))).capitalize() + "."
        for _ in range(3000)
    ], "generated"


def _made_up_name(rng: random.Random, taken: set[str]) -> str:
    while True:
        name = "".join(rng.choice(_SYLLABLES) for _ in range(3))
        if name not in taken:
            taken.add(name)
            return name


def build_brands(count: int, seed: int = 1) -> tuple[list[Brand], str]:
    """`count` brands with monitor queries: the real support handles first, then made-up names."""
    rng = random.Random(seed)
    tweets, source = _support_tweets()
    pool = [text for texts in tweets.values() for text in texts] or [
        "my order never arrived and nobody answers", "thanks for the quick help today",
        "the app keeps crashing when I log in", "still waiting for my refund, this is ridiculous",
    ]  # fmt: skip
    brands: list[Brand] = []
    taken: set[str] = set()
    for handle_name, texts in sorted(tweets.items()):
        if len(brands) < count:
            brands.append(Brand(handle_name, f"@{handle_name}", tuple(texts)))
            taken.add(handle_name)
    while len(brands) < count:
        name = _made_up_name(rng, taken)
        texts = []
        for text in rng.sample(pool, min(40, len(pool))):
            words = [w for w in text.split() if not w.startswith("@")]
            texts.append(
                f"@{name} " + " ".join(words) if rng.random() < 0.5 else " ".join(words) + f" {name}"
            )
        query = f"{name} OR @{name} OR #{name}fail"
        if len(brands) % 5 == 0:
            query = f"({name} OR @{name}) -jobs"
        brands.append(Brand(name, query, tuple(texts)))
    return brands, source


def _iso(time_us: int) -> str:
    return datetime.fromtimestamp(time_us / 1e6, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def jetstream_post(*, did: str, rkey: str, time_us: int, text: str, lang: str = "en", **record: Any) -> str:
    created = _iso(time_us)
    body = {"$type": "app.bsky.feed.post", "createdAt": created, "langs": [lang], "text": text, **record}
    event = {
        "did": did,
        "time_us": time_us,
        "kind": "commit",
        "commit": {
            "rev": f"3l{rkey}", "operation": "create", "collection": "app.bsky.feed.post", "rkey": rkey,
            "record": body, "cid": f"bafyrei{rkey}",
        },
    }  # fmt: skip
    return json.dumps(event, separators=(",", ":"))


def jetstream_repost(*, did: str, rkey: str, time_us: int, subject_uri: str) -> str:
    event = {
        "did": did,
        "time_us": time_us,
        "kind": "commit",
        "commit": {
            "rev": f"3l{rkey}", "operation": "create", "collection": "app.bsky.feed.repost", "rkey": rkey,
            "record": {"$type": "app.bsky.feed.repost", "subject": {"uri": subject_uri, "cid": "bafyrei"},
                       "createdAt": _iso(time_us)},
            "cid": f"bafyrei{rkey}",
        },
    }  # fmt: skip
    return json.dumps(event, separators=(",", ":"))


def jetstream_identity(*, did: str, handle: str, time_us: int) -> str:
    event = {
        "did": did, "time_us": time_us, "kind": "identity",
        "identity": {"did": did, "handle": handle, "seq": time_us // 1000, "time": "2026-11-24T12:00:00Z"},
    }  # fmt: skip
    return json.dumps(event, separators=(",", ":"))


def build_replay(
    *,
    events: int,
    brands: Sequence[Brand],
    start: datetime,
    minutes: float,
    mention_rate: float = 0.04,
    seed: int = 1,
    spike_brand: int | None = None,
    spike_at_minute: float = 0.0,
    spike_per_minute: float = 0.0,
    spike_minutes: float = 10.0,
    negative_texts: Sequence[str] = (),
    malformed_rate: float = 0.0,
) -> Replay:
    """A firehose of `events` Jetstream events over `minutes` of time from `start`.

    `mention_rate` of the posts mention one of the brands (chosen with a long tail: a few brands get
    most mentions, as in life); the rest is chatter. With `spike_brand`, that brand also gets
    `spike_per_minute` extra posts from `negative_texts` for `spike_minutes` from `spike_at_minute`.
    """
    rng = random.Random(seed)
    chatter, chatter_source = _chatter(rng)
    weights = [1 / (rank + 1) ** 0.8 for rank in range(len(brands))]
    start_us = int(start.timestamp() * 1_000_000)
    step = minutes * 60_000_000 / max(events, 1)
    spike_from = start_us + int(spike_at_minute * 60_000_000)
    spike_to = spike_from + int(spike_minutes * 60_000_000)
    spike_every = 60_000_000 / spike_per_minute if spike_per_minute else None
    next_spike = spike_from
    counts = {"chatter": 0, "mention": 0, "repost": 0, "identity": 0, "spike": 0, "malformed": 0}
    out: list[str] = []
    recent: list[str] = []
    users = max(1000, events // 20)
    for index in range(events):
        time_us = start_us + int(index * step)
        while spike_every is not None and spike_brand is not None and next_spike <= min(time_us, spike_to):
            text = rng.choice(negative_texts)
            words = [w for w in text.split() if not w.startswith("@")]
            author = rng.randrange(users)
            out.append(
                jetstream_post(
                    did=f"did:plc:user{author}", rkey=f"s{len(out)}", time_us=int(next_spike),
                    text=f"@{brands[spike_brand].handle} " + " ".join(words),
                )
            )  # fmt: skip
            counts["spike"] += 1
            next_spike += int(spike_every)
        author = rng.randrange(users)
        did = f"did:plc:user{author}"
        roll = rng.random()
        if roll < malformed_rate:
            out.append(rng.choice(['{"kind":"commit"', "[]", '{"did":"x","time_us":"soon"}', "\x00\xff"]))
            counts["malformed"] += 1
        elif roll < 0.01 + malformed_rate:
            out.append(jetstream_identity(did=did, handle=f"user{author}.bsky.social", time_us=time_us))
            counts["identity"] += 1
        elif roll < 0.03 + malformed_rate and recent:
            out.append(
                jetstream_repost(
                    did=did, rkey=f"r{index}", time_us=time_us, subject_uri=rng.choice(recent[-500:])
                )
            )
            counts["repost"] += 1
        elif rng.random() < mention_rate:
            brand = rng.choices(range(len(brands)), weights)[0]
            text = rng.choice(brands[brand].texts)
            rkey = f"m{index}"
            out.append(jetstream_post(did=did, rkey=rkey, time_us=time_us, text=text))
            recent.append(f"at://{did}/app.bsky.feed.post/{rkey}")
            counts["mention"] += 1
        else:
            out.append(jetstream_post(did=did, rkey=f"c{index}", time_us=time_us, text=rng.choice(chatter)))
            counts["chatter"] += 1
    _, text_source = _support_tweets()
    return Replay(
        events=out,
        brands=list(brands),
        start=start,
        source=f"{text_source} + {chatter_source}",
        spike_start=datetime.fromtimestamp(spike_from / 1e6, tz=start.tzinfo) if spike_every else None,
        spike_brand=spike_brand,
        counts=counts,
    )


@dataclass(frozen=True)
class FeedItem:
    title: str
    link: str
    summary: str
    published: datetime
    author: str = ""


def feed_items(*, brands: Sequence[Brand], count: int, start: datetime, seed: int = 1) -> list[FeedItem]:
    """Blog and news items: a third quote a support tweet about a brand, the rest is chatter."""
    rng = random.Random(seed)
    chatter, _ = _chatter(rng)
    items = []
    for index in range(count):
        if index % 3 == 0:
            brand = brands[index % len(brands)]
            body = rng.choice(brand.texts)
            title = f"Readers write about {brand.handle}"
        else:
            body = rng.choice(chatter)
            title = f"Notes from the week, part {index}"
        items.append(
            FeedItem(
                title=title,
                link=f"https://blog.example/posts/{index}?utm_source=feed",
                summary=f"<p>{html_escape(body)}</p>",
                published=start.replace(microsecond=0) + timedelta(minutes=index),
                author=f"Writer {index % 4}",
            )
        )
    return items


def rss_feed(items: Sequence[FeedItem], *, title: str = "Example blog") -> bytes:
    """An RSS 2.0 document, as a blog serves it."""
    entries = "".join(
        f"<item><title>{html_escape(i.title)}</title><link>{html_escape(i.link)}</link>"
        f"<guid isPermaLink='false'>{html_escape(i.link)}#guid</guid>"
        f"<pubDate>{format_datetime(i.published, usegmt=True)}</pubDate>"
        f"<author>{html_escape(i.author)}</author>"
        f"<description>{html_escape(i.summary)}</description></item>"
        for i in items
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
        f"<title>{html_escape(title)}</title><link>https://blog.example/</link><language>en</language>"
        f"<description>Posts</description>{entries}</channel></rss>"
    ).encode()


def atom_feed(items: Sequence[FeedItem], *, title: str = "Example news") -> bytes:
    """An Atom 1.0 document, as a news site serves it."""
    entries = "".join(
        f"<entry><title>{html_escape(i.title)}</title><link href='{html_escape(i.link)}'/>"
        f"<id>tag:news.example,2026:{html_escape(i.link)}</id>"
        f"<updated>{i.published.strftime('%Y-%m-%dT%H:%M:%SZ')}</updated>"
        f"<author><name>{html_escape(i.author)}</name></author>"
        f"<summary type='html'>{html_escape(i.summary)}</summary></entry>"
        for i in items
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        f"<title>{html_escape(title)}</title><id>tag:news.example,2026:feed</id>"
        f"<updated>2026-11-24T12:00:00Z</updated>{entries}</feed>"
    ).encode()


@dataclass(frozen=True)
class SocialItem:
    """One post of a replayed social stream, before it is written in a network's wire format."""

    number: int
    author: int
    posted_at: datetime
    text: str
    brand: int | None  # the brand it mentions, for the posts taken from support tweets
    boost_of: int | None = None  # a repost (boost, retweet) of an earlier item's number
    reply_to: int | None = None


def social_items(
    *,
    brands: Sequence[Brand],
    count: int,
    start: datetime,
    minutes: float = 10,
    mention_rate: float = 0.3,
    boost_rate: float = 0.05,
    seed: int = 1,
) -> list[SocialItem]:
    """Posts like `build_replay`'s: real support tweets to the brands amid chatter, and reposts."""
    rng = random.Random(seed)
    chatter, _ = _chatter(rng)
    weights = [1 / (rank + 1) ** 0.8 for rank in range(len(brands))]
    step = timedelta(seconds=minutes * 60 / max(count, 1))
    items: list[SocialItem] = []
    mentions: list[int] = []
    for number in range(count):
        author = rng.randrange(max(50, count // 4))
        at = start + number * step
        roll = rng.random()
        if roll < boost_rate and mentions:
            items.append(SocialItem(number, author, at, "", None, boost_of=rng.choice(mentions)))
        elif roll < boost_rate + mention_rate:
            brand = rng.choices(range(len(brands)), weights)[0]
            reply_to = rng.choice(mentions) if mentions and rng.random() < 0.2 else None
            items.append(
                SocialItem(number, author, at, rng.choice(brands[brand].texts), brand, reply_to=reply_to)
            )
            mentions.append(number)
        else:
            items.append(SocialItem(number, author, at, rng.choice(chatter), None))
    return items


def _zulu(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


MASTODON_ID_BASE = 110_000_000_000_000_000


def mastodon_status(
    item: SocialItem, *, host: str = "social.example", boosted: SocialItem | None = None
) -> dict[str, Any]:
    """A Status entity as Mastodon's REST and streaming APIs send it (content is HTML); a boost carries
    the `boosted` item's status."""
    id_base = MASTODON_ID_BASE
    author = f"user{item.author}"
    local = item.author % 3 != 0  # a third of the authors are on another instance
    acct = author if local else f"{author}@elsewhere.example"
    account = {
        "id": str(100 + item.author), "username": author, "acct": acct,
        "display_name": f"User {item.author}", "followers_count": 10 * item.author,
        "url": f"https://{host if local else 'elsewhere.example'}/@{author}",
    }  # fmt: skip
    status_id = str(id_base + item.number)
    uri = f"https://{host if local else 'elsewhere.example'}/users/{author}/statuses/{status_id}"
    status: dict[str, Any] = {
        "id": status_id, "uri": uri, "url": uri.replace("/users/", "/@").replace("/statuses/", "/"),
        "created_at": _zulu(item.posted_at), "account": account, "language": "en", "visibility": "public",
        "in_reply_to_id": str(id_base + item.reply_to) if item.reply_to is not None else None,
        "spoiler_text": "", "reblog": None,
        "content": "<p>" + html_escape(item.text).replace("\n", "<br />") + "</p>",
    }  # fmt: skip
    if boosted is not None:
        status.update(content="", reblog=mastodon_status(boosted, host=host))
    return status


def mastodon_statuses(items: Sequence[SocialItem], *, host: str = "social.example") -> list[dict[str, Any]]:
    by_number = {item.number: item for item in items}
    return [
        mastodon_status(
            item, host=host, boosted=by_number.get(item.boost_of) if item.boost_of is not None else None
        )
        for item in items
    ]


def reddit_things(items: Sequence[SocialItem], *, subreddit: str = "acme") -> list[dict[str, Any]]:
    """Listing children as Reddit's JSON gives them (raw_json=1): submissions, comments on the
    replies, crossposts for the reposts; newest first, as a listing is."""
    things = []
    for item in items:
        author = f"user{item.author}"
        base = {
            "author": author, "author_fullname": f"t2_{item.author:x}", "subreddit": subreddit,
            "created_utc": item.posted_at.timestamp(), "score": 1,
        }  # fmt: skip
        fullname = f"t3_{item.number:x}"
        if item.reply_to is not None:
            fullname = f"t1_{item.number:x}"
            data = {**base, "body": item.text, "link_id": f"t3_{item.reply_to:x}",
                    "permalink": f"/r/{subreddit}/comments/{item.reply_to:x}/_/{item.number:x}/"}  # fmt: skip
        elif item.boost_of is not None:
            data = {**base, "title": "crosspost", "selftext": "", "is_self": False,
                    "url": f"https://www.reddit.com/r/{subreddit}/comments/{item.boost_of:x}/",
                    "crosspost_parent": f"t3_{item.boost_of:x}",
                    "permalink": f"/r/other/comments/{item.number:x}/x/"}  # fmt: skip
        else:
            title, _, rest = item.text.partition(". ")
            data = {**base, "title": title[:300], "selftext": rest, "is_self": True,
                    "url": f"https://www.reddit.com/r/{subreddit}/comments/{item.number:x}/x/",
                    "permalink": f"/r/{subreddit}/comments/{item.number:x}/x/"}  # fmt: skip
        data.update(name=fullname, id=fullname[3:])
        things.append({"kind": fullname[:2], "data": data})
    return list(reversed(things))


X_ID_BASE = 1_860_000_000_000_000_000


def x_tweet(item: SocialItem) -> dict[str, Any]:
    """A filtered-stream event as X's API v2 sends it: the tweet, its author in `includes`, the rules."""
    tweet: dict[str, Any] = {
        "id": str(X_ID_BASE + item.number), "text": item.text, "author_id": str(1000 + item.author),
        "created_at": _zulu(item.posted_at), "lang": "en",
        "edit_history_tweet_ids": [str(X_ID_BASE + item.number)],
    }  # fmt: skip
    if item.boost_of is not None:
        tweet["text"] = "RT @someone: …"
        tweet["referenced_tweets"] = [{"type": "retweeted", "id": str(X_ID_BASE + item.boost_of)}]
    elif item.reply_to is not None:
        tweet["referenced_tweets"] = [{"type": "replied_to", "id": str(X_ID_BASE + item.reply_to)}]
    user = {
        "id": str(1000 + item.author), "username": f"user{item.author}", "name": f"User {item.author}",
        "public_metrics": {"followers_count": 7 * item.author, "following_count": 3, "tweet_count": 40},
    }  # fmt: skip
    return {"data": tweet, "includes": {"users": [user]}, "matching_rules": [{"id": "1", "tag": "brands"}]}
