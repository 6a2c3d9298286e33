"""Worker liveness and the periodic jobs every worker runs."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import DatabaseError, close_old_connections, connection
from django.utils import timezone

from firstring.ops.models import WorkerHeartbeat

logger = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 10
STALE_AFTER_SECONDS = 60


def _sweep_outbox() -> None:
    from firstring.conversations.services import outbox_sweep

    outbox_sweep()


# Jobs run by every worker between tasks; each must be safe to run concurrently in several workers.
PERIODIC_JOBS: list[tuple[str, Callable[[], None]]] = [("outbox sweep", _sweep_outbox)]


def worker_heartbeat(*, worker_id: str, started_at: Any) -> None:
    now = timezone.now()
    WorkerHeartbeat.objects.update_or_create(
        worker_id=worker_id,
        defaults={
            "backend": settings.FIRSTRING_TASKS_BACKEND,
            "host": socket.gethostname()[:255],
            "pid": os.getpid(),
            "started_at": started_at,
            "seen_at": now,
        },
    )
    WorkerHeartbeat.objects.filter(seen_at__lt=now - timedelta(days=1)).delete()


def start_periodic_thread(stop: threading.Event) -> threading.Thread:
    """Beat and run the periodic jobs in a daemon thread next to the task worker."""
    worker_id = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
    started_at = timezone.now()

    def loop() -> None:
        while not stop.is_set():
            close_old_connections()
            try:
                worker_heartbeat(worker_id=worker_id, started_at=started_at)
                for name, job in PERIODIC_JOBS:
                    try:
                        job()
                    except Exception:
                        logger.exception("periodic job %s failed", name)
            except DatabaseError:
                logger.exception("worker heartbeat failed")
            stop.wait(HEARTBEAT_SECONDS)
        connection.close()

    thread = threading.Thread(target=loop, name="firstring-periodic", daemon=True)
    thread.start()
    return thread


def health() -> tuple[bool, dict[str, Any]]:
    """Database reachable and at least one worker seen recently."""
    report: dict[str, Any] = {"status": "ok"}
    started = time.perf_counter()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        report["database"] = {
            "ok": True,
            "vendor": connection.vendor,
            "ms": round((time.perf_counter() - started) * 1000, 2),
        }
    except DatabaseError as error:
        report["database"] = {"ok": False, "error": str(error)[:200]}
        report["worker"] = {"ok": False, "error": "database unavailable"}
        report["status"] = "error"
        return False, report
    fresh = timezone.now() - timedelta(seconds=STALE_AFTER_SECONDS)
    alive = WorkerHeartbeat.objects.filter(seen_at__gte=fresh)
    latest = WorkerHeartbeat.objects.order_by("-seen_at").first()
    report["worker"] = {
        "ok": alive.exists(),
        "backend": settings.FIRSTRING_TASKS_BACKEND,
        "alive": alive.count(),
        "last_seen": latest.seen_at.isoformat() if latest else None,
    }
    if not report["worker"]["ok"]:
        report["status"] = "degraded"
    return True, report
