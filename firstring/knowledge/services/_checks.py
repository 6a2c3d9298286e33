"""Checks every knowledge write shares: who may edit, and text the databases can store."""

from __future__ import annotations

from firstring.accounts.models import User
from firstring.lib.errors import Forbidden, InvalidInput


def require_editor(actor: User) -> None:
    """Managers and admins edit the knowledge base; agents read it."""
    if not actor.is_active or not actor.sees_everything:
        raise Forbidden("only managers and admins edit the knowledge base")


def clean_text(value: str, *, field: str, max_length: int, required: bool = False) -> str:
    if "\x00" in value:
        raise InvalidInput(f"{field} may not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput(f"{field} must be valid Unicode") from None
    value = value.strip() if max_length <= 300 else value
    if required and not value.strip():
        raise InvalidInput(f"{field} is required")
    if len(value) > max_length:
        raise InvalidInput(f"{field} is longer than {max_length} characters")
    return value
