"""Twilio's webhooks: POST /channels/twilio/<slug>/inbound (a message) and /status (a reply's progress).

Each request must carry a valid X-Twilio-Signature, checked by the twilio library's RequestValidator
with the channel's Auth Token (or the previous one during a rotation) against the URL Twilio was given
(SITE_URL and the path) or the URL the request reached. Answers: 200 with empty TwiML (a message, stored
now or before), 204 (a status), 403 (no, a wrong or an unknown channel's signature; nothing is stored),
413 (a body too large), 422 (parameters Twilio would never send).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from twilio.request_validator import (
    SIGNATURE_HEADER,
    SIGNATURE_SETTINGS_HEADER,
    RequestValidator,
    get_signature_algorithm,
)
from twilio.twiml.messaging_response import MessagingResponse

from firstring.channels.models import Channel
from firstring.channels.twilio.client import auth_tokens
from firstring.channels.twilio.inbound import twilio_receive, twilio_status_apply
from firstring.lib.errors import DomainError

logger = logging.getLogger(__name__)

KINDS = ("sms", "whatsapp")


def _error(status: int, detail: str) -> JsonResponse:
    return JsonResponse({"detail": detail}, status=status)


def signature_valid(request: HttpRequest, channel: Channel) -> bool:
    signature = request.headers.get(SIGNATURE_HEADER, "")
    if not signature:
        return False
    algorithm = get_signature_algorithm(request.headers.get(SIGNATURE_SETTINGS_HEADER, ""))
    # Behind a proxy the URL Twilio signed is the public one; SITE_URL says what that is.
    urls = dict.fromkeys(
        [settings.SITE_URL.rstrip("/") + request.get_full_path(), request.build_absolute_uri()]
    )
    for token in auth_tokens(channel):
        validator = RequestValidator(token)
        if any(validator.validate(url, request.POST, signature, algorithm) for url in urls):
            return True
    return False


def _signed(
    view: Callable[[HttpRequest, Channel], HttpResponse],
) -> Callable[[HttpRequest, str], HttpResponse]:
    """Find the channel, check Twilio's signature and turn bad input into its 4xx, never a 500."""

    @csrf_exempt
    @require_POST
    def wrapped(request: HttpRequest, slug: str) -> HttpResponse:
        channel = Channel.objects.filter(slug=slug, kind__in=KINDS, enabled=True).first()
        try:
            # The same answer for an unknown channel, one without a token and a wrong signature.
            if channel is None or not signature_valid(request, channel):
                logger.warning("Twilio webhook for %r refused: no valid %s", slug, SIGNATURE_HEADER)
                return _error(403, f"a valid {SIGNATURE_HEADER} header is required")
        except RequestDataTooBig:
            return _error(413, "the request body is too large")
        try:
            return view(request, channel)
        except DomainError as error:
            logger.warning("Twilio webhook for %s refused: %s", slug, error)
            return _error(error.status_code, str(error))

    return wrapped


@_signed
def inbound(request: HttpRequest, channel: Channel) -> HttpResponse:
    twilio_receive(channel=channel, params=request.POST)
    # Empty TwiML: Twilio sends nothing back by itself; agents answer through the REST API.
    return HttpResponse(str(MessagingResponse()), content_type="text/xml")


@_signed
def status(request: HttpRequest, channel: Channel) -> HttpResponse:
    twilio_status_apply(channel=channel, params=request.POST)
    return HttpResponse(status=204)
