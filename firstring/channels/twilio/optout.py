"""Opt-out keywords: a number that texts STOP gets no more replies from the channel until it texts START.

Carriers require it of SMS senders and Twilio enforces it itself (error 21610); honouring it here means an
agent is told at once instead of seeing the reply fail. The record is per channel (per sending number,
as Twilio keeps it) in `Channel.state["opted_out"]`, keyed by the customer's E.164 number.
"""

from __future__ import annotations

import contextlib
import re
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.dateformat import format as format_date

from firstring.channels.models import Channel
from firstring.customers.models import Identity

# Twilio's default opt-out and opt-in keywords; the message must be the keyword alone.
OPT_OUT_KEYWORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "REVOKE"})
OPT_IN_KEYWORDS = frozenset({"START", "UNSTOP", "YES"})
_TRIM = re.compile(r"^[\s.!]+|[\s.!]+$")

OPT_OUT = "opt_out"
OPT_IN = "opt_in"


def keyword_action(body: str, opt_out_type: str = "") -> tuple[str, str]:
    """("opt_out" | "opt_in" | "", the keyword) for a message body.

    Twilio's Advanced Opt-Out sends the decision it took as OptOutType (STOP, START, HELP); it wins over
    our own reading of the body, since the account may have custom keywords.
    """
    decided = opt_out_type.strip().upper()
    word = _TRIM.sub("", body).upper()
    if decided == "STOP":
        return OPT_OUT, word or decided
    if decided == "START":
        return OPT_IN, word or decided
    if word in OPT_OUT_KEYWORDS:
        return OPT_OUT, word
    if word in OPT_IN_KEYWORDS:
        return OPT_IN, word
    return "", ""


def opt_out_get(channel: Channel, phone: str) -> dict[str, Any] | None:
    """The opt-out recorded for an E.164 number on this channel, or None."""
    found = (channel.state.get("opted_out") or {}).get(phone)
    return found if isinstance(found, dict) else None


@transaction.atomic
def opt_out_set(*, channel: Channel, phone: str, action: str, keyword: str, message_id: int) -> None:
    """Record that `phone` opted out ("opt_out") or back in ("opt_in") on the channel.

    Locks the channel's row, so that concurrent keywords and the plug-in's other state are not lost.
    """
    locked = Channel.objects.select_for_update().get(pk=channel.pk)
    state = dict(locked.state or {})
    opted_out = dict(state.get("opted_out") or {})
    if action == OPT_OUT:
        opted_out[phone] = {"keyword": keyword, "at": timezone.now().isoformat(), "message_id": message_id}
    else:
        opted_out.pop(phone, None)
    state["opted_out"] = opted_out
    locked.state = state
    locked.save(update_fields=["state"])
    channel.state = state


def reply_block(channel: Channel, recipient: Identity) -> str:
    """The registry's reply check: a reply to a number that opted out is refused, with the reason."""
    if recipient.kind != Identity.Kind.PHONE:
        return ""
    found = opt_out_get(channel, recipient.value)
    if found is None:
        return ""
    when = ""
    with contextlib.suppress(KeyError, TypeError, ValueError):
        when = " on " + format_date(timezone.localtime(datetime.fromisoformat(found["at"])), "j M Y")
    return (
        f"{recipient.value} opted out of messages from {channel.name} "
        f"(texted {found.get('keyword') or 'STOP'}{when}); replies are not sent until they text START"
    )
