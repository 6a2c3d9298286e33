"""A real `python -m firstring worker` delivers queued replies, beats for /healthz, stops on SIGTERM.

The worker runs in a subprocess against the test database, so these tests use `transactional_db`: what
the test writes is committed where the worker can read it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.db import connection
from django.test import Client
from django_tasks_db.models import DBTaskResult

from firstring.conversations.models import Message
from firstring.conversations.services import reply_send
from firstring.lib.database import current_database_url
from firstring.lib.net import free_port
from firstring.ops.models import WorkerHeartbeat
from tests.conftest import require_service
from tests.http_peer import http_peer

pytestmark = pytest.mark.django_db(transaction=True)

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")


def database_url() -> str:
    """The URL of the database this test runs on, for a subprocess to open."""
    if connection.vendor == "sqlite":
        assert Path(str(connection.settings_dict["NAME"])).is_absolute(), (
            "the worker tests need a file database"
        )
    return current_database_url()


def wait_for(
    check: Callable[[], Any],
    *,
    timeout: float,
    what: str,
    log: Path | None = None,
    process: subprocess.Popen[bytes] | None = None,
) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            output = log.read_text(errors="replace")[-4000:] if log else ""
            pytest.fail(f"the worker exited with {process.returncode} while waiting for {what}\n{output}")
        value = check()
        if value:
            return value
        time.sleep(0.1)
    output = log.read_text(errors="replace")[-4000:] if log else ""
    pytest.fail(f"timed out after {timeout}s waiting for {what}\n--- worker output ---\n{output}")


@contextmanager
def worker_process(backend: str, *args: str, **env: str) -> Iterator[tuple[subprocess.Popen[bytes], Path]]:
    with tempfile.TemporaryDirectory(prefix="firstring-worker-") as tmp:
        log = Path(tmp) / "worker.log"
        token = uuid.uuid4().hex
        environment = {
            **os.environ,
            "FIRSTRING_TEST_WORKER_TOKEN": token,
            "DATABASE_URL": database_url(),
            "FIRSTRING_TASKS_BACKEND": backend,
            "FIRSTRING_DEBUG": "false",
            "FIRSTRING_WORKER_BEAT_SECONDS": "1",
            **env,
        }
        with log.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "firstring", "worker", *args],
                env=environment,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
            try:
                yield process, log
            finally:
                if process.poll() is None:
                    process.kill()
                    process.wait(10)
        # Nothing the worker started (job or scheduler processes) may outlive it.
        assert not _processes_with(f"FIRSTRING_TEST_WORKER_TOKEN={token}"), "the worker left processes behind"


def _processes_with(marker: str) -> list[int]:
    found = []
    for environ in Path("/proc").glob("[0-9]*/environ"):
        try:
            if marker.encode() in environ.read_bytes().split(b"\0"):
                found.append(int(environ.parent.name))
        except OSError:
            continue
    return found


def _healthz() -> dict[str, Any]:
    response = Client().get("/healthz")
    assert response.status_code == 200
    return response.json()


def _deliver_with_real_worker(backend: str, receive: Any, api_channel: Any, agent: Any, **env: str) -> None:
    with http_peer() as peer, worker_process(backend, **env) as (process, log):
        peer.response_json = {"id": f"peer-{backend}"}
        api_channel.config = {"callback_url": peer.url}
        api_channel.save()

        health = wait_for(
            lambda: (report := _healthz())["worker"]["ok"] and report,
            timeout=30,
            what="/healthz to report the worker alive",
            log=log,
            process=process,
        )
        assert health["status"] == "ok"
        assert health["worker"]["alive"] == 1
        assert health["worker"]["backend"] == backend
        assert health["worker"]["alive_backends"] == [backend]

        inbound = receive(email="wanda@example.com", thread=f"worker-{backend}")
        # Autocommit: reply_send commits and queues deliver_message on the configured backend.
        reply = reply_send(conversation=inbound.conversation, author=agent, text=f"Sent by {backend}")

        delivered = wait_for(
            lambda: Message.objects.filter(pk=reply.pk, delivery_status="delivered").first(),
            timeout=30,
            what=f"the {backend} worker to deliver the reply",
            log=log,
            process=process,
        )
        assert delivered.external_id == f"peer-{backend}"
        assert delivered.delivery_attempts == 1
        [request] = peer.requests
        assert request.json()["text"] == f"Sent by {backend}"

        process.send_signal(signal.SIGTERM)
        try:
            code = process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            pytest.fail("the worker did not stop within 20 s of SIGTERM\n" + log.read_text()[-4000:])
        assert code == 0, log.read_text()[-4000:]
        # A clean stop removes the heartbeat at once, so /healthz no longer counts this worker.
        assert not WorkerHeartbeat.objects.exists()
        report = _healthz()
        assert (report["status"], report["worker"]["ok"]) == ("degraded", False)


def test_database_worker_delivers_a_reply_and_stops_on_sigterm(receive, api_channel, agent):
    _deliver_with_real_worker("db", receive, api_channel, agent)


def test_an_outbox_worker_delivers_replies_and_leaves_analysis_to_the_default_queue(
    receive, api_channel, agent
):
    with http_peer() as peer, worker_process("db", "--queue", "outbox") as (process, log):
        peer.response_json = {"id": "peer-outbox"}
        api_channel.config = {"callback_url": peer.url}
        api_channel.save()
        inbound = receive(email="olga@example.com", thread="outbox-only")
        reply = reply_send(conversation=inbound.conversation, author=agent, text="Only the reply")
        wait_for(
            lambda: Message.objects.filter(pk=reply.pk, delivery_status="delivered").exists(),
            timeout=30,
            what="the outbox worker to deliver the reply",
            log=log,
            process=process,
        )
        # The inbound message's analysis waits for a worker of the default queue.
        waiting = DBTaskResult.objects.filter(status="READY").values_list("queue_name", flat=True)
        assert list(waiting) == ["default"]


def test_a_worker_refuses_an_unknown_queue():
    result = subprocess.run(
        [sys.executable, "-m", "firstring", "worker", "--queue", "bulk"],
        env={**os.environ, "DATABASE_URL": database_url()},
        capture_output=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert b"unknown queue 'bulk'; the queues are default, outbox" in result.stderr


@pytest.mark.postgres
def test_database_worker_wakes_for_a_queued_task_without_waiting_for_its_poll(receive, api_channel, agent):
    if connection.vendor != "postgresql":
        pytest.skip("the wake-up is PostgreSQL's LISTEN/NOTIFY; SQLite has only the poll")
    # A ten-minute poll and beat: only the notification sent with the task can start it in time.
    _deliver_with_real_worker(
        "db",
        receive,
        api_channel,
        agent,
        FIRSTRING_WORKER_POLL_MS="600000",
        FIRSTRING_WORKER_BEAT_SECONDS="600",
    )


@pytest.mark.redis
def test_rq_worker_delivers_a_reply_and_stops_on_sigterm(receive, api_channel, agent, settings):
    parts = urlsplit(REDIS_URL)
    require_service("Redis", parts.hostname or "127.0.0.1", parts.port or 6379)
    import redis

    # A database of our own on the Redis server, so parallel runs do not take each other's jobs.
    worker_id = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    index = 10 + int("".join(ch for ch in worker_id if ch.isdigit()) or 0) % 6
    url = f"{parts.scheme}://{parts.netloc}/{index}"
    redis.Redis.from_url(url).flushdb()
    settings.RQ_QUEUES = {queue: {"URL": url, "DEFAULT_TIMEOUT": 60} for queue in settings.TASK_QUEUES}
    settings.TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": settings.TASK_QUEUES}}
    settings.FIRSTRING_TASKS_BACKEND = "rq"
    try:
        _deliver_with_real_worker("rq", receive, api_channel, agent, REDIS_URL=url)
    finally:
        redis.Redis.from_url(url).flushdb()


def test_worker_refuses_the_immediate_backend():
    result = subprocess.run(
        [sys.executable, "-m", "firstring", "worker"],
        env={**os.environ, "DATABASE_URL": database_url(), "FIRSTRING_TASKS_BACKEND": "immediate"},
        capture_output=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert b"in-line" in result.stderr


def test_serve_stops_its_worker_on_sigterm(tmp_path):
    """`firstring serve` starts a worker; stopping the server must not leave that worker behind."""
    import httpx

    port = free_port()
    log = tmp_path / "serve.log"
    env = {**os.environ, "DATABASE_URL": database_url(), "FIRSTRING_WORKER_BEAT_SECONDS": "1"}
    with log.open("wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "firstring", "serve", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:

            def worker_alive() -> bool:
                try:
                    return bool(
                        httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).json()["worker"]["ok"]
                    )
                except httpx.TransportError:
                    return False

            wait_for(worker_alive, timeout=60, what="the server and its worker", log=log, process=server)
            # One worker per queue: analysis and routing, and the outbox.
            wait_for(lambda: WorkerHeartbeat.objects.count() == 2, timeout=30, what="both workers", log=log)
            beats = list(WorkerHeartbeat.objects.all())
            server.send_signal(signal.SIGTERM)
            assert server.wait(timeout=30) == 0, log.read_text()[-4000:]
        finally:
            if server.poll() is None:
                server.kill()
    # The workers got SIGTERM from the server, stopped cleanly and removed their heartbeats.
    wait_for(lambda: not WorkerHeartbeat.objects.exists(), timeout=20, what="the workers to stop", log=log)
    for beat in beats:
        with pytest.raises(ProcessLookupError):
            os.kill(beat.pid, 0)
