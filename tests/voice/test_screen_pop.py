"""The screen pop: a call rings in the agent's browser with the caller found by caller id (or a new
customer), their recent conversations the agent may see, and what they chose in the menu, all escaped."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.test import Client

from firstring.accounts.models import Team, User
from firstring.channels.models import Channel
from firstring.routing.models import RoutingTask
from firstring.voice.models import Call
from tests.voice.twilio_voice_peer import call_sid, params
from tests.web.conftest import HTMX

Hook = Callable[..., Any]
THEN = " \u203a "  # between the steps of a menu path


def offers_html(client: Client) -> str:
    response = client.get("/routing/offers/", **HTMX)
    assert response.status_code == 200
    return response.content.decode()


def test_a_ringing_call_shows_the_caller_their_history_and_their_menu_path_escaped(
    hook: Hook,
    phone: Channel,
    billing_line: User,
    billing_team: Team,
    support_team: Team,
    receive: Callable[..., Any],
    client: Client,
    django_capture_on_commit_callbacks: Any,
) -> None:
    # Rita wrote before, to billing (which the agent sees) and to support (which they do not).
    crm = Channel.objects.create(kind="api", slug="crm", name="CRM", team=billing_team)
    other = Channel.objects.create(kind="api", slug="crm-support", name="CRM support", team=support_team)
    receive(
        phone="+14155550123",
        name="<b>Rita</b>",
        subject="<script>alert(1)</script>Invoice wrong",
        channel=crm,
        external_id="earlier-1",
    )
    receive(phone="+14155550123", subject="Secret support matter", channel=other, external_id="earlier-2")

    sid = call_sid(80)
    hook("incoming", params(sid, CallStatus="ringing"))
    hook("menu?step=1", params(sid, Digits="1"))  # English
    hook("menu?step=2", params(sid, SpeechResult="<img src=x onerror=alert(2)>"))  # not understood
    hook("menu?step=3", params(sid, Digits="1"))  # Billing
    call = Call.objects.get(external_id=sid)
    assert call.routing_task.status == RoutingTask.Status.OFFERED
    client.force_login(billing_line)

    html = offers_html(client)
    pop = html[html.index('class="screen-pop"') :]
    assert "&lt;b&gt;Rita&lt;/b&gt;" in pop and "<b>Rita" not in html
    assert f'href="/customers/{call.conversation.customer_id}/"' in pop and "+14155550123" in pop
    assert f"Chose: en{THEN}“&lt;img src=x onerror=alert(2)&gt;”{THEN}Billing" in pop
    assert "&lt;script&gt;alert(1)&lt;/script&gt;Invoice wrong" in pop and "<script>alert" not in html
    assert "Secret support matter" not in html
    assert "New customer" not in pop
    # An e-mail offer has no screen pop, as before.
    assert html.count('class="screen-pop"') == 1

    # That caller hangs up; a caller nobody knows rings next.
    hook("left", params(sid, QueueResult="hangup"))
    support_team.members.add(billing_line)  # the human queue is support's
    stranger = call_sid(81)
    number = {"From": "+14155550188", "Caller": "+14155550188"}
    hook("incoming", params(stranger, CallStatus="ringing", **number))
    hook("menu?step=1", params(stranger, Digits="1", **number))
    hook("menu?step=2", params(stranger, Digits="0", **number))  # straight to a person
    task = Call.objects.get(external_id=stranger).routing_task
    task.refresh_from_db()
    assert task.status == RoutingTask.Status.OFFERED and task.offered_to == billing_line
    html = offers_html(client)
    assert "New customer · +14155550188" in html
    assert f"Chose: en{THEN}agent" in html
    assert "Recent conversations" not in html
