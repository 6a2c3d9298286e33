"""The database as a whole: its URL for a subprocess to open the same one, and whether it is overloaded."""

from __future__ import annotations

from django.db import OperationalError, connection


def current_database_url() -> str:
    """The URL of the database the default connection uses, for a subprocess (a server, a worker)."""
    params = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{params['NAME']}"
    password = f":{params['PASSWORD']}" if params.get("PASSWORD") else ""
    return (
        f"postgres://{params['USER']}{password}@{params.get('HOST') or '127.0.0.1'}:"
        f"{params.get('PORT') or 5432}/{params['NAME']}"
    )


def database_busy(error: BaseException | None) -> bool:
    """Whether `error` says the database is overloaded rather than that a query is wrong.

    Locked (SQLite past its busy timeout), out of connections (the pool's wait timed out, the server's
    limit reached), unreachable, or a deadlock PostgreSQL broke by cancelling this transaction: worth a
    503 and a retry. SQLite reports a missing table as an OperationalError too, which stays a 500.
    """
    if not isinstance(error, OperationalError):
        return False
    if type(error.__cause__).__name__ == "PoolTimeout":
        return True
    text = str(error).lower()
    signs = ("database is locked", "too many clients", "connection", "deadlock detected")
    return any(sign in text for sign in signs)
