"""The self-hosted SIP adapter: Firstring's own SIP endpoint over UDP, run by `firstring sip`.

A SIP trunk or the company PBX sends a phone number's calls to it (INVITE sip:+12025550100@host:5060);
the number is a Channel of kind "phone" whose config `number` matches the Request-URI's user part
(digits compared); `ring_seconds` bounds how long an agent's SIP phone rings (20). Agents' phones are
their AgentLine.sip_uri. The pieces: message.py (strict parsing), sdp.py (offer/answer: PCMU and
RFC 4733), rtp.py (media), prompts.py (espeak-ng + sox text-to-speech), speech.py (spoken menu
keywords, pocketsphinx), recordings.py (voicemails), server.py (transactions and dialogs), calls.py (one
call's flow on the voice services), callbacks.py (ringing the agent, then the customer through the trunk
named by FIRSTRING_SIP_TRUNK), endpoint.py (numbers, calls, `run_endpoint`). See
docs/adr/0017-a-sip-endpoint-of-our-own.md.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

from django.conf import settings

from firstring.voice.gateway import GatewayError

if TYPE_CHECKING:
    from firstring.accounts.models import User
    from firstring.voice.models import AgentLine, Call

PROVIDER = "sip"


class SipGateway:
    """Bridging happens in the SIP endpoint's process, which watches for accepted calls in the database
    (`call_bridge` moved it to connecting); here only what can be refused at once is refused."""

    provider = PROVIDER

    def bridge(self, *, call: Call, agent: User, line: AgentLine) -> None:
        if not line.sip_uri:
            raise GatewayError(f"{agent.email} has no SIP address for calls of the SIP endpoint")

    def call_back(self, *, call: Call, agent: User, line: AgentLine) -> str:
        """The endpoint rings the agent, then the customer through the trunk (callbacks.py), when it sees
        the TRANSFERRED event carrying the Call-ID named here for the agent's leg."""
        if not settings.FIRSTRING_SIP_TRUNK:
            raise GatewayError(
                "callbacks over the SIP endpoint need a trunk for outbound calls (FIRSTRING_SIP_TRUNK)"
            )
        if not line.sip_uri:
            raise GatewayError(f"{agent.email} has no SIP address for calls of the SIP endpoint")
        return f"{secrets.token_hex(8)}@firstring"

    def conference(self, *, call: Call, leg: str, manager: User, line: AgentLine) -> None:
        # The endpoint mixes the manager in itself when it sees the ESCALATED event naming them.
        if not line.sip_uri:
            raise GatewayError(f"{manager.email} has no SIP address to ring into the call")
