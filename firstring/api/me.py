"""The caller: who they are, and their own API tokens."""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest
from ninja import Field, Path, Router, Schema

from firstring.accounts.models import ApiToken
from firstring.accounts.services import api_token_create, api_token_revoke
from firstring.api.auth import current_user
from firstring.api.schemas import MAX_ID, BodyIn, errors
from firstring.api.users import UserOut, user_out
from firstring.lib.errors import NotFound

router = Router()


class TokenOut(Schema):
    id: int
    name: str
    prefix: str = Field(description="The first characters of the token, to recognise it.")
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class NewTokenOut(TokenOut):
    token: str = Field(description="The token itself. It is shown only this once.")


class TokenIn(BodyIn):
    name: str = Field("", max_length=100, description="What the token is for.")


def _token_fields(token: ApiToken) -> dict[str, object]:
    return {
        "id": token.pk,
        "name": token.name,
        "prefix": token.prefix,
        "created_at": token.created_at,
        "last_used_at": token.last_used_at,
        "revoked_at": token.revoked_at,
    }


@router.get("", response={200: UserOut, **errors()}, summary="The user behind the token")
def me(request: HttpRequest) -> UserOut:
    return user_out(current_user(request))


@router.get("/tokens", response={200: list[TokenOut], **errors()}, summary="My API tokens, newest first")
def token_list(request: HttpRequest) -> list[TokenOut]:
    tokens = ApiToken.objects.filter(user=current_user(request)).order_by("-created_at", "-id")
    return [TokenOut(**_token_fields(token)) for token in tokens]  # type: ignore[arg-type]


@router.post("/tokens", response={201: NewTokenOut, **errors(400, 413)}, summary="Create an API token")
def token_post(request: HttpRequest, payload: TokenIn) -> tuple[int, NewTokenOut]:
    token, raw = api_token_create(user=current_user(request), name=payload.name)
    return 201, NewTokenOut(**_token_fields(token), token=raw)  # type: ignore[arg-type]


@router.delete(
    "/tokens/{token_id}", response={204: None, **errors(404)}, summary="Revoke one of my API tokens"
)
def token_delete(request: HttpRequest, token_id: int = Path(..., ge=1, le=MAX_ID)) -> tuple[int, None]:
    token = ApiToken.objects.filter(pk=token_id, user=current_user(request)).first()
    if token is None:
        raise NotFound(f"token {token_id} not found")
    api_token_revoke(token=token)
    return 204, None
