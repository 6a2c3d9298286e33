"""The URL of the database a connection uses, for a subprocess (a server, a worker) to open the same one."""

from __future__ import annotations

from django.db import connection


def current_database_url() -> str:
    params = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{params['NAME']}"
    password = f":{params['PASSWORD']}" if params.get("PASSWORD") else ""
    return (
        f"postgres://{params['USER']}{password}@{params.get('HOST') or '127.0.0.1'}:"
        f"{params.get('PORT') or 5432}/{params['NAME']}"
    )
