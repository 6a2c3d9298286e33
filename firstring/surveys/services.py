"""Every write of the surveys app: asking (CSAT when a conversation is resolved, NPS on a schedule),
answering (the public page, a score texted back) and the follow-up a low score opens.

A survey goes out as an outbound message of the conversation, through the outbox and the channel's
own sender; the channel kind's `survey_way` (registry) says how its customers answer.
"""

from __future__ import annotations

import logging
import re
import secrets
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.html import escape
from django_tasks import task

from firstring.channels.models import Channel
from firstring.channels.registry import get_kind
from firstring.conversations.models import Conversation, Message
from firstring.conversations.services import Inbound, conversation_set_team, receive_message, reply_send
from firstring.customers.identities import IdentityClaim
from firstring.customers.models import Customer
from firstring.insights.models import ConversationInsight
from firstring.lib.errors import Conflict, Gone, InvalidInput, NotFound, TooLarge
from firstring.surveys.links import survey_path, survey_url, token_from
from firstring.surveys.models import SCALES, Kind, SurveyAnswer, SurveyRequest

logger = logging.getLogger(__name__)

MAX_COMMENT_CHARS = 2000
# A score texted back: the number alone, perhaps with a full stop ("4", " 10 ", "5.").
_SCORE_RE = re.compile(r"\s*(\d{1,2})\s*[.!]?\s*")
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

QUESTIONS = {
    Kind.CSAT: "How did we do? Please rate our help from 1 (poor) to 5 (great).",
    Kind.NPS: "How likely are you to recommend us to a friend or colleague, "
    "from 0 (not at all) to 10 (very likely)?",
}


def _survey_way(channel: Channel) -> str:
    """How this channel's customers answer ("" when it asks none): the kind's way, unless turned off."""
    if channel.config.get("surveys") is False or not channel.enabled:
        return ""
    return get_kind(channel.kind).survey_way


# --- Asking -----------------------------------------------------------------------------------------


def csat_on_status(conversation_id: int, previous: str, status: str) -> None:
    """The conversations app's status hook (after commit): a resolved conversation asks its customer."""
    if status == Conversation.Status.RESOLVED and settings.FIRSTRING_CSAT_ENABLED:
        csat_ask.enqueue(conversation_id)


@task()
def csat_ask(conversation_id: int) -> str:
    request = survey_request_csat(conversation_id=conversation_id)
    return request.status if request is not None else "not asked"


def survey_request_csat(*, conversation_id: int) -> SurveyRequest | None:
    """Ask the customer of a resolved conversation how it went, once per conversation.

    None when nothing is asked: the conversation was reopened meanwhile, or its channel asks no surveys.
    """
    with transaction.atomic():
        conversation = (
            Conversation.objects.select_for_update(of=("self",))  # not the channel all of its share
            .select_related("channel")
            .filter(pk=conversation_id)
            .first()
        )
        if conversation is None or conversation.status != Conversation.Status.RESOLVED:
            return None
        existing = SurveyRequest.objects.filter(conversation=conversation, kind=Kind.CSAT).first()
        if existing is not None:
            return existing
        way = _survey_way(conversation.channel)
        # "keys": the channel asks in its own session (the end of a call), never by a message later.
        if way in ("", "keys") or conversation.identity_id is None:
            return None
        return _ask(conversation, Kind.CSAT)


def session_asker(channel: Channel, conversation_id: int) -> str:
    """The registry's survey asker: open a CSAT survey the channel puts itself (a call's key press)."""
    if not settings.FIRSTRING_CSAT_ENABLED or _survey_way(channel) != "keys":
        return ""
    now = timezone.now()
    with transaction.atomic():
        conversation = Conversation.objects.select_for_update().filter(pk=conversation_id).first()
        if conversation is None or conversation.identity_id is None:
            return ""
        if SurveyRequest.objects.filter(conversation=conversation, kind=Kind.CSAT).exists():
            return ""
        request = _request(conversation, Kind.CSAT, now=now)
        request.status = SurveyRequest.Status.SENT
        request.sent_at = now
        request.save()
    return invitation(request, way="keys")[0]


def survey_request_nps(*, conversation_id: int, now: datetime | None = None) -> SurveyRequest | None:
    """Ask the customer of this resolved conversation for an NPS score, unless asked within the interval."""
    now = now or timezone.now()
    with transaction.atomic():
        conversation = Conversation.objects.select_related("channel").filter(pk=conversation_id).first()
        if conversation is None or conversation.identity_id is None:
            return None
        if _survey_way(conversation.channel) in ("", "keys"):
            return None
        # One NPS survey per customer and interval, whatever the number of workers scheduling.
        Customer.objects.select_for_update().filter(pk=conversation.customer_id).first()
        interval = timedelta(days=settings.FIRSTRING_NPS_INTERVAL_DAYS)
        if SurveyRequest.objects.filter(
            kind=Kind.NPS, customer_id=conversation.customer_id, created_at__gt=now - interval
        ).exists():
            return None
        return _ask(conversation, Kind.NPS, now=now)


def nps_schedule(*, now: datetime | None = None, limit: int = 200) -> int:
    """The periodic job: ask customers with a recently resolved conversation, each once per interval.

    Each customer is asked about their latest resolved conversation, through its channel. Returns the
    number of surveys sent.
    """
    if not settings.FIRSTRING_NPS_ENABLED:
        return 0
    now = now or timezone.now()
    asked = SurveyRequest.objects.filter(
        kind=Kind.NPS,
        customer_id=OuterRef("customer_id"),
        created_at__gt=now - timedelta(days=settings.FIRSTRING_NPS_INTERVAL_DAYS),
    )
    rows = (
        Conversation.objects.filter(
            status=Conversation.Status.RESOLVED,
            resolved_at__gte=now - timedelta(days=settings.FIRSTRING_NPS_RECENT_DAYS),
            resolved_at__lte=now - timedelta(hours=settings.FIRSTRING_NPS_AFTER_HOURS),
            channel__kind__in=_kinds_with_a_way(),
            channel__enabled=True,
            identity__isnull=False,
        )
        .exclude(channel_id__in=_channels_without_surveys())
        .filter(~Exists(asked))
        .order_by("customer_id", "-resolved_at")
        .values_list("pk", "customer_id")[: limit * 5]
    )
    latest: dict[int, int] = {}
    for conversation_id, customer_id in rows:
        latest.setdefault(customer_id, conversation_id)
    sent = 0
    for conversation_id in list(latest.values())[:limit]:
        request = survey_request_nps(conversation_id=conversation_id, now=now)
        sent += request is not None and request.status == SurveyRequest.Status.SENT
    return sent


def _kinds_with_a_way() -> list[str]:
    """Kinds that carry a survey as a message (not those that ask in a session of their own)."""
    from firstring.channels.registry import all_kinds

    return [kind.kind for kind in all_kinds() if kind.survey_way and kind.survey_way != "keys"]


def _channels_without_surveys() -> list[int]:
    """Channels whose config turns surveys off (a handful of rows: read whole, not asked of JSON in SQL)."""
    channels = Channel.objects.filter(kind__in=_kinds_with_a_way()).values_list("pk", "config")
    return [pk for pk, config in channels if isinstance(config, dict) and config.get("surveys") is False]


def _ask(conversation: Conversation, kind: str, *, now: datetime | None = None) -> SurveyRequest:
    """Store the request and its invitation (queued in the outbox), or the reason it cannot be sent."""
    now = now or timezone.now()
    request = _request(conversation, kind, now=now)
    try:
        with transaction.atomic():
            request.save()
    except IntegrityError:
        # Asked concurrently (a second worker ran the same task): that one sends it.
        return SurveyRequest.objects.filter(conversation=conversation, kind=kind).latest("id")
    text, html = invitation(request, way=_survey_way(conversation.channel))
    try:
        message = reply_send(
            conversation=conversation,
            author=None,
            text=text,
            html=html,
            metadata={
                "survey": {
                    "id": request.pk,
                    "kind": kind,
                    "url": survey_url(request.token),
                    "path": survey_path(request.token),
                    "low": SCALES[Kind(kind)][0],
                    "high": SCALES[Kind(kind)][-1],
                }
            },
        )
    except InvalidInput as refused:
        # The channel's own rule (a number that texted STOP, a disabled channel): never sent.
        request.status = SurveyRequest.Status.SKIPPED
        request.skipped_reason = str(refused)[:300]
        request.save(update_fields=["status", "skipped_reason"])
        return request
    request.message = message
    request.status = SurveyRequest.Status.SENT
    request.sent_at = now
    request.save(update_fields=["message", "status", "sent_at"])
    return request


def _request(conversation: Conversation, kind: str, *, now: datetime) -> SurveyRequest:
    """A new request about the conversation as it stands: its agent, team, channel and main topic."""
    topic = ConversationInsight.objects.filter(conversation=conversation).values_list("topic_id", flat=True)
    return SurveyRequest(
        kind=kind,
        conversation=conversation,
        customer_id=conversation.customer_id,
        agent_id=conversation.assignee_id,
        team_id=conversation.team_id,
        channel_id=conversation.channel_id,
        topic_id=topic.first(),
        token=secrets.token_urlsafe(24),
        created_at=now,
        expires_at=now + timedelta(days=settings.FIRSTRING_SURVEY_EXPIRY_DAYS),
    )


def invitation(request: SurveyRequest, *, way: str) -> tuple[str, str]:
    """The invitation's text and HTML, worded for how the channel's customers answer."""
    question = QUESTIONS[Kind(request.kind)]
    url = survey_url(request.token)
    scale = SCALES[Kind(request.kind)]
    low, high = scale[0], scale[-1]
    if way == "reply":
        return (f"{question} Reply with a number from {low} to {high}.", "")
    if way == "keys":
        return (f"{question} Press a key from {low} to {high}.", "")
    if way == "card":
        return (question, "")
    buttons = " ".join(f'<a href="{escape(url)}?score={n}">{n}</a>' for n in scale)
    text = f"{question}\n\nAnswer here (one click, and a comment if you like): {url}"
    html = f'<p>{escape(question)}</p><p>{buttons}</p><p><a href="{escape(url)}">Add a comment</a></p>'
    return text, html


# --- Answering --------------------------------------------------------------------------------------


def survey_for_token(*, signed: str) -> SurveyRequest:
    """The request a public link names, if it may still be answered: else 404, 409 or 410."""
    token = token_from(signed)
    request = SurveyRequest.objects.select_related("channel").filter(token=token).first() if token else None
    if request is None or request.status in (SurveyRequest.Status.PENDING, SurveyRequest.Status.SKIPPED):
        raise NotFound("this survey link is not valid")
    if request.status == SurveyRequest.Status.ANSWERED:
        raise Conflict("this survey has been answered already: thank you")
    if request.expires_at <= timezone.now():
        raise Gone("this survey has expired")
    return request


def clean_comment(comment: str) -> str:
    """A comment as stored: plain text without control characters; shown escaped wherever it appears."""
    if len(comment) > MAX_COMMENT_CHARS:
        raise TooLarge(f"a comment has at most {MAX_COMMENT_CHARS} characters")
    return _CONTROL_RE.sub("", comment.replace("\r\n", "\n")).strip()


def survey_answer(*, signed: str, score: int, comment: str = "") -> SurveyAnswer:
    """Record the answer given on the public page."""
    request = survey_for_token(signed=signed)
    return _answer(request, score=score, comment=comment, via=SurveyAnswer.Via.PAGE)


def reply_taker(channel: Channel, claim: IdentityClaim, text: str, external_id: str) -> bool:
    """The registry's answer taker (see `channels.registry.answer_taken`)."""
    return survey_reply_take(channel=channel, claim=claim, text=text, external_id=external_id) is not None


def survey_reply_take(
    *, channel: Channel, claim: IdentityClaim, text: str, external_id: str
) -> SurveyAnswer | None:
    """A text that is just a score, from the identity a survey went to, while it is open, is its answer.

    None: not an answer (anything else, no open survey, a number off the scale, or the customer was
    sent something else on the channel since the survey); the text is then an ordinary message. A
    redelivered text (same external id) returns the answer it gave.
    """
    match = _SCORE_RE.fullmatch(text)
    if match is None:
        return None
    if external_id:
        taken = SurveyAnswer.objects.filter(external_id=external_id).first()
        if taken is not None:
            return taken
    request = (
        SurveyRequest.objects.filter(
            channel=channel,
            status=SurveyRequest.Status.SENT,
            expires_at__gt=timezone.now(),
            conversation__identity__kind=claim.kind,
            conversation__identity__network=claim.network,
            conversation__identity__value=claim.value,
        )
        .order_by("-sent_at", "-id")
        .first()
    )
    score = int(match.group(1))
    if request is None or score not in SCALES[Kind(request.kind)] or _asked_something_since(request):
        return None
    try:
        return _answer(
            request, score=score, comment="", via=SurveyAnswer.Via.REPLY, external_id=external_id or None
        )
    except (Conflict, Gone):
        return None


def _asked_something_since(request: SurveyRequest) -> bool:
    """Whether the customer was sent anything on the channel after the survey: a number texted back
    then may answer that ("reply 1 or 2"), so it is no longer taken as the survey's score."""
    if request.message_id is None:
        return False
    return Message.objects.filter(
        channel_id=request.channel_id,
        direction=Message.Direction.OUTBOUND,
        conversation__customer_id=request.customer_id,
        pk__gt=request.message_id,
    ).exists()


def _is_low(kind: str, score: int) -> bool:
    limit = settings.FIRSTRING_SURVEY_LOW_CSAT if kind == Kind.CSAT else settings.FIRSTRING_SURVEY_LOW_NPS
    return score <= limit


def _answer(
    request: SurveyRequest, *, score: int, comment: str, via: str, external_id: str | None = None
) -> SurveyAnswer:
    kind = Kind(request.kind)
    if score not in SCALES[kind]:
        scale = SCALES[kind]
        raise InvalidInput(f"the score is a whole number from {scale[0]} to {scale[-1]}")
    comment = clean_comment(comment)
    now = timezone.now()
    with transaction.atomic():
        request = (
            SurveyRequest.objects.select_for_update(of=("self",)).select_related("channel").get(pk=request.pk)
        )
        if request.status == SurveyRequest.Status.ANSWERED:
            raise Conflict("this survey has been answered already: thank you")
        if request.expires_at <= now:
            raise Gone("this survey has expired")
        answer = SurveyAnswer.objects.create(
            request=request,
            kind=kind,
            channel_id=request.channel_id,
            team_id=request.team_id,
            agent_id=request.agent_id,
            topic_id=request.topic_id,
            score=score,
            comment=comment,
            via=via,
            external_id=external_id,
            answered_at=now,
        )
        request.status = SurveyRequest.Status.ANSWERED
        request.answered_at = now
        request.save(update_fields=["status", "answered_at"])
        if _is_low(kind, score):
            answer.follow_up = _follow_up(request, answer)
            answer.save(update_fields=["follow_up"])
    return answer


def _follow_up(request: SurveyRequest, answer: SurveyAnswer) -> Conversation | None:
    """A low score opens a conversation for the original's team, through the one receive service."""
    original = Conversation.objects.select_related("identity", "team").get(pk=request.conversation_id)
    identity = original.identity
    if identity is None:
        return None
    scale = SCALES[Kind(request.kind)]
    lines = [
        f"{Kind(request.kind).label.split(' ')[0]} score {answer.score} of {scale[-1]} "
        f"about conversation #{original.pk}."
    ]
    if answer.comment:
        lines.append(f"Comment: {answer.comment}")
    metadata: dict[str, Any] = {
        "survey": {"request": request.pk, "score": answer.score, "kind": request.kind},
        "follow_up_of": original.pk,
    }
    result = receive_message(
        Inbound(
            channel=request.channel,
            claims=[IdentityClaim(identity.kind, identity.value, identity.network)],
            text="\n".join(lines),
            external_id=f"survey-answer:{answer.pk}",
            thread=f"survey-follow-up:{request.pk}",
            subject=f"Follow-up: low score on “{original.subject or f'conversation #{original.pk}'}”"[:255],
            metadata=metadata,
        )
    )
    conversation = result.conversation
    if conversation.message_count == 1 and original.team is not None:
        conversation = conversation_set_team(
            conversation=conversation, team=original.team, actor=None, rule="low survey score"
        )
    return conversation
