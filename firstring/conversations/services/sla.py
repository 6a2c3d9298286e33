"""Keeping a conversation's service-level due times up to date as it changes, and when the settings do."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django_tasks import task

from firstring.conversations.models import Conversation
from firstring.lib.bulk import update_rows
from firstring.sla.services import SlaBook

DUE_FIELDS = ("first_response_due_at", "next_response_due_at", "resolution_due_at")
SLA_FIELDS = ["sla_policy", *DUE_FIELDS, "sla_due_at"]
# A settings change measures up to this many open conversations at once; more go to the workers.
REMEASURE_INLINE = 200
REMEASURE_BATCH = 500


def conversation_sla_apply(
    conversation: Conversation,
    *,
    book: SlaBook | None = None,
    channel_kind: str | None = None,
    customer_tier: str | None = None,
    missed_before: datetime | None = None,
) -> list[str]:
    """Set the policy and due times the conversation's state calls for; the names of the fields changed.

    Called by every service that changes what they depend on (a customer message, a reply, a status
    or priority), inside its transaction; the caller saves the fields returned. A batch passes one
    book and the values it has at hand, so that no conversation costs a query. With `missed_before`
    (a change of the settings), a due time already passed by then stays: the target was missed under
    the rules in force, and its recorded breach keeps pointing at the conversation's due time.
    """
    book = book if book is not None else SlaBook()
    policy = book.policy_for(
        priority=conversation.priority,
        channel_kind=channel_kind if channel_kind is not None else conversation.channel.kind,
        customer_tier=customer_tier if customer_tier is not None else conversation.customer.tier,
    )
    due = book.due(
        policy,
        created_at=conversation.created_at,
        first_response_at=conversation.first_response_at,
        waiting_since=conversation.waiting_since,
        resolved=conversation.status == Conversation.Status.RESOLVED,
    )
    wanted: dict[str, object] = {
        "sla_policy_id": policy.pk if policy is not None else None,
        "first_response_due_at": due.first_response,
        "next_response_due_at": due.next_response,
        "resolution_due_at": due.resolution,
    }
    if missed_before is not None:
        for field in DUE_FIELDS:
            current = getattr(conversation, field)
            if current is not None and current <= missed_before:
                wanted[field] = current
    # The inbox's "SLA due" sort: whichever target comes first of those still open.
    wanted["sla_due_at"] = min((d for f in DUE_FIELDS if isinstance(d := wanted[f], datetime)), default=None)
    changed = []
    for attribute, value in wanted.items():
        if getattr(conversation, attribute) != value:
            setattr(conversation, attribute, value)
            changed.append(attribute.removesuffix("_id"))
    return changed


def _affected(calendar_id: int | None) -> QuerySet[Conversation]:
    """Open conversations a change may move: for a calendar, those measured in it; for a policy, all of
    them, since a policy's conditions and position decide which policy each one gets."""
    open_ = Conversation.objects.filter(~Q(status=Conversation.Status.RESOLVED))
    return open_ if calendar_id is None else open_.filter(sla_policy__calendar=calendar_id)


def sla_settings_changed(calendar_id: int | None) -> None:
    """Measure the open conversations a policy or calendar change affects: at once when they are few,
    else in the background (the hook of `sla.hooks`, after the change commits)."""
    if _affected(calendar_id).count() <= REMEASURE_INLINE:
        conversations_sla_remeasure(calendar_id=calendar_id)
    else:
        sla_remeasure_task.enqueue(calendar_id)


@task()
def sla_remeasure_task(calendar_id: int | None) -> None:
    conversations_sla_remeasure(calendar_id=calendar_id)


def conversations_sla_remeasure(*, calendar_id: int | None = None, batch: int = REMEASURE_BATCH) -> int:
    """Set the due times of the open conversations the settings now call for; the number changed.

    One book for the whole pass (the settings as they are now) and one short transaction per batch of
    rows in id order, so that receiving and replying are never held up for long.
    """
    book = SlaBook()
    now = timezone.now()
    changed = 0
    after = 0
    while True:
        with transaction.atomic():
            rows = list(
                _affected(calendar_id)
                .filter(pk__gt=after)
                .select_related("channel", "customer")
                .select_for_update(of=("self",))
                .order_by("pk")[:batch]
            )
            if not rows:
                return changed
            after = rows[-1].pk
            moved = [c for c in rows if conversation_sla_apply(c, book=book, missed_before=now)]
            update_rows(moved, SLA_FIELDS)
            changed += len(moved)
