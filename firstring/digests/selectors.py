"""What the weekly digest says: what customers said, what got worse than the week before, what was learned.

Read from the dashboards' rollup and selectors (insights, surveys, escalations), over the week from
Monday to Sunday in the installation's time zone, compared with the week before it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from firstring.escalations.models import Lesson
from firstring.escalations.selectors import escalations_between, lessons_between
from firstring.insights import selectors as insights
from firstring.insights.emerging import EmergingTopic, emerging_topics
from firstring.surveys.selectors import survey_summary

# What "got worse" means: a negative share up by this much, on at least this many messages this week;
# a team's mean tone lift down by this much, over at least this many conversations this week.
WORSE_SHARE = 0.05
WORSE_MIN_MESSAGES = 5
WORSE_LIFT = 0.1
WORSE_MIN_LIFTED = 3
TOP_TOPICS = 5
LESSONS = 10
EMERGING = 3


def week_start(day: dt.date) -> dt.date:
    """The Monday of `day`'s week."""
    return day - dt.timedelta(days=day.weekday())


@dataclass(frozen=True)
class Change:
    kind: str  # "topic", "channel" or "team"
    name: str
    before: float
    after: float
    count: int  # messages (a negative share) or conversations (a tone lift) this week


@dataclass(frozen=True)
class WeeklyDigest:
    since: dt.date
    until: dt.date
    summary: dict[str, Any]
    previous: dict[str, Any]
    topics: list[dict[str, Any]]
    worse: list[Change]
    lift_drops: list[Change]
    escalations: int
    lessons: list[Lesson]
    surveys: dict[str, Any]
    previous_surveys: dict[str, Any]
    emerging: list[EmergingTopic]

    @property
    def surveys_answered(self) -> int:
        return int(self.surveys["csat_answers"] + self.surveys["nps_answers"])

    @property
    def empty(self) -> bool:
        """Nothing was said, escalated or answered that week (a new installation's first weeks)."""
        return not self.summary["messages"] and not self.escalations and not self.surveys_answered


def _worse_shares(now: insights.DashboardFilters, before: insights.DashboardFilters) -> list[Change]:
    changes = []
    for by in ("topic", "channel"):
        previous = {r["key"]: r for r in insights.tone_by(before, by=by)}
        for row in insights.tone_by(now, by=by):
            old = previous.get(row["key"])
            if row["key"] is None or old is None or row["messages"] < WORSE_MIN_MESSAGES:
                continue
            if row["negative_share"] - old["negative_share"] >= WORSE_SHARE:
                changes.append(
                    Change(by, row["name"], old["negative_share"], row["negative_share"], row["messages"])
                )
    return sorted(changes, key=lambda c: (-(c.after - c.before), c.kind, c.name))


def _lift_drops(now: insights.DashboardFilters, before: insights.DashboardFilters) -> list[Change]:
    previous = {r["key"]: r for r in insights.tone_lift(before, by="team")}
    drops = []
    for row in insights.tone_lift(now, by="team"):
        old = previous.get(row["key"])
        if old is None or row["lifted"] < WORSE_MIN_LIFTED:
            continue
        if old["mean_lift"] - row["mean_lift"] >= WORSE_LIFT:
            drops.append(Change("team", row["name"], old["mean_lift"], row["mean_lift"], row["lifted"]))
    return sorted(drops, key=lambda c: (c.after - c.before, c.name))


def weekly_digest(*, week: dt.date) -> WeeklyDigest:
    """The digest of the week starting on Monday `week`."""
    now = insights.DashboardFilters(since=week, until=week + dt.timedelta(days=6))
    before = insights.DashboardFilters(since=week - dt.timedelta(days=7), until=week - dt.timedelta(days=1))
    start, end = now.bounds()
    return WeeklyDigest(
        since=now.since,
        until=now.until,
        summary=insights.summary(now),
        previous=insights.summary(before),
        topics=insights.top_topics(now, limit=TOP_TOPICS, examples=1),
        worse=_worse_shares(now, before),
        lift_drops=_lift_drops(now, before),
        escalations=escalations_between(start=start, end=end),
        lessons=lessons_between(start=start, end=end, limit=LESSONS),
        surveys=survey_summary(now),
        previous_surveys=survey_summary(before),
        emerging=emerging_topics(days=7, now=end)[:EMERGING],
    )
