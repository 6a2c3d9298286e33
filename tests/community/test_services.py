"""Community services through their public functions, on the real database."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail, signing
from django.utils import timezone

from firstring.community.models import Member, Post, Thread, ThreadSearchEntry
from firstring.community.search import search_threads
from firstring.community.services import (
    answer_accept,
    answer_create,
    member_ban,
    post_flag,
    post_hide,
    post_restore,
    post_vote,
    signin_link_send,
    signin_link_use,
    thread_create,
    thread_lock,
    threads_bridge_unanswered,
)
from firstring.community.services.signin import SALT
from firstring.customers.models import Identity
from firstring.lib.errors import Conflict, Forbidden, InvalidInput, NotFound, RateLimited
from tests.community.conftest import make_member


def _link(help_center, email="carla@example.com"):
    tokens = []
    signin_link_send(
        help_center=help_center, email=email, language="en", link_url=lambda t: tokens.append(t) or f"/x/{t}/"
    )
    return tokens[0]


def _ask(help_center, author, title="How do I reset my password?", body="I forgot it.", **kw):
    return thread_create(help_center=help_center, author=author, title=title, body=body, language="en", **kw)


def test_a_sign_in_link_is_mailed_and_signs_in_the_customer_with_that_address_once(
    help_center, receive, run_tasks, django_capture_on_commit_callbacks
):
    known = receive(email="Carla@Example.com", text="Where is my parcel?")
    with django_capture_on_commit_callbacks(execute=True):
        token = _link(help_center, " CARLA@example.com ")
    run_tasks()
    assert mail.outbox[-1].to == ["carla@example.com"] and f"/x/{token}/" in mail.outbox[-1].body

    member = signin_link_use(help_center=help_center, token=token)
    assert member.customer_id == known.customer.pk and member.display_name == "Member " + str(member.pk)
    assert Identity.objects.get(value="carla@example.com").verified
    with pytest.raises(InvalidInput, match="used already"):
        signin_link_use(help_center=help_center, token=token)


def test_a_new_address_becomes_a_new_customer_and_a_public_name_hides_the_address(help_center):
    member = signin_link_use(help_center=help_center, token=_link(help_center, "new@example.com"))
    assert Identity.objects.get(value="new@example.com").customer_id == member.customer_id
    assert "example" not in member.display_name


def test_tampered_expired_and_foreign_links_are_refused(help_center, settings):
    token = _link(help_center)
    with pytest.raises(InvalidInput, match="not a valid"):
        signin_link_use(help_center=help_center, token=token[:-2] + "xx")
    forged = signing.dumps({"l": 1, "s": "guess"}, salt="another.salt")
    with pytest.raises(InvalidInput, match="not a valid"):
        signin_link_use(help_center=help_center, token=forged)
    guessed_secret = signing.dumps({"l": 1, "s": "guess"}, salt=SALT)
    with pytest.raises(InvalidInput, match="not a valid"):
        signin_link_use(help_center=help_center, token=guessed_secret)
    other = type(help_center).objects.create(name="Other", prefix="other")
    with pytest.raises(InvalidInput, match="not a valid"):
        signin_link_use(help_center=other, token=token)
    settings.FIRSTRING_COMMUNITY_LINK_MINUTES = 0
    with pytest.raises(InvalidInput, match="expired"):
        signin_link_use(help_center=help_center, token=token)


def test_links_per_address_are_limited_and_bad_addresses_refused(help_center):
    for _ in range(5):
        _link(help_center)
    with pytest.raises(RateLimited):
        _link(help_center)
    with pytest.raises(InvalidInput):
        _link(help_center, "not an address")


def test_markdown_is_rendered_and_made_inert(help_center, alice):
    body = (
        "**Bold** <script>alert(1)</script> [x](javascript:alert(2)) "
        '<img src=x onerror="alert(3)"> <svg onload=alert(4)></svg>'
    )
    thread = _ask(help_center, alice, body=body)
    post = Post.objects.get(thread=thread)
    assert "<strong>Bold</strong>" in post.body_html
    # Raw HTML is shown as text, never as tags; the javascript: link is no link.
    for bad in ("<script", 'href="javascript', "<img", "<svg"):
        assert bad not in post.body_html


def test_staff_answers_are_marked_and_announcements_are_staff_only(help_center, alice, agent):
    thread = _ask(help_center, alice)
    answer = answer_create(thread=thread, author=agent, body="Use **Forgot password**.")
    assert answer.by_staff and not Post.objects.get(thread=thread, is_question=True).by_staff
    with pytest.raises(Forbidden):
        _ask(help_center, alice, title="Big news everyone", kind=Thread.Kind.ANNOUNCEMENT)
    news = _ask(help_center, agent, title="New opening hours", kind=Thread.Kind.ANNOUNCEMENT)
    assert news.kind == "announcement" and news.author_user == agent
    with pytest.raises(InvalidInput):
        _ask(help_center, alice, title="no")
    with pytest.raises(InvalidInput):
        answer_create(thread=thread, author=alice, body="   ")


def test_one_vote_per_member_and_post_and_none_on_ones_own(help_center, alice, bob):
    thread = _ask(help_center, alice)
    answer = answer_create(thread=thread, author=bob, body="Try the link on the sign-in page.")
    carol = make_member("carol@example.com")
    assert post_vote(post=answer, member=alice, value=1).score == 1
    assert post_vote(post=answer, member=alice, value=1).score == 1
    assert post_vote(post=answer, member=carol, value=-1).score == 0
    assert post_vote(post=answer, member=alice, value=0).score == -1
    with pytest.raises(Forbidden):
        post_vote(post=answer, member=bob, value=1)
    with pytest.raises(InvalidInput):
        post_vote(post=answer, member=alice, value=5)


def test_the_asker_or_staff_accept_an_answer_nobody_else(help_center, alice, bob, agent):
    thread = _ask(help_center, alice)
    answer = answer_create(thread=thread, author=bob, body="Try the link on the sign-in page.")
    with pytest.raises(Forbidden):
        answer_accept(thread=thread, post=answer, actor=bob)
    assert answer_accept(thread=thread, post=answer, actor=alice).accepted_post_id == answer.pk
    assert ThreadSearchEntry.objects.get(thread=thread).answered
    other = answer_create(thread=thread, author=agent, body="Or ask us to reset it.")
    assert answer_accept(thread=thread, post=other, actor=agent).accepted_post_id == other.pk
    question = Post.objects.get(thread=thread, is_question=True)
    with pytest.raises(NotFound):
        answer_accept(thread=thread, post=question, actor=alice)


def test_banned_members_and_locked_threads(help_center, alice, bob, manager, agent):
    thread = _ask(help_center, alice)
    with pytest.raises(Forbidden):
        member_ban(member=bob, actor=agent, reason="spam")
    with pytest.raises(InvalidInput):
        member_ban(member=bob, actor=manager, reason=" ")
    member_ban(member=bob, actor=manager, reason="insults")
    bob.refresh_from_db()
    with pytest.raises(Forbidden, match="banned"):
        answer_create(thread=thread, author=bob, body="Still here.")
    thread_lock(thread=thread, actor=agent)
    with pytest.raises(Forbidden, match="locked"):
        answer_create(thread=thread, author=alice, body="One more thing.")
    assert answer_create(thread=thread, author=agent, body="Closing this one.").by_staff


def test_the_spam_filter_holds_links_and_banned_words_and_refuses_repeats(help_center, alice, settings):
    settings.FIRSTRING_COMMUNITY_POSTS_PER_MINUTE = 10
    settings.FIRSTRING_COMMUNITY_BANNED_WORDS = ["casino"]
    links = _ask(help_center, alice, body="http://a.example http://b.example https://c.example www.d.example")
    assert links.is_hidden and Post.objects.get(thread=links).review_needed
    assert not ThreadSearchEntry.objects.filter(thread=links).exists()
    thread = _ask(help_center, alice, title="Where is the best Casino?", body="Play at the CASINO tonight")
    held = Post.objects.get(thread=thread)
    assert held.hidden_reason == "spam filter: the word 'casino'"
    fine = _ask(help_center, alice, title="Another question here", body="Is casinos a word?")
    assert not fine.is_hidden
    with pytest.raises(InvalidInput, match="same text"):
        answer_create(thread=fine, author=alice, body="is  CASINOS a word?")


def test_posting_is_rate_limited_per_member(help_center, alice, bob, settings):
    settings.FIRSTRING_COMMUNITY_POSTS_PER_MINUTE = 2
    thread = _ask(help_center, alice)
    answer_create(thread=thread, author=alice, body="Any idea, anyone?")
    with pytest.raises(RateLimited):
        answer_create(thread=thread, author=alice, body="Hello? Anyone at all?")
    answer_create(thread=thread, author=bob, body="Yes: the link on the sign-in page.")
    Post.objects.filter(author_member=alice).update(created_at=timezone.now() - timedelta(minutes=2))
    answer_create(thread=thread, author=alice, body="Thanks, that worked.")


def test_flags_queue_a_post_hide_it_at_three_and_a_moderator_settles_them(help_center, alice, bob, agent):
    thread = _ask(help_center, alice)
    answer = answer_create(thread=thread, author=bob, body="Buy followers at my shop.")
    with pytest.raises(InvalidInput):
        post_flag(post=answer, member=bob)
    post_flag(post=answer, member=alice, reason="advertising")
    with pytest.raises(Conflict):
        post_flag(post=answer, member=alice)
    post_flag(post=answer, member=make_member("c@example.com"))
    flagged = post_flag(post=answer, member=make_member("d@example.com"))
    assert flagged.is_hidden and flagged.review_needed and flagged.flag_count == 3
    thread.refresh_from_db()
    assert thread.answer_count == 0
    restored = post_restore(post=answer, actor=agent)
    assert not restored.is_hidden and not restored.review_needed and restored.flag_count == 0
    thread.refresh_from_db()
    assert thread.answer_count == 1


def test_hiding_the_question_hides_the_thread_and_takes_it_out_of_search(help_center, alice, agent):
    thread = _ask(help_center, alice, title="Printer makes a grinding noise")
    assert [
        h.thread_id for h in search_threads(query="grinding", help_center=help_center, languages=None)
    ] == [thread.pk]
    post_hide(post=Post.objects.get(thread=thread), actor=agent, reason="off topic")
    thread.refresh_from_db()
    assert (
        thread.is_hidden and search_threads(query="grinding", help_center=help_center, languages=None) == []
    )
    post_restore(post=Post.objects.get(thread=thread), actor=agent)
    assert (
        search_threads(query="grindng noise", help_center=help_center, languages=None)[0].thread_id
        == thread.pk
    )


def test_answers_are_searchable_and_hidden_answers_are_not(help_center, alice, bob, agent):
    thread = _ask(help_center, alice, title="Router keeps dropping")
    answer = answer_create(thread=thread, author=bob, body="Update the firmware to version nine.")
    assert search_threads(query="firmware", help_center=help_center, languages=None)[0].thread_id == thread.pk
    post_hide(post=answer, actor=agent)
    assert search_threads(query="firmware", help_center=help_center, languages=None) == []


def test_an_unanswered_question_becomes_a_conversation_once(help_center, alice, bob, email_channel, settings):
    settings.FIRSTRING_COMMUNITY_UNANSWERED_HOURS = 24
    old = _ask(help_center, alice, title="Nobody knows this one", body="Can I pay by cheque?")
    answered = _ask(help_center, bob, title="Somebody knows this one")
    answer_create(thread=answered, author=alice, body="Yes, it works.")
    fresh = _ask(help_center, bob, title="Asked just now, please wait", body="Is there a shop in Bonn?")
    Thread.objects.filter(pk__in=[old.pk, answered.pk]).update(
        created_at=timezone.now() - timedelta(hours=25)
    )

    assert threads_bridge_unanswered() == 1
    old.refresh_from_db()
    conversation = old.conversation
    assert conversation is not None and conversation.customer_id == alice.customer_id
    assert conversation.channel == email_channel and "Nobody knows this one" in conversation.subject
    assert "cheque" in conversation.messages.get().text
    assert threads_bridge_unanswered() == 0
    for thread in (answered, fresh):
        thread.refresh_from_db()
        assert thread.conversation is None


def test_the_bridge_waits_for_a_channel(help_center, alice, settings):
    _ask(help_center, alice)
    Thread.objects.update(created_at=timezone.now() - timedelta(days=3))
    assert threads_bridge_unanswered() == 0
    assert Member.objects.count() == 1
