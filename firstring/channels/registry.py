"""Channel kinds known to this installation. Conversations talk to channels only through here."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from firstring.channels.models import Channel
    from firstring.conversations.models import Message
    from firstring.customers.identities import IdentityClaim
    from firstring.customers.models import Identity


class DeliveryError(Exception):
    """A send failed. `permanent` means retrying cannot help (bad address, opted out …)."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


@dataclass(frozen=True)
class SendResult:
    external_id: str = ""
    # True when the peer confirmed delivery synchronously; otherwise "sent" until a callback says more.
    delivered: bool = False


class Sender(Protocol):
    def __call__(self, *, channel: Channel, message: Message) -> SendResult: ...


@dataclass(frozen=True)
class ChannelKind:
    kind: str
    label: str
    icon: str
    sender: Sender | None = None
    # Run by every worker's periodic jobs: fetch what the kind's peers hold (mailboxes to poll …).
    poll: Callable[[], object] | None = None
    # Shown on the channel's admin page: how to connect a channel of this kind (plain text).
    setup_help: str = ""
    # False: the plug-in queues its conversations for routing itself, when they need a person (a phone
    # call is queued when the caller leaves the menu for a human, not when it rings).
    routes_inbound: bool = True
    # Called after commit with (event, routing task id) when the router offers ("offered") one of the
    # kind's tasks or an agent accepts it ("accepted"): a call is bridged to the agent who accepted.
    on_routing: Callable[[str, int], None] | None = None
    # Called after commit with the escalation's id when a conversation of the kind is escalated: a call
    # being talked brings the manager into it.
    on_escalation: Callable[[int], None] | None = None
    # What to set up for one saved channel (its own webhook URLs …), shown under setup_help (plain text).
    setup_details: Callable[[Channel], str] | None = None
    # Why a reply through the channel to the identity is refused now ("" when it is not): a number that
    # texted STOP … `reply_send` refuses such replies and the conversation page shows the reason.
    reply_block: Callable[[Channel, Identity], str] | None = None
    # Work of this kind happens live (a chat, a call): an agent busy with live work of a kind that
    # reports `agents_engaged` is offered none, whatever their capacity says.
    live: bool = False
    # The agents among these in a live interaction of this kind now (talking on a call).
    agents_engaged: Callable[[Collection[int]], set[int]] | None = None
    # How a customer answers a survey here (the surveys app words the question to fit): "link" to the
    # public survey page (e-mail), "reply" with the number (SMS), "card" with buttons (the chat widget),
    # "keys" pressed at the end of a call (asked by the plug-in itself through `survey_question`);
    # "" asks no survey through this kind.
    survey_way: str = ""


_KINDS: dict[str, ChannelKind] = {}

# Kinds whose plug-in may not be installed yet still get a label and icon in the inbox.
_FALLBACK_ICONS = {
    "email": "✉",
    "chat": "💬",
    "phone": "☎",
    "sms": "📱",
    "whatsapp": "🟢",
    "social": "#",
    "community": "👥",
    "api": "⚙",
}


def register(kind: ChannelKind) -> None:
    _KINDS[kind.kind] = kind


def get_kind(kind: str) -> ChannelKind:
    """The registered kind, or a label-only description for kinds without a plug-in."""
    found = _KINDS.get(kind)
    if found is not None:
        return found
    return ChannelKind(kind=kind, label=kind.replace("_", " ").title(), icon=_FALLBACK_ICONS.get(kind, "•"))


def kinds_routing_themselves() -> list[str]:
    return [kind.kind for kind in _KINDS.values() if not kind.routes_inbound]


def routing_hook(kind: str, event: str, task_id: int) -> None:
    """Tell the kind's plug-in what became of one of its routing tasks (see ChannelKind.on_routing)."""
    hook = get_kind(kind).on_routing
    if hook is not None:
        hook(event, task_id)


def escalation_hook(kind: str, escalation_id: int) -> None:
    """Tell the kind's plug-in that one of its conversations was escalated (see ChannelKind.on_escalation)."""
    hook = get_kind(kind).on_escalation
    if hook is not None:
        hook(escalation_id)


def agents_engaged(user_ids: Collection[int]) -> set[int]:
    """The agents among `user_ids` in a live interaction of any kind now (see ChannelKind.agents_engaged)."""
    engaged: set[int] = set()
    for kind in _KINDS.values():
        if kind.agents_engaged is not None and user_ids:
            engaged |= kind.agents_engaged(user_ids)
    return engaged


def reply_blocked(channel: Channel, recipient: Identity) -> str:
    """Why a reply through `channel` to `recipient` would be refused, or "" when it may be sent."""
    check = get_kind(channel.kind).reply_block
    return check(channel, recipient) if check is not None else ""


# Apps that wait for a customer's short answer (a survey's score texted back) see an inbound text
# before it is stored as a message: (channel, sender, text, external id) -> True when taken as an answer.
AnswerTaker = Callable[["Channel", "IdentityClaim", str, str], bool]
_ANSWER_TAKERS: dict[str, AnswerTaker] = {}


def register_answer_taker(name: str, taker: AnswerTaker) -> None:
    _ANSWER_TAKERS[name] = taker


def answer_taken(*, channel: Channel, claim: IdentityClaim, text: str, external_id: str) -> bool:
    """Whether an app took this inbound text as the answer it waits for; then it is no message."""
    return any(taker(channel, claim, text, external_id) for taker in _ANSWER_TAKERS.values())


# The app that asks surveys, for kinds that ask in their own session (a call's last words): given the
# channel and conversation, it opens a survey and returns the question to put, or "" for none.
SurveyAsker = Callable[["Channel", int], str]
_SURVEY_ASKERS: dict[str, SurveyAsker] = {}


def register_survey_asker(name: str, asker: SurveyAsker) -> None:
    _SURVEY_ASKERS[name] = asker


def survey_question(*, channel: Channel, conversation_id: int) -> str:
    """The survey question to put to the customer now (answered through `answer_taken`), or ""."""
    for asker in _SURVEY_ASKERS.values():
        question = asker(channel, conversation_id)
        if question:
            return question
    return ""


def all_kinds() -> list[ChannelKind]:
    return sorted(_KINDS.values(), key=lambda k: k.label)
