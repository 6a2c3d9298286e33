"""A local server that speaks Twilio's documented wire formats, and Twilio's way of signing webhooks.

REST (what the official client calls): POST /2010-04-01/Accounts/{AccountSid}/Messages.json with HTTP
Basic auth and a form body (To, From or MessagingServiceSid, Body, StatusCallback) answers 201 and the
Message resource as JSON, or Twilio's error JSON ({"code", "message", "more_info", "status"}) with the
documented codes: 20003 (authentication), 21211 (invalid To), 21602 (no body), 21603/21604 (no From/To),
21610 (unsubscribed recipient), 20429 (too many requests), 20500 (internal error).
Media: GET …/Messages/{MessageSid}/Media/{MediaSid} with Basic auth redirects (307) to the media store,
which serves the file, as Twilio's media URLs do.
Webhooks: `sign` computes X-Twilio-Signature as Twilio documents it (the full URL, then each POST
parameter's name and value sorted by name, HMAC-SHA1 with the Auth Token, base64) — written here
independently of the twilio library, whose validator the app uses.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode

import pytest

from firstring.accounts.models import Team
from firstring.channels.models import Channel

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "twilio-auth-token-0123456789abcd"
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")
_ERRORS = {
    20003: "Authenticate",
    20429: "Too Many Requests",
    20500: "Internal Server Error",
    21211: "The 'To' number {to} is not a valid phone number.",
    21602: "Message body is required.",
    21603: "A 'From' phone number is required.",
    21604: "A 'To' phone number is required.",
    21610: "Attempt to send to unsubscribed recipient",
}


def sid(prefix: str) -> str:
    return prefix + secrets.token_hex(16)


def sign(url: str, params: Mapping[str, str], token: str = AUTH_TOKEN) -> str:
    """X-Twilio-Signature of a form POST to `url`, as Twilio computes it."""
    data = url + "".join(name + params[name] for name in sorted(params))
    return base64.b64encode(hmac.new(token.encode(), data.encode(), hashlib.sha1).digest()).decode()


def signed_post(client: Any, url: str, params: Mapping[str, str], token: str = AUTH_TOKEN) -> Any:
    """POST form parameters to one of our webhooks through Django's test client, signed for `url`."""
    path = "/" + url.split("/", 3)[3]
    return client.post(
        path,
        data=urlencode(params),
        content_type="application/x-www-form-urlencoded",
        HTTP_X_TWILIO_SIGNATURE=sign(url, params, token),
    )


@dataclass
class TwilioPeer:
    url: str = ""
    account_sid: str = ACCOUNT_SID
    # Basic-auth (username, password) pairs accepted: the Auth Token, or an API key.
    credentials: set[tuple[str, str]] = field(default_factory=lambda: {(ACCOUNT_SID, AUTH_TOKEN)})
    # Statuses to answer Messages.json with, in order; the last one repeats. 201 means accept.
    statuses: list[int] = field(default_factory=lambda: [201])
    unsubscribed: set[str] = field(default_factory=set)
    # Every Messages.json request as form parameters, and the messages accepted by sid.
    requests: list[dict[str, str]] = field(default_factory=list)
    messages: dict[str, dict[str, Any]] = field(default_factory=dict)
    media: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    media_requests: list[tuple[str, str]] = field(default_factory=list)  # (path, Authorization header)
    media_delay: float = 0.0  # seconds the media store waits before answering

    def add_media(self, content: bytes, content_type: str, message_sid: str) -> str:
        """Store a file as an incoming MMS's media; returns its MediaUrl as Twilio would send it."""
        media_sid = sid("ME")
        self.media[media_sid] = (content, content_type)
        return f"{self.url}/2010-04-01/Accounts/{self.account_sid}/Messages/{message_sid}/Media/{media_sid}"

    def status_callback(
        self, message_sid: str, status: str, error_code: str = ""
    ) -> tuple[str, dict[str, str]]:
        """The (StatusCallback URL, form parameters) Twilio posts when a sent message changes status."""
        message = self.messages[message_sid]
        params = {
            "AccountSid": self.account_sid,
            "ApiVersion": "2010-04-01",
            "From": message["from"] or "",
            "MessageSid": message_sid,
            "MessageStatus": status,
            "SmsSid": message_sid,
            "SmsStatus": status,
            "To": message["to"],
        }
        if error_code:
            params["ErrorCode"] = error_code
        return message["status_callback"], params


def _message_resource(peer: TwilioPeer, form: dict[str, str]) -> dict[str, Any]:
    message_sid = sid("SM")
    now = formatdate(usegmt=True)
    service = form.get("MessagingServiceSid")
    uri = f"/2010-04-01/Accounts/{peer.account_sid}/Messages/{message_sid}.json"
    return {
        "account_sid": peer.account_sid,
        "api_version": "2010-04-01",
        "body": form.get("Body", ""),
        "date_created": now,
        "date_sent": None,
        "date_updated": now,
        "direction": "outbound-api",
        "error_code": None,
        "error_message": None,
        "from": None if service else form.get("From"),
        "messaging_service_sid": service,
        "num_media": "0",
        "num_segments": "0" if service else str(max(1, -(-len(form.get("Body", "")) // 153))),
        "price": None,
        "price_unit": "USD",
        "sid": message_sid,
        "status": "accepted" if service else "queued",
        "subresource_uris": {"media": uri.replace(".json", "/Media.json")},
        "to": form.get("To"),
        "uri": uri,
    }


def _check(peer: TwilioPeer, form: dict[str, str]) -> int | None:
    """The Twilio error code the form deserves, or None."""
    to = form.get("To", "")
    if not to:
        return 21604
    if not _E164.match(to.removeprefix("whatsapp:")):
        return 21211
    if not form.get("From") and not form.get("MessagingServiceSid"):
        return 21603
    if not form.get("Body") and not form.get("MediaUrl") and not form.get("ContentSid"):
        return 21602
    if to in peer.unsubscribed:
        return 21610
    return None


@contextmanager
def twilio_peer() -> Iterator[TwilioPeer]:
    peer = TwilioPeer()

    class Handler(BaseHTTPRequestHandler):
        def _json(
            self, status: int, payload: dict[str, Any], headers: Mapping[str, str] | None = None
        ) -> None:
            body = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def _error(self, status: int, code: int, **values: str) -> None:
            headers = {"Retry-After": "1"} if status == 429 else None
            payload = {
                "code": code,
                "message": _ERRORS[code].format(**values),
                "more_info": f"https://www.twilio.com/docs/errors/{code}",
                "status": status,
            }
            self._json(status, payload, headers)

        def _authorised(self) -> bool:
            header = self.headers.get("Authorization", "")
            if not header.startswith("Basic "):
                return False
            username, _, password = base64.b64decode(header[6:]).decode().partition(":")
            return (username, password) in peer.credentials

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            form = {
                k: v[-1]
                for k, v in parse_qs(self.rfile.read(length).decode(), keep_blank_values=True).items()
            }
            expected = f"/2010-04-01/Accounts/{peer.account_sid}/Messages.json"
            if self.path != expected:
                self._json(
                    404, {"code": 20404, "message": "The requested resource was not found", "status": 404}
                )
                return
            peer.requests.append(form)
            if not self._authorised():
                self._error(401, 20003)
                return
            status = peer.statuses.pop(0) if len(peer.statuses) > 1 else peer.statuses[0]
            if status in (429, 500, 503):
                self._error(status, 20429 if status == 429 else 20500)
                return
            code = _check(peer, form)
            if code is not None:
                self._error(400, code, to=form.get("To", ""))
                return
            resource = _message_resource(peer, form)
            peer.messages[resource["sid"]] = {**resource, "status_callback": form.get("StatusCallback", "")}
            self._json(201, resource)

        def do_GET(self) -> None:
            peer.media_requests.append((self.path, self.headers.get("Authorization", "")))
            found = re.fullmatch(r"/2010-04-01/Accounts/(\w+)/Messages/(\w+)/Media/(\w+)", self.path)
            if found:
                if not self._authorised():
                    self._error(401, 20003)
                    return
                if found.group(3) not in peer.media:
                    self._json(
                        404, {"code": 20404, "message": "The requested resource was not found", "status": 404}
                    )
                    return
                self.send_response(307)
                # Twilio's media store is another host; "localhost" is another origin than 127.0.0.1.
                self.send_header(
                    "Location", f"{peer.url.replace('127.0.0.1', 'localhost')}/media-store/{found.group(3)}"
                )
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            stored = re.fullmatch(r"/media-store/(\w+)", self.path)
            if stored and stored.group(1) in peer.media:
                content, content_type = peer.media[stored.group(1)]
                time.sleep(peer.media_delay)
                self.send_response(200)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)
                return
            self._json(404, {"code": 20404, "message": "The requested resource was not found", "status": 404})

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


@pytest.fixture
def peer() -> Iterator[TwilioPeer]:
    with twilio_peer() as running:
        yield running


@pytest.fixture
def sms(support_team: Team, peer: TwilioPeer) -> Channel:
    return Channel.objects.create(
        kind="sms",
        slug="sms-main",
        name="SMS +1 202-555-0101",
        team=support_team,
        config={"number": "+12025550101", "api_base_url": peer.url},
        secrets={"account_sid": ACCOUNT_SID, "auth_token": AUTH_TOKEN},
    )
