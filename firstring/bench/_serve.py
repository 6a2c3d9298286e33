"""`firstring serve` on the benchmark's database, in a process of its own, for benchmarks that measure
what production runs."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from django.db import connection

from firstring.lib.database import current_database_url
from firstring.lib.net import free_port


@contextmanager
def served(
    label: str, env: dict[str, str] | None = None, port: int | None = None, workers: int = 1
) -> Iterator[str]:
    """Start `firstring serve` (and its worker) on the current database; yield its base URL; stop it.

    `workers`: server processes (uvicorn's --workers).
    """
    connection.close()  # the server writes to SQLite too
    port = port or free_port()
    base = f"http://127.0.0.1:{port}"
    # The server's output, kept where the error names it if it fails to start.
    log_path = Path(tempfile.gettempdir()) / f"firstring-bench-{label}-{os.getpid()}.log"
    environment = {**os.environ, "DATABASE_URL": current_database_url(), **(env or {})}
    with open(log_path, "wb") as log:
        server = subprocess.Popen(  # noqa: S603 (our own interpreter and arguments)
            [sys.executable, "-m", "firstring", "serve", "--host", "127.0.0.1", "--port", str(port)]
            + (["--workers", str(workers)] if workers != 1 else []),
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_until_healthy(base, server, log_path)
            yield base
        finally:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
    log_path.unlink()


def wait_until_healthy(base: str, server: subprocess.Popen[Any], log_path: Path) -> None:
    import httpx

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"`firstring serve` stopped; see {log_path}")
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    raise RuntimeError(f"`firstring serve` did not become healthy within 60 s; see {log_path}")
