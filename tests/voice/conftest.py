"""A phone number on Twilio with a menu, an agent with a line, and Twilio's side as a local server."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.test import Client

from firstring.accounts.models import Skill, Team, User, UserSkill
from firstring.channels.models import Channel
from firstring.routing.services import presence_set
from firstring.voice.models import AgentLine
from firstring.voice.services import phone_menu_set
from tests.voice.twilio_voice_peer import ACCOUNT_SID, AUTH_TOKEN, VoicePeer, signed_post, twilio_voice_peer

SITE = "http://testserver"

MENU: dict[str, Any] = {
    "greeting": "Thanks for calling Acme.",
    "languages": [
        {"key": "1", "code": "en", "label": "English", "say": "en-US"},
        {"key": "2", "code": "es", "label": "Spanish", "say": "es-ES", "prompt": "Para español, pulse 2."},
    ],
    "prompt": "For billing press 1 or say billing. For our hours press 2. For a person press 0.",
    "options": [
        {
            "key": "1",
            "keywords": ["billing", "invoice"],
            "action": "queue",
            "label": "Billing",
            "team": "billing",
            "skills": ["Invoices"],
        },
        {"key": "2", "keywords": ["hours"], "action": "hours"},
        {"key": "3", "keywords": ["delivery"], "action": "answer", "text": "Orders ship within two days."},
    ],
    "hours_message": "We answer from 8 to 6, Monday to Friday.",
    "human": {"team": "support"},
}


@pytest.fixture
def peer() -> Iterator[VoicePeer]:
    with twilio_voice_peer() as running:
        yield running


@pytest.fixture
def phone(db: None, settings: Any, peer: VoicePeer, support_team: Team, billing_team: Team) -> Channel:
    settings.SITE_URL = SITE
    Skill.objects.create(kind=Skill.Kind.TOPIC, name="Invoices")
    channel = Channel.objects.create(
        kind="phone",
        slug="hotline",
        name="Hotline",
        team=support_team,
        config={"number": "+12025550100", "api_base_url": peer.url, "voicemail_after_seconds": 120},
        secrets={"account_sid": ACCOUNT_SID, "auth_token": AUTH_TOKEN},
    )
    phone_menu_set(channel=channel, definition=MENU)
    return channel


@pytest.fixture
def billing_line(billing_agent: User) -> User:
    skill = Skill.objects.get(name="Invoices")
    UserSkill.objects.create(user=billing_agent, skill=skill, level=2)
    AgentLine.objects.create(user=billing_agent, number="+14155550999")
    presence_set(user=billing_agent, presence="available")
    return billing_agent


@pytest.fixture
def hook(phone: Channel, client: Client, django_capture_on_commit_callbacks: Any) -> Callable[..., Any]:
    """POST a signed webhook: hook("menu?step=1", params) — after-commit work (routing) runs too."""

    def post(name: str, params: dict[str, str]) -> Any:
        with django_capture_on_commit_callbacks(execute=True):
            return signed_post(client, f"{SITE}/channels/phone/twilio/{phone.slug}/{name}", params)

    return post
