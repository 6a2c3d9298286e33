"""Who a chat visitor is: a signed visitor token, and maybe an identity the embedding site vouches for."""

from __future__ import annotations

import hashlib
import hmac
import secrets as random
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.core import signing

from firstring.channels.models import Channel
from firstring.customers.identities import IdentityClaim, InvalidIdentity, normalize_claim
from firstring.customers.models import Identity
from firstring.lib.errors import Forbidden, InvalidInput

TOKEN_SALT = "firstring.chat.visitor"  # noqa: S105 - a signing namespace
# A visitor who comes back within this time is the same visitor; the cookie lives as long.
TOKEN_MAX_AGE_SECONDS = 400 * 24 * 3600
MAX_CLAIM_CHARS = 200


@dataclass(frozen=True)
class Visitor:
    """One browser on one chat channel; `claim` is who their messages come from."""

    channel: Channel
    visitor_id: str
    token: str
    claim: IdentityClaim
    verified: bool


def visitor_token_issue(*, channel: Channel) -> tuple[str, str]:
    """A new visitor id and the token that proves it, bound to this channel."""
    visitor_id = random.token_urlsafe(18)
    return visitor_id, signing.dumps({"c": channel.pk, "v": visitor_id}, salt=TOKEN_SALT)


def visitor_from_token(*, channel: Channel, token: str) -> str | None:
    """The visitor id a token proves for this channel, or None for a forged, expired or foreign token."""
    if not token or len(token) > 500:
        return None
    try:
        data = signing.loads(token, salt=TOKEN_SALT, max_age=TOKEN_MAX_AGE_SECONDS)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or data.get("c") != channel.pk or not isinstance(data.get("v"), str):
        return None
    return str(data["v"])


def identity_hash(secret: str, value: str) -> str:
    """What the embedding site computes on its server for a signed-in user: hex HMAC-SHA256 of the value."""
    return hmac.new(secret.encode(), value.encode(), hashlib.sha256).hexdigest()


def verified_claim(*, channel: Channel, user: dict[str, Any]) -> IdentityClaim:
    """The identity a site vouches for: {"id": …} or {"email": …} with "hash". Forbidden when it does not."""
    user_id, email, given = user.get("id"), user.get("email"), user.get("hash")
    if not isinstance(given, str) or not given:
        raise InvalidInput("a verified user needs its hash")
    if user_id is not None and email is not None:
        raise InvalidInput("give a user id or an e-mail address, not both")
    value = user_id if user_id is not None else email
    if not isinstance(value, str | int) or isinstance(value, bool) or not str(value).strip():
        raise InvalidInput("a verified user needs an id or an e-mail address")
    value = str(value)
    if len(value) > MAX_CLAIM_CHARS:
        raise InvalidInput(f"the user's id is longer than {MAX_CLAIM_CHARS} characters")
    secret = str(channel.secrets.get("identity_secret") or "")
    if not secret:
        raise Forbidden("this chat does not accept verified users (no identity_secret is set)")
    if not hmac.compare_digest(identity_hash(secret, value).encode(), given.strip().lower().encode()):
        raise Forbidden("the user's hash does not match")
    try:
        if email is not None:
            return normalize_claim(IdentityClaim(Identity.Kind.EMAIL, value))
        namespace = str(channel.config.get("identity_namespace") or channel.slug)[:32]
        return normalize_claim(IdentityClaim(Identity.Kind.EXTERNAL, value, namespace))
    except InvalidIdentity as error:
        raise InvalidInput(str(error)) from None


def visitor_identify(*, channel: Channel, token: str, user: dict[str, Any] | None) -> Visitor:
    """The visitor behind a token (a new one when it is missing or not valid), verified when `user` is.

    Raises Forbidden for a user whose hash does not match, and nothing is joined: an unverified claim
    never reaches anybody's history. A verified visitor's messages come from the verified identity only,
    so the browser's anonymous visitor id is never attached to a signed-in customer (a shared computer's
    next, signed-out visitor does not see their chats).
    """
    claim = verified_claim(channel=channel, user=user) if user is not None else None
    visitor_id = visitor_from_token(channel=channel, token=token)
    if visitor_id is None:
        visitor_id, token = visitor_token_issue(channel=channel)
    if claim is not None:
        return Visitor(channel=channel, visitor_id=visitor_id, token=token, claim=claim, verified=True)
    anonymous = IdentityClaim(Identity.Kind.VISITOR, visitor_id)
    return Visitor(channel=channel, visitor_id=visitor_id, token=token, claim=anonymous, verified=False)


def visitor_resume(*, channel: Channel, token: str, user: dict[str, Any] | None) -> Visitor:
    """The visitor a valid token names (verified when `user` is); Forbidden for any other token.

    For requests outside the websocket (file uploads): they never start a new visitor.
    """
    visitor_id = visitor_from_token(channel=channel, token=token)
    if visitor_id is None:
        raise Forbidden("the visitor token is missing or not valid; open the chat first")
    return visitor_identify(channel=channel, token=token, user=user)


def origin_allowed(*, channel: Channel, origin: str) -> bool:
    """Whether a page on `origin` (scheme://host[:port]) may talk to this channel."""
    allowed = channel.config.get("allowed_origins") or []
    if not isinstance(allowed, list):
        return False
    if "*" in allowed:
        return True
    normalised = _origin(origin)
    return bool(normalised) and normalised in {_origin(str(entry)) for entry in allowed}


def _origin(value: str) -> str:
    parts = urlsplit(value.strip().rstrip("/"))
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return ""
    default = {"http": 80, "https": 443}[parts.scheme]
    try:
        port = parts.port or default
    except ValueError:
        return ""
    return f"{parts.scheme}://{parts.hostname.lower()}:{port}"
