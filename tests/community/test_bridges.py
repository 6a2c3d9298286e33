"""The bridges between the community and the team, through the public services and the worker's tasks."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from django.test import Client
from django.utils import timezone

from firstring.community.models import PostInsight, Thread
from firstring.community.services import answer_create, thread_create, threads_bridge_unanswered
from firstring.conversations.models import Conversation, Message
from firstring.insights.models import Topic

ANGRY = "This is ridiculous. Your router broke twice and nobody helps me. Terrible service!"
FURIOUS = "Still broken. I am furious, this is the worst support ever."


def _ask(help_center, author, body, title="Router keeps dropping the line"):
    return thread_create(help_center=help_center, author=author, title=title, body=body, language="en")


def _posted(capture, run_tasks, write):
    """Write, let the transaction's after-commit work queue its tasks, and run them as the worker would."""
    with capture(execute=True):
        result = write()
    run_tasks()
    return result


def test_every_post_gets_a_tone_and_a_topic_like_an_inbound_message(
    help_center, alice, bob, agent, run_tasks, django_capture_on_commit_callbacks
):
    billing = Topic.objects.create(name="Billing", examples=["I was charged twice", "refund my invoice"])
    Topic.objects.create(name="Delivery", examples=["where is my parcel", "the courier never came"])
    thread = _posted(
        django_capture_on_commit_callbacks,
        run_tasks,
        lambda: _ask(help_center, alice, "I was charged twice on my invoice, can I get a refund?"),
    )
    answer = _posted(
        django_capture_on_commit_callbacks,
        run_tasks,
        lambda: answer_create(thread=thread, author=bob, body="Thanks, that worked perfectly!"),
    )
    question = PostInsight.objects.get(post__thread=thread, post__is_question=True)
    assert question.topic == billing and question.help_center == help_center
    assert PostInsight.objects.get(post=answer).tone == "positive"
    staff = Client()
    staff.force_login(agent)
    page = staff.get(f"/community/threads/{thread.pk}/").content.decode()
    assert '<span class="tone tone-positive">positive</span>' in page and "· Billing" in page


def test_a_negative_question_becomes_a_conversation_at_once_and_only_once(
    help_center, alice, email_channel, run_tasks, django_capture_on_commit_callbacks, settings
):
    settings.FIRSTRING_COMMUNITY_UNANSWERED_HOURS = 24
    calm = _posted(
        django_capture_on_commit_callbacks,
        run_tasks,
        lambda: _ask(help_center, alice, "Can I pay by cheque?", title="Paying by cheque"),
    )
    angry = _posted(django_capture_on_commit_callbacks, run_tasks, lambda: _ask(help_center, alice, ANGRY))
    angry.refresh_from_db()
    calm.refresh_from_db()
    assert calm.conversation is None
    conversation = angry.conversation
    assert conversation is not None and conversation.customer_id == alice.customer_id
    assert conversation.channel == email_channel and "negative tone" in conversation.messages.get().text

    # Unanswered for a day as well: the question crosses once, whichever reason comes second.
    Thread.objects.update(created_at=timezone.now() - timedelta(hours=25))
    assert threads_bridge_unanswered() == 1
    assert Conversation.objects.count() == 2
    assert Message.objects.filter(conversation=conversation).count() == 1


def test_the_askers_negative_reply_joins_the_threads_conversation_and_others_replies_do_not(
    help_center, alice, bob, email_channel, run_tasks, django_capture_on_commit_callbacks
):
    thread = _posted(
        django_capture_on_commit_callbacks,
        run_tasks,
        lambda: _ask(help_center, alice, "The router drops the line every evening. What can I do?"),
    )
    thread.refresh_from_db()
    assert thread.conversation is None
    _posted(
        django_capture_on_commit_callbacks,
        run_tasks,
        lambda: answer_create(thread=thread, author=bob, body=FURIOUS),
    )
    thread.refresh_from_db()
    assert thread.conversation is None, "another member's anger is not the asker's"

    _posted(
        django_capture_on_commit_callbacks,
        run_tasks,
        lambda: answer_create(thread=thread, author=alice, body=FURIOUS),
    )
    thread.refresh_from_db()
    assert thread.conversation is not None
    assert thread.conversation.customer_id == alice.customer_id
    _posted(
        django_capture_on_commit_callbacks,
        run_tasks,
        lambda: answer_create(thread=thread, author=alice, body=ANGRY),
    )
    assert Conversation.objects.count() == 1
    texts = list(thread.conversation.messages.order_by("id").values_list("text", flat=True))
    assert len(texts) == 3, "the question first, so the team reads what the replies are about"
    assert "every evening" in texts[0] and "furious" in texts[1] and "ridiculous" in texts[2]
    assert "Asked in the community" in texts[0] and "negative tone" in texts[1]


def test_the_negative_bridge_can_be_turned_off(
    help_center, alice, email_channel, run_tasks, django_capture_on_commit_callbacks, settings
):
    settings.FIRSTRING_COMMUNITY_NEGATIVE_BRIDGE = False
    thread = _posted(django_capture_on_commit_callbacks, run_tasks, lambda: _ask(help_center, alice, ANGRY))
    thread.refresh_from_db()
    assert thread.conversation is None and PostInsight.objects.get().tone == "negative"


def test_a_negative_post_held_by_the_spam_filter_stays_in_the_queue(
    help_center, alice, email_channel, run_tasks, django_capture_on_commit_callbacks, settings
):
    settings.FIRSTRING_COMMUNITY_BANNED_WORDS = ["casino"]
    thread = _posted(
        django_capture_on_commit_callbacks, run_tasks, lambda: _ask(help_center, alice, ANGRY + " casino")
    )
    thread.refresh_from_db()
    assert thread.is_hidden and thread.conversation is None
    assert not Conversation.objects.exists()


def test_members_posts_feed_the_voice_of_the_customer_dashboard_as_their_own_line(
    help_center,
    alice,
    bob,
    agent,
    manager,
    email_channel,
    run_tasks,
    django_capture_on_commit_callbacks,
    settings,
):
    settings.FIRSTRING_COMMUNITY_BANNED_WORDS = ["casino"]
    billing = Topic.objects.create(name="Billing", examples=["I was charged twice", "refund my invoice"])
    thread = _posted(
        django_capture_on_commit_callbacks,
        run_tasks,
        lambda: _ask(help_center, alice, "I was charged twice on my invoice. " + ANGRY),
    )
    for author, body in (
        (bob, "Thanks, that worked perfectly!"),
        (agent, "Staff here: terrible news, the refund is late."),  # staff, not the customer's voice
        (bob, ANGRY + " casino"),  # held by the spam filter
    ):
        _posted(
            django_capture_on_commit_callbacks,
            run_tasks,
            lambda author=author, body=body: answer_create(thread=thread, author=author, body=body),
        )
    assert PostInsight.objects.count() == 4

    client = Client()
    client.force_login(manager)
    page = client.get("/insights/").content.decode()
    assert "Community posts" in page
    assert "2 posts by members in this range: 1 negative, 1 positive" in page
    # Like a message, a post always gets its best topic.
    assert "<td>Billing</td><td>2</td><td>50%</td>" in page
    rows = list(csv.reader(io.StringIO(client.get("/insights/export/tone.csv").content.decode())))
    community = [r for r in rows if r[1] == "Community posts"]
    assert len(community) == 1 and community[0][2:6] == ["2", "1", "0", "1"]
    assert "2 posts by members" in client.get(f"/insights/?topic={billing.pk}").content.decode()
    other = Topic.objects.create(name="Delivery", examples=["where is my parcel"])
    assert "No community posts by members" in client.get(f"/insights/?topic={other.pk}").content.decode()
    by_channel = client.get(f"/insights/?channel={email_channel.pk}").content.decode()
    assert "community-voice" not in by_channel
    assert Client().get("/insights/").status_code == 302
