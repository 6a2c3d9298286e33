from typing import Any

from django.apps import AppConfig
from django.db import connections
from django.db.models.signals import post_migrate


class ConversationsConfig(AppConfig):
    name = "firstring.conversations"
    label = "conversations"
    verbose_name = "Conversations"

    def ready(self) -> None:
        from firstring.conversations.services.sla import sla_settings_changed
        from firstring.sla import hooks

        post_migrate.connect(_recount_inbox, sender=self)
        hooks.on_change("conversations", sla_settings_changed)


def _recount_inbox(using: str = "default", **kwargs: Any) -> None:
    """Count the inbox's views again after `migrate` and `flush`.

    `flush` empties tables one by one; on SQLite, deleting the conversations after the counts fires the
    triggers that record the deletions, which would leave negative counts in an empty database.
    """
    from firstring.conversations.models import InboxCount
    from firstring.conversations.services import inbox_counts_rebuild

    if InboxCount._meta.db_table in connections[using].introspection.table_names():
        inbox_counts_rebuild(using=using)
