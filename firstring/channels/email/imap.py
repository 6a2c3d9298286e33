"""Polling IMAP mailboxes: every e-mail channel with an IMAP host is one mailbox.

A poll fetches the messages after the last UID it stored (the first poll: the unseen ones) in batches,
hands each batch to the receive service in one transaction, then marks them \\Seen and stores the new
last UID in `Channel.state["imap"]`. Stored messages are never fetched twice unless a poll dies between
storing and recording, and then the Message-ID makes the redelivery a no-op. A new UIDVALIDITY (the
mailbox was recreated) starts over from the unseen messages.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError

from firstring.channels.email.inbound import emails_receive
from firstring.channels.models import Channel
from firstring.lib.errors import InvalidInput

logger = logging.getLogger(__name__)

TIMEOUT_SECONDS = 30.0
DEFAULT_POLL_SECONDS = 60
BATCH = 100


@dataclass
class PollReport:
    channel: str
    fetched: int = 0
    created: int = 0
    redelivered: int = 0
    rejected: list[str] = field(default_factory=list)
    last_uid: int = 0

    def summary(self) -> str:
        return (
            f"{self.channel}: {self.fetched} fetched, {self.created} new, {self.redelivered} already stored, "
            f"{len(self.rejected)} rejected (last UID {self.last_uid})"
        )


def mailbox_channels() -> list[Channel]:
    """The enabled e-mail channels that have an IMAP mailbox to poll."""
    return [c for c in Channel.objects.filter(kind="email", enabled=True) if c.config.get("imap_host")]


@contextmanager
def imap_connect(channel: Channel) -> Iterator[IMAPClient]:
    config = channel.config
    host = str(config.get("imap_host") or "")
    username = str(config.get("imap_username") or "")
    password = str(channel.secrets.get("imap_password") or "")
    if not host or not username or not password:
        raise InvalidInput(
            f"channel {channel.slug} needs imap_host, imap_username and the imap_password secret"
        )
    use_ssl = bool(config.get("imap_ssl", True))
    port = int(config.get("imap_port") or (993 if use_ssl else 143))
    client = IMAPClient(host, port=port, ssl=use_ssl, timeout=TIMEOUT_SECONDS)
    try:
        if not use_ssl and config.get("imap_starttls"):
            client.starttls()
        client.login(username, password)
        yield client
    finally:
        try:
            client.logout()
        except (IMAPClientError, OSError):
            client.shutdown()


def _save_state(channel: Channel, **changes: Any) -> None:
    with transaction.atomic():
        locked = Channel.objects.select_for_update().get(pk=channel.pk)
        state = dict(locked.state or {})
        state["imap"] = {**state.get("imap", {}), **changes}
        locked.state = state
        locked.save(update_fields=["state"])
    channel.state = state


def mailbox_poll(*, channel: Channel, batch: int = BATCH, client: IMAPClient | None = None) -> PollReport:
    """Fetch and store what is new in the channel's mailbox; returns what happened."""
    if client is None:
        with imap_connect(channel) as connected:
            return mailbox_poll(channel=channel, batch=batch, client=connected)
    report = PollReport(channel=channel.slug)
    folder = str(channel.config.get("imap_folder") or "INBOX")
    selected = client.select_folder(folder)
    uidvalidity = int(selected.get(b"UIDVALIDITY", 0))
    state = (channel.state or {}).get("imap", {})
    last_uid = int(state.get("last_uid") or 0) if state.get("uidvalidity") == uidvalidity else 0
    if last_uid:
        uids = sorted(uid for uid in client.search(["UID", f"{last_uid + 1}:*"]) if uid > last_uid)
    else:
        uids = sorted(client.search(["UNSEEN"]))
    report.last_uid = last_uid
    for start in range(0, len(uids), batch):
        chunk = uids[start : start + batch]
        fetched = client.fetch(chunk, ["BODY.PEEK[]"])
        raws = [fetched[uid][b"BODY[]"] for uid in chunk if uid in fetched and b"BODY[]" in fetched[uid]]
        outcome = emails_receive(channel=channel, raws=raws)
        client.add_flags(chunk, [b"\\Seen"], silent=True)
        report.fetched += len(raws)
        report.created += outcome.created
        report.redelivered += outcome.redelivered
        report.rejected += outcome.rejected
        report.last_uid = max(chunk)
        _save_state(channel, uidvalidity=uidvalidity, last_uid=report.last_uid)
    _save_state(
        channel,
        uidvalidity=uidvalidity,
        last_uid=report.last_uid,
        polled_at=timezone.now().isoformat(),
        error="",
    )
    return report


def mailboxes_poll_due() -> list[PollReport]:
    """Poll every mailbox whose `poll_seconds` (60 by default) have passed; a worker's periodic job.

    A mailbox that fails (unreachable, wrong password) records the error in its state and is tried again
    after its interval; the others are polled all the same.
    """
    reports = []
    now = timezone.now()
    for channel in mailbox_channels():
        state = (channel.state or {}).get("imap", {})
        interval = timedelta(seconds=int(channel.config.get("poll_seconds") or DEFAULT_POLL_SECONDS))
        attempted = state.get("attempted_at")
        if attempted and datetime.fromisoformat(attempted) > now - interval:
            continue
        _save_state(channel, attempted_at=now.isoformat())
        try:
            reports.append(mailbox_poll(channel=channel))
        except (IMAPClientError, OSError, InvalidInput) as error:
            logger.warning("polling mailbox %s failed: %s", channel.slug, error)
            _save_state(channel, error=f"{type(error).__name__}: {error}"[:500])
    return reports


def mailbox_watch(
    *, channel: Channel, seconds: float, idle_seconds: float = 300, on_report: Callable[[PollReport], None]
) -> None:
    """Poll one mailbox, then wait in IMAP IDLE (where the server offers it) for news; for `seconds`."""
    deadline = time.monotonic() + seconds
    with imap_connect(channel) as client:
        idle = b"IDLE" in client.capabilities()
        while time.monotonic() < deadline:
            on_report(mailbox_poll(channel=channel, client=client))
            wait = min(idle_seconds, max(0.0, deadline - time.monotonic()))
            if wait <= 0:
                break
            if idle:
                client.idle()
                try:
                    client.idle_check(timeout=wait)
                finally:
                    client.idle_done()
            else:
                time.sleep(min(wait, float(channel.config.get("poll_seconds") or DEFAULT_POLL_SECONDS)))
