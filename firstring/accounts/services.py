"""Writes on users and tokens."""

from __future__ import annotations

import hashlib
import secrets

from django.db import transaction
from django.utils import timezone

from firstring.accounts.models import ApiToken, User

TOKEN_PREFIX = "fr_"  # noqa: S105 (a marker, not a secret)


def _hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def api_token_create(*, user: User, name: str = "") -> tuple[ApiToken, str]:
    """Create a token for user; returns the row and the raw token, which is never stored."""
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(user=user, name=name, prefix=raw[:10], key_hash=_hash_token(raw))
    return token, raw


def api_token_authenticate(*, raw: str) -> User | None:
    """The active user behind a bearer token, or None. Touches last_used_at at most once a minute."""
    if not raw.startswith(TOKEN_PREFIX) or len(raw) > 200:
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=_hash_token(raw), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


def api_token_revoke(*, token: ApiToken) -> None:
    with transaction.atomic():
        ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())


def admin_ensure(*, email: str, password: str | None) -> tuple[User, str | None]:
    """Make sure a first admin exists. Returns the admin and a generated password if one was made.

    Idempotent: an existing user with that address is kept as it is (its password is only set
    when one is given explicitly), so running `make run` twice keeps the data.
    """
    email = email.strip().lower()
    generated: str | None = None
    with transaction.atomic():
        user = User.objects.select_for_update().filter(email=email).first()
        if user is None:
            if not password:
                generated = password = secrets.token_urlsafe(12)
            user = User.objects.create_superuser(email=email, password=password, name="Admin")
        elif password and not user.check_password(password):
            user.set_password(password)
            user.save(update_fields=["password"])
    return user, generated
