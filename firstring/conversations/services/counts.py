"""Upkeep of the inbox's view counts (`InboxCount`), which database triggers keep in step with writes."""

from __future__ import annotations

from collections import Counter

from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction

from firstring.conversations.models import Conversation, InboxCount

_TABLE = InboxCount._meta.db_table
_CONVERSATIONS = Conversation._meta.db_table
_GROUP = ("team_id", "assignee_id", "status", "escalated")


def inbox_counts_compact() -> int:
    """Fold the change rows into one row per group; return how many rows were folded.

    Safe to run in several workers at once: each deletes only the rows it reads (DELETE … RETURNING)
    and writes back their sums, so a row is never counted twice or lost, and writers go on appending.
    """
    with transaction.atomic(), connection.cursor() as cursor:
        # Table and column names come from the model, not from input.
        cursor.execute(f"DELETE FROM {_TABLE} RETURNING {', '.join(_GROUP)}, delta")  # noqa: S608
        rows = cursor.fetchall()
        sums: Counter[tuple[int | None, int | None, str, bool]] = Counter()
        for team_id, assignee_id, status, escalated, delta in rows:
            sums[(team_id, assignee_id, status, bool(escalated))] += delta
        InboxCount.objects.bulk_create(
            InboxCount(team_id=t, assignee_id=a, status=s, escalated=e, delta=n)
            for (t, a, s, e), n in sums.items()
            if n
        )
    return len(rows)


def inbox_counts_rebuild(*, using: str = DEFAULT_DB_ALIAS) -> None:
    """Count every conversation again (after `flush`, or to repair); writers wait while it runs."""
    connection = connections[using]
    with transaction.atomic(using=using), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Writers of conversations wait, so nothing changes between the count and the swap; a
            # concurrent compaction waits too.
            cursor.execute(f"LOCK TABLE {_CONVERSATIONS} IN SHARE ROW EXCLUSIVE MODE")
            cursor.execute(f"LOCK TABLE {_TABLE} IN EXCLUSIVE MODE")
        cursor.execute(f"DELETE FROM {_TABLE}")  # noqa: S608
        cursor.execute(rebuild_sql())


def rebuild_sql() -> str:
    """The INSERT that counts every conversation into one row per group (also run by migration 0003)."""
    return (
        f"INSERT INTO {_TABLE} (team_id, assignee_id, status, escalated, delta) "  # noqa: S608
        f"SELECT team_id, assignee_id, status, escalated_at IS NOT NULL, COUNT(*) FROM {_CONVERSATIONS} "
        "GROUP BY team_id, assignee_id, status, escalated_at IS NOT NULL"
    )
