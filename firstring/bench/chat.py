"""`firstring bench chat`: live delivery between chat visitors and an agent's screen, over real websockets.

Starts `firstring serve` (the web server and its worker, as `make run` does) on a free loopback port
against a database of its own, with a chat channel and one agent. Then `--visitors` (200) widgets
connect at once over websockets and stay connected; each sends `--messages` (3) messages at random
moments within `--seconds` (60), ten messages a second in all by default. Timed, per message: from the
visitor's frame leaving to the agent's inbox websocket announcing that message (what makes the inbox
and conversation page refresh). Then the
agent answers every visitor through the agent app's reply form (HTTP POST, as the browser sends it),
at random moments within the same window. Timed, per reply: from the POST leaving to the visitor's
widget receiving the reply; this includes storing it, the worker claiming it from the task queue
(`--tasks db`: the database queue; `--tasks rq`: RQ on Redis), the chat's sender
and the live update to the widget. Messages or replies that never arrive are counted in `lost`.

Keys: `visitors`, `p95_ms` (the slower direction's p95), `visitor_to_agent_p95_ms`,
`agent_to_visitor_p95_ms`, their p50s, `messages`, `replies`, `lost`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import random
import time
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from firstring.bench._database import bench_database, percentile
from firstring.bench._loop import run_in_own_loop
from firstring.bench._serve import served

ORIGIN = "https://shop.example"
SLUG = "bench-chat"


@dataclass
class Timings:
    sent: dict[str, float] = field(default_factory=dict)  # the widget's message id → when it left
    message_of: dict[str, int] = field(default_factory=dict)  # the widget's message id → stored id
    at_agent: dict[int, float] = field(default_factory=dict)  # stored id → when the agent heard of it
    conversation_of: dict[int, int] = field(default_factory=dict)  # stored id → conversation
    reply_sent: dict[str, float] = field(default_factory=dict)  # reply text → when the POST left
    reply_seen: dict[str, float] = field(default_factory=dict)  # reply text → when the widget got it
    reply_answered: dict[str, float] = field(default_factory=dict)  # reply text → when the POST returned


def _load() -> tuple[str, str]:
    """A chat channel, and an agent signed in: their session cookie and a CSRF token."""
    from django.test import Client
    from django.utils.crypto import get_random_string

    from firstring.accounts.models import Team, User
    from firstring.channels.models import Channel

    team = Team.objects.create(name="Chat", slug="chat")
    agent = User.objects.create_user(email="agent@example.com", name="Bench Agent", password=None)
    team.members.add(agent)
    Channel.objects.create(
        kind="chat", slug=SLUG, name="Shop chat", team=team, config={"allowed_origins": [ORIGIN]}
    )
    client = Client()
    client.force_login(agent)
    return client.cookies[settings.SESSION_COOKIE_NAME].value, get_random_string(32)


async def _agent(ws_base: str, base: str, cookie: str, timings: Timings, stop: asyncio.Event) -> None:
    import websockets
    from websockets.typing import Origin

    async with websockets.connect(
        f"{ws_base}/ws/live/",
        origin=Origin(base),
        additional_headers={"Cookie": cookie},
    ) as agent:
        while not stop.is_set():
            try:
                raw = await asyncio.wait_for(agent.recv(), timeout=0.5)
            except TimeoutError:
                continue
            data = json.loads(raw)
            if data.get("type") == "conversation.changed" and data.get("kind") == "message":
                timings.at_agent.setdefault(data["message_id"], time.perf_counter())
                timings.conversation_of[data["message_id"]] = data["conversation_id"]


async def _visitor(
    n: int,
    ws_base: str,
    args: argparse.Namespace,
    timings: Timings,
    ready: asyncio.Barrier,
    stop: asyncio.Event,
) -> None:
    import websockets
    from websockets.typing import Origin

    rng = random.Random(args.seed * 100_000 + n)
    async with websockets.connect(
        f"{ws_base}/ws/chat/{SLUG}/", origin=Origin(ORIGIN), open_timeout=60
    ) as widget:
        await widget.send(json.dumps({"type": "hello", "token": "", "after": 0}))
        welcome = json.loads(await widget.recv())
        assert welcome["type"] == "welcome", welcome

        async def read() -> None:
            while True:
                data = json.loads(await widget.recv())
                now = time.perf_counter()
                if data["type"] == "ack":
                    timings.message_of[data["id"]] = data["message"]["id"]
                elif data["type"] == "message" and data["message"]["from"] == "agent":
                    timings.reply_seen.setdefault(data["message"]["text"], now)

        reader = asyncio.create_task(read())
        await ready.wait()  # every visitor is connected before the first message
        moments = sorted(rng.uniform(0, args.seconds) for _ in range(args.messages))
        started = time.perf_counter()
        for i, moment in enumerate(moments):
            await asyncio.sleep(max(0.0, started + moment - time.perf_counter()))
            client_id = f"bench-{n:05d}-{i:03d}"
            timings.sent[client_id] = time.perf_counter()
            await widget.send(
                json.dumps({"type": "message", "id": client_id, "text": f"Visitor {n} asks {i}"})
            )
        await stop.wait()
        reader.cancel()


async def _replies(base: str, cookie: str, csrf: str, args: argparse.Namespace, timings: Timings) -> None:
    import httpx

    rng = random.Random(args.seed)
    conversations = sorted(set(timings.conversation_of.values()))
    headers = {
        "X-CSRFToken": csrf,
        "Cookie": f"{cookie}; {settings.CSRF_COOKIE_NAME}={csrf}",
        "HX-Request": "true",
    }
    limits = httpx.Limits(max_connections=50)
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=60, limits=limits) as client:

        async def answer(conversation_id: int, moment: float, started: float) -> None:
            await asyncio.sleep(max(0.0, started + moment - time.perf_counter()))
            text = f"Agent answers {conversation_id}"
            timings.reply_sent[text] = time.perf_counter()
            response = await client.post(f"/conversations/{conversation_id}/reply/", data={"text": text})
            timings.reply_answered[text] = time.perf_counter()
            if response.status_code >= 400:
                raise SystemExit(f"the reply form answered {response.status_code}: {response.text[:300]}")

        started = time.perf_counter()
        await asyncio.gather(*(answer(c, rng.uniform(0, args.seconds), started) for c in conversations))


async def _drive(base: str, cookie: str, csrf: str, args: argparse.Namespace) -> Timings:
    ws_base = base.replace("http://", "ws://")
    session_cookie = f"{settings.SESSION_COOKIE_NAME}={cookie}"
    timings = Timings()
    stop = asyncio.Event()
    ready = asyncio.Barrier(args.visitors + 1)
    agent = asyncio.create_task(_agent(ws_base, base, session_cookie, timings, stop))
    await asyncio.sleep(0.5)  # the agent's screen is open before the first visitor writes
    visitors = [
        asyncio.create_task(_visitor(n, ws_base, args, timings, ready, stop)) for n in range(args.visitors)
    ]
    await ready.wait()
    expected = args.visitors * args.messages
    await _settle(
        lambda: len(timings.at_agent) >= expected and len(timings.message_of) >= expected, args.seconds
    )
    await _replies(base, session_cookie, csrf, args, timings)
    await _settle(lambda: len(timings.reply_seen) >= len(timings.reply_sent), 30)
    stop.set()
    await asyncio.gather(agent, *visitors)
    return timings


async def _settle(done: Any, seconds: float) -> None:
    deadline = time.perf_counter() + seconds + 30
    while not done() and time.perf_counter() < deadline:
        await asyncio.sleep(0.05)


def main(argv: list[str]) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="firstring bench chat", description=__doc__)
    parser.add_argument("--visitors", type=int, default=200)
    parser.add_argument("--messages", type=int, default=3, help="messages per visitor")
    # 200 visitors writing three times a minute each: ten messages a second, and three replies.
    parser.add_argument("--seconds", type=float, default=60.0, help="the window they are sent in")
    parser.add_argument("--tasks", choices=("db", "rq"), default=settings.FIRSTRING_TASKS_BACKEND)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    if min(args.visitors, args.messages) < 1 or args.seconds <= 0:
        parser.error("--visitors and --messages must be at least 1, --seconds positive")

    logging.getLogger("httpx").setLevel(logging.WARNING)
    with bench_database("chat") as vendor:
        cookie, csrf = _load()
        with served("chat", env={"FIRSTRING_TASKS_BACKEND": args.tasks}) as base:
            timings = run_in_own_loop(_drive(base, cookie, csrf, args))

    inbound = [
        (timings.at_agent[message_id] - timings.sent[client_id]) * 1000
        for client_id, message_id in timings.message_of.items()
        if message_id in timings.at_agent
    ]
    outbound = [
        (timings.reply_seen[text] - sent) * 1000
        for text, sent in timings.reply_sent.items()
        if text in timings.reply_seen
    ]
    posts = [(timings.reply_answered[text] - sent) * 1000 for text, sent in timings.reply_sent.items()]
    lost = (len(timings.sent) - len(inbound)) + (len(timings.reply_sent) - len(outbound))
    inbound_p95, outbound_p95 = percentile(inbound, 0.95), percentile(outbound, 0.95)
    return {
        "benchmark": "chat",
        "database": vendor,
        "tasks": args.tasks,
        "visitors": args.visitors,
        "messages": len(timings.sent),
        "messages_per_second": round(len(timings.sent) / args.seconds, 1),
        "replies": len(timings.reply_sent),
        "lost": lost,
        "p95_ms": round(max(inbound_p95, outbound_p95), 1),
        "visitor_to_agent_p50_ms": round(percentile(inbound, 0.50), 1),
        "visitor_to_agent_p95_ms": round(inbound_p95, 1),
        "agent_to_visitor_p50_ms": round(percentile(outbound, 0.50), 1),
        "agent_to_visitor_p95_ms": round(outbound_p95, 1),
        # The reply form's own answer (store the reply, render the timeline), part of the above.
        "reply_post_p50_ms": round(percentile(posts, 0.50), 1),
    }
