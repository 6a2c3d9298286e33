"""Escalations to management and the lessons learned."""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest
from ninja import Field, Path, Query, Router, Schema

from firstring.accounts.access import require_manager
from firstring.accounts.models import User
from firstring.api.auth import current_user
from firstring.api.schemas import MAX_ID, BodyIn, CheckedIn, Id, UserRef, errors, user_ref
from firstring.conversations.access import conversation_get_for_user
from firstring.escalations.models import Escalation, Lesson
from firstring.escalations.selectors import escalation_get_for_manager, escalations_live, lessons_search
from firstring.escalations.services import (
    escalation_acknowledge,
    escalation_raise,
    escalation_resolve,
    lesson_record,
)
from firstring.lib.errors import InvalidInput

router = Router()


class EscalationOut(Schema):
    id: int
    conversation_id: int
    status: str
    reason: str
    raised_by: UserRef | None
    manager: UserRef | None
    created_at: datetime
    acknowledged_at: datetime | None
    resolved_at: datetime | None
    outcome: str


class EscalateIn(BodyIn):
    reason: str = Field(..., min_length=1, max_length=2000)
    manager_id: Id | None = Field(None, description="Left out: the manager on duty.")


class ResolveIn(BodyIn):
    outcome: str = Field(..., min_length=1, max_length=2000)
    lesson_title: str = Field("", max_length=200)
    lesson_text: str = Field("", max_length=20_000)


class LessonOut(Schema):
    id: int
    title: str
    text: str
    author: UserRef | None
    conversation_id: int | None
    escalation_id: int | None
    created_at: datetime


class LessonIn(BodyIn):
    title: str = Field(..., min_length=1, max_length=200)
    text: str = Field(..., min_length=1, max_length=20_000)


class LessonQuery(CheckedIn):
    q: str = Field("", max_length=200)


def escalation_out(e: Escalation) -> EscalationOut:
    return EscalationOut(
        id=e.pk,
        conversation_id=e.conversation_id,
        status=e.status,
        reason=e.reason,
        raised_by=user_ref(e.raised_by),
        manager=user_ref(e.manager),
        created_at=e.created_at,
        acknowledged_at=e.acknowledged_at,
        resolved_at=e.resolved_at,
        outcome=e.outcome,
    )


def lesson_out(lesson: Lesson) -> LessonOut:
    return LessonOut(
        id=lesson.pk,
        title=lesson.title,
        text=lesson.text,
        author=user_ref(lesson.author),
        conversation_id=lesson.conversation_id,
        escalation_id=lesson.escalation_id,
        created_at=lesson.created_at,
    )


@router.post(
    "/conversations/{conversation_id}/escalations",
    response={201: EscalationOut, **errors(400, 404, 409, 413)},
    summary="Escalate a conversation to a manager",
)
def escalation_post(
    request: HttpRequest, payload: EscalateIn, conversation_id: int = Path(..., ge=1, le=MAX_ID)
) -> tuple[int, EscalationOut]:
    user = current_user(request)
    conversation = conversation_get_for_user(user, conversation_id)
    manager = None
    if payload.manager_id is not None:
        manager = User.objects.filter(pk=payload.manager_id).first()
        if manager is None:
            raise InvalidInput(f"user {payload.manager_id} does not exist")
    escalation = escalation_raise(
        conversation=conversation, raised_by=user, reason=payload.reason, manager=manager
    )
    return 201, escalation_out(escalation)


@router.get(
    "/escalations", response={200: list[EscalationOut], **errors(403)}, summary="Open escalations (managers)"
)
def escalation_list(request: HttpRequest) -> list[EscalationOut]:
    require_manager(current_user(request), "only managers handle escalations")
    return [escalation_out(e) for e in escalations_live()[:500]]


@router.post(
    "/escalations/{escalation_id}/acknowledge",
    response={200: EscalationOut, **errors(400, 403, 404, 409, 413)},
    summary="Acknowledge an escalation (managers)",
)
def escalation_ack(request: HttpRequest, escalation_id: int = Path(..., ge=1, le=MAX_ID)) -> EscalationOut:
    user = current_user(request)
    escalation = escalation_get_for_manager(user=user, escalation_id=escalation_id)
    return escalation_out(escalation_acknowledge(escalation=escalation, manager=user))


@router.post(
    "/escalations/{escalation_id}/resolve",
    response={200: EscalationOut, **errors(400, 403, 404, 409, 413)},
    summary="Resolve an escalation, optionally with a lesson (managers)",
)
def escalation_resolve_post(
    request: HttpRequest, payload: ResolveIn, escalation_id: int = Path(..., ge=1, le=MAX_ID)
) -> EscalationOut:
    user = current_user(request)
    escalation = escalation_get_for_manager(user=user, escalation_id=escalation_id)
    resolved = escalation_resolve(
        escalation=escalation,
        manager=user,
        outcome=payload.outcome,
        lesson_title=payload.lesson_title,
        lesson_text=payload.lesson_text,
    )
    return escalation_out(resolved)


@router.get("/lessons", response={200: list[LessonOut], **errors()}, summary="Search the lessons learned")
def lesson_list(request: HttpRequest, query: Query[LessonQuery]) -> list[LessonOut]:
    return [lesson_out(lesson) for lesson in lessons_search(query=query.q)]


@router.post(
    "/lessons", response={201: LessonOut, **errors(400, 403, 413)}, summary="Record a lesson (managers)"
)
def lesson_post(request: HttpRequest, payload: LessonIn) -> tuple[int, LessonOut]:
    lesson = lesson_record(author=current_user(request), title=payload.title, text=payload.text)
    return 201, lesson_out(lesson)
