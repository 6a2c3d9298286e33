"""First response, resolution, SLA attainment and call figures on the dashboard, read from the rollup.

The rollup counts with the definitions of the pages that show them live (the supervisor's view, the
phone page); these tests hold the dashboard's figures to theirs on the same data, and check that what
changes a figure (a first reply, a status, a breach, a call's end) marks its day for the next rebuild.
"""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from firstring.channels.models import Channel
from firstring.conversations.services import conversation_set_status, reply_send
from firstring.insights.analysis import messages_analyse
from firstring.insights.models import RollupDay
from firstring.insights.rollup import day_bounds, rollup_refresh_stale
from firstring.insights.selectors import DashboardFilters, service_levels
from firstring.routing.selectors import supervisor_snapshot
from firstring.routing.services import sla_watch
from firstring.sla.models import SlaPolicy
from firstring.voice.models import Call
from firstring.voice.selectors import call_metrics
from firstring.voice.services import call_ended


def _today() -> DashboardFilters:
    today = timezone.localdate()
    return DashboardFilters(since=today, until=today)


def _stale() -> bool:
    return RollupDay.objects.filter(day=timezone.localdate(), stale=True).exists()


@pytest.fixture
def served(receive, agent, email_channel, api_channel, django_capture_on_commit_callbacks):
    """Three conversations today: one answered and resolved in time, one whose first reply was missed,
    one on a channel no policy covers; every change made as the app makes it, after-commit hooks too."""
    SlaPolicy.objects.create(
        name="E-mail", channel_kind="email", first_response_minutes=60, resolution_minutes=600
    )
    conversations = {}
    for name, email, channel in (
        ("answered", "on-time@example.com", email_channel),
        ("late", "late@example.com", email_channel),
        ("unmeasured", "api@example.com", api_channel),
    ):
        received = receive(email=email, text="My parcel never arrived", channel=channel)
        messages_analyse(message_ids=[received.message.pk])
        conversations[name] = received.conversation
    rollup_refresh_stale()
    assert not _stale()

    with django_capture_on_commit_callbacks(execute=True):
        reply_send(conversation=conversations["answered"], author=agent, text="It is on its way.")
    assert _stale(), "a first reply marks its conversation's day"
    rollup_refresh_stale()
    conversations["answered"].refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        conversation_set_status(conversation=conversations["answered"], status="resolved", actor=agent)
    assert _stale(), "a status change marks its conversation's day"
    rollup_refresh_stale()
    late = conversations["late"]
    late.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        assert sla_watch(now=late.first_response_due_at + timedelta(minutes=1)) >= 1
    assert _stale(), "a breach marks its conversation's day"
    rollup_refresh_stale()
    return conversations


def test_response_resolution_and_attainment_come_from_the_rollup(served, email_channel, api_channel):
    levels = service_levels(_today())["total"]
    assert (levels["conversations"], levels["responded"], levels["resolved"]) == (3, 1, 1)
    assert (levels["first_response_met"], levels["first_response_missed"]) == (1, 1)
    assert levels["first_response_attainment"] == 0.5
    assert (levels["resolution_met"], levels["resolution_missed"], levels["resolution_attainment"]) == (
        1,
        0,
        1.0,
    )
    answered = served["answered"]
    answered.refresh_from_db()
    expected = (answered.first_response_at - answered.created_at).total_seconds()
    assert levels["response_mean"] == pytest.approx(expected, abs=0.1)
    assert levels["resolution_mean"] == pytest.approx(
        (answered.resolved_at - answered.created_at).total_seconds(), abs=0.1
    )
    # The same attainment as the supervisor's live view, which counts the conversations themselves.
    snapshot = supervisor_snapshot()
    assert (snapshot.first_response_met, snapshot.first_response_missed) == (
        levels["first_response_met"],
        levels["first_response_missed"],
    )

    only_api = service_levels(replace(_today(), channel_id=api_channel.pk))["total"]
    assert only_api["conversations"] == 1 and only_api["first_response_attainment"] is None
    by_channel = {r["name"]: r for r in service_levels(_today())["channel"]}
    assert by_channel[email_channel.name]["first_response_missed"] == 1
    assert by_channel[api_channel.name]["responded"] == 0
    tomorrow = timezone.localdate() + timedelta(days=1)
    assert service_levels(DashboardFilters(since=tomorrow, until=tomorrow))["total"]["conversations"] == 0


def test_the_dashboard_shows_drills_into_and_exports_service_levels(served, manager, email_channel):
    client = Client()
    client.force_login(manager)
    body = client.get("/insights/").content.decode()
    assert "First response on time" in body and "50%" in body and "1 missed" in body
    assert 'aria-label="Service-level targets met per day, %"' in body
    assert "Average speed of answer" in body

    missed = client.get("/insights/conversations/?service=first_response_missed").content.decode()
    assert f"/conversations/{served['late'].pk}/" in missed
    assert f"/conversations/{served['answered'].pk}/" not in missed
    assert "first response missed" in missed
    open_ones = client.get("/insights/conversations/?service=unresolved").content.decode()
    assert f"/conversations/{served['answered'].pk}/" not in open_ones
    assert f"/conversations/{served['late'].pk}/" in open_ones

    response = client.get("/insights/export/service-channel.csv")
    assert response.status_code == 200
    rows = {r["channel"]: r for r in csv.DictReader(io.StringIO(response.content.decode()))}
    assert rows[email_channel.name]["first_response_met"] == "1"
    assert rows[email_channel.name]["first_response_missed"] == "1"
    conversations = client.get("/insights/export/conversations.csv?service=resolved").content.decode()
    (row,) = list(csv.DictReader(io.StringIO(conversations)))
    assert row["conversation"] == str(served["answered"].pk) and row["resolved_at"]
    assert client.get("/insights/conversations/?service=nope").status_code == 422


@pytest.fixture
def phone(db, support_team) -> Channel:
    return Channel.objects.create(kind="phone", slug="hotline", name="Hotline", team=support_team)


def _call(phone: Channel, receive: Any, n: int, started: datetime, **fields: Any) -> Call:
    received = receive(channel=phone, phone=f"+1415555{n:04d}", text="Incoming call")
    messages_analyse(message_ids=[received.message.pk])
    conversation = received.conversation
    return Call.objects.create(
        conversation=conversation,
        channel=phone,
        provider="twilio",
        external_id=f"CA{n}",
        caller=f"+1415555{n:04d}",
        number_called="+12025550100",
        started_at=started,
        **{"queued_at": started + timedelta(seconds=5), **fields},
    )


def test_call_figures_equal_the_phone_page_on_the_same_calls(phone, receive, manager, settings):
    settings.FIRSTRING_CALL_TARGET_SECONDS = 20
    start, end = day_bounds(timezone.localdate())
    at = start + (min(timezone.now(), end) - start) / 2  # today, whatever the hour
    ended = {"status": Call.Status.ENDED, "ended_at": at + timedelta(minutes=5)}
    _call(phone, receive, 1, at, outcome="completed", wait_seconds=10, talk_seconds=200, **ended)
    _call(phone, receive, 2, at, outcome="completed", wait_seconds=50, talk_seconds=100, **ended)
    _call(phone, receive, 3, at, outcome="completed", wait_seconds=15, talk_seconds=60, **ended)
    _call(phone, receive, 4, at, outcome="voicemail", wait_seconds=130, **ended)
    _call(phone, receive, 5, at, outcome="self_service", **{**ended, "queued_at": None})
    hanging_up = _call(phone, receive, 6, at, status=Call.Status.QUEUED)
    rollup_refresh_stale()
    # The caller hangs up waiting: the call's end marks its day, and it counts as abandoned.
    call_ended(call=hanging_up, reason="caller hung up", at=at + timedelta(seconds=95))
    assert _stale()
    rollup_refresh_stale()

    live = call_metrics(since=start, until=end, target_seconds=20)
    levels = service_levels(_today())["total"]
    assert (
        (levels["calls_offered"], levels["calls_answered"], levels["calls_abandoned"])
        == (
            live.offered,
            live.answered,
            live.abandoned,
        )
        == (5, 3, 1)
    )
    assert levels["asa_seconds"] == pytest.approx(live.asa_seconds, abs=0.1) == 25
    assert levels["service_level"] == pytest.approx(live.service_level) == 0.4
    assert levels["abandonment_rate"] == pytest.approx(live.abandonment_rate) == 0.2

    client = Client()
    client.force_login(manager)
    body = client.get("/insights/").content.decode()
    assert "Answered within 20 s" in body and "40%" in body and "20%" in body
    abandoned = client.get("/insights/conversations/?service=abandoned").content.decode()
    assert f"/conversations/{hanging_up.conversation_id}/" in abandoned
    rows = list(csv.DictReader(io.StringIO(client.get("/insights/export/service-team.csv").content.decode())))
    assert [(r["calls_offered"], r["asa_seconds"], r["answered_within_20s"]) for r in rows] == [
        ("5", "25.0", "2")
    ]
