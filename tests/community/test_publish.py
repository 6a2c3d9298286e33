"""A resolved conversation's answer to the community: the anonymised draft, the preview, the post."""

from __future__ import annotations

import pytest
from django.test import Client

from firstring.community.models import Post, Thread
from firstring.conversations.services import conversation_set_status, reply_send

PRIVATE = ("Carla", "Customer", "carla.private@gmail.com", "carla@example.com", "55123", "0151", "+49151")


def _staff(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def resolved(receive, email_channel, agent, help_center):
    received = receive(
        channel=email_channel,
        email="carla@example.com",
        phone="+4915112345678",
        name="Carla Customer",
        subject="Carla Customer: order #55123 never came",
        text=(
            "Hi, I'm Carla Customer and my order #55123 never came. Mail me at carla.private@gmail.com "
            "or call 0151 12345678."
        ),
    )
    conversation = received.conversation
    reply_send(
        conversation=conversation,
        author=agent,
        text="Hello Carla, a parcel that never came is sent again at no cost: order 55123 is on its way.",
    )
    return conversation_set_status(conversation=conversation, status="resolved", actor=agent)


def test_the_draft_takes_the_customer_out(agent, resolved):
    page = _staff(agent).get(f"/conversations/{resolved.pk}/community/")
    assert page.status_code == 200
    draft = page.context["form"]
    text = " ".join((draft["title"], draft["question"], draft["answer"]))
    assert draft["answer"] in page.content.decode()
    for private in PRIVATE:
        assert private not in text, private
    assert "a parcel that never came is sent again at no cost" in text and "[name]" in text
    assert (
        f"/conversations/{resolved.pk}/community/"
        in _staff(agent).get(f"/conversations/{resolved.pk}/").content.decode()
    )


def test_hostile_input_is_previewed_inert_and_the_customers_details_never_posted(
    agent, resolved, help_center
):
    client = _staff(agent)
    form = {
        "center": help_center.pk,
        "language": "en",
        "title": "<script>alert(1)</script> Carla's parcel never came",
        "question": 'My parcel never came <img src=x onerror="alert(1)"> [click](javascript:alert(1)) CARLA',
        "answer": "We send it again, Carla (carla@example.com, +4915112345678).<svg onload=alert(1)>",
    }
    preview = client.post(f"/conversations/{resolved.pk}/community/", {**form, "action": "preview"})
    assert preview.status_code == 200
    shown = preview.content.decode()
    assert "<script>alert" not in shown and "<img" not in shown and "<svg" not in shown
    assert 'href="javascript:' not in shown and "carla@example.com" not in shown
    assert "&lt;img src=x onerror" in shown, "shown as text, not dropped silently"

    posted = client.post(f"/conversations/{resolved.pk}/community/", {**form, "action": "post"})
    assert posted.status_code == 302
    thread = Thread.objects.get()
    assert thread.author_user == agent and thread.conversation_id == resolved.pk
    assert "Carla" not in thread.title and thread.title.startswith("<script>")  # escaped where shown
    answer = Post.objects.get(thread=thread, is_question=False)
    assert thread.accepted_post == answer and answer.by_staff
    for post in Post.objects.filter(thread=thread):
        for private in ("Carla", "CARLA", "carla@example.com", "+4915112345678"):
            assert private not in post.body and private not in post.body_html
        assert "<img" not in post.body_html and "<svg" not in post.body_html
        assert 'href="javascript:' not in post.body_html
    public = Client().get(f"/help/en/community/t/{thread.pk}/").content.decode()
    assert "<script>alert(1)</script>" not in public and "&lt;script&gt;" in public
    assert "We send it again, [name]" in public


def test_only_a_resolved_conversation_the_agent_may_see_is_posted(
    agent, billing_agent, resolved, help_center, receive
):
    form = {
        "center": help_center.pk,
        "language": "en",
        "title": "Lost parcel",
        "question": "Q?",
        "answer": "A.",
    }
    url = f"/conversations/{resolved.pk}/community/"
    assert _staff(billing_agent).get(url).status_code == 404
    assert _staff(billing_agent).post(url, {**form, "action": "post"}).status_code == 404
    open_one = receive(email="dan@example.com", text="Where is it?").conversation
    assert _staff(agent).get(f"/conversations/{open_one.pk}/community/").status_code in (404, 409)
    conversation_set_status(conversation=resolved, status="open", actor=agent)
    assert _staff(agent).get(url).status_code == 409
    assert _staff(agent).post(url, {**form, "action": "post"}).status_code == 409
    assert not Thread.objects.exists()


@pytest.mark.parametrize(
    "change",
    [
        {"center": "abc"},
        {"center": str(2**64)},
        {"action": "publish-everything"},
        {"title": "Hi"},
        {"language": "xx"},
        {"answer": "   "},
        {"question": "x" * 20_001},
    ],
)
def test_bad_input_is_a_clear_4xx(agent, resolved, help_center, change):
    form = {
        "center": help_center.pk,
        "language": "en",
        "title": "Lost parcel",
        "question": "My parcel never came.",
        "answer": "We send it again.",
        "action": "post",
        **change,
    }
    response = _staff(agent).post(f"/conversations/{resolved.pk}/community/", form)
    assert 400 <= response.status_code < 500
    assert not Thread.objects.exists()


def test_csrf_and_a_staff_login_are_required(agent, resolved, help_center):
    url = f"/conversations/{resolved.pk}/community/"
    assert Client().get(url).status_code == 302
    client = Client(enforce_csrf_checks=True)
    client.force_login(agent)
    form = {
        "center": help_center.pk,
        "language": "en",
        "title": "Lost parcel",
        "question": "Q?",
        "answer": "A.",
    }
    assert client.post(url, {**form, "action": "post"}).status_code == 403
