"""A small real HTTP server on loopback that records requests and answers with scripted statuses."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Recorded:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Peer:
    url: str
    requests: list[Recorded] = field(default_factory=list)
    # Statuses to answer with, in order; the last one repeats.
    statuses: list[int] = field(default_factory=lambda: [200])
    response_json: dict[str, Any] = field(default_factory=dict)
    # GET answers by path: a function of the request's headers giving (status, headers, body).
    get_routes: dict[str, Callable[[dict[str, str]], tuple[int, dict[str, str], bytes]]] = field(
        default_factory=dict
    )

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
            peer.requests.append(Recorded(self.path, dict(self.headers.items()), body))
            status = peer.statuses.pop(0) if len(peer.statuses) > 1 else peer.statuses[0]
            payload = json.dumps(peer.response_json).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            peer.requests.append(Recorded(self.path, dict(self.headers.items()), b""))
            route = peer.get_routes.get(path)
            status, headers, body = route(dict(self.headers.items())) if route else (404, {}, b"not found")
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

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
