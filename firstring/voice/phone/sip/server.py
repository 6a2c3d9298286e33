"""The SIP endpoint: one UDP socket, transactions and dialogs enough for a UAS and a B2BUA.

Requests understood: INVITE (a new call, or a re-INVITE in a dialog), ACK, BYE, CANCEL, OPTIONS, INFO;
anything else gets 405. Server transactions are matched by the top Via branch: a retransmitted request
gets the response it got before. A 200 to INVITE is retransmitted (RFC 3261 §13.3.1.4, T1 doubling to
T2) until its ACK, and the call is hung up when none comes within 64·T1. Our own requests (BYE, the
INVITE to an agent) are retransmitted until answered. Responses always go to the address the request
came from (as RFC 3581's rport), which is what a trunk behind NAT needs.

A datagram that does not parse is logged with its source and reason; a request answered with 400 when it
still names a Via, From, To, Call-ID and CSeq; an in-dialog request for no dialog of ours gets 481. None
of it stops the server.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from ipaddress import IPv4Network, IPv6Network, ip_address
from typing import Any, Protocol, cast

from firstring.voice.phone.sip.message import Message, SipParseError, addressable, parse, response, uri_of

logger = logging.getLogger("firstring.voice.phone.sip")

T1 = 0.5
T2 = 4.0
ALLOW = "INVITE, ACK, BYE, CANCEL, OPTIONS, INFO"
TRANSACTION_SECONDS = 32.0  # 64·T1: how long a transaction's answer is kept for retransmissions

Address = tuple[str, int]


def token() -> str:
    return secrets.token_hex(8)


@dataclass
class Dialog:
    """One side of a call as RFC 3261 §12 keeps it; `peer` is where its requests and responses go."""

    call_id: str
    local_tag: str
    remote_tag: str
    local: str  # our From/To header value, with our tag
    remote: str  # theirs, with their tag
    target: str  # the peer's Contact URI: the Request-URI of our in-dialog requests
    peer: Address
    route: list[str] = field(default_factory=list)
    cseq: int = 0


class Handler(Protocol):
    """What the server asks of the application (the call flow in calls.py)."""

    def invite(self, request: Message, source: Address, transaction: ServerInvite) -> None: ...
    def reinvite(self, dialog: Dialog, request: Message) -> Message: ...
    def bye(self, dialog: Dialog) -> None: ...
    def cancelled(self, transaction: ServerInvite) -> None: ...
    def info(self, dialog: Dialog, request: Message) -> int: ...
    def unacknowledged(self, dialog: Dialog) -> None: ...


@dataclass
class ServerInvite:
    """An INVITE we answer: its final response is retransmitted until the ACK."""

    request: Message
    source: Address
    to_tag: str = field(default_factory=token)
    final: Message | None = None
    acked: asyncio.Event = field(default_factory=asyncio.Event)


class SipServer(asyncio.DatagramProtocol):
    def __init__(self, *, handler: Handler, allow: Sequence[IPv4Network | IPv6Network] = ()) -> None:
        self.handler = handler
        # The trunks and PBXs that may talk to us (empty: anyone); others are dropped unanswered, as
        # an endpoint on the internet is scanned for open relays all day.
        self.allow = tuple(allow)
        self._refused: set[str] = set()
        self.transport: asyncio.DatagramTransport | None = None
        self.address: Address = ("127.0.0.1", 0)
        self.dialogs: dict[tuple[str, str], Dialog] = {}  # (Call-ID, our tag)
        self._answers: dict[tuple[str, str], bytes] = {}  # (branch, method) → the last response sent
        self._invites: dict[str, ServerInvite] = {}  # branch → the INVITE still to be ACKed or cancelled
        self._pending: dict[str, asyncio.Future[Message]] = {}  # branch of our request → its final answer
        self._provisional: dict[str, Callable[[Message], None]] = {}
        self.tasks: set[asyncio.Task[None]] = set()

    # Transport ---------------------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)
        host, port = transport.get_extra_info("sockname")[:2]
        self.address = (host, port)

    @property
    def contact(self) -> str:
        host, port = self.address
        return f"<sip:firstring@{f'[{host}]' if ':' in host else host}:{port}>"

    def send(self, message: Message, to: Address) -> bytes:
        data = message.encode()
        if self.transport is not None and not self.transport.is_closing():
            self.transport.sendto(data, to)
        return data

    def spawn(self, coroutine: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.ensure_future(coroutine)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        source = (addr[0], addr[1])
        if self.allow and not any(ip_address(source[0]) in network for network in self.allow):
            if source[0] not in self._refused and len(self._refused) < 1000:
                self._refused.add(source[0])
                logger.warning("SIP from %s dropped: not an allowed address (--allow)", source[0])
            return
        if not data.strip():
            return  # a keep-alive (RFC 5626 CRLF)
        try:
            message = parse(data)
        except SipParseError as error:
            logger.warning("malformed SIP from %s:%s dropped: %s", *source, error)
            request = addressable(data)
            if request is not None:
                self.send(
                    response(request, 400, to_tag=token(), reason=f"Bad Request ({error})"[:120]), source
                )
            return
        try:
            if message.is_request:
                self._request(message, source)
            else:
                self._response(message)
        except SipParseError as error:
            logger.warning("%s from %s:%s refused: %s", message.method or message.status, *source, error)
            if message.is_request and message.method != "ACK":
                self._answer(message, source, 400, reason=f"Bad Request ({error})"[:120])
        except Exception:
            # A bug in handling one message must not stop the server answering the others.
            logger.exception("handling SIP %s from %s:%s failed", message.method or message.status, *source)
            if message.is_request and message.method != "ACK":
                self._answer(message, source, 500)

    def _answer(
        self,
        request: Message,
        source: Address,
        status: int,
        *,
        to_tag: str = "",
        reason: str = "",
        headers: list[tuple[str, str]] | None = None,
        body: bytes = b"",
        content_type: str = "",
    ) -> Message:
        answer = response(request, status, to_tag=to_tag or token(), reason=reason)
        for name, value in headers or []:
            answer.headers.append((name, value))
        if body:
            answer.headers.append(("Content-Type", content_type))
            answer.body = body
        self._answers[(request.branch, request.method)] = self.send(answer, source)
        asyncio.get_running_loop().call_later(
            TRANSACTION_SECONDS, self._answers.pop, (request.branch, request.method), None
        )
        return answer

    # Requests ----------------------------------------------------------------------------------------

    def _request(self, request: Message, source: Address) -> None:
        if request.method == "ACK":
            self._ack(request)
            return
        sent = self._answers.get((request.branch, request.method))
        if sent is not None and self.transport is not None:
            self.transport.sendto(sent, source)  # a retransmission: the same answer again
            return
        if request.method == "INVITE" and request.branch in self._invites:
            return  # still being answered
        if request.method == "INVITE" and not request.to_tag:
            self._invite(request, source)
        elif request.method == "CANCEL":
            self._cancel(request, source)
        elif request.method == "OPTIONS" and not request.to_tag:
            self._answer(
                request,
                source,
                200,
                headers=[("Allow", ALLOW), ("Accept", "application/sdp, application/dtmf-relay")],
            )
        elif request.method in ("INVITE", "BYE", "INFO", "OPTIONS"):
            self._in_dialog(request, source)
        else:
            self._answer(request, source, 405, headers=[("Allow", ALLOW)])

    def _invite(self, request: Message, source: Address) -> None:
        transaction = ServerInvite(request=request, source=source)
        self._invites[request.branch] = transaction
        self.provisional(transaction, 100)
        self.handler.invite(request, source, transaction)

    def provisional(self, transaction: ServerInvite, status: int) -> None:
        answer = response(transaction.request, status, to_tag=transaction.to_tag if status > 100 else "")
        self.send(answer, transaction.source)

    def accept(self, transaction: ServerInvite, sdp: bytes) -> Dialog | None:
        """Answer the INVITE with 200 and our SDP: the dialog it makes (None if cancelled meanwhile)."""
        if transaction.final is not None:
            return None
        request = transaction.request
        answer = response(request, 200, to_tag=transaction.to_tag)
        answer.headers += [("Contact", self.contact), ("Allow", ALLOW), ("Content-Type", "application/sdp")]
        answer.body = sdp
        transaction.final = answer
        contact = request.get("contact")
        dialog = Dialog(
            call_id=request.call_id,
            local_tag=transaction.to_tag,
            remote_tag=request.from_tag,
            local=answer.get("to"),
            remote=request.get("from"),
            target=uri_of(contact) if contact else uri_of(request.get("from")),
            peer=transaction.source,
            route=request.get_all("record-route"),
        )
        self.dialogs[(dialog.call_id, dialog.local_tag)] = dialog
        self.spawn(self._until_acked(transaction, dialog))
        return dialog

    def reject(self, transaction: ServerInvite, status: int, reason: str = "") -> None:
        if transaction.final is not None:
            return
        transaction.final = response(transaction.request, status, to_tag=transaction.to_tag, reason=reason)
        self.spawn(self._until_acked(transaction, None))

    async def _until_acked(self, transaction: ServerInvite, dialog: Dialog | None) -> None:
        assert transaction.final is not None
        interval = T1
        loop = asyncio.get_running_loop()
        deadline = loop.time() + TRANSACTION_SECONDS
        try:
            while loop.time() < deadline:
                self.send(transaction.final, transaction.source)
                try:
                    await asyncio.wait_for(transaction.acked.wait(), min(interval, deadline - loop.time()))
                    return
                except TimeoutError:
                    interval = min(interval * 2, T2)
            logger.warning(
                "no ACK for call %s from %s:%s", transaction.request.call_id[:64], *transaction.source
            )
            if dialog is not None:
                self.handler.unacknowledged(dialog)
        finally:
            self._invites.pop(transaction.request.branch, None)

    def _ack(self, request: Message) -> None:
        for transaction in self._invites.values():
            if transaction.request.call_id == request.call_id and transaction.to_tag == request.to_tag:
                transaction.acked.set()
                return
        if (request.call_id, request.to_tag) not in self.dialogs:
            logger.info("ACK for no dialog of ours (Call-ID %s) ignored", request.call_id[:64])

    def _cancel(self, request: Message, source: Address) -> None:
        transaction = self._invites.get(request.branch)
        if transaction is None:
            logger.info("CANCEL for no INVITE of ours (Call-ID %s): 481", request.call_id[:64])
            self._answer(request, source, 481)
            return
        self._answer(request, source, 200)
        if transaction.final is None:
            self.reject(transaction, 487)
            self.handler.cancelled(transaction)

    def _in_dialog(self, request: Message, source: Address) -> None:
        dialog = self.dialogs.get((request.call_id, request.to_tag))
        if dialog is None or dialog.remote_tag != request.from_tag:
            logger.info(
                "%s for no dialog of ours from %s:%s (Call-ID %s): 481",
                request.method,
                *source,
                request.call_id[:64],
            )
            self._answer(request, source, 481)
            return
        if request.method == "BYE":
            self._answer(request, source, 200, to_tag=dialog.local_tag)
            self.forget(dialog)
            self.handler.bye(dialog)
        elif request.method == "INFO":
            self._answer(request, source, self.handler.info(dialog, request), to_tag=dialog.local_tag)
        elif request.method == "OPTIONS":
            self._answer(request, source, 200, to_tag=dialog.local_tag, headers=[("Allow", ALLOW)])
        else:  # a re-INVITE (hold, a moved media address): answered at once with our SDP
            answer = self.handler.reinvite(dialog, request)
            if answer.status == 200:
                transaction = ServerInvite(
                    request=request, source=source, to_tag=dialog.local_tag, final=answer
                )
                answer.headers.append(("Contact", self.contact))
                self._invites[request.branch] = transaction
                self.spawn(self._until_acked(transaction, None))
            else:
                self._answer(request, source, answer.status, to_tag=dialog.local_tag)

    def forget(self, dialog: Dialog) -> None:
        self.dialogs.pop((dialog.call_id, dialog.local_tag), None)

    # Our requests (UAC) ------------------------------------------------------------------------------

    def _response(self, answer: Message) -> None:
        future = self._pending.get(answer.branch)
        if future is None:
            logger.info(
                "a %s response for no request of ours ignored (Call-ID %s)",
                answer.status,
                answer.call_id[:64],
            )
            return
        if answer.status < 200:
            callback = self._provisional.get(answer.branch)
            if callback is not None:
                callback(answer)
        elif not future.done():
            future.set_result(answer)

    async def request(
        self,
        request: Message,
        to: Address,
        *,
        timeout: float = TRANSACTION_SECONDS,
        on_provisional: Callable[[Message], None] | None = None,
    ) -> Message | None:
        """Send a request and retransmit it until its final response (None: no answer within `timeout`)."""
        branch = request.branch
        future: asyncio.Future[Message] = asyncio.get_running_loop().create_future()
        self._pending[branch] = future
        heard = False

        def provisional(answer: Message) -> None:
            nonlocal heard
            heard = True  # an INVITE answered provisionally is not retransmitted any more (timer A stops)
            if on_provisional is not None:
                on_provisional(answer)

        self._provisional[branch] = provisional
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        interval = T1
        try:
            while loop.time() < deadline:
                if not heard:
                    self.send(request, to)
                try:
                    return await asyncio.wait_for(
                        asyncio.shield(future), min(interval, deadline - loop.time())
                    )
                except TimeoutError:
                    interval = min(interval * 2, T2)
            return None
        finally:
            self._pending.pop(branch, None)
            self._provisional.pop(branch, None)

    def in_dialog_request(
        self, dialog: Dialog, method: str, *, body: bytes = b"", content_type: str = ""
    ) -> Message:
        dialog.cseq += 1
        host, port = self.address
        request = Message(method=method, uri=dialog.target)
        request.headers += [
            ("Via", f"SIP/2.0/UDP {host}:{port};branch=z9hG4bK{token()};rport"),
            ("Max-Forwards", "70"),
            ("From", dialog.local),
            ("To", dialog.remote),
            ("Call-ID", dialog.call_id),
            ("CSeq", f"{dialog.cseq} {method}"),
        ]
        request.headers += [("Route", route) for route in reversed(dialog.route)] if dialog.route else []
        if body:
            request.headers.append(("Content-Type", content_type))
            request.body = body
        return request

    def ack(self, dialog: Dialog, cseq: int) -> None:
        host, port = self.address
        ack = Message(method="ACK", uri=dialog.target)
        ack.headers += [
            ("Via", f"SIP/2.0/UDP {host}:{port};branch=z9hG4bK{token()};rport"),
            ("Max-Forwards", "70"),
            ("From", dialog.local),
            ("To", dialog.remote),
            ("Call-ID", dialog.call_id),
            ("CSeq", f"{cseq} ACK"),
        ]
        self.send(ack, dialog.peer)

    async def bye(self, dialog: Dialog) -> None:
        """Hang up our side of a dialog."""
        self.forget(dialog)
        answer = await self.request(self.in_dialog_request(dialog, "BYE"), dialog.peer, timeout=8)
        if answer is None:
            logger.info("no answer to our BYE for call %s", dialog.call_id[:64])
