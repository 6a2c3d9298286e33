"""Full-text search over visible threads (`community_threadsearchentry`), as knowledge's 0002 does it.

SQLite: an FTS5 table with external content (title, text) kept in sync by triggers. PostgreSQL: a
stored generated, weighted `search_vector` column ('simple' configuration) with a GIN index. The
query side is firstring/knowledge/search.py's `search_index` with `community.search.THREADS`.

SQLite caveat: a later migration that makes Django rebuild community_threadsearchentry on SQLite
drops the triggers with it; such a migration must run `sqlite_install(schema_editor)` from here again.
"""

from django.db import migrations

FTS = "community_search_fts"
TABLE = "community_threadsearchentry"
KEY = "thread_id"

SQLITE = [
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS} USING fts5(title, text, content='{TABLE}', "
    f"content_rowid='{KEY}', tokenize='unicode61 remove_diacritics 2')",
    f"CREATE TRIGGER IF NOT EXISTS {FTS}_ai AFTER INSERT ON {TABLE} BEGIN "
    f"INSERT INTO {FTS}(rowid, title, text) VALUES (new.{KEY}, new.title, new.text); END",
    f"CREATE TRIGGER IF NOT EXISTS {FTS}_ad AFTER DELETE ON {TABLE} BEGIN "
    f"INSERT INTO {FTS}({FTS}, rowid, title, text) VALUES ('delete', old.{KEY}, old.title, old.text); END",
    f"CREATE TRIGGER IF NOT EXISTS {FTS}_au AFTER UPDATE OF title, text ON {TABLE} BEGIN "
    f"INSERT INTO {FTS}({FTS}, rowid, title, text) VALUES ('delete', old.{KEY}, old.title, old.text); "
    f"INSERT INTO {FTS}(rowid, title, text) VALUES (new.{KEY}, new.title, new.text); END",
    f"INSERT INTO {FTS}({FTS}) VALUES ('rebuild')",
]

POSTGRES = [
    f"ALTER TABLE {TABLE} ADD COLUMN IF NOT EXISTS search_vector tsvector GENERATED ALWAYS AS ("
    "setweight(to_tsvector('simple'::regconfig, coalesce(title, '')), 'A') || "
    "setweight(to_tsvector('simple'::regconfig, coalesce(text, '')), 'B')) STORED",
    # In the row, not in TOAST: ranking reads every match's vector (see knowledge's 0002).
    f"ALTER TABLE {TABLE} ALTER COLUMN search_vector SET STORAGE MAIN",
    f"CREATE INDEX IF NOT EXISTS {TABLE}_search_vector ON {TABLE} USING gin (search_vector)",
]


def sqlite_install(schema_editor) -> None:  # type: ignore[no-untyped-def]
    for statement in SQLITE:
        schema_editor.execute(statement)


def install(apps, schema_editor) -> None:  # type: ignore[no-untyped-def]
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        sqlite_install(schema_editor)
    elif vendor == "postgresql":
        for statement in POSTGRES:
            schema_editor.execute(statement)


def uninstall(apps, schema_editor) -> None:  # type: ignore[no-untyped-def]
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        for suffix in ("ai", "ad", "au"):
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {FTS}_{suffix}")
        schema_editor.execute(f"DROP TABLE IF EXISTS {FTS}")
    elif vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {TABLE}_search_vector")
        schema_editor.execute(f"ALTER TABLE {TABLE} DROP COLUMN IF EXISTS search_vector")


class Migration(migrations.Migration):
    dependencies = [("community", "0001_initial")]

    operations = [migrations.RunPython(install, uninstall, elidable=False)]
