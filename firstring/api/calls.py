"""Calls: the call log with each call's events, and the agent's notes and disposition."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Field, Path, Router, Schema

from firstring.api.auth import current_user
from firstring.api.schemas import MAX_ID, BodyIn, errors
from firstring.conversations.access import conversations_visible_to
from firstring.lib.errors import NotFound
from firstring.voice.models import Call
from firstring.voice.services import call_note

router = Router()


class CallEventOut(Schema):
    kind: str
    at: datetime
    data: dict[str, Any]


class CallOut(Schema):
    id: int
    conversation_id: int
    direction: str
    caller: str
    number_called: str
    status: str
    outcome: str
    end_reason: str
    menu_path: list[dict[str, Any]]
    language: str
    queue: str
    agent_id: int | None
    started_at: datetime
    answered_at: datetime | None
    ended_at: datetime | None
    callback_requested_at: datetime | None
    wait_seconds: int
    talk_seconds: int
    hold_seconds: int
    recording_url: str
    transcript: str
    notes: str
    disposition: str
    events: list[CallEventOut]


class CallNoteIn(BodyIn):
    notes: str = Field("", max_length=20_000)
    disposition: str = Field("", max_length=64)


def call_out(call: Call) -> CallOut:
    return CallOut(
        **{field: getattr(call, field) for field in CallOut.model_fields if field not in ("id", "events")},
        id=call.pk,
        events=[CallEventOut(kind=e.kind, at=e.at, data=e.data) for e in call.events.all()],
    )


def _call(request: HttpRequest, call_id: int) -> Call:
    visible = conversations_visible_to(current_user(request))
    call = Call.objects.filter(pk=call_id, conversation__in=visible).prefetch_related("events").first()
    if call is None:
        raise NotFound(f"call {call_id} not found")
    return call


@router.get("/{call_id}", response={200: CallOut, **errors(404)}, summary="Get a call and its events")
def call_get(request: HttpRequest, call_id: int = Path(..., ge=1, le=MAX_ID)) -> CallOut:
    return call_out(_call(request, call_id))


@router.patch(
    "/{call_id}", response={200: CallOut, **errors(400, 404, 413)}, summary="Set a call's notes, disposition"
)
def call_patch(
    request: HttpRequest, payload: CallNoteIn, call_id: int = Path(..., ge=1, le=MAX_ID)
) -> CallOut:
    call = _call(request, call_id)
    call_note(call=call, actor=current_user(request), notes=payload.notes, disposition=payload.disposition)
    return call_out(_call(request, call_id))
