"""The one place where domain errors become web responses, for full pages and HTMX requests alike."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from firstring.lib.database import database_busy
from firstring.lib.errors import DomainError, NotFound

View = Callable[..., HttpResponse]


def is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def error_response(request: HttpRequest, status: int, message: str) -> HttpResponse:
    """An error the agent can read: a fragment in the page's alert area under HTMX, else a page."""
    if is_htmx(request):
        response = render(request, "web/error.html#alert", {"message": message}, status=status)
        # Errors go to the page's alert area whatever the request meant to replace.
        response["HX-Retarget"] = "#alerts"
        response["HX-Reswap"] = "innerHTML"
        return response
    return render(request, "web/error.html", {"message": message, "status": status}, status=status)


def validation_message(error: ValidationError) -> str:
    if hasattr(error, "error_dict"):
        return "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in error.message_dict.items())
    return " ".join(error.messages)


def agent_view(view: View) -> View:
    """Every page of the app: signed-in staff only, and domain errors shown with their status code.

    NotFound becomes Django's 404 so that what an agent may not see is indistinguishable from what does
    not exist.
    """

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except NotFound as error:
            if is_htmx(request):
                return error_response(request, 404, str(error))
            raise Http404(str(error)) from None
        except DomainError as error:
            return error_response(request, error.status_code, str(error))
        except ValidationError as error:
            return error_response(request, 422, validation_message(error))

    return login_required(wrapped)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Django's 400 (a forged Host header, a malformed request): JSON under /api/ as every API error is.

    Runs where the request may be unreadable: no Host lookup, no session, no template context.
    """
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "bad request"}, status=400)
    return HttpResponse("<!doctype html><title>Bad request</title><h1>Bad request (400)</h1>", status=400)


def server_error(request: HttpRequest) -> HttpResponse:
    """Django's 500, or a 503 with Retry-After when the database is overloaded (locked, out of
    connections): a load balancer, Twilio (the number's fallback URL) and API clients then try again.

    Runs while the exception is handled, perhaps because the database failed: no query, no template
    context.
    """
    if database_busy(sys.exc_info()[1]):
        status, text = 503, "the database is busy; try again"
    else:
        status, text = 500, "server error"
    if request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse({"detail": text}, status=status)
    else:
        response = HttpResponse(
            f"<!doctype html><title>{text.capitalize()}</title><h1>{text.capitalize()} ({status})</h1>",
            status=status,
        )
    if status == 503:
        response["Retry-After"] = "5"
    return response
