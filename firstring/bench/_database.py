"""A throw-away database for a benchmark, never the user's: created, migrated, used, dropped.

SQLite: a file under var/bench/. PostgreSQL: a database named `firstring_bench` on the same server
as DATABASE_URL (or FIRSTRING_BENCH_DB). The switch works like Django's test runner does it: close the
connection, point its settings at the new name, reconnect.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.db import connection

BENCH_DB_NAME = "firstring_bench"


def _postgres_admin(sql: str) -> None:
    """Run CREATE/DROP DATABASE from the server's maintenance database (they cannot run in a transaction)."""
    import psycopg

    params = connection.get_connection_params()
    params["dbname"] = "postgres"
    params.pop("cursor_factory", None)
    params.pop("context", None)
    with psycopg.connect(**params, autocommit=True) as admin:
        admin.execute(sql)


@contextmanager
def bench_database(label: str) -> Iterator[str]:
    """Switch the default connection to a fresh, migrated database; yield its vendor; drop it after."""
    original_name = connection.settings_dict["NAME"]
    vendor = connection.vendor
    if vendor == "sqlite":
        directory = Path(settings.VAR_DIR) / "bench"
        directory.mkdir(parents=True, exist_ok=True)
        name = str(directory / f"{label}-{os.getpid()}-{int(time.time())}.sqlite3")
    elif vendor == "postgresql":
        name = os.environ.get("FIRSTRING_BENCH_DB", BENCH_DB_NAME)
        if name == original_name:
            raise SystemExit(f"refusing to benchmark in the configured database {name!r}")
        _postgres_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        _postgres_admin(f'CREATE DATABASE "{name}"')
    else:
        raise SystemExit(f"benchmarks run on SQLite or PostgreSQL, not {vendor}")

    connection.close()
    settings.DATABASES["default"]["NAME"] = name
    connection.settings_dict["NAME"] = name
    try:
        call_command("migrate", interactive=False, verbosity=0)
        yield vendor
    finally:
        connection.close()
        settings.DATABASES["default"]["NAME"] = original_name
        connection.settings_dict["NAME"] = original_name
        if vendor == "sqlite":
            for suffix in ("", "-wal", "-shm"):
                Path(name + suffix).unlink(missing_ok=True)
        else:
            _postgres_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def percentile(values: list[float], fraction: float) -> float:
    """The value below which `fraction` of the values lie (nearest rank)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(fraction * len(ordered) + 0.5)))
    return ordered[rank - 1]
