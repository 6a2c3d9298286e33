"""The whole ASGI application (HTTP and websockets) served by uvicorn on a free loopback port, in a thread.

Tests that publish live updates (an agent's reply, the outbox) run that code on the server's own event
loop with `server.call(fn)`, as the server process would: the in-memory channel layer belongs to it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from asgiref.sync import sync_to_async
from websockets.sync.client import ClientConnection, connect

T = TypeVar("T")


@dataclass
class ChatServer:
    url: str
    loop: asyncio.AbstractEventLoop

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://")

    def call(self, fn: Callable[[], T]) -> T:
        """Run fn in a worker thread of the server's event loop and return its result."""
        return asyncio.run_coroutine_threadsafe(
            sync_to_async(fn, thread_sensitive=False)(), self.loop
        ).result(timeout=30)

    def socket(
        self, path: str, *, origin: str | None = None, headers: dict[str, str] | None = None
    ) -> Socket:
        opener = connect(f"{self.ws_url}{path}", origin=origin, additional_headers=headers, open_timeout=10)  # type: ignore[arg-type]
        return Socket(opener.__enter__())


@dataclass
class Socket:
    connection: ClientConnection

    def send(self, frame: Any) -> None:
        from websockets.exceptions import ConnectionClosed

        # When the server closed first, close_code() says why.
        with contextlib.suppress(ConnectionClosed):
            self.connection.send(frame if isinstance(frame, str | bytes) else json.dumps(frame))

    def recv(self, timeout: float = 10) -> dict[str, Any]:
        return json.loads(self.connection.recv(timeout=timeout))

    def recv_type(self, kind: str, timeout: float = 10) -> dict[str, Any]:
        """The next frame of this type, skipping others (typing notices …)."""
        deadline = time.monotonic() + timeout
        while True:
            frame = self.recv(timeout=max(0.05, deadline - time.monotonic()))
            if frame.get("type") == kind:
                return frame

    def nothing_within(self, seconds: float) -> bool:
        try:
            self.connection.recv(timeout=seconds)
        except TimeoutError:
            return True
        return False

    def close_code(self, timeout: float = 10) -> int | None:
        """Read until the server closes; the close code it sent."""
        from websockets.exceptions import ConnectionClosed

        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                self.connection.recv(timeout=max(0.05, deadline - time.monotonic()))
        except ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd else None
        raise AssertionError("the server did not close the connection")

    def close(self) -> None:
        self.connection.close()


@contextmanager
def chat_server() -> Iterator[ChatServer]:
    import uvicorn

    from firstring.asgi import application

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(application, lifespan="off", log_level="warning", ws="websockets-sansio")
    server = uvicorn.Server(config)
    loop = asyncio.new_event_loop()

    def run() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(server.serve(sockets=[sock]))

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the chat test server did not start")
        time.sleep(0.02)
    try:
        yield ChatServer(url=f"http://127.0.0.1:{port}", loop=loop)
    finally:
        server.should_exit = True
        thread.join(timeout=5)
        sock.close()
