"""Real mail peers for the e-mail channel: a local SMTP server (aiosmtpd) and Dovecot's IMAP server."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from firstring.channels.email.testing import DovecotUnavailable, ImapServer, dovecot_server
from firstring.lib.net import free_port
from tests.channels.twilio_peer import peer, sms
from tests.conftest import IN_CI

__all__ = ["peer", "sms"]  # the local Twilio peer and an SMS channel on it, shared with the surveys


@dataclass
class SmtpPeer:
    """A real SMTP server on loopback that keeps what it accepts and refuses recipients as scripted."""

    host: str
    port: int
    received: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    # Recipient address -> the reply to RCPT TO (e.g. "550 5.1.1 No such user").
    refuse: dict[str, str] = field(default_factory=dict)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        message = BytesParser(policy=policy.default).parsebytes(envelope.original_content)
        assert isinstance(message, EmailMessage)
        self.received.append(message)
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_peer() -> Iterator[SmtpPeer]:
    peer = SmtpPeer("127.0.0.1", free_port())
    controller = Controller(peer, hostname=peer.host, port=peer.port)
    # aiosmtpd logs every connection's end at INFO from its own thread, which can run after pytest has
    # closed the stream the log handler writes to ("Logging error" tracebacks in the output).
    server_log = logging.getLogger("mail.log")
    level = server_log.level
    server_log.setLevel(logging.WARNING)
    controller.start()
    try:
        yield peer
    finally:
        controller.stop()
        server_log.setLevel(level)


@pytest.fixture(scope="module")
def imap_server() -> Iterator[ImapServer]:
    """Dovecot on a free loopback port, one per test module; each test uses folders of its own."""
    try:
        with dovecot_server() as server:
            yield server
    except DovecotUnavailable as error:
        if IN_CI:
            pytest.fail(f"{error}, and CI requires it")
        pytest.skip(str(error))
