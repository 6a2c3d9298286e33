"""Writes of the listening app: monitors, and what agents do with mentions (triage, conversations)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.db import transaction
from django.utils import timezone

from firstring.accounts.models import User
from firstring.channels.models import Channel
from firstring.conversations.access import conversation_get_for_user
from firstring.conversations.models import Message
from firstring.conversations.services import Inbound, receive_message, reply_send
from firstring.customers.identities import IdentityClaim, InvalidIdentity, normalize_claim
from firstring.lib.errors import Conflict, InvalidInput, NotFound
from firstring.listening.matching import Matcher, Post, compile_monitor
from firstring.listening.models import Mention, Monitor, MonitorMatch
from firstring.listening.query import parse_query
from firstring.listening.sources import all_kinds, get_kind

_LANGUAGE_RE = re.compile(r"^[a-z]{2,3}$")
MAX_EMAILS = 20
PREVIEW_LIMIT = 1000


def languages_clean(languages: Sequence[str]) -> list[str]:
    """Language codes, lower-cased, sorted and unique; InvalidInput naming the first bad one."""
    cleaned = sorted({lang.strip().lower() for lang in languages if lang.strip()})
    for lang in cleaned:
        if not _LANGUAGE_RE.match(lang):
            raise InvalidInput(f"{lang[:20]!r} is not a language code (ISO 639-1, like en or de)")
    return cleaned


def source_kinds_clean(kinds: Sequence[str]) -> list[str]:
    """Registered source kinds, sorted and unique; InvalidInput naming the first unknown one."""
    known = {k.kind for k in all_kinds()}
    cleaned = sorted({kind.strip() for kind in kinds if kind.strip()})
    for kind in cleaned:
        if kind not in known:
            raise InvalidInput(f"unknown source kind {kind[:40]!r}; known: {', '.join(sorted(known))}")
    return cleaned


def alerts_clean(webhook_url: str, emails: Sequence[str]) -> tuple[str, list[str]]:
    webhook_url = webhook_url.strip()
    if webhook_url:
        try:
            URLValidator(schemes=["http", "https"])(webhook_url)
        except ValidationError:
            raise InvalidInput("alert_webhook_url must be an http(s) URL") from None
    cleaned = sorted({email.strip().lower() for email in emails if email.strip()})
    if len(cleaned) > MAX_EMAILS:
        raise InvalidInput(f"at most {MAX_EMAILS} alert e-mail addresses")
    for email in cleaned:
        try:
            validate_email(email)
        except ValidationError:
            raise InvalidInput(f"not a valid e-mail address: {email[:100]!r}") from None
    return webhook_url, cleaned


def _clean_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > 100:
        raise InvalidInput("a monitor needs a name of 1 to 100 characters")
    return name


def monitor_create(
    *,
    actor: User | None,
    name: str,
    query: str,
    languages: Sequence[str] = (),
    source_kinds: Sequence[str] = (),
    alert_webhook_url: str = "",
    alert_emails: Sequence[str] = (),
    enabled: bool = True,
) -> Monitor:
    parse_query(query)
    webhook, emails = alerts_clean(alert_webhook_url, alert_emails)
    return Monitor.objects.create(
        name=_clean_name(name),
        query=query.strip(),
        languages=languages_clean(languages),
        source_kinds=source_kinds_clean(source_kinds),
        alert_webhook_url=webhook,
        alert_emails=emails,
        enabled=enabled,
        created_by=actor,
    )


def monitor_update(
    *,
    monitor_id: int,
    name: str | None = None,
    query: str | None = None,
    languages: Sequence[str] | None = None,
    source_kinds: Sequence[str] | None = None,
    alert_webhook_url: str | None = None,
    alert_emails: Sequence[str] | None = None,
    enabled: bool | None = None,
) -> Monitor:
    """Change a monitor; it applies to what arrives from then on (stored matches keep their version)."""
    with transaction.atomic():
        monitor = Monitor.objects.select_for_update().filter(pk=monitor_id).first()
        if monitor is None:
            raise NotFound(f"monitor {monitor_id} not found")
        wanted: dict[str, object] = {}
        if name is not None:
            wanted["name"] = _clean_name(name)
        if query is not None:
            parse_query(query)
            wanted["query"] = query.strip()
        if languages is not None:
            wanted["languages"] = languages_clean(languages)
        if source_kinds is not None:
            wanted["source_kinds"] = source_kinds_clean(source_kinds)
        if alert_webhook_url is not None or alert_emails is not None:
            wanted["alert_webhook_url"], wanted["alert_emails"] = alerts_clean(
                monitor.alert_webhook_url if alert_webhook_url is None else alert_webhook_url,
                monitor.alert_emails if alert_emails is None else alert_emails,
            )
        if enabled is not None:
            wanted["enabled"] = enabled
        # Saving the same values is no edit: the version (and the listeners' matcher) stays.
        fields = [field for field, value in wanted.items() if getattr(monitor, field) != value]
        for field in fields:
            setattr(monitor, field, wanted[field])
        if fields:
            monitor.version += 1
            monitor.updated_at = timezone.now()
            monitor.save(update_fields=[*fields, "version", "updated_at"])
    return monitor


@dataclass(frozen=True)
class MonitorPreview:
    """What a query would have matched among the last stored mentions (newest first)."""

    scanned: int
    matched: list[Mention]
    # What the automaton looks for, and the terms of which a matching post contains at least one.
    terms: list[str]
    required: list[str]
    # With the monitor being edited: mentions the edit would add, and those it matches now but would drop.
    added: list[Mention]
    dropped: list[Mention]


def monitor_preview(
    *,
    query: str,
    languages: Sequence[str] = (),
    source_kinds: Sequence[str] = (),
    monitor_id: int | None = None,
    limit: int = PREVIEW_LIMIT,
) -> MonitorPreview:
    """Run the query through the pipeline's matcher over the last `limit` stored mentions; store nothing.

    Only mentions are stored (posts that matched some monitor then), so a query about something no
    monitor listened for finds nothing here even if the firehose carried it.
    """
    compiled = compile_monitor(
        id=0,
        version=0,
        query=query,
        languages=languages_clean(languages),
        source_kinds=source_kinds_clean(source_kinds),
    )
    matcher = Matcher([compiled])
    window = list(Mention.objects.select_related("source").order_by("-posted_at", "-id")[:limit])
    matched = [
        mention
        for mention in window
        if matcher.match(
            Post(
                network=mention.network,
                external_id=mention.external_id,
                text=mention.text,
                posted_at=mention.posted_at,
                author_handle=mention.author_handle,
                language=mention.language,
            ),
            mention.source.kind if mention.source else "",
        )
    ]
    added: list[Mention] = []
    dropped: list[Mention] = []
    if monitor_id is not None:
        now = set(
            MonitorMatch.objects.filter(
                monitor_id=monitor_id, mention_id__in=[m.pk for m in window]
            ).values_list("mention_id", flat=True)
        )
        found = {m.pk for m in matched}
        added = [m for m in matched if m.pk not in now]
        dropped = [m for m in window if m.pk in now and m.pk not in found]
    return MonitorPreview(
        scanned=len(window),
        matched=matched,
        terms=sorted(compiled.query.terms),
        required=sorted(compiled.query.required),
        added=added,
        dropped=dropped,
    )


def _mention_for_update(mention_id: int) -> Mention:
    mention = Mention.objects.select_for_update().filter(pk=mention_id).first()
    if mention is None:
        raise NotFound(f"mention {mention_id} not found")
    return mention


def mention_assign(*, actor: User, mention_id: int, assignee: User | None) -> Mention:
    if assignee is not None and not assignee.is_active:
        raise InvalidInput("the assignee is not an active user")
    with transaction.atomic():
        mention = _mention_for_update(mention_id)
        mention.assignee = assignee
        mention.save(update_fields=["assignee"])
    return mention


def mention_set_status(*, actor: User, mention_id: int, status: str) -> Mention:
    """Mark a mention handled or ignored, or back to new; a converted one stays converted."""
    if status not in (Mention.Status.NEW, Mention.Status.HANDLED, Mention.Status.IGNORED):
        raise InvalidInput("status must be new, handled or ignored")
    with transaction.atomic():
        mention = _mention_for_update(mention_id)
        if mention.status == Mention.Status.CONVERTED:
            raise Conflict("this mention was turned into a conversation")
        mention.status = status
        mention.handled_by = actor if status != Mention.Status.NEW else None
        mention.handled_at = timezone.now() if status != Mention.Status.NEW else None
        mention.save(update_fields=["status", "handled_by", "handled_at"])
    return mention


def _listening_channel(network: str) -> Channel:
    """The channel conversations started from listening on a network belong to (made on first use)."""
    channel, _ = Channel.objects.get_or_create(
        slug=f"listening-{network}"[:64],
        defaults={"kind": "social", "name": f"{network.title()} (listening)"[:100]},
    )
    return channel


def mention_convert(*, actor: User, mention_id: int) -> Mention:
    """Turn a mention into a conversation: its author becomes (or joins) a customer by social handle.

    The post goes in through `receive_message` like any inbound message, keyed by the mention, so
    converting twice gives the same conversation.
    """
    mention = Mention.objects.select_related("author", "source").filter(pk=mention_id).first()
    if mention is None:
        raise NotFound(f"mention {mention_id} not found")
    kind = get_kind(mention.source.kind) if mention.source else None
    network = kind.network if kind else mention.network
    handle = mention.author_handle or (mention.author.external_id if mention.author else "")
    if not handle:
        raise InvalidInput("this mention has no author handle to start a conversation with")
    try:
        claim = normalize_claim(IdentityClaim("handle", handle, network))
    except InvalidIdentity as error:
        raise InvalidInput(f"the author's handle cannot be used: {error}") from None
    result = receive_message(
        Inbound(
            channel=_listening_channel(network),
            claims=[claim],
            text=mention.text,
            external_id=f"listening:{mention.pk}",
            thread=mention.external_id[:255],
            name=mention.author.name if mention.author else "",
            language=mention.language,
            metadata={"listening_mention": mention.pk, "url": mention.url},
            received_at=mention.posted_at,
        )
    )
    with transaction.atomic():
        mention = _mention_for_update(mention_id)
        mention.status = Mention.Status.CONVERTED
        mention.conversation = result.conversation
        mention.handled_by, mention.handled_at = actor, timezone.now()
        mention.save(update_fields=["status", "conversation", "handled_by", "handled_at"])
    return mention


MAX_REPLY_CHARS = 5000


def mention_reply(*, actor: User, mention_id: int, text: str, private: bool = False) -> Message:
    """Answer a mention through its source's API, in public or privately (a direct message).

    The reply is an outbound message of the mention's conversation (the mention is turned into one
    first if it was not), so it is delivered, retried and recorded by the outbox like any reply; the
    source kind's `reply` sends it (`listening.replies`).
    """
    text = text.strip()
    if not text or len(text) > MAX_REPLY_CHARS:
        raise InvalidInput(f"a reply needs 1 to {MAX_REPLY_CHARS} characters")
    mention = Mention.objects.select_related("source").filter(pk=mention_id).first()
    if mention is None:
        raise NotFound(f"mention {mention_id} not found")
    kind = get_kind(mention.source.kind) if mention.source else None
    if kind is None or kind.reply is None:
        label = kind.label if kind else mention.network
        raise InvalidInput(f"{label} mentions cannot be answered through the source's API")
    if mention.conversation_id is None:
        mention = mention_convert(actor=actor, mention_id=mention_id)
    assert mention.conversation_id is not None
    conversation = conversation_get_for_user(actor, mention.conversation_id)
    with transaction.atomic():
        message = reply_send(conversation=conversation, author=actor, text=text)
        # Read by the sender after commit: which mention to answer, and how.
        message.metadata = {**(message.metadata or {}), "listening_mention": mention.pk, "private": private}
        message.save(update_fields=["metadata"])
    return message
