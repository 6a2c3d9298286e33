"""Phone menus: the self-service menu of each phone number, read by staff and set by managers."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Body, Router, Schema

from firstring.accounts.models import User
from firstring.api.auth import current_user
from firstring.api.schemas import errors
from firstring.channels.models import Channel
from firstring.lib.errors import Forbidden, NotFound
from firstring.voice.services import phone_menu_for, phone_menu_set

router = Router()


class MenuOut(Schema):
    channel: str
    definition: dict[str, Any]


def _phone(slug: str) -> Channel:
    channel = Channel.objects.filter(slug=slug, kind="phone").first()
    if channel is None:
        raise NotFound(f"no phone number with the slug {slug!r}")
    return channel


@router.get("/{slug}", response={200: MenuOut, **errors(404)}, summary="Get a phone number's menu")
def menu_get(request: HttpRequest, slug: str) -> MenuOut:
    channel = _phone(slug)
    return MenuOut(channel=channel.slug, definition=phone_menu_for(channel))


@router.put("/{slug}", response={200: MenuOut, **errors(400, 403, 404, 413)}, summary="Set a number's menu")
def menu_put(request: HttpRequest, slug: str, definition: Body[dict[str, Any]]) -> MenuOut:
    if current_user(request).role not in (User.Role.ADMIN, User.Role.MANAGER):
        raise Forbidden("only managers and admins set phone menus")
    channel = _phone(slug)
    stored = phone_menu_set(channel=channel, definition=definition)
    return MenuOut(channel=channel.slug, definition=stored.definition)
