"""The tone engine in the product: the pipeline step, agents' corrections, learning from them."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from firstring.conversations.models import Conversation, Message
from firstring.insights.classifiers import classify_tone
from firstring.insights.models import LearnedToneModel, MessageTone, ToneCorrection
from firstring.insights.services import message_tone_classify, tone_correct
from firstring.lib.errors import InvalidInput, NotFound


def test_received_message_gets_a_tone_and_its_conversation_too(
    receive, run_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = receive(email="t@example.com", text="Worst airline ever, you lost my bag again!", thread="t1")
    run_tasks()
    with django_capture_on_commit_callbacks(execute=True):
        receive(email="t@example.com", text="Thank you so much, bag found. Great service!", thread="t1")
    run_tasks()

    tone = MessageTone.objects.get(message=first.message)
    assert (tone.label, tone.predicted_label, tone.backend, tone.corrected) == (
        "negative",
        "negative",
        "default",
        False,
    )
    assert Message.objects.get(pk=first.message.pk).tone == "negative"
    conversation = Conversation.objects.get(pk=first.conversation.pk)
    assert (conversation.tone_first, conversation.tone_latest) == ("negative", "positive")


def test_only_customer_messages_get_a_tone(receive, agent):
    from firstring.conversations.services import note_add

    received = receive(email="n@example.com", text="Fine.")
    note = note_add(conversation=received.conversation, author=agent, text="I hate this customer")
    assert message_tone_classify(message_id=note.pk) is None
    assert not MessageTone.objects.exists()


def test_an_agent_corrects_a_tone_and_the_correction_is_kept(receive, agent):
    received = receive(email="c@example.com", text="Great, another delay. Just great.")
    message_tone_classify(message_id=received.message.pk)
    predicted = MessageTone.objects.get(message=received.message).predicted_label

    tone_correct(user=agent, message_id=received.message.pk, label="negative")
    tone_correct(user=agent, message_id=received.message.pk, label="neutral")

    tone = MessageTone.objects.get(message=received.message)
    assert (tone.label, tone.corrected, tone.predicted_label) == ("neutral", True, predicted)
    corrections = list(ToneCorrection.objects.values_list("previous_label", "label", "actor"))
    assert corrections == [(predicted, "negative", agent.pk), ("negative", "neutral", agent.pk)]
    assert Conversation.objects.get(pk=received.conversation.pk).tone_latest == "neutral"
    # Classifying again (a retried task) does not undo the agent's word.
    message_tone_classify(message_id=received.message.pk)
    assert MessageTone.objects.get(message=received.message).label == "neutral"


def test_a_correction_before_classification_stands(receive, agent):
    received = receive(email="e@example.com", text="Thanks a lot, really helpful!")
    tone_correct(user=agent, message_id=received.message.pk, label="negative")
    message_tone_classify(message_id=received.message.pk)
    tone = MessageTone.objects.get(message=received.message)
    assert (tone.label, tone.predicted_label, tone.corrected) == ("negative", "positive", True)


def test_bad_corrections_are_refused(receive, agent, billing_agent, email_channel):
    received = receive(email="b@example.com", text="Where is my parcel?")
    with pytest.raises(InvalidInput):
        tone_correct(user=agent, message_id=received.message.pk, label="furious")
    with pytest.raises(NotFound):
        tone_correct(user=agent, message_id=received.message.pk + 1000, label="negative")
    hidden = receive(email="h@example.com", text="Where is my parcel?", channel=email_channel)
    # The e-mail channel's conversations belong to the support team; the billing agent cannot see them.
    Conversation.objects.filter(pk=hidden.conversation.pk).update(team=email_channel.team)
    with pytest.raises(NotFound):
        tone_correct(user=billing_agent, message_id=hidden.message.pk, label="negative")
    assert not ToneCorrection.objects.exists()


def test_the_learning_backend_learns_a_company_word(receive, agent, settings):
    # A made-up product name that the default model cannot know: for this company it is a complaint.
    complaint = "the zorblax unit again"
    assert classify_tone([complaint], backend="default")[0].label != "negative"
    texts = [f"{complaint} #{i}" for i in range(40)] + [
        f"question about my account number {i}" for i in range(40)
    ]
    labels = ["negative"] * 40 + ["neutral"] * 40
    for i, (text, label) in enumerate(zip(texts, labels, strict=True)):
        received = receive(email=f"l{i}@example.com", text=text)
        tone_correct(user=agent, message_id=received.message.pk, label=label)

    with pytest.raises(CommandError, match="80 corrected messages; learning needs at least 500"):
        call_command("tone_learn", "--min-rows", "500")
    assert not LearnedToneModel.objects.exists()
    call_command("tone_learn", "--min-rows", "50", stdout=io.StringIO())
    learned = LearnedToneModel.objects.get()
    assert learned.rows == 80

    settings.FIRSTRING_TONE_BACKEND = "learning"
    [result] = classify_tone([complaint])
    assert result.label == "negative"
    received = receive(email="new@example.com", text="zorblax unit again, seriously")
    assert message_tone_classify(message_id=received.message.pk).backend == "learning"
