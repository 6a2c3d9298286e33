"""The SIP endpoint served in a thread of the test process, and sipp (Debian's sip-tester) as its peers."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from ipaddress import IPv4Network, IPv6Network
from pathlib import Path

import pytest

from firstring.lib.net import free_udp_port
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
