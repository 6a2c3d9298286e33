"""RTP (RFC 3550) for one call leg: PCMU frames out every 20 ms, RFC 4733 key presses in, relayed audio.

A leg accepts packets only from the address its peer's SDP named; anything else is dropped and logged
once per address, so a stray or spoofed stream can neither press keys nor be heard.
"""

from __future__ import annotations

import asyncio
import logging
import random
import struct
import time
from collections.abc import Callable
from typing import cast

import numpy as np

logger = logging.getLogger(__name__)

FRAME = 160  # 20 ms of 8 kHz mu-law
FRAME_SECONDS = 0.02
SILENCE = b"\xff" * FRAME
EVENTS = "0123456789*#ABCD"
HEADER = struct.Struct("!BBHII")


def packet(
    *, payload_type: int, seq: int, timestamp: int, ssrc: int, payload: bytes, marker: bool = False
) -> bytes:
    return (
        HEADER.pack(0x80, (0x80 if marker else 0) | payload_type, seq & 0xFFFF, timestamp & 0xFFFFFFFF, ssrc)
        + payload
    )


def unpack(data: bytes) -> tuple[int, int, bytes] | None:
    """(payload type, timestamp, payload) of an RTP packet, or None when it is not one."""
    if len(data) < HEADER.size:
        return None
    first, second, _, timestamp, _ = HEADER.unpack_from(data)
    if first >> 6 != 2:
        return None
    offset = HEADER.size + 4 * (first & 0x0F)
    if first & 0x10:  # a header extension: its length in 32-bit words follows its profile id
        if len(data) < offset + 4:
            return None
        offset += 4 + 4 * struct.unpack_from("!H", data, offset + 2)[0]
    end = len(data)
    if first & 0x20 and end > offset:  # padding: the last byte counts it
        end -= data[-1]
    if end < offset:
        return None
    return second & 0x7F, timestamp, data[offset:end]


class RtpLeg(asyncio.DatagramProtocol):
    """One RTP stream, bound on our side; `remote` is set from the peer's SDP."""

    def __init__(self, *, name: str, on_digit: Callable[[str], None]) -> None:
        self.name = name
        self.on_digit = on_digit
        self.remote: tuple[str, int] | None = None
        self.event_pt: int | None = None
        self.transport: asyncio.DatagramTransport | None = None
        # Where this leg's audio goes in a bridged call (another leg, or a mixer); ignored otherwise.
        self.on_audio: Callable[[bytes], None] | None = None
        self.ssrc = random.getrandbits(32)
        self.seq = random.getrandbits(16)
        self.timestamp = random.getrandbits(32)
        self.first_sent: float | None = None
        self._events_seen: set[int] = set()
        self._strangers: set[tuple[str, int]] = set()
        self._speaking: asyncio.Lock = asyncio.Lock()

    @property
    def port(self) -> int:
        assert self.transport is not None
        return int(self.transport.get_extra_info("sockname")[1])

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        source = (addr[0], addr[1])
        if source != self.remote:
            if source not in self._strangers and len(self._strangers) < 16:
                self._strangers.add(source)
                logger.warning(
                    "%s: RTP from %s:%s ignored (the call's media is %s)", self.name, *source, self.remote
                )
            return
        unpacked = unpack(data)
        if unpacked is None:
            return
        payload_type, timestamp, payload = unpacked
        if self.event_pt is not None and payload_type == self.event_pt:
            self._event(timestamp, payload)
        elif payload_type == 0 and self.on_audio is not None:
            self.on_audio(payload)

    def _event(self, timestamp: int, payload: bytes) -> None:
        # RFC 4733: one key press is several packets with the same timestamp (updates, then the end packet
        # three times); the first one reports it, which keeps menus quick and survives a lost end packet.
        if len(payload) < 4 or payload[0] >= len(EVENTS) or timestamp in self._events_seen:
            return
        self._events_seen.add(timestamp)
        if len(self._events_seen) > 256:
            self._events_seen = {timestamp}
        self.on_digit(EVENTS[payload[0]])

    def send(self, payload: bytes, *, marker: bool = False) -> None:
        if self.transport is None or self.remote is None or self.transport.is_closing():
            return
        self.seq += 1
        self.timestamp += len(payload)
        if self.first_sent is None:
            self.first_sent = time.monotonic()
        self.transport.sendto(
            packet(
                payload_type=0,
                seq=self.seq,
                timestamp=self.timestamp,
                ssrc=self.ssrc,
                payload=payload,
                marker=marker,
            ),
            self.remote,
        )

    async def play(self, audio: bytes) -> None:
        """Send mu-law audio in real time (cancel the task to stop it: a key pressed over a prompt)."""
        async with self._speaking:
            started = time.monotonic()
            for index, offset in enumerate(range(0, len(audio), FRAME)):
                frame = audio[offset : offset + FRAME].ljust(FRAME, b"\xff")
                self.send(frame, marker=index == 0)
                delay = started + (index + 1) * FRAME_SECONDS - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


def _ulaw_to_linear() -> np.ndarray:
    """G.711 mu-law byte → 16-bit sample, for all 256 bytes."""
    byte = ~np.arange(256, dtype=np.int32) & 0xFF
    exponent = (byte >> 4) & 0x07
    sample = (((byte & 0x0F) << 3) + 0x84 << exponent) - 0x84
    return np.where(byte & 0x80, -sample, sample).astype(np.int32)


def _linear_to_ulaw() -> np.ndarray:
    """16-bit sample (offset by 32768) → G.711 mu-law byte, for all 65536 samples."""
    sample = np.arange(-32768, 32768, dtype=np.int32)
    sign = np.where(sample < 0, 0x80, 0)
    magnitude = np.minimum(np.abs(sample), 32635) + 0x84
    exponent = np.clip(np.floor(np.log2(magnitude)).astype(np.int32) - 7, 0, 7)
    mantissa = (magnitude >> (exponent + 3)) & 0x0F
    return (~(sign | (exponent << 4) | mantissa) & 0xFF).astype(np.uint8)


DECODE = _ulaw_to_linear()
ENCODE = _linear_to_ulaw()


def mix(frames: list[bytes]) -> bytes:
    """The sum of mu-law frames of equal length, clipped, as one mu-law frame."""
    total = np.zeros(len(frames[0]), dtype=np.int32)
    for frame in frames:
        total += DECODE[np.frombuffer(frame, dtype=np.uint8)]
    return bytes(ENCODE[np.clip(total, -32768, 32767) + 32768])


class Mixer:
    """A conference of three or more legs: every 20 ms each leg hears the others' latest frames mixed."""

    def __init__(self, legs: list[RtpLeg]) -> None:
        self.legs = legs
        self.frames: dict[int, bytes] = {}
        for index, leg in enumerate(legs):
            leg.on_audio = lambda payload, index=index: self._heard(index, payload)  # type: ignore[misc]
        self.task = asyncio.ensure_future(self._run())

    def _heard(self, index: int, payload: bytes) -> None:
        if len(payload) == FRAME:
            self.frames[index] = payload

    async def _run(self) -> None:
        started = time.monotonic()
        tick = 0
        while True:
            tick += 1
            await asyncio.sleep(max(0.0, started + tick * FRAME_SECONDS - time.monotonic()))
            frames, self.frames = self.frames, {}
            for index, leg in enumerate(self.legs):
                others = [frame for source, frame in frames.items() if source != index]
                leg.send(mix(others) if others else SILENCE)

    def stop(self) -> None:
        self.task.cancel()
        for leg in self.legs:
            leg.on_audio = None


async def open_leg(*, host: str, name: str, on_digit: Callable[[str], None]) -> RtpLeg:
    loop = asyncio.get_running_loop()
    _, leg = await loop.create_datagram_endpoint(
        lambda: RtpLeg(name=name, on_digit=on_digit), local_addr=(host, 0)
    )
    return leg
