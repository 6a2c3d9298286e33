"""Answering mentions through the source's API (Mastodon, X), against local servers; the reply recorded."""

from __future__ import annotations

import json
from typing import Any

from django.test import Client

from firstring.conversations.models import Message
from firstring.conversations.services import reply_send
from firstring.conversations.services.outbox import deliver_message
from firstring.listening.models import Mention, Source
from firstring.listening.pipeline import mentions_ingest
from firstring.listening.sources.mastodon.statuses import parse_status
from firstring.listening.sources.x.tweets import parse_tweet
from firstring.listening.testing import build_brands, mastodon_statuses, social_items, x_tweet
from tests.http_peer import Recorded, http_peer
from tests.listening.conftest import T0, make_post
from tests.listening.social_peers import JSON

HOST = "social.example"


def _item() -> Any:
    brands, _ = build_brands(2, seed=11)
    return brands, social_items(brands=brands, count=1, start=T0, mention_rate=1.0, boost_rate=0)[0]


def _mastodon_mention(monitor: Any, url: str) -> tuple[Source, Mention]:
    brands, item = _item()
    monitor(brands[0].query + " OR " + brands[1].query)
    source = Source.objects.create(
        kind="mastodon", slug="brand", name="Brand", secrets={"access_token": "tok"},
        config={"instance": url, "timeline": "notifications"},
    )  # fmt: skip
    status = mastodon_statuses([item], host=HOST)[0]
    mentions_ingest(posts=[parse_status(status, instance_host=HOST)], source=source)
    return source, Mention.objects.get()


def _mastodon_peer(peer: Any, statuses: list[int]) -> None:
    def search(request: Recorded) -> tuple[int, dict[str, str], bytes]:
        return 200, JSON, json.dumps({"accounts": [], "hashtags": [], "statuses": [{"id": "777"}]}).encode()

    def post(request: Recorded) -> tuple[int, dict[str, str], bytes]:
        status = statuses.pop(0) if len(statuses) > 1 else statuses[0]
        if status == 422:
            return 422, JSON, b'{"error": "Validation failed: Text character limit of 500 exceeded"}'
        if status != 200:
            return status, JSON, b'{"error": "busy"}'
        return 200, JSON, json.dumps({"id": f"9{len(peer.requests)}", "visibility": "public"}).encode()

    peer.get_routes["/api/v2/search"] = search
    peer.post_routes["/api/v1/statuses"] = post


def test_a_mastodon_mention_is_answered_privately_then_publicly(
    monitor, api, admin_user, run_tasks, django_capture_on_commit_callbacks
):
    with http_peer() as peer:
        _mastodon_peer(peer, [200])
        _, mention = _mastodon_mention(monitor, peer.at(""))
        with django_capture_on_commit_callbacks(execute=True):
            response = api(
                "post",
                f"/listening/mentions/{mention.pk}/reply",
                json={"text": "Sorry! Sent you a DM.", "private": True},
            )
        assert response.status_code == 201, response.content
        run_tasks()
        mention.refresh_from_db()
        assert mention.status == "converted" and mention.conversation_id == response.json()["conversation_id"]
        private = Message.objects.get(pk=response.json()["message_id"])
        assert (private.delivery_status, private.external_id) == ("delivered", "92")
        search, posted = peer.requests
        assert search.query == {
            "q": [mention.external_id],
            "type": ["statuses"],
            "resolve": ["true"],
            "limit": ["1"],
        }
        assert posted.headers["Authorization"] == "Bearer tok"
        assert posted.headers["Idempotency-Key"] == f"firstring-message-{private.pk}"
        assert posted.json() == {
            "status": f"@{mention.author_handle} Sorry! Sent you a DM.", "in_reply_to_id": "777",
            "language": "en", "visibility": "direct",
        }  # fmt: skip

        # From the conversation page, a reply goes back the same way, in public.
        with django_capture_on_commit_callbacks(execute=True):
            public = reply_send(
                conversation=private.conversation, author=admin_user, text="Fixed now, thanks"
            )
        run_tasks()
    public.refresh_from_db()
    assert public.delivery_status == "delivered" and public.external_id
    assert peer.requests[-1].json()["visibility"] == "public"
    assert peer.requests[-1].json()["status"].endswith("Fixed now, thanks")


def test_refused_and_failing_replies_are_recorded(
    monitor, api, admin_user, run_tasks, django_capture_on_commit_callbacks
):
    with http_peer() as peer:
        _mastodon_peer(peer, [503, 422])
        _, mention = _mastodon_mention(monitor, peer.at(""))
        with django_capture_on_commit_callbacks(execute=True):
            response = api("post", f"/listening/mentions/{mention.pk}/reply", json={"text": "x" * 600})
        run_tasks()
        message = Message.objects.get(pk=response.json()["message_id"])
        # A busy server is retried later; a refusal fails the reply with the server's reason.
        assert (message.delivery_status, message.delivery_attempts) == ("queued", 1)
        assert "HTTP 503" in message.delivery_error
        Message.objects.filter(pk=message.pk).update(next_attempt_at=None)
        deliver_message.call(message.pk)
    message.refresh_from_db()
    assert message.delivery_status == "failed" and "character limit of 500" in message.delivery_error

    # Sources without a reply API are refused up front; bad bodies are 422s; unknown mentions 404s.
    bsky = Source.objects.create(kind="bluesky", slug="bsky", name="Bluesky", config={"appview_url": ""})
    mentions_ingest(posts=[make_post(mention.text, n=5)], source=bsky)
    other = Mention.objects.get(network="bluesky")
    response = api("post", f"/listening/mentions/{other.pk}/reply", json={"text": "hi"})
    assert response.status_code == 422 and "cannot be answered" in response.json()["detail"]
    assert api("post", f"/listening/mentions/{mention.pk}/reply", json={"text": ""}).status_code == 422
    assert api("post", "/listening/mentions/99999/reply", json={"text": "hi"}).status_code == 404


def test_an_x_mention_is_answered_with_a_reply_tweet_or_a_direct_message(
    monitor, api, run_tasks, django_capture_on_commit_callbacks
):
    brands, item = _item()
    monitor(brands[0].query + " OR " + brands[1].query)
    event = x_tweet(item)
    with http_peer() as peer:
        peer.post_routes["/2/tweets"] = lambda r: (201, JSON, b'{"data": {"id": "555", "text": "ok"}}')
        peer.post_routes[f"/2/dm_conversations/with/{event['data']['author_id']}/messages"] = lambda r: (
            201, JSON, b'{"data": {"dm_conversation_id": "1-2", "dm_event_id": "666"}}'
        )  # fmt: skip
        source = Source.objects.create(
            kind="x", slug="x", name="X", secrets={"bearer_token": "app", "user_access_token": "user-tok"},
            config={"stream": "mentions", "user_id": "42", "api_url": peer.at("")},
        )  # fmt: skip
        users = {u["id"]: u for u in event["includes"]["users"]}
        mentions_ingest(posts=[parse_tweet(event["data"], users)], source=source)
        mention = Mention.objects.get()
        ids = []
        for private in (False, True):
            with django_capture_on_commit_callbacks(execute=True):
                response = api(
                    "post",
                    f"/listening/mentions/{mention.pk}/reply",
                    json={"text": "We are on it", "private": private},
                )
            assert response.status_code == 201, response.content
            run_tasks()
            ids.append(Message.objects.get(pk=response.json()["message_id"]).external_id)
    assert ids == ["555", "666"]
    tweet, dm = peer.requests
    assert tweet.path == "/2/tweets" and tweet.headers["Authorization"] == "Bearer user-tok"
    assert tweet.json() == {"text": "We are on it", "reply": {"in_reply_to_tweet_id": event["data"]["id"]}}
    assert dm.json() == {"text": "We are on it"}
    assert Message.objects.filter(delivery_status="delivered").count() == 2


def test_the_inbox_offers_a_reply_where_the_source_has_one(
    monitor, agent, bluesky_source, run_tasks, django_capture_on_commit_callbacks
):
    client = Client()
    client.force_login(agent)
    with http_peer() as peer:
        _mastodon_peer(peer, [200])
        _, mention = _mastodon_mention(monitor, peer.at(""))
        mentions_ingest(posts=[make_post(mention.text, n=5)], source=bluesky_source)
        page = client.get("/listening/").content.decode()
        # One form, for the Mastodon mention; Bluesky has no reply API here.
        assert page.count('class="mention-reply"') == 1
        assert f"/listening/mentions/{mention.pk}/reply/" in page
        assert (
            client.post(f"/listening/mentions/{mention.pk}/reply/", {"visibility": "private"}).status_code
            == 422
        )
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                f"/listening/mentions/{mention.pk}/reply/",
                {"text": "Check your DMs", "visibility": "private"},
            )
        mention.refresh_from_db()
        assert (
            response.status_code == 302
            and response["Location"] == f"/conversations/{mention.conversation_id}/"
        )
        run_tasks()
    assert peer.requests[-1].json()["visibility"] == "direct"
    reply = Message.objects.get(conversation_id=mention.conversation_id, direction="outbound")
    assert reply.delivery_status == "delivered" and reply.author_user == agent
