"""NPS on a schedule: customers with a recently resolved conversation, each once per interval."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from firstring.channels.email.inbound import email_receive
from firstring.conversations.models import Conversation
from firstring.ops.services import PERIODIC_JOBS
from firstring.surveys.models import SurveyAnswer, SurveyRequest
from firstring.surveys.services import nps_schedule
from tests.channels import email_corpus as corpus
from tests.surveys.test_email_and_page import LINK


def _resolved(mailbox, sender: str, message_id: str, days_ago: float) -> Conversation:
    received = email_receive(
        channel=mailbox, raw=corpus.message(sender=sender, message_id=message_id, subject=message_id)
    )
    Conversation.objects.filter(pk=received.conversation.pk).update(
        status="resolved", resolved_at=timezone.now() - timedelta(days=days_ago)
    )
    return received.conversation


@pytest.fixture
def nps_on(settings):
    settings.FIRSTRING_NPS_ENABLED = True
    settings.FIRSTRING_CSAT_ENABLED = False
    settings.FIRSTRING_NPS_INTERVAL_DAYS = 90
    settings.FIRSTRING_NPS_RECENT_DAYS = 30
    settings.FIRSTRING_NPS_AFTER_HOURS = 24


def test_nps_asks_recent_customers_once_per_interval(
    nps_on, mailbox, smtp_peer, settle, django_capture_on_commit_callbacks
):
    older = _resolved(mailbox, "Dana <dana@example.com>", "d1@x", days_ago=10)
    latest = _resolved(mailbox, "Dana <dana@example.com>", "d2@x", days_ago=2)
    _resolved(mailbox, "Eve <eve@example.com>", "e1@x", days_ago=45)  # too long ago
    _resolved(mailbox, "Finn <finn@example.com>", "f1@x", days_ago=0.1)  # too fresh
    assert older.customer_id == latest.customer_id

    with django_capture_on_commit_callbacks(execute=True):
        assert nps_schedule() == 1
    request = SurveyRequest.objects.get()
    assert (request.kind, request.conversation_id, request.status) == ("nps", latest.pk, "sent")
    settle()
    [mail] = smtp_peer.received
    assert mail["To"] == "dana@example.com" and "recommend" in mail.get_body(("plain",)).get_content()
    assert nps_schedule() == 0  # asked within the interval

    # A survey page for 0-10; 6 is a detractor and opens a follow-up.
    path = LINK.search(mail.get_body(("plain",)).get_content()).group(1)
    assert 'value="10"' in Client().get(path).content.decode()
    assert Client().post(path, {"score": "11"}).status_code == 422
    assert Client().post(path, {"score": "6"}).status_code == 200
    answer = SurveyAnswer.objects.get()
    assert answer.kind == "nps" and answer.follow_up is not None

    # After the interval the customer may be asked again.
    SurveyRequest.objects.update(created_at=timezone.now() - timedelta(days=91))
    assert nps_schedule() == 1


def test_nps_is_off_unless_enabled_and_where_a_channel_turns_surveys_off(mailbox, settings, nps_on):
    _resolved(mailbox, "Dana <dana@example.com>", "d1@x", days_ago=2)
    settings.FIRSTRING_NPS_ENABLED = False
    assert nps_schedule() == 0 and not SurveyRequest.objects.exists()
    settings.FIRSTRING_NPS_ENABLED = True
    mailbox.config = {**mailbox.config, "surveys": False}
    mailbox.save()
    assert nps_schedule() == 0 and not SurveyRequest.objects.exists()


def test_the_worker_runs_the_nps_job(nps_on, mailbox, settings):
    settings.FIRSTRING_NPS_CHECK_SECONDS = 0  # every beat, not once an hour
    _resolved(mailbox, "Dana <dana@example.com>", "d1@x", days_ago=2)
    [job] = [job for name, job in PERIODIC_JOBS if name == "nps surveys"]
    job()
    assert SurveyRequest.objects.filter(kind="nps").count() == 1


def test_the_demo_history_asks_its_made_up_customers_nothing(
    db, nps_on, settings, settle, django_capture_on_commit_callbacks
):
    from firstring.demo.loader import demo_load

    settings.FIRSTRING_CSAT_ENABLED = True
    with django_capture_on_commit_callbacks(execute=True):
        demo_load(conversations=20, only_if_empty=True, seed=3)
    assert Conversation.objects.filter(status="resolved").exists()
    settle()
    nps_schedule()
    assert not SurveyRequest.objects.exists()
