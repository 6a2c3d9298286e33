"""A local server speaking Twilio's documented REST format for calls.

POST /2010-04-01/Accounts/{AccountSid}/Calls/{CallSid}.json with HTTP Basic auth and a form body (Url,
Method, Status …) modifies a live call, and POST …/Calls.json (To, From, Url, StatusCallback …) places
one: 200 (201 for a new call) and the Call resource as JSON, or Twilio's error JSON
({"code", "message", "more_info", "status"}): 20003 (authentication), 20404 (no such call), 21220 (the
call is not in progress). Signing webhooks is the messaging peer's (tests/channels/twilio_peer.py).
"""

from __future__ import annotations

import base64
import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

from tests.channels.twilio_peer import ACCOUNT_SID, AUTH_TOKEN, sign, signed_post

__all__ = ["ACCOUNT_SID", "AUTH_TOKEN", "VoicePeer", "call_sid", "params", "sign", "signed_post"]

_CALL_PATH = re.compile(r"^/2010-04-01/Accounts/(AC\w{32})/Calls/(CA\w{32})\.json$")
_CALLS_PATH = re.compile(r"^/2010-04-01/Accounts/(AC\w{32})/Calls\.json$")


@dataclass
class VoicePeer:
    url: str = ""
    live_calls: set[str] = field(default_factory=set)
    # Every call modification as (CallSid, form parameters).
    updates: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    # Every call placed, as (its new CallSid, form parameters).
    placed: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    # Numbers that refuse calls: placing a call to one is answered 400 (21217, not a valid number).
    unreachable: set[str] = field(default_factory=set)


@contextmanager
def twilio_voice_peer() -> Iterator[VoicePeer]:
    peer = VoicePeer()
    expected = "Basic " + base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()

    class Handler(BaseHTTPRequestHandler):
        def _answer(self, status: int, body: dict[str, Any]) -> None:
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def _error(self, status: int, code: int, message: str) -> None:
            self._answer(
                status,
                {
                    "code": code,
                    "message": message,
                    "more_info": f"https://www.twilio.com/docs/errors/{code}",
                    "status": status,
                },
            )

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            placing = _CALLS_PATH.match(self.path)
            match = _CALL_PATH.match(self.path) or placing
            if match is None:
                return self._error(404, 20404, "The requested resource was not found")
            if self.headers.get("Authorization") != expected or match.group(1) != ACCOUNT_SID:
                return self._error(401, 20003, "Authenticate")
            if placing is not None:
                return self._place(form)
            call_sid = match.group(2)
            if call_sid not in peer.live_calls:
                return self._error(400, 21220, "Call is not in-progress. Cannot redirect.")
            peer.updates.append((call_sid, form))
            self._answer(
                200,
                {
                    "sid": call_sid,
                    "account_sid": ACCOUNT_SID,
                    "status": "in-progress",
                    "direction": "inbound",
                    "api_version": "2010-04-01",
                    "uri": self.path,
                },
            )

        def _place(self, form: dict[str, str]) -> None:
            if not form.get("To") or not form.get("From") or not form.get("Url"):
                return self._error(400, 21201, "No 'To', 'From' or 'Url' specified")
            if form["To"] in peer.unreachable:
                return self._error(400, 21217, "Phone number is not a valid phone number")
            sid = call_sid(10_000 + len(peer.placed))
            peer.placed.append((sid, form))
            peer.live_calls.add(sid)
            self._answer(
                201,
                {
                    "sid": sid,
                    "account_sid": ACCOUNT_SID,
                    "to": form["To"],
                    "from": form["From"],
                    "status": "queued",
                    "direction": "outbound-api",
                    "api_version": "2010-04-01",
                    "uri": f"/2010-04-01/Accounts/{ACCOUNT_SID}/Calls/{sid}.json",
                },
            )

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    peer.url = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield peer
    finally:
        server.shutdown()
        server.server_close()


def call_sid(n: int) -> str:
    return "CA" + f"{n:032x}"


def params(sid: str, **extra: str) -> dict[str, str]:
    """What Twilio sends with every voice webhook of an inbound call, plus `extra`."""
    return {
        "CallSid": sid,
        "AccountSid": ACCOUNT_SID,
        "From": "+14155550123",
        "To": "+12025550100",
        "Caller": "+14155550123",
        "Called": "+12025550100",
        "Direction": "inbound",
        "ApiVersion": "2010-04-01",
        "CallStatus": "in-progress",
        **extra,
    }
