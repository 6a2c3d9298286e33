"""A small real HTTP server on loopback that records requests and answers with scripted statuses."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Recorded:
    path: str  # with the query string
    headers: dict[str, str]
    body: bytes
    method: str = "GET"

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def query(self) -> dict[str, list[str]]:
        return parse_qs(urlsplit(self.path).query)


# A route answers a request with (status, headers, body). A body that is an iterable of chunks is
# streamed as it is produced (no Content-Length) and the connection closes after the last chunk: a
# streaming API, or a stream that drops.
Route = Callable[[Recorded], tuple[int, dict[str, str], bytes | Iterable[bytes]]]


@dataclass
class Peer:
    url: str
    requests: list[Recorded] = field(default_factory=list)
    # Statuses to answer with, in order; the last one repeats.
    statuses: list[int] = field(default_factory=lambda: [200])
    response_json: dict[str, Any] = field(default_factory=dict)
    # GET answers by path (without the query); POSTs to a path without a route get `statuses`.
    get_routes: dict[str, Route] = field(default_factory=dict)
    post_routes: dict[str, Route] = field(default_factory=dict)

    def at(self, path: str) -> str:
        """The peer's URL for another path (the default `url` ends in /hook)."""
        return self.url.rsplit("/", 1)[0] + path


@contextmanager
def http_peer() -> Iterator[Peer]:
    peer = Peer(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            request = Recorded(self.path, dict(self.headers.items()), body, "POST")
            peer.requests.append(request)
            route = peer.post_routes.get(self.path.split("?", 1)[0])
            if route is not None:
                self._answer(*route(request))
                return
            status = peer.statuses.pop(0) if len(peer.statuses) > 1 else peer.statuses[0]
            payload = json.dumps(peer.response_json).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def do_GET(self) -> None:
            request = Recorded(self.path, dict(self.headers.items()), b"")
            peer.requests.append(request)
            route = peer.get_routes.get(self.path.split("?", 1)[0])
            self._answer(*(route(request) if route else (404, {}, b"not found")))

        def _answer(self, status: int, headers: dict[str, str], body: bytes | Iterable[bytes]) -> None:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            if isinstance(body, bytes):
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            self.send_header("Connection", "close")
            self.end_headers()
            self.close_connection = True
            try:
                for chunk in body:
                    self.wfile.write(chunk)
                    self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client went away

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    peer.url = f"http://127.0.0.1:{server.server_port}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield peer
    finally:
        server.shutdown()
        server.server_close()
