"""From posts to stored mentions: match, de-duplicate, tone, reach, cursor."""

from __future__ import annotations

from firstring.insights.topic_services import topic_create
from firstring.listening import selectors
from firstring.listening.models import Author, Mention, MonitorMatch, Source
from firstring.listening.pipeline import mentions_ingest
from firstring.listening.services import monitor_update
from tests.listening.conftest import make_post


def test_matching_posts_are_stored_once_with_tone_reach_and_monitors(monitor, bluesky_source):
    acme = monitor("acme OR @acme", name="Acme")
    bank = monitor('"acme bank"', name="Acme Bank")
    other = monitor("globex", name="Globex")
    posts = [
        make_post("Acme Bank lost my money again, worst service ever, I am furious", n=1, followers=1200),
        make_post("what a lovely sunny day in the park", n=2),
        make_post("thank you @acme, great help today!", n=3),
        # The same post delivered twice in one batch.
        make_post("thank you @acme, great help today!", n=3),
    ]
    result = mentions_ingest(posts=posts, source=bluesky_source, cursor="1700000000000001")

    assert (result.posts, result.matched, result.stored, result.duplicates) == (4, 3, 2, 1)
    angry = Mention.objects.get(external_id=posts[0].external_id)
    assert angry.tone == "negative" and angry.tone_score < 0
    assert angry.reach == 1200 and angry.author.followers == 1200
    assert set(angry.matches.values_list("monitor_id", flat=True)) == {acme.pk, bank.pk}
    happy = Mention.objects.get(external_id=posts[2].external_id)
    assert happy.tone == "positive"
    assert list(happy.matches.values_list("monitor_id", flat=True)) == [acme.pk]
    assert not MonitorMatch.objects.filter(monitor=other).exists()
    assert MonitorMatch.objects.get(mention=angry, monitor=acme).negative is True
    bluesky_source.refresh_from_db()
    assert bluesky_source.cursor == "1700000000000001"

    # Read again after a reconnect: nothing is stored twice, the cursor moves on.
    again = mentions_ingest(posts=posts, source=bluesky_source, cursor="1700000000000002")
    assert (again.stored, again.duplicates) == (0, 3)
    assert Mention.objects.count() == 2
    assert Source.objects.get(pk=bluesky_source.pk).cursor == "1700000000000002"


def test_reposts_count_on_the_original_and_same_link_is_one_mention(monitor, bluesky_source):
    monitor("acme")
    original = make_post("acme keeps crashing on my phone", n=1)
    mentions_ingest(posts=[original], source=bluesky_source, cursor="1")
    reposts = [
        make_post("", n=n, kind="repost", repost_of=original.external_id, external_id=f"at://r/{n}")
        for n in (2, 3)
    ]
    # Two reposts, one of them delivered twice, and one of a post nobody stored.
    stray = make_post("", n=4, kind="repost", repost_of="at://elsewhere/1", external_id="at://r/4")
    result = mentions_ingest(posts=[*reposts, reposts[0], stray], source=bluesky_source, cursor="2")
    assert result.reposts == 2
    mentions_ingest(posts=[reposts[1]], source=bluesky_source, cursor="3")
    assert Mention.objects.get().reposts == 2

    feed = Source.objects.create(kind="rss", slug="news", name="News")
    article = dict(network="web", kind="article", author_id="news.example", author_handle="")
    a = make_post("Acme recalls phones", n=10, link="https://news.example/acme-recall", **article)
    b = make_post("Acme recalls phones", n=11, link="https://news.example/acme-recall", **article)
    result = mentions_ingest(posts=[a], source=feed)
    assert result.stored == 1
    result = mentions_ingest(posts=[b], source=feed)
    assert (result.stored, result.duplicates) == (0, 1)


def test_edits_apply_from_then_on(monitor, bluesky_source):
    acme = monitor("acme")
    mentions_ingest(posts=[make_post("acme is down", n=1)], source=bluesky_source)
    monitor_update(monitor_id=acme.pk, query="globex")
    acme.refresh_from_db()
    assert acme.version == 2
    mentions_ingest(
        posts=[make_post("acme is down again", n=2), make_post("globex is down", n=3)], source=bluesky_source
    )
    stored = dict(MonitorMatch.objects.values_list("mention__text", "monitor_version"))
    # The first match stays with version 1; the edited query matches only what came after.
    assert stored == {"acme is down": 1, "globex is down": 2}


def test_language_filter_and_oversized_or_empty_posts(monitor, bluesky_source):
    monitor("acme", languages=["en"])
    result = mentions_ingest(
        posts=[
            make_post("acme ist kaputt", n=1, language="de"),
            make_post("acme is broken", n=2, language="en"),
            make_post("acme " * 5000, n=3),
            make_post("   ", n=4),
        ],
        source=bluesky_source,
    )
    assert (result.stored, result.skipped) == (1, 2)
    assert Mention.objects.get().language == "en"


def test_authors_are_kept_and_their_reach_refreshed(monitor, bluesky_source):
    monitor("acme")
    mentions_ingest(posts=[make_post("acme one", n=1, followers=10)], source=bluesky_source)
    mentions_ingest(
        posts=[make_post("acme two", n=1, external_id="at://x/2", followers=25)], source=bluesky_source
    )
    author = Author.objects.get()
    assert author.followers == 25
    assert list(Mention.objects.order_by("posted_at", "id").values_list("reach", flat=True)) == [10, 25]


def test_mentions_get_language_topic_and_urgency_as_inbound_messages_do(manager, monitor, bluesky_source):
    delivery = topic_create(
        user=manager, name="delivery", examples=["where is my parcel", "the courier never came"]
    )
    billing = topic_create(
        user=manager, name="billing", examples=["I was charged twice", "refund the invoice please"]
    )
    monitor("acme")
    posts = [
        make_post("acme my parcel never arrived and the courier lost it, I will take legal action", n=1),
        make_post("acme charged me twice on my invoice, I want a refund", n=2, language="en"),
        make_post("acme hat mein Paket verloren und niemand antwortet mir", n=3),
        make_post("acme ok", n=4),
    ]
    assert mentions_ingest(posts=posts, source=bluesky_source).stored == 4
    by_n = {m.external_id[-1]: m for m in Mention.objects.all()}
    assert by_n["1"].topic == delivery and by_n["1"].urgent and by_n["1"].urgency == ["legal"]
    assert by_n["1"].language == "en"
    assert by_n["2"].topic == billing and not by_n["2"].urgent and by_n["2"].urgency == []
    # The source's language is kept; a post without one gets the detected one, when clear enough.
    assert by_n["3"].language == "de"
    assert by_n["4"].language == ""
    urgent = selectors.mentions_filtered(urgent=True)
    assert [m.external_id for m in urgent] == [posts[0].external_id]
    about_billing = {m.external_id for m in selectors.mentions_filtered(topic_id=billing.pk)}
    assert posts[1].external_id in about_billing and posts[0].external_id not in about_billing
