"""`firstring bench route`'s offer latency: from an inbound message stored to its offer on the screen.

Runs what production runs: `firstring serve` (uvicorn and its worker, the database queue, live updates
forwarded from the worker to the server) against the benchmark's database, agents' websockets open as
their browsers keep them. Each probe POSTs one message to `/api/v1/inbound` for the probe team and
waits for what the agent's browser waits for: the websocket notice that their offers changed, then the
offers fragment the page fetches on it, holding the new conversation. The time runs from sending the
POST (the message is stored before its answer) until that fragment has arrived; then the agent accepts
over HTTP, as the button does, and the next probe follows after a random pause of up to 100 ms, so
probes land at every moment of the worker's poll.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import secrets
import time

from django.conf import settings

from firstring.bench._loop import run_in_own_loop
from firstring.bench._serve import served

PROBE_TEAM = "Probe team"


def _setup(agents: int) -> tuple[str, list[str]]:
    """The probe team, its agents (available, logged in) and a manager's API token."""
    from django.test import Client

    from firstring.accounts.models import Skill, Team, User, UserSkill
    from firstring.accounts.services import api_token_create
    from firstring.channels.models import Channel
    from firstring.routing.models import AgentState, TeamRouting

    team = Team.objects.create(name=PROBE_TEAM, slug="probe-team")
    # Room for every probe: the benchmark measures the path to the screen, not a full team.
    TeamRouting.objects.create(team=team, capacity={"default": 1000})
    Channel.objects.get_or_create(slug="probe", defaults={"kind": "api", "name": "Probe", "team": team})
    sessions = []
    # The insights step detects each probe's language and the router then prefers agents who speak it:
    # the probe team speaks every language the floor knows, so no probe waits for its needs to relax.
    languages = list(Skill.objects.filter(kind=Skill.Kind.LANGUAGE))
    for n in range(agents):
        user = User.objects.create_user(email=f"probe{n}@example.com", name=f"Probe {n}")
        team.members.add(user)
        UserSkill.objects.bulk_create(UserSkill(user=user, skill=skill, level=5) for skill in languages)
        AgentState.objects.create(user=user, presence=AgentState.Presence.AVAILABLE)
        client = Client()
        client.force_login(user)
        sessions.append(client.cookies[settings.SESSION_COOKIE_NAME].value)
    manager = User.objects.create_user(email="probe-manager@example.com", role=User.Role.MANAGER)
    _, token = api_token_create(user=manager, name="bench")
    return token, sessions


async def _measure(base: str, token: str, sessions: list[str], probes: int, seed: int) -> list[float]:
    import httpx
    from websockets.asyncio.client import connect

    logging.getLogger("httpx").setLevel(logging.WARNING)
    rng = random.Random(seed)
    csrf = secrets.token_hex(16)
    notices: asyncio.Queue[int] = asyncio.Queue()
    ws_base = base.replace("http://", "ws://")

    async def listen(agent: int, session: str) -> None:
        headers = {"Cookie": f"{settings.SESSION_COOKIE_NAME}={session}", "Origin": base}
        async with connect(f"{ws_base}/ws/live/", additional_headers=headers) as socket_:
            async for raw in socket_:
                if json.loads(raw).get("type") == "notice":
                    notices.put_nowait(agent)

    listeners = [asyncio.create_task(listen(n, s)) for n, s in enumerate(sessions)]
    agents = [
        httpx.AsyncClient(
            base_url=base,
            cookies={settings.SESSION_COOKIE_NAME: s, settings.CSRF_COOKIE_NAME: csrf},
            headers={"HX-Request": "true", "X-CSRFToken": csrf, "Referer": base},
        )
        for s in sessions
    ]
    api = httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {token}"})
    timings: list[float] = []
    try:
        await asyncio.sleep(1)  # the websockets have joined their groups
        for n in range(probes):
            while not notices.empty():
                notices.get_nowait()
            text = f"Latency probe {n} {secrets.token_hex(4)}"
            started = time.perf_counter()
            answer = await api.post(
                "/api/v1/inbound",
                json={"channel": "probe", "from": {"email": f"probe-customer{n}@example.com"}, "text": text},
            )
            answer.raise_for_status()
            task_id = None
            while task_id is None:
                agent = await asyncio.wait_for(notices.get(), timeout=30)
                fragment = (await agents[agent].get("/routing/offers/")).text
                for offer in fragment.split('data-task-id="')[1:]:
                    if text in offer:
                        task_id = int(offer.split('"', 1)[0])
            timings.append((time.perf_counter() - started) * 1000)
            accepted = await agents[agent].post(f"/routing/offers/{task_id}/accept/")
            if accepted.status_code != 204:
                raise RuntimeError(f"accepting offer {task_id} answered {accepted.status_code}")
            await asyncio.sleep(rng.uniform(0, 0.1))
    finally:
        for listener in listeners:
            listener.cancel()
        await asyncio.gather(*listeners, return_exceptions=True)
        for client in [api, *agents]:
            await client.aclose()
    return timings


def measure_offer_latency(*, agents: int, probes: int, seed: int) -> list[float]:
    """Start `firstring serve` on the benchmark's database and time `probes` messages to their offers."""
    token, sessions = _setup(agents)
    with served("route") as base:
        return run_in_own_loop(_measure(base, token, sessions, probes, seed))
