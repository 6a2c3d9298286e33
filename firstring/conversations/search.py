"""Full-text search over messages and customers.

A first, portable version: case-insensitive containment. (To be replaced by SQLite FTS5 and
PostgreSQL full text, each where it runs.)
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from firstring.conversations.models import Conversation, Message


def conversation_ids_matching(query: str) -> QuerySet[Conversation, Any]:
    terms = query.strip()[:200]
    message_hits = Message.objects.filter(text__icontains=terms).values("conversation_id")
    return Conversation.objects.filter(
        Q(pk__in=message_hits)
        | Q(subject__icontains=terms)
        | Q(customer__name__icontains=terms)
        | Q(customer__identities__value__icontains=terms)
    ).values("pk")
