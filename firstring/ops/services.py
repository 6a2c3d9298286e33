"""Worker liveness and the periodic jobs every worker runs."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import DatabaseError, close_old_connections, connection
from django.utils import timezone

from firstring.ops.models import WorkerHeartbeat

logger = logging.getLogger(__name__)

# A worker counts as alive while its last beat is younger than this (or three beats, if longer).
STALE_AFTER_SECONDS = 60


def _sweep_outbox() -> None:
    from firstring.conversations.services import outbox_sweep

    outbox_sweep()


def _route() -> None:
    from firstring.routing.services import offers_expire, presence_idle_sweep, route_every_queue, tasks_sweep

    # Agents whose screens all closed stop being offered work, unanswered offers go back to the queue,
    # waiting customers nobody has yet join it, and tasks that could not be offered before (nobody
    # free, or a need that relaxes with waiting) are tried again.
    presence_idle_sweep()
    offers_expire()
    tasks_sweep()
    route_every_queue()


def _watch_service_levels() -> None:
    from firstring.routing.services import sla_watch

    sla_watch()


def _climb_escalations() -> None:
    from firstring.escalations.services import escalations_climb

    escalations_climb()


def _refresh_dashboards() -> None:
    from firstring.insights.rollup import rollup_refresh_stale

    rollup_refresh_stale()


def _compact_inbox_counts() -> None:
    from firstring.conversations.services import inbox_counts_compact

    inbox_counts_compact()


def _bridge_community() -> None:
    from firstring.community.services import threads_bridge_unanswered

    threads_bridge_unanswered()


def _poll_channels() -> None:
    # Channel kinds with peers to fetch from (mailboxes) register a poll; each decides what is due.
    from firstring.channels.registry import all_kinds

    for kind in all_kinds():
        if kind.poll is not None:
            try:
                kind.poll()
            except Exception:
                logger.exception("polling %s channels failed", kind.kind)


_nps_checked_at = 0.0


def _ask_for_nps() -> None:
    # Looking for customers to ask reads recent resolved conversations: once in a while, not every beat.
    global _nps_checked_at
    if _nps_checked_at and time.monotonic() - _nps_checked_at < settings.FIRSTRING_NPS_CHECK_SECONDS:
        return
    _nps_checked_at = time.monotonic()
    from firstring.surveys.services import nps_schedule

    nps_schedule()


def _send_weekly_digest() -> None:
    # One indexed look-up a beat; the week's digest is rendered by the one worker that records it.
    from firstring.digests.services import digest_send_due

    digest_send_due()


# Jobs run by every worker between tasks; each must be safe to run concurrently in several workers.
PERIODIC_JOBS: list[tuple[str, Callable[[], None]]] = [
    ("outbox sweep", _sweep_outbox),
    ("inbox counts compaction", _compact_inbox_counts),
    ("routing", _route),
    ("service levels", _watch_service_levels),
    ("escalations", _climb_escalations),
    ("dashboards rollup", _refresh_dashboards),
    ("community bridge", _bridge_community),
    ("channel polls", _poll_channels),
    ("nps surveys", _ask_for_nps),
    ("weekly digest", _send_weekly_digest),
]


def worker_heartbeat(*, worker_id: str, started_at: datetime) -> None:
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


def worker_gone(*, worker_id: str) -> None:
    """A worker that stops cleanly says so, so /healthz does not count it for another minute."""
    WorkerHeartbeat.objects.filter(worker_id=worker_id).delete()


def periodic_jobs_run() -> None:
    """Run every periodic job once; one failing job does not keep the others from running."""
    for name, job in PERIODIC_JOBS:
        try:
            job()
        except Exception:
            logger.exception("periodic job %s failed", name)


@dataclass
class PeriodicThread:
    """The heartbeat and periodic jobs, beating in a thread next to the task worker."""

    worker_id: str
    interval: float
    # Only workers of the default queue run the periodic jobs; the others beat for /healthz.
    jobs: bool = True
    stop_event: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None

    def start(self) -> None:
        self.thread = threading.Thread(target=self._loop, name="firstring-periodic", daemon=True)
        self.thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Let the current beat finish, then remove this worker's heartbeat."""
        self.stop_event.set()
        if self.thread is not None:
            self.thread.join(timeout)
        try:
            worker_gone(worker_id=self.worker_id)
        except DatabaseError:
            logger.exception("could not remove the heartbeat of %s", self.worker_id)
        finally:
            connection.close()

    def _loop(self) -> None:
        started_at = timezone.now()
        while not self.stop_event.is_set():
            close_old_connections()
            try:
                worker_heartbeat(worker_id=self.worker_id, started_at=started_at)
                if self.jobs:
                    periodic_jobs_run()
            except DatabaseError:
                logger.exception("worker heartbeat failed")
            self.stop_event.wait(self.interval)
        connection.close()


def start_periodic_thread(*, interval: float, jobs: bool = True) -> PeriodicThread:
    worker_id = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"[:64]
    periodic = PeriodicThread(worker_id=worker_id, interval=interval, jobs=jobs)
    periodic.start()
    return periodic


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
    if settings.FIRSTRING_TASKS_BACKEND == "immediate":
        report["worker"] = {"ok": True, "backend": "immediate", "alive": 0, "last_seen": None}
        return True, report
    stale_after = max(STALE_AFTER_SECONDS, 3 * settings.FIRSTRING_WORKER_BEAT_SECONDS)
    fresh = timezone.now() - timedelta(seconds=stale_after)
    alive = list(WorkerHeartbeat.objects.filter(seen_at__gte=fresh).values_list("backend", flat=True))
    latest = WorkerHeartbeat.objects.order_by("-seen_at").values_list("seen_at", flat=True).first()
    report["worker"] = {
        "ok": bool(alive),
        "backend": settings.FIRSTRING_TASKS_BACKEND,
        "alive": len(alive),
        # What the live workers run; differing from "backend" means a worker was started elsewhere.
        "alive_backends": sorted(set(alive)),
        "last_seen": latest.isoformat() if latest else None,
    }
    if not report["worker"]["ok"]:
        report["status"] = "degraded"
    return True, report
