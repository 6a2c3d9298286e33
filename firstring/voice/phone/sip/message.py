"""SIP messages (RFC 3261 §7) parsed strictly from UDP datagrams, and serialised back.

Only what a UAS/B2BUA needs is understood; anything that does not parse raises SipParseError saying why,
and the server answers 400 when the message carries enough to address a response, else drops it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

MAX_DATAGRAM = 65_535
MAX_HEADERS = 100
# RFC 3261 §7.3.3: the compact forms a peer may use for the headers we read.
COMPACT = {
    "v": "via",
    "f": "from",
    "t": "to",
    "i": "call-id",
    "m": "contact",
    "l": "content-length",
    "c": "content-type",
    "k": "supported",
    "s": "subject",
    "e": "content-encoding",
}
CANONICAL = {
    "via": "Via",
    "from": "From",
    "to": "To",
    "call-id": "Call-ID",
    "cseq": "CSeq",
    "contact": "Contact",
    "content-length": "Content-Length",
    "content-type": "Content-Type",
    "max-forwards": "Max-Forwards",
    "record-route": "Record-Route",
    "route": "Route",
    "www-authenticate": "WWW-Authenticate",
}
REQUIRED = ("via", "from", "to", "call-id", "cseq")
TOKEN = re.compile(r"[A-Za-z0-9.!%*_+`'~-]+")
REQUEST_LINE = re.compile(r"([A-Za-z0-9.!%*_+`'~-]+) (\S+) SIP/2\.0")
STATUS_LINE = re.compile(r"SIP/2\.0 ([1-6][0-9]{2}) ([^\r\n]*)")
URI = re.compile(r"(sips?):([^@;>?\s]+@)?([^@;>?\s]+)([^>\s]*)", re.IGNORECASE)
REASONS = {
    100: "Trying",
    180: "Ringing",
    200: "OK",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    415: "Unsupported Media Type",
    480: "Temporarily Unavailable",
    481: "Call/Transaction Does Not Exist",
    486: "Busy Here",
    487: "Request Terminated",
    488: "Not Acceptable Here",
    500: "Server Internal Error",
    503: "Service Unavailable",
}


class SipParseError(ValueError):
    """The datagram is not a SIP message we accept; str() says why."""


@dataclass
class Message:
    """A request (method and uri set) or a response (status set); headers keep their order and repeats."""

    method: str = ""
    uri: str = ""
    status: int = 0
    reason: str = ""
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    @property
    def is_request(self) -> bool:
        return bool(self.method)

    def get(self, name: str) -> str:
        """The first value of a header (by its long name, any case), or ""."""
        name = name.lower()
        return next((value for key, value in self.headers if key.lower() == name), "")

    def get_all(self, name: str) -> list[str]:
        name = name.lower()
        return [value for key, value in self.headers if key.lower() == name]

    def set(self, name: str, value: str) -> None:
        self.headers = [(k, v) for k, v in self.headers if k.lower() != name.lower()]
        self.headers.append((name, value))

    @property
    def call_id(self) -> str:
        return self.get("call-id")

    @property
    def cseq(self) -> tuple[int, str]:
        number, method = self.get("cseq").split()
        return int(number), method

    @property
    def branch(self) -> str:
        return param(self.get("via"), "branch")

    @property
    def from_tag(self) -> str:
        return param(self.get("from"), "tag")

    @property
    def to_tag(self) -> str:
        return param(self.get("to"), "tag")

    def encode(self) -> bytes:
        first = (
            f"{self.method} {self.uri} SIP/2.0" if self.is_request else f"SIP/2.0 {self.status} {self.reason}"
        )
        lines = [first]
        lines += [f"{name}: {value}" for name, value in self.headers if name.lower() != "content-length"]
        lines.append(f"Content-Length: {len(self.body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + self.body


def param(header: str, name: str) -> str:
    """A `;name=value` parameter of a header's first value (outside its <uri>), or ""."""
    outside = header.rsplit(">", 1)[-1] if ">" in header else header
    for part in outside.split(";")[1:]:
        key, _, value = part.partition("=")
        if key.strip().lower() == name:
            return value.strip()
    return ""


def uri_of(header: str) -> str:
    """The URI of a name-addr (`"Ann" <sip:ann@host>;tag=1`) or addr-spec header value."""
    if "<" in header:
        start = header.index("<") + 1
        end = header.find(">", start)
        if end < 0:
            raise SipParseError("an unclosed <uri>")
        return header[start:end]
    return header.split(";", 1)[0].strip()


@dataclass(frozen=True)
class Uri:
    scheme: str
    user: str
    host: str
    port: int | None


def parse_uri(text: str) -> Uri:
    match = URI.fullmatch(text.strip())
    if match is None:
        raise SipParseError(f"not a SIP URI: {text[:80]!r}")
    scheme, user, hostport, _ = match.groups()
    host, port = hostport, None
    if hostport.startswith("["):
        host, _, rest = hostport[1:].partition("]")
        if rest.startswith(":"):
            port = _port(rest[1:])
    elif ":" in hostport:
        host, _, raw = hostport.rpartition(":")
        port = _port(raw)
    if not host:
        raise SipParseError(f"a SIP URI without a host: {text[:80]!r}")
    return Uri(scheme.lower(), (user or "").rstrip("@"), host, port)


def _port(raw: str) -> int:
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise SipParseError(f"not a port: {raw[:10]!r}")
    return int(raw)


def parse(data: bytes) -> Message:
    """One SIP message from one datagram, validated; SipParseError otherwise."""
    if len(data) > MAX_DATAGRAM:
        raise SipParseError("the datagram is too large")
    head, separator, body = data.partition(b"\r\n\r\n")
    if not separator:
        raise SipParseError("no blank line ends the headers")
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        raise SipParseError("the headers are not UTF-8") from None
    if "\x00" in text:
        raise SipParseError("the headers contain NUL")
    lines = text.split("\r\n")
    message = _start_line(lines[0])
    for line in lines[1:]:
        if line[:1] in (" ", "\t"):  # RFC 3261 §7.3.1: a folded line continues the previous header
            if not message.headers:
                raise SipParseError("a continuation line before any header")
            name, value = message.headers[-1]
            message.headers[-1] = (name, f"{value} {line.strip()}")
            continue
        name, colon, value = line.partition(":")
        name = name.strip()
        if not colon or not TOKEN.fullmatch(name):
            raise SipParseError(f"not a header line: {line[:80]!r}")
        name = COMPACT.get(name.lower(), name.lower())
        message.headers.append((CANONICAL.get(name, name.title()), value.strip()))
        if len(message.headers) > MAX_HEADERS:
            raise SipParseError("too many headers")
    _validate(message)
    length = message.get("content-length")
    if length:
        if not length.isdigit():
            raise SipParseError(f"Content-Length is not a number: {length[:20]!r}")
        if int(length) > len(body):
            raise SipParseError(f"Content-Length says {length} bytes, the datagram has {len(body)}")
        body = body[: int(length)]
    message.body = body
    return message


def _start_line(line: str) -> Message:
    if line.startswith("SIP/"):
        match = STATUS_LINE.fullmatch(line)
        if match is None:
            raise SipParseError(f"not a status line: {line[:80]!r}")
        return Message(status=int(match.group(1)), reason=match.group(2))
    match = REQUEST_LINE.fullmatch(line)
    if match is None:
        raise SipParseError(f"not a request line: {line[:80]!r}")
    parse_uri(match.group(2))
    return Message(method=match.group(1).upper(), uri=match.group(2))


def _validate(message: Message) -> None:
    for name in REQUIRED:
        if not message.get(name):
            raise SipParseError(f"the {CANONICAL[name]} header is missing")
    parts = message.get("cseq").split()
    if len(parts) != 2 or not parts[0].isdigit() or int(parts[0]) >= 2**31 or not TOKEN.fullmatch(parts[1]):
        raise SipParseError(f"CSeq is not 'number METHOD': {message.get('cseq')[:40]!r}")
    if message.is_request and parts[1].upper() != message.method and message.method not in ("ACK", "CANCEL"):
        raise SipParseError(f"CSeq method {parts[1]} differs from the request's {message.method}")
    via = message.get("via")
    if not re.match(r"SIP\s*/\s*2\.0\s*/\s*[A-Za-z]+\s+\S", via):
        raise SipParseError(f"not a Via: {via[:80]!r}")
    for name in ("from", "to"):
        uri_of(message.get(name))
    forwards = message.get("max-forwards")
    if forwards and (not forwards.isdigit() or int(forwards) > 255):
        raise SipParseError(f"Max-Forwards is not a number up to 255: {forwards[:10]!r}")
    if message.is_request and forwards == "0" and message.method != "OPTIONS":
        raise SipParseError("Max-Forwards is 0")


def response(request: Message, status: int, *, to_tag: str = "", reason: str = "") -> Message:
    """A response to `request` (RFC 3261 §8.2.6): its Via, From, Call-ID and CSeq, To with our tag."""
    answer = Message(status=status, reason=reason or REASONS.get(status, "Unknown"))
    for name in ("Via", "From", "To", "Call-ID", "CSeq"):
        for value in request.get_all(name):
            if name == "To" and to_tag and not request.to_tag:
                value = f"{value};tag={to_tag}"
            answer.headers.append((name, value))
    if status in range(200, 300):
        for value in request.get_all("record-route"):
            answer.headers.append(("Record-Route", value))
    return answer


def addressable(data: bytes) -> Message | None:
    """What of a malformed request is enough to answer it with 400 (Via, From, To, Call-ID, CSeq), or None."""
    try:
        head = data.partition(b"\r\n\r\n")[0].decode("utf-8")
    except UnicodeDecodeError:
        return None
    lines = head.split("\r\n")
    if not REQUEST_LINE.fullmatch(lines[0]) or lines[0].startswith("ACK "):
        return None
    message = Message(method=lines[0].split(" ", 1)[0], uri="sip:invalid")
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        key = COMPACT.get(name.strip().lower(), name.strip().lower())
        if colon and key in REQUIRED and "\x00" not in value:
            message.headers.append((CANONICAL[key], value.strip()))
    if not all(message.get(name) for name in REQUIRED):
        return None
    return message
