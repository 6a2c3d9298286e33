"""Authors' handles and followers from a Bluesky AppView (`app.bsky.actor.getProfiles`, 25 at a time).

Jetstream's posts carry only the author's DID; the reach of a mention is its author's followers.
`Source.config["appview_url"]` (default `https://public.api.bsky.app`, the public AppView, no key
needed; empty to turn the lookups off).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import httpx

from firstring.listening.models import Source
from firstring.listening.sources import Profile

logger = logging.getLogger(__name__)

DEFAULT_APPVIEW = "https://public.api.bsky.app"
PER_REQUEST = 25
TIMEOUT_SECONDS = 5


def profiles(source: Source, dids: Sequence[str]) -> dict[str, Profile]:
    base = str((source.config or {}).get("appview_url", DEFAULT_APPVIEW)).rstrip("/")
    if not base:
        return {}
    found: dict[str, Profile] = {}
    with httpx.Client(timeout=TIMEOUT_SECONDS) as client:
        for start in range(0, len(dids), PER_REQUEST):
            chunk = list(dids[start : start + PER_REQUEST])
            response = client.get(
                f"{base}/xrpc/app.bsky.actor.getProfiles", params=[("actors", did) for did in chunk]
            )
            if response.status_code != 200:
                logger.warning("%s: getProfiles answered HTTP %s", source.slug, response.status_code)
                break
            payload = response.json()
            for item in payload.get("profiles", []) if isinstance(payload, dict) else []:
                if not isinstance(item, dict) or not isinstance(item.get("did"), str):
                    continue
                followers = item.get("followersCount")
                found[item["did"]] = Profile(
                    handle=str(item.get("handle") or "")[:255],
                    name=str(item.get("displayName") or "")[:200],
                    followers=followers if isinstance(followers, int) and followers >= 0 else None,
                )
    return found
