"""CSAT by SMS: the question goes out through Twilio's REST API (a local peer), and a digit texted back
through the signed incoming-message webhook is the answer, not a message of a new conversation."""

from __future__ import annotations

import pytest

from firstring.conversations.models import Conversation, Message
from firstring.surveys.models import SurveyAnswer, SurveyRequest
from tests.channels.test_twilio import incoming, post, stored


@pytest.fixture
def asked(sms, peer, resolve) -> SurveyRequest:
    params = incoming("My parcel never came")
    assert post(params).status_code == 200
    resolve(stored(params).conversation)
    return SurveyRequest.objects.get()


def test_the_question_goes_out_by_sms_and_a_digit_texted_back_is_the_answer(asked, peer, sms):
    assert asked.status == "sent"
    [sent] = peer.requests
    assert sent["To"] == "+14155550123" and "Reply with a number from 1 to 5" in sent["Body"]
    messages = Message.objects.count()

    reply = incoming(" 4 ")
    response = post(reply)
    assert response.status_code == 200 and response.content.decode().replace(" ", "").endswith("<Response/>")
    answer = SurveyAnswer.objects.get()
    assert (answer.score, answer.via, answer.external_id, answer.request_id) == (
        4,
        "reply",
        reply["MessageSid"],
        asked.pk,
    )
    assert Message.objects.count() == messages  # no message, no new conversation
    assert Conversation.objects.count() == 1

    # Twilio delivers the same webhook again: taken once, still no message.
    assert post(reply).status_code == 200
    assert SurveyAnswer.objects.count() == 1 and Message.objects.count() == messages

    # Answered: the next digit is an ordinary message, which starts a conversation as any text would.
    later = incoming("3")
    assert post(later).status_code == 200
    assert stored(later).text == "3" and SurveyAnswer.objects.count() == 1


@pytest.mark.parametrize("text", ["11", "0", "4 stars", "four", "12345"])
def test_a_text_that_is_not_a_score_on_the_scale_is_a_message(asked, text):
    params = incoming(text)
    assert post(params).status_code == 200
    assert stored(params).text == text
    assert not SurveyAnswer.objects.exists()


def test_a_low_score_texted_back_opens_a_follow_up(asked, sms):
    assert post(incoming("1")).status_code == 200
    answer = SurveyAnswer.objects.select_related("follow_up").get()
    assert answer.score == 1 and answer.follow_up is not None
    assert answer.follow_up.channel == sms and answer.follow_up.status == "open"
    assert answer.follow_up.pk != asked.conversation_id
    assert "score 1 of 5" in answer.follow_up.messages.get().text


def test_an_expired_survey_takes_no_reply(asked):
    from datetime import timedelta

    from django.utils import timezone

    SurveyRequest.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    params = incoming("5")
    assert post(params).status_code == 200
    assert stored(params).text == "5" and not SurveyAnswer.objects.exists()


def test_an_opted_out_number_is_not_asked(sms, peer, resolve):
    first = incoming("Hi")
    assert post(first).status_code == 200
    assert post(incoming("STOP")).status_code == 200
    resolve(stored(first).conversation)
    request = SurveyRequest.objects.get()
    assert request.status == "skipped" and "opted out" in request.skipped_reason
    assert peer.requests == []


def test_a_digit_after_another_question_on_the_channel_answers_that_question(
    asked, sms, agent, settle, django_capture_on_commit_callbacks
):
    from firstring.conversations.services import reply_send

    opened = incoming("One more thing: my invoice is wrong")
    assert post(opened).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        reply_send(
            conversation=stored(opened).conversation, author=agent, text="Reply 1 for paper, 2 for PDF"
        )
    settle()
    answer = incoming("2")
    assert post(answer).status_code == 200
    assert stored(answer).text == "2" and not SurveyAnswer.objects.exists()
