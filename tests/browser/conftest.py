"""A real server (uvicorn: HTTP and websockets) on a free port and one headless Chromium per session.

The server runs in a thread of the test process against the test database, so tests use
`django_db(transaction=True)`: what they create is committed and the server sees it.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import IN_CI

CHROMIUM = Path(os.environ.get("FIRSTRING_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


def _require_chromium() -> None:
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing (apt-get install chromium)"
        if IN_CI:
            pytest.fail(f"{message}, and CI requires it")
        pytest.skip(message)


@pytest.fixture(scope="session")
def live_url() -> Iterator[str]:
    """Serve firstring.asgi (plus static files from the finders) with uvicorn on 127.0.0.1:<free port>."""
    _require_chromium()
    import uvicorn
    from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler

    from firstring.asgi import application

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        ASGIStaticFilesHandler(application), lifespan="off", log_level="warning", ws="websockets-sansio"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=5)
    sock.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    _require_chromium()
    # Playwright's sync API keeps an event loop in this thread; the tests' own ORM calls are still
    # synchronous and run between browser steps (the documented Django + Playwright setting).
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


@pytest.fixture(autouse=True)
def _inbox_counts_from_scratch(transactional_db: None) -> None:
    """Count the inbox's views again before each browser test.

    Between transactional tests with serialized_rollback, Django flushes the tables without its
    post_migrate signal, where the counts are rebuilt; on SQLite the flush's deletions of
    conversations then leave -1 rows behind, and a page would show counts off by the last test.
    """
    from firstring.conversations.services import inbox_counts_rebuild

    inbox_counts_rebuild()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context()
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


def sign_in(page: Any, live_url: str, email: str, password: str) -> None:
    page.goto(f"{live_url}/accounts/login/")
    page.fill("#id_username", email)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_url}/")
