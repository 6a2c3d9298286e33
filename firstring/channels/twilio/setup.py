"""How to connect a Twilio number: the general steps, and one saved channel's own URLs and status."""

from __future__ import annotations

from firstring.channels.models import Channel
from firstring.channels.twilio.client import DEFAULT_API_BASE_URL, api_base_url, webhook_url

SETUP_HELP = """\
Connect a Twilio number (kind "sms") or WhatsApp sender (kind "whatsapp"):
1. Config: {"number": "+12025550101"} (the Twilio number in E.164; for WhatsApp the number without
   "whatsapp:"), or {"messaging_service_sid": "MG…"} to send through a Messaging Service.
2. Secrets (Twilio Console → Account → API keys & tokens): account_sid (AC…) and auth_token. Optionally an
   API key for sending: api_key_sid (SK…) and api_key_secret; webhooks are still checked with auth_token.
3. Save, then paste this channel's two URLs (listed below once saved) into the Twilio Console:
   Phone Numbers → your number → Messaging → "A message comes in": Webhook, HTTP POST, the inbound URL
   (for WhatsApp: Messaging → Senders → WhatsApp senders → your sender → Webhook URL for incoming
   messages, or the Messaging Service's Integration page). Replies ask for delivery updates at the status
   URL themselves; also paste it as the "Status callback URL" if the Console offers one.
4. The URLs start with SITE_URL: it must be the public https address Twilio reaches, since Twilio signs
   each request for exactly that URL (X-Twilio-Signature); a wrong SITE_URL means every webhook gets 403.
Rotating the Auth Token: in Twilio, create a secondary token; here set previous_auth_token to the current
token and auth_token to the new one; promote the secondary token in Twilio; then remove
previous_auth_token. Webhooks signed with either token are accepted in between.
Opt-outs: a customer who texts STOP (STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT) gets no more replies from
this channel until they text START (UNSTOP, YES); the numbers are listed in the channel's state.
"""


def setup_details(channel: Channel) -> str:
    """The channel's own webhook URLs and what is still missing, for the admin page (plain text)."""
    secrets = channel.secrets
    missing = [name for name in ("account_sid", "auth_token") if not secrets.get(name)]
    if not channel.config.get("number") and not channel.config.get("messaging_service_sid"):
        missing.append("config number (or messaging_service_sid)")
    lines = [
        f"Incoming messages webhook (HTTP POST): {webhook_url(channel, 'inbound')}",
        f"Status callback URL (HTTP POST):       {webhook_url(channel, 'status')}",
    ]
    account = str(secrets.get("account_sid") or "")
    if account:
        # Enough to recognise the account, not to use it.
        lines.append(f"Account: {account[:2]}…{account[-4:]}")
    if api_base_url(channel) != DEFAULT_API_BASE_URL:
        lines.append(f"REST API: {api_base_url(channel)} (not Twilio's own)")
    lines.append("Still missing: " + ", ".join(missing) if missing else "Credentials and number are set.")
    opted_out = channel.state.get("opted_out") or {}
    lines.append(f"Numbers opted out (texted STOP): {len(opted_out)}")
    return "\n".join(lines)
