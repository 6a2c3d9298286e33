"""Each action on the conversation page calls its service, records its event and answers with fragments."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from firstring.conversations.models import Conversation, ConversationEvent, Message
from tests.web.conftest import HTMX

pytestmark = pytest.mark.django_db


@pytest.fixture
def conversation(receive):
    return receive(email="cleo@example.com", text="My order is late").conversation


def _post(client, conversation, action, data, **extra):
    return client.post(f"/conversations/{conversation.pk}/{action}/", data, **extra)


def _events(conversation, kind):
    return list(ConversationEvent.objects.filter(conversation=conversation, kind=kind))


def test_reply_is_queued_and_shown(client_for, agent, conversation):
    response = _post(client_for(agent), conversation, "reply", {"text": "On its way!"}, **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<ol id="timeline"')
    assert "On its way!" in html and "Queued" in html
    reply = Message.objects.get(conversation=conversation, direction=Message.Direction.OUTBOUND)
    assert reply.author_user == agent and reply.delivery_status == Message.Delivery.QUEUED
    assert reply.recipient == conversation.identity


def test_reply_with_files(client_for, agent, conversation, settings):
    settings.FIRSTRING_MAX_ATTACHMENT_BYTES = 1000
    client = client_for(agent)
    invoice = SimpleUploadedFile("invoice <1>.pdf", b"%PDF-1.4 tiny", content_type="application/pdf")
    response = _post(client, conversation, "reply", {"text": "", "files": [invoice]}, **HTMX)
    assert response.status_code == 200
    reply = Message.objects.get(conversation=conversation, direction=Message.Direction.OUTBOUND)
    [attachment] = reply.attachments.all()
    assert attachment.content_type == "application/pdf" and attachment.file.read() == b"%PDF-1.4 tiny"
    html = response.content.decode()
    assert attachment.filename in html and "invoice <1>" not in html

    # Too large, or too many: refused with the reason, and nothing is stored.
    big = SimpleUploadedFile("big.bin", b"x" * 1001)
    refused = _post(client, conversation, "reply", {"text": "here", "files": [big]}, **HTMX)
    assert refused.status_code == 413 and "larger than 1000 bytes" in refused.content.decode()
    many = [SimpleUploadedFile(f"f{n}.txt", b"x") for n in range(11)]
    refused = _post(client, conversation, "reply", {"text": "here", "files": many}, **HTMX)
    assert refused.status_code == 422 and "at most 10 files" in refused.content.decode()
    assert Message.objects.filter(direction=Message.Direction.OUTBOUND).count() == 1


def test_reply_through_another_channel_and_identity(client_for, agent, receive, conversation, email_channel):
    receive(email="cleo@example.com", phone="+14155550100", text="also me", channel=email_channel)
    phone = conversation.customer.identities.get(kind="phone")
    client = client_for(agent)
    target = f"{email_channel.pk}:{conversation.customer.identities.get(kind='email').pk}"
    assert (
        _post(client, conversation, "reply", {"text": "by mail", "target": target}, **HTMX).status_code == 200
    )
    reply = Message.objects.get(conversation=conversation, direction=Message.Direction.OUTBOUND)
    assert reply.channel == email_channel
    # An e-mail channel cannot reach a phone number: not offered, so refused.
    bad = _post(
        client, conversation, "reply", {"text": "x", "target": f"{email_channel.pk}:{phone.pk}"}, **HTMX
    )
    assert bad.status_code == 422
    assert "choose one of the offered channels" in bad.content.decode()


def test_note_is_added(client_for, agent, conversation):
    response = _post(client_for(agent), conversation, "note", {"text": "Customer is a VIP"}, **HTMX)
    assert response.status_code == 200
    assert "Internal note" in response.content.decode()
    assert Message.objects.filter(
        conversation=conversation, direction="note", text="Customer is a VIP"
    ).exists()


def test_without_htmx_an_action_redirects_back(client_for, agent, conversation):
    response = _post(client_for(agent), conversation, "note", {"text": "plain form"})
    assert response.status_code == 302
    assert response["Location"] == f"/conversations/{conversation.pk}/"


def test_assign_team_status_priority_and_tags_record_events(
    client_for, agent, manager, support_team, conversation
):
    client = client_for(agent)
    response = _post(client, conversation, "assign", {"assignee": agent.pk}, **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="actions"')
    assert 'id="timeline" class="timeline" hx-swap-oob="true"' in html
    assert "Ana Agent assigned it to ana@example.com" in html

    assert _post(client, conversation, "team", {"team": support_team.pk}, **HTMX).status_code == 200
    assert _post(client, conversation, "priority", {"priority": 3}, **HTMX).status_code == 200
    assert _post(client, conversation, "tags", {"tags": "Refund, late , "}, **HTMX).status_code == 200
    until = (timezone.localtime() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    response = _post(client, conversation, "status", {"status": "snoozed", "snoozed_until": until}, **HTMX)
    assert response.status_code == 200
    assert "changed the status from open to snoozed" in response.content.decode()
    assert _post(client, conversation, "assign", {"assignee": ""}, **HTMX).status_code == 200

    conversation.refresh_from_db()
    assert conversation.assignee is None
    assert conversation.team == support_team
    assert conversation.priority == 3
    assert conversation.status == "snoozed" and conversation.snoozed_until is not None
    assert sorted(t.name for t in conversation.tags.all()) == ["late", "refund"]
    assert len(_events(conversation, "assigned")) == 2
    for kind in ("team", "priority", "tags", "status"):
        assert len(_events(conversation, kind)) == 1, kind
    page = client.get(f"/conversations/{conversation.pk}/").content.decode()
    for sentence in (
        "Ana Agent moved it to team Support (was none)",
        "Ana Agent changed the priority from normal to high",
        "Ana Agent added late, refund",
        "Ana Agent unassigned it (was ana@example.com)",
    ):
        assert sentence in page


def test_resolving(client_for, agent, conversation):
    response = _post(client_for(agent), conversation, "status", {"status": "resolved"}, **HTMX)
    assert response.status_code == 200
    conversation.refresh_from_db()
    assert conversation.status == Conversation.Status.RESOLVED


@pytest.mark.parametrize(
    ("action", "data", "message"),
    [
        ("reply", {"text": "   "}, "Write something or attach a file"),
        ("reply", {}, "Write something or attach a file"),
        ("note", {"text": ""}, "This field is required"),
        ("assign", {"assignee": "abc"}, "Enter a whole number"),
        ("assign", {"assignee": 999999}, "user 999999 not found"),
        ("team", {"team": 999999}, "team 999999 not found"),
        ("status", {"status": "exploded"}, "Select a valid choice"),
        ("status", {"status": "snoozed"}, "Choose until when to snooze"),
        ("status", {"status": "snoozed", "snoozed_until": "2001-01-01T10:00"}, "in the future"),
        ("status", {"status": "snoozed", "snoozed_until": "not a date"}, "Enter a valid date/time"),
        ("priority", {"priority": "99"}, "Select a valid choice"),
        ("tags", {"tags": ",".join(f"t{i}" for i in range(60))}, "at most 50 tags"),
    ],
)
def test_bad_input_is_4xx_with_a_message_and_changes_nothing(
    client_for, agent, conversation, action, data, message
):
    before_events = ConversationEvent.objects.count()
    before_messages = Message.objects.count()
    response = _post(client_for(agent), conversation, action, data, **HTMX)
    assert 400 <= response.status_code < 500
    assert response["HX-Retarget"] == "#alerts"
    assert message in response.content.decode()
    assert ConversationEvent.objects.count() == before_events
    assert Message.objects.count() == before_messages


def test_bad_input_without_htmx_is_an_error_page(client_for, agent, conversation):
    response = _post(client_for(agent), conversation, "priority", {"priority": "x"})
    assert response.status_code == 422
    assert "<html" in response.content.decode() and "Select a valid choice" in response.content.decode()


def test_assigning_someone_outside_the_team_is_refused(
    client_for, agent, billing_agent, support_team, conversation
):
    Conversation.objects.filter(pk=conversation.pk).update(team=support_team)
    response = _post(client_for(agent), conversation, "assign", {"assignee": billing_agent.pk}, **HTMX)
    assert response.status_code == 422
    assert "is not a member of this conversation&#x27;s team" in response.content.decode()


def test_moving_to_a_team_the_agent_is_not_in_is_forbidden(client_for, agent, billing_team, conversation):
    response = _post(client_for(agent), conversation, "team", {"team": billing_team.pk}, **HTMX)
    assert response.status_code == 403
    assert not _events(conversation, "team")


def test_moving_out_of_sight_redirects_to_the_inbox(client_for, manager, agent, billing_team, conversation):
    # A manager may move it anywhere and still sees it; an agent's view is checked after the move.
    response = _post(client_for(manager), conversation, "team", {"team": billing_team.pk}, **HTMX)
    assert response.status_code == 200
    assert client_for(agent).get(f"/conversations/{conversation.pk}/").status_code == 404


def test_actions_need_csrf(client_for, agent, conversation):
    client = client_for(agent, csrf=True)
    response = _post(client, conversation, "note", {"text": "no token"})
    assert response.status_code == 403
    assert not Message.objects.filter(direction="note").exists()


def test_actions_are_post_only(client_for, agent, conversation):
    assert client_for(agent).get(f"/conversations/{conversation.pk}/reply/").status_code == 405


def test_timeline_fragment(client_for, agent, conversation):
    response = client_for(agent).get(f"/conversations/{conversation.pk}/timeline/", **HTMX)
    html = response.content.decode()
    assert html.lstrip().startswith('<ol id="timeline"')
    assert 'id="conv-summary" class="conv-summary" hx-swap-oob="true"' in html
    assert "My order is late" in html


def test_delivery_failure_is_shown_with_its_error(
    client_for, agent, conversation, run_tasks, django_capture_on_commit_callbacks
):
    # The API channel has no callback_url in tests: delivery fails permanently.
    with django_capture_on_commit_callbacks(execute=True):
        _post(client_for(agent), conversation, "reply", {"text": "hello"}, **HTMX)
    assert run_tasks() == 1
    html = client_for(agent).get(f"/conversations/{conversation.pk}/").content.decode()
    assert "Failed" in html
    assert "Not delivered: channel api has no callback_url" in html
    assert "A reply could not be delivered after 1 attempts: channel api has no callback_url" in html
