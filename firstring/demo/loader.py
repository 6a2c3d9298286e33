"""Demo data: a fictional shop's teams, staff, channels and a few weeks of conversations.

Deterministic per seed. Messages go in through `receive_message` and agents act through the real
services (`conversation_assign`, `note_add`, `reply_send`, …) so counters, events and threading are what
the product would produce. Two things are then written directly, and only because this is historical
demo content: timestamps are moved back into the past weeks (the services stamp "now"), and replies are
marked sent/delivered as if the worker had delivered them long ago (demo channels have no real peers).
The delivery tasks `reply_send` queues then find nothing to do and end as "skipped".

Loading the same seed twice adds nothing the second time: each conversation's first message has an
external id derived from the seed, and a redelivery of it means the conversation already exists.
"""

from __future__ import annotations

import secrets
import time
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from random import Random

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from firstring.accounts.models import Skill, Tag, Team, User, UserSkill
from firstring.channels.models import Channel
from firstring.conversations.models import Conversation, ConversationEvent, Message
from firstring.conversations.services import (
    Inbound,
    conversation_assign,
    conversation_set_priority,
    conversation_set_status,
    conversation_set_tags,
    note_add,
    receive_message,
    reply_send,
)
from firstring.conversations.services.sla import conversation_sla_apply
from firstring.customers.identities import IdentityClaim, normalize_claim
from firstring.demo import content
from firstring.demo.content import Scenario
from firstring.escalations.models import Lesson
from firstring.knowledge.demo import knowledge_demo_load
from firstring.lib.errors import InvalidInput
from firstring.routing.models import SLA_DUE_FIELDS, RoutingRule, SlaAlert
from firstring.sla.models import BusinessCalendar, Holiday, SlaPolicy

MAX_CONVERSATIONS = 100_000
HISTORY_DAYS = 28
SOCIAL_NETWORKS = ("x", "bluesky", "mastodon")
# Replies on these kinds count as delivered at once; e-mail stays "sent" (no receipt).
_SYNC_DELIVERY = {"chat", "sms", "whatsapp", "social", "api"}
# Steps whose service records a ConversationEvent that must be moved back in time.
_EVENT_STEPS = {"assign", "tags", "priority", "status"}


def _ascii(value: str) -> str:
    return unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode().lower().replace("'", "")


@dataclass(frozen=True)
class Persona:
    """A customer as the demo imagines them; the Customer row appears when they first write."""

    index: int
    first: str
    name: str
    email: str
    language: str
    company: str
    phone: str | None
    handle: tuple[str, str] | None  # (network, handle)

    @property
    def visitor(self) -> str:
        return f"visitor-{self.index:05d}"


@dataclass
class World:
    teams: dict[str, Team]
    staff_by_team: dict[str, list[User]]
    managers: list[User]
    channels: dict[str, Channel]
    personas: list[Persona]
    password: str | None
    staff_created: int


def demo_load(*, conversations: int, only_if_empty: bool, seed: int) -> str:
    """Load demo data; returns a one-paragraph summary for the terminal."""
    if not 0 <= conversations <= MAX_CONVERSATIONS:
        raise InvalidInput(f"conversations must be between 0 and {MAX_CONVERSATIONS}")
    existing = Conversation.objects.count()
    if only_if_empty and existing:
        return f"Demo data: skipped, the database already holds {existing} conversations."
    started = time.perf_counter()
    rng = Random(seed)
    world = _world(rng, conversations)
    messages_before = Message.objects.count()
    now = timezone.now()
    created = sum(_conversation(rng, world, seed, n, now) for n in range(conversations))
    messages = Message.objects.count() - messages_before
    seconds = time.perf_counter() - started
    lines = [
        f"Demo data: {created} conversations with {messages} messages from "
        f"{len({p.email for p in world.personas})} demo customers in {seconds:.1f} s (seed {seed})."
    ]
    lines.append(knowledge_demo_load(editor=world.managers[0]))
    if world.password:
        example = world.managers[0].email
        lines.append(
            f"Demo staff ({world.staff_created} users, e.g. {example}) sign in with the password "
            f"{world.password}  (shown once; generated for this database)."
        )
    return "\n".join(lines)


def _world(rng: Random, conversations: int) -> World:
    with transaction.atomic():
        teams = {
            slug: Team.objects.get_or_create(slug=slug, defaults={"name": name})[0]
            for name, slug in content.TEAMS
        }
        password, staff_created, staff_by_team, managers = _staff(teams)
        for name, color in content.TAGS:
            Tag.objects.get_or_create(name=name, defaults={"color": color})
        channels = {
            "api": Channel.objects.get_or_create(slug="api", defaults={"kind": "api", "name": "API"})[0]
        }
        for slug, kind, name, team_slug, config in content.CHANNELS:
            channels[slug], _ = Channel.objects.get_or_create(
                slug=slug, defaults={"kind": kind, "name": name, "team": teams[team_slug], "config": config}
            )
        _service_levels()
        _routing_rules(teams)
        _lessons(managers)
    # About three conversations per customer, so most customers have some history.
    personas = [_persona(rng, i) for i in range(max(12, conversations // 3))]
    return World(teams, staff_by_team, managers, channels, personas, password, staff_created)


def _service_levels() -> None:
    office, created = BusinessCalendar.objects.get_or_create(
        name="Support office", defaults={"time_zone": "Europe/Berlin", "hours": content.OFFICE_HOURS}
    )
    if created:
        year = timezone.now().year
        for when in (year, year + 1):
            for day, name in content.OFFICE_HOLIDAYS:
                month, day_of_month = map(int, day.split("-"))
                Holiday.objects.create(calendar=office, date=date(when, month, day_of_month), name=name)
    for name, position, priority, kind, tier, first, following, resolution, in_office in content.SLA_POLICIES:
        SlaPolicy.objects.get_or_create(
            name=name,
            defaults={
                "position": position,
                "priority": priority,
                "channel_kind": kind,
                "customer_tier": tier,
                "first_response_minutes": first,
                "next_response_minutes": following,
                "resolution_minutes": resolution,
                "calendar": office if in_office else None,
            },
        )


def _routing_rules(teams: dict[str, Team]) -> None:
    for name, position, keywords, tones, team_slug, skills, priority in content.ROUTING_RULES:
        rule, created = RoutingRule.objects.get_or_create(
            name=name,
            defaults={
                "position": position,
                "keywords": keywords,
                "tones": tones,
                "team": teams[team_slug] if team_slug else None,
                "set_priority": priority,
            },
        )
        if created and skills:
            rule.skills.set(Skill.objects.get_or_create(kind=kind, name=skill)[0] for kind, skill in skills)


def _lessons(managers: list[User]) -> None:
    for title, text in content.LESSONS:
        Lesson.objects.get_or_create(
            title=title, defaults={"text": text, "author": managers[0] if managers else None}
        )


def _staff(teams: dict[str, Team]) -> tuple[str | None, int, dict[str, list[User]], list[User]]:
    """Demo staff share one generated password, hashed once: PBKDF2 per user would cost seconds."""
    plain = secrets.token_urlsafe(9)
    hashed = make_password(plain)
    created_count = 0
    by_team: dict[str, list[User]] = {slug: [] for slug in teams}
    managers: list[User] = []
    skills: dict[tuple[str, str], Skill] = {}
    for name, role, team_slugs, language, user_skills in content.STAFF:
        first, last = name.split(" ", 1)
        email = f"{_ascii(first)}.{_ascii(last).replace(' ', '')}@{content.STAFF_DOMAIN}"
        user, created = User.objects.get_or_create(
            email=email, defaults={"name": name, "role": role, "language": language, "password": hashed}
        )
        if created:
            created_count += 1
            user.teams.add(*(teams[slug] for slug in team_slugs))
            for kind, skill_name, level in user_skills:
                key = (kind, skill_name)
                if key not in skills:
                    skills[key], _ = Skill.objects.get_or_create(kind=kind, name=skill_name)
                UserSkill.objects.create(user=user, skill=skills[key], level=level)
        if user.role == User.Role.MANAGER:
            managers.append(user)
        else:
            for team in user.teams.all():
                by_team.setdefault(team.slug, []).append(user)
    return (plain if created_count else None), created_count, by_team, managers


def _persona(rng: Random, index: int) -> Persona:
    first = rng.choice(content.FIRST_NAMES)
    last = rng.choice(content.LAST_NAMES)
    email = f"{_ascii(first)}.{_ascii(last)}{index}@{rng.choice(content.CUSTOMER_DOMAINS)}"
    language = rng.choices(["en", "de", "es", "fr", ""], weights=[60, 15, 10, 8, 7])[0]
    # The first dozen are regulars reachable everywhere: e-mail, phone and a social handle.
    regular = index < 12
    phone = f"+44 7700 900{index % 1000:03d}" if regular or rng.random() < 0.5 else None
    handle = None
    if regular or rng.random() < 0.3:
        network = SOCIAL_NETWORKS[index % 3]
        base = f"{_ascii(first)}{_ascii(last)[:3]}{index}"
        value = {"x": base, "bluesky": f"{base}.bsky.social", "mastodon": f"{base}@mastodon.example"}[network]
        handle = (network, value)
    return Persona(
        index=index,
        first=first,
        name=f"{first} {last}",
        email=email,
        language=language,
        company=rng.choice(content.COMPANIES),
        phone=phone,
        handle=handle,
    )


def _pick_channel(rng: Random, world: World, persona: Persona) -> Channel:
    options: list[tuple[str, int]] = [("mail-support", 30), ("mail-billing", 8), ("web-chat", 18), ("api", 2)]
    if persona.phone:
        options += [("phone-main", 12), ("sms-main", 7), ("whatsapp", 7)]
    if persona.handle:
        slug = {"x": "x-northwind", "bluesky": "bsky-northwind", "mastodon": "mastodon-northwind"}
        options.append((slug[persona.handle[0]], 14))
    slugs, weights = zip(*options, strict=True)
    return world.channels[rng.choices(slugs, weights=weights)[0]]


def _claims(channel: Channel, persona: Persona) -> list[IdentityClaim]:
    if channel.kind in ("phone", "sms", "whatsapp") and persona.phone:
        claims = [IdentityClaim("phone", persona.phone)]
    elif channel.kind == "social" and persona.handle:
        claims = [IdentityClaim("handle", persona.handle[1], persona.handle[0])]
    elif channel.kind == "chat":
        # The chat widget asks for an e-mail address, which links the visitor to their history.
        claims = [IdentityClaim("visitor", persona.visitor), IdentityClaim("email", persona.email)]
    else:
        claims = [IdentityClaim("email", persona.email)]
    return [normalize_claim(claim) for claim in claims]


def _scenario(rng: Random, channel: Channel, persona: Persona) -> Scenario:
    if persona.language in content.LANGUAGE_SCENARIOS and rng.random() < 0.7:
        return content.LANGUAGE_SCENARIOS[persona.language]
    pool = content.SCENARIOS
    if channel.slug == "mail-billing":
        pool = [s for s in pool if s.team == "billing"]
    elif channel.kind == "social":
        pool = [s for s in pool if s.team == "social" or s.tone != "neutral"]
    return rng.choice(pool)


def _tone(text: str) -> str:
    lowered = text.lower()
    if any(
        word in lowered for word in ("thank", "perfect", "great", "worked", "appreciate", "danke", "gracias")
    ):
        return "positive"
    if any(word in lowered for word in ("still", ":(", "not ", "fine.")):
        return "negative"
    return "neutral"


def _stamp_events(conversation: Conversation, load_started: datetime, at: datetime) -> None:
    """Move the events a service just recorded (stamped during this load) back to the demo moment."""
    ConversationEvent.objects.filter(conversation=conversation, created_at__gte=load_started).update(
        created_at=at
    )


def _conversation(rng: Random, world: World, seed: int, n: int, now: datetime) -> bool:
    """Create the n-th demo conversation; False when this seed already created it."""
    persona = rng.choice(world.personas[:12] if rng.random() < 0.25 else world.personas)
    channel = _pick_channel(rng, world, persona)
    scenario = _scenario(rng, channel, persona)
    # Recent conversations are denser, as in a real inbox.
    age = timedelta(days=HISTORY_DAYS * rng.random() ** 2, minutes=rng.randint(5, 600))
    at = now - age
    order = f"NW-{rng.randint(100000, 999999)}"
    staff = world.staff_by_team.get(channel.team.slug if channel.team else "support") or world.managers
    agent = rng.choice(staff)
    manager = rng.choice(world.managers)
    fill = {
        "first": persona.first,
        "order": order,
        "amount": f"€{rng.randint(19, 420)}.{rng.choice(['00', '50', '95', '99'])}",
        "product": rng.choice(content.PRODUCTS),
        "date": (at - timedelta(days=rng.randint(3, 12))).strftime("%d %B"),
        "agent": agent.name.split(" ")[0],
        "last4": f"{rng.randint(0, 9999):04d}",
    }
    long_form = channel.kind in ("email", "api")
    opening_pool = scenario.opening if long_form or not scenario.short else scenario.short
    opening = rng.choice(opening_pool).format(**fill)
    metadata: dict[str, object] = {"demo": True}
    if channel.kind == "phone":
        seconds = rng.randint(70, 900)
        opening = content.CALL_TEMPLATE.format(
            minutes=seconds // 60,
            seconds=seconds % 60,
            summary=scenario.subject.format(**fill),
            line=rng.choice(scenario.short or scenario.opening).format(**fill).split("\n")[0],
            line2=rng.choice(content.CALL_SECOND_LINES),
            **fill,
        )
        metadata["call"] = {"duration_seconds": seconds, "direction": "inbound"}
    claims = _claims(channel, persona)
    thread = f"demo-{seed}-{n}"
    plan = _plan(rng, age)
    # Draw everything random before touching the database, so an already-loaded conversation that is
    # skipped leaves the generator where it would have been.
    steps = _steps(rng, scenario, plan, fill, channel, at, now)

    with transaction.atomic():
        result = receive_message(
            Inbound(
                channel=channel,
                claims=claims,
                text=opening,
                external_id=f"{thread}-0",
                thread=thread,
                subject=scenario.subject.format(**fill) if long_form or channel.kind == "phone" else "",
                name=persona.name,
                language=persona.language,
                metadata=metadata,
                received_at=at,
            )
        )
        if not result.created:
            return False
        conversation = result.conversation
        if persona.company and not result.customer.company:
            result.customer.company = persona.company
            result.customer.save(update_fields=["company", "updated_at"])
        Message.objects.filter(pk=result.message.pk).update(tone=scenario.tone)
        tones = [scenario.tone]
        # (direction, when) of the customer-visible messages, to derive the conversation's clocks.
        messages: list[tuple[str, datetime]] = [(Message.Direction.INBOUND, at)]
        sms = world.channels["sms-main"]
        for index, (kind, when, text) in enumerate(steps, start=1):
            if kind == "assign":
                conversation_assign(conversation=conversation, assignee=agent, actor=manager)
            elif kind == "note":
                note = note_add(conversation=conversation, author=agent, text=text)
                Message.objects.filter(pk=note.pk).update(created_at=when)
            elif kind == "reply":
                # A phone call is answered by text message to the same number.
                reply_channel = sms if channel.kind == "phone" else channel
                recipient = conversation.identity if channel.kind == "phone" else None
                reply = reply_send(
                    conversation=conversation,
                    author=agent,
                    text=text,
                    channel=reply_channel,
                    recipient=recipient,
                )
                delivered = reply_channel.kind in _SYNC_DELIVERY
                Message.objects.filter(pk=reply.pk).update(
                    created_at=when,
                    delivery_status=Message.Delivery.DELIVERED if delivered else Message.Delivery.SENT,
                    delivery_attempts=1,
                    next_attempt_at=None,
                    sent_at=when + timedelta(seconds=2),
                )
                messages.append((Message.Direction.OUTBOUND, when))
            elif kind == "inbound":
                follow = receive_message(
                    Inbound(
                        channel=channel,
                        claims=claims,
                        text=text,
                        external_id=f"{thread}-{index}",
                        thread=thread,
                        metadata={"demo": True},
                        received_at=when,
                    )
                )
                tone = _tone(text)
                Message.objects.filter(pk=follow.message.pk).update(tone=tone)
                tones.append(tone)
                messages.append((Message.Direction.INBOUND, when))
            elif kind == "tags":
                names = list(scenario.tags) + (["vip"] if persona.index < 4 else [])
                conversation_set_tags(conversation=conversation, names=names, actor=agent)
            elif kind == "priority":
                conversation_set_priority(conversation=conversation, priority=int(text), actor=manager)
            elif kind == "status":
                status, _, days = text.partition(":")
                snooze = now + timedelta(days=int(days)) if days else None
                conversation_set_status(
                    conversation=conversation, status=status, actor=agent, snoozed_until=snooze
                )
            if kind in _EVENT_STEPS:
                _stamp_events(conversation, now, when)
        last_event = max((when for kind, when, _ in steps if kind in _EVENT_STEPS), default=at)
        _settle(conversation, tones, messages, last_event, resolved=plan.status == "resolved")
    return True


@dataclass(frozen=True)
class _Plan:
    status: str
    answered: bool
    follow_up: bool
    second_reply: bool
    note: bool
    priority: int


def _plan(rng: Random, age: timedelta) -> _Plan:
    if age < timedelta(hours=2):
        status = rng.choices(["open", "pending"], weights=[85, 15])[0]
    else:
        status = rng.choices(["resolved", "open", "pending", "snoozed"], weights=[55, 25, 14, 6])[0]
    answered = status != "open" or rng.random() < 0.5
    follow_up = answered and rng.random() < 0.55
    return _Plan(
        status=status,
        answered=answered,
        follow_up=follow_up,
        second_reply=follow_up and status != "open" and rng.random() < 0.7,
        note=rng.random() < 0.3,
        priority=rng.choices([1, 2, 3, 4], weights=[15, 60, 20, 5])[0],
    )


def _steps(
    rng: Random,
    scenario: Scenario,
    plan: _Plan,
    fill: dict[str, str],
    channel: Channel,
    at: datetime,
    now: datetime,
) -> list[tuple[str, datetime, str]]:
    """(action, when, text) for everything after the first message, in time order, all in the past."""
    latest = now - timedelta(minutes=1)
    quick = channel.kind in ("chat", "sms", "whatsapp", "social", "phone")
    clock = at

    def later(low_minutes: int, high_minutes: int) -> datetime:
        nonlocal clock
        clock = min(clock + timedelta(minutes=rng.randint(low_minutes, high_minutes)), latest)
        return clock

    steps: list[tuple[str, datetime, str]] = []
    if plan.priority != 2:
        steps.append(("priority", later(0, 3), str(plan.priority)))
    steps.append(("tags", later(0, 5), ""))
    if plan.answered or rng.random() < 0.6:
        steps.append(("assign", later(1, 30), ""))
        if plan.note and scenario.notes:
            steps.append(("note", later(1, 20), rng.choice(scenario.notes).format(**fill)))
    if plan.answered:
        if not any(step[0] == "assign" for step in steps):
            steps.append(("assign", later(1, 10), ""))
        steps.append(
            ("reply", later(2, 15) if quick else later(20, 600), rng.choice(scenario.replies).format(**fill))
        )
        if plan.follow_up and scenario.follow_ups:
            steps.append(
                ("inbound", later(3, 40) if quick else later(60, 1200), rng.choice(scenario.follow_ups))
            )
            if plan.second_reply:
                text = rng.choice(
                    ["Glad to hear it — have a great day!", "Thanks for letting us know, {first}.",
                     "I've checked again and sent you an update, {first}."]
                ).format(**fill)  # fmt: skip
                steps.append(("reply", later(2, 30) if quick else later(30, 300), text))
    if plan.status != "open":
        snooze = f":{rng.randint(1, 5)}" if plan.status == "snoozed" else ""
        steps.append(("status", later(1, 60), plan.status + snooze))
    return steps


def _settle(
    conversation: Conversation,
    tones: list[str],
    messages: list[tuple[str, datetime]],
    last_event: datetime,
    *,
    resolved: bool,
) -> None:
    """Derive the conversation's clocks from the demo moments of its messages and events."""
    waiting = None
    for direction, when in messages:
        if direction == Message.Direction.INBOUND and waiting is None:
            waiting = when
        elif direction == Message.Direction.OUTBOUND:
            waiting = None
    outbound = [when for direction, when in messages if direction == Message.Direction.OUTBOUND]
    last_message = max(when for _, when in messages)
    Conversation.objects.filter(pk=conversation.pk).update(
        first_response_at=outbound[0] if outbound else None,
        last_message_at=last_message,
        waiting_since=None if resolved else waiting,
        updated_at=max(last_message, last_event),
        resolved_at=last_event if resolved else None,
        tone_first=tones[0],
        tone_latest=tones[-1],
    )
    # The clocks moved to the demo moments: the service-level due times follow them.
    settled = Conversation.objects.select_related("channel", "customer").get(pk=conversation.pk)
    settled.save(update_fields=conversation_sla_apply(settled))
    # Targets the demo history already missed are recorded as missed back then, not raised now (a new
    # demo would otherwise start by notifying the managers of every old miss at once).
    for target, field in SLA_DUE_FIELDS.items():
        due = getattr(settled, field)
        if due is not None and due <= timezone.now():
            SlaAlert.objects.get_or_create(
                conversation=settled,
                target=target,
                kind=SlaAlert.Kind.BREACH,
                due_at=due,
                defaults={"created_at": due},
            )
