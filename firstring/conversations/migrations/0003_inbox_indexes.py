"""Partial indexes for the inbox's unresolved views, and the view counts kept by triggers.

`InboxCount` gets a row of +1/-1 whenever a conversation is created, deleted or changes team, assignee,
status or escalation (see its docstring). The triggers are SQL, so bulk updates and COPY are counted
too; the table is filled from the conversations already stored.

SQLite caveat, as for 0002_full_text_search: a later migration that makes Django rebuild the
conversations table on SQLite drops these triggers with it, and must run `sqlite_install` again.
"""

from django.conf import settings
from django.db import migrations, models

CONVERSATIONS = "conversations_conversation"
COUNTS = "conversations_inboxcount"
COLUMNS = "team_id, assignee_id, status, escalated, delta"
# A conversation moves between groups when one of these changes.
WATCHED = "team_id, assignee_id, status, escalated_at"


def _row(alias: str, delta: int) -> str:
    return f"{alias}.team_id, {alias}.assignee_id, {alias}.status, {alias}.escalated_at IS NOT NULL, {delta}"


def _changed(distinct: str) -> str:
    """True when OLD and NEW belong to different groups (`distinct` is the null-safe inequality)."""
    return (
        f"OLD.team_id {distinct} NEW.team_id OR OLD.assignee_id {distinct} NEW.assignee_id "
        f"OR OLD.status {distinct} NEW.status OR (OLD.escalated_at IS NULL) <> (NEW.escalated_at IS NULL)"
    )


SQLITE_TRIGGERS = {
    "inboxcount_ai": f"AFTER INSERT ON {CONVERSATIONS} BEGIN "
    f"INSERT INTO {COUNTS} ({COLUMNS}) VALUES ({_row('new', 1)}); END",
    "inboxcount_ad": f"AFTER DELETE ON {CONVERSATIONS} BEGIN "
    f"INSERT INTO {COUNTS} ({COLUMNS}) VALUES ({_row('old', -1)}); END",
    "inboxcount_au": f"AFTER UPDATE OF {WATCHED} ON {CONVERSATIONS} WHEN {_changed('IS NOT')} BEGIN "
    f"INSERT INTO {COUNTS} ({COLUMNS}) VALUES ({_row('old', -1)}); "
    f"INSERT INTO {COUNTS} ({COLUMNS}) VALUES ({_row('new', 1)}); END",
}

POSTGRES_FUNCTION = f"""
CREATE OR REPLACE FUNCTION conversations_inboxcount_track() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        INSERT INTO {COUNTS} ({COLUMNS}) VALUES ({_row("OLD", -1)});
    END IF;
    IF TG_OP <> 'DELETE' THEN
        INSERT INTO {COUNTS} ({COLUMNS}) VALUES ({_row("NEW", 1)});
    END IF;
    RETURN NULL;
END
$$"""
POSTGRES_TRIGGERS = {
    "inboxcount_insert_delete": f"AFTER INSERT OR DELETE ON {CONVERSATIONS} FOR EACH ROW "
    "EXECUTE FUNCTION conversations_inboxcount_track()",
    "inboxcount_update": f"AFTER UPDATE OF {WATCHED} ON {CONVERSATIONS} FOR EACH ROW "
    f"WHEN ({_changed('IS DISTINCT FROM')}) EXECUTE FUNCTION conversations_inboxcount_track()",
}

REBUILD = (
    f"INSERT INTO {COUNTS} ({COLUMNS}) SELECT team_id, assignee_id, status, escalated_at IS NOT NULL, "
    f"COUNT(*) FROM {CONVERSATIONS} GROUP BY team_id, assignee_id, status, escalated_at IS NOT NULL"
)


def sqlite_install(schema_editor) -> None:  # type: ignore[no-untyped-def]
    for name, body in SQLITE_TRIGGERS.items():
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}")
        schema_editor.execute(f"CREATE TRIGGER {name} {body}")
    schema_editor.execute(f"DELETE FROM {COUNTS}")
    schema_editor.execute(REBUILD)


def install(apps, schema_editor) -> None:  # type: ignore[no-untyped-def]
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        sqlite_install(schema_editor)
    elif vendor == "postgresql":
        schema_editor.execute(POSTGRES_FUNCTION)
        for name, body in POSTGRES_TRIGGERS.items():
            schema_editor.execute(f"CREATE TRIGGER {name} {body}")
        schema_editor.execute(f"LOCK TABLE {CONVERSATIONS} IN SHARE ROW EXCLUSIVE MODE")
        schema_editor.execute(REBUILD)


def uninstall(apps, schema_editor) -> None:  # type: ignore[no-untyped-def]
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        for name in SQLITE_TRIGGERS:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}")
    elif vendor == "postgresql":
        for name in POSTGRES_TRIGGERS:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name} ON {CONVERSATIONS}")
        schema_editor.execute("DROP FUNCTION IF EXISTS conversations_inboxcount_track()")


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("conversations", "0002_full_text_search"),
        ("customers", "0001_initial"),
        ("firstring_channels", "0002_default_api_channel"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="InboxCount",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("team_id", models.BigIntegerField(null=True)),
                ("assignee_id", models.BigIntegerField(null=True)),
                ("status", models.CharField(max_length=16)),
                ("escalated", models.BooleanField()),
                ("delta", models.IntegerField()),
            ],
        ),
        migrations.AddIndex(
            model_name="conversation",
            index=models.Index(
                condition=models.Q(("status", "resolved"), _negated=True),
                fields=["-last_message_at", "-id"],
                name="conv_open_recent",
            ),
        ),
        migrations.AddIndex(
            model_name="conversation",
            index=models.Index(
                condition=models.Q(("status", "resolved"), _negated=True),
                fields=["-priority", "-last_message_at", "-id"],
                name="conv_open_priority",
            ),
        ),
        migrations.AddIndex(
            model_name="conversation",
            index=models.Index(
                condition=models.Q(("status", "resolved"), _negated=True),
                fields=["waiting_since", "id"],
                name="conv_open_waiting",
            ),
        ),
        migrations.AddIndex(
            model_name="conversation",
            index=models.Index(
                condition=models.Q(("status", "resolved"), _negated=True),
                fields=["first_response_due_at", "id"],
                name="conv_open_sla",
            ),
        ),
        migrations.RunPython(install, uninstall, elidable=False),
    ]
