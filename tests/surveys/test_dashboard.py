"""CSAT and NPS on the managers' dashboard and in the API, counted from real requests and answers."""

from __future__ import annotations

import csv
import io

import pytest
from django.test import Client
from django.utils import timezone

from firstring.channels.email.inbound import email_receive
from firstring.conversations.models import Conversation
from firstring.conversations.services import conversation_assign, conversation_set_team
from firstring.insights.analysis import messages_analyse
from firstring.insights.selectors import DashboardFilters
from firstring.insights.topic_services import topic_create
from firstring.surveys.links import signed_token
from firstring.surveys.models import SurveyAnswer
from firstring.surveys.selectors import survey_scores, survey_summary
from firstring.surveys.services import survey_answer, survey_request_csat, survey_request_nps
from tests.channels import email_corpus as corpus
from tests.conftest import make_api_caller


def _answered(mailbox, n: int, kind: str, score: int, assignee, team=None) -> SurveyAnswer:
    received = email_receive(
        channel=mailbox,
        raw=corpus.message(
            text="My parcel never arrived, where is my order?",
            sender=f"c{n} <c{n}@example.com>",
            message_id=f"m{n}@x",
            subject=f"Order {n}",
        ),
    )
    messages_analyse(message_ids=[received.message.pk])
    conversation = received.conversation
    if team is not None:
        conversation = conversation_set_team(conversation=conversation, team=team, actor=None)
    conversation = conversation_assign(conversation=conversation, assignee=assignee, actor=assignee)
    Conversation.objects.filter(pk=conversation.pk).update(status="resolved", resolved_at=timezone.now())
    ask = survey_request_csat if kind == "csat" else survey_request_nps
    request = ask(conversation_id=conversation.pk)
    assert request is not None and request.status == "sent"
    return survey_answer(signed=signed_token(request.token), score=score, comment=f"answer {n}")


@pytest.fixture
def answers(mailbox, manager, agent, billing_agent, billing_team):
    delivery = topic_create(user=manager, name="delivery", description="parcels and orders that are late")
    made = [
        _answered(mailbox, 1, "csat", 5, agent),
        _answered(mailbox, 2, "csat", 4, agent),
        _answered(mailbox, 3, "csat", 2, agent),
        _answered(mailbox, 4, "csat", 3, billing_agent, team=billing_team),
        _answered(mailbox, 5, "nps", 10, agent),
        _answered(mailbox, 6, "nps", 9, agent),
        _answered(mailbox, 7, "nps", 3, agent),
    ]
    return made, delivery


def _today() -> DashboardFilters:
    today = timezone.localdate()
    return DashboardFilters(since=today, until=today)


def test_csat_and_nps_per_agent_team_channel_and_topic(answers, agent, billing_agent, mailbox, billing_team):
    made, delivery = answers
    total = survey_summary(_today())
    assert (total["csat_answers"], total["satisfied"], total["csat"]) == (4, 2, 0.5)
    assert (total["nps_answers"], total["promoters"], total["detractors"], total["nps"]) == (3, 2, 1, 33.3)

    by_agent = {row["name"]: row for row in survey_scores(_today(), by="agent")}
    assert by_agent[agent.name]["csat"] == round(2 / 3, 4) and by_agent[agent.name]["nps"] == 33.3
    assert by_agent[billing_agent.name]["csat"] == 0.0 and by_agent[billing_agent.name]["nps"] is None
    by_team = {row["name"]: row for row in survey_scores(_today(), by="team")}
    assert by_team["Billing"]["csat_answers"] == 1 and by_team["Support"]["csat_answers"] == 3
    [by_channel] = survey_scores(_today(), by="channel")
    assert by_channel["name"] == mailbox.name and by_channel["csat_answers"] + by_channel["nps_answers"] == 7
    topics = {a.topic_id for a in made}
    assert topics == {delivery.pk}  # every message was about a parcel
    [by_topic] = survey_scores(_today(), by="topic")
    assert by_topic["name"] == "delivery" and by_topic["csat"] == 0.5
    only_billing = survey_summary(
        DashboardFilters(since=_today().since, until=_today().until, team_id=billing_team.pk)
    )
    assert (only_billing["csat_answers"], only_billing["csat"]) == (1, 0.0)
    # Low scores (CSAT 2, NPS 3) opened follow-ups; the middle (3) did not.
    assert sorted(a.score for a in made if a.follow_up_id) == [2, 3]
    assert [a.follow_up_id for a in made if a.kind == "csat" and a.score == 3] == [None]


def test_the_dashboard_shows_scores_drills_down_and_exports(answers, manager, agent):
    client = Client()
    client.force_login(manager)
    page = client.get("/insights/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "Customer satisfaction" in body and "50%" in body and ">33<" in body
    assert f"agent={agent.pk}" in body

    bad = client.get("/insights/surveys/?band=bad").content.decode()
    assert "answer 3" in bad and "answer 7" in bad and "answer 4" not in bad
    mine = client.get(f"/insights/surveys/?agent={agent.pk}&kind=csat").content.decode()
    assert "answer 1" in mine and "answer 4" not in mine and "answer 5" not in mine
    assert client.get("/insights/surveys/?band=awful").status_code == 422
    assert client.get("/insights/surveys/?kind=ces").status_code == 422

    exported = client.get("/insights/export/survey-answers.csv?kind=nps")
    assert exported.status_code == 200 and exported["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(exported.content.decode())))
    assert rows[0][:4] == ["answer", "answered_at", "kind", "score"]
    assert sorted(int(r[3]) for r in rows[1:]) == [3, 9, 10]
    table = list(csv.reader(io.StringIO(client.get("/insights/export/surveys-agent.csv").content.decode())))
    assert table[0] == ["agent", "csat_answers", "csat", "nps_answers", "nps", "promoters", "detractors"]
    assert [agent.name, "3", "0.6667", "3", "33.3", "2", "1"] in table

    agent_client = Client()
    agent_client.force_login(agent)
    assert agent_client.get("/insights/surveys/").status_code == 403


def test_the_api_lists_answers_an_agent_may_see_and_scores_for_managers(answers, manager, billing_agent):
    as_manager = make_api_caller(manager)
    listed = as_manager("get", "/surveys/answers?limit=3")
    assert listed.status_code == 200
    seen = [item["id"] for item in listed.json()["items"]]
    cursor = listed.json()["next_cursor"]
    while cursor:
        more = as_manager("get", f"/surveys/answers?limit=3&cursor={cursor}").json()
        seen += [item["id"] for item in more["items"]]
        cursor = more["next_cursor"]
    assert sorted(seen) == sorted(SurveyAnswer.objects.values_list("pk", flat=True))
    first = SurveyAnswer.objects.order_by("id").first()
    [by_conversation] = as_manager(
        "get", f"/surveys/answers?conversation={first.request.conversation_id}"
    ).json()["items"]
    assert by_conversation["id"] == first.pk
    by_customer = as_manager("get", f"/surveys/answers?customer={first.request.customer_id}").json()["items"]
    assert [item["id"] for item in by_customer] == [first.pk]
    good_nps = as_manager("get", "/surveys/answers?kind=nps&band=good").json()["items"]
    assert sorted(item["score"] for item in good_nps) == [9, 10]
    assert good_nps[0]["conversation_id"] and good_nps[0]["agent"]["email"] == "ana@example.com"

    # An agent of billing sees the answer about billing's conversation only.
    as_billing = make_api_caller(billing_agent)
    [only] = as_billing("get", "/surveys/answers").json()["items"]
    assert (only["score"], only["comment"]) == (3, "answer 4")
    assert as_billing("get", "/surveys/scores").status_code == 403

    scores = as_manager("get", "/surveys/scores?by=team").json()
    assert scores["total"]["csat"] == 0.5 and scores["total"]["nps"] == 33.3
    assert {row["name"]: row["csat_answers"] for row in scores["rows"]} == {"Support": 3, "Billing": 1}
    today = timezone.localdate()
    assert as_manager("get", f"/surveys/scores?since={today}&until=2000-01-01").status_code == 422
    assert as_manager("get", "/surveys/answers?since=2000-01-01").status_code == 422
    assert as_manager("get", "/surveys/answers?band=awful").status_code == 422
    assert as_manager("get", "/surveys/answers?cursor=bm9wZQ").status_code == 422
