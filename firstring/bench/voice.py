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

This measures the Twilio adapter. The issue's SIP figures (`answer_p99_ms`, `menu_p99_ms` with sipp)
belong to the self-hosted SIP adapter, which does not exist yet.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import hmac
import logging
import random
import time
from typing import Any
from urllib.parse import urlencode

from firstring.bench._database import bench_database, percentile
from firstring.bench._loop import run_in_own_loop
from firstring.bench._serve import served
from firstring.lib.net import free_port

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


def main(argv: list[str]) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="firstring bench voice", description=__doc__)
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=100.0, help="Calls arriving per second.")
    parser.add_argument("--think", type=float, default=1.0, help="Seconds a caller takes between webhooks.")
    parser.add_argument("--agents", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--server-workers", type=int, default=1, help="Processes of `firstring serve`.")
    args = parser.parse_args(argv)
    if args.calls < 1 or args.rate <= 0 or args.think < 0 or args.agents < 0 or args.server_workers < 1:
        parser.error(
            "--calls and --server-workers must be at least 1, --rate positive, "
            "--think and --agents at least 0"
        )

    with bench_database("voice") as vendor:
        from firstring.voice.models import Call

        port = free_port()
        site = f"http://127.0.0.1:{port}"
        load(agents=args.agents, site=site)
        began = time.perf_counter()
        server = served("voice", env={"SITE_URL": site}, port=port, workers=args.server_workers)
        with server as base:
            timings, failures = run_in_own_loop(_calls(base, args.calls, args.rate, args.think, args.seed))
        seconds = time.perf_counter() - began
        outcomes = {
            outcome: Call.objects.filter(outcome=outcome).count() for outcome in ("abandoned", "completed")
        }

    return {
        "benchmark": "voice",
        "database": vendor,
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
