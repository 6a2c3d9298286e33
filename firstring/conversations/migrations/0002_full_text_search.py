"""Full-text search indexes: SQLite FTS5 tables kept in sync by triggers, or PostgreSQL GIN indexes.

Each database gets its own kind; the query side is firstring/conversations/search.py, which must use
the same table names (SQLite) and the same expressions (PostgreSQL), or the indexes go unused.

SQLite caveat: a later migration that makes Django rebuild one of these tables on SQLite (most
AlterField operations do) drops its triggers with it. Such a migration must run
`sqlite_install(schema_editor)` from here again (it is idempotent and rebuilds the index).
"""

from django.db import migrations

# (FTS table, content table, column) for SQLite; the same (table, column) pairs get a GIN index on PostgreSQL.
SOURCES = [
    ("search_message_fts", "conversations_message", "text"),
    ("search_conversation_fts", "conversations_conversation", "subject"),
    ("search_customer_fts", "customers_customer", "name"),
    ("search_identity_fts", "customers_identity", "value"),
]


def _sqlite_statements(fts: str, table: str, column: str) -> list[str]:
    return [
        # External content: the FTS table stores only the index, the text stays in the model's table.
        f"CREATE VIRTUAL TABLE IF NOT EXISTS {fts} USING fts5({column}, content='{table}', "
        f"content_rowid='id', tokenize='unicode61 remove_diacritics 2')",
        f"CREATE TRIGGER IF NOT EXISTS {fts}_ai AFTER INSERT ON {table} BEGIN "
        f"INSERT INTO {fts}(rowid, {column}) VALUES (new.id, new.{column}); END",
        f"CREATE TRIGGER IF NOT EXISTS {fts}_ad AFTER DELETE ON {table} BEGIN "
        f"INSERT INTO {fts}({fts}, rowid, {column}) VALUES ('delete', old.id, old.{column}); END",
        f"CREATE TRIGGER IF NOT EXISTS {fts}_au AFTER UPDATE OF {column} ON {table} BEGIN "
        f"INSERT INTO {fts}({fts}, rowid, {column}) VALUES ('delete', old.id, old.{column}); "
        f"INSERT INTO {fts}(rowid, {column}) VALUES (new.id, new.{column}); END",
        f"INSERT INTO {fts}({fts}) VALUES ('rebuild')",
    ]


def sqlite_install(schema_editor) -> None:  # type: ignore[no-untyped-def]
    for source in SOURCES:
        for statement in _sqlite_statements(*source):
            schema_editor.execute(statement)


def _postgres_index(table: str, column: str) -> str:
    return f"{table}_{column}_fts"


def install(apps, schema_editor) -> None:  # type: ignore[no-untyped-def]
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        sqlite_install(schema_editor)
    elif vendor == "postgresql":
        for _, table, column in SOURCES:
            # 'simple': no stemming and no stop words, so every language is searched alike.
            schema_editor.execute(
                f"CREATE INDEX IF NOT EXISTS {_postgres_index(table, column)} ON {table} "
                f"USING gin (to_tsvector('simple'::regconfig, {column}))"
            )


def uninstall(apps, schema_editor) -> None:  # type: ignore[no-untyped-def]
    vendor = schema_editor.connection.vendor
    for fts, table, column in SOURCES:
        if vendor == "sqlite":
            for suffix in ("ai", "ad", "au"):
                schema_editor.execute(f"DROP TRIGGER IF EXISTS {fts}_{suffix}")
            schema_editor.execute(f"DROP TABLE IF EXISTS {fts}")
        elif vendor == "postgresql":
            schema_editor.execute(f"DROP INDEX IF EXISTS {_postgres_index(table, column)}")


class Migration(migrations.Migration):
    dependencies = [
        ("conversations", "0001_initial"),
        # After the customers' last table change: SQLite rebuilds a table to alter it, and a rebuild
        # drops the triggers installed here, whatever order the rest of the graph happens to give.
        ("customers", "0002_customer_tier"),
    ]

    operations = [migrations.RunPython(install, uninstall, elidable=False)]
