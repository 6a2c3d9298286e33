"""Emerging topics: recent negative messages no topic covers, clustered, named by a manager in one click."""

from __future__ import annotations

import datetime as dt

from django.test import Client
from django.utils import timezone

from firstring.conversations.models import Message
from firstring.insights.analysis import messages_analyse
from firstring.insights.emerging import emerging_topics
from firstring.insights.models import MessageTone, MessageTopic, Topic
from firstring.insights.topic_services import message_topic_tag, topic_create

LOGIN_OUTAGE = [
    "I can't log in, your login page has been down all morning. This is terrible.",
    "Login is broken again, I cannot sign in to my account. Awful.",
    "Your login outage is a disgrace, I cannot access my account at all!",
    "The sign in page keeps failing, another login outage? Useless.",
    "Still can't log into my account, the login screen just errors. Fix it! <script>alert(1)</script>",
]
DELIVERY = [
    "My parcel never arrived, terrible delivery service.",
    "The delivery is two weeks late and nobody answers, awful.",
    "Where is my package? The courier lost it, horrible.",
]
OTHER = [
    "Thanks a lot, the new dashboard is great!",
    "I hate the new colours of the app, they are ugly.",
]


def _receive_all(receive, texts: list[str], prefix: str) -> list[int]:
    ids = []
    for n, text in enumerate(texts):
        received = receive(email=f"{prefix}{n}@example.com", text=text, thread=f"{prefix}{n}")
        ids.append(received.message.pk)
    messages_analyse(message_ids=ids)
    return ids


def test_a_login_outage_no_topic_covers_emerges(receive, manager):
    topic_create(user=manager, name="delivery", examples=["my parcel has not arrived"])
    topic_create(user=manager, name="refund")
    login = _receive_all(receive, LOGIN_OUTAGE, "login")
    _receive_all(receive, DELIVERY, "parcel")
    _receive_all(receive, OTHER, "other")
    assert MessageTone.objects.filter(message_id__in=login, label="negative").count() == len(login)

    clusters = emerging_topics(days=7, min_size=3)
    assert len(clusters) == 1, [c.terms for c in clusters]
    [cluster] = clusters
    assert set(cluster.message_ids) == set(login)
    assert cluster.size == 5 and len(cluster.samples) == 5
    assert "login" in cluster.terms and "account" in cluster.terms
    assert cluster.key in login and cluster.closest_topic in ("delivery", "refund")
    # The same rows give the same clusters.
    assert emerging_topics(days=7, min_size=3) == clusters
    # Too few alike (a larger minimum), or outside the window: nothing.
    assert emerging_topics(days=7, min_size=6) == []
    assert emerging_topics(days=7, now=timezone.now() + dt.timedelta(days=8)) == []
    # The sample is bounded: the newest two conversations cannot make a cluster of three.
    assert emerging_topics(days=7, min_size=3, sample=2) == []


def test_one_customer_repeating_themselves_is_not_a_trend(receive, manager):
    topic_create(user=manager, name="delivery")
    ids = [receive(email="same@example.com", text=t, thread="same").message.pk for t in LOGIN_OUTAGE]
    messages_analyse(message_ids=ids)
    assert Message.objects.filter(pk__in=ids).values("conversation_id").distinct().count() == 1
    assert emerging_topics(days=7, min_size=3) == []


def test_messages_an_agent_tagged_are_not_emerging(receive, manager):
    accounts = topic_create(user=manager, name="billing")
    login = _receive_all(receive, LOGIN_OUTAGE, "login")
    for message_id in login[:3]:
        message_topic_tag(user=manager, message_id=message_id, topic_id=accounts.pk)
    assert emerging_topics(days=7, min_size=3) == []


def test_a_manager_names_a_cluster_in_one_click(
    receive, manager, agent, run_tasks, django_capture_on_commit_callbacks
):
    topic_create(user=manager, name="delivery")
    login = _receive_all(receive, LOGIN_OUTAGE, "login")
    _receive_all(receive, DELIVERY, "parcel")
    client = Client()
    client.force_login(manager)

    assert 'href="/insights/emerging/"' in client.get("/insights/").content.decode()
    page = client.get("/insights/emerging/").content.decode()
    assert "login outage is a disgrace" in page
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    [cluster] = emerging_topics()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/insights/emerging/{cluster.key}/name/", {"name": "Login outage", "days": 7})
    assert response.status_code == 302
    topic = Topic.objects.get(name="Login outage")
    assert len(topic.examples) == 5 and any("disgrace" in e for e in topic.examples)
    # After commit the cluster's messages are classified again: they now count under the new topic.
    assert run_tasks() >= 1
    primary = MessageTopic.objects.filter(message_id__in=login, primary=True, rejected=False)
    assert set(primary.values_list("topic_id", flat=True)) == {topic.pk}
    assert emerging_topics() == []
    assert "Nothing new" in client.get(response["Location"]).content.decode()

    # Gone, a name taken, bad input, an agent: clear errors.
    assert client.post(f"/insights/emerging/{cluster.key}/name/", {"name": "Again"}).status_code == 404
    assert client.post(f"/insights/emerging/{cluster.key}/name/", {"name": ""}).status_code == 422
    assert client.get("/insights/emerging/?days=abc").status_code == 422
    assert client.get("/insights/emerging/?days=1000").status_code == 422
    assert client.get("/insights/emerging/name/").status_code == 404
    as_agent = Client()
    as_agent.force_login(agent)
    assert as_agent.get("/insights/emerging/").status_code == 403
    assert as_agent.post(f"/insights/emerging/{login[0]}/name/", {"name": "Mine"}).status_code == 403


def test_a_taken_name_is_a_conflict(receive, manager):
    topic_create(user=manager, name="delivery")
    _receive_all(receive, LOGIN_OUTAGE, "login")
    [cluster] = emerging_topics()
    client = Client()
    client.force_login(manager)
    response = client.post(f"/insights/emerging/{cluster.key}/name/", {"name": "Delivery"})
    assert response.status_code == 409
    assert Topic.objects.count() == 1
