"""Staff notifications in the app: listed escaped in the bar, opened, cleared, and nobody else's."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from firstring.routing.models import Notification
from firstring.routing.services import sla_watch
from firstring.sla.models import SlaPolicy
from tests.web.conftest import HTMX

pytestmark = pytest.mark.django_db


@pytest.fixture
def breached(receive, email_channel, manager):
    SlaPolicy.objects.create(name="E-mail in an hour", channel_kind="email", first_response_minutes=60)
    two_hours_ago = timezone.now() - timedelta(hours=2)
    conversation = receive(
        email="n@example.com", name="<i>Nia</i>", channel=email_channel, received_at=two_hours_ago
    ).conversation
    assert sla_watch() == 1
    return conversation


def test_a_breach_shows_in_the_managers_bar_and_on_the_conversation(client_for, manager, breached):
    client = client_for(manager)
    html = client.get("/").content.decode()
    assert 'class="badge">1<' in html
    assert "First response missed for &lt;i&gt;Nia&lt;/i&gt;" in html and "<i>Nia" not in html
    page = client.get(f"/conversations/{breached.pk}/").content.decode()
    assert "First response overdue since" in page
    assert "The first response target (E-mail in an hour) was missed" in page


def test_opening_a_notification_marks_it_read_and_goes_to_the_conversation(client_for, manager, breached):
    note = Notification.objects.get(user=manager)
    response = client_for(manager).post(f"/notifications/{note.pk}/open/")
    assert response.status_code == 302 and response["Location"] == f"/conversations/{breached.pk}/"
    note.refresh_from_db()
    assert note.read_at is not None
    assert 'class="badge"' not in client_for(manager).get("/notifications/", **HTMX).content.decode()


def test_nobody_opens_another_users_notification(client_for, agent, manager, breached):
    note = Notification.objects.get(user=manager)
    assert client_for(agent).post(f"/notifications/{note.pk}/open/").status_code == 404
    note.refresh_from_db()
    assert note.read_at is None


def test_mark_all_read(client_for, manager, breached):
    response = client_for(manager).post("/notifications/read/", **HTMX)
    assert response.status_code == 200 and "Nothing new." in response.content.decode()
    assert not Notification.objects.filter(user=manager, read_at__isnull=True).exists()
