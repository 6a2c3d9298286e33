"""Wake the database-queue worker the moment a task is queued, instead of at its next poll.

On PostgreSQL every enqueue sends `NOTIFY firstring_tasks` in the enqueuing transaction, so it is
delivered when the task's row is committed, and an idle worker waits on `LISTEN` rather than sleeping:
a new message's pipeline task starts within milliseconds, not half a poll later on average.
The poll stays as the fallback (a notification lost with a dropped connection, a task whose
`run_after` came due); on SQLite, which has no notifications, the poll is all there is.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import psycopg
from django.db import DEFAULT_DB_ALIAS, DatabaseError, OperationalError, close_old_connections, connections
from django_tasks_db.backend import DatabaseBackend
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult
from django_tasks_db.utils import exclusive_transaction, is_locked_database_exception

logger = logging.getLogger(__name__)

CHANNEL = "firstring_tasks"


def notify_task_enqueued(sender: Any, **kwargs: Any) -> None:
    """`task_enqueued` receiver: tell a listening worker (PostgreSQL only; delivered at commit)."""
    connection = connections[DEFAULT_DB_ALIAS]
    if connection.vendor != "postgresql" or not issubclass(sender, DatabaseBackend):
        return
    try:
        with connection.cursor() as cursor:
            cursor.execute(f"NOTIFY {CHANNEL}")
    except DatabaseError:
        # The task is stored; the worker's poll finds it.
        logger.warning("could not notify the worker of a queued task", exc_info=True)


class TaskListener:
    """A connection of its own that LISTENs for queued tasks; `wait` returns early when one comes."""

    def __init__(self) -> None:
        self._connection: psycopg.Connection[Any] | None = None

    def wait(self, timeout: float) -> None:
        try:
            listener = self._connect()
            for _ in listener.notifies(timeout=timeout, stop_after=1):
                pass
            # Notifications buffered with the one that woke us (while the worker was busy, say) are
            # older than the look at the queue that follows, so they would only wake it for nothing.
            for _ in listener.notifies(timeout=0):
                pass
        except psycopg.Error:
            logger.warning("task notifications failed; polling instead", exc_info=True)
            self.close()

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def _connect(self) -> psycopg.Connection[Any]:
        if self._connection is None or self._connection.closed:
            params = connections[DEFAULT_DB_ALIAS].get_connection_params()
            params.pop("cursor_factory", None)
            params.pop("context", None)
            self._connection = psycopg.connect(**params, autocommit=True)
            self._connection.execute(f"LISTEN {CHANNEL}")
        return self._connection


class WakingWorker(Worker):
    """django-tasks-db's worker with its idle sleep replaced by a wait that a queued task ends.

    The loop is the library's own (claim the next ready task under an exclusive transaction, run it,
    repeat); only the wait differs, and the reload and max-tasks options we do not use are left out.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.listener = TaskListener() if connections[DEFAULT_DB_ALIAS].vendor == "postgresql" else None

    def run(self) -> None:
        logger.info("worker %s started on queues %s", self.worker_id, ",".join(self.queue_names))
        try:
            while self.running:
                close_old_connections()
                tasks = DBTaskResult.objects.ready().filter(backend_name=self.backend_name)
                if not self.process_all_queues:
                    tasks = tasks.filter(queue_name__in=self.queue_names)
                task_result, retrieved = self._claim(tasks)
                if task_result is not None:
                    self.run_task(task_result)
                elif self.batch and retrieved:
                    return
                close_old_connections()
                if self.running and task_result is None:
                    self._wait()
        finally:
            if self.listener is not None:
                self.listener.close()

    def _claim(self, tasks: Any) -> tuple[DBTaskResult | None, bool]:
        """The next ready task, claimed for this worker; and whether the queue could be read at all."""
        with exclusive_transaction(tasks.db):
            try:
                task_result = tasks.get_locked()
            except OperationalError as error:
                if is_locked_database_exception(error):
                    return None, False  # SQLite busy: try again after the wait
                raise
            if task_result is not None:
                task_result.claim(self.worker_id)
            return task_result, True

    def _wait(self) -> None:
        if self.listener is not None:
            self.listener.wait(self.interval)
        else:
            time.sleep(self.interval)
