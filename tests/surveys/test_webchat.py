"""CSAT in the web chat: the invitation reaches the widget as a card of score links to the survey page."""

from __future__ import annotations

from django.test import Client

from firstring.channels.models import Channel
from firstring.channels.webchat.identity import visitor_identify, visitor_token_issue
from firstring.channels.webchat.selectors import chat_history
from firstring.channels.webchat.services import chat_message_receive
from firstring.surveys.models import SurveyAnswer, SurveyRequest


def test_the_widget_gets_a_card_that_leads_to_the_survey_page(support_team, resolve):
    chat = Channel.objects.create(kind="chat", slug="site-chat", name="Site chat", team=support_team)
    _, token = visitor_token_issue(channel=chat)
    visitor = visitor_identify(channel=chat, token=token, user=None)
    received = chat_message_receive(visitor=visitor, client_id="first-message", text="Hello?")
    resolve(received.conversation)

    request = SurveyRequest.objects.get()
    assert request.status == "sent"
    history = chat_history(channel=chat, customer_id=received.customer.pk)
    card = history[-1]
    assert card["from"] == "agent" and "rate our help" in card["text"]
    assert card["survey"]["low"] == 1 and card["survey"]["high"] == 5
    path = card["survey"]["path"]
    assert path.startswith("/survey/")
    assert 'value="3"' in Client().get(f"{path}?score=3").content.decode()
    assert Client().post(path, {"score": "4"}).status_code == 200
    assert SurveyAnswer.objects.get().score == 4
    # Other messages carry no card.
    assert "survey" not in history[0]
