"""Who may do what: the signed-in staff member of a request, and the check for managers' work."""

from __future__ import annotations

from django.http import HttpRequest

from firstring.accounts.models import User
from firstring.lib.errors import Forbidden


def signed_in_user(request: HttpRequest) -> User:
    """The staff member of a request that passed `login_required` (a customer session never gets here)."""
    assert isinstance(request.user, User)
    return request.user


def require_manager(user: User, refusal: str) -> User:
    """The user, if a manager or admin; else Forbidden with `refusal` ("only managers edit …")."""
    if not user.sees_everything:
        raise Forbidden(refusal)
    return user
