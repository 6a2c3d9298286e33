"""The phone channel kind: one Channel of kind "phone" is one phone number, served through a gateway.

Twilio Programmable Voice is the gateway here (voice/phone/twilio.py); its webhooks live under
/channels/phone/twilio/<slug>/ (see urls.py). Point the number's "A call comes in" webhook at
…/incoming and its status callback at …/status (POST).

`config`: number (E.164), api_base_url (Twilio's REST API, default https://api.twilio.com),
hold_music_url (played while callers wait; silence otherwise), hold_message (said to them each turn of
the wait, after their position), voicemail_after_seconds (a caller waiting
longer is offered voicemail; default 300, 0 never), ring_seconds (how long an agent's line rings, 20).
`secrets`: account_sid, auth_token (signs webhooks, authenticates REST calls), previous_auth_token
(accepted on webhooks during a rotation), api_key_sid and api_key_secret (REST calls), as for Twilio
messaging (channels/twilio).
The number's self-service menu is a PhoneMenu (PUT /api/v1/phone-menus/<slug>, see voice/menu.py).

The self-hosted SIP endpoint (voice/phone/sip/, run by `firstring sip`) serves the same numbers for a
SIP trunk or PBX; a call through it is the same Call, menu and queue.

Calls are queued for routing by the voice app when the caller leaves the menu for a person, not when
they ring, so the kind does not route its inbound messages itself.
"""

from firstring.channels.registry import ChannelKind, register
from firstring.voice.gateway import register_gateway
from firstring.voice.phone.sip import SipGateway
from firstring.voice.phone.twilio import TwilioGateway, setup_details
from firstring.voice.selectors import agents_on_calls
from firstring.voice.services import on_escalation, on_routing

register(
    ChannelKind(
        kind="phone",
        label="Phone",
        icon="☎",
        routes_inbound=False,
        setup_details=setup_details,
        on_routing=on_routing,
        on_escalation=on_escalation,
        live=True,
        agents_engaged=agents_on_calls,
        # After a completed call the caller is asked to rate it with a key (`dialed`, then `survey`).
        survey_way="keys",
        setup_help=(
            "Set the Twilio number's voice webhook ('A call comes in') to "
            "<site>/channels/phone/twilio/<slug>/incoming and its status callback to …/status (HTTP POST). "
            "Secrets: account_sid and auth_token. Config: number, hold_music_url, voicemail_after_seconds."
        ),
    )
)
register_gateway(TwilioGateway())
register_gateway(SipGateway())
