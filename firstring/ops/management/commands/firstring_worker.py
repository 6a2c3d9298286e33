"""Run background tasks with the configured backend, plus the heartbeat and periodic jobs."""

from __future__ import annotations

import threading
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from firstring.ops.services import start_periodic_thread


class Command(BaseCommand):
    help = "Run the background worker for the configured task backend (database queue or RQ)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--batch", action="store_true", help="Exit when the queue is empty (database backend)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        stop = threading.Event()
        if not options["batch"]:
            start_periodic_thread(stop)
        try:
            if settings.FIRSTRING_TASKS_BACKEND == "rq":
                call_command("rqworker", "default", with_scheduler=True, burst=options["batch"])
            elif settings.FIRSTRING_TASKS_BACKEND == "db":
                call_command("db_worker", batch=options["batch"], interval=0.2)
            else:
                self.stderr.write(
                    "The immediate task backend runs tasks in-line; there is nothing for a worker to do."
                )
        finally:
            stop.set()
