"""The public survey link: the request's random token, signed, so a forged link is refused unread."""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.urls import reverse

SALT = "firstring.surveys.link"


def signed_token(token: str) -> str:
    return signing.Signer(salt=SALT).sign(token)


def token_from(signed: str) -> str | None:
    """The token a link names, or None when its signature does not hold."""
    try:
        return signing.Signer(salt=SALT).unsign(signed)
    except signing.BadSignature:
        return None


def survey_path(token: str) -> str:
    return reverse("surveys:page", args=[signed_token(token)])


def survey_url(token: str) -> str:
    return settings.SITE_URL.rstrip("/") + survey_path(token)
