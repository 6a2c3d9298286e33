"""Demo data: loads through the real services, is deterministic per seed and idempotent."""

from __future__ import annotations

import re

import pytest
from django.db.models import Count
from django.utils import timezone

from firstring.accounts.models import Team, User
from firstring.channels.models import Channel
from firstring.conversations.models import Conversation, ConversationEvent, Message
from firstring.customers.models import Customer, Identity
from firstring.demo.loader import demo_load
from firstring.lib.errors import InvalidInput

pytestmark = pytest.mark.django_db


def _signature() -> list[tuple[str, str, str]]:
    return sorted(
        Message.objects.filter(direction="inbound").values_list("external_id", "channel__slug", "text")
    )


def _wipe_conversations() -> None:
    Conversation.objects.all().delete()
    Identity.objects.all().delete()
    Customer.objects.all().delete()


def test_demo_loads_a_consistent_multi_channel_world_and_is_idempotent():
    summary = demo_load(conversations=45, only_if_empty=True, seed=1)
    assert Conversation.objects.count() == 45
    assert summary.startswith("Demo data: 45 conversations")

    assert {"support", "billing", "social"} <= set(Team.objects.values_list("slug", flat=True))
    kinds = set(Channel.objects.values_list("kind", flat=True))
    assert {"email", "chat", "phone", "sms", "whatsapp", "social", "api"} <= kinds
    networks = {c.config.get("network") for c in Channel.objects.filter(kind="social")}
    assert networks == {"x", "bluesky", "mastodon"}

    # Staff: named, with skills; no fixed password — the summary prints the one generated for this load.
    staff = User.objects.filter(email__endswith="@staff.northwind.example")
    assert staff.filter(role="manager").exists() and staff.filter(role="agent").count() >= 5
    assert all(user.skills.exists() for user in staff)
    password = re.search(r"password (\S+)", summary)
    assert password is not None
    assert staff.first().check_password(password.group(1))
    assert not staff.first().check_password("password")

    # A spread of statuses and priorities, assignments, notes and delivered replies in the past.
    assert set(Conversation.objects.values_list("status", flat=True)) >= {"open", "resolved", "pending"}
    assert Conversation.objects.values("priority").distinct().count() >= 3
    assert Conversation.objects.filter(assignee__isnull=False).exists()
    assert Message.objects.filter(direction="note").exists()
    outbound = Message.objects.filter(direction="outbound")
    assert outbound.exists()
    assert set(outbound.values_list("delivery_status", flat=True)) <= {"sent", "delivered"}
    now = timezone.now()
    assert not Message.objects.filter(created_at__gt=now).exists()
    assert not ConversationEvent.objects.filter(created_at__gt=now).exists()
    assert Conversation.objects.filter(last_message_at__lt=now - timezone.timedelta(days=3)).exists()
    # Counters kept by the services agree with the stored messages.
    for conversation in Conversation.objects.annotate(n=Count("messages")):
        assert conversation.message_count == conversation.n
        assert conversation.created_at <= conversation.last_message_at <= now
    resolved = Conversation.objects.filter(status="resolved")
    assert resolved.exists() and not resolved.filter(resolved_at__isnull=True).exists()
    assert Message.objects.filter(channel__kind="phone", text__contains="Transcript").exists()

    # The same customer on more than one channel kind (e.g. e-mail, phone and a social handle).
    multi = [
        customer
        for customer in Customer.objects.all()
        if len({c.channel.kind for c in customer.conversations.select_related("channel")}) >= 2
    ]
    assert len(multi) >= 3
    assert any(len(set(customer.identities.values_list("kind", flat=True))) >= 2 for customer in multi)

    # Idempotent: `make run` twice keeps the data; loading the same seed again adds nothing.
    assert "skipped" in demo_load(conversations=45, only_if_empty=True, seed=1)
    before = (Conversation.objects.count(), Message.objects.count(), User.objects.count())
    demo_load(conversations=45, only_if_empty=False, seed=1)
    assert (Conversation.objects.count(), Message.objects.count(), User.objects.count()) == before


def test_demo_is_deterministic_per_seed():
    demo_load(conversations=15, only_if_empty=False, seed=5)
    first = _signature()
    _wipe_conversations()
    demo_load(conversations=15, only_if_empty=False, seed=5)
    assert _signature() == first
    demo_load(conversations=15, only_if_empty=False, seed=6)
    assert Conversation.objects.count() == 30, "another seed adds its own conversations"


def test_demo_rejects_a_negative_count():
    with pytest.raises(InvalidInput):
        demo_load(conversations=-1, only_if_empty=False, seed=1)


def test_demo_sets_up_service_levels_rules_and_lessons_without_a_storm_of_old_alerts():
    from firstring.conversations.models import Conversation
    from firstring.escalations.models import Lesson
    from firstring.routing.models import Notification, RoutingRule, SlaAlert
    from firstring.routing.services import sla_watch
    from firstring.sla.models import SlaPolicy

    demo_load(conversations=40, only_if_empty=False, seed=3)
    assert SlaPolicy.objects.count() == 4 and RoutingRule.objects.count() == 2 and Lesson.objects.count() == 2
    assert Conversation.objects.exclude(sla_policy=None).count() == Conversation.objects.count()
    missed_before = SlaAlert.objects.filter(kind="breach").count()
    sla_watch()
    # The demo's history records its old misses; the watch raises only what falls due now.
    assert SlaAlert.objects.filter(kind="breach").count() == missed_before
    assert not Notification.objects.filter(kind="sla_breach").exists()
