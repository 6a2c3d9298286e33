"""A throw-away database for a benchmark, never the user's: created, migrated, used, dropped.

SQLite: a file under var/bench/. PostgreSQL: a database named `firstring_bench` on the same server
as DATABASE_URL (or FIRSTRING_BENCH_DB). The switch works like Django's test runner does it: close the
connection, point its settings at the new name, reconnect.

`keep=True` leaves the database behind after the run, and `reuse=True` uses one left behind by an
earlier run (migrated to the current models, so new indexes get built) instead of starting afresh;
loading a big history takes minutes, and comparing query plans wants the same data each time. On
SQLite both use the fixed file `var/bench/<label>.sqlite3`.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.db import connection

BENCH_DB_NAME = "firstring_bench"


def _postgres_admin(sql: str, params: Sequence[str] = ()) -> bool:
    """Run SQL from the server's maintenance database (CREATE/DROP DATABASE cannot run in a transaction).

    True if the statement returned a row.
    """
    import psycopg

    connect = connection.get_connection_params()
    connect["dbname"] = "postgres"
    connect.pop("cursor_factory", None)
    connect.pop("context", None)
    with psycopg.connect(**connect, autocommit=True) as admin:
        cursor = admin.execute(sql, params)  # type: ignore[arg-type]
        return cursor.description is not None and cursor.fetchone() is not None


def _postgres_exists(name: str) -> bool:
    return _postgres_admin("SELECT 1 FROM pg_database WHERE datname = %s", [name])


def disconnect() -> None:
    """Close the default connection and, on PostgreSQL, its pool.

    The pool keeps connections to the database it was opened on, so a switch of database closes it too,
    as Django's test runner does; and a forked process must not inherit it (its threads stay behind in
    the parent, so the child's first query would wait for a connection that never comes).
    """
    connection.close()
    close_pool = getattr(connection, "close_pool", None)
    if close_pool is not None:
        close_pool()


@contextmanager
def bench_database(label: str, *, keep: bool = False, reuse: bool = False) -> Iterator[str]:
    """Switch the default connection to a migrated database of its own; yield its vendor; drop it after.

    The database is fresh unless `reuse` finds one left by an earlier run; it stays if `keep` or `reuse`.
    """
    original_name = connection.settings_dict["NAME"]
    vendor = connection.vendor
    keep = keep or reuse
    if vendor == "sqlite":
        directory = Path(settings.VAR_DIR) / "bench"
        directory.mkdir(parents=True, exist_ok=True)
        if keep:
            name = str(directory / f"{label}.sqlite3")
            if not reuse:
                for suffix in ("", "-wal", "-shm"):
                    Path(name + suffix).unlink(missing_ok=True)
        else:
            name = str(directory / f"{label}-{os.getpid()}-{int(time.time())}.sqlite3")
    elif vendor == "postgresql":
        name = os.environ.get("FIRSTRING_BENCH_DB", BENCH_DB_NAME)
        if name == original_name:
            raise SystemExit(f"refusing to benchmark in the configured database {name!r}")
        if not (reuse and _postgres_exists(name)):
            _postgres_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            _postgres_admin(f'CREATE DATABASE "{name}"')
    else:
        raise SystemExit(f"benchmarks run on SQLite or PostgreSQL, not {vendor}")

    disconnect()
    settings.DATABASES["default"]["NAME"] = name
    connection.settings_dict["NAME"] = name
    try:
        call_command("migrate", interactive=False, verbosity=0)
        yield vendor
    finally:
        disconnect()
        settings.DATABASES["default"]["NAME"] = original_name
        connection.settings_dict["NAME"] = original_name
        if keep:
            pass
        elif vendor == "sqlite":
            for suffix in ("", "-wal", "-shm"):
                Path(name + suffix).unlink(missing_ok=True)
        else:
            _postgres_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def drop_kept(label: str) -> None:
    """Drop the database that `keep` or `reuse` left behind for this benchmark."""
    if connection.vendor == "sqlite":
        name = str(Path(settings.VAR_DIR) / "bench" / f"{label}.sqlite3")
        for suffix in ("", "-wal", "-shm"):
            Path(name + suffix).unlink(missing_ok=True)
    else:
        name = os.environ.get("FIRSTRING_BENCH_DB", BENCH_DB_NAME)
        _postgres_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def percentile(values: list[float], fraction: float) -> float:
    """The value below which `fraction` of the values lie (nearest rank)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(fraction * len(ordered) + 0.5)))
    return ordered[rank - 1]
