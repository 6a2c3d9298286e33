"""Fixtures of the listening tests: monitors, sources and posts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from firstring.listening.matching import Post
from firstring.listening.models import Monitor, Source
from firstring.listening.services import monitor_create

T0 = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


@pytest.fixture
def monitor(db: None) -> Callable[..., Monitor]:
    def make(query: str = "acme OR @acme", name: str = "Acme", **fields: Any) -> Monitor:
        return monitor_create(actor=None, name=name, query=query, **fields)

    return make


@pytest.fixture
def bluesky_source(db: None) -> Source:
    # No AppView here: authors' reach comes from the posts (test_profiles.py asks a local one).
    return Source.objects.create(kind="bluesky", slug="bsky", name="Bluesky", config={"appview_url": ""})


def make_post(text: str, *, n: int = 0, seconds: float = 0, **fields: Any) -> Post:
    values: dict[str, Any] = {
        "network": "bluesky",
        "external_id": f"at://did:plc:author{n}/app.bsky.feed.post/{n}",
        "text": text,
        "posted_at": T0 + timedelta(seconds=seconds),
        "author_id": f"did:plc:author{n}",
        "author_handle": f"author{n}.bsky.social",
    }
    values.update(fields)
    return Post(**values)
