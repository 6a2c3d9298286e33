"""SDP offer/answer (RFC 3264) for one audio stream: PCMU/8000 and RFC 4733 telephone-event."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from firstring.voice.phone.sip.message import SipParseError

PCMU = 0
DEFAULT_EVENT_PT = 101


@dataclass(frozen=True)
class Media:
    """Where a peer wants its audio, and the payload type it gave telephone-event (None: no RFC 4733)."""

    host: str
    port: int
    event_pt: int | None
    # a=sendonly/inactive/sendrecv (a peer holding the call sends sendonly or inactive).
    direction: str = "sendrecv"


def parse_offer(body: bytes) -> Media:
    """The audio stream of an offer (or answer) we can take: PCMU must be among its formats."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise SipParseError("the SDP is not UTF-8") from None
    host = ""
    media_host = ""
    port = -1
    formats: list[str] = []
    rtpmap: dict[int, str] = {}
    direction = "sendrecv"
    in_audio = False
    for raw in text.splitlines():
        kind, equals, value = raw.strip().partition("=")
        if not equals or len(kind) != 1:
            if raw.strip():
                raise SipParseError(f"not an SDP line: {raw[:60]!r}")
            continue
        if kind == "m":
            parts = value.split()
            in_audio = len(parts) >= 4 and parts[0] == "audio" and port < 0
            if in_audio:
                if not parts[1].isdigit() or int(parts[1]) > 65535 or parts[2] != "RTP/AVP":
                    raise SipParseError(f"an audio stream we cannot take: m={value[:60]}")
                port, formats = int(parts[1]), parts[3:]
        elif kind == "c":
            parts = value.split()
            if len(parts) != 3 or parts[0] != "IN" or parts[1] not in ("IP4", "IP6"):
                raise SipParseError(f"not a connection line: c={value[:60]}")
            if in_audio:
                media_host = parts[2]
            else:
                host = parts[2]
        elif kind == "a" and in_audio:
            name, _, rest = value.partition(":")
            if name == "rtpmap":
                pt, _, codec = rest.partition(" ")
                if pt.isdigit():
                    rtpmap[int(pt)] = codec.strip().lower()
            elif name in ("sendrecv", "sendonly", "recvonly", "inactive"):
                direction = name
    if port < 0:
        raise SipParseError("the SDP has no audio stream")
    if str(PCMU) not in formats:
        raise SipParseError("the audio stream does not offer PCMU (payload type 0)")
    address = media_host or host
    try:
        ipaddress.ip_address(address)
    except ValueError:
        raise SipParseError(f"the SDP's connection address is not an IP address: {address[:60]!r}") from None
    event_pt = next(
        (
            pt
            for pt, codec in rtpmap.items()
            if codec.startswith("telephone-event/8000") and str(pt) in formats
        ),
        None,
    )
    return Media(host=address, port=port, event_pt=event_pt, direction=direction)


def describe(*, host: str, port: int, session: int, event_pt: int | None = DEFAULT_EVENT_PT) -> bytes:
    """Our SDP (offer, or answer keeping the peer's telephone-event payload type)."""
    family = "IP6" if ":" in host else "IP4"
    formats = f"{PCMU} {event_pt}" if event_pt is not None else str(PCMU)
    lines = [
        "v=0",
        f"o=firstring {session} {session} IN {family} {host}",
        "s=Firstring",
        f"c=IN {family} {host}",
        "t=0 0",
        f"m=audio {port} RTP/AVP {formats}",
        "a=rtpmap:0 PCMU/8000",
    ]
    if event_pt is not None:
        lines += [f"a=rtpmap:{event_pt} telephone-event/8000", f"a=fmtp:{event_pt} 0-15"]
    lines += ["a=ptime:20", "a=sendrecv"]
    return ("\r\n".join(lines) + "\r\n").encode()
