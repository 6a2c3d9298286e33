"""A local Jetstream: a websocket server that replays events from a cursor, as Bluesky's Jetstream does.

`GET /subscribe?wantedCollections=…&cursor=<time_us>` streams every event whose `time_us` is at or
after the cursor (Jetstream's documented replay), then waits. `drop_after` closes the first
connection abruptly after that many events (a dropped websocket).
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

from websockets.sync.server import ServerConnection, serve


@dataclass
class Jetstream:
    url: str = ""
    paths: list[str] = field(default_factory=list)
    sent: int = 0


@contextmanager
def jetstream_server(events: list[str], *, drop_after: int | None = None) -> Iterator[Jetstream]:
    state = Jetstream()
    timed: list[tuple[int, str]] = []
    last = 0
    for raw in events:
        # A malformed event goes out after the one before it.
        with contextlib.suppress(ValueError, KeyError, TypeError):
            last = int(json.loads(raw)["time_us"])
        timed.append((last, raw))

    def handler(connection: ServerConnection) -> None:
        assert connection.request is not None
        state.paths.append(connection.request.path)
        first = len(state.paths) == 1
        query = parse_qs(urlsplit(connection.request.path).query)
        cursor = int(query.get("cursor", ["0"])[0])
        sent = 0
        for time_us, raw in timed:
            if time_us < cursor:
                continue
            connection.send(raw)
            sent += 1
            state.sent += 1
            if first and drop_after is not None and sent >= drop_after:
                connection.socket.close()  # no close frame: the connection just dies
                return
        for _ in connection:  # wait until the client goes
            pass

    server = serve(handler, "127.0.0.1", 0)
    state.url = f"ws://127.0.0.1:{server.socket.getsockname()[1]}/subscribe"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        thread.join(timeout=5)
