"""Messages through the API: reading them, replies (with files) through the outbox, internal notes."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from firstring.conversations.models import Attachment, Message
from tests.http_peer import http_peer

pytestmark = pytest.mark.django_db


def test_reply_is_queued_then_delivered_by_the_worker(
    as_agent, agent, receive, run_tasks, api_channel, django_capture_on_commit_callbacks
):
    conversation = receive(text="<b>hi</b> there").conversation
    path = f"/conversations/{conversation.pk}"
    with http_peer() as peer:
        api_channel.config = {"callback_url": peer.url}
        api_channel.save()
        with django_capture_on_commit_callbacks(execute=True):
            reply = as_agent("post", f"{path}/replies", json={"text": "Hello <script>x</script>"})
        assert reply.status_code == 201, reply.content
        run_tasks()
    assert peer.requests[0].json()["text"] == "Hello <script>x</script>"
    body = reply.json()
    assert body["direction"] == "outbound" and body["delivery_status"] == "queued"
    assert body["author_user"]["email"] == agent.email
    assert "<script>" not in body["html"]
    assert body["recipient_id"] == conversation.identity_id
    messages = as_agent("get", f"{path}/messages").json()["items"]
    assert [m["direction"] for m in messages] == ["inbound", "outbound"]
    assert messages[1]["delivery_status"] in ("sent", "delivered")
    assert (
        as_agent("get", f"/conversations/{conversation.pk}")
        .json()["last_message_excerpt"]
        .startswith("Hello")
    )


def test_reply_through_another_channel_and_identity(api, receive, email_channel):
    conversation = receive(email="r@example.com").conversation
    phone = conversation.customer.identities.create(kind="phone", value="+12025550100")
    path = f"/conversations/{conversation.pk}/replies"
    response = api(
        "post", path, json={"text": "by phone", "channel": "support-email", "recipient_id": phone.pk}
    )
    assert response.status_code == 201, response.content
    assert response.json()["channel"] == "support-email" and response.json()["recipient_id"] == phone.pk
    other = receive(email="someone-else@example.com").customer.identities.get()
    assert api("post", path, json={"text": "x", "recipient_id": other.pk}).status_code == 422
    assert api("post", path, json={"text": "x", "recipient_id": 10**15}).status_code == 404
    assert api("post", path, json={"text": "x", "channel": "nope"}).status_code == 422
    assert api("post", path, json={"text": ""}).status_code == 422
    assert api("post", path, json={"text": "   "}).status_code == 422
    assert Message.objects.filter(direction="outbound").count() == 1


def test_reply_with_attachments_and_the_size_limit(as_agent, receive, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.FIRSTRING_MAX_ATTACHMENT_BYTES = 1000
    conversation = receive().conversation
    path = f"/conversations/{conversation.pk}/replies/upload"
    ok = as_agent(
        "post",
        path,
        data={
            "text": "see attached",
            "files": [SimpleUploadedFile("../../etc/a.txt", b"hello", "text/plain")],
        },
    )
    assert ok.status_code == 201, ok.content
    assert ok.json()["attachments"] == [
        {
            "id": Attachment.objects.get().pk,
            "filename": "a.txt",
            "content_type": "text/plain",
            "size": 5,
            "inline": False,
        }
    ]
    too_big = as_agent(
        "post", path, data={"text": "x", "files": [SimpleUploadedFile("big.bin", b"x" * 1001)]}
    )
    assert too_big.status_code == 413
    assert Message.objects.filter(direction="outbound").count() == 1
    only_file = as_agent(
        "post", path, data={"files": [SimpleUploadedFile("b.pdf", b"%PDF", "application/pdf")]}
    )
    assert only_file.status_code == 201
    assert as_agent("post", path, data={"text": ""}).status_code == 422


def test_notes_are_internal_and_listed(as_agent, receive, run_tasks):
    conversation = receive().conversation
    note = as_agent(
        "post", f"/conversations/{conversation.pk}/notes", json={"text": "call back <i>Monday</i>"}
    )
    assert note.status_code == 201
    assert note.json()["direction"] == "note" and note.json()["delivery_status"] == ""
    assert "<i>" not in note.json()["html"]
    assert run_tasks() == 0, "a note is never delivered"
    assert as_agent("post", f"/conversations/{conversation.pk}/notes", json={"text": " "}).status_code == 422
    assert (
        as_agent("post", f"/conversations/{conversation.pk}/notes", json={"text": "a\x00"}).status_code == 422
    )


def test_message_pages(api, receive):
    first = receive(email="pg@example.com", text="one")
    for text in ("two", "three", "four"):
        receive(email="pg@example.com", text=text)
    path = f"/conversations/{first.conversation.pk}/messages"
    page = api("get", f"{path}?limit=3").json()
    rest = api("get", f"{path}?limit=3&cursor={page['next_cursor']}").json()
    assert [m["text"] for m in page["items"] + rest["items"]] == ["one", "two", "three", "four"]
    assert rest["next_cursor"] is None
