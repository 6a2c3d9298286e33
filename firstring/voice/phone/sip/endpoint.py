"""The SIP endpoint's application: the numbers it answers, the calls it holds, the database threads.

`firstring sip` runs `run_endpoint`. Numbers and their menus are read into memory (refreshed every
DIRECTORY_SECONDS) so an INVITE is answered without waiting on the database; waiting callers whose offer
an agent accepted, callbacks an agent accepted, and talking calls escalated to a manager, are found by a
poll (WATCH_SECONDS).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import socket
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from ipaddress import IPv4Network, IPv6Network
from typing import Any, TypeVar

from django.conf import settings
from django.db import close_old_connections, connection

from firstring.voice.menu import menu_prompt, menu_start
from firstring.voice.phone.sip import PROVIDER
from firstring.voice.phone.sip.callbacks import CALLING, Callback
from firstring.voice.phone.sip.calls import (
    CALLBACK_OFFER,
    CALLBACK_TAKEN,
    GOODBYE,
    HOLD_MESSAGE,
    NOBODY_CAN,
    InboundCall,
)
from firstring.voice.phone.sip.message import Message, SipParseError, parse_uri, response
from firstring.voice.phone.sip.prompts import Prompts
from firstring.voice.phone.sip.sdp import parse_offer
from firstring.voice.phone.sip.server import Address, Dialog, ServerInvite, SipServer
from firstring.voice.phone.sip.speech import Recognizer

logger = logging.getLogger("firstring.voice.phone.sip")

T = TypeVar("T")
DIRECTORY_SECONDS = 5.0
WATCH_SECONDS = 0.25
DTMF_RELAY = re.compile(r"^\s*signal\s*=\s*([0-9*#A-Da-d])\s*$", re.IGNORECASE | re.MULTILINE)


def digits_of(number: str) -> str:
    return re.sub(r"\D", "", number)


@dataclass(frozen=True)
class Number:
    """One phone number this endpoint answers: its channel and menu, as last read."""

    channel_id: int
    slug: str
    number: str
    menu: dict[str, Any]
    ring_seconds: int
    voicemail_after: float | None  # seconds a caller waits before voicemail (None: as long as it takes)


def load_numbers() -> dict[str, Number]:
    from firstring.channels.models import Channel
    from firstring.voice.services import phone_menu_for

    numbers: dict[str, Number] = {}
    for channel in Channel.objects.filter(kind="phone", enabled=True).order_by("pk"):
        number = str(channel.config.get("number", ""))
        if digits_of(number):
            ring = channel.config.get("ring_seconds", 20)
            limit = channel.config.get("voicemail_after_seconds", 300)
            numbers[digits_of(number)] = Number(
                channel_id=channel.pk,
                slug=channel.slug,
                number=number,
                menu=phone_menu_for(channel),
                ring_seconds=ring if type(ring) is int and 1 <= ring <= 120 else 20,
                voicemail_after=float(limit) if type(limit) is int and limit > 0 else None,
            )
    return numbers


def menu_texts(menu: dict[str, Any]) -> list[tuple[str, str]]:
    """Everything a menu may say, with its language: rendered when the endpoint starts."""
    languages = [lang.get("say", "") for lang in menu.get("languages", [])] or [""]
    texts = [(menu["greeting"], ""), (menu_prompt(menu, menu_start(menu).state), "")]
    for language in languages:
        texts.append((str(menu["prompt"]), language))
        texts += [(str(option["text"]), language) for option in menu.get("options", []) if option.get("text")]
        texts += [
            (str(menu[name]), language) for name in ("hours_message", "closed_message") if menu.get(name)
        ]
        texts += [
            (text, language)
            for text in (
                HOLD_MESSAGE,
                NOBODY_CAN,
                GOODBYE,
                "Sorry, I did not hear anything.",
                CALLBACK_OFFER,
                CALLBACK_TAKEN,
            )
        ]
    return [*texts, (CALLING, "")]  # what the agent hears when a callback rings the customer


class Database:
    """The services are synchronous Django code: they run on a few threads of their own."""

    def __init__(self) -> None:
        self.workers = 1 if connection.vendor == "sqlite" else 4
        self.executor = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="sip-db")

    async def run(self, function: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        def work() -> T:
            close_old_connections()
            return function(*args, **kwargs)

        return await asyncio.get_running_loop().run_in_executor(self.executor, work)

    async def close(self) -> None:
        """Close each worker thread's connection (a barrier makes every thread take exactly one job)."""
        barrier = threading.Barrier(self.workers)

        def close_mine() -> None:
            connection.close()
            barrier.wait(timeout=10)

        loop = asyncio.get_running_loop()
        await asyncio.gather(*(loop.run_in_executor(self.executor, close_mine) for _ in range(self.workers)))
        self.executor.shutdown(wait=True)


class Endpoint:
    """The application behind the SIP server: numbers, calls and their legs."""

    def __init__(
        self, *, host: str, media_host: str | None = None, allow: Sequence[IPv4Network | IPv6Network] = ()
    ) -> None:
        self.host = host
        self.media_host = media_host or host
        self.server = SipServer(handler=self, allow=allow)
        self.db = Database()
        self.prompts = Prompts()
        self.recognizer = Recognizer()  # its own processes: decoding never holds up the loop or the database
        self.numbers: dict[str, Number] = {}
        # Outbound calls (callbacks) go through the trunk; without one, callers are not offered them.
        self.trunk = settings.FIRSTRING_SIP_TRUNK
        if self.trunk:
            try:
                parse_uri(self.trunk)
            except SipParseError as error:
                raise SipParseError(f"FIRSTRING_SIP_TRUNK: {error}") from None
        self.calls: dict[tuple[str, str], InboundCall | Callback] = {}  # dialog key (any leg of ours) → call
        self.by_invite: dict[str, InboundCall] = {}  # the INVITE's branch → call, until it is answered
        self.waiting: dict[str, InboundCall] = {}  # external id → a call in the queue
        self.talking: dict[str, InboundCall] = {}  # external id → a call bridged to an agent
        self.callbacks: dict[str, Callback] = {}  # external id → a callback being rung or talked
        self.rung_back: set[str] = set()  # the agent legs (Call-IDs) of callbacks dialled already

    async def start(self, port: int) -> None:
        loop = asyncio.get_running_loop()
        await loop.create_datagram_endpoint(lambda: self.server, local_addr=(self.host, port))
        await self.refresh()
        await self.recognizer.start()
        texts = {text for number in self.numbers.values() for text in menu_texts(number.menu)}
        await asyncio.gather(*(self.prompts.audio(text, language) for text, language in texts))
        self.server.spawn(self._refresh_forever())
        self.server.spawn(self._watch_forever())
        if not self.server.allow:
            logger.warning("SIP is taken from any address; name the trunks and PBXs with --allow")
        if self.trunk:
            logger.info("outbound calls (callbacks) go through the trunk %s", self.trunk)
        else:
            logger.info(
                "no trunk for outbound calls (FIRSTRING_SIP_TRUNK): callers are not offered callbacks"
            )
        logger.info(
            "SIP endpoint on udp %s:%s answering %s; spoken keywords %s",
            *self.server.address,
            ", ".join(f"{n.number} ({n.slug})" for n in self.numbers.values()) or "no phone number yet",
            f"on ({self.recognizer.workers} processes)" if self.recognizer.available else "off",
        )

    async def stop(self) -> None:
        """Hang up every live call, stop serving, and close the database connections of our threads."""
        live = {id(call): call for call in self.calls.values()}
        logger.info("SIP endpoint stopping; hanging up %s call(s)", len(live))
        await asyncio.gather(*(call.hang_up() for call in live.values()), return_exceptions=True)
        for task in list(self.server.tasks):
            task.cancel()
        await asyncio.gather(*self.server.tasks, return_exceptions=True)
        if self.server.transport is not None:
            self.server.transport.close()
        await self.db.close()
        self.recognizer.close()

    async def refresh(self) -> None:
        self.numbers = await self.db.run(load_numbers)

    async def _refresh_forever(self) -> None:
        while True:
            await asyncio.sleep(DIRECTORY_SECONDS)
            try:
                await self.refresh()
            except Exception:
                logger.exception("reading the phone numbers failed; answering with the last known ones")

    async def _watch_forever(self) -> None:
        """The router's and the escalations' news, read from the database: waiting callers whose offer
        an agent accepted (status connecting) are bridged; callbacks an agent accepted (connecting, with
        the TRANSFERRED event naming the agent's leg) are rung; talking calls escalated to a manager (an
        ESCALATED event naming them) ring the manager in."""
        from firstring.voice.models import Call, CallEvent

        def accepted(ids: list[str]) -> list[tuple[str, int]]:
            rows = Call.objects.filter(
                provider=PROVIDER,
                external_id__in=ids,
                status=Call.Status.CONNECTING,
                agent__isnull=False,
                callback_requested_at__isnull=True,
            ).values_list("external_id", "agent_id")
            return [(external_id, agent_id) for external_id, agent_id in rows]

        def called_back() -> dict[str, tuple[int, str]]:
            """External id → (call, the agent leg's Call-ID) of each accepted callback (its latest try)."""
            rows = (
                CallEvent.objects.filter(
                    kind=CallEvent.Kind.TRANSFERRED,
                    data__callback=True,
                    call__provider=PROVIDER,
                    call__status=Call.Status.CONNECTING,
                )
                .order_by("pk")
                .values_list("call__external_id", "call_id", "data")
            )
            return {external_id: (call_pk, str(data.get("leg", ""))) for external_id, call_pk, data in rows}

        def escalated(ids: list[str]) -> list[tuple[str, int, Any]]:
            rows = CallEvent.objects.filter(
                kind=CallEvent.Kind.ESCALATED, call__provider=PROVIDER, call__external_id__in=ids
            ).values_list("call__external_id", "pk", "data")
            return list(rows)

        while True:
            await asyncio.sleep(WATCH_SECONDS)
            try:
                if self.waiting:
                    for external_id, agent_id in await self.db.run(accepted, list(self.waiting)):
                        call = self.waiting.pop(external_id, None)
                        if call is not None:
                            call.agent_accepted(agent_id)
                if self.trunk:
                    for external_id, (call_pk, leg) in (await self.db.run(called_back)).items():
                        if external_id not in self.callbacks and leg not in self.rung_back:
                            self.rung_back.add(leg)
                            callback = Callback(
                                self, call_pk=call_pk, external_id=external_id, agent_call_id=leg
                            )
                            self.callbacks[external_id] = callback
                            callback.start()
                if self.talking:
                    for external_id, event_id, data in await self.db.run(escalated, list(self.talking)):
                        call = self.talking.get(external_id)
                        # An escalation that could not reach the call says why ("failed").
                        if call is not None and isinstance(data.get("manager"), int) and "failed" not in data:
                            call.escalated(event_id, data["manager"])
            except Exception:
                logger.exception("looking for accepted and escalated calls failed")

    # Handler -----------------------------------------------------------------------------------------

    def invite(self, request: Message, source: Address, transaction: ServerInvite) -> None:
        number = self.numbers.get(digits_of(parse_uri(request.uri).user))
        if number is None:
            logger.info("INVITE from %s:%s for %s: no such number here (404)", *source, request.uri[:80])
            self.server.reject(transaction, 404)
            return
        try:
            media = parse_offer(request.body) if request.body else None
        except SipParseError as error:
            logger.info("INVITE from %s:%s refused: %s (488)", *source, error)
            self.server.reject(transaction, 488, reason=f"Not Acceptable Here ({error})"[:120])
            return
        if media is None:
            # An offer in the 200 (a "late offer") is not supported: trunks and PBXs send one in the INVITE.
            self.server.reject(transaction, 488, reason="Not Acceptable Here (an SDP offer is required)")
            return
        call = InboundCall(self, number, transaction)
        self.by_invite[request.branch] = call
        self.server.spawn(call.answer(media))

    def reinvite(self, dialog: Dialog, request: Message) -> Message:
        call = self.calls.get((dialog.call_id, dialog.local_tag))
        if call is None:
            return response(request, 481)
        return call.reinvite(dialog, request)

    def bye(self, dialog: Dialog) -> None:
        call = self.calls.get((dialog.call_id, dialog.local_tag))
        if call is not None:
            call.hung_up(dialog)

    def unacknowledged(self, dialog: Dialog) -> None:
        self.bye(dialog)
        self.server.spawn(self.server.bye(dialog))

    def cancelled(self, transaction: ServerInvite) -> None:
        call = self.by_invite.pop(transaction.request.branch, None)
        if call is not None:
            call.cancelled()

    def info(self, dialog: Dialog, request: Message) -> int:
        call = self.calls.get((dialog.call_id, dialog.local_tag))
        if call is None:
            return 481
        kind = request.get("content-type").split(";")[0].strip().lower()
        try:
            text = request.body.decode("utf-8")
        except UnicodeDecodeError:
            return 400
        if kind == "application/dtmf-relay":
            match = DTMF_RELAY.search(text)
        elif kind == "application/dtmf":
            match = re.fullmatch(r"\s*([0-9*#A-Da-d])\s*", text)
        else:
            logger.info("INFO with %r in call %s: 415", kind[:40], dialog.call_id[:64])
            return 415
        if match is None:
            logger.info("INFO without a key in call %s: %r", dialog.call_id[:64], text[:60])
            return 400
        call.pressed(match.group(1).upper())
        return 200

    async def resolve(self, host: str, port: int) -> Address:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_DGRAM)
        address = infos[0][4]
        return (str(address[0]), int(address[1]))


def run_endpoint(
    *,
    host: str,
    port: int,
    media_host: str | None = None,
    allow: Sequence[IPv4Network | IPv6Network] = (),
    seconds: float | None = None,
) -> None:
    """Serve SIP on udp host:port until SIGTERM or SIGINT (or `seconds`): what `firstring sip` runs."""
    import signal

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        endpoint = Endpoint(host=host, media_host=media_host, allow=allow)
        await endpoint.start(port)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), seconds)
        await endpoint.stop()

    asyncio.run(main())
