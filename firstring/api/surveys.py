"""Surveys: the answers customers gave (CSAT 1-5, NPS 0-10), and the scores per agent, team, channel, topic.

The same range and filters as the managers' dashboard (the last 30 days by default, at most 366):
answers given in the range, to surveys about the filters' channel, team and topic. Agents list the
answers about conversations they may see; the scores are for managers.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal, Self

from django.http import HttpRequest
from django.utils import timezone
from ninja import Query, Router, Schema
from pydantic import model_validator

from firstring.accounts.access import require_manager
from firstring.api.auth import current_user
from firstring.api.paging import page
from firstring.api.schemas import CheckedIn, Cursor, Id, Limit, UserRef, errors, user_ref
from firstring.conversations.access import conversations_visible_to
from firstring.insights.selectors import DashboardFilters
from firstring.lib.cursor import SortKey
from firstring.surveys import selectors
from firstring.surveys.models import SurveyAnswer

router = Router()

MAX_DAYS = 366
ANSWER_ORDER = [SortKey("answered_at", descending=True), SortKey("id", descending=True)]


class RangeQuery(CheckedIn):
    since: dt.date | None = None
    until: dt.date | None = None
    channel: Id | None = None
    team: Id | None = None
    topic: Id | None = None

    @model_validator(mode="after")
    def _range(self) -> Self:
        until = self.until or timezone.localdate()
        since = self.since or until - dt.timedelta(days=29)
        if since > until:
            raise ValueError("the range must start before it ends")
        if (until - since).days >= MAX_DAYS:
            raise ValueError(f"the range spans at most {MAX_DAYS} days")
        self.since, self.until = since, until
        return self

    def filters(self) -> DashboardFilters:
        assert self.since is not None and self.until is not None
        return DashboardFilters(
            since=self.since,
            until=self.until,
            channel_id=self.channel,
            team_id=self.team,
            topic_id=self.topic,
        )


class AnswerQuery(RangeQuery):
    kind: Literal["csat", "nps"] | None = None
    band: Literal["good", "neutral", "bad"] | None = None
    agent: Id | None = None
    conversation: Id | None = None
    customer: Id | None = None
    cursor: Cursor | None = None
    limit: Limit = 50


class ScoreQuery(RangeQuery):
    by: Literal["agent", "team", "channel", "topic"] = "agent"


class AnswerOut(Schema):
    id: int
    kind: str
    score: int
    comment: str
    via: str
    answered_at: dt.datetime
    conversation_id: int
    customer_id: int
    agent: UserRef | None
    team_id: int | None
    channel_id: int
    topic_id: int | None
    follow_up_id: int | None


class AnswerPage(Schema):
    items: list[AnswerOut]
    next_cursor: str | None


class ScoresOut(Schema):
    csat_answers: int
    satisfied: int
    csat: float | None
    nps_answers: int
    promoters: int
    detractors: int
    nps: float | None


class GroupScoresOut(ScoresOut):
    key: int | None
    name: str


class ScoreTableOut(Schema):
    by: str
    total: ScoresOut
    rows: list[GroupScoresOut]


def answer_out(answer: SurveyAnswer) -> AnswerOut:
    return AnswerOut(
        id=answer.pk,
        kind=answer.kind,
        score=answer.score,
        comment=answer.comment,
        via=answer.via,
        answered_at=answer.answered_at,
        conversation_id=answer.request.conversation_id,
        customer_id=answer.request.customer_id,
        agent=user_ref(answer.agent),
        team_id=answer.team_id,
        channel_id=answer.channel_id,
        topic_id=answer.topic_id,
        follow_up_id=answer.follow_up_id,
    )


@router.get("/answers", response={200: AnswerPage, **errors()}, summary="List survey answers, newest first")
def answer_list(request: HttpRequest, query: Query[AnswerQuery]) -> AnswerPage:
    user = current_user(request)
    answers = (
        selectors.answers_in(query.filters())
        .filter(request__conversation__in=conversations_visible_to(user))
        .select_related("request", "agent")
    )
    if query.kind:
        answers = answers.filter(kind=query.kind)
    if query.band:
        answers = answers.filter(selectors.BANDS[query.band])
    if query.agent:
        answers = answers.filter(agent_id=query.agent)
    if query.conversation:
        answers = answers.filter(request__conversation_id=query.conversation)
    if query.customer:
        answers = answers.filter(request__customer_id=query.customer)
    rows, next_cursor = page(answers, ANSWER_ORDER, query.cursor, query.limit)
    return AnswerPage(items=[answer_out(a) for a in rows], next_cursor=next_cursor)


@router.get(
    "/scores",
    response={200: ScoreTableOut, **errors(403)},
    summary="CSAT and NPS over a range, per agent, team, channel or topic (managers)",
)
def score_table(request: HttpRequest, query: Query[ScoreQuery]) -> ScoreTableOut:
    require_manager(current_user(request), "survey scores are for managers")
    filters = query.filters()
    return ScoreTableOut(
        by=query.by,
        total=ScoresOut(**selectors.survey_summary(filters)),
        rows=[GroupScoresOut(**row) for row in selectors.survey_scores(filters, by=query.by)],
    )
