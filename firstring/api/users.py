"""Staff users: every staff user may list them (to assign work); only admins create them."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from django.http import HttpRequest
from ninja import Field, Path, Query, Router, Schema

from firstring.accounts.models import User
from firstring.accounts.services import user_create
from firstring.api.auth import current_user
from firstring.api.paging import page
from firstring.api.schemas import MAX_ID, BodyIn, CheckedIn, Cursor, Id, Limit, TeamRef, errors, team_ref
from firstring.lib.cursor import SortKey
from firstring.lib.errors import NotFound

router = Router()

ORDER = [SortKey("id")]
RoleName = Literal["agent", "manager", "admin"]


class UserOut(Schema):
    id: int
    email: str
    name: str
    role: RoleName
    language: str
    is_active: bool
    teams: list[TeamRef]
    date_joined: datetime


class UserPage(Schema):
    items: list[UserOut]
    next_cursor: str | None


class UserQuery(CheckedIn):
    active: bool | None = Field(None, description="Only active (true) or deactivated (false) users.")
    cursor: Cursor | None = None
    limit: Limit = 50


class UserIn(BodyIn):
    email: str = Field(..., min_length=3, max_length=254)
    name: str = Field("", max_length=150)
    role: RoleName = "agent"
    password: str | None = Field(
        None, min_length=1, max_length=128, description="Without one the user cannot log in until it is set."
    )
    team_ids: list[Id] = Field(default_factory=list, max_length=100)


def user_out(user: User) -> UserOut:
    return UserOut(
        id=user.pk,
        email=user.email,
        name=user.name,
        role=user.role,  # type: ignore[arg-type]
        language=user.language,
        is_active=user.is_active,
        teams=[team_ref(team) for team in user.teams.all()],  # type: ignore[misc]
        date_joined=user.date_joined,
    )


def _user(user_id: int) -> User:
    user = User.objects.prefetch_related("teams").filter(pk=user_id).first()
    if user is None:
        raise NotFound(f"user {user_id} not found")
    return user


@router.get("", response={200: UserPage, **errors()}, summary="List staff users")
def user_list(request: HttpRequest, filters: Query[UserQuery]) -> UserPage:
    users = User.objects.prefetch_related("teams")
    if filters.active is not None:
        users = users.filter(is_active=filters.active)
    rows, next_cursor = page(users, ORDER, filters.cursor, filters.limit)
    return UserPage(items=[user_out(u) for u in rows], next_cursor=next_cursor)


@router.post(
    "", response={201: UserOut, **errors(400, 413, 403, 404, 409)}, summary="Create a staff user (admins)"
)
def user_post(request: HttpRequest, payload: UserIn) -> tuple[int, UserOut]:
    user = user_create(
        actor=current_user(request),
        email=payload.email,
        name=payload.name,
        role=payload.role,
        password=payload.password,
        team_ids=payload.team_ids,
    )
    return 201, user_out(_user(user.pk))


@router.get("/{user_id}", response={200: UserOut, **errors(404)}, summary="Get a staff user")
def user_get(request: HttpRequest, user_id: int = Path(..., ge=1, le=MAX_ID)) -> UserOut:
    return user_out(_user(user_id))
