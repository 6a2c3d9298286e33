"""The REST API under /api/v1/: one NinjaAPI, one router module per resource, errors as JSON."""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from firstring.api.articles import router as articles_router
from firstring.api.auth import TokenAuth
from firstring.api.calls import router as calls_router
from firstring.api.community import router as community_router
from firstring.api.conversations import router as conversations_router
from firstring.api.customers import router as customers_router
from firstring.api.escalations import router as escalations_router
from firstring.api.inbound import router as inbound_router
from firstring.api.insights import router as insights_router
from firstring.api.me import router as me_router
from firstring.api.messages import router as messages_router
from firstring.api.phone_menus import router as phone_menus_router
from firstring.api.sla import router as sla_router
from firstring.api.surveys import router as surveys_router
from firstring.api.teams import router as teams_router
from firstring.api.users import router as users_router
from firstring.lib.errors import DomainError
from firstring.listening.api import router as listening_router

logger = logging.getLogger(__name__)

api = NinjaAPI(
    title="Firstring API",
    version="1",
    urls_namespace="api",
    auth=TokenAuth(),
    description="Customers, conversations and messages of a Firstring installation. "
    "Authenticate with `Authorization: Bearer <token>` (create one with `firstring token create --email …`).",
)


def _error(request: HttpRequest, status: int, message: str, **extra: object) -> HttpResponse:
    return api.create_response(request, {"detail": message, **extra}, status=status)


@api.exception_handler(DomainError)
def on_domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return _error(request, exc.status_code, str(exc))


def _plain(error: dict[str, Any]) -> dict[str, Any]:
    # Pydantic's error entries may hold the rejected input (large) and exception objects (not JSON).
    return {
        "loc": list(error.get("loc", ())),
        "msg": str(error.get("msg", "")),
        "type": error.get("type", ""),
    }


@api.exception_handler(ValidationError)
def on_validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    found = [_plain(error) for error in exc.errors]
    first = found[0] if found else None
    message = "the request does not match the schema"
    if first:
        message += f": {'.'.join(str(part) for part in first['loc'])}: {first['msg']}"
    return _error(request, 422, message, errors=found)


@api.exception_handler(DjangoValidationError)
def on_model_validation_error(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
    return _error(request, 422, " ".join(exc.messages))


@api.exception_handler(AuthenticationError)
def on_auth_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return _error(request, 401, "missing or invalid bearer token")


@api.exception_handler(HttpError)
def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return _error(request, exc.status_code, str(exc))


@api.exception_handler(RequestDataTooBig)
def on_too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    return _error(request, 413, "the request body is too large")


@api.exception_handler(MultiPartParserError)
def on_bad_multipart(request: HttpRequest, exc: MultiPartParserError) -> HttpResponse:
    return _error(request, 400, "the multipart body cannot be parsed")


@api.exception_handler(TooManyFieldsSent)
def on_too_many_fields(request: HttpRequest, exc: TooManyFieldsSent) -> HttpResponse:
    return _error(request, 400, "the request has too many fields")


@api.exception_handler(TooManyFilesSent)
def on_too_many_files(request: HttpRequest, exc: TooManyFilesSent) -> HttpResponse:
    return _error(request, 413, "the request has too many files")


api.add_router("/inbound", inbound_router, tags=["inbound"])
api.add_router("/customers", customers_router, tags=["customers"])
api.add_router("/conversations", conversations_router, tags=["conversations"])
api.add_router("/conversations", messages_router, tags=["messages"])
api.add_router("/users", users_router, tags=["users"])
api.add_router("/teams", teams_router, tags=["teams"])
api.add_router("/me", me_router, tags=["me"])
api.add_router("/listening", listening_router, tags=["listening"])
api.add_router("/articles", articles_router, tags=["knowledge"])
api.add_router("/community", community_router, tags=["community"])
api.add_router("/phone-menus", phone_menus_router, tags=["phone"])
api.add_router("/calls", calls_router, tags=["phone"])
api.add_router("/insights", insights_router, tags=["insights"])
api.add_router("/surveys", surveys_router, tags=["surveys"])
api.add_router("/sla", sla_router, tags=["sla"])
api.add_router("", escalations_router, tags=["escalations"])
