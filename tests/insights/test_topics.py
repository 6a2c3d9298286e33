"""Topics: named by the company, found in messages with no training, taught by agents' tags."""

from __future__ import annotations

import pytest

from firstring.conversations.models import Conversation
from firstring.insights.models import ConversationInsight, MessageTopic, Topic
from firstring.insights.services import message_tone_classify
from firstring.insights.topic_services import (
    message_topic_tag,
    message_topic_untag,
    topic_create,
    topic_update,
)
from firstring.insights.topics import TopicSpec, available_encoders, get_encoder, topic_classifier
from firstring.lib.errors import Conflict, Forbidden, InvalidInput, NotFound


def test_topics_are_found_from_their_names_alone():
    classifier = topic_classifier(
        [
            TopicSpec(1, "delivery"),
            TopicSpec(2, "billing"),
            TopicSpec(3, "app not working"),
            TopicSpec(4, "praise"),
        ],
        backend="default",
    )
    texts = [
        "My parcel never arrived, where is my package?",
        "The app keeps crashing when I log in",
        "Thank you so much, great service!",
    ]
    best = [ranked[0].key for ranked in classifier.classify(texts)]
    assert best == [1, 3, 4]
    ranked = classifier.classify(["You charged my card twice this month"])[0]
    assert [s.key for s in ranked][:1] == [2]
    assert abs(sum(s.confidence for s in ranked) - 1) < 0.01
    assert ranked == sorted(ranked, key=lambda s: -s.confidence)


def test_a_topic_named_in_one_word_among_many(monkeypatch):
    """The message's words are matched with the name's: one fitting word is not lost in the mean."""
    topics = [
        TopicSpec(1, "baggage"),
        TopicSpec(2, "booking"),
        TopicSpec(3, "in-flight experience"),
        TopicSpec(4, "delay or cancellation"),
    ]
    text = "We landed two hours ago, the crew were lovely but my luggage is nowhere to be found"
    assert topic_classifier(topics, backend="default").classify([text])[0][0].key == 1
    # A text with no word that has a vector, in a batch with others, still gets every topic.
    ranked = topic_classifier(topics, backend="default").classify(["!!! 123", text, "..."])
    assert [len(r) for r in ranked] == [4, 4, 4] and ranked[1][0].key == 1
    monkeypatch.setattr("firstring.insights.topics.WORD_MATCH_WEIGHT", 0.0)
    assert topic_classifier(topics, backend="default").classify([text])[0][0].key == 3


def test_no_topics_no_tags():
    assert topic_classifier([], backend="default").classify(["anything"]) == [[]]
    assert "default" in available_encoders() and "minilm" in available_encoders()


def test_descriptions_and_examples_shape_a_topic():
    plain = topic_classifier([TopicSpec(1, "food quality"), TopicSpec(2, "promotion")], backend="default")
    text = "Dressed up as a pirate for the $3 boorito tonight"
    assert plain.classify([text])[0][0].key == 1
    described = topic_classifier(
        [
            TopicSpec(1, "food quality"),
            TopicSpec(2, "promotion", "our Halloween deal", ("Got my $3 burrito in costume!",)),
        ],
        backend="default",
    )
    assert described.classify([text])[0][0].key == 2


def test_received_messages_get_topics_and_a_main_topic(receive, manager):
    delivery = topic_create(user=manager, name="Delivery", description="parcels that are late or lost")
    topic_create(user=manager, name="Billing")
    received = receive(email="d@example.com", text="My parcel never arrived, where is my package?")
    message_tone_classify(message_id=received.message.pk)

    tag = MessageTopic.objects.get(message=received.message, primary=True)
    assert (tag.topic, tag.source, tag.rejected) == (delivery, "model", False)
    assert 0.3 <= tag.confidence <= 1
    insight = ConversationInsight.objects.get(conversation=received.conversation)
    assert insight.topic == delivery


def test_agents_tags_teach_the_classifier(receive, manager, agent):
    topic_create(user=manager, name="food quality")
    promotion = topic_create(user=manager, name="promotion")
    pirate = "Dressed up as a pirate for the $3 boorito tonight"
    first = receive(email="p1@example.com", text=pirate)
    message_tone_classify(message_id=first.message.pk)
    assert MessageTopic.objects.get(message=first.message, primary=True).topic.name == "food quality"

    for number, text in enumerate(
        ["Wore my costume and got the $3 burrito", "costume burrito deal for halloween"]
    ):
        taught = receive(email=f"t{number}@example.com", text=text)
        message_topic_tag(user=agent, message_id=taught.message.pk, topic_id=promotion.pk)

    second = receive(email="p2@example.com", text=pirate)
    message_tone_classify(message_id=second.message.pk)
    assert MessageTopic.objects.get(message=second.message, primary=True).topic == promotion


def test_an_agents_tag_and_untag_survive_classifying_again(receive, manager, agent):
    delivery = topic_create(user=manager, name="delivery")
    billing = topic_create(user=manager, name="billing")
    received = receive(email="u@example.com", text="My parcel never arrived")
    message_tone_classify(message_id=received.message.pk)
    message_topic_untag(user=agent, message_id=received.message.pk, topic_id=delivery.pk)
    message_topic_tag(user=agent, message_id=received.message.pk, topic_id=billing.pk)
    message_tone_classify(message_id=received.message.pk)

    tags = {t.topic_id: t for t in MessageTopic.objects.filter(message=received.message)}
    assert (tags[delivery.pk].rejected, tags[delivery.pk].source, tags[delivery.pk].primary) == (
        True,
        "agent",
        False,
    )
    assert (tags[billing.pk].source, tags[billing.pk].primary, tags[billing.pk].actor) == (
        "agent",
        True,
        agent,
    )
    assert ConversationInsight.objects.get(conversation=received.conversation).topic == billing


def test_topic_rules(receive, manager, agent, billing_agent, email_channel):
    with pytest.raises(Forbidden):
        topic_create(user=agent, name="refunds")
    topic = topic_create(user=manager, name="  Refunds  ", examples=["I want my money back", " "])
    assert (topic.name, topic.examples) == ("Refunds", ["I want my money back"])
    with pytest.raises(Conflict):
        topic_create(user=manager, name="refunds")
    with pytest.raises(InvalidInput):
        topic_create(user=manager, name=" ")
    with pytest.raises(InvalidInput):
        topic_create(user=manager, name="x", examples=["e"] * 21)
    with pytest.raises(NotFound):
        topic_update(user=manager, topic_id=topic.pk + 100, name="y")
    hidden = receive(email="h@example.com", text="Refund please", channel=email_channel)
    with pytest.raises(NotFound):
        message_topic_tag(user=billing_agent, message_id=hidden.message.pk, topic_id=topic.pk)
    with pytest.raises(NotFound):
        message_topic_tag(user=agent, message_id=hidden.message.pk, topic_id=topic.pk + 100)
    topic_update(user=manager, topic_id=topic.pk, name="Refunds", active=False)
    with pytest.raises(NotFound):
        message_topic_tag(user=agent, message_id=hidden.message.pk, topic_id=topic.pk)
    assert not Topic.objects.filter(active=True).exists()


def test_topics_through_the_api(api, receive, agent, manager):
    from tests.conftest import make_api_caller

    created = api("post", "/insights/topics", json={"name": "Delivery", "examples": ["Where is my parcel?"]})
    assert created.status_code == 201, created.content
    topic_id = created.json()["id"]
    assert api("post", "/insights/topics", json={"name": "delivery"}).status_code == 409
    assert api("post", "/insights/topics", json={"name": ""}).status_code == 422
    assert api("post", "/insights/topics", json={"name": "x", "color": "red"}).status_code == 422
    as_agent = make_api_caller(agent)
    assert as_agent("post", "/insights/topics", json={"name": "Billing"}).status_code == 403
    assert [t["name"] for t in as_agent("get", "/insights/topics").json()] == ["Delivery"]
    renamed = api(
        "put", f"/insights/topics/{topic_id}", json={"name": "Deliveries", "description": "parcels"}
    )
    assert renamed.json()["name"] == "Deliveries"

    received = receive(email="api@example.com", text="Where is my parcel? Third time I ask, I will sue you")
    message_id = received.message.pk
    tagged = as_agent("post", f"/insights/messages/{message_id}/topics", json={"topic_id": topic_id})
    assert tagged.status_code == 200 and tagged.json()["source"] == "agent"
    assert (
        as_agent("post", f"/insights/messages/{message_id}/topics", json={"topic_id": 99999}).status_code
        == 404
    )
    untagged = as_agent("delete", f"/insights/messages/{message_id}/topics/{topic_id}")
    assert untagged.json()["rejected"] is True
    tone = as_agent("put", f"/insights/messages/{message_id}/tone", json={"label": "negative"})
    assert tone.status_code == 200 and tone.json()["label"] == "negative"
    assert (
        as_agent("put", f"/insights/messages/{message_id}/tone", json={"label": "angry"}).status_code == 422
    )

    message_tone_classify(message_id=message_id)
    insight = as_agent("get", f"/insights/conversations/{received.conversation.pk}").json()
    assert insight["urgent"] is True and insight["urgency"] == ["legal", "repeat"]
    assert insight["language"] == "en"
    assert insight["messages"][0]["topics"][0]["rejected"] is True
    assert as_agent("get", "/insights/conversations/99999").status_code == 404
    assert Conversation.objects.get(pk=received.conversation.pk).language == "en"
    del manager


@pytest.mark.parametrize("backend", available_encoders())
def test_encoders_tell_words_from_random_strings(backend):
    try:
        encoder = get_encoder(backend)
    except ImportError:
        pytest.skip(f"the {backend} encoder's extra is not installed")
    assert encoder.known_words("Refund wqk, zq12xv money! igqf") == ["refund", "money"]
