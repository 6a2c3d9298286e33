"""Lists take a fixed number of queries however many rows they show (no N+1)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from firstring.accounts.models import Team, User
from firstring.conversations.services import conversation_assign, conversation_set_tags

pytestmark = pytest.mark.django_db


def _queries(call, path):
    call("get", "/me")  # let the token's last_used_at touch happen outside the measurement
    with CaptureQueriesContext(connection) as captured:
        assert call("get", path).status_code == 200
    return len(captured)


@pytest.mark.parametrize("path", ["/conversations", "/customers", "/users", "/teams"])
def test_list_queries_do_not_grow_with_rows(api, receive, admin_user, support_team, path):
    def add(n):
        result = receive(email=f"q{n}@example.com", phone=f"+1202555{n:04d}")
        conversation_assign(conversation=result.conversation, assignee=admin_user, actor=admin_user)
        conversation_set_tags(conversation=result.conversation, names=["a", "b"], actor=admin_user)
        result.customer.tags.add(*result.conversation.tags.all())
        user = User.objects.create_user(email=f"u{n}@example.com")
        user.teams.add(support_team, Team.objects.create(name=f"Team {n}", slug=f"team-{n}"))

    add(1)
    few = _queries(api, path)
    for n in range(2, 7):
        add(n)
    assert _queries(api, path) == few


def test_message_list_queries_do_not_grow(api, receive):
    first = receive(email="m@example.com", text="one")
    path = f"/conversations/{first.conversation.pk}/messages"
    few = _queries(api, path)
    for n in range(5):
        receive(email="m@example.com", text=f"more {n}")
    assert _queries(api, path) == few
