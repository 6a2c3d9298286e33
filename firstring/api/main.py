"""The REST API under /api/v1/: one NinjaAPI, one router module per resource, errors as JSON."""

from __future__ import annotations

import logging

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from firstring.api.auth import TokenAuth
from firstring.api.inbound import router as inbound_router
from firstring.lib.errors import DomainError

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


@api.exception_handler(ValidationError)
def on_validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    return _error(request, 422, "the request does not match the schema", errors=exc.errors)


@api.exception_handler(AuthenticationError)
def on_auth_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return _error(request, 401, "missing or invalid bearer token")


@api.exception_handler(HttpError)
def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return _error(request, exc.status_code, str(exc))


@api.exception_handler(RequestDataTooBig)
def on_too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    return _error(request, 413, "the request body is too large")


api.add_router("/inbound", inbound_router, tags=["inbound"])
