"""The web chat over real websockets: a uvicorn server in a thread, clients speaking the widget's protocol."""

from __future__ import annotations

import gzip
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from firstring.accounts.models import User
from firstring.channels.models import Channel
from firstring.channels.webchat.consumers import MAX_FRAME_CHARS
from firstring.channels.webchat.identity import identity_hash
from firstring.channels.webchat.views import WIDGET_PATH
from firstring.conversations.models import Conversation, Message
from firstring.conversations.services import deliver_message, reply_send
from firstring.customers.models import Identity
from firstring.routing.services.offers import presence_set
from tests.channels.chat_server import ChatServer, Socket, chat_server

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

SITE = "http://shop.example.test:8080"
SECRET = "s3cret-identity-key"


@pytest.fixture(scope="module")
def server() -> Iterator[ChatServer]:
    with chat_server() as running:
        yield running


@pytest.fixture
def chat(support_team: Any, email_channel: Channel) -> Channel:
    return Channel.objects.create(
        kind="chat",
        slug="site-chat",
        name="Shop chat",
        team=support_team,
        config={"allowed_origins": [SITE], "greeting": "Hello there", "offline_channel": email_channel.slug},
        secrets={"identity_secret": SECRET},
    )


@pytest.fixture
def online(server: ChatServer, agent: User) -> User:
    server.call(lambda: presence_set(user=agent, presence="available"))
    return agent


def visitor(server: ChatServer, *, token: str = "", after: int = 0, user: dict[str, Any] | None = None,
            slug: str = "site-chat", origin: str = SITE) -> tuple[Socket, dict[str, Any]]:  # fmt: skip
    socket = server.socket(f"/ws/chat/{slug}/", origin=origin)
    socket.send({"type": "hello", "token": token, "after": after, "user": user})
    return socket, socket.recv()


def agent_socket(server: ChatServer, user: User) -> Socket:
    client = Client()
    client.force_login(user)
    cookie = f"sessionid={client.cookies['sessionid'].value}"
    return server.socket("/ws/live/", origin=server.url, headers={"Cookie": cookie})


def deliver_all(server: ChatServer, run_tasks: Callable[[], int]) -> None:
    """What the worker does: run the queued tasks (deliveries, the pipeline), on the server's loop."""
    server.call(run_tasks)


# The widget script.


def test_the_widget_is_served_to_any_site_and_stays_small():
    gzipped = len(gzip.compress(WIDGET_PATH.read_bytes(), compresslevel=9))
    assert gzipped < 50 * 1024, f"widget.js is {gzipped} bytes gzipped"
    response = Client().get("/channels/webchat/widget.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert response.content == WIDGET_PATH.read_bytes()
    again = Client().get("/channels/webchat/widget.js", HTTP_IF_NONE_MATCH=response["ETag"])
    assert again.status_code == 304


def test_the_setup_page_shows_the_exact_tag_to_staff_only(chat, agent, admin_user):
    assert Client().get("/channels/webchat/site-chat/").status_code == 302
    staff = Client()
    staff.force_login(admin_user)
    page = staff.get("/channels/webchat/site-chat/").content.decode()
    src = "http://testserver/channels/webchat/widget.js"
    assert f"&lt;script src=&quot;{src}&quot; data-channel=&quot;site-chat&quot; async&gt;" in page
    assert SITE in page and SECRET not in page
    assert staff.get("/channels/webchat/nope/").status_code == 404


# A conversation, live both ways.


def test_a_visitor_writes_the_inbox_hears_it_and_the_reply_comes_back_live(server, chat, online, run_tasks):
    inbox = agent_socket(server, online)
    socket, welcome = visitor(server)
    assert welcome["type"] == "welcome" and welcome["online"] is True and welcome["messages"] == []
    assert welcome["greeting"] == "Hello there" and welcome["verified"] is False

    socket.send({"type": "message", "id": "client-msg-1", "text": "Where is my parcel?", "name": "Vera"})
    ack = socket.recv()
    assert ack["type"] == "ack" and ack["id"] == "client-msg-1"
    assert ack["message"]["text"] == "Where is my parcel?" and ack["message"]["from"] == "visitor"
    message = Message.objects.select_related("conversation__customer").get(pk=ack["message"]["id"])
    conversation = message.conversation
    assert conversation.channel == chat and conversation.customer.name == "Vera"
    assert conversation.customer.identities.get().kind == Identity.Kind.VISITOR

    # The agents' inbox hears of it live.
    changed = inbox.recv_type("conversation.changed")
    assert changed["conversation_id"] == conversation.pk and changed["message_id"] == message.pk

    # The visitor's typing shows on the agent's screen open on the conversation, the agent's in the widget.
    inbox.send({"type": "watch", "conversation_id": conversation.pk})
    assert inbox.recv_type("watching")["conversation_id"] == conversation.pk
    socket.send({"type": "typing"})
    assert inbox.recv_type("typing")["conversation_id"] == conversation.pk
    inbox.send({"type": "typing", "conversation_id": conversation.pk})
    assert socket.recv_type("typing")["name"] == "Ana Agent"

    # The reply goes through the outbox; the widget gets it once it is sent, with the agent's name.
    reply = server.call(lambda: reply_send(conversation=conversation, author=online, text="It ships today."))
    assert socket.nothing_within(0.3)  # queued is not sent yet
    deliver_all(server, run_tasks)
    pushed = socket.recv_type("message")["message"]
    assert pushed == {
        "id": reply.pk,
        "from": "agent",
        "text": "It ships today.",
        "at": pushed["at"],
        "agent": {"name": "Ana Agent", "avatar": ""},
    }
    reply.refresh_from_db()
    assert reply.delivery_status == Message.Delivery.SENT

    # The widget showed it: delivered.
    socket.send({"type": "seen", "id": reply.pk})
    socket.nothing_within(0.3)
    reply.refresh_from_db()
    assert reply.delivery_status == Message.Delivery.DELIVERED

    # Internal notes never reach the visitor; a reload (a new connection with the token) shows the history.
    socket.close()
    again, welcome = visitor(server, token=welcome["token"])
    assert [m["text"] for m in welcome["messages"]] == ["Where is my parcel?", "It ships today."]
    again.close()
    inbox.close()


def test_reconnecting_resumes_without_losing_or_repeating_a_message(server, chat, online, run_tasks):
    socket, welcome = visitor(server)
    token = welcome["token"]
    socket.send({"type": "message", "id": "resume-0001", "text": "First"})
    first = socket.recv_type("ack")["message"]
    conversation = Conversation.objects.get(messages__pk=first["id"])
    socket.close()

    # While the visitor is away, two replies go out and nobody is there to see them.
    for text in ("Reply one", "Reply two"):
        server.call(lambda text=text: reply_send(conversation=conversation, author=online, text=text))
    deliver_all(server, run_tasks)

    # The widget had not heard its second message confirmed: it sends it again after reconnecting.
    socket, welcome = visitor(server, token=token, after=first["id"])
    assert [m["text"] for m in welcome["messages"]] == ["Reply one", "Reply two"]
    socket.send({"type": "message", "id": "resume-0002", "text": "Second"})
    stored = socket.recv_type("ack")["message"]
    socket.send({"type": "message", "id": "resume-0002", "text": "Second"})
    assert socket.recv_type("ack")["message"]["id"] == stored["id"]
    assert conversation.messages.filter(text="Second").count() == 1
    last = welcome["messages"][-1]["id"]
    socket.close()

    # Resuming from the last id seen gives exactly what came after it.
    socket, welcome = visitor(server, token=token, after=last)
    assert [m["text"] for m in welcome["messages"]] == ["Second"]
    socket, welcome = visitor(server, token=token, after=stored["id"])
    assert welcome["messages"] == []
    socket.close()


def test_a_second_tab_follows_a_conversation_the_first_one_started(server, chat, online, run_tasks):
    one, welcome = visitor(server)
    one.send({"type": "message", "id": "tab-one-0001", "text": "Hi"})
    one.recv_type("ack")
    two, _ = visitor(server, token=welcome["token"])
    conversation = Conversation.objects.get(channel=chat)
    server.call(lambda: conversation_resolve(conversation))

    # A message after the conversation was resolved opens a new one; the other tab follows it.
    one.send({"type": "message", "id": "tab-one-0002", "text": "One more thing"})
    one.recv_type("ack")
    assert two.recv_type("message")["message"]["text"] == "One more thing"
    newer = Conversation.objects.filter(channel=chat).latest("pk")
    assert newer.pk != conversation.pk
    server.call(lambda: reply_send(conversation=newer, author=online, text="Go on"))
    deliver_all(server, run_tasks)
    assert one.recv_type("message")["message"]["text"] == "Go on"
    assert two.recv_type("message")["message"]["text"] == "Go on"
    one.close()
    two.close()


def conversation_resolve(conversation: Conversation) -> None:
    from firstring.conversations.services import conversation_set_status

    conversation_set_status(conversation=conversation, status="resolved", actor=None)


# Who the visitor is.


def test_a_verified_user_joins_their_history_and_an_unverified_claim_never_does(server, chat, receive):
    known = receive(email="kim@example.com", text="Earlier, by e-mail").customer

    socket, welcome = visitor(
        server, user={"email": "kim@example.com", "hash": identity_hash(SECRET, "kim@example.com")}
    )
    assert welcome["verified"] is True
    socket.send({"type": "message", "id": "verified-001", "text": "Hi, it is Kim"})
    stored = Message.objects.get(pk=socket.recv_type("ack")["message"]["id"])
    assert stored.conversation.customer == known
    socket.close()

    # The same address typed into the pre-chat form (unverified) makes a customer of its own.
    socket, _ = visitor(server)
    socket.send({"type": "message", "id": "claimed-001", "text": "I am Kim too", "email": "kim@example.com"})
    claimed = Message.objects.get(pk=socket.recv_type("ack")["message"]["id"])
    assert claimed.conversation.customer != known
    assert claimed.metadata["prechat"] == {"email": "kim@example.com", "email_verified": False}
    assert not Identity.objects.filter(kind="visitor", customer=known).exists()
    socket.close()

    # A verified user id lives in the channel's namespace.
    socket, welcome = visitor(server, user={"id": "u-42", "hash": identity_hash(SECRET, "u-42")})
    socket.send({"type": "message", "id": "verified-002", "text": "By id"})
    by_id = Message.objects.get(pk=socket.recv_type("ack")["message"]["id"])
    assert by_id.conversation.identity.kind == "external" and by_id.conversation.identity.value == "u-42"
    socket.close()


def test_a_forged_hash_is_refused_and_stores_nothing(server, chat, receive):
    receive(email="kim@example.com", text="Earlier")
    before = Message.objects.count(), Identity.objects.count()
    socket, error = visitor(
        server, user={"email": "kim@example.com", "hash": identity_hash("guess", "kim@example.com")}
    )
    assert error["type"] == "error" and error["code"] == 4403 and "hash" in error["detail"]
    assert socket.close_code() == 4403
    socket, _ = visitor(server, user={"email": "kim@example.com"})
    assert socket.close_code() == 4400
    assert (Message.objects.count(), Identity.objects.count()) == before


def test_a_forged_or_foreign_token_gets_a_new_visitor_without_history(server, chat):
    socket, welcome = visitor(server)
    socket.send({"type": "message", "id": "token-0001", "text": "Mine"})
    socket.recv_type("ack")
    socket.close()
    forged = welcome["token"][:-3] + ("aaa" if not welcome["token"].endswith("aaa") else "bbb")
    socket, again = visitor(server, token=forged)
    assert again["messages"] == [] and again["token"] != welcome["token"]
    socket.close()


# Offline.


def test_offline_a_visitor_leaves_an_address_and_it_becomes_an_email_conversation(
    server, chat, email_channel
):
    socket, welcome = visitor(server)
    assert welcome["online"] is False and welcome["offline_form"] is True
    socket.send({"type": "offline", "id": "offline-001", "email": "Lea@Example.com", "text": "Call me back"})
    assert socket.recv_type("offline.ack")["id"] == "offline-001"
    message = Message.objects.select_related("conversation__identity").get(text="Call me back")
    assert message.conversation.channel == email_channel
    assert (
        message.conversation.identity.kind == "email"
        and message.conversation.identity.value == "lea@example.com"
    )
    socket.send({"type": "offline", "id": "offline-002", "email": "not an address", "text": "x"})
    assert socket.recv_type("error")["code"] == 422
    socket.close()


# Bad input: a clear close code or error, and nothing stored.


def test_unknown_channel_and_wrong_origin_are_refused(server, chat):
    assert visitor(server, slug="nope")[0].close_code() == 4404
    socket, error = visitor(server, origin="https://evil.example")
    assert error["code"] == 4403 and socket.close_code() == 4403
    Channel.objects.filter(pk=chat.pk).update(enabled=False)
    assert visitor(server)[0].close_code() == 4404


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("{not json", 4400),
        (b"\x00binary", 4400),
        ("[1, 2]", 4400),
        ({"type": "dance"}, 4400),
        ({"type": "message", "id": "x" * 10, "text": "y" * (MAX_FRAME_CHARS + 1)}, 4413),
        ({"type": "seen", "id": "soon"}, 4400),
    ],
)
def test_malformed_or_oversized_frames_close_the_socket(server, chat, frame, code, caplog):
    caplog.set_level("INFO", logger="firstring.channels.webchat.consumers")
    socket, _ = visitor(server)
    socket.send(frame)
    assert socket.close_code() == code
    assert not Message.objects.exists()
    assert f"chat site-chat closed a visitor's socket with {code}" in caplog.text


def test_a_frame_before_hello_closes_and_refused_messages_store_nothing(server, chat):
    socket = server.socket("/ws/chat/site-chat/", origin=SITE)
    socket.send({"type": "message", "id": "early-0001", "text": "hi"})
    assert socket.close_code() == 4400
    socket, _ = visitor(server)
    for bad, status in (
        ({"type": "message", "id": "empty-0001", "text": "   "}, 422),
        ({"type": "message", "id": "long-00001", "text": "x" * 5001}, 413),
        ({"type": "message", "id": "no", "text": "short id"}, 422),
        ({"type": "message", "id": "mail-00001", "text": "hi", "email": "nope"}, 422),
    ):
        socket.send(bad)
        assert socket.recv_type("error")["code"] == status
    assert not Message.objects.exists()
    socket.close()


def test_a_chat_reply_for_another_channel_fails_for_good(server, chat, agent, receive, run_tasks):
    conversation = receive(email="max@example.com").conversation
    reply = server.call(lambda: reply_send(conversation=conversation, author=agent, text="Hi", channel=chat))
    server.call(lambda: deliver_message.call(reply.pk))
    reply.refresh_from_db()
    assert reply.delivery_status == Message.Delivery.FAILED
    assert "same chat channel" in reply.delivery_error


# Files.


def upload(server: ChatServer, *, origin: str = SITE, slug: str = "site-chat", **fields: Any) -> Any:
    """POST a file as the widget does, from the server's own thread (its live updates run there)."""
    return server.call(lambda: Client().post(f"/channels/webchat/{slug}/upload", fields, HTTP_ORIGIN=origin))


def test_a_visitor_sends_a_file_and_follows_the_conversation_it_starts(server, chat, online, run_tasks):
    socket, welcome = visitor(server)
    token = welcome["token"]
    pdf = b"%PDF-1.4 a receipt"
    response = upload(
        server, token=token, id="file-000001", text="My receipt", file=SimpleUploadedFile("receipt.pdf", pdf)
    )
    assert response.status_code == 201, response.content
    assert response["Access-Control-Allow-Origin"] == SITE
    message = response.json()["message"]
    assert message["text"] == "My receipt" and message["files"][0]["name"] == "receipt.pdf"
    again = upload(server, token=token, id="file-000001", file=SimpleUploadedFile("receipt.pdf", pdf))
    assert again.status_code == 200 and again.json()["message"]["id"] == message["id"]
    stored = Message.objects.get(pk=message["id"])
    assert stored.attachments.get().size == len(pdf)

    # The link is a download, never shown inline on our origin.
    download = Client().get(message["files"][0]["url"])
    assert download.status_code == 200 and b"".join(download.streaming_content) == pdf
    assert download["Content-Type"] == "application/octet-stream"
    assert download["Content-Disposition"].startswith("attachment")
    assert Client().get(message["files"][0]["url"][:-2] + "xx").status_code == 404

    # The upload started the visitor's first conversation: after "sync" the widget follows it.
    socket.send({"type": "sync"})
    socket.nothing_within(0.3)
    server.call(lambda: reply_send(conversation=stored.conversation, author=online, text="Thanks, got it"))
    deliver_all(server, run_tasks)
    assert socket.recv_type("message")["message"]["text"] == "Thanks, got it"
    socket.close()


def test_bad_uploads_are_refused_and_store_nothing(server, chat, settings):
    socket, welcome = visitor(server)
    token = welcome["token"]
    socket.close()

    def file() -> SimpleUploadedFile:
        return SimpleUploadedFile("a.txt", b"0123456789")

    assert (
        upload(server, origin="https://evil.example", token=token, id="bad-000001", file=file()).status_code
        == 403
    )
    assert upload(server, slug="nope", token=token, id="bad-000002", file=file()).status_code == 404
    assert upload(server, token="forged", id="bad-000003", file=file()).status_code == 403
    assert upload(server, token=token, id="bad-000004").status_code == 422
    assert upload(server, token=token, id="x", file=file()).status_code == 422
    forged = {"user_id": "u-1", "user_hash": identity_hash("guess", "u-1")}
    assert upload(server, token=token, id="bad-000005", file=file(), **forged).status_code == 403
    settings.FIRSTRING_MAX_ATTACHMENT_BYTES = 5
    too_big = upload(server, token=token, id="bad-000006", file=file())
    assert too_big.status_code == 413 and too_big["Access-Control-Allow-Origin"] == SITE
    assert not Message.objects.exists()
