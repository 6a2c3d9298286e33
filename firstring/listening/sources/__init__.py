"""Source kinds: each a plug-in package `listening/sources/<kind>/` that registers itself here.

A kind knows how to read its peer (a websocket firehose, a feed, a streaming or polled HTTP API) and
turns what it reads into `listening.matching.Post`s handed to `listening.pipeline.mentions_ingest` with
the cursor that follows them. `firstring listen` runs every enabled `Source` row with its kind's `run`.
A kind whose network lets a brand answer in public or in private also has a `reply`: the replies to
conversations started from its mentions go out through it (`listening.replies`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from firstring.listening.models import Mention, Source


class MalformedEvent(ValueError):
    """What a peer sent is not an event of its documented format (skipped with a log entry)."""


class Replier(Protocol):
    """Answers `mention` through the source's API, in public or privately; returns the reply's id there.

    `key` is the same for every attempt of one reply (an idempotency key where the API takes one).
    Raises `channels.registry.DeliveryError` (permanent when retrying cannot help).
    """

    def __call__(self, *, source: Source, mention: Mention, text: str, private: bool, key: str) -> str: ...


@dataclass(frozen=True)
class SourceKind:
    kind: str
    label: str
    # The network whose handles the authors have (customers' identities use it): "bluesky", "web" …
    network: str
    # Runs the source until `stop` is set: reads, hands batches to the pipeline, retries with backoff.
    run: Callable[[Source, threading.Event], None]
    help: str = ""
    # Looks up authors the posts do not describe fully (Jetstream carries only a DID): author ids in,
    # profiles out. Called for the authors of matched posts whose reach is unknown or a day old.
    profiles: Callable[[Source, Sequence[str]], dict[str, Profile]] | None = None
    # Answers a mention through the network's API (None: the network has no way to answer here).
    reply: Replier | None = None


@dataclass(frozen=True)
class Profile:
    handle: str
    name: str
    followers: int | None


_KINDS: dict[str, SourceKind] = {}


def register(kind: SourceKind) -> None:
    _KINDS[kind.kind] = kind


def get_kind(kind: str) -> SourceKind | None:
    _load()
    return _KINDS.get(kind)


def all_kinds() -> list[SourceKind]:
    _load()
    return sorted(_KINDS.values(), key=lambda k: k.kind)


def _load() -> None:
    # The shipped kinds register on import; imported lazily so that models can load without them.
    from firstring.listening.sources import bluesky, mastodon, reddit, rss, x  # noqa: F401
