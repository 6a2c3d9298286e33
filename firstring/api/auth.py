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
