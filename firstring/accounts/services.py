"""Writes on users and tokens."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify

from firstring.accounts.models import ApiToken, Team, User
from firstring.lib.errors import Conflict, Forbidden, InvalidInput, NotFound

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


def user_is_admin(user: User) -> bool:
    return user.role == User.Role.ADMIN or user.is_superuser


def _require_admin(actor: User) -> None:
    if not user_is_admin(actor):
        raise Forbidden("only admins may do this")


def _teams(team_ids: Sequence[int]) -> list[Team]:
    teams = list(Team.objects.filter(pk__in=set(team_ids)))
    missing = set(team_ids) - {team.pk for team in teams}
    if missing:
        raise NotFound(f"team {min(missing)} not found")
    return teams


def _users(user_ids: Sequence[int]) -> list[User]:
    users = list(User.objects.filter(pk__in=set(user_ids)))
    missing = set(user_ids) - {user.pk for user in users}
    if missing:
        raise NotFound(f"user {min(missing)} not found")
    return users


def user_create(
    *,
    actor: User,
    email: str,
    name: str = "",
    role: str = User.Role.AGENT,
    password: str | None = None,
    team_ids: Sequence[int] = (),
) -> User:
    """An admin adds a staff user. Without a password the user cannot log in until one is set."""
    _require_admin(actor)
    email = email.strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise InvalidInput(f"not a valid e-mail address: {email[:100]!r}") from None
    if role not in User.Role.values:
        raise InvalidInput(f"unknown role {role!r}; use one of {', '.join(User.Role.values)}")
    if password is not None:
        try:
            validate_password(password, User(email=email, name=name))
        except ValidationError as error:
            raise InvalidInput(" ".join(error.messages)) from None
    teams = _teams(team_ids)
    try:
        with transaction.atomic():
            user = User.objects.create_user(
                email=email, password=password, name=name.strip(), role=role, is_staff=role == User.Role.ADMIN
            )
            user.teams.set(teams)
    except IntegrityError:
        raise Conflict(f"a user with the address {email} exists") from None
    return user


def team_create(*, actor: User, name: str, slug: str = "", member_ids: Sequence[int] = ()) -> Team:
    _require_admin(actor)
    name = name.strip()
    slug = slugify(slug or name, allow_unicode=True)
    if not name or not slug:
        raise InvalidInput("a team needs a name with at least one letter or digit")
    members = _users(member_ids)
    try:
        with transaction.atomic():
            team = Team.objects.create(name=name, slug=slug)
            team.members.set(members)
    except IntegrityError:
        raise Conflict(f"a team named {name!r} or with the slug {slug!r} exists") from None
    return team
