"""The SIP endpoint served in a thread of the test process, and sipp (Debian's sip-tester) as its peers."""

from __future__ import annotations

import asyncio
import shutil
import struct
import subprocess
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from ipaddress import IPv4Network, IPv6Network
from pathlib import Path

import pytest

from firstring.lib.net import free_udp_port
from firstring.lib.speech import INSTALL_HINT, installed
from firstring.voice.phone.sip.endpoint import Endpoint
from tests.conftest import IN_CI

SCENARIOS = Path(__file__).parent / "sipp"
SIPP = shutil.which("sipp")


def require_sipp() -> str:
    if SIPP is None:
        message = "sipp is missing (apt-get install sip-tester)"
        if IN_CI:
            pytest.fail(f"{message}, and CI requires it")
        pytest.skip(message)
    return SIPP


def require_speech() -> None:
    """Callers who speak need espeak-ng and sox (their voice) and pocketsphinx (our ears)."""
    missing = [
        f"{tool} (apt-get install {tool})" for tool in ("espeak-ng", "sox") if shutil.which(tool) is None
    ]
    if not installed():
        missing.append(f"pocketsphinx ({INSTALL_HINT})")
    if missing:
        message = f"speech needs {', '.join(missing)}"
        if IN_CI:
            pytest.fail(f"{message}, and CI requires it")
        pytest.skip(message)


def spoken(text: str) -> bytes:
    """`text` said by espeak-ng, as 8 kHz mu-law (what a phone sends)."""
    wav = subprocess.run(
        ["espeak-ng", "-v", "en-us", "-s", "150", "--stdin", "--stdout"],
        input=text.encode(),
        capture_output=True,
        check=True,
    ).stdout
    convert = ["sox", "-q", "-t", "wav", "-", "-r", "8000", "-c", "1", "-t", "ul", "-"]
    return subprocess.run(convert, input=wav, capture_output=True, check=True).stdout


def silence(milliseconds: int) -> bytes:
    return b"\xff" * (8 * milliseconds)


def rtp_pcap(path: Path, parts: Sequence[bytes | str]) -> None:
    """A caller's RTP stream as a pcap for sipp's play_pcap_audio: mu-law audio (bytes, PCMU) and keys
    (a one-character str, RFC 4733 events with payload type 101), a packet every 20 ms."""
    packets: list[tuple[float, bytes]] = []
    seq, timestamp, clock = 1, 0, 0.0

    def add(payload_type: int, payload: bytes, marker: bool = False) -> None:
        nonlocal seq, clock
        header = struct.pack("!BBHII", 0x80, payload_type | (0x80 if marker else 0), seq, timestamp, 0x1234)
        packets.append((clock, header + payload))
        seq, clock = seq + 1, clock + 0.02

    for part in parts:
        if isinstance(part, str):
            event = "0123456789*#".index(part)
            for index, duration in enumerate((160, 320, 480, 640, 640, 640)):
                end = 0x80 if index >= 3 else 0
                add(101, struct.pack("!BBH", event, end | 10, duration), marker=index == 0)
            timestamp += 640
            continue
        for offset in range(0, len(part), 160):
            add(0, part[offset : offset + 160].ljust(160, b"\xff"))
            timestamp += 160
    records = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)]
    for when, rtp in packets:
        udp = struct.pack("!HHHH", 4000, 4000, 8 + len(rtp), 0) + rtp
        loopback = bytes([127, 0, 0, 1])
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0, loopback, loopback)
        frame = b"\x00" * 12 + b"\x08\x00" + ip + udp
        records.append(struct.pack("<IIII", int(when), int(when % 1 * 1e6), len(frame), len(frame)) + frame)
    path.write_bytes(b"".join(records))


@contextmanager
def sip_endpoint(allow: Sequence[IPv4Network | IPv6Network] = ()) -> Iterator[Endpoint]:
    """The endpoint on udp 127.0.0.1:<free port>, its own event loop in a thread; stopped on exit."""
    ready = threading.Event()
    holder: dict[str, object] = {}

    def serve() -> None:
        loop = asyncio.new_event_loop()
        try:
            endpoint = Endpoint(host="127.0.0.1", allow=allow)
            loop.run_until_complete(endpoint.start(0))
            holder.update(endpoint=endpoint, loop=loop)
        except BaseException as error:
            holder["error"] = error
            raise
        finally:
            ready.set()
        loop.run_forever()
        loop.run_until_complete(endpoint.stop())
        loop.close()

    thread = threading.Thread(target=serve, name="sip-endpoint", daemon=True)
    thread.start()
    ready.wait(60)
    if "error" in holder:
        raise RuntimeError("the SIP endpoint did not start") from holder["error"]  # type: ignore[arg-type]
    endpoint = holder["endpoint"]
    assert isinstance(endpoint, Endpoint)
    try:
        yield endpoint
    finally:
        loop = holder["loop"]
        assert isinstance(loop, asyncio.AbstractEventLoop)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(30)


def sipp(
    sipp_path: str, *args: str, cwd: Path, port: int | None = None, timeout: float = 60
) -> subprocess.Popen[str]:
    """sipp in the background (its logs in `cwd`), on `port` (or a free one) and a free media port."""
    return subprocess.Popen(
        [
            sipp_path,
            *args,
            "-i", "127.0.0.1",
            "-p", str(port or free_udp_port()),
            "-mi", "127.0.0.1",
            "-mp", str(free_udp_port()),
            "-nostdin",
            "-trace_err",
            "-timeout", f"{int(timeout)}s",
        ],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip


def finished(process: subprocess.Popen[str], cwd: Path, timeout: float = 60) -> str:
    """Wait for sipp; its output and error log when it failed."""
    output, _ = process.communicate(timeout=timeout)
    if process.returncode != 0:
        errors = "\n".join(path.read_text(errors="replace")[-3000:] for path in cwd.glob("*_errors.log"))
        raise AssertionError(f"sipp exited with {process.returncode}:\n{output[-3000:]}\n{errors}")
    return output
