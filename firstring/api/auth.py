from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.security import HttpBearer

from firstring.accounts.models import User
from firstring.accounts.services import api_token_authenticate


class TokenAuth(HttpBearer):
    """Per-user, revocable bearer tokens: `Authorization: Bearer fr_…`."""

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        user = api_token_authenticate(raw=token)
        if user is not None:
            request.user = user
        return user


def current_user(request: Any) -> User:
    user = request.auth
    assert isinstance(user, User)
    return user


class Anonymous:
    """Nobody signed in: a public read."""


ANONYMOUS = Anonymous()


def public_read(request: HttpRequest) -> Anonymous | None:
    """A read open to anyone without a token; a request that sends a token must send a valid one (401)."""
    return None if "Authorization" in request.headers else ANONYMOUS


# Public reads: a staff token sees more, no token sees what the public pages show.
READ_AUTH = [TokenAuth(), public_read]


def staff_user(request: Any) -> User | None:
    """The staff user behind the request's token, or None for a public read."""
    return request.auth if isinstance(request.auth, User) else None
