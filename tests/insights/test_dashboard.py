"""Tone lift, the rollup behind the dashboards, and the managers' dashboard page with its exports."""

from __future__ import annotations

import csv
import io

import pytest
from django.test import Client
from django.utils import timezone

from firstring.conversations.services import conversation_assign
from firstring.insights.analysis import messages_analyse
from firstring.insights.models import ConversationInsight, DailyInsight, RollupDay
from firstring.insights.rollup import rollup_refresh, rollup_refresh_stale
from firstring.insights.selectors import DashboardFilters, summary, tone_lift, top_topics
from firstring.insights.services import tone_correct
from firstring.insights.topic_services import topic_create
from firstring.ops.services import periodic_jobs_run


def _conversation(receive, email: str, *texts: str):
    first = None
    for text in texts:
        received = receive(email=email, text=text, thread=email)
        messages_analyse(message_ids=[received.message.pk])
        first = first or received
    rollup_refresh_stale()  # what the worker's periodic job does
    return first


def _filters(**extra):
    today = timezone.localdate()
    return DashboardFilters(since=today, until=today, **extra)


def test_tone_lift_per_conversation_and_per_agent(receive, manager, agent, support_team):
    topic_create(user=manager, name="delivery")
    happier = _conversation(
        receive,
        "l1@example.com",
        "My parcel is lost, this is terrible",
        "Thank you so much, it arrived. Great!",
    )
    angrier = _conversation(
        receive, "l2@example.com", "Thanks, where is my parcel?", "Still nothing. Awful service."
    )
    once = _conversation(receive, "l3@example.com", "Where is my parcel?")
    conversation_assign(conversation=happier.conversation, actor=manager, assignee=agent)
    # Per agent is read from the rollup: who holds a conversation as of its day's last refresh.
    rollup_refresh(days={timezone.localdate()})

    lifts = dict(ConversationInsight.objects.values_list("conversation_id", "tone_lift"))
    assert lifts[happier.conversation.pk] > 1
    assert lifts[angrier.conversation.pk] < 0
    assert lifts[once.conversation.pk] is None

    by_agent = {row["name"]: row for row in tone_lift(_filters(), by="agent")}
    assert by_agent[agent.name]["lifted"] == 1 and by_agent[agent.name]["improved_share"] == 1.0
    assert by_agent["Unassigned"]["worsened_share"] == 1.0
    by_topic = tone_lift(_filters(), by="topic")
    assert [row["name"] for row in by_topic] == ["delivery"] and by_topic[0]["lifted"] == 2

    # An agent's correction moves the lift and the rollup with it.
    last = happier.conversation.messages.order_by("-created_at").first()
    tone_correct(user=agent, message_id=last.pk, label="negative")
    rollup_refresh(days={timezone.localdate()})
    assert ConversationInsight.objects.get(conversation=happier.conversation).tone_lift < 0
    assert summary(_filters())["improved"] == 0


def test_the_rollup_counts_what_is_stored(receive, manager, email_channel):
    delivery = topic_create(user=manager, name="delivery")
    _conversation(receive, "r1@example.com", "My parcel never arrived, awful", "Where is my parcel?")
    _conversation(receive, "r2@example.com", "Thanks, the parcel arrived!")
    received = receive(email="r3@example.com", text="I will sue you, no refund yet", channel=email_channel)
    messages_analyse(message_ids=[received.message.pk])
    # The rows lag what is stored until the worker's periodic job rebuilds the stale day.
    assert sum(r.messages for r in DailyInsight.objects.all()) == 3
    assert RollupDay.objects.get(day=timezone.localdate()).stale
    periodic_jobs_run()
    assert not RollupDay.objects.get(day=timezone.localdate()).stale

    rows = DailyInsight.objects.filter(day=timezone.localdate())
    assert sum(r.messages for r in rows) == 4
    assert sum(r.negative + r.neutral + r.positive for r in rows) == 4
    assert sum(r.conversations for r in rows) == 3 and sum(r.lifted for r in rows) == 1
    assert sum(r.urgent for r in rows) == 1
    # Refreshing again rebuilds the same rows, never adds to them.
    rollup_refresh(days={timezone.localdate()})
    assert sum(r.messages for r in DailyInsight.objects.all()) == 4
    only_email = summary(_filters(channel_id=email_channel.pk))
    assert (only_email["messages"], only_email["urgent"]) == (1, 1)
    topics = top_topics(_filters())
    assert topics[0]["topic"] == "delivery" and topics[0]["topic_id"] == delivery.pk
    assert len(topics[0]["examples"]) == 3


def test_the_dashboard_for_managers(receive, manager, agent):
    topic_create(user=manager, name="delivery")
    hostile = '<script>alert("x")</script> my parcel never arrived'
    received = _conversation(receive, "d@example.com", hostile, "Thank you, it came!")
    client = Client()
    client.force_login(manager)

    page = client.get("/insights/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "<svg" in body and "Tone over time by channel" in body and "delivery" in body
    assert "<script>alert" not in body and "&lt;script&gt;" in body
    today = timezone.localdate().isoformat()
    assert client.get(f"/insights/?since={today}&until={today}&topic=99999").status_code == 200

    drill = client.get("/insights/conversations/?tone=improved")
    assert drill.status_code == 200
    assert f"/conversations/{received.conversation.pk}/" in drill.content.decode()
    assert (
        f"/conversations/{received.conversation.pk}/"
        not in client.get("/insights/conversations/?tone=worsened").content.decode()
    )

    exported = client.get("/insights/export/conversations.csv")
    assert exported.status_code == 200 and exported["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(exported.content.decode())))
    assert rows[0][0] == "conversation" and rows[1][0] == str(received.conversation.pk)
    for table in ("tone", "topics", "lift-channel", "lift-team", "lift-topic", "lift-agent"):
        assert client.get(f"/insights/export/{table}.csv").status_code == 200
    topics = list(csv.reader(io.StringIO(client.get("/insights/export/topics.csv").content.decode())))
    assert topics[1][:2] == ["delivery", "2"]

    assert client.get("/insights/export/secrets.csv").status_code == 422
    assert client.get("/insights/?since=2026-13-01").status_code == 422
    assert client.get("/insights/?since=2026-02-01&until=2026-01-01").status_code == 422
    assert client.get("/insights/?since=2020-01-01&until=2026-01-01").status_code == 422
    assert client.get("/insights/?channel=abc").status_code == 422

    as_agent = Client()
    as_agent.force_login(agent)
    assert as_agent.get("/insights/").status_code == 403
    assert as_agent.get("/insights/export/tone.csv").status_code == 403
    assert Client().get("/insights/").status_code == 302


def test_agents_correct_tone_and_topics_on_the_conversation_page(receive, manager, agent):
    from firstring.insights.models import MessageTone, MessageTopic

    delivery = topic_create(user=manager, name="delivery")
    billing = topic_create(user=manager, name="billing")
    received = _conversation(receive, "c@example.com", "My parcel never arrived <b>help</b>")
    other = _conversation(receive, "o@example.com", "Where is my refund?")
    client = Client()
    client.force_login(agent)
    url = f"/conversations/{received.conversation.pk}/"

    page = client.get(url).content.decode()
    assert "msg-insights" in page and ">delivery</span>" in page and 'value="negative"' in page

    topics = f"{url}messages/{received.message.pk}/topics/"
    assert (
        client.post(topics, {"topic": billing.pk, "action": "tag"}, HTTP_HX_REQUEST="true").status_code == 200
    )
    assert client.post(topics, {"topic": delivery.pk, "action": "untag"}).status_code == 302
    tags = {t.topic_id: t for t in MessageTopic.objects.filter(message=received.message)}
    assert (tags[billing.pk].source, tags[billing.pk].primary) == ("agent", True)
    assert tags[delivery.pk].rejected is True
    assert ">delivery</span>" not in client.get(url).content.decode()

    tone = f"{url}messages/{received.message.pk}/tone/"
    assert client.post(tone, {"label": "positive"}).status_code == 302
    assert MessageTone.objects.get(message=received.message).corrected is True

    assert client.post(tone, {"label": "furious"}).status_code == 422
    assert client.post(topics, {"topic": billing.pk, "action": "delete"}).status_code == 422
    foreign = f"{url}messages/{other.message.pk}/tone/"
    assert client.post(foreign, {"label": "positive"}).status_code == 404
    assert MessageTone.objects.get(message=other.message).corrected is False


def test_the_rollup_command_rebuilds_a_range(receive, manager):
    from django.core.management import CommandError, call_command

    topic_create(user=manager, name="delivery")
    _conversation(receive, "cmd@example.com", "My parcel never arrived")
    DailyInsight.objects.all().delete()
    out = io.StringIO()
    call_command("insights_rollup", "--days", "3", stdout=out)
    assert "Rebuilt 3 days" in out.getvalue()
    assert sum(r.messages for r in DailyInsight.objects.all()) == 1
    with pytest.raises(CommandError, match="--days"):
        call_command("insights_rollup", "--days", "0")
