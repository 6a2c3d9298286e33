"""The community's public pages and the staff's moderation pages, through the Django test client."""

from __future__ import annotations

import pytest
from django.test import Client

from firstring.community.models import Member, Post, Thread
from firstring.community.services import answer_create, post_hide, thread_create
from firstring.community.session import SESSION_KEY


def _ask(help_center, author, title="How do I reset my password?", body="I forgot it."):
    return thread_create(help_center=help_center, author=author, title=title, body=body, language="en")


def _staff(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def carla(sign_in, receive) -> Client:
    receive(email="carla@example.com", text="My parcel never came.", subject="Lost parcel")
    return sign_in(Client(), "carla@example.com")


def test_signing_in_by_link_shows_my_conversations_and_nobody_elses(carla, receive, help_center):
    theirs = receive(email="dan@example.com", text="Dan's secret order 4711", subject="Dan's order")
    mine = receive(email="carla@example.com", text="Still no parcel!", subject="Lost parcel")

    page = carla.get("/help/en/me/conversations/")
    text = page.content.decode()
    assert page.status_code == 200 and "Lost parcel" in text and "Open" in text
    assert "Dan" not in text and "4711" not in text

    detail = carla.get(f"/help/en/me/conversations/{mine.conversation.pk}/")
    assert detail.status_code == 200 and "Still no parcel!" in detail.content.decode()
    # Guessing ids: somebody else's, a missing one, an absurd one, all the same 404.
    for conversation_id in (theirs.conversation.pk, theirs.conversation.pk + 1000, 10**30):
        assert carla.get(f"/help/en/me/conversations/{conversation_id}/").status_code == 404


def test_internal_notes_are_never_shown_to_the_customer(carla, receive, agent):
    from firstring.conversations.services import note_add

    received = receive(email="carla@example.com", text="Where is it?", subject="Lost parcel")
    note_add(conversation=received.conversation, author=agent, text="Customer is a known complainer")
    page = carla.get(f"/help/en/me/conversations/{received.conversation.pk}/")
    assert page.status_code == 200 and "known complainer" not in page.content.decode()


def test_my_conversations_needs_a_customer_sign_in_and_staff_login_is_not_one(help_center, agent, receive):
    received = receive(email="carla@example.com")
    anonymous = Client()
    page = anonymous.get("/help/en/me/conversations/")
    assert page.status_code == 403 and "Sign in first" in page.content.decode()
    staff = _staff(agent)
    assert staff.get("/help/en/me/conversations/").status_code == 403
    assert staff.get(f"/help/en/me/conversations/{received.conversation.pk}/").status_code == 403


def test_a_customer_session_grants_no_staff_access(carla, receive):
    received = receive(email="carla@example.com")
    assert SESSION_KEY in carla.session and "_auth_user_id" not in carla.session
    for path in ("/", f"/conversations/{received.conversation.pk}/", "/community/", "/kb/"):
        response = carla.get(path)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/"), path
    assert carla.get("/api/v1/conversations").status_code == 401


def test_signing_out_keeps_a_staff_login_and_ends_the_customer_session(sign_in, agent):
    client = _staff(agent)
    sign_in(client, "carla@example.com")
    assert client.get("/help/en/me/conversations/").status_code == 200
    assert client.post("/help/en/signout/").status_code == 302
    assert client.get("/help/en/me/conversations/").status_code == 403
    assert client.get("/").status_code == 200


def test_a_link_used_twice_or_broken_is_a_clear_error_not_a_500(sign_in, help_center, run_tasks):
    client = Client()
    from django.core import mail

    sign_in(client, "carla@example.com")
    path = next(line for line in mail.outbox[-1].body.splitlines() if "/signin/" in line).split(
        "testserver", 1
    )[1]
    again = Client().post(path)
    assert again.status_code == 422 and "used already" in again.content.decode()
    broken = Client().post("/help/en/signin/not-a-token/")
    assert broken.status_code == 422 and "not a valid sign-in link" in broken.content.decode()
    bad = Client().post("/help/en/signin/", {"email": "nope"})
    assert bad.status_code == 422 and "email" in bad.content.decode()


def test_csrf_is_checked_on_every_community_form(help_center, alice):
    thread = _ask(help_center, alice)
    post = Post.objects.get(thread=thread)
    client = Client(enforce_csrf_checks=True)
    for path, data in (
        ("/help/en/signin/", {"email": "carla@example.com"}),
        ("/help/en/community/ask/", {"title": "A question here", "body": "text"}),
        (f"/help/en/community/t/{thread.pk}/answer/", {"body": "text"}),
        (f"/help/en/community/p/{post.pk}/vote/", {"value": "1"}),
        (f"/help/en/community/p/{post.pk}/flag/", {"reason": ""}),
        ("/help/en/signout/", {}),
    ):
        assert client.post(path, data).status_code == 403, path
    # With the token from the page, the form goes through.
    page = client.get("/help/en/signin/")
    token = page.cookies["csrftoken"].value
    sent = client.post("/help/en/signin/", {"email": "carla@example.com", "csrfmiddlewaretoken": token})
    assert sent.status_code == 200


def test_asking_answering_voting_accepting_and_flagging_through_the_pages(carla, sign_in, help_center, agent):
    asked = carla.post(
        "/help/en/community/ask/",
        {"title": "Can I change my delivery address?", "body": "After ordering, *please*."},
    )
    thread = Thread.objects.get()
    assert asked.status_code == 302 and asked["Location"] == f"/help/en/community/t/{thread.pk}/"
    staff_answer = answer_create(thread=thread, author=agent, body="Yes, in **My orders**.")
    dan = sign_in(Client(), "dan@example.com")
    assert (
        dan.post(f"/help/en/community/t/{thread.pk}/answer/", {"body": "I did it once."}).status_code == 302
    )
    assert dan.post(f"/help/en/community/p/{staff_answer.pk}/vote/", {"value": "1"}).status_code == 302
    assert dan.post(f"/help/en/community/t/{thread.pk}/accept/{staff_answer.pk}/").status_code == 403
    assert carla.post(f"/help/en/community/t/{thread.pk}/accept/{staff_answer.pk}/").status_code == 302

    page = Client().get(f"/help/en/community/t/{thread.pk}/").content.decode()
    assert "<em>please</em>" in page and "Accepted answer" in page and "Staff" in page
    assert page.index("My orders") < page.index("I did it once.")  # the accepted answer first
    assert "Score 1" in page

    dan_post = Post.objects.get(author_member__customer__identities__value="dan@example.com")
    assert carla.post(f"/help/en/community/p/{dan_post.pk}/flag/", {"reason": "wrong"}).status_code == 302
    assert Post.objects.get(pk=dan_post.pk).review_needed


def test_bad_input_is_a_clear_4xx(carla, help_center, alice):
    thread = _ask(help_center, alice)
    post = Post.objects.get(thread=thread)
    short = carla.post("/help/en/community/ask/", {"title": "Hi", "body": "x"})
    assert short.status_code == 422 and "title" in short.content.decode()
    assert carla.post(f"/help/en/community/p/{post.pk}/vote/", {"value": "7"}).status_code == 422
    assert carla.post(f"/help/en/community/t/{thread.pk}/answer/", {"body": ""}).status_code == 422
    assert carla.get(f"/help/en/community/t/{10**30}/").status_code == 404
    assert carla.post(f"/help/en/community/p/{10**30}/vote/", {"value": "1"}).status_code == 404
    assert carla.get("/help/xx/community/").status_code == 404
    assert carla.get("/nohelp/en/community/").status_code == 404
    assert Client().post(f"/help/en/community/t/{thread.pk}/answer/", {"body": "hi"}).status_code == 403
    assert carla.get(f"/help/en/community/t/{thread.pk}/answer/").status_code == 405


def test_hidden_posts_and_threads_are_invisible_to_the_public(help_center, alice, bob, agent, carla):
    visible = _ask(help_center, alice, title="Visible question")
    hidden_answer = answer_create(thread=visible, author=bob, body="Rude words here")
    post_hide(post=hidden_answer, actor=agent)
    hidden = _ask(help_center, bob, title="Hidden question about refunds")
    post_hide(post=Post.objects.get(thread=hidden), actor=agent)

    listing = carla.get("/help/en/community/").content.decode()
    assert "Visible question" in listing and "Hidden question" not in listing
    assert "Rude words" not in carla.get(f"/help/en/community/t/{visible.pk}/").content.decode()
    assert carla.get(f"/help/en/community/t/{hidden.pk}/").status_code == 404
    assert carla.post(f"/help/en/community/p/{hidden_answer.pk}/vote/", {"value": "1"}).status_code == 404
    assert carla.post(f"/help/en/community/t/{hidden.pk}/answer/", {"body": "hello"}).status_code == 404
    assert "Hidden question" not in carla.get("/help/en/search/", {"q": "refunds"}).content.decode()


def test_the_help_center_search_lists_community_threads_beside_articles(help_center, alice, publish):
    publish("Returning a parcel", "Print the label and bring the parcel to a shop.")
    thread = _ask(help_center, alice, title="Parcel arrived damaged", body="The box was crushed.")
    page = Client().get("/help/en/search/", {"q": "parcel"}).content.decode()
    assert "Returning a parcel" in page and "From the community" in page
    assert f'href="/help/en/community/t/{thread.pk}/"' in page


def test_the_moderation_queue_shows_held_and_flagged_posts_and_hides_them_by_htmx(
    help_center, alice, agent, manager
):
    held = _ask(help_center, alice, title="Great deals", body="http://a.x http://b.x http://c.x http://d.x")
    post = Post.objects.get(thread=held)
    client = _staff(agent)
    page = client.get("/community/")
    assert page.status_code == 200 and "Great deals" in page.content.decode()
    assert "spam filter: 4 links" in page.content.decode()
    assert "Ban member" not in page.content.decode()  # managers ban

    swapped = client.post(f"/community/posts/{post.pk}/hide/", {"reason": "spam"}, HTTP_HX_REQUEST="true")
    assert swapped.status_code == 200 and "is hidden" in swapped.content.decode()
    assert "<html" not in swapped.content.decode()
    assert "Nothing waits for a moderator" in client.get("/community/").content.decode()

    assert client.post(f"/community/members/{alice.pk}/ban/", {"reason": "spam"}).status_code == 403
    assert _staff(manager).post(f"/community/members/{alice.pk}/ban/", {"reason": "spam"}).status_code == 302
    assert Member.objects.get(pk=alice.pk).is_banned


def test_staff_post_announcements_answer_and_lock_from_the_app(help_center, alice, agent):
    client = _staff(agent)
    created = client.post(
        "/community/new/",
        {"center": help_center.pk, "kind": "announcement", "language": "en", "title": "New opening hours",
         "body": "From Monday we open at **eight**."},
    )  # fmt: skip
    news = Thread.objects.get(kind="announcement")
    assert created.status_code == 302 and news.author_user == agent
    thread = _ask(help_center, alice)
    assert (
        client.post(f"/community/threads/{thread.pk}/answer/", {"body": "Use the link."}).status_code == 302
    )
    assert client.post(f"/community/threads/{thread.pk}/lock/").status_code == 302
    page = client.get(f"/community/threads/{thread.pk}/").content.decode()
    assert "locked" in page and "Use the link." in page and "(staff)" in page
    assert client.post("/community/new/", {"center": "x"}).status_code == 422
    assert client.get(f"/community/threads/{10**30}/").status_code == 404


def test_the_community_speaks_the_help_centers_other_language(help_center, alice):
    _ask(help_center, alice)
    page = Client().get("/help/de/community/").content.decode()
    assert "Eine Frage stellen" in page and "Unbeantwortete Fragen" in page and "0 Antworten" in page
    assert 'href="/help/de/community/"' in Client().get("/help/de/").content.decode()
