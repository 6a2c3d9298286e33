"""SMS, MMS and WhatsApp through Twilio Programmable Messaging: signed webhooks in, the REST API out.

One `Channel` with kind "sms" is one Twilio phone number (or Messaging Service); kind "whatsapp" is one
WhatsApp sender on Twilio. Both kinds are this plug-in, served under /channels/twilio/<slug>/:

  POST inbound   Twilio's incoming-message webhook (form-encoded, X-Twilio-Signature); answers empty TwiML
  POST status    the StatusCallback of our replies: queued, sent, delivered, read, undelivered, failed

`config` (plain settings):
  number                 the channel's number in E.164 (+12025550101); replies come from it ("whatsapp:"
                         is added for WhatsApp). Required unless messaging_service_sid is set.
  messaging_service_sid  send replies through this Messaging Service (MG…) instead of `number`
  api_base_url           Twilio's REST API (default https://api.twilio.com); MMS media are fetched only
                         from this host
  max_media_bytes        largest media file stored from an MMS or WhatsApp message (default and at most
                         FIRSTRING_MAX_ATTACHMENT_BYTES); larger ones are listed, not stored
  status_callbacks       false to send replies without a StatusCallback (default true)

`secrets` (write-only in the admin):
  account_sid            the Twilio account (AC…)
  auth_token             its Auth Token: signs Twilio's webhooks, and authenticates REST calls and media
                         downloads unless an API key is set
  previous_auth_token    during a rotation, webhooks signed with the old token are still accepted
  api_key_sid, api_key_secret  an API key (SK…) for REST calls and media downloads instead of the token

`state` (kept by the plug-in): opted_out: {"+E164": {"keyword": "STOP", "at": ISO time}} for numbers
that texted an opt-out keyword (STOP, STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT, or Twilio's OptOutType);
replies to them are refused until they text START, UNSTOP or YES.

A text conversation has no thread of its own: a message joins the sender's open conversation on the
channel (within FIRSTRING_REOPEN_WINDOW_HOURS) or starts a new one. The MessageSid is the message's
external id, so a webhook Twilio delivers twice is stored once.
"""

from firstring.channels.registry import ChannelKind, register
from firstring.channels.twilio.optout import reply_block
from firstring.channels.twilio.setup import SETUP_HELP, setup_details
from firstring.channels.twilio.transport import send

KINDS = ("sms", "whatsapp")

register(
    ChannelKind(
        kind="sms",
        label="SMS",
        icon="📱",
        sender=send,
        setup_help=SETUP_HELP,
        setup_details=setup_details,
        reply_block=reply_block,
        survey_way="reply",
    )
)
register(
    ChannelKind(
        kind="whatsapp",
        label="WhatsApp",
        icon="🟢",
        sender=send,
        setup_help=SETUP_HELP,
        setup_details=setup_details,
        reply_block=reply_block,
        survey_way="reply",
    )
)
