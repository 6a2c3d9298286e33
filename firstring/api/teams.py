"""Teams: every staff user may list them; only admins create them."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Field, Path, Query, Router, Schema

from firstring.accounts.models import Team
from firstring.accounts.services import team_create
from firstring.api.auth import current_user
from firstring.api.paging import page
from firstring.api.schemas import MAX_ID, BodyIn, CheckedIn, Cursor, Id, Limit, UserRef, errors, user_ref
from firstring.lib.cursor import SortKey
from firstring.lib.errors import NotFound

router = Router()

ORDER = [SortKey("id")]


class TeamOut(Schema):
    id: int
    name: str
    slug: str
    members: list[UserRef]


class TeamPage(Schema):
    items: list[TeamOut]
    next_cursor: str | None


class PageQuery(CheckedIn):
    cursor: Cursor | None = None
    limit: Limit = 50


class TeamIn(BodyIn):
    name: str = Field(..., min_length=1, max_length=100)
    slug: str = Field("", max_length=100, description="Made from the name when left out.")
    member_ids: list[Id] = Field(default_factory=list, max_length=1000)


def team_out(team: Team) -> TeamOut:
    return TeamOut(
        id=team.pk,
        name=team.name,
        slug=team.slug,
        members=[user_ref(user) for user in team.members.all()],  # type: ignore[misc]
    )


def _team(team_id: int) -> Team:
    team = Team.objects.prefetch_related("members").filter(pk=team_id).first()
    if team is None:
        raise NotFound(f"team {team_id} not found")
    return team


@router.get("", response={200: TeamPage, **errors()}, summary="List teams")
def team_list(request: HttpRequest, paging: Query[PageQuery]) -> TeamPage:
    rows, next_cursor = page(Team.objects.prefetch_related("members"), ORDER, paging.cursor, paging.limit)
    return TeamPage(items=[team_out(t) for t in rows], next_cursor=next_cursor)


@router.post("", response={201: TeamOut, **errors(400, 413, 403, 404, 409)}, summary="Create a team (admins)")
def team_post(request: HttpRequest, payload: TeamIn) -> tuple[int, TeamOut]:
    team = team_create(
        actor=current_user(request), name=payload.name, slug=payload.slug, member_ids=payload.member_ids
    )
    return 201, team_out(_team(team.pk))


@router.get("/{team_id}", response={200: TeamOut, **errors(404)}, summary="Get a team and its members")
def team_get(request: HttpRequest, team_id: int = Path(..., ge=1, le=MAX_ID)) -> TeamOut:
    return team_out(_team(team_id))
