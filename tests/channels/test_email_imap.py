"""Polling mailboxes on a real Dovecot IMAP server started for these tests."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator

import pytest
from imapclient import IMAPClient

from firstring.channels.email.imap import PollReport, mailbox_poll, mailbox_watch, mailboxes_poll_due
from firstring.channels.email.testing import ImapServer
from firstring.channels.models import Channel
from firstring.cli import main as firstring
from firstring.conversations.models import Message
from firstring.ops.services import periodic_jobs_run
from tests.channels import email_corpus as corpus

_folders = itertools.count(1)


@pytest.fixture
def imap(imap_server: ImapServer) -> Iterator[tuple[IMAPClient, str]]:
    """A client of the test mailbox and a folder of this test's own."""
    client = IMAPClient(imap_server.host, port=imap_server.port, ssl=False, timeout=10)
    client.login(imap_server.username, imap_server.password)
    folder = f"test{next(_folders)}"
    client.create_folder(folder)
    try:
        yield client, folder
    finally:
        client.logout()


@pytest.fixture
def mailbox(email_channel: Channel, imap_server: ImapServer, imap: tuple[IMAPClient, str]) -> Channel:
    email_channel.config = {
        "address": "support@firstring.example",
        "imap_host": imap_server.host,
        "imap_port": imap_server.port,
        "imap_ssl": False,
        "imap_username": imap_server.username,
        "imap_folder": imap[1],
    }
    email_channel.secrets = {"imap_password": imap_server.password}
    email_channel.save()
    return email_channel


def append(imap: tuple[IMAPClient, str], *raws: bytes, seen: bool = False) -> None:
    client, folder = imap
    for raw in raws:
        client.append(folder, raw, flags=[b"\\Seen"] if seen else [])


def test_a_poll_stores_new_mail_marks_it_seen_and_remembers_where_it_stopped(mailbox, imap):
    append(imap, corpus.message(message_id="p1@x"), corpus.plain("Second", message_id="p2@x"))
    report = mailbox_poll(channel=mailbox)
    assert (report.fetched, report.created, report.rejected) == (2, 2, [])
    assert set(Message.objects.values_list("external_id", flat=True)) == {"p1@x", "p2@x"}
    client, folder = imap
    client.select_folder(folder)
    assert client.search(["UNSEEN"]) == []
    mailbox.refresh_from_db()
    assert mailbox.state["imap"]["last_uid"] == report.last_uid == 2
    assert mailbox.state["imap"]["error"] == ""

    assert mailbox_poll(channel=mailbox).fetched == 0
    append(imap, corpus.message(message_id="p3@x", in_reply_to="p1@x"))
    later = mailbox_poll(channel=mailbox)
    assert (later.fetched, later.created, later.last_uid) == (1, 1, 3)
    p1, p3 = (Message.objects.get(external_id=i) for i in ("p1@x", "p3@x"))
    assert p1.conversation_id == p3.conversation_id


def test_the_first_poll_takes_only_unseen_mail(mailbox, imap):
    append(imap, corpus.message(message_id="old@x"), seen=True)
    append(imap, corpus.message(message_id="new@x"))
    assert mailbox_poll(channel=mailbox).created == 1
    assert list(Message.objects.values_list("external_id", flat=True)) == ["new@x"]


def test_a_recreated_mailbox_starts_over_from_the_unseen_mail(mailbox, imap):
    append(imap, corpus.message(message_id="again@x"))
    mailbox.state = {"imap": {"uidvalidity": 1, "last_uid": 999}}
    mailbox.save()
    assert mailbox_poll(channel=mailbox).created == 1


def test_batches_store_everything_and_thread_within_a_batch(mailbox, imap):
    append(
        imap,
        corpus.message(message_id="b1@x"),
        corpus.message(message_id="b2@x", in_reply_to="b1@x"),
        corpus.message(message_id="b3@x", sender="dora@example.com"),
        corpus.message(message_id="b4@x", references="<b1@x> <b2@x>"),
        corpus.message(message_id="b1@x"),  # the same mail delivered twice
    )
    report = mailbox_poll(channel=mailbox, batch=2)
    assert (report.fetched, report.created, report.redelivered) == (5, 4, 1)
    threads = dict(Message.objects.values_list("external_id", "conversation__external_thread"))
    assert threads == {"b1@x": "b1@x", "b2@x": "b1@x", "b3@x": "b3@x", "b4@x": "b1@x"}


def test_a_bad_mail_in_the_mailbox_is_left_out_and_the_rest_stored(mailbox, imap, settings):
    append(
        imap,
        b"Subject: no sender at all\r\n\r\nhello\r\n",
        corpus.message(message_id="good@x"),
        corpus.bounce(original_message_id="unknown@x"),
    )
    report = mailbox_poll(channel=mailbox)
    assert report.created == 2 and len(report.rejected) == 1
    assert "no valid sender" in report.rejected[0]
    # Not fetched again: the poll moved past it.
    assert mailbox_poll(channel=mailbox).fetched == 0


def test_the_workers_periodic_job_polls_due_mailboxes_and_records_failures(mailbox, imap):
    append(imap, corpus.message(message_id="w1@x"))
    periodic_jobs_run()
    assert Message.objects.filter(external_id="w1@x").exists()
    # Not due again before poll_seconds have passed.
    append(imap, corpus.message(message_id="w2@x"))
    periodic_jobs_run()
    assert not Message.objects.filter(external_id="w2@x").exists()

    mailbox.refresh_from_db()
    mailbox.secrets = {"imap_password": "wrong"}
    mailbox.state = {}
    mailbox.save()
    assert mailboxes_poll_due() == []
    mailbox.refresh_from_db()
    assert "authentication failed" in mailbox.state["imap"]["error"].lower()
    assert "wrong" not in mailbox.state["imap"]["error"]


def test_firstring_mail_poll_polls_now(mailbox, imap, capsys):
    append(imap, corpus.message(message_id="cli@x"))
    assert firstring(["mail", "poll", "--channel", mailbox.slug]) == 0
    assert "support-email: 1 fetched, 1 new" in capsys.readouterr().out
    assert firstring(["mail", "poll", "--channel", "nope"]) == 1


def test_watch_waits_in_idle_and_fetches_mail_as_it_arrives(mailbox, imap_server, imap):
    folder = imap[1]

    def deliver_later() -> None:
        time.sleep(0.5)
        client = IMAPClient(imap_server.host, port=imap_server.port, ssl=False, timeout=10)
        client.login(imap_server.username, imap_server.password)
        client.append(folder, corpus.message(message_id="idle@x"))
        client.logout()

    reports: list[PollReport] = []
    sender = threading.Thread(target=deliver_later)
    sender.start()
    began = time.monotonic()
    mailbox_watch(channel=mailbox, seconds=2.5, idle_seconds=5, on_report=reports.append)
    sender.join()
    assert time.monotonic() - began < 5
    assert [r.created for r in reports][:2] == [0, 1]
    assert Message.objects.filter(external_id="idle@x").exists()


def test_several_mailboxes_each_land_in_their_own_team(mailbox, imap, billing_team):
    client, folder = imap
    client.create_folder(f"{folder}-billing")
    billing = Channel.objects.create(
        kind="email",
        slug="billing-email",
        name="Billing e-mail",
        team=billing_team,
        config={**mailbox.config, "imap_folder": f"{folder}-billing"},
        secrets=mailbox.secrets,
    )
    append(imap, corpus.message(message_id="to-support@x"))
    client.append(f"{folder}-billing", corpus.message(message_id="to-billing@x"))
    reports = mailboxes_poll_due()
    assert sorted((r.channel, r.created) for r in reports) == [("billing-email", 1), ("support-email", 1)]
    teams = dict(Message.objects.values_list("external_id", "conversation__team__slug"))
    assert teams == {"to-support@x": "support", "to-billing@x": "billing"}
    assert Message.objects.get(external_id="to-billing@x").channel == billing
