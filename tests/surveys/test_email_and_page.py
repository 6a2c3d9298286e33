"""CSAT by e-mail to a real local SMTP server, answered on the public page: once, signed, CSRF-safe."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from firstring.channels.email.inbound import email_receive
from firstring.channels.models import Channel
from firstring.conversations.models import Conversation, Message
from firstring.conversations.services import conversation_assign, conversation_set_status
from firstring.surveys.links import signed_token
from firstring.surveys.models import SurveyAnswer, SurveyRequest
from tests.channels import email_corpus as corpus
from tests.channels.conftest import SmtpPeer

LINK = re.compile(r"https?://[^/\s]+(/survey/[^/\s]+/)")


@pytest.fixture
def conversation(mailbox: Channel, agent) -> Conversation:
    received = email_receive(channel=mailbox, raw=corpus.message())
    return conversation_assign(conversation=received.conversation, assignee=agent, actor=agent)


def _link(smtp_peer: SmtpPeer) -> str:
    [mail] = smtp_peer.received
    text = mail.get_body(("plain",)).get_content()
    match = LINK.search(text)
    assert match, text
    return match.group(1)


def _csrf_client(path: str) -> tuple[Client, str]:
    client = Client(enforce_csrf_checks=True)
    page = client.get(path)
    assert page.status_code == 200
    return client, client.cookies["csrftoken"].value


def test_a_resolved_conversation_asks_once_by_email_and_the_page_takes_one_answer(
    conversation, smtp_peer, resolve, agent, manager, support_team
):
    resolve(conversation)
    request = SurveyRequest.objects.get(conversation=conversation)
    assert (request.kind, request.status, request.agent, request.team) == (
        "csat",
        "sent",
        agent,
        support_team,
    )
    invitation = Message.objects.get(pk=request.message_id)
    assert invitation.direction == "outbound" and invitation.author_user is None
    assert invitation.delivery_status == "sent", invitation.delivery_error
    [mail] = smtp_peer.received
    assert mail["To"] == "carla@example.com"
    assert mail["Subject"] == f"Re: My order [#{conversation.pk}]"
    html = mail.get_body(("html",)).get_content()
    assert all(f"?score={n}" in html for n in range(1, 6))
    # The survey answers nobody: the conversation's response times stay as they were.
    conversation.refresh_from_db()
    assert conversation.first_response_at is None and conversation.status == "resolved"

    path = _link(smtp_peer)
    client, csrf = _csrf_client(path + "?score=4")
    body = client.get(path + "?score=4").content.decode()
    assert 'value="4"' in body and "checked" in body
    assert not SurveyAnswer.objects.exists()  # a GET (a mail scanner) answers nothing

    assert client.post(path, {"score": "5", "comment": "hi"}).status_code == 403  # no CSRF token
    hostile = '<script>alert("x")</script> quick\x07 and kind'
    answered = client.post(path, {"score": "5", "comment": hostile, "csrfmiddlewaretoken": csrf})
    assert answered.status_code == 200 and "Thank you" in answered.content.decode()
    answer = SurveyAnswer.objects.get()
    assert (answer.score, answer.via, answer.agent, answer.follow_up) == (5, "page", agent, None)
    assert answer.comment == '<script>alert("x")</script> quick and kind'
    request.refresh_from_db()
    assert request.status == "answered" and request.answered_at is not None

    again = client.post(path, {"score": "1", "csrfmiddlewaretoken": csrf})
    assert again.status_code == 409 and "answered already" in again.content.decode()
    assert client.get(path).status_code == 409
    assert SurveyAnswer.objects.get().score == 5

    # Reopened and resolved again: the conversation is not asked about twice.
    conversation_set_status(conversation=conversation, status="open", actor=manager)
    resolve(conversation)
    assert SurveyRequest.objects.filter(conversation=conversation).count() == 1
    assert len(smtp_peer.received) == 1

    # The drill-down and the conversation's page show the comment as text, never as markup.
    staff = Client()
    staff.force_login(manager)
    page = staff.get("/insights/surveys/?kind=csat").content.decode()
    assert "&lt;script&gt;alert" in page and "<script>alert" not in page
    page = staff.get(f"/conversations/{conversation.pk}/").content.decode()
    assert "CSAT 5/5" in page and "&lt;script&gt;alert" in page and "<script>alert" not in page


def test_bad_expired_and_invalid_answers_get_clear_4xx(conversation, smtp_peer, resolve):
    resolve(conversation)
    path = _link(smtp_peer)
    client = Client()
    signed = path.split("/")[2]
    token = signed.rsplit(":", 1)[0]
    assert client.get("/survey/nonsense/").status_code == 404
    assert client.get(f"/survey/{token}:forged/").status_code == 404
    assert client.get(f"/survey/{signed_token('unknown-token')}/").status_code == 404
    assert "not valid" in client.get("/survey/nonsense/").content.decode()

    for data in ({"score": "6"}, {"score": "x"}, {}, {"score": "3", "comment": "x" * 2001}):
        refused = client.post(path, data)
        assert refused.status_code == 422, data
    assert not SurveyAnswer.objects.exists()
    assert client.put(path).status_code == 405

    SurveyRequest.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    expired = client.get(path)
    assert expired.status_code == 410 and "expired" in expired.content.decode()
    assert client.post(path, {"score": "4"}).status_code == 410
    assert not SurveyAnswer.objects.exists()


def test_a_low_score_opens_a_follow_up_for_the_team(
    conversation, smtp_peer, resolve, billing_team, settle, manager
):
    # The conversation moved to billing; the follow-up goes to billing too, not to the mailbox's team.
    Conversation.objects.filter(pk=conversation.pk).update(team=billing_team)
    resolve(conversation)
    path = _link(smtp_peer)
    assert Client().post(path, {"score": "2", "comment": "Nobody read my message"}).status_code == 200
    answer = SurveyAnswer.objects.select_related("follow_up").get()
    follow_up = answer.follow_up
    assert follow_up is not None and follow_up.pk != conversation.pk
    assert (follow_up.status, follow_up.team, follow_up.customer_id) == (
        "open",
        billing_team,
        conversation.customer_id,
    )
    [message] = follow_up.messages.all()
    assert message.direction == "inbound"
    assert "score 2 of 5" in message.text and "Nobody read my message" in message.text
    assert message.metadata["follow_up_of"] == conversation.pk
    settle()  # the follow-up is routed like any message; it asks no survey and sends nothing
    assert len(smtp_peer.received) == 1
    staff = Client()
    staff.force_login(manager)
    page = staff.get(f"/conversations/{follow_up.pk}/").content.decode()
    assert f'Follow-up of <a href="/conversations/{conversation.pk}/">' in page and "CSAT 2/5" in page


def test_surveys_can_be_turned_off(conversation, smtp_peer, resolve, settings, mailbox):
    settings.FIRSTRING_CSAT_ENABLED = False
    resolve(conversation)
    assert not SurveyRequest.objects.exists()
    settings.FIRSTRING_CSAT_ENABLED = True
    mailbox.config = {**mailbox.config, "surveys": False}
    mailbox.save()
    conversation_set_status(conversation=conversation, status="open", actor=None)
    resolve(conversation)
    assert not SurveyRequest.objects.exists() and not smtp_peer.received
