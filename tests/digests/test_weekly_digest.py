"""The weekly digest: built from what was stored, sent once per week by the workers' periodic job."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from firstring.digests.models import DigestWeek
from firstring.digests.selectors import week_start, weekly_digest
from firstring.digests.services import digest_send_due, digest_week_due
from firstring.escalations.models import Lesson
from firstring.escalations.services import lesson_record
from firstring.insights.analysis import messages_analyse
from firstring.insights.rollup import rollup_refresh_stale
from firstring.insights.topic_services import topic_create
from firstring.ops.services import periodic_jobs_run
from firstring.surveys.models import SurveyAnswer
from tests.surveys.conftest import mailbox, settle, smtp_peer
from tests.surveys.test_dashboard import _answered

__all__ = ["mailbox", "settle", "smtp_peer"]

HOSTILE = '<img src=x onerror="alert(1)"> my parcel is late, awful'
LOGIN = [
    "I can't log in, your login page has been down all day. Terrible.",
    "Login is broken again, I cannot sign in to my account. Awful.",
    "Your login outage is a disgrace, I cannot access my account at all!",
]


def _at(monday: dt.date, hours: int = 0) -> dt.datetime:
    # Wednesday noon of that week, plus a few hours between messages.
    wednesday = dt.datetime.combine(
        monday + dt.timedelta(days=2), dt.time(12), tzinfo=timezone.get_current_timezone()
    )
    return wednesday + dt.timedelta(hours=hours)


def _conversation(receive, channel, week: dt.date, n: int, first: str, second: str | None) -> None:
    ids = [
        receive(
            email=f"w{week:%m%d}-{n}@example.com", text=first, channel=channel, received_at=_at(week)
        ).message.pk
    ]
    if second:
        again = receive(
            email=f"w{week:%m%d}-{n}@example.com", text=second, channel=channel, received_at=_at(week, 1)
        )
        ids.append(again.message.pk)
    messages_analyse(message_ids=ids)


@pytest.fixture
def two_weeks(receive, email_channel, manager):
    """The week before last: deliveries late then fine. Last week: late and still late, a login outage."""
    topic_create(user=manager, name="delivery", examples=["my parcel has not arrived"])
    last = week_start(timezone.localdate()) - dt.timedelta(days=7)
    before = last - dt.timedelta(days=7)
    for n in range(5):
        _conversation(
            receive, email_channel, before, n, "My parcel is late, awful.", "Thanks, it arrived. Great!"
        )
        _conversation(
            receive, email_channel, last, n, "My parcel is late, awful.", "Still no parcel. Terrible."
        )
    # The week's newest delivery message, the topic's example in the digest.
    hostile = receive(email="h@example.com", text=HOSTILE, channel=email_channel, received_at=_at(last, 3))
    messages_analyse(message_ids=[hostile.message.pk])
    for n, text in enumerate(LOGIN):
        _conversation(receive, email_channel, last, 10 + n, text, None)
    lesson = lesson_record(
        author=manager, title="<b>Late parcels</b>", text="Call the courier before replying."
    )
    Lesson.objects.filter(pk=lesson.pk).update(created_at=_at(last))
    rollup_refresh_stale()
    return last


def test_the_digest_says_what_customers_said_what_got_worse_and_what_was_learned(two_weeks):
    d = weekly_digest(week=two_weeks)
    assert (d.since, d.until) == (two_weeks, two_weeks + dt.timedelta(days=6))
    assert d.summary["messages"] == 14 and d.previous["messages"] == 10
    assert d.topics[0]["topic"] == "delivery" and len(d.topics[0]["examples"]) == 1
    worse = {(c.kind, c.name): c for c in d.worse}
    assert worse[("topic", "delivery")].before == 0.5 and worse[("topic", "delivery")].after == 1.0
    assert ("channel", "Support e-mail") in worse
    [drop] = d.lift_drops
    # "Late" then "still late": the tone model scores both about equally negative, a lift near zero.
    assert (drop.name, drop.count) == ("Support", 5) and drop.before > 1 and abs(drop.after) < 0.1
    assert [lesson.title for lesson in d.lessons] == ["<b>Late parcels</b>"]
    [emerging] = d.emerging
    assert emerging.size == 3 and "login" in emerging.terms
    assert d.surveys_answered == 0
    # The week before it had nothing worse than the week before that (nothing at all).
    earlier = weekly_digest(week=two_weeks - dt.timedelta(days=7))
    assert earlier.worse == [] and earlier.lift_drops == [] and earlier.lessons == []


def test_the_worker_sends_it_once_by_smtp_text_and_html(
    two_weeks,
    manager,
    admin_user,
    agent,
    mailbox,
    smtp_peer,
    settle,
    settings,
    django_capture_on_commit_callbacks,
):
    settings.FIRSTRING_DIGEST_ENABLED = True
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = smtp_peer.host, smtp_peer.port
    answer = _answered(mailbox, 1, "csat", 5, agent)
    SurveyAnswer.objects.filter(pk=answer.pk).update(answered_at=_at(two_weeks))
    settle()
    smtp_peer.received.clear()

    # Several workers beat: the week is recorded once and its e-mail queued once.
    with django_capture_on_commit_callbacks(execute=True):
        periodic_jobs_run()
        periodic_jobs_run()
    assert digest_send_due() is None
    assert list(DigestWeek.objects.values_list("week_start", "recipients")) == [(two_weeks, 2)]
    settle()
    digests = [m for m in smtp_peer.received if m["Subject"].startswith("[Firstring] Week of")]
    assert sorted(m["To"] for m in digests) == [admin_user.email, manager.email]
    mail = digests[0]
    assert mail["Subject"] == f"[Firstring] Week of {two_weeks:%Y-%m-%d}: 14 customer messages, 100% negative"
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    for part in (text, html):
        assert "delivery" in part and "Support e-mail" in part and "Late parcels" in part
        assert "from 1 answers (week before: " in part and "login" in part
    assert "CSAT: 100% from 1 answers" in text and "CSAT <strong>100%</strong> from 1 answers" in html
    assert "Nothing got noticeably worse" not in text
    # Customers' and staff's words are escaped in the HTML, plain in the text.
    assert "<img src=x" not in html and "&lt;img src=x" in html
    assert "<b>Late parcels</b>" not in html and "&lt;b&gt;Late parcels&lt;/b&gt;" in html
    assert '<img src=x onerror="alert(1)">' in text


def test_the_week_is_due_from_monday_at_the_set_hour(settings):
    settings.FIRSTRING_DIGEST_HOUR = 7
    zone = timezone.get_current_timezone()
    monday = dt.date(2026, 11, 23)
    assert digest_week_due(now=dt.datetime(2026, 11, 23, 6, 59, tzinfo=zone)) is None
    assert digest_week_due(now=dt.datetime(2026, 11, 23, 7, 0, tzinfo=zone)) == monday - dt.timedelta(days=7)
    assert digest_week_due(now=dt.datetime(2026, 11, 29, 23, 0, tzinfo=zone)) == monday - dt.timedelta(days=7)
    assert digest_week_due(now=dt.datetime(2026, 11, 30, 8, 0, tzinfo=zone)) == monday


def test_nothing_is_sent_when_turned_off_or_nobody_to_tell(db, settings, agent):
    assert digest_send_due() is None  # off (the tests' default)
    settings.FIRSTRING_DIGEST_ENABLED = True
    assert digest_send_due() is None  # an agent only: no manager, the week waits for one
    assert not DigestWeek.objects.exists()


def test_an_empty_week_is_recorded_but_not_sent(db, settings, manager, django_capture_on_commit_callbacks):
    settings.FIRSTRING_DIGEST_ENABLED = True
    with django_capture_on_commit_callbacks() as callbacks:
        row = digest_send_due()
    assert row is not None and row.recipients == 0 and callbacks == []
    assert digest_send_due() is None  # done for that week
