"""The one interface between Firstring and a telephony provider.

An adapter (Twilio's webhooks and REST API in voice/twilio/, a self-hosted SIP endpoint later) turns what
its provider says into calls of the services in voice/services.py, which record the channel-neutral
CallEvents; and it implements CallGateway for what Firstring asks of the provider.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from firstring.accounts.models import User
    from firstring.voice.models import AgentLine, Call


class GatewayError(Exception):
    """The provider refused or could not be reached; the call goes back to the queue."""


class CallGateway(Protocol):
    provider: str

    def bridge(self, *, call: Call, agent: User, line: AgentLine) -> None:
        """Connect the waiting caller to the agent's line (their phone or softphone rings)."""
        ...

    def call_back(self, *, call: Call, agent: User, line: AgentLine) -> str:
        """Ring the agent's line, and when they answer, the caller's number; the agent's leg id."""
        ...

    def conference(self, *, call: Call, leg: str, manager: User, line: AgentLine) -> None:
        """Move the bridged call (its dialled `leg` and the leg that dialled it) into the conference named
        `call.conference`, and ring the manager's line into it."""
        ...


_GATEWAYS: dict[str, CallGateway] = {}


def register_gateway(gateway: CallGateway) -> None:
    _GATEWAYS[gateway.provider] = gateway


def gateway_for(provider: str) -> CallGateway:
    try:
        return _GATEWAYS[provider]
    except KeyError:
        raise GatewayError(f"no telephony gateway {provider!r} is installed") from None
