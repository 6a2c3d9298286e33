"""Suggestions in the chat widget: live public articles and community threads of the help center that
offers the chat, from the same search; CORS for the chat's sites, rate-limited, opens counted."""

from __future__ import annotations

import os
from urllib.parse import urlsplit

import httpx
import pytest
from django.core.cache import cache
from django.test import Client

from firstring.bench._serve import served
from firstring.channels.models import Channel
from firstring.channels.webchat import views
from firstring.community.services import thread_create
from firstring.knowledge.models import Article, SuggestionOpen
from firstring.knowledge.services import article_create, translation_save
from tests.community.conftest import make_member
from tests.conftest import require_service

SITE = "https://shop.example.test"


@pytest.fixture(autouse=True)
def _fresh_rate() -> None:
    cache.clear()


@pytest.fixture
def chat(help_center, support_team) -> Channel:
    channel = Channel.objects.create(
        kind="chat", slug="shop-chat", name="Shop chat", team=support_team, config={"allowed_origins": [SITE]}
    )
    help_center.contact_channels.add(channel)
    return channel


def _suggest(q: str, origin: str = SITE, slug: str = "shop-chat", **extra):
    return Client().post(f"/channels/webchat/{slug}/suggest", {"q": q}, HTTP_ORIGIN=origin, **extra)


def test_a_visitor_gets_public_articles_and_threads_never_drafts_or_internal_ones(
    chat, help_center, publish, manager, section
):
    refund = publish("Get a refund", "Refunds arrive within five days. Ask in your account.")
    publish(
        "Refund override codes", "Agents use code 1234 for refunds.", visibility=Article.Visibility.INTERNAL
    )
    article_create(actor=manager, section=section, language="en", title="Refund secrets", body="refund soon")
    changed = publish("Refund windows", "Thirty days.")
    translation_save(actor=manager, translation=changed, title="Refund windows", body="Draft: refund forever")
    thread_create(
        help_center=help_center,
        author=make_member("alice@example.com", "Alice"),
        title="Refund for a double charge",
        body="I was charged twice, how do I get a refund?",
        language="en",
    )

    response = _suggest("How do I get a refund for my order?")
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == SITE and "Origin" in response["Vary"]
    items = response.json()["items"]
    articles = [i for i in items if i["kind"] == "article"]
    assert {a["title"] for a in articles} == {"Get a refund", "Refund windows"}
    first = next(a for a in articles if a["title"] == "Get a refund")
    assert first["id"] == refund.pk
    assert first["url"] == f"http://testserver/help/en/articles/{refund.article_id}-get-a-refund/"
    assert first["snippet"].startswith("Refunds arrive within five days.")
    threads = [i for i in items if i["kind"] == "thread"]
    assert [t["title"] for t in threads] == ["Refund for a double charge"]
    text = response.content.decode()
    for secret in ("1234", "override", "secrets", "forever"):
        assert secret not in text
    assert len(articles) <= 3


def test_cors_origin_channel_and_bad_input(chat, publish):
    publish("Get a refund", "Refunds arrive within five days.")
    preflight = Client().options("/channels/webchat/shop-chat/suggest", HTTP_ORIGIN=SITE)
    assert preflight.status_code == 204 and preflight["Access-Control-Allow-Origin"] == SITE
    assert _suggest("refund please", origin="https://evil.example").status_code == 403
    assert _suggest("refund please", origin="").status_code == 403
    assert _suggest("refund please", slug="nope").status_code == 404
    assert Client().get("/channels/webchat/shop-chat/suggest", HTTP_ORIGIN=SITE).status_code == 405
    too_long = _suggest("refund " * 200)
    assert too_long.status_code == 422 and too_long["Access-Control-Allow-Origin"] == SITE
    assert _suggest("").json() == {"items": []}
    assert _suggest("\x00<script>").json() == {"items": []}


def test_a_chat_no_help_center_offers_suggests_nothing(support_team, publish):
    Channel.objects.create(
        kind="chat", slug="lonely", name="Lonely", team=support_team, config={"allowed_origins": [SITE]}
    )
    publish("Get a refund", "Refunds arrive within five days.")
    assert _suggest("refund please", slug="lonely").json() == {"items": []}


def test_suggestions_are_rate_limited_per_address(chat, publish):
    publish("Get a refund", "Refunds arrive within five days.")
    for _ in range(views.SUGGEST_PER_MINUTE):
        assert _suggest("refund please").status_code == 200
    limited = _suggest("refund please")
    assert limited.status_code == 429 and limited["Access-Control-Allow-Origin"] == SITE
    assert _suggest("refund please", REMOTE_ADDR="10.0.0.9").status_code == 200


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_with_the_redis_cache_two_web_processes_share_one_rate_limit(chat, publish, settings):
    parts = urlsplit(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
    require_service("Redis", parts.hostname or "127.0.0.1", parts.port or 6379)
    import redis

    # A database of its own on the Redis server (the worker tests use 10 to 15).
    url = f"{parts.scheme}://{parts.netloc}/9"
    redis.Redis.from_url(url).flushdb()
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": url,
            "KEY_PREFIX": "firstring",
        }
    }
    publish("Get a refund", "Refunds arrive within five days.")
    try:
        # Another web process, configured as docs/deploy.md says, spends this address's minute ...
        with served("suggest-rate", env={"FIRSTRING_CACHE": "redis", "REDIS_URL": url}) as base:
            for _ in range(views.SUGGEST_PER_MINUTE):
                answer = httpx.post(
                    f"{base}/channels/webchat/shop-chat/suggest",
                    data={"q": "refund please"},
                    headers={"Origin": SITE},
                    timeout=10,
                )
                assert answer.status_code == 200 and answer.json()["items"]
        # ... and this process, the test client's, refuses the next request from it.
        assert _suggest("refund please", REMOTE_ADDR="127.0.0.1").status_code == 429
        assert _suggest("refund please", REMOTE_ADDR="10.0.0.9").status_code == 200
    finally:
        redis.Redis.from_url(url).flushdb()


def test_an_opened_suggestion_is_counted_for_editors_only_for_public_live_articles(
    chat, publish, help_center
):
    refund = publish("Get a refund", "Refunds arrive within five days.")
    internal = publish("Override codes", "code 1234", visibility=Article.Visibility.INTERNAL)

    def opened(value, origin=SITE):
        return Client().post("/channels/webchat/shop-chat/suggest/opened", {"id": value}, HTTP_ORIGIN=origin)

    assert opened(refund.pk).status_code == 204
    assert opened(refund.pk).status_code == 204
    assert SuggestionOpen.objects.get().count == 2
    assert opened(internal.pk).status_code == 404
    assert opened("abc").status_code == 422 and opened(2**64).status_code == 404
    assert opened(refund.pk, origin="https://evil.example").status_code == 403
    assert SuggestionOpen.objects.get().count == 2
