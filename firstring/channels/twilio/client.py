"""What every part of the plug-in reads from a channel: addresses, credentials, the REST client."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from firstring.channels.models import Channel

DEFAULT_API_BASE_URL = "https://api.twilio.com"
WHATSAPP_PREFIX = "whatsapp:"
TIMEOUT_SECONDS = 10.0


class MissingCredentials(Exception):
    """The channel lacks the secrets a call to Twilio needs."""


def is_whatsapp(channel: Channel) -> bool:
    return channel.kind == "whatsapp"


def address(channel: Channel, phone: str) -> str:
    """A number as Twilio addresses it on this channel: +E164, or whatsapp:+E164."""
    return f"{WHATSAPP_PREFIX}{phone}" if is_whatsapp(channel) else phone


def api_base_url(channel: Channel) -> str:
    return str(channel.config.get("api_base_url") or DEFAULT_API_BASE_URL).rstrip("/")


def api_origin(channel: Channel) -> tuple[str, str]:
    """(scheme, host:port) of the REST API: the only place MMS media are fetched from."""
    parts = urlsplit(api_base_url(channel))
    return parts.scheme, parts.netloc.lower()


def auth_tokens(channel: Channel) -> list[str]:
    """The tokens a webhook may be signed with: the current one, then the previous during a rotation."""
    tokens = [channel.secrets.get("auth_token"), channel.secrets.get("previous_auth_token")]
    return [str(token) for token in tokens if token]


def rest_credentials(channel: Channel) -> tuple[str, str, str]:
    """(username, password, account_sid) for REST calls and media downloads: an API key, else the token."""
    account_sid = str(channel.secrets.get("account_sid") or "")
    key_sid = str(channel.secrets.get("api_key_sid") or "")
    key_secret = str(channel.secrets.get("api_key_secret") or "")
    token = str(channel.secrets.get("auth_token") or "")
    if not account_sid or not (token or (key_sid and key_secret)):
        raise MissingCredentials(
            f"channel {channel.slug} has no Twilio credentials (secrets account_sid and auth_token)"
        )
    if key_sid and key_secret:
        return key_sid, key_secret, account_sid
    return account_sid, token, account_sid


def max_media_bytes(channel: Channel) -> int:
    limit = int(settings.FIRSTRING_MAX_ATTACHMENT_BYTES)
    try:
        configured = int(channel.config.get("max_media_bytes") or limit)
    except (TypeError, ValueError):
        configured = limit
    return max(0, min(configured, limit))


def rest_client(channel: Channel) -> Client:
    """The official client, talking to the channel's api_base_url with a timeout."""
    username, password, account_sid = rest_credentials(channel)
    client = Client(
        username,
        password,
        account_sid,
        http_client=TwilioHttpClient(timeout=TIMEOUT_SECONDS),
        # Not os.environ: TWILIO_EDGE or TWILIO_REGION there would send requests elsewhere.
        environment={"TWILIO_EDGE": "", "TWILIO_REGION": ""},
    )
    client.api.base_url = api_base_url(channel)
    return client


def webhook_url(channel: Channel, name: str) -> str:
    """The public URL of one of the channel's webhooks ("inbound" or "status"), as Twilio is told it."""
    return f"{settings.SITE_URL.rstrip('/')}/channels/twilio/{channel.slug}/{name}"
