"""Resolving a conversation as an agent would, and running what follows until nothing is left to run."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from firstring.accounts.models import User
from firstring.channels.models import Channel
from firstring.conversations.models import Conversation
from firstring.conversations.services import conversation_set_status
from tests.channels.conftest import SmtpPeer, smtp_peer
from tests.channels.twilio_peer import peer, sms

__all__ = ["peer", "sms", "smtp_peer"]  # the e-mail and Twilio tests' real peers, shared here


@pytest.fixture
def settle(run_tasks: Callable[[], int], django_capture_on_commit_callbacks: Any) -> Callable[[], int]:
    """Run queued tasks, and the tasks they queue after their commits, until the queue is empty."""

    def _settle() -> int:
        total = 0
        while True:
            with django_capture_on_commit_callbacks(execute=True):
                ran = run_tasks()
            if not ran:
                return total
            total += ran

    return _settle


@pytest.fixture
def resolve(
    manager: User, settle: Callable[[], int], django_capture_on_commit_callbacks: Any
) -> Callable[[Conversation], Conversation]:
    def _resolve(conversation: Conversation) -> Conversation:
        with django_capture_on_commit_callbacks(execute=True):
            conversation_set_status(conversation=conversation, status="resolved", actor=manager)
        settle()
        conversation.refresh_from_db()
        return conversation

    return _resolve


@pytest.fixture
def mailbox(email_channel: Channel, smtp_peer: SmtpPeer) -> Channel:
    """The support mailbox, sending through the local SMTP server."""
    email_channel.config = {
        "address": "support@firstring.example",
        "smtp_host": smtp_peer.host,
        "smtp_port": smtp_peer.port,
        "smtp_security": "none",
    }
    email_channel.save()
    return email_channel
