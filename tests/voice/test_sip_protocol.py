"""The SIP endpoint's parser and media leg on their own, and the running endpoint fed bad input over UDP."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from ipaddress import ip_network

import pytest

from firstring.channels.models import Channel
from firstring.voice.phone.sip.endpoint import Endpoint
from firstring.voice.phone.sip.message import SipParseError, parse, parse_uri
from firstring.voice.phone.sip.rtp import DECODE, mix, open_leg, packet
from firstring.voice.phone.sip.sdp import parse_offer
from tests.voice.sip_peers import sip_endpoint

INVITE = (
    "INVITE sip:+12025550100@127.0.0.1:5060 SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-1\r\n"
    "f: <sip:+14155550123@127.0.0.1>;tag=abc\r\n"
    "t: <sip:+12025550100@127.0.0.1>\r\n"
    "i: call-1@127.0.0.1\r\n"
    "CSeq: 1 INVITE\r\n"
    "Max-Forwards: 70\r\n"
    "Subject: a folded\r\n  header\r\n"
    "c: application/sdp\r\n"
    "l: 4\r\n"
    "\r\n"
    "v=0\r\nextra bytes beyond Content-Length"
)


def test_a_request_with_compact_and_folded_headers_is_parsed_and_its_body_cut_at_content_length() -> None:
    message = parse(INVITE.encode())
    assert message.method == "INVITE" and message.call_id == "call-1@127.0.0.1"
    assert message.from_tag == "abc" and message.to_tag == "" and message.branch == "z9hG4bK-1"
    assert message.get("subject") == "a folded header"
    assert message.get("content-type") == "application/sdp" and message.body == b"v=0\r"
    assert parse(message.encode()).headers == message.headers


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (b"", "no blank line"),
        (b"\x00\x01\x02\r\n\r\n", "contain NUL"),
        (b"HELLO\r\nVia: x\r\n\r\n", "not a request line"),
        (INVITE.replace("SIP/2.0\r\nVia", "SIP/3.0\r\nVia", 1).encode(), "not a request line"),
        (INVITE.replace("i: call-1@127.0.0.1\r\n", "").encode(), "Call-ID header is missing"),
        (INVITE.replace("CSeq: 1 INVITE", "CSeq: one INVITE").encode(), "CSeq is not"),
        (INVITE.replace("CSeq: 1 INVITE", "CSeq: 1 BYE").encode(), "differs from the request"),
        (INVITE.replace("CSeq: 1 INVITE", "CSeq: 99999999999 INVITE").encode(), "CSeq is not"),
        (INVITE.replace("l: 4", "l: 400").encode(), "Content-Length says 400"),
        (INVITE.replace("l: 4", "l: -1").encode(), "not a number"),
        (INVITE.replace("Max-Forwards: 70", "Max-Forwards: 0").encode(), "Max-Forwards is 0"),
        (INVITE.replace("Via: SIP/2.0/UDP", "Via: HTTP/1.1").encode(), "not a Via"),
        (INVITE.replace("f: <sip:", "f: <sip:broken").replace(">;tag=abc", ";tag=abc").encode(), "unclosed"),
        (INVITE.replace("Max-Forwards: 70\r\n", "Max-Forwards 70\r\n").encode(), "not a header line"),
        (INVITE.replace("sip:+12025550100@127.0.0.1:5060", "sip:@").encode(), "not a SIP URI"),
        (INVITE.replace("127.0.0.1:5060", "127.0.0.1:99999").encode(), "not a port"),
        ("INVITE sip:a@b SIP/2.0\r\nVia: \udc80\r\n\r\n".encode("utf-8", "surrogateescape"), "not UTF-8"),
        (INVITE.replace("Max-Forwards: 70\r\n", "X-Pad: y\r\n" * 101).encode(), "too many headers"),
        (b"SIP/2.0 2000 OK\r\n\r\n", "not a status line"),
    ],
)
def test_malformed_messages_are_refused_with_the_reason(data: bytes, why: str) -> None:
    with pytest.raises(SipParseError, match=why):
        parse(data)


def test_uris_and_offers_are_read_strictly() -> None:
    uri = parse_uri("sip:bo@[::1]:5080;transport=udp")
    assert (uri.user, uri.host, uri.port) == ("bo", "::1", 5080)
    offer = (
        b"v=0\r\nc=IN IP4 127.0.0.1\r\nm=audio 4000 RTP/AVP 8 0 96\r\na=rtpmap:96 telephone-event/8000\r\n"
    )
    media = parse_offer(offer)
    assert (media.host, media.port, media.event_pt) == ("127.0.0.1", 4000, 96)
    with pytest.raises(SipParseError, match="does not offer PCMU"):
        parse_offer(offer.replace(b" 8 0 96", b" 8 96"))
    with pytest.raises(SipParseError, match="not an IP address"):
        parse_offer(offer.replace(b"IP4 127.0.0.1", b"IP4 example.com"))
    with pytest.raises(SipParseError, match="no audio stream"):
        parse_offer(b"v=0\r\nc=IN IP4 127.0.0.1\r\nm=video 4000 RTP/AVP 0\r\n")


def test_a_media_leg_takes_keys_only_from_the_address_the_peer_named() -> None:
    async def scenario() -> list[str]:
        keys: list[str] = []
        leg = await open_leg(host="127.0.0.1", name="test leg", on_digit=keys.append)
        peer, stranger = (socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(2))
        for sock in (peer, stranger):
            sock.bind(("127.0.0.1", 0))
        leg.remote, leg.event_pt = peer.getsockname(), 101
        to = ("127.0.0.1", leg.port)

        def event(sock: socket.socket, key: int, timestamp: int) -> None:
            for end in (0, 0x80, 0x80, 0x80):  # an update, then the end packet three times (RFC 4733)
                payload = bytes([key, end | 10, 0, 160])
                sock.sendto(packet(payload_type=101, seq=1, timestamp=timestamp, ssrc=7, payload=payload), to)

        event(stranger, 9, 1000)  # a stray stream pressing 9: ignored
        event(peer, 2, 2000)
        event(peer, 11, 3000)  # "#"
        peer.sendto(b"\x00not rtp", to)
        await asyncio.sleep(0.2)
        for sock in (peer, stranger):
            sock.close()
        leg.close()
        return keys

    # A loop of its own, in a thread: the browser tests leave Playwright's loop in the main thread.
    with ThreadPoolExecutor(1) as pool:
        assert pool.submit(asyncio.run, scenario()).result() == ["2", "#"]


def test_mixing_sums_the_parties_and_clips() -> None:
    silence, quiet, loud = b"\xff" * 4, bytes([0xE0] * 4), bytes([0x80] * 4)
    assert mix([silence, quiet]) == quiet
    assert DECODE[mix([quiet, quiet])[0]] == pytest.approx(2 * DECODE[0xE0], rel=0.07)
    assert mix([loud, loud]) == loud  # the loudest sample stays the loudest, not wrapped around


@pytest.fixture
def bare_endpoint(transactional_db: None, settings: object, tmp_path: object) -> Iterator[Endpoint]:
    Channel.objects.create(kind="phone", slug="sip-line", name="SIP line", config={"number": "+12025550100"})
    with sip_endpoint() as running:
        yield running


def test_bad_input_is_answered_or_dropped_and_the_endpoint_keeps_serving(
    bare_endpoint: Endpoint, caplog: pytest.LogCaptureFixture
) -> None:
    client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    client.bind(("127.0.0.1", 0))
    client.settimeout(3)
    to = bare_endpoint.server.address
    host, port = client.getsockname()

    def request(method: str, uri: str = "sip:+12025550100@127.0.0.1", **replace: str) -> str:
        text = (
            f"{method} {uri} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP {host}:{port};branch=z9hG4bK{method}{len(replace)}\r\n"
            f"From: <sip:x@{host}>;tag=a\r\nTo: <{uri}>{replace.get('to', '')}\r\nCall-ID: c-{method}\r\n"
            f"CSeq: {replace.get('cseq', f'1 {method}')}\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
        )
        client.sendto(text.encode(), to)
        return client.recv(65535).decode().split("\r\n")[0]

    client.sendto(b"\xff\xfe garbage \x00", to)  # not SIP at all: dropped, logged
    assert request("INVITE", cseq="x INVITE").startswith("SIP/2.0 400 Bad Request (CSeq is not")
    assert request("BYE", to=";tag=nobody") == "SIP/2.0 481 Call/Transaction Does Not Exist"
    assert request("INFO", to=";tag=nobody") == "SIP/2.0 481 Call/Transaction Does Not Exist"
    assert request("CANCEL") == "SIP/2.0 481 Call/Transaction Does Not Exist"
    assert request("SUBSCRIBE") == "SIP/2.0 405 Method Not Allowed"
    assert request("INVITE", uri="sip:+19995550000@127.0.0.1") == "SIP/2.0 100 Trying"
    assert client.recv(65535).decode().startswith("SIP/2.0 404 Not Found")
    assert request("OPTIONS") == "SIP/2.0 200 OK"
    client.close()
    logged = caplog.text
    assert "malformed SIP from 127.0.0.1" in logged and "BYE for no dialog of ours" in logged


def test_sip_from_an_address_not_allowed_is_dropped_unanswered(
    transactional_db: None, caplog: pytest.LogCaptureFixture
) -> None:
    Channel.objects.create(kind="phone", slug="sip-line", name="SIP line", config={"number": "+12025550100"})
    with sip_endpoint(allow=[ip_network("10.0.0.0/8")]) as endpoint:
        client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        client.bind(("127.0.0.1", 0))
        client.settimeout(1)
        host, port = client.getsockname()
        options = (
            "OPTIONS sip:+12025550100@127.0.0.1 SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP {host}:{port};branch=z9hG4bK1\r\n"
            f"From: <sip:x@{host}>;tag=a\r\nTo: <sip:+12025550100@127.0.0.1>\r\nCall-ID: c-1\r\n"
            "CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
        )
        client.sendto(options.encode(), endpoint.server.address)
        with pytest.raises(TimeoutError):
            client.recv(65535)
        client.close()
    assert "SIP from 127.0.0.1 dropped: not an allowed address" in caplog.text
