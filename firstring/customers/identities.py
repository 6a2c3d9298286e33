"""Turning what a channel says about a sender into a normalised identity."""

from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from firstring.customers.models import Identity
from firstring.lib.errors import InvalidInput

_HANDLE_RE = re.compile(r"^[\w.\-@:]{1,300}$", re.UNICODE)
_VISITOR_RE = re.compile(r"^[\w\-.:]{1,200}$")


class InvalidIdentity(InvalidInput):
    """A sender identity that cannot be normalised (bad e-mail, impossible phone number …)."""


@dataclass(frozen=True)
class IdentityClaim:
    kind: str
    value: str
    network: str = ""


def normalize_email(value: str) -> str:
    value = value.strip()
    try:
        validate_email(value)
    except ValidationError:
        raise InvalidIdentity(f"not a valid e-mail address: {value[:100]!r}") from None
    return value.lower()


def normalize_phone(value: str, region: str | None = None) -> str:
    try:
        number = phonenumbers.parse(value.strip(), region or settings.FIRSTRING_DEFAULT_PHONE_REGION)
    except phonenumbers.NumberParseException:
        raise InvalidIdentity(f"not a phone number: {value[:100]!r}") from None
    if not phonenumbers.is_possible_number(number):
        raise InvalidIdentity(f"not a possible phone number: {value[:100]!r}")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_handle(value: str) -> str:
    handle = value.strip().lstrip("@").lower()
    if not _HANDLE_RE.match(handle):
        raise InvalidIdentity(f"not a social handle: {value[:100]!r}")
    return handle


def normalize_claim(claim: IdentityClaim) -> IdentityClaim:
    """Return the claim with its value in canonical form, or raise InvalidIdentity."""
    kind = claim.kind
    network = claim.network.strip().lower()
    if kind == Identity.Kind.EMAIL:
        return IdentityClaim(kind, normalize_email(claim.value))
    if kind == Identity.Kind.PHONE:
        return IdentityClaim(kind, normalize_phone(claim.value))
    if kind == Identity.Kind.HANDLE:
        if not network:
            raise InvalidIdentity("a social handle needs its network")
        return IdentityClaim(kind, normalize_handle(claim.value), network)
    if kind in (Identity.Kind.VISITOR, Identity.Kind.EXTERNAL):
        value = claim.value.strip()
        if not _VISITOR_RE.match(value):
            raise InvalidIdentity(f"not a valid {kind} id: {claim.value[:100]!r}")
        return IdentityClaim(kind, value, network)
    raise InvalidIdentity(f"unknown identity kind {kind!r}")
