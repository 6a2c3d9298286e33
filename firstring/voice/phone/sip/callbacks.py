"""Callbacks through the SIP endpoint: the agent's SIP phone rings first, then the customer, via the trunk.

A caller who pressed * in the queue has hung up (calls.py); their call waits in status `callback` with its
routing task's place. When an agent accepts it, `call_bridge` asks `SipGateway.call_back`, which names the
Call-ID our INVITE to the agent will carry and records it in the TRANSFERRED event; the endpoint sees that
event (the same poll as accepted calls) and runs a `Callback`: the agent's AgentLine.sip_uri is rung, then
the customer's number through the trunk (`FIRSTRING_SIP_TRUNK`: INVITE sip:<E.164>@trunk), and the two legs
are relayed as for an inbound bridge. The outcomes are recorded by the services Twilio's path uses: an agent
who does not answer puts the callback back in line (`call_requeue`), a customer who does not answer or
refuses ends it as not kept (`call_ended` while connecting), a conversation ends it as completed (kept).
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from firstring.voice.phone.sip.calls import reoffer, ring
from firstring.voice.phone.sip.message import Message, parse_uri, response
from firstring.voice.phone.sip.rtp import RtpLeg, open_leg
from firstring.voice.phone.sip.server import Dialog

if TYPE_CHECKING:
    from firstring.voice.phone.sip.endpoint import Endpoint

logger = logging.getLogger("firstring.voice.phone.sip")

DEFAULT_RING_SECONDS = 20
CALLING = "Calling the customer back."


def trunk_target(trunk: str, number: str) -> str:
    """The Request-URI of an outbound call through the trunk: the E.164 number as its user part."""
    uri = parse_uri(trunk)
    host = f"[{uri.host}]" if ":" in uri.host else uri.host
    return f"sip:{number}@{host}" + (f":{uri.port}" if uri.port else "")


class Callback:
    """One accepted callback: the agent's leg and the customer's, both dialled by us."""

    def __init__(self, endpoint: Endpoint, *, call_pk: int, external_id: str, agent_call_id: str) -> None:
        self.endpoint = endpoint
        self.call_pk = call_pk
        self.external_id = external_id
        self.agent_call_id = agent_call_id
        self.label = f"callback {external_id[:40]}"
        self.call: Any = None
        self.legs: dict[str, tuple[Dialog, RtpLeg]] = {}  # "agent", "customer" once answered
        self.flow: asyncio.Task[None] | None = None
        self.over = False

    def start(self) -> None:
        self.flow = self.endpoint.server.spawn(self.run())

    async def run(self) -> None:
        from firstring.voice.services import call_answered, call_ended, call_requeue, call_ring_caller

        db = self.endpoint.db
        try:
            self.call, agent_uri = await db.run(_callback_call, self.call_pk)
            number = next(
                (n for n in self.endpoint.numbers.values() if n.channel_id == self.call.channel_id), None
            )
            ring_seconds = number.ring_seconds if number is not None else DEFAULT_RING_SECONDS
            agent = await self._dial("agent", agent_uri, self.call.caller, ring_seconds, self.agent_call_id)
            if isinstance(agent, str):
                logger.info("%s: the agent's line did not take it: %s", self.label, agent)
                self.call = await db.run(call_requeue, call=self.call, reason=agent)
                return
            self.call = await db.run(call_ring_caller, call=self.call)
            self.endpoint.server.spawn(self._tell_agent(agent))
            target = trunk_target(self.endpoint.trunk, self.call.caller)
            customer = await self._dial("customer", target, self.call.number_called, ring_seconds)
            if isinstance(customer, str):
                logger.info("%s: the customer's line did not take it: %s", self.label, customer)
                self.call = await db.run(call_ended, call=self.call, reason=f"callback: {customer}")
                await self.hang_up()
                return
            agent.on_audio, customer.on_audio = customer.send, agent.send
            self.call = await db.run(call_answered, call=self.call, leg=self.legs["customer"][0].call_id)
            logger.info("%s: the agent and the customer are talking", self.label)
            await asyncio.Event().wait()  # until someone hangs up (a BYE cancels this flow)
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("%s failed; hanging up", self.label)
            await self.hang_up()
            if self.call is not None:
                await db.run(call_ended, call=self.call, reason="failed")
        finally:
            if not self.legs:
                self._close()

    async def _dial(
        self, role: str, target: str, caller: str, ring_seconds: int, call_id: str = ""
    ) -> RtpLeg | str:
        leg = await open_leg(
            host=self.endpoint.media_host, name=f"{role} leg of {self.label}", on_digit=lambda key: None
        )
        try:
            dialog = await ring(
                self.endpoint,
                target,
                leg,
                caller=caller,
                subject=f"Firstring callback {self.call.pk}",
                ring_seconds=ring_seconds,
                call_id=call_id,
            )
        except BaseException:
            leg.close()
            raise
        if isinstance(dialog, str):
            leg.close()
            return dialog
        self.legs[role] = (dialog, leg)
        self.endpoint.calls[(dialog.call_id, dialog.local_tag)] = self
        return leg

    async def _tell_agent(self, leg: RtpLeg) -> None:
        await leg.play(await self.endpoint.prompts.audio(CALLING, ""))

    # What the endpoint's handler asks of a call --------------------------------------------------------

    def pressed(self, key: str) -> None:
        """Keys in a callback are the parties' business."""

    def reinvite(self, dialog: Dialog, request: Message) -> Message:
        leg = next((leg for known, leg in self.legs.values() if known is dialog), None)
        if leg is None:
            return response(request, 481)
        return reoffer(self.endpoint, dialog, leg, request, self.label)

    def hung_up(self, dialog: Dialog) -> None:
        """A BYE from either party: the other is hung up and the call ends (completed once they talked;
        the agent leaving before the customer answered leaves the callback not kept)."""
        from firstring.voice.services import call_ended

        if self.over:
            return
        role = next((role for role, (known, _) in self.legs.items() if known is dialog), "line")
        logger.info("%s: the %s hung up", self.label, role)
        if self.flow is not None:
            self.flow.cancel()  # ringing the customer stops (a CANCEL) if it still rang
        talked = "customer" in self.legs
        reason = "completed" if talked else "callback: the agent hung up before the customer answered"
        server = self.endpoint.server
        server.spawn(self.hang_up(but=dialog))
        server.spawn(self._record(call_ended, reason))

    async def _record(self, call_ended: Any, reason: str) -> None:
        if self.call is not None:
            self.call = await self.endpoint.db.run(call_ended, call=self.call, reason=reason)
            logger.info("%s ended: %s", self.label, self.call.outcome)

    async def hang_up(self, but: Dialog | None = None) -> None:
        """We end the callback: BYE to whichever legs are still up (`but` the one that hung up)."""
        if self.over:
            return
        self.over = True
        dialogs = [dialog for dialog, _ in self.legs.values() if dialog is not but]
        self._close()
        await asyncio.gather(*(self.endpoint.server.bye(dialog) for dialog in dialogs))

    def _close(self) -> None:
        self.endpoint.callbacks.pop(self.external_id, None)
        for dialog, leg in self.legs.values():
            self.endpoint.calls.pop((dialog.call_id, dialog.local_tag), None)
            leg.close()
        self.legs.clear()


def _callback_call(call_pk: int) -> tuple[Any, str]:
    """The callback's Call and its agent's SIP address."""
    from firstring.voice.models import AgentLine, Call

    call = Call.objects.get(pk=call_pk)
    uri = AgentLine.objects.filter(user=call.agent).values_list("sip_uri", flat=True).first()
    return call, uri or ""
