"""Language and urgency: read from every customer message, kept per message and per conversation."""

from __future__ import annotations

import pytest

from firstring.conversations.models import Conversation
from firstring.conversations.services import Inbound, receive_messages
from firstring.customers.identities import IdentityClaim, normalize_claim
from firstring.insights.analysis import messages_analyse
from firstring.insights.classifiers import default_classifier, register_backend
from firstring.insights.models import ConversationInsight, MessageSignal, MessageTone
from firstring.insights.selectors import conversation_signals
from firstring.insights.signals import detect_language, urgency_cues


@pytest.mark.parametrize(
    ("text", "cues"),
    [
        ("I will cancel my subscription and switch to another provider", ["churn"]),
        ("Never flying with you again.", ["churn"]),
        ("My lawyer will hear about this, see you in small claims court", ["legal"]),
        ("The charger caught fire and burned my desk", ["safety"]),
        ("Got food poisoning from your salad", ["safety"]),
        ("Is the app down? Nothing loads", ["outage"]),
        ("No internet since this morning", ["outage"]),
        ("Third time I am writing, still no answer", ["repeat"]),
        ("I have called you guys 4 times about this", ["repeat"]),
        ("The app closes itself, tried three times with two cards", []),
        ("Thanks, the parcel arrived today", []),
        ("Can I change my delivery address?", []),
    ],
)
def test_urgency_cues(text, cues):
    assert urgency_cues(text) == cues


def test_languages_are_detected_when_the_text_says_enough():
    assert detect_language("Hallo, meine Bestellung ist leider nicht angekommen")[0] == "de"
    assert detect_language("Bonjour, ma commande n'est jamais arrivée")[0] == "fr"
    assert detect_language("Hola, necesito ayuda con mi pedido por favor")[0] == "es"
    assert detect_language("@brand my order never arrived https://t.co/x")[0] == "en"
    assert detect_language("ok thx") == ("", 0.0)


def test_a_batch_is_read_with_one_call_per_classifier(api_channel, settings):
    calls: list[int] = []

    class Counting:
        name = "counting"

        def classify(self, texts):
            calls.append(len(texts))
            return default_classifier().classify(texts)

    register_backend("counting", Counting)
    settings.FIRSTRING_TONE_BACKEND = "counting"
    results = receive_messages(
        [
            Inbound(
                channel=api_channel,
                claims=[normalize_claim(IdentityClaim("email", f"b{n}@example.com"))],
                text=text,
            )
            for n, text in enumerate(
                ["Worst service ever", "Danke, alles gut angekommen!", "Where is my order?"]
            )
        ]
    )
    ids = [r.message.pk for r in results]
    assert messages_analyse(message_ids=ids) == ids
    assert calls == [3]
    assert MessageTone.objects.filter(message_id__in=ids, backend="counting").count() == 3
    assert MessageSignal.objects.get(message_id=ids[1]).language == "de"
    assert Conversation.objects.get(pk=results[1].conversation.pk).language == "de"


def test_urgency_and_repeat_contact_reach_the_conversation(receive):
    first = receive(email="r@example.com", text="My order is late", thread="a")
    messages_analyse(message_ids=[first.message.pk])
    assert conversation_signals([first.conversation.pk])[first.conversation.pk].urgent is False

    # The same customer a third time within a week: repeated contact.
    receive(email="r@example.com", text="Can I change my address?", thread="c")
    second = receive(email="r@example.com", text="Hello again, the app is down for everyone", thread="b")
    assert second.conversation.pk != first.conversation.pk
    messages_analyse(message_ids=[second.message.pk])
    signals = conversation_signals([second.conversation.pk, first.conversation.pk, 999999])
    assert set(signals) == {first.conversation.pk, second.conversation.pk}
    assert signals[second.conversation.pk].urgent is True
    assert signals[second.conversation.pk].urgency == ("outage", "repeat")
    assert signals[second.conversation.pk].language == "en"


def test_the_pipeline_step_reads_every_received_message(
    receive, run_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        received = receive(email="p@example.com", text="I will sue you if my refund does not come")
    run_tasks()
    insight = ConversationInsight.objects.get(conversation=received.conversation)
    assert (insight.urgent, insight.urgency, insight.language, insight.customer_messages) == (
        True,
        ["legal"],
        "en",
        1,
    )
    assert insight.tone_lift is None
