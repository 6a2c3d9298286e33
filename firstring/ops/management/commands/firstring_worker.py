"""Run background tasks with the configured backend, plus the heartbeat and periodic jobs."""

from __future__ import annotations

import logging
from typing import Any, cast

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.crypto import get_random_string

from firstring.conversations.pipeline import steps_warm_up
from firstring.ops.services import periodic_jobs_run, start_periodic_thread
from firstring.ops.wakeup import WakingWorker

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Run the background worker for the configured task backend (database queue or RQ)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--batch",
            action="store_true",
            help="Run the periodic jobs once, then exit when the queue is empty.",
        )
        parser.add_argument(
            "--queue",
            action="append",
            dest="queues",
            metavar="NAME",
            help="Serve only this queue (repeat for several; default: all). The periodic jobs run in "
            "workers of the default queue.",
        )
        parser.add_argument(
            "--beat-seconds",
            type=float,
            default=None,
            help="Seconds between heartbeats and periodic jobs (default: FIRSTRING_WORKER_BEAT_SECONDS).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        backend = settings.FIRSTRING_TASKS_BACKEND
        if backend == "immediate":
            raise CommandError(
                "The immediate task backend runs tasks in-line; there is nothing for a worker to do."
            )
        beat = options["beat_seconds"] or settings.FIRSTRING_WORKER_BEAT_SECONDS
        if beat <= 0:
            raise CommandError("the beat interval must be positive")
        if settings.FIRSTRING_WORKER_POLL_MS <= 0:
            raise CommandError("FIRSTRING_WORKER_POLL_MS must be positive")
        backend_config = cast(dict[str, Any], settings.TASKS["default"])
        configured = list(backend_config.get("QUEUES") or ["default"])
        queues = options["queues"] or configured
        unknown = sorted(set(queues) - set(configured))
        if unknown:
            raise CommandError(f"unknown queue {unknown[0]!r}; the queues are {', '.join(configured)}")
        runs_jobs = "default" in queues
        if runs_jobs:
            steps_warm_up()
        periodic = None
        if options["batch"]:
            if runs_jobs:
                periodic_jobs_run()
        else:
            periodic = start_periodic_thread(interval=beat, jobs=runs_jobs)
        # Both backends stop gracefully on SIGTERM/SIGINT: the task in hand finishes, then the
        # call returns (RQ) or raises SystemExit (database queue), and the finally block runs.
        try:
            if backend == "rq":
                call_command(
                    "rqworker",
                    *queues,
                    job_class="django_tasks_rq.Job",
                    # One process, no children: RQ's default forks a process per job next to our
                    # heartbeat thread, and its scheduler child outlives a killed worker. Retries are
                    # the outbox sweep's, not run_after's, so the scheduler has nothing to do here.
                    worker_class="rq.worker.SimpleWorker",
                    with_scheduler=False,
                    burst=options["batch"],
                )
            else:
                worker = WakingWorker(
                    queue_names=queues,
                    interval=settings.FIRSTRING_WORKER_POLL_MS / 1000,
                    batch=options["batch"],
                    backend_name="default",
                    startup_delay=False,
                    max_tasks=None,
                    worker_id=get_random_string(32),
                    excluded_queue_names=[],
                )
                worker.configure_signals()
                worker.run()
        finally:
            if periodic is not None:
                periodic.stop()
            logger.info("worker stopped")
