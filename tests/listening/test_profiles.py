"""Authors' reach on Bluesky from a local AppView speaking app.bsky.actor.getProfiles."""

from __future__ import annotations

import json

from firstring.listening.models import Author, Mention, Source
from firstring.listening.pipeline import mentions_ingest
from tests.http_peer import Recorded, http_peer
from tests.listening.conftest import make_post


def test_matched_authors_get_their_handle_and_followers_once_a_day(monitor):
    monitor("acme")

    def get_profiles(request: Recorded) -> tuple[int, dict[str, str], bytes]:
        asked = request.query["actors"]
        profiles = [
            {
                "did": did,
                "handle": f"{did.rsplit(':', 1)[-1]}.bsky.social",
                "displayName": "Ann",
                "followersCount": 4200,
            }
            for did in asked
            if did != "did:plc:ghost"
        ]
        return 200, {"Content-Type": "application/json"}, json.dumps({"profiles": profiles}).encode()

    with http_peer() as peer:
        peer.get_routes["/xrpc/app.bsky.actor.getProfiles"] = get_profiles
        source = Source.objects.create(
            kind="bluesky", slug="bsky", name="Bluesky", config={"appview_url": peer.at("")}
        )
        posts = [
            make_post("acme broke", n=1, author_handle=""),
            make_post("acme again", n=2, author_handle="", author_id="did:plc:ghost"),
            make_post("no brand here", n=3, author_handle=""),
        ]
        mentions_ingest(posts=posts, source=source)
        [lookup] = peer.requests
        # Only the authors of matched posts are asked about.
        assert sorted(lookup.query["actors"]) == ["did:plc:author1", "did:plc:ghost"]
        found = Mention.objects.get(external_id=posts[0].external_id)
        assert (found.reach, found.author_handle) == (4200, "author1.bsky.social")
        assert Author.objects.get(external_id="did:plc:author1").name == "Ann"
        assert Mention.objects.get(external_id=posts[1].external_id).reach == 0

        # Known within a day: not asked again; the ghost, still unknown, is.
        again = [
            make_post("acme once more", n=1, external_id="at://x/9", author_handle=""),
            make_post(
                "acme ghosted", n=2, external_id="at://x/10", author_handle="", author_id="did:plc:ghost"
            ),
        ]
        mentions_ingest(posts=again, source=source)
        assert len(peer.requests) == 2
        assert peer.requests[-1].query["actors"] == ["did:plc:ghost"]

        # An AppView that fails does not keep mentions from being stored.
        peer.get_routes["/xrpc/app.bsky.actor.getProfiles"] = lambda h: (502, {}, b"")
        result = mentions_ingest(posts=[make_post("acme down", n=7, author_handle="")], source=source)
        assert result.stored == 1
