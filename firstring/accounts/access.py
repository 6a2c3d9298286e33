"""Who may do what: the one check for work that is managers' (and admins') alone."""

from __future__ import annotations

from firstring.accounts.models import User
from firstring.lib.errors import Forbidden


def require_manager(user: User, refusal: str) -> User:
    """The user, if a manager or admin; else Forbidden with `refusal` ("only managers edit …")."""
    if not user.sees_everything:
        raise Forbidden(refusal)
    return user
