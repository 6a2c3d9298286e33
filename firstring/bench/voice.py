"""`firstring bench voice`: how fast the served app answers Twilio's voice webhooks with TwiML.

Starts `firstring serve` (and its worker) on a database of its own with a phone number, its menu
(a language question, then options) and `--agents` available agents of the queue's team. Then
`--calls` callers arrive at `--rate` calls per second, each replaying the documented webhook sequence of
an inbound call, signed with X-Twilio-Signature as Twilio signs it: `incoming` (greeting and menu),
`menu?step=1` (the language, by key), `menu?step=2` (an option that queues the call: a routing task,
offered at once to a free agent), `wait` (the <Enqueue> waitUrl: position and expected wait), then the
caller hangs up in the queue: `left` (QueueResult=hangup) and the `status` callback (completed). A caller
waits `--think` seconds between webhooks, as a person does between prompts. Every answer must be 200 or
204 with the expected TwiML; `twiml_p99_ms` is the 99th percentile over all webhooks, timed from the
request sent to the answer read. A webhook answered with an error (an overloaded server) ends its call,
as on Twilio; such calls are counted in `failed_calls`, by webhook and status in `failures`.

Then the self-hosted SIP adapter (`--part sip`, or both by default): `firstring sip` serves the same
number on the same database, and sipp places `--sip-calls` simultaneous calls (all started within a
second; each stays `--sip-hold` seconds in the menu, then hangs up). `answer_p99_ms`: INVITE sent to its
200 OK received, as sipp times it; `menu_p99_ms`: that 200 OK to the first RTP packet of the greeting
arriving at the caller's media port (the benchmark listens on every caller's port). `sip_calls` counts
the calls placed, `sip_calls_recorded` the Calls the endpoint stored, `sip_failed_calls` what sipp
counted as failed. Needs sipp (Debian's sip-tester), espeak-ng and sox.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import hmac
import logging
import os
import random
import re
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from firstring.bench._database import bench_database, percentile
from firstring.bench._loop import run_in_own_loop
from firstring.bench._serve import served
from firstring.lib.database import current_database_url
from firstring.lib.net import free_port, free_udp_port

TOKEN = "bench-voice-token-0123456789abcdef"  # noqa: S105 (signs the bench's own webhooks)
ACCOUNT = "AC" + "ab" * 16
MENU = {
    "greeting": "Thanks for calling.",
    "languages": [
        {"key": "1", "code": "en", "label": "English"},
        {"key": "2", "code": "es", "label": "Spanish"},
    ],
    "prompt": "For billing press 1. For our hours press 2. For a person press 0.",
    "options": [
        {"key": "1", "keywords": ["billing"], "action": "queue", "label": "Billing", "team": "phones"},
        {"key": "2", "keywords": ["hours"], "action": "hours"},
    ],
    "hours_message": "We answer from 8 to 6.",
    "human": {"team": "phones"},
}


def load(*, agents: int, site: str) -> None:
    from django.contrib.auth.hashers import make_password

    from firstring.accounts.models import Team, User
    from firstring.channels.models import Channel
    from firstring.routing.models import AgentState
    from firstring.voice.models import AgentLine
    from firstring.voice.services import phone_menu_set

    team = Team.objects.create(name="Phones", slug="phones")
    channel = Channel.objects.create(
        kind="phone",
        slug="bench-line",
        name="Bench line",
        team=team,
        config={"number": "+12025550100", "api_base_url": site, "voicemail_after_seconds": 0},
        secrets={"account_sid": ACCOUNT, "auth_token": TOKEN},
    )
    phone_menu_set(channel=channel, definition=MENU)
    users = User.objects.bulk_create(
        User(email=f"phone{n}@example.com", name=f"Phone {n}", password=make_password(None))
        for n in range(agents)
    )
    team.members.add(*users)
    AgentState.objects.bulk_create(AgentState(user=u, presence=AgentState.Presence.AVAILABLE) for u in users)
    AgentLine.objects.bulk_create(AgentLine(user=u, number=f"+1415555{n:04d}") for n, u in enumerate(users))


def sign(url: str, params: dict[str, str]) -> str:
    """X-Twilio-Signature as Twilio documents it: URL, then the sorted parameters, HMAC-SHA1, base64."""
    data = url + "".join(name + params[name] for name in sorted(params))
    return base64.b64encode(hmac.new(TOKEN.encode(), data.encode(), hashlib.sha1).digest()).decode()


SEQUENCE: list[tuple[str, dict[str, str], str]] = [
    ("incoming", {"CallStatus": "ringing"}, "<Gather"),
    ("menu?step=1", {"Digits": "1"}, "<Gather"),
    ("menu?step=2", {"Digits": "1"}, "<Enqueue"),
    ("wait", {"QueuePosition": "1", "QueueTime": "3"}, "in line"),
    ("left", {"QueueResult": "hangup", "QueueTime": "4"}, "<Response"),
    ("status", {"CallStatus": "completed", "CallDuration": "9"}, "<Response"),
]


async def _calls(
    base: str, calls: int, rate: float, think: float, seed: int
) -> tuple[list[float], dict[str, int]]:
    import httpx

    logging.getLogger("httpx").setLevel(logging.WARNING)
    rng = random.Random(seed)
    timings: list[float] = []
    failures: dict[str, int] = {}
    limits = httpx.Limits(max_connections=1000, max_keepalive_connections=1000)

    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as client:

        async def caller(n: int) -> None:
            await asyncio.sleep(n / rate)
            sid = f"CA{n:032x}"
            for hook, extra, expected in SEQUENCE:
                params = {
                    "CallSid": sid,
                    "AccountSid": ACCOUNT,
                    "From": f"+1202555{n % 10_000:04d}",
                    "To": "+12025550100",
                    "Direction": "inbound",
                    "ApiVersion": "2010-04-01",
                    "CallStatus": "in-progress",
                    **extra,
                }
                path = f"/channels/phone/twilio/bench-line/{hook}"
                body = urlencode(params)
                headers = {
                    "Content-Type": "application/x-www-form-urlencoded",
                    "X-Twilio-Signature": sign(base + path, params),
                }
                started = time.perf_counter()
                try:
                    answer = await client.post(path, content=body, headers=headers)
                except httpx.TransportError as error:
                    key = f"{hook.split('?')[0]} {type(error).__name__}"
                    failures[key] = failures.get(key, 0) + 1
                    return
                timings.append((time.perf_counter() - started) * 1000)
                if answer.status_code == 200 and expected not in answer.text:
                    raise RuntimeError(f"{hook} of call {n} answered unexpected TwiML: {answer.text[:300]}")
                if answer.status_code not in (200, 204):
                    # Twilio would play its error message (or the fallback URL): the call ends here.
                    key = f"{hook.split('?')[0]} {answer.status_code}"
                    failures[key] = failures.get(key, 0) + 1
                    return
                await asyncio.sleep(think * rng.uniform(0.5, 1.5))

        await asyncio.gather(*(caller(n) for n in range(calls)))
    return timings, failures


SIP_SCENARIO = Path(__file__).with_name("voice_sip_caller.xml")
ANSWERED = re.compile(r"answered (\d+) ([\d.]+) ([\d.]+) ([\d.]+) ([\d.]+)")


def _udp_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    return sock


def _first_packets(sockets: list[socket.socket], stop: threading.Event, arrived: dict[int, float]) -> None:
    """Note when the first packet reaches each caller's media port (wall clock, as sipp's log has it)."""
    with selectors.DefaultSelector() as selector:
        for sock in sockets:
            sock.setblocking(False)
            selector.register(sock, selectors.EVENT_READ, sock)
        while not stop.is_set():
            for key, _ in selector.select(timeout=0.1):
                sock = key.data
                now = time.time()
                while True:
                    try:
                        sock.recv(2048)
                    except BlockingIOError:
                        break
                    arrived.setdefault(sock.getsockname()[1], now)


def _wait_for_endpoint(process: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"`firstring sip` stopped; see {log_path}")
        if b"SIP endpoint on udp" in log_path.read_bytes():
            return
        time.sleep(0.2)
    raise RuntimeError(f"`firstring sip` did not start within 60 s; see {log_path}")


def _sip_calls(*, calls: int, hold: float) -> dict[str, Any]:
    from firstring.voice.models import Call

    sipp = shutil.which("sipp")
    if sipp is None:
        raise SystemExit("the SIP part needs sipp (apt-get install sip-tester); or run with --part twiml")
    port = free_udp_port()
    workdir = Path(tempfile.mkdtemp(prefix="firstring-bench-sip-"))
    log_path = workdir / "endpoint.log"
    environment = {**os.environ, "DATABASE_URL": current_database_url()}
    media = [_udp_socket() for _ in range(calls)]
    ports = [sock.getsockname()[1] for sock in media]
    (workdir / "callers.csv").write_text("SEQUENTIAL\n" + "".join(f"{p};\n" for p in ports))
    arrived: dict[int, float] = {}
    stop = threading.Event()
    listener = threading.Thread(target=_first_packets, args=(media, stop, arrived), daemon=True)
    with open(log_path, "wb") as log:
        endpoint = subprocess.Popen(  # noqa: S603 (our own interpreter and arguments)
            [sys.executable, "-m", "firstring", "sip", "--host", "127.0.0.1", "--port", str(port)],
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            _wait_for_endpoint(endpoint, log_path)
            listener.start()
            began = time.perf_counter()
            ran = subprocess.run(  # noqa: S603 (sipp and our arguments)
                [
                    sipp, f"127.0.0.1:{port}", "-sf", str(SIP_SCENARIO), "-inf", str(workdir / "callers.csv"),
                    "-s", "+12025550100", "-m", str(calls), "-l", str(calls), "-r", str(calls), "-rp", "1000",
                    "-d", str(int(hold * 1000)), "-i", "127.0.0.1", "-p", str(free_udp_port()),
                    "-trace_logs", "-trace_stat", "-nostdin", "-timeout", f"{int(hold + 60)}s",
                ],
                cwd=workdir,
                capture_output=True,
                text=True,
                check=False,
            )  # fmt: skip
            seconds = time.perf_counter() - began
        finally:
            stop.set()
            endpoint.send_signal(signal.SIGTERM)
            try:
                endpoint.wait(timeout=30)
            except subprocess.TimeoutExpired:
                endpoint.kill()
            for sock in media:
                sock.close()
    answered = [
        ANSWERED.search(line) for path in workdir.glob("*_logs.log") for line in path.read_text().splitlines()
    ]
    answer_ms: list[float] = []
    menu_ms: list[float] = []
    for match in filter(None, answered):
        media_port, sent_s, sent_us, answered_s, answered_us = (float(group) for group in match.groups())
        sent, answered_at = sent_s + sent_us / 1e6, answered_s + answered_us / 1e6
        answer_ms.append((answered_at - sent) * 1000)
        if int(media_port) in arrived:
            menu_ms.append(max(0.0, arrived[int(media_port)] - answered_at) * 1000)
    if not answer_ms:
        raise RuntimeError(f"no call was answered; sipp said: {ran.stdout[-2000:]} {ran.stderr[-2000:]}")
    failed = calls - len(answer_ms) if ran.returncode == 0 else max(calls - len(answer_ms), 1)
    result = {
        "sip_calls": calls,
        "sip_calls_recorded": Call.objects.filter(provider="sip").count(),
        "sip_failed_calls": failed,
        "answer_p50_ms": round(percentile(answer_ms, 0.50), 2),
        "answer_p99_ms": round(percentile(answer_ms, 0.99), 2),
        "menu_p50_ms": round(percentile(menu_ms, 0.50), 2) if menu_ms else None,
        "menu_p99_ms": round(percentile(menu_ms, 0.99), 2) if menu_ms else None,
        "menu_heard": len(menu_ms),
        "sip_seconds": round(seconds, 1),
    }
    shutil.rmtree(workdir, ignore_errors=True)
    return result


def main(argv: list[str]) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="firstring bench voice", description=__doc__)
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=100.0, help="Calls arriving per second.")
    parser.add_argument("--think", type=float, default=1.0, help="Seconds a caller takes between webhooks.")
    parser.add_argument("--agents", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--server-workers", type=int, default=1, help="Processes of `firstring serve`.")
    parser.add_argument("--part", choices=("both", "twiml", "sip"), default="both")
    parser.add_argument("--sip-calls", type=int, default=50, help="Simultaneous calls placed with sipp.")
    parser.add_argument("--sip-hold", type=float, default=3.0, help="Seconds each SIP caller stays on.")
    args = parser.parse_args(argv)
    if args.calls < 1 or args.rate <= 0 or args.think < 0 or args.agents < 0 or args.server_workers < 1:
        parser.error(
            "--calls and --server-workers must be at least 1, --rate positive, "
            "--think and --agents at least 0"
        )
    if args.sip_calls < 1 or args.sip_hold < 1:
        parser.error("--sip-calls and --sip-hold must be at least 1")

    result: dict[str, Any] = {"benchmark": "voice"}
    with bench_database("voice") as vendor:
        from firstring.voice.models import Call

        result["database"] = vendor
        port = free_port()
        site = f"http://127.0.0.1:{port}"
        load(agents=args.agents, site=site)
        if args.part in ("both", "twiml"):
            began = time.perf_counter()
            server = served("voice", env={"SITE_URL": site}, port=port, workers=args.server_workers)
            with server as base:
                timings, failures = run_in_own_loop(
                    _calls(base, args.calls, args.rate, args.think, args.seed)
                )
            seconds = time.perf_counter() - began
            outcomes = {
                outcome: Call.objects.filter(outcome=outcome).count()
                for outcome in ("abandoned", "completed")
            }
            result.update(
                {
                    "calls": args.calls,
                    "rate_per_second": args.rate,
                    "server_workers": args.server_workers,
                    "webhooks": len(timings),
                    "twiml_p50_ms": round(percentile(timings, 0.50), 2),
                    "twiml_p99_ms": round(percentile(timings, 0.99), 2),
                    "twiml_max_ms": round(max(timings), 2),
                    "abandoned_calls": outcomes["abandoned"],
                    # Calls whose webhook was not answered (by status): a figure with failures is no pass.
                    "failed_calls": sum(failures.values()),
                    "failures": failures,
                    "seconds": round(seconds, 1),
                }
            )
        if args.part in ("both", "sip"):
            result.update(_sip_calls(calls=args.sip_calls, hold=args.sip_hold))
    return result
