"""Conversations through the API: the inbox list and counts, actions, the audit trail, and who sees what."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from firstring.channels.models import Channel
from firstring.conversations.models import Conversation, ConversationEvent
from firstring.conversations.selectors import SORTS, VIEWS

pytestmark = pytest.mark.django_db


@pytest.fixture
def billing_conversation(receive, billing_team):
    channel = Channel.objects.create(kind="email", slug="billing-mail", name="Billing", team=billing_team)
    return receive(email="bill@example.com", text="Invoice wrong", channel=channel).conversation


def test_list_shows_the_latest_excerpt_and_pages_with_cursors(as_agent, receive, email_channel):
    for n in range(3):
        receive(email=f"c{n}@example.com", text=f"question number {n}", channel=email_channel)
    first = as_agent("get", "/conversations?limit=2")
    assert first.status_code == 200, first.content
    body = first.json()
    assert [c["last_message_excerpt"] for c in body["items"]] == ["question number 2", "question number 1"]
    assert body["items"][0]["priority"] == "normal" and body["items"][0]["channel"]["slug"] == "support-email"
    rest = as_agent("get", f"/conversations?limit=2&cursor={body['next_cursor']}").json()
    assert [c["last_message_excerpt"] for c in rest["items"]] == ["question number 0"]
    assert rest["next_cursor"] is None


def test_list_shows_each_conversations_tags_as_its_detail_does(api, receive, admin_user):
    from firstring.conversations.services import conversation_set_tags

    tagged = receive(email="t1@example.com").conversation
    other = receive(email="t2@example.com").conversation
    receive(email="t3@example.com")
    conversation_set_tags(conversation=tagged, names=["zeta", "alpha", "mid"], actor=admin_user)
    conversation_set_tags(conversation=other, names=["solo"], actor=admin_user)
    listed = {c["id"]: c["tags"] for c in api("get", "/conversations").json()["items"]}
    assert (
        listed[tagged.pk]
        == ["alpha", "mid", "zeta"]
        == api("get", f"/conversations/{tagged.pk}").json()["tags"]
    )
    assert listed[other.pk] == ["solo"]
    assert sorted(map(len, listed.values())) == [0, 1, 3]


def test_filters_and_search_use_the_inbox_selector(api, receive, email_channel):
    a = receive(email="f1@example.com", text="refund please", channel=email_channel).conversation
    b = receive(email="f2@example.com", text="where is my parcel").conversation
    Conversation.objects.filter(pk=b.pk).update(priority=4)
    ids = lambda query: [c["id"] for c in api("get", f"/conversations?{query}").json()["items"]]  # noqa: E731
    assert ids("priority=urgent") == [b.pk]
    assert ids("channel=email") == [a.pk]
    assert ids(f"customer={a.customer_id}") == [a.pk]
    assert ids("sort=priority") == [b.pk, a.pk]
    assert ids("q=parcel") == [b.pk]
    assert ids("view=resolved") == []


def test_the_api_offers_exactly_the_selector_views_and_sorts(api):
    parameters = api("get", "/openapi.json").json()["paths"]["/api/v1/conversations"]["get"]["parameters"]
    enums = {p["name"]: p["schema"].get("enum") for p in parameters}
    assert set(enums["view"]) == set(VIEWS)
    assert set(enums["sort"]) == set(SORTS)


def test_counts(as_agent, agent, receive):
    mine = receive(email="n1@example.com").conversation
    receive(email="n2@example.com")
    Conversation.objects.filter(pk=mine.pk).update(assignee=agent)
    counts = as_agent("get", "/conversations/counts").json()
    assert counts == {"mine": 1, "unassigned": 1, "my_teams": 0, "all_open": 2, "escalated": 0, "resolved": 0}


def test_agents_cannot_see_or_act_on_other_teams_conversations(as_agent, as_billing, billing_conversation):
    path = f"/conversations/{billing_conversation.pk}"
    assert as_billing("get", path).status_code == 200
    for method, suffix, body in [
        ("get", "", None),
        ("get", "/messages", None),
        ("get", "/events", None),
        ("post", "/status", {"status": "resolved"}),
        ("post", "/priority", {"priority": "high"}),
        ("post", "/assignee", {"user_id": None}),
        ("put", "/tags", {"tags": ["x"]}),
        ("post", "/notes", {"text": "peek"}),
        ("post", "/replies", {"text": "hi"}),
    ]:
        response = as_agent(method, path + suffix, json=body)
        assert response.status_code == 404, (suffix, response.content)
    assert billing_conversation.pk not in [c["id"] for c in as_agent("get", "/conversations").json()["items"]]
    assert not ConversationEvent.objects.exclude(kind="created").exists()


def test_status_priority_assignment_tags_and_the_audit_trail(as_agent, agent, receive):
    conversation = receive().conversation
    path = f"/conversations/{conversation.pk}"
    until = (timezone.now() + timedelta(days=1)).isoformat()
    snoozed = as_agent("post", f"{path}/status", json={"status": "snoozed", "snoozed_until": until})
    assert snoozed.status_code == 200, snoozed.content
    assert snoozed.json()["status"] == "snoozed" and snoozed.json()["snoozed_until"]
    assert as_agent("post", f"{path}/status", json={"status": "snoozed"}).status_code == 422
    past = (timezone.now() - timedelta(days=1)).isoformat()
    assert (
        as_agent("post", f"{path}/status", json={"status": "snoozed", "snoozed_until": past}).status_code
        == 422
    )
    naive = "2030-01-01T00:00:00"
    assert (
        as_agent("post", f"{path}/status", json={"status": "snoozed", "snoozed_until": naive}).status_code
        == 422
    )
    far = "9999-12-31T23:59:59-14:00"
    assert (
        as_agent("post", f"{path}/status", json={"status": "snoozed", "snoozed_until": far}).status_code
        == 422
    )
    assert (
        as_agent("post", f"{path}/status", json={"status": "snoozed", "snoozed_until": 1e12}).status_code
        == 422
    )
    assert as_agent("post", f"{path}/status", json={"status": "closed"}).status_code == 422

    assert as_agent("post", f"{path}/priority", json={"priority": "urgent"}).json()["priority"] == "urgent"
    assert as_agent("post", f"{path}/priority", json={"priority": 4}).status_code == 422

    assigned = as_agent("post", f"{path}/assignee", json={"user_id": agent.pk})
    assert assigned.json()["assignee"]["email"] == agent.email
    assert as_agent("post", f"{path}/assignee", json={"user_id": 10**12}).status_code == 404
    assert as_agent("post", f"{path}/assignee", json={"user_id": None}).json()["assignee"] is None

    assert as_agent("put", f"{path}/tags", json={"tags": ["Refund", "late"]}).json()["tags"] == [
        "late",
        "refund",
    ]

    events = as_agent("get", f"{path}/events").json()
    kinds = [e["kind"] for e in events["items"]]
    assert kinds == ["created", "status", "priority", "assigned", "assigned", "tags"]
    assert events["items"][1]["actor"]["email"] == agent.email
    assert events["items"][2]["data"] == {"from": "normal", "to": "urgent"}
    page = as_agent("get", f"{path}/events?limit=4").json()
    rest = as_agent("get", f"{path}/events?limit=4&cursor={page['next_cursor']}").json()
    assert [e["kind"] for e in page["items"] + rest["items"]] == kinds


def test_assigning_someone_outside_the_team_is_422(as_agent, billing_agent, receive, email_channel):
    conversation = receive(channel=email_channel).conversation
    response = as_agent(
        "post", f"/conversations/{conversation.pk}/assignee", json={"user_id": billing_agent.pk}
    )
    assert response.status_code == 422
    assert Conversation.objects.get(pk=conversation.pk).assignee is None


def test_team_changes_only_to_teams_the_user_may_use(
    as_agent, as_manager, receive, billing_team, support_team
):
    conversation = receive().conversation
    path = f"/conversations/{conversation.pk}/team"
    assert as_agent("post", path, json={"team_id": billing_team.pk}).status_code == 403
    moved = as_agent("post", path, json={"team_id": support_team.pk})
    assert moved.status_code == 200 and moved.json()["team"]["slug"] == "support"
    assert as_agent("post", path, json={"team_id": 10**10}).status_code == 404
    assert as_manager("post", path, json={"team_id": billing_team.pk}).json()["team"]["slug"] == "billing"
    assert as_manager("post", path, json={"team_id": None}).json()["team"] is None
